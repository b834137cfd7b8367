// Fused scaled-dot-product attention (f32): out = softmax(q·kᵀ·scale + mask)·v per problem, without the
// [L, S] score matrix. Problems (batch·heads) are packed one after another: q [L, E], k [S, E],
// v [S, Ev], out [L, Ev], lse [L, 2], all contiguous.
//
// Forward (FlashAttention's online softmax): for each block of BR = 4 query rows, stream over the keys
// in blocks of BC; per block compute the 4×BC scores, the new running max m' = max(m, rowmax), rescale
// the running sum l and the output accumulator by e^(m − m'), add e^(s − m')·V. At the end
// out = acc / l, and the row's logsumexp is saved for the backward as the pair (m, log l), lse [L, 2].
// NOTE: as a pair, not as the f32 sum m + log l: in a fully masked row m ≈ MASKED_SCORE = −1e9, where
// the f32 spacing is 64, so the sum would absorb log l and the recomputed P would be 1 instead of 1/S.
//
// Backward (FlashAttention-2's recomputation): P = e^((s − m) − log l) is recomputed block by block
// from q, k and lse; with D = rowsum(dO ∘ O): dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P ∘ (dP − D),
// dQ += dS·K·scale, dK += dSᵀ·Q·scale. Only 4×BC blocks of P and dS ever exist (in the scratch).
//
// Layout trick: a block of scores is stored key-major, [BC][4] (one f32x4 = the 4 query rows of one
// key), so the row max, exp, row sums and the per-row scalings are plain f32x4 ops across the 4 rows,
// and the product P·V is the GEMM micro-kernel pattern (broadcast P[j][r], vector rows of V).
//
// Masks: causal (query i sits at key position causalOffset + i and sees keys ≤ it; keys past a row's
// limit are skipped or get −inf) and an optional additive f32 mask: element (i, j) of problem b is
// mask[maskMeta[1 + b] + i·maskMeta[0] + j] (meta = [rowStride, offset per problem], so a mask
// broadcast over batch/heads/rows costs nothing). NOTE: the caller passes MASKED_SCORE·mask (a large
// finite negative, not −inf), so a fully masked row is uniform (finite) as in the composed path;
// causal exclusions are exact zeros (every row sees key 0, so the running max is finite from the
// first block on).
//
// Threads: every function takes a problem range [bh0, bh1) and keeps no state, so threads may run
// disjoint ranges concurrently with their own scratch (attentionScratchBytes bytes each).
//
// see: T. Dao et al., "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
//      NeurIPS 2022 (online softmax, recomputation in the backward).
// see: T. Dao, "FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning",
//      2023 (D = rowsum(dO ∘ O), the logsumexp as the only saved statistic).
// see: M. Milakov, N. Gimelshein, "Online normalizer calculation for softmax", 2018.

import { madd } from './common';
import { microTile4x8 } from './matmul';

/** Query rows per block (the lanes of one f32x4). */
// @ts-ignore: decorator
@inline const BR: i32 = 4;
/** Keys per block: the score block is BC × 4 f32 = 1 KiB, and the running sums are rescaled once per block. */
// @ts-ignore: decorator
@inline const BC: i32 = 64;

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// @ts-ignore: decorator
@inline function round4(x: i32): i32 {
  return (x + 3) & ~3;
}

/**
 * e^x for x ≤ 0 on 4 lanes (−inf gives 0, NaN stays NaN). x = n·ln2 + r (Cody–Waite, |r| ≤ ln2/2),
 * e^r by its Taylor series to r⁷ (truncation < 1.5e-8 relative), 2^n put into the exponent bits.
 * NOTE: below −87.3 (where 2^n would leave the normal range) the result is flushed to exactly 0, as
 * e^(−1e9) underflows to 0 in the composed softmax; the true value there is < 1.2e-38.
 */
