// Elementwise ops. Primitives (each one kernel call and one gradient rule):
//   unary(op)      — neg abs exp log sqrt rsqrt tanh sigmoid relu gelu silu softplus … (see UnaryOp)
//   binary(op)     — add sub mul div pow maximum minimum, NumPy broadcasting, strided inputs read in place
//   compare(op)    — eq ne lt le gt ge (no gradient: they give 0/1 masks)
//   where          — cond ? a : b
// Scalar operands go to the fused `affine`/`powScalar`/`rdiv`/`rpow` unary kernels, so `x.mul(2)` or
// `x.add(1)` never allocate a scalar tensor.
import type { BinaryOpName, UnaryOpName } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import { SimdgradError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import { Tensor } from '../tensor.js';
import { asFloat, broadcastStrides, contiguous, empty, release, sumToShape } from './core.js';

/** y = f(x) with the kernel's derivative as the gradient. */
export function unary(op: UnaryOpName, x: Tensor, p0 = 0, p1 = 0, name: string = op): Tensor {
  x.assertAlive(name);
  const xf = asFloat(name, x);
  const xc = contiguous(xf);
  if (xf !== x && xc !== xf) xf.dispose();
  const out = empty(x.shape);
  const b = x.backend;
  b.unary(op, out.ptr, xc.ptr, out.size, p0, p1);
  if (x.requiresGrad && record(out, name, [x], (g) => {
    const gc = contiguous(g);
    const gx = empty(x.shape);
    b.unaryGrad(op, gx.ptr, xc.ptr, out.ptr, gc.ptr, gx.size, p0, p1);
    release(gc, g);
    return [gx];
  }, xc !== x ? [xc] : []).node !== null) {
    return out;
  }
  release(xc, x);
  return out;
}

function checkNumber(op: string, v: number, what = 'scalar'): number {
  if (typeof v !== 'number') throw new SimdgradError(`${op}: expected a tensor or a number as the ${what} (got ${typeof v})`);
  return v;
}

/** A one-element float32 tensor holding `v` (for scalar operands of ops without a fused scalar form). */
export function scalarTensor(v: number): Tensor {
  const t = empty([]);
  t.backend.fill('float32', t.ptr, 1, v);
  return t;
}

/** a (op) b with broadcasting; numbers are accepted on either side. */
export function binary(op: BinaryOpName, a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof a === 'number' && typeof b === 'number') {
    throw new SimdgradError(`${op}: at least one operand must be a tensor (got two numbers)`);
  }
  if (typeof b === 'number') {
    checkNumber(op, b);
    const x = a as Tensor;
    switch (op) {
      case 'add': return unary('affine', x, 1, b, 'add');
      case 'sub': return unary('affine', x, 1, -b, 'sub');
      case 'mul': return unary('affine', x, b, 0, 'mul');
      case 'div': return unary('affine', x, 1 / b, 0, 'div');
      case 'pow': return b === 2 ? unary('square', x, 0, 0, 'pow') : unary('powScalar', x, b, 0, 'pow');
      default: {
        const s = scalarTensor(b);
        const out = binaryTensors(op, x, s);
        if (out.node === null) s.dispose(); else out.node = { ...out.node, saved: [...out.node.saved, s] };
        return out;
      }
    }
  }
  if (typeof a === 'number') {
    checkNumber(op, a);
    const y = b as Tensor;
    switch (op) {
      case 'add': return unary('affine', y, 1, a, 'add');
      case 'sub': return unary('affine', y, -1, a, 'sub');
      case 'mul': return unary('affine', y, a, 0, 'mul');
      case 'div': return unary('rdiv', y, a, 0, 'div');
      case 'pow': return unary('rpow', y, a, 0, 'pow');
      default: {
        const s = scalarTensor(a);
        const out = binaryTensors(op, s, y);
        if (out.node === null) s.dispose(); else out.node = { ...out.node, saved: [...out.node.saved, s] };
        return out;
      }
    }
  }
  return binaryTensors(op, a, b);
}

function checkTensor(op: string, t: unknown, what: string): Tensor {
  if (!(t instanceof Tensor)) throw new SimdgradError(`${op}: expected a tensor or a number as ${what} (got ${t === null ? 'null' : typeof t})`);
  t.assertAlive(op);
  return t;
}

