// Convolution and pooling data movement over NCHW f32 planes: im2col / col2im around the GEMM
// (a convolution is im2col + matmulF32 per image), max and average pooling with their gradients,
// and the per-channel bias add and bias gradient.
//
// Geometry (as PyTorch): output pixel o reads input position o * stride - pad + tap * dilation along
// each axis; positions outside [0, H) × [0, W) are padding. The caller computes outH/outW (so floor and
// ceil modes are both the caller's choice) and checks every argument; these kernels trust them.
//
// Vectorisation: the kernels split each output row into a left border, an interior where every
// horizontal tap is inside the row, and a right border. The interior runs 4 output pixels per v128
// (stride 1: one load; stride 2: two loads and a shuffle; larger strides: 4 lane loads); the borders
// run a scalar loop with the same order of operations, so both paths round identically.

/**
 * Smallest o in [0, n] with o * step + off >= limit (n when none): with limit = 0 the first output
 * whose tap is not in the leading padding, with limit = size the first one past the end.
 */
// @ts-ignore: decorator
@inline function firstAtLeast(off: i32, step: i32, limit: i32, n: i32): i32 {
  const d = limit - off;
  if (d <= 0) return 0;
  return min((d + step - 1) / step, n);
}

/** Lanes (x[0], x[s], x[2s], x[3s]) of the f32s at p. NOTE: stride 2 reads x[7] too (the caller keeps it in the row). */
// @ts-ignore: decorator
@inline function load4(p: usize, s: i32): v128 {
  if (s == 1) return v128.load(p);
  if (s == 2) return i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
  const b = <usize>s << 2;
  let v = f32x4.splat(load<f32>(p));
  v = f32x4.replace_lane(v, 1, load<f32>(p + b));
  v = f32x4.replace_lane(v, 2, load<f32>(p + 2 * b));
  return f32x4.replace_lane(v, 3, load<f32>(p + 3 * b));
}

/**
 * Output pixels [lo, hi) of a row whose horizontal taps at offset `off` (and `span` beyond) stay inside
 * [0, W); hi also keeps the extra element the stride-2 shuffle reads inside the row.
 */
// @ts-ignore: decorator
@inline function simdEnd(off: i32, span: i32, stride: i32, W: i32, n: i32): i32 {
  return firstAtLeast(off + span + (stride == 2 ? 1 : 0), stride, W, n);
}

// @ts-ignore: decorator
@inline function zeroRow(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), z);
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), 0);
}

/** dst[k] = src[k * stride] for k < n; `avail` elements are readable from src within its row. */
// @ts-ignore: decorator
@inline function gatherRow(dst: usize, src: usize, n: i32, stride: i32, avail: i32): void {
  let k = 0;
  if (stride == 1) {
    for (; k + 4 <= n; k += 4) v128.store(dst + (<usize>k << 2), v128.load(src + (<usize>k << 2)));
    if (k < n && n >= 4) {
      // the last 1-3: the group ending at n (the cells it repeats get the same values again)
      const o = <usize>(n - 4) << 2;
      v128.store(dst + o, v128.load(src + o));
      return;
    }
  } else if (stride == 2) {
    // a group reads src[2k .. 2k + 7]
    for (; k + 4 <= n && 2 * k + 8 <= avail; k += 4) {
      const p = src + (<usize>k << 3);
      v128.store(dst + (<usize>k << 2), i32x4.shuffle(v128.load(p), v128.load(p, 16), 0, 2, 4, 6));
    }
  }
  for (; k < n; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>(k * stride) << 2)));
}

