// nn.functional: layers and losses as functions of tensors, composed from the core ops (so their
// gradients come from the primitives' rules). Modules in nn/ are thin wrappers around these.
import { SimdgradError, fmtShape } from '../errors.js';
import { generator } from '../ops/creation.js';
import { empty } from '../ops/core.js';
import { where } from '../ops/elementwise.js';
import { Tensor } from '../tensor.js';
import { noGrad } from '../autograd/graph.js';
import { copyInto } from './module.js';

export type Reduction = 'mean' | 'sum' | 'none';
export { conv2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, type Conv2dOptions, type MaxPool2dOptions, type AvgPool2dOptions } from '../ops/conv.js';

function checkTensor(op: string, t: unknown, what: string): Tensor {
  if (!(t instanceof Tensor)) throw new SimdgradError(`${op}: ${what} must be a tensor (got ${t === null ? 'null' : typeof t})`);
  t.assertAlive(op);
  return t;
}

function reduce(op: string, loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'mean') return loss.mean();
  if (reduction === 'sum') return loss.sum();
  if (reduction === 'none') return loss;
  throw new SimdgradError(`${op}: reduction must be 'mean', 'sum' or 'none' (got ${JSON.stringify(reduction)})`);
}

/**
 * y = x·wᵀ + b, with w of shape [out, in] as in PyTorch.
 *
 * @example
 * ```ts
 * const y = nn.functional.linear(x, w, b); // x [N, in] → y [N, out]
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor('linear', x, 'input');
  checkTensor('linear', weight, 'weight');
  if (weight.ndim !== 2) throw new SimdgradError(`linear: weight must be 2-D [out, in] (got ${fmtShape(weight.shape)})`);
  const inF = weight.shape[1]!;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    throw new SimdgradError(`linear: input ${fmtShape(x.shape)} does not fit weight ${fmtShape(weight.shape)} (last dim ${x.shape[x.ndim - 1]} ≠ in_features ${inF})`);
  }
  const y = x.matmul(weight.transpose(0, 1));
  if (bias === undefined || bias === null) return y;
  checkTensor('linear', bias, 'bias');
  if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) {
    throw new SimdgradError(`linear: bias must be [${weight.shape[0]}] (got ${fmtShape(bias.shape)})`);
  }
  return y.add(bias);
}

export function softmax(x: Tensor, dim = -1): Tensor {
  return checkTensor('softmax', x, 'input').softmax(dim);
}

export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return checkTensor('logSoftmax', x, 'input').logSoftmax(dim);
}

export function relu(x: Tensor): Tensor { return x.relu(); }
export function sigmoid(x: Tensor): Tensor { return x.sigmoid(); }
export function tanh(x: Tensor): Tensor { return x.tanh(); }
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor { return x.gelu(approximate); }
export function silu(x: Tensor): Tensor { return x.silu(); }
export function elu(x: Tensor, alpha = 1): Tensor { return x.elu(alpha); }
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor { return x.leakyRelu(negativeSlope); }

/**
 * Zeroes each element with probability p while training and scales the rest by 1/(1-p); identity in eval.
 * The mask comes from the global seeded generator.
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkTensor('dropout', x, 'input');
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new SimdgradError(`dropout: p must be in [0, 1] (got ${p})`);
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  const mask = empty(x.shape);
  const v = mask.backend.heap.views().f32;
  const start = mask.ptr >>> 2;
  const scale = 1 / (1 - p);
  for (let i = 0; i < mask.size; i++) v[start + i] = generator.uniform() >= p ? scale : 0;
  const out = x.mul(mask);
  if (out.node === null) mask.dispose();
  return out;
}

/** Layer normalisation over the trailing dims given by `normalizedShape`. */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkTensor('layerNorm', x, 'input');
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const tail = x.shape.slice(x.ndim - shape.length);
  if (shape.length > x.ndim || tail.some((d, i) => d !== shape[i])) {
    throw new SimdgradError(`layerNorm: normalizedShape ${fmtShape(shape)} does not match the trailing dims of the input ${fmtShape(x.shape)}`);
  }
  if (typeof eps !== 'number' || !(eps >= 0 && eps < Infinity)) throw new SimdgradError(`layerNorm: eps must be a finite number ≥ 0 (got ${eps})`);
  const dims = shape.map((_, i) => x.ndim - shape.length + i);
  const mu = x.mean(dims, true);
  const xc = x.sub(mu);
  const variance = xc.square().mean(dims, true);
  let y = xc.mul(variance.add(eps).rsqrt());
  if (weight) y = y.mul(checkTensor('layerNorm', weight, 'weight'));
  if (bias) y = y.add(checkTensor('layerNorm', bias, 'bias'));
  return y;
}

/** Rows of `weight` [N, D] picked by int32 indices of any shape → [...indices.shape, D]. */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  checkTensor('embedding', indices, 'indices');
  checkTensor('embedding', weight, 'weight');
  if (weight.ndim !== 2) throw new SimdgradError(`embedding: weight must be [num_embeddings, dim] (got ${fmtShape(weight.shape)})`);
  const flat = indices.reshape([-1]);
  return weight.indexSelect(0, flat).reshape([...indices.shape, weight.shape[1]!]);
}

