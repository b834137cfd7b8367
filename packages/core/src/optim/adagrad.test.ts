// Adagrad: the first two steps against torch.optim.Adagrad's formulas in float64, on both backends.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { expectAllClose, expectSteps, getBackends, setGrad } from '../test-utils.js';
import { Adagrad, type AdagradOptions } from './adagrad.js';

const P0 = [1, -2, 3.5, 0.25, -0.75];
const G1 = [0.5, -1, 2, 0.01, 0.3];
const G2 = [-0.25, 0.5, 1, 4, -0.1];

/** torch.optim.Adagrad element by element in float64: the parameter after each step. */
function expected(o: AdagradOptions, grads: number[][]): number[][] {
  const p = [...P0], sum = P0.map(() => o.initialAccumulatorValue);
  return grads.map((g, s) => {
    const clr = o.lr / (1 + s * o.lrDecay);
    for (let i = 0; i < p.length; i++) {
      let d = o.maximize ? -g[i]! : g[i]!;
      d += o.weightDecay * p[i]!;
      sum[i] = sum[i]! + d * d;
      p[i] = p[i]! - clr * d / (Math.sqrt(sum[i]!) + o.eps);
    }
    return [...p];
  });
}

describe.each(['wasm', 'reference'] as const)('Adagrad on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  const base: AdagradOptions = { lr: 0.1, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };
  it.each([
    ['plain', {}],
    ['lr decay', { lrDecay: 0.5 }],
    ['initial accumulator + weight decay', { initialAccumulatorValue: 0.1, weightDecay: 0.05 }],
    ['maximize, eps 1e-3', { maximize: true, eps: 1e-3 }],
  ] as [string, Partial<AdagradOptions>][])('%s: two steps match the formulas', (_, opts) => {
    const o = { ...base, ...opts };
    const p = tensor(P0, { requiresGrad: true });
    const opt = new Adagrad([p], o);
    expectSteps(opt, p, [G1, G2], expected(o, [G1, G2]));
  });

  it('a hand-computed first step: p − lr·g/|g| = p − lr·sign(g)', () => {
    const p = tensor([1, 1], { requiresGrad: true });
    const opt = new Adagrad([p], { lr: 0.5 });
    setGrad(p, [3, -0.2]);
    opt.step();
    expectAllClose(p.toFloat32Array(), [0.5, 1.5]);
  });

  it('rejects bad arguments by name', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new Adagrad([p], { lr: -1 })).toThrow('Adagrad: invalid learning rate: -1 (expected ≥ 0)');
    expect(() => new Adagrad([p], { lrDecay: -1 })).toThrow('Adagrad: invalid lrDecay value: -1');
    expect(() => new Adagrad([p], { weightDecay: -1 })).toThrow('Adagrad: invalid weightDecay value: -1');
    expect(() => new Adagrad([p], { initialAccumulatorValue: -1 })).toThrow('Adagrad: invalid initialAccumulatorValue value: -1');
    expect(() => new Adagrad([p], { eps: -1 })).toThrow('Adagrad: invalid epsilon value: -1');
  });
});
