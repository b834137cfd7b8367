// Adagrad with learning-rate decay.
// see: torch/optim/adagrad.py; Duchi, Hazan & Singer, "Adaptive Subgradient Methods" (2011).
import { Optimizer, checkBoolean, checkNonNegative, type BaseOptions, type ParamGroup, type Params } from './optimizer.js';

export interface AdagradOptions extends BaseOptions {
  /** Learning-rate decay: step t uses lr / (1 + (t − 1)·lrDecay) (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Starting value of the sum of squared gradients (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator (default 1e-10). */
  eps: number;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * Adagrad, as torch.optim.Adagrad: d = g + λp, s = s + d², p = p − lr/(1 + (t − 1)·lrDecay) · d/(√s + eps),
 * with s starting at `initialAccumulatorValue`.
 *
 * @example
 * ```ts
 * const opt = new optim.Adagrad(model.parameters(), { lr: 0.01 });
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super('Adagrad', params, {
      lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false, ...options,
    }, { step: true, buffers: ['sum'], required: ['sum'] });
  }

  protected validate(o: AdagradOptions): void {
    checkNonNegative('Adagrad', 'learning rate', o.lr);
    checkNonNegative('Adagrad', 'lrDecay value', o.lrDecay);
    checkNonNegative('Adagrad', 'weightDecay value', o.weightDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue value', o.initialAccumulatorValue);
    checkNonNegative('Adagrad', 'epsilon value', o.eps);
    checkBoolean('Adagrad', 'maximize', o.maximize);
  }

  protected updateGroup(group: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize } = group;
    for (const p of group.params) {
      const g = this.gradOf(p);
      if (g === null) continue;
      const st = this.stateOf(p);
      const [sum] = this.buffer(p, st, 'sum', initialAccumulatorValue);
      st.step += 1;
      const clr = lr / (1 + (st.step - 1) * lrDecay);
      p.backend.adagradStep(p.ptr, g.ptr, sum.ptr, p.size, clr, weightDecay, eps, maximize);
    }
  }
}
