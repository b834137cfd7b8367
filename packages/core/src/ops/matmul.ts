// Matrix product with PyTorch's rules (1-D operands promoted, batch dims broadcast). One primitive: a
// batched GEMM whose operands may be transposed views — the kernel folds the transposition into its
// packing, so the backward products gy·Bᵀ and Aᵀ·gy never copy.
import { record } from '../autograd/graph.js';
import { collapseDims } from '../backend/strides.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { broadcastShapes, shapeSize } from '../shape.js';
import { Tensor } from '../tensor.js';
import { asFloat, contiguous, empty, release, sumToShape } from './core.js';

/** How a matrix operand can be read by the kernel without a copy: row-major, or transposed. */
function matrixLayout(t: Tensor): 'n' | 't' | null {
  const nd = t.ndim;
  const rows = t.shape[nd - 2]!, cols = t.shape[nd - 1]!;
  const sr = t.strides[nd - 2]!, sc = t.strides[nd - 1]!;
  if ((sc === 1 || cols === 1) && (sr === cols || rows === 1)) return 'n';
  if ((sr === 1 || rows === 1) && (sc === rows || cols === 1)) return 't';
  return null;
}

export function matmul(a0: Tensor, b0: Tensor): Tensor {
  if (!(a0 instanceof Tensor) || !(b0 instanceof Tensor)) throw new SimdgradError('matmul: both operands must be tensors');
  a0.assertAlive('matmul');
  b0.assertAlive('matmul');
  if (a0.ndim === 0 || b0.ndim === 0) {
    throw new SimdgradError(`matmul: both operands need at least 1 dim (got ${fmtShape(a0.shape)} and ${fmtShape(b0.shape)}) (help: use mul for scalars)`);
  }
  // 1-D operands: promote, multiply, and drop the added dim again
  if (a0.ndim === 1 || b0.ndim === 1) {
    const a = a0.ndim === 1 ? a0.unsqueeze(0) : a0;
    const b = b0.ndim === 1 ? b0.unsqueeze(-1) : b0;
    const out = matmul2(a, b, a0, b0);
    const shape = [...out.shape];
    if (b0.ndim === 1) shape.splice(shape.length - 1, 1);
    if (a0.ndim === 1) shape.splice(shape.length - (b0.ndim === 1 ? 1 : 2), 1);
    return out.reshape(shape);
  }
  return matmul2(a0, b0, a0, b0);
}

function matmul2(a0: Tensor, b0: Tensor, origA: Tensor, origB: Tensor): Tensor {
  const m = a0.shape[a0.ndim - 2]!, k = a0.shape[a0.ndim - 1]!;
  const k2 = b0.shape[b0.ndim - 2]!, n = b0.shape[b0.ndim - 1]!;
  if (k !== k2) {
    throw new SimdgradError(`matmul: cannot multiply ${fmtShape(origA.shape)} by ${fmtShape(origB.shape)} (inner dims ${k} ≠ ${k2})`);
  }
  const batchShape = broadcastShapes('matmul', a0.shape.slice(0, -2), b0.shape.slice(0, -2));
  const a = asFloat('matmul', a0), b = asFloat('matmul', b0);
  let la = matrixLayout(a), lb = matrixLayout(b);
  const ac = la === null ? contiguous(a) : a, bc = lb === null ? contiguous(b) : b;
  la ??= 'n';
  lb ??= 'n';
  const out = empty([...batchShape, m, n]);
  const be = a.backend;
  const batchStrides = (t: Tensor) => {
    const pad = batchShape.length - (t.ndim - 2);
    return batchShape.map((s, i) => (i < pad || t.shape[i - pad] === 1 ? 0 : t.strides[i - pad]!));
  };
  const sa = batchStrides(ac), sb = batchStrides(bc);
  const sc = batchShape.map((_, i) => shapeSize(batchShape.slice(i + 1)) * m * n);
  const batch = shapeSize(batchShape);
  if (batch > 0 && m > 0 && n > 0) {
    const aSingle = collapseDims(batchShape, [sa]);
    const foldA = la === 'n' && sb.every((s) => s === 0) && aSingle.shape.length === 1 && aSingle.strides[0]![0] === m * k && batch > 1;
    if (foldA) {
      // [b, m, k] · [k, n]: one GEMM with b·m rows
      be.matmul(out.ptr, ac.ptr, bc.ptr, { batch: 1, m: batch * m, n, k, transA: false, transB: lb === 't',
        strideA: 0, strideB: 0, strideC: 0, accumulate: false });
    } else {
      const c = collapseDims(batchShape, [sa, sb, sc]);
      const [ca, cb, cc] = c.strides as [number[], number[], number[]];
      const lastDim = c.shape.length - 1;
      const inner = c.shape[lastDim]!;
      const outerShape = c.shape.slice(0, lastDim);
      const outerCount = shapeSize(outerShape);
      const idx = new Array<number>(outerShape.length).fill(0);
      for (let o = 0; o < outerCount; o++) {
        let offA = 0, offB = 0, offC = 0;
        idx.forEach((v, d) => { offA += v * ca[d]!; offB += v * cb[d]!; offC += v * cc[d]!; });
        be.matmul(out.ptr + offC * 4, ac.ptr + offA * 4, bc.ptr + offB * 4, {
          batch: inner, m, n, k, transA: la === 't', transB: lb === 't',
          strideA: ca[lastDim]!, strideB: cb[lastDim]!, strideC: cc[lastDim]!, accumulate: false,
        });
        for (let d = outerShape.length - 1; d >= 0; d--) {
          if (++idx[d]! < outerShape[d]!) break;
          idx[d] = 0;
        }
      }
    }
  } else if (out.size > 0) {
    be.fill('float32', out.ptr, out.size, 0);
  }
  const temps = [ac !== a ? ac : null, bc !== b ? bc : null, a !== a0 ? a : null, b !== b0 ? b : null].filter((t): t is Tensor => t !== null);
  record(out, 'matmul', [a0, b0], (g) => [
    a0.requiresGrad ? sumToShape(g.matmul(b.transpose(-1, -2)), a0.shape) : null,
    b0.requiresGrad ? gradOfB(a, b0, g, lb) : null,
  ], temps);
  if (out.node === null) temps.forEach((t) => t.dispose());
  return out;
}

/**
 * dL/dB = Aᵀ·g. When B is a transposed view of a 2-D tensor (x·Wᵀ in a Linear layer), the same product
 * is written in W's own layout, (gᵀ·A)ᵀ, so that W's gradient arrives contiguous instead of needing a
 * transposing copy (the kernel folds either transposition into its packing; the flops are the same).
 */
function gradOfB(a: Tensor, b0: Tensor, g: Tensor, lb: 'n' | 't'): Tensor {
  if (lb === 't' && a.ndim === 2 && b0.ndim === 2) return g.transpose(0, 1).matmul(a).transpose(0, 1);
  return sumToShape(a.transpose(-1, -2).matmul(g), b0.shape);
}
