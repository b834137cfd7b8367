// Adam, AMSGrad and AdamW.
// see: torch/optim/adam.py and adamw.py; Kingma & Ba, "Adam" (2014); Reddi et al., "On the Convergence of
// Adam and Beyond" (2018, amsgrad); Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2017).
import { SimdgradError } from '../errors.js';
import { Optimizer, checkBoolean, checkNonNegative, describe, type BaseOptions, type ParamGroup, type Params } from './optimizer.js';

export interface AdamOptions extends BaseOptions {
  /** Decay rates (β1, β2) of the running averages of the gradient and its square (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Adam: L2 penalty added to the gradient; AdamW: decoupled decay p ← p(1 − lr·weightDecay). */
  weightDecay: number;
  /** Use the running maximum of the second moment (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/** Adam and AdamW share everything but the weight decay. */
abstract class AdamFamily extends Optimizer<AdamOptions> {
  private readonly decoupled: boolean;

  protected constructor(name: 'Adam' | 'AdamW', params: Params<AdamOptions>, options: Partial<AdamOptions>, weightDecay: number) {
    super(name, params, {
      lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false, ...options,
    }, { step: true, buffers: ['expAvg', 'expAvgSq', 'maxExpAvgSq'], required: ['expAvg', 'expAvgSq'] });
    this.decoupled = name === 'AdamW';
  }

  protected validate(o: AdamOptions): void {
    const op = this.name;
    checkNonNegative(op, 'learning rate', o.lr);
    checkNonNegative(op, 'epsilon value', o.eps);
    if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new SimdgradError(`${op}: betas must be an array of 2 numbers (got ${describe(o.betas)})`);
    o.betas.forEach((b, i) => {
      if (typeof b !== 'number' || !(b >= 0 && b < 1)) throw new SimdgradError(`${op}: invalid beta parameter at index ${i}: ${describe(b)} (expected 0 ≤ beta < 1)`);
    });
    checkNonNegative(op, 'weightDecay value', o.weightDecay);
    checkBoolean(op, 'amsgrad', o.amsgrad);
    checkBoolean(op, 'maximize', o.maximize);
  }

  protected updateGroup(group: ParamGroup<AdamOptions>): void {
    const { lr, betas: [beta1, beta2], eps, weightDecay, amsgrad, maximize } = group;
    for (const p of group.params) {
      const g = this.gradOf(p);
      if (g === null) continue;
      const st = this.stateOf(p);
      const [m] = this.buffer(p, st, 'expAvg');
      const [v] = this.buffer(p, st, 'expAvgSq');
      const vmax = amsgrad ? this.buffer(p, st, 'maxExpAvgSq')[0].ptr : 0;
      st.step += 1;
      const bc1 = 1 - beta1 ** st.step, bc2 = 1 - beta2 ** st.step;
      p.backend.adamStep(p.ptr, g.ptr, m.ptr, v.ptr, vmax, p.size, lr, beta1, beta2, eps, weightDecay, this.decoupled,
        amsgrad, bc1, bc2, maximize);
    }
  }
}

/**
 * Adam, as torch.optim.Adam: with d = g + λp (L2 weight decay), m = β1·m + (1 − β1)·d, v = β2·v + (1 − β2)·d²,
 * p = p − lr/(1 − β1^t) · m / (√v / √(1 − β2^t) + eps). With `amsgrad`, the running maximum of v is used.
 *
 * @example
 * ```ts
 * const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class Adam extends AdamFamily {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('Adam', params, options, 0);
  }
}

/**
 * AdamW, as torch.optim.AdamW: Adam with decoupled weight decay p ← p·(1 − lr·weightDecay) before the
 * Adam update (the decay is not part of the gradient, so it is not rescaled by √v). weightDecay defaults to 1e-2.
 *
 * @example
 * ```ts
 * const opt = new optim.AdamW(model.parameters(), { lr: 3e-4, weightDecay: 0.05 });
 * ```
 */
export class AdamW extends AdamFamily {
  constructor(params: Params<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super('AdamW', params, options, 1e-2);
  }
}
