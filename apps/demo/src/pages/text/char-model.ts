// The character-level GPT as the text page's worker runs it (and the Node tests): a safetensors file as
// `examples/charlm.mjs` and `simdgrad train charlm` write it — nanoGPT-style weight names, and a
// __metadata__ whose `config` is the GPT config (JSON) and `vocab` the CharTokenizer (JSON) — loaded
// into text.GPT and sampled with text.generate (KV cache; temperature, top-k, top-p; a seeded Generator).
// Nothing about the architecture is assumed: it all comes from the file.
import { Generator, SimdgradError, io, text } from '@simdgrad/core';
import { promptProblem, settingsProblems, type GenerationSettings } from './settings.js';

/** What the page shows about the model (all read from the file). */
export interface ModelFacts {
  parameters: number;
  layers: number;
  heads: number;
  width: number;
  context: number;
  vocabSize: number;
  /** The vocabulary, in id order (the page checks prompts against it). */
  vocabulary: string[];
  /** Validation loss in nats per character, when the file records it (null otherwise). */
  valLoss: number | null;
  /** The file's size in bytes. */
  bytes: number;
  /** Who wrote the file (`producer` metadata), when it says. */
  producer: string | null;
}

/** The parts of a character model's __metadata__ the page needs, checked. */
export interface CharModelMetadata {
  config: text.GPTConfig;
  vocabulary: string[];
  valLoss: number | null;
  producer: string | null;
}

const CONFIG_FIELDS = ['vocabSize', 'contextLength', 'nLayer', 'nHead', 'nEmbd'] as const;

/** A metadata entry holding JSON, parsed, or a clear error naming the entry. */
function jsonEntry(metadata: Record<string, string>, key: string, what: string): unknown {
  const raw = metadata[key];
  if (raw === undefined) {
    throw new SimdgradError(`charModel: the file's __metadata__ has no "${key}" (${what}) (help: use a file written by \`simdgrad train charlm\` or examples/charlm.mjs)`);
  }
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new SimdgradError(`charModel: __metadata__ "${key}" is not valid JSON (${(e as Error).message})`);
  }
}

/** A finite number from a metadata value (a number, or a string holding one), else null. */
function finite(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

/**
 * The validation loss a file records, if any: a `valLoss` (or `val_loss`) entry, or a `valLoss` field
 * inside a JSON `summary`, `metrics` or `training` entry. Null when none is there.
 */
export function recordedValLoss(metadata: Record<string, string>): number | null {
  for (const key of ['valLoss', 'val_loss']) {
    const v = finite(metadata[key]);
    if (v !== null) return v;
  }
  for (const key of ['summary', 'metrics', 'training']) {
    if (metadata[key] === undefined) continue;
    try {
      const obj = JSON.parse(metadata[key]!) as Record<string, unknown> | null;
      const v = obj && typeof obj === 'object' ? finite(obj['valLoss'] ?? obj['val_loss']) : null;
      if (v !== null) return v;
    } catch {
      // not JSON: no loss recorded there
    }
  }
  return null;
}

/**
 * Reads and checks a character model's __metadata__: the GPT config (positive whole sizes, heads
 * dividing the width, vocabulary size matching the tokenizer) and the character vocabulary.
 *
 * @example
 * ```ts
 * const { config, vocabulary } = readCharModelMetadata(io.load(bytes).metadata);
 * ```
 */
export function readCharModelMetadata(metadata: Record<string, string>): CharModelMetadata {
  const config = jsonEntry(metadata, 'config', 'the GPT config') as Record<string, unknown>;
  if (config === null || typeof config !== 'object') throw new SimdgradError(`charModel: __metadata__ "config" must be a JSON object (got ${metadata['config']})`);
  for (const f of CONFIG_FIELDS) {
    const v = config[f];
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) {
      throw new SimdgradError(`charModel: config.${f} must be a positive whole number (got ${JSON.stringify(v)})`);
    }
  }
  const c = config as unknown as text.GPTConfig;
  if (c.nEmbd % c.nHead !== 0) throw new SimdgradError(`charModel: config.nEmbd must be a multiple of config.nHead (got ${c.nEmbd} and ${c.nHead})`);
  const vocab = jsonEntry(metadata, 'vocab', 'the CharTokenizer') as { type?: unknown; tokens?: unknown } | null;
  if (vocab === null || typeof vocab !== 'object' || vocab.type !== 'char' || !Array.isArray(vocab.tokens) || !vocab.tokens.every((t) => typeof t === 'string')) {
    throw new SimdgradError(`charModel: __metadata__ "vocab" must be a character tokenizer {"type": "char", "tokens": [...]} (got type ${JSON.stringify(vocab?.type)})`);
  }
  const vocabulary = vocab.tokens as string[];
  if (vocabulary.length !== c.vocabSize) {
    throw new SimdgradError(`charModel: the vocabulary has ${vocabulary.length} characters but config.vocabSize is ${c.vocabSize}`);
  }
  return { config: { ...c, dropout: 0 }, vocabulary, valLoss: recordedValLoss(metadata), producer: metadata['producer'] ?? null };
}

