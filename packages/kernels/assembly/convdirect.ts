// Direct 2-d convolution (no im2col, no GEMM packing) for convolutions with few taps per output,
// C·kh·kw small — the first layer of an image network (C = 1 or 3, 3×3 or 5×5 kernels). There the
// im2col matrix is as large as the output times the taps, its GEMM has k = C·kh·kw (so each 4×8
// micro-tile does a handful of steps and then loads and stores its accumulators), and the weight
// gradient GEMM has n = C·kh·kw (a 9-wide B padded to 16 columns). Here each output is computed
// once, straight from the input plane, with the bias as the first term.
//
// Geometry as conv.ts (PyTorch's): output (oh, ow) reads x[c, oh·strideH − padH + i·dilH,
// ow·strideW − padW + j·dilW], zero outside the input. Outputs whose horizontal taps all stay inside
// the row (the interior) run 4 or 8 at a time when strideW = 1; the border and every other stride run
// one at a time, over the same taps in the same (c, i, j) order.
//
// Both kernels walk N images: x is the first channel of the group in image 0 and images are
// `xImage` floats apart; y / gy likewise with `yImage`; the weight is [O, C, kh, kw] (one group).

import { madd } from './common';

/** Smallest o in [0, n] with o * step + off >= limit (n when none). */
// @ts-ignore: decorator
@inline function firstAtLeast(off: i32, step: i32, limit: i32, n: i32): i32 {
  const d = limit - off;
  if (d <= 0) return 0;
  return min((d + step - 1) / step, n);
}

/** One output y[o, oh, ow] (scalar path): bias + Σ over the taps that fall inside the input. */
function convPixel(xp: usize, wo: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, h0: i32, w0: i32,
  dilH: i32, dilW: i32, i0: i32, i1: i32, bias: f32): f32 {
  const j0 = firstAtLeast(w0, dilW, 0, kw);
  const j1 = max(j0, firstAtLeast(w0, dilW, W, kw));
  const plane = <usize>H * <usize>W;
  let s = bias;
  for (let c = 0; c < C; c++) {
    const xc = xp + ((<usize>c * plane) << 2);
    const wc = wo + ((<usize>(c * kh * kw)) << 2);
    for (let i = i0; i < i1; i++) {
      const row = xc + ((<usize>(h0 + i * dilH) * <usize>W) << 2);
      for (let j = j0; j < j1; j++) {
        s += load<f32>(wc + (<usize>(i * kw + j) << 2)) * load<f32>(row + (<usize>(w0 + j * dilW) << 2));
      }
    }
  }
  return s;
}

/**
 * y[n, o, oh, ow] = bias[o] + Σ_{c,i,j} w[o, c, i, j] · x[n, c, ih, iw] (overwrites y; bias = 0: none).
 * x: N images of C planes [H, W], `xImage` floats apart; y: N images of O planes [outH, outW], `yImage`
 * floats apart; w: [O, C, kh, kw].
 */
