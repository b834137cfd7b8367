// Audio feature kernels: framing + windowing, a real FFT, the power/magnitude spectrum and deltas.
// The mel filterbank and the DCT of MFCCs are matrix products (matmulF32); the log is unaryF32.
// The contract (export names, argument order) is src/abi.ts.
//
// The real FFT (rfftF32)
// - n = nFft is a power of two ≥ 2. The n real samples are packed into m = n/2 complex numbers
//   z[k] = x[2k] + i·x[2k+1], transformed by an iterative radix-2 decimation-in-time complex FFT of
//   size m, and split into the n/2 + 1 bins of the real transform:
//     X[k] = E[k] + W^k·O[k],  E = (Z[k] + conj Z[m−k]) / 2,  O = (Z[k] − conj Z[m−k]) / 2i,  W = e^(−2πi/n)
//   (Z[m] = Z[0]). Same sign convention as numpy.fft.rfft: X[k] = Σ x[j]·e^(−2πi·jk/n), unnormalised.
//   see: Cooley & Tukey (1965); the packing: Brigham, "The Fast Fourier Transform", ch. 10.
// - The complex FFT works on split real/imaginary arrays (the scratch) so that butterflies with a
//   half-span h ≥ 4 run 4 at a time on f32x4; the plan stores each stage's twiddles contiguously
//   (stage h: e^(−iπj/h), j < h), so those loads are plain v128 loads. Stages h = 1, 2 are scalar.
// - The plan (rfftPlanF32) is computed here in f64 with Math.cos/sin and rounded to f32 once, so
//   the twiddles carry no accumulated error. Accuracy: f32 arithmetic, error ≈ log2(n)·ε·‖x‖.
// - Pure functions of byte offsets: the plan and the scratch come from the caller.

// ------------------------------------------------------------------------------ plan layout
// For n = nFft, m = n/2 (all offsets in 4-byte elements from `plan`):
//   [0, m)                 i32 bit-reversal permutation of m
//   [m, 2m − 1)            f32 cos of the stage twiddles (stage h at m + h − 1 + j, j < h)
//   [2m − 1, 3m − 2)       f32 sin of the same (negative: e^(−iπj/h))
//   [3m − 2, 4m − 1)       f32 cos(2πk/n), k ≤ m  (the split twiddles W^k)
//   [4m − 1, 5m)           f32 −sin(2πk/n), k ≤ m

/** Bytes of the plan rfftF32 needs for nFft (a power of two ≥ 2). */
export function rfftPlanBytes(nFft: i32): i32 {
  const m = nFft >> 1;
  return 5 * m * 4;
}

/** Bytes of scratch rfftF32 needs for nFft (split real and imaginary arrays of nFft/2 f32s). */
export function rfftScratchBytes(nFft: i32): i32 {
  return nFft * 4;
}

/** Writes the plan for a real FFT of nFft points (a power of two ≥ 2) at `plan`. */
export function rfftPlanF32(plan: usize, nFft: i32): void {
  const m = nFft >> 1;
  let bits = 0;
  while ((1 << bits) < m) bits++;
  for (let k = 0; k < m; k++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((k >> b) & 1) << (bits - 1 - b);
    store<i32>(plan + (<usize>k << 2), r);
  }
  const twRe = plan + (<usize>m << 2);
  const twIm = twRe + (<usize>(m - 1) << 2);
  for (let h = 1; h < m; h <<= 1) {
    for (let j = 0; j < h; j++) {
      const a = -Math.PI * <f64>j / <f64>h;
      store<f32>(twRe + (<usize>(h - 1 + j) << 2), <f32>Math.cos(a));
      store<f32>(twIm + (<usize>(h - 1 + j) << 2), <f32>Math.sin(a));
    }
  }
  const wRe = twIm + (<usize>(m - 1) << 2);
  const wIm = wRe + (<usize>(m + 1) << 2);
  for (let k = 0; k <= m; k++) {
    const a = -2 * Math.PI * <f64>k / <f64>nFft;
    store<f32>(wRe + (<usize>k << 2), <f32>Math.cos(a));
    store<f32>(wIm + (<usize>k << 2), <f32>Math.sin(a));
  }
}

/**
 * Real FFT of `rows` contiguous signals of nFft samples: out[r, k] = (Re, Im) of X[k] for k ≤ nFft/2,
 * interleaved, so out is [rows, nFft/2 + 1, 2]. `plan` from rfftPlanF32, scratch of rfftScratchBytes.
 */
