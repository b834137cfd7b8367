// Models that really learn: small, fast versions of the proofs in examples/ (fixed seeds).
import { beforeAll, describe, expect, it } from 'vitest';
import { breastCancer, digits, iris } from './datasets.js';
import { data, init, manualSeed, nn, noGrad, optim, rand, randn, scope, type Tensor } from './index.js';
import { trainStep } from './test-utils.js';

beforeAll(async () => {
  await init();
});

function accuracy(model: nn.Module, x: Tensor, y: Tensor): number {
  model.eval();
  const acc = scope(() => noGrad(() => model.forward(x).argmax(1).float().eq(y.float()).mean().item()));
  model.train();
  return acc;
}

function fit(model: nn.Module, opt: optim.Optimizer, x: Tensor, y: Tensor, epochs: number, batchSize: number,
  loss: (out: Tensor, target: Tensor) => Tensor = (o, t) => nn.functional.crossEntropy(o, t)): number[] {
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize, shuffle: true });
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let sum = 0, n = 0;
    for (const [xb, yb] of loader) {
      sum += trainStep(opt, () => loss(model.forward(xb!), yb!)) * xb!.shape[0]!;
      n += xb!.shape[0]!;
      xb!.dispose();
      yb!.dispose();
    }
    losses.push(sum / n);
  }
  return losses;
}

describe('y = 2x + 1 by gradient descent', () => {
  manualSeed(0);
  let x: Tensor, y: Tensor;
  beforeAll(() => {
    manualSeed(0);
    x = rand([100, 1]);
    y = x.mul(2).add(1).add(randn([100, 1]).mul(0.33));
  });
  it.each([
    ['full-batch', 100, 0.5, 300],
    ['mini-batch', 10, 0.1, 100],
    ['stochastic', 1, 0.01, 40],
  ] as const)('%s recovers w ≈ 2 and b ≈ 1', (_name, batchSize, lr, epochs) => {
    manualSeed(1);
    const model = new nn.Linear(1, 1);
    const losses = fit(model, new optim.SGD(model.parameters(), { lr }), x, y, epochs, batchSize, (o, t) => nn.functional.mseLoss(o, t));
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]!);
    expect(Math.abs(model.weight.item() - 2)).toBeLessThan(0.15);
    expect(Math.abs(model.bias!.item() - 1)).toBeLessThan(0.15);
  });
});

describe('classifiers on the bundled data sets', () => {
  it('UCI digits MLP passes 95% on a held-out split (subset of epochs)', () => {
    manualSeed(0);
    const { x, y } = digits();
    const { train: [xTr, yTr], test: [xTe, yTe] } = data.trainTestSplit([x, y], { testFraction: 0.2, seed: 0, stratify: y });
    const stats = data.standardize(xTr!);
    const model = new nn.Sequential(new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 10));
    const losses = fit(model, new optim.Adam(model.parameters(), { lr: 3e-3 }), stats.x, yTr!, 8, 32);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 5);
    expect(accuracy(model, data.normalize(xTe!, stats), yTe!)).toBeGreaterThan(0.95);
  });

  it('iris (logistic regression) and breast cancer pass 90%', () => {
    for (const [load, epochs, lr] of [[iris, 200, 0.1], [breastCancer, 30, 0.01]] as const) {
      manualSeed(0);
      const { x, y, classNames } = load();
      const { train: [xTr, yTr], test: [xTe, yTe] } = data.trainTestSplit([x, y], { testFraction: 0.2, seed: 0, stratify: y });
      const stats = data.standardize(xTr!);
      const model = new nn.Linear(x.shape[1]!, classNames!.length);
      fit(model, new optim.Adam(model.parameters(), { lr }), stats.x, yTr!, epochs, 16);
      expect(accuracy(model, data.normalize(xTe!, stats), yTe!)).toBeGreaterThan(0.9);
    }
  });

  it('a small CNN with batch norm learns the 8×8 digits', () => {
    manualSeed(0);
    const { x, y } = digits();
    const images = x.div(16).reshape([-1, 1, 8, 8]);
    const { train: [xTr, yTr], test: [xTe, yTe] } = data.trainTestSplit([images, y], { testFraction: 0.2, seed: 0, stratify: y });
    const model = new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(8 * 4 * 4, 10));
    const losses = fit(model, new optim.Adam(model.parameters(), { lr: 1e-2 }), xTr!, yTr!, 4, 64);
    expect(losses[3]!).toBeLessThan(losses[0]! / 2);
    expect(accuracy(model, xTe!, yTe!)).toBeGreaterThan(0.9);
  });
});