/** dst[k * stride] += src[k] for k < n; `avail` elements of dst are inside its row. */
// @ts-ignore: decorator
@inline function scatterAddRow(dst: usize, src: usize, n: i32, stride: i32, avail: i32): void {
  let k = 0;
  if (stride == 1) {
    for (; k + 4 <= n; k += 4) {
      const o = <usize>k << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
  } else if (stride == 2) {
    // interleave with zeros: dst[2k .. 2k + 7] += (s0, 0, s1, 0, s2, 0, s3, 0); the odd cells gain +0
    const z = f32x4.splat(0);
    for (; k + 4 <= n && 2 * k + 8 <= avail; k += 4) {
      const p = dst + (<usize>k << 3);
      const s = v128.load(src + (<usize>k << 2));
      v128.store(p, f32x4.add(v128.load(p), i32x4.shuffle(s, z, 0, 4, 1, 5)));
      v128.store(p, f32x4.add(v128.load(p, 16), i32x4.shuffle(s, z, 2, 6, 3, 7)), 16);
    }
  }
  for (; k < n; k++) {
    const q = dst + (<usize>(k * stride) << 2);
    store<f32>(q, load<f32>(q) + load<f32>(src + (<usize>k << 2)));
  }
}

/**
 * col[(c, i, j), (oh, ow)] = x[c, oh·strideH − padH + i·dilH, ow·strideW − padW + j·dilW], 0 in the
 * padding. x is one image [C, H, W]; col is [C·kh·kw, outH·outW], row (c·kh + i)·kw + j.
 * Each col row segment is a left zero run, a (strided) copy of one input row, and a right zero run.
 */
export function im2colF32(col: usize, x: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32,
  padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32): void {
  let dst = col;
  const rowBytes = <usize>outW << 2;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const offW = j * dilW - padW;
        const lo = firstAtLeast(offW, strideW, 0, outW);
        const hi = max(lo, firstAtLeast(offW, strideW, W, outW));
        const first = lo * strideW + offW; // input column of output lo
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + i * dilH;
          if (ih < 0 || ih >= H) {
            zeroRow(dst, outW);
          } else {
            zeroRow(dst, lo);
            const src = plane + ((<usize>ih * <usize>W + <usize>first) << 2);
            gatherRow(dst + (<usize>lo << 2), src, hi - lo, strideW, W - first);
            zeroRow(dst + (<usize>hi << 2), outW - hi);
          }
          dst += rowBytes;
        }
      }
    }
  }
}

/**
 * The adjoint of im2colF32 (its gradient): x[c, ih, iw] += col[(c, i, j), (oh, ow)] for every tap
 * that reads (ih, iw). Accumulates into x (the caller zeroes it first); padding taps are dropped.
 */
export function col2imF32(x: usize, col: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32,
  padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32): void {
  if (kw == 3 && strideW == 1 && outW >= 4 + 2 * dilW) {
    col2imKw3(x, col, C, H, W, kh, padH, padW, strideH, dilH, dilW, outH, outW);
    return;
  }
  let src = col;
  const rowBytes = <usize>outW << 2;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const offW = j * dilW - padW;
        const lo = firstAtLeast(offW, strideW, 0, outW);
        const hi = max(lo, firstAtLeast(offW, strideW, W, outW));
        const first = lo * strideW + offW;
        for (let oh = 0; oh < outH; oh++) {
          const ih = oh * strideH - padH + i * dilH;
          if (ih >= 0 && ih < H) {
            const dst = plane + ((<usize>ih * <usize>W + <usize>first) << 2);
            scatterAddRow(dst, src + (<usize>lo << 2), hi - lo, strideW, W - first);
          }
          src += rowBytes;
        }
      }
    }
  }
}

/**
 * col2imF32 for 3-wide kernels at horizontal stride 1: an input row gets its 3 taps in one pass (load,
 * add tap 0, 1, 2, store) instead of a read-modify-write pass per tap; the cells each tap reaches get
 * the same terms in the same order (kernel row i, then tap j) as the per-tap loop.
 */
