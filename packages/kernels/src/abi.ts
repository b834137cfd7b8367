/**
 * The kernel ABI: every function the AssemblyScript module exports, with its argument order.
 *
 * Conventions (the contract between `assembly/` and `@simdgrad/core`):
 * - Pointers (`*Ptr`, and arguments named `out`, `x`, `a`, `b`, `c`, …) are byte offsets into the
 *   imported `env.memory`, 16-byte aligned unless said otherwise. Sizes and strides count elements.
 * - f32 and int32 elements are both 4 bytes; kernels named `…32` move either.
 * - Kernels trust their arguments (the TypeScript layer checks shapes, ranges and dtypes first),
 *   never allocate and keep no state between calls, so several threads can run them on one memory.
 * - A "broadcast meta" block is an i32 array in wasm memory: `shape[ndim]` followed by one
 *   `strides[ndim]` block per input (element strides, 0 on broadcast dims). Outputs are contiguous.
 */
export interface KernelExports {
  /** Start of free memory (after the module's static data), for the allocator. */
  heapBase(): number;
  /** Bit 0: relaxed-SIMD build; bit 1: shared-memory (threads) build. */
  variant(): number;

  // ---- elementwise.ts -------------------------------------------------------------------------
  /** out[i] = f(x[i]) for i < n. `op` is a {@link UnaryOp} code; p0/p1 are its parameters. */
  unaryF32(op: number, out: number, x: number, n: number, p0: number, p1: number): void;
  /** gx[i] = gy[i] * f'(x[i]), given x (input) and y = f(x) (output); see {@link UnaryOp}. */
  unaryGradF32(op: number, gx: number, x: number, y: number, gy: number, n: number, p0: number, p1: number): void;
  /** out[i] = a[i] (op) b[i], all contiguous with n elements. `op` is a {@link BinaryOp} code. */
  binaryF32(op: number, out: number, a: number, b: number, n: number): void;
  /** Broadcasting/strided binary op: meta = shape[ndim], stridesA[ndim], stridesB[ndim]. */
  binaryBcastF32(op: number, out: number, a: number, b: number, meta: number, ndim: number): void;
  /** out = cond != 0 ? a : b, broadcast; meta = shape, stridesCond, stridesA, stridesB. */
  whereF32(out: number, cond: number, a: number, b: number, meta: number, ndim: number): void;

  // ---- reduce.ts ------------------------------------------------------------------------------
  /** x viewed as [outer, len, inner] (contiguous) reduced over len into out [outer, inner]. {@link ReduceOp}. */
  reduceF32(op: number, out: number, x: number, outer: number, len: number, inner: number): void;
  /** Index (int32) of the max (op 0) or min (op 1) over len; first occurrence wins; NaN counts as max. */
  argReduceF32(op: number, out: number, x: number, outer: number, len: number, inner: number): void;
  /** Row-wise softmax of a contiguous [rows, cols] block (max-subtracted). */
  softmaxF32(out: number, x: number, rows: number, cols: number): void;
  /** Row-wise log-softmax (x - max - log(sum(exp(x - max)))). */
  logSoftmaxF32(out: number, x: number, rows: number, cols: number): void;
  /** gx = y * (gy - sum(gy * y)) per row, y = softmax output. */
  softmaxGradF32(gx: number, y: number, gy: number, rows: number, cols: number): void;
  /** gx = gy - exp(y) * sum(gy) per row, y = log-softmax output. */
  logSoftmaxGradF32(gx: number, y: number, gy: number, rows: number, cols: number): void;

