// Datasets of tensors and the loader that cuts them into (shuffled) mini-batches.
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { generator as globalGenerator, tensor } from '../ops/creation.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';

/**
 * Tensors that share their first dim: sample `i` is row `i` of each (features, labels, weights…).
 * The dataset does not copy or own the tensors; dispose them yourself when done.
 *
 * @example
 * ```ts
 * const ds = new data.TensorDataset(x, y); // x [150, 4], y [150]
 * ds.length;            // 150
 * const [xi, yi] = ds.get(0); // views of row 0: xi [4], yi []
 * ```
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> {
  readonly tensors: T;

  constructor(...tensors: T) {
    if (tensors.length === 0) throw new SimdgradError('TensorDataset: needs at least one tensor');
    tensors.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw new SimdgradError(`TensorDataset: argument ${i} is not a Tensor (got ${t === null ? 'null' : typeof t})`);
      t.assertAlive('TensorDataset');
      if (t.ndim === 0) throw new SimdgradError(`TensorDataset: tensor ${i} is 0-d; every tensor needs a first dim of samples`);
    });
    const n = tensors[0]!.shape[0]!;
    for (const t of tensors) {
      if (t.shape[0] !== n) {
        throw new SimdgradError(`TensorDataset: every tensor needs the same size in dim 0 (got ${tensors.map((u) => fmtShape(u.shape)).join(' and ')})`);
      }
    }
    this.tensors = tensors;
  }

  /** Number of samples. */
  get length(): number {
    return this.tensors[0]!.shape[0]!;
  }

  /** Sample `i`: for each tensor a view of its row `i` (no copy; dispose the views when done). */
  get(i: number): T {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new SimdgradError(`TensorDataset.get: index ${i} is out of range for a dataset of ${this.length} samples`);
    }
    return this.tensors.map((t) => {
      const row = t.narrow(0, i, 1);
      const out = row.squeeze(0);
      if (out !== row) row.dispose();
      return out;
    }) as T;
  }
}

/** The rows `indices` of every tensor of `dataset`, copied into new tensors (no grad): one batch. */
export function gatherRows<T extends Tensor[]>(dataset: TensorDataset<T>, indices: Int32Array): T {
  const index = tensor(indices, { dtype: 'int32' });
  try {
    return noGrad(() => dataset.tensors.map((t) => t.indexSelect(0, index))) as T;
  } finally {
    index.dispose();
  }
}

export interface DataLoaderOptions {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Draw a new random order at the start of every epoch (default false). */
  shuffle?: boolean;
  /** Skip the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** The generator used for shuffling (default: the global one that `manualSeed` seeds). */
  generator?: Generator;
}

/**
 * A random permutation of 0…n-1 (Fisher–Yates: every order is equally likely; the same generator
 * state gives the same order).
 * see: Knuth, TAOCP vol. 2, §3.4.2, Algorithm P.
 */
export function permutation(n: number, gen: Generator = globalGenerator): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = gen.int(0, i + 1);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}

/**
 * Iterates over a `TensorDataset` in batches: each batch is one `indexSelect` (a wasm gather) per
 * tensor, so the rows are copied by the kernel, not by a JavaScript loop.
 *
 * The batch size picks the training regime:
 * - `batchSize: dataset.length` — full-batch gradient descent: one batch (the whole set) per epoch,
 *   an exact gradient, one step per epoch;
 * - `1 < batchSize < dataset.length` — mini-batch SGD (the usual choice, e.g. 32–256): a noisy but
 *   cheap gradient, many steps per epoch;
 * - `batchSize: 1` (the default) — pure stochastic gradient descent: one sample per step.
 *
 * With `shuffle: true` each epoch (each `for…of`) draws a new order with Fisher–Yates from the
 * global generator (or `generator`), so `manualSeed(s)` makes the order reproducible.
 *
 * Batches are new tensors owned by the caller: dispose them after the step, or wrap the epoch in
 * `scope()`. Batches carry no autograd history.
 *
 * @example
 * ```ts
 * manualSeed(0);
 * const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 32, shuffle: true });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   for (const [xb, yb] of loader) {
 *     scope(() => { trainStep(xb, yb); });
 *     xb.dispose(); yb.dispose();
 *   }
 * }
 * loader.length; // batches per epoch: ceil(N / 32), or floor with dropLast
 * ```
 */
export class DataLoader<T extends Tensor[] = Tensor[]> implements Iterable<T> {
  readonly dataset: TensorDataset<T>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  private readonly generator: Generator | undefined;

  constructor(dataset: TensorDataset<T>, options: DataLoaderOptions = {}) {
    if (!(dataset instanceof TensorDataset)) {
      throw new SimdgradError(`DataLoader: dataset must be a TensorDataset (got ${dataset === null ? 'null' : typeof dataset}) (help: new data.TensorDataset(x, y))`);
    }
    if (options === null || typeof options !== 'object') throw new SimdgradError(`DataLoader: options must be an object (got ${String(options)})`);
    const { batchSize = 1, shuffle = false, dropLast = false, generator } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new SimdgradError(`DataLoader: batchSize must be a positive integer (got ${String(batchSize)})`);
    if (typeof shuffle !== 'boolean') throw new SimdgradError(`DataLoader: shuffle must be a boolean (got ${String(shuffle)})`);
    if (typeof dropLast !== 'boolean') throw new SimdgradError(`DataLoader: dropLast must be a boolean (got ${String(dropLast)})`);
    if (generator !== undefined && !(generator instanceof Generator)) throw new SimdgradError('DataLoader: generator must be a simdgrad Generator');
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = generator;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<T> {
    const n = this.dataset.length;
    const order = this.shuffle ? permutation(n, this.generator ?? globalGenerator) : null;
    const batches = this.length;
    for (let b = 0; b < batches; b++) {
      for (const t of this.dataset.tensors) t.assertAlive('DataLoader');
      const start = b * this.batchSize;
      const end = Math.min(start + this.batchSize, n);
      const idx = new Int32Array(end - start);
      for (let i = 0; i < idx.length; i++) idx[i] = order === null ? start + i : order[start + i]!;
      yield gatherRows(this.dataset, idx);
    }
  }
}
