// The kernel loader of @simdgrad/kernels (tested here: that package builds everything under src/ into dist/).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { applyBodyPatch, detectFeatures, embeddedKernelBytes, isBodyPatch, kernelBytes, loadKernels, makeBodyPatch, withSharedMemoryImport } from '@simdgrad/kernels';

const built = (name: string) => new Uint8Array(readFileSync(new URL(`../../kernels/build/${name}.wasm`, import.meta.url)));

describe('kernel loader', () => {
  it('decodes each embedded build, and reads the shipped file, to the bytes the build wrote', async () => {
    for (const [build, file] of [['simd', 'kernels-simd'], ['relaxed', 'kernels-relaxed']] as const) {
      for (const bytes of [await embeddedKernelBytes(build), await kernelBytes(build)]) {
        expect(bytes.buffer.byteLength, `${file}: owns its buffer`).toBe(bytes.length);
        expect(bytes, file).toEqual(built(file));
      }
    }
  });

  it('ignores a shipped .wasm file that is not the embedded build (or is missing) and decodes the embedded one', async () => {
    const dist = fileURLToPath(new URL('../../kernels/dist', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'simdgrad-kernels-'));
    try {
      cpSync(dist, dir, { recursive: true });
      const relaxed = built('kernels-relaxed');
      const bad = relaxed.slice();
      bad[bad.length - 10] ^= 1; // same length, one bit off
      writeFileSync(join(dir, 'wasm', 'kernels-relaxed.wasm'), bad);
      rmSync(join(dir, 'wasm', 'kernels-simd.wasm'));
      const copy = (await import(/* @vite-ignore */ pathToFileURL(join(dir, 'index.js')).href)) as typeof import('@simdgrad/kernels');
      expect(await copy.kernelBytes('relaxed')).toEqual(relaxed);
      expect(await copy.kernelBytes('simd')).toEqual(built('kernels-simd'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores one build as a patch of function bodies over the other, and applies it exactly', async () => {
    const relaxed = built('kernels-relaxed'), simd = built('kernels-simd');
    const patch = makeBodyPatch(relaxed, simd);
    expect(patch).not.toBeNull();
    expect(isBodyPatch(patch!)).toBe(true);
    expect(isBodyPatch(relaxed)).toBe(false);
    // only the multiply-add kernels differ: the patch is well under half of a build
    expect(patch!.length).toBeLessThan(simd.length / 2);
    expect(applyBodyPatch(relaxed, patch!)).toEqual(simd);
    expect(applyBodyPatch(simd, makeBodyPatch(simd, relaxed)!)).toEqual(relaxed);
    // an identical pair gives an empty patch that reproduces the base
    expect(applyBodyPatch(simd, makeBodyPatch(simd, simd)!)).toEqual(simd);
    // wrong base, truncated or foreign bytes: refused with the reason
    expect(() => applyBodyPatch(simd, patch!)).toThrow(`kernels: the body patch was made for a ${relaxed.length}-byte base build, not this ${simd.length}-byte one`);
    expect(() => applyBodyPatch(relaxed, patch!.subarray(0, patch!.length - 7))).toThrow('kernels: the body patch is truncated');
    expect(() => applyBodyPatch(relaxed, relaxed)).toThrow('kernels: not a kernel body patch');
    // modules that differ outside their code cannot be patched
    const sharedSimd = withSharedMemoryImport(simd);
    expect(makeBodyPatch(relaxed, sharedSimd)).toBeNull();
  });

  it('derives the shared-memory variant by rewriting only the memory import', async () => {
    const plain = await kernelBytes('simd');
    const shared = await kernelBytes('simd', true);
    expect(WebAssembly.validate(shared)).toBe(true);
    // the plain build imports (memory 1) = flag 0, min 1; the shared one (memory 1 65536 shared) = 3, 1, 80 80 04
    const find = (b: Uint8Array, seq: number[]) => b.findIndex((_, i) => seq.every((v, j) => b[i + j] === v));
    const name = [6, ...Array.from('memory', (c) => c.charCodeAt(0)), 2];
    const at = find(plain, name);
    expect(at).toBeGreaterThan(8);
    expect(Array.from(plain.subarray(at + name.length, at + name.length + 2))).toEqual([0, 1]);
    expect(Array.from(shared.subarray(at + name.length, at + name.length + 5))).toEqual([3, 1, 0x80, 0x80, 4]);
    expect(shared.length).toBe(plain.length + 3);
    // everything after the import is byte for byte the same
    expect(shared.subarray(at + name.length + 5)).toEqual(plain.subarray(at + name.length + 2));
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 64, shared: true });
    const k = await loadKernels({ memory });
    expect(k.shared).toBe(true);
    expect(k.exports.heapBase()).toBe((await loadKernels({ memory: new WebAssembly.Memory({ initial: 4 }) })).exports.heapBase());
    // a plain build refuses a shared memory, which is why the rewrite exists
    await expect(WebAssembly.instantiate(plain, { env: { memory } })).rejects.toThrow();
  });

  it('rewrites the import in hand-made modules (other imports first, a section size that grows a byte) and refuses others', () => {
    const leb = (v: number) => { const o: number[] = []; do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; o.push(b); } while (v); return o; };
    const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
    const module = (imports: number[][]) => {
      // a function import needs a type section; a long module name makes the section size cross 127 (a 2-byte LEB)
      const types = [1, 0x60, 0, 0]; // one type: [] → []
      const body = [imports.length, ...imports.flat()];
      return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, types.length, ...types, 2, ...leb(body.length), ...body]);
    };
    const fn = [...str('env'), ...str('f'), 0x00, 0];
    const mem = (limits: number[]) => [...str('env'), ...str('memory'), 0x02, ...limits];
    for (const [limits, pad] of [[[0, 2], 0], [[1, 2, 10], 0], [[0, 2], 120]] as const) {
      const long = [...str('e'.repeat(pad + 1)), ...str('g'), 0x03, 0x7f, 0];
      const src = module([fn, long, mem([...limits])]);
      expect(WebAssembly.validate(src), `source ${limits} ${pad}`).toBe(true);
      const out = withSharedMemoryImport(src);
      expect(WebAssembly.validate(out), `shared ${limits} ${pad}`).toBe(true);
      const m = new WebAssembly.Module(out);
      expect(WebAssembly.Module.imports(m).map((i) => i.kind)).toEqual(['function', 'global', 'memory']);
      const memory = new WebAssembly.Memory({ initial: 2, maximum: 16, shared: true });
      expect(() => new WebAssembly.Instance(m, { env: { f: () => {}, memory }, ['e'.repeat(pad + 1)]: { g: 1 } })).not.toThrow();
    }
    expect(() => withSharedMemoryImport(module([fn]))).toThrow('kernels: the module imports no memory');
    expect(() => withSharedMemoryImport(new Uint8Array([1, 2, 3]))).toThrow('kernels: not a WebAssembly module');
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
