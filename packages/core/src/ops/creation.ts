// Creating tensors: from data, constants, ranges, and seeded random numbers.
import type { DType } from '../backend/backend.js';
import { getBackend } from '../engine.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { Generator } from '../random.js';
import { checkShape, shapeSize } from '../shape.js';
import type { NestedArray, Tensor } from '../tensor.js';
import { empty } from './core.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

export interface FromDataOptions extends TensorOptions {
  /** The shape of flat data (a typed array or a flat array); defaults to [length]. */
  shape?: readonly number[];
}

/** The one seeded generator behind rand, randn, randint, dropout, initialisation and shuffling. */
export const generator = new Generator(0);

/**
 * Seeds the global generator: the same seed gives the same numbers, bit for bit, in Node and in browsers.
 *
 * @example
 * ```ts
 * manualSeed(42);
 * const a = randn([2, 2]);
 * ```
 */
export function manualSeed(seed: number): void {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new SimdgradError(`manualSeed: seed must be a finite number (got ${String(seed)})`);
  generator.seed(Math.trunc(seed));
}

function checkDtype(op: string, dtype: unknown): DType {
  if (dtype !== undefined && dtype !== 'float32' && dtype !== 'int32') {
    throw new SimdgradError(`${op}: dtype must be 'float32' or 'int32' (got ${JSON.stringify(dtype)})`);
  }
  return (dtype ?? 'float32') as DType;
}

function finish(op: string, t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) {
    if (t.dtype !== 'float32') {
      t.dispose();
      throw new SimdgradError(`${op}: only float32 tensors can require grad (got dtype ${t.dtype})`);
    }
    t.requiresGrad = true;
  }
  return t;
}

/** Infers the shape of nested arrays, checking that they are not ragged and hold numbers. */
function nestedShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0]!;
  }
  const check = (v: NestedArray, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof v !== 'number' && typeof v !== 'boolean') throw new SimdgradError(`tensor: element ${path || '(root)'} is ${v === null ? 'null' : typeof v}, not a number`);
      return;
    }
    if (!Array.isArray(v)) throw new SimdgradError(`tensor: ragged nested array: element ${path} is a number where dim ${dim} expects an array of ${shape[dim]}`);
    if (v.length !== shape[dim]) throw new SimdgradError(`tensor: ragged nested array: dim ${dim} has sizes ${shape[dim]} and ${v.length} (at ${path || 'the root'})`);
    v.forEach((x, i) => check(x, dim + 1, `${path}[${i}]`));
  };
  check(data, 0, '');
  return shape;
}

/**
 * A tensor from nested arrays, a number, or flat data (typed array or array) with `shape`.
 * The input is copied, so the caller may reuse it.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = tensor(Float32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
 * const i = tensor(Int32Array.of(0, 2), { dtype: 'int32' });
 * ```
 */
export function tensor(data: NestedArray | ArrayLike<number> | Float32Array | Int32Array | Float64Array, opts: FromDataOptions = {}): Tensor {
  if (opts === null || typeof opts !== 'object') throw new SimdgradError(`tensor: options must be an object (got ${String(opts)})`);
  const dtype = checkDtype('tensor', opts.dtype ?? (data instanceof Int32Array ? 'int32' : 'float32'));
  let shape: number[];
  let flat: ArrayLike<number>;
  if (typeof data === 'number' || typeof data === 'boolean') {
    shape = [];
    flat = [Number(data)];
  } else if (ArrayBuffer.isView(data)) {
    flat = data as ArrayLike<number>;
    shape = opts.shape ? checkShape('tensor', opts.shape) : [flat.length];
  } else if (Array.isArray(data)) {
    if (opts.shape && data.every((v) => typeof v === 'number')) {
      flat = data as number[];
      shape = checkShape('tensor', opts.shape);
    } else {
      shape = nestedShape(data as NestedArray);
      flat = (data as unknown[]).flat(Infinity) as number[];
      if (opts.shape) {
        const want = checkShape('tensor', opts.shape);
        if (shapeSize(want) !== flat.length) throw new SimdgradError(`tensor: shape ${fmtShape(want)} does not fit ${flat.length} elements`);
        shape = want;
      }
    }
  } else {
    throw new SimdgradError(`tensor: data must be a number, nested arrays or a typed array (got ${data === null ? 'null' : typeof data})`);
  }
  if (shapeSize(shape) !== flat.length) {
    throw new SimdgradError(`tensor: shape ${fmtShape(shape)} needs ${shapeSize(shape)} elements (got ${flat.length})`);
  }
  const t = empty(shape, dtype);
  const v = t.backend.heap.views();
  const start = t.ptr >>> 2;
  if (dtype === 'int32') {
    for (let i = 0; i < flat.length; i++) {
      const x = Number(flat[i]);
      if (!Number.isInteger(x)) {
        t.dispose();
        throw new SimdgradError(`tensor: int32 data must be integers (element ${i} is ${x})`);
      }
      v.i32[start + i] = x;
    }
  } else {
    if (data instanceof Float32Array) v.f32.set(data, start);
    else for (let i = 0; i < flat.length; i++) v.f32[start + i] = Number(flat[i]);
  }
  return finish('tensor', t, opts);
}

