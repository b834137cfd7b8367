/**
 * Shared helpers for every bench: timing, number formatting, plain-text tables, machine info and
 * target verdicts. Nothing here knows about a particular bench.
 */
import { cpus, loadavg, totalmem } from 'node:os';

// ---- timing -------------------------------------------------------------------------------------

export interface TimeOptions {
  /** Keep sampling until this much time (ms) was spent in samples (warm-up excluded). */
  minMs: number;
  /** Warm-up time (ms) before sampling; at least one call is always made. Default: minMs / 4. */
  warmupMs?: number;
  /** Each sample runs the function enough times in a row to last this long (ms), to hide timer overhead. Default 1. */
  minSampleMs?: number;
  /** Take at least this many samples (unless maxMs is hit). Default 5. */
  minSamples?: number;
  /** Stop after this much sampling time (ms) even with fewer than minSamples samples (at least one). Default 4 × minMs. */
  maxMs?: number;
  /** Calls per sample, known from an earlier run: with warmupMs = 0 this skips the warm-up call too. */
  callsPerSample?: number;
}

export interface Timing {
  /** Fastest time per call (ms). */
  bestMs: number;
  /** Median time per call (ms) over the samples. */
  medianMs: number;
  /** Number of samples taken and calls per sample. */
  samples: number;
  callsPerSample: number;
}

const now = (): number => performance.now();

/**
 * Times a synchronous function: warms it up, then takes samples of `callsPerSample` back-to-back calls
 * until `minMs` have been spent, and returns the best and median time per call.
 *
 * @example
 * ```ts
 * const t = timeIt(() => work(), { minMs: 300 });
 * console.log(gflops(flops, t.bestMs));
 * ```
 */
export function timeIt(fn: () => void, options: TimeOptions): Timing {
  const { minMs } = options;
  const warmupMs = options.warmupMs ?? minMs / 4;
  const minSampleMs = options.minSampleMs ?? 1;
  const minSamples = options.minSamples ?? 5;
  const maxMs = options.maxMs ?? 4 * minMs;

  let callsPerSample = options.callsPerSample ?? 0;
  if (callsPerSample < 1 || warmupMs > 0) {
    // Warm-up, which also estimates the time of one call.
    let calls = 0;
    const w0 = now();
    let elapsed = 0;
    do {
      fn();
      calls++;
      elapsed = now() - w0;
    } while (elapsed < warmupMs);
    const perCall = elapsed / calls;
    callsPerSample ||= Math.max(1, Math.ceil(minSampleMs / Math.max(perCall, 1e-6)));
  }

  const perCallMs: number[] = [];
  let total = 0;
  while ((total < minMs || perCallMs.length < minSamples) && !(perCallMs.length > 0 && total >= maxMs)) {
    const t0 = now();
    for (let i = 0; i < callsPerSample; i++) fn();
    const dt = now() - t0;
    total += dt;
    perCallMs.push(dt / callsPerSample);
  }
  return { bestMs: Math.min(...perCallMs), medianMs: median(perCallMs), samples: perCallMs.length, callsPerSample };
}

/**
 * Times several contenders in `rounds` interleaved rounds (each round gives every contender 1/rounds of
 * the time), so a burst of load from another process hurts them all alike. Returns one timing each:
 * the best over rounds, and the median of the rounds' medians.
 */
export function timeInterleaved(fns: readonly (() => void)[], options: TimeOptions & { rounds: number }): Timing[] {
  const { rounds, ...rest } = options;
  const share = {
    ...rest,
    warmupMs: rest.warmupMs ?? rest.minMs / 4,
    minMs: rest.minMs / rounds,
    maxMs: (rest.maxMs ?? 4 * rest.minMs) / rounds,
  };
  const per = fns.map((fn) => [timeIt(fn, share)]);
  for (let r = 1; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const first = per[i]![0]!;
      // A contender whose single call outlasts its whole budget gains nothing from more rounds.
      if (first.bestMs >= 2 * share.maxMs) return;
      per[i]!.push(timeIt(fn, { ...share, warmupMs: 0, callsPerSample: first.callsPerSample }));
    });
  }
  return per.map((ts) => ({
    bestMs: Math.min(...ts.map((t) => t.bestMs)),
    medianMs: median(ts.map((t) => t.medianMs)),
    samples: ts.reduce((s, t) => s + t.samples, 0),
    callsPerSample: ts[0]!.callsPerSample,
  }));
}

/** Median of a non-empty list (mean of the middle two for an even length). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median: empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** GFLOPS for `flops` floating-point operations done in `ms` milliseconds. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}

// ---- formatting ---------------------------------------------------------------------------------

/** A value that may be missing (a build or peer not available): shown as 'n/a'. */
export type Maybe = number | null | undefined;

const isNum = (x: Maybe): x is number => typeof x === 'number' && Number.isFinite(x);

/** `12.3` style, one decimal; 'n/a' when missing. */
export function formatGflops(x: Maybe): string {
  return isNum(x) ? x.toFixed(1) : 'n/a';
}

/** `1.25×`, two decimals; 'n/a' when missing. */
export function formatRatio(x: Maybe): string {
  return isNum(x) ? `${x.toFixed(2)}×` : 'n/a';
}

