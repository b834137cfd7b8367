import type { GemmResult } from './bench.js';

export type BenchIn = { type: 'start'; sizes: number[]; minSeconds: number; jsBaselineUpTo: number };

export type BenchOut =
  | { type: 'result'; engine: GemmResult; js: GemmResult | null }
  | { type: 'done'; seconds: number };
