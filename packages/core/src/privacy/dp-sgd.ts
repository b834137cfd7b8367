// DP-SGD: Poisson-sampled batches, per-sample clipping, Gaussian noise, and the accountant, wrapped
// around an ordinary model, optimizer and data loader.
// see: Abadi et al., "Deep Learning with Differential Privacy" (2016), Algorithm 1;
//      Opacus's make_private (the same three objects back, made private).
import { SimdgradError } from '../errors.js';
import { keep, scope } from '../memory.js';
import { DataLoader, TensorDataset, gatherRows } from '../data/dataset.js';
import { Module } from '../nn/module.js';
import { noGrad } from '../autograd/graph.js';
import { generator as globalGenerator, tensor } from '../ops/creation.js';
import type { Optimizer } from '../optim/optimizer.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';
import { RdpAccountant, noiseMultiplierFor, type EpsilonConversion } from './accountant.js';
import { PerSampleGradients, type LossReduction } from './per-sample.js';

/**
 * Batches by Poisson sampling: every sample joins each batch independently with probability
 * `sampleRate`, so batch sizes vary (mean sampleRate·N); an epoch is round(1/sampleRate) batches.
 * This is the sampling the RDP accountant analyses. A batch may be empty (shape [0, …]).
 *
 * @example
 * ```ts
 * const loader = new privacy.PoissonDataLoader(new data.TensorDataset(x, y), { sampleRate: 256 / 60000 });
 * for (const [xb, yb] of loader) { …; xb.dispose(); yb.dispose(); }
 * ```
 */
export class PoissonDataLoader<T extends Tensor[] = Tensor[]> implements Iterable<T> {
  readonly dataset: TensorDataset<T>;
  readonly sampleRate: number;
  /** Batches per epoch. */
  readonly length: number;
  private readonly generator: Generator;

  constructor(dataset: TensorDataset<T>, options: { sampleRate: number; steps?: number; generator?: Generator }) {
    if (!(dataset instanceof TensorDataset)) throw new SimdgradError('PoissonDataLoader: dataset must be a TensorDataset');
    const { sampleRate } = options;
    if (typeof sampleRate !== 'number' || !(sampleRate > 0 && sampleRate <= 1)) {
      throw new SimdgradError(`PoissonDataLoader: sampleRate must be in (0, 1] (got ${sampleRate})`);
    }
    this.dataset = dataset;
    this.sampleRate = sampleRate;
    this.length = options.steps ?? Math.max(1, Math.round(1 / sampleRate));
    this.generator = options.generator ?? globalGenerator;
  }

  /** The expected batch size, sampleRate·N. */
  get expectedBatchSize(): number {
    return this.sampleRate * this.dataset.length;
  }

  /** One Poisson sample of indices (geometric gaps between members: O(batch) draws, not O(N)). */
  sampleIndices(): Int32Array {
    const n = this.dataset.length, q = this.sampleRate;
    const out: number[] = [];
    if (q >= 1) {
      for (let i = 0; i < n; i++) out.push(i);
    } else {
      const logNot = Math.log1p(-q);
      let i = -1;
      for (;;) {
        // gap − 1 ~ Geometric(q): the number of samples skipped before the next member
        let u = this.generator.uniform();
        while (u === 0) u = this.generator.uniform();
        i += 1 + Math.floor(Math.log(u) / logNot);
        if (i >= n) break;
        out.push(i);
      }
    }
    return Int32Array.from(out);
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let b = 0; b < this.length; b++) {
      yield gatherRows(this.dataset, this.sampleIndices());
    }
  }
}

/** Options of {@link DPOptimizer}. */
export interface DPOptimizerOptions {
  /** σ: the noise std is σ × maxGradNorm. */
  noiseMultiplier: number;
  /** C: each sample's gradient (over all parameters) is clipped to this L2 norm. */
  maxGradNorm: number;
  /** The divisor of the noisy sum: the expected batch size q·N (not the drawn one, which is private). */
  expectedBatchSize: number;
  /** q, for the accountant. */
  sampleRate: number;
  /** Where the noise comes from (default: the global generator that `manualSeed` seeds). */
  generator?: Generator;
  accountant?: RdpAccountant;
}

/**
 * Wraps an optimizer: `step()` clips each sample's gradient to `maxGradNorm`, sums, adds
 * N(0, (σ·C)²) noise to every coordinate, divides by the expected batch size, writes the result into
 * each parameter's `.grad`, calls the wrapped optimizer, and records the step in the accountant.
 */
