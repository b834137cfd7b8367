// The kernel loader of @simdgrad/kernels (tested here: that package builds everything under src/ into dist/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectFeatures, kernelBytes, loadKernels } from '@simdgrad/kernels';

const built = (name: string) => new Uint8Array(readFileSync(new URL(`../../kernels/build/${name}.wasm`, import.meta.url)));

describe('kernel loader', () => {
  it('decodes each embedded build to the bytes the build wrote', async () => {
    for (const [build, shared, file] of [['simd', false, 'kernels-simd'], ['relaxed', false, 'kernels-relaxed'], ['simd', true, 'kernels-simd-shared']] as const) {
      const bytes = await kernelBytes(build, shared);
      expect(bytes.buffer.byteLength, `${file}: owns its buffer`).toBe(bytes.length);
      expect(bytes, file).toEqual(built(file));
    }
  });

  it('loads the build asked for, the early-read one or not', async () => {
    const { relaxedSimd } = await detectFeatures();
    const [plain, auto] = await Promise.all([
      loadKernels({ memory: new WebAssembly.Memory({ initial: 4 }), relaxed: false }),
      loadKernels({ memory: new WebAssembly.Memory({ initial: 4 }) }),
    ]);
    expect(plain.build).toBe('simd');
    expect(auto.build).toBe(relaxedSimd ? 'relaxed' : 'simd');
    expect(typeof plain.exports.matmulF32).toBe('function');
    expect(plain.exports.heapBase()).toBeGreaterThan(0);
  });
});
