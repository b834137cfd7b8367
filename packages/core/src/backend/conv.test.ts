// The convolution and pooling primitives of the wasm backend against the reference backend over many
// geometries (kernel 1/2/3/5, stride 1/2/3, padding 0/1/2, dilation 1/2, C 1/3/17, H and W 1/4/5/17 and
// some larger, non-square everything), plus checks that need no oracle: the adjoint identities
// <im2col(x), c> = <x, col2im(c)> (and the same for the poolings) in float64, im2col + a GEMM against a
// direct convolution, and hand-computed PyTorch values for ties, NaN and the average-pool divisor.
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '../random.js';
import { get, put, type Data } from '../test-utils.js';
import type { AvgPool2dGeometry, Backend, ConvGeometry, DType, Pool2dGeometry } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { createWasmBackend, type WasmBackend } from './wasm.js';

let wasm: WasmBackend;
let ref: ReferenceBackend;
let backends: Backend[];

beforeAll(async () => {
  wasm = await createWasmBackend({ initialPages: 64 });
  ref = new ReferenceBackend();
  backends = [wasm, ref];
});


/**
 * Runs `run` on one backend: copies `inputs` in, allocates the outputs (filled from `init` when given,
 * else with NaN garbage to catch unwritten cells), returns the outputs and frees everything.
 */
function runOn(b: Backend, inputs: Data[], outs: { n: number; dtype?: DType; init?: Data }[],
  run: (ins: number[], outs: number[]) => void): Data[] {
  const ins = inputs.map((d) => put(b, d));
  const ptrs = outs.map(({ n, dtype, init }) =>
    put(b, init ?? (dtype === 'int32' ? new Int32Array(n).fill(-7) : new Float32Array(n).fill(NaN))));
  run(ins, ptrs);
  const res = outs.map(({ n, dtype }, k) => get(b, ptrs[k]!, n, dtype));
  [...ins, ...ptrs].forEach((p) => b.heap.free(p));
  return res;
}

function expectClose(actual: Data, expected: Data, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const ok = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
  }
}

function expectEqual(actual: Data, expected: Data, what: string): void {
  expectClose(actual, expected, 0, 0, what);
}

function randomF32(g: Generator, n: number, lo = -2, hi = 2): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * g.uniform();
  return a;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function dotAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! * b[i]!);
  return s;
}

/** PyTorch's output size; ceil mode drops a last window that would start in the right padding. */
function outSize(size: number, k: number, s: number, p: number, d: number, ceil = false): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  if (!ceil) return Math.floor(span / s) + 1;
  let o = Math.ceil(span / s) + 1;
  if ((o - 1) * s >= size + p) o--;
  return o;
}

const show = (g: object) => JSON.stringify(g);

interface Dim { k: number; s: number; p: number; d: number }

function geometry(C: number, H: number, W: number, h: Dim, w: Dim, ceil = false): ConvGeometry | null {
  const outH = outSize(H, h.k, h.s, h.p, h.d, ceil), outW = outSize(W, w.k, w.s, w.p, w.d, ceil);
  if (outH <= 0 || outW <= 0) return null;
  return { C, H, W, kh: h.k, kw: w.k, padH: h.p, padW: w.p, strideH: h.s, strideW: w.s, dilH: h.d, dilW: w.d, outH, outW };
}

/**
 * Every combination of kernel 1/2/3/5, stride 1/2/3, padding 0/1/2 and dilation 1/2, each three times
 * with C, H, W drawn from 1/3/17 and 1/4/5/17 (one of the three with an independent second axis), then
 * some larger shapes (long rows for the SIMD groups, ResNet-like layers).
 */
function convGeometries(seed: number, opts: { maxPadHalfKernel?: boolean; noDilation?: boolean } = {}): ConvGeometry[] {
  const g = new Generator(seed);
  const pick = <T>(a: readonly T[]): T => a[g.int(0, a.length)]!;
  const list: ConvGeometry[] = [];
  const pads = (k: number) => [0, 1, 2].filter((p) => !opts.maxPadHalfKernel || p <= Math.floor(k / 2));
  for (const k of [1, 2, 3, 5]) for (const s of [1, 2, 3]) for (const p of pads(k)) for (const d of opts.noDilation ? [1] : [1, 2]) {
    // three valid draws (a draw whose window is larger than the padded input is drawn again)
    for (let t = 0, tries = 0; t < 3 && tries < 30; tries++) {
      const C = [1, 3, 17][(t + k + s + p) % 3]!;
      const H = pick([1, 4, 5, 17]), W = pick([1, 4, 5, 17]);
      const h: Dim = { k, s, p, d };
      let w: Dim = h;
      if (t === 2) {
        const kw = pick([1, 2, 3, 5]);
        w = { k: kw, s: pick([1, 2, 3]), p: pick(pads(kw)), d: opts.noDilation ? 1 : pick([1, 2]) };
      }
      const geo = geometry(C, H, W, h, w);
      if (geo) { list.push(geo); t++; }
    }
  }
  const big: [number, number, number, Dim, Dim][] = [
    [3, 32, 32, { k: 3, s: 1, p: 1, d: 1 }, { k: 3, s: 1, p: 1, d: 1 }],
    [2, 33, 40, { k: 3, s: 2, p: 1, d: 1 }, { k: 3, s: 2, p: 1, d: 1 }],
    [3, 37, 41, { k: 5, s: 2, p: 2, d: 1 }, { k: 5, s: 2, p: 2, d: 1 }],
    [4, 17, 43, { k: 2, s: 2, p: 0, d: 1 }, { k: 2, s: 2, p: 0, d: 1 }],
    [5, 17, 17, { k: 1, s: 1, p: 0, d: 1 }, { k: 1, s: 1, p: 0, d: 1 }],
    [2, 19, 38, { k: 3, s: 3, p: 1, d: 1 }, { k: 2, s: 3, p: 1, d: 1 }],
    [2, 20, 29, { k: 3, s: 1, p: 2, d: 2 }, { k: 3, s: 2, p: 2, d: 2 }],
    [1, 9, 64, { k: 1, s: 1, p: 0, d: 1 }, { k: 5, s: 1, p: 2, d: 1 }],
  ];
  for (const [C, H, W, h, w] of big) {
    if (opts.noDilation && (h.d > 1 || w.d > 1)) continue;
    list.push(geometry(C, H, W, h, w)!);
  }
  return list;
}

const colLen = (g: ConvGeometry) => g.C * g.kh * g.kw * g.outH * g.outW;
const imLen = (g: ConvGeometry) => g.C * g.H * g.W;

