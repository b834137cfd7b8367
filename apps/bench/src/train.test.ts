import { describe, expect, it } from 'vitest';
import { MODELS, makeBatch, oneHot } from './peers/common.js';
import { mulberry32 } from './report.js';
import { fmtRate, formatTrainReport, medianRoundRatio, trainVerdicts, type TrainReport, type TrainRow } from './train.js';

const row = (over: Partial<TrainRow>): TrainRow => ({
  id: 'simdgrad', engine: 'simdgrad (relaxed SIMD, 1 thread)', simdgrad: true, threads: 1, samplesPerSec: 20000,
  medianSamplesPerSec: 18000, msPerStep: 6.4, gflops: 28.2, steps: 30, loss: 2.1, simdgradRatio: null, notes: [], ...over,
});

describe('train helpers', () => {
  it('formats rates with separators and n/a', () => {
    expect(fmtRate(12345.6)).toBe('12,346');
    expect(fmtRate(null)).toBe('n/a');
    expect(fmtRate(Number.NaN)).toBe('n/a');
  });

  it('makes the same synthetic batch every time, with labels in range', () => {
    const a = makeBatch('charlm');
    const b = makeBatch('charlm');
    expect(a.x).toEqual(b.x);
    expect(a.xShape).toEqual([64, 32]);
    expect(Math.max(...a.y)).toBeLessThan(65);
    expect(makeBatch('cnn').xShape).toEqual([64, 28, 28]);
    expect(oneHot(new Int32Array([2, 0]), 3)).toEqual(new Float32Array([0, 0, 1, 1, 0, 0]));
    const r = mulberry32(1);
    const x = r();
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThan(1);
  });

  it('counts the flops of the models', () => {
    expect(MODELS.mlp.flopsPerSample).toBe(2 * (784 * 256 + 256 * 128 + 128 * 10));
    expect(MODELS.cnn.batch).toBe(64);
  });

  it('judges the targets on one thread and says why a verdict is missing', () => {
    const rows = [row({}), row({ id: 'jax', engine: 'jax-js', simdgrad: false, samplesPerSec: 8000, simdgradRatio: 2.5 }),
      row({ id: 'numpy', engine: 'numpy', simdgrad: false, samplesPerSec: null, simdgradRatio: null, notes: ['skipped: no numpy'] })];
    const v = trainVerdicts('mlp', rows);
    expect(v[0]).toMatchObject({ pass: true });
    expect(v[0]!.detail).toContain('2.50×');
    expect(v[1]).toMatchObject({ pass: null });
    expect(v[1]!.detail).toContain('skipped: no numpy');
    expect(trainVerdicts('charlm', [row({ id: 'tfjs-wasm', simdgrad: false, simdgradRatio: 9.9 })])[0]!.pass).toBe(false);
  });

  it('prints a table with numbered notes, shared notes once', () => {
    const report = {
      bench: 'train', model: 'mlp', title: 'MLP', batch: 128, quick: true, machine: {} as TrainReport['machine'],
      timing: { msPerContender: 600, rounds: 3, statistic: 'best' },
      rows: [row({}), row({ id: 'numpy', engine: 'numpy 1t', simdgrad: false, simdgradRatio: 1.5, notes: ['a'] }),
        row({ id: 'numpy', engine: 'numpy 2t', threads: 2, simdgrad: false, samplesPerSec: null, simdgradRatio: null, notes: ['a', 'b'] })],
      verdicts: [], missing: ['LSTM: n/a: no LSTM yet'],
    } satisfies TrainReport;
    const text = formatTrainReport(report);
    expect(text).toContain('1.50×');
    expect(text).toContain('[1][2]');
    expect(text).toContain('[1] a\n[2] b');
    expect(text).toContain('(LSTM: n/a: no LSTM yet)');
  });
});

describe('interleaved rounds', () => {
  it('the ratio is the median of per-round ratios (peer ms ÷ ours), skipping rounds either side missed', () => {
    // a load burst in round 2 slows both: the per-round ratio stays 2, while best-of or mean-of-rounds would not
    expect(medianRoundRatio([10, 40, 11], [20, 80, 22])).toBe(2);
    expect(medianRoundRatio([10, 10, 10, 10], [10, 30, 20, 40])).toBe(2.5);
    const missing: (number | undefined)[] = [10, undefined, 10];
    expect(medianRoundRatio(missing, [30, 5, 10])).toBe(2);
    expect(medianRoundRatio([undefined], [3])).toBeNull();
  });

  it('a verdict prefers the median ratio over the ratio of best times', () => {
    const rows = [row({}), row({ id: 'torch', engine: 'PyTorch', simdgrad: false, samplesPerSec: 30000, simdgradRatio: 0.67,
      simdgradMedianRatio: 1.2 })];
    const [v] = trainVerdicts('cnn', rows);
    expect(v!.pass).toBe(true);
    expect(v!.detail).toMatch(/^1\.2/);
  });
});
