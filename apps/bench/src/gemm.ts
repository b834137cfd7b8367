/**
 * `gemm`: single-thread f32 matrix-multiply throughput of simdgrad's kernels (plain SIMD and relaxed
 * SIMD builds) against each build's measured peak loop and against tfjs-backend-wasm (SIMD, 1 thread).
 */
import { loadKernels, type KernelBuild, type KernelExports } from '@simdgrad/kernels';
import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import {
  checkTarget, formatGflops, formatMachine, formatPercent, formatRatio, formatTable, formatVerdict, gflops,
  machineInfo, mulberry32, parseChoices, parseSizes, ratio, timeInterleaved, timeIt, type Column, type MachineInfo, type Timing,
  type Verdict,
} from './report.js';
import { loadTfjsWasm, type TfjsWasm } from './tfjs.js';

export const VARIANTS = {
  ab: { label: 'A·B', transA: 0, transB: 0 },
  atb: { label: 'Aᵀ·B', transA: 1, transB: 0 },
  abt: { label: 'A·Bᵀ', transA: 0, transB: 1 },
} as const;
export type Variant = keyof typeof VARIANTS;
const VARIANT_NAMES = Object.keys(VARIANTS) as Variant[];

const FULL_SIZES = [64, 128, 256, 512, 1024];
const QUICK_SIZES = [64, 128, 256, 512];
/** The targets: at n ≥ TARGET_MIN_N, at least TARGET_RATIO × tfjs and TARGET_PEAK of the build's peak loop. */
const TARGET_MIN_N = 256;
const TARGET_RATIO = 1.0;
const TARGET_PEAK = 0.7;
/** Issue 5's stricter target: the relaxed build at ≥ 85% of the relaxed peak loop for n = 256…1024. */
const STRICT_PEAK = 0.85;
/** Problems (m, n, k) checked against a naive product before timing, per variant and build. */
const CHECK_SIZES: readonly (readonly [number, number, number])[] = [[1, 1, 1], [3, 5, 7], [17, 33, 19], [64, 64, 64]];
/** Flops per iteration of `peakF32`: 2 (unroll) × 12 chains × 4 lanes × 2 (mul + add). */
const PEAK_FLOPS_PER_ITER = 2 * 12 * 4 * 2;
/** Time (ms) of the peak loop at the start and at the end (and a quarter of it before each size). */
const PEAK_MS = 200;
/** Each case's time is split over this many interleaved rounds of all contenders. */
const ROUNDS = 3;

export interface GemmRow {
  variant: Variant;
  label: string;
  n: number;
  flops: number;
  /** Best-time GFLOPS of each simdgrad build (null: build not available). */
  simd: number | null;
  relaxed: number | null;
  /** Median-time GFLOPS, for the JSON. */
  simdMedian: number | null;
  relaxedMedian: number | null;
  /** Fraction of the build's peak loop. */
  simdOfPeak: number | null;
  relaxedOfPeak: number | null;
  /** tfjs `tf.matMul(a, b, transposeA, transposeB)`. */
  tfjs: number | null;
  /** tfjs `tf.matMul(tf.transpose(a), b)` etc. (transposed variants only). */
  tfjsPretransposed: number | null;
  /** The faster tfjs way, which the ratios use. */
  tfjsBest: number | null;
  simdRatio: number | null;
  relaxedRatio: number | null;
}

export interface GemmReport {
  bench: 'gemm';
  quick: boolean;
  machine: MachineInfo;
  builds: { build: KernelBuild; available: boolean; reason?: string; peakGflops: number | null }[];
  tfjs: { available: boolean; reason?: string; version?: string; threads?: number; simd?: boolean };
  timing: { minMs: number; rounds: number; statistic: 'best' };
  rows: GemmRow[];
  verdicts: Verdict[];
}

const USAGE = `gemm [--quick] [--json] [--sizes 64,128,...] [--variants ab,atb,abt] [--no-tfjs]
  --quick       sizes 64..512 and 0.1 s per case (default: 64..1024, 0.3 s)
  --json        print one JSON object instead of the table
  --sizes       square sizes n to time
  --variants    ab (A·B), atb (Aᵀ·B), abt (A·Bᵀ)
  --no-tfjs     skip tfjs-backend-wasm`;

