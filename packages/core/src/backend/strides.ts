/**
 * Merges adjacent dims that every operand walks contiguously, and drops size-1 dims, so the kernels
 * see the fewest dims (often one). `strides[i]` are operand i's element strides over `shape`.
 *
 * @example collapseDims([2, 3, 4], [[12, 4, 1]]) → { shape: [24], strides: [[1]] }
 */
export function collapseDims(shape: readonly number[], strides: readonly (readonly number[])[]):
  { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d]!;
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, i) => outStrides[i]![last] === s[d]! * size)) {
      outShape[last] = outShape[last]! * size;
      strides.forEach((s, i) => { outStrides[i]![last] = s[d]!; });
    } else {
      outShape.push(size);
      strides.forEach((s, i) => outStrides[i]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: strides.map(() => [1]) };
  return { shape: outShape, strides: outStrides };
}

/** Row-major (C-contiguous) element strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}
