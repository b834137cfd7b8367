// The text page's pure helpers, shared by the page (checks before it asks the worker), the worker
// (checks again: it trusts no message) and the Node tests: the generation settings, the prompt against
// the model's vocabulary, and how characters and figures are shown. No engine code here, so the page's
// own bundle stays small.

/** What one Generate press asks the worker for. */
export interface GenerationSettings {
  prompt: string;
  /** New characters to generate. */
  length: number;
  /** Divides the logits; 0 = always the most likely character. */
  temperature: number;
  /** Keep only the k most likely characters (0 = all). */
  topK: number;
  /** Keep the smallest set of most likely characters whose probability reaches p (1 = all). */
  topP: number;
  /** Seeds the sampler's generator: the same seed, model and settings give the same text. */
  seed: number;
}

/** The longest generation one press may ask for. */
export const MAX_LENGTH = 5000;

/**
 * Every problem with the numeric settings, one `name: problem (got value)` line each (empty: all
 * fine). `vocabSize` bounds top-k.
 *
 * @example
 * ```ts
 * settingsProblems({ prompt: 'A', length: 0, temperature: 0.8, topK: 40, topP: 0.95, seed: 1 }, 65);
 * // ['length: must be a whole number from 1 to 5000 (got 0)']
 * ```
 */
export function settingsProblems(s: GenerationSettings, vocabSize: number): string[] {
  const problems: string[] = [];
  const whole = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!whole(s.length, 1, MAX_LENGTH)) problems.push(`length: must be a whole number from 1 to ${MAX_LENGTH} (got ${s.length})`);
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0 && s.temperature <= 10)) {
    problems.push(`temperature: must be from 0 (always the likeliest character) to 10 (got ${s.temperature})`);
  }
  if (!whole(s.topK, 0, vocabSize)) problems.push(`top-k: must be a whole number from 0 (all) to the vocabulary size ${vocabSize} (got ${s.topK})`);
  if (!(s.topP > 0 && s.topP <= 1)) problems.push(`top-p: must be above 0 and at most 1 (got ${s.topP})`);
  if (!whole(s.seed, 0, 2 ** 32 - 1)) problems.push(`seed: must be a whole number from 0 to 4294967295 (got ${s.seed})`);
  return problems;
}

/** The distinct characters (code points) of `prompt` that are not in `vocabulary`, in order of first use. */
export function unknownCharacters(prompt: string, vocabulary: readonly string[]): string[] {
  const known = new Set(vocabulary);
  const unknown: string[] = [];
  for (const c of prompt) if (!known.has(c) && !unknown.includes(c)) unknown.push(c);
  return unknown;
}

/** A character as a reader can see it: `"a"`, `"\n"`, `" "` with its code point, e.g. `"é" (U+00E9)`. */
export function showCharacter(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return `${JSON.stringify(c)} (U+${code.toString(16).toUpperCase().padStart(4, '0')})`;
}

/**
 * Why the model cannot continue `prompt`, or null when it can: an empty prompt, or characters the
 * model never saw in training (a character model has no way to read them).
 *
 * @example
 * ```ts
 * promptProblem('Café', ['C', 'a', 'f', 'e']);
 * // 'prompt: 1 character is not in the model\'s vocabulary: "é" (U+00E9) (help: remove or replace it; …)'
 * ```
 */
export function promptProblem(prompt: string, vocabulary: readonly string[]): string | null {
  if (prompt.length === 0) return 'prompt: empty (help: type at least one character for the model to continue, e.g. ROMEO:)';
  const unknown = unknownCharacters(prompt, vocabulary);
  if (unknown.length === 0) return null;
  const shown = unknown.slice(0, 8).map(showCharacter).join(', ') + (unknown.length > 8 ? `, and ${unknown.length - 8} more` : '');
  const known = vocabulary.map((c) => (c === '\n' ? '⏎' : c === ' ' ? '␣' : c)).join('');
  return `prompt: ${unknown.length} character${unknown.length === 1 ? ' is' : 's are'} not in the model's vocabulary: ${shown} ` +
    `(help: remove or replace ${unknown.length === 1 ? 'it' : 'them'}; the model knows only the ${vocabulary.length} characters it was trained on: ${known})`;
}

/** A byte count as `3.3 MB` / `812 KB` / `90 B` (1 KB = 1024 bytes). */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} B`;
}

/** Tokens per second over `seconds` (0 before any time has passed), rounded for display. */
export function formatRate(tokens: number, seconds: number): string {
  if (!(seconds > 0)) return '–';
  const rate = tokens / seconds;
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(1);
}
