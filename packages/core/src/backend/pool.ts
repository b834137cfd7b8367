/**
 * The thread pool of the wasm backend: (threads − 1) workers that instantiate the same compiled kernel
 * module on one shared `WebAssembly.Memory`, each waiting on its own mailbox slot (a small block of
 * that memory, allocated from the heap). The calling thread posts one job per worker (kernel id +
 * numeric arguments), runs its own share, then waits for the others. Workers are Node
 * `worker_threads` (imported dynamically, so the core stays browser-safe) or Web Workers started from
 * a Blob of an inlined source (pool-worker.ts), which works unchanged after bundling.
 *
 * Waiting: a worker spins for `spinMicros` after each job (the next job of a training step usually
 * comes within microseconds; waking a sleeping thread costs as much as a small job), then sleeps in
 * `Atomics.wait`. The caller spins for the same time, then sleeps too, except where the JS thread may
 * not block (a browser's main thread): there it spins until done — run the engine in a Web Worker.
 *
 * Who splits the work, and how, is the backend's business (wasm.ts): every output element is computed
 * by exactly one thread with the same kernel code, so results do not depend on the thread count.
 *
 * @example
 * ```ts
 * const pool = await ThreadPool.create({ module, memory, heap, kernels, workers: 1 });
 * const a = pool.args(0);
 * a[0] = UnaryOp.exp; a[1] = out + half * 4; a[2] = x + half * 4; a[3] = n - half;
 * pool.post(0, 'unaryF32');
 * kernels.unaryF32(UnaryOp.exp, out, x, half, 0, 0); // the caller's share
 * pool.wait();
 * ```
 */
import type { KernelExports } from '@simdgrad/kernels';
import { SimdgradError } from '../errors.js';
import type { Heap } from './heap.js';
import { ARGS_BYTE, MAX_ARGS, SLOT, SLOT_BYTES, workerSource } from './pool-worker.js';

/** The kernels a worker can run (their index is the job's kernel id). */
export const POOL_KERNELS = [
  'matmulRowsF32', 'matmulF32', 'unaryF32', 'unaryGradF32', 'binaryF32',
  'sgdStepF32', 'adamStepF32', 'rmspropStepF32', 'adagradStepF32', 'fillF32', 'copyBytes',
  'conv3x3WinogradF32', 'conv3x3WinogradWeightGradF32', 'conv3x3WinogradInputGradF32',
  'conv2dDirectF32', 'conv2dWeightGradDirectF32', 'maxPool2dF32', 'maxPool2dGradSetF32',
  'attentionF32', 'attentionGradF32',
] as const;
export type PoolKernel = (typeof POOL_KERNELS)[number];

/** Default busy-wait before sleeping, in microseconds (both the workers and the caller). */
export const DEFAULT_SPIN_MICROS = 200;
/** `threads: 'auto'` uses at most this many threads. */
export const AUTO_MAX_THREADS = 2;

export interface PoolOptions {
  /** The compiled shared-memory kernel build (`loadKernels(...).module`). */
  module: WebAssembly.Module;
  /** The shared memory the module was instantiated on. */
  memory: WebAssembly.Memory;
  /** The allocator over `memory` (the mailbox block comes from it). */
  heap: Heap;
  /** The caller's instance of the same module (it runs the jobs no worker has claimed yet). */
  kernels: KernelExports;
  /** Number of workers (threads − 1), ≥ 1. */
  workers: number;
  /** Busy-wait before `Atomics.wait`, in µs (default {@link DEFAULT_SPIN_MICROS}). */
  spinMicros?: number;
  /** Give up when a worker is not ready after this long (default 20 s). */
  startTimeoutMs?: number;
}

/** Where threads can run, or why they cannot. */
export type ThreadSupport = { ok: true; kind: 'node' | 'web' } | { ok: false; reason: string };

