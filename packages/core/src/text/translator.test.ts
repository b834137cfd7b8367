import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, init, manualSeed, noGrad, optim, scope, text } from '../index.js';
import { expectAllClose, trainStep } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

// a toy "translation": the target spells the source with other ids (each shifted by 4)
const PAD = 0, BOS = 2, EOS = 3;
const source = (words: number[]) => [...words, EOS];
const target = (words: number[]) => [BOS, ...words.map((w) => w + 4), EOS];

describe('text.Translator', () => {
  it('shapes, tied output weights, parameter names and argument checks', () => scope(() => noGrad(() => {
    manualSeed(0);
    const m = new text.Translator({ srcVocab: 10, tgtVocab: 12, width: 8, heads: 2, layers: 1, ff: 16, dropout: 0 });
    const [src, pad] = text.padSequences([[4, 5, 3], [6, 3]]);
    expect(src.shape).toEqual([2, 4]);
    expect(Array.from(pad.toFloat32Array())).toEqual([0, 0, 0, 1, 0, 0, 1, 1]);
    const [tgt] = text.padSequences([[2, 7, 3], [2, 3]], 1);
    expect(tgt.shape).toEqual([2, 5]);
    expect(m.forward(src, pad, tgt).shape).toEqual([2, 5, 12]);
    const names = m.namedParameters().map(([k]) => k);
    expect(names.slice(0, 3)).toEqual(['src_emb.weight', 'tgt_emb.weight', 'encoder.0.self_attn.in_proj_weight']);
    expect(names).toContain('decoder.0.multihead_attn.in_proj_weight');
    expect(m.metadata()).toEqual({ format: 'pt', architecture: 'transformer-seq2seq', config: JSON.stringify(m.config) });
    expect(() => new text.Translator({ srcVocab: 10, tgtVocab: 12, width: 10, heads: 4, layers: 1, ff: 16 })).toThrow('Translator: width must be a multiple of heads (got width 10, heads 4)');
    expect(() => new text.Translator({ srcVocab: 0, tgtVocab: 12, width: 8, heads: 2, layers: 1, ff: 16 })).toThrow('Translator: srcVocab must be a positive integer (got 0)');
    expect(() => m.greedy([[4, 3]], { maxLength: 64 })).toThrow('Translator.greedy: maxLength must be an integer in 1…63 (got 64)');
    expect(() => m.greedy([new Array(65).fill(4)])).toThrow('Translator: a source sequence of 65 tokens is longer than the 64 positions the model has');
  })));

  it('the output layer is the target embedding (tied): a token never fed in still gets a gradient', () => scope(() => {
    manualSeed(3);
    const m = new text.Translator({ srcVocab: 10, tgtVocab: 12, width: 8, heads: 2, layers: 1, ff: 16, dropout: 0 });
    m.loss([[4, 5, 3]], [[2, 11, 3]]).backward();
    const g = m.tgt_emb.weight.grad!.toFloat32Array();
    const row = (i: number) => Array.from(g.subarray(i * 8, (i + 1) * 8));
    expect(row(11).some((v) => v !== 0)).toBe(true); // 11 is only a target, never a decoder input
    expect(row(9).some((v) => v !== 0)).toBe(true); // so is every other row (the softmax over the vocabulary)
    expect(m.namedParameters().length).toBe(2 + 12 + 18 + 4);
  }));

  it('padding does not change the logits of a sentence', () => scope(() => noGrad(() => {
    manualSeed(1);
    const m = new text.Translator({ srcVocab: 10, tgtVocab: 12, width: 8, heads: 2, layers: 2, ff: 16, dropout: 0 });
    m.eval();
    const [srcA, padA] = text.padSequences([[4, 5, 6, 3]]);
    const [srcB, padB] = text.padSequences([[4, 5, 6, 3], [7, 8, 9, 5, 4, 3]]);
    const [tgt] = text.padSequences([[2, 7, 8]], 0);
    const a = m.forward(srcA, padA, tgt).toFloat32Array();
    const b = m.forward(srcB, padB, tgt.expand([2, 4]).contiguous()).narrow(0, 0, 1).toFloat32Array();
    expectAllClose(b, a, 1e-5, 1e-5, 'padded batch');
  })));

  it('learns a toy translation; greedy and beam decode them', () => {
    manualSeed(2);
    const m = new text.Translator({ srcVocab: 10, tgtVocab: 14, width: 32, heads: 2, layers: 1, ff: 64, dropout: 0 });
    const adam = new optim.AdamW(m.parameters(), { lr: 5e-3 });
    const gen = new Generator(7);
    const sample = () => Array.from({ length: gen.int(2, 5) }, () => gen.int(4, 10));
    let first = 0, last = 0;
    for (let step = 0; step < 300; step++) {
      const batch = Array.from({ length: 16 }, sample);
      adam.paramGroups[0]!.lr = 5e-3 * (1 - step / 300);
      last = trainStep(adam, () => m.loss(batch.map(source), batch.map(target), { padId: PAD }));
      if (step === 0) first = last;
    }
    expect(last).toBeLessThan(first / 4);
    m.eval();
    const tests = [[4, 5, 6], [9, 8, 7, 6], [5, 5]];
    const greedy = m.greedy(tests.map(source), { bosId: BOS, eosId: EOS, padId: PAD });
    expect(greedy).toEqual(tests.map((w) => target(w).slice(1, -1)));
    expect(m.beam(source(tests[1]!), { beamSize: 3, bosId: BOS, eosId: EOS })).toEqual(target(tests[1]!).slice(1, -1));
    expect(() => m.loss([[4, 3]], [[2]])).toThrow('Translator.loss: a target needs at least <bos> and <eos> (got 1 token)');
  });
});
