// Tokenizers for small language models: one token per character, or per word/punctuation mark.
// Both map text to int ids and back, and save their vocabulary as JSON.
import { SimdgradError } from '../errors.js';

interface VocabJson {
  type: 'char' | 'word';
  tokens: string[];
  lower?: boolean;
}

abstract class VocabTokenizer {
  readonly index = new Map<string, number>();
  constructor(readonly tokens: string[]) {
    tokens.forEach((t, i) => {
      if (this.index.has(t)) throw new SimdgradError(`Tokenizer: duplicate token ${JSON.stringify(t)} in the vocabulary`);
      this.index.set(t, i);
    });
  }
  get vocabSize(): number {
    return this.tokens.length;
  }
  /** Token strings for ids (unknown ids throw). */
  protected pieces(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const t = this.tokens[ids[i]!];
      if (t === undefined) throw new SimdgradError(`decode: id ${ids[i]} is out of range for a vocabulary of ${this.tokens.length}`);
      out.push(t);
    }
    return out;
  }
  abstract encode(text: string): Int32Array;
  abstract decode(ids: ArrayLike<number>): string;
  abstract toJSON(): VocabJson;
}

/**
 * One token per character (Unicode code point); the vocabulary is the sorted set of characters seen.
 *
 * @example
 * ```ts
 * const tok = text.CharTokenizer.fromText('hello');
 * tok.decode(tok.encode('hell')); // 'hell'
 * ```
 */
export class CharTokenizer extends VocabTokenizer {
  static fromText(corpus: string): CharTokenizer {
    return new CharTokenizer([...new Set(Array.from(corpus))].sort());
  }
  static fromJSON(json: string | VocabJson): CharTokenizer {
    const v = typeof json === 'string' ? (JSON.parse(json) as VocabJson) : json;
    if (v.type !== 'char' || !Array.isArray(v.tokens)) throw new SimdgradError('CharTokenizer.fromJSON: expected {"type": "char", "tokens": [...]}');
    return new CharTokenizer(v.tokens);
  }
  encode(text: string): Int32Array {
    const chars = Array.from(text);
    const out = new Int32Array(chars.length);
    chars.forEach((c, i) => {
      const id = this.index.get(c);
      if (id === undefined) throw new SimdgradError(`CharTokenizer.encode: character ${JSON.stringify(c)} is not in the vocabulary`);
      out[i] = id;
    });
    return out;
  }
  decode(ids: ArrayLike<number>): string {
    return this.pieces(ids).join('');
  }
  toJSON(): VocabJson {
    return { type: 'char', tokens: [...this.tokens] };
  }
}

/** Splits text into words and single punctuation marks (letters, digits, apostrophes and hyphens stay in words). */
export function splitWords(text: string, lower = true): string[] {
  const norm = (lower ? text.toLowerCase() : text).replace(/[\u00a0\u202f]/g, ' ');
  return norm.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]/gu) ?? [];
}

export const SPECIAL_TOKENS = ['<pad>', '<unk>', '<bos>', '<eos>'] as const;

/**
 * A word-level tokenizer (no BPE): words and punctuation marks, lower-cased by default, with the
 * special tokens `<pad>`=0, `<unk>`=1, `<bos>`=2, `<eos>`=3 first. Words seen fewer than `minCount`
 * times map to `<unk>`.
 */
export class WordTokenizer extends VocabTokenizer {
  readonly padId = 0;
  readonly unkId = 1;
  readonly bosId = 2;
  readonly eosId = 3;
  constructor(tokens: string[], readonly lower = true) {
    super(tokens);
    SPECIAL_TOKENS.forEach((s, i) => {
      if (tokens[i] !== s) throw new SimdgradError(`WordTokenizer: token ${i} must be ${s} (got ${JSON.stringify(tokens[i])})`);
    });
  }
  static fromTexts(texts: Iterable<string>, options: { minCount?: number; lower?: boolean; maxSize?: number } = {}): WordTokenizer {
    const lower = options.lower ?? true;
    const counts = new Map<string, number>();
    for (const t of texts) for (const w of splitWords(t, lower)) counts.set(w, (counts.get(w) ?? 0) + 1);
    let words = [...counts].filter(([, c]) => c >= (options.minCount ?? 1));
    words.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    if (options.maxSize !== undefined) words = words.slice(0, Math.max(0, options.maxSize - SPECIAL_TOKENS.length));
    return new WordTokenizer([...SPECIAL_TOKENS, ...words.map(([w]) => w)], lower);
  }
  static fromJSON(json: string | VocabJson): WordTokenizer {
    const v = typeof json === 'string' ? (JSON.parse(json) as VocabJson) : json;
    if (v.type !== 'word' || !Array.isArray(v.tokens)) throw new SimdgradError('WordTokenizer.fromJSON: expected {"type": "word", "tokens": [...]}');
    return new WordTokenizer(v.tokens, v.lower ?? true);
  }
  /** Ids of the words of `text`, optionally wrapped in <bos> … <eos>. */
  encode(text: string, options: { bos?: boolean; eos?: boolean } = {}): Int32Array {
    const ids = splitWords(text, this.lower).map((w) => this.index.get(w) ?? this.unkId);
    if (options.bos) ids.unshift(this.bosId);
    if (options.eos) ids.push(this.eosId);
    return Int32Array.from(ids);
  }
  /** Words joined by spaces, without special tokens (stops at <eos>). */
  decode(ids: ArrayLike<number>): string {
    const out: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] === this.eosId) break;
      if (ids[i] !== this.padId && ids[i] !== this.bosId) out.push(ids[i]!);
    }
    return this.pieces(out).join(' ');
  }
  toJSON(): VocabJson {
    return { type: 'word', tokens: [...this.tokens], lower: this.lower };
  }
}

/** Reads a vocabulary saved with `JSON.stringify(tokenizer)`. */
export function tokenizerFromJSON(json: string): CharTokenizer | WordTokenizer {
  const v = JSON.parse(json) as VocabJson;
  return v.type === 'word' ? WordTokenizer.fromJSON(v) : CharTokenizer.fromJSON(v);
}
