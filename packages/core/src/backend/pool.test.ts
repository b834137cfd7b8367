// The thread pool: results with 2 (and 3) threads are bit-identical to 1 thread for matmul (plain,
// transposed, batched, broadcast, accumulating) and the split elementwise/optimizer kernels; the
// engine's init({ threads }) is idempotent, backendInfo() reports threads and why not, and the
// workers shut down cleanly (and are unref()'d, so vitest exits either way). No timings here.
import type { BinaryOpName, UnaryOpName } from '@simdgrad/kernels';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backendInfo, getBackend, init, shutdown } from '../engine.js';
import { tensor } from '../ops/creation.js';
import { dataFor, get, put } from '../test-utils.js';
import type { MatmulArgs } from './backend.js';
import { ThreadPool, threadSupport } from './pool.js';
import { createWasmBackend, type WasmBackend } from './wasm.js';

let two: WasmBackend;
let three: WasmBackend;
let plain: WasmBackend;

beforeAll(async () => {
  [two, three, plain] = await Promise.all([
    createWasmBackend({ threads: 2, initialPages: 64 }),
    createWasmBackend({ threads: 3, initialPages: 64 }),
    createWasmBackend({ threads: 1, initialPages: 64 }),
  ]);
});

afterAll(async () => {
  await Promise.all([two?.shutdown(), three?.shutdown(), shutdown()]);
});

const randomData = (n: number, seed: number, lo = -2, hi = 2): Float32Array =>
  dataFor({ shape: [n], range: [lo, hi] }, seed) as Float32Array;

/**
 * Runs `run` on `b` limited to `threads`, over fresh copies of `inputs` (outputs are inputs too, so
 * in-place kernels work); returns every buffer afterwards and whether the pool was used.
 */
function runWith(b: WasmBackend, threads: number, inputs: Float32Array[], run: (be: WasmBackend, p: number[]) => void) {
  b.useThreads(threads);
  const post = vi.spyOn(ThreadPool.prototype, 'post');
  const ptrs = inputs.map((d) => put(b, d));
  try {
    run(b, ptrs);
    return { out: ptrs.map((p, i) => get(b, p, inputs[i]!.length) as Float32Array), posted: post.mock.calls.length };
  } finally {
    post.mockRestore();
    for (const p of ptrs) b.heap.free(p);
    b.useThreads(Infinity);
  }
}

/** Asserts identical bits (NaN payloads included) between two runs. */
function expectSameBits(a: Float32Array[], b: Float32Array[]): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = new Uint32Array(a[i]!.buffer, a[i]!.byteOffset, a[i]!.length);
    const y = new Uint32Array(b[i]!.buffer, b[i]!.byteOffset, b[i]!.length);
    let firstDiff = -1;
    for (let j = 0; j < x.length && firstDiff < 0; j++) if (x[j] !== y[j]) firstDiff = j;
    expect(firstDiff, `buffer ${i} differs at ${firstDiff}: ${a[i]![firstDiff]} vs ${b[i]![firstDiff]}`).toBe(-1);
  }
}

/** The case on 1 thread (plain memory), then on 2 and 3 threads: all bit-identical; returns whether 2 threads split it. */
function checkSame(inputs: Float32Array[], run: (be: WasmBackend, p: number[]) => void): boolean {
  const one = runWith(plain, 1, inputs, run);
  const oneShared = runWith(two, 1, inputs, run);
  const r2 = runWith(two, 2, inputs, run);
  const r3 = runWith(three, 3, inputs, run);
  expect(one.posted + oneShared.posted).toBe(0);
  expectSameBits(oneShared.out, one.out);
  expectSameBits(r2.out, one.out);
  expectSameBits(r3.out, one.out);
  // (3 threads may decline a split that 2 take: shares of fewer than 8 rows are not worth it)
  if (r2.posted === 0) expect(r3.posted).toBe(0);
  return r2.posted > 0;
}

