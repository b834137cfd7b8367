// Where training and evaluation data come from: the bundled sets, Fashion-MNIST, a CSV file with a label
// column, or an IDX pair; and the preprocessing (standardisation, pixel scaling) recorded in model files.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { audio, data, generator, Generator, noGrad, rand, randn, scope, tensor, type Tensor } from '@simdgrad/core';
import * as bundled from '@simdgrad/core/datasets';
import { fashionMnist, fashionMnistDirs, fsdd, type FsddRecording } from '@simdgrad/core/node';
import { CliError, EXIT } from './errors.js';

/** The data section of a config (all paths absolute once resolved). */
export interface DataSpec {
  /** A built-in data set: digits, iris, wine, breast-cancer, diabetes, fashion-mnist, or 'linreg' (synthetic). */
  dataset?: string;
  /** A CSV file of numbers with a label column. */
  csv?: string;
  /** The label column: a header name or 0-based index (negative from the end). Default: the last column. */
  labelColumn?: string | number;
  /** An IDX pair: { images, labels } paths, or a prefix like `dir/train` (→ dir/train-images-idx3-ubyte(.gz)). */
  idx?: string | { images: string; labels: string };
  /** A separate test set (CSV path or IDX pair); otherwise `testFraction` of the data is held out. */
  testCsv?: string;
  testIdx?: string | { images: string; labels: string };
  testFraction?: number;
  valFraction?: number;
  /** Standardise the features with the training set's mean and std (default: true for tables, false for images). */
  standardize?: boolean;
  /** Pixel scale for IDX images (default 1/255). */
  scale?: number;
  /** Keep only the first `limit` samples of each split. */
  limit?: number;
  /** Explicit class names (classification), indexed by label. */
  classNames?: string[];
  /** classification (default) or regression, for CSV data. */
  task?: Task;
}

export type Task = 'classification' | 'regression';

/** A set of samples: x [N, F] float32 (images flattened), y int32 [N] or float32 [N, 1]. */
export interface Samples {
  x: Tensor;
  y: Tensor;
  /** 1-based line numbers of the samples in their CSV file (for messages), when read from one. */
  lines?: Int32Array;
  /** Each sample's index into LoadedData.waves (audio), kept through splits. */
  ids?: Int32Array;
  source: string;
}

export interface LoadedData {
  train: Samples;
  test: Samples | null;
  task: Task;
  classNames: string[] | null;
  featureNames: string[];
  image: { channels: number; height: number; width: number } | null;
  /** How raw inputs are turned into model inputs before standardisation: pixel scale. */
  scale: number | null;
  description: string;
  /** Audio data: the prepared training waveforms (Samples.ids index them), for per-batch augmentation. */
  waves?: Float32Array[];
  /** Audio data: the feature settings (audio.SPOKEN_DIGITS) the model file records. */
  audio?: Record<string, number | string>;
}

/** Built-in data sets with their task (Fashion-MNIST is read from disk). */
export const BUILTIN: Record<string, { task: Task; load?: () => bundled.Dataset; about: string }> = {
  digits: { task: 'classification', load: bundled.digits, about: '1,797 8×8 handwritten digits, 64 features, 10 classes (bundled)' },
  iris: { task: 'classification', load: bundled.iris, about: '150 iris flowers, 4 features, 3 classes (bundled)' },
  wine: { task: 'classification', load: bundled.wine, about: '178 wines, 13 features, 3 classes (bundled)' },
  'breast-cancer': { task: 'classification', load: bundled.breastCancer, about: '569 tumours, 30 features, 2 classes (bundled)' },
  diabetes: { task: 'regression', load: bundled.diabetes, about: '442 patients, 10 features, regression target (bundled)' },
  'fashion-mnist': { task: 'classification', about: '28×28 clothing images, 10 classes (60k train / 10k test, read from disk)' },
  fsdd: { task: 'classification', about: 'Free Spoken Digit Dataset WAVs (CC BY-SA 4.0), spoken 0–9, takes 0–4 are test (read from disk)' },
};

function readText(path: string, what: string): string {
  if (!existsSync(path)) throw new CliError(`${what}: no such file (${path})`);
  if (statSync(path).isDirectory()) throw new CliError(`${what}: ${path} is a directory, expected a file`);
  return readFileSync(path, 'utf8');
}

