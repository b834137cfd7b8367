// Layers as modules. Each is thin: it owns parameters (initialised as PyTorch does) and calls the
// functional form in forward().
import { SimdgradError, fmtShape } from '../errors.js';
import { empty } from '../ops/core.js';
import { ones, zeros } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import * as init from './init.js';
import { Module, parameter } from './module.js';

function checkInt(op: string, v: number, what: string, min = 1): number {
  if (!Number.isInteger(v) || v < min) throw new SimdgradError(`${op}: ${what} must be an integer ≥ ${min} (got ${v})`);
  return v;
}

/** y = x·Wᵀ + b. Weight [out, in] and bias initialised uniform(±1/√in) (Kaiming-uniform with a = √5). */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    checkInt('Linear', inFeatures, 'inFeatures', 0);
    checkInt('Linear', outFeatures, 'outFeatures', 0);
    this.weight = parameter(init.kaimingUniform(empty([outFeatures, inFeatures]), { a: Math.sqrt(5) }));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = options.bias === false ? null : parameter(init.uniform(empty([outFeatures]), -bound, bound));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Applies the modules in order. Children are named '0', '1', … (PyTorch's state-dict keys). */
export class Sequential extends Module {
  [index: number]: Module;
  readonly length: number;
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) throw new SimdgradError(`Sequential: argument ${i} is not a module`);
      this[i] = m;
    });
    this.length = modules.length;
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (let i = 0; i < this.length; i++) y = this[i]!.forward(y);
    return y;
  }
}

/** Flattens dims startDim…endDim (default: all but the batch dim). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.flatten(this.startDim, this.endDim); }
  override extraRepr(): string { return `start_dim=${this.startDim}, end_dim=${this.endDim}`; }
}

/** Zeroes elements with probability p in training mode (scaling the rest by 1/(1-p)). */
export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new SimdgradError(`Dropout: p must be in [0, 1] (got ${p})`);
  }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
  override extraRepr(): string { return `p=${this.p}`; }
}

/** A lookup table of numEmbeddings vectors of size embeddingDim; input: int32 indices of any shape. */
export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: { paddingIdx?: number } = {}) {
    super();
    checkInt('Embedding', numEmbeddings, 'numEmbeddings');
    checkInt('Embedding', embeddingDim, 'embeddingDim');
    this.weight = parameter(init.normal(empty([numEmbeddings, embeddingDim])));
    if (options.paddingIdx !== undefined) {
      const p = options.paddingIdx < 0 ? options.paddingIdx + numEmbeddings : options.paddingIdx;
      if (!Number.isInteger(p) || p < 0 || p >= numEmbeddings) throw new SimdgradError(`Embedding: paddingIdx ${options.paddingIdx} is out of range for ${numEmbeddings} embeddings`);
      this.weight.backend.fill('float32', this.weight.ptr + p * embeddingDim * 4, embeddingDim, 0);
    }
  }
  forward(indices: Tensor): Tensor {
    return F.embedding(indices, this.weight);
  }
  override extraRepr(): string { return `${this.numEmbeddings}, ${this.embeddingDim}`; }
}