interface AnyWorker {
  terminate(): unknown;
}

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/** Can this runtime run the pool at all? (Synchronous checks; starting a worker can still fail.) */
export function threadSupport(): ThreadSupport {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (!isNode() && g.crossOriginIsolated === false) {
    return {
      ok: false,
      reason: 'not cross-origin isolated, so no SharedArrayBuffer (help: serve the page with the headers ' +
        'Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    };
  }
  if (typeof SharedArrayBuffer === 'undefined' || typeof Atomics === 'undefined') {
    return { ok: false, reason: 'SharedArrayBuffer is unavailable in this runtime' };
  }
  if (isNode()) return { ok: true, kind: 'node' };
  if (typeof g.Worker !== 'function') return { ok: false, reason: 'this runtime has no Worker API' };
  return { ok: true, kind: 'web' };
}

/** Logical CPUs (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` elsewhere), or 1. */
export async function hardwareThreads(): Promise<number> {
  if (isNode()) {
    try {
      const name = 'node:os';
      const os = (await import(/* @vite-ignore */ name)) as { availableParallelism?: () => number; cpus(): unknown[] };
      return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
    } catch {
      // fall through to navigator
    }
  }
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return Math.max(1, nav?.hardwareConcurrency ?? 1);
}

/** See the module comment. Create with {@link ThreadPool.create}; stop with {@link ThreadPool.shutdown}. */
export class ThreadPool {
  /** Number of workers (the pool runs on workers + 1 threads, counting the caller). */
  readonly workers: number;
  /** Whether the caller may sleep in Atomics.wait (false on a browser's main thread: it spins). */
  readonly callerCanBlock: boolean;
  private readonly heap: Heap;
  private readonly kernels: KernelExports;
  private readonly mailbox: number;
  private readonly handles: AnyWorker[];
  /** Views of the mailbox block. A shared buffer is never detached by memory.grow, and the block lies
   * below the size the memory had when it was allocated, so these stay valid (unlike heap views). */
  private readonly i32: Int32Array;
  private readonly argViews: Float64Array[];
  private readonly seqs: Int32Array;
  private readonly busy: Uint8Array;
  private readonly spinMs: number;
  private alive = true;

  private constructor(heap: Heap, kernels: KernelExports, mailbox: number, handles: AnyWorker[], spinMicros: number,
    callerCanBlock: boolean) {
    this.heap = heap;
    this.kernels = kernels;
    this.mailbox = mailbox;
    this.handles = handles;
    this.workers = handles.length;
    this.spinMs = spinMicros / 1000;
    this.callerCanBlock = callerCanBlock;
    const buffer = heap.memory.buffer;
    this.i32 = new Int32Array(buffer, mailbox, (this.workers * SLOT_BYTES) >> 2);
    this.argViews = handles.map((_, w) => new Float64Array(buffer, mailbox + w * SLOT_BYTES + ARGS_BYTE, MAX_ARGS));
    this.seqs = new Int32Array(this.workers);
    this.busy = new Uint8Array(this.workers);
  }

  /**
   * Starts `options.workers` workers on the shared memory and resolves when every one has
   * instantiated the kernels. Rejects (after stopping any started worker) with the reason when the
   * runtime cannot run them; the caller then stays single-threaded.
   */
  static async create(options: PoolOptions): Promise<ThreadPool> {
    const support = threadSupport();
    if (!support.ok) throw new SimdgradError(`threads: ${support.reason}`);
    const { memory, heap, module } = options;
    if (!(memory.buffer instanceof SharedArrayBuffer)) {
      throw new SimdgradError('threads: the memory is not shared (help: create it with { shared: true, maximum })');
    }
    const workers = Math.floor(options.workers);
    if (!(workers >= 1)) throw new SimdgradError(`threads: workers must be ≥ 1 (got ${options.workers})`);
    const spinMicros = Math.max(0, options.spinMicros ?? DEFAULT_SPIN_MICROS);
    const mailbox = heap.alloc(workers * SLOT_BYTES);
    heap.views().u8.fill(0, mailbox, mailbox + workers * SLOT_BYTES);
    const handles: AnyWorker[] = [];
    try {
      const spawn = support.kind === 'node' ? await nodeSpawner() : webSpawner();
      try {
        const started = Array.from({ length: workers }, (_, w) => spawn({
          type: 'start', module, memory, slot: mailbox + w * SLOT_BYTES, kernels: [...POOL_KERNELS], spinMicros,
        }, options.startTimeoutMs ?? 20_000, (h) => handles.push(h)));
        await Promise.all(started);
      } finally {
        spawn.done?.();
      }
    } catch (e) {
      for (const h of handles) void h.terminate();
      heap.free(mailbox);
      throw e instanceof SimdgradError ? e : new SimdgradError(`threads: cannot start the workers (${(e as Error)?.message ?? e})`);
    }
    return new ThreadPool(heap, options.kernels, mailbox, handles, spinMicros, canBlock(new Int32Array(memory.buffer, mailbox, 1)));
  }

  /** The argument block of worker `w` (MAX_ARGS float64s; pointers and counts are exact as f64). */
  args(w: number): Float64Array {
    return this.argViews[w]!;
  }

  /** Starts `kernel` on worker `w` with the arguments written to `args(w)`. At most one job per worker at a time. */
  post(w: number, kernel: PoolKernel): void {
    if (!this.alive) throw new SimdgradError('threads: the pool was shut down');
    if (this.busy[w]) throw new SimdgradError(`threads: worker ${w} still has a job (call wait() first)`);
    const base = (w * SLOT_BYTES) >> 2;
    const i32 = this.i32;
    i32[base + SLOT.KERNEL] = POOL_KERNELS.indexOf(kernel);
    const seq = (this.seqs[w]! + 1) | 0;
    this.seqs[w] = seq;
    this.busy[w] = 1;
    // the seq-cst stores publish the plain writes above (whoever claims the job reads them after its
    // CAS on CLAIM); the worker checks WORKER_SLEEPS in the reverse order (store flag, then wait on
    // SEQ), so one of the two always sees the other
    Atomics.store(i32, base + SLOT.CLAIM, seq);
    Atomics.store(i32, base + SLOT.SEQ, seq);
    if (Atomics.load(i32, base + SLOT.WORKER_SLEEPS) !== 0) Atomics.notify(i32, base + SLOT.SEQ, 1);
  }

  /**
   * Returns when every posted job has finished; a job its worker has not claimed yet runs here, on
   * the caller (same kernel, same arguments) unless `steal` is false. Throws if a job failed.
   */
  wait(steal = true): void {
    const i32 = this.i32;
    let failed = -1;
    for (let w = 0; w < this.workers; w++) {
      if (!this.busy[w]) continue;
      const base = (w * SLOT_BYTES) >> 2;
      const seq = this.seqs[w]!;
      if (Atomics.load(i32, base + SLOT.DONE) !== seq) {
        if (steal && Atomics.compareExchange(i32, base + SLOT.CLAIM, seq, -1) === seq) {
          this.busy[w] = 0;
          try {
            this.runHere(w);
          } catch {
            failed = w; // finish waiting for the others first
          }
          continue;
        }
        this.waitFor(base, seq);
      }
      this.busy[w] = 0;
      if (i32[base + SLOT.ERROR] !== 0) {
        i32[base + SLOT.ERROR] = 0;
        failed = w;
      }
    }
    if (failed >= 0) throw new SimdgradError(`threads: the kernel of share ${failed + 1} failed (see the console)`);
  }

  /** Runs worker w's posted job on the caller. */
  private runHere(w: number): void {
    const a = this.argViews[w]!;
    const fn = this.kernels[POOL_KERNELS[this.i32[(w * SLOT_BYTES >> 2) + SLOT.KERNEL]!]!] as (...args: number[]) => unknown;
    Reflect.apply(fn, undefined, Array.from(a));
  }

  private waitFor(base: number, seq: number): void {
    const i32 = this.i32;
    const t0 = performance.now();
    let n = 0;
    while (Atomics.load(i32, base + SLOT.DONE) !== seq) {
      if ((++n & 1023) !== 0 || !this.callerCanBlock || performance.now() - t0 <= this.spinMs) continue;
      // sleep until the worker stores DONE (same flag handshake as in post())
      for (;;) {
        Atomics.store(i32, base + SLOT.CALLER_SLEEPS, 1);
        const done = Atomics.load(i32, base + SLOT.DONE);
        if (done !== seq) Atomics.wait(i32, base + SLOT.DONE, done, 1000);
        Atomics.store(i32, base + SLOT.CALLER_SLEEPS, 0);
        if (Atomics.load(i32, base + SLOT.DONE) === seq) return;
      }
    }
  }

  /** Whether the workers are running (false after shutdown). */
  get running(): boolean {
    return this.alive;
  }

  /**
   * Stops the workers (each leaves its loop, then is terminated) and frees the mailbox. Idempotent.
   * Not needed for the process to exit in Node: the workers are unref()'d.
   */
  async shutdown(): Promise<void> {
    if (!this.alive) return;
    this.wait();
    this.alive = false;
    for (let w = 0; w < this.workers; w++) {
      const base = (w * SLOT_BYTES) >> 2;
      this.i32[base + SLOT.KERNEL] = -1;
      Atomics.store(this.i32, base + SLOT.SEQ, (this.seqs[w]! + 1) | 0);
      Atomics.notify(this.i32, base + SLOT.SEQ);
    }
    await Promise.all(this.handles.map((h) => Promise.resolve(h.terminate()).catch(() => undefined)));
    this.heap.free(this.mailbox);
  }
}

/** Atomics.wait throws on a thread that may not block (a browser's main thread); elsewhere a mismatched value returns at once. */
function canBlock(probe: Int32Array): boolean {
  try {
    Atomics.wait(probe, 0, probe[0]! + 1, 0);
    return true;
  } catch {
    return false;
  }
}

interface StartMessage {
  type: 'start';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  slot: number;
  kernels: string[];
  spinMicros: number;
}

type Spawner = ((msg: StartMessage, timeoutMs: number, track: (h: AnyWorker) => void) => Promise<void>) & { done?: () => void };

type ReplyMessage = { type: 'ready' } | { type: 'error'; message: string };

function readyPromise(timeoutMs: number, subscribe: (onMessage: (m: ReplyMessage) => void, onError: (e: unknown) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a worker was not ready after ${timeoutMs} ms`)), timeoutMs);
    subscribe((m) => {
      clearTimeout(timer);
      if (m.type === 'ready') resolve();
      else reject(new Error(`a worker could not instantiate the kernels: ${m.message}`));
    }, (e) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String((e as { message?: string })?.message ?? e)));
    });
  });
}

async function nodeSpawner(): Promise<Spawner> {
  let wt: typeof import('node:worker_threads');
  try {
    // a computed specifier, so bundlers for the browser leave it alone
    const name = 'node:worker_threads';
    wt = (await import(/* @vite-ignore */ name)) as typeof import('node:worker_threads');
  } catch (e) {
    throw new SimdgradError(`threads: worker_threads is unavailable (${(e as Error)?.message ?? e})`);
  }
  const source = workerSource('node');
  return async (msg, timeoutMs, track) => {
    const worker = new wt.Worker(source, { eval: true });
    track(worker);
    const ready = readyPromise(timeoutMs, (onMessage, onError) => {
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
    worker.postMessage(msg);
    await ready;
    worker.removeAllListeners('error');
    // let the process exit while the worker sleeps in Atomics.wait
    worker.unref();
  };
}

function webSpawner(): Spawner {
  const url = URL.createObjectURL(new Blob([workerSource('web')], { type: 'text/javascript' }));
  const spawn: Spawner = async (msg, timeoutMs, track) => {
    const worker = new Worker(url, { name: 'simdgrad-thread' });
    track(worker);
    const ready = readyPromise(timeoutMs, (onMessage, onError) => {
      worker.onmessage = (e: MessageEvent<ReplyMessage>) => onMessage(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        onError(new Error(e.message || 'the worker script failed to load (a Content-Security-Policy without blob: in worker-src?)'));
      };
    });
    worker.postMessage(msg);
    await ready;
    worker.onmessage = null;
    worker.onerror = null;
  };
  spawn.done = () => URL.revokeObjectURL(url);
  return spawn;
}