export function conv2dDirectF32(y: usize, x: usize, w: usize, bias: usize, N: i32, C: i32, H: i32, W: i32, O: i32,
  kh: i32, kw: i32, padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32,
  xImage: i32, yImage: i32): void {
  const K = C * kh * kw;
  const plane = <usize>H * <usize>W;
  const L = outH * outW;
  // interior: every horizontal tap inside [0, W); vectorised only for stride 1
  const lo = firstAtLeast(-padW, strideW, 0, outW);
  const hi = strideW == 1 ? max(lo, firstAtLeast((kw - 1) * dilW - padW, 1, W, outW)) : lo;
  const wRow = <usize>K << 2;
  for (let n = 0; n < N; n++) {
    const xn = x + ((<usize>n * <usize>xImage) << 2);
    const yn = y + ((<usize>n * <usize>yImage) << 2);
    let o = 0;
    for (; o < O; o += 4) {
      const rows = min(4, O - o);
      const wo = w + <usize>o * wRow;
      const b0: f32 = bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0;
      const b1: f32 = bias != 0 && rows > 1 ? load<f32>(bias + (<usize>(o + 1) << 2)) : 0;
      const b2: f32 = bias != 0 && rows > 2 ? load<f32>(bias + (<usize>(o + 2) << 2)) : 0;
      const b3: f32 = bias != 0 && rows > 3 ? load<f32>(bias + (<usize>(o + 3) << 2)) : 0;
      const y0 = yn + ((<usize>o * <usize>L) << 2);
      const yL = <usize>L << 2;
      for (let oh = 0; oh < outH; oh++) {
        const h0 = oh * strideH - padH;
        const i0 = firstAtLeast(h0, dilH, 0, kh);
        const i1 = max(i0, firstAtLeast(h0, dilH, H, kh));
        const yr = y0 + ((<usize>oh * <usize>outW) << 2);
        let ow = 0;
        if (rows == 4 && i0 < i1) {
          for (; ow < lo; ow++) {
            const w0 = ow * strideW - padW;
            const q = yr + (<usize>ow << 2);
            store<f32>(q, convPixel(xn, wo, C, H, W, kh, kw, h0, w0, dilH, dilW, i0, i1, b0));
            store<f32>(q + yL, convPixel(xn, wo + wRow, C, H, W, kh, kw, h0, w0, dilH, dilW, i0, i1, b1));
            store<f32>(q + 2 * yL, convPixel(xn, wo + 2 * wRow, C, H, W, kh, kw, h0, w0, dilH, dilW, i0, i1, b2));
            store<f32>(q + 3 * yL, convPixel(xn, wo + 3 * wRow, C, H, W, kh, kw, h0, w0, dilH, dilW, i0, i1, b3));
          }
          // 4 channels × 8 outputs: 8 accumulators; per tap 2 loads of x, 4 broadcasts of w
          for (; ow + 8 <= hi; ow += 8) {
            let a00 = f32x4.splat(b0), a01 = a00;
            let a10 = f32x4.splat(b1), a11 = a10;
            let a20 = f32x4.splat(b2), a21 = a20;
            let a30 = f32x4.splat(b3), a31 = a30;
            for (let c = 0; c < C; c++) {
              const xc = xn + ((<usize>c * plane + <usize>(ow - padW)) << 2);
              const wc = wo + (<usize>(c * kh * kw) << 2);
              for (let i = i0; i < i1; i++) {
                const row = xc + ((<usize>(h0 + i * dilH) * <usize>W) << 2);
                const wi = wc + (<usize>(i * kw) << 2);
                for (let j = 0; j < kw; j++) {
                  const p = row + (<usize>(j * dilW) << 2);
                  const xa = v128.load(p), xb = v128.load(p, 16);
                  const wp = wi + (<usize>j << 2);
                  const w0 = v128.load32_splat(wp);
                  const w1 = v128.load32_splat(wp + wRow);
                  const w2 = v128.load32_splat(wp + 2 * wRow);
                  const w3 = v128.load32_splat(wp + 3 * wRow);
                  a00 = madd(w0, xa, a00); a01 = madd(w0, xb, a01);
                  a10 = madd(w1, xa, a10); a11 = madd(w1, xb, a11);
                  a20 = madd(w2, xa, a20); a21 = madd(w2, xb, a21);
                  a30 = madd(w3, xa, a30); a31 = madd(w3, xb, a31);
                }
              }
            }
            const q = yr + (<usize>ow << 2);
            v128.store(q, a00); v128.store(q, a01, 16);
            v128.store(q + yL, a10); v128.store(q + yL, a11, 16);
            v128.store(q + 2 * yL, a20); v128.store(q + 2 * yL, a21, 16);
            v128.store(q + 3 * yL, a30); v128.store(q + 3 * yL, a31, 16);
          }
          // 4 at a time; a last group of 4 that would run past the interior moves back to end at hi (the
          // outputs it repeats are recomputed in the same order, so they are stored again unchanged)
          for (; ow < hi && hi - lo >= 4; ow += 4) {
            if (ow + 4 > hi) ow = hi - 4;
            let a0 = f32x4.splat(b0), a1 = f32x4.splat(b1), a2 = f32x4.splat(b2), a3 = f32x4.splat(b3);
            for (let c = 0; c < C; c++) {
              const xc = xn + ((<usize>c * plane + <usize>(ow - padW)) << 2);
              const wc = wo + (<usize>(c * kh * kw) << 2);
              for (let i = i0; i < i1; i++) {
                const row = xc + ((<usize>(h0 + i * dilH) * <usize>W) << 2);
                const wi = wc + (<usize>(i * kw) << 2);
                for (let j = 0; j < kw; j++) {
                  const xa = v128.load(row + (<usize>(j * dilW) << 2));
                  const wp = wi + (<usize>j << 2);
                  a0 = madd(v128.load32_splat(wp), xa, a0);
                  a1 = madd(v128.load32_splat(wp + wRow), xa, a1);
                  a2 = madd(v128.load32_splat(wp + 2 * wRow), xa, a2);
                  a3 = madd(v128.load32_splat(wp + 3 * wRow), xa, a3);
                }
              }
            }
            const q = yr + (<usize>ow << 2);
            v128.store(q, a0);
            v128.store(q + yL, a1);
            v128.store(q + 2 * yL, a2);
            v128.store(q + 3 * yL, a3);
          }
        }
        // the right border, the rows without taps, and the last O % 4 channels
        for (; ow < outW; ow++) {
          const w0 = ow * strideW - padW;
          const q = yr + (<usize>ow << 2);
          for (let r = 0; r < rows; r++) {
            const br: f32 = bias != 0 ? load<f32>(bias + (<usize>(o + r) << 2)) : 0;
            store<f32>(q + <usize>r * yL, convPixel(xn, wo + <usize>r * wRow, C, H, W, kh, kw, h0, w0, dilH, dilW, i0, i1, br));
          }
        }
      }
    }
  }
}

