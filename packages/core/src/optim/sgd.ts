// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay.
// see: torch/optim/sgd.py (the same algorithm; Nesterov as in Sutskever et al., 2013, in PyTorch's form).
import { SimdgradError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, checkBoolean, checkNonNegative, checkNumber, type BaseOptions, type ParamGroup, type Params } from './optimizer.js';

export interface SGDOptions extends BaseOptions {
  /** Momentum factor μ (default 0: plain SGD). */
  momentum: number;
  /** Dampening τ of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient: g + weightDecay·p (default 0). */
  weightDecay: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Stochastic gradient descent, as torch.optim.SGD:
 * d = g + λp; with momentum, b = d on the first step, then b = μb + (1 − τ)d, and d = d + μb (Nesterov)
 * or d = b; finally p = p − lr·d. Parameters whose `.grad` is null are skipped.
 *
 * @example
 * ```ts
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * opt.zeroGrad();
 * loss.backward();
 * opt.step();
 * ```
 */
export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    // NOTE: lr has no default (PyTorch's was required until 2.x); a missing lr fails validate() by name
    super('SGD', params, {
      momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...options, lr: options?.lr,
    } as SGDOptions, { step: false, buffers: ['momentumBuffer'], required: [] });
  }

  protected validate(o: SGDOptions): void {
    checkNonNegative('SGD', 'learning rate', o.lr);
    checkNonNegative('SGD', 'momentum value', o.momentum);
    checkNumber('SGD', 'dampening', o.dampening);
    checkNonNegative('SGD', 'weightDecay value', o.weightDecay);
    checkBoolean('SGD', 'nesterov', o.nesterov);
    checkBoolean('SGD', 'maximize', o.maximize);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new SimdgradError(`SGD: nesterov momentum requires a momentum > 0 and zero dampening (got momentum ${o.momentum}, dampening ${o.dampening})`);
    }
  }

  protected updateGroup(group: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = group;
    for (const p of group.params) {
      const g = this.gradOf(p);
      if (g === null) continue;
      let buf: Tensor | null = null, first = false;
      if (momentum !== 0) [buf, first] = this.buffer(p, this.stateOf(p), 'momentumBuffer');
      p.backend.sgdStep(p.ptr, g.ptr, buf?.ptr ?? 0, p.size, lr, momentum, dampening, weightDecay, nesterov, first, maximize);
    }
  }
}