describe('im2col / col2im', () => {
  const geos = convGeometries(21);

  it('covers the geometry grid', () => {
    expect(geos.length).toBeGreaterThan(200);
    for (const v of [1, 2, 3, 5]) expect(geos.some((g) => g.kh === v && g.kw === v)).toBe(true);
    for (const v of [1, 2, 3]) expect(geos.some((g) => g.strideW === v && g.outW >= 8)).toBe(true);
    expect(geos.some((g) => g.kh !== g.kw && g.H !== g.W)).toBe(true);
  });

  it('im2col matches the reference exactly and overwrites every cell', () => {
    const g = new Generator(1);
    for (const geo of geos) {
      const x = randomF32(g, imLen(geo));
      const [w, r] = backends.map((b) => runOn(b, [x], [{ n: colLen(geo) }], ([xp], [col]) => b.im2col(col!, xp!, geo))[0]!);
      expectEqual(w!, r!, `im2col ${show(geo)}`);
    }
  });

  it('col2im accumulates like the reference', () => {
    const g = new Generator(2);
    for (const geo of geos) {
      const col = randomF32(g, colLen(geo));
      const init = randomF32(g, imLen(geo));
      const [w, r] = backends.map((b) => runOn(b, [col], [{ n: imLen(geo), init }], ([cp], [xp]) => b.col2im(xp!, cp!, geo))[0]!);
      expectClose(w!, r!, 1e-5, 1e-5 * geo.kh * geo.kw, `col2im ${show(geo)}`);
    }
  });

  it('col2im is the adjoint of im2col: <im2col(x), c> = <x, col2im(c)>', () => {
    const g = new Generator(3);
    for (const geo of geos) {
      const x = randomF32(g, imLen(geo)), c = randomF32(g, colLen(geo));
      for (const b of backends) {
        const [col] = runOn(b, [x], [{ n: colLen(geo) }], ([xp], [cp]) => b.im2col(cp!, xp!, geo));
        const [gx] = runOn(b, [c], [{ n: imLen(geo), init: new Float32Array(imLen(geo)) }], ([cp], [xp]) => b.col2im(xp!, cp!, geo));
        const lhs = dot(col!, c), rhs = dot(x, gx!);
        const scale = dotAbs(col!, c);
        expect(Math.abs(lhs - rhs), `${b.name} ${show(geo)}: ${lhs} vs ${rhs}`).toBeLessThanOrEqual(1e-6 * scale + 1e-9);
      }
    }
  });

  it('im2col followed by a GEMM is the direct convolution', () => {
    const g = new Generator(4);
    const Cout = 3;
    for (const geo of geos.filter((_, i) => i % 5 === 0)) {
      const x = randomF32(g, imLen(geo));
      const K = geo.C * geo.kh * geo.kw, P = geo.outH * geo.outW;
      const weight = randomF32(g, Cout * K);
      const [col] = runOn(wasm, [x], [{ n: K * P }], ([xp], [cp]) => wasm.im2col(cp!, xp!, geo));
      for (let co = 0; co < Cout; co++) {
        for (let oh = 0; oh < geo.outH; oh++) {
          for (let ow = 0; ow < geo.outW; ow++) {
            let viaCol = 0, direct = 0;
            for (let k = 0; k < K; k++) viaCol += weight[co * K + k]! * col![k * P + oh * geo.outW + ow]!;
            for (let c = 0; c < geo.C; c++) for (let i = 0; i < geo.kh; i++) for (let j = 0; j < geo.kw; j++) {
              const ih = oh * geo.strideH - geo.padH + i * geo.dilH, iw = ow * geo.strideW - geo.padW + j * geo.dilW;
              if (ih < 0 || ih >= geo.H || iw < 0 || iw >= geo.W) continue;
              direct += weight[((co * geo.C + c) * geo.kh + i) * geo.kw + j]! * x[(c * geo.H + ih) * geo.W + iw]!;
            }
            expect(Math.abs(viaCol - direct), `conv ${show(geo)} at ${co},${oh},${ow}`).toBeLessThan(1e-9);
          }
        }
      }
    }
  });

  it('hand-checked small case: 1 channel 2x3, 2x2 kernel, padding 1, stride 2', () => {
    // x = [[1, 2, 3], [4, 5, 6]]; outH = 2, outW = 2; windows start at (-1,-1), (-1,1), (1,-1), (1,1)
    const geo = geometry(1, 2, 3, { k: 2, s: 2, p: 1, d: 1 }, { k: 2, s: 2, p: 1, d: 1 })!;
    expect([geo.outH, geo.outW]).toEqual([2, 2]);
    const x = Float32Array.from([1, 2, 3, 4, 5, 6]);
    for (const b of backends) {
      const [col] = runOn(b, [x], [{ n: 16 }], ([xp], [cp]) => b.im2col(cp!, xp!, geo));
      // rows: tap (0,0), (0,1), (1,0), (1,1); columns: output pixels
      expect(Array.from(col!), b.name).toEqual([0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 0, 1, 3, 0, 0]);
    }
  });
});

/** Pooling data with many exact ties (small integers), optionally some NaN and -inf. */
function poolData(g: Generator, n: number, special: boolean): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = g.uniform();
    a[i] = special && u < 0.03 ? NaN : special && u < 0.06 ? -Infinity : g.int(-2, 3);
  }
  return a;
}

const planeGeometries = (seed: number, opts: Parameters<typeof convGeometries>[1] = {}) =>
  convGeometries(seed, opts).map((geo) => ({ planes: geo.C, geo: geo as Pool2dGeometry }));
const poolIn = (planes: number, g: Pool2dGeometry) => planes * g.H * g.W;
const poolOut = (planes: number, g: Pool2dGeometry) => planes * g.outH * g.outW;

