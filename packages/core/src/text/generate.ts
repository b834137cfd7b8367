// Sampling from a language model's next-token logits (temperature, top-k, nucleus/top-p) and streaming
// generation with a KV cache.
import { SimdgradError } from '../errors.js';
import { noGrad } from '../autograd/graph.js';
import { scope } from '../memory.js';
import { tensor } from '../ops/creation.js';
import { Generator } from '../random.js';
import type { KVCache } from '../nn/attention.js';
import type { Tensor } from '../tensor.js';

export interface SamplingOptions {
  /** Divides the logits; 0 = greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined = all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 = all). */
  topP?: number;
  /** Random source (default: a Generator seeded with 0). */
  generator?: Generator;
}

/**
 * Picks a token id from one row of logits.
 *
 * @example
 * ```ts
 * const id = text.sample(Float32Array.from([0, 2, 1]), { temperature: 0.8, topK: 2 });
 * ```
 */
export function sample(logits: ArrayLike<number>, options: SamplingOptions = {}): number {
  const n = logits.length;
  if (n === 0) throw new SimdgradError('sample: empty logits');
  const temperature = options.temperature ?? 1;
  if (!(temperature >= 0)) throw new SimdgradError(`sample: temperature must be ≥ 0 (got ${temperature})`);
  const topP = options.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw new SimdgradError(`sample: topP must be in (0, 1] (got ${topP})`);
  const topK = options.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new SimdgradError(`sample: topK must be a non-negative integer (got ${topK})`);
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0 || topK === 1) return best;
  // candidates sorted by logit, descending
  let order = Array.from({ length: n }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]!);
  if (topK > 0 && topK < n) order = order.slice(0, topK);
  const max = logits[best]!;
  let probs = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  let total = probs.reduce((a, b) => a + b, 0);
  if (topP < 1) {
    let acc = 0, keep = 0;
    while (keep < probs.length && acc < topP * total) acc += probs[keep++]!;
    order = order.slice(0, Math.max(1, keep));
    probs = probs.slice(0, order.length);
    total = probs.reduce((a, b) => a + b, 0);
  }
  let u = (options.generator ?? defaultGenerator).uniform() * total;
  for (let j = 0; j < order.length; j++) {
    u -= probs[j]!;
    if (u <= 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

const defaultGenerator = new Generator(0);

/** What generate needs from a model: logits for ids [1, T] continuing the caches, and fresh caches. */
export interface CachedLanguageModel {
  forward(ids: Tensor, caches?: KVCache[] | null): Tensor;
  newCaches(batch?: number, maxLen?: number): KVCache[];
  readonly config: { contextLength: number };
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** Stop after this token (it is yielded). */
  stopToken?: number;
}

/**
 * Streams new token ids one by one after `prompt`. With the KV cache each step runs the model on one
 * token; when the context is full the cache is rebuilt from the last half-context of tokens (so
 * the cost per token stays flat however long the text).
 *
 * @example
 * ```ts
 * for (const id of text.generate(gpt, tok.encode('ROMEO:'), { maxNewTokens: 200, temperature: 0.8, topK: 40 })) {
 *   process.stdout.write(tok.decode([id]));
 * }
 * ```
 */
export function* generate(model: CachedLanguageModel, prompt: ArrayLike<number>, options: GenerateOptions): IterableIterator<number> {
  const ctx = model.config.contextLength;
  const tokens = Array.from(prompt);
  if (tokens.length === 0) throw new SimdgradError('generate: the prompt must hold at least one token');
  let caches: KVCache[] | null = null;
  const logitsOf = (ids: number[]): Float32Array => scope(() => noGrad(() => {
    const x = tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' });
    const logits = model.forward(x, caches);
    return logits.narrow(1, ids.length - 1, 1).reshape([-1]).toFloat32Array();
  }));
  const reset = (keep: number) => {
    caches?.forEach((c) => c.dispose());
    caches = model.newCaches(1, ctx);
    return logitsOf(tokens.slice(-keep));
  };
  try {
    let logits = reset(Math.min(tokens.length, ctx));
    for (let i = 0; i < options.maxNewTokens; i++) {
      const id = sample(logits, options);
      tokens.push(id);
      yield id;
      if (id === options.stopToken || i === options.maxNewTokens - 1) return;
      logits = caches![0]!.length >= ctx ? reset(Math.max(1, ctx >> 1)) : logitsOf([id]);
    }
  } finally {
    (caches as KVCache[] | null)?.forEach((c) => c.dispose());
  }
}

export interface BeamSearchOptions {
  beamSize?: number;
  /** Longest output, not counting the start token. */
  maxLength: number;
  bosId: number;
  eosId: number;
  /** Scores are divided by length^lengthPenalty when hypotheses are compared (0 = raw sum). Default 0.6. */
  lengthPenalty?: number;
}

/**
 * Beam search over a step function that returns next-token log-probabilities for each live prefix (all
 * prefixes have the same length, so a model can run them as one batch). Returns the best sequence
 * without the start and end tokens.
 *
 * @example
 * ```ts
 * const ids = text.beamSearch((prefixes) => logProbRows(prefixes), { beamSize: 4, maxLength: 20, bosId: 2, eosId: 3 });
 * ```
 */
export function beamSearch(step: (prefixes: number[][]) => ArrayLike<number>[], options: BeamSearchOptions): number[] {
  const k = options.beamSize ?? 4, alpha = options.lengthPenalty ?? 0.6;
  if (!Number.isInteger(k) || k < 1) throw new SimdgradError(`beamSearch: beamSize must be a positive integer (got ${k})`);
  const norm = (score: number, len: number) => score / Math.pow(Math.max(1, len), alpha);
  let beams: { tokens: number[]; score: number }[] = [{ tokens: [options.bosId], score: 0 }];
  const finished: { tokens: number[]; score: number }[] = [];
  for (let t = 0; t < options.maxLength && beams.length > 0; t++) {
    const rows = step(beams.map((b) => b.tokens));
    const cands: { tokens: number[]; score: number; eos: boolean }[] = [];
    beams.forEach((b, i) => {
      const row = rows[i]!;
      // the k best tokens of this row (k is small: a partial selection)
      const best: number[] = [];
      for (let v = 0; v < row.length; v++) {
        if (best.length < k) { best.push(v); best.sort((x, y) => row[y]! - row[x]!); continue; }
        if (row[v]! > row[best[k - 1]!]!) { best[k - 1] = v; best.sort((x, y) => row[y]! - row[x]!); }
      }
      for (const v of best) cands.push({ tokens: [...b.tokens, v], score: b.score + row[v]!, eos: v === options.eosId });
    });
    cands.sort((a, b) => b.score - a.score);
    beams = [];
    for (const c of cands) {
      if (c.eos) finished.push({ tokens: c.tokens.slice(1, -1), score: norm(c.score, c.tokens.length - 1) });
      else beams.push(c);
      if (beams.length === k) break;
    }
    // stop when no live beam can beat the best finished one any more (scores only fall)
    if (finished.length >= k) break;
  }
  for (const b of beams) finished.push({ tokens: b.tokens.slice(1), score: norm(b.score, b.tokens.length - 1) });
  finished.sort((a, b) => b.score - a.score);
  return finished[0]?.tokens ?? [];
}
