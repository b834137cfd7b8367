// Matrix multiplication (f32 GEMM) for simdgrad: C (+)= op(A) · op(B), batched and strided.
//
// Blocking scheme (Goto & van de Geijn's layered GEMM, as refined by BLIS):
//
//   for jc in [0, n) step NC                      -- column panel of C / B
//     for pc in [0, k) step KC                    -- rank-KC update
//       pack B[pc:pc+kc, jc:jc+nc] into Bp        -- kc x nc, NR-wide slivers, zero padded
//       for ic in [i0, i1) step MC                -- row block of C / A
//         pack A[ic:ic+mc, pc:pc+kc] into Ap      -- mc x kc, MR-tall slivers, zero padded
//         for jr in [0, nc) step NR               -- one B sliver (kc x NR, lives in L1)
//           for ir in [0, mc) step MR             -- A slivers stream from L2
//             micro-kernel: C[ir:ir+MR, jr:jr+NR] (+)= Ap sliver · Bp sliver
//
// The transpositions (transA / transB) are folded into the packing routines, so once the panels
// are packed the micro-kernel sees exactly the same layout for A·B, Aᵀ·B, A·Bᵀ and Aᵀ·Bᵀ: every
// variant runs at the same speed. The two "awkward" layouts (A stored [m,k], B stored [n,k], where
// consecutive packed elements are a whole row apart) are packed with 4x4 in-register transposes.
//
// Micro-kernel: 4 rows x 8 columns of C = 8 f32x4 accumulators, k innermost, one rank-1 update
// per step (2 vector loads of B, 4 broadcasts of A, 8 multiply-adds). Why 4x8 and not the
// 6x16 / 8x12 shapes of native BLAS kernels: wasm SIMD registers are 128 bits, and V8's TurboFan
// (x64) hands wasm only xmm0-xmm14 and hoists a loop body's loads ahead of the arithmetic, so a
// tile that needs more than ~10 accumulators spills them to the stack on every k step. Measured
// on this machine (Node 20, kernel-only loop over packed panels resident in L1, GFLOPS
// plain / relaxed):
//   4x8 ~47-50 / ~46-50, 2x16 ~48-52 / ~48-52, 3x8 ~44 / ~43, 3x12 ~21 / ~50,
//   5x8 ~22 / ~22, 6x8 ~25 / ~25, 4x12 ~26 / ~27, 4x16 ~26 / ~29   (spills)
// and unrolling k by 2 or 4 made every shape *slower* (~30 and ~24 in the full GEMM) for the same
// reason (the loads of the unrolled steps are hoisted and push accumulators out of registers).
// In the full GEMM 2x16 and 3x12 were no better than 4x8, so: 4x8, 8 accumulators, no unroll.
// Splatting A with a vector load + 4 lane shuffles instead of 4 load32_splat was ~5% slower.
//
// Block sizes, for Zen 3 class cores (L1d 32 KiB, L2 512 KiB per core; the measuring machine
// reports L1d 48 KiB, L2 1 MiB, where KC in 128..512 and MC in 64..256 all measured within noise):
//   KC = 256: one B sliver is 256 x 8 x 4 B = 8 KiB (stays in L1 while all A slivers of the block
//             go by), one A sliver 4 KiB.
//   MC = 128: the packed A block is 128 x 256 x 4 B = 128 KiB, a quarter of L2.
//   NC = 2048: the packed B panel (up to 2 MiB) only has to come from L3 once per A block,
//             ~1 byte per 64 flops, so its size barely matters; it bounds the scratch size.
//
// Edges: packed panels are zero padded to full MR / NR, so the micro-kernel always runs the full
// 4x8 tile (no scalar path for the body of a matrix); a partial tile is written through a 128-byte
// tile in scratch, touching only the valid rows/columns of C.
//
// Threads: `matmulRowsF32` computes only rows [i0, i1) of every C in the batch; each thread
// passes its own scratch (of matmulScratchBytes(i1 - i0, n, k) bytes) and the kernel keeps no
// state, so threads may run it concurrently on disjoint row ranges of one shared memory. (Each
// thread packs B itself: O(k n) work next to O(m n k / threads).) Row ranges that are multiples
// of MR = 4 avoid edge tiles.
//
// see: K. Goto, R. van de Geijn, "Anatomy of High-Performance Matrix Multiplication", ACM TOMS 34(3), 2008.
// see: F. Van Zee, R. van de Geijn, "BLIS: A Framework for Rapidly Instantiating BLAS Functionality",
//      ACM TOMS 41(3), 2015; and T. M. Low et al., "Analytical Modeling Is Enough for High-Performance
//      BLIS", ACM TOMS 43(2), 2016 (choosing MR/NR/KC/MC from register count and cache sizes).
// see: WebAssembly relaxed SIMD proposal (f32x4.relaxed_madd), https://github.com/WebAssembly/relaxed-simd