/** A fraction as a whole percentage: 0.734 → `73%`; 'n/a' when missing. */
export function formatPercent(x: Maybe): string {
  return isNum(x) ? `${Math.round(x * 100)}%` : 'n/a';
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: Maybe, b: Maybe): number | null {
  return isNum(a) && isNum(b) && b !== 0 ? a / b : null;
}

export interface Column<R> {
  header: string;
  /** Numbers read best right-aligned (the default); labels left-aligned. */
  align?: 'left' | 'right';
  cell(row: R): string;
}

/**
 * Renders rows as a plain-text table: a header, a rule of dashes, one line per row; columns are
 * separated by two spaces and padded to their widest cell. No trailing spaces.
 *
 * @example
 * ```ts
 * formatTable([{ header: 'n', cell: (r) => String(r.n) }], [{ n: 64 }]);
 * // ' n\n--\n64'
 * ```
 */
export function formatTable<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const cells = rows.map((row) => columns.map((c) => c.cell(row)));
  const widths = columns.map((c, j) => Math.max(width(c.header), ...cells.map((r) => width(r[j]!))));
  const line = (values: readonly string[]): string =>
    values.map((v, j) => pad(v, widths[j]!, columns[j]!.align ?? 'right')).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** Display width: counts code points (the table uses only single-width characters such as `·` and `ᵀ`). */
function width(s: string): number {
  return [...s].length;
}

function pad(s: string, w: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)));
  return align === 'left' ? s + fill : fill + s;
}

// ---- arguments ----------------------------------------------------------------------------------

/** Parses `64,128,256` into positive integers; throws `bench: --name: ...` on anything else. */
export function parseSizes(text: string, name = 'sizes'): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new Error(`bench: --${name}: empty list`);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`bench: --${name}: not a positive integer (${p})`);
    return n;
  });
}

/** Parses `a,b` into names that must all be in `allowed` (deduplicated, in the order given). */
export function parseChoices<T extends string>(text: string, allowed: readonly T[], name: string): T[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new Error(`bench: --${name}: empty list`);
  const out: T[] = [];
  for (const p of parts) {
    if (!(allowed as readonly string[]).includes(p)) {
      throw new Error(`bench: --${name}: unknown value (${p}) (help: choose from ${allowed.join(', ')})`);
    }
    if (!out.includes(p as T)) out.push(p as T);
  }
  return out;
}

// ---- machine info and verdicts ------------------------------------------------------------------

export interface MachineInfo {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the bench started. */
  loadAverage: number;
  /** Cores kept busy by other processes just before the bench (sampled for 250 ms while it idles). */
  busyCores: number;
}

/** Machine, runtime, and how busy the other processes keep the CPU (they steal time from a 1-thread bench). */
export async function machineInfo(sampleMs = 250): Promise<MachineInfo> {
  const before = cpus();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const list = cpus();
  let busy = 0;
  let total = 0;
  list.forEach((c, i) => {
    const b = before[i]?.times;
    if (!b) return;
    const d = (k: keyof typeof c.times) => c.times[k] - b[k];
    const all = d('user') + d('nice') + d('sys') + d('idle') + d('irq');
    busy += all - d('idle');
    total += all;
  });
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: process.platform,
    arch: process.arch,
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    busyCores: total > 0 ? Math.round((busy / total) * list.length * 100) / 100 : 0,
  };
}

export function formatMachine(m: MachineInfo): string {
  const busy = m.busyCores >= 0.25 ? ' (other processes are running: expect low, noisy figures)' : '';
  return `node ${m.node} (V8 ${m.v8}), ${m.platform}/${m.arch}, CPU: ${m.cpu} × ${m.cores}, ${m.memoryGiB} GiB\n` +
    `load: ${m.busyCores.toFixed(2)} cores busy before start, 1-min average ${m.loadAverage.toFixed(2)}${busy}`;
}

export interface Verdict {
  /** What is checked, e.g. 'simd: ≥ 1.00× tfjs at n ≥ 256'. */
  target: string;
  /** null when nothing could be measured (a build or peer missing). */
  pass: boolean | null;
  /** The worst case, e.g. '0.93× at A·Bᵀ n=1024'. */
  detail: string;
}

/**
 * Checks `value(row) >= threshold` over the rows and reports the worst one.
 * Rows whose value is missing are skipped; with none left the verdict is null ('n/a').
 */
export function checkTarget<R>(target: string, rows: readonly R[], value: (row: R) => Maybe, threshold: number,
  show: (value: number, row: R) => string): Verdict {
  let worst: { v: number; row: R } | undefined;
  for (const row of rows) {
    const v = value(row);
    if (isNum(v) && (worst === undefined || v < worst.v)) worst = { v, row };
  }
  if (worst === undefined) return { target, pass: null, detail: 'nothing measured' };
  return { target, pass: worst.v >= threshold, detail: `worst ${show(worst.v, worst.row)}` };
}

export function formatVerdict(v: Verdict): string {
  const mark = v.pass === null ? 'N/A ' : v.pass ? 'PASS' : 'FAIL';
  return `${mark}  ${v.target}: ${v.detail}`;
}

/** A small seeded PRNG (mulberry32, uniform in [0, 1)), so every run and every JS peer uses the same data. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
