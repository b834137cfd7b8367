/**
 * `startup`: what a user pays before the first op.
 * - `init()` time in fresh Node processes (import of @simdgrad/core timed separately), best and median
 *   over several processes run one after another;
 * - the minified + gzipped size of an esbuild bundle of `import { init, tensor, nn, optim } from
 *   '@simdgrad/core'` (browser platform, ESM; the kernels' wasm is embedded in the JS), with the
 *   kernels alone as a breakdown.
 */
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Command } from './command.js';
import { formatMachine, formatTable, formatVerdict, machineInfo, median, type Column, type MachineInfo, type Verdict } from './report.js';

export const INIT_TARGET_MS = 20;
export const BUNDLE_TARGET_KB = 120;

export interface InitSample {
  importMs: number;
  initMs: number;
  /** performance.now() when init() resolved: time since the process started. */
  sinceStartMs: number;
  build: string;
}

export interface BundleSize {
  entry: string;
  bytes: number;
  gzipBytes: number;
}

export interface StartupReport {
  bench: 'startup';
  quick: boolean;
  machine: MachineInfo;
  processes: number;
  samples: InitSample[];
  init: { bestMs: number; medianMs: number } | null;
  import: { bestMs: number; medianMs: number } | null;
  bundles: BundleSize[];
  bundleNote?: string;
  verdicts: Verdict[];
}

const USAGE = `startup [--quick] [--json] [--runs 7]
  --runs    fresh processes timing init() (default 7; quick 3)
  --quick   3 processes
  --json    print one JSON object instead of the table`;

export const startupCommand: Command = {
  summary: 'init() time in a fresh process and the min+gzip bundle size of core + kernels',
  usage: USAGE,
  async run(args) {
    const { values } = parseArgs({
      args, strict: true,
      options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false }, runs: { type: 'string' } },
    });
    const quick = values.quick ?? false;
    const runs = values.runs !== undefined ? Number(values.runs) : quick ? 3 : 7;
    if (!Number.isInteger(runs) || runs < 1) throw new Error(`bench: --runs: not a positive integer (${values.runs})`);
    const report = await runStartup({ quick, runs, log: values.json ? () => {} : (l) => console.log(l) });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatStartupReport(report));
  },
};

/** The child: import the core, init, print one JSON line. */
export function childSource(coreUrl: string): string {
  return [
    'const t0 = performance.now();',
    `const core = await import(${JSON.stringify(coreUrl)});`,
    'const t1 = performance.now();',
    'await core.init();',
    'const t2 = performance.now();',
    'const info = core.backendInfo();',
    'console.log(JSON.stringify({ importMs: t1 - t0, initMs: t2 - t1, sinceStartMs: t2, build: info.relaxedSimd ? "relaxed" : "simd" }));',
  ].join('\n');
}

export function timeInitOnce(coreUrl: string): InitSample {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', childSource(coreUrl)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`bench: startup: the child failed (${r.stderr.trim().split('\n').pop() ?? r.status})`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as InitSample;
}

/** Bundles `source` (resolved from this package) with esbuild: minified ESM for browsers; returns raw and gzip -9 sizes. */
export async function bundleSize(entry: string, source: string): Promise<BundleSize> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    stdin: { contents: source, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: 'js' },
    bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
    // Node-only branches import these lazily; a browser bundle leaves them out.
    external: ['node:*'],
  });
  const code = out.outputFiles[0]!.contents;
  return { entry, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length };
}

/**
 * The same bundle with code splitting: the kernels' two wasm builds (SIMD, relaxed SIMD; the
 * shared-memory variant is derived from them at load time) are lazy imports, so a page downloads the
 * entry chunk plus the one build it instantiates. Returns entry + the largest chunk whose name says
 * `relaxed` (what a page on a relaxed-SIMD browser loads), or null when the chunks cannot be told apart.
 */
