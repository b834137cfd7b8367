// Full training checkpoints: model + optimizer + scheduler + RNG + epoch in one safetensors file, so a
// run resumes exactly where it stopped. Tensors go in the file's data; the rest is JSON in __metadata__.
import { SimdgradError } from '../errors.js';
import { scope } from '../memory.js';
import type { Module } from '../nn/module.js';
import { generator, tensor } from '../ops/creation.js';
import type { Optimizer, OptimizerStateDict, ParamStateDict } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';
import { load, save } from './safetensors.js';

const KEY = 'simdgrad.checkpoint';

/** Anything with PyTorch-style state dicts of plain data (an LR scheduler). */
export interface Stateful {
  stateDict(): unknown;
  loadStateDict(state: never): void;
}

export interface CheckpointParts {
  model: Module;
  optimizer?: Optimizer | null;
  scheduler?: Stateful | null;
  /** Epochs completed. */
  epoch?: number;
  /** Any JSON-serialisable extras (metrics so far, configuration). */
  extra?: Record<string, unknown>;
}

/**
 * Serialises a training run's state (model, optimizer state, scheduler, the global generator's state and
 * the epoch) into safetensors bytes. Model tensors keep their PyTorch keys under `model.`.
 *
 * @example
 * ```ts
 * await saveFile('run/checkpoint.safetensors', io.saveCheckpoint({ model, optimizer, scheduler, epoch }));
 * ```
 */
export function saveCheckpoint(parts: CheckpointParts): Uint8Array {
  const { model, optimizer, scheduler } = parts;
  return scope(() => {
    const tensors: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = t;
    let opt: { paramGroups: unknown; state: Record<string, Record<string, number>> } | null = null;
    if (optimizer) {
      const sd = optimizer.stateDict();
      const scalars: Record<string, Record<string, number>> = {};
      for (const [idx, st] of Object.entries(sd.state)) {
        scalars[idx] = {};
        for (const [name, v] of Object.entries(st)) {
          if (v instanceof Float32Array) tensors[`optimizer.${idx}.${name}`] = tensor(v);
          else scalars[idx]![name] = v;
        }
      }
      opt = { paramGroups: sd.paramGroups, state: scalars };
    }
    const meta = {
      version: 1,
      epoch: parts.epoch ?? 0,
      optimizer: opt,
      scheduler: scheduler ? scheduler.stateDict() : null,
      rng: generator.getState().map((v) => (Number.isNaN(v) ? null : v)),
      extra: parts.extra ?? {},
    };
    return save(tensors, { [KEY]: JSON.stringify(meta), format: 'pt' });
  });
}

interface CheckpointMeta {
  version: 1;
  epoch: number;
  optimizer: { paramGroups: OptimizerStateDict['paramGroups']; state: Record<string, Record<string, number>> } | null;
  scheduler: unknown;
  rng: (number | null)[];
  extra: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks the structure of the checkpoint's JSON before anything is restored (a corrupt file changes nothing). */
function checkMeta(meta: unknown): CheckpointMeta {
  const bad = (what: string, v: unknown) =>
    new SimdgradError(`loadCheckpoint: the checkpoint metadata is corrupt: ${what} (got ${JSON.stringify(v)?.slice(0, 80)})`);
  if (!isObject(meta)) throw bad('it must be an object', meta);
  if (meta.version !== 1) throw new SimdgradError(`loadCheckpoint: unsupported checkpoint version ${JSON.stringify(meta.version)} (expected 1)`);
  if (!Number.isSafeInteger(meta.epoch) || (meta.epoch as number) < 0) throw bad('"epoch" must be an integer ≥ 0', meta.epoch);
  const opt = meta.optimizer;
  if (opt !== null) {
    if (!isObject(opt) || !Array.isArray(opt.paramGroups) || !isObject(opt.state)) throw bad('"optimizer" must be null or { paramGroups: [...], state: {...} }', opt);
    for (const [idx, scalars] of Object.entries(opt.state as Record<string, unknown>)) {
      if (!/^\d+$/.test(idx) || !isObject(scalars) || !Object.values(scalars).every((v) => typeof v === 'number')) throw bad(`"optimizer.state.${idx}" must be an object of numbers`, scalars);
    }
  }
  const rng = meta.rng;
  if (!Array.isArray(rng) || rng.length !== 5 || !rng.slice(0, 4).every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
    || rng.slice(0, 4).every((v) => v === 0) || !(rng[4] === null || typeof rng[4] === 'number')) {
    throw bad('"rng" must be 4 uint32 words (not all 0) and a spare number or null', rng);
  }
  if (meta.extra !== undefined && !isObject(meta.extra)) throw bad('"extra" must be an object', meta.extra);
  if (!('scheduler' in meta)) throw bad('"scheduler" is missing', undefined);
  return { ...(meta as unknown as CheckpointMeta), extra: (meta.extra as Record<string, unknown> | undefined) ?? {} };
}

/**
 * Restores a checkpoint written by `saveCheckpoint` into the given model, optimizer and scheduler (which
 * must have the same structure), and the global generator. Returns the epoch and extras.
 */
export function loadCheckpoint(bytes: Uint8Array, parts: Omit<CheckpointParts, 'epoch' | 'extra'>):
  { epoch: number; extra: Record<string, unknown> } {
  const file = load(bytes);
  try {
    const raw = file.metadata[KEY];
    if (raw === undefined) throw new SimdgradError(`loadCheckpoint: not a simdgrad checkpoint (no '${KEY}' metadata)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw new SimdgradError(`loadCheckpoint: the checkpoint metadata is not valid JSON (${(e as Error).message})`);
    }
    const meta = checkMeta(parsed);
    const modelState: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(file.tensors)) if (k.startsWith('model.')) modelState[k.slice(6)] = t;
    parts.model.loadStateDict(modelState);
    if (parts.optimizer) {
      if (!meta.optimizer) throw new SimdgradError('loadCheckpoint: the checkpoint has no optimizer state');
      const state: Record<number, ParamStateDict> = {};
      for (const [idx, scalars] of Object.entries(meta.optimizer.state)) state[Number(idx)] = { ...scalars };
      for (const [k, t] of Object.entries(file.tensors)) {
        const m = /^optimizer\.(\d+)\.(.+)$/.exec(k);
        if (m) (state[Number(m[1])] ??= {})[m[2]!] = t.toFloat32Array();
      }
      parts.optimizer.loadStateDict({ state, paramGroups: meta.optimizer.paramGroups });
    }
    if (parts.scheduler) {
      if (meta.scheduler === null) throw new SimdgradError('loadCheckpoint: the checkpoint has no scheduler state');
      parts.scheduler.loadStateDict(meta.scheduler as never);
    }
    generator.setState(meta.rng.map((v) => (v === null ? NaN : v)));
    return { epoch: meta.epoch, extra: meta.extra };
  } finally {
    for (const t of Object.values(file.tensors)) t.dispose();
  }
}
