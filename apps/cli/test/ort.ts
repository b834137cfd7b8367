// onnxruntime-node for the CLI tests: a dev dependency of the core, resolved from there by path; null
// when it is not installed (the tests then check the exported files with the engine's importer alone).
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface Ort {
  InferenceSession: { create(b: Uint8Array): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: Float32Array }>> }> };
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => unknown;
}

export function loadOrt(root: string): Ort | null {
  try {
    return createRequire(join(root, 'packages/core/package.json'))('onnxruntime-node') as Ort;
  } catch {
    return null;
  }
}