// @ts-ignore: decorator
@inline function expNeg(x: v128): v128 {
  const xc = f32x4.pmax(x, f32x4.splat(-87.0)); // keeps a NaN in x
  const n = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = madd(n, f32x4.splat(-LN2_HI), xc);
  r = madd(n, f32x4.splat(-LN2_LO), r);
  let p = madd(r, f32x4.splat(1.0 / 5040.0), f32x4.splat(1.0 / 720.0));
  p = madd(r, p, f32x4.splat(1.0 / 120.0));
  p = madd(r, p, f32x4.splat(1.0 / 24.0));
  p = madd(r, p, f32x4.splat(1.0 / 6.0));
  p = madd(r, p, f32x4.splat(0.5));
  p = madd(r, p, f32x4.splat(1.0));
  p = madd(r, p, f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return v128.andnot(f32x4.mul(p, scale), f32x4.lt(x, f32x4.splat(-87.0)));
}

/** Lane r (a run-time index) of v. */
// @ts-ignore: decorator
@inline function lane(v: v128, r: i32): f32 {
  return r == 0 ? f32x4.extract_lane(v, 0) : r == 1 ? f32x4.extract_lane(v, 1) : r == 2 ? f32x4.extract_lane(v, 2) : f32x4.extract_lane(v, 3);
}

/** [Σa, Σb, Σc, Σd]: the lane sums of four vectors as one vector (4×4 transpose + adds). */
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const u = f32x4.add(i32x4.shuffle(a, b, 0, 4, 1, 5), i32x4.shuffle(a, b, 2, 6, 3, 7)); // a02 b02 a13 b13
  const v = f32x4.add(i32x4.shuffle(c, d, 0, 4, 1, 5), i32x4.shuffle(c, d, 2, 6, 3, 7)); // c02 d02 c13 d13
  return f32x4.add(i32x4.shuffle(u, v, 0, 1, 4, 5), i32x4.shuffle(u, v, 2, 3, 6, 7));
}

/** Elements [e, n) of a row as a vector (n − e < 4), zeros after them (the tail of a dot product). */
// @ts-ignore: decorator
@inline function loadTail(p: usize, e: i32, n: i32): v128 {
  let x = f32x4.splat(0);
  x = f32x4.replace_lane(x, 0, load<f32>(p + (<usize>e << 2)));
  if (e + 1 < n) x = f32x4.replace_lane(x, 1, load<f32>(p + (<usize>(e + 1) << 2)));
  if (e + 2 < n) x = f32x4.replace_lane(x, 2, load<f32>(p + (<usize>(e + 2) << 2)));
  return x;
}

/**
 * dst[j] (one f32x4 per key, lane r = query row r) = tile[r] · rows[j] for j < jn.
 * tile: 4 rows of `width` f32, row stride ldt bytes, zero padded to a multiple of 4 (rows of fewer
 * queries are zero). rows: jn rows of `width` f32 each (stride width·4; read exactly, no overrun).
 * Register tile: 4 queries × 2 keys = 8 f32x4 accumulators over the shared dimension.
 */
