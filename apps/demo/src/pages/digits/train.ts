// Trains an MLP or a small CNN on the bundled UCI digits (1,797 8×8 images), and classifies new
// 8×8 drawings; or, when the site serves its files, on Fashion-MNIST (28×28 clothing images: the
// first 8,000 of its test-set file to train, the next 2,000 held out). The same code runs in the
// page's worker and in the Node tests.
import { data, explain, manualSeed, nn, noGrad, optim, scope, tensor, Generator, type Tensor } from '@simdgrad/core';
import { digits } from '@simdgrad/core/datasets';
import { DATASET_INFO, FASHION_TEST, FASHION_TRAIN, type DigitsDataset } from './datasets.js';

export { DATASET_INFO, FASHION_FILES, FASHION_TEST, FASHION_TRAIN, type DigitsDataset } from './datasets.js';

export type DigitsModel = 'mlp' | 'cnn';


export interface DigitsConfig {
  model: DigitsModel;
  /** Default 'uci'. 'fashion' needs its split passed to the trainer (see `loadFashionMnist`). */
  dataset?: DigitsDataset;
  lr: number;
  batchSize: number;
  seed?: number;
}

/** How the digits page explains a prediction. */
export type ExplainMethod = 'saliency' | 'integrated-gradients';

/** An attribution map over the 8×8 input, for one class. */
export interface Attribution {
  method: ExplainMethod;
  target: number;
  /** 64 row-major values: |∂logit/∂pixel| for saliency; signed contributions for integrated gradients. */
  map: Float32Array;
  /** Integrated gradients only: the completeness gap |Σ attributions − (F(x) − F(0))| / |F(x) − F(0)|. */
  relativeError?: number;
}

export interface DigitsStats {
  epoch: number;
  trainLoss: number;
  testLoss: number;
  testAccuracy: number;
  samplesPerSecond: number;
}

/** The architectures, as the page describes them. */
export const MODELS: Record<DigitsModel, { label: string; build: () => nn.Module }> = {
  mlp: {
    label: 'MLP 64 → 128 → 64 → 10 (ReLU)',
    build: () => new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10)),
  },
  cnn: {
    label: 'CNN conv3×3(16) → ReLU → maxpool 2 → conv3×3(32) → ReLU → maxpool 2 → linear 10',
    build: () => new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(32 * 2 * 2, 10),
    ),
  },
};

