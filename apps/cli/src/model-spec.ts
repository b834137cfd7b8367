// Models as data: a layer list (JSON) → shapes checked layer by layer → an nn.Sequential whose state-dict
// keys are PyTorch's (`0.weight`, `3.running_mean`, …). The resolved list goes into the model file's
// __metadata__, so eval/predict/export rebuild the model from the file alone.
import { nn } from '@simdgrad/core';
import { CliError } from './errors.js';

/** One layer as written in a config; `in`/`features` are inferred from the previous layer when omitted. */
export interface LayerSpec {
  type: string;
  in?: number;
  out?: number;
  features?: number;
  kernel?: number;
  stride?: number;
  padding?: number;
  p?: number;
  bias?: boolean;
}

const TYPES: Record<string, string> = {
  linear: 'linear', conv2d: 'conv2d', batchnorm1d: 'batchnorm1d', batchnorm2d: 'batchnorm2d',
  maxpool2d: 'maxpool2d', avgpool2d: 'avgpool2d', flatten: 'flatten', dropout: 'dropout',
  relu: 'relu', tanh: 'tanh', sigmoid: 'sigmoid', gelu: 'gelu', silu: 'silu', leakyrelu: 'leakyrelu', elu: 'elu',
};
const KEYS: Record<string, string[]> = {
  linear: ['in', 'out', 'bias'], conv2d: ['in', 'out', 'kernel', 'stride', 'padding', 'bias'],
  batchnorm1d: ['features'], batchnorm2d: ['features'], maxpool2d: ['kernel', 'stride'], avgpool2d: ['kernel', 'stride'],
  dropout: ['p'],
};

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function positiveInt(where: string, key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new CliError(`${where}: "${key}" must be a positive integer (got ${JSON.stringify(v)})`);
  return v;
}

/**
 * Checks a layer list against the per-sample input shape and fills in every inferred size. The last
 * Linear may omit `out`: it becomes `outputs` (the number of classes, or 1 for regression).
 * Throws a CliError naming the layer when shapes do not fit.
 */
