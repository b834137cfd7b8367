// Adam, AMSGrad and AdamW: the first two steps against torch.optim's formulas in float64, on both backends.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { expectAllClose, expectSteps, getBackends, setGrad } from '../test-utils.js';
import { Adam, AdamW, type AdamOptions } from './adam.js';

const P0 = [1, -2, 3.5, 0.25, -0.75];
const G1 = [0.5, -1, 2, 0, 0.3];
// smaller than G1 where it matters, so v falls and amsgrad's running max differs from v
const G2 = [-0.05, 0.5, 0.01, 4, -0.1];

/** torch.optim.Adam / AdamW element by element in float64: the parameter after each step. */
function expected(o: AdamOptions, decoupled: boolean, grads: number[][]): number[][] {
  const [b1, b2] = o.betas;
  const p = [...P0], m = P0.map(() => 0), v = P0.map(() => 0), vmax = P0.map(() => 0);
  return grads.map((g, s) => {
    const t = s + 1;
    for (let i = 0; i < p.length; i++) {
      let d = o.maximize ? -g[i]! : g[i]!;
      if (decoupled) p[i] = p[i]! * (1 - o.lr * o.weightDecay);
      else d += o.weightDecay * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * d;
      v[i] = b2 * v[i]! + (1 - b2) * d * d;
      vmax[i] = Math.max(vmax[i]!, v[i]!);
      const vhat = (o.amsgrad ? vmax[i]! : v[i]!) / (1 - b2 ** t);
      p[i] = p[i]! - (o.lr * m[i]! / (1 - b1 ** t)) / (Math.sqrt(vhat) + o.eps);
    }
    return [...p];
  });
}

describe.each(['wasm', 'reference'] as const)('Adam and AdamW on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  const base: AdamOptions = { lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };
  it.each([
    ['Adam', false, {}],
    ['Adam, other betas and eps', false, { betas: [0.8, 0.99], eps: 1e-3 }],
    ['Adam + L2 weight decay', false, { weightDecay: 0.1 }],
    ['Adam + amsgrad (β2 = 0.5, so v falls fast)', false, { amsgrad: true, betas: [0.9, 0.5] }],
    ['Adam maximize', false, { maximize: true }],
    ['AdamW', true, { weightDecay: 0.01 }],
    ['AdamW + amsgrad, large decay', true, { weightDecay: 0.5, amsgrad: true, betas: [0.9, 0.5] }],
  ] as [string, boolean, Partial<AdamOptions>][])('%s: two steps match the formulas', (_, decoupled, opts) => {
    const o = { ...base, ...opts };
    const p = tensor(P0, { requiresGrad: true });
    const opt = decoupled ? new AdamW([p], o) : new Adam([p], o);
    expectSteps(opt, p, [G1, G2], expected(o, decoupled, [G1, G2]));
  });

  it('amsgrad changes the second step where v falls', () => {
    const run = (amsgrad: boolean) => {
      const p = tensor(P0, { requiresGrad: true });
      const opt = new Adam([p], { lr: 0.01, betas: [0.9, 0.5], amsgrad });
      setGrad(p, G1);
      opt.step();
      setGrad(p, G2);
      opt.step();
      return Array.from(p.toFloat32Array());
    };
    const [a, b] = [run(false), run(true)];
    expect(Math.abs(a[2]! - b[2]!)).toBeGreaterThan(1e-3); // |g| fell from 2 to 0.01
    expect(a[3]).toBeCloseTo(b[3]!, 6); // |g| rose: v is its own max
  });

  it('the first Adam step moves each weight by about lr (bias correction)', () => {
    const p = tensor([1, 1, 1], { requiresGrad: true });
    const opt = new Adam([p], { lr: 0.1 });
    setGrad(p, [1e-3, -5, 100]);
    opt.step();
    expectAllClose(p.toFloat32Array(), [0.9, 1.1, 0.9], 1e-5, 1e-5);
  });

  it('defaults as PyTorch: AdamW decays by 1e-2, Adam does not', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(new Adam([p]).defaults).toMatchObject({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false });
    expect(new AdamW([p]).defaults.weightDecay).toBe(1e-2);
  });

  it('rejects bad arguments by name', () => {
    const p = tensor([1], { requiresGrad: true });
    expect(() => new Adam([p], { lr: -1 })).toThrow('Adam: invalid learning rate: -1 (expected ≥ 0)');
    expect(() => new AdamW([p], { lr: -1 })).toThrow('AdamW: invalid learning rate: -1');
    expect(() => new Adam([p], { eps: -1e-8 })).toThrow('Adam: invalid epsilon value: -1e-8');
    expect(() => new Adam([p], { betas: [1, 0.999] })).toThrow('Adam: invalid beta parameter at index 0: 1 (expected 0 ≤ beta < 1)');
    expect(() => new Adam([p], { betas: [0.9, -0.1] })).toThrow('invalid beta parameter at index 1: -0.1');
    expect(() => new Adam([p], { weightDecay: -0.1 })).toThrow('Adam: invalid weightDecay value: -0.1');
    expect(() => new Adam([p], { amsgrad: 1 as unknown as boolean })).toThrow('Adam: amsgrad must be true or false (got 1)');
  });
});