function binaryTensors(op: BinaryOpName, a0: Tensor, b0: Tensor): Tensor {
  checkTensor(op, a0, 'the first operand');
  checkTensor(op, b0, 'the second operand');
  const a = asFloat(op, a0), b = asFloat(op, b0);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape);
  const be = a.backend;
  if (b.backend !== be) throw new SimdgradError(`${op}: operands live on different backends (${be.name} and ${b.backend.name})`);
  be.binary(op, out.ptr, a.ptr, b.ptr, shape, broadcastStrides(a, shape), broadcastStrides(b, shape));
  const cast = () => { release(a, a0); release(b, b0); };
  if (op === 'eq' || op === 'ne' || op === 'lt' || op === 'le' || op === 'gt' || op === 'ge') {
    cast();
    return out;
  }
  const ra = a0.requiresGrad, rb = b0.requiresGrad;
  record(out, op, [a0, b0], (g) => {
    switch (op) {
      case 'add': return [ra ? sumToShape(g, a.shape) : null, rb ? sumToShape(g, b.shape) : null];
      case 'sub': return [ra ? sumToShape(g, a.shape) : null, rb ? sumToShape(g.neg(), b.shape) : null];
      case 'mul': return [ra ? sumToShape(g.mul(b), a.shape) : null, rb ? sumToShape(g.mul(a), b.shape) : null];
      case 'div': {
        const ga = g.div(b);
        return [ra ? sumToShape(ga, a.shape) : null, rb ? sumToShape(ga.mul(out).neg(), b.shape) : null];
      }
      case 'pow': {
        // NOTE: d/db a^b = a^b ln a is taken as 0 where a ≤ 0 (as PyTorch does at a = 0), not NaN.
        const ga = ra ? sumToShape(g.mul(b).mul(a.pow(b.sub(1))), a.shape) : null;
        const gb = rb ? sumToShape(where(a.gt(0), g.mul(out).mul(a.log()), 0), b.shape) : null;
        return [ga, gb];
      }
      case 'maximum':
      case 'minimum': {
        // NOTE: at ties the gradient is split in half between the operands, as PyTorch does.
        const mask = (op === 'maximum' ? a.gt(b) : a.lt(b)).add(a.eq(b).mul(0.5));
        const ga = g.mul(mask);
        return [ra ? sumToShape(ga, a.shape) : null, rb ? sumToShape(g.sub(ga), b.shape) : null];
      }
      default:
        throw new SimdgradError(`backward: ${op} has no gradient`);
    }
  }, [a, b].filter((t, i) => t !== [a0, b0][i]));
  if (out.node === null) cast();
  return out;
}

/** cond ? a : b, with broadcasting (cond is nonzero = true); numbers accepted for a and b. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  checkTensor('where', cond, 'the condition');
  const temps: Tensor[] = [];
  const at = typeof a === 'number' ? (temps.push(scalarTensor(a)), temps[temps.length - 1]!) : checkTensor('where', a, 'the first value');
  const bt = typeof b === 'number' ? (temps.push(scalarTensor(b)), temps[temps.length - 1]!) : checkTensor('where', b, 'the second value');
  const c = asFloat('where', cond), af = asFloat('where', at), bf = asFloat('where', bt);
  const shape = broadcastShapes('where', broadcastShapes('where', c.shape, af.shape), bf.shape);
  const out = empty(shape);
  out.backend.where(out.ptr, c.ptr, af.ptr, bf.ptr, shape, broadcastStrides(c, shape), broadcastStrides(af, shape), broadcastStrides(bf, shape));
  const made = [c !== cond ? c : null, af !== at ? af : null, bf !== bt ? bf : null].filter((t): t is Tensor => t !== null);
  record(out, 'where', [at, bt], (g) => [
    at.requiresGrad ? sumToShape(where(c, g, 0), at.shape) : null,
    bt.requiresGrad ? sumToShape(where(c, 0, g), bt.shape) : null,
  ], [c, ...made, ...temps]);
  if (out.node === null) {
    for (const t of [...made, ...temps]) t.dispose();
  }
  return out;
}