  // ---- matmul.ts ------------------------------------------------------------------------------
  /** Bytes of scratch `matmulF32` needs for these sizes (packing buffers). */
  matmulScratchBytes(m: number, n: number, k: number): number;
  /**
   * For each of `batch` problems: C[m,n] (+)= op(A)[m,k] · op(B)[k,n], all row-major and contiguous.
   * transA = 0: A is stored [m,k]; 1: A is stored [k,m] (op = transpose). Same for B ([k,n] or [n,k]).
   * strideA/B/C: elements between consecutive batch matrices (0 = broadcast the same matrix).
   * accumulate = 1 adds into C instead of overwriting it.
   */
  matmulF32(c: number, a: number, b: number, scratch: number, batch: number, m: number, n: number, k: number,
    transA: number, transB: number, strideA: number, strideB: number, strideC: number, accumulate: number): void;
  /** Rows [i0, i1) of every C in the batch (one thread's share); scratch of matmulScratchBytes(i1 - i0, n, k) bytes. */
  matmulRowsF32(c: number, a: number, b: number, scratch: number, batch: number, m: number, n: number, k: number,
    transA: number, transB: number, strideA: number, strideB: number, strideC: number, accumulate: number, i0: number, i1: number): void;
  /** Register-only multiply-add loop for the peak-FLOPS probe: 12 chains × 4 lanes × 2 × 2 flops per iteration. */
  peakF32(iters: number, m: number, a: number): number;

  // ---- copy.ts --------------------------------------------------------------------------------
  fillF32(out: number, n: number, value: number): void;
  fillI32(out: number, n: number, value: number): void;
  /** memmove of nbytes. */
  copyBytes(dst: number, src: number, nbytes: number): void;
  /** dst (contiguous) = src read with strides; meta = shape[ndim], srcStrides[ndim]; 4-byte elements. */
  stridedCopy32(dst: number, src: number, meta: number, ndim: number): void;
  /** View-to-view copy: meta = shape[ndim], dstStrides[ndim], srcStrides[ndim]; 4-byte elements. */
  copyStrided32(dst: number, src: number, meta: number, ndim: number): void;
  castI32ToF32(dst: number, src: number, n: number): void;
  /** Truncates toward zero (as PyTorch's .int()); out-of-range and NaN give an undefined but safe value. */
  castF32ToI32(dst: number, src: number, n: number): void;

