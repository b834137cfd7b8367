import { SimdgradError, fmtShape } from './errors.js';

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** NumPy broadcasting of two shapes; throws `op: cannot broadcast …` when they do not fit. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new SimdgradError(`${op}: cannot broadcast ${fmtShape(a)} with ${fmtShape(b)} (dim ${i - n}: ${da} ≠ ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Normalises a possibly negative dim against ndim, with a clear error. */
export function normDim(op: string, dim: number, ndim: number, what = 'dim'): number {
  if (!Number.isInteger(dim)) throw new SimdgradError(`${op}: ${what} must be an integer (got ${dim})`);
  const lo = -Math.max(ndim, 1), hi = Math.max(ndim, 1) - 1;
  if (dim < lo || dim > hi) {
    throw new SimdgradError(`${op}: ${what} ${dim} is out of range for a tensor with ${ndim} dims (expected ${lo}…${hi})`);
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** Checks a shape: non-negative integer sizes. */
export function checkShape(op: string, shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new SimdgradError(`${op}: shape must be an array of sizes (got ${String(shape)})`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new SimdgradError(`${op}: shape ${fmtShape(shape)} has an invalid size ${d} (expected integers ≥ 0)`);
  }
  return [...shape];
}
