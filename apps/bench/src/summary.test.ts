import { describe, expect, it } from 'vitest';
import { formatSummary, summaryRows } from './summary.js';
import { trainVerdicts, type TrainReport, type TrainRow } from './train.js';
import type { StartupReport } from './startup.js';

const row = (over: Partial<TrainRow>): TrainRow => ({
  id: 'simdgrad', engine: 'simdgrad (relaxed SIMD, 1 thread)', simdgrad: true, threads: 1, samplesPerSec: 1000,
  medianSamplesPerSec: 900, msPerStep: 64, gflops: 20, steps: 30, loss: 4, simdgradRatio: null, notes: [], ...over,
});

describe('all: summary', () => {
  it('has a row per peer with its ratio, the verdict on the target peer, and counts verdicts', () => {
    const rows = [
      row({}),
      // simdgradMedianRatio: the median of per-round ratios, when the train bench measured it
      row({ id: 'tfjs-wasm', engine: 'tfjs-wasm', simdgrad: false, samplesPerSec: 50, simdgradRatio: 20, ...{ simdgradMedianRatio: 12 } }),
      row({ id: 'torch', engine: 'PyTorch', threads: 2, simdgrad: false, samplesPerSec: null, simdgradRatio: null, notes: ['skipped: no torch'] }),
    ];
    const train = {
      bench: 'train', model: 'charlm-lstm', title: 'LSTM', batch: 64, quick: true, machine: {} as TrainReport['machine'],
      timing: { msPerContender: 600, rounds: 3, statistic: 'best' }, rows, verdicts: trainVerdicts('charlm-lstm', rows), missing: [],
    } satisfies TrainReport;
    const startup = {
      bench: 'startup', verdicts: [{ target: 'init() ≤ 20 ms', pass: false, detail: 'best 25.0 ms' }],
    } as unknown as StartupReport;
    const s = summaryRows([train, startup]);
    expect(s.map((x) => [x.bench, x.ratio, x.verdict])).toEqual([
      ['train charlm-lstm', null, ''],
      // the median-of-rounds ratio wins over the best-time one, and the verdict uses it
      ['train charlm-lstm', 12, 'PASS ≥ 10×'],
      ['train charlm-lstm', null, ''],
      ['startup', null, 'FAIL'],
    ]);
    expect(s[1]!.subject).toBe('tfjs-wasm, 1t');
    expect(s[2]!.figure).toBe('skipped: no torch');
    const text = formatSummary([train, startup]);
    expect(text).toContain('12.00×');
    expect(text).toContain('targets: 1 pass, 1 fail, 0 not measured');
  });
});
