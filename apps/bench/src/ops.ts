/**
 * `ops`: the cost of one small op — what the JS side of an engine adds on top of the kernel. Each op
 * runs on 1,000-element float32 tensors (matmul: 32×32 · 32×32), 100 per timed call inside
 * `scope()` (simdgrad) or `tf.tidy()` (tfjs), so the figure includes creating and freeing the result.
 * Contenders: simdgrad (default build, one thread) on plain tensors and on tensors that require grad
 * (the op is also recorded for backward), and tfjs-wasm (SIMD, 1 thread), in interleaved rounds.
 */
import { init, backendInfo, randn, scope, type Tensor } from '@simdgrad/core';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import {
  formatMachine, formatRatio, formatTable, formatVerdict, machineInfo, ratio, timeInterleaved, type Column,
  type MachineInfo, type Verdict,
} from './report.js';
import { loadTfjsWasm } from './tfjs.js';

export const OPS = ['add', 'mul', 'relu', 'sum', 'matmul'] as const;
export type OpName = (typeof OPS)[number];
/** Ops per timed call. */
const REPEAT = 100;
const ROUNDS = 3;
/** The target: at most this many µs per op (elementwise and reduction ops; matmul also does ~65 kflop of work). */
export const TARGET_US = 2;

export interface OpsRow {
  op: OpName;
  shape: string;
  /** µs per op, best time; null = not available. */
  simdgrad: number | null;
  simdgradGrad: number | null;
  tfjs: number | null;
  /** tfjs ÷ simdgrad. */
  speedup: number | null;
}

export interface OpsReport {
  bench: 'ops';
  quick: boolean;
  machine: MachineInfo;
  simdgrad: string;
  tfjs: string;
  rows: OpsRow[];
  verdicts: Verdict[];
}

const USAGE = `ops [--quick] [--json]
  --quick   0.3 s per contender and op (default 1 s), split over 3 interleaved rounds
  --json    print one JSON object instead of the table`;

export const opsCommand: Command = {
  summary: 'per-op overhead (µs/op) on 1,000-element tensors: simdgrad vs tfjs-wasm',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({ args, strict: true, options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } } });
    const report = await runOps({ quick: values.quick ?? false, log: values.json ? () => {} : (l) => console.log(l) });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatOpsReport(report));
  },
};

type Pair = { a: unknown; b: unknown };

function simdgradOp(op: OpName, a: Tensor, b: Tensor): () => void {
  const body: Record<OpName, () => unknown> = {
    add: () => a.add(b), mul: () => a.mul(b), relu: () => a.relu(), sum: () => a.sum(), matmul: () => a.matmul(b),
  };
  const f = body[op];
  return () => scope(() => { for (let i = 0; i < REPEAT; i++) f(); });
}

export async function runOps(o: { quick: boolean; log(line: string): void }): Promise<OpsReport> {
  const machine = await machineInfo();
  o.log(formatMachine(machine));
  await init();
  const info = backendInfo();
  const simdgradName = `simdgrad (${info.relaxedSimd ? 'relaxed SIMD' : 'SIMD'}, ${info.threads} thread)`;
  let tfjsName = 'tfjs-wasm: unavailable';
  let tf: Awaited<ReturnType<typeof loadTfjsWasm>>['tf'] | null = null;
  try {
    const w = await loadTfjsWasm();
    tf = w.tf;
    tfjsName = `tfjs-wasm ${w.version} (SIMD, 1 thread)`;
  } catch (e) {
    tfjsName = `tfjs-wasm: unavailable (${(e as Error).message})`;
  }
  const ms = o.quick ? 300 : 1000;
  const rows: OpsRow[] = [];
  for (const op of OPS) {
    const shape = op === 'matmul' ? [32, 32] : [1000];
    const plain = { a: randn(shape), b: randn(shape) };
    const grad = { a: randn(shape, { requiresGrad: true }), b: randn(shape, { requiresGrad: true }) };
    const fns: (() => void)[] = [simdgradOp(op, plain.a, plain.b), simdgradOp(op, grad.a, grad.b)];
    let tfIn: Pair | null = null;
    if (tf) {
      const t = tf;
      const a = t.randomNormal(shape);
      const b = t.randomNormal(shape);
      tfIn = { a, b };
      const body: Record<OpName, () => unknown> = {
        add: () => t.add(a, b), mul: () => t.mul(a, b), relu: () => t.relu(a), sum: () => t.sum(a), matmul: () => t.matMul(a, b),
      };
      const f = body[op];
      fns.push(() => { t.tidy(() => { for (let i = 0; i < REPEAT; i++) f(); }); });
    }
    if (process.stderr.isTTY) process.stderr.write(`\r  timing ${op} ...   `);
    const timings = timeInterleaved(fns, { minMs: ms, rounds: ROUNDS, minSampleMs: 2 });
    const us = timings.map((t) => (t.bestMs * 1000) / REPEAT);
    rows.push({
      op, shape: op === 'matmul' ? '32×32 · 32×32' : '1000',
      simdgrad: us[0]!, simdgradGrad: us[1]!, tfjs: us[2] ?? null, speedup: ratio(us[2], us[0]),
    });
    for (const t of [plain.a, plain.b, grad.a, grad.b]) t.dispose();
    if (tfIn) for (const t of [tfIn.a, tfIn.b] as { dispose(): void }[]) t.dispose();
  }
  if (process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(30) + '\r');
  return { bench: 'ops', quick: o.quick, machine, simdgrad: simdgradName, tfjs: tfjsName, rows, verdicts: opsVerdicts(rows) };
}

export function opsVerdicts(rows: readonly OpsRow[]): Verdict[] {
  const checked = rows.filter((r) => r.op !== 'matmul' && r.simdgrad !== null);
  if (checked.length === 0) return [{ target: `simdgrad ≤ ${TARGET_US} µs per op`, pass: null, detail: 'nothing measured' }];
  const worst = checked.reduce((w, r) => (r.simdgrad! > w.simdgrad! ? r : w));
  return [{
    target: `simdgrad ≤ ${TARGET_US} µs per op on a 1,000-element tensor (add, mul, relu, sum; no grad)`,
    pass: worst.simdgrad! <= TARGET_US,
    detail: `worst ${formatMicros(worst.simdgrad)} (${worst.op})`,
  }];
}

/** `1.23 µs`; 'n/a' when missing. */
export function formatMicros(x: number | null | undefined): string {
  return typeof x === 'number' && Number.isFinite(x) ? `${x.toFixed(2)} µs` : 'n/a';
}

export function formatOpsReport(report: OpsReport): string {
  const columns: Column<OpsRow>[] = [
    { header: 'op', align: 'left', cell: (r) => r.op },
    { header: 'shape', align: 'left', cell: (r) => r.shape },
    { header: 'simdgrad', cell: (r) => formatMicros(r.simdgrad) },
    { header: 'simdgrad (requiresGrad)', cell: (r) => formatMicros(r.simdgradGrad) },
    { header: 'tfjs-wasm', cell: (r) => formatMicros(r.tfjs) },
    { header: 'tfjs ÷ simdgrad', cell: (r) => formatRatio(r.speedup) },
  ];
  return [
    '',
    `ops: time per op incl. result alloc/free, best of ${ROUNDS} interleaved rounds; ${report.simdgrad} vs ${report.tfjs}`,
    '',
    formatTable(columns, report.rows),
    '',
    ...report.verdicts.map(formatVerdict),
  ].join('\n');
}
