/**
 * @simdgrad/kernels — the compute kernels of simdgrad, AssemblyScript compiled to WebAssembly SIMD.
 *
 * The `.wasm` bytes are embedded in the package's JavaScript (one lazily imported module per build), so a
 * plain `import` works in Node, browsers, Web Workers and every bundler, with no wasm paths to configure;
 * bundlers that split code ship only the build a runtime loads.
 *
 * @example
 * ```ts
 * import { loadKernels } from '@simdgrad/kernels';
 * const memory = new WebAssembly.Memory({ initial: 16 });
 * const k = await loadKernels({ memory });
 * console.log(k.build); // 'relaxed' or 'simd'
 * ```
 */
import type { KernelExports } from './abi.js';
import { applyBodyPatch, isBodyPatch } from './body-patch.js';
import { fnv1a } from './fnv1a.js';
import { buildFiles, patchBase, wasmBase64 } from './generated/wasm-bytes.js';
import { withSharedMemoryImport } from './shared-memory.js';

export * from './abi.js';
export { SHARED_MAX_PAGES, withSharedMemoryImport } from './shared-memory.js';
export { applyBodyPatch, isBodyPatch, makeBodyPatch } from './body-patch.js';

/** Which compiled variant runs. */
export type KernelBuild = 'simd' | 'relaxed';

export interface LoadOptions {
  /** The memory the module imports as `env.memory`; must be shared (`shared: true`) for the threaded builds. */
  memory: WebAssembly.Memory;
  /** 'auto' (default) uses relaxed SIMD where the runtime accepts it; true requires it; false never uses it. */
  relaxed?: boolean | 'auto';
  /** Use the shared-memory build (for worker threads). Defaults to whether `memory.buffer` is a SharedArrayBuffer. */
  shared?: boolean;
}

export interface LoadedKernels {
  exports: KernelExports;
  module: WebAssembly.Module;
  build: KernelBuild;
  shared: boolean;
}

const moduleCache = new Map<string, WebAssembly.Module>();

/**
 * base64 → bytes, the fastest way the runtime has: `Uint8Array.fromBase64` (recent browsers), Node's
 * Buffer (≈ 0.6 ms for a build, against ≈ 11 ms for the atob loop below), else atob.
 */
function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array<ArrayBuffer> }).fromBase64;
  if (typeof native === 'function') return native(b64);
  const NodeBuffer = (globalThis as { Buffer?: { from(s: string, enc: 'base64'): Uint8Array } }).Buffer;
  if (NodeBuffer !== undefined) {
    const b = NodeBuffer.from(b64, 'base64');
    // A Buffer may sit in a shared pool: copy out exactly its bytes.
    return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  }
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function variantName(build: KernelBuild, shared: boolean): string {
  return shared ? `${build}-shared` : build;
}

/**
 * A builtin Node module without an ESM `import()` (which costs several ms at startup): Node ≥ 20.16 has
 * `process.getBuiltinModule`. Undefined elsewhere.
 */
function nodeBuiltin<T>(name: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return proc?.getBuiltinModule?.(name) as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * In Node, the build's .wasm file shipped beside this module (dist/wasm/), if it is there and is exactly
 * the embedded build (length and hash): reading it takes ≈ 1 ms, importing the base64 module ≈ 6–8 ms.
 * Null in browsers, in bundles (no file beside them) and for any mismatch; the caller then decodes the
 * embedded bytes.
 */
function readBuildFile(build: KernelBuild): Uint8Array<ArrayBuffer> | null {
  const fs = nodeBuiltin<{ readFileSync(path: URL): Uint8Array }>('node:fs');
  const expected = buildFiles[build];
  if (fs === undefined || expected === undefined) return null;
  let bytes: Uint8Array;
  try {
    // a computed path, so that bundlers (Vite, webpack) do not copy the files into browser builds
    const rel = './wasm/' + 'kernels-' + build + '.wasm';
    bytes = fs.readFileSync(new URL(rel, import.meta.url));
  } catch {
    return null;
  }
  if (bytes.length !== expected.length || fnv1a(bytes) !== expected.fnv1a) return null;
  // a plain Uint8Array (not a Buffer) that owns its whole ArrayBuffer
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return new Uint8Array(bytes.buffer as ArrayBuffer);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * The bytes of one build decoded from the base64 embedded in the package (what bundles and browsers
 * use), the patched build made whole.
 */
export async function embeddedKernelBytes(build: KernelBuild): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = decodeBase64(await wasmBase64[build]());
  const base = patchBase[build] as KernelBuild | undefined;
  return base !== undefined && isBodyPatch(bytes) ? applyBodyPatch(await embeddedKernelBytes(base), bytes) : bytes;
}

/**
 * The raw bytes of one build (for workers, tools and size reports); `shared`: the same code with a
 * shared memory import (see shared-memory.ts).
 */
export async function kernelBytes(build: KernelBuild, shared = false): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = readBuildFile(build) ?? await embeddedKernelBytes(build);
  return shared ? withSharedMemoryImport(bytes) : bytes;
}

