// The playground's model and training loop: an MLP with a chosen depth, width and activation,
// trained with cross-entropy on two classes. The same code runs in the worker and in Node tests.
import { data, manualSeed, nn, noGrad, optim, scope, tensor, type Tensor } from '@simdgrad/core';
import type { Points } from './datasets.js';

export type Activation = 'sigmoid' | 'tanh' | 'relu' | 'gelu';
export type OptimizerName = 'sgd' | 'adam';

export interface ModelConfig {
  hiddenLayers: number;
  width: number;
  activation: Activation;
  optimizer: OptimizerName;
  lr: number;
  batchSize: number;
  seed?: number;
}

export interface PlaygroundStats {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  trainAccuracy: number;
  testAccuracy: number;
}

function activationModule(a: Activation): nn.Module {
  switch (a) {
    case 'sigmoid': return new nn.Sigmoid();
    case 'tanh': return new nn.Tanh();
    case 'relu': return new nn.ReLU();
    case 'gelu': return new nn.GELU();
  }
}

/** 2 → (width, activation) × hiddenLayers → 2 logits. */
export function buildModel(hiddenLayers: number, width: number, activation: Activation): nn.Sequential {
  const layers: nn.Module[] = [];
  let inputs = 2;
  for (let i = 0; i < hiddenLayers; i++) {
    layers.push(new nn.Linear(inputs, width), activationModule(activation));
    inputs = width;
  }
  layers.push(new nn.Linear(inputs, 2));
  return new nn.Sequential(...layers);
}

function toTensors(p: Points): [Tensor, Tensor] {
  const n = p.labels.length;
  return [tensor(p.xy, { shape: [n, 2] }), tensor(p.labels, { shape: [n], dtype: 'int32' })];
}

export class PlaygroundTrainer {
  private readonly model: nn.Sequential;
  private readonly optimizer: optim.Optimizer;
  private readonly train: [Tensor, Tensor];
  private readonly test: [Tensor, Tensor];
  private readonly loader: data.DataLoader;
  private gridInput: Tensor | null = null;
  private gridSize = 0;
  private epochs = 0;

  constructor(train: Points, test: Points, config: ModelConfig) {
    manualSeed(config.seed ?? 0);
    this.model = buildModel(config.hiddenLayers, config.width, config.activation);
    this.optimizer = config.optimizer === 'adam'
      ? new optim.Adam(this.model.parameters(), { lr: config.lr })
      : new optim.SGD(this.model.parameters(), { lr: config.lr });
    this.train = toTensors(train);
    this.test = toTensors(test);
    this.loader = new data.DataLoader(new data.TensorDataset(...this.train), { batchSize: config.batchSize, shuffle: true });
  }

  setLr(lr: number): void {
    for (const group of this.optimizer.paramGroups) group.lr = lr;
  }

  private evaluate([x, y]: [Tensor, Tensor]): { loss: number; accuracy: number } {
    return scope(() => noGrad(() => {
      const logits = this.model.forward(x);
      return {
        loss: nn.functional.crossEntropy(logits, y).item(),
        accuracy: logits.argmax(1).float().eq(y.float()).float().mean().item(),
      };
    }));
  }

  stats(): PlaygroundStats {
    const tr = this.evaluate(this.train), te = this.evaluate(this.test);
    return { epoch: this.epochs, trainLoss: tr.loss, testLoss: te.loss, trainAccuracy: tr.accuracy, testAccuracy: te.accuracy };
  }

  /** One pass over the training points in mini-batches. */
  epoch(): void {
    this.model.train();
    for (const [xb, yb] of this.loader) {
      scope(() => {
        this.optimizer.zeroGrad();
        nn.functional.crossEntropy(this.model.forward(xb!), yb!).backward();
        this.optimizer.step();
      });
      xb!.dispose();
      yb!.dispose();
    }
    this.epochs++;
  }

  /**
   * P(class 1) on a size×size grid over [-extent, extent]², row 0 at the top (y = +extent):
   * what the heat map draws.
   */
  grid(size: number, extentV: number): Float32Array {
    if (this.gridInput === null || this.gridSize !== size) {
      this.gridInput?.dispose();
      const xy = new Float32Array(2 * size * size);
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          xy[2 * (r * size + c)] = -extentV + (2 * extentV * (c + 0.5)) / size;
          xy[2 * (r * size + c) + 1] = extentV - (2 * extentV * (r + 0.5)) / size;
        }
      }
      this.gridInput = tensor(xy, { shape: [size * size, 2] });
      this.gridSize = size;
    }
    const input = this.gridInput;
    return scope(() => noGrad(() => this.model.forward(input).softmax(1).narrow(1, 1, 1).contiguous().toFloat32Array()));
  }

  dispose(): void {
    this.model.dispose();
    for (const t of [...this.train, ...this.test]) t.dispose();
    this.gridInput?.dispose();
  }
}