export const gemmCommand: Command = {
  summary: 'f32 matmul GFLOPS: simdgrad (SIMD, relaxed SIMD) vs its peak loop and tfjs-backend-wasm',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        sizes: { type: 'string' },
        variants: { type: 'string' },
        'no-tfjs': { type: 'boolean', default: false },
      },
    });
    const quick = values.quick ?? false;
    const report = await runGemm({
      quick,
      sizes: values.sizes !== undefined ? parseSizes(values.sizes) : quick ? QUICK_SIZES : FULL_SIZES,
      variants: values.variants !== undefined ? parseChoices(values.variants, VARIANT_NAMES, 'variants') : VARIANT_NAMES,
      tfjs: !(values['no-tfjs'] ?? false),
      log: values.json ? () => {} : (line) => console.log(line),
    });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatGemmReport(report));
  },
};

export interface GemmOptions {
  quick: boolean;
  sizes: number[];
  variants: Variant[];
  tfjs: boolean;
  /** Header lines as soon as they are known (machine, builds, peaks). */
  log(line: string): void;
}

export async function runGemm(options: GemmOptions): Promise<GemmReport> {
  const { quick, sizes, variants, log } = options;
  const minMs = quick ? 100 : 300;
  const machine = await machineInfo();
  log(formatMachine(machine));

  // Both builds at once, each on its own memory (instantiation is cached per build).
  const maxElems = Math.max(...sizes.map((n) => n * n), ...CHECK_SIZES.map(([m, n, k]) => Math.max(m * k, k * n, m * n)));
  const scratchSizes: [number, number, number][] = [...sizes.map((n): [number, number, number] => [n, n, n]), ...CHECK_SIZES.map((s) => [...s] as [number, number, number])];
  const targets: (Target | { build: KernelBuild; reason: string })[] = [];
  for (const build of ['simd', 'relaxed'] as const) {
    try {
      targets.push(await setupTarget(build, maxElems, scratchSizes));
    } catch (e) {
      if (build === 'simd') throw e;
      targets.push({ build, reason: (e as Error).message });
    }
  }
  const simd = targets[0] as Target;
  const relaxed = 'kernels' in targets[1]! ? targets[1] : null;

  // Correctness first: a fast wrong kernel is worth nothing.
  for (const t of [simd, relaxed]) {
    if (t) for (const v of variants) for (const [m, n, k] of CHECK_SIZES) checkProduct(t, v, m, n, k);
  }

  for (const t of [simd, relaxed]) if (t) t.peakGflops = measurePeak(t.kernels, PEAK_MS);
  log(targets.map((t) => 'kernels' in t
    ? `simdgrad ${t.build}: matmul verified on small sizes; peak loop at start ${formatGflops(t.peakGflops)} GFLOPS`
    : `simdgrad ${t.build}: unavailable (${t.reason})`).join('\n'));

  let tfjs: TfjsWasm | null = null;
  let tfjsReason: string | undefined;
  if (options.tfjs) {
    try {
      tfjs = await loadTfjsWasm();
      log(`tfjs-backend-wasm ${tfjs.version}: SIMD ${tfjs.simd ? 'on' : 'off'}, ${tfjs.threads} thread`);
    } catch (e) {
      tfjsReason = (e as Error).message;
      log(`tfjs-backend-wasm: unavailable (${tfjsReason})`);
    }
  } else {
    tfjsReason = 'skipped (--no-tfjs)';
  }

  const rows: GemmRow[] = [];
  for (const n of sizes) {
    const flops = 2 * n * n * n;
    const tfIn = tfjs ? { a: tfjs.tf.randomUniform([n, n], -1, 1), b: tfjs.tf.randomUniform([n, n], -1, 1) } : null;
    for (const t of [simd, relaxed]) {
      if (!t) continue;
      fillInputs(t, n);
      t.peakGflops = Math.max(t.peakGflops ?? 0, measurePeak(t.kernels, PEAK_MS / 4));
    }
    for (const v of variants) {
      const { label, transA, transB } = VARIANTS[v];
      if (process.stderr.isTTY) process.stderr.write(`\r  timing ${label} n=${n} ...        `);
      // The contenders, timed in interleaved rounds; null = not available.
      const contenders: ((() => void) | null)[] = [
        () => callMatmul(simd, v, n, n, n),
        relaxed ? () => callMatmul(relaxed, v, n, n, n) : null,
        null,
        null,
      ];
      if (tfjs && tfIn) {
        const tf = tfjs.tf;
        const { a, b } = tfIn;
        // Inputs live on the backend already; the result's download (dataSync) is part of the cost.
        contenders[2] = () => {
          const c = tf.matMul(a, b, transA === 1, transB === 1);
          c.dataSync();
          c.dispose();
        };
        if (transA || transB) {
          contenders[3] = () => {
            const c = tf.tidy(() => tf.matMul(transA ? tf.transpose(a) : a, transB ? tf.transpose(b) : b));
            c.dataSync();
            c.dispose();
          };
        }
      }
      const present = contenders.filter((f): f is () => void => f !== null);
      const timings = timeInterleaved(present, { minMs, maxMs: 4 * minMs, rounds: ROUNDS });
      const [simdT, relaxedT, tfjsT, tfjsPreT] = contenders.map((f) => (f === null ? null : timings[present.indexOf(f)]!));
      for (const t of [simd, relaxed]) if (t) spotCheck(t, v, n, n, n, 32);

      const g = (t: Timing | null | undefined) => (t ? gflops(flops, t.bestMs) : null);
      const tfjsG = g(tfjsT);
      const tfjsPre = g(tfjsPreT);
      const tfjsBest = tfjsG === null ? null : Math.max(tfjsG, tfjsPre ?? 0);
      const simdG = g(simdT)!;
      const relaxedG = g(relaxedT);
      rows.push({
        variant: v, label, n, flops,
        simd: simdG,
        relaxed: relaxedG,
        simdMedian: gflops(flops, simdT!.medianMs),
        relaxedMedian: relaxedT ? gflops(flops, relaxedT.medianMs) : null,
        simdOfPeak: null,
        relaxedOfPeak: null,
        tfjs: tfjsG,
        tfjsPretransposed: tfjsPre,
        tfjsBest,
        simdRatio: ratio(simdG, tfjsBest),
        relaxedRatio: ratio(relaxedG, tfjsBest),
      });
    }
    tfIn?.a.dispose();
    tfIn?.b.dispose();
  }
  // The peak loop runs at the start, before each size and at the end; the best counts, so one busy
  // moment does not make it low (and the % of peak high).
  for (const t of [simd, relaxed]) if (t) t.peakGflops = Math.max(t.peakGflops ?? 0, measurePeak(t.kernels, PEAK_MS));
  for (const r of rows) {
    r.simdOfPeak = ratio(r.simd, simd.peakGflops);
    r.relaxedOfPeak = relaxed ? ratio(r.relaxed, relaxed.peakGflops) : null;
  }
  if (process.stderr.isTTY) process.stderr.write('\r' + ' '.repeat(40) + '\r');

  return {
    bench: 'gemm',
    quick,
    machine,
    builds: targets.map((t) => 'kernels' in t
      ? { build: t.build, available: true, peakGflops: t.peakGflops }
      : { build: t.build, available: false, reason: t.reason, peakGflops: null }),
    tfjs: tfjs
      ? { available: true, version: tfjs.version, threads: tfjs.threads, simd: tfjs.simd }
      : { available: false, reason: tfjsReason },
    timing: { minMs, rounds: ROUNDS, statistic: 'best' },
    rows,
    verdicts: gemmVerdicts(rows),
  };
}

