import type { EpochStats, Regime } from './train.js';

export type RegressionIn =
  | { type: 'start'; regime: Regime; lr: number; epochs: number; /** pause per epoch, so the fit is visible */ delayMs: number }
  | { type: 'set-lr'; lr: number };

export type RegressionOut =
  | { type: 'data'; x: Float32Array; y: Float32Array }
  | ({ type: 'progress' } & EpochStats)
  | ({ type: 'done'; seconds: number } & EpochStats);