export class DPOptimizer {
  readonly noiseMultiplier: number;
  readonly maxGradNorm: number;
  readonly expectedBatchSize: number;
  readonly sampleRate: number;
  readonly accountant: RdpAccountant;
  /** The per-sample norms (before clipping) of the last step, for diagnostics. */
  lastNorms: Float32Array = new Float32Array(0);
  private readonly generator: Generator;

  constructor(readonly optimizer: Optimizer, readonly perSample: PerSampleGradients, options: DPOptimizerOptions) {
    const { noiseMultiplier, maxGradNorm, expectedBatchSize, sampleRate } = options;
    if (typeof noiseMultiplier !== 'number' || !(noiseMultiplier >= 0)) throw new SimdgradError(`DPOptimizer: noiseMultiplier must be ≥ 0 (got ${noiseMultiplier})`);
    if (typeof maxGradNorm !== 'number' || !(maxGradNorm > 0)) throw new SimdgradError(`DPOptimizer: maxGradNorm must be > 0 (got ${maxGradNorm})`);
    if (!(expectedBatchSize > 0)) throw new SimdgradError(`DPOptimizer: expectedBatchSize must be > 0 (got ${expectedBatchSize})`);
    this.noiseMultiplier = noiseMultiplier;
    this.maxGradNorm = maxGradNorm;
    this.expectedBatchSize = expectedBatchSize;
    this.sampleRate = sampleRate;
    this.generator = options.generator ?? globalGenerator;
    this.accountant = options.accountant ?? new RdpAccountant();
  }

  /** The wrapped optimizer's parameter groups (write `lr` here as usual). */
  get paramGroups(): Optimizer['paramGroups'] {
    return this.optimizer.paramGroups;
  }

  /** Drops gradients and the saved per-sample data. */
  zeroGrad(): void {
    this.optimizer.zeroGrad();
    this.perSample.clear();
  }

  /**
   * One private step. An empty batch (no backward ran) still takes a step of pure noise, as the
   * analysis assumes.
   */
  step(): void {
    const c = this.maxGradNorm, std = this.noiseMultiplier * c;
    const params = this.perSample.params;
    const clipped = this.perSample.ready ? this.perSample.clippedSum(c) : { grads: new Map<Tensor, Tensor>(), norms: new Float32Array(0) };
    this.lastNorms = clipped.norms;
    noGrad(() => scope(() => {
      for (const p of params) {
        const sum = clipped.grads.get(p);
        const noise = new Float32Array(p.size);
        if (std > 0) for (let i = 0; i < noise.length; i++) noise[i] = std * this.generator.normal();
        const noisy = tensor(noise).reshape(p.shape);
        const g = (sum === undefined ? noisy : sum.add(noisy)).div(this.expectedBatchSize);
        p.grad?.dispose();
        p.grad = keep(g);
        sum?.dispose();
      }
    }));
    this.optimizer.step();
    this.accountant.step(this.noiseMultiplier, this.sampleRate);
    this.perSample.clear();
  }
}

/** Options of {@link makePrivate}. */
export interface MakePrivateOptions<T extends Tensor[]> {
  model: Module;
  optimizer: Optimizer;
  /** Its dataset and batch size define N and q = batchSize / N; batches are then Poisson-sampled. */
  dataLoader: DataLoader<T>;
  /** σ; or give `targetEpsilon` (with `epochs`) and σ is found by {@link noiseMultiplierFor}. */
  noiseMultiplier?: number;
  maxGradNorm: number;
  targetEpsilon?: number;
  /** δ for `targetEpsilon` (default 1/N rounded down to a power of ten, at most 1e-5). */
  targetDelta?: number;
  /** Epochs planned, for `targetEpsilon`. */
  epochs?: number;
  /** Default true; false keeps the loader's own batches (then ε is only an estimate). */
  poissonSampling?: boolean;
  lossReduction?: LossReduction;
  generator?: Generator;
}

