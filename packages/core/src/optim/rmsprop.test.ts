// RMSprop: the first two steps against torch.optim.RMSprop's formulas in float64, on both backends.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { expectSteps, getBackends } from '../test-utils.js';
import { RMSprop, type RMSpropOptions } from './rmsprop.js';

const P0 = [1, -2, 3.5, 0.25, -0.75];
const G1 = [0.5, -1, 2, 0.01, 0.3];
const G2 = [-0.25, 0.5, 1, 4, -0.1];

/** torch.optim.RMSprop element by element in float64: the parameter after each step. */
function expected(o: RMSpropOptions, grads: number[][]): number[][] {
  const p = [...P0], sq = P0.map(() => 0), ga = P0.map(() => 0), buf = P0.map(() => 0);
  return grads.map((g) => {
    for (let i = 0; i < p.length; i++) {
      let d = o.maximize ? -g[i]! : g[i]!;
      d += o.weightDecay * p[i]!;
      sq[i] = o.alpha * sq[i]! + (1 - o.alpha) * d * d;
      let v = sq[i]!;
      if (o.centered) {
        ga[i] = o.alpha * ga[i]! + (1 - o.alpha) * d;
        v -= ga[i]! ** 2;
      }
      const avg = Math.sqrt(v) + o.eps;
      if (o.momentum > 0) {
        buf[i] = o.momentum * buf[i]! + d / avg;
        p[i] = p[i]! - o.lr * buf[i]!;
      } else {
        p[i] = p[i]! - o.lr * d / avg;
      }
    }
    return [...p];
  });
}

describe.each(['wasm', 'reference'] as const)('RMSprop on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  const base: RMSpropOptions = { lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };
  it.each([
    ['plain', {}],
    ['alpha 0.9, eps 1e-3', { alpha: 0.9, eps: 1e-3 }],
    ['centered', { centered: true }],
    ['momentum', { momentum: 0.9 }],
    ['centered + momentum + weight decay', { centered: true, momentum: 0.5, weightDecay: 0.1 }],
    ['maximize', { maximize: true, alpha: 0.5 }],
  ] as [string, Partial<RMSpropOptions>][])('%s: two steps match the formulas', (_, opts) => {
    const o = { ...base, ...opts };
    const p = tensor(P0, { requiresGrad: true });
    const opt = new RMSprop([p], o);
    // NOTE: centered RMSprop's first step divides by √(α(1 − α))·|g|, so f32 rounding is amplified a little
    expectSteps(opt, p, [G1, G2], expected(o, [G1, G2]), 2e-6);
  });

  it('defaults as PyTorch', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(new RMSprop([p]).defaults).toMatchObject({ lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false });
  });

  it('rejects bad arguments by name', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new RMSprop([p], { lr: -1 })).toThrow('RMSprop: invalid learning rate: -1 (expected ≥ 0)');
    expect(() => new RMSprop([p], { alpha: -0.1 })).toThrow('RMSprop: invalid alpha value: -0.1');
    expect(() => new RMSprop([p], { eps: -1 })).toThrow('RMSprop: invalid epsilon value: -1');
    expect(() => new RMSprop([p], { momentum: -1 })).toThrow('RMSprop: invalid momentum value: -1');
    expect(() => new RMSprop([p], { weightDecay: -1 })).toThrow('RMSprop: invalid weightDecay value: -1');
  });
});
