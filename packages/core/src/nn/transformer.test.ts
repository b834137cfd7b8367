import { beforeAll, describe, expect, it } from 'vitest';
import { init, manualSeed, nn, randn, scope, tensor } from '../index.js';
import { checkOp, expectAllClose } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

describe('nn.TransformerEncoderLayer / nn.TransformerDecoderLayer', () => {
  it('have PyTorch state-dict keys', () => {
    const enc = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
    expect(Object.keys(enc.stateDict())).toEqual([
      'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
    ]);
    const dec = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16 });
    expect(Object.keys(dec.stateDict()).filter((k) => !k.startsWith('self_attn'))).toEqual([
      'multihead_attn.in_proj_weight', 'multihead_attn.in_proj_bias', 'multihead_attn.out_proj.weight', 'multihead_attn.out_proj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias',
      'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias', 'norm3.weight', 'norm3.bias',
    ]);
  });

  it('post-norm output rows are normalised; pre-norm is the residual form; eval removes dropout', () => scope(() => {
    manualSeed(2);
    const x = randn([2, 3, 8]);
    const post = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 }).eval();
    const y = post.forward(x);
    const mean = y.mean(-1).toFloat32Array();
    expectAllClose(mean, new Float32Array(6), 0, 1e-5, 'post-norm mean');
    const pre = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, normFirst: true, activation: 'gelu', dropout: 0.5 });
    pre.eval();
    const a = pre.forward(x).toFloat32Array(), b = pre.forward(x).toFloat32Array();
    expectAllClose(a, b, 0, 0, 'deterministic in eval');
    // pre-norm by hand: x + sa(ln1(x)), then + ff(ln2(·))
    const h = x.add(pre.self_attn.forward(pre.norm1.forward(x)));
    const want = h.add(pre.linear2.forward(pre.linear1.forward(pre.norm2.forward(h)).gelu()));
    expectAllClose(a, want.toFloat32Array(), 1e-5, 1e-6, 'pre-norm');
  }));

  it('decoder: causal target, memory padding', () => scope(() => {
    manualSeed(3);
    const dec = new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0 });
    const tgt = randn([1, 4, 8]), mem = randn([1, 3, 8]);
    const pad = tensor([[0, 0, 1]]);
    const y1 = dec.forward(tgt, mem, { tgtIsCausal: true, memoryKeyPaddingMask: pad }).narrow(1, 0, 2).toFloat32Array();
    const tgt2 = tgt.narrow(1, 0, 2);
    const mem2 = mem.narrow(1, 0, 2);
    const y2 = dec.forward(tgt2, mem2, { tgtIsCausal: true }).toFloat32Array();
    expectAllClose(y1, y2, 1e-5, 1e-6, 'causal + padding');
  }));

  it('gradcheck', async () => {
    await checkOp('encoder post-norm', (x) => new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0 }).forward(x!, { isCausal: true }), [{ shape: [2, 3, 4] }]);
    await checkOp('encoder pre-norm gelu', (x) => new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true, activation: 'gelu' }).forward(x!),
      [{ shape: [1, 3, 4] }]);
    await checkOp('decoder', (t, m) => new nn.TransformerDecoderLayer(4, 2, { dimFeedforward: 6, dropout: 0, normFirst: true }).forward(t!, m!, { tgtIsCausal: true }),
      [{ shape: [1, 3, 4] }, { shape: [1, 2, 4] }]);
  });
});

describe('positional embeddings', () => {
  it('sinusoidal table values', () => {
    const pe = new nn.SinusoidalPositionalEncoding(4, 10);
    const y = pe.forward(tensor([[[0, 0, 0, 0], [0, 0, 0, 0]]]), 1).toFloat32Array();
    expectAllClose(y, [Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01), Math.sin(2), Math.cos(2), Math.sin(0.02), Math.cos(0.02)], 1e-6, 1e-7, 'pe');
    expect(pe.parameters().length).toBe(0);
    expect(() => pe.forward(tensor([[[0, 0, 0, 0]]]), 10)).toThrow('SinusoidalPositionalEncoding: positions 10…10 exceed maxLen 10');
  });

  it('learned: adds rows offset…offset+T-1, gradcheck', async () => {
    const pos = new nn.LearnedPositionalEmbedding(5, 2);
    const y = pos.forward(tensor([[[1, 1], [2, 2]]]), 3).toFloat32Array();
    const w = pos.weight.toFloat32Array();
    expectAllClose(y, [1 + w[6]!, 1 + w[7]!, 2 + w[8]!, 2 + w[9]!], 1e-6, 1e-7, 'learned');
    expect(pos.namedParameters().map(([k]) => k)).toEqual(['weight']);
    await checkOp('learned pos', (x) => new nn.LearnedPositionalEmbedding(4, 3).forward(x!, 1), [{ shape: [2, 3, 3] }]);
  });
});
