// Indexing with int32 indices. Primitives: indexSelect (rows by a 1-D index; embedding lookup) and
// gather (PyTorch's gather), whose gradients are the scatter-adds indexAdd and scatterAdd.
import { record } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { normDim, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import { contiguous, empty, release } from './core.js';
import { fullOf } from './shape.js';

/** Checks an index tensor and its values (every entry in [0, size)). */
function checkIndex(op: string, index: unknown, size: number, dimName: string): Tensor {
  if (!(index instanceof Tensor)) throw new SimdgradError(`${op}: index must be an int32 tensor (got ${typeof index})`);
  index.assertAlive(op);
  if (index.dtype !== 'int32') throw new SimdgradError(`${op}: index must be an int32 tensor (got ${index.dtype}) (help: tensor(…, { dtype: 'int32' }) or .int())`);
  const ic = contiguous(index);
  const bad = ic.backend.findOutOfRange(ic.ptr, ic.size, size);
  if (bad >= 0) {
    const value = ic.backend.heap.views().i32[(ic.ptr >>> 2) + bad];
    release(ic, index);
    throw new SimdgradError(`${op}: index ${value} at position ${bad} is out of range for ${dimName} of size ${size}`);
  }
  return ic;
}

export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  x.assertAlive('indexSelect');
  const d = normDim('indexSelect', dim, x.ndim);
  if (!(index instanceof Tensor) || index.ndim > 1) {
    throw new SimdgradError(`indexSelect: index must be a 1-D int32 tensor (got ${index instanceof Tensor ? `shape ${fmtShape(index.shape)}` : typeof index})`);
  }
  const ic = checkIndex('indexSelect', index, x.shape[d]!, `dim ${dim}`);
  const xc = contiguous(x);
  const outer = shapeSize(x.shape.slice(0, d)), len = x.shape[d]!, inner = shapeSize(x.shape.slice(d + 1));
  const nidx = ic.size;
  const shape = [...x.shape];
  shape[d] = nidx;
  const out = empty(shape, x.dtype);
  x.backend.indexSelect(out.ptr, xc.ptr, ic.ptr, outer, len, inner, nidx);
  release(xc, x);
  record(out, 'indexSelect', [x], (g) => {
    const gc = contiguous(g);
    const gx = fullOf(x.shape, 0);
    x.backend.indexAdd(gx.ptr, ic.ptr, gc.ptr, outer, len, inner, nidx);
    release(gc, g);
    return [gx];
  }, ic !== index ? [ic, index] : [index]);
  if (out.node === null) release(ic, index);
  return out;
}

export function gather(x0: Tensor, dim: number, index: Tensor): Tensor {
  x0.assertAlive('gather');
  const d = normDim('gather', dim, x0.ndim);
  if (!(index instanceof Tensor) || index.ndim !== x0.ndim) {
    throw new SimdgradError(`gather: index must be an int32 tensor with ${x0.ndim} dims like the input ${fmtShape(x0.shape)} (got ${index instanceof Tensor ? fmtShape(index.shape) : typeof index})`);
  }
  index.shape.forEach((s, i) => {
    if (i !== d && s > x0.shape[i]!) throw new SimdgradError(`gather: index shape ${fmtShape(index.shape)} exceeds the input ${fmtShape(x0.shape)} at dim ${i}`);
  });
  // gather reads x only where index has entries: narrow the other dims to the index's sizes
  let x = x0;
  index.shape.forEach((s, i) => {
    if (i !== d && s < x.shape[i]!) x = x.narrow(i, 0, s);
  });
  const ic = checkIndex('gather', index, x.shape[d]!, `dim ${dim}`);
  const xc = contiguous(x);
  const outer = shapeSize(x.shape.slice(0, d)), len = x.shape[d]!, inner = shapeSize(x.shape.slice(d + 1));
  const nidx = index.shape[d]!;
  const out = empty(index.shape, x.dtype);
  x.backend.gather(out.ptr, xc.ptr, ic.ptr, outer, len, inner, nidx);
  release(xc, x);
  const xShape = x.shape;
  record(out, 'gather', [x], (g) => {
    const gc = contiguous(g);
    const gx = fullOf(xShape, 0);
    x.backend.scatterAdd(gx.ptr, ic.ptr, gc.ptr, outer, len, inner, nidx);
    release(gc, g);
    return [gx];
  }, ic !== index ? [ic, index] : [index]);
  if (out.node === null) {
    release(ic, index);
    if (x !== x0) x.dispose();
  }
  return out;
}
