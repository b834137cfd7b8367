// The fused optimizer kernels of the wasm backend against the reference backend (float64 loops), on the
// sizes that exercise the SIMD tails, for every option combination, with seeded random data.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.js';
import { dataFor, expectAllClose, get, getBackends, put } from '../test-utils.js';

const SIZES = [0, 1, 3, 4, 5, 17, 257];
let wasm: Backend;
let ref: Backend;

beforeAll(async () => {
  ({ wasm, reference: ref } = await getBackends());
});

const randomArray = (n: number, lo: number, hi: number, seed: number): Float32Array =>
  dataFor({ shape: [n], range: [lo, hi] }, seed) as Float32Array;

/**
 * Puts `buffers` into each backend's memory, runs `run(backend, pointers)` on both and compares every
 * buffer afterwards (all are updated in place).
 */
function compare(what: string, buffers: Float32Array[], run: (b: Backend, ptrs: number[]) => void, rtol = 2e-6, atol = 1e-6): void {
  const results = [wasm, ref].map((b) => {
    const ptrs = buffers.map((d) => put(b, d));
    run(b, ptrs);
    const out = buffers.map((d, i) => get(b, ptrs[i]!, d.length));
    ptrs.forEach((p) => b.heap.free(p));
    return out;
  });
  buffers.forEach((_, i) => expectAllClose(results[0]![i]!, results[1]![i]!, rtol, atol, `${what} buffer ${i}`));
}

describe('fused optimizer kernels: wasm vs reference', () => {
  it('sgdStep over sizes and options', () => {
    const cases = [
      { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, first: false, maximize: false },
      { momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false, first: false, maximize: true },
      { momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, first: true, maximize: false },
      { momentum: 0.9, dampening: 0.2, weightDecay: 0.01, nesterov: false, first: false, maximize: false },
      { momentum: 0.8, dampening: 0, weightDecay: 0.05, nesterov: true, first: false, maximize: false },
      { momentum: 0.8, dampening: 0, weightDecay: 0, nesterov: true, first: true, maximize: true },
    ];
    for (const n of SIZES) {
      cases.forEach((c, k) => {
        const data = [randomArray(n, -2, 2, 1), randomArray(n, -2, 2, 2), randomArray(n, -1, 1, 3)];
        compare(`sgd n=${n} case ${k}`, data, (b, [p, g, buf]) =>
          b.sgdStep(p!, g!, buf!, n, 0.05, c.momentum, c.dampening, c.weightDecay, c.nesterov, c.first, c.maximize));
      });
    }
  });

  it('adamStep (Adam, AdamW, amsgrad) over sizes', () => {
    const cases = [
      { wd: 0, decoupled: false, amsgrad: false, t: 1, maximize: false },
      { wd: 0.1, decoupled: false, amsgrad: false, t: 3, maximize: false },
      { wd: 0.1, decoupled: true, amsgrad: false, t: 2, maximize: true },
      { wd: 0.01, decoupled: true, amsgrad: true, t: 5, maximize: false },
      { wd: 0, decoupled: false, amsgrad: true, t: 1, maximize: false },
    ];
    for (const n of SIZES) {
      cases.forEach((c, k) => {
        const [b1, b2] = [0.9, 0.999];
        const data = [randomArray(n, -2, 2, 4), randomArray(n, -2, 2, 5), randomArray(n, -0.5, 0.5, 6), randomArray(n, 0, 1, 7), randomArray(n, 0, 1, 8)];
        compare(`adam n=${n} case ${k}`, data, (b, [p, g, m, v, vmax]) =>
          b.adamStep(p!, g!, m!, v!, c.amsgrad ? vmax! : 0, n, 1e-2, b1, b2, 1e-8, c.wd, c.decoupled, c.amsgrad,
            1 - b1 ** c.t, 1 - b2 ** c.t, c.maximize));
      });
    }
  });

  it('rmspropStep (plain, centered, momentum) over sizes', () => {
    const cases = [
      { wd: 0, momentum: 0, centered: false, maximize: false },
      { wd: 0.1, momentum: 0, centered: true, maximize: false },
      { wd: 0, momentum: 0.9, centered: false, maximize: true },
      { wd: 0.01, momentum: 0.5, centered: true, maximize: false },
    ];
    for (const n of SIZES) {
      cases.forEach((c, k) => {
        const data = [randomArray(n, -2, 2, 9), randomArray(n, -2, 2, 10), randomArray(n, 1, 2, 11), randomArray(n, -0.5, 0.5, 12), randomArray(n, -1, 1, 13)];
        compare(`rmsprop n=${n} case ${k}`, data, (b, [p, g, sq, ga, buf]) =>
          b.rmspropStep(p!, g!, sq!, c.centered ? ga! : 0, c.momentum > 0 ? buf! : 0, n, 1e-2, 0.99, 1e-8, c.wd, c.momentum, c.centered, c.maximize));
      });
    }
  });

  it('adagradStep over sizes', () => {
    for (const n of SIZES) {
      for (const [wd, maximize] of [[0, false], [0.1, true]] as const) {
        const data = [randomArray(n, -2, 2, 14), randomArray(n, -2, 2, 15), randomArray(n, 0, 3, 16)];
        compare(`adagrad n=${n} wd=${wd}`, data, (b, [p, g, sum]) => b.adagradStep(p!, g!, sum!, n, 0.01 / 1.5, wd, 1e-10, maximize));
      }
    }
  });

  it('normPartial (1, 2, 3, Infinity) over sizes, and NaN propagation of the inf norm', () => {
    for (const n of SIZES) {
      const data = randomArray(n, -3, 3, 17);
      for (const normType of [1, 2, 3, 0.5, Infinity]) {
        const [w, r] = [wasm, ref].map((b) => {
          const p = put(b, data);
          const v = b.normPartial(p, n, normType);
          b.heap.free(p);
          return v;
        });
        expect(Math.abs(w! - r!), `n=${n} p=${normType}: ${w} vs ${r}`).toBeLessThanOrEqual(1e-12 + 1e-9 * Math.abs(r!));
      }
    }
    for (const b of [wasm, ref]) {
      const p = b.heap.alloc(32);
      b.heap.views().f32.set([1, NaN, -7, 2, 3, 4, 5, -6], p >> 2);
      expect(b.normPartial(p, 8, Infinity)).toBeNaN();
      expect(b.normPartial(p, 8, 2)).toBeNaN();
      b.heap.views().f32[(p >> 2) + 1] = 0;
      expect(b.normPartial(p, 8, Infinity)).toBe(7);
      b.heap.free(p);
    }
  });
});