function dotBlock(dst: usize, tile: usize, ldt: usize, rows: usize, jn: i32, width: i32): void {
  const ldr = <usize>width << 2;
  const w4 = width & ~3;
  const t1 = tile + ldt, t2 = tile + 2 * ldt, t3 = tile + 3 * ldt;
  let j = 0;
  for (; j + 2 <= jn; j += 2) {
    const k0 = rows + <usize>j * ldr;
    const k1 = k0 + ldr;
    let a00 = f32x4.splat(0), a10 = f32x4.splat(0), a20 = f32x4.splat(0), a30 = f32x4.splat(0);
    let a01 = f32x4.splat(0), a11 = f32x4.splat(0), a21 = f32x4.splat(0), a31 = f32x4.splat(0);
    let o: usize = 0;
    const end = <usize>w4 << 2;
    for (; o < end; o += 16) {
      const x0 = v128.load(k0 + o), x1 = v128.load(k1 + o);
      const q0 = v128.load(tile + o), q1 = v128.load(t1 + o), q2 = v128.load(t2 + o), q3 = v128.load(t3 + o);
      a00 = madd(q0, x0, a00); a01 = madd(q0, x1, a01);
      a10 = madd(q1, x0, a10); a11 = madd(q1, x1, a11);
      a20 = madd(q2, x0, a20); a21 = madd(q2, x1, a21);
      a30 = madd(q3, x0, a30); a31 = madd(q3, x1, a31);
    }
    if (w4 < width) {
      const x0 = loadTail(k0, w4, width), x1 = loadTail(k1, w4, width);
      const q0 = v128.load(tile + o), q1 = v128.load(t1 + o), q2 = v128.load(t2 + o), q3 = v128.load(t3 + o);
      a00 = madd(q0, x0, a00); a01 = madd(q0, x1, a01);
      a10 = madd(q1, x0, a10); a11 = madd(q1, x1, a11);
      a20 = madd(q2, x0, a20); a21 = madd(q2, x1, a21);
      a30 = madd(q3, x0, a30); a31 = madd(q3, x1, a31);
    }
    v128.store(dst + (<usize>j << 4), sum4(a00, a10, a20, a30));
    v128.store(dst + (<usize>j << 4), sum4(a01, a11, a21, a31), 16);
  }
  if (j < jn) {
    const k0 = rows + <usize>j * ldr;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let o: usize = 0;
    const end = <usize>w4 << 2;
    for (; o < end; o += 16) {
      const x0 = v128.load(k0 + o);
      a0 = madd(v128.load(tile + o), x0, a0);
      a1 = madd(v128.load(t1 + o), x0, a1);
      a2 = madd(v128.load(t2 + o), x0, a2);
      a3 = madd(v128.load(t3 + o), x0, a3);
    }
    if (w4 < width) {
      const x0 = loadTail(k0, w4, width);
      a0 = madd(v128.load(tile + o), x0, a0);
      a1 = madd(v128.load(t1 + o), x0, a1);
      a2 = madd(v128.load(t2 + o), x0, a2);
      a3 = madd(v128.load(t3 + o), x0, a3);
    }
    v128.store(dst + (<usize>j << 4), sum4(a0, a1, a2, a3));
  }
}

/**
 * acc[r, :] += Σ_j pT[j][r] · rows[j, :] for the 4 rows r of acc (row stride lda bytes), jn keys,
 * `width` columns (rows[j] has stride width·4). Whole 4 × 8 tiles by the GEMM micro-kernel (P is laid out
 * as its packed A sliver); column tails go 4 at a time, then one column at a time with the 4 rows in
 * the lanes.
 */
function accumulateBlock(acc: usize, lda: usize, pT: usize, rows: usize, jn: i32, width: i32): void {
  const ldr = <usize>width << 2;
  const pEnd = pT + (<usize>jn << 4);
  const r1 = acc + lda, r2 = acc + 2 * lda, r3 = acc + 3 * lda;
  let c = 0;
  for (; c + 8 <= width; c += 8) {
    // a whole 4 × 8 tile: matmul.ts's micro-kernel, adding into acc (its partial-tile scratch is never used)
    const o = <usize>c << 2;
    microTile4x8(jn, pT, rows + o, ldr, acc + o, lda, 4, 8, true, 0, 0, 0);
  }
  for (; c + 4 <= width; c += 4) {
    const o = <usize>c << 2;
    let c0 = v128.load(acc + o), c1 = v128.load(r1 + o), c2 = v128.load(r2 + o), c3 = v128.load(r3 + o);
    let v = rows + o;
    for (let p = pT; p < pEnd; p += 16) {
      const b0 = v128.load(v);
      c0 = madd(v128.load32_splat(p), b0, c0);
      c1 = madd(v128.load32_splat(p, 4), b0, c1);
      c2 = madd(v128.load32_splat(p, 8), b0, c2);
      c3 = madd(v128.load32_splat(p, 12), b0, c3);
      v += ldr;
    }
    v128.store(acc + o, c0); v128.store(r1 + o, c1); v128.store(r2 + o, c2); v128.store(r3 + o, c3);
  }
  for (; c < width; c++) {
    const o = <usize>c << 2;
    let s = f32x4(load<f32>(acc + o), load<f32>(r1 + o), load<f32>(r2 + o), load<f32>(r3 + o));
    let v = rows + o;
    for (let p = pT; p < pEnd; p += 16) {
      s = madd(v128.load(p), v128.load32_splat(v), s);
      v += ldr;
    }
    store<f32>(acc + o, f32x4.extract_lane(s, 0)); store<f32>(r1 + o, f32x4.extract_lane(s, 1));
    store<f32>(r2 + o, f32x4.extract_lane(s, 2)); store<f32>(r3 + o, f32x4.extract_lane(s, 3));
  }
}