function col2imKw3(x: usize, col: usize, C: i32, H: i32, W: i32, kh: i32, padH: i32, padW: i32, strideH: i32,
  dilH: i32, dilW: i32, outH: i32, outW: i32): void {
  const tap = (<usize>outH * <usize>outW) << 2;
  const d = <usize>dilW << 2;
  // input column q gets tap j from output q + padW − j·dilW; all three are outputs for q in [qlo, qhi)
  const qlo = max(0, 2 * dilW - padW);
  const qhi = min(W, outW - padW);
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>H * <usize>W) << 2);
    for (let i = 0; i < kh; i++) {
      const t0 = col + <usize>((c * kh + i) * 3) * tap;
      for (let oh = 0; oh < outH; oh++) {
        const ih = oh * strideH - padH + i * dilH;
        if (ih < 0 || ih >= H) continue;
        const dst = plane + ((<usize>ih * <usize>W) << 2);
        // s0 + 4·q is tap 0's value for column q; tap j's is at s0 + j·(tap − 4·dilW) + 4·q
        const s0 = t0 + ((<usize>oh * <usize>outW + <usize>padW) << 2);
        const s1 = s0 + tap - d, s2 = s1 + tap - d;
        let q = 0;
        for (; q < qlo; q++) col2imCell3(dst, s0, s1, s2, q, dilW, padW, outW);
        for (; q + 4 <= qhi; q += 4) {
          const o = <usize>q << 2;
          v128.store(dst + o, f32x4.add(f32x4.add(f32x4.add(v128.load(dst + o), v128.load(s0 + o)), v128.load(s1 + o)), v128.load(s2 + o)));
        }
        for (; q < W; q++) col2imCell3(dst, s0, s1, s2, q, dilW, padW, outW);
      }
    }
  }
}

/** dst[q] += the taps (in order 0, 1, 2) whose output q + padW − j·dilW is inside [0, outW). */
// @ts-ignore: decorator
@inline function col2imCell3(dst: usize, s0: usize, s1: usize, s2: usize, q: i32, dilW: i32, padW: i32, outW: i32): void {
  const p = dst + (<usize>q << 2);
  const o = <usize>q << 2;
  let v = load<f32>(p);
  const ow = q + padW;
  if (ow >= 0 && ow < outW) v += load<f32>(s0 + o);
  if (ow - dilW >= 0 && ow - dilW < outW) v += load<f32>(s1 + o);
  if (ow - 2 * dilW >= 0 && ow - 2 * dilW < outW) v += load<f32>(s2 + o);
  store<f32>(p, v);
}

/** One max-pooling output from taps rows [i0, i1) and columns [j0, j1) of the window at (h0, w0). */
function maxPoolPixel(out: usize, argmax: usize, xp: usize, W: i32, h0: i32, i0: i32, i1: i32,
  w0: i32, j0: i32, j1: i32, dilH: i32, dilW: i32): void {
  let best: f32 = -Infinity;
  let arg = i0 < i1 && j0 < j1 ? (h0 + i0 * dilH) * W + w0 + j0 * dilW : -1;
  for (let i = i0; i < i1; i++) {
    const row = (h0 + i * dilH) * W + w0;
    for (let j = j0; j < j1; j++) {
      const idx = row + j * dilW;
      const v = load<f32>(xp + (<usize>idx << 2));
      if (v > best || v != v) {
        best = v;
        arg = idx;
      }
    }
  }
  store<f32>(out, best);
  store<i32>(argmax, arg);
}

/**
 * Max pooling of `planes` planes [H, W] into out [planes, outH, outW], with argmax (int32, same shape)
 * = h·W + w of the chosen input cell within its plane.
 * NOTE: as PyTorch's CPU kernel: padding counts as −inf; the first maximum in row-major window order
 * wins ties; a NaN replaces any value (so the last NaN of a window wins) and propagates. The index
 * starts at the window's first real cell, so a window of −inf values points there; a window with no
 * real cell (possible only with dilation on tiny inputs) gives −inf and index −1.
 */
