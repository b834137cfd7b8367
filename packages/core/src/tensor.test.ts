import { beforeAll, describe, expect, it } from 'vitest';
import {
  SimdgradError, arange, cat, full, gradcheck, init, keep, linspace, liveTensorCount, manualSeed, nn, noGrad, ones, rand,
  randint, randn, scope, stack, tensor, where, zeros, getBackend, type Tensor,
} from './index.js';

beforeAll(async () => {
  await init();
});

describe('creating and reading tensors', () => {
  it('from nested arrays, typed arrays with a shape, and int32 data', () => {
    const x = tensor([[1, 2], [3, 4]]);
    expect(x.shape).toEqual([2, 2]);
    expect(x.dtype).toBe('float32');
    expect(x.size).toBe(4);
    expect(x.toArray()).toEqual([[1, 2], [3, 4]]);
    const y = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    expect(y.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    const i = tensor(Int32Array.of(0, 2), { shape: [2], dtype: 'int32' });
    expect(i.dtype).toBe('int32');
    expect(Array.from(i.toInt32Array())).toEqual([0, 2]);
    expect(tensor(3.5).item()).toBe(3.5);
    expect(tensor(3.5).shape).toEqual([]);
  });

  it('copies its input, so the caller may reuse the array', () => {
    const data = Float32Array.from([1, 2, 3]);
    const t = tensor(data);
    data[0] = 99;
    expect(t.toArray()).toEqual([1, 2, 3]);
  });

  it('constants and ranges', () => {
    expect(zeros([2, 3]).toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(ones([2]).toArray()).toEqual([1, 1]);
    expect(full([2], 7).toArray()).toEqual([7, 7]);
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(zeros([2], { dtype: 'int32' }).dtype).toBe('int32');
  });

  it('one seed gives the same random numbers, bit for bit', () => {
    manualSeed(42);
    const a = [rand([5]).toFloat32Array(), randn([5]).toFloat32Array(), randint(0, 10, [5]).toInt32Array()];
    manualSeed(42);
    const b = [rand([5]).toFloat32Array(), randn([5]).toFloat32Array(), randint(0, 10, [5]).toInt32Array()];
    expect(a).toEqual(b);
    manualSeed(43);
    expect(Array.from(rand([5]).toFloat32Array())).not.toEqual(Array.from(a[0]!));
  });

  it('rand is uniform in [0, 1) and randn has unit variance', () => {
    manualSeed(1);
    const u = rand([20000]);
    expect(u.min().item()).toBeGreaterThanOrEqual(0);
    expect(u.max().item()).toBeLessThan(1);
    expect(u.mean().item()).toBeCloseTo(0.5, 1);
    const n = randn([20000]);
    expect(n.mean().item()).toBeCloseTo(0, 1);
    expect(n.std().item()).toBeCloseTo(1, 1);
    const r = randint(3, 7, [1000]).toInt32Array();
    expect(Math.min(...r)).toBe(3);
    expect(Math.max(...r)).toBe(6);
  });
});

describe('autograd', () => {
  it('computes gradients of a small expression (micrograd-style check)', () => {
    const a = tensor(-4, { requiresGrad: true });
    const b = tensor(2, { requiresGrad: true });
    let c = a.add(b);
    let d = a.mul(b).add(b.pow(3));
    c = c.add(c.add(1));
    c = c.add(c.add(1).add(a.neg()));
    d = d.add(d.mul(2).add(b.add(a).relu()));
    d = d.add(d.mul(3).add(b.sub(a).relu()));
    const e = c.sub(d);
    const f = e.pow(2);
    let g = f.div(2);
    g = g.add(f.reciprocal().mul(10));
    // values from PyTorch for the same expression (micrograd's test)
    expect(g.item()).toBeCloseTo(24.70408163265306, 3);
    g.backward();
    expect(a.grad!.item()).toBeCloseTo(138.83381924198252, 2);
    expect(b.grad!.item()).toBeCloseTo(645.5772594752186, 1);
  });

  it('accumulates into .grad across backward calls and a value used twice', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([2, 4, 6]);
    x.mul(x).sum().backward();
    expect(x.grad!.toArray()).toEqual([4, 8, 12]);
  });

  it('reduces gradients of broadcast inputs to their shape', () => {
    const a = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const b = tensor([10, 20, 30], { requiresGrad: true });
    a.add(b).sum().backward();
    expect(b.grad!.toArray()).toEqual([2, 2, 2]);
    expect(a.grad!.shape).toEqual([2, 3]);
  });

  it('noGrad records nothing and detach cuts the graph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect(y.requiresGrad).toBe(false);
    const z = x.detach().mul(2);
    expect(z.requiresGrad).toBe(false);
    expect(() => z.sum().backward()).toThrow(/backward: the tensor does not require grad/);
    expect(noGrad(() => 5)).toBe(5);
  });

  it('backward on a non-scalar needs a gradient', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/backward: grad can be implicitly created only for scalar outputs \(got shape \[2\]\)/);
    const y = x.mul(3);
    y.backward(tensor([1, 0.5]));
    expect(x.grad!.toArray()).toEqual([3, 1.5]);
    expect(() => x.mul(3).backward(tensor([1, 2, 3]))).toThrow(/gradient shape \[3\] does not match the output shape \[2\]/);
  });

  it('releases the graph after backward unless retainGraph', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.toFloat32Array()[0]).toBeCloseTo(2 * Math.E, 4);
    expect(y.gradFn).toBeNull();
  });

  it('non-differentiable outputs (argmax, comparisons) start no graph', () => {
    const x = tensor([1.5, 2.5], { requiresGrad: true });
    const i = x.argmax();
    expect(i.requiresGrad).toBe(false);
    const m = x.gt(2);
    expect(m.requiresGrad).toBe(false);
  });

  it('gradcheck is public and catches a wrong gradient', () => {
    const x = randn([3, 4], { requiresGrad: true });
    expect(gradcheck((a) => a.tanh().mul(a), [x])).toBe(true);
    // a function whose "gradient" is wrong: detach hides the dependence on x
    expect(gradcheck((a) => a.mul(a.detach()), [x], { raiseException: false })).toBe(false);
    expect(() => gradcheck((a) => a.mul(a.detach()), [x])).toThrow(/gradcheck: gradients differ/);
  });

  it('handles deep graphs without overflowing the stack', () => {
    const x = tensor([0.5], { requiresGrad: true });
    let y: Tensor = x;
    for (let i = 0; i < 20000; i++) y = y.mul(1.0001);
    scope(() => y.sum().backward());
    expect(x.grad!.item()).toBeCloseTo(Math.pow(1.0001, 20000), 2);
  });
});

