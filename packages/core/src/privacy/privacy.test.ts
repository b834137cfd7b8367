import { beforeAll, describe, expect, it } from 'vitest';
import { data, init, liveTensorCount, manualSeed, nn, optim, privacy, randint, randn, scope, tensor, type Tensor } from '../index.js';
import { expectAllClose } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

/** y = x ⊙ s: a layer without a fast rule, so it takes the loop fallback. */
class Scale extends nn.Module {
  s: Tensor;
  constructor(n: number) {
    super();
    this.s = nn.parameter(randn([n]));
  }
  forward(x: Tensor): Tensor { return x.mul(this.s); }
}

/** Embedding → LayerNorm → Linear on a sequence (ghost norm) → Scale (loop) → Linear. */
class SeqNet extends nn.Module {
  emb = new nn.Embedding(7, 6);
  ln = new nn.LayerNorm(6);
  fc = new nn.Linear(6, 8);
  scale = new Scale(8);
  head = new nn.Linear(24, 3);
  forward(idx: Tensor): Tensor {
    const h = this.scale.forward(this.fc.forward(this.ln.forward(this.emb.forward(idx))).tanh());
    return this.head.forward(h.reshape([-1, 24]));
  }
}

class ConvNet extends nn.Module {
  conv = new nn.Conv2d(2, 4, 3, { padding: 1, stride: 2, groups: 2 });
  conv2 = new nn.Conv2d(4, 3, 2);
  head = new nn.Linear(12, 3);
  forward(x: Tensor): Tensor {
    return this.head.forward(this.conv2.forward(this.conv.forward(x).relu()).flatten(1));
  }
}

/** Gradients of each single-sample loss, computed one by one (the definition of per-sample gradients). */
function oneByOne(model: nn.Module, x: Tensor, y: Tensor): Float32Array[][] {
  const out: Float32Array[][] = [];
  for (let i = 0; i < x.shape[0]!; i++) {
    scope(() => {
      model.zeroGrad();
      nn.functional.crossEntropy(model.forward(x.narrow(0, i, 1)), y.narrow(0, i, 1)).backward();
      out.push(model.parameters().map((p) => p.grad!.toFloat32Array()));
    });
  }
  model.zeroGrad();
  return out;
}

function checkPerSample(model: nn.Module, x: Tensor, y: Tensor, expectedRules: Record<string, 'fast' | 'loop'>): void {
  const want = oneByOne(model, x, y);
  const psg = new privacy.PerSampleGradients(model);
  expect(Object.fromEntries(psg.layers.map((l) => [l.name, l.rule]))).toEqual(expectedRules);
  const b = x.shape[0]!;
  scope(() => {
    nn.functional.crossEntropy(model.forward(x), y).backward();
    const samples = psg.samples();
    model.parameters().forEach((p, j) => {
      const s = samples.get(p)!;
      expect(s.shape).toEqual([b, ...p.shape]);
      const got = s.toFloat32Array();
      for (let i = 0; i < b; i++) expectAllClose(got.subarray(i * p.size, (i + 1) * p.size), want[i]![j]!, 1e-4, 1e-5);
    });
    // norms over all parameters, and the clipped sum Σ min(1, C/‖g_i‖) g_i
    const norms = psg.norms().toFloat32Array();
    const wantNorms = want.map((gs) => Math.sqrt(gs.reduce((a, g) => a + g.reduce((s, v) => s + v * v, 0), 0)));
    expectAllClose(norms, Float32Array.from(wantNorms), 1e-4, 1e-5);
    const maxNorm = 0.5 * Math.min(...wantNorms) + 0.5 * Math.max(...wantNorms);
    const { grads } = psg.clippedSum(maxNorm);
    model.parameters().forEach((p, j) => {
      const sum = new Float32Array(p.size);
      want.forEach((gs, i) => {
        const c = Math.min(1, maxNorm / (wantNorms[i]! + 1e-6));
        gs[j]!.forEach((v, k) => { sum[k]! += c * v; });
      });
      expectAllClose(grads.get(p)!.toFloat32Array(), sum, 1e-4, 1e-5);
    });
    for (const g of grads.values()) g.dispose();
    for (const s of samples.values()) s.dispose();
  });
  psg.detach();
}