/**
 * gw[o, c, i, j] = Σ_{n, oh, ow} gy[n, o, oh, ow] · x[n, c, ih, iw] over the taps inside the input
 * (overwrites gw [O, C, kh, kw]). Layout of x and gy as conv2dDirectF32's x and y.
 * Each (pair of output channels, up to 4 taps of one kernel row) is one pass over all images with 8
 * f32x4 accumulators (per 4 outputs: 2 loads of gy, 4 of x, 8 multiply-adds); borders are scalar.
 * NOTE: a tap block past the kernel's last column repeats that column (a valid read) and is discarded.
 */
export function conv2dWeightGradDirectF32(gw: usize, gy: usize, x: usize, N: i32, C: i32, H: i32, W: i32, O: i32,
  kh: i32, kw: i32, padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32,
  xImage: i32, yImage: i32): void {
  const plane = <usize>H * <usize>W;
  const L = outH * outW;
  const lo = firstAtLeast(-padW, strideW, 0, outW);
  const hi = strideW == 1 ? max(lo, firstAtLeast((kw - 1) * dilW - padW, 1, W, outW)) : lo;
  const K = C * kh * kw;
  let o = 0;
  if (kw == 3 && hi - lo >= 4) {
    // 3 output channels × the 3 taps of a kernel row: 9 accumulators, no discarded tap
    const tK = <usize>K << 2;
    for (; o + 3 <= O; o += 3) {
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < kh; i++) {
          const t = gw + ((<usize>(o * K + (c * kh + i) * 3)) << 2);
          const xc = x + ((<usize>c * plane) << 2);
          const g0 = gy + ((<usize>o * <usize>L) << 2);
          const gL = <usize>L << 2;
          gradInterior3x3(t, tK, g0, g0 + gL, g0 + 2 * gL, xc, N, H, W, i, padH, padW, strideH, dilH, dilW, outH, outW, lo, hi,
            xImage, yImage);
          if (lo > 0 || hi < outW) {
            gradBorder(t, tK, g0, g0 + gL, xc, N, H, W, i, 0, 1, 2, 2, true, padH, padW, strideH, strideW, dilH, dilW,
              outH, outW, lo, hi, xImage, yImage);
            gradBorder(t + 2 * tK, tK, g0 + 2 * gL, g0 + 2 * gL, xc, N, H, W, i, 0, 1, 2, 2, false, padH, padW, strideH, strideW,
              dilH, dilW, outH, outW, lo, hi, xImage, yImage);
          }
        }
      }
    }
  }
  for (; o < O; o += 2) {
    const two = o + 1 < O;
    for (let c = 0; c < C; c++) {
      for (let i = 0; i < kh; i++) {
        for (let jb = 0; jb < kw; jb += 4) {
          // taps jb .. jb + 3 (clamped to the last column; the extra ones are discarded)
          const j1 = min(jb + 1, kw - 1), j2 = min(jb + 2, kw - 1), j3 = min(jb + 3, kw - 1);
          const t = gw + ((<usize>(o * K + (c * kh + i) * kw + jb)) << 2);
          const xc = x + ((<usize>c * plane) << 2);
          const g0 = gy + ((<usize>o * <usize>L) << 2);
          const g1 = two ? g0 + (<usize>L << 2) : g0;
          // the interior in vectors (writes the 2 × 4 cells), then the borders one output at a time (adds)
          gradInterior(t, <usize>K << 2, g0, g1, xc, N, H, W, i, jb, j1, j2, j3, two, padH, padW, strideH, dilH, dilW,
            outH, outW, lo, hi, xImage, yImage);
          if (lo > 0 || hi < outW || hi - lo < 4) {
            gradBorder(t, <usize>K << 2, g0, g1, xc, N, H, W, i, jb, j1, j2, j3, two, padH, padW, strideH, strideW, dilH, dilW,
              outH, outW, hi - lo >= 4 ? lo : 0, hi - lo >= 4 ? hi : 0, xImage, yImage);
          }
        }
      }
    }
  }
}

