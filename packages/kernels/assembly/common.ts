// Shared helpers for every kernel family.

/** Start of free memory after the module's static data (the allocator in core starts here). */
export function heapBase(): usize {
  return __heap_base;
}

/** Bit 0: relaxed-SIMD build. (A shared-memory instance is the same code on a rewritten memory import.) */
export function variant(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** c + a * b on 4 lanes: fused (relaxed_madd) in the relaxed build, mul then add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the 4 lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) +
    f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** Max of the 4 lanes (NaN-propagating). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const m = f32x4.max(v, i32x4.shuffle(v, v, 2, 3, 0, 1));
  return Mathf.max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
}