import { madd } from './common';

/** Micro-tile rows (A sliver height). */
// @ts-ignore: decorator
@inline const MR: i32 = 4;
/** Micro-tile columns (B sliver width), two f32x4. */
// @ts-ignore: decorator
@inline const NR: i32 = 8;
/** Depth of one rank-KC update (packed panel depth). */
// @ts-ignore: decorator
@inline const KC: i32 = 256;
/** Rows of C per packed A block. Multiple of MR. */
// @ts-ignore: decorator
@inline const MC: i32 = 128;
/** Columns of C per packed B panel. Multiple of NR. */
// @ts-ignore: decorator
@inline const NC: i32 = 2048;
/** Bytes of the edge tile buffer (MR x NR f32). */
// @ts-ignore: decorator
@inline const TILE_BYTES: usize = 128;

// ------------------------------------------------------------------------------------ scratch

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// @ts-ignore: decorator
@inline function roundUp(x: i32, to: i32): i32 {
  return (x + to - 1) / to * to;
}

/** Bytes of the packed-B area for these sizes (kc x ncPadded f32). */
// @ts-ignore: decorator
@inline function packedBBytes(n: i32, k: i32): usize {
  return <usize>imin(k, KC) * <usize>roundUp(imin(n, NC), NR) << 2;
}

/**
 * Bytes of scratch `matmulF32` needs: packed B panel + packed A block + one edge tile.
 * For `matmulRowsF32` on rows [i0, i1), `matmulScratchBytes(i1 - i0, n, k)` is enough.
 * Every part is a multiple of 16 bytes, so all of them stay 16-byte aligned.
 */
export function matmulScratchBytes(m: i32, n: i32, k: i32): usize {
  if (m <= 0 || n <= 0 || k <= 0) return TILE_BYTES;
  const aBytes = <usize>roundUp(imin(m, MC), MR) * <usize>imin(k, KC) << 2;
  return packedBBytes(n, k) + aBytes + TILE_BYTES;
}

// ------------------------------------------------------------------------------------ packing

/**
 * Pack a panel of W lanes (W a multiple of 4) and depth kc into dst as [p][W] (W f32 per step).
 * Source element (lane l, step p) is at src + l*sLane + p*sP (byte strides). Lanes >= `lanes`
 * are written as zeros (edge padding); they are never read.
 */
// @ts-ignore: decorator
@inline function packPanel(dst: usize, src: usize, sLane: usize, sP: usize, lanes: i32, W: i32, kc: i32): void {
  const rowBytes = <usize>W << 2;
  if (lanes == W && sLane == 4) {
    // lanes contiguous in memory (B stored [k,n], A stored [k,m]): straight vector copies
    for (let p = 0; p < kc; p++) {
      for (let g = 0; g < W; g += 4) {
        v128.store(dst + (<usize>g << 2), v128.load(src + (<usize>g << 2)));
      }
      src += sP;
      dst += rowBytes;
    }
  } else if (lanes == W && sP == 4) {
    // steps contiguous (A stored [m,k], B stored [n,k]): transpose 4 lanes x 4 steps at a time
    for (let g = 0; g < W; g += 4) {
      const r0 = src + <usize>g * sLane;
      const r1 = r0 + sLane;
      const r2 = r1 + sLane;
      const r3 = r2 + sLane;
      let d = dst + (<usize>g << 2);
      let off: usize = 0;
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const x0 = v128.load(r0 + off);
        const x1 = v128.load(r1 + off);
        const x2 = v128.load(r2 + off);
        const x3 = v128.load(r3 + off);
        const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);   // x0[0] x1[0] x0[1] x1[1]
        const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);   // x2[0] x3[0] x2[1] x3[1]
        const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);   // x0[2] x1[2] x0[3] x1[3]
        const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);   // x2[2] x3[2] x2[3] x3[3]
        v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
        v128.store(d + rowBytes, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
        v128.store(d + 2 * rowBytes, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
        v128.store(d + 3 * rowBytes, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
        d += rowBytes << 2;
        off += 16;
      }
      for (; p < kc; p++) {
        store<f32>(d, load<f32>(r0 + off));
        store<f32>(d, load<f32>(r1 + off), 4);
        store<f32>(d, load<f32>(r2 + off), 8);
        store<f32>(d, load<f32>(r3 + off), 12);
        d += rowBytes;
        off += 4;
      }
    }
  } else {
    // edge panel (lanes < W): scalar gather with zero padding; at most one per panel row/column
    for (let p = 0; p < kc; p++) {
      for (let g = 0; g < W; g += 4) v128.store(dst + (<usize>g << 2), f32x4.splat(0));
      let s = src;
      for (let l = 0; l < lanes; l++) {
        store<f32>(dst + (<usize>l << 2), load<f32>(s));
        s += sLane;
      }
      src += sP;
      dst += rowBytes;
    }
  }
}

