// Gradient clipping: the returned norm and the clipped gradients against values computed by hand.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { keep } from '../memory.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { expectAllClose, getBackends } from '../test-utils.js';
import { clipGradNorm, clipGradValue } from './clip.js';

function withGrads(grads: (number[] | null)[]): Tensor[] {
  return grads.map((g) => {
    const p = tensor(g ?? [0], { requiresGrad: true });
    if (g !== null) p.grad = keep(tensor(g));
    return p;
  });
}

describe.each(['wasm', 'reference'] as const)('gradient clipping on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  it('clipGradNorm (L2): returns the total norm and scales by maxNorm / (norm + 1e-6)', () => {
    // the grads form one vector [3, 4, 0, 12]: norm 13
    const ps = withGrads([[3, 4], null, [0, 12]]);
    const norm = clipGradNorm(ps, 6.5);
    expect(norm).toBeCloseTo(13, 10);
    const c = 6.5 / (13 + 1e-6);
    expectAllClose(ps[0]!.grad!.toFloat32Array(), [3 * c, 4 * c], 1e-6, 0);
    expectAllClose(ps[2]!.grad!.toFloat32Array(), [0, 12 * c], 1e-6, 0);
    expect(ps[1]!.grad).toBeNull();
  });

  it('clipGradNorm leaves gradients below maxNorm alone', () => {
    const ps = withGrads([[3, 4]]);
    expect(clipGradNorm(ps, 10)).toBeCloseTo(5, 10);
    expect(Array.from(ps[0]!.grad!.toFloat32Array())).toEqual([3, 4]);
  });

  it('clipGradNorm with normType 1, 3 and Infinity', () => {
    expect(clipGradNorm(withGrads([[3, -4], [1]]), 100, 1)).toBeCloseTo(8, 10);
    expect(clipGradNorm(withGrads([[3, -4], [1]]), 100, 3)).toBeCloseTo(Math.cbrt(27 + 64 + 1), 10);
    const ps = withGrads([[3, -4], [1, 2, -0.5, 0.25, 1, 1, 1]]);
    expect(clipGradNorm(ps, 2, Infinity)).toBe(4);
    const c = 2 / (4 + 1e-6);
    expectAllClose(ps[0]!.grad!.toFloat32Array(), [3 * c, -4 * c], 1e-6, 0);
  });

  it('clipGradNorm over many elements (SIMD body and tail) matches a float64 sum', () => {
    const g = Array.from({ length: 1031 }, (_, i) => Math.sin(i) * 3);
    const want = Math.sqrt(g.reduce((s, v) => s + Math.fround(v) ** 2, 0));
    expect(clipGradNorm(withGrads([g]), 1e9)).toBeCloseTo(want, 8);
  });

  it('clipGradNorm: no gradients gives 0; a non-finite norm propagates or throws on request', () => {
    expect(clipGradNorm(withGrads([null]), 1)).toBe(0);
    const ps = withGrads([[1, NaN]]);
    expect(clipGradNorm(ps, 1)).toBeNaN();
    expect(Array.from(ps[0]!.grad!.toFloat32Array()).every(Number.isNaN)).toBe(true);
    expect(() => clipGradNorm(withGrads([[Infinity]]), 1, 2, true)).toThrow('clipGradNorm: the total norm of order 2 of the gradients is Infinity');
    expect(() => clipGradNorm(withGrads([[1]]), 1, 0)).toThrow('clipGradNorm: normType must be a number > 0 or Infinity (got 0)');
  });

  it('clipGradValue clamps into [−c, c]', () => {
    const ps = withGrads([[-3, -0.5, 0, 0.5, 3], null]);
    clipGradValue(ps, 1);
    expect(Array.from(ps[0]!.grad!.toFloat32Array())).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(() => clipGradValue(ps, -1)).toThrow('clipGradValue: clipValue must be a number ≥ 0 (got -1)');
  });
});
