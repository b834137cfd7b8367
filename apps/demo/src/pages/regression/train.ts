// Linear regression on 100 noisy points of y = 2x + 1, with the engine's Linear, MSE loss and SGD.
// The same code runs in the page's worker and in the Node tests.
import { data, manualSeed, nn, noGrad, optim, rand, randn, scope, tensor, type Tensor } from '@simdgrad/core';

export type Regime = 'full-batch' | 'mini-batch' | 'sgd';

/** Batch size and a learning rate that works, per regime. */
export const REGIMES: Record<Regime, { batchSize: number; lr: number; label: string }> = {
  'full-batch': { batchSize: 100, lr: 0.5, label: 'full-batch (100 per step)' },
  'mini-batch': { batchSize: 10, lr: 0.1, label: 'mini-batch (10 per step)' },
  sgd: { batchSize: 1, lr: 0.01, label: 'stochastic (1 per step)' },
};

export interface EpochStats { epoch: number; loss: number; w: number; b: number }

/** n points, x uniform in [0, 1), y = 2x + 1 + N(0, 0.33²); the same seed gives the same points. */
export function makeLineData(seed = 0, n = 100): { x: Float32Array; y: Float32Array } {
  manualSeed(seed);
  return scope(() => {
    const x = rand([n, 1]);
    const y = x.mul(2).add(1).add(randn([n, 1]).mul(0.33));
    return { x: x.toFloat32Array(), y: y.toFloat32Array() };
  });
}

export class RegressionTrainer {
  private readonly x: Tensor;
  private readonly y: Tensor;
  private readonly model: nn.Linear;
  private readonly optimizer: optim.SGD;
  private readonly loader: data.DataLoader;
  private epochs = 0;

  constructor(xs: Float32Array, ys: Float32Array, options: { regime: Regime; lr: number; seed?: number }) {
    const n = xs.length;
    manualSeed(options.seed ?? 1);
    this.x = tensor(xs, { shape: [n, 1] });
    this.y = tensor(ys, { shape: [n, 1] });
    this.model = new nn.Linear(1, 1);
    this.optimizer = new optim.SGD(this.model.parameters(), { lr: options.lr });
    this.loader = new data.DataLoader(new data.TensorDataset(this.x, this.y), { batchSize: REGIMES[options.regime].batchSize, shuffle: true });
  }

  /** Changes the learning rate from the next step on. */
  setLr(lr: number): void {
    for (const group of this.optimizer.paramGroups) group.lr = lr;
  }

  /** The current w, b and the MSE over all points. */
  stats(): EpochStats {
    const loss = scope(() => noGrad(() => nn.functional.mseLoss(this.model.forward(this.x), this.y).item()));
    return { epoch: this.epochs, loss, w: this.model.weight.item(), b: this.model.bias!.item() };
  }

  /** One pass over the data in the regime's batches; returns the stats after it. */
  epoch(): EpochStats {
    for (const [xb, yb] of this.loader) {
      scope(() => {
        this.optimizer.zeroGrad();
        nn.functional.mseLoss(this.model.forward(xb!), yb!).backward();
        this.optimizer.step();
      });
      xb!.dispose();
      yb!.dispose();
    }
    this.epochs++;
    return this.stats();
  }

  dispose(): void {
    this.model.dispose();
    this.x.dispose();
    this.y.dispose();
  }
}