/**
 * Batch normalisation over every dim but 1 (channels). In training (or without running stats) it uses
 * the batch statistics and, when running stats are given, updates them in place:
 * running = (1 − momentum)·running + momentum·batch (the variance unbiased), as PyTorch.
 */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight?: Tensor | null,
  bias?: Tensor | null, training = false, momentum = 0.1, eps = 1e-5): Tensor {
  checkTensor('batchNorm', x, 'input');
  if (x.ndim < 2) throw new SimdgradError(`batchNorm: expected an input with ≥ 2 dims [N, C, …] (got ${fmtShape(x.shape)})`);
  if (typeof eps !== 'number' || !(eps >= 0 && eps < Infinity)) throw new SimdgradError(`batchNorm: eps must be a finite number ≥ 0 (got ${eps})`);
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new SimdgradError(`batchNorm: momentum must be in [0, 1] (got ${momentum})`);
  const c = x.shape[1]!;
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = x.shape.map((d, i) => (i === 1 ? c : 1));
  let mean: Tensor, variance: Tensor;
  if (training) {
    const count = x.size / c;
    if (count <= 1) throw new SimdgradError(`batchNorm: expected more than 1 value per channel when training (got input ${fmtShape(x.shape)})`);
    mean = x.mean(dims, true);
    variance = x.sub(mean).square().mean(dims, true);
    if (runningMean && runningVar) {
      noGrad(() => {
        const newMean = runningMean.mul(1 - momentum).add(mean.reshape([c]).mul(momentum));
        const newVar = runningVar.mul(1 - momentum).add(variance.reshape([c]).mul(momentum * count / (count - 1)));
        copyInto(runningMean, newMean);
        copyInto(runningVar, newVar);
        newMean.dispose();
        newVar.dispose();
      });
    }
  } else {
    if (!runningMean || !runningVar) throw new SimdgradError('batchNorm: running statistics are needed when not training');
    mean = runningMean.reshape(bshape);
    variance = runningVar.reshape(bshape);
  }
  let y = x.sub(mean).mul(variance.add(eps).rsqrt());
  if (weight) y = y.mul(weight.reshape(bshape));
  if (bias) y = y.add(bias.reshape(bshape));
  return y;
}

function checkTargets(op: string, input: Tensor, target: unknown): Tensor {
  const t = checkTensor(op, target, 'target');
  if (t.dtype !== 'int32') throw new SimdgradError(`${op}: target must hold int32 class indices (got ${t.dtype}) (help: tensor(labels, { dtype: 'int32' }))`);
  if (input.ndim < 1) throw new SimdgradError(`${op}: input must be [N, C] or [C] (got ${fmtShape(input.shape)})`);
  const expected = input.ndim === 1 ? [] : [input.shape[0]!, ...input.shape.slice(2)];
  if (t.ndim !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new SimdgradError(`${op}: target shape ${fmtShape(t.shape)} does not fit input ${fmtShape(input.shape)} (expected ${fmtShape(expected)})`);
  }
  return t;
}

export interface NllOptions {
  reduction?: Reduction;
  /** Targets equal to this contribute nothing (and are not counted in the mean). */
  ignoreIndex?: number;
  /** Per-class weights [C]. */
  weight?: Tensor | null;
}

/** Moves the class dim last and flattens: [N, C, d…] → [N·d…, C]; targets → [N·d…]. */
function flattenClasses(input: Tensor, target: Tensor): [Tensor, Tensor] {
  if (input.ndim === 1) return [input.unsqueeze(0), target.reshape([1])];
  if (input.ndim === 2) return [input, target];
  const c = input.shape[1]!;
  const moved = input.permute([0, ...input.shape.slice(2).map((_, i) => i + 2), 1]);
  return [moved.reshape([-1, c]), target.reshape([-1])];
}

/** Negative log-likelihood of class indices given log-probabilities [N, C] (or [N, C, d…]). */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllOptions = {}): Tensor {
  checkTensor('nllLoss', logProbs, 'input');
  checkTargets('nllLoss', logProbs, target);
  const reduction = options.reduction ?? 'mean';
  const [lp, tg] = flattenClasses(logProbs, target);
  return nllFlat('nllLoss', lp, tg, reduction, options, target.shape);
}

