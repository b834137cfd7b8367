// Attention: the scaled dot-product (composed from matmul, softmax and an additive mask) and
// MultiheadAttention with PyTorch's parameter names (in_proj_weight, in_proj_bias, out_proj.*).
// Masks follow PyTorch's *boolean* convention, stored as 0/1 tensors (there is no bool dtype):
// a nonzero entry means "may NOT attend" (key_padding_mask: 1 = padding).
import { getBackend } from '../engine.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import type { AttentionArgs } from '../backend/backend.js';
import { isGradEnabled, record } from '../autograd/graph.js';
import { broadcastStrides, contiguous, empty, release } from '../ops/core.js';
import { broadcastShapes, sameShape, shapeSize } from '../shape.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import * as F from './functional.js';
import * as init from './init.js';
import { Linear } from './layers.js';
import { Module, copyInto, parameter } from './module.js';

/**
 * The value added to masked scores. NOTE: not -Infinity: a row whose every key is masked would
 * give softmax(-inf, …, -inf) = 0/0 = NaN (and NaN gradients); with a large finite negative the row
 * becomes uniform instead and its gradient stays finite. exp(-1e9 - max) underflows to exactly 0 in
 * float32, so a partly masked row is unchanged.
 */
export const MASKED_SCORE = -1e9;

export interface ScaledDotProductAttentionOptions {
  /** 0/1 mask broadcastable to [..., L, S]; 1 = this query may not attend to this key. */
  attnMask?: Tensor | null;
  /** Causal mask: query i (at absolute position `queryOffset + i`) sees keys 0…queryOffset + i. */
  isCausal?: boolean;
  /** Position of the first query among the keys (for incremental decoding with a KV cache). */
  queryOffset?: number;
  /** Dropout on the attention weights (only when `training`). */
  dropoutP?: number;
  training?: boolean;
  /** Defaults to 1/√E. */
  scale?: number;
  /** Also return the attention weights [..., L, S]. */
  needWeights?: boolean;
}

const causalCache = new Map<string, Tensor>();

/**
 * The additive causal mask [L, S] (0 where allowed, MASKED_SCORE above the shifted diagonal), cached
 * per (L, S, offset) on the current backend. The cached tensors are kept (never freed by a scope).
 */
export function causalMask(l: number, s: number, offset = s - l): Tensor {
  const key = `${l},${s},${offset}`;
  const hit = causalCache.get(key);
  if (hit && !hit.disposed && hit.backend === getBackend()) return hit;
  hit?.dispose();
  const data = new Float32Array(l * s);
  for (let i = 0; i < l; i++) for (let j = offset + i + 1; j < s; j++) data[i * s + j] = MASKED_SCORE;
  const t = tensor(data, { shape: [l, s] });
  keep(t);
  causalCache.set(key, t);
  return t;
}

/**
 * softmax(Q·Kᵀ·scale + mask)·V for q [..., L, E], k [..., S, E], v [..., S, Ev] (batch dims broadcast).
 *
 * Two paths with the same results (within float32 rounding):
 * - fused (no dropout, `needWeights` false, and a mask, if any, that broadcasts into the batch of q, k
 *   and v and needs no gradient): one kernel streams the keys with an online softmax and saves only
 *   the output and each row's logsumexp; the backward recomputes the probabilities block by block. No
 *   [..., L, S] tensor is made, forward or backward.
 * - composed from matmul, softmax and an additive mask otherwise (it materialises the scores).
 *
 * @example
 * ```ts
 * const y = nn.scaledDotProductAttention(q, k, v, { isCausal: true }); // [B, H, T, D]
 * ```
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductAttentionOptions & { needWeights: true }): [Tensor, Tensor];
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: ScaledDotProductAttentionOptions): Tensor;
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: ScaledDotProductAttentionOptions = {}): Tensor | [Tensor, Tensor] {
  const op = 'scaledDotProductAttention';
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) throw new SimdgradError(`${op}: q, k and v need at least 2 dims (got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)})`);
  const e = q.shape[q.ndim - 1]!, l = q.shape[q.ndim - 2]!, s = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== e) throw new SimdgradError(`${op}: q and k must share the last dim (got ${fmtShape(q.shape)} and ${fmtShape(k.shape)})`);
  if (v.shape[v.ndim - 2] !== s) throw new SimdgradError(`${op}: k and v must have the same number of keys (got ${fmtShape(k.shape)} and ${fmtShape(v.shape)})`);
  const scale = options.scale ?? 1 / Math.sqrt(e);
  const offset = options.queryOffset ?? s - l;
  if (options.isCausal && (offset + l > s || offset < 0)) throw new SimdgradError(`${op}: queryOffset ${offset} with ${l} queries does not fit ${s} keys`);
  const p = options.dropoutP ?? 0;
  const dropout = options.training === true && p > 0;
  if (!dropout && !options.needWeights && useFused) {
    const fused = fusedAttention(q, k, v, scale, options.isCausal ? offset : -1, options.attnMask ?? null);
    if (fused !== null) return fused;
  }
  // NOTE: scale q (L·E elements) rather than the scores (L·S): cheaper and the same in exact arithmetic
  let scores = q.mul(scale).matmul(k.transpose(-2, -1));
  if (options.isCausal && offset + l - 1 > 0 && !(l === 1 && offset === s - 1)) scores = scores.add(causalMask(l, s, offset));
  if (options.attnMask) scores = scores.add(options.attnMask.mul(MASKED_SCORE));
  const weights = scores.softmax(-1);
  const attn = dropout ? F.dropout(weights, p, true) : weights;
  const out = attn.matmul(v);
  return options.needWeights ? [out, weights] : out;
}

let useFused = true;

/**
 * Turns the fused attention path on or off (default on) and returns the previous setting: for tests
 * and benchmarks that compare it with the composed path. Results agree within float32 rounding.
 */