/**
 * Pack op(B)[pc:pc+kc, jc:jc+nc] as NR-wide slivers: sliver s (columns jc+s*NR ...) occupies
 * kc*NR f32 at bp + s*kc*NR*4, laid out [p][NR].
 * bSJ / bSP: byte strides of op(B) between columns and between rows (k steps).
 */
function packB(bp: usize, b: usize, bSJ: usize, bSP: usize, kc: i32, nc: i32): void {
  const sliverBytes = <usize>kc * <usize>(NR << 2);
  for (let j = 0; j < nc; j += NR) {
    packPanel(bp, b + <usize>j * bSJ, bSJ, bSP, imin(NR, nc - j), NR, kc);
    bp += sliverBytes;
  }
}

/**
 * Pack op(A)[ic:ic+mc, pc:pc+kc] as MR-tall slivers: sliver s (rows ic+s*MR ...) occupies
 * kc*MR f32 at ap + s*kc*MR*4, laid out [p][MR].
 * aSI / aSP: byte strides of op(A) between rows and between columns (k steps).
 * Also packs convgemm.ts's weight (w stored [O, K] or transposed).
 */
export function packA(ap: usize, a: usize, aSI: usize, aSP: usize, kc: i32, mc: i32): void {
  const sliverBytes = <usize>kc * <usize>(MR << 2);
  for (let i = 0; i < mc; i += MR) {
    packPanel(ap, a + <usize>i * aSI, aSI, aSP, imin(MR, mc - i), MR, kc);
    ap += sliverBytes;
  }
}

// ------------------------------------------------------------------------------- micro-kernel

/**
 * C[0:rows, 0:cols] (+)= Ap (kc x MR sliver, [p][MR]) · B (kc rows of NR f32, `ldb` bytes apart),
 * plus bias[o0 + row] when bias != 0. ldc: bytes between rows of C. add: add into C (else
 * overwrite, C is never read). rows <= MR, cols <= NR; partial tiles go through `tile`
 * (TILE_BYTES of scratch). Shared by this GEMM (packed B, ldb = 32, no bias) and convgemm.ts
 * (B read in place, bias epilogue); call it with constant ldb / bias where they are fixed so
 * the inlined copy folds them away.
 */