export function maxPool2dF32(out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32,
  padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32): void {
  if (kh == 2 && kw == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0 && dilH == 1 && dilW == 1 && W >= 8) {
    maxPool2x2F32(out, argmax, x, planes, H, W, outH, outW);
    return;
  }
  const planeBytes = (<usize>H * <usize>W) << 2;
  // interior columns: every horizontal tap inside [0, W) (and the stride-2 extra read too)
  const owLo = firstAtLeast(-padW, strideW, 0, outW);
  const owHi = max(owLo, simdEnd(-padW, (kw - 1) * dilW, strideW, W, outW));
  const steps = i32x4.mul(i32x4.splat(strideW), i32x4(0, 1, 2, 3));
  let po = out, pa = argmax;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * planeBytes;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      const i0 = firstAtLeast(h0, dilH, 0, kh);
      const i1 = max(i0, firstAtLeast(h0, dilH, H, kh));
      let ow = 0;
      if (i0 < i1) {
        for (; ow < owLo; ow++) {
          const w0 = ow * strideW - padW;
          const j0 = firstAtLeast(w0, dilW, 0, kw);
          const j1 = max(j0, firstAtLeast(w0, dilW, W, kw));
          maxPoolPixel(po + (<usize>ow << 2), pa + (<usize>ow << 2), xp, W, h0, i0, i1, w0, j0, j1, dilH, dilW);
        }
        for (; ow + 4 <= owHi; ow += 4) {
          const w0 = ow * strideW - padW;
          let best = f32x4.splat(-Infinity);
          let arg = i32x4.add(i32x4.splat((h0 + i0 * dilH) * W + w0), steps);
          for (let i = i0; i < i1; i++) {
            const row = (h0 + i * dilH) * W + w0;
            for (let j = 0; j < kw; j++) {
              const idx = row + j * dilW;
              const v = load4(xp + (<usize>idx << 2), strideW);
              const m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
              best = v128.bitselect(v, best, m);
              arg = v128.bitselect(i32x4.add(i32x4.splat(idx), steps), arg, m);
            }
          }
          v128.store(po + (<usize>ow << 2), best);
          v128.store(pa + (<usize>ow << 2), arg);
        }
      }
      for (; ow < outW; ow++) {
        const w0 = ow * strideW - padW;
        const j0 = firstAtLeast(w0, dilW, 0, kw);
        const j1 = max(j0, firstAtLeast(w0, dilW, W, kw));
        maxPoolPixel(po + (<usize>ow << 2), pa + (<usize>ow << 2), xp, W, h0, i0, i1, w0, j0, j1, dilH, dilW);
      }
      po += <usize>outW << 2;
      pa += <usize>outW << 2;
    }
  }
}

/**
 * maxPool2dF32 for the common 2×2 window, stride 2, no padding or dilation (W ≥ 8): 4 outputs from two
 * pairs of row loads split into even and odd columns, compared in the window's row-major order with
 * the same rules as the general path. A last group that would run past the row moves back to end at
 * the last full window (its repeated outputs are recomputed identically); windows cut by the edge
 * (ceil mode) take the scalar path.
 */
function maxPool2x2F32(out: usize, argmax: usize, x: usize, planes: i32, H: i32, W: i32, outH: i32, outW: i32): void {
  const planeBytes = (<usize>H * <usize>W) << 2;
  const fullW = min(outW, W >> 1); // outputs whose window has both columns
  const rowBytes = <usize>W << 2;
  const evenLanes = i32x4(0, 2, 4, 6);
  let po = out, pa = argmax;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * planeBytes;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * 2;
      let ow = 0;
      if (h0 + 1 < H) {
        const r0 = xp + <usize>h0 * rowBytes;
        const r1 = r0 + rowBytes;
        for (; ow < fullW; ow += 4) {
          if (ow + 4 > fullW) ow = fullW - 4;
          const q = <usize>ow << 3;
          const a0 = v128.load(r0 + q), a1 = v128.load(r0 + q, 16);
          const c0 = v128.load(r1 + q), c1 = v128.load(r1 + q, 16);
          const idx = i32x4.add(i32x4.splat(h0 * W + 2 * ow), evenLanes);
          let best = i32x4.shuffle(a0, a1, 0, 2, 4, 6);
          let arg = idx;
          let v = i32x4.shuffle(a0, a1, 1, 3, 5, 7);
          let m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = v128.bitselect(v, best, m);
          arg = v128.bitselect(i32x4.add(idx, i32x4.splat(1)), arg, m);
          v = i32x4.shuffle(c0, c1, 0, 2, 4, 6);
          m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = v128.bitselect(v, best, m);
          arg = v128.bitselect(i32x4.add(idx, i32x4.splat(W)), arg, m);
          v = i32x4.shuffle(c0, c1, 1, 3, 5, 7);
          m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = v128.bitselect(v, best, m);
          arg = v128.bitselect(i32x4.add(idx, i32x4.splat(W + 1)), arg, m);
          v128.store(po + (<usize>ow << 2), best);
          v128.store(pa + (<usize>ow << 2), arg);
        }
      }
      for (; ow < outW; ow++) {
        const w0 = ow * 2;
        maxPoolPixel(po + (<usize>ow << 2), pa + (<usize>ow << 2), xp, W, h0, 0, min(2, H - h0), w0, 0, min(2, W - w0), 1, 1);
      }
      po += <usize>outW << 2;
      pa += <usize>outW << 2;
    }
  }
}

