import type { Attribution, DigitsConfig, DigitsStats, ExplainMethod } from './train.js';

export type DigitsIn =
  | { type: 'start'; config: DigitsConfig; epochs: number }
  | { type: 'predict'; pixels: Float32Array; id: number; explain: ExplainMethod }
  | { type: 'sample'; index: number };

export type DigitsOut =
  | { type: 'begin'; trainSize: number; testSize: number }
  | ({ type: 'progress' } & DigitsStats)
  | ({ type: 'done'; seconds: number } & DigitsStats)
  | { type: 'prediction'; id: number; probs: Float32Array | null; attribution: Attribution | null }
  | { type: 'sample'; pixels: Float32Array; label: number };
