// The LR range test on a tiny linear regression: a sane suggestion, the lr restored, early stopping.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { manualSeed, randn, tensor, zeros } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { getBackends, trainStep } from '../test-utils.js';
import { findLr } from './lr-finder.js';
import { SGD } from './sgd.js';

describe.each(['wasm', 'reference'] as const)('findLr on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  function regression(): { params: Tensor[]; step: (opt: SGD) => number } {
    manualSeed(1);
    const x = randn([64, 3]);
    const y = x.matmul(tensor([[2], [-1], [0.5]])).add(1);
    const w = zeros([3, 1], { requiresGrad: true });
    const b = zeros([1], { requiresGrad: true });
    return {
      params: [w, b],
      step: (opt) => trainStep(opt, () => x.matmul(w).add(b).sub(y).square().mean()),
    };
  }

  it('suggests an lr in a sane range, stops when the loss diverges, and restores the lr', () => {
    const { params, step } = regression();
    const opt = new SGD([{ params: [params[0]!] }, { params: [params[1]!], lr: 0.02 }], { lr: 0.01 });
    const r = findLr({ optimizer: opt, step: () => step(opt) });
    expect(opt.paramGroups.map((g) => g.lr)).toEqual([0.01, 0.02]);
    expect(r.lrs.length).toBe(r.losses.length);
    expect(r.lrs[0]).toBeCloseTo(1e-7, 15);
    // plain SGD on this quadratic diverges above lr ≈ 1 (2 / the largest curvature), long before 10
    expect(r.lrs.length).toBeLessThan(100);
    expect(r.losses[r.losses.length - 1]).toBeGreaterThan(5 * Math.min(...r.losses));
    // the lrs grow geometrically
    expect(r.lrs[1]! / r.lrs[0]!).toBeCloseTo((10 / 1e-7) ** (1 / 99), 10);
    // the suggestion lies where the loss falls fastest: well above the tiny lrs, below divergence
    expect(r.suggestedLr).toBeGreaterThan(1e-3);
    expect(r.suggestedLr).toBeLessThan(1);
  });

  it('smooths the loss with an exponential moving average and restores the lr even if step throws', () => {
    const opt = new SGD([tensor([1], { requiresGrad: true })], { lr: 0.5 });
    const raw = [4, 2, 8, 1];
    let i = 0;
    const r = findLr({ optimizer: opt, step: () => raw[i++]!, numIter: 4, smoothing: 0.5, divergeThreshold: 100 });
    expect(r.losses).toEqual([4, 3, 5.5, 3.25]);
    expect(r.lrs.length).toBe(4);
    expect(() => findLr({ optimizer: opt, step: () => { throw new Error('boom'); } })).toThrow('boom');
    expect(opt.paramGroups[0]!.lr).toBe(0.5);
  });

  it('rejects bad arguments by name', () => {
    const opt = new SGD([tensor([1], { requiresGrad: true })], { lr: 0.5 });
    expect(() => findLr({ optimizer: {} as never, step: () => 1 })).toThrow('findLr: optimizer must be an optimizer');
    expect(() => findLr({ optimizer: opt, step: () => 1, startLr: 1, endLr: 0.1 })).toThrow('findLr: endLr must be a finite number > startLr');
    expect(() => findLr({ optimizer: opt, step: () => 1, numIter: 1 })).toThrow('findLr: numIter must be an integer ≥ 2 (got 1)');
    expect(() => findLr({ optimizer: opt, step: () => NaN })).toThrow('findLr: the first step already gave a non-finite loss');
  });
});
