// Shape ops. Views (reshape of a contiguous tensor, transpose, permute, expand, squeeze, unsqueeze,
// narrow/slice) share storage and only change shape/strides/offset; the rest copy.
// Primitives: view (any shape/strides/offset) with its gradient, copy into a region (cat, slice backward).
import type { DType } from '../backend/backend.js';
import { contiguousStrides } from '../backend/strides.js';
import { record } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { checkShape, normDim, sameShape, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import { castTo, empty, sumToShape, view } from './core.js';

/** A contiguous copy, outside the graph. */
export function contiguousOf(t: Tensor): Tensor {
  const out = empty(t.shape, t.dtype);
  t.backend.stridedCopy(out.ptr, t.ptr, t.shape, t.strides);
  return out;
}

/** A contiguous copy detached from the graph. */
export function copyOf(t: Tensor): Tensor {
  return contiguousOf(t);
}

/** A new tensor filled with `value`. */
export function fullOf(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
  const out = empty(shape, dtype);
  out.backend.fill(dtype, out.ptr, out.size, value);
  return out;
}

/** A contiguous copy in the graph (gradient passes through). */
export function clone(t: Tensor): Tensor {
  t.assertAlive('clone');
  const out = contiguousOf(t);
  return record(out, 'clone', [t], (g) => [g]);
}

export function toDtype(t: Tensor, dtype: DType): Tensor {
  t.assertAlive(dtype === 'int32' ? 'int' : 'float');
  if (t.dtype === dtype) return t;
  const out = castTo(t, dtype);
  // NOTE: int32 results carry no gradient; float() of an int tensor starts a fresh leaf.
  return out;
}

/** A view with the given geometry whose gradient is scattered back through `backwardOf`. */
function viewOp(t: Tensor, name: string, shape: readonly number[], strides: readonly number[], offset: number,
  backwardOf: (g: Tensor) => Tensor): Tensor {
  const out = view(t, shape, strides, offset);
  return record(out, name, [t], (g) => [backwardOf(g)]);
}

/** Resolves one -1 entry and checks that sizes match. */
function inferShape(op: string, t: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const neg = out.findIndex((d) => d === -1);
  if (out.filter((d) => d === -1).length > 1) throw new SimdgradError(`${op}: only one dim can be -1 (got ${fmtShape(shape)})`);
  if (neg >= 0) {
    const rest = shapeSize(out.filter((_, i) => i !== neg));
    if (rest === 0 || t.size % rest !== 0) {
      throw new SimdgradError(`${op}: cannot reshape ${fmtShape(t.shape)} (${t.size} elements) into ${fmtShape(shape)}`);
    }
    out[neg] = t.size / rest;
  }
  checkShape(op, out);
  if (shapeSize(out) !== t.size) {
    throw new SimdgradError(`${op}: cannot reshape ${fmtShape(t.shape)} (${t.size} elements) into ${fmtShape(shape)} (${shapeSize(out)} elements)`);
  }
  return out;
}

/**
 * Strides for viewing `t` as `shape` without copying, or null when the layout does not allow it.
 * Works dim group by dim group: each group of old dims that multiplies to a group of new dims must be
 * contiguous within itself.
 */
function viewStrides(t: Tensor, shape: readonly number[]): number[] | null {
  if (t.isContiguous()) return contiguousStrides(shape);
  const oldShape = t.shape.filter((d) => d !== 1);
  const oldStrides = t.strides.filter((_, i) => t.shape[i] !== 1);
  const strides = new Array<number>(shape.length).fill(0);
  let oi = 0, ni = 0;
  while (ni < shape.length || oi < oldShape.length) {
    if (ni < shape.length && shape[ni] === 1) { strides[ni] = 1; ni++; continue; }
    if (oi >= oldShape.length || ni >= shape.length) return null;
    // take old dims until their product equals the product of new dims
    let oldProd = oldShape[oi]!, newProd = shape[ni]!;
    const oStart = oi, nStart = ni;
    while (oldProd !== newProd) {
      if (oldProd < newProd) { oi++; if (oi >= oldShape.length) return null; oldProd *= oldShape[oi]!; }
      else { ni++; if (ni >= shape.length) return null; newProd *= shape[ni]!; }
    }
    for (let k = oStart; k < oi; k++) if (oldStrides[k] !== oldStrides[k + 1]! * oldShape[k + 1]!) return null;
    let s = oldStrides[oi]!;
    for (let k = ni; k >= nStart; k--) { strides[k] = s; s *= shape[k]!; }
    oi++; ni++;
  }
  return strides;
}

export function reshape(t: Tensor, shape: readonly number[], strict: boolean): Tensor {
  const op = strict ? 'view' : 'reshape';
  t.assertAlive(op);
  if (!Array.isArray(shape)) throw new SimdgradError(`${op}: shape must be an array or sizes (got ${String(shape)})`);
  const out = inferShape(op, t, shape);
  const strides = viewStrides(t, out);
  const back = (g: Tensor) => g.reshape(t.shape);
  if (strides !== null) return viewOp(t, op, out, strides, t.offset, back);
  if (strict) {
    throw new SimdgradError(`view: the layout of ${fmtShape(t.shape)} (strides ${fmtShape(t.strides)}) does not allow a view as ${fmtShape(out)} (help: use reshape(), which copies)`);
  }
  const c = contiguousOf(t);
  const r = view(c, out, contiguousStrides(out));
  c.dispose();
  return record(r, 'reshape', [t], (g) => [back(g)]);
}

export function flatten(t: Tensor, startDim: number, endDim: number): Tensor {
  if (t.ndim === 0) return reshape(t, [1], false);
  const s = normDim('flatten', startDim, t.ndim, 'startDim');
  const e = normDim('flatten', endDim, t.ndim, 'endDim');
  if (s > e) throw new SimdgradError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...t.shape.slice(0, s), shapeSize(t.shape.slice(s, e + 1)), ...t.shape.slice(e + 1)];
  return reshape(t, shape, false);
}