function nllFlat(op: string, lp: Tensor, tg: Tensor, reduction: Reduction, options: NllOptions, targetShape: readonly number[], smoothing = 0): Tensor {
  const c = lp.shape[1]!;
  const ignore = options.ignoreIndex;
  let safeTarget = tg;
  let keepMask: Tensor | null = null;
  if (ignore !== undefined) {
    const tf = tg.float();
    keepMask = tf.ne(ignore);
    safeTarget = where(keepMask, tf, 0).int();
  }
  let picked: Tensor;
  try {
    picked = lp.gather(1, safeTarget.unsqueeze(1)).squeeze(1).neg();
  } catch (e) {
    if (!(e instanceof SimdgradError)) throw e;
    throw new SimdgradError(`${op}: a target class is out of range for ${c} classes (${e.message}) (help: targets are class indices 0…${c - 1})`);
  }
  let w: Tensor | null = null;
  if (options.weight) {
    const weight = checkTensor(op, options.weight, 'weight');
    if (weight.ndim !== 1 || weight.shape[0] !== c) throw new SimdgradError(`${op}: weight must be [${c}] (got ${fmtShape(weight.shape)})`);
    w = weight.indexSelect(0, safeTarget);
    picked = picked.mul(w);
  }
  if (smoothing > 0) {
    // NOTE: label smoothing mixes the target with the uniform distribution: (1-ε)·nll + ε·mean_c(-log p_c)
    let uniform = lp.mean(1).neg();
    if (w !== null) uniform = lp.mul(options.weight!).mean(1).neg();
    picked = picked.mul(1 - smoothing).add(uniform.mul(smoothing));
  }
  if (keepMask !== null) picked = picked.mul(keepMask);
  if (reduction === 'none') return picked.reshape([...targetShape]);
  if (reduction === 'sum') return picked.sum();
  if (reduction !== 'mean') return reduce(op, picked, reduction);
  // mean over the counted targets (weighted as PyTorch does)
  let denom: Tensor | number = tg.size;
  if (w !== null) denom = keepMask !== null ? w.mul(keepMask).sum() : w.sum();
  else if (keepMask !== null) denom = keepMask.sum();
  return picked.sum().div(denom);
}

export interface CrossEntropyOptions extends NllOptions {
  /** Mixes the one-hot target with the uniform distribution (0 = off). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits [N, C] (or [N, C, d…], or [C]) and int32 class indices, with a
 * numerically stable log-softmax.
 *
 * @example
 * ```ts
 * const loss = nn.functional.crossEntropy(logits, labels); // labels: int32 [N]
 * ```
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', logits, 'input');
  checkTargets('crossEntropy', logits, target);
  const smoothing = options.labelSmoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1)) {
    throw new SimdgradError(`crossEntropy: labelSmoothing must be in [0, 1] (got ${smoothing})`);
  }
  const [lg, tg] = flattenClasses(logits, target);
  return nllFlat('crossEntropy', lg.logSoftmax(1), tg, options.reduction ?? 'mean', options, target.shape, smoothing);
}

function checkPair(op: string, input: Tensor, target: Tensor): void {
  checkTensor(op, input, 'input');
  checkTensor(op, target, 'target');
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i])) {
    throw new SimdgradError(`${op}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape`);
  }
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('mseLoss', input, target);
  return reduce('mseLoss', input.sub(target).square(), reduction);
}

/** Mean absolute error. */
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  checkPair('l1Loss', input, target);
  return reduce('l1Loss', input.sub(target).abs(), reduction);
}

/** Huber loss: quadratic below delta, linear above. */
export function huberLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', delta = 1): Tensor {
  checkPair('huberLoss', input, target);
  if (!(delta > 0 && delta < Infinity)) throw new SimdgradError(`huberLoss: delta must be a finite number > 0 (got ${delta})`);
  const d = input.sub(target).abs();
  const q = d.clamp(null, delta);
  // 0.5·q² + delta·(d − q): equals 0.5·d² below delta and delta·(d − delta/2) above
  return reduce('huberLoss', q.square().mul(0.5).add(d.sub(q).mul(delta)), reduction);
}

/** Smooth L1 loss (Huber divided by beta). */
export function smoothL1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', beta = 1): Tensor {
  if (beta === 0) return l1Loss(input, target, reduction);
  return huberLoss(input, target, reduction, beta).div(beta);
}

/** Binary cross-entropy of probabilities in [0, 1] (log clamped at -100, as PyTorch). */
export function binaryCrossEntropy(input: Tensor, target: Tensor, reduction: Reduction = 'mean', weight?: Tensor | null): Tensor {
  checkPair('binaryCrossEntropy', input, target);
  const logP = input.log().clamp(-100, null);
  const log1mP = input.neg().add(1).log().clamp(-100, null);
  let loss = target.mul(logP).add(target.neg().add(1).mul(log1mP)).neg();
  if (weight) loss = loss.mul(weight);
  return reduce('binaryCrossEntropy', loss, reduction);
}

/** Binary cross-entropy on logits, stable for large |x|: max(x,0) − x·t + log(1 + e^−|x|). */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, reduction: Reduction = 'mean',
  options: { weight?: Tensor | null; posWeight?: Tensor | null } = {}): Tensor {
  checkPair('binaryCrossEntropyWithLogits', input, target);
  let loss: Tensor;
  if (options.posWeight) {
    // (1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)
    const lw = options.posWeight.sub(1).mul(target).add(1);
    loss = target.neg().add(1).mul(input).add(lw.mul(input.neg().softplus()));
  } else {
    loss = input.relu().sub(input.mul(target)).add(input.abs().neg().exp().log1p());
  }
  if (options.weight) loss = loss.mul(options.weight);
  return reduce('binaryCrossEntropyWithLogits', loss, reduction);
}
export { scaledDotProductAttention, type ScaledDotProductAttentionOptions } from './attention.js';