export function rfftF32(out: usize, x: usize, rows: i32, nFft: i32, plan: usize, scratch: usize): void {
  const m = nFft >> 1;
  const re = scratch;
  const im = scratch + (<usize>m << 2);
  const twRe = plan + (<usize>m << 2);
  const twIm = twRe + (<usize>(m - 1) << 2);
  const wRe = twIm + (<usize>(m - 1) << 2);
  const wIm = wRe + (<usize>(m + 1) << 2);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>nFft << 2);
    const o = out + (<usize>r * <usize>(m + 1) << 3);
    // pack and permute: z[rev(k)] = x[2k] + i x[2k + 1]
    for (let k = 0; k < m; k++) {
      const d = <usize>load<i32>(plan + (<usize>k << 2)) << 2;
      store<f32>(re + d, load<f32>(xr + (<usize>k << 3)));
      store<f32>(im + d, load<f32>(xr + (<usize>k << 3), 4));
    }
    complexFft(re, im, m, twRe, twIm);
    // split into the bins of the real transform
    for (let k = 0; k <= m; k++) {
      const a = k == m ? 0 : k;
      const b = k == 0 ? 0 : m - k;
      const zr = load<f32>(re + (<usize>a << 2)), zi = load<f32>(im + (<usize>a << 2));
      const cr = load<f32>(re + (<usize>b << 2)), ci = -load<f32>(im + (<usize>b << 2));
      const half: f32 = 0.5;
      const er = half * (zr + cr), ei = half * (zi + ci);
      // (z − c) / 2i = ((zi − ci) − i (zr − cr)) / 2
      const orr = half * (zi - ci), oi = half * (cr - zr);
      const wr = load<f32>(wRe + (<usize>k << 2)), wi = load<f32>(wIm + (<usize>k << 2));
      store<f32>(o + (<usize>k << 3), er + (wr * orr - wi * oi));
      store<f32>(o + (<usize>k << 3), ei + (wr * oi + wi * orr), 4);
    }
  }
}

/** In-place radix-2 DIT FFT of m complex values already in bit-reversed order (split arrays). */
// @ts-ignore: decorator
@inline function complexFft(re: usize, im: usize, m: i32, twRe: usize, twIm: usize): void {
  let h = 1;
  // scalar stages (h = 1, 2): too short for a vector of butterflies
  for (; h < m && h < 4; h <<= 1) {
    for (let s = 0; s < m; s += h << 1) {
      for (let j = 0; j < h; j++) {
        const wr = load<f32>(twRe + (<usize>(h - 1 + j) << 2)), wi = load<f32>(twIm + (<usize>(h - 1 + j) << 2));
        const p = <usize>(s + j) << 2, q = <usize>(s + j + h) << 2;
        const xr = load<f32>(re + q), xi = load<f32>(im + q);
        const tr = wr * xr - wi * xi, ti = wr * xi + wi * xr;
        const ar = load<f32>(re + p), ai = load<f32>(im + p);
        store<f32>(re + q, ar - tr);
        store<f32>(im + q, ai - ti);
        store<f32>(re + p, ar + tr);
        store<f32>(im + p, ai + ti);
      }
    }
  }
  for (; h < m; h <<= 1) {
    const tr0 = twRe + (<usize>(h - 1) << 2), ti0 = twIm + (<usize>(h - 1) << 2);
    for (let s = 0; s < m; s += h << 1) {
      for (let j = 0; j < h; j += 4) {
        const wr = v128.load(tr0 + (<usize>j << 2)), wi = v128.load(ti0 + (<usize>j << 2));
        const p = <usize>(s + j) << 2, q = <usize>(s + j + h) << 2;
        const xr = v128.load(re + q), xi = v128.load(im + q);
        const tr = f32x4.sub(f32x4.mul(wr, xr), f32x4.mul(wi, xi));
        const ti = f32x4.add(f32x4.mul(wr, xi), f32x4.mul(wi, xr));
        const ar = v128.load(re + p), ai = v128.load(im + p);
        v128.store(re + q, f32x4.sub(ar, tr));
        v128.store(im + q, f32x4.sub(ai, ti));
        v128.store(re + p, f32x4.add(ar, tr));
        v128.store(im + p, f32x4.add(ai, ti));
      }
    }
  }
}

/**
 * Framing and windowing: out[r, f, i] = window[i] · s(r, f·hop − pad + i) for f < nFrames, i < frameLength,
 * where s(r, j) = x[r, j] for 0 ≤ j < n and, outside, 0 (padMode 0) or the reflection x[r, −j] /
 * x[r, 2(n − 1) − j] (padMode 1; the caller keeps pad < n). x is [rows, n]; out is [rows, nFrames, frameLength].
 */
