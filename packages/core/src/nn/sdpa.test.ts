// The fused scaled-dot-product attention (issue 8) against the composed path and the float64 reference
// backend: forward and the three gradients on odd sizes, causal with offsets, masks, broadcasting,
// strided inputs, gradcheck, the fully masked row, and the memory it saves.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.js';
import { createWasmBackend } from '../backend/wasm.js';
import { gradcheck } from '../autograd/gradcheck.js';
import { scope } from '../memory.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { dataFor, expectAllClose, getBackends, onBackend } from '../test-utils.js';
import { MASKED_SCORE, scaledDotProductAttention as sdpa, setFusedAttention, type ScaledDotProductAttentionOptions } from './attention.js';

let backends: { wasm: Backend; reference: Backend };
beforeAll(async () => {
  backends = await getBackends();
});

interface Case {
  name: string;
  q: number[];
  k: number[];
  v: number[];
  /** 0/1 mask: shape and which entries are 1 */
  mask?: { shape: number[]; ones: (i: number) => boolean };
  opts?: ScaledDotProductAttentionOptions;
  /** views of the inputs instead of contiguous tensors */
  view?: (x: Tensor, which: 'q' | 'k' | 'v') => Tensor;
}

interface Result {
  out: Float32Array;
  grads: Float32Array[];
  /** calls of the fused primitive (forward + backward) */
  fusedCalls: number;
}

/** Runs one case forward and backward (loss = Σ w ∘ out, fixed w) on a backend, fused or composed. */
function run(b: Backend, fused: boolean, c: Case): Result {
  let fusedCalls = 0;
  const fwd = b.attention, bwd = b.attentionGrad;
  b.attention = (...a) => { fusedCalls++; fwd.apply(b, a); };
  b.attentionGrad = (...a) => { fusedCalls++; bwd.apply(b, a); };
  const prev = setFusedAttention(fused);
  try {
    return onBackend(b, () => scope(() => {
      const leaves = ([['q', c.q], ['k', c.k], ['v', c.v]] as const).map(([n, shape], i) =>
        tensor(dataFor({ shape: [...shape] }, 11 + i), { shape: [...shape], requiresGrad: true }) as Tensor).map((t) => t);
      const [q, k, v] = leaves.map((t, i) => (c.view ? c.view(t, (['q', 'k', 'v'] as const)[i]!) : t)) as [Tensor, Tensor, Tensor];
      const m = c.mask;
      const attnMask = m ? tensor(Float32Array.from({ length: m.shape.reduce((x, y) => x * y, 1) }, (_, i) => (m.ones(i) ? 1 : 0)), { shape: m.shape }) : undefined;
      const y = sdpa(q, k, v, { ...c.opts, attnMask });
      const w = tensor(dataFor({ shape: [...y.shape] }, 99), { shape: [...y.shape] });
      y.mul(w).sum().backward();
      return { out: y.toFloat32Array(), grads: leaves.map((t) => t.grad!.toFloat32Array()), fusedCalls };
    }));
  } finally {
    setFusedAttention(prev);
    b.attention = fwd;
    b.attentionGrad = bwd;
  }
}

/** Fused (wasm) and composed (wasm), fused and composed (reference), all within float32 rounding. */
function checkCase(c: Case, tol = { rtol: 2e-4, atol: 2e-5 }): void {
  const fw = run(backends.wasm, true, c);
  const cw = run(backends.wasm, false, c);
  const fr = run(backends.reference, true, c);
  const cr = run(backends.reference, false, c);
  expect(fw.fusedCalls, `${c.name}: the fused kernels ran (forward + backward)`).toBe(2);
  expect(cw.fusedCalls, `${c.name}: the composed path made no fused call`).toBe(0);
  expect(fr.fusedCalls).toBe(2);
  for (const [what, other] of [['composed wasm', cw], ['fused reference', fr], ['composed reference', cr]] as const) {
    expectAllClose(fw.out, other.out, tol.rtol, tol.atol, `${c.name} out vs ${what}`);
    ['dq', 'dk', 'dv'].forEach((g, i) => expectAllClose(fw.grads[i]!, other.grads[i]!, tol.rtol * 5, tol.atol * 5, `${c.name} ${g} vs ${what}`));
  }
}