describe('max pooling', () => {
  const cases = planeGeometries(31);

  it('forward: values and argmax match the reference, with ties, NaN and -inf', () => {
    const g = new Generator(5);
    for (const { planes, geo } of cases) {
      for (const special of [false, true]) {
        const x = poolData(g, poolIn(planes, geo), special);
        const n = poolOut(planes, geo);
        const [w, r] = backends.map((b) => runOn(b, [x], [{ n }, { n, dtype: 'int32' }],
          ([xp], [out, arg]) => b.maxPool2d(out!, arg!, xp!, planes, geo)));
        expectEqual(w![0]!, r![0]!, `maxPool2d ${show(geo)} special=${special}`);
        expect(Array.from(w![1]!), `argmax ${show(geo)} special=${special}`).toEqual(Array.from(r![1]!));
        // the argmax points at the value (or at -1 for a window with no real cell)
        for (let o = 0; o < n; o++) {
          const a = w![1]![o]!, v = w![0]![o]!, p = Math.floor(o / (geo.outH * geo.outW));
          const at = a < 0 ? -Infinity : x[p * geo.H * geo.W + a]!;
          if (!(a >= -1 && a < geo.H * geo.W) || !Object.is(at, v)) throw new Error(`argmax ${show(geo)}[${o}] = ${a}: ${at} vs ${v}`);
        }
      }
    }
  });

  it('backward: routes gy to the argmax and accumulates like the reference', () => {
    const g = new Generator(6);
    for (const { planes, geo } of cases) {
      const x = poolData(g, poolIn(planes, geo), false);
      const gy = randomF32(g, poolOut(planes, geo));
      const init = randomF32(g, poolIn(planes, geo));
      const res = backends.map((b) => runOn(b, [x, gy], [{ n: poolOut(planes, geo) }, { n: poolOut(planes, geo), dtype: 'int32' },
        { n: poolIn(planes, geo), init }, { n: poolIn(planes, geo), init: new Float32Array(poolIn(planes, geo)) }],
      ([xp, gyp], [out, arg, gx, gx0]) => {
        b.maxPool2d(out!, arg!, xp!, planes, geo);
        b.maxPool2dGrad(gx!, gyp!, arg!, planes, geo);
        b.maxPool2dGrad(gx0!, gyp!, arg!, planes, geo);
      }));
      expectClose(res[0]![2]!, res[1]![2]!, 1e-5, 1e-5, `maxPool2dGrad ${show(geo)}`);
      // with finite data and every window real: <maxPool(x), gy> = <x, grad(gy)>
      const out = res[0]![0]!, gx0 = res[0]![3]!;
      if (out.every(Number.isFinite)) {
        expect(Math.abs(dot(out, gy) - dot(x, gx0)), `adjoint ${show(geo)}`).toBeLessThanOrEqual(1e-5 * dotAbs(out, gy) + 1e-9);
      }
    }
  });

  it('hand-checked ties, NaN, all -inf and an empty window (as PyTorch)', () => {
    const geo1x4 = geometry(1, 1, 4, { k: 1, s: 1, p: 0, d: 1 }, { k: 4, s: 1, p: 0, d: 1 })!;
    // long rows so that the SIMD interior runs too: 2 planes [1, 12], kernel 1x4, stride 1 -> 9 outputs
    const geoRow = geometry(1, 1, 12, { k: 1, s: 1, p: 0, d: 1 }, { k: 4, s: 1, p: 0, d: 1 })!;
    const geoInf = geometry(1, 4, 4, { k: 2, s: 2, p: 1, d: 1 }, { k: 2, s: 2, p: 1, d: 1 })!;
    const geoEmpty = geometry(1, 1, 1, { k: 2, s: 1, p: 1, d: 2 }, { k: 2, s: 1, p: 1, d: 2 })!;
    expect([geoEmpty.outH, geoEmpty.outW]).toEqual([1, 1]);
    const run = (b: Backend, x: number[], planes: number, geo: Pool2dGeometry) => {
      const n = poolOut(planes, geo);
      const [out, arg] = runOn(b, [Float32Array.from(x)], [{ n }, { n, dtype: 'int32' }],
        ([xp], [o, a]) => b.maxPool2d(o!, a!, xp!, planes, geo));
      return [Array.from(out!), Array.from(arg!)];
    };
    for (const b of backends) {
      expect(run(b, [3, 1, 3, 2], 1, geo1x4), `${b.name} tie`).toEqual([[3], [0]]);
      expect(run(b, [NaN, 5, NaN, 1], 1, geo1x4), `${b.name} NaN`).toEqual([[NaN], [2]]);
      expect(run(b, [1, 5, NaN, 7], 1, geo1x4), `${b.name} NaN then larger`).toEqual([[NaN], [2]]);
      expect(run(b, [-Infinity, -Infinity, -Infinity, -Infinity], 1, geo1x4), `${b.name} -inf`).toEqual([[-Infinity], [0]]);
      const row = [0, 1, 1, 0, 2, NaN, 2, 0, -1, -1, -1, -1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9];
      expect(run(b, row, 2, geoRow), `${b.name} rows`).toEqual([
        [1, 2, NaN, NaN, NaN, NaN, 2, 0, -1, 9, 9, 9, 9, 9, 9, 9, 9, 9],
        [1, 4, 5, 5, 5, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8]]);
      // all -inf: each window points at its first real cell
      expect(run(b, new Array(16).fill(-Infinity), 1, geoInf)[1], `${b.name} -inf windows`).toEqual([0, 1, 3, 4, 5, 7, 12, 13, 15]);
      expect(run(b, [4], 1, geoEmpty), `${b.name} empty window`).toEqual([[-Infinity], [-1]]);
    }
  });
});