/** Layer normalisation over the trailing `normalizedShape` dims, with a learned scale and shift. */
export class LayerNorm extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly eps = 1e-5, options: { elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? parameter(ones(this.normalizedShape)) : null;
    this.bias = affine ? parameter(zeros(this.normalizedShape)) : null;
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
  override extraRepr(): string { return `(${this.normalizedShape.join(', ')},), eps=${this.eps}, elementwise_affine=${this.weight !== null}`; }
}

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average (PyTorch's convention). */
  momentum?: number;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/** Batch normalisation over all dims but the channel dim (1); running statistics for eval mode. */
abstract class BatchNormBase extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  readonly eps: number;
  readonly momentum: number;
  readonly trackRunningStats: boolean;
  protected abstract readonly expectedDims: number[];
  constructor(readonly numFeatures: number, options: BatchNormOptions = {}) {
    super();
    checkInt(this.constructor.name, numFeatures, 'numFeatures');
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum ?? 0.1;
    const affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = affine ? parameter(ones([numFeatures])) : null;
    this.bias = affine ? parameter(zeros([numFeatures])) : null;
    if (this.trackRunningStats) {
      this.registerBuffer('running_mean', zeros([numFeatures]));
      this.registerBuffer('running_var', ones([numFeatures]));
      this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int32' }));
    }
  }
  forward(x: Tensor): Tensor {
    if (!this.expectedDims.includes(x.ndim) || x.shape[1] !== this.numFeatures) {
      throw new SimdgradError(`${this.constructor.name}: expected input with ${this.expectedDims.join(' or ')} dims and ${this.numFeatures} channels in dim 1 (got ${fmtShape(x.shape)})`);
    }
    const useBatch = this.training || !this.trackRunningStats;
    const rm = this.trackRunningStats ? this.buffer('running_mean') : null;
    const rv = this.trackRunningStats ? this.buffer('running_var') : null;
    if (this.training && this.trackRunningStats) {
      const n = this.buffer('num_batches_tracked')!;
      n.backend.heap.views().i32[n.ptr >>> 2]! += 1;
    }
    return F.batchNorm(x, rm, rv, this.weight, this.bias, useBatch, this.momentum, this.eps);
  }
  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, track_running_stats=${this.trackRunningStats}`;
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly expectedDims = [2, 3];
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly expectedDims = [4];
}

// ---- activations as modules ---------------------------------------------------------------------
export class ReLU extends Module { forward(x: Tensor): Tensor { return x.relu(); } }
export class Sigmoid extends Module { forward(x: Tensor): Tensor { return x.sigmoid(); } }
export class Tanh extends Module { forward(x: Tensor): Tensor { return x.tanh(); } }
export class SiLU extends Module { forward(x: Tensor): Tensor { return x.silu(); } }
export class GELU extends Module {
  constructor(readonly approximate: 'none' | 'tanh' = 'none') { super(); }
  forward(x: Tensor): Tensor { return x.gelu(this.approximate); }
  override extraRepr(): string { return `approximate='${this.approximate}'`; }
}
export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) { super(); }
  forward(x: Tensor): Tensor { return x.leakyRelu(this.negativeSlope); }
  override extraRepr(): string { return `negative_slope=${this.negativeSlope}`; }
}
export class ELU extends Module {
  constructor(readonly alpha = 1) { super(); }
  forward(x: Tensor): Tensor { return x.elu(this.alpha); }
  override extraRepr(): string { return `alpha=${this.alpha}`; }
}
export class Softmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.softmax(this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) { super(); }
  forward(x: Tensor): Tensor { return x.logSoftmax(this.dim); }
  override extraRepr(): string { return `dim=${this.dim}`; }
}

type Pair = number | [number, number];
const pairText = (v: Pair) => (typeof v === 'number' ? `(${v}, ${v})` : `(${v[0]}, ${v[1]})`);

/** 2-d convolution over [N, C, H, W]; weight [out, in/groups, kh, kw] Kaiming-uniform (a = √5) like PyTorch. */
export class Conv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly options: Required<F.Conv2dOptions>;
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair,
    options: F.Conv2dOptions & { bias?: boolean } = {}) {
    super();
    checkInt('Conv2d', inChannels, 'inChannels');
    checkInt('Conv2d', outChannels, 'outChannels');
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new SimdgradError(`Conv2d: groups ${groups} must divide inChannels ${inChannels} and outChannels ${outChannels}`);
    }
    this.options = { stride: options.stride ?? 1, padding: options.padding ?? 0, dilation: options.dilation ?? 1, groups };
    this.weight = parameter(init.kaimingUniform(empty([outChannels, inChannels / groups, ...this.kernelSize]), { a: Math.sqrt(5) }));
    const fanIn = (inChannels / groups) * this.kernelSize[0] * this.kernelSize[1];
    const bound = 1 / Math.sqrt(fanIn);
    this.bias = options.bias === false ? null : parameter(init.uniform(empty([outChannels]), -bound, bound));
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.options);
  }
  override extraRepr(): string {
    const o = this.options;
    return `${this.inChannels}, ${this.outChannels}, kernel_size=${pairText(this.kernelSize)}, stride=${pairText(o.stride as Pair)}` +
      `${o.padding !== 0 ? `, padding=${pairText(o.padding as Pair)}` : ''}${o.dilation !== 1 ? `, dilation=${pairText(o.dilation as Pair)}` : ''}` +
      `${o.groups !== 1 ? `, groups=${o.groups}` : ''}${this.bias === null ? ', bias=False' : ''}`;
  }
}

/** Max pooling; stride defaults to the kernel size. */
export class MaxPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: F.MaxPool2dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return F.maxPool2d(x, this.kernelSize, this.options); }
  override extraRepr(): string {
    return `kernel_size=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.options.stride ?? this.kernelSize)}, padding=${JSON.stringify(this.options.padding ?? 0)}`;
  }
}

/** Average pooling; stride defaults to the kernel size. */
export class AvgPool2d extends Module {
  constructor(readonly kernelSize: Pair, readonly options: F.AvgPool2dOptions = {}) { super(); }
  forward(x: Tensor): Tensor { return F.avgPool2d(x, this.kernelSize, this.options); }
  override extraRepr(): string {
    return `kernel_size=${JSON.stringify(this.kernelSize)}, stride=${JSON.stringify(this.options.stride ?? this.kernelSize)}, padding=${JSON.stringify(this.options.padding ?? 0)}`;
  }
}

/** Average pooling to a fixed output size. */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: Pair) { super(); }
  forward(x: Tensor): Tensor { return F.adaptiveAvgPool2d(x, this.outputSize); }
  override extraRepr(): string { return `output_size=${JSON.stringify(this.outputSize)}`; }
}
