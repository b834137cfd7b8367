// The helpers every op family uses: making outputs, contiguity, broadcasting strides and reducing a
// broadcast gradient back to its input's shape.
import type { DType } from '../backend/backend.js';
import { contiguousStrides } from '../backend/strides.js';
import { getBackend } from '../engine.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { Storage } from '../memory.js';
import { sameShape, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';

/** A new contiguous tensor with uninitialised data, on the active backend. */
export function empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
  const backend = getBackend();
  const size = shapeSize(shape);
  const storage = new Storage(backend, backend.heap.alloc(Math.max(size, 1) * 4), size * 4);
  return new Tensor(storage, 0, [...shape], contiguousStrides(shape), dtype);
}

/** A view of `t` with another shape/strides/offset on the same storage. */
export function view(t: Tensor, shape: readonly number[], strides: readonly number[], offset = t.offset): Tensor {
  t.storage.retain();
  return new Tensor(t.storage, offset, [...shape], [...strides], t.dtype);
}

/** `t` itself when contiguous, else a contiguous copy (the caller disposes a copy it made: see `release`). */
export function contiguous(t: Tensor): Tensor {
  if (t.isContiguous()) return t;
  const out = empty(t.shape, t.dtype);
  t.backend.stridedCopy(out.ptr, t.ptr, t.shape, t.strides);
  return out;
}

/** Disposes `tmp` if it is a temporary made from `orig` (by `contiguous` or a cast). */
export function release(tmp: Tensor, orig: Tensor): void {
  if (tmp !== orig) tmp.dispose();
}

/** Element strides of `t` broadcast to `shape` (0 on broadcast dims). */
export function broadcastStrides(t: Tensor, shape: readonly number[]): number[] {
  const pad = shape.length - t.shape.length;
  return shape.map((_, d) => (d < pad || (t.shape[d - pad] === 1 && shape[d] !== 1) ? 0 : t.strides[d - pad]!));
}

/** Checks that an op gets float32 inputs; int32 tensors are cast (a copy) where `cast` is true. */
export function asFloat(op: string, t: Tensor, cast = true): Tensor {
  if (t.dtype === 'float32') return t;
  if (!cast) throw new SimdgradError(`${op}: expected a float32 tensor (got ${t.dtype}) (help: call .float() first)`);
  return castTo(t, 'float32');
}

/** A contiguous copy of `t` in another dtype. */
export function castTo(t: Tensor, dtype: DType): Tensor {
  const src = contiguous(t);
  const out = empty(t.shape, dtype);
  t.backend.cast(t.dtype, dtype, out.ptr, src.ptr, out.size);
  release(src, t);
  return out;
}

/**
 * Sums a gradient of a broadcast result back to the shape of the input it came from
 * (leading dims summed away, size-1 dims summed with keepdim).
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.shape.length - shape.length;
  if (lead < 0) throw new SimdgradError(`backward: cannot reduce a gradient of shape ${fmtShape(g.shape)} to ${fmtShape(shape)}`);
  const dims: number[] = [];
  for (let d = 0; d < g.shape.length; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  }
  let r = dims.length > 0 ? g.sum(dims, true) : g;
  if (!sameShape(r.shape, shape)) {
    const reshaped = r.reshape(shape);
    if (r !== g) r.dispose();
    r = reshaped;
  }
  return r;
}