export function setFusedAttention(on: boolean): boolean {
  const prev = useFused;
  useFused = on;
  return prev;
}

/**
 * The fused path, or null when the inputs need the composed one (an int32 q, k or v, no queries or
 * keys, a mask that needs a gradient or has batch dims beyond those of q, k and v).
 * Broadcast or strided inputs are expanded and made contiguous once (in the graph, so their
 * gradients are summed back); the node saves the logsumexp besides q, k, v and the output.
 */
function fusedAttention(q0: Tensor, k0: Tensor, v0: Tensor, scale: number, causalOffset: number, mask: Tensor | null): Tensor | null {
  const op = 'scaledDotProductAttention';
  if (q0.dtype !== 'float32' || k0.dtype !== 'float32' || v0.dtype !== 'float32') return null;
  const e = q0.shape[q0.ndim - 1]!, l = q0.shape[q0.ndim - 2]!, s = k0.shape[k0.ndim - 2]!, ev = v0.shape[v0.ndim - 1]!;
  if (l === 0 || s === 0) return null;
  const batch = broadcastShapes(op, broadcastShapes(op, q0.shape.slice(0, -2), k0.shape.slice(0, -2)), v0.shape.slice(0, -2));
  let maskArgs: { t: Tensor; rowStride: number; offsets: number[] } | null = null;
  if (mask !== null) {
    if ((mask.requiresGrad && isGradEnabled()) || mask.ndim > batch.length + 2) return null;
    const full = [...batch, l, s];
    const pad = full.length - mask.ndim;
    if (mask.shape.some((d, i) => d !== 1 && d !== full[pad + i])) {
      // not broadcastable into [..., L, S]: let the composed path report it
      return null;
    }
    // the additive mask exactly as the composed path adds it (a float32 copy the size of the caller's
    // mask, also for an int32 0/1 mask); a mask broadcast along the keys is widened to S columns so
    // that the kernel reads rows
    let t = mask.mul(MASKED_SCORE);
    if (mask.ndim < 2 || mask.shape[mask.ndim - 1] !== s) {
      const wide = t.reshape([...Array<number>(Math.max(0, 2 - t.ndim)).fill(1), ...t.shape]);
      const ex = wide.expand([...wide.shape.slice(0, -1), s]);
      const rows = contiguous(ex);
      for (const x of [ex, wide, t]) if (x !== rows) x.dispose();
      t = rows;
    }
    const strides = broadcastStrides(t, full);
    const offsets: number[] = [];
    const bh = shapeSize(batch);
    for (let b = 0; b < bh; b++) {
      let rest = b, off = 0;
      for (let d = batch.length - 1; d >= 0; d--) {
        off += (rest % batch[d]!) * strides[d]!;
        rest = Math.floor(rest / batch[d]!);
      }
      offsets.push(off);
    }
    maskArgs = { t, rowStride: strides[batch.length]!, offsets };
  }
  const packed = (x: Tensor, rows: number, cols: number): Tensor => {
    const want = [...batch, rows, cols];
    const ex = sameShape(x.shape, want) ? x : x.expand(want);
    return ex.contiguous().reshape([shapeSize(batch), rows, cols]);
  };
  const q = packed(q0, l, e), k = packed(k0, s, e), v = packed(v0, s, ev);
  const bh = shapeSize(batch);
  const args: AttentionArgs = {
    batch: bh, l, s, e, ev, scale, causalOffset,
    mask: maskArgs ? maskArgs.t.ptr : 0, maskRowStride: maskArgs?.rowStride ?? 0, maskOffsets: maskArgs?.offsets ?? [],
  };
  const be = q.backend;
  const out = empty([bh, l, ev]);
  const lse = empty([bh, l, 2]); // each row's logsumexp as (max, log-sum)
  be.attention(out.ptr, lse.ptr, q.ptr, k.ptr, v.ptr, args);
  const saved = maskArgs ? [lse, maskArgs.t] : [lse];
  record(out, op, [q, k, v], (g0) => {
    const g = contiguous(g0);
    const dq = empty(q.shape), dk = empty(k.shape), dv = empty(v.shape);
    be.attentionGrad(dq.ptr, dk.ptr, dv.ptr, q.ptr, k.ptr, v.ptr, out.ptr, g.ptr, lse.ptr, args);
    release(g, g0);
    const pick = (t: Tensor, x: Tensor): Tensor | null => {
      if (x.requiresGrad) return t;
      t.dispose();
      return null;
    };
    return [pick(dq, q), pick(dk, k), pick(dv, v)];
  }, saved);
  if (out.node === null) for (const t of saved) t.dispose();
  return out.reshape([...batch, l, ev]);
}

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  /** Inputs are [B, T, E] (default true here; PyTorch's default is false). */
  batchFirst?: boolean;
  kdim?: number;
  vdim?: number;
}

