// Reductions. Primitives: reduce(op) over one run of adjacent dims (sum mean max min prod), argmax/argmin,
// softmax and log-softmax over one dim. var/std and logsumexp are composed from them.
import type { ReduceOpName } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { normDim, shapeSize } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asFloat, contiguous, empty, release } from './core.js';
import { contiguousOf } from './shape.js';

function normDims(op: string, t: Tensor, dim: number | readonly number[] | undefined): number[] {
  if (dim === undefined || dim === null) return t.shape.map((_, i) => i);
  const dims = (Array.isArray(dim) ? [...(dim as readonly number[])] : [dim as number]).map((d) => normDim(op, d, t.ndim));
  if (new Set(dims).size !== dims.length) throw new SimdgradError(`${op}: dim ${fmtShape(dims)} repeats a dim`);
  return dims.sort((a, b) => a - b);
}

/** One kernel call reducing the adjacent dims [d0, d1] of a contiguous tensor (keepdim shape, or `shape`: the same elements). */
function reduceRun(op: ReduceOpName, x: Tensor, d0: number, d1: number, shape?: readonly number[]): Tensor {
  const outer = shapeSize(x.shape.slice(0, d0));
  const len = shapeSize(x.shape.slice(d0, d1 + 1));
  const inner = shapeSize(x.shape.slice(d1 + 1));
  const out = empty(shape ?? x.shape.map((s, i) => (i >= d0 && i <= d1 ? 1 : s)));
  x.backend.reduce(op, out.ptr, x.ptr, outer, len, inner);
  return out;
}

/** Splits sorted dims into runs of adjacent dims. */
function runsOf(dims: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const d of dims) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[1] === d - 1) last[1] = d;
    else runs.push([d, d]);
  }
  return runs;
}

/** Reduces over `dims` (all when undefined) without recording; the result has keepdim shape, or `shape` (same elements). */
function reduceKeep(op: ReduceOpName, x: Tensor, dims: readonly number[], shape?: readonly number[]): Tensor {
  let cur = contiguous(x);
  // NOTE: mean over several runs is the mean of means (every group has the same size), so it composes.
  const runs = runsOf(dims).reverse();
  for (const [k, [d0, d1]] of runs.entries()) {
    // the last run writes the final shape at once (no reshape view to make and free)
    const next = reduceRun(op, cur, d0, d1, k === runs.length - 1 ? shape : undefined);
    release(cur, x);
    cur = next;
  }
  return cur;
}

export function reduce(op: ReduceOpName, x0: Tensor, dim: number | readonly number[] | undefined, keepdim: boolean): Tensor {
  x0.assertAlive(op);
  const x = asFloat(op, x0);
  const dims = normDims(op, x, dim);
  if ((op === 'max' || op === 'min') && dims.some((d) => x.shape[d] === 0)) {
    throw new SimdgradError(`${op}: cannot reduce over an empty dim (shape ${fmtShape(x.shape)}, dim ${fmtShape(dims)})`);
  }
  const keepShape = x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  const outShape = keepdim ? keepShape : x.shape.filter((_, i) => !dims.includes(i));
  let out = reduceKeep(op, x, dims, outShape);
  if (out === x) out = contiguousOf(x); // a reduction over no dims (0-d input) still gives a new tensor
  const count = shapeSize(dims.map((d) => x.shape[d]!));
  record(out, op, [x0], (g) => {
    const gk = g.reshape(keepShape);
    switch (op) {
      case 'sum': return [gk.expand(x.shape)];
      case 'mean': return [gk.mul(1 / count).expand(x.shape)];
      case 'max':
      case 'min': {
        // NOTE: ties share the gradient evenly (as torch.amax/amin), so the rule is symmetric.
        const m = out.reshape(keepShape);
        const mask = x.eq(m);
        return [mask.mul(gk.div(mask.sum(dims, true)))];
      }
      case 'prod': {
        // d/dx_i Π x = Π / x_i; NOTE: wrong for zeros (0/0): use a product of the others when that matters.
        return [gk.mul(out.reshape(keepShape)).div(x)];
      }
    }
  }, x !== x0 ? [x] : []);
  if (out.node === null) release(x, x0);
  return out;
}

