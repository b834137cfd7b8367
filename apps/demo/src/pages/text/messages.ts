import type { ModelFacts } from './char-model.js';
import type { GenerationSettings } from './settings.js';

export type TextIn =
  | { type: 'load' }
  | ({ type: 'generate' } & GenerationSettings);

export type TextOut =
  | { type: 'loaded'; facts: ModelFacts }
  /** The settings were refused (a prompt character the model never saw, a bad number): nothing ran. */
  | { type: 'rejected'; message: string }
  /** New characters (one or a few), the total so far and the seconds since generation began. */
  | { type: 'chars'; text: string; count: number; seconds: number }
  | { type: 'done'; count: number; seconds: number };
