/**
 * The worker side of the thread pool, as a source string: the pool starts each worker from this text
 * (Node: `new Worker(source, { eval: true })`; browsers: a Blob URL), so no worker file has to be
 * found at run time and every bundler (esbuild for the demo, Vite, webpack) carries it along with no
 * configuration. It is plain ES2017 and imports nothing: the kernels arrive as a compiled
 * `WebAssembly.Module` and are instantiated on the shared memory exactly as `instantiateKernels` does
 * (`new WebAssembly.Instance(module, { env: { memory } })`).
 *
 * Protocol (see pool.ts for the slot layout): the pool posts one `start` message
 * `{ module, memory, slot, kernels, spinMicros }`; the worker answers `{ type: 'ready' }` (or
 * `{ type: 'error', message }`) and from then on never returns to its event loop: it waits for jobs
 * in its mailbox slot, an Int32Array/Float64Array block in the shared memory.
 */

/** Int32 indices inside a worker's slot (the slot is SLOT_BYTES bytes, 16-byte aligned). */
export const SLOT = {
  /** Job counter: the caller stores seq + 1 after writing the job. */
  SEQ: 0,
  /** The seq of the last finished job (written by the worker). */
  DONE: 1,
  /** Index into the kernel name list; -1 = quit. */
  KERNEL: 2,
  /** 1 while the worker sleeps in Atomics.wait on SEQ (the caller then notifies). */
  WORKER_SLEEPS: 3,
  /** 1 while the caller sleeps in Atomics.wait on DONE (the worker then notifies). */
  CALLER_SLEEPS: 4,
  /** Set to 1 when a kernel threw in the worker (the message goes to the console). */
  ERROR: 5,
  /**
   * The seq of the posted job while nobody has claimed it; whoever swaps it to -1 first (the worker,
   * or the caller once its own share is done) runs the job, so a worker that is slow to get a core
   * (an oversubscribed machine) costs no more than running its share on the caller.
   */
  CLAIM: 6,
} as const;
/** Byte offset of the Float64 argument block inside a slot. */
export const ARGS_BYTE = 32;
/** Arguments per job (every kernel call passes this many; wasm ignores the extra ones). */
export const MAX_ARGS = 24;
/** Bytes per worker slot (header + arguments, rounded up so slots do not share cache lines). */
export const SLOT_BYTES = 256;

/** Wrappers that adapt the two worker APIs to `on(message => …)` and `post(message)`. */
const NODE_PRELUDE = `const { parentPort } = require('node:worker_threads');
const on = (f) => parentPort.once('message', f);
const post = (m) => parentPort.postMessage(m);
`;
const WEB_PRELUDE = `const on = (f) => { self.onmessage = (e) => { self.onmessage = null; f(e.data); }; };
const post = (m) => self.postMessage(m);
`;

const BODY = `'use strict';
const SEQ = ${SLOT.SEQ}, DONE = ${SLOT.DONE}, KERNEL = ${SLOT.KERNEL}, WORKER_SLEEPS = ${SLOT.WORKER_SLEEPS};
const CALLER_SLEEPS = ${SLOT.CALLER_SLEEPS}, ERROR = ${SLOT.ERROR}, CLAIM = ${SLOT.CLAIM};
on((msg) => {
  let fns, i32, a;
  try {
    const instance = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } });
    fns = msg.kernels.map((name) => instance.exports[name]);
    for (let i = 0; i < fns.length; i++) {
      if (typeof fns[i] !== 'function') throw new Error('the kernel module has no export ' + msg.kernels[i]);
    }
    // The slot lies below the memory size at start; a shared buffer is never detached by a grow, so
    // these views stay valid for the worker's whole life.
    i32 = new Int32Array(msg.memory.buffer, msg.slot, ${ARGS_BYTE / 4});
    a = new Float64Array(msg.memory.buffer, msg.slot + ${ARGS_BYTE}, ${MAX_ARGS});
  } catch (e) {
    post({ type: 'error', message: String(e && e.message || e) });
    return;
  }
  // NOTE: read the last job number before saying ready: the caller may post the first job as soon as
  // it hears 'ready', and a job posted before this load would be taken for an old one and never run
  let last = Atomics.load(i32, SEQ);
  post({ type: 'ready' });
  const spinMs = msg.spinMicros / 1000;
  const now = typeof performance !== 'undefined' ? () => performance.now() : () => Date.now();
  for (;;) {
    let seq = Atomics.load(i32, SEQ);
    if (seq === last) {
      // a short bounded spin first: the next job of a training step usually comes within microseconds
      const t0 = now();
      let n = 0;
      while ((seq = Atomics.load(i32, SEQ)) === last) {
        if ((++n & 1023) === 0 && now() - t0 > spinMs) break;
      }
      if (seq === last) {
        Atomics.store(i32, WORKER_SLEEPS, 1);
        Atomics.wait(i32, SEQ, last);
        Atomics.store(i32, WORKER_SLEEPS, 0);
        continue;
      }
    }
    last = seq;
    const k = i32[KERNEL];
    if (k < 0) break;
    // the caller may have run this job itself already (then CLAIM is -1 or a later seq)
    if (Atomics.compareExchange(i32, CLAIM, seq, -1) === seq) try {
      fns[k](${Array.from({ length: MAX_ARGS }, (_, i) => `a[${i}]`).join(', ')});
    } catch (e) {
      i32[ERROR] = 1;
      console.error('simdgrad worker: kernel ' + msg.kernels[k] + ' failed: ' + String(e && e.message || e));
    }
    Atomics.store(i32, DONE, seq);
    if (Atomics.load(i32, CALLER_SLEEPS) !== 0) Atomics.notify(i32, DONE);
  }
  Atomics.store(i32, DONE, last);
  Atomics.notify(i32, DONE);
});
`;

/** The worker's source text for Node `worker_threads` (eval mode, CommonJS) or a Web Worker (classic script). */
export function workerSource(kind: 'node' | 'web'): string {
  return (kind === 'node' ? NODE_PRELUDE : WEB_PRELUDE) + BODY;
}