/** gx[p, argmax[p, o]] += gy[p, o] (the gradient of maxPool2dF32; the caller zeroes gx; index −1 is skipped). */
export function maxPool2dGradF32(gx: usize, gy: usize, argmax: usize, planes: i32, H: i32, W: i32,
  outH: i32, outW: i32): void {
  const planeBytes = (<usize>H * <usize>W) << 2;
  const outBytes = (<usize>outH * <usize>outW) << 2;
  for (let p = 0; p < planes; p++) {
    scatterArgmax(gx + <usize>p * planeBytes, gy, argmax, outBytes);
    gy += outBytes;
    argmax += outBytes;
  }
}

/** gp[argmax[o]] += gy[o] for the `outBytes` / 4 outputs of one plane (index −1 is skipped). */
// @ts-ignore: decorator
@inline function scatterArgmax(gp: usize, gy: usize, argmax: usize, outBytes: usize): void {
  for (let q: usize = 0; q < outBytes; q += 4) {
    const a = load<i32>(argmax + q);
    if (a >= 0) {
      const d = gp + (<usize>a << 2);
      store<f32>(d, load<f32>(d) + load<f32>(gy + q));
    }
  }
}

/**
 * gx = the gradient of maxPool2dF32, overwriting gx: each plane is zeroed and then gets gy[p, o] added at
 * argmax[p, o] (index −1 skipped), one plane at a time, so the plane is still in cache for the scatter
 * (a separate fill of the whole gradient and a scatter pass read it twice from memory).
 */
export function maxPool2dGradSetF32(gx: usize, gy: usize, argmax: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32,
  padH: i32, padW: i32, strideH: i32, strideW: i32, dilH: i32, dilW: i32, outH: i32, outW: i32): void {
  if (kh == 2 && kw == 2 && strideH == 2 && strideW == 2 && padH == 0 && padW == 0 && dilH == 1 && dilW == 1 &&
    2 * outH <= H && 2 * outW <= W && outW >= 4) {
    maxPool2x2GradSet(gx, gy, argmax, planes, H, W, outH, outW);
    return;
  }
  const planeBytes = (<usize>H * <usize>W) << 2;
  const outBytes = (<usize>outH * <usize>outW) << 2;
  for (let p = 0; p < planes; p++) {
    const gp = gx + <usize>p * planeBytes;
    memory.fill(gp, 0, planeBytes);
    scatterArgmax(gp, gy, argmax, outBytes);
    gy += outBytes;
    argmax += outBytes;
  }
}

/**
 * maxPool2dGradSetF32 for whole 2×2 windows at stride 2 (no padding or dilation, outW ≥ 4): the windows
 * tile the plane, so each 2×2 block is written once, gy where its argmax points and +0 elsewhere (4
 * outputs per step: compare the argmax with each cell's index, interleave even and odd columns), with
 * no fill and no read-modify-write; a last odd row or column, in no window, is zeroed. A last group
 * past the row moves back to end at outW (it writes the same values again).
 */
