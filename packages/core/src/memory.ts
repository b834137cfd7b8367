// Deterministic memory management for tensors: scopes, keep, dispose, and a FinalizationRegistry as a
// safety net. See scope() for the rules.
import type { Backend } from './backend/backend.js';
import { SimdgradError } from './errors.js';
import type { Tensor } from './tensor.js';

/** A block of wasm memory shared by a tensor and its views; freed when the last of them is disposed. */
export class Storage {
  refs = 1;
  freed = false;
  /** Whether the safety net (the FinalizationRegistry) watches this block; see {@link watch}. */
  private watched = false;
  constructor(readonly backend: Backend, readonly ptr: number, readonly bytes: number) {}

  /**
   * Puts the block under the safety net, once. Only blocks that outlive every scope need it: a scope
   * holds its tensors strongly and frees them itself. NOTE: registering costs about as much as the
   * rest of a small op (≈ 0.6 µs plus GC work), so blocks made and freed inside a scope skip it.
   */
  watch(): void {
    if (this.watched || this.freed || registry === null) return;
    this.watched = true;
    registry.register(this, { backend: this.backend, ptr: this.ptr }, this);
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (this.freed) return;
    if (--this.refs === 0) {
      this.freed = true;
      if (this.watched) registry?.unregister(this);
      this.backend.heap.free(this.ptr);
    }
  }
}

// NOTE: the safety net only frees storage whose tensors were all garbage collected without dispose();
// it runs whenever the JS engine decides, so it is never what keeps a training loop flat.
const registry = typeof FinalizationRegistry === 'undefined' ? null
  : new FinalizationRegistry<{ backend: Backend; ptr: number }>(({ backend, ptr }) => {
    if (backend.heap.sizeOf(ptr) !== undefined) backend.heap.free(ptr);
  });

const scopes: Set<Tensor>[] = [];
let liveTensors = 0;

/** Called for every new tensor: counts it and puts it in the innermost scope (outside any: the safety net watches it). */
export function track(t: Tensor): void {
  liveTensors++;
  const inner = scopes[scopes.length - 1];
  if (inner !== undefined) inner.add(t);
  else t.storage.watch();
}

/** Called when a tensor is disposed. */
export function untrackDisposed(t: Tensor): void {
  liveTensors--;
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.delete(t)) break;
}

/**
 * Takes tensors out of every enclosing scope, so no scope frees them (module parameters, optimizer
 * state, gradients). Returns its argument.
 */
export function keep<T extends Tensor>(t: T): T {
  for (let i = scopes.length - 1; i >= 0; i--) if (scopes[i]!.delete(t)) break;
  t.storage.watch();
  return t;
}

/** Number of tensors created and not yet disposed (for leak tests). */
export function liveTensorCount(): number {
  return liveTensors;
}

function collectTensors(value: unknown, isTensor: (v: unknown) => v is Tensor, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, isTensor, out, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collectTensors(v, isTensor, out, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, isTensor, out, seen);
  }
}

let tensorCheck: ((v: unknown) => v is Tensor) | null = null;
/** tensor.ts registers its instanceof check here (avoids an import cycle at load time). */
export function setTensorCheck(check: (v: unknown) => v is Tensor): void {
  tensorCheck = check;
}

/**
 * Runs `fn` and frees every tensor created inside it, except:
 * - the tensors it returns (a tensor, or arrays/objects/Maps of them), which move to the enclosing scope;
 * - tensors the returned ones still need for a later `backward()` (their graph), which are freed when
 *   that backward releases the graph, or when the enclosing scope ends without needing them;
 * - tensors passed to `keep()` (parameters, gradients, optimizer state).
 * Returns what `fn` returns. If `fn` throws, everything created inside is freed.
 *
 * @example
 * ```ts
 * const lossValue = scope(() => {
 *   const loss = model.forward(x).sub(y).square().mean();
 *   loss.backward();
 *   return loss.item();
 * });
 * ```
 */
export function scope<T>(fn: () => T): T {
  const created = new Set<Tensor>();
  scopes.push(created);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of created) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of created) t.dispose();
    throw new SimdgradError('scope: fn returned a Promise; scope() is synchronous (help: await inside, and run the synchronous tensor work in scope())');
  }
  const kept = new Set<Tensor>();
  if (tensorCheck !== null) collectTensors(result, tensorCheck, kept);
  const graph = new Set<Tensor>();
  for (const t of kept) t.collectGraph(graph);
  const parent = scopes[scopes.length - 1];
  for (const t of created) {
    if (kept.has(t)) {
      t.heldByGraph = false;
      if (parent) parent.add(t); else t.storage.watch();
    } else if (graph.has(t)) {
      t.heldByGraph = true;
      if (parent) parent.add(t); else t.storage.watch();
    } else {
      t.dispose();
    }
  }
  return result;
}