describe('average pooling', () => {
  // PyTorch requires pad <= kernel / 2; also test ceil-mode output sizes
  const cases = planeGeometries(41, { maxPadHalfKernel: true, noDilation: true });
  for (const { planes, geo } of [...cases]) {
    const h = { k: geo.kh, s: geo.strideH, p: geo.padH, d: 1 }, w = { k: geo.kw, s: geo.strideW, p: geo.padW, d: 1 };
    const ceil = geometry(planes, geo.H, geo.W, h, w, true);
    if (ceil && (ceil.outH !== geo.outH || ceil.outW !== geo.outW)) cases.push({ planes, geo: ceil });
  }

  it('covers ceil-mode windows', () => {
    expect(cases.length).toBeGreaterThan(90);
    expect(cases.some(({ geo }) => (geo.outH - 1) * geo.strideH - geo.padH + geo.kh > geo.H + geo.padH)).toBe(true);
  });

  it.each([true, false])('forward and backward match the reference (countIncludePad=%s)', (include) => {
    const g = new Generator(include ? 7 : 8);
    for (const { planes, geo } of cases) {
      const x = randomF32(g, poolIn(planes, geo));
      const [wo, ro] = backends.map((b) => runOn(b, [x], [{ n: poolOut(planes, geo) }],
        ([xp], [out]) => b.avgPool2d(out!, xp!, planes, geo, include))[0]!);
      expectClose(wo!, ro!, 1e-5, 1e-6, `avgPool2d ${show(geo)}`);
      const gy = randomF32(g, poolOut(planes, geo));
      const init = randomF32(g, poolIn(planes, geo));
      const [wg, rg] = backends.map((b) => runOn(b, [gy], [{ n: poolIn(planes, geo), init }],
        ([gyp], [gx]) => b.avgPool2dGrad(gx!, gyp!, planes, geo, include))[0]!);
      expectClose(wg!, rg!, 1e-5, 1e-5, `avgPool2dGrad ${show(geo)}`);
      // the gradient is the adjoint of the (linear) forward
      const [gx0] = runOn(wasm, [gy], [{ n: poolIn(planes, geo), init: new Float32Array(poolIn(planes, geo)) }],
        ([gyp], [gx]) => wasm.avgPool2dGrad(gx!, gyp!, planes, geo, include));
      expect(Math.abs(dot(wo!, gy) - dot(x, gx0!)), `adjoint ${show(geo)}`).toBeLessThanOrEqual(1e-5 * dotAbs(wo!, gy) + 1e-9);
    }
  });

  it('uses PyTorch divisors (hand-checked)', () => {
    const pool = (b: Backend, x: number[], geo: AvgPool2dGeometry, include: boolean) =>
      Array.from(runOn(b, [Float32Array.from(x)], [{ n: geo.outH * geo.outW }],
        ([xp], [out]) => b.avgPool2d(out!, xp!, 1, geo, include))[0]!);
    // x = [[1, 2], [3, 4]], kernel 2, stride 1, padding 1 -> 3x3
    const small = geometry(1, 2, 2, { k: 2, s: 1, p: 1, d: 1 }, { k: 2, s: 1, p: 1, d: 1 })!;
    // ones(4, 4), kernel 3, stride 2, padding 1, ceil mode -> 3x3; the last window hangs past the padding
    const ceil = geometry(1, 4, 4, { k: 3, s: 2, p: 1, d: 1 }, { k: 3, s: 2, p: 1, d: 1 }, true)!;
    expect([ceil.outH, ceil.outW]).toEqual([3, 3]);
    for (const b of backends) {
      expectClose(Float32Array.from(pool(b, [1, 2, 3, 4], small, true)),
        Float32Array.from([0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1]), 1e-6, 0, `${b.name} include pad`);
      expectClose(Float32Array.from(pool(b, [1, 2, 3, 4], small, false)),
        Float32Array.from([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]), 1e-6, 0, `${b.name} exclude pad`);
      expectClose(Float32Array.from(pool(b, new Array(16).fill(1), ceil, true)),
        Float32Array.from([4 / 9, 6 / 9, 2 / 6, 6 / 9, 1, 3 / 6, 2 / 6, 3 / 6, 1 / 4]), 1e-6, 0, `${b.name} ceil include pad`);
      expectClose(Float32Array.from(pool(b, new Array(16).fill(1), ceil, false)),
        new Float32Array(9).fill(1), 1e-6, 0, `${b.name} ceil exclude pad`);
    }
  });
});

describe('bias add and bias gradient (NCHW)', () => {
  it('match the reference', () => {
    const g = new Generator(9);
    for (const N of [0, 1, 2, 3]) for (const C of [1, 3, 17]) for (const HW of [1, 3, 4, 5, 17, 257]) {
      const y = randomF32(g, N * C * HW), bias = randomF32(g, C);
      const [wy, ry] = backends.map((b) => runOn(b, [bias], [{ n: N * C * HW, init: y }],
        ([bp], [yp]) => b.addBiasNCHW(yp!, bp!, N, C, HW))[0]!);
      expectEqual(wy!, ry!, `addBiasNCHW ${N},${C},${HW}`);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        const k = (n * C + c) * HW + HW - 1;
        expect(wy![k]).toBe(Math.fround(y[k]! + bias[c]!));
      }
      const gy = randomF32(g, N * C * HW);
      const [wb, rb] = backends.map((b) => runOn(b, [gy], [{ n: C }], ([gyp], [gb]) => b.biasGradNCHW(gb!, gyp!, N, C, HW))[0]!);
      expectClose(wb!, rb!, 1e-5, 1e-6 * Math.sqrt(N * HW), `biasGradNCHW ${N},${C},${HW}`);
      if (N === 0) expect(Array.from(wb!)).toEqual(new Array(C).fill(0));
    }
  });
});

