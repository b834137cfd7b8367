/**
 * The one error class of simdgrad. Messages read `op: problem (values)`, with a `help:` hint where
 * the fix is not obvious, e.g. `matmul: cannot multiply [2,3] by [4,5] (inner dims 3 ≠ 4)`.
 */
export class SimdgradError extends Error {
  override name = 'SimdgradError';
}

/** Formats a shape as `[2,3]` for error messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
