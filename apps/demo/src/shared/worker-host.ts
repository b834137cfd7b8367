// The worker side: starts the engine, reports what it runs on, and runs one job at a time. A job is
// an async function that checks `ctx.cancelled()` between steps and calls `ctx.yield()` now and then
// so 'stop' (and live settings such as a new learning rate) can arrive while it trains.
import { backendInfo, init } from '@simdgrad/core';
import type { ReadyMessage, WorkerIn, WorkerOut } from './protocol.js';

interface WorkerScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  crossOriginIsolated?: boolean;
}

export interface JobContext<Out> {
  /** Sends a message to the page (transfer lists move typed-array buffers instead of copying). */
  post(message: Out, transfer?: Transferable[]): void;
  /** True once the page asked to stop, or started another job. */
  cancelled(): boolean;
  /** Lets queued messages in (a macrotask), so stop and live settings are seen. */
  yield(): Promise<void>;
}

/** What a page's worker handles: `start` runs jobs; `message` gets everything else (live settings, queries). */
export interface WorkerHandlers<In extends { type: string }, Out> {
  start(message: In, ctx: JobContext<Out>): Promise<void> | void;
  /** Optional: messages that are not jobs (answer them at once, e.g. a prediction). */
  message?(message: In, post: (message: Out, transfer?: Transferable[]) => void): void;
  /** Which message types start a job (default: 'start'). */
  jobTypes?: string[];
}

const scopeSelf = globalThis as unknown as WorkerScope;

/** Wires a worker's message loop to `handlers` once the engine has started. */
export function serveWorker<In extends { type: string }, Out>(handlers: WorkerHandlers<In, Out>): void {
  const post = (message: WorkerOut<Out>, transfer: Transferable[] = []) => scopeSelf.postMessage(message, transfer);
  const jobTypes = new Set(handlers.jobTypes ?? ['start']);
  let generation = 0;
  let running: Promise<void> = Promise.resolve();
  const queue: WorkerIn<In>[] = [];
  let ready = false;

  const dispatch = (message: WorkerIn<In>) => {
    if (message.type === 'stop') {
      generation++;
      return;
    }
    const msg = message as In;
    if (!jobTypes.has(msg.type)) {
      try {
        handlers.message?.(msg, post);
      } catch (e) {
        post({ type: 'error', message: errorText(e) });
      }
      return;
    }
    const mine = ++generation;
    const ctx: JobContext<Out> = {
      post: (m, t) => post(m, t),
      cancelled: () => generation !== mine,
      yield: () => new Promise((resolve) => setTimeout(resolve, 0)),
    };
    // jobs run one after another: a new one waits for the cancelled one to reach its next check
    running = running.then(async () => {
      if (ctx.cancelled()) return;
      try {
        await handlers.start(msg, ctx);
        if (ctx.cancelled()) post({ type: 'stopped' });
      } catch (e) {
        post({ type: 'error', message: errorText(e) });
      }
    });
  };

  scopeSelf.onmessage = (event: MessageEvent) => {
    const message = event.data as WorkerIn<In>;
    if (ready) dispatch(message);
    else queue.push(message);
  };

  // Workers may block (Atomics.wait), so the engine can use its thread pool here when the page is
  // cross-origin isolated; otherwise it runs one thread and backendInfo() says why.
  init({ threads: 'auto' }).then(
    () => {
      const ready_: ReadyMessage = { type: 'ready', info: backendInfo(), isolated: scopeSelf.crossOriginIsolated === true };
      post(ready_);
      ready = true;
      for (const m of queue.splice(0)) dispatch(m);
    },
    (e: unknown) => post({ type: 'fatal', message: `simdgrad could not start: ${errorText(e)}` }),
  );
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
