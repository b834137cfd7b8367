// Preprocessing: per-feature standardisation and seeded train/test splits.
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { generator as globalGenerator, tensor } from '../ops/creation.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';
import { permutation } from './dataset.js';

/** Per-feature statistics (shape [F] for x [N, F]) from `standardize`, to reuse on other data. */
export interface Standardization {
  mean: Tensor;
  std: Tensor;
}

function checkFloat(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new SimdgradError(`${op}: x must be a Tensor (got ${x === null ? 'null' : typeof x})`);
  x.assertAlive(op);
  if (x.dtype !== 'float32') throw new SimdgradError(`${op}: x must be float32 (got ${x.dtype}) (help: x.float())`);
  if (x.ndim === 0) throw new SimdgradError(`${op}: x must have a first dim of samples (got a 0-d tensor)`);
  return x;
}

/**
 * `(x - mean) / std`, broadcasting per-feature statistics over the rows (torchvision's Normalize).
 *
 * @example
 * ```ts
 * const xTest = data.normalize(rawTest, stats); // stats from data.standardize(rawTrain)
 * ```
 */
export function normalize(x: Tensor, stats: Standardization): Tensor {
  checkFloat('normalize', x);
  if (stats === null || typeof stats !== 'object' || !(stats.mean instanceof Tensor) || !(stats.std instanceof Tensor)) {
    throw new SimdgradError('normalize: stats must be { mean, std } tensors (help: the stats returned by data.standardize)');
  }
  return noGrad(() => scope(() => x.sub(stats.mean).div(stats.std)));
}

/**
 * Scales each feature (column of x [N, F], or x [N]) to mean 0 and standard deviation 1 and returns
 * the statistics, so that test data can be scaled with the training set's: pass them back as
 * `stats` (or use `normalize`). The std is the population one (divide by N), as scikit-learn's
 * StandardScaler. The returned tensors are new (except `stats` when given) and carry no autograd history.
 *
 * NOTE: a constant feature has std 0; it gets std 1, so it becomes 0 instead of NaN.
 *
 * @example
 * ```ts
 * const { x: xTrain, mean, std } = data.standardize(rawTrain);
 * const { x: xTest } = data.standardize(rawTest, { mean, std });
 * ```
 */
export function standardize(x: Tensor, stats?: Standardization): Standardization & { x: Tensor } {
  checkFloat('standardize', x);
  if (stats !== undefined) return { x: normalize(x, stats), mean: stats.mean, std: stats.std };
  if (x.shape[0] === 0) throw new SimdgradError(`standardize: x has no rows (shape ${fmtShape(x.shape)})`);
  return noGrad(() => scope(() => {
    const mean = x.mean(0);
    const sd = x.var(0, false, false).sqrt();
    const std = sd.add(sd.eq(0));
    return { x: x.sub(mean).div(std), mean, std };
  }));
}

export interface TrainTestSplitOptions {
  /** Fraction of samples in the test set, in [0, 1] (default 0.25); the test set gets ceil(n × testFraction). */
  testFraction?: number;
  /** Seed of a private generator, so the split does not depend on (or advance) the global one. */
  seed?: number;
  /** The generator to draw from when no seed is given (default: the global one). */
  generator?: Generator;
  /** Shuffle before splitting (default true); false keeps the order: train first, then test. */
  shuffle?: boolean;
  /**
   * Class labels (int32 [N]) to split each class in the same proportion (scikit-learn's `stratify`):
   * every class gets ceil(n_c × testFraction) test samples, so small test sets stay balanced.
   */
  stratify?: Tensor;
}

/**
 * Splits n samples, or tensors sharing their first dim, into a train and a test set, at random
 * (seeded) unless `shuffle: false`. With a number it returns the row indices; with tensors it returns
 * new tensors (one `indexSelect` each) that the caller disposes.
 *
 * @example
 * ```ts
 * const { train: [xTrain, yTrain], test: [xTest, yTest] } = data.trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
 * const { trainIndex, testIndex } = data.trainTestSplit(150, { seed: 0 });
 * ```
 */
