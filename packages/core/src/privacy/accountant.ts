// Privacy accounting for DP-SGD: Rényi differential privacy (RDP) of the sampled Gaussian mechanism,
// composed over steps and converted to (ε, δ).
// see: Mironov, Talwar, Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (2019),
//      §3.3 (integer orders: a binomial sum) and §3.4 (fractional orders: two converging series).
// see: Balle et al., "Hypothesis Testing Interpretations and Renyi Differential Privacy" (2020), Thm 21,
//      for the RDP → (ε, δ) conversion used by default (tighter than the classic one).
import { SimdgradError } from '../errors.js';

/** The RDP orders tried by default (those of Opacus and TF-Privacy, plus a few large ones). */
export const DEFAULT_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
  128, 256, 512,
]);

/** How RDP is converted to (ε, δ). */
export type EpsilonConversion = 'improved' | 'classic';

function checkRate(op: string, sampleRate: number): void {
  if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) {
    throw new SimdgradError(`${op}: sampleRate must be in [0, 1] (got ${sampleRate})`);
  }
}

function checkNoise(op: string, noiseMultiplier: number): void {
  if (typeof noiseMultiplier !== 'number' || !(noiseMultiplier >= 0) || !Number.isFinite(noiseMultiplier)) {
    throw new SimdgradError(`${op}: noiseMultiplier must be a finite number ≥ 0 (got ${noiseMultiplier})`);
  }
}

function checkDelta(op: string, delta: number): void {
  if (typeof delta !== 'number' || !(delta > 0 && delta < 1)) throw new SimdgradError(`${op}: delta must be in (0, 1) (got ${delta})`);
}

// ---- log-space helpers --------------------------------------------------------------------------

function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b), lo = Math.min(a, b);
  if (hi === -Infinity) return -Infinity;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a − e^b) for a ≥ b. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a <= b) return -Infinity; // NOTE: only rounding can make a series term exceed the running sum
  return a + Math.log(-Math.expm1(b - a));
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~1e-15 relative). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * log erfc(x), accurate in the far tail where erfc underflows: a power series for erf when |x| < 3,
 * a continued fraction (modified Lentz) for x ≥ 3, and erfc(x) = 2 − erfc(−x) below −3.
 */
