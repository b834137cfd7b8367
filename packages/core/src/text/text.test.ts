import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, init, manualSeed, nn, noGrad, optim, scope, tensor, text } from '../index.js';
import { expectAllClose, trainStep } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

describe('tokenizers', () => {
  it('CharTokenizer round trip and JSON', () => {
    const tok = text.CharTokenizer.fromText('hello world\n');
    expect(tok.vocabSize).toBe(9);
    expect(tok.decode(tok.encode('low hell'))).toBe('low hell');
    const back = text.tokenizerFromJSON(JSON.stringify(tok));
    expect(Array.from(back.encode('world'))).toEqual(Array.from(tok.encode('world')));
    expect(() => tok.encode('z')).toThrow('CharTokenizer.encode: character "z" is not in the vocabulary');
  });

  it('WordTokenizer: words, punctuation, specials, unknowns, JSON', () => {
    expect(text.splitWords("I'm here, aren't\u202fI ?")).toEqual(["i'm", 'here', ',', "aren't", 'i', '?']);
    const tok = text.WordTokenizer.fromTexts(['the cat sat.', 'the dog sat!'], { minCount: 1 });
    expect(tok.tokens.slice(0, 6)).toEqual(['<pad>', '<unk>', '<bos>', '<eos>', 'sat', 'the']);
    const ids = tok.encode('The bird sat.', { bos: true, eos: true });
    expect(Array.from(ids)).toEqual([2, tok.index.get('the'), 1, tok.index.get('sat'), tok.index.get('.'), 3]);
    expect(tok.decode(ids)).toBe('the <unk> sat .');
    const back = text.WordTokenizer.fromJSON(JSON.stringify(tok));
    expect(back.tokens).toEqual(tok.tokens);
  });
});

describe('sampling', () => {
  it('greedy, top-k, top-p and temperature', () => {
    const logits = Float32Array.from([1, 3, 2, 0]);
    expect(text.sample(logits, { temperature: 0 })).toBe(1);
    expect(text.sample(logits, { topK: 1 })).toBe(1);
    expect(text.sample(logits, { topP: 0.01 })).toBe(1);
    const g = new Generator(1);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(text.sample(logits, { topK: 2, generator: g }));
    expect([...seen].sort()).toEqual([1, 2]);
    // frequencies follow softmax at temperature 1
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[text.sample(logits, { generator: g })]!++;
    const z = [1, 3, 2, 0].map(Math.exp), s = z.reduce((a, b) => a + b);
    counts.forEach((c, i) => expect(Math.abs(c / 4000 - z[i]! / s)).toBeLessThan(0.03));
    expect(() => text.sample(logits, { topP: 0 })).toThrow('sample: topP must be in (0, 1] (got 0)');
  });
});

describe('text.GPT', () => {
  it('cached incremental logits equal the uncached forward', () => scope(() => noGrad(() => {
    manualSeed(0);
    const gpt = new text.GPT({ vocabSize: 11, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 8 });
    gpt.eval();
    const ids = [3, 1, 4, 1, 5, 9, 2, 6];
    const full = gpt.forward(tensor(Int32Array.from(ids), { shape: [1, 8], dtype: 'int32' })).toFloat32Array();
    const caches = gpt.newCaches(1);
    const parts: number[] = [];
    parts.push(...gpt.forward(tensor(Int32Array.from(ids.slice(0, 3)), { shape: [1, 3], dtype: 'int32' }), caches).toFloat32Array());
    for (let t = 3; t < 8; t++) parts.push(...gpt.forward(tensor([[ids[t]!]], { dtype: 'int32' }), caches).toFloat32Array());
    caches.forEach((c) => c.dispose());
    expectAllClose(parts, full, 1e-4, 1e-5, 'cached logits');
    expect(gpt.namedParameters().slice(0, 3).map(([k]) => k)).toEqual(['wte.weight', 'wpe.weight', 'h.0.self_attn.in_proj_weight']);
  })));

  it('learns a repeating sequence and generates it (streaming, past the context)', () => {
    manualSeed(1);
    const gpt = new text.GPT({ vocabSize: 5, contextLength: 8, nLayer: 1, nHead: 2, nEmbd: 16 });
    const seq = Int32Array.from({ length: 9 * 4 }, (_, i) => i % 5);
    const adam = new optim.AdamW(gpt.parameters(), { lr: 1e-2 });
    let first = 0, last = 0;
    for (let step = 0; step < 60; step++) {
      last = trainStep(adam, () => {
        const s = step % 4;
        const x = tensor(seq.slice(s, s + 8), { shape: [1, 8], dtype: 'int32' });
        const y = tensor(seq.slice(s + 1, s + 9), { shape: [8], dtype: 'int32' });
        return nn.functional.crossEntropy(gpt.forward(x).reshape([8, 5]), y);
      });
      if (step === 0) first = last;
    }
    expect(last).toBeLessThan(first / 10);
    gpt.eval();
    const out = [...text.generate(gpt, [0, 1, 2], { maxNewTokens: 20, temperature: 0 })];
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => (i + 3) % 5));
  });
});

describe('corpusBleu', () => {
  it('is 100 for exact matches and matches a hand computation', () => {
    const ref = 'the cat is on the mat'.split(' ');
    expect(text.corpusBleu([ref], [[ref]]).bleu).toBeCloseTo(100, 10);
    // hypothesis 'the cat the mat' (4 tokens) vs ref (6): p1 = 4/4, p2 = 2/3 ('the cat', 'the mat'), p3 = 0/2
    const r = text.corpusBleu([['the', 'cat', 'the', 'mat']], [[ref]]);
    expect(r.precisions.slice(0, 3)).toEqual([1, 2 / 3, 0]);
    expect(r.bleu).toBe(0);
    // a two-sentence corpus: the statistics are summed before the geometric mean
    const h = [['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'c', 'x']], refs = [[['a', 'b', 'c', 'd', 'e']], [['a', 'b', 'c', 'd']]];
    const b = text.corpusBleu(h, refs);
    const p = [8 / 9, 6 / 7, 4 / 5, 2 / 3];
    expect(b.bleu).toBeCloseTo(100 * Math.exp(p.reduce((a, x) => a + Math.log(x), 0) / 4), 10);
    expect(b.brevityPenalty).toBe(1);
    const short = text.corpusBleu([['a', 'b', 'c', 'd']], [[['a', 'b', 'c', 'd', 'e', 'f']]]);
    expect(short.brevityPenalty).toBeCloseTo(Math.exp(1 - 6 / 4), 12);
  });
});