export function trainTestSplit(n: number, options?: TrainTestSplitOptions): { trainIndex: Int32Array; testIndex: Int32Array };
export function trainTestSplit<T extends Tensor[]>(tensors: readonly [...T], options?: TrainTestSplitOptions): { train: T; test: T };
export function trainTestSplit(
  what: number | readonly Tensor[],
  options: TrainTestSplitOptions = {},
): { trainIndex: Int32Array; testIndex: Int32Array } | { train: Tensor[]; test: Tensor[] } {
  const { testFraction = 0.25, seed, generator, shuffle = true, stratify } = options;
  if (typeof testFraction !== 'number' || !(testFraction >= 0 && testFraction <= 1)) {
    throw new SimdgradError(`trainTestSplit: testFraction must be in [0, 1] (got ${String(testFraction)})`);
  }
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) throw new SimdgradError(`trainTestSplit: seed must be a finite number (got ${String(seed)})`);
  if (generator !== undefined && !(generator instanceof Generator)) throw new SimdgradError('trainTestSplit: generator must be a simdgrad Generator');
  let n: number;
  if (typeof what === 'number') {
    if (!Number.isInteger(what) || what < 0) throw new SimdgradError(`trainTestSplit: n must be a non-negative integer (got ${what})`);
    n = what;
  } else if (Array.isArray(what) && what.length > 0 && what.every((t) => t instanceof Tensor)) {
    what.forEach((t) => t.assertAlive('trainTestSplit'));
    if (what.some((t) => t.ndim === 0 || t.shape[0] !== what[0]!.shape[0])) {
      throw new SimdgradError(`trainTestSplit: every tensor needs the same size in dim 0 (got ${what.map((t) => fmtShape(t.shape)).join(' and ')})`);
    }
    n = what[0]!.shape[0]!;
  } else {
    throw new SimdgradError('trainTestSplit: expected a number of samples or a non-empty array of tensors (help: trainTestSplit([x, y], { seed: 0 }))');
  }

  const gen = seed !== undefined ? new Generator(Math.trunc(seed)) : generator ?? globalGenerator;
  let trainIndex: Int32Array;
  let testIndex: Int32Array;
  if (stratify !== undefined) {
    if (!(stratify instanceof Tensor) || stratify.dtype !== 'int32' || stratify.ndim !== 1 || stratify.shape[0] !== n) {
      throw new SimdgradError(`trainTestSplit: stratify must be int32 labels [${n}] (got ${stratify instanceof Tensor ? `${stratify.dtype} ${fmtShape(stratify.shape)}` : typeof stratify})`);
    }
    const labels = stratify.toInt32Array();
    const order = shuffle ? permutation(n, gen) : Int32Array.from({ length: n }, (_, i) => i);
    const byClass = new Map<number, number[]>();
    for (const i of order) {
      const list = byClass.get(labels[i]!) ?? [];
      list.push(i);
      byClass.set(labels[i]!, list);
    }
    const train: number[] = [], test: number[] = [];
    for (const key of [...byClass.keys()].sort((a, b) => a - b)) {
      const members = byClass.get(key)!;
      const k = Math.ceil(members.length * testFraction - 1e-9);
      test.push(...members.slice(0, k));
      train.push(...members.slice(k));
    }
    // keep the shuffled order across classes (not grouped by class)
    const rank = new Int32Array(n);
    order.forEach((v, i) => { rank[v] = i; });
    trainIndex = Int32Array.from(train.sort((a, b) => rank[a]! - rank[b]!));
    testIndex = Int32Array.from(test.sort((a, b) => rank[a]! - rank[b]!));
  } else {
    const nTest = Math.ceil(n * testFraction - 1e-9);
    const order = shuffle ? permutation(n, gen) : Int32Array.from({ length: n }, (_, i) => i);
    if (shuffle) {
      testIndex = order.slice(0, nTest);
      trainIndex = order.slice(nTest);
    } else {
      trainIndex = order.slice(0, n - nTest);
      testIndex = order.slice(n - nTest);
    }
  }
  if (typeof what === 'number') return { trainIndex, testIndex };

  return noGrad(() => scope(() => {
    const trainIdx = tensor(trainIndex, { dtype: 'int32' });
    const testIdx = tensor(testIndex, { dtype: 'int32' });
    return { train: what.map((t) => t.indexSelect(0, trainIdx)), test: what.map((t) => t.indexSelect(0, testIdx)) };
  }));
}
