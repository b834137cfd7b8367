// Fill, copy, strided copy (the materialisation of permute/transpose/expand/slice views) and casts.
// f32 and int32 are both 4 bytes, so the moves here serve either dtype.

/** out[i] = value for i < n. */
export function fillF32(out: usize, n: i32, value: f32): void {
  const v = f32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), value);
}

/** out[i] = value for i < n (int32). */
export function fillI32(out: usize, n: i32, value: i32): void {
  const v = i32x4.splat(value);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(out + (<usize>i << 2), value);
}

/** memmove of nbytes (overlap allowed). */
export function copyBytes(dst: usize, src: usize, nbytes: usize): void {
  memory.copy(dst, src, nbytes);
}

/**
 * dst (contiguous, in shape order) = src read through element strides.
 * meta (i32): shape[ndim], then srcStrides[ndim]. The innermost dim runs as a tight loop
 * (a bulk copy when its stride is 1); the outer position is found by div/mod per row, so the
 * kernel needs no scratch memory.
 */
export function stridedCopy32(dst: usize, src: usize, meta: usize, ndim: i32): void {
  if (ndim <= 0) {
    store<u32>(dst, load<u32>(src));
    return;
  }
  const last = ndim - 1;
  const inner = load<i32>(meta + (<usize>last << 2));
  const innerStride = load<i32>(meta + (<usize>(ndim + last) << 2));
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= load<i32>(meta + (<usize>d << 2));
  if (inner == 0 || rows == 0) return;
  let out = dst;
  for (let r = 0; r < rows; r++) {
    // offset of this row in src
    let rem = r;
    let off: isize = 0;
    for (let d = last - 1; d >= 0; d--) {
      const size = load<i32>(meta + (<usize>d << 2));
      const idx = rem % size;
      rem = rem / size;
      off += <isize>idx * <isize>load<i32>(meta + (<usize>(ndim + d) << 2));
    }
    const p = src + <usize>(off << 2);
    if (innerStride == 1) {
      memory.copy(out, p, <usize>inner << 2);
    } else if (innerStride == 0) {
      const v = load<u32>(p);
      const vv = i32x4.splat(<i32>v);
      let i = 0;
      for (; i + 4 <= inner; i += 4) v128.store(out + (<usize>i << 2), vv);
      for (; i < inner; i++) store<u32>(out + (<usize>i << 2), v);
    } else {
      const step = <isize>innerStride << 2;
      let q = <isize>p;
      let i = 0;
      for (; i + 4 <= inner; i += 4) {
        store<u32>(out + (<usize>i << 2), load<u32>(<usize>q));
        store<u32>(out + (<usize>i << 2), load<u32>(<usize>(q + step)), 4);
        store<u32>(out + (<usize>i << 2), load<u32>(<usize>(q + 2 * step)), 8);
        store<u32>(out + (<usize>i << 2), load<u32>(<usize>(q + 3 * step)), 12);
        q += 4 * step;
      }
      for (; i < inner; i++) {
        store<u32>(out + (<usize>i << 2), load<u32>(<usize>q));
        q += step;
      }
    }
    out += <usize>inner << 2;
  }
}

/** dst[i] = f32(src[i]). */
export function castI32ToF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.convert_i32x4_s(v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, <f32>load<i32>(src + o));
  }
}

/**
 * dst[i] = i32(trunc(src[i])).
 * NOTE: saturating conversion: out-of-range values clamp to ±2^31 and NaN gives 0 (never a trap).
 */
export function castF32ToI32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, i32x4.trunc_sat_f32x4_s(v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<i32>(dst + o, <i32>load<f32>(src + o));
  }
}

/**
 * View-to-view copy: dst and src both read through element strides over one shape.
 * meta (i32): shape[ndim], dstStrides[ndim], srcStrides[ndim]; 4-byte elements. Used to write into a
 * region of a larger tensor (cat, the gradient of slicing).
 */
export function copyStrided32(dst: usize, src: usize, meta: usize, ndim: i32): void {
  if (ndim <= 0) {
    store<u32>(dst, load<u32>(src));
    return;
  }
  const last = ndim - 1;
  const inner = load<i32>(meta + (<usize>last << 2));
  const dstInner = <isize>load<i32>(meta + (<usize>(ndim + last) << 2)) << 2;
  const srcInner = <isize>load<i32>(meta + (<usize>(2 * ndim + last) << 2)) << 2;
  let rows = 1;
  for (let d = 0; d < last; d++) rows *= load<i32>(meta + (<usize>d << 2));
  if (inner == 0 || rows == 0) return;
  for (let r = 0; r < rows; r++) {
    let rem = r;
    let offD: isize = 0;
    let offS: isize = 0;
    for (let d = last - 1; d >= 0; d--) {
      const size = load<i32>(meta + (<usize>d << 2));
      const idx = <isize>(rem % size);
      rem = rem / size;
      offD += idx * <isize>load<i32>(meta + (<usize>(ndim + d) << 2));
      offS += idx * <isize>load<i32>(meta + (<usize>(2 * ndim + d) << 2));
    }
    let q = <isize>dst + (offD << 2);
    let p = <isize>src + (offS << 2);
    if (dstInner == 4 && srcInner == 4) {
      memory.copy(<usize>q, <usize>p, <usize>inner << 2);
    } else {
      for (let i = 0; i < inner; i++) {
        store<u32>(<usize>q, load<u32>(<usize>p));
        q += dstInner;
        p += srcInner;
      }
    }
  }
}
