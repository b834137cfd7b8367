// The CLI under bad input and numerical faults:
// - JSON configs fuzzed through the config reader and run setup as functions (readConfig + prepareRun,
//   thousands of cases): each loads or throws a CliError/SimdgradError, never another exception;
//   then a sample through the built CLI: exit 0 or exit 1 with exactly one line on stderr.
// - a NaN in the data or a diverging lr stops training with a one-line message (and --detect-anomaly
//   names the op), without writing a checkpoint.
// SIMDGRAD_FUZZ_LONG=1 runs 25× more cases.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, init, liveTensorCount, SimdgradError } from '@simdgrad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../src/errors.js';
import { readConfig } from '../src/recipes.js';
import { prepareRun } from '../src/run.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CLI = join(ROOT, 'apps/cli/dist/main.js');
const LONG = process.env.SIMDGRAD_FUZZ_LONG === '1';
let dir = '';

interface Result { code: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, timeout: 60_000, env: { ...process.env, CI: '1' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** mulberry32 (the CLI test keeps to the package's public entry, so it has its own small PRNG). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES: unknown[] = [
  null, true, false, 0, -1, 1, 2, 0.5, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 53, 1.5, '', 'x', 'linear', 'adam', 'label', 'cosine', 'onecycle',
  [], [0], [{ type: 'linear' }], [{ type: 'conv2d', out: 2, kernel: 3 }], {}, { type: 'step' }, { type: 'sgd', lr: 0.1 }, { type: 'relu' },
];
const KEYS = ['name', 'task', 'data', 'model', 'optimizer', 'schedule', 'epochs', 'batchSize', 'seed', 'csv', 'labelColumn', 'testFraction',
  'valFraction', 'standardize', 'limit', 'classNames', 'dataset', 'type', 'lr', 'out', 'in', 'kernel', 'stride', 'padding', 'p', 'bias',
  'stepSize', 'gamma', 'tMax', 'maxLr', 'momentum', 'betas', 'weightDecay', 'eps', 'testCsv', 'scale'];

/** Replaces, deletes or adds 1–3 values anywhere in a JSON tree. */
function mutateConfig(next: () => number, config: unknown): unknown {
  const root = structuredClone(config);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  for (let r = 0; r < 1 + Math.floor(next() * 3); r++) {
    const slots: [Record<string | number, unknown>, string | number][] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach((x, i) => { slots.push([v as unknown as Record<number, unknown>, i]); walk(x); });
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { slots.push([v as Record<string, unknown>, k]); walk(x); }
    };
    walk(root);
    if (slots.length === 0) break;
    const [parent, key] = pick(slots);
    const c = next();
    if (c < 0.15 && !Array.isArray(parent)) delete parent[key];
    else if (c < 0.3 && !Array.isArray(parent)) parent[pick(KEYS)] = structuredClone(pick(VALUES));
    else if (c < 0.45 && typeof parent[key] === 'number') parent[key] = pick([(parent[key] as number) + 1, -(parent[key] as number), (parent[key] as number) * 1e6, 0, NaN]);
    else parent[key] = structuredClone(pick(VALUES));
  }
  return root;
}

const SEEDS: unknown[] = [
  { data: { csv: 'flowers.csv', labelColumn: 'species', testFraction: 0.2 }, model: [{ type: 'linear', out: 8 }, { type: 'relu' }, { type: 'linear' }],
    optimizer: { type: 'adam', lr: 0.01 }, schedule: { type: 'cosine' }, epochs: 2, batchSize: 4 },
  { data: { csv: 'flowers.csv', labelColumn: 0, valFraction: 0.2, standardize: false }, task: 'regression', model: [{ type: 'linear', out: 4 }, { type: 'tanh' }, { type: 'dropout', p: 0.1 }, { type: 'linear' }],
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, schedule: { type: 'step', stepSize: 1, gamma: 0.5 }, epochs: 1, batchSize: 2, seed: 3 },
  { data: { dataset: 'iris', limit: 40 }, model: [{ type: 'batchnorm1d' }, { type: 'linear', out: 6 }, { type: 'gelu' }, { type: 'linear' }],
    optimizer: { type: 'rmsprop', lr: 0.01 }, schedule: { type: 'onecycle', maxLr: 0.05 }, epochs: 1, batchSize: 8 },
  { name: 'img', data: { csv: 'flowers.csv', testCsv: 'flowers.csv', labelColumn: 'species' }, model: [{ type: 'linear', out: 3, bias: false }],
    optimizer: { type: 'adagrad', lr: 0.1 }, epochs: 1, batchSize: 3 },
];

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`build the CLI first: pnpm --filter @simdgrad/cli build (${CLI} is missing)`);
  await init();
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-cli-rel-'));
  const rows = ['a,b,c,species'];
  for (let i = 0; i < 24; i++) rows.push(`${(i % 7) * 0.5},${(i % 5) - 2},${i / 10},${['setosa', 'versicolor', 'virginica'][i % 3]}`);
  writeFileSync(join(dir, 'flowers.csv'), `${rows.join('\n')}\n`);
  writeFileSync(join(dir, 'nan.csv'), 'a,b,y\n1,2,3\n2,NaN,4\n3,4,5\n4,5,6\n5,6,7\n6,7,8\n');
  writeFileSync(join(dir, 'nan.json'), JSON.stringify({ data: { csv: 'nan.csv', labelColumn: 'y', testFraction: 0, valFraction: 0 }, task: 'regression', model: [{ type: 'linear' }], epochs: 2, batchSize: 2 }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('simdgrad reliability', () => {
  it('fuzzed JSON configs: readConfig + prepareRun load or throw CliError/SimdgradError, never anything else', async () => {
    const next = rng(0xc0f1);
    const count = LONG ? 25 * 1500 : 1500;
    const failures: string[] = [];
    let loaded = 0, rejected = 0;
    const path = join(dir, 'fuzz.json');
    for (let i = 0; i < count; i++) {
      const seed = SEEDS[Math.floor(next() * SEEDS.length)]!;
      // mostly structure-aware, sometimes a broken text (truncated JSON)
      let text = JSON.stringify(mutateConfig(next, seed));
      if (next() < 0.1) text = text.slice(0, Math.floor(next() * text.length));
      writeFileSync(path, text);
      const t0 = performance.now();
      try {
        const base = readConfig(path);
        const r = await prepareRun({ ...base, seed: base.seed ?? 0 });
        loaded++;
        // free the run (big fuzzed layers would otherwise pile up in wasm memory)
        const splits = [r.train, r.val, r.test, r.loaded.train, r.loaded.test];
        for (const t of [...r.model.parameters(), ...Object.values(r.model.stateDict()), ...splits.flatMap((sp) => (sp ? [sp.x, sp.y] : []))]) t.dispose();
      } catch (e) {
        if (e instanceof CliError || e instanceof SimdgradError) {
          rejected++;
          if (e.message.includes('\n') && failures.length < 10) failures.push(`case ${i}: multi-line message: ${e.message} in ${text}`);
        } else if (failures.length < 10) {
          failures.push(`case ${i}: ${(e as Error)?.name}: ${(e as Error)?.message} in ${text}\n${(e as Error)?.stack?.split('\n').slice(1, 3).join('\n')}`);
        }
      }
      const ms = performance.now() - t0;
      if (ms > 30_000 && failures.length < 10) failures.push(`case ${i}: took ${ms.toFixed(0)} ms: ${text}`);
    }
    console.log(`config fuzz (readConfig + prepareRun): ${count} cases, ${loaded} loaded, ${rejected} rejected with CliError/SimdgradError, ${failures.length} failures; ` +
      `wasm memory ${(getBackend().heap.stats().memoryBytes / 2 ** 20).toFixed(0)} MiB, ${liveTensorCount()} live tensors at the end`);
    expect(failures).toEqual([]);
  });

  it('regression the fuzzer found: a non-list "data.classNames" is a CliError (was a TypeError in readCsv)', () => {
    const path = join(dir, 'classnames.json');
    writeFileSync(path, JSON.stringify({ data: { csv: 'flowers.csv', labelColumn: 'species', classNames: { type: 'step' } }, model: [{ type: 'linear' }] }));
    expect(() => readConfig(path)).toThrow(CliError);
    expect(() => readConfig(path)).toThrow(`${path}: "data.classNames" must be a non-empty list of strings (got {"type":"step"})`);
  });

  it('a sample of fuzzed configs through the built CLI: exit 0, or exit 1/2 with one line on stderr', async () => {
    const next = rng(0xc11);
    const count = LONG ? 400 : 16;
    const cases = Array.from({ length: count }, (_, i) => {
      let text = JSON.stringify(mutateConfig(next, SEEDS[i % SEEDS.length]));
      if (next() < 0.1) text = text.slice(0, Math.floor(next() * text.length));
      writeFileSync(join(dir, `cli-${i}.json`), text);
      return text;
    });
    const results: Result[] = [];
    for (let i = 0; i < count; i += 4) {
      results.push(...await Promise.all(cases.slice(i, i + 4).map((_, k) => run('train', `cli-${i + k}.json`, '--epochs', '1', '--out', `out-${i + k}`))));
    }
    const bad = results.flatMap((r, i) => {
      const lines = r.stderr.trim().split('\n').filter((l) => l !== '');
      if (r.code === 0) return [];
      if ((r.code === 1 || r.code === 2) && lines.length === 1 && /^simdgrad( train)?: /.test(lines[0]!) && !lines[0]!.includes('internal error')) return [];
      return [`case ${i} (exit ${r.code}): ${r.stderr.trim()} for ${cases[i]}`];
    });
    console.log(`config fuzz (built CLI): ${count} cases, ${results.filter((r) => r.code === 0).length} trained, ${results.filter((r) => r.code !== 0).length} rejected with one line, ${bad.length} failures`);
    expect(bad).toEqual([]);
  });

  it('a NaN in the data stops training with one line; --detect-anomaly names where it came from; no checkpoint is written', async () => {
    const plain = await run('train', 'nan.json', '--out', 'nan-plain');
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim()).toBe('simdgrad train: the loss became NaN at epoch 1, step 1 (help: lower --lr, or rerun with --detect-anomaly to name the op that made it); the last checkpoint was not overwritten');
    const detect = await run('train', 'nan.json', '--out', 'nan-detect', '--detect-anomaly');
    expect(detect.code).toBe(1);
    expect(detect.stderr.trim().split('\n')).toHaveLength(1);
    expect(detect.stderr).toMatch(/^simdgrad train: stopped at epoch 1, step 1: detectAnomaly: input 0 of matmul already has NaN \(\d+ of \d+ elements, shape \[2,2\]; a leaf tensor \(data or a parameter\)\)/);
    for (const d of ['nan-plain', 'nan-detect']) expect(existsSync(join(dir, d, 'checkpoint.safetensors'))).toBe(false);
  });

  it('a diverging learning rate: the loss check stops it, and --detect-anomaly names the op that overflowed', async () => {
    const [plain, detect] = await Promise.all([
      run('train', 'linreg', '--lr', '1e30', '--epochs', '3', '--out', 'lr-plain'),
      run('train', 'linreg', '--lr', '1e30', '--epochs', '3', '--out', 'lr-detect', '--detect-anomaly'),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim()).toMatch(/^simdgrad train: the loss became (Infinity|NaN) at epoch 2, step 1 \(help: lower --lr, or rerun with --detect-anomaly/);
    expect(detect.code).toBe(1);
    expect(detect.stderr.trim()).toMatch(/^simdgrad train: stopped at epoch 2, step 1: detectAnomaly: \w+ produced (Inf|NaN)/);
    expect(detect.stderr.trim().split('\n')).toHaveLength(1);
  });
});