describe('per-sample gradients', () => {
  it('equal the gradients of single-sample losses (Embedding, LayerNorm, Linear on sequences, loop fallback)', () => {
    manualSeed(1);
    const model = new SeqNet();
    const x = randint(0, 7, [5, 3], { dtype: 'int32' });
    const y = tensor([0, 2, 1, 1, 0], { dtype: 'int32' });
    checkPerSample(model, x, y, { emb: 'fast', ln: 'fast', fc: 'fast', scale: 'loop', head: 'fast' });
  });

  it('equal the gradients of single-sample losses (Conv2d with stride, padding and groups)', () => {
    manualSeed(2);
    const model = new ConvNet();
    const x = randn([4, 2, 5, 5]);
    const y = tensor([0, 2, 1, 2], { dtype: 'int32' });
    checkPerSample(model, x, y, { conv: 'fast', conv2: 'fast', head: 'fast' });
  });

  it('rejects batch norm and restores the layers on detach', () => {
    expect(() => new privacy.PerSampleGradients(new nn.Sequential(new nn.Linear(2, 2), new nn.BatchNorm1d(2))))
      .toThrow(/BatchNorm1d, which mixes the samples/);
    const m = new nn.Sequential(new nn.Linear(2, 2));
    const psg = new privacy.PerSampleGradients(m);
    expect(Object.prototype.hasOwnProperty.call(m[0], 'forward')).toBe(true);
    psg.detach();
    expect(Object.prototype.hasOwnProperty.call(m[0], 'forward')).toBe(false);
  });
});

