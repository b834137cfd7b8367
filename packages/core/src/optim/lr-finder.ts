// The learning-rate range test: train for a few steps while the lr grows exponentially and watch the loss.
// see: Smith, "Cyclical Learning Rates for Training Neural Networks" (2015, the LR range test); fastai's
// lr_find and torch-lr-finder (exponential schedule, smoothed loss, early stop on divergence).
import { SimdgradError } from '../errors.js';
import { Optimizer, describe } from './optimizer.js';

export interface FindLrOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  optimizer: Optimizer<any>;
  /** Runs one training step (forward, backward, optimizer.step()) at the optimizer's current lr; returns the loss. */
  step: () => number;
  /** First lr tried (default 1e-7). */
  startLr?: number;
  /** Last lr tried (default 10). */
  endLr?: number;
  /** Steps, from startLr to endLr on a log scale (default 100). */
  numIter?: number;
  /** Weight of the newest loss in the exponential moving average (default 0.05). */
  smoothing?: number;
  /** Stop once the smoothed loss exceeds divergeThreshold × the best smoothed loss (default 5). */
  divergeThreshold?: number;
}

export interface FindLrResult {
  /** The lr of each step taken. */
  lrs: number[];
  /** The smoothed loss after each step. */
  losses: number[];
  /** The lr where the smoothed loss fell fastest (see findLr). */
  suggestedLr: number;
}

/**
 * The LR range test. Step i (of numIter) runs `step()` with every group's lr set to
 * startLr · (endLr / startLr)^(i / (numIter − 1)) and records the loss smoothed by an exponential moving
 * average (s = smoothing · loss + (1 − smoothing) · s, starting at the first loss). It stops early when the
 * loss is not finite or the smoothed loss exceeds divergeThreshold × the best one.
 *
 * The suggestion is the lr at the steepest descent of the smoothed loss against log(lr): the most negative
 * central difference (np.gradient), ignoring the first 10% of the points (the average is still warming up)
 * and the last 5% (the divergence tail). If the loss never falls, it is the lr of the lowest loss / 10
 * (fastai's other rule of thumb).
 *
 * The test trains the model: reload the weights (and the optimizer's state) afterwards. findLr itself only
 * restores each group's lr to its value before the call.
 *
 * @example
 * ```ts
 * const saved = model.stateDict();
 * const { suggestedLr } = optim.findLr({ optimizer: opt, step: () => trainOneBatch() });
 * model.loadStateDict(saved);
 * opt.paramGroups[0].lr = suggestedLr;
 * ```
 */
export function findLr(options: FindLrOptions): FindLrResult {
  const op = 'findLr';
  if (options === null || typeof options !== 'object') throw new SimdgradError(`${op}: expected an options object (got ${describe(options)})`);
  const { optimizer, step, startLr = 1e-7, endLr = 10, numIter = 100, smoothing = 0.05, divergeThreshold = 5 } = options;
  if (!(optimizer instanceof Optimizer)) throw new SimdgradError(`${op}: optimizer must be an optimizer (got ${describe(optimizer)})`);
  if (typeof step !== 'function') throw new SimdgradError(`${op}: step must be a function that trains one batch and returns the loss (got ${describe(step)})`);
  if (typeof startLr !== 'number' || !(startLr > 0 && Number.isFinite(startLr))) throw new SimdgradError(`${op}: startLr must be a number > 0 (got ${describe(startLr)})`);
  if (typeof endLr !== 'number' || !(endLr > startLr && Number.isFinite(endLr))) throw new SimdgradError(`${op}: endLr must be a finite number > startLr (got ${describe(endLr)}, startLr ${startLr})`);
  if (typeof numIter !== 'number' || !Number.isInteger(numIter) || numIter < 2) throw new SimdgradError(`${op}: numIter must be an integer ≥ 2 (got ${describe(numIter)})`);
  if (typeof smoothing !== 'number' || !(smoothing > 0 && smoothing <= 1)) throw new SimdgradError(`${op}: smoothing must be in (0, 1] (got ${describe(smoothing)})`);
  if (typeof divergeThreshold !== 'number' || !(divergeThreshold > 1)) throw new SimdgradError(`${op}: divergeThreshold must be a number > 1 (got ${describe(divergeThreshold)})`);

  const saved = optimizer.paramGroups.map((g) => g.lr);
  const lrs: number[] = [];
  const losses: number[] = [];
  try {
    let best = Infinity;
    for (let i = 0; i < numIter; i++) {
      const lr = startLr * (endLr / startLr) ** (i / (numIter - 1));
      for (const g of optimizer.paramGroups) g.lr = lr;
      const loss = step();
      if (typeof loss !== 'number') throw new SimdgradError(`${op}: step() must return the loss as a number (got ${describe(loss)}) (help: return loss.item())`);
      if (!Number.isFinite(loss)) break;
      const smoothed = i === 0 ? loss : smoothing * loss + (1 - smoothing) * losses[losses.length - 1]!;
      lrs.push(lr);
      losses.push(smoothed);
      best = Math.min(best, smoothed);
      if (smoothed > divergeThreshold * best) break;
    }
  } finally {
    optimizer.paramGroups.forEach((g, i) => { g.lr = saved[i]!; });
  }
  if (lrs.length === 0) throw new SimdgradError(`${op}: the first step already gave a non-finite loss (help: lower startLr, check the model and data)`);
  return { lrs, losses, suggestedLr: suggest(lrs, losses) };
}

/** The lr at the steepest negative slope of the smoothed loss (see findLr). */
function suggest(lrs: number[], losses: number[]): number {
  const n = losses.length;
  if (n < 2) return lrs[0]!;
  // np.gradient over the index: the lrs are evenly spaced in log(lr), so the argmin is the same
  const slope = (i: number) => i === 0 ? losses[1]! - losses[0]! : i === n - 1 ? losses[n - 1]! - losses[n - 2]! : (losses[i + 1]! - losses[i - 1]!) / 2;
  let lo = Math.floor(n * 0.1), hi = n - Math.floor(n * 0.05);
  if (hi - lo < 3) { lo = 0; hi = n; }
  let bestI = -1, bestSlope = 0;
  for (let i = lo; i < hi; i++) {
    const s = slope(i);
    if (s < bestSlope) { bestSlope = s; bestI = i; }
  }
  if (bestI >= 0) return lrs[bestI]!;
  let minI = 0;
  for (let i = 1; i < n; i++) if (losses[i]! < losses[minI]!) minI = i;
  return lrs[minI]! / 10;
}