export interface MultiheadAttentionCall {
  /** [B, S], 1 = padding (this key is ignored). */
  keyPaddingMask?: Tensor | null;
  /** [L, S] or [B·H, L, S], 1 = not allowed. */
  attnMask?: Tensor | null;
  isCausal?: boolean;
  /** Incremental decoding: cached keys/values of earlier positions, extended in place and returned. */
  cache?: KVCache | null;
}

/**
 * Keys and values of past positions for one attention layer, preallocated for `maxLen` positions so
 * each decoding step writes one slot (no copy of the past: generation cost per token stays flat apart
 * from the attention itself). Shapes [B, H, maxLen, D].
 */
export class KVCache {
  readonly keys: Tensor;
  readonly values: Tensor;
  length = 0;
  constructor(batch: number, heads: number, readonly maxLen: number, headDim: number) {
    this.keys = keep(empty([batch, heads, maxLen, headDim]));
    this.values = keep(empty([batch, heads, maxLen, headDim]));
  }
  /** Appends k, v [B, H, T, D] and returns views of everything so far. */
  append(k: Tensor, v: Tensor): [Tensor, Tensor] {
    const t = k.shape[2]!;
    if (this.length + t > this.maxLen) throw new SimdgradError(`KVCache: ${this.length} + ${t} positions exceed maxLen ${this.maxLen}`);
    copyInto(this.keys.narrow(2, this.length, t), k);
    copyInto(this.values.narrow(2, this.length, t), v);
    this.length += t;
    return [this.keys.narrow(2, 0, this.length), this.values.narrow(2, 0, this.length)];
  }
  dispose(): void {
    this.keys.dispose();
    this.values.dispose();
  }
}

/**
 * Multi-head attention as PyTorch's nn.MultiheadAttention: packed input projection
 * `in_proj_weight` [3E, E] (Xavier-uniform) and `in_proj_bias` [3E] (zeros), then `out_proj`
 * (a Linear whose bias starts at zero). Batch-first by default.
 *
 * @example
 * ```ts
 * const mha = new nn.MultiheadAttention(64, 4);
 * const y = mha.forward(x, x, x, { isCausal: true }); // x: [B, T, 64]
 * ```
 */
