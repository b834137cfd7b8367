// The text page's helpers and its worker's model in Node: settings and prompt checks, the model file's
// metadata, and generation with the shipped weights (apps/demo/src/assets/charlm.safetensors).
import { readFileSync } from 'node:fs';
import { Generator, init, io, SimdgradError, text } from '@simdgrad/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharModel, readCharModelMetadata, recordedValLoss } from '../src/pages/text/char-model.js';
import {
  formatBytes, formatRate, MAX_LENGTH, promptProblem, settingsProblems, showCharacter, unknownCharacters, type GenerationSettings,
} from '../src/pages/text/settings.js';

const weights = readFileSync(new URL('../src/assets/charlm.safetensors', import.meta.url));
const ok: GenerationSettings = { prompt: 'ROMEO:', length: 50, temperature: 0.8, topK: 40, topP: 0.95, seed: 7 };

beforeAll(async () => {
  await init();
});

describe('text settings', () => {
  it('accepts sensible settings, including the edges', () => {
    expect(settingsProblems(ok, 65)).toEqual([]);
    expect(settingsProblems({ ...ok, length: MAX_LENGTH, temperature: 0, topK: 65, topP: 1, seed: 2 ** 32 - 1 }, 65)).toEqual([]);
    expect(settingsProblems({ ...ok, length: 1, topK: 0, seed: 0 }, 65)).toEqual([]);
  });

  it('names each bad setting with what it expected and what it got', () => {
    const cases: [Partial<GenerationSettings>, string][] = [
      [{ length: 0 }, 'length: must be a whole number from 1 to 5000 (got 0)'],
      [{ length: 2.5 }, 'length: must be a whole number from 1 to 5000 (got 2.5)'],
      [{ length: MAX_LENGTH + 1 }, `length: must be a whole number from 1 to 5000 (got ${MAX_LENGTH + 1})`],
      [{ temperature: -0.1 }, 'temperature: must be from 0 (always the likeliest character) to 10 (got -0.1)'],
      [{ temperature: NaN }, 'temperature: must be from 0 (always the likeliest character) to 10 (got NaN)'],
      [{ topK: 66 }, 'top-k: must be a whole number from 0 (all) to the vocabulary size 65 (got 66)'],
      [{ topK: -1 }, 'top-k: must be a whole number from 0 (all) to the vocabulary size 65 (got -1)'],
      [{ topP: 0 }, 'top-p: must be above 0 and at most 1 (got 0)'],
      [{ topP: 1.5 }, 'top-p: must be above 0 and at most 1 (got 1.5)'],
      [{ seed: -1 }, 'seed: must be a whole number from 0 to 4294967295 (got -1)'],
      [{ seed: 2 ** 32 }, 'seed: must be a whole number from 0 to 4294967295 (got 4294967296)'],
    ];
    for (const [bad, message] of cases) expect(settingsProblems({ ...ok, ...bad }, 65)).toEqual([message]);
    expect(settingsProblems({ ...ok, length: 0, topP: 2 }, 65)).toHaveLength(2);
  });

  it('finds the characters a vocabulary lacks: distinct, in order of first use, whole code points', () => {
    const vocab = ['\n', ' ', 'A', 'B', 'a', 'b'];
    expect(unknownCharacters('Ab ab\nBA', vocab)).toEqual([]);
    expect(unknownCharacters('aéb€é😀a', vocab)).toEqual(['é', '€', '😀']);
    expect(unknownCharacters('', vocab)).toEqual([]);
  });

  it('shows characters with their code points', () => {
    expect(showCharacter('é')).toBe('"é" (U+00E9)');
    expect(showCharacter('\n')).toBe('"\\n" (U+000A)');
    expect(showCharacter('😀')).toBe('"😀" (U+1F600)');
  });

  it('explains a prompt the model cannot read, and passes one it can', () => {
    const vocab = [' ', 'C', 'a', 'e', 'f'];
    expect(promptProblem('Cafe', vocab)).toBeNull();
    expect(promptProblem('', vocab)).toMatch(/^prompt: empty \(help: type at least one character/);
    const one = promptProblem('Café', vocab)!;
    expect(one).toMatch(/^prompt: 1 character is not in the model's vocabulary: "é" \(U\+00E9\) \(help: remove or replace it;/);
    expect(one).toContain('only the 5 characters it was trained on: ␣Caef');
    const many = promptProblem('0123456789', vocab)!;
    expect(many).toContain('10 characters are not in');
    expect(many).toContain('"7" (U+0037), and 2 more');
    expect(many).not.toContain('"8"');
  });

  it('formats sizes and rates', () => {
    expect([90, 2048, 3277848].map(formatBytes)).toEqual(['90 B', '2 KB', '3.1 MB']);
    expect(formatRate(500, 2)).toBe('250');
    expect(formatRate(5, 2)).toBe('2.5');
    expect(formatRate(3, 0)).toBe('–');
  });
});

describe('the character model file', () => {
  const config = { vocabSize: 3, contextLength: 8, nLayer: 1, nHead: 2, nEmbd: 4, dropout: 0 };
  const meta = (over: Record<string, string> = {}) => ({ config: JSON.stringify(config), vocab: JSON.stringify({ type: 'char', tokens: ['a', 'b', 'c'] }), ...over });

  it('reads the config and vocabulary from the metadata', () => {
    const m = readCharModelMetadata(meta({ producer: 'simdgrad train charlm' }));
    expect(m.config).toEqual(config);
    expect(m.vocabulary).toEqual(['a', 'b', 'c']);
    expect(m.valLoss).toBeNull();
    expect(m.producer).toBe('simdgrad train charlm');
  });

  it('refuses metadata that does not describe a character GPT, saying what is wrong', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ config: undefined as unknown as string }, /charModel: the file's __metadata__ has no "config" \(the GPT config\)/],
      [{ vocab: undefined as unknown as string }, /charModel: the file's __metadata__ has no "vocab" \(the CharTokenizer\)/],
      [{ config: '{oops' }, /charModel: __metadata__ "config" is not valid JSON/],
      [{ config: '3' }, /charModel: __metadata__ "config" must be a JSON object \(got 3\)/],
      [{ config: JSON.stringify({ ...config, nLayer: 0 }) }, /charModel: config.nLayer must be a positive whole number \(got 0\)/],
      [{ config: JSON.stringify({ ...config, nEmbd: undefined }) }, /charModel: config.nEmbd must be a positive whole number \(got undefined\)/],
      [{ config: JSON.stringify({ ...config, nHead: 3 }) }, /charModel: config.nEmbd must be a multiple of config.nHead \(got 4 and 3\)/],
      [{ vocab: JSON.stringify({ type: 'word', tokens: ['a', 'b', 'c'] }) }, /charModel: __metadata__ "vocab" must be a character tokenizer .* \(got type "word"\)/],
      [{ vocab: JSON.stringify({ type: 'char', tokens: ['a', 'b'] }) }, /charModel: the vocabulary has 2 characters but config.vocabSize is 3/],
    ];
    for (const [over, message] of cases) {
      const m = meta(over);
      for (const k of Object.keys(m)) if (m[k as keyof typeof m] === undefined) delete m[k as keyof typeof m];
      expect(() => readCharModelMetadata(m), message.source).toThrow(SimdgradError);
      expect(() => readCharModelMetadata(m)).toThrow(message);
    }
  });

  it('finds a recorded validation loss where a trainer may put it', () => {
    expect(recordedValLoss({})).toBeNull();
    expect(recordedValLoss({ valLoss: '1.628' })).toBe(1.628);
    expect(recordedValLoss({ val_loss: '1.5' })).toBe(1.5);
    expect(recordedValLoss({ summary: JSON.stringify({ steps: 10, valLoss: 1.7 }) })).toBe(1.7);
    expect(recordedValLoss({ metrics: JSON.stringify({ val_loss: '1.9' }) })).toBe(1.9);
    expect(recordedValLoss({ valLoss: 'n/a', summary: 'not json', training: 'null' })).toBeNull();
    expect(recordedValLoss({ valLoss: '' })).toBeNull();
  });

  it('says when the weights do not fit the config', () => {
    const gpt = new text.GPT(config);
    const bytes = io.save(gpt.stateDict(), meta({ config: JSON.stringify({ ...config, nEmbd: 8 }) }));
    gpt.dispose();
    expect(() => CharModel.fromSafetensors(bytes)).toThrow(/charModel: the weights do not fit the config in the metadata/);
  });
});

