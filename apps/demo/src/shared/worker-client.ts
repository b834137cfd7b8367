// The page side of a page's worker: starts it, waits for the engine, and routes its messages by type.
import type { BackendInfo } from '@simdgrad/core';
import type { ReadyMessage, WorkerIn, WorkerOut } from './protocol.js';

type Handler<M> = (message: M) => void;

export class WorkerClient<In extends { type: string }, Out extends { type: string }> {
  private readonly worker: Worker;
  private readonly handlers = new Map<string, Handler<never>[]>();
  /** Resolves with the worker engine's backendInfo(); rejects if the engine could not start. */
  readonly ready: Promise<{ info: BackendInfo; isolated: boolean }>;

  /** `name` is the worker bundle's base name: assets/<name>.worker.js next to the page. */
  constructor(name: string) {
    this.worker = new Worker(new URL(`./assets/${name}.worker.js`, document.baseURI), { type: 'module', name });
    this.ready = new Promise((resolve, reject) => {
      this.worker.addEventListener('message', (event: MessageEvent) => {
        const m = event.data as WorkerOut<Out>;
        const r = m as ReadyMessage;
        if (r.type === 'ready') resolve({ info: r.info, isolated: r.isolated });
        else if (r.type === 'fatal') reject(new Error(r.message));
        for (const h of this.handlers.get(m.type) ?? []) (h as Handler<typeof m>)(m);
      });
      this.worker.addEventListener('error', (event: ErrorEvent) => {
        reject(new Error(`worker ${name} failed: ${event.message}`));
        for (const h of this.handlers.get('error') ?? []) (h as Handler<{ type: 'error'; message: string }>)({ type: 'error', message: event.message });
      });
    });
  }

  /** Calls `fn` for every message of `type` from the worker. */
  on<T extends WorkerOut<Out>['type']>(type: T, fn: Handler<Extract<WorkerOut<Out>, { type: T }>>): this {
    const list = this.handlers.get(type) ?? [];
    list.push(fn as Handler<never>);
    this.handlers.set(type, list);
    return this;
  }

  send(message: WorkerIn<In>, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  stop(): void {
    this.send({ type: 'stop' });
  }
}