/** What {@link makePrivate} returns: use these in place of the originals. */
export interface PrivateTraining<T extends Tensor[]> {
  /** The same model, with per-sample gradient tracking on its layers. */
  model: Module;
  optimizer: DPOptimizer;
  dataLoader: PoissonDataLoader<T> | DataLoader<T>;
  accountant: RdpAccountant;
  perSample: PerSampleGradients;
  noiseMultiplier: number;
  maxGradNorm: number;
  sampleRate: number;
  /** ε spent so far at this δ. */
  getEpsilon(delta: number, conversion?: EpsilonConversion): number;
  /** Steps taken. */
  readonly steps: number;
  /** Restores the model's layers (the optimizer and loader stop being private). */
  detach(): void;
}

/**
 * Makes a training setup differentially private (DP-SGD): the model records per-sample gradients,
 * the loader draws Poisson-sampled batches with q = batchSize / N, and the optimizer clips, adds noise
 * and accounts for each step. The training loop stays the same.
 *
 * @example
 * ```ts
 * const priv = privacy.makePrivate({ model, optimizer, dataLoader, noiseMultiplier: 1.1, maxGradNorm: 1 });
 * for (const [xb, yb] of priv.dataLoader) {
 *   scope(() => {
 *     priv.optimizer.zeroGrad();
 *     nn.functional.crossEntropy(model.forward(xb), yb).backward();
 *     priv.optimizer.step();
 *   });
 *   xb.dispose(); yb.dispose();
 * }
 * priv.getEpsilon(1e-5);
 * ```
 */
export function makePrivate<T extends Tensor[]>(options: MakePrivateOptions<T>): PrivateTraining<T> {
  const op = 'makePrivate';
  const { model, optimizer, dataLoader, maxGradNorm } = options;
  if (!(model instanceof Module)) throw new SimdgradError(`${op}: model must be an nn.Module`);
  if (!(dataLoader instanceof DataLoader)) throw new SimdgradError(`${op}: dataLoader must be a data.DataLoader`);
  if (optimizer === null || typeof optimizer !== 'object' || typeof optimizer.step !== 'function' || !Array.isArray(optimizer.paramGroups)) {
    throw new SimdgradError(`${op}: optimizer must be an optim optimizer`);
  }
  if (typeof maxGradNorm !== 'number' || !(maxGradNorm > 0)) throw new SimdgradError(`${op}: maxGradNorm must be > 0 (got ${maxGradNorm})`);
  const n = dataLoader.dataset.length;
  const sampleRate = Math.min(1, dataLoader.batchSize / n);
  let sigma = options.noiseMultiplier;
  if (options.targetEpsilon !== undefined) {
    if (sigma !== undefined) throw new SimdgradError(`${op}: give noiseMultiplier or targetEpsilon, not both`);
    if (options.epochs === undefined) throw new SimdgradError(`${op}: targetEpsilon needs epochs (help: makePrivate({ …, targetEpsilon: 3, epochs: 20 }))`);
    const delta = options.targetDelta ?? defaultDelta(n);
    sigma = noiseMultiplierFor({ targetEpsilon: options.targetEpsilon, delta, sampleRate, steps: Math.round(1 / sampleRate) * options.epochs });
  }
  if (sigma === undefined || typeof sigma !== 'number' || !(sigma >= 0)) {
    throw new SimdgradError(`${op}: noiseMultiplier must be a number ≥ 0 (got ${String(sigma)}) (help: or give targetEpsilon and epochs)`);
  }
  const params = optimizer.paramGroups.flatMap((g) => g.params);
  const perSample = new PerSampleGradients(model, { params, lossReduction: options.lossReduction });
  const accountant = new RdpAccountant();
  const dp = new DPOptimizer(optimizer, perSample, {
    noiseMultiplier: sigma, maxGradNorm, expectedBatchSize: sampleRate * n, sampleRate, generator: options.generator, accountant,
  });
  const loader = options.poissonSampling === false ? dataLoader
    : new PoissonDataLoader(dataLoader.dataset, { sampleRate, generator: options.generator });
  return {
    model, optimizer: dp, dataLoader: loader, accountant, perSample, noiseMultiplier: sigma, maxGradNorm, sampleRate,
    getEpsilon: (delta, conversion) => accountant.getEpsilon(delta, conversion),
    get steps() { return accountant.steps; },
    detach: () => perSample.detach(),
  };
}

/** A δ below 1/N: the largest power of ten under it, capped at 1e-5. */
export function defaultDelta(n: number): number {
  return Math.min(1e-5, 10 ** Math.floor(Math.log10(1 / n) - 1e-9));
}
