// LR schedulers: the lr sequence of each against PyTorch's closed forms (and values PyTorch prints).
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { getBackends } from '../test-utils.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import {
  CosineAnnealingLR, ExponentialLR, LinearLR, OneCycleLR, ReduceLROnPlateau, StepLR, type LRScheduler,
} from './lr-scheduler.js';
import { SGD } from './sgd.js';

function sgd(lr = 0.1, groups = 1, momentum = 0): SGD {
  return new SGD(Array.from({ length: groups }, (_, i) => ({ params: [tensor([1], { requiresGrad: true })], lr: lr * (i + 1) })), { lr, momentum });
}

/** The lr of group 0 right after construction and after each of `steps` steps. */
function lrs(s: { step(): void; getLastLr(): number[] }, steps: number): number[] {
  const out = [s.getLastLr()[0]!];
  for (let i = 0; i < steps; i++) {
    s.step();
    out.push(s.getLastLr()[0]!);
  }
  return out;
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!), `[${i}]: ${a} vs ${expected[i]}`).toBeLessThanOrEqual(1e-12 + 1e-10 * Math.abs(expected[i]!)));
}

beforeEach(async () => setBackend((await getBackends()).reference));

describe('epoch schedulers', () => {
  it('StepLR: lr·γ^⌊t/stepSize⌋, written into every group', () => {
    const opt = sgd(0.1, 2);
    const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
    expectClose(lrs(s, 9), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]);
    expect(s.getLastLr()).toEqual([0.1 * 0.5 ** 3, 0.2 * 0.5 ** 3]);
    expect(opt.paramGroups.map((g) => g.lr)).toEqual(s.getLastLr());
  });

  it('ExponentialLR: lr·γ^t', () => {
    const s = new ExponentialLR(sgd(), { gamma: 0.9 });
    expectClose(lrs(s, 6), Array.from({ length: 7 }, (_, t) => 0.1 * 0.9 ** t));
  });

  it('CosineAnnealingLR: ηmin + (lr − ηmin)(1 + cos(πt/T))/2, continuing past T', () => {
    const s = new CosineAnnealingLR(sgd(), { tMax: 10, etaMin: 0.001 });
    expectClose(lrs(s, 15), Array.from({ length: 16 }, (_, t) => 0.001 + (0.1 - 0.001) * (1 + Math.cos(Math.PI * t / 10)) / 2));
    const s2 = new CosineAnnealingLR(sgd(1), { tMax: 4 });
    // PyTorch: [1.0, 0.8535533905932737, 0.5, 0.14644660940672627, 0.0]
    expectClose(lrs(s2, 4), [1, 0.8535533905932737, 0.5, 0.14644660940672627, 0]);
  });

  it('LinearLR: lr·(start + (end − start)·min(t, T)/T)', () => {
    const s = new LinearLR(sgd(0.05), { startFactor: 0.5, endFactor: 1, totalIters: 4 });
    expectClose(lrs(s, 6), [0.025, 0.03125, 0.0375, 0.04375, 0.05, 0.05, 0.05]);
    const d = new LinearLR(sgd(0.3)); // defaults: 1/3 → 1 over 5 steps
    expectClose(lrs(d, 5), Array.from({ length: 6 }, (_, t) => 0.3 * (1 / 3 + (2 / 3) * t / 5)));
  });

  it('stateDict / loadStateDict resume the schedule', () => {
    const s = new StepLR(sgd(), { stepSize: 2, gamma: 0.1 });
    s.step();
    s.step();
    s.step();
    const sd = s.stateDict();
    expect(sd).toEqual({ lastEpoch: 3, baseLrs: [0.1], lastLr: [s.getLastLr()[0]], options: { stepSize: 2, gamma: 0.1 } });
    const t = new StepLR(sgd(), { stepSize: 5, gamma: 0.5 });
    t.loadStateDict(sd);
    s.step();
    t.step();
    expect(t.getLastLr()).toEqual(s.getLastLr());
    expect(() => t.loadStateDict({ ...sd, extra: 1 } as never)).toThrow('StepLR.loadStateDict: unknown key "extra"');
    expect(() => t.loadStateDict({ ...sd, baseLrs: [0.1, 0.2] })).toThrow('StepLR.loadStateDict: baseLrs must be an array of 1 numbers');
    expect(() => t.loadStateDict({ ...sd, options: { stepSize: 0, gamma: 0.1 } })).toThrow('StepLR: stepSize must be a positive integer (got 0)');
  });

  it('a second scheduler on the same optimizer starts from initialLr, as PyTorch', () => {
    const opt = sgd(1);
    new LinearLR(opt, { startFactor: 0.1, totalIters: 2 });
    expect(opt.paramGroups[0]!.lr).toBeCloseTo(0.1, 12);
    const e = new ExponentialLR(opt, { gamma: 0.5 });
    expect(e.baseLrs).toEqual([1]);
  });

  it('rejects bad options by name', () => {
    expect(() => new StepLR(sgd(), { stepSize: 0 })).toThrow('StepLR: stepSize must be a positive integer (got 0)');
    expect(() => new StepLR({} as never, { stepSize: 1 })).toThrow('StepLR: expected an optimizer (got Object)');
    expect(() => new CosineAnnealingLR(sgd(), { tMax: -1 })).toThrow('CosineAnnealingLR: tMax must be a positive integer');
    expect(() => new LinearLR(sgd(), { startFactor: 0 })).toThrow('LinearLR: startFactor must be in (0, 1] (got 0)');
    expect(() => new LinearLR(sgd(), { endFactor: 1.5 })).toThrow('LinearLR: endFactor must be in [0, 1] (got 1.5)');
  });
});