describe('fused scaledDotProductAttention', () => {
  it('matches the composed path and the reference on odd sizes (L, S, E ∈ {1, 3, 5, 17, 33, 65}, Ev ≠ E)', () => {
    const sizes: [number, number, number, number][] = [
      [1, 1, 1, 1], [3, 5, 17, 3], [5, 3, 33, 5], [17, 33, 5, 17], [33, 17, 65, 1], [65, 65, 3, 33],
      [65, 1, 17, 65], [1, 65, 65, 3], [17, 17, 1, 5], [33, 65, 33, 17], [5, 17, 3, 65], [3, 33, 5, 1],
    ];
    for (const [l, s, e, ev] of sizes) {
      checkCase({ name: `L=${l} S=${s} E=${e} Ev=${ev}`, q: [2, l, e], k: [2, s, e], v: [2, s, ev] });
    }
  });

  it('whole SIMD widths and several key blocks (64 keys each): E = Ev = 32, L = S = 257; E = 4, Ev = 8, S = 129', () => {
    checkCase({ name: 'L=S=257 E=Ev=32', q: [1, 257, 32], k: [1, 257, 32], v: [1, 257, 32] });
    checkCase({ name: 'L=S=257 E=Ev=32 causal', q: [1, 257, 32], k: [1, 257, 32], v: [1, 257, 32], opts: { isCausal: true } });
    checkCase({ name: 'L=4 S=129 E=4 Ev=8', q: [3, 4, 4], k: [3, 129, 4], v: [3, 129, 8] });
  });

  it('causal, with query offsets (KV-cache decoding, L < S) and the default offset S − L', () => {
    checkCase({ name: 'causal L=S=33', q: [1, 2, 33, 5], k: [1, 2, 33, 5], v: [1, 2, 33, 3], opts: { isCausal: true } });
    checkCase({ name: 'causal L=S=65', q: [65, 17], k: [65, 17], v: [65, 17], opts: { isCausal: true } });
    for (const [l, s, offset] of [[3, 17, 0], [3, 17, 5], [3, 17, 14], [5, 65, 60], [1, 33, 32], [1, 33, 7], [17, 65, undefined]] as const) {
      checkCase({ name: `causal L=${l} S=${s} offset=${offset}`, q: [2, l, 5], k: [2, s, 5], v: [2, s, 3], opts: { isCausal: true, queryOffset: offset } });
    }
  });

  it('masks: key padding broadcast over heads and rows, [L, S], [B, H, L, S], a 1-d [S] mask and a [L, 1] mask, with causal', () => {
    const b = 2, h = 3, l = 5, s = 17;
    const pad = (i: number) => i % s >= (Math.floor(i / s) === 0 ? 12 : 9); // batch 0: 12 real keys, batch 1: 9
    checkCase({ name: 'key padding', q: [b, h, l, 3], k: [b, h, s, 3], v: [b, h, s, 5], mask: { shape: [b, 1, 1, s], ones: pad } });
    checkCase({ name: 'key padding + causal', q: [b, h, s, 3], k: [b, h, s, 3], v: [b, h, s, 5], mask: { shape: [b, 1, 1, s], ones: pad }, opts: { isCausal: true } });
    checkCase({ name: '[L, S] mask', q: [b, h, l, 3], k: [b, h, s, 3], v: [b, h, s, 5], mask: { shape: [l, s], ones: (i) => (i * 7) % 5 === 0 } });
    checkCase({ name: '[B, H, L, S] mask', q: [b, h, l, 3], k: [b, h, s, 3], v: [b, h, s, 5], mask: { shape: [b, h, l, s], ones: (i) => (i * 13) % 7 < 3 } });
    checkCase({ name: '[S] mask', q: [b, l, 4], k: [b, s, 4], v: [b, s, 2], mask: { shape: [s], ones: (i) => i % 3 === 1 } });
    checkCase({ name: '[L, 1] mask', q: [b, l, 4], k: [b, s, 4], v: [b, s, 2], mask: { shape: [l, 1], ones: (i) => i === 2 } });
  });

  it('a fully masked row stays finite: uniform over the keys, as the composed path (MASKED_SCORE)', () => {
    const mask = { shape: [3, 5], ones: (i: number) => i < 5 || i === 7 }; // row 0: every key masked
    checkCase({ name: 'fully masked row', q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 3], mask });
    const r = run(backends.wasm, true, { name: 'row', q: [1, 3, 4], k: [1, 5, 4], v: [1, 5, 3], mask });
    expect([...r.out, ...r.grads.flatMap((g) => [...g])].every(Number.isFinite)).toBe(true);
    // row 0 is the mean of the values
    onBackend(backends.wasm, () => scope(() => {
      const v = tensor(dataFor({ shape: [1, 5, 3] }, 13), { shape: [1, 5, 3] });
      expectAllClose(r.out.slice(0, 3), v.mean(1).toFloat32Array(), 1e-5, 1e-6, 'uniform row');
    }));
    expect(MASKED_SCORE).toBe(-1e9);
  });

  it('broadcasts batch dims (k, v shared over a batch dim: their gradients are summed) and takes strided views', () => {
    checkCase({ name: 'broadcast k/v', q: [2, 3, 5, 4], k: [1, 3, 17, 4], v: [3, 17, 6] });
    checkCase({ name: 'broadcast q', q: [5, 4], k: [2, 3, 17, 4], v: [2, 3, 17, 6], opts: { isCausal: true, queryOffset: 12 } });
    // head-split views as MultiheadAttention makes them: [B, T, H, D] → [B, H, T, D]
    checkCase({ name: 'transposed heads', q: [2, 17, 3, 5], k: [2, 33, 3, 5], v: [2, 33, 3, 4], view: (x) => x.transpose(1, 2) });
    checkCase({ name: 'k given transposed', q: [2, 5, 3], k: [2, 3, 17], v: [2, 17, 3], view: (x, w) => (w === 'k' ? x.transpose(-2, -1) : x) });
  });

  it('scale and an L ≠ S, Ev ≠ E case with large scores stay within float32 rounding', () => {
    checkCase({ name: 'scale 2', q: [2, 17, 5], k: [2, 33, 5], v: [2, 33, 9], opts: { scale: 2 } });
  });

  it('gradcheck (central differences) on both backends: plain, causal with offset, masked', () => {
    const cases: [string, number[][], ScaledDotProductAttentionOptions, Tensor | null][] = [
      ['plain', [[2, 3, 5], [2, 6, 5], [2, 6, 3]], {}, null],
      ['causal', [[2, 3, 5], [2, 7, 5], [2, 7, 3]], { isCausal: true, queryOffset: 2 }, null],
      ['masked', [[2, 3, 4], [2, 5, 4], [2, 5, 2]], {}, null],
    ];
    for (const b of [backends.wasm, backends.reference]) {
      for (const [name, shapes, opts] of cases) {
        onBackend(b, () => scope(() => {
          const xs = shapes.map((shape, i) => tensor(dataFor({ shape, range: [-1, 1] }, 5 + i), { shape, requiresGrad: true }));
          // NOTE: no fully masked row here: its output does not depend on q in float32 (MASKED_SCORE absorbs the
          // scores), so finite differences give 0 there while both paths give the softmax-formula gradient
          const attnMask = name === 'masked' ? tensor([[0, 1, 0, 0, 1], [1, 0, 1, 1, 1], [0, 0, 0, 1, 0]]) : undefined;
          let calls = 0;
          const fwd = b.attention;
          b.attention = (...a) => { calls++; fwd.apply(b, a); };
          try {
            expect(gradcheck((q, k, v) => sdpa(q!, k!, v!, { ...opts, attnMask }), xs, { atol: 2e-3, rtol: 2e-2 }), `${name} on ${b.name}`).toBe(true);
          } finally {
            b.attention = fwd;
          }
          expect(calls, `${name} on ${b.name}: fused`).toBeGreaterThan(0);
        }));
      }
    }
  });

  it('keeps the composed path for dropout, needWeights, a mask that needs a gradient and an int32 q', () => {
    const c = { name: 'x', q: [2, 3, 4], k: [2, 5, 4], v: [2, 5, 3] };
    expect(run(backends.wasm, true, { ...c, opts: { needWeights: false } }).fusedCalls).toBe(2);
    const calls = (f: () => void): number => {
      const b = backends.wasm;
      let n = 0;
      const fwd = b.attention;
      b.attention = (...a) => { n++; fwd.apply(b, a); };
      try {
        onBackend(b, () => scope(f));
      } finally {
        b.attention = fwd;
      }
      return n;
    };
    const mk = (shape: number[], requiresGrad = false) => tensor(dataFor({ shape }, 3), { shape, requiresGrad });
    expect(calls(() => { sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { dropoutP: 0.5, training: true }); })).toBe(0);
    expect(calls(() => { sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { dropoutP: 0.5, training: false }); })).toBe(1);
    expect(calls(() => { sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { needWeights: true }); })).toBe(0);
    expect(calls(() => { sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { attnMask: mk([3, 5], true) }); })).toBe(0);
    expect(calls(() => { sdpa(mk([3, 4]).int(), mk([5, 4]), mk([5, 3])); })).toBe(0);
    // an int32 0/1 mask runs fused, with the float mask's results
    const masked = (m: Tensor) => Array.from(sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { attnMask: m }).toFloat32Array());
    expect(calls(() => {
      expect(masked(tensor([[0, 1, 0, 0, 1]], { dtype: 'int32' }))).toEqual(masked(tensor([[0, 1, 0, 0, 1]])));
    })).toBe(2);
    // a mask with more batch dims than q, k, v broadcasts the output (composed)
    expect(calls(() => { expect(sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { attnMask: mk([2, 3, 5]) }).shape).toEqual([2, 3, 3]); })).toBe(0);
    expect(() => onBackend(backends.wasm, () => sdpa(mk([3, 4]), mk([5, 4]), mk([5, 3]), { isCausal: true, queryOffset: 3 })))
      .toThrow('scaledDotProductAttention: queryOffset 3 with 3 queries does not fit 5 keys');
  });

  it('gives the same bits on the shared-memory build with a worker pool, the problems split over 2 threads or not', async () => {
    const pooled = await createWasmBackend({ initialPages: 64, threads: 2 });
    try {
      const cases: Case[] = [
        // small: below the split threshold, on the caller
        { name: 'pooled', q: [2, 3, 17, 5], k: [2, 3, 33, 5], v: [2, 3, 33, 7], opts: { isCausal: true, queryOffset: 9 },
          mask: { shape: [2, 1, 1, 33], ones: (i) => i % 33 > 30 } },
        // 10 problems split 5 + 5, with a per-batch mask (each problem finds its mask row through the meta block)
        { name: 'split', q: [2, 5, 48, 16], k: [2, 5, 64, 16], v: [2, 5, 64, 24], opts: { isCausal: true, queryOffset: 16 },
          mask: { shape: [2, 1, 1, 64], ones: (i) => i % 64 > 57 - (i >= 64 ? 7 : 0) } },
        // 7 problems: 4 + 3, no mask
        { name: 'split, odd', q: [7, 40, 32], k: [7, 70, 32], v: [7, 70, 8], opts: {} },
      ];
      // count the attention jobs the workers get
      const pool = (pooled as unknown as { pool: { post(w: number, kernel: string): void } }).pool;
      const post = pool.post.bind(pool);
      let posted = 0;
      pool.post = (w, kernel) => { if (kernel.startsWith('attention')) posted++; post(w, kernel); };
      for (const c of cases) {
        posted = 0;
        const a = run(backends.wasm, true, c), b = run(pooled, true, c);
        expect(posted, `${c.name}: jobs posted to the worker`).toBe(c.name === 'pooled' ? 0 : 2);
        expect(b.fusedCalls, c.name).toBe(2);
        expect(Array.from(b.out), c.name).toEqual(Array.from(a.out));
        b.grads.forEach((g, i) => expect(Array.from(g), `${c.name} gradient ${i}`).toEqual(Array.from(a.grads[i]!)));
      }
    } finally {
      await pooled.shutdown();
    }
  });

  it('the fused forward + backward at L = S = 512 needs far less wasm memory than the composed one', async () => {
    // fresh backends, so that each high-water mark (heap.stats().peakBytes, bytes handed out) is this run's alone
    const bh = 4, n = 512, e = 32;
    const peak = async (fused: boolean): Promise<{ peak: number; inputs: number }> => {
      const b = await createWasmBackend({ initialPages: 64 });
      const prev = setFusedAttention(fused);
      try {
        return onBackend(b, () => scope(() => {
          const xs = [0, 1, 2].map((i) => tensor(dataFor({ shape: [bh, n, e] }, i), { shape: [bh, n, e], requiresGrad: true }));
          const inputs = b.heap.stats().liveBytes;
          sdpa(xs[0]!, xs[1]!, xs[2]!, { isCausal: true }).sum().backward();
          return { peak: b.heap.stats().peakBytes, inputs };
        }));
      } finally {
        setFusedAttention(prev);
      }
    };
    const fused = await peak(true), composed = await peak(false);
    const scoreBytes = bh * n * n * 4; // one [BH, L, S] float32 tensor: 4 MiB
    const headBytes = bh * n * e * 4; // one [BH, L, E] tensor: 256 KiB
    console.log(`sdpa memory, BH=${bh} L=S=${n} E=${e}, forward + backward: peak bytes above the inputs ` +
      `fused ${fused.peak - fused.inputs}, composed ${composed.peak - composed.inputs}`);
    // the composed path holds several score-sized tensors at once; the fused one only [L, E]-sized ones
    // (output, gradients, the leaves' .grad) and less than half of one score tensor in all
    expect(composed.peak - composed.inputs).toBeGreaterThan(2 * scoreBytes);
    expect(fused.peak - fused.inputs).toBeLessThan(10 * headBytes);
    expect(fused.peak - fused.inputs).toBeLessThan(scoreBytes / 2);
    expect((fused.peak - fused.inputs) * 8).toBeLessThan(composed.peak - composed.inputs);
  });
});
