/**
 * `threads`: simdgrad on 1 vs 2 threads, through the core's public API, in one run: GEMM (A·B, Aᵀ·B,
 * A·Bᵀ) and a training step (MLP 784-256-128-10, batch 128, Adam). Three contenders, timed in
 * interleaved rounds (best time): one thread on a plain memory (the default engine), one thread on the
 * shared memory (the threaded backend limited by useThreads(1)), and two threads.
 */
import {
  createWasmBackend, nn, optim, randint, randn, scope, setBackend, type Tensor, type WasmBackend,
} from '@simdgrad/core';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import { VARIANTS, type Variant } from './gemm.js';
import {
  checkTarget, formatGflops, formatMachine, formatRatio, formatTable, formatVerdict, gflops, machineInfo, mulberry32,
  parseChoices, parseSizes, ratio, timeInterleaved, type Column, type MachineInfo, type Verdict,
} from './report.js';

const USAGE = `threads [--json] [--sizes 256,512,1024] [--variants ab,atb,abt] [--threads 2] [--spin 200] [--ms 600] [--no-mlp]
  --sizes       square GEMM sizes n (default 256,512,1024)
  --variants    ab (A·B), atb (Aᵀ·B), abt (A·Bᵀ)
  --threads     threads of the threaded contender (default 2)
  --spin        busy-wait of the threads before sleeping, µs (default 200)
  --ms          time per case, split over 3 interleaved rounds (default 600)
  --no-mlp      skip the training step
  --json        print one JSON object instead of the table`;

const TARGET = 1.8;
const ROUNDS = 3;

export interface ThreadsRow {
  bench: string;
  /** Work per call (flops for GEMM, samples for a training step). */
  work: number;
  unit: 'GFLOPS' | 'samples/s';
  one: number;
  oneShared: number;
  many: number;
  speedup: number | null;
}

export interface ThreadsReport {
  bench: 'threads';
  machine: MachineInfo;
  threads: number;
  spinMicros: number;
  build: string;
  rows: ThreadsRow[];
  verdicts: Verdict[];
}

export const threadsCommand: Command = {
  summary: 'simdgrad on 1 vs 2 threads: GEMM GFLOPS and MLP training-step throughput',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        sizes: { type: 'string' },
        variants: { type: 'string' },
        threads: { type: 'string' },
        spin: { type: 'string' },
        ms: { type: 'string' },
        'no-mlp': { type: 'boolean', default: false },
      },
    });
    const threads = values.threads !== undefined ? parseSizes(values.threads, 'threads')[0]! : 2;
    const report = await runThreads({
      sizes: values.sizes !== undefined ? parseSizes(values.sizes) : [256, 512, 1024],
      variants: values.variants !== undefined ? parseChoices(values.variants, Object.keys(VARIANTS) as Variant[], 'variants') : ['ab', 'atb', 'abt'],
      threads,
      spinMicros: values.spin !== undefined ? Number(values.spin) : 200,
      ms: values.ms !== undefined ? Number(values.ms) : 600,
      mlp: !(values['no-mlp'] ?? false),
      log: values.json ? () => {} : (line) => console.log(line),
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatThreadsReport(report));
  },
};

export interface ThreadsOptions {
  sizes: number[];
  variants: Variant[];
  threads: number;
  spinMicros: number;
  ms: number;
  mlp: boolean;
  log(line: string): void;
}

export async function runThreads(o: ThreadsOptions): Promise<ThreadsReport> {
  const machine = await machineInfo();
  o.log(formatMachine(machine));
  const one = await createWasmBackend({ threads: 1 });
  const many = await createWasmBackend({ threads: o.threads, spinMicros: o.spinMicros });
  if (many.threads !== o.threads) throw new Error(`bench: threads: asked for ${o.threads} threads, got ${many.threads} (${many.threadsNote})`);
  o.log(`simdgrad ${many.build} build; threaded backend: ${many.threads} threads, spin ${o.spinMicros} µs`);
  const rows: ThreadsRow[] = [];
  try {
    for (const n of o.sizes) {
      for (const v of o.variants) {
        if (process.stderr.isTTY) process.stderr.write(`\r  timing ${VARIANTS[v].label} n=${n} ...     `);
        rows.push(gemmRow(one, many, o.threads, v, n, o.ms));
      }
    }
    if (o.mlp) {
      if (process.stderr.isTTY) process.stderr.write('\r  timing MLP training step ...     ');
      rows.push(mlpRow(one, many, o.threads, o.ms * 2));
    }
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(40) + '\r');
    await many.shutdown();
  }
  const verdicts = [
    checkTarget(`GEMM: ${o.threads} threads ≥ ${TARGET}× one thread at n ≥ 256`, rows.filter((r) => r.unit === 'GFLOPS' && r.work >= 2 * 256 ** 3),
      (r) => r.speedup, TARGET, (x, r) => `${formatRatio(x)} at ${r.bench}`),
  ];
  return { bench: 'threads', machine, threads: o.threads, spinMicros: o.spinMicros, build: many.build, rows, verdicts };
}