function maxPool2x2GradSet(gx: usize, gy: usize, argmax: usize, planes: i32, H: i32, W: i32, outH: i32, outW: i32): void {
  const planeBytes = (<usize>H * <usize>W) << 2;
  const rowBytes = <usize>W << 2;
  const evenLanes = i32x4(0, 2, 4, 6);
  const one = i32x4.splat(1), wv = i32x4.splat(W), w1 = i32x4.splat(W + 1);
  let pg: usize = 0;
  for (let p = 0; p < planes; p++) {
    const gp = gx + <usize>p * planeBytes;
    for (let oh = 0; oh < outH; oh++) {
      const r0 = gp + <usize>(2 * oh) * rowBytes;
      const r1 = r0 + rowBytes;
      const src = pg + ((<usize>oh * <usize>outW) << 2);
      for (let ow = 0; ow < outW; ow += 4) {
        if (ow + 4 > outW) ow = outW - 4;
        const a = v128.load(argmax + src + (<usize>ow << 2));
        const g = v128.load(gy + src + (<usize>ow << 2));
        const base = i32x4.add(i32x4.splat(2 * oh * W + 2 * ow), evenLanes);
        const e0 = v128.and(g, i32x4.eq(a, base));
        const o0 = v128.and(g, i32x4.eq(a, i32x4.add(base, one)));
        const e1 = v128.and(g, i32x4.eq(a, i32x4.add(base, wv)));
        const o1 = v128.and(g, i32x4.eq(a, i32x4.add(base, w1)));
        const q = <usize>ow << 3;
        v128.store(r0 + q, i32x4.shuffle(e0, o0, 0, 4, 1, 5));
        v128.store(r0 + q, i32x4.shuffle(e0, o0, 2, 6, 3, 7), 16);
        v128.store(r1 + q, i32x4.shuffle(e1, o1, 0, 4, 1, 5));
        v128.store(r1 + q, i32x4.shuffle(e1, o1, 2, 6, 3, 7), 16);
      }
      // columns past the last window
      for (let w = 2 * outW; w < W; w++) {
        store<f32>(r0 + (<usize>w << 2), 0);
        store<f32>(r1 + (<usize>w << 2), 0);
      }
    }
    // rows past the last window
    if (2 * outH < H) memory.fill(gp + <usize>(2 * outH) * rowBytes, 0, <usize>(H - 2 * outH) * rowBytes);
    pg += (<usize>outH * <usize>outW) << 2;
  }
}

/**
 * Average pooling of `planes` planes [H, W] into out [planes, outH, outW] (no dilation, as PyTorch).
 * NOTE: the divisor is PyTorch's: with countIncludePad = 1 the window clipped to the padded input
 * [−pad, size + pad) (so a ceil-mode window hanging past the padding counts less), with 0 only the
 * real cells. Sums run in f32 in row-major window order.
 */
export function avgPool2dF32(out: usize, x: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32,
  padH: i32, padW: i32, strideH: i32, strideW: i32, countIncludePad: i32, outH: i32, outW: i32): void {
  const planeBytes = (<usize>H * <usize>W) << 2;
  const owLo = firstAtLeast(-padW, strideW, 0, outW);
  const owHi = max(owLo, simdEnd(-padW, kw - 1, strideW, W, outW));
  let po = out;
  for (let p = 0; p < planes; p++) {
    const xp = x + <usize>p * planeBytes;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      const hPad = min(h0 + kh, H + padH) - h0;
      const hs = max(h0, 0), he = min(h0 + kh, H);
      const hReal = max(he - hs, 0);
      let ow = 0;
      if (hReal > 0) {
        for (; ow < owLo; ow++) avgPoolPixel(po, xp, H, W, h0, hPad, hs, he, ow, kw, padW, strideW, countIncludePad);
        // interior: kw real columns, so the divisor depends on the row only
        const div = f32x4.splat(<f32>((countIncludePad != 0 ? hPad : hReal) * kw));
        for (; ow + 4 <= owHi; ow += 4) {
          const w0 = ow * strideW - padW;
          let s = f32x4.splat(0);
          for (let ih = hs; ih < he; ih++) {
            const row = xp + ((<usize>ih * <usize>W + <usize>w0) << 2);
            for (let j = 0; j < kw; j++) s = f32x4.add(s, load4(row + (<usize>j << 2), strideW));
          }
          v128.store(po + (<usize>ow << 2), f32x4.div(s, div));
        }
      }
      for (; ow < outW; ow++) avgPoolPixel(po, xp, H, W, h0, hPad, hs, he, ow, kw, padW, strideW, countIncludePad);
      po += <usize>outW << 2;
    }
  }
}

