/**
 * The one table `all` ends with: every peer of every bench in the run, simdgrad's ratio against it,
 * and every target's verdict, so a single screen answers "how do we stand".
 */
import type { GemmReport } from './gemm.js';
import type { OpsReport } from './ops.js';
import { formatRatio, formatTable, type Column, type Verdict } from './report.js';
import type { StartupReport } from './startup.js';
import { fmtRate, TARGETS, type TrainReport } from './train.js';

export type AnyReport = GemmReport | TrainReport | OpsReport | StartupReport;

export interface SummaryRow {
  bench: string;
  /** A peer (engine and threads), or a target with no single peer. */
  subject: string;
  /** The peer's own figure, or the verdict's detail. */
  figure: string;
  /** simdgrad ÷ peer (higher is better for simdgrad); null: not a ratio row. */
  ratio: number | null;
  /** 'PASS' / 'FAIL' / 'N/A' with the target, or '' when no target names this row. */
  verdict: string;
}

const mark = (v: Verdict) => (v.pass === null ? 'N/A' : v.pass ? 'PASS' : 'FAIL');

/** One row per peer (train, gemm, ops) and per verdict; train verdicts sit on their peer's row. */
export function summaryRows(reports: readonly AnyReport[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const r of reports) {
    switch (r.bench) {
      case 'gemm': {
        const big = r.rows.filter((x) => x.n >= 256 && x.tfjsBest !== null);
        if (big.length > 0) {
          const worst = big.reduce((w, x) => ((x.relaxedRatio ?? x.simdRatio ?? Infinity) < (w.relaxedRatio ?? w.simdRatio ?? Infinity) ? x : w));
          rows.push({
            bench: 'gemm', subject: `${r.tfjs.version ? `tfjs-wasm ${r.tfjs.version}` : 'tfjs-wasm'} (1 thread), worst case n ≥ 256`,
            figure: `${worst.tfjsBest!.toFixed(1)} GFLOPS (${worst.label} n=${worst.n})`, ratio: worst.relaxedRatio ?? worst.simdRatio, verdict: '',
          });
        }
        for (const v of r.verdicts) rows.push({ bench: 'gemm', subject: v.target, figure: v.detail, ratio: null, verdict: mark(v) });
        break;
      }
      case 'train': {
        const targets = TARGETS[r.model];
        for (const row of r.rows) {
          const target = targets.find((t) => t.peer === row.id && row.threads === 1);
          const verdict = target ? r.verdicts.find((v) => v.target.includes(`≥ ${target.threshold.toFixed(1)}× ${target.label}`)) : undefined;
          const figure = row.samplesPerSec === null ? (row.notes.find((n) => /^(skipped|failed)/.test(n)) ?? 'n/a') : `${fmtRate(row.samplesPerSec)} samples/s`;
          rows.push({
            bench: `train ${r.model}`, subject: `${row.engine}${row.engine.includes('thread') ? '' : `, ${row.threads}t`}`, figure,
            ratio: row.simdgrad ? null : ((row as { simdgradMedianRatio?: number | null }).simdgradMedianRatio ?? row.simdgradRatio),
            verdict: verdict ? `${mark(verdict)} ≥ ${target!.threshold}×` : '',
          });
        }
        break;
      }
      case 'ops': {
        for (const row of r.rows) {
          rows.push({
            bench: 'ops', subject: `${row.op} ${row.shape}: ${r.tfjs.split(' (')[0]}`,
            figure: `simdgrad ${row.simdgrad?.toFixed(2) ?? 'n/a'} µs, tfjs ${row.tfjs?.toFixed(2) ?? 'n/a'} µs`, ratio: row.speedup, verdict: '',
          });
        }
        for (const v of r.verdicts) rows.push({ bench: 'ops', subject: v.target, figure: v.detail, ratio: null, verdict: mark(v) });
        break;
      }
      case 'startup':
        for (const v of r.verdicts) rows.push({ bench: 'startup', subject: v.target, figure: v.detail, ratio: null, verdict: mark(v) });
        break;
    }
  }
  return rows;
}

/** The summary table, with a count of verdicts. */
export function formatSummary(reports: readonly AnyReport[]): string {
  const rows = summaryRows(reports);
  const columns: Column<SummaryRow>[] = [
    { header: 'bench', align: 'left', cell: (x) => x.bench },
    { header: 'peer / target', align: 'left', cell: (x) => x.subject },
    { header: 'figure', align: 'left', cell: (x) => x.figure },
    { header: 'simdgrad ×', cell: (x) => (x.ratio === null ? '' : formatRatio(x.ratio)) },
    { header: 'verdict', align: 'left', cell: (x) => x.verdict },
  ];
  const count = (m: string) => rows.filter((x) => x.verdict.startsWith(m)).length;
  return [
    '',
    'summary: every peer and target of this run (train ratios: median of per-round ratios where measured)',
    '',
    formatTable(columns, rows),
    '',
    `targets: ${count('PASS')} pass, ${count('FAIL')} fail, ${count('N/A')} not measured`,
  ].join('\n');
}
