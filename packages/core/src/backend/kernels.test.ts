// Every primitive of the wasm backend checked against the reference backend (float64 loops) on the
// sizes that exercise the SIMD tails (0, 1, 3, 4, 5, 17, 257), broadcasting, strides, transposed and
// batched matmul, with seeded random data.
import { UnaryOp, type BinaryOpName, type ReduceOpName, type UnaryOpName } from '@simdgrad/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '../random.js';
import { get, put, type Data } from '../test-utils.js';
import type { Backend, DType, MatmulArgs } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { contiguousStrides } from './strides.js';
import { createWasmBackend, type WasmBackend } from './wasm.js';

const SIZES = [0, 1, 3, 4, 5, 17, 257];
let wasm: WasmBackend;
let ref: ReferenceBackend;

beforeAll(async () => {
  wasm = await createWasmBackend({ initialPages: 64 });
  ref = new ReferenceBackend();
});


/** Runs `run` on both backends with the same inputs; returns [wasm, reference] outputs. */
function both(inputs: Data[], outLen: number, run: (b: Backend, ptrs: number[], out: number) => void,
  outDtype: DType = 'float32', initOut?: Data): [Data, Data] {
  const res = [wasm, ref].map((b) => {
    const ptrs = inputs.map((d) => put(b, d));
    const out = initOut ? put(b, initOut) : b.heap.alloc(Math.max(1, outLen) * 4);
    run(b, ptrs, out);
    const r = get(b, out, outLen, outDtype);
    ptrs.forEach((p) => b.heap.free(p));
    b.heap.free(out);
    return r;
  });
  return [res[0]!, res[1]!];
}

function expectClose(actual: Data, expected: Data, rtol = 1e-5, atol = 1e-6, what = ''): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) throw new Error(`${what}[${i}]: got ${a}, expected NaN`);
      continue;
    }
    if (!Number.isFinite(e)) {
      if (a !== e) throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (diff ${Math.abs(a - e)}, tol ${atol + rtol * Math.abs(e)})`);
    }
  }
}

function randomF32(g: Generator, n: number, lo = -3, hi = 3): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * g.uniform();
  return a;
}

/** Input ranges where each op is defined and well conditioned for a relative comparison. */
const DOMAIN: Partial<Record<UnaryOpName, [number, number]>> = {
  log: [0.01, 50], sqrt: [0, 50], rsqrt: [0.01, 50], reciprocal: [0.1, 10], log1p: [-0.9, 20],
  powScalar: [0.1, 4], exp: [-20, 20], expm1: [-5, 5], rdiv: [0.2, 5], rpow: [-4, 4],
};
const PARAMS: Partial<Record<UnaryOpName, [number, number]>> = {
  leakyRelu: [0.01, 0], elu: [1.3, 0], clamp: [-0.5, 0.75], powScalar: [2.5, 0], affine: [1.5, -0.25],
  rdiv: [2, 0], rpow: [1.7, 0],
};
/** Ops whose value is a difference of nearly equal terms near some inputs: compare with an absolute floor. */
const ATOL: Partial<Record<UnaryOpName, number>> = {
  sin: 2e-6, cos: 2e-6, erf: 2e-6, gelu: 2e-6, geluTanh: 2e-6, silu: 2e-6, elu: 2e-6, expm1: 2e-6, log1p: 2e-6,
  tanh: 2e-6, softplus: 2e-6, sigmoid: 1e-6, log: 2e-6,
};
const UNARY_OPS = Object.keys(UnaryOp) as UnaryOpName[];

describe('unary kernels against the reference', () => {
  const g = new Generator(1);
  it.each(UNARY_OPS)('%s forward', (op) => {
    const [lo, hi] = DOMAIN[op] ?? [-6, 6];
    const [p0, p1] = PARAMS[op] ?? [0, 0];
    for (const n of SIZES) {
      const x = randomF32(g, n, lo, hi);
      const [w, r] = both([x], n, (b, [xp], out) => b.unary(op, out, xp!, n, p0, p1));
      expectClose(w, r, 1e-5, ATOL[op] ?? 1e-6, `${op} n=${n}`);
    }
  });

  it.each(UNARY_OPS)('%s gradient', (op) => {
    const [lo, hi] = DOMAIN[op] ?? [-6, 6];
    const [p0, p1] = PARAMS[op] ?? [0, 0];
    for (const n of SIZES) {
      const x = randomF32(g, n, lo, hi);
      const gy = randomF32(g, n, -2, 2);
      const [w, r] = both([x, gy], n, (b, [xp, gyp], out) => {
        const y = b.heap.alloc(Math.max(1, n) * 4);
        b.unary(op, y, xp!, n, p0, p1);
        b.unaryGrad(op, out, xp!, y, gyp!, n, p0, p1);
        b.heap.free(y);
      });
      expectClose(w, r, 2e-5, 1e-5, `${op}' n=${n}`);
    }
  });

  it('handles special values', () => {
    const special = Float32Array.from([0, -0, Infinity, -Infinity, NaN, 1e-30, -1e-30, 88, -88, 100, -100, 1, -1]);
    const n = special.length;
    for (const op of ['exp', 'tanh', 'sigmoid', 'relu', 'abs', 'neg', 'gelu', 'silu', 'erf', 'softplus', 'log'] as UnaryOpName[]) {
      const [w, r] = both([special], n, (b, [xp], out) => b.unary(op, out, xp!, n));
      // float32 results of the float64 reference (exp(100) overflows to inf in f32 as well)
      expectClose(w, Float32Array.from(r), 1e-5, 1e-6, `${op}(special)`);
    }
  });
});

