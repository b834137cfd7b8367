import type { Attribution, DigitsConfig, DigitsDataset, DigitsStats, ExplainMethod } from './train.js';

export type DigitsIn =
  /** `dataUrl`: where Fashion-MNIST's files are (the site's data/fashion-mnist/), for dataset 'fashion'. */
  | { type: 'start'; config: DigitsConfig; epochs: number; dataUrl?: string }
  | { type: 'predict'; pixels: Float32Array; id: number; explain: ExplainMethod }
  | { type: 'sample'; index: number }
  | { type: 'gallery'; start: number; count: number };

export type DigitsOut =
  | { type: 'loading'; dataset: DigitsDataset }
  | { type: 'begin'; dataset: DigitsDataset; trainSize: number; testSize: number }
  | ({ type: 'progress' } & DigitsStats)
  | ({ type: 'done'; seconds: number } & DigitsStats)
  | { type: 'prediction'; id: number; probs: Float32Array | null; attribution: Attribution | null }
  | { type: 'sample'; pixels: Float32Array; label: number }
  | { type: 'gallery'; items: { index: number; pixels: Float32Array; label: number; predicted: number; probability: number }[] };
