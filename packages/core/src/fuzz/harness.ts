// The fuzz loop (tests only): runs a reader over generated inputs and sorts each outcome into
// "loaded", "rejected with a SimdgradError", or a failure (any other exception — a TypeError,
// RangeError, a wasm trap — or a case over its time budget).
import { SimdgradError } from '../errors.js';
import { Rng } from './mutate.js';

export interface FuzzFailure {
  case: number;
  kind: 'exception' | 'slow' | 'message';
  error: string;
  /** The input that failed, hex (bytes) or JSON (text), for a reproduction. */
  input: string;
}

export interface FuzzReport {
  name: string;
  cases: number;
  loaded: number;
  rejected: number;
  failures: FuzzFailure[];
  /** The slowest case, in ms. */
  slowestMs: number;
}

/** `SIMDGRAD_FUZZ_LONG=1` multiplies every count by 25 for a longer local run; `SIMDGRAD_FUZZ_SEED` changes the seed. */
export function fuzzCount(quick: number): number {
  return process.env.SIMDGRAD_FUZZ_LONG === '1' ? quick * 25 : quick;
}

export function fuzzSeed(base: number): number {
  const s = process.env.SIMDGRAD_FUZZ_SEED;
  return s === undefined ? base : (Number(s) ^ base) >>> 0;
}

function show(input: unknown): string {
  if (input instanceof Uint8Array) return Array.from(input.subarray(0, 4096), (b) => b.toString(16).padStart(2, '0')).join('');
  return JSON.stringify(input)?.slice(0, 4096) ?? String(input);
}

/**
 * Runs `count` cases: `make(rng, i)` builds an input, `read(input)` must return (it loaded) or throw a
 * SimdgradError whose message reads `op: problem`. Each case must finish within `budgetMs`.
 */
export function fuzz<T>(name: string, seed: number, count: number, make: (rng: Rng, i: number) => T, read: (input: T) => void,
  budgetMs = 2000): FuzzReport {
  const rng = new Rng(fuzzSeed(seed));
  const report: FuzzReport = { name, cases: 0, loaded: 0, rejected: 0, failures: [], slowestMs: 0 };
  for (let i = 0; i < count; i++) {
    const input = make(rng, i);
    const t0 = performance.now();
    try {
      read(input);
      report.loaded++;
    } catch (e) {
      if (e instanceof SimdgradError) {
        report.rejected++;
        if (!/^[A-Za-z][\w.]*: \S/.test(e.message) && report.failures.length < 20) {
          report.failures.push({ case: i, kind: 'message', error: e.message, input: show(input) });
        }
      } else if (report.failures.length < 20) {
        report.failures.push({ case: i, kind: 'exception', error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e), input: show(input) });
      }
    }
    const ms = performance.now() - t0;
    if (ms > report.slowestMs) report.slowestMs = ms;
    if (ms > budgetMs && report.failures.length < 20) report.failures.push({ case: i, kind: 'slow', error: `took ${ms.toFixed(0)} ms (budget ${budgetMs} ms)`, input: show(input) });
    report.cases++;
  }
  return report;
}

/** One line per reader for the test log (and the notes). */
export function summary(r: FuzzReport): string {
  return `${r.name}: ${r.cases} cases, ${r.loaded} loaded, ${r.rejected} rejected with SimdgradError, ${r.failures.length} failures, slowest ${r.slowestMs.toFixed(1)} ms`;
}