/** Reads a CSV file: features and a label column, with every error naming the file, row and column. */
export function readCsv(path: string, labelColumn: string | number | undefined, task: Task, classNames: string[] | null): Samples & { classNames: string[] | null; featureNames: string[] } {
  const text = readText(path, 'data');
  let csv: data.CsvData;
  try {
    csv = data.parseCsv(text, { labelColumn: labelColumn ?? -1 });
  } catch (e) {
    throw new CliError(`${path}: ${(e as Error).message.replace(/^parseCsv: /, '')}`);
  }
  if (csv.rows === 0) throw new CliError(`${path}: the file has a header but no data rows`);
  // line numbers of the data rows (blank lines are skipped by parseCsv)
  const all = text.split(/\r\n|\n|\r/);
  const nonBlank: number[] = [];
  all.forEach((l, i) => { if (l.trim() !== '') nonBlank.push(i + 1); });
  const lines = Int32Array.from(nonBlank.slice(nonBlank.length - csv.rows));
  const labels = csv.labels!;
  let y: Tensor;
  let names = csv.classNames;
  if (task === 'classification') {
    const idx = new Int32Array(csv.rows);
    if (csv.classNames !== null && classNames !== null) {
      // names in this file → the model's class indices
      for (let i = 0; i < csv.rows; i++) {
        const name = csv.classNames[labels[i]!]!;
        const k = classNames.indexOf(name);
        if (k < 0) throw new CliError(`${path}: row ${lines[i]}, column "${csv.labelName}": label "${name}" is not one of the classes (${classNames.join(', ')})`);
        idx[i] = k;
      }
      names = classNames;
    } else {
      for (let i = 0; i < csv.rows; i++) {
        const v = labels[i]!;
        if (!Number.isInteger(v) || v < 0) {
          throw new CliError(`${path}: row ${lines[i]}, column ${labelName(csv)}: label ${v} is not a class index (help: class labels are integers 0, 1, … or names)`);
        }
        idx[i] = v;
      }
      names = names ?? classNames;
    }
    y = tensor(idx, { shape: [csv.rows], dtype: 'int32' });
  } else {
    y = tensor(labels, { shape: [csv.rows, 1] });
  }
  const x = tensor(csv.features, { shape: [csv.rows, csv.cols] });
  return { x, y, lines, source: path, classNames: names, featureNames: csv.columnNames };
}

function labelName(csv: data.CsvData): string {
  return /^\d+$/.test(csv.labelName ?? '') ? String(csv.labelName) : `"${csv.labelName}"`;
}

function idxPaths(spec: string | { images: string; labels: string }): { images: string; labels: string } {
  if (typeof spec !== 'string') return spec;
  const find = (kind: string) => {
    const candidates = [`${spec}-${kind}-ubyte.gz`, `${spec}-${kind}-ubyte`, `${spec}-${kind}.gz`, `${spec}-${kind}`];
    const hit = candidates.find((c) => existsSync(c));
    if (hit === undefined) throw new CliError(`data: no IDX file ${basename(spec)}-${kind}-ubyte(.gz) next to ${spec} (help: give the prefix, e.g. dir/t10k for dir/t10k-images-idx3-ubyte.gz)`);
    return hit;
  };
  return { images: find('images-idx3'), labels: find('labels-idx1') };
}

function readIdxFile(path: string): data.IdxData {
  if (!existsSync(path)) throw new CliError(`data: no such file (${path})`);
  let bytes: Uint8Array = readFileSync(path);
  try {
    if (data.isGzip(bytes)) bytes = gunzipSync(bytes);
    return data.parseIdx(bytes);
  } catch (e) {
    throw new CliError(`${path}: not a valid IDX file (${(e as Error).message.replace(/^[A-Za-z]+: /, '')})`);
  }
}

/** Reads an IDX image/label pair: x [N, H·W] scaled, y int32 [N]. */
export function readIdxPair(spec: string | { images: string; labels: string }, scale: number, limit?: number): Samples & { image: { channels: number; height: number; width: number } } {
  const paths = idxPaths(spec);
  const images = readIdxFile(paths.images);
  const labels = readIdxFile(paths.labels);
  if (images.shape.length < 2 || images.shape.length > 4) throw new CliError(`${paths.images}: expected images of shape [N, H, W] (got [${images.shape.join(', ')}])`);
  if (labels.shape.length !== 1) throw new CliError(`${paths.labels}: expected labels of shape [N] (got [${labels.shape.join(', ')}])`);
  if (labels.shape[0] !== images.shape[0]) throw new CliError(`data: ${paths.images} has ${images.shape[0]} images but ${paths.labels} has ${labels.shape[0]} labels`);
  const n = Math.min(images.shape[0]!, limit ?? Infinity);
  const [h, w] = images.shape.length === 2 ? [1, images.shape[1]!] : images.shape.slice(-2) as [number, number];
  const channels = images.shape.length === 4 ? images.shape[1]! : 1;
  const per = channels * h * w;
  const pixels = new Float32Array(n * per);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! * scale;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = labels.data[i]!;
    if (!Number.isInteger(v) || v < 0) throw new CliError(`${paths.labels}: label ${v} (sample ${i}) is not a class index`);
    y[i] = v;
  }
  return {
    x: tensor(pixels, { shape: [n, per] }), y: tensor(y, { shape: [n], dtype: 'int32' }), source: paths.images,
    image: { channels, height: h, width: w },
  };
}

