import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, data, init, liveTensorCount, manualSeed, tensor } from '../index.js';

beforeAll(async () => {
  await init();
});

describe('standardize and normalize', () => {
  it('gives each column mean 0 and std 1, and reuses the stats on test data', () => {
    const x = tensor([[1, 10, 5], [3, 20, 5], [5, 60, 5]]);
    const before = liveTensorCount();
    const { x: xs, mean, std } = data.standardize(x);
    expect(liveTensorCount()).toBe(before + 3);
    expect(Array.from(mean.toFloat32Array())).toEqual([3, 30, 5]);
    expect(std.toFloat32Array()[0]).toBeCloseTo(Math.sqrt(8 / 3), 5);
    expect(std.toFloat32Array()[2]).toBe(1); // constant column: std 0 → 1
    const m = xs.mean(0).toFloat32Array();
    const s = xs.var(0, false, false).toFloat32Array();
    for (const v of m) expect(v).toBeCloseTo(0, 5);
    expect(s[0]).toBeCloseTo(1, 5);
    expect(s[1]).toBeCloseTo(1, 5);
    expect(s[2]).toBe(0);
    const test = tensor([[3, 30, 7]]);
    const { x: ts } = data.standardize(test, { mean, std });
    expect(Array.from(ts.toFloat32Array())).toEqual([0, 0, 2]);
    expect(data.normalize(test, { mean, std }).toArray()).toEqual([[0, 0, 2]]);
  });

  it('rejects int32 input', () => {
    expect(() => data.standardize(tensor([1, 2], { dtype: 'int32' }))).toThrow('standardize: x must be float32 (got int32)');
  });
});

describe('trainTestSplit', () => {
  it('splits indices into a seeded, disjoint cover', () => {
    const a = data.trainTestSplit(10, { testFraction: 0.3, seed: 1 });
    expect(a.testIndex.length).toBe(3);
    expect(a.trainIndex.length).toBe(7);
    expect([...a.trainIndex, ...a.testIndex].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    manualSeed(99); // the seed option ignores the global generator
    expect(data.trainTestSplit(10, { testFraction: 0.3, seed: 1 })).toEqual(a);
    expect(data.trainTestSplit(10, { testFraction: 0.3, seed: 2 })).not.toEqual(a);
    expect(data.trainTestSplit(150, { testFraction: 0.1 }).testIndex.length).toBe(15);
    expect(data.trainTestSplit(10).testIndex.length).toBe(3); // default 0.25, rounded up
    expect(data.trainTestSplit(5, { shuffle: false, testFraction: 0.4 })).toEqual({ trainIndex: Int32Array.of(0, 1, 2), testIndex: Int32Array.of(3, 4) });
    expect(data.trainTestSplit(6, { generator: new Generator(5) })).toEqual(data.trainTestSplit(6, { seed: 5 }));
  });

  it('splits tensors with the same rows in each', () => {
    const x = tensor(Float32Array.from({ length: 20 }, (_, i) => i), { shape: [10, 2] });
    const y = tensor(Int32Array.from({ length: 10 }, (_, i) => i), { dtype: 'int32' });
    const { train: [xTr, yTr], test: [xTe, yTe] } = data.trainTestSplit([x, y], { testFraction: 0.2, seed: 0 });
    const { trainIndex, testIndex } = data.trainTestSplit(10, { testFraction: 0.2, seed: 0 });
    expect(xTr!.shape).toEqual([8, 2]);
    expect(xTe!.shape).toEqual([2, 2]);
    expect(Array.from(yTr!.toInt32Array())).toEqual(Array.from(trainIndex));
    expect(Array.from(yTe!.toInt32Array())).toEqual(Array.from(testIndex));
    expect(Array.from(xTe!.toFloat32Array())).toEqual(Array.from(testIndex).flatMap((i) => [2 * i, 2 * i + 1]));
  });

  it('rejects bad arguments', () => {
    expect(() => data.trainTestSplit(10, { testFraction: 1.5 })).toThrow('trainTestSplit: testFraction must be in [0, 1] (got 1.5)');
    expect(() => data.trainTestSplit([tensor([1, 2]), tensor([1])])).toThrow('trainTestSplit: every tensor needs the same size in dim 0 (got [2] and [1])');
    expect(() => data.trainTestSplit(-1)).toThrow('n must be a non-negative integer');
  });
});

describe('trainTestSplit with stratify', () => {
  it('splits every class in proportion and stays reproducible', async () => {
    const { init, tensor, data } = await import('../index.js');
    await init();
    const labels = tensor(Int32Array.from({ length: 30 }, (_, i) => (i < 20 ? 0 : i < 25 ? 1 : 2)), { dtype: 'int32' });
    const a = data.trainTestSplit(30, { testFraction: 0.2, seed: 3, stratify: labels });
    const b = data.trainTestSplit(30, { testFraction: 0.2, seed: 3, stratify: labels });
    expect(Array.from(a.testIndex)).toEqual(Array.from(b.testIndex));
    const counts = [0, 0, 0];
    const lab = labels.toInt32Array();
    for (const i of a.testIndex) counts[lab[i]!]!++;
    expect(counts).toEqual([4, 1, 1]);
    expect(new Set([...a.trainIndex, ...a.testIndex]).size).toBe(30);
    expect(() => data.trainTestSplit(30, { stratify: tensor([1, 2]) })).toThrow(/stratify must be int32 labels \[30\]/);
  });
});