describe('direct convolution (conv2dDirect, conv2dWeightGradDirect)', () => {
  // Two images; the group's channels sit one channel into each image and its outputs two planes in,
  // so the image strides and the offsets are exercised as conv2d uses them for groups.
  const geos = [
    ...convGeometries(41),
    geometry(1, 28, 28, { k: 3, s: 1, p: 0, d: 1 }, { k: 3, s: 1, p: 0, d: 1 })!, // the bench's first layer
    geometry(3, 13, 30, { k: 3, s: 1, p: 1, d: 1 }, { k: 5, s: 1, p: 2, d: 1 })!,
    geometry(2, 9, 21, { k: 2, s: 2, p: 1, d: 1 }, { k: 3, s: 1, p: 1, d: 2 })!,
    geometry(1, 6, 12, { k: 1, s: 1, p: 0, d: 1 }, { k: 7, s: 1, p: 3, d: 1 })!,
  ];
  const N = 2;
  const layout = (geo: ConvGeometry, O: number) => {
    const xImage = (geo.C + 1) * geo.H * geo.W, yImage = (O + 2) * geo.outH * geo.outW;
    return { xImage, yImage, xOff: geo.H * geo.W * 4, yOff: 2 * geo.outH * geo.outW * 4 };
  };

  it('covers the interior paths (8 and 4 outputs, the moved-back last group) and the borders', () => {
    expect(geos.some((g) => g.strideW === 1 && g.outW >= 9 && g.outW % 4 !== 0 && g.padW === 0)).toBe(true);
    expect(geos.some((g) => g.strideW === 1 && g.padW > 0 && g.outW >= 8)).toBe(true);
    expect(geos.some((g) => g.kw > 4)).toBe(true);
  });

  it('forward matches the reference (bias or none, O = 1, 3, 4, 6, 9)', () => {
    const g = new Generator(42);
    geos.forEach((geo, t) => {
      const O = [1, 3, 4, 6, 9][t % 5]!;
      const K = geo.C * geo.kh * geo.kw, L = geo.outH * geo.outW;
      const { xImage, yImage, xOff, yOff } = layout(geo, O);
      const x = randomF32(g, N * xImage), w = randomF32(g, O * K), bias = randomF32(g, O);
      const withBias = t % 2 === 0;
      const init = new Float32Array(N * yImage).fill(7);
      const [a, r] = backends.map((b) => runOn(b, [x, w, bias], [{ n: N * yImage, init }], ([xp, wp, bp], [y]) =>
        b.conv2dDirect(y! + yOff, xp! + xOff, wp!, withBias ? bp! : 0, N, O, geo, xImage, yImage))[0]!);
      expectClose(a!, r!, 1e-5, 1e-5 * K, `conv2dDirect ${show(geo)} O=${O} bias=${withBias}`);
      // only the group's output planes are written
      for (let n = 0; n < N; n++) for (let k = 0; k < 2 * L; k++) expect(a![n * yImage + k]).toBe(7);
    });
  });

  it('weight gradient matches the reference (O = 1, 2, 3, 5)', () => {
    const g = new Generator(43);
    geos.forEach((geo, t) => {
      const O = [1, 2, 3, 5, 7][t % 5]!; // kw = 3 runs channels in threes, then pairs, then one
      const K = geo.C * geo.kh * geo.kw, L = geo.outH * geo.outW;
      const { xImage, yImage, xOff, yOff } = layout(geo, O);
      const x = randomF32(g, N * xImage), gy = randomF32(g, N * yImage);
      const [a, r] = backends.map((b) => runOn(b, [x, gy], [{ n: O * K }], ([xp, gp], [gw]) =>
        b.conv2dWeightGradDirect(gw!, gp! + yOff, xp! + xOff, N, O, geo, xImage, yImage))[0]!);
      expectClose(a!, r!, 1e-5, 1e-5 * N * L, `conv2dWeightGradDirect ${show(geo)} O=${O}`);
    });
  });

  it('weight gradient: masked products keep an infinite input out of the lanes they skip', () => {
    // outW = 9, stride 1: groups at 0 and 4, then the group moved back to 5 whose lanes 5..7 are masked.
    // Tap (0, j) sums gy[ow]·x[0, ow + j]; x[0, 6] = inf and gy[5] = 0, so tap (0, 0) gets gy[6]·inf = inf,
    // (0, 1) gets 0·inf = NaN, (0, 2) inf; masking gy instead of the products would make tap (0, 0) NaN
    // (0 · inf in the skipped lane 6).
    const geo = geometry(1, 3, 11, { k: 3, s: 1, p: 0, d: 1 }, { k: 3, s: 1, p: 0, d: 1 })!;
    const x = new Float32Array(geo.H * geo.W).fill(1);
    const gy = new Float32Array(geo.outH * geo.outW).fill(1);
    x[6] = Infinity;
    gy[5] = 0;
    const want = [Infinity, NaN, Infinity, 8, 8, 8, 8, 8, 8];
    for (const b of backends) {
      // one output channel (pairs path) and three (the 3-channel × 3-tap path), every channel with this gy
      for (const O of [1, 3]) {
        const gys = new Float32Array(O * gy.length);
        for (let o = 0; o < O; o++) gys.set(gy, o * gy.length);
        const [gw] = runOn(b, [x, gys], [{ n: 9 * O }], ([xp, gp], [out]) => b.conv2dWeightGradDirect(out!, gp!, xp!, 1, O, geo, 33, 9 * O));
        expectEqual(gw!, Float32Array.from({ length: 9 * O }, (_, k) => want[k % 9]!), `${b.name} gw O=${O}`);
      }
    }
  });
});

describe('max pooling 2×2, stride 2 (the vectorised path)', () => {
  it('matches the reference, with ties, NaN and -inf, odd widths and ceil mode', () => {
    const g = new Generator(44);
    for (const H of [1, 2, 3, 7, 26]) for (const W of [8, 9, 10, 11, 13, 26, 27]) for (const ceil of [false, true]) {
      const geo = geometry(3, H, W, { k: 2, s: 2, p: 0, d: 1 }, { k: 2, s: 2, p: 0, d: 1 }, ceil);
      if (!geo) continue;
      for (const special of [false, true]) {
        const x = poolData(g, poolIn(3, geo), special);
        const n = poolOut(3, geo);
        const [w, r] = backends.map((b) => runOn(b, [x], [{ n }, { n, dtype: 'int32' }],
          ([xp], [out, arg]) => b.maxPool2d(out!, arg!, xp!, 3, geo)));
        expectEqual(w![0]!, r![0]!, `maxPool2d ${show(geo)} special=${special}`);
        expect(Array.from(w![1]!), `argmax ${show(geo)} special=${special}`).toEqual(Array.from(r![1]!));
      }
    }
  });

  it('backward into a fresh gradient (the block-writing path) matches zeros + maxPool2dGrad, NaN garbage in', () => {
    const g = new Generator(49);
    for (const H of [1, 2, 3, 7, 26]) for (const W of [8, 9, 10, 11, 13, 26, 27]) for (const ceil of [false, true]) {
      const geo = geometry(3, H, W, { k: 2, s: 2, p: 0, d: 1 }, { k: 2, s: 2, p: 0, d: 1 }, ceil);
      if (!geo) continue;
      const x = poolData(g, poolIn(3, geo), true);
      const gy = randomF32(g, poolOut(3, geo));
      const res = backends.map((b) => runOn(b, [x, gy], [{ n: poolOut(3, geo) }, { n: poolOut(3, geo), dtype: 'int32' },
        { n: poolIn(3, geo) }, { n: poolIn(3, geo), init: new Float32Array(poolIn(3, geo)) }],
      ([xp, gyp], [out, arg, set, acc]) => {
        b.maxPool2d(out!, arg!, xp!, 3, geo);
        b.maxPool2dGradSet(set!, gyp!, arg!, 3, geo);
        b.maxPool2dGrad(acc!, gyp!, arg!, 3, geo);
      }));
      for (const r of res) expectEqual(r[2]!, r[3]!, `maxPool2dGradSet ${show(geo)}`);
      expectEqual(res[0]![2]!, res[1]![2]!, `maxPool2dGradSet wasm vs reference ${show(geo)}`);
    }
  });
});

