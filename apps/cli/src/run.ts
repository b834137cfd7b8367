// Setting up a run from its RunConfig: data (split, standardised, checked against the model), the model,
// optimizer and schedule; and evaluation. Every bad input is found here, before anything is written.
import { audio, generator, type Generator, manualSeed, nn, noGrad, optim, scope, SimdgradError, type Tensor } from '@simdgrad/core';
import { applyStandardize, checkLabels, loadData, maxLabel, split, type LoadedData, type Preprocessing, type Samples } from './datasets.js';
import { CliError, EXIT } from './errors.js';
import type { ModelInfo } from './model-file.js';
import { buildModel, resolveLayers } from './model-spec.js';
import type { RunConfig } from './recipes.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = optim.Optimizer<any>;
type Scheduler = { step(): void; stateDict(): unknown; loadStateDict(sd: never): void };

export interface Split {
  x: Tensor;
  y: Tensor;
  n: number;
}

export interface Run {
  config: RunConfig;
  loaded: LoadedData;
  train: Split;
  val: Split | null;
  test: Split | null;
  model: nn.Sequential;
  optimizer: AnyOptimizer;
  scheduler: Scheduler | null;
  schedulePer: 'epoch' | 'step';
  stepsPerEpoch: number;
  info: ModelInfo;
  classes: number;
  /** Audio recipes: a freshly augmented training batch [len, …inputShape] for these rows of `train`. */
  augment: ((rows: Int32Array, gen: Generator) => Tensor) | null;
}

/**
 * The spoken-digit augmentation (as examples/spoken-digits.mjs): time shift ±0.2 s, white noise at
 * SNR 10–40 dB for half the clips, then one frequency mask ≤ 6 bands and one time mask ≤ 8 frames.
 */
function spokenDigitAugment(waves: Float32Array[], ids: Int32Array): (rows: Int32Array, gen: Generator) => Tensor {
  return (rows, gen) => {
    const batch = Array.from(rows, (r) => {
      let w = audio.timeShift(waves[ids[r]!]!, 1600, { generator: gen });
      if (gen.uniform() < 0.5) w = audio.addNoise(w, { snrDb: [10, 40], generator: gen });
      return w;
    });
    return audio.timeMask(audio.frequencyMask(audio.spokenDigitFeatures(batch), 6, { generator: gen }), 8, { generator: gen });
  };
}

const OPTIMIZERS: Record<string, (params: Tensor[], o: Record<string, unknown>) => AnyOptimizer> = {
  sgd: (p, o) => new optim.SGD(p, o as unknown as optim.SGDOptions),
  adam: (p, o) => new optim.Adam(p, o as unknown as optim.AdamOptions),
  adamw: (p, o) => new optim.AdamW(p, o as unknown as optim.AdamOptions),
  rmsprop: (p, o) => new optim.RMSprop(p, o as unknown as optim.RMSpropOptions),
  adagrad: (p, o) => new optim.Adagrad(p, o as unknown as optim.AdagradOptions),
};
export const OPTIMIZER_NAMES = Object.keys(OPTIMIZERS);

const IMAGE_LAYERS = ['conv2d', 'batchnorm2d', 'maxpool2d', 'avgpool2d'];

function toSplit(s: Samples, p: Preprocessing, inputShape: number[]): Split {
  const x = applyStandardize(s.x, p);
  return { x: x.reshape([-1, ...inputShape]), y: s.y, n: s.x.shape[0]! };
}

