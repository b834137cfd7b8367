// Vector math shared by the kernel families.

/** exp on 4 lanes. */
// @ts-ignore: decorator
@inline export function expV(x: v128): v128 {
  return f32x4(Mathf.exp(f32x4.extract_lane(x, 0)), Mathf.exp(f32x4.extract_lane(x, 1)),
    Mathf.exp(f32x4.extract_lane(x, 2)), Mathf.exp(f32x4.extract_lane(x, 3)));
}