describe('memory', () => {
  it('scope frees what it made and returns what fn returns', () => {
    const before = liveTensorCount();
    const r = scope(() => {
      const a = ones([10]);
      const b = a.mul(2);
      return { b, n: 3, list: [b.add(1)] };
    });
    expect(liveTensorCount()).toBe(before + 2);
    expect(r.n).toBe(3);
    expect(r.b.toArray()).toEqual(new Array(10).fill(2));
    expect(r.list[0]!.toArray()).toEqual(new Array(10).fill(3));
    r.b.dispose();
    r.list[0]!.dispose();
    expect(liveTensorCount()).toBe(before);
    expect(scope(() => 42)).toBe(42);
  });

  it('keeps the graph of a returned tensor until backward releases it', () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const before = liveTensorCount();
    const loss = scope(() => x.mul(2).exp().sum());
    expect(liveTensorCount()).toBeGreaterThan(before + 1);
    loss.backward();
    expect(liveTensorCount()).toBe(before + 1 + 1); // the loss and x.grad
    expect(x.grad!.toFloat32Array()[0]).toBeCloseTo(2 * Math.exp(2), 3);
    loss.dispose();
  });

  it('using a disposed tensor is a clear error', () => {
    const x = ones([3]);
    x.dispose();
    expect(() => x.add(1)).toThrow(SimdgradError);
    expect(() => x.add(1)).toThrow(/the tensor \(shape \[3\]\) was disposed/);
    expect(() => x.toArray()).toThrow(/toArray: the tensor/);
    x.dispose(); // idempotent
    const y = scope(() => ones([2]));
    {
      using z = y.mul(2);
      expect(z.toArray()).toEqual([2, 2]);
    }
    y.dispose();
  });

  it('views keep their data alive after the base is disposed', () => {
    const a = tensor([[1, 2], [3, 4]]);
    const t = a.transpose(0, 1);
    a.dispose();
    expect(t.toArray()).toEqual([[1, 3], [2, 4]]);
    t.dispose();
  });

  it('an exception inside scope frees everything made there', () => {
    const before = liveTensorCount();
    expect(() => scope(() => {
      ones([5]).mul(2);
      throw new Error('boom');
    })).toThrow('boom');
    expect(liveTensorCount()).toBe(before);
  });

  it('10,000 training steps run in flat memory', () => {
    manualSeed(0);
    const w1 = keep(randn([8, 16]).mul(0.3).requiresGrad_());
    const w2 = keep(randn([16, 1]).mul(0.3).requiresGrad_());
    const x = randn([32, 8]);
    const y = x.sum(1, true).tanh();
    const step = () => scope(() => {
      const pred = x.matmul(w1).relu().matmul(w2);
      const loss = nn.functional.mseLoss(pred, y);
      loss.backward();
      noGrad(() => {
        for (const w of [w1, w2]) {
          w.addInPlace(w.grad!.mul(-0.01));
          w.grad!.dispose();
          w.grad = null;
        }
      });
      return loss.item();
    });
    const first = step();
    for (let i = 0; i < 100; i++) step();
    const heap = getBackend().heap;
    const memBefore = heap.stats().memoryBytes, liveBefore = liveTensorCount(), blocksBefore = heap.stats().liveBlocks;
    let last = 0;
    for (let i = 0; i < 10000; i++) last = step();
    expect(heap.stats().memoryBytes).toBe(memBefore);
    expect(liveTensorCount()).toBe(liveBefore);
    expect(heap.stats().liveBlocks).toBe(blocksBefore);
    expect(last).toBeLessThan(first);
  });
});

