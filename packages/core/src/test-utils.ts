// Helpers shared by the core tests (not part of the public entry).
import { expect } from 'vitest';
import type { Backend, DType } from './backend/backend.js';
import { ReferenceBackend } from './backend/reference.js';
import { createWasmBackend } from './backend/wasm.js';
import { setBackend } from './engine.js';
import { SimdgradError } from './errors.js';
import { gradcheck } from './autograd/gradcheck.js';
import { keep, scope } from './memory.js';
import { manualSeed, tensor } from './ops/creation.js';
import { Generator } from './random.js';
import type { Tensor } from './tensor.js';

let backends: { wasm: Backend; reference: Backend } | null = null;

/** Both backends, created once per test file. */
export async function getBackends(): Promise<{ wasm: Backend; reference: Backend }> {
  backends ??= { wasm: await createWasmBackend({ initialPages: 64 }), reference: new ReferenceBackend() };
  return backends;
}

/** Runs `fn` with the given backend active. */
export function onBackend<T>(b: Backend, fn: () => T): T {
  setBackend(b);
  return fn();
}

export interface InputSpec {
  shape: number[];
  /** value range (default [-2, 2]) */
  range?: [number, number];
  requiresGrad?: boolean;
  int?: [number, number];
}

/** Deterministic data for an input spec. */
export function dataFor(spec: InputSpec, seed: number): Float32Array | Int32Array {
  const g = new Generator(seed);
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.int) return Int32Array.from({ length: n }, () => g.int(spec.int![0], spec.int![1]));
  const [lo, hi] = spec.range ?? [-2, 2];
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * g.uniform());
}

function makeInputs(specs: InputSpec[], seed: number): Tensor[] {
  return specs.map((s, i) => {
    const d = dataFor(s, seed * 31 + i);
    return tensor(d, { shape: s.shape, dtype: s.int ? 'int32' : 'float32', requiresGrad: s.int ? false : (s.requiresGrad ?? true) });
  });
}

export function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-5, what = ''): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
    }
  }
}

/**
 * One line per op case: the forward on the wasm backend against the reference backend, and the
 * backward (on both) against central finite differences.
 */
export async function checkOp(name: string, fn: (...xs: Tensor[]) => Tensor, specs: InputSpec[],
  opts: { rtol?: number; atol?: number; grad?: boolean; gradTol?: { atol?: number; rtol?: number; eps?: number } } = {}): Promise<void> {
  const { wasm, reference } = await getBackends();
  const results = [wasm, reference].map((b) => onBackend(b, () => scope(() => {
    manualSeed(7);
    const xs = makeInputs(specs, 1);
    const y = fn(...xs);
    return { shape: [...y.shape], data: Array.from(y.toFloat32Array()), dtype: y.dtype };
  })));
  const [w, r] = results as [{ shape: number[]; data: number[]; dtype: string }, { shape: number[]; data: number[]; dtype: string }];
  expect(w.shape, `${name}: shape`).toEqual(r.shape);
  expect(w.dtype, `${name}: dtype`).toBe(r.dtype);
  expectAllClose(w.data, r.data, opts.rtol ?? 2e-5, opts.atol ?? 1e-5, `${name} forward`);
  if (opts.grad === false || !specs.some((s) => !s.int && s.requiresGrad !== false)) return;
  for (const b of [wasm, reference]) {
    onBackend(b, () => scope(() => {
      const xs = makeInputs(specs, 1);
      const ok = gradcheck((...args) => { manualSeed(7); return fn(...args); }, xs, { atol: 2e-3, rtol: 2e-2, ...opts.gradTol });
      expect(ok, `${name} gradcheck on ${b.name}`).toBe(true);
    }));
  }
}

/** Raw kernel data for backend tests. */
export type Data = Float32Array | Int32Array;

/** Copies data into a fresh block of a backend's memory; returns its pointer. */
export function put(b: Backend, data: Data): number {
  const p = b.heap.alloc(Math.max(1, data.length) * 4);
  const v = b.heap.views();
  (data instanceof Int32Array ? v.i32 : v.f32).set(data, p >>> 2);
  return p;
}

/** Copies n elements out of a backend's memory. */
export function get(b: Backend, p: number, n: number, dtype: DType = 'float32'): Data {
  const v = b.heap.views();
  return (dtype === 'int32' ? v.i32 : v.f32).slice(p >>> 2, (p >>> 2) + n);
}

/** Replaces `p.grad` with a kept tensor of `g` (in `p`'s shape), freeing the old one, as `backward()` would. */
export function setGrad(p: Tensor, g: number[]): void {
  p.grad?.dispose();
  p.grad = keep(tensor(g, { shape: p.shape }));
}

/**
 * Takes one optimizer step per gradient of `grads` and checks the parameter after step i against
 * `want[i]` (e.g. the optimizer's formulas written out in float64).
 */
export function expectSteps(opt: { step(): void }, p: Tensor, grads: number[][], want: number[][], tol = 1e-6): void {
  expect(want.length, 'expectSteps: one expected parameter per step').toBe(grads.length);
  grads.forEach((g, i) => {
    setGrad(p, g);
    opt.step();
    expectAllClose(p.toFloat32Array(), want[i]!, tol, tol, `step ${i + 1}`);
  });
}

/** The largest |a[i] − b[i]|; fails the test when the lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length, 'maxAbsDiff: length').toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/**
 * One training step in a scope: zeroGrad, the loss from `loss()`, backward, step. Returns the loss value;
 * every temporary is freed.
 */
export function trainStep(opt: { zeroGrad(): void; step(): void }, loss: () => Tensor): number {
  return scope(() => {
    opt.zeroGrad();
    const l = loss();
    l.backward();
    opt.step();
    return l.item();
  });
}

/** The message of the SimdgradError `fn` throws; fails the test when it throws nothing or something else. */
export function errorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SimdgradError);
    return (e as Error).message;
  }
  throw new Error('expected a SimdgradError, nothing was thrown');
}