/** A tiny module with one v128 function: does this runtime run WebAssembly SIMD at all? */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10,
  22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);

/** A tiny module whose one function uses f32x4.relaxed_madd: does this runtime run relaxed SIMD? */
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11]);

let nodeFlagsSet = false;

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';
}

/**
 * Node-only V8 flags, set through `v8.setFlagsFromString` before the first compile (Node refuses them in
 * NODE_OPTIONS): Node 20 ships relaxed SIMD behind `--experimental-wasm-relaxed-simd`, and
 * `--no-wasm-dynamic-tiering` makes V8 optimise every kernel in the background right after the fast
 * baseline compile, instead of waiting for each kernel to become hot (the first training steps would
 * otherwise run unoptimised SIMD code, several times slower). Browsers need neither.
 */
async function setNodeFlags(): Promise<void> {
  if (nodeFlagsSet) return;
  nodeFlagsSet = true;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return;
  try {
    const v8name = 'node:v8';
    const v8 = nodeBuiltin<{ setFlagsFromString(flag: string): void }>(v8name) ??
      (await import(/* @vite-ignore */ v8name)) as { setFlagsFromString(flag: string): void };
    v8.setFlagsFromString('--no-wasm-dynamic-tiering');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // not Node, or the flags are gone: the plain SIMD build and default tiering still work
  }
}

/** Does this runtime accept WebAssembly SIMD (required) and relaxed SIMD (optional)? */
export function detectFeatures(): Promise<{ simd: boolean; relaxedSimd: boolean }> {
  features ??= detect();
  return features;
}

let features: Promise<{ simd: boolean; relaxedSimd: boolean }> | null = null;

async function detect(): Promise<{ simd: boolean; relaxedSimd: boolean }> {
  await setNodeFlags();
  const simd = WebAssembly.validate(SIMD_PROBE);
  if (!simd) return { simd, relaxedSimd: false };
  return { simd, relaxedSimd: WebAssembly.validate(RELAXED_PROBE) };
}

/**
 * Compiles (once per build, cached) and instantiates the kernels on `options.memory`.
 * Throws a clear error when the runtime lacks WebAssembly SIMD.
 */
export async function loadKernels(options: LoadOptions): Promise<LoadedKernels> {
  const shared = options.shared ?? (typeof SharedArrayBuffer !== 'undefined' && options.memory.buffer instanceof SharedArrayBuffer);
  const want = options.relaxed ?? 'auto';
  // In Node, feature detection first loads node:v8 (to set flags), which takes a few ms: read and
  // decode the likely build meanwhile. Browsers detect at once and fetch only the build they use.
  const guess: KernelBuild = want === false ? 'simd' : 'relaxed';
  let early: Promise<Uint8Array<ArrayBuffer>> | null = null;
  if (features === null && isNode() && !moduleCache.has(variantName(guess, shared))) {
    early = kernelBytes(guess, shared);
    early.catch(() => {}); // awaited below when used; unused when the runtime lacks relaxed SIMD
  }
  const found = await detectFeatures();
  if (!found.simd) {
    throw new Error('simdgrad: this JavaScript runtime does not support WebAssembly SIMD (128-bit), which simdgrad requires ' +
      '(help: use Node >= 16.4, Chrome/Edge >= 91, Firefox >= 89 or Safari >= 16.4)');
  }
  if (want === true && !found.relaxedSimd) {
    throw new Error('simdgrad: relaxed SIMD was requested (relaxed: true) but this runtime does not support it ' +
      '(help: pass relaxed: "auto" to fall back to plain SIMD)');
  }
  const build: KernelBuild = want !== false && found.relaxedSimd ? 'relaxed' : 'simd';
  const name = variantName(build, shared);
  let module = moduleCache.get(name);
  if (!module) {
    module = await WebAssembly.compile(await (early !== null && build === guess ? early : kernelBytes(build, shared)));
    moduleCache.set(name, module);
  }
  const instance = await WebAssembly.instantiate(module, { env: { memory: options.memory } });
  return { exports: instance.exports as unknown as KernelExports, module, build, shared };
}

/** Instantiates an already-compiled module (e.g. one posted to a worker) on a memory. */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as KernelExports;
}
