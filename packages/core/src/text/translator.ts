// A transformer encoder–decoder for sequence-to-sequence tasks (translation): pre-norm encoder and
// decoder layers, sinusoidal positions, and an output layer that shares the target embedding. With
// greedy and beam-search decoding, and the padded batches both need.
// see: Vaswani et al. 2017, "Attention Is All You Need" (weight tying: §3.4; here without the
// source/target sharing, as the vocabularies differ).
import { noGrad } from '../autograd/graph.js';
import { SimdgradError } from '../errors.js';
import { scope } from '../memory.js';
import { crossEntropy, linear } from '../nn/functional.js';
import * as init from '../nn/init.js';
import { Embedding, LayerNorm } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { SinusoidalPositionalEncoding } from '../nn/positional.js';
import { TransformerDecoderLayer, TransformerEncoderLayer } from '../nn/transformer.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { beamSearch } from './generate.js';

export interface TranslatorConfig {
  /** Source and target vocabulary sizes. */
  srcVocab: number;
  tgtVocab: number;
  /** Model width (d_model); a multiple of `heads`. */
  width: number;
  heads: number;
  /** Encoder layers, and as many decoder layers. */
  layers: number;
  /** Width of each feed-forward block. */
  ff: number;
  /** Dropout in training (default 0.1). */
  dropout?: number;
}

/** Longest source or target sequence (tokens, with <bos>/<eos>) the position table covers. */
export const TRANSLATOR_MAX_POSITIONS = 64;

/** The special ids decoding needs (a WordTokenizer's: pad 0, bos 2, eos 3). */
export interface SpecialIds {
  padId: number;
  bosId: number;
  eosId: number;
}

export interface TranslateOptions extends Partial<SpecialIds> {
  /** Most target tokens to produce, not counting <bos>/<eos> (default 24; at most 63). */
  maxLength?: number;
}

/**
 * Pads token sequences into one int32 batch [B, L] and its key-padding mask [B, L] (1 = padding).
 * NOTE: L is rounded up so that L − extra is a multiple of 4: few distinct tensor shapes, so the
 * allocator's size classes are reused (varying shapes fragment the wasm heap).
 *
 * @example
 * ```ts
 * const [ids, mask] = text.padSequences([[5, 6, 3], [7, 3]]); // ids [2, 4], mask [2, 4]
 * ```
 */
export function padSequences(seqs: ArrayLike<number>[], extra = 0, padId = 0): [Tensor, Tensor] {
  if (seqs.length === 0) throw new SimdgradError('padSequences: no sequences');
  const longest = Math.max(...seqs.map((s) => s.length));
  const len = Math.max(1, Math.ceil((longest - extra) / 4) * 4 + extra);
  const ids = new Int32Array(seqs.length * len).fill(padId), mask = new Float32Array(seqs.length * len).fill(1);
  seqs.forEach((s, b) => {
    ids.set(s, b * len);
    mask.fill(0, b * len, b * len + s.length);
  });
  return [tensor(ids, { shape: [seqs.length, len], dtype: 'int32' }), tensor(mask, { shape: [seqs.length, len] })];
}

/**
 * A transformer encoder–decoder (pre-norm, ReLU feed-forward); the decoder's output layer is the
 * target embedding matrix (tied weights). Parameter names: `src_emb`, `tgt_emb`, `encoder.N`,
 * `decoder.N` (PyTorch's TransformerEncoderLayer/DecoderLayer names inside), `enc_norm`, `dec_norm`.
 *
 * @example
 * ```ts
 * const model = new text.Translator({ srcVocab: 900, tgtVocab: 1200, width: 128, heads: 4, layers: 2, ff: 256 });
 * const loss = model.loss([src.encode('I am hungry.', { eos: true })], [tgt.encode("J'ai faim.", { bos: true, eos: true })]);
 * model.eval();
 * const [ids] = model.greedy([src.encode('I am hungry.', { eos: true })]);
 * tgt.decode(ids); // "j'ai faim ." once trained
 * ```
 */
export class Translator extends Module {
  src_emb: Embedding;
  tgt_emb: Embedding;
  pos: SinusoidalPositionalEncoding;
  encoder: TransformerEncoderLayer[];
  decoder: TransformerDecoderLayer[];
  enc_norm: LayerNorm;
  dec_norm: LayerNorm;
  readonly config: TranslatorConfig;