/**
 * rows[j, :] += Σ_r pT[j][r] · tile[r, :] for jn rows of `width` f32 (the transposed product: dV += Pᵀ·dO,
 * dK += dSᵀ·Q). tile: 4 rows, stride ldt bytes. Columns outer, so the 4 tile vectors stay in registers.
 */
function rank4Block(rows: usize, pT: usize, tile: usize, ldt: usize, jn: i32, width: i32): void {
  const ldr = <usize>width << 2;
  const pEnd = pT + (<usize>jn << 4);
  let c = 0;
  for (; c + 4 <= width; c += 4) {
    const o = <usize>c << 2;
    const t0 = v128.load(tile + o), t1 = v128.load(tile + ldt + o), t2 = v128.load(tile + 2 * ldt + o), t3 = v128.load(tile + 3 * ldt + o);
    let d = rows + o;
    for (let p = pT; p < pEnd; p += 16) {
      let x = v128.load(d);
      x = madd(v128.load32_splat(p), t0, x);
      x = madd(v128.load32_splat(p, 4), t1, x);
      x = madd(v128.load32_splat(p, 8), t2, x);
      x = madd(v128.load32_splat(p, 12), t3, x);
      v128.store(d, x);
      d += ldr;
    }
  }
  for (; c < width; c++) {
    const o = <usize>c << 2;
    const col = f32x4(load<f32>(tile + o), load<f32>(tile + ldt + o), load<f32>(tile + 2 * ldt + o), load<f32>(tile + 3 * ldt + o));
    let d = rows + o;
    for (let p = pT; p < pEnd; p += 16) {
      const x = f32x4.mul(v128.load(p), col);
      store<f32>(d, load<f32>(d) + (f32x4.extract_lane(x, 0) + f32x4.extract_lane(x, 1) + f32x4.extract_lane(x, 2) + f32x4.extract_lane(x, 3)));
      d += ldr;
    }
  }
}

/**
 * Copies `rows` (≤ 4) rows of `width` f32 from src (stride width·4) into a 4-row tile of stride ldt
 * bytes, multiplied by `mul`; padding columns and missing rows are zero.
 */
function loadTile(tile: usize, ldt: usize, src: usize, rows: i32, width: i32, mul: f32): void {
  memory.fill(tile, 0, ldt << 2);
  const w4 = width & ~3;
  const m = f32x4.splat(mul);
  for (let r = 0; r < rows; r++) {
    const s = src + <usize>r * (<usize>width << 2);
    const d = tile + <usize>r * ldt;
    let c = 0;
    for (; c < w4; c += 4) v128.store(d + (<usize>c << 2), f32x4.mul(v128.load(s + (<usize>c << 2)), m));
    for (; c < width; c++) store<f32>(d + (<usize>c << 2), load<f32>(s + (<usize>c << 2)) * mul);
  }
}

/**
 * The score block pT[j][r] = qTile[r]·k[j0 + j] (qTile already scaled) + mask, with the causal limit:
 * row r (absolute query i0 + r) sees keys ≤ causalOffset + i0 + r; later keys get −inf.
 * Returns nothing; rows ≥ `rows` (padding of the last block) get no mask.
 */
