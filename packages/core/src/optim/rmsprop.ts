// RMSprop, optionally centered and with momentum.
// see: torch/optim/rmsprop.py; Hinton's lecture 6e; Graves, "Generating Sequences With Recurrent Neural
// Networks" (2013, the centered form). NOTE: as PyTorch, eps is added after the square root.
import { Optimizer, checkBoolean, checkNonNegative, type BaseOptions, type ParamGroup, type Params } from './optimizer.js';

export interface RMSpropOptions extends BaseOptions {
  /** Smoothing constant α of the running average of g² (default 0.99). */
  alpha: number;
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalize by the estimated variance (E[g²] − E[g]²) instead of E[g²] (default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * RMSprop, as torch.optim.RMSprop: d = g + λp, v = αv + (1 − α)d²; centered: ḡ = αḡ + (1 − α)d and
 * v̂ = v − ḡ², else v̂ = v; with momentum b = μb + d/(√v̂ + eps), p = p − lr·b, else p = p − lr·d/(√v̂ + eps).
 *
 * @example
 * ```ts
 * const opt = new optim.RMSprop(model.parameters(), { lr: 1e-3, momentum: 0.9 });
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super('RMSprop', params, {
      lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...options,
    }, { step: true, buffers: ['squareAvg', 'momentumBuffer', 'gradAvg'], required: ['squareAvg'] });
  }

  protected validate(o: RMSpropOptions): void {
    checkNonNegative('RMSprop', 'learning rate', o.lr);
    checkNonNegative('RMSprop', 'epsilon value', o.eps);
    checkNonNegative('RMSprop', 'momentum value', o.momentum);
    checkNonNegative('RMSprop', 'weightDecay value', o.weightDecay);
    checkNonNegative('RMSprop', 'alpha value', o.alpha);
    checkBoolean('RMSprop', 'centered', o.centered);
    checkBoolean('RMSprop', 'maximize', o.maximize);
  }

  protected updateGroup(group: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = group;
    for (const p of group.params) {
      const g = this.gradOf(p);
      if (g === null) continue;
      const st = this.stateOf(p);
      const [sq] = this.buffer(p, st, 'squareAvg');
      const buf = momentum > 0 ? this.buffer(p, st, 'momentumBuffer')[0].ptr : 0;
      const gavg = centered ? this.buffer(p, st, 'gradAvg')[0].ptr : 0;
      st.step += 1;
      p.backend.rmspropStep(p.ptr, g.ptr, sq.ptr, gavg, buf, p.size, lr, alpha, eps, weightDecay, momentum, centered, maximize);
    }
  }
}