/** Number of cells averaged by the window starting at column w0 (PyTorch's divisor, see avgPool2dF32). */
// @ts-ignore: decorator
@inline function avgDivisor(W: i32, hPad: i32, hReal: i32, w0: i32, kw: i32, padW: i32, countIncludePad: i32): i32 {
  if (countIncludePad != 0) return hPad * (min(w0 + kw, W + padW) - w0);
  return hReal * max(min(w0 + kw, W) - max(w0, 0), 0);
}

function avgPoolPixel(po: usize, xp: usize, H: i32, W: i32, h0: i32, hPad: i32, hs: i32, he: i32, ow: i32,
  kw: i32, padW: i32, strideW: i32, countIncludePad: i32): void {
  const w0 = ow * strideW - padW;
  const ws = max(w0, 0), we = min(w0 + kw, W);
  let s: f32 = 0;
  for (let ih = hs; ih < he; ih++) {
    for (let iw = ws; iw < we; iw++) s += load<f32>(xp + ((<usize>ih * <usize>W + <usize>iw) << 2));
  }
  const div = avgDivisor(W, hPad, max(he - hs, 0), w0, kw, padW, countIncludePad);
  store<f32>(po + (<usize>ow << 2), s / <f32>div);
}

/** gx[p, window cells of o] += gy[p, o] / divisor (the gradient of avgPool2dF32; the caller zeroes gx). */
export function avgPool2dGradF32(gx: usize, gy: usize, planes: i32, H: i32, W: i32, kh: i32, kw: i32,
  padH: i32, padW: i32, strideH: i32, strideW: i32, countIncludePad: i32, outH: i32, outW: i32): void {
  const planeBytes = (<usize>H * <usize>W) << 2;
  const owLo = firstAtLeast(-padW, strideW, 0, outW);
  const owHi = max(owLo, simdEnd(-padW, kw - 1, strideW, W, outW));
  let pg = gy;
  for (let p = 0; p < planes; p++) {
    const gp = gx + <usize>p * planeBytes;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = oh * strideH - padH;
      const hPad = min(h0 + kh, H + padH) - h0;
      const hs = max(h0, 0), he = min(h0 + kh, H);
      const hReal = max(he - hs, 0);
      let ow = 0;
      if (hReal > 0) {
        for (; ow < owLo; ow++) avgPoolGradPixel(gp, pg, W, hPad, hReal, hs, he, ow, kw, padW, strideW, countIncludePad);
        // interior: 4 outputs at a time; tap j of output ow + l lands on column (ow + l)·strideW − padW + j
        const div = f32x4.splat(<f32>((countIncludePad != 0 ? hPad : hReal) * kw));
        for (; ow + 4 <= owHi; ow += 4) {
          const g = f32x4.div(v128.load(pg + (<usize>ow << 2)), div);
          const w0 = ow * strideW - padW;
          for (let ih = hs; ih < he; ih++) {
            const row = gp + ((<usize>ih * <usize>W + <usize>w0) << 2);
            for (let j = 0; j < kw; j++) scatterAdd4(row + (<usize>j << 2), g, strideW);
          }
        }
      }
      for (; ow < outW; ow++) avgPoolGradPixel(gp, pg, W, hPad, hReal, hs, he, ow, kw, padW, strideW, countIncludePad);
      pg += <usize>outW << 2;
    }
  }
}