const BINARY_OPS: BinaryOpName[] = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];

/** Broadcast shapes and the element strides of an input of shape `s` broadcast to `out`. */
function bcastStrides(s: number[], out: number[]): number[] {
  const cs = contiguousStrides(s);
  const pad = out.length - s.length;
  return out.map((_, d) => (d < pad || s[d - pad] === 1 ? 0 : cs[d - pad]!));
}

describe('binary kernels against the reference', () => {
  const g = new Generator(2);
  const inputs = (op: BinaryOpName, n: number) => {
    const a = randomF32(g, n, op === 'pow' ? 0.1 : -3, 3);
    const b = randomF32(g, n, op === 'pow' ? -2 : -3, 3);
    if (op === 'div') for (let i = 0; i < n; i++) if (Math.abs(b[i]!) < 0.1) b[i] = 0.5;
    // some exact ties for the comparisons
    for (let i = 0; i < n; i += 3) b[i] = a[i]!;
    return [a, b];
  };

  it.each(BINARY_OPS)('%s on equal shapes', (op) => {
    for (const n of SIZES) {
      const [a, b] = inputs(op, n) as [Float32Array, Float32Array];
      const [w, r] = both([a, b], n, (be, [ap, bp], out) => be.binary(op, out, ap!, bp!, [n], [1], [1]));
      expectClose(w, r, 1e-5, 1e-6, `${op} n=${n}`);
    }
  });

  const cases: [number[], number[]][] = [
    [[17], [1]], [[1], [257]], [[3, 1, 5], [1, 4, 1]], [[4, 17], [17]], [[4, 17], [4, 1]],
    [[2, 3, 4, 5], [3, 1, 5]], [[5, 1], [1, 0]], [[], [3]], [[257, 3], [1, 3]], [[2, 1, 1, 3], [1, 4, 5, 1]],
  ];
  it.each(BINARY_OPS)('%s with broadcasting', (op) => {
    for (const [sa, sb] of cases) {
      const nd = Math.max(sa.length, sb.length);
      const pa = [...Array(nd - sa.length).fill(1), ...sa], pb = [...Array(nd - sb.length).fill(1), ...sb];
      const out = pa.map((d, i) => (d === 1 ? pb[i]! : d));
      const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
      const [a] = inputs(op, size(sa)), [, b] = inputs(op, size(sb));
      const n = size(out);
      const [w, r] = both([a!, b!], n, (be, [ap, bp], o) =>
        be.binary(op, o, ap!, bp!, out, bcastStrides(sa, out), bcastStrides(sb, out)));
      expectClose(w, r, 1e-5, 1e-6, `${op} ${JSON.stringify(sa)} ⊕ ${JSON.stringify(sb)}`);
    }
  });

  it('reads transposed (strided) operands', () => {
    for (const [m, n] of [[3, 5], [17, 4], [1, 257], [33, 33]] as const) {
      const a = randomF32(g, m * n), b = randomF32(g, m * n);
      // a is read as its transpose [n, m]; b is contiguous [n, m]
      const [w, r] = both([a, b], m * n, (be, [ap, bp], o) => be.binary('mul', o, ap!, bp!, [n, m], [1, n], [m, 1]));
      expectClose(w, r, 1e-6, 0, `transposed ${m}x${n}`);
    }
  });

  it('where broadcasts condition and both branches', () => {
    const shape = [4, 3, 17];
    const cond = new Float32Array(3 * 17).map(() => (g.uniform() < 0.5 ? 0 : 1));
    const a = randomF32(g, 4 * 3 * 17), b = randomF32(g, 17);
    const [w, r] = both([cond, a, b], 4 * 3 * 17, (be, [cp, ap, bp], o) =>
      be.where(o, cp!, ap!, bp!, shape, bcastStrides([3, 17], shape), bcastStrides(shape, shape), bcastStrides([17], shape)));
    expectClose(w, r, 0, 0, 'where');
  });
});

