// The messages every page worker speaks. Page-specific messages extend these; all are small plain
// objects (numbers, short arrays), so they cross postMessage cheaply.
import type { BackendInfo } from '@simdgrad/core';

/** Sent once by a worker when the engine is ready (or could not start). */
export type ReadyMessage =
  | { type: 'ready'; info: BackendInfo; isolated: boolean }
  | { type: 'fatal'; message: string };

/** Sent by a worker when a job fails; the page shows it. */
export interface ErrorMessage { type: 'error'; message: string }

/** Page → worker: stop the running job (it finishes its current step and reports 'stopped'). */
export interface StopMessage { type: 'stop' }

/** Worker → page: the job ended because it was stopped or replaced. */
export interface StoppedMessage { type: 'stopped' }

export type WorkerOut<T> = T | ReadyMessage | ErrorMessage | StoppedMessage;
export type WorkerIn<T> = T | StopMessage;