/** Variance over dims with Bessel's correction when `unbiased`. */
export function variance(x: Tensor, dim: number | readonly number[] | undefined, keepdim: boolean, unbiased: boolean): Tensor {
  const dims = normDims('var', x, dim);
  const n = shapeSize(dims.map((d) => x.shape[d]!));
  const mu = x.mean(dims, true);
  const dev = x.sub(mu).square();
  const s = dev.sum(dims, keepdim);
  return s.div(Math.max(unbiased ? n - 1 : n, 0));
}

export function argReduce(op: 'argmax' | 'argmin', x0: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  x0.assertAlive(op);
  const x = contiguous(asFloat(op, x0));
  let out: Tensor;
  if (dim === undefined) {
    if (x.size === 0) throw new SimdgradError(`${op}: cannot take the ${op} of an empty tensor`);
    out = empty(keepdim ? x.shape.map(() => 1) : [], 'int32');
    x.backend.argReduce(op, out.ptr, x.ptr, 1, x.size, 1);
  } else {
    const d = normDim(op, dim, x.ndim);
    if (x.shape[d] === 0) throw new SimdgradError(`${op}: cannot reduce over an empty dim (shape ${fmtShape(x.shape)}, dim ${dim})`);
    const shape = keepdim ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d);
    out = empty(shape, 'int32');
    x.backend.argReduce(op, out.ptr, x.ptr, shapeSize(x.shape.slice(0, d)), x.shape[d]!, shapeSize(x.shape.slice(d + 1)));
  }
  release(x, x0);
  return out;
}

/** Softmax or log-softmax along dim (moved last for the row kernel when it is not last). */
export function softmax(x0: Tensor, dim: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  x0.assertAlive(name);
  const d = normDim(name, dim, x0.ndim);
  const last = Math.max(x0.ndim - 1, 0);
  const moved = d === last ? x0 : x0.transpose(d, last);
  const xc = contiguous(asFloat(name, moved));
  const cols = x0.ndim === 0 ? 1 : xc.shape[last]!;
  const rows = cols === 0 ? 0 : xc.size / cols;
  const y = empty(xc.shape);
  const be = x0.backend;
  if (log) be.logSoftmax(y.ptr, xc.ptr, rows, cols);
  else be.softmax(y.ptr, xc.ptr, rows, cols);
  if (xc !== moved) xc.dispose();
  if (moved !== x0) moved.dispose();
  let out = y;
  if (d !== last) {
    const back = y.transpose(d, last);
    out = contiguous(back);
    back.dispose();
    y.dispose();
  }
  return record(out, name, [x0], (g) => {
    const gm = d === last ? g : g.transpose(d, last);
    const gc = contiguous(gm);
    const yc = d === last ? out : contiguous(out.transpose(d, last));
    const gx = empty(gc.shape);
    if (log) be.logSoftmaxGrad(gx.ptr, yc.ptr, gc.ptr, rows, cols);
    else be.softmaxGrad(gx.ptr, yc.ptr, gc.ptr, rows, cols);
    return [d === last ? gx : gx.transpose(d, last)];
  });
}

/** log(sum(exp(x))) along dim, stable (max-shifted). */
export function logsumexp(x: Tensor, dim: number, keepdim: boolean): Tensor {
  const d = normDim('logsumexp', dim, x.ndim);
  const xd = x.detach();
  const m = reduceKeep('max', xd, [d]);
  if (m !== xd) xd.dispose();
  // NOTE: the shift m carries no gradient (it cancels exactly), so it is taken from a detached x.
  const r = x.sub(m).exp().sum(d, true).log().add(m);
  return keepdim ? r : r.squeeze(dim);
}

