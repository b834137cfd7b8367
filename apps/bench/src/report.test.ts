import { describe, expect, it } from 'vitest';
import {
  checkTarget, formatGflops, formatPercent, formatRatio, formatTable, formatVerdict, gflops, median, parseChoices,
  parseSizes, ratio, timeInterleaved, timeIt, formatMachine, type Column,
} from './report.js';

describe('number formatting', () => {
  it('formats GFLOPS with one decimal and n/a for missing values', () => {
    expect(formatGflops(37.456)).toBe('37.5');
    expect(formatGflops(0)).toBe('0.0');
    expect(formatGflops(null)).toBe('n/a');
    expect(formatGflops(undefined)).toBe('n/a');
    expect(formatGflops(Number.NaN)).toBe('n/a');
  });

  it('formats ratios with two decimals and a times sign', () => {
    expect(formatRatio(1)).toBe('1.00×');
    expect(formatRatio(1.234)).toBe('1.23×');
    expect(formatRatio(12.5)).toBe('12.50×');
    expect(formatRatio(null)).toBe('n/a');
    expect(formatRatio(Number.POSITIVE_INFINITY)).toBe('n/a');
  });

  it('formats fractions as whole percentages', () => {
    expect(formatPercent(0.734)).toBe('73%');
    expect(formatPercent(0.7)).toBe('70%');
    expect(formatPercent(1.05)).toBe('105%');
    expect(formatPercent(undefined)).toBe('n/a');
  });

  it('computes GFLOPS and ratios', () => {
    // 2·512³ flops in 10 ms
    expect(gflops(2 * 512 ** 3, 10)).toBeCloseTo(26.843545, 5);
    expect(ratio(30, 20)).toBe(1.5);
    expect(ratio(30, 0)).toBeNull();
    expect(ratio(null, 20)).toBeNull();
    expect(ratio(30, undefined)).toBeNull();
  });

  it('takes medians of odd and even lists without reordering the input', () => {
    const xs = [3, 1, 2];
    expect(median(xs)).toBe(2);
    expect(xs).toEqual([3, 1, 2]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow('median: empty list');
  });
});

describe('formatTable', () => {
  interface Row { op: string; n: number; g: number | null }
  const columns: Column<Row>[] = [
    { header: 'op', align: 'left', cell: (r) => r.op },
    { header: 'n', cell: (r) => String(r.n) },
    { header: 'GFLOPS', cell: (r) => formatGflops(r.g) },
  ];

  it('pads columns to the widest cell, labels left and numbers right, with a dashed rule', () => {
    const text = formatTable(columns, [{ op: 'A·B', n: 64, g: 31.64 }, { op: 'Aᵀ·B', n: 1024, g: null }]);
    expect(text.split('\n')).toEqual([
      'op       n  GFLOPS',
      '----  ----  ------',
      'A·B     64    31.6',
      'Aᵀ·B  1024     n/a',
    ]);
  });

  it('leaves no trailing spaces when the last column is left-aligned', () => {
    const text = formatTable([{ header: 'name', align: 'left', cell: (r: { s: string }) => r.s }], [{ s: 'x' }]);
    expect(text).toBe('name\n----\nx');
  });

  it('prints just the header and rule for no rows', () => {
    expect(formatTable(columns, [])).toBe('op  n  GFLOPS\n--  -  ------');
  });
});

describe('arguments', () => {
  it('parses size lists and rejects bad entries by name', () => {
    expect(parseSizes('64,128, 256')).toEqual([64, 128, 256]);
    expect(() => parseSizes('64,abc')).toThrow('bench: --sizes: not a positive integer (abc)');
    expect(() => parseSizes('0')).toThrow('not a positive integer (0)');
    expect(() => parseSizes(',')).toThrow('bench: --sizes: empty list');
  });

  it('parses choices, deduplicates, and names the allowed values on error', () => {
    const allowed = ['ab', 'atb', 'abt'] as const;
    expect(parseChoices('abt,ab,abt', allowed, 'variants')).toEqual(['abt', 'ab']);
    expect(() => parseChoices('ba', allowed, 'variants'))
      .toThrow('bench: --variants: unknown value (ba) (help: choose from ab, atb, abt)');
  });
});

describe('verdicts', () => {
  const rows = [
    { n: 256, r: 1.4 },
    { n: 512, r: 0.93 },
    { n: 1024, r: null },
  ];
  const show = (v: number, row: { n: number }) => `${formatRatio(v)} at n=${row.n}`;

  it('fails on the worst row and names it', () => {
    const v = checkTarget('simd: ≥ 1.00× tfjs', rows, (r) => r.r, 1, show);
    expect(v).toEqual({ target: 'simd: ≥ 1.00× tfjs', pass: false, detail: 'worst 0.93× at n=512' });
    expect(formatVerdict(v)).toBe('FAIL  simd: ≥ 1.00× tfjs: worst 0.93× at n=512');
  });

  it('passes when every measured row meets the threshold (inclusive), skipping missing values', () => {
    const v = checkTarget('t', rows, (r) => (r.n === 512 ? 1 : r.r), 1, show);
    expect(v.pass).toBe(true);
    expect(v.detail).toBe('worst 1.00× at n=512');
    expect(formatVerdict(v)).toMatch(/^PASS {2}t: /);
  });

  it('is n/a when nothing was measured', () => {
    const v = checkTarget('relaxed: ≥ 70% of peak', rows, () => null, 0.7, show);
    expect(v.pass).toBeNull();
    expect(formatVerdict(v)).toBe('N/A   relaxed: ≥ 70% of peak: nothing measured');
  });
});

describe('timeIt (bookkeeping only, not speed)', () => {
  it('warms up, takes at least minSamples samples and reports per-call times', () => {
    let calls = 0;
    const t = timeIt(() => { calls++; }, { minMs: 0, maxMs: 60_000, warmupMs: 0, minSampleMs: 0, minSamples: 4 });
    expect(t.samples).toBe(4);
    expect(t.callsPerSample).toBeGreaterThanOrEqual(1);
    expect(calls).toBe(1 + 4 * t.callsPerSample);
    expect(t.bestMs).toBeLessThanOrEqual(t.medianMs);
  });
});

describe('timeInterleaved (bookkeeping only)', () => {
  it('times every contender in each round and warms each up once', () => {
    const calls = [0, 0];
    const [a, b] = timeInterleaved([() => { calls[0]!++; }, () => { calls[1]!++; }],
      { minMs: 0, maxMs: 60_000, warmupMs: 0, minSampleMs: 0, minSamples: 2, rounds: 3 });
    expect(a!.samples).toBe(6);
    expect(b!.samples).toBe(6);
    // one warm-up call in the first round, then 3 rounds × 2 samples × 1 call
    expect(calls).toEqual([7, 7]);
  });
});

describe('formatMachine', () => {
  const m = {
    node: 'v20.20.2', v8: '11.3', platform: 'linux', arch: 'x64', cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5,
    loadAverage: 0.1, busyCores: 0.02,
  };
  it('prints the runtime and CPU, and warns only when other processes are busy', () => {
    expect(formatMachine(m)).toBe('node v20.20.2 (V8 11.3), linux/x64, CPU: AMD EPYC × 2, 23.5 GiB\n' +
      'load: 0.02 cores busy before start, 1-min average 0.10');
    expect(formatMachine({ ...m, busyCores: 1.3 })).toMatch(/1\.30 cores busy .*expect low, noisy figures\)$/);
  });
});