describe('reductions against the reference', () => {
  const g = new Generator(3);
  const shapes: [number, number, number][] = [];
  for (const len of SIZES) for (const inner of [1, 3, 4, 17]) shapes.push([len === 257 ? 2 : 3, len, inner]);
  shapes.push([1, 1000, 1], [7, 5, 257], [0, 3, 2], [1, 4099, 1]);

  it.each(['sum', 'mean', 'max', 'min', 'prod'] as ReduceOpName[])('%s over [outer, len, inner]', (op) => {
    for (const [outer, len, inner] of shapes) {
      const x = randomF32(g, outer * len * inner, op === 'prod' ? 0.8 : -3, op === 'prod' ? 1.2 : 3);
      const [w, r] = both([x], outer * inner, (b, [xp], out) => b.reduce(op, out, xp!, outer, len, inner));
      expectClose(w, r, 1e-5, 1e-5 * Math.sqrt(len), `${op} [${outer},${len},${inner}]`);
    }
  });

  it('max and min propagate NaN', () => {
    const x = Float32Array.from([1, NaN, 3, 4, 5, 6, 7, 8, 9]);
    for (const op of ['max', 'min'] as const) {
      const [w] = both([x], 1, (b, [xp], out) => b.reduce(op, out, xp!, 1, 9, 1));
      expect(Number.isNaN(w[0])).toBe(true);
    }
  });

  it.each(['argmax', 'argmin'] as const)('%s gives the first index of the extreme', (op) => {
    for (const [outer, len, inner] of shapes.filter(([, l]) => l > 0)) {
      const x = randomF32(g, outer * len * inner);
      // ties: copy some values so that "first occurrence" matters
      for (let i = inner; i < x.length; i += 5) x[i] = x[i - inner]!;
      const [w, r] = both([x], outer * inner, (b, [xp], out) => b.argReduce(op, out, xp!, outer, len, inner), 'int32');
      expect(Array.from(w), `${op} [${outer},${len},${inner}]`).toEqual(Array.from(r));
    }
    const nan = Float32Array.from([1, 5, NaN, 9, NaN]);
    const [w] = both([nan], 1, (b, [xp], out) => b.argReduce(op, out, xp!, 1, 5, 1), 'int32');
    expect(w[0]).toBe(2);
  });

  it('softmax, log-softmax and their gradients', () => {
    for (const cols of SIZES.filter((c) => c > 0)) {
      for (const rows of [1, 3]) {
        const x = randomF32(g, rows * cols, -10, 10);
        x[0] = 60; // large values must not overflow
        const gy = randomF32(g, rows * cols);
        const n = rows * cols;
        for (const log of [false, true]) {
          const [w, r] = both([x], n, (b, [xp], out) => (log ? b.logSoftmax : b.softmax).call(b, out, xp!, rows, cols));
          expectClose(w, r, 1e-5, 1e-6, `${log ? 'logSoftmax' : 'softmax'} ${rows}x${cols}`);
          const [wg, rg] = both([x, gy], n, (b, [xp, gp], out) => {
            const y = b.heap.alloc(n * 4);
            (log ? b.logSoftmax : b.softmax).call(b, y, xp!, rows, cols);
            (log ? b.logSoftmaxGrad : b.softmaxGrad).call(b, out, y, gp!, rows, cols);
            b.heap.free(y);
          });
          expectClose(wg, rg, 1e-4, 1e-5, `${log ? 'logSoftmax' : 'softmax'}' ${rows}x${cols}`);
        }
      }
    }
  });
});

