// A GPT-style decoder-only language model (token + learned position embeddings, pre-norm transformer
// blocks with causal self-attention, final LayerNorm, linear head), with a KV cache for generation.
// Parameter names follow nanoGPT/GPT-2 where they can (wte, wpe, h.N, ln_f, lm_head).
import { SimdgradError, fmtShape } from '../errors.js';
import { KVCache } from '../nn/attention.js';
import * as init from '../nn/init.js';
import { Embedding, LayerNorm, Linear } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { LearnedPositionalEmbedding } from '../nn/positional.js';
import { TransformerEncoderLayer } from '../nn/transformer.js';
import type { Tensor } from '../tensor.js';

export interface GPTConfig {
  vocabSize: number;
  /** Longest sequence the model sees (the size of the position table). */
  contextLength: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  dropout?: number;
}

/**
 * @example
 * ```ts
 * const gpt = new text.GPT({ vocabSize: 65, contextLength: 64, nLayer: 4, nHead: 4, nEmbd: 128 });
 * const logits = gpt.forward(ids); // ids: int32 [B, T] → [B, T, 65]
 * ```
 */
export class GPT extends Module {
  wte: Embedding;
  wpe: LearnedPositionalEmbedding;
  h: TransformerEncoderLayer[];
  ln_f: LayerNorm;
  lm_head: Linear;
  readonly config: Required<GPTConfig>;
  constructor(config: GPTConfig) {
    super();
    this.config = { dropout: 0, ...config };
    const { vocabSize, contextLength, nLayer, nHead, nEmbd, dropout } = this.config;
    this.wte = new Embedding(vocabSize, nEmbd);
    this.wpe = new LearnedPositionalEmbedding(contextLength, nEmbd);
    this.h = Array.from({ length: nLayer }, () => new TransformerEncoderLayer(nEmbd, nHead, {
      dimFeedforward: 4 * nEmbd, dropout, activation: 'gelu', normFirst: true,
    }));
    this.ln_f = new LayerNorm(nEmbd);
    this.lm_head = new Linear(nEmbd, vocabSize, { bias: false });
    // GPT-2 initialisation: N(0, 0.02) weights, zero biases, residual projections scaled by 1/√(2·layers)
    for (const [name, p] of this.namedParameters()) {
      if (name.startsWith('ln_f') || /norm\d/.test(name) || name === 'wpe.weight') continue;
      if (name.endsWith('bias')) init.zeros(p);
      else init.normal(p, 0, /out_proj\.weight|linear2\.weight/.test(name) ? 0.02 / Math.sqrt(2 * nLayer) : 0.02);
    }
  }

  /** Fresh per-layer key/value caches for incremental decoding of `batch` sequences. */
  newCaches(batch = 1, maxLen = this.config.contextLength): KVCache[] {
    const { nHead, nEmbd } = this.config;
    return this.h.map(() => new KVCache(batch, nHead, maxLen, nEmbd / nHead));
  }

  /**
   * ids int32 [B, T] → logits [B, T, vocab]. With `caches` (from newCaches), the ids continue the
   * cached sequence: positions start at the cache length and the caches grow by T.
   */
  forward(ids: Tensor, caches?: KVCache[] | null): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(ids: Tensor, cachesArg?: KVCache[] | Tensor | null): Tensor {
    const caches = Array.isArray(cachesArg) ? cachesArg : null;
    if (ids.ndim !== 2 || ids.dtype !== 'int32') throw new SimdgradError(`GPT: expected int32 ids [B, T] (got ${ids.dtype} ${fmtShape(ids.shape)})`);
    const offset = caches ? caches[0]!.length : 0;
    if (offset + ids.shape[1]! > this.config.contextLength) {
      throw new SimdgradError(`GPT: ${offset + ids.shape[1]!} positions exceed the context length ${this.config.contextLength}`);
    }
    let x = this.wpe.forward(this.wte.forward(ids), offset);
    this.h.forEach((block, i) => { x = block.forward(x, { isCausal: true, cache: caches ? caches[i] : null }); });
    return this.lm_head.forward(this.ln_f.forward(x));
  }

  /** The config as strings, for a safetensors `__metadata__` entry. */
  metadata(): Record<string, string> {
    return { format: 'pt', architecture: 'gpt', config: JSON.stringify(this.config) };
  }
}