/** q[l · s] += lanes of g for l < 4. NOTE: stride 2 also adds +0 to q[1, 3, 5, 7] (the caller keeps them in the row). */
// @ts-ignore: decorator
@inline function scatterAdd4(q: usize, g: v128, s: i32): void {
  if (s == 1) {
    v128.store(q, f32x4.add(v128.load(q), g));
  } else if (s == 2) {
    const z = f32x4.splat(0);
    v128.store(q, f32x4.add(v128.load(q), i32x4.shuffle(g, z, 0, 4, 1, 5)));
    v128.store(q, f32x4.add(v128.load(q, 16), i32x4.shuffle(g, z, 2, 6, 3, 7)), 16);
  } else {
    const b = <usize>s << 2;
    store<f32>(q, load<f32>(q) + f32x4.extract_lane(g, 0));
    store<f32>(q + b, load<f32>(q + b) + f32x4.extract_lane(g, 1));
    store<f32>(q + 2 * b, load<f32>(q + 2 * b) + f32x4.extract_lane(g, 2));
    store<f32>(q + 3 * b, load<f32>(q + 3 * b) + f32x4.extract_lane(g, 3));
  }
}

function avgPoolGradPixel(gp: usize, pg: usize, W: i32, hPad: i32, hReal: i32, hs: i32, he: i32, ow: i32,
  kw: i32, padW: i32, strideW: i32, countIncludePad: i32): void {
  const w0 = ow * strideW - padW;
  const ws = max(w0, 0), we = min(w0 + kw, W);
  const g = load<f32>(pg + (<usize>ow << 2)) / <f32>avgDivisor(W, hPad, hReal, w0, kw, padW, countIncludePad);
  const gv = f32x4.splat(g);
  for (let ih = hs; ih < he; ih++) {
    const row = gp + ((<usize>ih * <usize>W) << 2);
    let iw = ws;
    for (; iw + 4 <= we; iw += 4) {
      const q = row + (<usize>iw << 2);
      v128.store(q, f32x4.add(v128.load(q), gv));
    }
    for (; iw < we; iw++) {
      const q = row + (<usize>iw << 2);
      store<f32>(q, load<f32>(q) + g);
    }
  }
}

/** y[n, c, :] += bias[c] for y [N, C, HW] (in place). */
export function addBiasNCHWF32(y: usize, bias: usize, N: i32, C: i32, HW: i32): void {
  let row = y;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const b = load<f32>(bias + (<usize>c << 2));
      const bv = f32x4.splat(b);
      let k = 0;
      for (; k + 4 <= HW; k += 4) {
        const q = row + (<usize>k << 2);
        v128.store(q, f32x4.add(v128.load(q), bv));
      }
      for (; k < HW; k++) {
        const q = row + (<usize>k << 2);
        store<f32>(q, load<f32>(q) + b);
      }
      row += <usize>HW << 2;
    }
  }
}

/**
 * gb[c] = Σ over n and hw of gy[n, c, hw] (overwrites gb). Each row sums in four v128 accumulators
 * (16 partial sums); rows add up in f64.
 */
export function biasGradNCHWF32(gb: usize, gy: usize, N: i32, C: i32, HW: i32): void {
  const rowBytes = <usize>HW << 2;
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let n = 0; n < N; n++) s += <f64>sumRow(gy + (<usize>n * <usize>C + <usize>c) * rowBytes, HW);
    store<f32>(gb + (<usize>c << 2), <f32>s);
  }
}

// @ts-ignore: decorator
@inline function sumRow(p: usize, n: i32): f32 {
  let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let k = 0;
  for (; k + 16 <= n; k += 16) {
    const q = p + (<usize>k << 2);
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  for (; k + 4 <= n; k += 4) a0 = f32x4.add(a0, v128.load(p + (<usize>k << 2)));
  const v = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s = f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
  for (; k < n; k++) s += load<f32>(p + (<usize>k << 2));
  return s;
}
