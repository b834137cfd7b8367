import { beforeAll, describe, expect, it } from 'vitest';
import { cat, init, manualSeed, nn, randn, scope, tensor, type Tensor } from '../index.js';
import { checkOp, expectAllClose } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

const sdpa = nn.scaledDotProductAttention;

describe('scaledDotProductAttention', () => {
  it('matches a hand computation', () => {
    // one query [1, 0] against keys [1, 0] and [0, 1]: scores 1/√2 and 0
    const q = tensor([[1, 0]]), k = tensor([[1, 0], [0, 1]]), v = tensor([[1, 2], [3, 4]]);
    const w1 = Math.exp(1 / Math.SQRT2) / (Math.exp(1 / Math.SQRT2) + 1);
    expectAllClose(sdpa(q, k, v).toFloat32Array(), [w1 * 1 + (1 - w1) * 3, w1 * 2 + (1 - w1) * 4], 1e-5, 1e-6, 'sdpa');
    // causal: the first query sees only the first key
    const q2 = tensor([[1, 0], [0, 1]]);
    expectAllClose(sdpa(q2, k, v, { isCausal: true }).toFloat32Array().slice(0, 2), [1, 2], 1e-6, 1e-6, 'causal row 0');
  });

  it('a fully masked row gives finite values (no NaN), and its gradient is finite', () => {
    const q = randn([1, 2, 3], { requiresGrad: true }), k = randn([1, 4, 3]), v = randn([1, 4, 3]);
    const mask = tensor([[1, 1, 1, 1], [0, 1, 0, 1]]);
    const [y, w] = sdpa(q, k, v, { attnMask: mask, needWeights: true });
    expect(Array.from(y.toFloat32Array()).every(Number.isFinite)).toBe(true);
    expectAllClose(w.toFloat32Array(), [0.25, 0.25, 0.25, 0.25, w.toFloat32Array()[4]!, 0, w.toFloat32Array()[6]!, 0], 1e-6, 1e-7, 'weights');
    y.sum().backward();
    expect(Array.from(q.grad!.toFloat32Array()).every(Number.isFinite)).toBe(true);
  });

  it('forward vs reference and gradcheck: plain, causal, masked, batched heads', async () => {
    await checkOp('sdpa', (q, k, v) => sdpa(q!, k!, v!), [{ shape: [2, 3, 4] }, { shape: [2, 5, 4] }, { shape: [2, 5, 3] }]);
    await checkOp('sdpa causal', (q, k, v) => sdpa(q!, k!, v!, { isCausal: true }), [{ shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }, { shape: [1, 2, 4, 3] }]);
    await checkOp('sdpa mask', (q, k, v) => sdpa(q!, k!, v!, { attnMask: tensor([[0, 1, 0], [1, 0, 0]]) }), [{ shape: [2, 3] }, { shape: [3, 3] }, { shape: [3, 2] }]);
  });
});

describe('nn.MultiheadAttention', () => {
  it('has PyTorch parameter names, shapes and init', () => {
    const m = new nn.MultiheadAttention(8, 2);
    expect(m.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
      ['in_proj_weight', [24, 8]], ['in_proj_bias', [24]], ['out_proj.weight', [8, 8]], ['out_proj.bias', [8]],
    ]);
    expect(Array.from(m.in_proj_bias!.toFloat32Array()).every((x) => x === 0)).toBe(true);
    const bound = Math.sqrt(6 / (8 + 24)); // Xavier-uniform over [3E, E]
    expect(Array.from(m.in_proj_weight!.toFloat32Array()).every((x) => Math.abs(x) <= bound)).toBe(true);
    const kv = new nn.MultiheadAttention(8, 2, { kdim: 3, vdim: 5 });
    expect(kv.namedParameters().map(([k]) => k)).toEqual(['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'in_proj_bias', 'out_proj.weight', 'out_proj.bias']);
    expect(() => new nn.MultiheadAttention(6, 4)).toThrow('MultiheadAttention: embedDim 6 must be divisible by numHeads 4');
  });

  it('equals a per-head computation by hand', () => scope(() => {
    manualSeed(3);
    const e = 4, h = 2, d = 2;
    const m = new nn.MultiheadAttention(e, h);
    const x = randn([1, 3, e]);
    const y = m.forward(x, x, x).toFloat32Array();
    const w = m.in_proj_weight!, b = m.in_proj_bias!;
    const heads: Tensor[] = [];
    for (let i = 0; i < h; i++) {
      const proj = (j: number) => x.matmul(w.narrow(0, j * e + i * d, d).t()).add(b.narrow(0, j * e + i * d, d));
      const q = proj(0), k = proj(1), v = proj(2);
      heads.push(q.matmul(k.transpose(1, 2)).div(Math.sqrt(d)).softmax(-1).matmul(v));
    }
    const joined = nn.functional.linear(cat(heads, -1), m.out_proj.weight, m.out_proj.bias);
    expectAllClose(y, joined.toFloat32Array(), 1e-5, 1e-6, 'mha');
  }));

  it('causal: outputs do not depend on later positions; padding: on padded keys', () => scope(() => {
    manualSeed(4);
    const m = new nn.MultiheadAttention(8, 4);
    const x = randn([2, 5, 8]);
    const changed = x.narrow(1, 0, 3).clone();
    const y1 = m.forward(x, x, x, { isCausal: true }).narrow(1, 0, 3).toFloat32Array();
    const xb = cat([changed, randn([2, 2, 8])], 1);
    const y2 = m.forward(xb, xb, xb, { isCausal: true }).narrow(1, 0, 3).toFloat32Array();
    expectAllClose(y1, y2, 1e-5, 1e-6, 'causal');
    const pad = tensor([[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]]);
    const p1 = m.forward(x, x, x, { keyPaddingMask: pad }).narrow(0, 0, 1).narrow(1, 0, 3).toFloat32Array();
    const kv = cat([x.narrow(1, 0, 3), randn([2, 2, 8])], 1);
    const p2 = m.forward(x, kv, kv, { keyPaddingMask: pad }).narrow(0, 0, 1).narrow(1, 0, 3).toFloat32Array();
    expectAllClose(p1, p2, 1e-5, 1e-6, 'padding');
  }));

  it('gradcheck through the module (self- and cross-attention, masks)', async () => {
    await checkOp('mha self causal', (x) => new nn.MultiheadAttention(4, 2).forward(x!, x!, x!, { isCausal: true }), [{ shape: [2, 3, 4] }]);
    await checkOp('mha cross padded', (q, kv) => new nn.MultiheadAttention(4, 2).forward(q!, kv!, kv!, { keyPaddingMask: tensor([[0, 0, 1, 1], [0, 0, 0, 1]]) }),
      [{ shape: [2, 2, 4] }, { shape: [2, 4, 4] }]);
  });

  it('a KV cache gives the same outputs as the full causal forward', () => scope(() => {
    manualSeed(5);
    const m = new nn.MultiheadAttention(8, 2);
    const x = randn([1, 6, 8]);
    const full = m.forward(x, x, x, { isCausal: true }).toFloat32Array();
    const cache = new nn.KVCache(1, 2, 6, 4);
    const parts: number[] = [];
    const first = x.narrow(1, 0, 2);
    parts.push(...m.forward(first, first, first, { isCausal: true, cache }).toFloat32Array());
    for (let t = 2; t < 6; t++) {
      const xt = x.narrow(1, t, 1);
      parts.push(...m.forward(xt, xt, xt, { isCausal: true, cache }).toFloat32Array());
    }
    cache.dispose();
    expectAllClose(parts, full, 1e-5, 1e-6, 'cached');
  }));
});