describe('DP-SGD', () => {
  it('without noise or clipping, a step is the ordinary mean-gradient step', () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const twin = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    twin.loadStateDict(model.stateDict());
    const x = randn([6, 3]);
    const y = tensor([0, 1, 1, 0, 1, 0], { dtype: 'int32' });
    const sgd = new optim.SGD(twin.parameters(), { lr: 0.1 });
    scope(() => { nn.functional.crossEntropy(twin.forward(x), y).backward(); sgd.step(); });
    const psg = new privacy.PerSampleGradients(model);
    const dp = new privacy.DPOptimizer(new optim.SGD(model.parameters(), { lr: 0.1 }), psg,
      { noiseMultiplier: 0, maxGradNorm: 1e6, expectedBatchSize: 6, sampleRate: 0.5 });
    scope(() => { dp.zeroGrad(); nn.functional.crossEntropy(model.forward(x), y).backward(); dp.step(); });
    model.parameters().forEach((p, i) => expectAllClose(p.toFloat32Array(), twin.parameters()[i]!.toFloat32Array(), 1e-5, 1e-6));
    expect(dp.accountant.steps).toBe(1);
    psg.detach();
  });

  it('adds noise of std σ·C / expected batch size and keeps memory flat', () => {
    manualSeed(4);
    const model = new nn.Linear(50, 40, { bias: false });
    const psg = new privacy.PerSampleGradients(model);
    const dp = new privacy.DPOptimizer(new optim.SGD(model.parameters(), { lr: 1 }), psg,
      { noiseMultiplier: 2, maxGradNorm: 0.5, expectedBatchSize: 10, sampleRate: 0.1 });
    const x = randn([8, 50]);
    const before = model.weight.toFloat32Array();
    const step = () => scope(() => {
      dp.zeroGrad();
      model.forward(x).sum().mul(0).backward(); // zero gradients: the update is the noise alone
      dp.step();
    });
    step();
    const delta = model.weight.toFloat32Array().map((v, i) => v - before[i]!);
    const std = Math.sqrt(delta.reduce((a, v) => a + v * v, 0) / delta.length);
    expect(std).toBeGreaterThan(0.1 * 0.93);
    expect(std).toBeLessThan(0.1 * 1.07);
    const live = liveTensorCount();
    for (let i = 0; i < 3; i++) step();
    expect(liveTensorCount()).toBe(live);
    psg.detach();
  });

  it('an empty Poisson batch takes a step of noise alone', () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 2));
    const psg = new privacy.PerSampleGradients(model);
    const dp = new privacy.DPOptimizer(new optim.SGD(model.parameters(), { lr: 0.1 }), psg,
      { noiseMultiplier: 0, maxGradNorm: 1, expectedBatchSize: 4, sampleRate: 0.1 });
    const before = model.parameters().map((p) => p.toFloat32Array());
    scope(() => {
      dp.zeroGrad();
      const logits = model.forward(randn([0, 3]));
      nn.functional.crossEntropy(logits, tensor(new Int32Array(0), { dtype: 'int32' })).backward();
      dp.step();
    });
    model.parameters().forEach((p, i) => expect(Array.from(p.toFloat32Array())).toEqual(Array.from(before[i]!)));
    expect(dp.accountant.steps).toBe(1);
    psg.detach();
  });

  it('Poisson sampling draws each sample with probability q', () => {
    manualSeed(5);
    const ds = new data.TensorDataset(randn([1000, 1]));
    const loader = new privacy.PoissonDataLoader(ds, { sampleRate: 0.05 });
    expect(loader.length).toBe(20);
    let total = 0;
    for (let i = 0; i < 200; i++) total += loader.sampleIndices().length;
    expect(total / 200).toBeGreaterThan(50 * 0.95);
    expect(total / 200).toBeLessThan(50 * 1.05);
  });

  it('makePrivate trains a classifier and reports ε', () => {
    manualSeed(6);
    const n = 512;
    const x = randn([n, 2]);
    const y = x.narrow(1, 0, 1).add(x.narrow(1, 1, 1)).gt(0).squeeze(1).int();
    const model = new nn.Sequential(new nn.Linear(2, 8), new nn.ReLU(), new nn.Linear(8, 2));
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 64, shuffle: true });
    const priv = privacy.makePrivate({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9 }),
      dataLoader: loader, noiseMultiplier: 1, maxGradNorm: 1 });
    expect(priv.sampleRate).toBe(64 / 512);
    expect(priv.dataLoader).toBeInstanceOf(privacy.PoissonDataLoader);
    for (let epoch = 0; epoch < 5; epoch++) {
      for (const [xb, yb] of priv.dataLoader) {
        scope(() => {
          priv.optimizer.zeroGrad();
          nn.functional.crossEntropy(model.forward(xb!), yb!).backward();
          priv.optimizer.step();
        });
        xb!.dispose(); yb!.dispose();
      }
    }
    expect(priv.steps).toBe(40);
    const acc = scope(() => model.forward(x).argmax(1).eq(y).float().mean().item());
    expect(acc).toBeGreaterThan(0.9);
    const eps = priv.getEpsilon(1e-5);
    expect(eps).toBeCloseTo(privacy.epsilonFor({ sampleRate: 0.125, noiseMultiplier: 1, steps: 40, delta: 1e-5 }), 10);
    priv.detach();
    // targetEpsilon picks σ
    const p2 = privacy.makePrivate({ model, optimizer: new optim.SGD(model.parameters(), { lr: 0.1 }), dataLoader: loader,
      maxGradNorm: 1, targetEpsilon: 2, epochs: 5 });
    expect(privacy.epsilonFor({ sampleRate: 0.125, noiseMultiplier: p2.noiseMultiplier, steps: 40, delta: 1e-5 })).toBeLessThanOrEqual(2);
    p2.detach();
  });
});
