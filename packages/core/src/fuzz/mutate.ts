// A small seeded mutation fuzzer for the file readers (tests only; not part of the public API).
// Each case takes a valid seed file and applies 1–4 mutations: bit flips, random bytes, byte insertion
// and deletion, splices from another seed, chunk duplication, truncation, and "interesting" integers
// (0, −1, 2^31, 0xFFFFFFFF, 2^53, 2^63, …) written over 1/2/4/8 bytes in either byte order — the
// values that break length and offset fields. Text formats also get token insertions ("NaN", "1e400",
// quotes, delimiters, newlines) and JSON files structure-aware value swaps.
// see: AFL's "havoc" stage (bit flips, interesting values, splicing) for the choice of mutations.

/** mulberry32: a tiny, fast, seeded 32-bit PRNG (the fuzzer must not touch the engine's generator). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)]!;
  }
}

/** Integers that break length, count and offset fields (as unsigned 64-bit patterns). */
export const INTERESTING: readonly bigint[] = [
  0n, 1n, 2n, 7n, 8n, 16n, 127n, 128n, 255n, 256n, 0x7fffn, 0x8000n, 0xffffn, 0x10000n,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n,
  2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 64n - 8n,
];

/** JSON values that break parsers of headers and configs. */
// NOTE: always inserted as structuredClone()s: inserting a shared object could make later trees cyclic.
const INTERESTING_JSON: readonly unknown[] = [
  null, true, false, 0, -1, 1, 0.5, -0.0, 1e308, -1e308, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, 2 ** 63, 2 ** 64,
  '', 'x', 'F32', 'I64', 'BOOL', '__proto__', [], [0], [-1], [2 ** 32, 2 ** 32], [2 ** 63, 2 ** 63], [0, 2 ** 63], [1, 0], [0, 2 ** 53 + 1],
  {}, { type: 'linear' }, [[]], '1e400', 'NaN',
];

const TOKENS: readonly string[] = [
  'NaN', 'nan', '-inf', 'Infinity', '1e400', '-1e400', '1e-400', '0x10', '9007199254740993', '-0', '', ' ', ',', ';', '\t', '\n', '\r\n', '\r',
  '"', '""', '"a,b"', '\u0000', '\uFEFF', '\uD800', 'é', '{', '}', '[', ']', ':', '-', '.', 'e', '1', '0', '999999999999999999999',
];

function writeInt(b: Uint8Array, at: number, value: bigint, width: number, bigEndian: boolean): void {
  for (let i = 0; i < width && at + i < b.length; i++) {
    const byte = Number((value >> BigInt(8 * i)) & 0xffn);
    b[bigEndian ? at + width - 1 - i : at + i] = byte;
  }
}

export interface MutateOptions {
  /** Other valid files to splice from. */
  corpus?: readonly Uint8Array[];
  /** Offsets where length/count fields live (e.g. 0 for the safetensors header size), hit more often. */
  fieldOffsets?: readonly number[];
  /** Text formats: also insert and replace whole tokens. */
  text?: boolean;
  /** Most bytes a case may have (insertions stop there). */
  maxLength?: number;
}