/** One line per target and build, judged on the rows with n ≥ 256. */
export function gemmVerdicts(rows: readonly GemmRow[]): Verdict[] {
  const big = rows.filter((r) => r.n >= TARGET_MIN_N);
  const at = (r: GemmRow) => `${r.label} n=${r.n}`;
  const out: Verdict[] = [];
  for (const build of ['simd', 'relaxed'] as const) {
    out.push(checkTarget(`${build}: ≥ ${TARGET_RATIO.toFixed(2)}× tfjs at n ≥ ${TARGET_MIN_N}`, big,
      (r) => (build === 'simd' ? r.simdRatio : r.relaxedRatio), TARGET_RATIO, (v, r) => `${formatRatio(v)} at ${at(r)}`));
    out.push(checkTarget(`${build}: ≥ ${formatPercent(TARGET_PEAK)} of peak at n ≥ ${TARGET_MIN_N}`, big,
      (r) => (build === 'simd' ? r.simdOfPeak : r.relaxedOfPeak), TARGET_PEAK, (v, r) => `${formatPercent(v)} at ${at(r)}`));
  }
  out.push(checkTarget(`relaxed: ≥ ${formatPercent(STRICT_PEAK)} of peak at n ≥ ${TARGET_MIN_N} (issue 5)`, big,
    (r) => r.relaxedOfPeak, STRICT_PEAK, (v, r) => `${formatPercent(v)} at ${at(r)}`));
  return out;
}

