import { describe, expect, it } from 'vitest';
import { formatMicros, formatOpsReport, opsVerdicts, type OpsReport, type OpsRow } from './ops.js';
import { formatKB, startupVerdicts } from './startup.js';

const r = (op: OpsRow['op'], us: number | null): OpsRow => ({ op, shape: '1000', simdgrad: us, simdgradGrad: us, tfjs: 3, speedup: us ? 3 / us : null });

describe('ops and startup helpers', () => {
  it('formats microseconds and kilobytes', () => {
    expect(formatMicros(1.234)).toBe('1.23 µs');
    expect(formatMicros(null)).toBe('n/a');
    expect(formatKB(2048)).toBe('2.0 KB');
  });

  it('judges per-op overhead on everything but matmul', () => {
    const v = opsVerdicts([r('add', 1.5), r('sum', 1.9), r('matmul', 9)]);
    expect(v[0]!.pass).toBe(true);
    expect(v[0]!.detail).toContain('sum');
    expect(opsVerdicts([r('add', 2.5)])[0]!.pass).toBe(false);
    expect(opsVerdicts([])[0]!.pass).toBeNull();
  });

  it('prints the ops table', () => {
    const report: OpsReport = { bench: 'ops', quick: true, machine: {} as OpsReport['machine'], simdgrad: 'sg', tfjs: 'tf', rows: [r('add', 1.5)], verdicts: [] };
    expect(formatOpsReport(report)).toContain('2.00×');
  });

  it('judges init time and bundle size', () => {
    const v = startupVerdicts({ init: { bestMs: 12, medianMs: 15 }, bundles: [{ entry: 'x', bytes: 500_000, gzipBytes: 130 * 1024 }] });
    expect(v.map((x) => x.pass)).toEqual([true, false]);
    expect(startupVerdicts({ init: null, bundles: [] }).map((x) => x.pass)).toEqual([null, null]);
  });
});