/**
 * The interior part of one block of conv2dWeightGradDirectF32: taps (i, jb), (i, j1), (i, j2), (i, j3)
 * of output channels o (gy rows g0) and o + 1 (g1, when `two`), summed over outputs [lo, hi) of every
 * row of every image with 8 f32x4 accumulators; stores the sums at t (channel o) and t + tK (o + 1),
 * or zeros when the interior has fewer than 4 outputs. Its own function: the border pass's scalars
 * would otherwise compete with the accumulators for registers.
 */
function gradInterior(t: usize, tK: usize, g0: usize, g1: usize, xc: usize, N: i32, H: i32, W: i32, i: i32, jb: i32,
  j1: i32, j2: i32, j3: i32, two: bool, padH: i32, padW: i32, strideH: i32, dilH: i32, dilW: i32, outH: i32, outW: i32,
  lo: i32, hi: i32, xImage: i32, yImage: i32): void {
  let a00 = f32x4.splat(0), a01 = a00, a02 = a00, a03 = a00;
  let a10 = a00, a11 = a00, a12 = a00, a13 = a00;
  if (hi - lo >= 4) {
    const d1 = <usize>((j1 - jb) * dilW) << 2, d2 = <usize>((j2 - jb) * dilW) << 2, d3 = <usize>((j3 - jb) * dilW) << 2;
    // the last 1-3 outputs: the group ending at hi, with the products of the lanes already done masked
    // to +0 (masking the products, not gy, keeps 0 · inf out)
    const tail = hi - 4;
    const keep = i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(lo + ((hi - lo) & ~3) - tail));
    const hasTail = ((hi - lo) & 3) != 0;
    const xOff = <usize>(jb * dilW - padW) << 2;
    for (let n = 0; n < N; n++) {
      const xn = xc + ((<usize>n * <usize>xImage) << 2);
      const gn0 = g0 + ((<usize>n * <usize>yImage) << 2);
      const gn1 = g1 + ((<usize>n * <usize>yImage) << 2);
      for (let oh = 0; oh < outH; oh++) {
        const ih = oh * strideH - padH + i * dilH;
        if (ih < 0 || ih >= H) continue;
        const row = xn + ((<usize>ih * <usize>W) << 2) + xOff;
        const gr0 = gn0 + ((<usize>oh * <usize>outW) << 2);
        const gr1 = gn1 + ((<usize>oh * <usize>outW) << 2);
        let ow = lo;
        for (; ow + 4 <= hi; ow += 4) {
          const p = row + (<usize>ow << 2);
          const e0 = v128.load(gr0 + (<usize>ow << 2));
          const e1 = v128.load(gr1 + (<usize>ow << 2));
          const x0 = v128.load(p), x1 = v128.load(p + d1), x2 = v128.load(p + d2), x3 = v128.load(p + d3);
          a00 = madd(e0, x0, a00); a01 = madd(e0, x1, a01); a02 = madd(e0, x2, a02); a03 = madd(e0, x3, a03);
          a10 = madd(e1, x0, a10); a11 = madd(e1, x1, a11); a12 = madd(e1, x2, a12); a13 = madd(e1, x3, a13);
        }
        if (hasTail) {
          const p = row + (<usize>tail << 2);
          const e0 = v128.load(gr0 + (<usize>tail << 2));
          const e1 = v128.load(gr1 + (<usize>tail << 2));
          const x0 = v128.load(p), x1 = v128.load(p + d1), x2 = v128.load(p + d2), x3 = v128.load(p + d3);
          a00 = f32x4.add(a00, v128.and(f32x4.mul(e0, x0), keep)); a01 = f32x4.add(a01, v128.and(f32x4.mul(e0, x1), keep));
          a02 = f32x4.add(a02, v128.and(f32x4.mul(e0, x2), keep)); a03 = f32x4.add(a03, v128.and(f32x4.mul(e0, x3), keep));
          a10 = f32x4.add(a10, v128.and(f32x4.mul(e1, x0), keep)); a11 = f32x4.add(a11, v128.and(f32x4.mul(e1, x1), keep));
          a12 = f32x4.add(a12, v128.and(f32x4.mul(e1, x2), keep)); a13 = f32x4.add(a13, v128.and(f32x4.mul(e1, x3), keep));
        }
      }
    }
  }
  store<f32>(t, hsum4(a00));
  if (j1 > jb) store<f32>(t, hsum4(a01), 4);
  if (j2 > j1) store<f32>(t, hsum4(a02), 8);
  if (j3 > j2) store<f32>(t, hsum4(a03), 12);
  if (two) {
    store<f32>(t + tK, hsum4(a10));
    if (j1 > jb) store<f32>(t + tK, hsum4(a11), 4);
    if (j2 > j1) store<f32>(t + tK, hsum4(a12), 8);
    if (j3 > j2) store<f32>(t + tK, hsum4(a13), 12);
  }
}