export async function splitBundleSize(entry: string, source: string): Promise<BundleSize | null> {
  const esbuild = await import('esbuild');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'simdgrad-bundle-'));
  try {
    const out = await esbuild.build({
      stdin: { contents: source, resolveDir: dirname(fileURLToPath(import.meta.url)), loader: 'js', sourcefile: 'entry.js' },
      bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
      external: ['node:*'], splitting: true, outdir: dir, entryNames: 'entry', chunkNames: '[name]-[hash]',
    });
    const files = out.outputFiles;
    const main = files.find((f) => /entry\.js$/.test(f.path));
    const variant = files.filter((f) => /relaxed/.test(f.path)).sort((a, b) => b.contents.length - a.contents.length)[0];
    if (!main || !variant) return null;
    const gz = (b: Uint8Array) => gzipSync(b, { level: 9 }).length;
    return { entry, bytes: main.contents.length + variant.contents.length, gzipBytes: gz(main.contents) + gz(variant.contents) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runStartup(o: { quick: boolean; runs: number; log(line: string): void }): Promise<StartupReport> {
  const machine = await machineInfo();
  o.log(formatMachine(machine));
  const coreUrl = import.meta.resolve('@simdgrad/core');
  timeInitOnce(coreUrl); // warm the OS file cache; not counted
  const samples: InitSample[] = [];
  for (let i = 0; i < o.runs; i++) samples.push(timeInitOnce(coreUrl));
  const stat = (xs: number[]) => ({ bestMs: Math.min(...xs), medianMs: median(xs) });
  const bundles: BundleSize[] = [];
  let bundleNote: string | undefined;
  try {
    bundles.push(await bundleSize("import { init, tensor, nn, optim } from '@simdgrad/core'",
      "export { init, tensor, nn, optim } from '@simdgrad/core';"));
    const split = await splitBundleSize('the same, split: entry chunk + the relaxed-SIMD wasm chunk',
      "export { init, tensor, nn, optim } from '@simdgrad/core';");
    if (split) bundles.push(split);
    bundles.push(await bundleSize("import { loadKernels } from '@simdgrad/kernels' (both wasm builds)",
      "export { loadKernels } from '@simdgrad/kernels';"));
  } catch (e) {
    bundleNote = `bundle not measured: ${(e as Error).message.split('\n')[0]}`;
  }
  const report: StartupReport = {
    bench: 'startup', quick: o.quick, machine, processes: o.runs, samples,
    init: stat(samples.map((s) => s.initMs)), import: stat(samples.map((s) => s.importMs)), bundles, verdicts: [],
  };
  if (bundleNote) report.bundleNote = bundleNote;
  report.verdicts = startupVerdicts(report);
  return report;
}

export function startupVerdicts(r: Pick<StartupReport, 'init' | 'bundles'>): Verdict[] {
  const v: Verdict[] = [];
  v.push(r.init
    ? { target: `init() ≤ ${INIT_TARGET_MS} ms in a fresh process`, pass: r.init.bestMs <= INIT_TARGET_MS, detail: `best ${r.init.bestMs.toFixed(1)} ms, median ${r.init.medianMs.toFixed(1)} ms` }
    : { target: `init() ≤ ${INIT_TARGET_MS} ms in a fresh process`, pass: null, detail: 'nothing measured' });
  // The whole single-file bundle is what the target names; the split figure is shown beside it.
  const b = r.bundles[0];
  v.push(b
    ? { target: `core + kernels ≤ ${BUNDLE_TARGET_KB} KB min+gzip`, pass: b.gzipBytes <= BUNDLE_TARGET_KB * 1024, detail: `${formatKB(b.gzipBytes)} (${formatKB(b.bytes)} minified)` }
    : { target: `core + kernels ≤ ${BUNDLE_TARGET_KB} KB min+gzip`, pass: null, detail: 'not measured' });
  return v;
}

/** Bytes as KB with one decimal (1 KB = 1024 bytes). */
export function formatKB(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

export function formatStartupReport(r: StartupReport): string {
  type Row = { what: string; best: string; median: string };
  const rows: Row[] = [];
  if (r.import) rows.push({ what: "import('@simdgrad/core')", best: `${r.import.bestMs.toFixed(1)} ms`, median: `${r.import.medianMs.toFixed(1)} ms` });
  if (r.init) rows.push({ what: `init() (${r.samples[0]?.build ?? '?'} build, 1 thread)`, best: `${r.init.bestMs.toFixed(1)} ms`, median: `${r.init.medianMs.toFixed(1)} ms` });
  const since = r.samples.map((s) => s.sinceStartMs);
  if (since.length > 0) rows.push({ what: 'process start → init() resolved', best: `${Math.min(...since).toFixed(1)} ms`, median: `${median(since).toFixed(1)} ms` });
  const cols: Column<Row>[] = [
    { header: `startup (${r.processes} fresh processes)`, align: 'left', cell: (x) => x.what },
    { header: 'best', cell: (x) => x.best },
    { header: 'median', cell: (x) => x.median },
  ];
  type BRow = BundleSize;
  const bcols: Column<BRow>[] = [
    { header: 'esbuild bundle (ESM, browser, minified)', align: 'left', cell: (x) => x.entry },
    { header: 'minified', cell: (x) => formatKB(x.bytes) },
    { header: 'gzip -9', cell: (x) => formatKB(x.gzipBytes) },
  ];
  return [
    '',
    formatTable(cols, rows),
    '',
    r.bundles.length > 0 ? formatTable(bcols, r.bundles) : (r.bundleNote ?? 'bundle not measured'),
    '',
    ...r.verdicts.map(formatVerdict),
  ].join('\n');
}