describe('the shipped character model (what the page worker runs)', () => {
  let m: CharModel;
  beforeAll(() => { m = CharModel.fromSafetensors(weights); });
  afterAll(() => m?.dispose());
  const run = (s: GenerationSettings) => Array.from(m.generate(s), (g) => g.char).join('');

  it('is a few MB at most, and its facts come from its own metadata', () => {
    expect(weights.length).toBeLessThan(5 * 1024 * 1024);
    const { config, vocab } = io.load(weights).metadata as { config: string; vocab: string };
    const c = JSON.parse(config) as text.GPTConfig;
    const f = m.facts;
    expect([f.layers, f.heads, f.width, f.context, f.vocabSize]).toEqual([c.nLayer, c.nHead, c.nEmbd, c.contextLength, c.vocabSize]);
    expect(f.vocabulary).toEqual((JSON.parse(vocab) as { tokens: string[] }).tokens);
    expect(f.bytes).toBe(weights.length);
    // float32 weights: 4 bytes each, plus the header
    expect(f.parameters * 4).toBeLessThan(f.bytes);
    expect(f.parameters * 4).toBeGreaterThan(f.bytes * 0.95);
    expect(f.vocabulary).toEqual(expect.arrayContaining(['R', 'O', 'M', 'E', ':', '\n', ' ']));
  });

  it('continues a prompt with exactly the asked number of characters, all from its vocabulary, past the context length', () => {
    const n = 2 * m.facts.context + 5; // the KV cache is rebuilt when the context fills
    const steps = Array.from(m.generate({ ...ok, length: n }));
    expect(steps.map((s) => s.count)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(steps.every((s) => s.char.length === 1 && m.facts.vocabulary.includes(s.char))).toBe(true);
    expect(steps.every((s, i) => i === 0 || s.seconds >= steps[i - 1]!.seconds)).toBe(true);
  });

  it('gives the same text for the same seed and settings, and the same as text.generate', () => {
    const a = run(ok), b = run(ok), c = run({ ...ok, seed: ok.seed + 1 });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    // the engine's own sampler, called directly with the same seed
    const tok = text.CharTokenizer.fromJSON({ type: 'char', tokens: m.facts.vocabulary });
    const ids = text.generate(m.model, tok.encode(ok.prompt), {
      maxNewTokens: ok.length, temperature: ok.temperature, topK: ok.topK, topP: ok.topP, generator: new Generator(ok.seed),
    });
    expect(tok.decode(Array.from(ids))).toBe(a);
  });

  it('greedy decoding (temperature 0) does not depend on the seed', () => {
    expect(run({ ...ok, temperature: 0, seed: 1 })).toBe(run({ ...ok, temperature: 0, seed: 99 }));
  });

  it('refuses a prompt with characters it never saw, before running anything', () => {
    expect(m.problem({ ...ok, prompt: 'ROMÉO:' })).toMatch(/^prompt: 1 character is not in the model's vocabulary: "É" \(U\+00C9\)/);
    expect(() => run({ ...ok, prompt: 'ROMÉO:' })).toThrow(SimdgradError);
    expect(() => run({ ...ok, prompt: '' })).toThrow(/prompt: empty/);
    expect(() => run({ ...ok, topP: 0 })).toThrow(/top-p: must be above 0 and at most 1 \(got 0\)/);
    expect(m.problem(ok)).toBeNull();
  });
});