// @ts-ignore: decorator
@inline export function microTile4x8(kc: i32, ap: usize, bp: usize, ldb: usize, c: usize, ldc: usize, rows: i32, cols: i32,
  add: bool, bias: usize, o0: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const aEnd = ap + (<usize>kc << 4);
  while (ap < aEnd) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    // (binaryen merges the two identical broadcasts of each A element into one)
    c00 = madd(v128.load32_splat(ap), b0, c00);
    c01 = madd(v128.load32_splat(ap), b1, c01);
    c10 = madd(v128.load32_splat(ap, 4), b0, c10);
    c11 = madd(v128.load32_splat(ap, 4), b1, c11);
    c20 = madd(v128.load32_splat(ap, 8), b0, c20);
    c21 = madd(v128.load32_splat(ap, 8), b1, c21);
    c30 = madd(v128.load32_splat(ap, 12), b0, c30);
    c31 = madd(v128.load32_splat(ap, 12), b1, c31);
    ap += 16;
    bp += ldb;
  }
  if (rows == MR && cols == NR) {
    if (add) {
      c00 = f32x4.add(c00, v128.load(c));
      c01 = f32x4.add(c01, v128.load(c, 16));
      c10 = f32x4.add(c10, v128.load(c + ldc));
      c11 = f32x4.add(c11, v128.load(c + ldc, 16));
      c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
      c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
      c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
      c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
    }
    if (bias != 0) {
      const q = bias + (<usize>o0 << 2);
      const v0 = v128.load32_splat(q), v1 = v128.load32_splat(q, 4), v2 = v128.load32_splat(q, 8), v3 = v128.load32_splat(q, 12);
      c00 = f32x4.add(c00, v0); c01 = f32x4.add(c01, v0);
      c10 = f32x4.add(c10, v1); c11 = f32x4.add(c11, v1);
      c20 = f32x4.add(c20, v2); c21 = f32x4.add(c21, v2);
      c30 = f32x4.add(c30, v3); c31 = f32x4.add(c31, v3);
    }
    v128.store(c, c00);
    v128.store(c, c01, 16);
    v128.store(c + ldc, c10);
    v128.store(c + ldc, c11, 16);
    v128.store(c + 2 * ldc, c20);
    v128.store(c + 2 * ldc, c21, 16);
    v128.store(c + 3 * ldc, c30);
    v128.store(c + 3 * ldc, c31, 16);
  } else {
    v128.store(tile, c00);
    v128.store(tile, c01, 16);
    v128.store(tile, c10, 32);
    v128.store(tile, c11, 48);
    v128.store(tile, c20, 64);
    v128.store(tile, c21, 80);
    v128.store(tile, c30, 96);
    v128.store(tile, c31, 112);
    for (let i = 0; i < rows; i++) {
      const t = tile + (<usize>i << 5);
      const d = c + <usize>i * ldc;
      const b: f32 = bias != 0 ? load<f32>(bias + (<usize>(o0 + i) << 2)) : 0;
      for (let j = 0; j < cols; j++) {
        const o = <usize>j << 2;
        let v = load<f32>(t + o);
        if (add) v = load<f32>(d + o) + v;
        if (bias != 0) v = v + b;
        store<f32>(d + o, v);
      }
    }
  }
}

/** The GEMM's micro-kernel: microTile4x8 over a packed B sliver ([p][NR], 32 bytes a step), no bias. */
function micro4x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, rows: i32, cols: i32, add: bool, tile: usize): void {
  microTile4x8(kc, ap, bp, <usize>(NR << 2), c, ldc, rows, cols, add, 0, 0, tile);
}

// ------------------------------------------------------------------------------------ driver

/**
 * Like `matmulF32`, but computes only rows [i0, i1) of every C in the batch (0 <= i0 <= i1 <= m).
 * Thread-safe on disjoint row ranges when each caller has its own `scratch`
 * (16-byte aligned, matmulScratchBytes(i1 - i0, n, k) bytes).
 */
export function matmulRowsF32(c: usize, a: usize, b: usize, scratch: usize, batch: i32, m: i32, n: i32, k: i32,
  transA: i32, transB: i32, strideA: i32, strideB: i32, strideC: i32, accumulate: i32, i0: i32, i1: i32): void {
  if (batch <= 0 || i1 <= i0 || n <= 0) return;
  const ldc = <usize>n << 2;
  if (k <= 0) {
    // empty sum: C = 0 (or unchanged when accumulating)
    if (accumulate != 0) return;
    for (let bt = 0; bt < batch; bt++) {
      const cb = c + (<usize>bt * <usize>strideC << 2);
      for (let i = i0; i < i1; i++) memory.fill(cb + <usize>i * ldc, 0, ldc);
    }
    return;
  }
  // byte strides of op(A) (rows i, steps p) and op(B) (steps p, columns j)
  const aSI: usize = transA != 0 ? 4 : <usize>k << 2;
  const aSP: usize = transA != 0 ? <usize>m << 2 : 4;
  const bSP: usize = transB != 0 ? 4 : <usize>n << 2;
  const bSJ: usize = transB != 0 ? <usize>k << 2 : 4;

  const bp = scratch;
  const ap = bp + packedBBytes(n, k);
  const tile = ap + (<usize>roundUp(imin(i1 - i0, MC), MR) * <usize>imin(k, KC) << 2);

  // A panel / B panel that is the same for every batch element and fits one block: pack it once
  const keepB = strideB == 0 && n <= NC && k <= KC;
  const keepA = strideA == 0 && i1 - i0 <= MC && k <= KC;

  for (let bt = 0; bt < batch; bt++) {
    const ab = a + (<usize>bt * <usize>strideA << 2);
    const bb = b + (<usize>bt * <usize>strideB << 2);
    const cb = c + (<usize>bt * <usize>strideC << 2);
    for (let jc = 0; jc < n; jc += NC) {
      const nc = imin(NC, n - jc);
      for (let pc = 0; pc < k; pc += KC) {
        const kc = imin(KC, k - pc);
        if (!keepB || bt == 0) packB(bp, bb + <usize>jc * bSJ + <usize>pc * bSP, bSJ, bSP, kc, nc);
        const add = pc > 0 || accumulate != 0;
        const sliverA = <usize>kc * <usize>(MR << 2);
        const sliverB = <usize>kc * <usize>(NR << 2);
        for (let ic = i0; ic < i1; ic += MC) {
          const mc = imin(MC, i1 - ic);
          if (!keepA || bt == 0) packA(ap, ab + <usize>ic * aSI + <usize>pc * aSP, aSI, aSP, kc, mc);
          for (let jr = 0; jr < nc; jr += NR) {
            const cols = imin(NR, nc - jr);
            const bs = bp + <usize>(jr / NR) * sliverB;
            let cp = cb + <usize>ic * ldc + (<usize>(jc + jr) << 2);
            let as = ap;
            for (let ir = 0; ir < mc; ir += MR) {
              micro4x8(kc, as, bs, cp, ldc, imin(MR, mc - ir), cols, add, tile);
              as += sliverA;
              cp += <usize>MR * ldc;
            }
          }
        }
      }
    }
  }
}