describe('OneCycleLR', () => {
  /** torch.optim.lr_scheduler.OneCycleLR's get_lr, written out (two phases). */
  function oneCycle(t: number, maxLr: number, total: number, pct: number, div: number, finalDiv: number, cos: boolean): number {
    const initial = maxLr / div, min = initial / finalDiv;
    const anneal = (a: number, b: number, x: number) => cos ? b + (a - b) / 2 * (Math.cos(Math.PI * x) + 1) : (b - a) * x + a;
    const end1 = pct * total - 1;
    return t <= end1 ? anneal(initial, maxLr, t / end1) : anneal(maxLr, min, (t - end1) / (total - 1 - end1));
  }

  it('cos and linear annealing match PyTorch over the whole cycle', () => {
    for (const cos of [true, false]) {
      const s = new OneCycleLR(sgd(0.5), { maxLr: 1, totalSteps: 20, annealStrategy: cos ? 'cos' : 'linear' });
      expectClose(lrs(s, 19), Array.from({ length: 20 }, (_, t) => oneCycle(t, 1, 20, 0.3, 25, 1e4, cos)));
    }
    const s = new OneCycleLR(sgd(), { maxLr: 0.01, totalSteps: 100, pctStart: 0.25, divFactor: 10, finalDivFactor: 100 });
    expectClose(lrs(s, 99), Array.from({ length: 100 }, (_, t) => oneCycle(t, 0.01, 100, 0.25, 10, 100, true)));
    // PyTorch (maxLr 1, totalSteps 10): 0.04, 0.52, 1.0, then down to 4e-6
    const p = new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 10 });
    expectClose(lrs(p, 2), [0.04, 0.52, 1]);
    for (let i = 0; i < 7; i++) p.step();
    expect(p.getLastLr()[0]).toBeCloseTo(4e-6, 12);
    expect(() => p.step()).not.toThrow(); // step == totalSteps is allowed, as PyTorch
    expect(() => p.step()).toThrow('OneCycleLR: tried to step 11 times; the cycle has totalSteps = 10');
  });

  it('cycles momentum (SGD) or β1 (Adam) inversely to the lr, per-group maxLr', () => {
    const opt = sgd(0.1, 2, 0.9);
    const s = new OneCycleLR(opt, { maxLr: [1, 2], totalSteps: 10 });
    expectClose(opt.paramGroups.map((g) => g.lr), [0.04, 0.08]);
    expect(opt.paramGroups[0]!.momentum).toBeCloseTo(0.95, 12);
    s.step();
    s.step(); // the peak: lowest momentum
    expect(s.getLastLr()).toEqual([1, 2]);
    expect(opt.paramGroups[1]!.momentum).toBeCloseTo(0.85, 12);
    const adam = new Adam([tensor([1], { requiresGrad: true })], { lr: 0.1 });
    new OneCycleLR(adam, { maxLr: 1, totalSteps: 10 });
    expect(adam.paramGroups[0]!.betas).toEqual([0.95, 0.999]);
    const plain = sgd(0.1, 1, 0.9);
    new OneCycleLR(plain, { maxLr: 1, totalSteps: 10, cycleMomentum: false });
    expect(plain.paramGroups[0]!.momentum).toBe(0.9);
    const ada = new Adagrad([tensor([1], { requiresGrad: true })]);
    expect(() => new OneCycleLR(ada, { maxLr: 1, totalSteps: 10 })).toThrow('OneCycleLR: the Adagrad optimizer has no momentum or beta1 to cycle (help: pass cycleMomentum: false)');
    expect(() => new OneCycleLR(ada, { maxLr: [1, 2], totalSteps: 10, cycleMomentum: false })).toThrow('OneCycleLR: expected 1 values of maxLr');
  });

  it('three phases, and state dict round trip', () => {
    const s = new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 10, threePhase: true, annealStrategy: 'linear' });
    // PyTorch: up over steps 0..2, down to 0.04 by step 4, annihilate to 4e-6 at step 9
    expectClose(lrs(s, 4), [0.04, 0.52, 1, 0.52, 0.04]);
    const sd = s.stateDict();
    const t = new OneCycleLR(sgd(), { maxLr: 5, totalSteps: 10 });
    t.loadStateDict(sd);
    s.step();
    t.step();
    expect(t.getLastLr()).toEqual(s.getLastLr());
  });
});

