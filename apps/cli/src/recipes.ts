// Run configurations: the built-in recipes and JSON configs, both resolved to one RunConfig that the
// checkpoint stores, so `--resume` rebuilds exactly the same run.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { DataSpec, Task } from './datasets.js';
import { CliError, EXIT } from './errors.js';
import type { LayerSpec } from './model-spec.js';

export interface OptimizerSpec {
  type: string;
  lr: number;
  [option: string]: unknown;
}

export type ScheduleSpec =
  | { type: 'step'; stepSize: number; gamma?: number }
  | { type: 'cosine'; tMax?: number }
  | { type: 'onecycle'; maxLr?: number };

export interface RunConfig {
  name: string;
  task: Task;
  data: DataSpec;
  model: LayerSpec[];
  optimizer: OptimizerSpec;
  schedule: ScheduleSpec | null;
  epochs: number;
  batchSize: number;
  seed: number;
  /** linreg only: full-batch, mini-batch or sgd. */
  mode?: string;
  /** DP-SGD (train --dp-noise/--dp-epsilon): kept in the checkpoint so --resume stays private. */
  privacy?: PrivacySpec;
}

export interface PrivacySpec {
  /** σ, or null when found from targetEpsilon. */
  noiseMultiplier: number | null;
  targetEpsilon: number | null;
  maxGradNorm: number;
  delta: number | null;
}

export const LINREG_MODES: Record<string, { batchSize: number; lr: number; epochs: number }> = {
  'full-batch': { batchSize: 100, lr: 0.5, epochs: 500 },
  'mini-batch': { batchSize: 10, lr: 0.1, epochs: 200 },
  sgd: { batchSize: 1, lr: 0.01, epochs: 100 },
};

const mlp = (...hidden: number[]): LayerSpec[] => [...hidden.flatMap((h) => [{ type: 'linear', out: h }, { type: 'relu' }]), { type: 'linear' }];