/**
 * For each of `batch` problems: C[m,n] (+)= op(A)[m,k] · op(B)[k,n], row-major and contiguous.
 * transA = 0: A stored [m,k]; 1: stored [k,m]. transB = 0: B stored [k,n]; 1: stored [n,k].
 * strideA/B/C: elements between consecutive batch matrices (0 = the same matrix for all).
 * accumulate = 1 adds into C; 0 overwrites it (C is then never read; k = 0 writes zeros).
 * scratch: 16-byte aligned, matmulScratchBytes(m, n, k) bytes.
 */
export function matmulF32(c: usize, a: usize, b: usize, scratch: usize, batch: i32, m: i32, n: i32, k: i32,
  transA: i32, transB: i32, strideA: i32, strideB: i32, strideC: i32, accumulate: i32): void {
  matmulRowsF32(c, a, b, scratch, batch, m, n, k, transA, transB, strideA, strideB, strideC, accumulate, 0, m);
}

// ---------------------------------------------------------------------------- peak FLOPS probe

/**
 * Register-only multiply-add loop: 12 independent f32x4 chains c = c*m + a, unrolled x2, so
 * flops = iters * 2 * 12 * 4 * 2. Returns a value depending on every chain.
 */
export function peakF32(iters: i32, m: f32, a: f32): f32 {
  const vm = f32x4.splat(m);
  const va = f32x4.splat(a);
  let c0 = f32x4.splat(1.0), c1 = f32x4.splat(1.1), c2 = f32x4.splat(1.2), c3 = f32x4.splat(1.3);
  let c4 = f32x4.splat(1.4), c5 = f32x4.splat(1.5), c6 = f32x4.splat(1.6), c7 = f32x4.splat(1.7);
  let c8 = f32x4.splat(1.8), c9 = f32x4.splat(1.9), c10 = f32x4.splat(2.0), c11 = f32x4.splat(2.1);
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, vm, va); c1 = madd(c1, vm, va); c2 = madd(c2, vm, va); c3 = madd(c3, vm, va);
    c4 = madd(c4, vm, va); c5 = madd(c5, vm, va); c6 = madd(c6, vm, va); c7 = madd(c7, vm, va);
    c8 = madd(c8, vm, va); c9 = madd(c9, vm, va); c10 = madd(c10, vm, va); c11 = madd(c11, vm, va);
    c0 = madd(c0, vm, va); c1 = madd(c1, vm, va); c2 = madd(c2, vm, va); c3 = madd(c3, vm, va);
    c4 = madd(c4, vm, va); c5 = madd(c5, vm, va); c6 = madd(c6, vm, va); c7 = madd(c7, vm, va);
    c8 = madd(c8, vm, va); c9 = madd(c9, vm, va); c10 = madd(c10, vm, va); c11 = madd(c11, vm, va);
  }
  const s = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7))),
    f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)));
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
}