describe('errors name the op, the problem and the values', () => {
  it('shape mismatches', () => {
    expect(() => zeros([2, 3]).matmul(zeros([4, 5]))).toThrow('matmul: cannot multiply [2,3] by [4,5] (inner dims 3 ≠ 4)');
    expect(() => zeros([2, 3]).add(zeros([4]))).toThrow('add: cannot broadcast [2,3] with [4] (dim -1: 3 ≠ 4)');
    expect(() => zeros([2, 3]).reshape(4, 2)).toThrow('reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)');
    expect(() => zeros([2, 3]).expand(4, 4)).toThrow(/expand: cannot expand \[2,3\] to \[4,4\]/);
    expect(() => cat([zeros([2, 3]), zeros([2, 4])], 0)).toThrow(/cat: tensor 1 has shape \[2,4\], which does not match \[2,3\] outside dim 0/);
    expect(() => stack([zeros([2]), zeros([3])])).toThrow(/stack: tensor 1 has shape \[3\]/);
    expect(() => where(zeros([2]), zeros([3]), 0)).toThrow(/where: cannot broadcast/);
  });

  it('bad dims', () => {
    expect(() => zeros([2, 3]).sum(2)).toThrow('sum: dim 2 is out of range for a tensor with 2 dims (expected -2…1)');
    expect(() => zeros([2, 3]).transpose(0, 5)).toThrow(/transpose: dim1 5 is out of range/);
    expect(() => zeros([2, 3]).permute(0, 0)).toThrow(/permute: dims must be a permutation/);
    expect(() => zeros([2, 3]).softmax(1.5)).toThrow(/softmax: dim must be an integer \(got 1.5\)/);
    expect(() => zeros([2, 3]).narrow(1, 2, 2)).toThrow(/narrow: start 2 and length 2 do not fit dim 1 of size 3/);
  });

  it('dtype mix-ups and bad data', () => {
    expect(() => zeros([3]).indexSelect(0, zeros([2]))).toThrow(/indexSelect: index must be an int32 tensor \(got float32\)/);
    expect(() => zeros([3]).indexSelect(0, tensor([5], { dtype: 'int32' }))).toThrow('indexSelect: index 5 at position 0 is out of range for dim 0 of size 3');
    expect(() => tensor([1.5], { dtype: 'int32' })).toThrow(/tensor: int32 data must be integers \(element 0 is 1.5\)/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/tensor: ragged nested array: dim 1 has sizes 2 and 1/);
    expect(() => tensor([1, 'a' as unknown as number])).toThrow(/tensor: element \[1\] is string, not a number/);
    expect(() => tensor([1], { dtype: 'float64' as 'float32' })).toThrow(/tensor: dtype must be 'float32' or 'int32'/);
    expect(() => tensor([1], { dtype: 'int32', requiresGrad: true })).toThrow(/only float32 tensors can require grad/);
    expect(() => nn.functional.crossEntropy(zeros([2, 3]), zeros([2]))).toThrow(/crossEntropy: target must hold int32 class indices \(got float32\)/);
    expect(() => ones([2]).item()).toThrow('item: only one-element tensors can be converted to a number (got shape [2])');
  });
});