describe('the forward GEMM over im2col columns (conv2dColsGemm)', () => {
  it('matches the reference: odd O, L not a multiple of 8, K past one 256-deep block, strided images', () => {
    const g = new Generator(45);
    // [N, O, K, L]: tails in every dimension, K = 300 and 513 span two and three blocks, L = 1 and 7 are all edge
    const cases: [number, number, number, number][] = [[2, 5, 9, 121], [3, 32, 144, 121], [1, 1, 1, 1], [2, 7, 300, 17],
      [1, 4, 513, 8], [2, 3, 5, 7], [1, 9, 27, 64], [0, 3, 4, 5], [2, 3, 0, 5]];
    for (const [N, O, K, L] of cases) {
      const colsImage = K * L + 3, yImage = O * L + 5; // gaps between images must stay untouched
      const w = randomF32(g, O * K), cols = randomF32(g, N * colsImage + 1), bias = randomF32(g, O);
      for (const [withBias, transW] of [[true, false], [false, false], [true, true], [false, true]]) {
        const init = new Float32Array(N * yImage + 1).fill(7);
        const [a, r] = backends.map((b) => runOn(b, [w, cols, bias], [{ n: N * yImage + 1, init }], ([wp, cp, bp], [y]) =>
          b.conv2dColsGemm(y!, wp!, cp!, withBias ? bp! : 0, N, O, K, L, colsImage, yImage, transW))[0]!);
        const what = `conv2dColsGemm N=${N} O=${O} K=${K} L=${L} bias=${withBias} transW=${transW}`;
        expectClose(a!, r!, 1e-5, 1e-5 * Math.max(K, 1), what);
        if (transW && N > 0 && K > 0) {
          // the transposed weight is read as w[p·O + o]: spot-check one output by hand
          let s = withBias ? bias[0]! : 0;
          for (let p = 0; p < K; p++) s += w[p * O]! * cols[p * L]!;
          expect(Math.abs(a![0]! - s), `${what}: y[0, 0, 0]`).toBeLessThanOrEqual(1e-5 * K);
        }
        for (let n = 0; n < N; n++) for (let k = O * L; k < yImage; k++) expect(a![n * yImage + k], 'gap').toBe(7);
      }
    }
  });
});

describe('max pooling backward into a fresh gradient (maxPool2dGradSet)', () => {
  it('overwrites every cell (NaN garbage in) and equals zeros + maxPool2dGrad, on the reference too', () => {
    const g = new Generator(46);
    for (const { planes, geo } of planeGeometries(47)) {
      const x = poolData(g, poolIn(planes, geo), false);
      const gy = randomF32(g, poolOut(planes, geo));
      const res = backends.map((b) => runOn(b, [x, gy], [{ n: poolOut(planes, geo) }, { n: poolOut(planes, geo), dtype: 'int32' },
        { n: poolIn(planes, geo) }, { n: poolIn(planes, geo), init: new Float32Array(poolIn(planes, geo)) }],
      ([xp, gyp], [out, arg, set, acc]) => {
        b.maxPool2d(out!, arg!, xp!, planes, geo);
        b.maxPool2dGradSet(set!, gyp!, arg!, planes, geo);
        b.maxPool2dGrad(acc!, gyp!, arg!, planes, geo);
      }));
      for (const r of res) expectEqual(r[2]!, r[3]!, `maxPool2dGradSet vs fill + maxPool2dGrad ${show(geo)}`);
      expectClose(res[0]![2]!, res[1]![2]!, 1e-5, 1e-5, `maxPool2dGradSet wasm vs reference ${show(geo)}`);
    }
  });
});

describe('matmul summing a batch into one C (strideC 0: the conv weight gradient)', () => {
  it('equals the per-image sum, and 2 threads split rows only (bit-identical to 1 thread)', async () => {
    const threaded = await createWasmBackend({ threads: 2, initialPages: 64 });
    try {
      const g = new Generator(48);
      // m = 32, n = 144, k = 121: the bench's second layer (gy · colsᵀ per image), 6 images
      const batch = 6, m = 32, n = 144, k = 121;
      const a = randomF32(g, batch * m * k), b = randomF32(g, batch * n * k);
      const args = { batch, m, n, k, transA: false, transB: true, strideA: m * k, strideB: n * k, strideC: 0, accumulate: true };
      const zeros = new Float32Array(m * n);
      const run = (be: Backend) => runOn(be, [a, b], [{ n: m * n, init: zeros }], ([ap, bp], [c]) => be.matmul(c!, ap!, bp!, args))[0]!;
      const [w, r] = [run(wasm), run(ref)];
      expectClose(w, r, 1e-5, 1e-4, 'strideC 0 vs the reference');
      threaded.useThreads(1);
      const one = run(threaded);
      threaded.useThreads(2);
      const two = run(threaded);
      expectEqual(two, one, '2 threads vs 1');
      expectEqual(one, w, 'shared build vs plain build');
    } finally {
      await threaded.shutdown();
    }
  });
});

describe('the input gradient image by image (conv2dInputGrad)', () => {
  it('matches the reference over the geometry grid (O = 1, 3, 5, 300: one weight block and two), accumulating', () => {
    const g = new Generator(50);
    const geos = convGeometries(51).filter((_, i) => i % 3 === 0);
    geos.forEach((geo, t) => {
      const O = [1, 3, 5][t % 3]!;
      const K = geo.C * geo.kh * geo.kw, L = geo.outH * geo.outW;
      const N = 2, gyImage = (O + 1) * L, gxImage = (geo.C + 2) * geo.H * geo.W;
      const w = randomF32(g, O * K), gy = randomF32(g, N * gyImage);
      const init = randomF32(g, N * gxImage);
      const [a, r] = backends.map((b) => runOn(b, [w, gy], [{ n: N * gxImage, init }], ([wp, gp], [gx]) =>
        b.conv2dInputGrad(gx!, wp!, gp! + L * 4, N, O, geo, gyImage, gxImage))[0]!);
      expectClose(a!, r!, 1e-5, 1e-5 * O * geo.kh * geo.kw, `conv2dInputGrad ${show(geo)} O=${O}`);
    });
    // more than 256 output channels: the weight is packed per image and block
    const geo = geometry(2, 6, 7, { k: 3, s: 1, p: 1, d: 1 }, { k: 3, s: 1, p: 1, d: 1 })!;
    const O = 300, K = 18, L = geo.outH * geo.outW;
    const w = randomF32(g, O * K), gy = randomF32(g, 2 * O * L);
    const init = new Float32Array(2 * 2 * 6 * 7);
    const [a, r] = backends.map((b) => runOn(b, [w, gy], [{ n: init.length, init }], ([wp, gp], [gx]) =>
      b.conv2dInputGrad(gx!, wp!, gp!, 2, O, geo, O * L, 2 * 6 * 7))[0]!);
    expectClose(a!, r!, 1e-5, 1e-4 * O, 'conv2dInputGrad O=300');
  });
});