describe('pool setup', () => {
  it('runs where threads can run, with the shared-memory build', () => {
    expect(threadSupport()).toEqual({ ok: true, kind: 'node' });
    expect(two.threads).toBe(2);
    expect(two.threadsNote).toBeUndefined();
    expect(three.threads).toBe(3);
    expect(plain.threads).toBe(1);
    expect(plain.threadsNote).toMatch(/threads: 1/);
    expect(two.heap.memory.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(plain.heap.memory.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(two.useThreads(1)).toBe(1);
    expect(two.threadsNote).toMatch(/useThreads/);
    expect(two.useThreads(8)).toBe(2);
  });

  it('workers run the jobs themselves (no stealing by the caller)', () => {
    const pool = (three as unknown as { pool: ThreadPool }).pool;
    expect(pool.workers).toBe(2);
    const n = 1000;
    const out = three.heap.alloc(2 * n * 4);
    for (let round = 0; round < 20; round++) {
      for (let w = 0; w < 2; w++) {
        const a = pool.args(w);
        a[0] = out + w * n * 4; a[1] = n; a[2] = round + w / 2;
        pool.post(w, 'fillF32');
      }
      pool.wait(false);
      const f32 = three.heap.views().f32;
      expect([f32[out >> 2], f32[(out >> 2) + n - 1], f32[(out >> 2) + n], f32[(out >> 2) + 2 * n - 1]]).toEqual([round, round, round + 0.5, round + 0.5]);
    }
    three.heap.free(out);
  });

  it('falls back to one thread, saying why, without SharedArrayBuffer', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    try {
      const b = await createWasmBackend({ threads: 2, initialPages: 16 });
      expect(b.threads).toBe(1);
      expect(b.threadsNote).toMatch(/SharedArrayBuffer is unavailable/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('rejects a bad thread count', async () => {
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(createWasmBackend({ threads: 1.5 })).rejects.toThrow(/threads must be a positive integer/);
  });
});

describe('matmul is bit-identical on 1, 2 and 3 threads', () => {
  interface Case { name: string; m: number; n: number; k: number; batch?: number; transA?: boolean; transB?: boolean;
    broadcastA?: boolean; broadcastB?: boolean; accumulate?: boolean; split: boolean }
  const cases: Case[] = [
    { name: '64³ (the threshold)', m: 64, n: 64, k: 64, split: true },
    { name: 'odd sizes', m: 67, n: 45, k: 131, split: true },
    { name: 'MLP forward x·Wᵀ', m: 128, n: 256, k: 784, transB: true, split: true },
    { name: 'MLP weight grad gᵀ·x', m: 256, n: 784, k: 128, transA: true, split: true },
    { name: 'Aᵀ·Bᵀ, m not a multiple of 4', m: 130, n: 77, k: 300, transA: true, transB: true, split: true },
    { name: 'k above the 256 block', m: 96, n: 40, k: 700, split: true },
    { name: 'n above the 2048 panel', m: 20, n: 2100, k: 30, split: true },
    { name: 'accumulate', m: 90, n: 90, k: 90, accumulate: true, split: true },
    { name: 'batched, even batch (split by batch)', m: 40, n: 50, k: 60, batch: 4, split: true },
    { name: 'batched, odd batch (split by rows)', m: 70, n: 50, k: 60, batch: 3, transB: true, split: true },
    { name: 'batched, short matrices (split by batch)', m: 9, n: 200, k: 80, batch: 5, split: true },
    { name: 'batched, A broadcast (conv forward)', m: 16, n: 196, k: 72, batch: 6, broadcastA: true, split: true },
    { name: 'batched, B broadcast, accumulate', m: 33, n: 64, k: 65, batch: 2, broadcastB: true, accumulate: true, split: true },
    { name: 'too small: one thread', m: 32, n: 32, k: 32, split: false },
    { name: 'too short to split: one thread', m: 7, n: 300, k: 300, split: false },
  ];
  for (const cs of cases) {
    it(cs.name, () => {
      const batch = cs.batch ?? 1;
      const { m, n, k } = cs;
      const aCount = cs.broadcastA ? 1 : batch, bCount = cs.broadcastB ? 1 : batch;
      const args: MatmulArgs = {
        batch, m, n, k, transA: cs.transA ?? false, transB: cs.transB ?? false,
        strideA: cs.broadcastA ? 0 : m * k, strideB: cs.broadcastB ? 0 : k * n, strideC: m * n, accumulate: cs.accumulate ?? false,
      };
      const inputs = [randomData(aCount * m * k, 1 + m), randomData(bCount * k * n, 2 + n), randomData(batch * m * n, 3 + k)];
      const split = checkSame(inputs, (be, [a, b, c]) => be.matmul(c!, a!, b!, args));
      expect(split).toBe(cs.split);
    });
  }
});

describe('elementwise and optimizer kernels are bit-identical on 1, 2 and 3 threads', () => {
  const N = 100_003; // above the split threshold, not a multiple of 4: the scalar tail is in the last share
  const unaries: [UnaryOpName, number, number][] = [['exp', 0, 0], ['tanh', 0, 0], ['gelu', 0, 0], ['relu', 0, 0],
    ['powScalar', 1.7, 0], ['clamp', -0.5, 0.5], ['log', 0, 0]];
  for (const [op, p0, p1] of unaries) {
    it(`unary ${op} and its gradient`, () => {
      const x = randomData(N, 11, op === 'log' || op === 'powScalar' ? 0.01 : -3, 3);
      expect(checkSame([x, new Float32Array(N)], (be, [xp, out]) => be.unary(op, out!, xp!, N, p0, p1))).toBe(true);
      const y = new Float32Array(N), gy = randomData(N, 12);
      expect(checkSame([x, y, gy, new Float32Array(N)], (be, [xp, yp, gyp, gx]) => {
        be.unary(op, yp!, xp!, N, p0, p1);
        be.unaryGrad(op, gx!, xp!, yp!, gyp!, N, p0, p1);
      })).toBe(true);
    });
  }

  it('unary in place', () => {
    expect(checkSame([randomData(N, 13)], (be, [x]) => be.unary('sigmoid', x!, x!, N))).toBe(true);
  });

  for (const op of ['add', 'div', 'pow', 'maximum', 'lt'] as BinaryOpName[]) {
    it(`binary ${op} (contiguous)`, () => {
      const a = randomData(N, 21, 0.1, 3), b = randomData(N, 22, -2, 2);
      expect(checkSame([a, b, new Float32Array(N)], (be, [ap, bp, out]) => be.binary(op, out!, ap!, bp!, [N], [1], [1]))).toBe(true);
    });
  }

  it('small elementwise ops stay on one thread', () => {
    const n = 1000;
    expect(checkSame([randomData(n, 31), new Float32Array(n)], (be, [x, out]) => be.unary('exp', out!, x!, n))).toBe(false);
  });

  it('fill and disjoint copy', () => {
    const n = 300_001;
    expect(checkSame([new Float32Array(n)], (be, [out]) => be.fill('float32', out!, n, 0.25))).toBe(true);
    expect(checkSame([randomData(n, 32), new Float32Array(n)], (be, [src, dst]) => be.copy(dst!, src!, n * 4))).toBe(true);
  });

  it('Adam and AdamW (with amsgrad), several steps', () => {
    for (const [decoupled, amsgrad] of [[false, false], [true, true]] as const) {
      expect(checkSame([randomData(N, 41), randomData(N, 42), new Float32Array(N), new Float32Array(N), new Float32Array(N)],
        (be, [p, g, m, v, vmax]) => {
          for (let t = 1; t <= 3; t++) {
            be.adamStep(p!, g!, m!, v!, amsgrad ? vmax! : 0, N, 1e-2, 0.9, 0.999, 1e-8, 0.01, decoupled, amsgrad,
              1 - 0.9 ** t, 1 - 0.999 ** t, false);
          }
        })).toBe(true);
    }
  });

  it('SGD with momentum, RMSprop centered, Adagrad', () => {
    const data = () => [randomData(N, 51), randomData(N, 52), new Float32Array(N), new Float32Array(N), new Float32Array(N)];
    expect(checkSame(data(), (be, [p, g, buf]) => {
      be.sgdStep(p!, g!, buf!, N, 0.1, 0.9, 0, 1e-4, true, true, false);
      be.sgdStep(p!, g!, buf!, N, 0.1, 0.9, 0, 1e-4, true, false, false);
    })).toBe(true);
    expect(checkSame(data(), (be, [p, g, sq, gavg, buf]) => be.rmspropStep(p!, g!, sq!, gavg!, buf!, N, 0.01, 0.99, 1e-8, 0, 0.9, true, false))).toBe(true);
    expect(checkSame(data(), (be, [p, g, sum]) => be.adagradStep(p!, g!, sum!, N, 0.01, 0, 1e-10, false))).toBe(true);
  });

  it('keeps working across memory growth', () => {
    const before = two.heap.memory.buffer.byteLength;
    const big = two.heap.alloc(before + 65536 * 4);
    expect(two.heap.memory.buffer.byteLength).toBeGreaterThan(before);
    try {
      expect(checkSame([randomData(200, 61), randomData(200 * 700, 62), new Float32Array(200 * 700)],
        (be, [a, b, c]) => be.matmul(c!, a!, b!, { batch: 1, m: 1, n: 700, k: 200, transA: false, transB: false,
          strideA: 0, strideB: 0, strideC: 0, accumulate: false }))).toBe(false);
      expect(checkSame([randomData(300 * 300, 63), randomData(300 * 300, 64), new Float32Array(300 * 300)],
        (be, [a, b, c]) => be.matmul(c!, a!, b!, { batch: 1, m: 300, n: 300, k: 300, transA: false, transB: true,
          strideA: 0, strideB: 0, strideC: 0, accumulate: false }))).toBe(true);
    } finally {
      two.heap.free(big);
    }
  });
});

describe('engine', () => {
  it('init({ threads: 2 }) is idempotent, reports threads, and shuts down cleanly', async () => {
    const b1 = await init({ threads: 2, initialPages: 64 });
    const b2 = await init({ threads: 2 });
    const b3 = await init();
    expect(b2).toBe(b1);
    expect(b3).toBe(b1);
    expect(getBackend()).toBe(b1);
    const info = backendInfo();
    expect(info).toMatchObject({ backend: 'wasm', simd: true, threads: 2, isolated: true });
    expect(info.threadsNote).toBeUndefined();
    // a real op on the pool: a 128×256 · 256×64 product against a float64 check of one element
    const a = tensor(Array.from({ length: 128 }, (_, i) => Array.from({ length: 256 }, (_, j) => ((i * 7 + j * 3) % 11) - 5)));
    const b = tensor(Array.from({ length: 256 }, (_, i) => Array.from({ length: 64 }, (_, j) => ((i * 5 + j) % 7) - 3)));
    const c = a.matmul(b).toArray() as number[][];
    let want = 0;
    for (let p = 0; p < 256; p++) want += (((100 * 7 + p * 3) % 11) - 5) * (((p * 5 + 10) % 7) - 3);
    expect(c[100]![10]).toBe(want);
    await shutdown();
    await shutdown();
    expect(backendInfo().threads).toBe(1);
    expect(backendInfo().threadsNote).toMatch(/shut down/);
    // still works on one thread
    expect((a.matmul(b).toArray() as number[][])[100]![10]).toBe(want);
  });
});
