// The GEMM of a convolution's forward pass, y[n] = w · cols[n] + bias, reading the im2col matrix in
// place: cols[n] is [K, L] row-major, and a 4×8 micro-tile steps down 8 of its columns with a row
// stride of L floats instead of first copying them into a packed 8-wide panel (matmul.ts's packB).
// The 8 columns × KC rows of one step (≤ 256 cache lines) stay in L1 while every 4-row sliver of the
// packed weight goes by, so the strided reads cost about what the packing pass did, minus the pass.
// Only the weight (A) is packed (matmul.ts's packA), once per KC block for all images. The bias is
// added in the epilogue of the last KC block.
//
// Edges: the last column sliver of an image (L not a multiple of 8) is copied into a zero-padded
// 8-wide panel, so no read runs past cols; partial tiles are stored through a 128-byte scratch tile.
// Same blocking ideas and the same 4×8 micro-kernel as matmul.ts (see there for the register budget).

import { col2imF32, im2colF32 } from './conv';
import { microTile4x8, packA } from './matmul';

// @ts-ignore: decorator
@inline const MR: i32 = 4;
// @ts-ignore: decorator
@inline const NR: i32 = 8;
// @ts-ignore: decorator
@inline const KC: i32 = 256;

/** Bytes of scratch conv2dColsGemmF32 needs: the packed weight block, one edge panel and one tile. */
export function conv2dColsGemmScratchBytes(O: i32, K: i32): usize {
  const kc = <usize>min(K, KC);
  return ((<usize>((O + MR - 1) / MR * MR) * kc) << 2) + ((kc * <usize>NR) << 2) + 128;
}

/**
 * y[n, o, l] = bias[o] + Σ_p w[o, p] · cols[n, p, l] for n < N (overwrites y; bias = 0: none).
 * w: [O, K] row-major, or with transW = 1 the transpose of a row-major [K, O] (w[o, p] read at p·O + o:
 * the input gradient's wᵀ · gy); cols: N matrices [K, L], `colsImage` floats apart; y: N matrices
 * [O, L], `yImage` floats apart. scratch: 16-byte aligned, conv2dColsGemmScratchBytes(O, K) bytes.
 */
export function conv2dColsGemmF32(y: usize, w: usize, cols: usize, bias: usize, scratch: usize, N: i32, O: i32, K: i32,
  L: i32, colsImage: i32, yImage: i32, transW: i32): void {
  if (N <= 0 || O <= 0 || L <= 0) return;
  const kcMax = min(K, KC);
  const ap = scratch;
  const panel = ap + ((<usize>((O + MR - 1) / MR * MR) * <usize>kcMax) << 2);
  const tile = panel + ((<usize>kcMax * <usize>NR) << 2);
  if (K <= 0) {
    for (let n = 0; n < N; n++) {
      for (let o = 0; o < O; o++) {
        const b: f32 = bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0;
        const row = y + ((<usize>n * <usize>yImage + <usize>o * <usize>L) << 2);
        for (let l = 0; l < L; l++) store<f32>(row + (<usize>l << 2), b);
      }
    }
    return;
  }
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const last = pc + kc >= K;
    if (transW != 0) packWeightT(ap, w + ((<usize>pc * <usize>O) << 2), <usize>O << 2, O, kc);
    else packWeight(ap, w + (<usize>pc << 2), <usize>K << 2, O, kc);
    for (let n = 0; n < N; n++) {
      gemmBlock(y + ((<usize>n * <usize>yImage) << 2), ap, cols + ((<usize>n * <usize>colsImage + <usize>pc * <usize>L) << 2),
        panel, tile, kc, O, L, pc > 0, last ? bias : 0);
    }
  }
}

/**
 * One image and one KC block: yn[O, L] (+)= Ap (packed, kc deep) · cn (kc rows of L floats), plus bias
 * when given. The last column sliver (L not a multiple of 8) goes through `panel`.
 */
function gemmBlock(yn: usize, ap: usize, cn: usize, panel: usize, tile: usize, kc: i32, O: i32, L: i32, add: bool,
  bias: usize): void {
  const ld = <usize>L << 2;
  const sliverA = <usize>kc * <usize>(MR << 2);
  for (let j = 0; j < L; j += NR) {
    const width = min(NR, L - j);
    let bp = cn + (<usize>j << 2);
    let ldb = ld;
    if (width < NR) {
      // the edge sliver: copy its columns into a zero-padded 8-wide panel
      for (let p = 0; p < kc; p++) {
        const d = panel + (<usize>p << 5);
        v128.store(d, f32x4.splat(0));
        v128.store(d, f32x4.splat(0), 16);
        const s = bp + <usize>p * ld;
        for (let l = 0; l < width; l++) store<f32>(d + (<usize>l << 2), load<f32>(s + (<usize>l << 2)));
      }
      bp = panel;
      ldb = 32;
    }
    let as = ap;
    for (let o = 0; o < O; o += MR) {
      micro4x8Strided(kc, as, bp, ldb, yn + ((<usize>o * <usize>L + <usize>j) << 2), ld, min(MR, O - o), width,
        add, bias, o, tile);
      as += sliverA;
    }
  }
}

/**
 * A convolution's forward pass for one group, image by image: cols[n] = im2col(x[n]) (kept: the weight
 * gradient needs it), then y[n] = w · cols[n] + bias while cols[n] is still in cache. w: [O, K] with
 * K = C·kh·kw; x: N images of C planes [H, W], `xImage` floats apart; cols: N matrices [K, L], `colsImage`
 * floats apart; y: N images of O planes, `yImage` floats apart (overwritten); bias = 0: none. scratch:
 * conv2dColsGemmScratchBytes(O, K) bytes. The weight is packed once when K ≤ 256, else per image and block.
 */
