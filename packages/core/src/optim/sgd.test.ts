// SGD: the first two steps against the formulas of torch.optim.SGD written out in float64, on both backends.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { expectAllClose, expectSteps, getBackends, setGrad } from '../test-utils.js';
import { SGD, type SGDOptions } from './sgd.js';

const P0 = [1, -2, 3.5, 0.25, -0.75];
const G1 = [0.5, -1, 2, 0, 0.3];
const G2 = [-0.25, 0.5, 1, 4, -0.1];

/** PyTorch's SGD, element by element in float64: the parameter after each step. */
function expected(o: SGDOptions, grads: number[][]): number[][] {
  const p = [...P0];
  const buf: number[] = [];
  const out: number[][] = [];
  grads.forEach((g, t) => {
    for (let i = 0; i < p.length; i++) {
      let d = o.maximize ? -g[i]! : g[i]!;
      d += o.weightDecay * p[i]!;
      if (o.momentum !== 0) {
        buf[i] = t === 0 ? d : o.momentum * buf[i]! + (1 - o.dampening) * d;
        d = o.nesterov ? d + o.momentum * buf[i]! : buf[i]!;
      }
      p[i] = p[i]! - o.lr * d;
    }
    out.push([...p]);
  });
  return out;
}

describe.each(['wasm', 'reference'] as const)('SGD on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  const base: SGDOptions = { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };
  it.each([
    ['plain', {}],
    ['momentum', { momentum: 0.9 }],
    ['momentum + dampening', { momentum: 0.9, dampening: 0.3 }],
    ['nesterov', { momentum: 0.8, nesterov: true }],
    ['weight decay', { weightDecay: 0.05 }],
    ['nesterov + weight decay + maximize', { momentum: 0.5, nesterov: true, weightDecay: 0.01, maximize: true }],
  ] as [string, Partial<SGDOptions>][])('%s: two steps match the formulas', (_, opts) => {
    const o = { ...base, ...opts };
    const p = tensor(P0, { requiresGrad: true });
    const opt = new SGD([p], o);
    expectSteps(opt, p, [G1, G2], expected(o, [G1, G2]));
  });

  it('a hand-computed case: momentum 0.9, lr 0.1', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    setGrad(p, [1, -1]);
    opt.step(); // buf = g = [1, -1]; p = [1 - 0.1, 2 + 0.1]
    expectAllClose(p.toFloat32Array(), [0.9, 2.1]);
    setGrad(p, [1, 1]);
    opt.step(); // buf = 0.9·[1, -1] + [1, 1] = [1.9, 0.1]; p = [0.9 - 0.19, 2.1 - 0.01]
    expectAllClose(p.toFloat32Array(), [0.71, 2.09]);
  });

  it('param groups with their own lr and momentum', () => {
    const a = tensor([1, 1, 1], { requiresGrad: true });
    const b = tensor([1, 1, 1], { requiresGrad: true });
    const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.5, momentum: 0.9 }], { lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([[0.1, 0], [0.5, 0.9]]);
    setGrad(a, [1, 2, 3]);
    setGrad(b, [1, 2, 3]);
    opt.step();
    expectAllClose(a.toFloat32Array(), [0.9, 0.8, 0.7]);
    expectAllClose(b.toFloat32Array(), [0.5, 0, -0.5]);
    opt.paramGroups[0]!.lr = 1; // schedulers write lr like this
    opt.step();
    expectAllClose(a.toFloat32Array(), [-0.1, -1.2, -2.3]);
    expectAllClose(b.toFloat32Array(), [-0.45, -1.9, -3.35]); // buf = 1.9·g
  });

  it('skips parameters whose grad is null', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const opt = new SGD([a, b], { lr: 1 });
    setGrad(a, [1, 1]);
    opt.step();
    expect(Array.from(a.toFloat32Array())).toEqual([0, 1]);
    expect(Array.from(b.toFloat32Array())).toEqual([3, 4]);
  });

  it('rejects bad arguments by name', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new SGD([p], { lr: -1 })).toThrow('SGD: invalid learning rate: -1 (expected ≥ 0)');
    expect(() => new SGD([p], {} as SGDOptions)).toThrow('SGD: invalid learning rate: undefined (expected ≥ 0)');
    expect(() => new SGD([p], { lr: 0.1, momentum: -0.5 })).toThrow('SGD: invalid momentum value: -0.5');
    expect(() => new SGD([p], { lr: 0.1, weightDecay: -1 })).toThrow('SGD: invalid weightDecay value: -1');
    expect(() => new SGD([p], { lr: 0.1, nesterov: true })).toThrow('SGD: nesterov momentum requires a momentum > 0 and zero dampening');
    expect(() => new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow('zero dampening');
    expect(() => new SGD([{ params: [p], lr: -2 }], { lr: 0.1 })).toThrow('SGD: invalid learning rate: -2');
  });
});
