/**
 * @simdgrad/core/node — helpers that need Node's file system: atomic file writes, reading files, and
 * the Fashion-MNIST loader. The main entry stays platform-neutral; import this one only in Node.
 *
 * @example
 * ```ts
 * import { init, io } from '@simdgrad/core';
 * import { saveFile, loadFile } from '@simdgrad/core/node';
 * await init();
 * await saveFile('model.safetensors', io.save(model.stateDict(), { arch: 'mlp 784-128-10' }));
 * const { tensors, metadata } = io.load(await loadFile('model.safetensors'));
 * ```
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { isGzip, parseIdx, type IdxData } from './data/idx.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointParts } from './io/checkpoint.js';
import { SimdgradError } from './errors.js';
import { tensor } from './ops/creation.js';
import type { Tensor } from './tensor.js';

function errorCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * Writes bytes to `path` atomically: into a temporary file in the same directory, flushed to disk
 * (fsync), then renamed over `path`. A crash or error midway leaves either the old file or the new
 * one, never a half-written file, and the temporary file is removed on error.
 *
 * @example
 * ```ts
 * await saveFile('checkpoint.safetensors', io.save(tensors));
 * ```
 */
export async function saveFile(path: string, bytes: Uint8Array): Promise<void> {
  if (typeof path !== 'string' || path === '') throw new SimdgradError(`saveFile: path must be a non-empty string (got ${JSON.stringify(path)})`);
  if (!(bytes instanceof Uint8Array)) throw new SimdgradError(`saveFile: bytes must be a Uint8Array (got ${bytes === null ? 'null' : typeof bytes})`);
  const target = resolve(path);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    if (e instanceof SimdgradError) throw e;
    throw new SimdgradError(`saveFile: could not write ${path} (${(e as Error).message}); any previous file is unchanged`);
  }
  // make the rename itself durable; directories cannot be opened for fsync everywhere (Windows)
  try {
    const d = await open(dir, 'r');
    try { await d.sync(); } finally { await d.close(); }
  } catch {
    // best effort
  }
}

/**
 * Reads a whole file as bytes (e.g. for `io.load` or `data.parseIdxAsync`).
 *
 * @example
 * ```ts
 * const { tensors } = io.load(await loadFile('model.safetensors'));
 * ```
 */
export async function loadFile(path: string): Promise<Uint8Array> {
  if (typeof path !== 'string' || path === '') throw new SimdgradError(`loadFile: path must be a non-empty string (got ${JSON.stringify(path)})`);
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (errorCode(e) === 'ENOENT') throw new SimdgradError(`loadFile: no such file (${path})`);
    throw new SimdgradError(`loadFile: could not read ${path} (${(e as Error).message})`);
  }
}

/** Fashion-MNIST's classes, by label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

export interface FashionMnistOptions {
  /** The directory with the IDX files (default: the first of the standard places that has them). */
  dir?: string;
  /** 'train' (60,000 images, default) or 'test' (10,000). */
  split?: 'train' | 'test';
  /** Keep only the first `limit` images. */
  limit?: number;
}

export interface FashionMnist {
  /** [N, 784] float32 pixels in [0, 1] (`x.reshape([-1, 1, 28, 28])` for convolutions). */
  x: Tensor;
  /** [N] int32 labels 0…9. */
  y: Tensor;
  classNames: string[];
  /** Where the files were read from. */
  dir: string;
}

/** The places searched, in order, when no `dir` is given. */
export function fashionMnistDirs(): string[] {
  return [
    '/usr/share/datasets/fashion-mnist',
    join(homedir(), '.cache', 'simdgrad', 'fashion-mnist'),
    // the repository ships the test split (data/fashion-mnist), found from src/ and dist/ alike
    fileURLToPath(new URL('../../../data/fashion-mnist', import.meta.url)),
  ];
}