export function squeeze(t: Tensor, dim?: number): Tensor {
  t.assertAlive('squeeze');
  let keep: number[];
  if (dim === undefined) keep = t.shape.map((_, i) => i).filter((i) => t.shape[i] !== 1);
  else {
    const d = normDim('squeeze', dim, t.ndim);
    keep = t.shape.map((_, i) => i).filter((i) => i !== d || t.shape[i] !== 1);
  }
  return viewOp(t, 'squeeze', keep.map((i) => t.shape[i]!), keep.map((i) => t.strides[i]!), t.offset, (g) => g.reshape(t.shape));
}

export function unsqueeze(t: Tensor, dim: number): Tensor {
  t.assertAlive('unsqueeze');
  const d = normDim('unsqueeze', dim, t.ndim + 1);
  const shape = [...t.shape], strides = [...t.strides];
  const s = d < t.ndim ? t.strides[d]! * t.shape[d]! : 1;
  shape.splice(d, 0, 1);
  strides.splice(d, 0, s);
  return viewOp(t, 'unsqueeze', shape, strides, t.offset, (g) => g.reshape(t.shape));
}

export function permute(t: Tensor, dims: readonly number[]): Tensor {
  t.assertAlive('permute');
  if (dims.length !== t.ndim) throw new SimdgradError(`permute: expected ${t.ndim} dims for shape ${fmtShape(t.shape)} (got ${fmtShape(dims)})`);
  const p = dims.map((d) => normDim('permute', d, t.ndim));
  if (new Set(p).size !== p.length) throw new SimdgradError(`permute: dims must be a permutation (got ${fmtShape(dims)})`);
  const inverse = new Array<number>(p.length);
  p.forEach((d, i) => { inverse[d] = i; });
  return viewOp(t, 'permute', p.map((d) => t.shape[d]!), p.map((d) => t.strides[d]!), t.offset, (g) => g.permute(inverse));
}

export function transpose(t: Tensor, dim0: number, dim1: number): Tensor {
  t.assertAlive('transpose');
  const a = normDim('transpose', dim0, t.ndim, 'dim0'), b = normDim('transpose', dim1, t.ndim, 'dim1');
  const p = t.shape.map((_, i) => i);
  if (t.ndim > 0) { p[a] = b; p[b] = a; }
  return viewOp(t, 'transpose', p.map((d) => t.shape[d]!), p.map((d) => t.strides[d]!), t.offset, (g) => g.transpose(a, b));
}

