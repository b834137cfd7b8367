import type { Backend } from './backend/backend.js';
import { WasmBackend, createWasmBackend, type WasmBackendOptions } from './backend/wasm.js';
import { SimdgradError } from './errors.js';

export interface InitOptions extends WasmBackendOptions {
  /** 'wasm' (default) or 'reference' (the slow float64 oracle, for tests and debugging). */
  backend?: 'wasm' | 'reference';
  /**
   * Threads for the kernels: 1 (default), n, or 'auto' = min(2, logical CPUs). More than one needs
   * SharedArrayBuffer: Node (worker_threads), or a cross-origin-isolated page (COOP: same-origin,
   * COEP: require-corp). Elsewhere the engine runs on one thread and `backendInfo().threadsNote` says
   * why. In a browser, call init from a Web Worker: the page's main thread may not sleep in
   * Atomics.wait, so there it busy-waits for the other threads. Results do not depend on the count.
   */
  threads?: number | 'auto';
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
 * engine ready; `threads` starts the worker pool (see {@link InitOptions.threads}). Idempotent: later
 * calls return the same backend and ignore their options.
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
      // Loaded on demand: a bundle that never asks for the float64 oracle leaves it out (code splitting).
      const { ReferenceBackend } = await import('./backend/reference.js');
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

/**
 * What the engine runs on: `threads` in use, and when that is 1, `threadsNote` says why (not asked
 * for, no SharedArrayBuffer, not cross-origin isolated, worker_threads unavailable, ...).
 */
export function backendInfo(): BackendInfo {
  const b = getBackend();
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ?? typeof SharedArrayBuffer !== 'undefined';
  const info: BackendInfo = {
    backend: b.name,
    simd: b.name === 'wasm',
    relaxedSimd: b.name === 'wasm' && (b as WasmBackend).build === 'relaxed',
    threads: 1,
    isolated,
  };
  if (b instanceof WasmBackend) {
    info.threads = b.threads;
    const note = b.threadsNote;
    if (note !== undefined) info.threadsNote = note;
  } else {
    info.threadsNote = 'single-threaded: the reference backend runs on one thread';
  }
  return info;
}

/**
 * Stops the worker threads of the active backend (it keeps working on one thread). Not needed for a
 * Node process to exit (the workers are unref()'d); useful in long-lived pages and between test suites.
 */
export async function shutdown(): Promise<void> {
  const b = current;
  if (b instanceof WasmBackend) await b.shutdown();
}
