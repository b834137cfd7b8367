import { SimdgradError, fmtShape } from '../errors.js';
import { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { noGrad } from './graph.js';
import { scope } from '../memory.js';
import { tensor } from '../ops/creation.js';

export interface GradcheckOptions {
  /** Finite-difference step (default 1e-3, suited to float32). */
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Throw with the worst mismatch instead of returning false (default true, as PyTorch). */
  raiseException?: boolean;
  /** Check at most this many elements per input (spread evenly); default all. */
  maxElements?: number;
}

/**
 * Checks the gradients autograd computes for `fn` against central finite differences (evaluated in
 * float64 from the float32 outputs). `fn` may return a tensor of any shape: it is contracted with fixed
 * random weights into a scalar. Inputs that require grad are checked.
 *
 * @example
 * ```ts
 * const x = randn([3, 4], { requiresGrad: true });
 * gradcheck((a) => a.tanh().mul(a), [x]); // true, or throws naming the element that differs
 * ```
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): boolean {
  const eps = options.eps ?? 1e-3, atol = options.atol ?? 1e-3, rtol = options.rtol ?? 1e-2;
  const raise = options.raiseException ?? true;
  const checked = inputs.filter((t) => t.requiresGrad);
  if (checked.length === 0) throw new SimdgradError('gradcheck: no input requires grad (help: create inputs with { requiresGrad: true })');
  for (const t of checked) {
    if (!t.isContiguous()) throw new SimdgradError(`gradcheck: input of shape ${fmtShape(t.shape)} must be contiguous`);
  }
  const g = new Generator(1234);
  let weights: Float64Array | null = null;
  /** L = Σ w·fn(inputs), in float64. */
  const loss = (): number => scope(() => {
    const y = noGrad(() => fn(...inputs)).toFloat32Array();
    if (weights === null) weights = Float64Array.from(y, () => g.uniform() * 2 - 1);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * weights[i]!;
    return s;
  });
  loss(); // fixes the weights
  const saved = checked.map((t) => t.grad);
  checked.forEach((t) => { t.grad = null; });
  const analytic = scope(() => {
    const y = fn(...inputs);
    // contract with the same weights through autograd
    const L = y.mul(tensor(new Float32Array(weights!), { shape: [...y.shape] })).sum();
    L.backward();
    return checked.map((t) => (t.grad ? t.grad.toFloat32Array() : new Float32Array(t.size)));
  });
  checked.forEach((t, i) => {
    t.grad?.dispose();
    t.grad = saved[i]!;
  });
  let worst = { err: 0, msg: '' };
  checked.forEach((t, ti) => {
    const heap = t.backend.heap;
    const n = t.size;
    const step = options.maxElements && n > options.maxElements ? n / options.maxElements : 1;
    for (let fi = 0; fi < n; fi += step) {
      const i = Math.floor(fi);
      const p = (t.ptr >>> 2) + i;
      const orig = heap.views().f32[p]!;
      heap.views().f32[p] = orig + eps;
      const lp = loss();
      heap.views().f32[p] = orig - eps;
      const lm = loss();
      heap.views().f32[p] = orig;
      const numeric = (lp - lm) / (2 * eps);
      const a = analytic[ti]![i]!;
      const err = Math.abs(a - numeric) - (atol + rtol * Math.abs(numeric));
      if (!(err <= 0) && (worst.msg === '' || err > worst.err)) {
        worst = { err, msg: `input ${checked.indexOf(t)} (shape ${fmtShape(t.shape)}) element ${i}: autograd ${a}, finite difference ${numeric}` };
      }
    }
  });
  if (worst.msg !== '') {
    if (raise) throw new SimdgradError(`gradcheck: gradients differ: ${worst.msg}`);
    return false;
  }
  return true;
}

