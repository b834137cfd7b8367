// Reductions over one axis of a contiguous tensor viewed as [outer, len, inner], and row-wise
// softmax / log-softmax with their gradients.
import { hmax, hsum } from './common';
import { expV } from './math';

const SUM = 0;
const MEAN = 1;
const MAX = 2;
const MIN = 3;
const PROD = 4;

// @ts-ignore: decorator
@inline function combine4(op: i32, a: v128, b: v128): v128 {
  if (op == MAX) return f32x4.max(a, b);
  if (op == MIN) return f32x4.min(a, b);
  if (op == PROD) return f32x4.mul(a, b);
  return f32x4.add(a, b);
}

// @ts-ignore: decorator
@inline function combine1(op: i32, a: f32, b: f32): f32 {
  // NOTE: Mathf.max/min propagate NaN like f32x4.max/min, as PyTorch's max/min do.
  if (op == MAX) return Mathf.max(a, b);
  if (op == MIN) return Mathf.min(a, b);
  if (op == PROD) return a * b;
  return a + b;
}

// @ts-ignore: decorator
@inline function identity(op: i32): f32 {
  if (op == MAX) return -Infinity;
  if (op == MIN) return Infinity;
  if (op == PROD) return 1;
  return 0;
}

// @ts-ignore: decorator
@inline function hcombine(op: i32, v: v128): f32 {
  if (op == MAX) return hmax(v);
  if (op == MIN) {
    const m = f32x4.min(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
    return Mathf.min(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
  }
  if (op == PROD) {
    return f32x4.extract_lane(v, 0) * f32x4.extract_lane(v, 1) * f32x4.extract_lane(v, 2) * f32x4.extract_lane(v, 3);
  }
  return hsum(v);
}

/** Reduce a contiguous row of n values (SIMD, four independent accumulators). */
// @ts-ignore: decorator
@inline function reduceRow(op: i32, p: usize, n: i32): f32 {
  const id = f32x4.splat(identity(op));
  let a0 = id, a1 = id, a2 = id, a3 = id;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = p + (<usize>i << 2);
    a0 = combine4(op, a0, v128.load(o));
    a1 = combine4(op, a1, v128.load(o, 16));
    a2 = combine4(op, a2, v128.load(o, 32));
    a3 = combine4(op, a3, v128.load(o, 48));
  }
  for (; i + 4 <= n; i += 4) a0 = combine4(op, a0, v128.load(p + (<usize>i << 2)));
  let r = hcombine(op, combine4(op, combine4(op, a0, a1), combine4(op, a2, a3)));
  for (; i < n; i++) r = combine1(op, r, load<f32>(p + (<usize>i << 2)));
  return r;
}

// @ts-ignore: decorator
@inline function reduceGeneric(op: i32, out: usize, x: usize, outer: i32, len: i32, inner: i32): void {
  const scale: f32 = op == MEAN ? <f32>(1.0 / <f64>len) : 1;
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      let r = reduceRow(op, x + <usize>o * (<usize>len << 2), len);
      if (op == MEAN) r *= scale;
      store<f32>(out + (<usize>o << 2), r);
    }
    return;
  }
  // inner > 1: stream the rows of each outer block through the output row (cache friendly)
  const rowBytes = <usize>inner << 2;
  const id = f32x4.splat(identity(op));
  for (let o = 0; o < outer; o++) {
    const dst = out + <usize>o * rowBytes;
    const base = x + <usize>o * <usize>len * rowBytes;
    let i = 0;
    for (; i + 4 <= inner; i += 4) v128.store(dst + (<usize>i << 2), id);
    for (; i < inner; i++) store<f32>(dst + (<usize>i << 2), identity(op));
    for (let l = 0; l < len; l++) {
      const src = base + <usize>l * rowBytes;
      i = 0;
      for (; i + 4 <= inner; i += 4) {
        const io = <usize>i << 2;
        v128.store(dst + io, combine4(op, v128.load(dst + io), v128.load(src + io)));
      }
      for (; i < inner; i++) {
        const io = <usize>i << 2;
        store<f32>(dst + io, combine1(op, load<f32>(dst + io), load<f32>(src + io)));
      }
    }
    if (op == MEAN) {
      const sv = f32x4.splat(scale);
      i = 0;
      for (; i + 4 <= inner; i += 4) {
        const io = <usize>i << 2;
        v128.store(dst + io, f32x4.mul(v128.load(dst + io), sv));
      }
      for (; i < inner; i++) {
        const io = <usize>i << 2;
        store<f32>(dst + io, load<f32>(dst + io) * scale);
      }
    }
  }
}

/**
 * out[o, i] = reduce over l of x[o, l, i]. op: 0 sum, 1 mean, 2 max, 3 min, 4 prod.
 * An empty reduction (len = 0) gives the identity (0, NaN for mean, ∓inf for max/min, 1).
 * NOTE: when inner == 1 four SIMD accumulators (16 partial sums) keep the rounding error of long rows low;
 * otherwise each output element accumulates its column in order.
 */
