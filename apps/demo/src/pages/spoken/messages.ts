import type { Recognition } from './recognise.js';

export type SpokenIn =
  | { type: 'load' }
  | { type: 'samples'; id: number; samples: Float32Array; sampleRate: number }
  | { type: 'wav'; id: number; bytes: ArrayBuffer; name: string };

export type SpokenOut =
  | { type: 'loaded'; parameters: number; bytes: number; arch: string }
  | ({ type: 'result'; id: number; source: string } & Recognition);