export function frameF32(out: usize, x: usize, rows: i32, n: i32, frameLength: i32, hop: i32, nFrames: i32,
  pad: i32, padMode: i32, window: usize): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>n << 2);
    for (let f = 0; f < nFrames; f++) {
      const o = out + ((<usize>r * <usize>nFrames + <usize>f) * <usize>frameLength << 2);
      const j0 = f * hop - pad;
      if (j0 >= 0 && j0 + frameLength <= n) {
        // interior frame: every sample is real
        const src = xr + (<usize>j0 << 2);
        let i = 0;
        for (; i + 4 <= frameLength; i += 4) {
          const b = <usize>i << 2;
          v128.store(o + b, f32x4.mul(v128.load(src + b), v128.load(window + b)));
        }
        for (; i < frameLength; i++) {
          const b = <usize>i << 2;
          store<f32>(o + b, load<f32>(src + b) * load<f32>(window + b));
        }
      } else {
        for (let i = 0; i < frameLength; i++) {
          let j = j0 + i;
          let v: f32 = 0;
          if (padMode == 1 && n > 1) {
            if (j < 0) j = -j;
            if (j >= n) j = 2 * (n - 1) - j;
          }
          if (j >= 0 && j < n) v = load<f32>(xr + (<usize>j << 2));
          store<f32>(o + (<usize>i << 2), v * load<f32>(window + (<usize>i << 2)));
        }
      }
    }
  }
}

/** out[i] = |z[i]|^power for n complex values z (interleaved re, im); power is 1 (magnitude) or 2 (power). */
export function complexPowerF32(out: usize, z: usize, n: i32, power: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const a = v128.load(z + (<usize>i << 3));       // re0 im0 re1 im1
    const b = v128.load(z + (<usize>i << 3), 16);   // re2 im2 re3 im3
    const r = i32x4.shuffle(a, b, 0, 2, 4, 6);
    const m = i32x4.shuffle(a, b, 1, 3, 5, 7);
    let p = f32x4.add(f32x4.mul(r, r), f32x4.mul(m, m));
    if (power == 1) p = f32x4.sqrt(p);
    v128.store(out + (<usize>i << 2), p);
  }
  for (; i < n; i++) {
    const r = load<f32>(z + (<usize>i << 3)), m = load<f32>(z + (<usize>i << 3), 4);
    let p = r * r + m * m;
    if (power == 1) p = Mathf.sqrt(p);
    store<f32>(out + (<usize>i << 2), p);
  }
}

/**
 * Deltas along the last axis of x [rows, T] (torchaudio.functional.compute_deltas, replicate padding):
 * out[r, t] = Σ_{k=1..N} k·(x[r, min(t + k, T − 1)] − x[r, max(t − k, 0)]) / (2·Σ k²). N ≥ 1, T ≥ 1.
 */
export function deltasF32(out: usize, x: usize, rows: i32, T: i32, N: i32): void {
  const scale: f32 = <f32>(3.0 / (<f64>N * <f64>(N + 1) * <f64>(2 * N + 1)));
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>T << 2);
    const o = out + (<usize>r * <usize>T << 2);
    // interior (t − N ≥ 0 and t + N ≤ T − 1) 4 at a time; the same sum order as the scalar edges
    let t = 0;
    for (; t < T && t < N; t++) store<f32>(o + (<usize>t << 2), deltaAt(xr, t, T, N) * scale);
    for (; t + 4 + N <= T; t += 4) {
      let acc = f32x4.splat(0);
      for (let k = 1; k <= N; k++) {
        const d = f32x4.sub(v128.load(xr + (<usize>(t + k) << 2)), v128.load(xr + (<usize>(t - k) << 2)));
        acc = f32x4.add(acc, f32x4.mul(f32x4.splat(<f32>k), d));
      }
      v128.store(o + (<usize>t << 2), f32x4.mul(acc, f32x4.splat(scale)));
    }
    for (; t < T; t++) store<f32>(o + (<usize>t << 2), deltaAt(xr, t, T, N) * scale);
  }
}

// @ts-ignore: decorator
@inline function deltaAt(xr: usize, t: i32, T: i32, N: i32): f32 {
  let acc: f32 = 0;
  for (let k = 1; k <= N; k++) {
    const hi = min(t + k, T - 1), lo = max(t - k, 0);
    acc += <f32>k * (load<f32>(xr + (<usize>hi << 2)) - load<f32>(xr + (<usize>lo << 2)));
  }
  return acc;
}
