// The playground's 2-D data sets, generated from a seed (plain JS, no tensors): two classes, 0 and 1,
// with points inside [-1, 1]² before noise. Shapes follow the TensorFlow Playground and scikit-learn.
import { Generator } from '@simdgrad/core';

export type DatasetName = 'circles' | 'xor' | 'spirals' | 'moons';
export const DATASETS: DatasetName[] = ['circles', 'xor', 'spirals', 'moons'];

export interface Points {
  /** [n, 2] row-major. */
  xy: Float32Array;
  labels: Int32Array;
}

/** n points of `name` with Gaussian noise of std `noise` on each coordinate. */
export function makeDataset(name: DatasetName, n: number, noise: number, seed = 0): Points {
  const gen = new Generator(seed);
  const xy = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  const put = (i: number, x: number, y: number, label: number) => {
    xy[2 * i] = x + noise * gen.normal();
    xy[2 * i + 1] = y + noise * gen.normal();
    labels[i] = label;
  };
  for (let i = 0; i < n; i++) {
    const label = i % 2; // balanced, interleaved
    switch (name) {
      case 'circles': {
        // class 1 inside radius 0.5, class 0 in the ring 0.7…1
        const r = label === 1 ? 0.5 * Math.sqrt(gen.uniform()) : 0.7 + 0.3 * gen.uniform();
        const t = 2 * Math.PI * gen.uniform();
        put(i, r * Math.cos(t), r * Math.sin(t), label);
        break;
      }
      case 'xor': {
        // uniform in the square, kept a little off the axes; class 1 where x·y > 0
        const pad = 0.05;
        let x = pad + (1 - pad) * gen.uniform();
        let y = pad + (1 - pad) * gen.uniform();
        if (gen.uniform() < 0.5) x = -x;
        if ((label === 1) !== (x > 0)) y = -y;
        put(i, x, y, label);
        break;
      }
      case 'spirals': {
        // two interleaved arms of 1.75 turns; class 1 is class 0 rotated by π
        const k = Math.floor(i / 2), m = Math.ceil(n / 2);
        const r = 0.05 + 0.95 * (k / m);
        const t = 1.75 * 2 * Math.PI * (k / m) + (label === 1 ? Math.PI : 0);
        put(i, r * Math.sin(t), r * Math.cos(t), label);
        break;
      }
      case 'moons': {
        // scikit-learn's make_moons, centred and scaled into the square
        const t = Math.PI * gen.uniform();
        const [x, y] = label === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
        put(i, (x - 0.5) * 0.65, (y - 0.25) * 0.65 * 1.3, label);
        break;
      }
    }
  }
  return { xy, labels };
}

/** Splits points at random (a seeded shuffle) into train (`trainFraction` of them) and test sets. */
export function splitPoints(p: Points, trainFraction: number, seed = 0): { train: Points; test: Points } {
  const n = p.labels.length;
  const k = Math.round(n * trainFraction);
  const gen = new Generator(seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = gen.int(0, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const take = (idx: number[]): Points => ({
    xy: Float32Array.from(idx.flatMap((i) => [p.xy[2 * i]!, p.xy[2 * i + 1]!])),
    labels: Int32Array.from(idx, (i) => p.labels[i]!),
  });
  return { train: take(order.slice(0, k)), test: take(order.slice(k)) };
}