describe('ReduceLROnPlateau', () => {
  it('reduces after `patience` bad epochs, with cooldown and minLr (PyTorch semantics)', () => {
    const opt = sgd(1);
    const s = new ReduceLROnPlateau(opt, { patience: 2, factor: 0.5, cooldown: 1, minLr: 0.2 });
    const seq: number[] = [];
    for (const loss of [10, 9, 9, 9, 9, 9, 9, 9, 8, 9, 9, 9, 9, 9, 9, 9]) {
      s.step(loss);
      seq.push(s.getLastLr()[0]!);
    }
    // epochs: 10 best, 9 best, then 3 bad → reduce at the 3rd bad (numBad > patience), cooldown 1 epoch…
    expect(seq).toEqual([1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2]);
  });

  it('mode max, absolute threshold, state dict', () => {
    const opt = sgd(0.1);
    const s = new ReduceLROnPlateau(opt, { mode: 'max', patience: 0, threshold: 0.1, thresholdMode: 'abs' });
    s.step(0.5); // best
    s.step(0.55); // not better by 0.1 → reduce (patience 0)
    expect(s.getLastLr()[0]).toBeCloseTo(0.01, 12);
    const sd = s.stateDict();
    expect(sd).toMatchObject({ lastEpoch: 2, best: 0.5, numBadEpochs: 0, cooldownCounter: 0 });
    const opt2 = sgd(0.1);
    opt2.loadStateDict(opt.stateDict()); // the lr comes with the optimizer's state, as in PyTorch
    const t = new ReduceLROnPlateau(opt2, { mode: 'max' });
    t.loadStateDict(sd);
    s.step(0.9);
    t.step(0.9);
    expect(t.stateDict()).toEqual(s.stateDict());
    expect(() => new ReduceLROnPlateau(sgd(), { factor: 1 })).toThrow('ReduceLROnPlateau: factor must be in [0, 1) (got 1)');
    expect(() => new ReduceLROnPlateau(sgd(), { mode: 'up' as never })).toThrow("ReduceLROnPlateau: mode must be 'min' or 'max'");
    expect(() => new ReduceLROnPlateau(sgd(0.1, 2), { minLr: [0.1] })).toThrow('ReduceLROnPlateau: expected 2 values of minLr');
  });
});

// keep the type import used
export type { LRScheduler };