function fill(b: WasmBackend, ptr: number, count: number, seed: number): void {
  const f32 = b.heap.views().f32;
  const rand = mulberry32(seed);
  for (let i = 0; i < count; i++) f32[(ptr >> 2) + i] = rand() * 2 - 1;
}

function gemmRow(one: WasmBackend, many: WasmBackend, threads: number, v: Variant, n: number, ms: number): ThreadsRow {
  const { transA, transB, label } = VARIANTS[v];
  const args = { batch: 1, m: n, n, k: n, transA: transA === 1, transB: transB === 1, strideA: 0, strideB: 0, strideC: 0, accumulate: false };
  const bufs = [one, many].map((b) => {
    const [a, bb, c] = [0, 1, 2].map(() => b.heap.alloc(n * n * 4)) as [number, number, number];
    fill(b, a, n * n, n + 1);
    fill(b, bb, n * n, n + 2);
    return { a, b: bb, c };
  });
  const [p1, pm] = bufs as [typeof bufs[0], typeof bufs[0]];
  const timings = timeInterleaved([
    () => one.matmul(p1.c, p1.a, p1.b, args),
    () => { many.useThreads(1); many.matmul(pm.c, pm.a, pm.b, args); },
    () => { many.useThreads(threads); many.matmul(pm.c, pm.a, pm.b, args); },
  ], { minMs: ms, maxMs: 4 * ms, rounds: ROUNDS });
  many.useThreads(threads);
  // the product is the same bits whichever way it ran
  const f1 = one.heap.views().f32.subarray(p1.c >> 2, (p1.c >> 2) + n * n);
  const fm = many.heap.views().f32.subarray(pm.c >> 2, (pm.c >> 2) + n * n);
  for (let i = 0; i < n * n; i += 97) {
    if (!Object.is(f1[i], fm[i])) throw new Error(`bench: threads: ${label} n=${n}: C[${i}] differs (${f1[i]} vs ${fm[i]})`);
  }
  for (const [b, p] of [[one, p1], [many, pm]] as const) for (const x of [p.a, p.b, p.c]) b.heap.free(x);
  const flops = 2 * n ** 3;
  const [t1, t1s, tm] = timings.map((t) => gflops(flops, t.bestMs)) as [number, number, number];
  return { bench: `${label} n=${n}`, work: flops, unit: 'GFLOPS', one: t1, oneShared: t1s, many: tm, speedup: ratio(tm, t1) };
}

interface MlpSetup {
  step(): void;
}

/** MLP 784-256-128-10, batch 128, Adam, cross-entropy: model, data and optimizer live on `backend`. */
function mlpSetup(backend: WasmBackend, before: () => void): MlpSetup {
  setBackend(backend);
  const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x: Tensor = randn([128, 784]);
  const y: Tensor = randint(0, 10, [128]);
  return {
    step() {
      setBackend(backend);
      before();
      scope(() => {
        opt.zeroGrad();
        const loss = nn.functional.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
      });
    },
  };
}

function mlpRow(one: WasmBackend, many: WasmBackend, threads: number, ms: number): ThreadsRow {
  const contenders = [
    mlpSetup(one, () => {}),
    mlpSetup(many, () => many.useThreads(1)),
    mlpSetup(many, () => many.useThreads(threads)),
  ];
  const timings = timeInterleaved(contenders.map((c) => () => c.step()), { minMs: ms, maxMs: 4 * ms, rounds: ROUNDS });
  many.useThreads(threads);
  const [t1, t1s, tm] = timings.map((t) => (128 * 1000) / t.bestMs) as [number, number, number];
  return { bench: 'MLP 784-256-128-10 b128 Adam step', work: 128, unit: 'samples/s', one: t1, oneShared: t1s, many: tm, speedup: ratio(tm, t1) };
}

const fmt = (r: ThreadsRow, x: number) => (r.unit === 'GFLOPS' ? formatGflops(x) : x.toFixed(0));

export function formatThreadsReport(report: ThreadsReport): string {
  const columns: Column<ThreadsRow>[] = [
    { header: 'bench', align: 'left', cell: (r) => r.bench },
    { header: 'unit', align: 'left', cell: (r) => r.unit },
    { header: '1 thread', cell: (r) => fmt(r, r.one) },
    { header: '1 (shared mem)', cell: (r) => fmt(r, r.oneShared) },
    { header: `${report.threads} threads`, cell: (r) => fmt(r, r.many) },
    { header: 'speedup', cell: (r) => formatRatio(r.speedup) },
  ];
  return [
    '',
    `simdgrad ${report.build}, 1 vs ${report.threads} threads (best time of 3 interleaved rounds; spin ${report.spinMicros} µs)`,
    '',
    formatTable(columns, report.rows),
    '',
    ...report.verdicts.map(formatVerdict),
  ].join('\n');
}