/** Where Fashion-MNIST's train and test splits are found, if anywhere. */
export function fashionLocations(): { train: string | null; test: string | null; searched: string[] } {
  const dirs = fashionMnistDirs();
  const has = (d: string, prefix: string) => ['', '.gz'].some((ext) => existsSync(join(d, `${prefix}-images-idx3-ubyte${ext}`)));
  return { train: dirs.find((d) => has(d, 'train')) ?? null, test: dirs.find((d) => has(d, 't10k')) ?? null, searched: dirs };
}

export const FASHION_CACHE = join(homedir(), '.cache', 'simdgrad', 'fashion-mnist');

function first(samples: Samples, limit: number | undefined): Samples {
  if (limit === undefined || limit >= samples.x.shape[0]!) return samples;
  const x = samples.x.narrow(0, 0, limit).contiguous();
  const y = samples.y.narrow(0, 0, limit).contiguous();
  return { x, y, lines: samples.lines?.subarray(0, limit), ids: samples.ids?.subarray(0, limit), source: samples.source };
}

/** Every k-th of n items so that `limit` are kept (a subset with every speaker and digit when sorted by name). */
function spread<T>(items: T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= items.length) return items;
  return Array.from({ length: limit }, (_, i) => items[Math.floor((i * items.length) / limit)]!);
}

/** Spoken-digit features [N, 1·40·64] (flattened) of recordings, with their prepared waveforms. */
export function spokenDigitSamples(recs: readonly { samples: Float32Array; sampleRate: number; digit?: number }[], source: string): Samples & { waves: Float32Array[] } {
  const waves = recs.map((r) => audio.prepareSpokenDigit(r.samples, r.sampleRate));
  const feats = audio.spokenDigitFeatures(waves);
  const x = noGrad(() => scope(() => feats.reshape([waves.length, -1]).contiguous()));
  feats.dispose();
  const y = tensor(Int32Array.from(recs, (r) => r.digit ?? 0), { shape: [recs.length], dtype: 'int32' });
  return { x, y, ids: Int32Array.from(waves.keys()), source, waves };
}

/** Reads FSDD-named WAVs (`{digit}_{speaker}_{take}.wav`) of a split from `dir` (default: $SIMDGRAD_FSDD, then data/fsdd). */
export async function readFsdd(split: 'train' | 'test' | 'all', dir?: string): Promise<{ recordings: FsddRecording[]; dir: string }> {
  try {
    return await fsdd({ split, dir });
  } catch (e) {
    throw new CliError((e as Error).message.replace(/^fsdd: /, 'fsdd: '));
  }
}

/** The synthetic linear-regression data: x uniform in [0, 1), y = 2x + 1 + N(0, 0.33²), from `seed`. */
export function linregData(seed: number, n = 100): Samples {
  const saved = generator.getState();
  generator.seed(seed);
  const x = rand([n, 1]);
  const y = noGrad(() => scope(() => x.mul(2).add(1).add(randn([n, 1]).mul(0.33))));
  generator.setState(saved);
  return { x, y, source: 'y = 2x + 1 + noise' };
}