describe('matmul against the reference', () => {
  const g = new Generator(4);
  const run = (args: MatmulArgs, sizeA: number, sizeB: number, what: string, cInit?: Float32Array) => {
    const a = randomF32(g, sizeA, -1, 1), b = randomF32(g, sizeB, -1, 1);
    const sizeC = args.strideC * (args.batch - 1) + args.m * args.n;
    const [w, r] = both([a, b], sizeC, (be, [ap, bp], c) => be.matmul(c, ap!, bp!, args), 'float32', cInit);
    expectClose(w, r, 1e-4, 1e-5 * Math.sqrt(args.k + 1), what);
  };
  const base = { batch: 1, strideA: 0, strideB: 0, strideC: 0, accumulate: false };

  it.each([[false, false], [true, false], [false, true], [true, true]])('transA=%s transB=%s on tail sizes', (transA, transB) => {
    for (const m of SIZES) for (const n of [1, 4, 5, 17, 33]) for (const k of [0, 1, 3, 17, 64]) {
      run({ ...base, m, n, k, transA, transB }, m * k, k * n, `m=${m} n=${n} k=${k} tA=${transA} tB=${transB}`);
    }
  });

  it('large and odd sizes', () => {
    for (const [m, n, k] of [[257, 257, 257], [64, 128, 96], [129, 67, 300], [1, 257, 257], [257, 1, 257], [300, 300, 1]]) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true]] as const) {
        run({ ...base, m: m!, n: n!, k: k!, transA, transB }, m! * k!, k! * n!, `${m}x${n}x${k} tA=${transA} tB=${transB}`);
      }
    }
  });

  it('batched, with a broadcast operand, and accumulating', () => {
    for (const [m, n, k] of [[5, 17, 3], [16, 16, 16], [33, 9, 40]] as const) {
      const batch = 3;
      run({ batch, m, n, k, transA: false, transB: false, strideA: m * k, strideB: k * n, strideC: m * n, accumulate: false },
        batch * m * k, batch * k * n, `batched ${m}x${n}x${k}`);
      run({ batch, m, n, k, transA: false, transB: true, strideA: m * k, strideB: 0, strideC: m * n, accumulate: false },
        batch * m * k, k * n, `broadcast B ${m}x${n}x${k}`);
      run({ batch, m, n, k, transA: true, transB: false, strideA: 0, strideB: k * n, strideC: m * n, accumulate: false },
        m * k, batch * k * n, `broadcast A ${m}x${n}x${k}`);
      const cInit = randomF32(g, batch * m * n);
      run({ batch, m, n, k, transA: false, transB: false, strideA: m * k, strideB: k * n, strideC: m * n, accumulate: true },
        batch * m * k, batch * k * n, `accumulate ${m}x${n}x${k}`, cInit);
    }
  });

  it('overwrites garbage in C when not accumulating', () => {
    const cInit = new Float32Array(5 * 7).fill(NaN);
    run({ ...base, m: 5, n: 7, k: 3, transA: false, transB: false }, 15, 21, 'garbage C', cInit);
    run({ ...base, m: 5, n: 7, k: 0, transA: false, transB: false }, 0, 0, 'k=0 gives zeros', cInit);
  });
});