/**
 * gradInterior for kw = 3 and three output channels (gy rows g0, g1, g2): taps (i, 0..2) with 9 f32x4
 * accumulators (per 4 outputs: 3 loads of gy, 3 of x, 9 multiply-adds); stores the 3 × 3 sums at t,
 * t + tK, t + 2·tK. The caller runs it only when the interior has at least 4 outputs.
 */
function gradInterior3x3(t: usize, tK: usize, g0: usize, g1: usize, g2: usize, xc: usize, N: i32, H: i32, W: i32, i: i32,
  padH: i32, padW: i32, strideH: i32, dilH: i32, dilW: i32, outH: i32, outW: i32, lo: i32, hi: i32, xImage: i32,
  yImage: i32): void {
  let a00 = f32x4.splat(0), a01 = a00, a02 = a00;
  let a10 = a00, a11 = a00, a12 = a00;
  let a20 = a00, a21 = a00, a22 = a00;
  const d1 = <usize>dilW << 2, d2 = <usize>(2 * dilW) << 2;
  const tail = hi - 4;
  const keep = i32x4.ge_s(i32x4(0, 1, 2, 3), i32x4.splat(lo + ((hi - lo) & ~3) - tail));
  const hasTail = ((hi - lo) & 3) != 0;
  const xOff = <usize>(-padW) << 2;
  for (let n = 0; n < N; n++) {
    const xn = xc + ((<usize>n * <usize>xImage) << 2);
    const gImg = (<usize>n * <usize>yImage) << 2;
    for (let oh = 0; oh < outH; oh++) {
      const ih = oh * strideH - padH + i * dilH;
      if (ih < 0 || ih >= H) continue;
      const row = xn + ((<usize>ih * <usize>W) << 2) + xOff;
      const gRow = gImg + ((<usize>oh * <usize>outW) << 2);
      const r0 = g0 + gRow, r1 = g1 + gRow, r2 = g2 + gRow;
      let ow = lo;
      for (; ow + 4 <= hi; ow += 4) {
        const q = <usize>ow << 2;
        const e0 = v128.load(r0 + q), e1 = v128.load(r1 + q), e2 = v128.load(r2 + q);
        const p = row + q;
        let v = v128.load(p);
        a00 = madd(e0, v, a00); a10 = madd(e1, v, a10); a20 = madd(e2, v, a20);
        v = v128.load(p + d1);
        a01 = madd(e0, v, a01); a11 = madd(e1, v, a11); a21 = madd(e2, v, a21);
        v = v128.load(p + d2);
        a02 = madd(e0, v, a02); a12 = madd(e1, v, a12); a22 = madd(e2, v, a22);
      }
      if (hasTail) {
        // the group ending at hi, the lanes already done masked to +0 (the products, so 0 · inf stays out)
        const q = <usize>tail << 2;
        const e0 = v128.load(r0 + q), e1 = v128.load(r1 + q), e2 = v128.load(r2 + q);
        const p = row + q;
        let v = v128.load(p);
        a00 = f32x4.add(a00, v128.and(f32x4.mul(e0, v), keep));
        a10 = f32x4.add(a10, v128.and(f32x4.mul(e1, v), keep));
        a20 = f32x4.add(a20, v128.and(f32x4.mul(e2, v), keep));
        v = v128.load(p + d1);
        a01 = f32x4.add(a01, v128.and(f32x4.mul(e0, v), keep));
        a11 = f32x4.add(a11, v128.and(f32x4.mul(e1, v), keep));
        a21 = f32x4.add(a21, v128.and(f32x4.mul(e2, v), keep));
        v = v128.load(p + d2);
        a02 = f32x4.add(a02, v128.and(f32x4.mul(e0, v), keep));
        a12 = f32x4.add(a12, v128.and(f32x4.mul(e1, v), keep));
        a22 = f32x4.add(a22, v128.and(f32x4.mul(e2, v), keep));
      }
    }
  }
  store<f32>(t, hsum4(a00)); store<f32>(t, hsum4(a01), 4); store<f32>(t, hsum4(a02), 8);
  store<f32>(t + tK, hsum4(a10)); store<f32>(t + tK, hsum4(a11), 4); store<f32>(t + tK, hsum4(a12), 8);
  store<f32>(t + 2 * tK, hsum4(a20)); store<f32>(t + 2 * tK, hsum4(a21), 4); store<f32>(t + 2 * tK, hsum4(a22), 8);
}

