/**
 * The tfjs-backend-wasm peer, set up the same way for every bench: WebAssembly SIMD on, one thread.
 *
 * NOTE: in Node, tfjs-backend-wasm 4.22 reports WASM_HAS_MULTITHREAD_SUPPORT = false (tfjs#3830), so
 * it loads `tfjs-backend-wasm-simd.wasm` (XNNPACK, single thread). We still set both flags and
 * `setThreadsCount(1)` explicitly, and check the result, so a future version cannot silently go wide.
 */
import type * as TfCore from '@tensorflow/tfjs-core';

export type Tf = typeof TfCore;

export interface TfjsWasm {
  tf: Tf;
  version: string;
  threads: number;
  simd: boolean;
}

let loaded: Promise<TfjsWasm> | undefined;

/** Loads tfjs-core + tfjs-backend-wasm once (SIMD, 1 thread); throws when they are not installed. */
export function loadTfjsWasm(): Promise<TfjsWasm> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<TfjsWasm> {
  const tf = (await import('@tensorflow/tfjs-core')) as Tf;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('bench: tfjs: the wasm backend failed to initialize');
  await tf.ready();
  const threads = wasm.getThreadsCount();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  if (threads !== 1 || !simd) {
    throw new Error(`bench: tfjs: expected SIMD on 1 thread (got simd=${simd}, threads=${threads})`);
  }
  return { tf, version: wasm.version_wasm, threads, simd };
}