describe('the forward pass image by image (conv2dForward)', () => {
  it('writes im2col into cols and y = w · cols + bias like the reference (K past one 256 block too)', () => {
    const g = new Generator(52);
    const geos = [...convGeometries(53).filter((_, i) => i % 3 === 0),
      geometry(30, 5, 6, { k: 3, s: 1, p: 1, d: 1 }, { k: 3, s: 1, p: 1, d: 1 })!]; // K = 270
    geos.forEach((geo, t) => {
      const O = [1, 4, 6][t % 3]!;
      const K = geo.C * geo.kh * geo.kw, L = geo.outH * geo.outW;
      const N = 2, xImage = (geo.C + 1) * geo.H * geo.W, yImage = (O + 1) * L, colsImage = K * L + 4;
      const x = randomF32(g, N * xImage), w = randomF32(g, O * K), bias = randomF32(g, O);
      const withBias = t % 2 === 0;
      const [a, r] = backends.map((b) => runOn(b, [x, w, bias], [{ n: N * yImage }, { n: N * colsImage }], ([xp, wp, bp], [y, cols]) =>
        b.conv2dForward(y!, xp!, wp!, withBias ? bp! : 0, cols!, N, O, geo, xImage, yImage, colsImage)));
      for (let n = 0; n < N; n++) {
        const at = (d: Data, off: number, len: number) => d.slice(off, off + len);
        expectEqual(at(a![1]!, n * colsImage, K * L), at(r![1]!, n * colsImage, K * L), `cols ${show(geo)} image ${n}`);
        expectClose(at(a![0]!, n * yImage, O * L), at(r![0]!, n * yImage, O * L), 1e-5, 1e-5 * K, `y ${show(geo)} O=${O} image ${n}`);
      }
    });
  });
});

describe('3×3 stride-1 convolution by Winograd F(2×2, 3×3) (conv3x3Winograd, conv3x3WinogradInputGrad, conv3x3WinogradWeightGrad)', () => {
  // [N, Cin, H, W, Cout, pad]: odd and even sizes (partial 2×2 blocks and groups of 4 tiles), Cin and Cout
  // not multiples of 4 or 8, 1×1 and 2×2 inputs with padding, a batch spanning several chunks of images,
  // and the bench's second layer
  const cases: [number, number, number, number, number, number][] = [
    [1, 1, 3, 3, 1, 0], [1, 1, 1, 1, 1, 1], [2, 4, 2, 2, 3, 2], [3, 5, 7, 9, 6, 1], [2, 16, 13, 13, 32, 0],
    [4, 3, 6, 5, 7, 1], [1, 17, 5, 4, 2, 0], [2, 9, 8, 8, 10, 1], [1, 2, 17, 19, 5, 2], [40, 6, 9, 9, 4, 1],
    [3, 32, 11, 11, 16, 2],
  ];
  const show = (c: number[]) => `[N ${c[0]}, Cin ${c[1]}, ${c[2]}×${c[3]}, Cout ${c[4]}, pad ${c[5]}]`;

  it('forward, bias or none: matches the reference, overwrites every output, leaves the spare planes alone', () => {
    const g = new Generator(61);
    for (const c of cases) {
      const [N, Cin, H, W, Cout, pad] = c;
      const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
      // strided images: one spare plane after each image's planes, which must stay untouched
      const xImage = (Cin + 1) * H * W, yImage = (Cout + 1) * outH * outW;
      const x = randomF32(g, N * xImage), w = randomF32(g, Cout * Cin * 9), bias = randomF32(g, Cout);
      const y0 = randomF32(g, N * yImage).map((v, i) => (i % yImage < Cout * outH * outW ? NaN : v));
      for (const withBias of [true, false]) {
        const res = backends.map((be) => runOn(be, [x, w, bias], [{ n: N * yImage, init: y0 }], ([xp, wp, bp], [yp]) =>
          be.conv3x3Winograd(yp!, xp!, wp!, withBias ? bp! : 0, N, Cin, H, W, Cout, pad, xImage, yImage))[0]!);
        expectClose(res[0]!, res[1]!, 1e-5, 2e-5, `${show(c)} bias ${withBias}`);
        for (let n = 0; n < N; n++) {
          for (let i = Cout * outH * outW; i < yImage; i++) expect(res[0]![n * yImage + i], 'spare plane').toBe(y0[n * yImage + i]);
        }
      }
    }
  });

  it('input gradient (the transposed transform): matches the reference, overwrites every cell, leaves the spare planes alone', () => {
    const g = new Generator(65);
    for (const c of cases) {
      const [N, Cin, H, W, Cout, pad] = c;
      const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
      const gxImage = (Cin + 1) * H * W, gyImage = (Cout + 2) * outH * outW;
      const gy = randomF32(g, N * gyImage), w = randomF32(g, Cout * Cin * 9);
      const gx0 = randomF32(g, N * gxImage).map((v, i) => (i % gxImage < Cin * H * W ? NaN : v));
      const res = backends.map((be) => runOn(be, [gy, w], [{ n: N * gxImage, init: gx0 }], ([gp, wp], [gxp]) =>
        be.conv3x3WinogradInputGrad(gxp!, gp!, wp!, N, Cin, H, W, Cout, pad, gyImage, gxImage))[0]!);
      expectClose(res[0]!, res[1]!, 1e-5, 2e-5, `input gradient ${show(c)}`);
      for (let n = 0; n < N; n++) {
        for (let i = Cin * H * W; i < gxImage; i++) expect(res[0]![n * gxImage + i], 'spare plane').toBe(gx0[n * gxImage + i]);
      }
    }
  });

  it('forward and input gradient are an adjoint pair: <conv(x), gy> = <x, convᵀ(gy)>', () => {
    const g = new Generator(62);
    for (const c of cases.slice(0, 9)) {
      const [N, Cin, H, W, Cout, pad] = c;
      const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
      const x = randomF32(g, N * Cin * H * W), w = randomF32(g, Cout * Cin * 9), gy = randomF32(g, N * Cout * outH * outW);
      const [y, gx] = runOn(wasm, [x, w, gy], [{ n: N * Cout * outH * outW }, { n: N * Cin * H * W }], ([xp, wp, gp], [yp, gxp]) => {
        wasm.conv3x3Winograd(yp!, xp!, wp!, 0, N, Cin, H, W, Cout, pad, Cin * H * W, Cout * outH * outW);
        wasm.conv3x3WinogradInputGrad(gxp!, gp!, wp!, N, Cin, H, W, Cout, pad, Cout * outH * outW, Cin * H * W);
      });
      const lhs = dot(y!, gy), rhs = dot(x, gx!);
      expect(Math.abs(lhs - rhs), `${show(c)}: ${lhs} vs ${rhs}`).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(lhs)));
    }
  });

  it('weight gradient matches the reference and overwrites every cell (NaN garbage in)', () => {
    const g = new Generator(63);
    for (const c of cases) {
      const [N, Cin, H, W, Cout, pad] = c;
      const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
      const xImage = (Cin + 1) * H * W, gyImage = (Cout + 2) * outH * outW;
      const x = randomF32(g, N * xImage), gy = randomF32(g, N * gyImage);
      const res = backends.map((be) => runOn(be, [x, gy], [{ n: Cout * Cin * 9 }], ([xp, gp], [gw]) =>
        be.conv3x3WinogradWeightGrad(gw!, xp!, gp!, N, Cin, H, W, Cout, pad, xImage, gyImage))[0]!);
      // the sums run over N·outH·outW products of values up to 2 × 2
      expectClose(res[0]!, res[1]!, 1e-5, 2e-6 * N * outH * outW, `weight gradient ${show(c)}`);
    }
  });

  it('2 threads split images (forward, input gradient) and output channels (weight gradient): bit-identical to 1 thread', async () => {
    const threaded = await createWasmBackend({ threads: 2, initialPages: 64 });
    try {
      const g = new Generator(64);
      for (const c of [[64, 16, 13, 13, 32, 0], [9, 5, 7, 9, 13, 1], [3, 32, 11, 11, 16, 2]]) {
        const [N, Cin, H, W, Cout, pad] = c as [number, number, number, number, number, number];
        const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
        const x = randomF32(g, N * Cin * H * W), w = randomF32(g, Cout * Cin * 9), gy = randomF32(g, N * Cout * outH * outW);
        const run = (be: Backend) => runOn(be, [x, w, gy], [{ n: N * Cout * outH * outW }, { n: Cout * Cin * 9 }, { n: N * Cin * H * W }],
          ([xp, wp, gp], [yp, gwp, gxp]) => {
            be.conv3x3Winograd(yp!, xp!, wp!, 0, N, Cin, H, W, Cout, pad, Cin * H * W, Cout * outH * outW);
            be.conv3x3WinogradWeightGrad(gwp!, xp!, gp!, N, Cin, H, W, Cout, pad, Cin * H * W, Cout * outH * outW);
            be.conv3x3WinogradInputGrad(gxp!, gp!, wp!, N, Cin, H, W, Cout, pad, Cout * outH * outW, Cin * H * W);
          });
        threaded.useThreads(1);
        const one = run(threaded);
        threaded.useThreads(2);
        const two = run(threaded);
        expectEqual(two[0]!, one[0]!, `forward, 2 threads vs 1 ${show(c)}`);
        expectEqual(two[1]!, one[1]!, `weight gradient, 2 threads vs 1 ${show(c)}`);
        const plain = run(wasm);
        expectEqual(one[0]!, plain[0]!, `forward, shared build vs plain ${show(c)}`);
        expectEqual(one[1]!, plain[1]!, `weight gradient, shared build vs plain ${show(c)}`);
        expectEqual(two[2]!, one[2]!, `input gradient, 2 threads vs 1 ${show(c)}`);
        expectEqual(one[2]!, plain[2]!, `input gradient, shared build vs plain ${show(c)}`);
      }
    } finally {
      await threaded.shutdown();
    }
  });
});