async function readIdx(dir: string, stem: string): Promise<IdxData | null> {
  for (const name of [`${stem}.gz`, stem]) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(join(dir, name));
    } catch (e) {
      if (errorCode(e) === 'ENOENT') continue;
      throw new SimdgradError(`fashionMnist: could not read ${join(dir, name)} (${(e as Error).message})`);
    }
    try {
      return parseIdx(isGzip(bytes) ? gunzipSync(bytes) : bytes);
    } catch (e) {
      throw new SimdgradError(`fashionMnist: ${join(dir, name)} is not a valid IDX file (${(e as Error).message})`);
    }
  }
  return null;
}

/**
 * Loads a split of Fashion-MNIST (Zalando, MIT licence): 28×28 grayscale clothing images in 10
 * classes. Reads `{train,t10k}-{images-idx3,labels-idx1}-ubyte(.gz)` from `dir`, or else from
 * /usr/share/datasets/fashion-mnist (`apt-get install -y dataset-fashion-mnist`),
 * ~/.cache/simdgrad/fashion-mnist, or the repository's data/fashion-mnist (test split only).
 *
 * @example
 * ```ts
 * const train = await fashionMnist();                  // x [60000, 784], y [60000]
 * const test = await fashionMnist({ split: 'test' });  // x [10000, 784], y [10000]
 * ```
 */
export async function fashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnist> {
  const { dir, split = 'train', limit } = options;
  if (split !== 'train' && split !== 'test') throw new SimdgradError(`fashionMnist: split must be 'train' or 'test' (got ${JSON.stringify(split)})`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new SimdgradError(`fashionMnist: limit must be a non-negative integer (got ${String(limit)})`);
  const prefix = split === 'train' ? 'train' : 't10k';
  const dirs = dir !== undefined ? [dir] : fashionMnistDirs();
  for (const d of dirs) {
    const images = await readIdx(d, `${prefix}-images-idx3-ubyte`);
    if (images === null) continue;
    const labels = await readIdx(d, `${prefix}-labels-idx1-ubyte`);
    if (labels === null) throw new SimdgradError(`fashionMnist: ${d} has the ${split} images but not ${prefix}-labels-idx1-ubyte.gz`);
    if (images.dtype !== 'uint8' || images.shape.length !== 3 || images.shape[1] !== 28 || images.shape[2] !== 28) {
      throw new SimdgradError(`fashionMnist: ${prefix}-images in ${d} should be uint8 [N,28,28] (got ${images.dtype} [${images.shape.join(',')}])`);
    }
    if (labels.dtype !== 'uint8' || labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
      throw new SimdgradError(`fashionMnist: ${prefix}-labels in ${d} should be uint8 [${images.shape[0]}] (got ${labels.dtype} [${labels.shape.join(',')}])`);
    }
    const n = Math.min(images.shape[0]!, limit ?? Infinity);
    const pixels = new Float32Array(n * 784);
    for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i]! / 255;
    const x = tensor(pixels, { shape: [n, 784] });
    const y = tensor(Int32Array.from(labels.data.subarray(0, n)), { shape: [n], dtype: 'int32' });
    return { x, y, classNames: [...FASHION_MNIST_CLASSES], dir: d };
  }
  const files = `${prefix}-images-idx3-ubyte.gz and ${prefix}-labels-idx1-ubyte.gz`;
  throw new SimdgradError(
    `fashionMnist: the ${split} split was not found (looked for ${files} in ${dirs.join(', ')}) `
    + `(help: apt-get install -y dataset-fashion-mnist, or put ${files} from https://github.com/zalandoresearch/fashion-mnist into ~/.cache/simdgrad/fashion-mnist`
    + `${split === 'train' ? '; the repository ships the 10k test split: fashionMnist({ split: \'test\' })' : ''})`,
  );
}

/** Writes a training checkpoint atomically (temp file + rename): a crash never leaves half a file. */
export async function saveCheckpointFile(path: string, parts: CheckpointParts): Promise<void> {
  await saveFile(path, saveCheckpoint(parts));
}

/** Reads a checkpoint file into the given model/optimizer/scheduler; returns the epoch and extras. */
export async function loadCheckpointFile(path: string, parts: Omit<CheckpointParts, 'epoch' | 'extra'>): Promise<{ epoch: number; extra: Record<string, unknown> }> {
  return loadCheckpoint(await loadFile(path), parts);
}
export * from './fsdd.js';