  constructor(config: TranslatorConfig) {
    super();
    const { srcVocab, tgtVocab, width: d, heads, layers, ff } = config;
    for (const [k, v] of [['srcVocab', srcVocab], ['tgtVocab', tgtVocab], ['width', d], ['heads', heads], ['layers', layers], ['ff', ff]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new SimdgradError(`Translator: ${k} must be a positive integer (got ${v})`);
    }
    if (d % heads !== 0) throw new SimdgradError(`Translator: width must be a multiple of heads (got width ${d}, heads ${heads})`);
    const dropout = config.dropout ?? 0.1;
    if (!(dropout >= 0 && dropout < 1)) throw new SimdgradError(`Translator: dropout must be in [0, 1) (got ${dropout})`);
    this.config = { ...config };
    this.src_emb = new Embedding(srcVocab, d);
    this.tgt_emb = new Embedding(tgtVocab, d);
    // NOTE: N(0, 1/√d) embeddings times √d below: unit-variance inputs, and tied output logits of O(1)
    for (const e of [this.src_emb, this.tgt_emb]) init.normal(e.weight, 0, d ** -0.5);
    this.pos = new SinusoidalPositionalEncoding(d, TRANSLATOR_MAX_POSITIONS, Math.sqrt(d));
    const o = { dimFeedforward: ff, dropout, normFirst: true, activation: 'relu' as const };
    this.encoder = Array.from({ length: layers }, () => new TransformerEncoderLayer(d, heads, o));
    this.decoder = Array.from({ length: layers }, () => new TransformerDecoderLayer(d, heads, o));
    this.enc_norm = new LayerNorm(d);
    this.dec_norm = new LayerNorm(d);
  }

  /** Source ids int32 [B, S] and their padding mask [B, S] (1 = padding) → memory [B, S, width]. */
  encode(src: Tensor, srcPad: Tensor | null = null): Tensor {
    let x = this.pos.forward(this.src_emb.forward(src));
    for (const l of this.encoder) x = l.forward(x, { srcKeyPaddingMask: srcPad });
    return this.enc_norm.forward(x);
  }

  /** Target inputs int32 [B, T] (starting with <bos>) over `memory` → next-token logits [B, T, tgtVocab]. */
  decode(tgtIn: Tensor, memory: Tensor, srcPad: Tensor | null = null): Tensor {
    let y = this.pos.forward(this.tgt_emb.forward(tgtIn));
    for (const l of this.decoder) y = l.forward(y, memory, { tgtIsCausal: true, memoryKeyPaddingMask: srcPad });
    return linear(this.dec_norm.forward(y), this.tgt_emb.weight);
  }

  /** Logits [B, T, tgtVocab] for source ids [B, S] (mask [B, S]) and target inputs [B, T]. */
  forward(src: Tensor, srcPad: Tensor, tgtIn: Tensor): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(src: Tensor, srcPad?: Tensor, tgtIn?: Tensor): Tensor {
    if (tgtIn === undefined) throw new SimdgradError('Translator.forward: expected (src, srcPad, tgtIn)');
    return this.decode(tgtIn, this.encode(src, srcPad ?? null), srcPad ?? null);
  }

  /**
   * Mean cross-entropy of a batch of pairs (teacher forcing): sources end with <eos>, targets are
   * <bos> … <eos>; padding is ignored. `labelSmoothing` as in crossEntropy (the example uses 0.1).
   */
  loss(srcSeqs: ArrayLike<number>[], tgtSeqs: ArrayLike<number>[], options: { padId?: number; labelSmoothing?: number } = {}): Tensor {
    if (srcSeqs.length !== tgtSeqs.length || srcSeqs.length === 0) {
      throw new SimdgradError(`Translator.loss: expected as many targets as sources, at least one (got ${srcSeqs.length} sources, ${tgtSeqs.length} targets)`);
    }
    const padId = options.padId ?? 0;
    this.checkLengths(srcSeqs, 'source', 0);
    this.checkLengths(tgtSeqs, 'target', 1);
    for (const t of tgtSeqs) if (t.length < 2) throw new SimdgradError(`Translator.loss: a target needs at least <bos> and <eos> (got ${t.length} token${t.length === 1 ? '' : 's'})`);
    const [src, pad] = padSequences(srcSeqs, 0, padId);
    const [tgt] = padSequences(tgtSeqs, 1, padId);
    const len = tgt.shape[1]!;
    const logits = this.forward(src, pad, tgt.narrow(1, 0, len - 1).contiguous());
    const target = tgt.narrow(1, 1, len - 1).contiguous().reshape([-1]);
    return crossEntropy(logits.reshape([-1, this.config.tgtVocab]), target, { ignoreIndex: padId, labelSmoothing: options.labelSmoothing ?? 0 });
  }

  /**
   * Greedy decoding of a batch of sources (id arrays ending with <eos>) → target ids per source,
   * without <bos>/<eos>. Runs without gradients; call `eval()` first to turn dropout off.
   */
  greedy(srcSeqs: ArrayLike<number>[], options: TranslateOptions = {}): number[][] {
    const { padId, bosId, eosId, maxLength } = this.decodeOptions(options, 'greedy');
    if (srcSeqs.length === 0) return [];
    this.checkLengths(srcSeqs, 'source', 0);
    return scope(() => noGrad(() => {
      const [src, pad] = padSequences(srcSeqs, 0, padId);
      const memory = this.encode(src, pad);
      const outs = srcSeqs.map(() => [bosId]);
      const done = srcSeqs.map(() => false);
      for (let t = 0; t < maxLength && done.some((d) => !d); t++) {
        const next = scope(() => {
          const ys = tensor(Int32Array.from(outs.flat()), { shape: [outs.length, t + 1], dtype: 'int32' });
          return Array.from(this.decode(ys, memory, pad).narrow(1, t, 1).squeeze(1).argmax(-1).toInt32Array());
        });
        next.forEach((id, b) => {
          outs[b]!.push(done[b] ? padId : id);
          if (id === eosId) done[b] = true;
        });
      }
      return outs.map((o) => {
        const end = o.indexOf(eosId);
        return o.slice(1, end < 0 ? undefined : end).filter((x) => x !== padId);
      });
    }));
  }

  /** Beam search for one source (ids ending with <eos>) → target ids without <bos>/<eos> (see text.beamSearch). */
  beam(srcIds: ArrayLike<number>, options: TranslateOptions & { beamSize?: number; lengthPenalty?: number } = {}): number[] {
    const { padId, bosId, eosId, maxLength } = this.decodeOptions(options, 'beam');
    this.checkLengths([srcIds], 'source', 0);
    return scope(() => noGrad(() => {
      const [src, pad] = padSequences([srcIds], 0, padId);
      const memory = this.encode(src, pad);
      return beamSearch((prefixes) => scope(() => {
        const n = prefixes.length, t = prefixes[0]!.length;
        const ys = tensor(Int32Array.from(prefixes.flat()), { shape: [n, t], dtype: 'int32' });
        const mem = memory.expand([n, ...memory.shape.slice(1)]).contiguous();
        const padN = pad.expand([n, pad.shape[1]!]).contiguous();
        const lp = this.decode(ys, mem, padN).narrow(1, t - 1, 1).squeeze(1).logSoftmax(-1).toFloat32Array();
        const v = lp.length / n;
        return Array.from({ length: n }, (_, i) => lp.subarray(i * v, (i + 1) * v));
      }), { beamSize: options.beamSize ?? 4, lengthPenalty: options.lengthPenalty, maxLength, bosId, eosId });
    }));
  }

  /** The config as strings, for a safetensors `__metadata__` entry. */
  metadata(): Record<string, string> {
    return { format: 'pt', architecture: 'transformer-seq2seq', config: JSON.stringify(this.config) };
  }

  private decodeOptions(o: TranslateOptions, op: string): SpecialIds & { maxLength: number } {
    const maxLength = o.maxLength ?? 24;
    if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > TRANSLATOR_MAX_POSITIONS - 1) {
      throw new SimdgradError(`Translator.${op}: maxLength must be an integer in 1…${TRANSLATOR_MAX_POSITIONS - 1} (got ${maxLength})`);
    }
    return { padId: o.padId ?? 0, bosId: o.bosId ?? 2, eosId: o.eosId ?? 3, maxLength };
  }

  private checkLengths(seqs: ArrayLike<number>[], what: string, extra: number): void {
    for (const s of seqs) {
      if (s.length === 0) throw new SimdgradError(`Translator: an empty ${what} sequence (help: sources end with <eos>)`);
      // padding rounds the length up to a multiple of 4 (+ extra), which must still fit the position table
      const padded = Math.ceil((s.length - extra) / 4) * 4 + extra;
      if (padded > TRANSLATOR_MAX_POSITIONS + extra) {
        throw new SimdgradError(`Translator: a ${what} sequence of ${s.length} tokens is longer than the ${TRANSLATOR_MAX_POSITIONS} positions the model has`);
      }
    }
  }
}
