import { beforeAll, describe, expect, it } from 'vitest';
import { gradcheck, init, manualSeed, nn, randn, scope, tensor, zeros, type Tensor } from '../index.js';
import { checkOp, expectAllClose } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

class TwoLayer extends nn.Module {
  fc1 = new nn.Linear(4, 8);
  act = new nn.ReLU();
  fc2 = new nn.Linear(8, 3);
  forward(x: Tensor): Tensor {
    return this.fc2.forward(this.act.forward(this.fc1.forward(x)));
  }
}

describe('nn.Module', () => {
  it('registers parameters from fields with dotted PyTorch names', () => {
    const m = new TwoLayer();
    expect(m.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
      ['fc1.weight', [8, 4]], ['fc1.bias', [8]], ['fc2.weight', [3, 8]], ['fc2.bias', [3]],
    ]);
    expect(m.parameters().length).toBe(4);
    expect(m.parameters().every((p) => p.requiresGrad)).toBe(true);
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.Tanh(), new nn.Linear(3, 1, { bias: false }));
    expect(Object.keys(seq.stateDict())).toEqual(['0.weight', '0.bias', '2.weight']);
  });

  it('prints the module tree', () => {
    const seq = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Dropout(0.2));
    expect(seq.toString()).toBe(
      'Sequential(\n  (0): Linear(in_features=784, out_features=256, bias=true)\n  (1): ReLU()\n  (2): Dropout(p=0.2)\n)');
  });

  it('train() and eval() reach every submodule', () => {
    const m = new nn.Sequential(new nn.Dropout(), new nn.Sequential(new nn.BatchNorm1d(3)));
    m.eval();
    expect(m.modules().every((x) => !x.training)).toBe(true);
    m.train();
    expect(m.modules().every((x) => x.training)).toBe(true);
  });

  it('stateDict round trip and strict checks', () => {
    manualSeed(1);
    const a = new TwoLayer();
    const b = new TwoLayer();
    const x = randn([5, 4]);
    expect(a.forward(x).toArray()).not.toEqual(b.forward(x).toArray());
    b.loadStateDict(a.stateDict());
    expect(b.forward(x).toArray()).toEqual(a.forward(x).toArray());
    const sd = { ...a.stateDict() };
    delete sd['fc2.bias'];
    expect(() => b.loadStateDict(sd)).toThrow("loadStateDict: keys do not match (missing: fc2.bias; unexpected: none)");
    expect(() => b.loadStateDict({ ...a.stateDict(), extra: zeros([1]) })).toThrow(/unexpected: extra/);
    expect(() => b.loadStateDict({ ...a.stateDict(), 'fc1.bias': zeros([7]) })).toThrow("loadStateDict: 'fc1.bias' has shape [7], the model expects [8]");
    expect(b.loadStateDict(sd, false).missingKeys).toEqual(['fc2.bias']);
  });

  it('zeroGrad drops gradients', () => {
    const m = new TwoLayer();
    scope(() => m.forward(randn([2, 4])).sum().backward());
    expect(m.fc1.weight.grad).not.toBeNull();
    m.zeroGrad();
    expect(m.parameters().every((p) => p.grad === null)).toBe(true);
  });

  it('parameters survive scopes (they are kept)', () => {
    const m = scope(() => new TwoLayer());
    expect(m.fc1.weight.disposed).toBe(false);
    expect(m.forward(randn([1, 4])).shape).toEqual([1, 3]);
  });

  it('BatchNorm registers running statistics under PyTorch names', () => {
    const bn = new nn.BatchNorm2d(3);
    expect(Object.keys(bn.stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  });
});

