// Model files: safetensors with PyTorch key names (`0.weight`) and a __metadata__ that describes the
// architecture, input shape, preprocessing and class names, so eval/predict/export need only the file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { io, type Tensor } from '@simdgrad/core';
import type { Preprocessing, Task } from './datasets.js';
import { CliError } from './errors.js';
import { buildModel, type LayerSpec } from './model-spec.js';
import type { nn } from '@simdgrad/core';

export interface ModelInfo {
  name: string;
  task: Task;
  architecture: LayerSpec[];
  /** Per-sample input shape the model takes: [F], or [C, H, W] for convolutional models. */
  inputShape: number[];
  /** For image models: the image size raw inputs (PNG, IDX) are resized/reshaped to. */
  image: { channels: number; height: number; width: number } | null;
  preprocessing: Preprocessing;
  classNames: string[] | null;
  featureNames: string[];
  /** Where the training data came from (a built-in name, with the split seed to rebuild its test split). */
  data: { dataset?: string; labelColumn?: string | number; testFraction?: number; seed: number };
  /** Audio models: the feature settings ({ features: 'spoken-digits', sampleRate, nMels, … }); inputs are WAV files. */
  audio: Record<string, number | string> | null;
}

const JSON_KEYS = ['architecture', 'inputShape', 'image', 'preprocessing', 'classNames', 'featureNames', 'data', 'audio'] as const;

/** The __metadata__ strings of a model file. */
export function modelMetadata(info: ModelInfo, producer: string): Record<string, string> {
  const meta: Record<string, string> = { format: 'pt', producer, name: info.name, task: info.task };
  for (const k of JSON_KEYS) if (k !== 'audio' || info.audio != null) meta[k] = JSON.stringify(info[k]);
  return meta;
}

/** Reads the model description back from __metadata__, or throws naming what is missing. */
export function infoFromMetadata(meta: Record<string, string>, path: string): ModelInfo {
  if (meta.architecture === 'gpt' || meta.architecture === 'transformer-seq2seq') {
    const [kind, use] = meta.architecture === 'gpt' ? ['charlm', `simdgrad sample ${path} --prompt "ROMEO:"`] : ['translate', `simdgrad translate ${path} "I am hungry."`];
    throw new CliError(`${path}: a ${kind} language model; this command takes the classification and regression models of train (help: ${use})`);
  }
  if (meta.architecture === undefined) {
    throw new CliError(`${path}: no simdgrad architecture in its __metadata__ (help: use the model.safetensors that \`simdgrad train --out DIR\` writes)`);
  }
  const info: Record<string, unknown> = { name: meta.name ?? 'model', task: meta.task === 'regression' ? 'regression' : 'classification' };
  for (const k of JSON_KEYS) {
    try {
      info[k] = meta[k] === undefined ? null : JSON.parse(meta[k]!);
    } catch {
      throw new CliError(`${path}: __metadata__ "${k}" is not valid JSON`);
    }
  }
  info.preprocessing ??= {};
  info.featureNames ??= [];
  info.data ??= { seed: 0 };
  return info as unknown as ModelInfo;
}

/** Reads a safetensors file with a clear error for a missing or malformed one. */
export function readSafetensors(path: string): io.Safetensors {
  if (!existsSync(path)) throw new CliError(`no such file (${path})`);
  if (statSync(path).isDirectory()) {
    const inside = `${path.replace(/\/$/, '')}/model.safetensors`;
    if (existsSync(inside)) return readSafetensors(inside);
    throw new CliError(`${path} is a directory without a model.safetensors`);
  }
  try {
    return io.load(readFileSync(path));
  } catch (e) {
    throw new CliError(`${path}: not a valid safetensors file (${(e as Error).message.replace(/^load: /, '')})`);
  }
}

/** Loads a model file (or a training checkpoint) into a module in eval mode. */
export function loadModel(path: string, file = readSafetensors(path)): { model: nn.Sequential; info: ModelInfo; tensors: Record<string, Tensor> } {
  const { tensors, metadata } = file;
  const info = infoFromMetadata(metadata, path);
  // a checkpoint stores the model under "model.", beside the optimizer state
  const own: Record<string, Tensor> = {};
  const isCheckpoint = metadata.checkpoint !== undefined;
  for (const [k, t] of Object.entries(tensors)) {
    if (!isCheckpoint) own[k] = t;
    else if (k.startsWith('model.')) own[k.slice(6)] = t;
  }
  const model = buildModel(info.architecture);
  try {
    model.loadStateDict(own);
  } catch (e) {
    throw new CliError(`${path}: the weights do not fit the architecture in its metadata (${(e as Error).message.replace(/^loadStateDict: /, '')})`);
  }
  model.eval();
  return { model, info, tensors: own };
}