describe('memory movement and indexing against the reference', () => {
  const g = new Generator(5);

  it('fill, copy and cast', () => {
    for (const n of SIZES) {
      const [w, r] = both([], n, (b, _, out) => b.fill('float32', out, n, -2.5));
      expectClose(w, r, 0, 0, 'fill');
      const [wi, ri] = both([], n, (b, _, out) => b.fill('int32', out, n, 7), 'int32');
      expect(Array.from(wi)).toEqual(Array.from(ri));
      const x = randomF32(g, n, -1000, 1000);
      const [wc, rc] = both([x], n, (b, [xp], out) => b.copy(out, xp!, n * 4));
      expect(Array.from(wc)).toEqual(Array.from(x));
      expect(Array.from(rc)).toEqual(Array.from(x));
      const [wt, rt] = both([x], n, (b, [xp], out) => b.cast('float32', 'int32', out, xp!, n), 'int32');
      expect(Array.from(wt)).toEqual(Array.from(rt));
      const xi = Int32Array.from(x, (v) => Math.round(v * 1000));
      const [wf, rf] = both([xi], n, (b, [xp], out) => b.cast('int32', 'float32', out, xp!, n));
      expectClose(wf, rf, 0, 0, 'cast i32→f32');
    }
    const odd = Float32Array.from([NaN, Infinity, -Infinity, 3e9, -3e9, -2.7, 2.7, -0.5]);
    const [w, r] = both([odd], odd.length, (b, [xp], out) => b.cast('float32', 'int32', out, xp!, odd.length), 'int32');
    expect(Array.from(w)).toEqual(Array.from(r));
    expect(Array.from(w)).toEqual([0, 2147483647, -2147483648, 2147483647, -2147483648, -2, 2, 0]);
  });

  it('strided copy materialises permutations, slices and expansions', () => {
    const cases: { shape: number[]; strides: number[]; src: number }[] = [
      { shape: [5, 3], strides: [1, 5], src: 15 },                 // transpose of [3,5]
      { shape: [4, 17, 3], strides: [1, 12, 4], src: 4 * 17 * 3 },  // permute(2,0,1)-like
      { shape: [2, 257], strides: [257 * 2, 2], src: 257 * 4 },     // every other element
      { shape: [3, 4, 5], strides: [0, 5, 1], src: 20 },            // expand along dim 0
      { shape: [6, 5], strides: [1, 0], src: 6 },                   // expand the inner dim
      { shape: [0, 5], strides: [5, 1], src: 1 },                   // empty
      { shape: [17], strides: [3], src: 51 },
    ];
    for (const { shape, strides, src } of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = randomF32(g, src);
      const [w, r] = both([x], n, (b, [xp], out) => b.stridedCopy(out, xp!, shape, strides));
      expectClose(w, r, 0, 0, `strided ${JSON.stringify(shape)} ${JSON.stringify(strides)}`);
    }
  });

  it('view-to-view copy writes into a region of a larger tensor', () => {
    // dst is [4, 10] with the copy landing in columns 3..8 of rows 0..3; src is a transposed [6, 4] read as [4, 6]
    const dst0 = randomF32(g, 40);
    const src = randomF32(g, 24);
    for (const [shape, ds, ss] of [[[4, 6], [10, 1], [1, 4]], [[4, 6], [10, 1], [6, 1]], [[2, 2, 3], [20, 1, 2], [6, 3, 1]], [[0, 3], [10, 1], [3, 1]]] as const) {
      const [w, r] = both([src], 40, (b, [sp], out) => b.copyStrided(out + 12, sp!, shape, ds, ss), 'float32', dst0);
      expectClose(w, r, 0, 0, `copyStrided ${JSON.stringify(shape)}`);
    }
  });

  it('indexSelect / indexAdd / gather / scatterAdd', () => {
    for (const [outer, len, inner, nidx] of [[1, 10, 3, 7], [3, 5, 1, 17], [2, 257, 4, 5], [1, 4, 17, 0], [4, 3, 5, 3]] as const) {
      const x = randomF32(g, outer * len * inner);
      const idx = Int32Array.from({ length: nidx }, () => g.int(0, len));
      const [w, r] = both([x, idx], outer * nidx * inner, (b, [xp, ip], out) => b.indexSelect(out, xp!, ip!, outer, len, inner, nidx));
      expectClose(w, r, 0, 0, 'indexSelect');
      const gy = randomF32(g, outer * nidx * inner);
      const gx0 = randomF32(g, outer * len * inner);
      const [wa, ra] = both([idx, gy], outer * len * inner, (b, [ip, gp], out) => b.indexAdd(out, ip!, gp!, outer, len, inner, nidx), 'float32', gx0);
      expectClose(wa, ra, 1e-6, 1e-6, 'indexAdd');
      const gidx = Int32Array.from({ length: outer * nidx * inner }, () => g.int(0, len));
      const [wg, rg] = both([x, gidx], outer * nidx * inner, (b, [xp, ip], out) => b.gather(out, xp!, ip!, outer, len, inner, nidx));
      expectClose(wg, rg, 0, 0, 'gather');
      const [ws, rs] = both([gidx, gy], outer * len * inner, (b, [ip, gp], out) => b.scatterAdd(out, ip!, gp!, outer, len, inner, nidx), 'float32', gx0);
      expectClose(ws, rs, 1e-6, 1e-6, 'scatterAdd');
    }
  });

  it('finds out-of-range indices and counts non-finite values', () => {
    for (const n of SIZES) {
      const idx = Int32Array.from({ length: n }, () => g.int(0, 10));
      const check = (arr: Int32Array) =>
        [wasm, ref].map((b) => { const p = put(b, arr); const res = b.findOutOfRange(p, n, 10); b.heap.free(p); return res; });
      expect(check(idx)).toEqual([-1, -1]);
      if (n > 0) {
        const bad = idx.slice(); bad[n - 1] = 10;
        expect(check(bad)).toEqual([n - 1, n - 1]);
        const neg = idx.slice(); neg[Math.floor(n / 2)] = -1;
        const pos = Math.floor(n / 2);
        expect(check(neg)).toEqual([pos, pos]);
      }
      const x = randomF32(g, n);
      if (n > 2) { x[0] = NaN; x[n - 1] = Infinity; x[1] = -Infinity; }
      const counts = [wasm, ref].map((b) => { const p = put(b, x); const c = b.countNonFinite(p, n); b.heap.free(p); return c; });
      expect(counts).toEqual(n > 2 ? [3, 3] : [0, 0]);
    }
  });
});