export function conv2dForwardF32(y: usize, x: usize, w: usize, bias: usize, cols: usize, scratch: usize, N: i32, C: i32,
  H: i32, W: i32, O: i32, kh: i32, kw: i32, padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32,
  outH: i32, outW: i32, xImage: i32, yImage: i32, colsImage: i32): void {
  const K = C * kh * kw, L = outH * outW;
  if (N <= 0 || O <= 0 || L <= 0) return;
  if (K <= 0) {
    conv2dColsGemmF32(y, w, cols, bias, scratch, N, O, K, L, colsImage, yImage, 0);
    return;
  }
  const kcMax = min(K, KC);
  const ap = scratch;
  const panel = ap + ((<usize>((O + MR - 1) / MR * MR) * <usize>kcMax) << 2);
  const tile = panel + ((<usize>kcMax * <usize>NR) << 2);
  const single = K <= KC;
  if (single) packWeight(ap, w, <usize>K << 2, O, K);
  for (let n = 0; n < N; n++) {
    const cn = cols + ((<usize>n * <usize>colsImage) << 2);
    im2colF32(cn, x + ((<usize>n * <usize>xImage) << 2), C, H, W, kh, kw, padH, padW, strideH, strideW, dilH, dilW, outH, outW);
    const yn = y + ((<usize>n * <usize>yImage) << 2);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      if (!single) packWeight(ap, w + (<usize>pc << 2), <usize>K << 2, O, kc);
      gemmBlock(yn, ap, cn + ((<usize>pc * <usize>L) << 2), panel, tile, kc, O, L, pc > 0, pc + kc >= K ? bias : 0);
    }
  }
}

/** Bytes of scratch conv2dInputGradF32 needs (K = C·kh·kw taps, O output channels, L outputs per image). */
export function conv2dInputGradScratchBytes(K: i32, O: i32, L: i32): usize {
  const rows = <usize>((K + MR - 1) / MR * MR);
  const depth = <usize>(O <= KC ? max(O, 1) : KC);
  return ((rows * depth) << 2) + ((depth * <usize>NR) << 2) + 128 + ((<usize>K * <usize>L) << 2);
}

/**
 * The input gradient of a convolution (one group), image by image: gcol = wᵀ · gy[n] ([K, L], in
 * scratch), then gx[n] += col2im(gcol). Each image's gcol is scattered while it is still in cache (a
 * batch-wide gcol would go out to memory and come back). w: [O, K] with K = C·kh·kw; gy: N images of
 * O planes [outH, outW], `gyImage` floats apart; gx: N images of C planes [H, W], `gxImage` floats
 * apart, accumulated into (the caller zeroes it). scratch: conv2dInputGradScratchBytes(K, O, L) bytes.
 * The weight is packed once when O ≤ 256 (one block), else per image and block.
 */
export function conv2dInputGradF32(gx: usize, w: usize, gy: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, O: i32,
  kh: i32, kw: i32, padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32,
  gyImage: i32, gxImage: i32): void {
  const K = C * kh * kw, L = outH * outW;
  if (N <= 0 || K <= 0 || L <= 0 || O <= 0) return;
  const rows = <usize>((K + MR - 1) / MR * MR);
  const depth = O <= KC ? O : KC;
  const ap = scratch;
  const panel = ap + ((rows * <usize>depth) << 2);
  const tile = panel + ((<usize>depth * <usize>NR) << 2);
  const gcol = tile + 128;
  const single = O <= KC;
  if (single) packWeightT(ap, w, <usize>K << 2, K, O);
  for (let n = 0; n < N; n++) {
    const gn = gy + ((<usize>n * <usize>gyImage) << 2);
    for (let pc = 0; pc < O; pc += KC) {
      const kc = min(KC, O - pc);
      if (!single) packWeightT(ap, w + ((<usize>pc * <usize>K) << 2), <usize>K << 2, K, kc);
      gemmBlock(gcol, ap, gn + ((<usize>pc * <usize>L) << 2), panel, tile, kc, K, L, pc > 0, 0);
    }
    col2imF32(gx + ((<usize>n * <usize>gxImage) << 2), gcol, C, H, W, kh, kw, padH, padW, strideH, strideW, dilH, dilW,
      outH, outW);
  }
}

/** Packs w[0:O, 0:kc] (row stride `ldw` bytes) as 4-row slivers [p][4], zero-padding the last sliver's rows. */
// @ts-ignore: decorator
@inline function packWeight(ap: usize, w: usize, ldw: usize, O: i32, kc: i32): void {
  packA(ap, w, ldw, 4, kc, O);
}

/** packWeight for w stored transposed: w[o, p] at p·ldw + 4·o (rows o contiguous within each step p). */
// @ts-ignore: decorator
@inline function packWeightT(ap: usize, w: usize, ldw: usize, O: i32, kc: i32): void {
  packA(ap, w, 4, ldw, kc, O);
}

/**
 * matmul.ts's 4×8 micro-kernel reading B in place (kc rows of 8 floats, `ldb` bytes apart), with the
 * bias epilogue (bias ≠ 0: add bias[o0 + row], the last KC block). Its own function, as before the
 * helper was shared, so gemmBlock's loops stay small.
 */
function micro4x8Strided(kc: i32, ap: usize, bp: usize, ldb: usize, c: usize, ldc: usize, rows: i32, cols: i32, add: bool,
  bias: usize, o0: i32, tile: usize): void {
  microTile4x8(kc, ap, bp, ldb, c, ldc, rows, cols, add, bias, o0, tile);
}
