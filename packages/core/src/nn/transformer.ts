// Transformer encoder and decoder layers as PyTorch's nn.TransformerEncoderLayer /
// nn.TransformerDecoderLayer (same submodule names, so state dicts line up): post-norm by default,
// pre-norm with `normFirst`. Batch-first by default.
import { SimdgradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { MultiheadAttention, type KVCache } from './attention.js';
import { Dropout, LayerNorm, Linear } from './layers.js';
import { Module } from './module.js';

export interface TransformerLayerOptions {
  /** Width of the feed-forward block (PyTorch's default 2048). */
  dimFeedforward?: number;
  dropout?: number;
  activation?: 'relu' | 'gelu' | ((x: Tensor) => Tensor);
  layerNormEps?: number;
  batchFirst?: boolean;
  /** Pre-norm (LayerNorm before each block, as GPT-2); PyTorch's default is post-norm. */
  normFirst?: boolean;
  bias?: boolean;
}

/** Which activation a layer was built with ('custom' for a function), e.g. for the ONNX export. */
export type TransformerActivationName = 'relu' | 'gelu' | 'custom';
const activationNameOf = (a: TransformerLayerOptions['activation']): TransformerActivationName => (typeof a === 'function' ? 'custom' : a ?? 'relu');

function activationFn(a: TransformerLayerOptions['activation']): (x: Tensor) => Tensor {
  if (a === undefined || a === 'relu') return (x) => x.relu();
  if (a === 'gelu') return (x) => x.gelu();
  if (typeof a === 'function') return a;
  throw new SimdgradError(`Transformer: activation must be 'relu', 'gelu' or a function (got ${String(a)})`);
}

export interface EncoderLayerCall {
  /** [T, T] 0/1, 1 = not allowed. */
  srcMask?: Tensor | null;
  /** [B, T], 1 = padding. */
  srcKeyPaddingMask?: Tensor | null;
  isCausal?: boolean;
  /** Incremental decoding (decoder-only models): this layer's key/value cache. */
  cache?: KVCache | null;
}

/**
 * self-attention + feed-forward, each with a residual connection and LayerNorm.
 *
 * @example
 * ```ts
 * const layer = new nn.TransformerEncoderLayer(128, 4, { dimFeedforward: 512, normFirst: true, activation: 'gelu' });
 * const y = layer.forward(x, { isCausal: true }); // x: [B, T, 128]
 * ```
 */
export class TransformerEncoderLayer extends Module {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  readonly normFirst: boolean;
  /** The activation of the feed-forward block ('custom' when a function was given). */
  readonly activationName: TransformerActivationName;
  private readonly act: (x: Tensor) => Tensor;
  constructor(readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const p = options.dropout ?? 0.1, bias = options.bias ?? true, eps = options.layerNormEps ?? 1e-5;
    const ff = options.dimFeedforward ?? 2048;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst: options.batchFirst ?? true });
    this.linear1 = new Linear(dModel, ff, { bias });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { bias });
    this.norm1 = new LayerNorm(dModel, eps);
    this.norm2 = new LayerNorm(dModel, eps);
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.normFirst = options.normFirst ?? false;
    this.act = activationFn(options.activation);
    this.activationName = activationNameOf(options.activation);
  }
  forward(src: Tensor, call?: EncoderLayerCall): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(src: Tensor, callArg?: EncoderLayerCall | Tensor): Tensor {
    const call = (callArg ?? {}) as EncoderLayerCall;
    const sa = (x: Tensor) => this.dropout1.forward(this.self_attn.forward(x, x, x, {
      attnMask: call.srcMask, keyPaddingMask: call.srcKeyPaddingMask, isCausal: call.isCausal, cache: call.cache,
    }));
    const ffb = (x: Tensor) => this.dropout2.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
    if (this.normFirst) {
      const x = src.add(sa(this.norm1.forward(src)));
      return x.add(ffb(this.norm2.forward(x)));
    }
    const x = this.norm1.forward(src.add(sa(src)));
    return this.norm2.forward(x.add(ffb(x)));
  }
  override extraRepr(): string { return `d_model=${this.dModel}, nhead=${this.nhead}, norm_first=${this.normFirst}`; }
}

export interface DecoderLayerCall {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  tgtIsCausal?: boolean;
  /** Incremental decoding: the self-attention cache of this layer. */
  cache?: KVCache | null;
}

/** self-attention, cross-attention over the encoder's `memory`, and feed-forward (PyTorch's names). */
export class TransformerDecoderLayer extends Module {
  self_attn: MultiheadAttention;
  multihead_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  norm3: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  dropout3: Dropout;
  readonly normFirst: boolean;
  /** The activation of the feed-forward block ('custom' when a function was given). */
  readonly activationName: TransformerActivationName;
  private readonly act: (x: Tensor) => Tensor;
  constructor(readonly dModel: number, readonly nhead: number, options: TransformerLayerOptions = {}) {
    super();
    const p = options.dropout ?? 0.1, bias = options.bias ?? true, eps = options.layerNormEps ?? 1e-5;
    const ff = options.dimFeedforward ?? 2048;
    const batchFirst = options.batchFirst ?? true;
    this.self_attn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst });
    this.multihead_attn = new MultiheadAttention(dModel, nhead, { dropout: p, bias, batchFirst });
    this.linear1 = new Linear(dModel, ff, { bias });
    this.dropout = new Dropout(p);
    this.linear2 = new Linear(ff, dModel, { bias });
    this.norm1 = new LayerNorm(dModel, eps);
    this.norm2 = new LayerNorm(dModel, eps);
    this.norm3 = new LayerNorm(dModel, eps);
    this.dropout1 = new Dropout(p);
    this.dropout2 = new Dropout(p);
    this.dropout3 = new Dropout(p);
    this.normFirst = options.normFirst ?? false;
    this.act = activationFn(options.activation);
    this.activationName = activationNameOf(options.activation);
  }
  forward(tgt: Tensor, memory: Tensor, call?: DecoderLayerCall): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(tgt: Tensor, memory: Tensor, callArg?: DecoderLayerCall | Tensor): Tensor {
    const call = (callArg ?? {}) as DecoderLayerCall;
    const sa = (x: Tensor) => this.dropout1.forward(this.self_attn.forward(x, x, x, {
      attnMask: call.tgtMask, keyPaddingMask: call.tgtKeyPaddingMask, isCausal: call.tgtIsCausal, cache: call.cache,
    }));
    const mha = (x: Tensor) => this.dropout2.forward(this.multihead_attn.forward(x, memory, memory, {
      attnMask: call.memoryMask, keyPaddingMask: call.memoryKeyPaddingMask,
    }));
    const ffb = (x: Tensor) => this.dropout3.forward(this.linear2.forward(this.dropout.forward(this.act(this.linear1.forward(x)))));
    if (this.normFirst) {
      let x = tgt.add(sa(this.norm1.forward(tgt)));
      x = x.add(mha(this.norm2.forward(x)));
      return x.add(ffb(this.norm3.forward(x)));
    }
    let x = this.norm1.forward(tgt.add(sa(tgt)));
    x = this.norm2.forward(x.add(mha(x)));
    return this.norm3.forward(x.add(ffb(x)));
  }
  override extraRepr(): string { return `d_model=${this.dModel}, nhead=${this.nhead}, norm_first=${this.normFirst}`; }
}