describe('the first layer and pooling on the worker pool (conv2dDirect, conv2dWeightGradDirect, maxPool2d, maxPool2dGradSet)', () => {
  it('2 threads split images, output channels and planes: bit-identical to 1 thread and to the plain build', async () => {
    const threaded = await createWasmBackend({ threads: 2, initialPages: 256 });
    try {
      const g = new Generator(66);
      // the bench's first layer (32 images; O = 16 and 10: splits at 8 and 4 + 6 channels), 2×2 pooling of its output,
      // and a 3×3 / stride-2 pooling with padding (the general kernel)
      for (const O of [16, 10]) {
        const N = 32;
        const geo = geometry(1, 28, 28, { k: 3, s: 1, p: 0, d: 1 }, { k: 3, s: 1, p: 0, d: 1 })!;
        const L = geo.outH * geo.outW, K = geo.C * 9;
        const x = randomF32(g, N * geo.H * geo.W), w = randomF32(g, O * K), b = randomF32(g, O), gy = randomF32(g, N * O * L);
        const run = (be: Backend) => runOn(be, [x, w, b, gy], [{ n: N * O * L }, { n: O * K }], ([xp, wp, bp, gp], [yp, gwp]) => {
          be.conv2dDirect(yp!, xp!, wp!, bp!, N, O, geo, geo.H * geo.W, O * L);
          be.conv2dWeightGradDirect(gwp!, gp!, xp!, N, O, geo, geo.H * geo.W, O * L);
        });
        threaded.useThreads(1);
        const one = run(threaded);
        threaded.useThreads(2);
        const two = run(threaded);
        const plain = run(wasm);
        for (const [k, what] of [[0, 'forward'], [1, 'weight gradient']] as const) {
          expectEqual(two[k]!, one[k]!, `direct conv ${what} O ${O}, 2 threads vs 1`);
          expectEqual(one[k]!, plain[k]!, `direct conv ${what} O ${O}, shared build vs plain`);
        }
      }
      for (const [k, s, p, H, W] of [[2, 2, 0, 26, 26], [3, 2, 1, 27, 25]]) {
        const planes = 32 * 16;
        const outH = Math.floor((H + 2 * p - k) / s) + 1, outW = Math.floor((W + 2 * p - k) / s) + 1;
        const geo: Pool2dGeometry = { H, W, kh: k, kw: k, padH: p, padW: p, strideH: s, strideW: s, dilH: 1, dilW: 1, outH, outW };
        const x = randomF32(g, planes * H * W), gy = randomF32(g, planes * outH * outW);
        const run = (be: Backend) => runOn(be, [x, gy], [{ n: planes * outH * outW }, { n: planes * outH * outW, dtype: 'int32' },
          { n: planes * H * W }], ([xp, gp], [op, ap, gxp]) => {
          be.maxPool2d(op!, ap!, xp!, planes, geo);
          be.maxPool2dGradSet(gxp!, gp!, ap!, planes, geo);
        });
        threaded.useThreads(1);
        const one = run(threaded);
        threaded.useThreads(2);
        const two = run(threaded);
        const plain = run(wasm);
        for (let i = 0; i < 3; i++) {
          expectEqual(two[i]!, one[i]!, `max pool ${k}×${k}/${s} output ${i}, 2 threads vs 1`);
          expectEqual(one[i]!, plain[i]!, `max pool ${k}×${k}/${s} output ${i}, shared build vs plain`);
        }
      }
    } finally {
      await threaded.shutdown();
    }
  });
});