/**
 * The rest of a block of conv2dWeightGradDirectF32, one output at a time: outputs outside [vlo, vhi)
 * (the part gradInterior did), taps checked against the row; adds into the cells gradInterior wrote.
 */
function gradBorder(t: usize, tK: usize, g0: usize, g1: usize, xc: usize, N: i32, H: i32, W: i32, i: i32, jb: i32,
  j1: i32, j2: i32, j3: i32, two: bool, padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32,
  outH: i32, outW: i32, vlo: i32, vhi: i32, xImage: i32, yImage: i32): void {
  let s00: f32 = 0, s01: f32 = 0, s02: f32 = 0, s03: f32 = 0;
  let s10: f32 = 0, s11: f32 = 0, s12: f32 = 0, s13: f32 = 0;
  for (let n = 0; n < N; n++) {
    const xn = xc + ((<usize>n * <usize>xImage) << 2);
    const gn0 = g0 + ((<usize>n * <usize>yImage) << 2);
    const gn1 = g1 + ((<usize>n * <usize>yImage) << 2);
    for (let oh = 0; oh < outH; oh++) {
      const ih = oh * strideH - padH + i * dilH;
      if (ih < 0 || ih >= H) continue;
      const row = xn + ((<usize>ih * <usize>W) << 2);
      const gr0 = gn0 + ((<usize>oh * <usize>outW) << 2);
      const gr1 = gn1 + ((<usize>oh * <usize>outW) << 2);
      for (let q = 0; q < outW; q++) {
        if (q == vlo && vhi > vlo) q = vhi;
        if (q >= outW) break;
        const e0 = load<f32>(gr0 + (<usize>q << 2)), e1 = load<f32>(gr1 + (<usize>q << 2));
        const base = q * strideW - padW;
        let iw = base + jb * dilW;
        if (iw >= 0 && iw < W) { const v = load<f32>(row + (<usize>iw << 2)); s00 += e0 * v; s10 += e1 * v; }
        iw = base + j1 * dilW;
        if (j1 > jb && iw >= 0 && iw < W) { const v = load<f32>(row + (<usize>iw << 2)); s01 += e0 * v; s11 += e1 * v; }
        iw = base + j2 * dilW;
        if (j2 > j1 && iw >= 0 && iw < W) { const v = load<f32>(row + (<usize>iw << 2)); s02 += e0 * v; s12 += e1 * v; }
        iw = base + j3 * dilW;
        if (j3 > j2 && iw >= 0 && iw < W) { const v = load<f32>(row + (<usize>iw << 2)); s03 += e0 * v; s13 += e1 * v; }
      }
    }
  }
  store<f32>(t, load<f32>(t) + s00);
  if (j1 > jb) store<f32>(t, load<f32>(t, 4) + s01, 4);
  if (j2 > j1) store<f32>(t, load<f32>(t, 8) + s02, 8);
  if (j3 > j2) store<f32>(t, load<f32>(t, 12) + s03, 12);
  if (two) {
    store<f32>(t + tK, load<f32>(t + tK) + s10);
    if (j1 > jb) store<f32>(t + tK, load<f32>(t + tK, 4) + s11, 4);
    if (j2 > j1) store<f32>(t + tK, load<f32>(t + tK, 8) + s12, 8);
    if (j3 > j2) store<f32>(t + tK, load<f32>(t + tK, 12) + s13, 12);
  }
}

// @ts-ignore: decorator
@inline function hsum4(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