function scoreBlock(pT: usize, qTile: usize, ldq: usize, kb: usize, j0: i32, jn: i32, E: i32, i0: i32, rows: i32,
  causalOffset: i32, mask: usize, maskRow: usize, maskRowStride: i32): void {
  dotBlock(pT, qTile, ldq, kb + (<usize>j0 * <usize>E << 2), jn, E);
  if (mask != 0) {
    for (let r = 0; r < rows; r++) {
      let m = maskRow + (<usize>(i0 + r) * <usize>maskRowStride << 2) + (<usize>j0 << 2);
      let p = pT + (<usize>r << 2);
      for (let j = 0; j < jn; j++) {
        store<f32>(p, load<f32>(p) + load<f32>(m));
        m += 4;
        p += 16;
      }
    }
  }
  if (causalOffset >= 0) {
    for (let r = 0; r < BR; r++) {
      const limit = causalOffset + i0 + r; // last key this row sees
      for (let j = imin(jn, limit - j0 + 1 > 0 ? limit - j0 + 1 : 0); j < jn; j++) {
        store<f32>(pT + (<usize>j << 4) + (<usize>r << 2), -Infinity);
      }
    }
  }
}

/** Bytes of scratch one thread needs for `attentionF32` or `attentionGradF32` with these head sizes. */
export function attentionScratchBytes(E: i32, Ev: i32): usize {
  return (<usize>(2 * round4(E) + 2 * round4(Ev)) << 4) + (<usize>(2 * BC) << 4);
}

/**
 * Forward for problems [bh0, bh1): out [L, Ev] and lse [L, 2] per problem (each row's logsumexp as the
 * pair (max score m, log Σ e^(s − m)); see the file comment). causalOffset < 0: not causal; else query i sits at key position causalOffset + i.
 * mask = 0: none; else the additive f32 mask addressed through maskMeta (see the file comment).
 * scratch: 16-byte aligned, attentionScratchBytes(E, Ev) bytes.
 */
export function attentionF32(out: usize, lse: usize, q: usize, k: usize, v: usize, mask: usize, maskMeta: usize,
  scratch: usize, bh0: i32, bh1: i32, L: i32, S: i32, E: i32, Ev: i32, scale: f32, causalOffset: i32): void {
  if (L <= 0) return;
  const ldq = <usize>round4(E) << 2;
  const ldo = <usize>round4(Ev) << 2;
  const qTile = scratch;
  const acc = qTile + 4 * ldq;
  const pT = acc + 4 * ldo;
  const maskRowStride = mask != 0 ? load<i32>(maskMeta) : 0;
  for (let bh = bh0; bh < bh1; bh++) {
    const qb = q + (<usize>bh * <usize>L * <usize>E << 2);
    const kb = k + (<usize>bh * <usize>S * <usize>E << 2);
    const vb = v + (<usize>bh * <usize>S * <usize>Ev << 2);
    const ob = out + (<usize>bh * <usize>L * <usize>Ev << 2);
    const lb = lse + (<usize>bh * <usize>L << 3);
    const maskRow = mask != 0 ? mask + (<usize>load<i32>(maskMeta + (<usize>(bh + 1) << 2)) << 2) : 0;
    for (let i0 = 0; i0 < L; i0 += BR) {
      const rows = imin(BR, L - i0);
      loadTile(qTile, ldq, qb + (<usize>i0 * <usize>E << 2), rows, E, scale);
      memory.fill(acc, 0, 4 * ldo);
      const kEnd = causalOffset >= 0 ? imin(S, causalOffset + i0 + rows) : S;
      let m = f32x4.splat(-Infinity);
      let l = f32x4.splat(0);
      for (let j0 = 0; j0 < kEnd; j0 += BC) {
        const jn = imin(BC, kEnd - j0);
        scoreBlock(pT, qTile, ldq, kb, j0, jn, E, i0, rows, causalOffset, mask, maskRow, maskRowStride);
        let bm = v128.load(pT);
        for (let j = 1; j < jn; j++) bm = f32x4.max(bm, v128.load(pT + (<usize>j << 4)));
        const mNew = f32x4.max(m, bm);
        // NOTE: a row whose scores are all −inf so far (only with a −inf in a caller's mask) keeps
        // m' = −inf; shift by 0 there instead of −inf − (−inf) = NaN
        const shift = v128.andnot(mNew, f32x4.eq(mNew, f32x4.splat(-Infinity)));
        const alpha = expNeg(f32x4.sub(m, shift));
        let sum = f32x4.splat(0);
        for (let j = 0; j < jn; j++) {
          const p = pT + (<usize>j << 4);
          const e = expNeg(f32x4.sub(v128.load(p), shift));
          v128.store(p, e);
          sum = f32x4.add(sum, e);
        }
        l = madd(l, alpha, sum);
        if (j0 > 0) {
          for (let r = 0; r < BR; r++) {
            const a = f32x4.splat(lane(alpha, r));
            const row = acc + <usize>r * ldo;
            for (let o: usize = 0; o < ldo; o += 16) v128.store(row + o, f32x4.mul(v128.load(row + o), a));
          }
        }
        accumulateBlock(acc, ldo, pT, vb + (<usize>j0 * <usize>Ev << 2), jn, Ev);
        m = mNew;
      }
      for (let r = 0; r < rows; r++) {
        const lr = lane(l, r);
        const mr = lane(m, r);
        const inv = f32x4.splat(1.0 / lr);
        const src = acc + <usize>r * ldo;
        const dst = ob + (<usize>(i0 + r) * <usize>Ev << 2);
        let c = 0;
        for (; c + 4 <= Ev; c += 4) v128.store(dst + (<usize>c << 2), f32x4.mul(v128.load(src + (<usize>c << 2)), inv));
        for (; c < Ev; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) / lr);
        store<f32>(lb + (<usize>(i0 + r) << 3), mr);
        store<f32>(lb + (<usize>(i0 + r) << 3), Mathf.log(lr), 4);
      }
    }
  }
}