function filled(op: string, shape: readonly number[], value: number, opts: TensorOptions): Tensor {
  const dtype = checkDtype(op, opts.dtype);
  const t = empty(checkShape(op, shape), dtype);
  getBackend().fill(dtype, t.ptr, t.size, value);
  return finish(op, t, opts);
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('zeros', shape, 0, opts);
}

export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('ones', shape, 1, opts);
}

export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  if (typeof value !== 'number') throw new SimdgradError(`full: value must be a number (got ${typeof value})`);
  return filled('full', shape, value, opts);
}

export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...opts });
}

export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, ...opts });
}

/**
 * Values from start (inclusive) to end (exclusive) by step; `arange(5)` is 0…4.
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) { end = start; start = 0; }
  for (const [name, v] of [['start', start], ['end', end], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SimdgradError(`arange: ${name} must be a finite number (got ${String(v)})`);
  }
  if (step === 0) throw new SimdgradError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = start + i * step;
  return tensor(values, { shape: [n], ...opts });
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new SimdgradError(`linspace: steps must be a non-negative integer (got ${steps})`);
  const values = new Float64Array(steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  for (let i = 0; i < steps; i++) values[i] = i === steps - 1 && steps > 1 ? end : start + i * step;
  return tensor(values, { shape: [steps], ...opts });
}

function randomFilled(op: string, shape: readonly number[], opts: TensorOptions, next: () => number): Tensor {
  const dtype = checkDtype(op, opts.dtype);
  const t = empty(checkShape(op, shape), dtype);
  const v = t.backend.heap.views();
  const arr = dtype === 'int32' ? v.i32 : v.f32;
  const start = t.ptr >>> 2;
  for (let i = 0; i < t.size; i++) arr[start + i] = next();
  return finish(op, t, opts);
}

/** Uniform in [0, 1). */
export function rand(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return randomFilled('rand', shape, opts, () => generator.uniform());
}

/** Standard normal. */
export function randn(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return randomFilled('randn', shape, opts, () => generator.normal());
}

/** Uniform integers in [low, high) (int32 unless dtype says otherwise). */
export function randint(low: number, high: number, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new SimdgradError(`randint: expected integers low < high (got low ${low}, high ${high})`);
  }
  return randomFilled('randint', shape, { dtype: 'int32', ...opts }, () => generator.int(low, high));
}

/** Uniform in [low, high) — for initialisers. */
export function uniform(shape: readonly number[], low: number, high: number, opts: TensorOptions = {}): Tensor {
  return randomFilled('uniform', shape, opts, () => low + (high - low) * generator.uniform());
}

/** Normal with the given mean and std — for initialisers. */
export function normal(shape: readonly number[], mean: number, std: number, opts: TensorOptions = {}): Tensor {
  return randomFilled('normal', shape, opts, () => mean + std * generator.normal());
}