/** One generated character, with the running count and the seconds since generation began. */
export interface GeneratedChar {
  char: string;
  count: number;
  seconds: number;
}

/** A trained character-level GPT and its tokenizer, ready to continue prompts. */
export class CharModel {
  private constructor(
    readonly model: text.GPT,
    readonly tokenizer: text.CharTokenizer,
    readonly facts: ModelFacts,
  ) {}

  /** Builds the GPT the file's metadata describes and loads its weights (eval mode). */
  static fromSafetensors(bytes: Uint8Array | ArrayBuffer): CharModel {
    const size = bytes.byteLength;
    const { tensors, metadata } = io.load(bytes);
    let meta: CharModelMetadata;
    let model: text.GPT;
    try {
      meta = readCharModelMetadata(metadata);
      model = new text.GPT(meta.config);
      try {
        model.loadStateDict(tensors);
      } catch (e) {
        model.dispose();
        throw new SimdgradError(`charModel: the weights do not fit the config in the metadata (${(e as Error).message})`);
      }
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
    model.eval();
    const c = meta.config;
    const facts: ModelFacts = {
      parameters: model.parameters().reduce((n, p) => n + p.size, 0),
      layers: c.nLayer, heads: c.nHead, width: c.nEmbd, context: c.contextLength, vocabSize: c.vocabSize,
      vocabulary: meta.vocabulary, valLoss: meta.valLoss, bytes: size, producer: meta.producer,
    };
    return new CharModel(model, text.CharTokenizer.fromJSON({ type: 'char', tokens: meta.vocabulary }), facts);
  }

  /** Why these settings cannot run (prompt first), or null. */
  problem(s: GenerationSettings): string | null {
    return promptProblem(s.prompt, this.facts.vocabulary) ?? (settingsProblems(s, this.facts.vocabSize)[0] ?? null);
  }

  /**
   * Streams the characters that continue `s.prompt`, one per step (the prompt itself is not
   * repeated). Deterministic: a Generator seeded with `s.seed` drives the sampling. Throws a
   * SimdgradError naming the problem for settings `problem()` rejects.
   */
  *generate(s: GenerationSettings): IterableIterator<GeneratedChar> {
    const problem = this.problem(s);
    if (problem !== null) throw new SimdgradError(problem);
    const t0 = performance.now();
    let count = 0;
    const ids = text.generate(this.model, this.tokenizer.encode(s.prompt), {
      maxNewTokens: s.length, temperature: s.temperature, topK: s.topK, topP: s.topP, generator: new Generator(s.seed),
    });
    for (const id of ids) {
      count++;
      yield { char: this.tokenizer.decode([id]), count, seconds: (performance.now() - t0) / 1000 };
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