export function expand(t: Tensor, shape: readonly number[]): Tensor {
  t.assertAlive('expand');
  if (shape.length < t.ndim) throw new SimdgradError(`expand: the target ${fmtShape(shape)} has fewer dims than the tensor ${fmtShape(t.shape)}`);
  const pad = shape.length - t.ndim;
  const out: number[] = [], strides: number[] = [];
  shape.forEach((d, i) => {
    const src = i < pad ? 1 : t.shape[i - pad]!;
    const size = d === -1 ? src : d;
    if (d === -1 && i < pad) throw new SimdgradError(`expand: -1 is not allowed for the new leading dim ${i}`);
    if (src !== size && src !== 1) throw new SimdgradError(`expand: cannot expand ${fmtShape(t.shape)} to ${fmtShape(shape)} (dim ${i}: ${src} → ${size})`);
    out.push(size);
    strides.push(i < pad || (src === 1 && size !== 1) ? 0 : t.strides[i - pad]!);
  });
  checkShape('expand', out);
  return viewOp(t, 'expand', out, strides, t.offset, (g) => sumToShape(g, t.shape));
}

export function narrow(t: Tensor, dim: number, start: number, length: number): Tensor {
  t.assertAlive('narrow');
  const d = normDim('narrow', dim, t.ndim);
  const size = t.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size) {
    throw new SimdgradError(`narrow: start ${start} and length ${length} do not fit dim ${dim} of size ${size}`);
  }
  return slice(t, d, s, s + length, 1);
}

export function slice(t: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  t.assertAlive('slice');
  const d = normDim('slice', dim, t.ndim);
  const size = t.shape[d]!;
  if (!Number.isInteger(step) || step < 1) throw new SimdgradError(`slice: step must be a positive integer (got ${step})`);
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const s = clampIdx(start), e = clampIdx(end ?? size);
  const len = Math.max(0, Math.ceil((e - s) / step));
  const shape = [...t.shape], strides = [...t.strides];
  shape[d] = len;
  strides[d] = t.strides[d]! * step;
  const offset = t.offset + (len > 0 ? s * t.strides[d]! : 0);
  return viewOp(t, 'slice', shape, strides, offset, (g) => {
    // the gradient of a slice: zeros with g written into the sliced region
    const gx = fullOf(t.shape, 0);
    const regionStrides = contiguousStrides(t.shape);
    const regionOffset = len > 0 ? s * regionStrides[d]! : 0;
    regionStrides[d] = regionStrides[d]! * step;
    gx.backend.copyStrided(gx.ptr + regionOffset * 4, g.ptr, shape, regionStrides, g.strides);
    return gx;
  });
}

/** Concatenates tensors along an existing dim. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new SimdgradError('cat: expected a non-empty array of tensors');
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new SimdgradError(`cat: element ${i} is not a tensor`);
    t.assertAlive('cat');
  });
  const first = tensors[0]!;
  const d = normDim('cat', dim, first.ndim);
  tensors.forEach((t, i) => {
    if (t.dtype !== first.dtype) throw new SimdgradError(`cat: tensor ${i} has dtype ${t.dtype}, tensor 0 has ${first.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((s: number, k: number) => k !== d && s !== first.shape[k])) {
      throw new SimdgradError(`cat: tensor ${i} has shape ${fmtShape(t.shape)}, which does not match ${fmtShape(first.shape)} outside dim ${d}`);
    }
  });
  const shape = [...first.shape];
  shape[d] = tensors.reduce((acc, t) => acc + t.shape[d]!, 0);
  const out = empty(shape, first.dtype);
  const outStrides = contiguousStrides(shape);
  let off = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offsets.push(off);
    out.backend.copyStrided(out.ptr + off * outStrides[d]! * 4, t.ptr, t.shape, outStrides, t.strides);
    off += t.shape[d]!;
  }
  return record(out, 'cat', tensors, (g) => tensors.map((t, i) => (t.requiresGrad ? g.narrow(d, offsets[i]!, t.shape[d]!) : null)));
}

/** Stacks same-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new SimdgradError('stack: expected a non-empty array of tensors');
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new SimdgradError(`stack: element ${i} is not a tensor`);
    if (!sameShape(t.shape, first.shape)) throw new SimdgradError(`stack: tensor ${i} has shape ${fmtShape(t.shape)}, tensor 0 has ${fmtShape(first.shape)}`);
  });
  const d = normDim('stack', dim, first.ndim + 1);
  const parts = tensors.map((t) => t.unsqueeze(d));
  const out = cat(parts, d);
  if (out.node === null) parts.forEach((p) => p.dispose());
  return out;
}