/** The Fashion-MNIST architectures (28×28 inputs). */
export const FASHION_MODELS: Record<DigitsModel, { label: string; build: () => nn.Module }> = {
  mlp: {
    label: 'MLP 784 → 128 → 64 → 10 (ReLU)',
    build: () => new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10)),
  },
  cnn: {
    label: 'CNN conv3×3(8) → ReLU → maxpool 2 → conv3×3(16) → ReLU → maxpool 2 → linear 10',
    build: () => new nn.Sequential(
      new nn.Conv2d(1, 8, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(8, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(16 * 7 * 7, 10),
    ),
  },
};

export type Split = { xTrain: Tensor; yTrain: Tensor; xTest: Tensor; yTest: Tensor };

/**
 * Fashion-MNIST from the bytes of its IDX files (raw or .gz): the first 8,000 images to train, the
 * next 2,000 held out; pixels scaled to [0, 1] and flattened to [N, 784].
 */
export async function loadFashionMnist(imageBytes: Uint8Array, labelBytes: Uint8Array): Promise<Split> {
  const [images, labels] = await Promise.all([data.parseIdxAsync(imageBytes), data.parseIdxAsync(labelBytes)]);
  const n = FASHION_TRAIN + FASHION_TEST;
  if (images.shape.length !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28 || images.shape[0]! < n || labels.shape[0]! < n) {
    throw new Error(`Fashion-MNIST: expected at least ${n} images of 28×28 and labels (got images ${images.shape.join('×')}, labels ${labels.shape.join('×')})`);
  }
  return scope(() => {
    const x = data.idxToTensor(images, { scale: 1 / 255 }).reshape([-1, 784]);
    const y = data.idxToTensor(labels, { dtype: 'int32' });
    return {
      xTrain: x.narrow(0, 0, FASHION_TRAIN).clone(), yTrain: y.narrow(0, 0, FASHION_TRAIN).clone(),
      xTest: x.narrow(0, FASHION_TRAIN, FASHION_TEST).clone(), yTest: y.narrow(0, FASHION_TRAIN, FASHION_TEST).clone(),
    };
  });
}

/** The digits split 80/20 with a fixed permutation; features scaled to [0, 1]. */
function loadSplit(): Split {
  const { x, y } = digits();
  const n = x.shape[0]!;
  const order = data.permutation(n, new Generator(42));
  const nTrain = Math.round(0.8 * n);
  const take = (from: number, to: number) => tensor(order.slice(from, to), { dtype: 'int32' });
  return scope(() => {
    const xs = x.div(16);
    const trainIdx = take(0, nTrain), testIdx = take(nTrain, n);
    const out = {
      xTrain: xs.indexSelect(0, trainIdx), yTrain: y.indexSelect(0, trainIdx),
      xTest: xs.indexSelect(0, testIdx), yTest: y.indexSelect(0, testIdx),
    };
    x.dispose();
    y.dispose();
    return out;
  });
}

export class DigitsTrainer {
  readonly model: nn.Module;
  private readonly optimizer: optim.Adam;
  private readonly split: Split;
  private readonly loader: data.DataLoader;
  private epochs = 0;
  readonly dataset: DigitsDataset;
  private readonly side: number;
  private readonly maxPixel: number;

  /** `split` is required for Fashion-MNIST (the trainer takes ownership); UCI digits load themselves. */
  constructor(readonly config: DigitsConfig, split?: Split) {
    manualSeed(config.seed ?? 0);
    this.dataset = config.dataset ?? 'uci';
    ({ side: this.side, maxPixel: this.maxPixel } = DATASET_INFO[this.dataset]);
    if (this.dataset === 'fashion' && !split) throw new Error('DigitsTrainer: Fashion-MNIST needs its split (see loadFashionMnist)');
    this.model = (this.dataset === 'fashion' ? FASHION_MODELS : MODELS)[config.model].build();
    this.optimizer = new optim.Adam(this.model.parameters(), { lr: config.lr });
    this.split = split ?? loadSplit();
    this.loader = new data.DataLoader(new data.TensorDataset(this.split.xTrain, this.split.yTrain), { batchSize: config.batchSize, shuffle: true });
  }

  get trainSize(): number { return this.split.xTrain.shape[0]!; }
  get testSize(): number { return this.split.xTest.shape[0]!; }

  /** [N, side²] in [0, 1] → the model's input ([N, side²], or [N, 1, side, side] for the CNN). */
  private input(x: Tensor): Tensor {
    return this.config.model === 'cnn' ? x.reshape([-1, 1, this.side, this.side]) : x;
  }

  /** One pass over the training set; the mean training loss and test metrics after it. */
  epoch(): DigitsStats {
    this.model.train();
    let lossSum = 0, seen = 0;
    const t0 = performance.now();
    for (const [xb, yb] of this.loader) {
      lossSum += scope(() => {
        this.optimizer.zeroGrad();
        const loss = nn.functional.crossEntropy(this.model.forward(this.input(xb!)), yb!);
        loss.backward();
        this.optimizer.step();
        return loss.item() * xb!.shape[0]!;
      });
      seen += xb!.shape[0]!;
      xb!.dispose();
      yb!.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    this.epochs++;
    const test = this.evaluate();
    return { epoch: this.epochs, trainLoss: lossSum / seen, testLoss: test.loss, testAccuracy: test.accuracy, samplesPerSecond: seen / seconds };
  }

  evaluate(): { loss: number; accuracy: number } {
    this.model.eval();
    return scope(() => noGrad(() => {
      const logits = this.model.forward(this.input(this.split.xTest));
      return {
        loss: nn.functional.crossEntropy(logits, this.split.yTest).item(),
        accuracy: logits.argmax(1).float().eq(this.split.yTest.float()).float().mean().item(),
      };
    }));
  }

  /** Class probabilities for one image (UCI: 64 features 0..16; Fashion-MNIST: 784 pixels 0..255). */
  predict(pixels: ArrayLike<number>): Float32Array {
    this.model.eval();
    return scope(() => noGrad(() => {
      const x = tensor(Float32Array.from(pixels, (v) => v / this.maxPixel), { shape: [1, this.side * this.side] });
      return this.model.forward(this.input(x)).softmax(1).toFloat32Array();
    }));
  }

  /**
   * Which input pixels the `target` class's logit depends on: the saliency map (|gradient|, Simonyan
   * et al.) or integrated gradients from a blank image (Sundararajan et al.; 32 Gauss–Legendre
   * points), with respect to the model's input (the features scaled to [0, 1]).
   */
  explain(pixels: ArrayLike<number>, target: number, method: ExplainMethod = 'saliency'): Attribution {
    return scope(() => {
      const x = this.input(tensor(Float32Array.from(pixels, (v) => v / this.maxPixel), { shape: [1, this.side * this.side] }));
      if (method === 'integrated-gradients') {
        const r = explain.integratedGradients(this.model, x, target, { steps: 32 });
        return { method, target, map: r.attributions.toFloat32Array(), relativeError: r.relativeError };
      }
      return { method, target, map: explain.saliency(this.model, x, target).toFloat32Array() };
    });
  }

  /** A test image (raw pixels: UCI 0..16, Fashion-MNIST 0..255) and its label, to try the model on. */
  testSample(i: number): { pixels: Float32Array; label: number } {
    const k = ((i % this.testSize) + this.testSize) % this.testSize;
    return scope(() => ({
      pixels: this.split.xTest.narrow(0, k, 1).mul(this.maxPixel).toFloat32Array(),
      label: this.split.yTest.narrow(0, k, 1).item(),
    }));
  }

  dispose(): void {
    this.model.dispose();
    for (const t of Object.values(this.split)) t.dispose();
  }
}
