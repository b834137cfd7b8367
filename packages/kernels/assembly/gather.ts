// Gather/scatter with int32 indices (embedding lookups, indexSelect, gather and their gradients),
// and checks the TypeScript layer runs before trusting indices.
// NOTE: indices are range-checked by the caller (findOutOfRangeI32); these kernels trust them.

/** out[o, j, i] = x[o, idx[j], i]; x is [outer, len, inner]; 4-byte elements. */
export function indexSelect32(out: usize, x: usize, idx: usize, outer: i32, len: i32, inner: i32, nidx: i32): void {
  const rowBytes = <usize>inner << 2;
  let dst = out;
  for (let o = 0; o < outer; o++) {
    const base = x + <usize>o * <usize>len * rowBytes;
    for (let j = 0; j < nidx; j++) {
      const r = load<i32>(idx + (<usize>j << 2));
      memory.copy(dst, base + <usize>r * rowBytes, rowBytes);
      dst += rowBytes;
    }
  }
}

/** gx[o, idx[j], i] += gy[o, j, i] (the gradient of indexSelect; repeated indices accumulate). */
export function indexAddF32(gx: usize, idx: usize, gy: usize, outer: i32, len: i32, inner: i32, nidx: i32): void {
  const rowBytes = <usize>inner << 2;
  let src = gy;
  for (let o = 0; o < outer; o++) {
    const base = gx + <usize>o * <usize>len * rowBytes;
    for (let j = 0; j < nidx; j++) {
      const r = load<i32>(idx + (<usize>j << 2));
      addRow(base + <usize>r * rowBytes, src, inner);
      src += rowBytes;
    }
  }
}

// @ts-ignore: decorator
@inline function addRow(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** out[o, j, i] = x[o, idx[o, j, i], i]; idx and out are [outer, nidx, inner]. */
export function gather32(out: usize, x: usize, idx: usize, outer: i32, len: i32, inner: i32, nidx: i32): void {
  let p: usize = 0;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>len * <usize>inner;
    for (let j = 0; j < nidx; j++) {
      for (let i = 0; i < inner; i++) {
        const r = load<i32>(idx + (p << 2));
        store<u32>(out + (p << 2), load<u32>(x + ((base + <usize>r * <usize>inner + <usize>i) << 2)));
        p++;
      }
    }
  }
}

/** gx[o, idx[o, j, i], i] += gy[o, j, i] (the gradient of gather). */
export function scatterAddF32(gx: usize, idx: usize, gy: usize, outer: i32, len: i32, inner: i32, nidx: i32): void {
  let p: usize = 0;
  for (let o = 0; o < outer; o++) {
    const base = <usize>o * <usize>len * <usize>inner;
    for (let j = 0; j < nidx; j++) {
      for (let i = 0; i < inner; i++) {
        const r = load<i32>(idx + (p << 2));
        const q = gx + ((base + <usize>r * <usize>inner + <usize>i) << 2);
        store<f32>(q, load<f32>(q) + load<f32>(gy + (p << 2)));
        p++;
      }
    }
  }
}

/** First position j < n with idx[j] outside [0, hi), or -1. */
export function findOutOfRangeI32(idx: usize, n: i32, hi: i32): i32 {
  const lo4 = i32x4.splat(-1);
  const hi4 = i32x4.splat(hi);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(idx + (<usize>i << 2));
    const bad = v128.or(i32x4.le_s(v, lo4), i32x4.ge_s(v, hi4));
    if (v128.any_true(bad)) break;
  }
  for (; i < n; i++) {
    const v = load<i32>(idx + (<usize>i << 2));
    if (v < 0 || v >= hi) return i;
  }
  return -1;
}

/** Count of NaN and ±Inf among n f32s. */
export function countNonFiniteF32(x: usize, n: i32): i32 {
  // exponent bits all ones <=> NaN or Inf
  const mask = i32x4.splat(0x7f800000);
  let count4 = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.and(v128.load(x + (<usize>i << 2)), mask);
    count4 = i32x4.sub(count4, i32x4.eq(v, mask)); // eq gives -1 per hit
  }
  let count = i32x4.extract_lane(count4, 0) + i32x4.extract_lane(count4, 1) +
    i32x4.extract_lane(count4, 2) + i32x4.extract_lane(count4, 3);
  for (; i < n; i++) {
    if ((load<i32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) count++;
  }
  return count;
}