export class MultiheadAttention extends Module {
  in_proj_weight: Tensor | null = null;
  q_proj_weight: Tensor | null = null;
  k_proj_weight: Tensor | null = null;
  v_proj_weight: Tensor | null = null;
  in_proj_bias: Tensor | null;
  out_proj: Linear;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  readonly kdim: number;
  readonly vdim: number;
  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    if (!Number.isInteger(embedDim) || embedDim < 1) throw new SimdgradError(`MultiheadAttention: embedDim must be a positive integer (got ${embedDim})`);
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new SimdgradError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    }
    this.headDim = embedDim / numHeads;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new SimdgradError(`MultiheadAttention: dropout must be in [0, 1] (got ${this.dropout})`);
    this.batchFirst = options.batchFirst ?? true;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = parameter(init.xavierUniform(empty([3 * embedDim, embedDim])));
    } else {
      this.q_proj_weight = parameter(init.xavierUniform(empty([embedDim, embedDim])));
      this.k_proj_weight = parameter(init.xavierUniform(empty([embedDim, this.kdim])));
      this.v_proj_weight = parameter(init.xavierUniform(empty([embedDim, this.vdim])));
    }
    const bias = options.bias ?? true;
    this.in_proj_bias = bias ? parameter(init.zeros(empty([3 * embedDim]))) : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias });
    if (this.out_proj.bias) init.zeros(this.out_proj.bias);
  }

  /** query [B, L, E], key [B, S, kdim], value [B, S, vdim] (batch-first) → [B, L, E]. */
  forward(query: Tensor, key?: Tensor, value?: Tensor, call?: MultiheadAttentionCall): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(query: Tensor, key?: Tensor, value?: Tensor, call?: MultiheadAttentionCall | Tensor): Tensor {
    return this.forwardWithWeights(query, key ?? query, value ?? key ?? query, call as MultiheadAttentionCall | undefined, false)[0];
  }

  /** Like forward, also returning the attention weights averaged over heads [B, L, S] (when asked). */
  forwardWithWeights(query: Tensor, key: Tensor, value: Tensor, call: MultiheadAttentionCall = {}, needWeights = true): [Tensor, Tensor | null] {
    const op = 'MultiheadAttention';
    const e = this.embedDim, h = this.numHeads, d = this.headDim;
    if (!this.batchFirst) { query = query.transpose(0, 1); key = key.transpose(0, 1); value = value.transpose(0, 1); }
    if (query.ndim !== 3 || query.shape[2] !== e) throw new SimdgradError(`${op}: query must be [B, L, ${e}] (got ${fmtShape(query.shape)})`);
    if (key.ndim !== 3 || key.shape[2] !== this.kdim || value.ndim !== 3 || value.shape[2] !== this.vdim || key.shape[1] !== value.shape[1]) {
      throw new SimdgradError(`${op}: key and value must be [B, S, ${this.kdim}] and [B, S, ${this.vdim}] (got ${fmtShape(key.shape)} and ${fmtShape(value.shape)})`);
    }
    const b = query.shape[0]!, l = query.shape[1]!;
    const bias = (i: number) => (this.in_proj_bias ? this.in_proj_bias.narrow(0, i * e, e) : null);
    let q: Tensor, k: Tensor, v: Tensor;
    const heads = (x: Tensor) => x.reshape([b, x.shape[1]!, h, d]).transpose(1, 2); // [B, H, T, D]
    if (this.in_proj_weight && query === key && key === value) {
      // self-attention: one packed projection, then split (views) into q, k, v
      const qkv = F.linear(query, this.in_proj_weight, this.in_proj_bias).reshape([b, l, 3, h, d]).permute(2, 0, 3, 1, 4);
      [q, k, v] = [0, 1, 2].map((i) => qkv.narrow(0, i, 1).squeeze(0)) as [Tensor, Tensor, Tensor];
    } else {
      const w = (i: number, own: Tensor | null) => (this.in_proj_weight ? this.in_proj_weight.narrow(0, i * e, e) : own!);
      q = heads(F.linear(query, w(0, this.q_proj_weight), bias(0)));
      k = heads(F.linear(key, w(1, this.k_proj_weight), bias(1)));
      v = heads(F.linear(value, w(2, this.v_proj_weight), bias(2)));
    }
    let queryOffset: number | undefined;
    if (call.cache) {
      queryOffset = call.cache.length;
      [k, v] = call.cache.append(k, v);
    }
    const s = k.shape[2]!;
    let mask: Tensor | null = null;
    if (call.keyPaddingMask) {
      const kp = call.keyPaddingMask;
      if (kp.ndim !== 2 || kp.shape[0] !== b || kp.shape[1] !== s) throw new SimdgradError(`${op}: keyPaddingMask must be [${b}, ${s}] (got ${fmtShape(kp.shape)})`);
      mask = kp.reshape([b, 1, 1, s]);
    }
    if (call.attnMask) {
      const am = call.attnMask;
      const m = am.ndim === 2 ? am : am.reshape([b, h, l, s]);
      mask = mask ? mask.add(m).clamp(0, 1) : m;
    }
    const opts = { attnMask: mask, isCausal: call.isCausal, queryOffset, dropoutP: this.dropout, training: this.training };
    // without weights (forward), the fused kernel can run
    const [ctx, weights] = needWeights ? scaledDotProductAttention(q, k, v, { ...opts, needWeights: true })
      : [scaledDotProductAttention(q, k, v, opts), null];
    let out = this.out_proj.forward(ctx.transpose(1, 2).reshape([b, l, e]));
    if (!this.batchFirst) out = out.transpose(0, 1);
    return [out, weights ? weights.mean(1) : null];
  }

  override extraRepr(): string {
    return `embed_dim=${this.embedDim}, num_heads=${this.numHeads}, dropout=${this.dropout}, batch_first=${this.batchFirst}`;
  }
}