describe('layers: output against the reference backend and gradient against finite differences', () => {
  it('Linear matches x·Wᵀ + b and initialises within ±1/√in', async () => {
    manualSeed(3);
    const lin = new nn.Linear(17, 5);
    const bound = 1 / Math.sqrt(17);
    for (const v of [...lin.weight.toFloat32Array(), ...lin.bias!.toFloat32Array()]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    const x = randn([3, 17]);
    const y = lin.forward(x);
    const expected = x.matmul(lin.weight.t()).add(lin.bias!);
    expectAllClose(y.toFloat32Array(), expected.toFloat32Array(), 1e-6, 1e-6, 'linear');
    await checkOp('linear', (xx, w, b) => nn.functional.linear(xx, w, b), [{ shape: [3, 17] }, { shape: [5, 17] }, { shape: [5] }]);
    await checkOp('linear 3-D', (xx, w) => nn.functional.linear(xx, w), [{ shape: [2, 3, 4] }, { shape: [5, 4] }]);
  });

  it('LayerNorm normalises the trailing dims', async () => {
    await checkOp('layerNorm', (x, w, b) => nn.functional.layerNorm(x, [5], w, b), [{ shape: [3, 5] }, { shape: [5] }, { shape: [5] }]);
    await checkOp('layerNorm 2 dims', (x) => nn.functional.layerNorm(x, [3, 5]), [{ shape: [2, 3, 5] }]);
    const ln = new nn.LayerNorm(17);
    const y = ln.forward(randn([4, 17]).mul(3).add(2));
    expectAllClose(y.mean(-1).toFloat32Array(), new Float32Array(4), 0, 1e-5, 'mean 0');
    expectAllClose(y.var(-1, false, false).toFloat32Array(), new Float32Array(4).fill(1), 1e-3, 1e-3, 'var 1');
  });

  it('BatchNorm uses batch statistics in training, running statistics in eval, and updates them', async () => {
    await checkOp('batchNorm train', (x, w, b) => nn.functional.batchNorm(x, null, null, w, b, true), [{ shape: [4, 3] }, { shape: [3] }, { shape: [3] }]);
    await checkOp('batchNorm 2d', (x) => nn.functional.batchNorm(x, null, null, null, null, true), [{ shape: [2, 3, 2, 2] }]);
    const bn = new nn.BatchNorm1d(2, { momentum: 0.5 });
    const x = tensor([[1, 10], [3, 20], [5, 60]]);
    const y = bn.forward(x);
    // batch mean [3, 30], biased var [8/3, 1400/3]
    expectAllClose(y.toFloat32Array(), Float32Array.from([-1.2247, -0.9258, 0, -0.4629, 1.2247, 1.3887]), 1e-3, 1e-3, 'train output');
    // running = 0.5·old + 0.5·batch; the variance unbiased (4, 700)
    expectAllClose(bn.buffer('running_mean')!.toFloat32Array(), Float32Array.from([1.5, 15]), 1e-6, 1e-6, 'running mean');
    expectAllClose(bn.buffer('running_var')!.toFloat32Array(), Float32Array.from([2.5, 350.5]), 1e-6, 1e-5, 'running var');
    expect(bn.buffer('num_batches_tracked')!.item()).toBe(1);
    bn.eval();
    const z = bn.forward(tensor([[1.5, 15]]));
    expectAllClose(z.toFloat32Array(), new Float32Array(2), 0, 1e-5, 'eval output');
  });

  it('Embedding looks rows up by int32 indices', async () => {
    manualSeed(0);
    const emb = new nn.Embedding(10, 4, { paddingIdx: 0 });
    const idx = tensor([[1, 0], [9, 1]], { dtype: 'int32' });
    const y = emb.forward(idx);
    expect(y.shape).toEqual([2, 2, 4]);
    expect(Array.from(y.toFloat32Array().slice(4, 8))).toEqual([0, 0, 0, 0]);
    await checkOp('embedding', (w, i) => nn.functional.embedding(i, w), [{ shape: [10, 3] }, { shape: [2, 5], int: [0, 10] }]);
    expect(() => emb.forward(tensor([10], { dtype: 'int32' }))).toThrow(/index 10 at position 0 is out of range for dim 0 of size 10/);
  });

  it('activation modules', async () => {
    const x = randn([3, 5], { requiresGrad: true });
    for (const m of [new nn.ReLU(), new nn.Sigmoid(), new nn.Tanh(), new nn.GELU(), new nn.GELU('tanh'), new nn.LeakyReLU(0.2),
      new nn.ELU(0.5), new nn.SiLU(), new nn.Softmax(1), new nn.LogSoftmax(0)]) {
      expect(gradcheck((a) => m.forward(a), [x]), m.toString()).toBe(true);
    }
  });

  it('Dropout zeroes about p of the elements in training and nothing in eval', () => {
    manualSeed(5);
    const d = new nn.Dropout(0.3);
    const y = d.forward(zeros([10000]).add(1)).toFloat32Array();
    const zerosFrac = y.filter((v) => v === 0).length / y.length;
    expect(zerosFrac).toBeGreaterThan(0.27);
    expect(zerosFrac).toBeLessThan(0.33);
    expect(y.filter((v) => v !== 0).every((v) => Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
    d.eval();
    expect(Array.from(d.forward(tensor([1, 2])).toFloat32Array())).toEqual([1, 2]);
  });
});

describe('losses', () => {
  const logits = () => tensor([[2, 1, 0.1], [0.5, 2.5, 0.3]], { requiresGrad: true });
  const labels = () => tensor([0, 2], { dtype: 'int32' });
  const lse = (r: number[]) => Math.log(r.reduce((a, b) => a + Math.exp(b), 0));

  it('cross-entropy equals −log softmax at the target, with mean/sum/none', () => {
    const e0 = lse([2, 1, 0.1]) - 2, e1 = lse([0.5, 2.5, 0.3]) - 0.3;
    expect(nn.functional.crossEntropy(logits(), labels()).item()).toBeCloseTo((e0 + e1) / 2, 5);
    expect(new nn.CrossEntropyLoss({ reduction: 'sum' }).forward(logits(), labels()).item()).toBeCloseTo(e0 + e1, 5);
    expectAllClose(nn.functional.crossEntropy(logits(), labels(), { reduction: 'none' }).toFloat32Array(), [e0, e1], 1e-5, 1e-6, 'none');
  });

  it('label smoothing and ignoreIndex', () => {
    const eps = 0.1;
    const row = (r: number[], t: number) => {
      const l = lse(r);
      const nll = l - r[t]!;
      const uni = r.reduce((a, v) => a + (l - v), 0) / r.length;
      return (1 - eps) * nll + eps * uni;
    };
    const expected = (row([2, 1, 0.1], 0) + row([0.5, 2.5, 0.3], 2)) / 2;
    expect(nn.functional.crossEntropy(logits(), labels(), { labelSmoothing: eps }).item()).toBeCloseTo(expected, 5);
    const ignored = nn.functional.crossEntropy(logits(), tensor([0, -100], { dtype: 'int32' }), { ignoreIndex: -100 });
    expect(ignored.item()).toBeCloseTo(lse([2, 1, 0.1]) - 2, 5);
  });

  it('cross-entropy gradient is softmax − onehot (over N)', () => {
    const x = logits();
    nn.functional.crossEntropy(x, labels()).backward();
    const sm = x.softmax(1).toFloat32Array();
    const expected = Float32Array.from(sm, (v, i) => (v - (i === 0 || i === 5 ? 1 : 0)) / 2);
    expectAllClose(x.grad!.toFloat32Array(), expected, 1e-5, 1e-6, 'grad');
    expect(gradcheck((a) => nn.functional.crossEntropy(a, labels(), { labelSmoothing: 0.2 }), [logits()])).toBe(true);
  });

  it('cross-entropy over [N, C, d] inputs', async () => {
    await checkOp('ce 3-D', (x, t) => nn.functional.crossEntropy(x, t), [{ shape: [2, 4, 3] }, { shape: [2, 3], int: [0, 4] }]);
  });

  it('regression and binary losses against formulas', async () => {
    const a = tensor([0.5, -1, 2]), b = tensor([1, 1, 1]);
    expect(nn.functional.mseLoss(a, b).item()).toBeCloseTo((0.25 + 4 + 1) / 3, 6);
    expect(new nn.L1Loss().forward(a, b).item()).toBeCloseTo((0.5 + 2 + 1) / 3, 6);
    expect(new nn.HuberLoss().forward(a, b).item()).toBeCloseTo((0.125 + 1.5 + 0.5) / 3, 6);
    expect(new nn.SmoothL1Loss({ beta: 2 }).forward(a, b).item()).toBeCloseTo((0.0625 + 1 + 0.25) / 3, 6);
    const p = tensor([0.9, 0.2]), t = tensor([1, 0]);
    expect(new nn.BCELoss().forward(p, t).item()).toBeCloseTo(-(Math.log(0.9) + Math.log(0.8)) / 2, 5);
    const z = tensor([2, -1]);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    expect(new nn.BCEWithLogitsLoss().forward(z, t).item()).toBeCloseTo(-(Math.log(sig(2)) + Math.log(1 - sig(-1))) / 2, 5);
    expect(nn.functional.binaryCrossEntropyWithLogits(tensor([100, -100]), tensor([0, 1])).item()).toBeCloseTo(100, 3);
    await checkOp('huber', (x, y) => nn.functional.huberLoss(x, y), [{ shape: [17] }, { shape: [17] }]);
    await checkOp('bce logits', (x) => nn.functional.binaryCrossEntropyWithLogits(x, tensor([1, 0, 1])), [{ shape: [3] }]);
    await checkOp('nll', (x, tt) => nn.functional.nllLoss(x.logSoftmax(1), tt), [{ shape: [4, 5] }, { shape: [4], int: [0, 5] }]);
  });
});

describe('nn.init', () => {
  it('xavier and kaiming give the documented spread', () => {
    manualSeed(0);
    const w = zeros([256, 512]);
    nn.init.xavierUniform(w);
    const bound = Math.sqrt(6 / (256 + 512));
    expect(w.max().item()).toBeLessThanOrEqual(bound);
    expect(w.std().item()).toBeCloseTo(bound / Math.sqrt(3), 2);
    nn.init.kaimingNormal(w, { nonlinearity: 'relu' });
    expect(w.std().item()).toBeCloseTo(Math.sqrt(2 / 512), 2);
    nn.init.zeros(w);
    expect(w.abs().max().item()).toBe(0);
  });
});

describe('convolution and pooling', () => {
  const F = nn.functional;
  it('conv2d against the reference backend and finite differences', async () => {
    await checkOp('conv2d 3x3', (x, w, b) => F.conv2d(x, w, b), [{ shape: [2, 3, 5, 5] }, { shape: [4, 3, 3, 3] }, { shape: [4] }], { rtol: 1e-4 });
    await checkOp('conv2d stride 2 pad 1', (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1 }), [{ shape: [1, 2, 6, 5] }, { shape: [3, 2, 3, 3] }], { rtol: 1e-4 });
    await checkOp('conv2d dilation 2', (x, w) => F.conv2d(x, w, null, { dilation: 2, padding: [2, 1] }), [{ shape: [1, 2, 7, 7] }, { shape: [2, 2, 3, 2] }], { rtol: 1e-4 });
    await checkOp('conv2d groups 2', (x, w, b) => F.conv2d(x, w, b, { groups: 2, padding: 1 }), [{ shape: [2, 4, 4, 4] }, { shape: [6, 2, 3, 3] }, { shape: [6] }], { rtol: 1e-4 });
    await checkOp('conv2d 1x1', (x, w) => F.conv2d(x, w), [{ shape: [3, 5, 2, 3] }, { shape: [2, 5, 1, 1] }], { rtol: 1e-4 });
    // C/groups·kh·kw ≤ 27 convolves directly, more goes through im2col + GEMM: one case of each at stride 1
    await checkOp('conv2d direct, odd width', (x, w, b) => F.conv2d(x, w, b), [{ shape: [3, 1, 7, 13] }, { shape: [5, 1, 3, 3] }, { shape: [5] }], { rtol: 1e-4 });
    // 3×3, stride 1, C·kh·kw > 27: Winograd F(2×2, 3×3) (forward, input and weight gradients), padding 0, 1 and 2,
    // odd and even sizes, groups
    await checkOp('conv2d Winograd path (C·kh·kw = 36)', (x, w, b) => F.conv2d(x, w, b, { padding: 1 }), [{ shape: [2, 4, 5, 6] }, { shape: [3, 4, 3, 3] }, { shape: [3] }], { rtol: 1e-4 });
    await checkOp('conv2d Winograd path, padding 0', (x, w) => F.conv2d(x, w), [{ shape: [3, 5, 7, 4] }, { shape: [6, 5, 3, 3] }], { rtol: 1e-4 });
    await checkOp('conv2d Winograd path, padding 2', (x, w, b) => F.conv2d(x, w, b, { padding: 2 }), [{ shape: [1, 6, 3, 5] }, { shape: [2, 6, 3, 3] }, { shape: [2] }], { rtol: 1e-4 });
    await checkOp('conv2d Winograd path, groups 2', (x, w, b) => F.conv2d(x, w, b, { groups: 2, padding: 1 }), [{ shape: [1, 8, 3, 4] }, { shape: [4, 4, 3, 3] }, { shape: [4] }], { rtol: 1e-4 });
    // im2col + GEMM: the other geometries with many taps (padding 3, stride 2, 5×5)
    await checkOp('conv2d GEMM path, 3×3 padding 3', (x, w) => F.conv2d(x, w, null, { padding: 3 }), [{ shape: [2, 4, 4, 3] }, { shape: [3, 4, 3, 3] }], { rtol: 1e-4 });
    await checkOp('conv2d GEMM path, 3×3 stride 2', (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [{ shape: [2, 4, 7, 6] }, { shape: [3, 4, 3, 3] }, { shape: [3] }], { rtol: 1e-4 });
    await checkOp('conv2d GEMM path, 5×5', (x, w) => F.conv2d(x, w, null, { padding: 2 }), [{ shape: [1, 2, 6, 6] }, { shape: [3, 2, 5, 5] }], { rtol: 1e-4 });
  });

  it('conv2d equals a hand computation', () => {
    // one 3×3 image, one 2×2 kernel of ones: each output is the sum of its window
    const x = tensor([[[[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]);
    const w = tensor([[[[1, 1], [1, 1]]]]);
    expect(F.conv2d(x, w, tensor([0.5])).toArray()).toEqual([[[[12.5, 16.5], [24.5, 28.5]]]]);
    expect(F.conv2d(x, w, null, { padding: 1, stride: 2 }).toArray()).toEqual([[[[1, 5], [11, 28]]]]);
  });

  it('pooling forward and backward', async () => {
    await checkOp('maxPool2d', (x) => F.maxPool2d(x, 2), [{ shape: [2, 3, 4, 5] }]);
    await checkOp('maxPool2d 3 s2 p1', (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }), [{ shape: [1, 2, 5, 5] }]);
    await checkOp('avgPool2d', (x) => F.avgPool2d(x, 2), [{ shape: [2, 3, 4, 4] }]);
    await checkOp('avgPool2d pad', (x) => F.avgPool2d(x, 3, { stride: 1, padding: 1, countIncludePad: false }), [{ shape: [1, 2, 4, 3] }]);
    await checkOp('adaptive 1', (x) => F.adaptiveAvgPool2d(x, 1), [{ shape: [2, 3, 5, 4] }]);
    await checkOp('adaptive 2x3', (x) => F.adaptiveAvgPool2d(x, [2, 3]), [{ shape: [1, 2, 5, 7] }]);
    expect(F.maxPool2d(tensor([[[[1, 5], [3, 2]]]]), 2).toArray()).toEqual([[[[5]]]]);
  });

  it('Conv2d module: shapes, PyTorch init bounds, repr and errors', () => {
    manualSeed(0);
    const conv = new nn.Conv2d(3, 8, 3, { padding: 1 });
    const bound = 1 / Math.sqrt(27);
    expect(conv.weight.abs().max().item()).toBeLessThanOrEqual(bound);
    expect(conv.forward(randn([2, 3, 8, 8])).shape).toEqual([2, 8, 8, 8]);
    expect(conv.toString()).toBe('Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))');
    expect(() => conv.forward(randn([2, 4, 8, 8]))).toThrow('conv2d: weight [8,3,3,3] expects 3 input channels, the input [2,4,8,8] has 4');
    expect(() => conv.forward(randn([3, 8, 8]))).toThrow('conv2d: expected input [N, C, H, W] (got [3,8,8])');
    expect(() => nn.functional.conv2d(randn([1, 3, 8, 8]), conv.weight, null, { stride: 2 ** 32 })).toThrow(/conv2d: stride must be an integer in \[1, 2\^31 − 1\]/);
    expect(() => nn.functional.maxPool2d(randn([1, 3, 8, 8]), 2, { stride: 2 ** 32 })).toThrow(/maxPool2d: stride must be an integer in \[1, 2\^31 − 1\]/);
    const model = new nn.Sequential(new nn.Conv2d(1, 4, 3), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(4 * 3 * 3, 10));
    expect(model.forward(randn([5, 1, 8, 8])).shape).toEqual([5, 10]);
  });
});
