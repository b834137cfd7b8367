import type { Backend } from './backend/backend.js';
import { ReferenceBackend } from './backend/reference.js';
import { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backend/wasm.js';
import { SimdgradError } from './errors.js';

export interface InitOptions extends WasmBackendOptions {
  /** 'wasm' (default) or 'reference' (the slow float64 oracle, for tests and debugging). */
  backend?: 'wasm' | 'reference';
}

export interface BackendInfo {
  backend: 'wasm' | 'reference';
  simd: boolean;
  relaxedSimd: boolean;
  threads: number;
  isolated: boolean;
  /** Why the thread pool is off, when it is. */
  threadsNote?: string;
}

let current: Backend | null = null;
let pending: Promise<Backend> | null = null;
let wasm: WasmBackend | null = null;

/**
 * Loads the kernels (relaxed SIMD where the runtime has it, plain SIMD otherwise) and makes the
 * engine ready. Idempotent: later calls return the same backend.
 *
 * @example
 * ```ts
 * import { init } from '@simdgrad/core';
 * await init();
 * ```
 */
export function init(options: InitOptions = {}): Promise<Backend> {
  if (pending !== null) return pending;
  pending = (async () => {
    if (options.backend === 'reference') {
      current = new ReferenceBackend();
    } else {
      wasm = await createWasmBackend(options);
      current = wasm;
    }
    return current;
  })();
  pending.catch(() => { pending = null; });
  return pending;
}

/** The active backend; throws a clear error before `init()` has finished. */
export function getBackend(): Backend {
  if (current === null) {
    throw new SimdgradError('simdgrad: the engine is not initialised (help: `await init()` once before using tensors)');
  }
  return current;
}

/** Replaces the active backend (tests run the same cases on 'wasm' and 'reference'). */
export function setBackend(backend: Backend): void {
  current = backend;
  pending = Promise.resolve(backend);
}

/** What the engine runs on. */
export function backendInfo(): BackendInfo {
  const b = getBackend();
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ?? typeof SharedArrayBuffer !== 'undefined';
  return {
    backend: b.name,
    simd: b.name === 'wasm',
    relaxedSimd: b.name === 'wasm' && (b as WasmBackend).build === 'relaxed',
    threads: 1,
    isolated,
    threadsNote: 'single-threaded: the worker pool is not enabled in this build',
  };
}
