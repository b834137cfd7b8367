import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { breastCancer, diabetes, digits, iris, wine, type Dataset } from '../datasets.js';
import { SimdgradError, data, init } from '../index.js';
import { fashionMnist } from '../node.js';

beforeAll(async () => {
  await init();
});

const uci = (name: string) => {
  const bytes = readFileSync(new URL(`../../../../data/uci/${name}`, import.meta.url));
  return (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
};

/** Index of the first difference of two equally long arrays, or -1 (vitest's toEqual is slow on 100k elements). */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number> | null): number {
  if (b === null || a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function check(ds: Dataset, n: number, f: number, classes: number | null): void {
  expect(ds.x.shape).toEqual([n, f]);
  expect(ds.x.dtype).toBe('float32');
  expect(ds.y.shape).toEqual([n]);
  expect(ds.featureNames).toHaveLength(f);
  if (classes === null) {
    expect(ds.y.dtype).toBe('float32');
    expect(ds.classNames).toBeUndefined();
  } else {
    expect(ds.y.dtype).toBe('int32');
    expect(ds.classNames).toHaveLength(classes);
    const counts = new Array<number>(classes).fill(0);
    for (const v of ds.y.toInt32Array()) counts[v]!++;
    expect(counts.every((c) => c > 0)).toBe(true); // labels are 0..classes-1, each present
    expect(counts.reduce((a, b) => a + b)).toBe(n);
  }
  expect(ds.x.toFloat32Array().every(Number.isFinite)).toBe(true);
}

describe('bundled data sets', () => {
  it('shapes, dtypes and label ranges', () => {
    check(digits(), 1797, 64, 10);
    check(iris(), 150, 4, 3);
    check(wine(), 178, 13, 3);
    check(breastCancer(), 569, 30, 2);
    check(diabetes(), 442, 10, null);
  });

  it('decode to exactly the source files', () => {
    const bySource: [Dataset, string][] = [[iris(), 'iris.csv'], [wine(), 'wine_data.csv'], [breastCancer(), 'breast_cancer.csv']];
    for (const [ds, file] of bySource) {
      // scikit-learn's first line is "rows,cols,class names…", not a header of the columns
      const csv = data.parseCsv(uci(file).split('\n').slice(1).join('\n'), { header: false, labelColumn: -1 });
      expect(firstDifference(ds.x.toFloat32Array(), csv.features)).toBe(-1);
      expect(firstDifference(Float32Array.from(ds.y.toInt32Array()), csv.labels)).toBe(-1);
    }
    const dig = data.parseCsv(uci('digits.csv.gz'), { labelColumn: -1 });
    expect(firstDifference(digits().x.toFloat32Array(), dig.features)).toBe(-1);
    expect(firstDifference(Float32Array.from(digits().y.toInt32Array()), dig.labels)).toBe(-1);
    expect(firstDifference(diabetes().x.toFloat32Array(), data.parseCsv(uci('diabetes_data_raw.csv.gz')).features)).toBe(-1);
    expect(firstDifference(diabetes().y.toFloat32Array(), data.parseCsv(uci('diabetes_target.csv.gz')).features)).toBe(-1);
  });

  it('names', () => {
    const d = iris();
    expect(d.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(d.featureNames[3]).toBe('petal width (cm)');
    expect(breastCancer().classNames).toEqual(['malignant', 'benign']);
    expect(breastCancer().featureNames[20]).toBe('worst radius');
    expect(digits().featureNames[9]).toBe('pixel_1_1');
    expect(Array.from(digits().x.max().toFloat32Array())).toEqual([16]);
  });
});

describe('fashionMnist (Node entry)', () => {
  it('reads the repository test split', async () => {
    const { x, y, classNames, dir } = await fashionMnist({ split: 'test' });
    expect(dir).toMatch(/fashion-mnist$/);
    expect(x.shape).toEqual([10000, 784]);
    expect(y.shape).toEqual([10000]);
    expect(y.dtype).toBe('int32');
    expect(Array.from(y.toInt32Array().subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    expect(x.mean().item() * 255).toBeCloseTo(73.15, 1);
    expect(classNames[9]).toBe('Ankle boot');
    x.dispose();
    y.dispose();
  });

  it('reads raw or gzipped files from a given dir, with a limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fmnist-'));
    const images = new Uint8Array(16 + 3 * 784);
    images.set([0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28]);
    images[16 + 784] = 255; // first pixel of image 1
    writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(images));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 4, 7, 9));
    const { x, y } = await fashionMnist({ dir, limit: 2 });
    expect(x.shape).toEqual([2, 784]);
    expect(x.toFloat32Array()[784]).toBe(1);
    expect(Array.from(y.toInt32Array())).toEqual([4, 7]);
    rmSync(dir, { recursive: true });
  });

  it('says how to get a missing split', async () => {
    const err = await fashionMnist({ dir: '/nonexistent/fmnist' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimdgradError);
    expect((err as Error).message).toContain('fashionMnist: the train split was not found');
    expect((err as Error).message).toContain('apt-get install -y dataset-fashion-mnist');
  });
});