export function logErfc(x: number): number {
  if (x < -3) return Math.log(2 - Math.exp(logErfc(-x)));
  if (x < 3) {
    // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
    let term = x, sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const d = term / (2 * n + 1);
      sum += d;
      if (Math.abs(d) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.log(1 - (2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  const tiny = 1e-300;
  let f = x, C = x, D = 0;
  for (let n = 1; n < 500; n++) {
    const an = n / 2;
    D = x + an * D;
    D = Math.abs(D) < tiny ? 1 / tiny : 1 / D;
    C = x + an / C;
    if (Math.abs(C) < tiny) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

// ---- RDP of the sampled Gaussian mechanism --------------------------------------------------------

/** log A_α for integer α: a binomial sum (Mironov et al. 2019, §3.3). */
function logAInt(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const logQ = Math.log(q), log1mQ = Math.log1p(-q);
  const logAlphaFact = logGamma(alpha + 1);
  for (let i = 0; i <= alpha; i++) {
    const logBinom = logAlphaFact - logGamma(i + 1) - logGamma(alpha - i + 1);
    const s = logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / (2 * sigma * sigma);
    logA = logAdd(logA, s);
  }
  return logA;
}

/** log A_α for fractional α: two alternating-binomial series with erfc tails (Mironov et al. 2019, §3.4). */
function logAFrac(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity, logA1 = -Infinity;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q), log1mQ = Math.log1p(-q);
  // binom(α, i) = Π_{k<i} (α − k)/(k + 1), kept as log|·| and a sign
  let logCoef = 0, sign = 1;
  for (let i = 0; i < 100000; i++) {
    if (i > 0) {
      const r = (alpha - (i - 1)) / i;
      if (r === 0) break;
      if (r < 0) sign = -sign;
      logCoef += Math.log(Math.abs(r));
    }
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mQ;
    const logT1 = logCoef + j * logQ + i * log1mQ;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (sign > 0) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP of one step of the sampled Gaussian mechanism at order α (noise σ·C on a sum with sensitivity C). */
function rdpOneStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  if (!Number.isFinite(alpha)) return Infinity;
  const logA = Number.isInteger(alpha) ? logAInt(q, sigma, alpha) : logAFrac(q, sigma, alpha);
  return logA / (alpha - 1);
}

/**
 * The RDP ε(α) at each order of `steps` compositions of the sampled Gaussian mechanism (sampling each
 * example with probability `sampleRate`, noise std `noiseMultiplier` × the clipping norm).
 *
 * @example
 * ```ts
 * const rdp = privacy.computeRdp({ sampleRate: 256 / 60000, noiseMultiplier: 1.1, steps: 14040 });
 * ```
 */
export function computeRdp(options: { sampleRate: number; noiseMultiplier: number; steps: number; orders?: readonly number[] }): number[] {
  const { sampleRate, noiseMultiplier, steps, orders = DEFAULT_ORDERS } = options;
  checkRate('computeRdp', sampleRate);
  checkNoise('computeRdp', noiseMultiplier);
  if (!Number.isInteger(steps) || steps < 0) throw new SimdgradError(`computeRdp: steps must be an integer ≥ 0 (got ${steps})`);
  return orders.map((a) => {
    if (!(a > 1)) throw new SimdgradError(`computeRdp: every order must be > 1 (got ${a})`);
    return steps === 0 ? 0 : rdpOneStep(sampleRate, noiseMultiplier, a) * steps;
  });
}

/**
 * Converts RDP (ε(α) at each order) to an (ε, δ) guarantee, taking the best order.
 * `'improved'` (default): ε = rdp + log((α−1)/α) − (log δ + log α)/(α − 1) (Balle et al. 2020, Thm 21,
 * as Opacus and TF-Privacy use today); `'classic'`: ε = rdp − log δ/(α − 1) (Mironov 2017, Prop. 3;
 * what the 2019-era TF-Privacy tutorials and Opacus 0.x printed).
 */
export function rdpToEpsilon(orders: readonly number[], rdp: readonly number[], delta: number,
  conversion: EpsilonConversion = 'improved'): { epsilon: number; order: number } {
  checkDelta('rdpToEpsilon', delta);
  if (orders.length !== rdp.length || orders.length === 0) {
    throw new SimdgradError(`rdpToEpsilon: orders and rdp must be non-empty and of the same length (got ${orders.length} and ${rdp.length})`);
  }
  let best = Infinity, bestOrder = NaN;
  orders.forEach((a, i) => {
    const r = rdp[i]!;
    const eps = conversion === 'classic'
      ? r - Math.log(delta) / (a - 1)
      : r + Math.log1p(-1 / a) - (Math.log(delta) + Math.log(a)) / (a - 1);
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  });
  return { epsilon: Math.max(0, best), order: bestOrder };
}

/**
 * ε for DP-SGD with Poisson sampling, from its parameters alone.
 *
 * @example
 * ```ts
 * // TF-Privacy's MNIST tutorial: N = 60000, batch 256, σ = 1.12, 60 epochs → ε ≈ 2.9 at δ = 1e-5
 * privacy.epsilonFor({ sampleRate: 256 / 60000, noiseMultiplier: 1.12, steps: 14040, delta: 1e-5 });
 * ```
 */
export function epsilonFor(options: { sampleRate: number; noiseMultiplier: number; steps: number; delta: number;
  orders?: readonly number[]; conversion?: EpsilonConversion }): number {
  const orders = options.orders ?? DEFAULT_ORDERS;
  const rdp = computeRdp({ ...options, orders });
  return rdpToEpsilon(orders, rdp, options.delta, options.conversion).epsilon;
}

/**
 * The smallest noise multiplier σ (within `tolerance`) whose ε after the given training stays ≤
 * `targetEpsilon`: a bracket by doubling, then bisection (ε falls monotonically as σ grows).
 * Give `steps`, or `epochs` (steps = epochs / sampleRate, rounded up).
 *
 * @example
 * ```ts
 * const sigma = privacy.noiseMultiplierFor({ targetEpsilon: 3, delta: 1e-5, sampleRate: 256 / 60000, epochs: 20 });
 * ```
 */
export function noiseMultiplierFor(options: { targetEpsilon: number; delta: number; sampleRate: number; epochs?: number;
  steps?: number; orders?: readonly number[]; conversion?: EpsilonConversion; tolerance?: number }): number {
  const op = 'noiseMultiplierFor';
  const { targetEpsilon, delta, sampleRate, tolerance = 0.001 } = options;
  if (typeof targetEpsilon !== 'number' || !(targetEpsilon > 0)) throw new SimdgradError(`${op}: targetEpsilon must be > 0 (got ${targetEpsilon})`);
  checkDelta(op, delta);
  checkRate(op, sampleRate);
  const steps = stepsFrom(op, sampleRate, options.epochs, options.steps);
  const eps = (sigma: number) => epsilonFor({ sampleRate, noiseMultiplier: sigma, steps, delta, orders: options.orders, conversion: options.conversion });
  let hi = 1;
  while (eps(hi) > targetEpsilon) {
    hi *= 2;
    if (hi > 1e6) throw new SimdgradError(`${op}: no noise multiplier below 1e6 reaches ε = ${targetEpsilon} (help: raise targetEpsilon or delta, or train fewer steps)`);
  }
  let lo = 0;
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    if (eps(mid) > targetEpsilon) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Steps from an explicit count or from epochs at a sampling rate. */
export function stepsFrom(op: string, sampleRate: number, epochs?: number, steps?: number): number {
  if (steps !== undefined) {
    if (!Number.isInteger(steps) || steps < 0) throw new SimdgradError(`${op}: steps must be an integer ≥ 0 (got ${steps})`);
    return steps;
  }
  if (epochs === undefined || !(epochs > 0)) throw new SimdgradError(`${op}: give steps, or epochs > 0 (got ${String(epochs)})`);
  if (!(sampleRate > 0)) throw new SimdgradError(`${op}: sampleRate must be > 0 to count steps from epochs`);
  return Math.ceil(epochs / sampleRate - 1e-9);
}

/**
 * Tracks the privacy spent by a training run: each `step(noiseMultiplier, sampleRate)` composes one
 * sampled Gaussian mechanism; `getEpsilon(delta)` converts the total. Steps with the same parameters
 * are grouped, so long runs cost nothing to account.
 *
 * @example
 * ```ts
 * const acc = new privacy.RdpAccountant();
 * acc.step(1.1, 256 / 60000, 14040);
 * acc.getEpsilon(1e-5); // ≈ 3
 * ```
 */
export class RdpAccountant {
  /** (noiseMultiplier, sampleRate, steps) runs, in order. */
  readonly history: { noiseMultiplier: number; sampleRate: number; steps: number }[] = [];

  constructor(readonly orders: readonly number[] = DEFAULT_ORDERS) {}

  /** Records `steps` (default 1) steps with this noise multiplier and sampling rate. */
  step(noiseMultiplier: number, sampleRate: number, steps = 1): void {
    checkNoise('RdpAccountant.step', noiseMultiplier);
    checkRate('RdpAccountant.step', sampleRate);
    const last = this.history[this.history.length - 1];
    if (last && last.noiseMultiplier === noiseMultiplier && last.sampleRate === sampleRate) last.steps += steps;
    else this.history.push({ noiseMultiplier, sampleRate, steps });
  }

  /** Total steps recorded. */
  get steps(): number {
    return this.history.reduce((a, h) => a + h.steps, 0);
  }

  /** The composed RDP at each order. */
  rdp(): number[] {
    const total = this.orders.map(() => 0);
    for (const h of this.history) {
      const r = computeRdp({ sampleRate: h.sampleRate, noiseMultiplier: h.noiseMultiplier, steps: h.steps, orders: this.orders });
      r.forEach((v, i) => { total[i]! += v; });
    }
    return total;
  }

  /** ε spent so far at this δ (0 before any step). */
  getEpsilon(delta: number, conversion: EpsilonConversion = 'improved'): number {
    return this.getPrivacySpent(delta, conversion).epsilon;
  }

  /** ε and the RDP order that gives it. */
  getPrivacySpent(delta: number, conversion: EpsilonConversion = 'improved'): { epsilon: number; order: number } {
    if (this.steps === 0) return { epsilon: 0, order: NaN };
    return rdpToEpsilon(this.orders, this.rdp(), delta, conversion);
  }
}