/** Loads the data a config describes (no splitting or standardisation yet). */
export async function loadData(spec: DataSpec, seed: number): Promise<LoadedData> {
  const limit = spec.limit;
  if (spec.dataset === 'linreg') {
    return { train: linregData(seed), test: null, task: 'regression', classNames: null, featureNames: ['x'], image: null, scale: null, description: '100 points of y = 2x + 1 + noise' };
  }
  if (spec.dataset === 'fashion-mnist') {
    const train = await fashionMnist({ split: 'train', limit }).catch((e: Error) => { throw new CliError(e.message.replace(/^fashionMnist: /, 'fashion-mnist: ')); });
    const test = await fashionMnist({ split: 'test', limit }).catch((e: Error) => { throw new CliError(e.message.replace(/^fashionMnist: /, 'fashion-mnist: ')); });
    return {
      train: { x: train.x, y: train.y, source: train.dir }, test: { x: test.x, y: test.y, source: test.dir },
      task: 'classification', classNames: train.classNames, featureNames: [], image: { channels: 1, height: 28, width: 28 }, scale: 1 / 255,
      description: `Fashion-MNIST from ${train.dir}: ${train.x.shape[0]} train / ${test.x.shape[0]} test images`,
    };
  }
  if (spec.dataset === 'fsdd') {
    const [tr, te] = [await readFsdd('train'), await readFsdd('test')];
    const train = spokenDigitSamples(spread(tr.recordings, limit), tr.dir);
    const test = spokenDigitSamples(spread(te.recordings, limit), te.dir);
    const S = audio.SPOKEN_DIGITS;
    return {
      train, test, task: 'classification', classNames: Array.from({ length: 10 }, (_, i) => String(i)), featureNames: [],
      image: { channels: 1, height: S.nMels, width: S.frames }, scale: null, waves: train.waves,
      audio: { features: 'spoken-digits', ...S },
      description: `FSDD recordings from ${tr.dir} → log-mel features [1, ${S.nMels}, ${S.frames}]`,
    };
  }
  if (spec.dataset !== undefined) {
    const b = BUILTIN[spec.dataset];
    if (b?.load === undefined) throw new CliError(`data: unknown data set "${spec.dataset}" (built in: ${Object.keys(BUILTIN).join(', ')})`, EXIT.usage);
    const d = b.load();
    const y = b.task === 'regression' ? d.y.reshape([-1, 1]) : d.y;
    return {
      train: first({ x: d.x, y, source: spec.dataset }, limit), test: null, task: b.task, classNames: d.classNames ?? null,
      featureNames: d.featureNames, image: null, scale: null, description: `${spec.dataset}: ${b.about}`,
    };
  }
  if (spec.csv !== undefined) {
    const task: Task = spec.task ?? 'classification';
    const train = readCsv(spec.csv, spec.labelColumn, task, spec.classNames ?? null);
    const test = spec.testCsv !== undefined ? readCsv(spec.testCsv, spec.labelColumn, task, train.classNames) : null;
    return {
      train: first(train, limit), test: test && first(test, limit), task, classNames: train.classNames, featureNames: train.featureNames, image: null, scale: null,
      description: `${basename(spec.csv)}: ${train.x.shape[0]} rows, ${train.x.shape[1]} features${test ? `; test ${basename(spec.testCsv!)}: ${test.x.shape[0]} rows` : ''}`,
    };
  }
  if (spec.idx !== undefined) {
    const scale = spec.scale ?? 1 / 255;
    const train = readIdxPair(spec.idx, scale, limit);
    const test = spec.testIdx !== undefined ? readIdxPair(spec.testIdx, scale, limit) : null;
    if (test !== null && (test.image.height !== train.image.height || test.image.width !== train.image.width || test.image.channels !== train.image.channels)) {
      throw new CliError(`data: the test images are ${test.image.height}×${test.image.width}, the training images ${train.image.height}×${train.image.width}`);
    }
    return {
      train, test, task: 'classification', classNames: spec.classNames ?? null, featureNames: [], image: train.image, scale,
      description: `IDX ${basename(train.source)}: ${train.x.shape[0]} images${test ? `, test ${test.x.shape[0]}` : ''}`,
    };
  }
  throw new CliError('data: the config needs "dataset", "csv" or "idx" in its "data" section');
}

/** The largest label + 1 over the given label tensors (classification). */
export function maxLabel(...ys: Tensor[]): number {
  let m = -1;
  for (const y of ys) {
    const a = y.toInt32Array();
    for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  }
  return m;
}

/** Throws a clear error when a label is ≥ classes. */
export function checkLabels(s: Samples, classes: number, what = 'data'): void {
  const a = s.y.toInt32Array();
  for (let i = 0; i < a.length; i++) {
    if (a[i]! < 0 || a[i]! >= classes) {
      const where = s.lines !== undefined ? `row ${s.lines[i]}` : `sample ${i}`;
      throw new CliError(`${what}: label ${a[i]} (${s.source}, ${where}) is out of range for a model with ${classes} classes (0…${classes - 1})`);
    }
  }
}

/** Per-feature standardisation stats as plain arrays (for metadata). */
export interface Preprocessing {
  /** Multiply raw pixel values by this (images). */
  scale?: number;
  mean?: number[];
  std?: number[];
}

/** Applies standardisation to x [N, F] (a new tensor), or returns x itself. */
export function applyStandardize(x: Tensor, p: Preprocessing): Tensor {
  if (p.mean === undefined || p.std === undefined) return x;
  return noGrad(() => scope(() => data.normalize(x, { mean: tensor(p.mean!), std: tensor(p.std!) })));
}

/** Splits samples by a seeded permutation: `fraction` of them (rounded up) go to the second part. */
export function split(s: Samples, fraction: number, seed: number): [Samples, Samples | null] {
  if (fraction <= 0) return [s, null];
  const { trainIndex, testIndex } = data.trainTestSplit(s.x.shape[0]!, { testFraction: fraction, seed });
  const pick = (idx: Int32Array): Samples => noGrad(() => scope(() => {
    const t = tensor(idx, { dtype: 'int32' });
    return { x: s.x.indexSelect(0, t), y: s.y.indexSelect(0, t), lines: s.lines && Int32Array.from(idx, (i) => s.lines![i]!), ids: s.ids && Int32Array.from(idx, (i) => s.ids![i]!), source: s.source };
  }));
  return [pick(trainIndex), pick(testIndex)];
}

export { Generator };