/** One mutated copy of `seed` (1–4 mutations). */
export function mutate(rng: Rng, seed: Uint8Array, options: MutateOptions = {}): Uint8Array {
  let b: Uint8Array = seed.slice();
  const maxLength = options.maxLength ?? 1 << 16;
  const rounds = 1 + rng.int(0, 4);
  for (let r = 0; r < rounds; r++) {
    const kind = rng.int(0, options.text ? 11 : 9);
    const at = b.length === 0 ? 0 : rng.int(0, b.length);
    switch (kind) {
      case 0: // flip a bit
        if (b.length > 0) b[at] = b[at]! ^ (1 << rng.int(0, 8));
        break;
      case 1: // set a random byte
        if (b.length > 0) b[at] = rng.int(0, 256);
        break;
      case 2: { // insert 1–8 random bytes
        const n = rng.int(1, 9);
        if (b.length + n > maxLength) break;
        const out = new Uint8Array(b.length + n);
        out.set(b.subarray(0, at));
        for (let i = 0; i < n; i++) out[at + i] = rng.int(0, 256);
        out.set(b.subarray(at), at + n);
        b = out;
        break;
      }
      case 3: { // delete 1–16 bytes
        const n = Math.min(rng.int(1, 17), b.length - at);
        const out = new Uint8Array(b.length - n);
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + n), at);
        b = out;
        break;
      }
      case 4: // truncate
        b = b.slice(0, rng.int(0, b.length + 1));
        break;
      case 5: // an interesting integer, anywhere or on a known field
      case 6: {
        const fields = options.fieldOffsets ?? [];
        const where = kind === 6 && fields.length > 0 ? rng.pick(fields) : at;
        writeInt(b, where, rng.pick(INTERESTING), rng.pick([1, 2, 4, 8]), rng.next() < 0.5);
        break;
      }
      case 7: { // splice: our head with another file's tail
        const corpus = options.corpus ?? [];
        if (corpus.length === 0) break;
        const other = rng.pick(corpus);
        const cut = rng.int(0, other.length + 1);
        const out = new Uint8Array(Math.min(maxLength, at + other.length - cut));
        out.set(b.subarray(0, Math.min(at, out.length)));
        out.set(other.subarray(cut, cut + out.length - at), at);
        b = out;
        break;
      }
      case 8: { // duplicate a chunk
        const n = Math.min(rng.int(1, 65), b.length - at);
        if (b.length + n > maxLength) break;
        const out = new Uint8Array(b.length + n);
        out.set(b.subarray(0, at + n));
        out.set(b.subarray(at), at + n);
        b = out;
        break;
      }
      case 9: { // text: insert a token
        const tok = new TextEncoder().encode(rng.pick(TOKENS));
        const out = new Uint8Array(b.length + tok.length);
        out.set(b.subarray(0, at));
        out.set(tok, at);
        out.set(b.subarray(at), at + tok.length);
        b = out;
        break;
      }
      default: { // text: replace the run of digits/letters at `at` by a token
        let end = at;
        while (end < b.length && /[0-9A-Za-z.+-]/.test(String.fromCharCode(b[end]!))) end++;
        const tok = new TextEncoder().encode(rng.pick(TOKENS));
        const out = new Uint8Array(b.length - (end - at) + tok.length);
        out.set(b.subarray(0, at));
        out.set(tok, at);
        out.set(b.subarray(end), at + tok.length);
        b = out;
      }
    }
  }
  return b;
}

/**
 * Structure-aware JSON mutation: parses `json`, replaces 1–3 values (or deletes a key, or adds one)
 * anywhere in the tree with interesting values, and re-serialises. Returns the text unchanged-but-valid
 * JSON, so the reader's checks (not its JSON parser) are what is exercised.
 */
export function mutateJson(rng: Rng, json: string, extraKeys: readonly string[] = []): string {
  let root: unknown = JSON.parse(json);
  const slots: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((x, i) => { slots.push({ parent: v, key: i }); walk(x); });
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { slots.push({ parent: v as Record<string, unknown>, key: k }); walk(x); }
  };
  const rounds = 1 + rng.int(0, 3);
  for (let r = 0; r < rounds; r++) {
    slots.length = 0;
    walk(root);
    if (slots.length === 0) { root = structuredClone(rng.pick(INTERESTING_JSON)); continue; }
    const s = rng.pick(slots);
    const choice = rng.int(0, 10);
    if (choice === 0 && !Array.isArray(s.parent)) delete (s.parent as Record<string, unknown>)[s.key as string];
    else if (choice === 1 && !Array.isArray(s.parent)) (s.parent as Record<string, unknown>)[extraKeys.length > 0 && rng.next() < 0.5 ? rng.pick(extraKeys) : `k${rng.int(0, 9)}`] = structuredClone(rng.pick(INTERESTING_JSON));
    else if (choice === 2 && typeof (s.parent as Record<string | number, unknown>)[s.key] === 'number') {
      const v = (s.parent as Record<string | number, number>)[s.key]!;
      (s.parent as Record<string | number, unknown>)[s.key] = rng.pick([v + 1, v - 1, -v, v * 2 ** 32, v + 0.5, v * 1e300]);
    } else (s.parent as Record<string | number, unknown>)[s.key] = structuredClone(rng.pick(INTERESTING_JSON));
  }
  return JSON.stringify(root);
}