export function resolveLayers(layers: unknown, inputShape: readonly number[], outputs: number, source = 'model'): { layers: LayerSpec[]; outputShape: number[] } {
  if (!Array.isArray(layers) || layers.length === 0) throw new CliError(`${source}: "model" must be a non-empty list of layers (e.g. [{"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear"}])`);
  let shape = [...inputShape];
  const out: LayerSpec[] = [];
  const lastLinear = layers.reduce((acc: number, l, i) => (typeof l?.type === 'string' && l.type.toLowerCase() === 'linear' ? i : acc), -1);
  layers.forEach((raw: unknown, i: number) => {
    if (raw === null || typeof raw !== 'object' || typeof (raw as LayerSpec).type !== 'string') {
      throw new CliError(`${source}: layer ${i} must be an object with a "type" (got ${JSON.stringify(raw)})`);
    }
    const spec = raw as LayerSpec;
    const type = TYPES[spec.type.toLowerCase()];
    if (type === undefined) throw new CliError(`${source}: layer ${i} has unknown type "${spec.type}" (types: ${Object.keys(TYPES).join(', ')})`);
    const where = `${source}: layer ${i} (${type})`;
    const allowed = ['type', ...(KEYS[type] ?? [])];
    for (const k of Object.keys(spec)) if (!allowed.includes(k)) throw new CliError(`${where}: unknown key "${k}" (allowed: ${allowed.join(', ')})`);
    const r: LayerSpec = { type };
    switch (type) {
      case 'linear': {
        if (shape.length !== 1) throw new CliError(`${where}: expects a flat input of features but gets shape ${fmt(shape)} (help: add {"type": "flatten"} before it)`);
        if (spec.in !== undefined && spec.in !== shape[0]) throw new CliError(`${where}: "in" is ${spec.in} but its input has ${shape[0]} features (shape ${fmt(shape)})`);
        r.in = shape[0]!;
        r.out = spec.out === undefined && i === lastLinear ? outputs : positiveInt(where, 'out', spec.out);
        if (spec.bias === false) r.bias = false;
        shape = [r.out];
        break;
      }
      case 'conv2d': {
        if (shape.length !== 3) throw new CliError(`${where}: expects an input of shape [channels, height, width] but gets ${fmt(shape)} (help: set "imageShape" in the data section)`);
        if (spec.in !== undefined && spec.in !== shape[0]) throw new CliError(`${where}: "in" is ${spec.in} but its input has ${shape[0]} channels (shape ${fmt(shape)})`);
        r.in = shape[0]!;
        r.out = positiveInt(where, 'out', spec.out);
        r.kernel = positiveInt(where, 'kernel', spec.kernel);
        r.stride = spec.stride === undefined ? 1 : positiveInt(where, 'stride', spec.stride);
        r.padding = spec.padding ?? 0;
        if (!Number.isInteger(r.padding) || r.padding < 0) throw new CliError(`${where}: "padding" must be a non-negative integer (got ${JSON.stringify(spec.padding)})`);
        if (spec.bias === false) r.bias = false;
        const h = Math.floor((shape[1]! + 2 * r.padding - r.kernel) / r.stride) + 1;
        const w = Math.floor((shape[2]! + 2 * r.padding - r.kernel) / r.stride) + 1;
        if (h < 1 || w < 1) throw new CliError(`${where}: kernel ${r.kernel} does not fit its input ${fmt(shape)}`);
        shape = [r.out, h, w];
        break;
      }
      case 'batchnorm1d':
      case 'batchnorm2d': {
        const dims = type === 'batchnorm2d' ? [3] : [1, 2];
        if (!dims.includes(shape.length)) throw new CliError(`${where}: does not fit an input of shape ${fmt(shape)}`);
        if (spec.features !== undefined && spec.features !== shape[0]) throw new CliError(`${where}: "features" is ${spec.features} but its input has ${shape[0]} channels`);
        r.features = shape[0]!;
        break;
      }
      case 'maxpool2d':
      case 'avgpool2d': {
        if (shape.length !== 3) throw new CliError(`${where}: expects an input of shape [channels, height, width] but gets ${fmt(shape)}`);
        r.kernel = positiveInt(where, 'kernel', spec.kernel);
        r.stride = spec.stride === undefined ? r.kernel : positiveInt(where, 'stride', spec.stride);
        const h = Math.floor((shape[1]! - r.kernel) / r.stride) + 1;
        const w = Math.floor((shape[2]! - r.kernel) / r.stride) + 1;
        if (h < 1 || w < 1) throw new CliError(`${where}: kernel ${r.kernel} does not fit its input ${fmt(shape)}`);
        shape = [shape[0]!, h, w];
        break;
      }
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dropout':
        r.p = spec.p ?? 0.5;
        if (typeof r.p !== 'number' || !(r.p >= 0 && r.p < 1)) throw new CliError(`${where}: "p" must be in [0, 1) (got ${JSON.stringify(spec.p)})`);
        break;
      default:
        break;
    }
    out.push(r);
  });
  if (shape.length !== 1 || shape[0] !== outputs) {
    throw new CliError(`${source}: the model outputs shape ${fmt(shape)} per sample but the data needs [${outputs}]${outputs > 1 ? ` (${outputs} classes)` : ''} (help: end with {"type": "linear"} and leave out "out")`);
  }
  return { layers: out, outputShape: shape };
}

/** Builds the nn.Sequential of a resolved layer list. */
export function buildModel(layers: readonly LayerSpec[]): nn.Sequential {
  const modules = layers.map((l): nn.Module => {
    switch (l.type) {
      case 'linear': return new nn.Linear(l.in!, l.out!, { bias: l.bias !== false });
      case 'conv2d': return new nn.Conv2d(l.in!, l.out!, l.kernel!, { stride: l.stride, padding: l.padding, bias: l.bias !== false });
      case 'batchnorm1d': return new nn.BatchNorm1d(l.features!);
      case 'batchnorm2d': return new nn.BatchNorm2d(l.features!);
      case 'maxpool2d': return new nn.MaxPool2d(l.kernel!, { stride: l.stride });
      case 'avgpool2d': return new nn.AvgPool2d(l.kernel!, { stride: l.stride });
      case 'flatten': return new nn.Flatten();
      case 'dropout': return new nn.Dropout(l.p);
      case 'relu': return new nn.ReLU();
      case 'tanh': return new nn.Tanh();
      case 'sigmoid': return new nn.Sigmoid();
      case 'gelu': return new nn.GELU();
      case 'silu': return new nn.SiLU();
      case 'leakyrelu': return new nn.LeakyReLU();
      case 'elu': return new nn.ELU();
      default: throw new CliError(`model: unknown layer type "${l.type}"`);
    }
  });
  return new nn.Sequential(...modules);
}

/** A one-line summary like `linear 64→128, relu, linear 128→10`. */
export function describeLayers(layers: readonly LayerSpec[]): string {
  return layers.map((l) => {
    if (l.type === 'linear' || l.type === 'conv2d') return `${l.type} ${l.in}→${l.out}${l.kernel ? ` k${l.kernel}` : ''}`;
    if (l.type === 'maxpool2d' || l.type === 'avgpool2d') return `${l.type} ${l.kernel}`;
    if (l.type === 'dropout') return `dropout ${l.p}`;
    return l.type;
  }).join(', ');
}
