import type { Points } from './datasets.js';
import type { ModelConfig, PlaygroundStats } from './train.js';

export type PlaygroundIn =
  | { type: 'start'; train: Points; test: Points; config: ModelConfig; gridSize: number; extent: number }
  | { type: 'set-lr'; lr: number };

export type PlaygroundOut =
  | ({ type: 'progress'; grid: Float32Array; epochsPerSecond: number } & PlaygroundStats);
