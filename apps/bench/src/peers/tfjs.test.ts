import { describe, expect, it } from 'vitest';
import { loadTfjsWasm } from '../tfjs.js';
import { registerWasmSegmentSum } from './tfjs.js';

describe('tfjs-wasm help', () => {
  it('UnsortedSegmentSum built from OneHot + Cast + Transpose + BatchMatMul equals tfjs-cpu\'s kernel', async () => {
    const { tf } = await loadTfjsWasm();
    await import('@tensorflow/tfjs-backend-cpu');
    const calls = new Map<string, number>();
    const fallback = new Map<string, number>();
    expect(registerWasmSegmentSum(tf, calls, fallback)).toBe(true);
    // A second registration is refused (the kernel exists now).
    expect(registerWasmSegmentSum(tf, calls, fallback)).toBe(false);
    // ids out of [0, 5) (-1, 7) match no segment; 3 rows of [2, 3] each; segment 4 gets nothing.
    const ids = [2, 0, 2, -1, 1, 7, 0];
    const xs = Array.from({ length: ids.length * 6 }, (_, i) => Math.sin(i) * 3);
    const wasmOut = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor(xs, [ids.length, 2, 3]), tf.tensor1d(ids, 'int32'), 5).arraySync());
    expect(calls.get('UnsortedSegmentSum')).toBe(1);
    expect(fallback.size).toBe(0);
    const expected: number[][][] = Array.from({ length: 5 }, () => [[0, 0, 0], [0, 0, 0]]);
    ids.forEach((s, i) => {
      if (s < 0 || s >= 5) return;
      for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) expected[s]![r]![c]! += xs[i * 6 + r * 3 + c]!;
    });
    const flat = (a: unknown) => (a as number[][][]).flat(2);
    const round = (xs: number[]) => xs.map((v) => Math.round(v * 1e4) / 1e4);
    expect(round(flat(wasmOut))).toEqual(round(flat(expected)));
    expect((wasmOut as number[][][]).length).toBe(5);
    // int32 data is not what gather's gradient passes: it goes to tfjs-cpu's kernel, still right.
    const ints = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), tf.tensor1d([1, 1], 'int32'), 2).arraySync());
    expect(ints).toEqual([[0, 0], [4, 6]]);
    expect(fallback.get('UnsortedSegmentSum')).toBe(1);
    expect(calls.get('UnsortedSegmentSum')).toBe(1);
  });
});