export const RECIPES: Record<string, { about: string; make: (mode?: string) => Omit<RunConfig, 'seed'> }> = {
  linreg: {
    about: 'fit y = 2x + 1 with one Linear(1, 1) by gradient descent (--mode full-batch|mini-batch|sgd)',
    make: (mode = 'full-batch') => {
      const m = LINREG_MODES[mode];
      if (m === undefined) throw new CliError(`train: unknown --mode "${mode}" for linreg (modes: ${Object.keys(LINREG_MODES).join(', ')})`, EXIT.usage);
      return {
        name: 'linreg', mode, task: 'regression', data: { dataset: 'linreg', valFraction: 0, testFraction: 0, standardize: false },
        model: [{ type: 'linear', out: 1 }], optimizer: { type: 'sgd', lr: m.lr }, schedule: null, epochs: m.epochs, batchSize: m.batchSize,
      };
    },
  },
  'digits-mlp': {
    about: 'an MLP 64-128-64-10 on the bundled 8×8 digits (Adam)',
    make: () => ({
      name: 'digits-mlp', task: 'classification', data: { dataset: 'digits', testFraction: 0.2, valFraction: 0.1, standardize: true },
      model: mlp(128, 64), optimizer: { type: 'adam', lr: 1e-3 }, schedule: null, epochs: 20, batchSize: 32,
    }),
  },
  iris: {
    about: 'an MLP 4-16-3 on the bundled iris flowers (Adam)',
    make: () => ({
      name: 'iris', task: 'classification', data: { dataset: 'iris', testFraction: 0.2, valFraction: 0.1, standardize: true },
      model: mlp(16), optimizer: { type: 'adam', lr: 1e-2 }, schedule: null, epochs: 60, batchSize: 16,
    }),
  },
  'fashion-mlp': {
    about: 'an MLP 784-256-128-10 on Fashion-MNIST (Adam; needs the train split on disk)',
    make: () => ({
      name: 'fashion-mlp', task: 'classification', data: { dataset: 'fashion-mnist', valFraction: 0.1, standardize: false },
      model: mlp(256, 128), optimizer: { type: 'adam', lr: 1e-3 }, schedule: null, epochs: 10, batchSize: 128,
    }),
  },
  'fashion-cnn': {
    about: 'a CNN (conv-bn-pool ×2, dense) on Fashion-MNIST (Adam + OneCycle)',
    make: () => ({
      name: 'fashion-cnn', task: 'classification', data: { dataset: 'fashion-mnist', valFraction: 0.1, standardize: false },
      model: [
        { type: 'conv2d', out: 32, kernel: 3, padding: 1 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
        { type: 'conv2d', out: 64, kernel: 3, padding: 1 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 },
        { type: 'flatten' }, { type: 'dropout', p: 0.3 }, { type: 'linear', out: 128 }, { type: 'relu' }, { type: 'linear' },
      ],
      optimizer: { type: 'adam', lr: 1e-3 }, schedule: { type: 'onecycle', maxLr: 3e-3 }, epochs: 5, batchSize: 64,
    }),
  },
  'spoken-digits': {
    about: 'a CNN on 40×64 log-mel spectrograms of spoken digits (FSDD WAVs, augmented; predict takes a .wav)',
    make: () => ({
      // the layers of audio.spokenDigitModel(), so the same weights load in either
      name: 'spoken-digits', task: 'classification', data: { dataset: 'fsdd', valFraction: 0, standardize: false },
      model: [
        ...[16, 32, 64].flatMap((out): LayerSpec[] => [{ type: 'conv2d', out, kernel: 3, padding: 1 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 }]),
        { type: 'flatten' }, { type: 'dropout', p: 0.3 }, { type: 'linear' },
      ],
      optimizer: { type: 'adam', lr: 1e-3, weightDecay: 1e-4 }, schedule: { type: 'onecycle', maxLr: 3e-3 }, epochs: 20, batchSize: 32,
    }),
  },
};

const CONFIG_KEYS = ['name', 'task', 'data', 'model', 'optimizer', 'schedule', 'epochs', 'batchSize', 'seed'];
const DATA_KEYS = ['dataset', 'csv', 'labelColumn', 'idx', 'testCsv', 'testIdx', 'testFraction', 'valFraction', 'standardize', 'scale', 'limit', 'classNames'];

/** Whether a train/lr-find argument names a config file rather than a recipe. */
export function looksLikeConfig(arg: string): boolean {
  return arg.endsWith('.json') || arg.includes('/') || arg.includes('\\') || (existsSync(arg) && statSync(arg).isFile());
}

/** Reads and checks a JSON config; relative data paths are resolved against the config's directory. */
export function readConfig(path: string): Omit<RunConfig, 'seed'> & { seed?: number } {
  if (!existsSync(path)) throw new CliError(`train: no such file (${path})`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CliError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CliError(`${path}: expected a JSON object with "data", "model", "optimizer", "epochs"`);
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!CONFIG_KEYS.includes(k)) throw new CliError(`${path}: unknown key "${k}" (keys: ${CONFIG_KEYS.join(', ')})`);
  const d = c.data as Record<string, unknown> | undefined;
  if (d === undefined || d === null || typeof d !== 'object') throw new CliError(`${path}: "data" must be an object, e.g. {"csv": "train.csv", "labelColumn": "label"}`);
  for (const k of Object.keys(d)) if (!DATA_KEYS.includes(k)) throw new CliError(`${path}: unknown key "data.${k}" (keys: ${DATA_KEYS.join(', ')})`);
  const base = dirname(resolve(path));
  const abs = (p: unknown, key: string) => {
    if (typeof p === 'string') return resolve(base, p);
    if (p !== null && typeof p === 'object' && typeof (p as { images?: unknown }).images === 'string' && typeof (p as { labels?: unknown }).labels === 'string') {
      const q = p as { images: string; labels: string };
      return { images: resolve(base, q.images), labels: resolve(base, q.labels) };
    }
    throw new CliError(`${path}: "data.${key}" must be a path${key.toLowerCase().includes('idx') ? ' prefix or {"images": …, "labels": …}' : ''}`);
  };
  if (d.classNames !== undefined && (!Array.isArray(d.classNames) || d.classNames.length === 0 || !d.classNames.every((n) => typeof n === 'string'))) {
    throw new CliError(`${path}: "data.classNames" must be a non-empty list of strings (got ${JSON.stringify(d.classNames)})`);
  }
  const dataSpec: DataSpec = { ...(d as DataSpec) };
  for (const key of ['csv', 'testCsv'] as const) if (d[key] !== undefined) dataSpec[key] = abs(d[key], key) as string;
  for (const key of ['idx', 'testIdx'] as const) if (d[key] !== undefined) dataSpec[key] = abs(d[key], key);
  const task = c.task ?? (dataSpec.dataset === 'diabetes' ? 'regression' : 'classification');
  if (task !== 'classification' && task !== 'regression') throw new CliError(`${path}: "task" must be "classification" or "regression" (got ${JSON.stringify(task)})`);
  dataSpec.task = task;
  const opt = c.optimizer ?? { type: 'adam', lr: 1e-3 };
  if (opt === null || typeof opt !== 'object' || typeof (opt as OptimizerSpec).type !== 'string') throw new CliError(`${path}: "optimizer" must be an object like {"type": "adam", "lr": 0.001}`);
  const num = (key: string, dflt: number) => {
    const v = c[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < (key === 'seed' ? 0 : 1)) throw new CliError(`${path}: "${key}" must be a ${key === 'seed' ? 'non-negative' : 'positive'} integer (got ${JSON.stringify(v)})`);
    return v;
  };
  return {
    name: typeof c.name === 'string' ? c.name : basename(path).replace(/\.json$/, ''),
    task, data: dataSpec, model: c.model as LayerSpec[],
    optimizer: { ...(opt as OptimizerSpec), lr: (opt as OptimizerSpec).lr ?? 1e-3 }, schedule: (c.schedule as ScheduleSpec | undefined) ?? null,
    epochs: num('epochs', 10), batchSize: num('batchSize', 32), seed: c.seed === undefined ? undefined : num('seed', 0),
  };
}