export const GEMM_COLUMNS: readonly Column<GemmRow>[] = [
  { header: 'op', align: 'left', cell: (r) => r.label },
  { header: 'n', cell: (r) => String(r.n) },
  { header: 'simd', cell: (r) => formatGflops(r.simd) },
  { header: '%peak', cell: (r) => formatPercent(r.simdOfPeak) },
  { header: 'relaxed', cell: (r) => formatGflops(r.relaxed) },
  { header: '%peak', cell: (r) => formatPercent(r.relaxedOfPeak) },
  { header: 'tfjs', cell: (r) => formatGflops(r.tfjs) },
  { header: 'tfjs pre-T', cell: (r) => (r.tfjsPretransposed === null ? '-' : formatGflops(r.tfjsPretransposed)) },
  { header: 'simd/tfjs', cell: (r) => formatRatio(r.simdRatio) },
  { header: 'relaxed/tfjs', cell: (r) => formatRatio(r.relaxedRatio) },
];

export function formatGemmReport(report: GemmReport): string {
  const peaks = report.builds.map((b) => `${b.build} ${b.available ? formatGflops(b.peakGflops) : 'n/a'}`).join(', ');
  return [
    '',
    `GEMM, f32, square n×n, 1 thread, GFLOPS (best time of ≥ ${report.timing.minMs / 1000} s per case, ` +
      `in ${report.timing.rounds} interleaved rounds)`,
    `peak loop (best over the run): ${peaks} GFLOPS\ntfjs = tf.matMul(a, b, transposeA, transposeB) + dataSync();` +
      ' pre-T = tf.transpose first; ratios use the faster tfjs way',
    '',
    formatTable(GEMM_COLUMNS, report.rows),
    '',
    ...report.verdicts.map(formatVerdict),
  ].join('\n');
}

// ---- simdgrad side ------------------------------------------------------------------------------

interface Target {
  build: KernelBuild;
  kernels: KernelExports;
  memory: WebAssembly.Memory;
  a: number;
  b: number;
  c: number;
  scratch: number;
  peakGflops: number | null;
}

const align16 = (x: number) => (x + 15) & ~15;

async function setupTarget(build: KernelBuild, maxElems: number, problems: readonly [number, number, number][]): Promise<Target> {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const loaded = await loadKernels({ memory, relaxed: build === 'relaxed', shared: false });
  if (loaded.build !== build) throw new Error(`bench: asked for the ${build} build, got ${loaded.build}`);
  const k = loaded.exports;
  if ((k.variant() & 1) !== (build === 'relaxed' ? 1 : 0)) {
    throw new Error(`bench: the ${build} build reports variant() = ${k.variant()}`);
  }
  const bytes = align16(maxElems * 4);
  const scratchBytes = align16(Math.max(0, ...problems.map(([m, n, kk]) => k.matmulScratchBytes(m, n, kk))));
  const a = align16(k.heapBase());
  const b = a + bytes;
  const c = b + bytes;
  const scratch = c + bytes;
  const end = scratch + scratchBytes;
  const pages = Math.ceil(end / 65536);
  const have = memory.buffer.byteLength / 65536;
  if (pages > have) memory.grow(pages - have);
  return { build, kernels: k, memory, a, b, c, scratch, peakGflops: null };
}

function callMatmul(t: Target, v: Variant, m: number, n: number, k: number): void {
  const { transA, transB } = VARIANTS[v];
  t.kernels.matmulF32(t.c, t.a, t.b, t.scratch, 1, m, n, k, transA, transB, 0, 0, 0, 0);
}

/** Random A and B for the timed n×n cases (the check problems overwrote the first elements). */
function fillInputs(t: Target, n: number): void {
  const a = new Float32Array(t.memory.buffer, t.a, n * n);
  const b = new Float32Array(t.memory.buffer, t.b, n * n);
  const rand = mulberry32(n * 7 + 3);
  for (let i = 0; i < n * n; i++) {
    a[i] = rand() * 2 - 1;
    b[i] = rand() * 2 - 1;
  }
}