/**
 * Backward for problems [bh0, bh1): dq [L, E], dk [S, E], dv [S, Ev] (overwritten) from q, k, v, the
 * forward's out and lse, and dout = dL/dout. Same masks and scratch as {@link attentionF32}.
 */
export function attentionGradF32(dq: usize, dk: usize, dv: usize, q: usize, k: usize, v: usize, out: usize, dout: usize,
  lse: usize, mask: usize, maskMeta: usize, scratch: usize, bh0: i32, bh1: i32, L: i32, S: i32, E: i32, Ev: i32,
  scale: f32, causalOffset: i32): void {
  const ldq = <usize>round4(E) << 2;
  const ldo = <usize>round4(Ev) << 2;
  const qTile = scratch;
  const dqAcc = qTile + 4 * ldq;
  const doTile = dqAcc + 4 * ldq;
  const pT = doTile + 4 * ldo;
  const dsT = pT + (<usize>BC << 4);
  const maskRowStride = mask != 0 ? load<i32>(maskMeta) : 0;
  for (let bh = bh0; bh < bh1; bh++) {
    const qb = q + (<usize>bh * <usize>L * <usize>E << 2);
    const kb = k + (<usize>bh * <usize>S * <usize>E << 2);
    const vb = v + (<usize>bh * <usize>S * <usize>Ev << 2);
    const ob = out + (<usize>bh * <usize>L * <usize>Ev << 2);
    const gob = dout + (<usize>bh * <usize>L * <usize>Ev << 2);
    const lb = lse + (<usize>bh * <usize>L << 3);
    const dqb = dq + (<usize>bh * <usize>L * <usize>E << 2);
    const dkb = dk + (<usize>bh * <usize>S * <usize>E << 2);
    const dvb = dv + (<usize>bh * <usize>S * <usize>Ev << 2);
    memory.fill(dkb, 0, <usize>S * <usize>E << 2);
    memory.fill(dvb, 0, <usize>S * <usize>Ev << 2);
    const maskRow = mask != 0 ? mask + (<usize>load<i32>(maskMeta + (<usize>(bh + 1) << 2)) << 2) : 0;
    for (let i0 = 0; i0 < L; i0 += BR) {
      const rows = imin(BR, L - i0);
      loadTile(qTile, ldq, qb + (<usize>i0 * <usize>E << 2), rows, E, scale);
      loadTile(doTile, ldo, gob + (<usize>i0 * <usize>Ev << 2), rows, Ev, 1.0);
      memory.fill(dqAcc, 0, 4 * ldq);
      // D = rowsum(dO ∘ O) and the rows' (m, log l) (padding rows: dO = 0, so their P never matters)
      let D = f32x4.splat(0), mV = f32x4.splat(0), logl = f32x4.splat(0);
      for (let r = 0; r < rows; r++) {
        const o = ob + (<usize>(i0 + r) * <usize>Ev << 2);
        const g = doTile + <usize>r * ldo;
        let s = f32x4.splat(0);
        let c = 0;
        for (; c + 4 <= Ev; c += 4) s = madd(v128.load(o + (<usize>c << 2)), v128.load(g + (<usize>c << 2)), s);
        let d = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
        for (; c < Ev; c++) d += load<f32>(o + (<usize>c << 2)) * load<f32>(g + (<usize>c << 2));
        const st = lb + (<usize>(i0 + r) << 3);
        const mr = load<f32>(st), lr = load<f32>(st, 4);
        if (r == 0) { D = f32x4.replace_lane(D, 0, d); mV = f32x4.replace_lane(mV, 0, mr); logl = f32x4.replace_lane(logl, 0, lr); }
        else if (r == 1) { D = f32x4.replace_lane(D, 1, d); mV = f32x4.replace_lane(mV, 1, mr); logl = f32x4.replace_lane(logl, 1, lr); }
        else if (r == 2) { D = f32x4.replace_lane(D, 2, d); mV = f32x4.replace_lane(mV, 2, mr); logl = f32x4.replace_lane(logl, 2, lr); }
        else { D = f32x4.replace_lane(D, 3, d); mV = f32x4.replace_lane(mV, 3, mr); logl = f32x4.replace_lane(logl, 3, lr); }
      }
      const kEnd = causalOffset >= 0 ? imin(S, causalOffset + i0 + rows) : S;
      for (let j0 = 0; j0 < kEnd; j0 += BC) {
        const jn = imin(BC, kEnd - j0);
        scoreBlock(pT, qTile, ldq, kb, j0, jn, E, i0, rows, causalOffset, mask, maskRow, maskRowStride);
        for (let j = 0; j < jn; j++) {
          const p = pT + (<usize>j << 4);
          v128.store(p, expNeg(f32x4.sub(f32x4.sub(v128.load(p), mV), logl)));
        }
        const vj = vb + (<usize>j0 * <usize>Ev << 2);
        // dV += Pᵀ·dO
        rank4Block(dvb + (<usize>j0 * <usize>Ev << 2), pT, doTile, ldo, jn, Ev);
        // dP = dO·Vᵀ, then dS = P ∘ (dP − D)
        dotBlock(dsT, doTile, ldo, vj, jn, Ev);
        for (let j = 0; j < jn; j++) {
          const o = <usize>j << 4;
          v128.store(dsT + o, f32x4.mul(v128.load(pT + o), f32x4.sub(v128.load(dsT + o), D)));
        }
        // dQ += dS·K (scaled at the end); dK += dSᵀ·(Q·scale)
        accumulateBlock(dqAcc, ldq, dsT, kb + (<usize>j0 * <usize>E << 2), jn, E);
        rank4Block(dkb + (<usize>j0 * <usize>E << 2), dsT, qTile, ldq, jn, E);
      }
      const sv = f32x4.splat(scale);
      for (let r = 0; r < rows; r++) {
        const src = dqAcc + <usize>r * ldq;
        const dst = dqb + (<usize>(i0 + r) * <usize>E << 2);
        let c = 0;
        for (; c + 4 <= E; c += 4) v128.store(dst + (<usize>c << 2), f32x4.mul(v128.load(src + (<usize>c << 2)), sv));
        for (; c < E; c++) store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) * scale);
      }
    }
  }
}
