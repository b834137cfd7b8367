// Positional information for sequence models: learned position embeddings (GPT-2 style) and the fixed
// sinusoidal encoding of "Attention Is All You Need" (see: Vaswani et al. 2017, section 3.5).
import { SimdgradError, fmtShape } from '../errors.js';
import { empty } from '../ops/core.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import * as init from './init.js';
import { Module, parameter } from './module.js';

function checkInput(op: string, x: Tensor, dim: number, maxLen: number, offset: number): number {
  if (x.ndim < 2 || x.shape[x.ndim - 1] !== dim) throw new SimdgradError(`${op}: expected input [..., T, ${dim}] (got ${fmtShape(x.shape)})`);
  const t = x.shape[x.ndim - 2]!;
  if (!Number.isInteger(offset) || offset < 0 || offset + t > maxLen) {
    throw new SimdgradError(`${op}: positions ${offset}…${offset + t - 1} exceed maxLen ${maxLen}`);
  }
  return t;
}

/**
 * A learned vector per position (`weight` [maxLen, dim], initialised N(0, 0.02²) as GPT-2). forward(x)
 * adds positions offset…offset+T-1 to x [..., T, dim].
 *
 * @example
 * ```ts
 * const pos = new nn.LearnedPositionalEmbedding(64, 128);
 * const h = pos.forward(tokEmb.forward(ids)); // [B, T, 128]
 * ```
 */
export class LearnedPositionalEmbedding extends Module {
  weight: Tensor;
  constructor(readonly maxLen: number, readonly dim: number, options: { std?: number } = {}) {
    super();
    if (!Number.isInteger(maxLen) || maxLen < 1) throw new SimdgradError(`LearnedPositionalEmbedding: maxLen must be a positive integer (got ${maxLen})`);
    if (!Number.isInteger(dim) || dim < 1) throw new SimdgradError(`LearnedPositionalEmbedding: dim must be a positive integer (got ${dim})`);
    this.weight = parameter(init.normal(empty([maxLen, dim]), 0, options.std ?? 0.02));
  }
  forward(x: Tensor, offset?: number): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(x: Tensor, offset: number | Tensor = 0): Tensor {
    if (typeof offset !== 'number') throw new SimdgradError('positional encoding: offset must be a number');
    const t = checkInput('LearnedPositionalEmbedding', x, this.dim, this.maxLen, offset);
    return x.add(this.weight.narrow(0, offset, t));
  }
  override extraRepr(): string { return `${this.maxLen}, ${this.dim}`; }
}

/** The sinusoidal table [maxLen, dim]: PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(…). */
export function sinusoidalTable(maxLen: number, dim: number): Float32Array {
  const out = new Float32Array(maxLen * dim);
  for (let p = 0; p < maxLen; p++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = p / Math.pow(10000, i / dim);
      out[p * dim + i] = Math.sin(angle);
      if (i + 1 < dim) out[p * dim + i + 1] = Math.cos(angle);
    }
  }
  return out;
}

/**
 * Fixed sinusoidal positional encoding (a buffer `pe`, no parameters), added to x [..., T, dim];
 * `scale` multiplies x first (√dim in the original transformer, when embeddings are shared).
 */
export class SinusoidalPositionalEncoding extends Module {
  constructor(readonly dim: number, readonly maxLen = 5000, readonly scale = 1) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw new SimdgradError(`SinusoidalPositionalEncoding: dim must be a positive integer (got ${dim})`);
    this.registerBuffer('pe', tensor(sinusoidalTable(maxLen, dim), { shape: [maxLen, dim] }));
  }
  forward(x: Tensor, offset?: number): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(x: Tensor, offset: number | Tensor = 0): Tensor {
    if (typeof offset !== 'number') throw new SimdgradError('positional encoding: offset must be a number');
    const t = checkInput('SinusoidalPositionalEncoding', x, this.dim, this.maxLen, offset);
    const pe = this.buffer('pe')!.narrow(0, offset, t);
    return (this.scale === 1 ? x : x.mul(this.scale)).add(pe);
  }
  override extraRepr(): string { return `${this.dim}, max_len=${this.maxLen}`; }
}
