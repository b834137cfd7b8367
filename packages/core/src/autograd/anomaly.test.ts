// autograd.detectAnomaly: names the op that first made NaN/Inf, in forward and in backward; costs nothing
// when off; and the stable forms (log-sum-exp, softplus, BCE with logits) stay finite where naive ones don't.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { autograd, init, liveTensorCount, nn, noGrad, scope, tensor } from '../index.js';
import { errorMessage } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

afterEach(() => {
  autograd.setDetectAnomaly(false);
});

describe('autograd.detectAnomaly', () => {
  it('forward: names the op whose output first holds NaN', () => {
    const x = tensor([1, -1, 4], { requiresGrad: true });
    const msg = errorMessage(() => autograd.detectAnomaly(() => scope(() => x.mul(2).log().sqrt().sum())));
    expect(msg).toBe('detectAnomaly: log produced NaN in its output (1 of 3 elements, shape [3])');
  });

  it('forward: Inf from a division by zero, inside a model', () => {
    const w = tensor([[1, 0]], { requiresGrad: true });
    const x = tensor([[2, 3]]);
    const msg = errorMessage(() => autograd.detectAnomaly(() => scope(() => tensor([1]).div(x.matmul(w.t()).sub(2)).sum())));
    expect(msg).toBe('detectAnomaly: div produced Inf in its output (1 of 1 elements, shape [1,1])');
  });

  it('forward: a NaN already in a leaf is blamed on the leaf, not on the op that reads it', () => {
    const w = tensor([NaN, 1], { requiresGrad: true });
    const msg = errorMessage(() => autograd.detectAnomaly(() => scope(() => w.mul(3).sum())));
    expect(msg).toMatch(/^detectAnomaly: input 0 of mul already has NaN \(1 of 2 elements, shape \[2\]; a leaf tensor \(data or a parameter\)\)/);
  });

  it('backward: names the op whose gradient rule first made Inf or NaN (sqrt at 0)', () => {
    const x = tensor([0, 1, 4], { requiresGrad: true });
    // forward is finite (sqrt(0) = 0); d sqrt/dx = 1/(2·sqrt x) is Inf at 0
    const msg = errorMessage(() => autograd.detectAnomaly(() => scope(() => x.sqrt().sum().backward())));
    expect(msg).toBe('detectAnomaly: the gradient of sqrt (backward) has Inf in the gradient of its input 0 (1 of 3 elements, shape [3])');
    x.grad?.dispose();
  });

  it('backward: NaN from 0·Inf in a gradient (pow at 0 with a fractional exponent times zero)', () => {
    const x = tensor([0, 1], { requiresGrad: true });
    const msg = errorMessage(() => autograd.detectAnomaly(() => scope(() => x.pow(0.5).mul(tensor([0, 1])).sum().backward())));
    expect(msg).toMatch(/^detectAnomaly: the gradient of pow \(backward\) has (NaN|Inf)/);
  });

  it('a non-finite gradient passed to backward() is named as such', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const msg = errorMessage(() => autograd.detectAnomaly(() => scope(() => x.mul(2).backward(tensor([NaN, 1])))));
    expect(msg).toBe('detectAnomaly: the gradient passed to backward() has NaN (1 of 2 elements, shape [2])');
  });

  it('without detection the same code runs to NaN silently (as PyTorch); a clean graph passes with it on', () => {
    const x = tensor([0, 1, 4], { requiresGrad: true });
    scope(() => x.sqrt().sum().backward());
    expect(x.grad!.toArray()).toEqual([Infinity, 0.5, 0.25]);
    const y = tensor([1, 2, 3], { requiresGrad: true });
    const v = autograd.detectAnomaly(() => scope(() => {
      const l = y.log().mul(y).sum();
      l.backward();
      return l.item();
    }));
    expect(v).toBeCloseTo(2 * Math.log(2) + 3 * Math.log(3), 5);
    expect(y.grad!.toFloat32Array()[0]).toBeCloseTo(1, 6);
    expect(autograd.isAnomalyEnabled()).toBe(false);
  });

  it('the mode switch, nesting, async functions, and no leaks on the error path', async () => {
    autograd.setDetectAnomaly(true);
    expect(autograd.isAnomalyEnabled()).toBe(true);
    const x = tensor([-1], { requiresGrad: true });
    const before = liveTensorCount();
    expect(() => scope(() => x.log())).toThrow('detectAnomaly: log produced NaN');
    expect(liveTensorCount()).toBe(before);
    autograd.setDetectAnomaly(false);
    expect(() => scope(() => x.log().item())).not.toThrow();
    const p = autograd.detectAnomaly(async () => {
      await Promise.resolve();
      return autograd.isAnomalyEnabled();
    });
    expect(autograd.isAnomalyEnabled()).toBe(true);
    expect(await p).toBe(true);
    expect(autograd.isAnomalyEnabled()).toBe(false);
    // under noGrad nothing is recorded, so nothing is checked (PyTorch checks backward only)
    expect(autograd.detectAnomaly(() => noGrad(() => scope(() => x.log().item())))).toBeNaN();
    expect(errorMessage(() => autograd.setDetectAnomaly('yes' as never))).toBe('setDetectAnomaly: mode must be true or false (got yes)');
    expect(errorMessage(() => autograd.detectAnomaly(null as never))).toBe('detectAnomaly: expected a function to run (got null)');
    expect(Object.keys(autograd).sort()).toEqual(['detectAnomaly', 'gradcheck', 'isAnomalyEnabled', 'isGradEnabled', 'noGrad', 'setDetectAnomaly']);
  });

  it('training a small MLP with detection on gives the same numbers as without (it only checks)', () => {
    const run = (on: boolean) => scope(() => {
      const w = tensor([[0.5, -0.25], [0.1, 0.3]], { requiresGrad: true });
      const x = tensor([[1, 2], [3, -1]]);
      const body = () => scope(() => {
        const l = x.matmul(w).tanh().softmax(1).log().mean();
        l.backward();
        return l.item();
      });
      const v = on ? autograd.detectAnomaly(body) : body();
      return [v, ...w.grad!.toFloat32Array()];
    });
    expect(run(true)).toEqual(run(false));
  });
});

describe('stable forms where it matters', () => {
  it('log-sum-exp, softplus, logSoftmax and BCE with logits stay finite at large inputs (checked by detectAnomaly)', () => {
    autograd.detectAnomaly(() => scope(() => {
      const big = tensor([[1000, 1000, -1000], [-1000, 0, 1000]], { requiresGrad: true });
      expect(big.logsumexp(1).toFloat32Array()[0]).toBeCloseTo(1000 + Math.log(2), 3);
      expect(big.logSoftmax(1).toFloat32Array().every(Number.isFinite)).toBe(true);
      expect(big.softplus().toArray()).toEqual([[1000, 1000, 0], [0, expect.closeTo(Math.log(2), 6), 1000]]);
      const target = tensor([[1, 0, 1], [0, 1, 0]]);
      const bce = nn.functional.binaryCrossEntropyWithLogits(big, target);
      expect(Number.isFinite(bce.item())).toBe(true);
      bce.add(big.logsumexp(1).sum()).add(big.softplus().sum()).backward();
      expect(big.grad!.toFloat32Array().every(Number.isFinite)).toBe(true);
      big.grad!.dispose();
    }));
  });
});