/** Loads and checks everything a run needs; throws a CliError on any bad input. */
export async function prepareRun(config: RunConfig): Promise<Run> {
  const loaded = await loadData(config.data, config.seed);
  const seed = config.seed;
  let train = loaded.train;
  let test = loaded.test;
  const testFraction = config.data.testFraction ?? 0.2;
  if (test === null && testFraction > 0) [train, test] = split(train, testFraction, seed);
  const [trainPart, val] = split(train, config.data.valFraction ?? 0.1, seed + 1);
  train = trainPart;
  if (train.x.shape[0] === 0) throw new CliError('data: no training samples left after the test/validation split');

  let classes = 1;
  let classNames = loaded.classNames;
  if (config.task === 'classification') {
    if (train.y.dtype !== 'int32') throw new CliError('data: classification needs integer class labels (help: "task": "regression" for a numeric target)');
    const linears = Array.isArray(config.model) ? config.model.filter((l) => l?.type?.toLowerCase?.() === 'linear') : [];
    const explicitOut = linears.length > 0 ? linears[linears.length - 1]!.out : undefined;
    classes = classNames?.length ?? explicitOut ?? maxLabel(...[train, val, test].filter((s): s is Samples => s !== null).map((s) => s.y)) + 1;
    for (const s of [train, val, test]) if (s !== null) checkLabels(s, classes);
    classNames ??= Array.from({ length: classes }, (_, i) => String(i));
  }

  const firstType = Array.isArray(config.model) ? String(config.model[0]?.type ?? '').toLowerCase() : '';
  const image = loaded.image;
  let inputShape: number[];
  if (IMAGE_LAYERS.includes(firstType)) {
    if (image === null) throw new CliError(`model: layer 0 (${firstType}) needs image data (an IDX pair or fashion-mnist), but the data is a table of ${train.x.shape[1]} features`);
    inputShape = [image.channels, image.height, image.width];
  } else {
    inputShape = [train.x.shape[1]!];
  }
  const { layers } = resolveLayers(config.model, inputShape, classes, 'model');

  const preprocessing: Preprocessing = {};
  if (loaded.scale !== null) preprocessing.scale = loaded.scale;
  if (config.data.standardize ?? image === null) {
    const stats = noGrad(() => scope(() => {
      const x = train.x;
      const mean = x.mean(0);
      const sd = x.var(0, false, false).sqrt();
      const std = sd.add(sd.eq(0));
      return { mean: Array.from(mean.toFloat32Array()), std: Array.from(std.toFloat32Array()) };
    }));
    preprocessing.mean = stats.mean;
    preprocessing.std = stats.std;
  }

  manualSeed(seed);
  const model = buildModel(layers);
  const { type, ...optOptions } = config.optimizer;
  const makeOpt = OPTIMIZERS[String(type).toLowerCase()];
  if (makeOpt === undefined) throw new CliError(`optimizer: unknown optimizer "${type}" (optimizers: ${OPTIMIZER_NAMES.join(', ')})`, EXIT.usage);
  let optimizer: AnyOptimizer;
  try {
    optimizer = makeOpt(model.parameters(), optOptions);
  } catch (e) {
    throw new CliError(`optimizer: ${(e as Error).message}`);
  }
  const trainSplit = toSplit(train, preprocessing, inputShape);
  const stepsPerEpoch = Math.ceil(trainSplit.n / config.batchSize);
  let scheduler: Scheduler | null = null;
  let schedulePer: 'epoch' | 'step' = 'epoch';
  const sch = config.schedule;
  try {
    if (sch !== null && sch !== undefined) {
      if (sch.type === 'step') scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: sch.stepSize, gamma: sch.gamma ?? 0.1 }) as unknown as Scheduler;
      else if (sch.type === 'cosine') scheduler = new optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax: sch.tMax ?? config.epochs }) as unknown as Scheduler;
      else if (sch.type === 'onecycle') {
        scheduler = new optim.lrScheduler.OneCycleLR(optimizer, { maxLr: sch.maxLr ?? config.optimizer.lr * 3, totalSteps: config.epochs * stepsPerEpoch }) as unknown as Scheduler;
        schedulePer = 'step';
      } else throw new CliError(`schedule: unknown type "${(sch as { type: string }).type}" (types: step, cosine, onecycle)`);
    }
  } catch (e) {
    if (e instanceof SimdgradError) throw new CliError(`schedule: ${e.message}`);
    throw e;
  }

  const info: ModelInfo = {
    name: config.name, task: config.task, architecture: layers, inputShape, image, preprocessing,
    classNames: config.task === 'classification' ? classNames : null, featureNames: loaded.featureNames,
    data: { dataset: config.data.dataset, labelColumn: config.data.labelColumn, testFraction: config.data.dataset !== undefined && loaded.test === null ? testFraction : undefined, seed },
    audio: loaded.audio ?? null,
  };
  return {
    config, loaded, model, optimizer, scheduler, schedulePer, stepsPerEpoch, info, classes,
    augment: loaded.waves !== undefined && train.ids !== undefined ? spokenDigitAugment(loaded.waves, train.ids) : null,
    train: trainSplit,
    val: val && toSplit(val, preprocessing, inputShape),
    test: test && toSplit(test, preprocessing, inputShape),
  };
}

export function lossOf(task: string, out: Tensor, y: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  return task === 'classification' ? nn.functional.crossEntropy(out, y, { reduction }) : nn.functional.mseLoss(out, y, reduction);
}

export interface Evaluation {
  samples: number;
  loss: number;
  accuracy?: number;
  /** confusion[true][predicted] counts. */
  confusion?: number[][];
  predictions?: Int32Array;
}

/** Loss (and accuracy and the confusion matrix for classifiers) of `model` on a split, in batches. */
export function evaluate(model: nn.Module, s: { x: Tensor; y: Tensor }, task: string, classes: number, batchSize = 500): Evaluation {
  const wasTraining = model.training;
  model.eval();
  const n = s.x.shape[0]!;
  let lossSum = 0, correct = 0;
  const confusion = task === 'classification' ? Array.from({ length: classes }, () => new Array<number>(classes).fill(0)) : undefined;
  const predictions = new Int32Array(task === 'classification' ? n : 0);
  const truth = task === 'classification' ? s.y.toInt32Array() : null;
  for (let start = 0; start < n; start += batchSize) {
    const len = Math.min(batchSize, n - start);
    scope(() => noGrad(() => {
      const xb = s.x.narrow(0, start, len), yb = s.y.narrow(0, start, len);
      const out = model.forward(xb);
      lossSum += lossOf(task, out, yb, 'sum').item() / (task === 'classification' ? 1 : out.shape[1]!);
      if (confusion !== undefined) {
        const pred = out.argmax(1).toInt32Array();
        predictions.set(pred, start);
        for (let i = 0; i < len; i++) {
          const t = truth![start + i]!;
          confusion[t]![pred[i]!]! += 1;
          if (t === pred[i]) correct++;
        }
      }
    }));
  }
  model.train(wasTraining);
  if (n === 0) return { samples: 0, loss: NaN };
  return task === 'classification' ? { samples: n, loss: lossSum / n, accuracy: correct / n, confusion, predictions } : { samples: n, loss: lossSum / n };
}

export { generator };
