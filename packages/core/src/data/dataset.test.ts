import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, SimdgradError, arange, data, init, liveTensorCount, manualSeed, scope, tensor, type Tensor } from '../index.js';

beforeAll(async () => {
  await init();
});

/** x [n, 2] with rows [i, 10 i], y [n] int32 = i, so every batch says which rows it holds. */
function toy(n: number): [Tensor, Tensor] {
  const x = tensor(Float32Array.from({ length: 2 * n }, (_, k) => (k % 2 === 0 ? k / 2 : 5 * k - 5)), { shape: [n, 2] });
  const y = tensor(Int32Array.from({ length: n }, (_, i) => i), { dtype: 'int32' });
  return [x, y];
}

function epoch(loader: data.DataLoader<[Tensor, Tensor]>): { shapes: number[][]; rows: number[] } {
  const shapes: number[][] = [];
  const rows: number[] = [];
  for (const [xb, yb] of loader) {
    shapes.push([...xb.shape], [...yb.shape]);
    const ys = Array.from(yb.toInt32Array());
    const xs = xb.toFloat32Array();
    ys.forEach((r, i) => {
      expect([xs[2 * i], xs[2 * i + 1]]).toEqual([r, 10 * r]); // x and y rows stay paired
    });
    expect(yb.dtype).toBe('int32');
    rows.push(...ys);
    xb.dispose();
    yb.dispose();
  }
  return { shapes, rows };
}

describe('TensorDataset', () => {
  it('has a length and gives views of one sample', () => {
    const [x, y] = toy(5);
    const ds = new data.TensorDataset(x, y);
    expect(ds.length).toBe(5);
    const [xi, yi] = ds.get(3);
    expect(xi.toArray()).toEqual([3, 30]);
    expect(yi.shape).toEqual([]);
    expect(yi.item()).toBe(3);
    expect(() => ds.get(5)).toThrow('TensorDataset.get: index 5 is out of range for a dataset of 5 samples');
  });

  it('rejects tensors with different first dims, 0-d tensors and no tensors', () => {
    expect(() => new data.TensorDataset(arange(4), arange(3))).toThrow('TensorDataset: every tensor needs the same size in dim 0 (got [4] and [3])');
    expect(() => new data.TensorDataset(tensor(1))).toThrow(SimdgradError);
    expect(() => new data.TensorDataset()).toThrow('needs at least one tensor');
  });
});

describe('DataLoader', () => {
  it('cuts batches in order, with a smaller last batch', () => {
    const [x, y] = toy(10);
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 4 });
    expect(loader.length).toBe(3);
    const { shapes, rows } = epoch(loader);
    expect(shapes).toEqual([[4, 2], [4], [4, 2], [4], [2, 2], [2]]);
    expect(rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('dropLast skips the short batch', () => {
    const [x, y] = toy(10);
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect(epoch(loader).rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const exact = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 5, dropLast: true });
    expect(exact.length).toBe(2);
  });

  it('full batch, mini-batch and SGD regimes', () => {
    const [x, y] = toy(7);
    const ds = new data.TensorDataset(x, y);
    const full = new data.DataLoader(ds, { batchSize: ds.length });
    expect(full.length).toBe(1);
    expect(epoch(full).shapes).toEqual([[7, 2], [7]]);
    const sgd = new data.DataLoader(ds);
    expect(sgd.batchSize).toBe(1);
    expect(sgd.length).toBe(7);
    expect(epoch(sgd).shapes.filter((_, i) => i % 2 === 0)).toEqual(Array(7).fill([1, 2]));
    expect(new data.DataLoader(ds, { batchSize: 3 }).length).toBe(3);
    expect(new data.DataLoader(ds, { batchSize: 100 }).length).toBe(1);
    expect(new data.DataLoader(ds, { batchSize: 100, dropLast: true }).length).toBe(0);
  });

  it('shuffles to a permutation, reproducibly from the seed, differently each epoch', () => {
    const [x, y] = toy(50);
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 8, shuffle: true });
    manualSeed(7);
    const a1 = epoch(loader).rows;
    const a2 = epoch(loader).rows;
    manualSeed(7);
    const b1 = epoch(loader).rows;
    const b2 = epoch(loader).rows;
    expect(b1).toEqual(a1);
    expect(b2).toEqual(a2);
    expect(a1).not.toEqual(a2);
    expect([...a1].sort((p, q) => p - q)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(a1).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    manualSeed(8);
    expect(epoch(loader).rows).not.toEqual(a1);
  });

  it('a given generator makes the order independent of the global one', () => {
    const [x, y] = toy(20);
    const ds = new data.TensorDataset(x, y);
    const rowsWith = (seed: number) => epoch(new data.DataLoader(ds, { batchSize: 6, shuffle: true, generator: new Generator(seed) })).rows;
    manualSeed(1);
    const a = rowsWith(3);
    manualSeed(2);
    expect(rowsWith(3)).toEqual(a);
    expect(data.permutation(20, new Generator(3))).toEqual(Int32Array.from(a));
  });

  it('frees every temporary: batches are the only new tensors', () => {
    const [x, y] = toy(30);
    const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 4, shuffle: true });
    const before = liveTensorCount();
    scope(() => {
      for (const [xb, yb] of loader) expect(xb.shape[0]).toBe(yb.shape[0]);
    });
    expect(liveTensorCount()).toBe(before);
    epoch(loader);
    expect(liveTensorCount()).toBe(before);
  });

  it('rejects bad options by name', () => {
    const ds = new data.TensorDataset(arange(4));
    expect(() => new data.DataLoader(ds, { batchSize: 0 })).toThrow('DataLoader: batchSize must be a positive integer (got 0)');
    expect(() => new data.DataLoader(ds, { batchSize: 1.5 })).toThrow('batchSize must be a positive integer (got 1.5)');
    expect(() => new data.DataLoader([arange(4)] as never)).toThrow('DataLoader: dataset must be a TensorDataset');
  });
});