/** Element (i, j) of op(A)·op(B) in float64, with the bound Σ|a||b| for the rounding tolerance. */
function refElement(a: Float32Array, b: Float32Array, v: Variant, m: number, n: number, k: number, i: number, j: number) {
  const { transA, transB } = VARIANTS[v];
  let sum = 0;
  let abs = 0;
  for (let p = 0; p < k; p++) {
    const x = transA ? a[p * m + i]! : a[i * k + p]!;
    const y = transB ? b[j * k + p]! : b[p * n + j]!;
    sum += x * y;
    abs += Math.abs(x * y);
  }
  return { sum, abs };
}

/** NOTE: f32 dot products of length k are within ≈ k·2⁻²⁴·Σ|a||b| of the exact value (see: Higham, §3.1). */
function tolerance(k: number, abs: number): number {
  return (2 * k * 2 ** -24 + 1e-6) * abs + 1e-6;
}

/** Fills A, B at random, runs matmulF32 once (over a C full of NaN) and compares every element. */
function checkProduct(t: Target, v: Variant, m: number, n: number, k: number): void {
  const a = new Float32Array(t.memory.buffer, t.a, m * k);
  const b = new Float32Array(t.memory.buffer, t.b, k * n);
  const c = new Float32Array(t.memory.buffer, t.c, m * n);
  const rand = mulberry32(m * 1000003 + n * 1009 + k);
  for (let i = 0; i < a.length; i++) a[i] = rand() * 2 - 1;
  for (let i = 0; i < b.length; i++) b[i] = rand() * 2 - 1;
  c.fill(Number.NaN);
  callMatmul(t, v, m, n, k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const { sum, abs } = refElement(a, b, v, m, n, k, i, j);
      const got = c[i * n + j]!;
      if (!(Math.abs(got - sum) <= tolerance(k, abs))) {
        throw new Error(`bench: gemm: simdgrad ${t.build} ${VARIANTS[v].label} is wrong at m=${m} n=${n} k=${k}: ` +
          `C[${i},${j}] = ${got}, expected ${sum}`);
      }
    }
  }
}

/** After timing a big case: compares `count` random elements of C with a float64 dot product. */
function spotCheck(t: Target, v: Variant, m: number, n: number, k: number, count: number): void {
  const a = new Float32Array(t.memory.buffer, t.a, m * k);
  const b = new Float32Array(t.memory.buffer, t.b, k * n);
  const c = new Float32Array(t.memory.buffer, t.c, m * n);
  const rand = mulberry32(count + n);
  for (let s = 0; s < count; s++) {
    const i = Math.floor(rand() * m);
    const j = Math.floor(rand() * n);
    const { sum, abs } = refElement(a, b, v, m, n, k, i, j);
    const got = c[i * n + j]!;
    if (!(Math.abs(got - sum) <= tolerance(k, abs))) {
      throw new Error(`bench: gemm: simdgrad ${t.build} ${VARIANTS[v].label} n=${n} is wrong after timing: ` +
        `C[${i},${j}] = ${got}, expected ${sum}`);
    }
  }
}

/**
 * GFLOPS of the build's register-only multiply-add loop: the best of calls of about 2 ms over `ms`.
 * Short calls make the best one likely to have had the core to itself on a busy machine.
 */
function measurePeak(k: KernelExports, ms: number): number {
  // peakF32(iters, m, a): chains c = c·m + a; m = 1, a = 0 keeps the values fixed (no overflow, no denormals).
  let iters = 1000;
  for (;;) {
    const t0 = performance.now();
    k.peakF32(iters, 1, 0);
    const dt = performance.now() - t0;
    if (dt >= 1 || iters >= 2 ** 28) {
      iters = Math.max(1, Math.min(2 ** 30, Math.round((iters * 2) / Math.max(dt, 1e-3))));
      break;
    }
    iters *= 4;
  }
  const t = timeIt(() => k.peakF32(iters, 1, 0), { minMs: ms, warmupMs: 0, minSampleMs: 0, minSamples: 3 });
  return gflops(iters * PEAK_FLOPS_PER_ITER, t.bestMs);
}