  // ---- index.ts (gather/scatter, int32 indices already range-checked) ------------------------
  /** out[o, j, i] = x[o, idx[j], i]; x is [outer, len, inner], idx has nidx entries. 4-byte elements. */
  indexSelect32(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void;
  /** gx[o, idx[j], i] += gy[o, j, i] (the gradient of indexSelect). */
  indexAddF32(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void;
  /** out[o, j, i] = x[o, idx[o, j, i], i]; idx and out are [outer, nidx, inner]. */
  gather32(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void;
  /** gx[o, idx[o, j, i], i] += gy[o, j, i] (the gradient of gather). */
  scatterAddF32(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void;
  /** First position j < n with idx[j] outside [0, hi), or -1. */
  findOutOfRangeI32(idx: number, n: number, hi: number): number;
  /** Count of NaN and ±Inf values among n f32s. */
  countNonFiniteF32(x: number, n: number): number;

  // ---- conv.ts (NCHW f32; geometry as PyTorch: output o reads input o·stride − pad + tap·dilation) --
  /**
   * col[(c·kh + i)·kw + j, oh·outW + ow] = x[c, oh·strideH − padH + i·dilH, ow·strideW − padW + j·dilW],
   * 0 where that falls in the padding. x is one image [C, H, W]; col is [C·kh·kw, outH·outW], so a
   * convolution is matmulF32(weight [Cout, C·kh·kw], col).
   */
  im2colF32(col: number, x: number, C: number, H: number, W: number, kh: number, kw: number,
    padH: number, padW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    outH: number, outW: number): void;
  /** The adjoint of im2colF32: x[C, H, W] += col scattered back (accumulates; the caller zeroes x). */
  col2imF32(x: number, col: number, C: number, H: number, W: number, kh: number, kw: number,
    padH: number, padW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    outH: number, outW: number): void;
  /**
   * Max pooling of `planes` (= N·C) planes [H, W]: out and argmax (int32, h·W + w within the plane) are
   * [planes, outH, outW]. Padding counts as −inf; the first maximum wins ties; NaN wins and propagates
   * (the last NaN of a window, as PyTorch's CPU kernel); a window with no real cell gives −inf and −1.
   */
  maxPool2dF32(out: number, argmax: number, x: number, planes: number, H: number, W: number, kh: number, kw: number,
    padH: number, padW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    outH: number, outW: number): void;
  /** gx[p, argmax[p, o]] += gy[p, o] (the caller zeroes gx; index −1 is skipped). */
  maxPool2dGradF32(gx: number, gy: number, argmax: number, planes: number, H: number, W: number,
    outH: number, outW: number): void;
  /**
   * Like maxPool2dGradF32 but overwriting: gx = 0, then gx[p, argmax[p, o]] += gy[p, o] (plane by plane);
   * the window geometry (as maxPool2dF32's) lets whole 2×2 stride-2 windows write their blocks directly.
   */
  maxPool2dGradSetF32(gx: number, gy: number, argmax: number, planes: number, H: number, W: number, kh: number, kw: number,
    padH: number, padW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    outH: number, outW: number): void;
  /**
   * Average pooling (no dilation). Divisor as PyTorch: countIncludePad = 1 counts the window clipped to
   * the padded input [−pad, size + pad), 0 counts only real cells.
   */
  avgPool2dF32(out: number, x: number, planes: number, H: number, W: number, kh: number, kw: number,
    padH: number, padW: number, strideH: number, strideW: number, countIncludePad: number,
    outH: number, outW: number): void;
  /** gx[p, window of o] += gy[p, o] / divisor (the gradient of avgPool2dF32; the caller zeroes gx). */
  avgPool2dGradF32(gx: number, gy: number, planes: number, H: number, W: number, kh: number, kw: number,
    padH: number, padW: number, strideH: number, strideW: number, countIncludePad: number,
    outH: number, outW: number): void;
  /** y[n, c, :] += bias[c] for a contiguous y [N, C, HW], in place. */
  addBiasNCHWF32(y: number, bias: number, N: number, C: number, HW: number): void;
  /** gb[c] = Σ over n and hw of gy[n, c, hw] (overwrites gb; rows are summed in f64). */
  biasGradNCHWF32(gb: number, gy: number, N: number, C: number, HW: number): void;

  // ---- convdirect.ts (direct convolution for few taps per output, C·kh·kw small; NCHW f32) ------------
  /**
   * y[n, o, oh, ow] = bias[o] + Σ_{c,i,j} w[o, c, i, j] · x[n, c, ih, iw] (overwrites; bias = 0: none) for
   * N images: x holds C planes [H, W] per image, `xImage` floats apart; y holds O planes [outH, outW] per
   * image, `yImage` floats apart; w is [O, C, kh, kw]. Geometry as im2colF32.
   */
  conv2dDirectF32(y: number, x: number, w: number, bias: number, N: number, C: number, H: number, W: number, O: number,
    kh: number, kw: number, padH: number, padW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    outH: number, outW: number, xImage: number, yImage: number): void;
  /** gw[o, c, i, j] = Σ_{n, oh, ow} gy[n, o, oh, ow] · x[n, c, ih, iw] (overwrites gw); layouts as conv2dDirectF32. */
  conv2dWeightGradDirectF32(gw: number, gy: number, x: number, N: number, C: number, H: number, W: number, O: number,
    kh: number, kw: number, padH: number, padW: number, strideH: number, strideW: number, dilH: number, dilW: number,
    outH: number, outW: number, xImage: number, yImage: number): void;

  // ---- convgemm.ts (a convolution's forward GEMM reading the im2col matrix in place) ------------------
  /** Bytes of scratch `conv2dColsGemmF32` needs for O output channels and K = C·kh·kw. */
  conv2dColsGemmScratchBytes(O: number, K: number): number;
  /**
   * y[n, o, l] = bias[o] + Σ_p w[o, p] · cols[n, p, l] for n < N (overwrites y; bias = 0: none); w [O, K], or
   * with transW = 1 a [K, O] matrix used transposed; cols: N matrices [K, L], `colsImage` floats apart; y: N
   * matrices [O, L], `yImage` floats apart.
   */
  conv2dColsGemmF32(y: number, w: number, cols: number, bias: number, scratch: number, N: number, O: number, K: number,
    L: number, colsImage: number, yImage: number, transW: number): void;
  /**
   * A convolution's forward pass for one group, image by image: cols[n] = im2col(x[n]) (kept), then y[n] =
   * w · cols[n] + bias while cols[n] is in cache (bias = 0: none). w [O, C·kh·kw]; x, y and cols hold N
   * images `xImage`, `yImage`, `colsImage` floats apart; scratch: conv2dColsGemmScratchBytes(O, K) bytes.
   */
  conv2dForwardF32(y: number, x: number, w: number, bias: number, cols: number, scratch: number, N: number, C: number,
    H: number, W: number, O: number, kh: number, kw: number, padH: number, padW: number, strideH: number, strideW: number,
    dilH: number, dilW: number, outH: number, outW: number, xImage: number, yImage: number, colsImage: number): void;
  /** Bytes of scratch `conv2dInputGradF32` needs for K = C·kh·kw taps, O output channels and L outputs per image. */
  conv2dInputGradScratchBytes(K: number, O: number, L: number): number;
  /**
   * A convolution's input gradient for one group, image by image: gx[n] += col2im(wᵀ · gy[n]) (the caller
   * zeroes gx); w [O, C·kh·kw]; gy: N images of O planes [outH, outW], `gyImage` floats apart; gx: N images
   * of C planes [H, W], `gxImage` floats apart. Geometry as im2colF32.
   */
  conv2dInputGradF32(gx: number, w: number, gy: number, scratch: number, N: number, C: number, H: number, W: number,
    O: number, kh: number, kw: number, padH: number, padW: number, strideH: number, strideW: number, dilH: number,
    dilW: number, outH: number, outW: number, gyImage: number, gxImage: number): void;

  /** Bytes of scratch `conv3x3WinogradF32` needs (N images, Cin → Cout channels, outH × outW outputs). */
  conv3x3WinogradScratchBytes(N: number, Cin: number, Cout: number, outH: number, outW: number): number;
  /**
   * winograd.ts: y[n] = conv3x3(x[n], w) + bias by Winograd F(2×2, 3×3), stride 1, dilation 1, zero padding
   * `pad` on all sides; outH = H + 2·pad − 2, outW = W + 2·pad − 2. x: N images of Cin planes [H, W], `xImage`
   * floats apart; y: N images of Cout planes, `yImage` floats apart (overwritten); w [Cout, Cin, 3, 3]; bias
   * [Cout] or 0. scratch: conv3x3WinogradScratchBytes bytes, 16-byte aligned.
   */
  conv3x3WinogradF32(y: number, x: number, w: number, bias: number, scratch: number, N: number, Cin: number, H: number,
    W: number, Cout: number, pad: number, xImage: number, yImage: number): void;
  /** Bytes of scratch `conv3x3WinogradInputGradF32` needs (the forward's N, Cin, Cout, outH, outW). */
  conv3x3WinogradInputGradScratchBytes(N: number, Cin: number, Cout: number, outH: number, outW: number): number;
  /**
   * The input gradient of conv3x3WinogradF32 as the transpose of its transform, over the same tiles: gx[n] =
   * Σ_o w[o, c] ⋆ gy[n, o] (overwritten); gx: N images of Cin planes [H, W], `gxImage` floats apart; gy: N images
   * of Cout planes [H + 2·pad − 2, W + 2·pad − 2], `gyImage` floats apart; w [Cout, Cin, 3, 3].
   */
  conv3x3WinogradInputGradF32(gx: number, gy: number, w: number, scratch: number, N: number, Cin: number, H: number,
    W: number, Cout: number, pad: number, gyImage: number, gxImage: number): void;
  /** Bytes of scratch `conv3x3WinogradWeightGradF32` needs. */
  conv3x3WinogradWeightGradScratchBytes(N: number, Cin: number, Cout: number, outH: number, outW: number): number;
  /**
   * The weight gradient of conv3x3WinogradF32, by the same transform: gw [Cout, Cin, 3, 3] = Σ over images and
   * outputs of gy[n, o, i, j]·x[n, c, i + r − pad, j + s − pad] (overwrites gw). x: N images of Cin planes [H, W],
   * `xImage` floats apart; gy: N images of Cout planes [outH, outW], `gyImage` floats apart.
   */
  conv3x3WinogradWeightGradF32(gw: number, x: number, gy: number, scratch: number, N: number, Cin: number, H: number,
    W: number, Cout: number, pad: number, xImage: number, gyImage: number): void;

  // ---- optim.ts (fused optimizer steps: param, grad and state updated in place; flags are 0/1) ----------
  /**
   * SGD (torch.optim.SGD): d = ±g + wd·p; with momentum ≠ 0, buf = firstStep ? d : μ·buf + (1 − dampening)·d
   * and d = nesterov ? d + μ·buf : buf; then p −= lr·d. `buf` may be 0 when momentum is 0.
   */
  sgdStepF32(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: number, firstStep: number, maximize: number): void;
  /**
   * Adam (decoupled 0: d = ±g + wd·p) / AdamW (decoupled 1: p *= 1 − lr·wd): m = β1·m + (1 − β1)·d,
   * v = β2·v + (1 − β2)·d², amsgrad: vmax = max(vmax, v) used for v; p += −(lr/bc1)·m / (√v/√bc2 + eps),
   * with bc1 = 1 − β1^t, bc2 = 1 − β2^t. `vmax` may be 0 without amsgrad.
   */
  adamStepF32(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, decoupled: number, amsgrad: number, biasCorrection1: number,
    biasCorrection2: number, maximize: number): void;
  /**
   * RMSprop: d = ±g + wd·p; sq = α·sq + (1 − α)·d²; centered: gavg = α·gavg + (1 − α)·d, avg = √(sq − gavg²) + eps,
   * else avg = √sq + eps; momentum > 0: buf = μ·buf + d/avg, p −= lr·buf; else p −= lr·d/avg.
   * `gavg` (not centered) and `buf` (no momentum) may be 0.
   */
  rmspropStepF32(p: number, g: number, sq: number, gavg: number, buf: number, n: number, lr: number, alpha: number,
    eps: number, weightDecay: number, momentum: number, centered: number, maximize: number): void;
  /** Adagrad: d = ±g + wd·p; sum += d²; p −= clr·d / (√sum + eps), clr = lr / (1 + (t − 1)·lrDecay) from the caller. */
  adagradStepF32(p: number, g: number, sum: number, n: number, clr: number, weightDecay: number, eps: number,
    maximize: number): void;
  /** Σ |x|^normType over n f32s in f64 (for gradient-norm clipping); max |x| when normType is +Infinity. */
  normPartialF32(x: number, n: number, normType: number): number;

  // ---- audio.ts (feature extraction; the mel filterbank and the DCT are matmulF32) ----------------
  /** Bytes of the plan `rfftF32` needs for nFft (a power of two ≥ 2): 5·nFft/2 four-byte words. */
  rfftPlanBytes(nFft: number): number;
  /** Bytes of scratch `rfftF32` needs for nFft (split re/im arrays of nFft/2 f32s). */
  rfftScratchBytes(nFft: number): number;
  /** Writes the twiddles and bit-reversal table of a real FFT of nFft points (computed in f64, stored as f32). */
  rfftPlanF32(plan: number, nFft: number): void;
  /**
   * Real FFT (numpy.fft.rfft convention, unnormalised) of `rows` contiguous signals x [rows, nFft]:
   * out [rows, nFft/2 + 1, 2] holds (re, im) pairs. Radix-2: nFft/2-point complex FFT + split.
   */
  rfftF32(out: number, x: number, rows: number, nFft: number, plan: number, scratch: number): void;
  /**
   * out[r, f, i] = window[i] · s(r, f·hop − pad + i), x [rows, n], out [rows, nFrames, frameLength];
   * outside [0, n) s is 0 (padMode 0) or the reflection about the ends (padMode 1, needs pad < n).
   */
  frameF32(out: number, x: number, rows: number, n: number, frameLength: number, hop: number, nFrames: number,
    pad: number, padMode: number, window: number): void;
  /** out[i] = |z[i]|^power for n interleaved complex values; power 1 (magnitude) or 2 (power). */
  complexPowerF32(out: number, z: number, n: number, power: number): void;
  /** Deltas along the last axis of x [rows, T] (torchaudio compute_deltas, replicate edges), half-width N ≥ 1. */
  deltasF32(out: number, x: number, rows: number, T: number, N: number): void;

  // ---- attention.ts (fused scaled-dot-product attention; no [L, S] matrix is ever stored) ---------------
  /** Bytes of scratch one thread needs for `attentionF32` / `attentionGradF32` with head sizes E and Ev. */
  attentionScratchBytes(E: number, Ev: number): number;
  /**
   * For problems bh in [bh0, bh1) (packed, contiguous: q [L, E], k [S, E], v [S, Ev]): out [L, Ev] =
   * softmax(q·kᵀ·scale + mask)·v and lse [L, 2] = each row's logsumexp as the pair (max score, log of the
   * sum of exp(score − max)), kept apart so that a fully masked row (max ≈ −1e9) keeps its log-sum (online
   * softmax over key blocks). causalOffset < 0: no causal mask, else query i sees keys ≤ causalOffset + i. mask = 0:
   * none, else an additive f32 mask: element (i, j) of problem bh is mask[meta[1 + bh] + i·meta[0] + j]
   * (maskMeta: i32 [rowStride, offset per problem]). S ≥ 1.
   */
  attentionF32(out: number, lse: number, q: number, k: number, v: number, mask: number, maskMeta: number,
    scratch: number, bh0: number, bh1: number, L: number, S: number, E: number, Ev: number, scale: number,
    causalOffset: number): void;
  /**
   * The backward of `attentionF32` for problems [bh0, bh1): dq [L, E], dk [S, E], dv [S, Ev] (overwritten)
   * from q, k, v, out, lse and dout, recomputing the probabilities block by block (D = rowsum(dout ∘ out)).
   */
  attentionGradF32(dq: number, dk: number, dv: number, q: number, k: number, v: number, out: number, dout: number,
    lse: number, mask: number, maskMeta: number, scratch: number, bh0: number, bh1: number, L: number, S: number,
    E: number, Ev: number, scale: number, causalOffset: number): void;
}

/** Unary op codes for `unaryF32` / `unaryGradF32`. p0/p1 are used where noted. */
export const UnaryOp = {
  neg: 0, abs: 1, exp: 2, log: 3, sqrt: 4, rsqrt: 5, tanh: 6, sigmoid: 7, relu: 8,
  /** exact GELU: x * Φ(x) = 0.5 x (1 + erf(x / √2)) */
  gelu: 9,
  /** tanh-approximate GELU */
  geluTanh: 10,
  silu: 11, softplus: 12, sin: 13, cos: 14, square: 15, reciprocal: 16, sign: 17,
  floor: 18, ceil: 19, round: 20, erf: 21, log1p: 22, expm1: 23,
  /** x > 0 ? x : p0 * x */
  leakyRelu: 24,
  /** x > 0 ? x : p0 * (exp(x) - 1) */
  elu: 25,
  /** min(max(x, p0), p1) (NaN stays NaN); gradient 1 inside [p0, p1], else 0 */
  clamp: 26,
  /** x ** p0 */
  powScalar: 27,
  /** p0 * x + p1 */
  affine: 28,
  /** p0 / x */
  rdiv: 29,
  /** p0 ** x */
  rpow: 30,
} as const;
export type UnaryOpName = keyof typeof UnaryOp;

/** Binary op codes for `binaryF32` / `binaryBcastF32`. Comparisons give 1 or 0 (f32). */
export const BinaryOp = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, maximum: 5, minimum: 6,
  eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12,
} as const;
export type BinaryOpName = keyof typeof BinaryOp;

/** Reduce op codes for `reduceF32`. */
export const ReduceOp = { sum: 0, mean: 1, max: 2, min: 3, prod: 4 } as const;
export type ReduceOpName = keyof typeof ReduceOp;