export function reduceF32(op: i32, out: usize, x: usize, outer: i32, len: i32, inner: i32): void {
  switch (op) {
    case SUM: reduceGeneric(SUM, out, x, outer, len, inner); break;
    case MEAN: reduceGeneric(MEAN, out, x, outer, len, inner); break;
    case MAX: reduceGeneric(MAX, out, x, outer, len, inner); break;
    case MIN: reduceGeneric(MIN, out, x, outer, len, inner); break;
    case PROD: reduceGeneric(PROD, out, x, outer, len, inner); break;
    default: break;
  }
}

/**
 * out[o, i] (int32) = index over l of the max (op 0) or min (op 1) of x[o, l, i].
 * The first occurrence wins; a NaN counts as larger than everything (argmax picks the first NaN,
 * like PyTorch), and for argmin likewise as the extreme.
 */
export function argReduceF32(op: i32, out: usize, x: usize, outer: i32, len: i32, inner: i32): void {
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>len * rowBytes;
    for (let i = 0; i < inner; i++) {
      let best: f32 = load<f32>(base + (<usize>i << 2));
      let bestIdx = 0;
      if (best == best) {
        for (let l = 1; l < len; l++) {
          const v = load<f32>(base + <usize>l * rowBytes + (<usize>i << 2));
          if (v != v) { bestIdx = l; break; }
          if (op == 0 ? v > best : v < best) { best = v; bestIdx = l; }
        }
      }
      store<i32>(out + ((<usize>o * <usize>inner + <usize>i) << 2), len > 0 ? bestIdx : 0);
    }
  }
}

/** Row-wise softmax: y = exp(x - max) / sum(exp(x - max)). */
export function softmaxF32(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * (<usize>cols << 2);
    const py = out + <usize>r * (<usize>cols << 2);
    const m = reduceRow(MAX, px, cols);
    const s = expShiftedRow(py, px, cols, m);
    scaleRow(py, cols, <f32>(1.0 / <f64>s));
  }
}

/** Row-wise log-softmax: y = x - max - log(sum(exp(x - max))). */
export function logSoftmaxF32(out: usize, x: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const px = x + <usize>r * (<usize>cols << 2);
    const py = out + <usize>r * (<usize>cols << 2);
    const m = reduceRow(MAX, px, cols);
    // py is used as scratch for exp(x - m), then overwritten
    const s = expShiftedRow(py, px, cols, m);
    const shift: f32 = m + <f32>Math.log(s);
    addRow(py, px, cols, -shift);
  }
}

/** gx = y * (gy - sum(gy * y)) per row (y = softmax output). */
export function softmaxGradF32(gx: usize, y: usize, gy: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * (<usize>cols << 2);
    const d = dotRow(gy + off, y + off, cols);
    const dv = f32x4.splat(<f32>d);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = off + (<usize>i << 2);
      const yv = v128.load(y + o);
      v128.store(gx + o, f32x4.mul(yv, f32x4.sub(v128.load(gy + o), dv)));
    }
    for (; i < cols; i++) {
      const o = off + (<usize>i << 2);
      store<f32>(gx + o, load<f32>(y + o) * (load<f32>(gy + o) - <f32>d));
    }
  }
}

/** gx = gy - exp(y) * sum(gy) per row (y = log-softmax output). */
export function logSoftmaxGradF32(gx: usize, y: usize, gy: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * (<usize>cols << 2);
    const s = reduceRow(SUM, gy + off, cols);
    const sv = f32x4.splat(s);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const o = off + (<usize>i << 2);
      v128.store(gx + o, f32x4.sub(v128.load(gy + o), f32x4.mul(expV(v128.load(y + o)), sv)));
    }
    for (; i < cols; i++) {
      const o = off + (<usize>i << 2);
      store<f32>(gx + o, load<f32>(gy + o) - Mathf.exp(load<f32>(y + o)) * s);
    }
  }
}

/** dst[i] = exp(src[i] - m); returns the sum (accumulated in f64 across lanes). */
// @ts-ignore: decorator
@inline function expShiftedRow(dst: usize, src: usize, n: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const e = expV(f32x4.sub(v128.load(src + o), mv));
    v128.store(dst + o, e);
    acc = f32x4.add(acc, e);
  }
  let s: f64 = <f64>hsum(acc);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const e = Mathf.exp(load<f32>(src + o) - m);
    store<f32>(dst + o, e);
    s += <f64>e;
  }
  return s;
}

// @ts-ignore: decorator
@inline function scaleRow(p: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = p + (<usize>i << 2);
    v128.store(o, f32x4.mul(v128.load(o), sv));
  }
  for (; i < n; i++) {
    const o = p + (<usize>i << 2);
    store<f32>(o, load<f32>(o) * s);
  }
}

/** dst[i] = src[i] + c. */
// @ts-ignore: decorator
@inline function addRow(dst: usize, src: usize, n: i32, c: f32): void {
  const cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(src + o), cv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o) + c);
  }
}

// @ts-ignore: decorator
@inline function dotRow(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = hsum(acc);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}
