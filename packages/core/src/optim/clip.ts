// Gradient clipping, in place on each parameter's .grad.
// see: torch/nn/utils/clip_grad.py (clip_grad_norm_, clip_grad_value_).
import { SimdgradError } from '../errors.js';
import { keep } from '../memory.js';
import { Tensor } from '../tensor.js';
import { describe } from './optimizer.js';

/** The gradients of `params` (skipping null ones), each made contiguous in place if it was a strided view. */
function gradsOf(op: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = params instanceof Tensor ? [params] : params !== null && typeof params === 'object' && Symbol.iterator in params ? [...params] : null;
  if (list === null) throw new SimdgradError(`${op}: params must be a tensor or an array of tensors (got ${describe(params)})`);
  const grads: Tensor[] = [];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) throw new SimdgradError(`${op}: params[${i}] is ${describe(p)}, not a tensor`);
    const g = p.grad;
    if (g === null) return;
    g.assertAlive(op);
    if (g.dtype !== 'float32') throw new SimdgradError(`${op}: gradients must be float32 (params[${i}].grad is ${g.dtype})`);
    if (g.isContiguous()) {
      grads.push(g);
    } else {
      const c = keep(g.contiguousCopy());
      g.dispose();
      p.grad = c;
      grads.push(c);
    }
  });
  return grads;
}

/**
 * Scales the gradients of `params` in place so that their total norm (the norm of all gradients taken
 * together as one vector) is at most `maxNorm`, and returns that total norm before clipping. Gradients are
 * multiplied by maxNorm / (total + 1e-6) when that is below 1. `normType` is any p > 0 or Infinity (max |g|).
 * Parameters without a gradient are skipped; with none at all the result is 0.
 * NOTE: as PyTorch, a NaN or infinite total norm makes the gradients NaN (or 0) unless `errorIfNonfinite`.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = optim.clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 * ```
 */
export function clipGradNorm(params: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, errorIfNonfinite = false): number {
  const op = 'clipGradNorm';
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) throw new SimdgradError(`${op}: maxNorm must be a number (got ${describe(maxNorm)})`);
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new SimdgradError(`${op}: normType must be a number > 0 or Infinity (got ${describe(normType)})`);
  }
  const grads = gradsOf(op, params);
  if (grads.length === 0) return 0;
  let total: number;
  if (normType === Infinity) {
    total = 0;
    for (const g of grads) {
      const m = g.backend.normPartial(g.ptr, g.size, Infinity);
      total = Number.isNaN(m) || Number.isNaN(total) ? NaN : Math.max(total, m);
    }
  } else {
    let sum = 0;
    for (const g of grads) sum += g.backend.normPartial(g.ptr, g.size, normType);
    total = normType === 2 ? Math.sqrt(sum) : normType === 1 ? sum : sum ** (1 / normType);
  }
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new SimdgradError(`${op}: the total norm of order ${normType} of the gradients is ${total}, so they cannot be clipped ` +
      '(help: pass errorIfNonfinite = false to clip anyway, or find where the loss became non-finite)');
  }
  const coef = maxNorm / (total + 1e-6);
  // !(coef >= 1) rather than coef < 1, so that a NaN norm propagates into the gradients as in PyTorch
  if (!(coef >= 1)) {
    for (const g of grads) g.backend.unary('affine', g.ptr, g.ptr, g.size, coef, 0);
  }
  return total;
}

/**
 * Clamps every gradient of `params` into [−clipValue, clipValue] in place.
 *
 * @example
 * ```ts
 * optim.clipGradValue(model.parameters(), 0.5);
 * ```
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const op = 'clipGradValue';
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) throw new SimdgradError(`${op}: clipValue must be a number ≥ 0 (got ${describe(clipValue)})`);
  for (const g of gradsOf(op, params)) g.backend.unary('clamp', g.ptr, g.ptr, g.size, -clipValue, clipValue);
}
