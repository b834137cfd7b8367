import type { BinaryOpName, ReduceOpName, UnaryOpName } from '@simdgrad/kernels';
import type { Heap } from './heap.js';

export type { BinaryOpName, ReduceOpName, UnaryOpName };
export type DType = 'float32' | 'int32';

/** Arguments of one (batched) matrix product; see {@link Backend.matmul}. */
export interface MatmulArgs {
  batch: number;
  m: number;
  n: number;
  k: number;
  /** A is stored [k, m] instead of [m, k]. */
  transA: boolean;
  /** B is stored [n, k] instead of [k, n]. */
  transB: boolean;
  /** Elements between consecutive batch matrices; 0 broadcasts one matrix to every batch. */
  strideA: number;
  strideB: number;
  strideC: number;
  /** Add into C instead of overwriting it. */
  accumulate: boolean;
}

/**
 * The primitives every backend implements. Pointers are byte offsets into `heap.memory`; sizes and
 * strides count elements (f32 and int32 are both 4 bytes). A backend trusts its arguments: the tensor
 * layer checks shapes, dtypes and index ranges first. Outputs are contiguous.
 *
 * Two implementations: `wasm` (the SIMD kernels) and `reference` (plain TypeScript loops with float64
 * accumulation, the oracle the tests compare against).
 */
export interface Backend {
  readonly name: 'wasm' | 'reference';
  readonly heap: Heap;

  // elementwise
  unary(op: UnaryOpName, out: number, x: number, n: number, p0?: number, p1?: number): void;
  /** gx = gy · f'(x), given x and y = f(x). */
  unaryGrad(op: UnaryOpName, gx: number, x: number, y: number, gy: number, n: number, p0?: number, p1?: number): void;
  /** out = a (op) b over a broadcast shape, each input read through its element strides (0 = broadcast). */
  binary(op: BinaryOpName, out: number, a: number, b: number, shape: readonly number[],
    stridesA: readonly number[], stridesB: readonly number[]): void;
  /** out = cond != 0 ? a : b, broadcast like `binary`. */
  where(out: number, cond: number, a: number, b: number, shape: readonly number[],
    stridesCond: readonly number[], stridesA: readonly number[], stridesB: readonly number[]): void;

  // reductions over the middle axis of [outer, len, inner]
  reduce(op: ReduceOpName, out: number, x: number, outer: number, len: number, inner: number): void;
  argReduce(op: 'argmax' | 'argmin', out: number, x: number, outer: number, len: number, inner: number): void;
  softmax(out: number, x: number, rows: number, cols: number): void;
  logSoftmax(out: number, x: number, rows: number, cols: number): void;
  softmaxGrad(gx: number, y: number, gy: number, rows: number, cols: number): void;
  logSoftmaxGrad(gx: number, y: number, gy: number, rows: number, cols: number): void;

  // linear algebra
  /** For each batch: C[m,n] (+)= op(A)·op(B), row-major. */
  matmul(c: number, a: number, b: number, args: MatmulArgs): void;

  // memory movement
  fill(dtype: DType, out: number, n: number, value: number): void;
  copy(dst: number, src: number, nbytes: number): void;
  /** dst (contiguous) = src read through element strides (4-byte elements). */
  stridedCopy(dst: number, src: number, shape: readonly number[], strides: readonly number[]): void;
  /** Copies a view into a view: both read through element strides over `shape` (4-byte elements). */
  copyStrided(dst: number, src: number, shape: readonly number[], dstStrides: readonly number[], srcStrides: readonly number[]): void;
  cast(from: DType, to: DType, dst: number, src: number, n: number): void;

  // indexing (indices are int32 and already range-checked)
  indexSelect(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void;
  indexAdd(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void;
  gather(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void;
  scatterAdd(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void;
  /** First position with an index outside [0, hi), or -1. */
  findOutOfRange(idx: number, n: number, hi: number): number;
  countNonFinite(x: number, n: number): number;

  // convolution and pooling (NCHW f32, contiguous; a convolution is im2col + matmul per image)
  /** col[C·kh·kw, outH·outW] = the receptive fields of one image x[C, H, W], zeros in the padding. */
  im2col(col: number, x: number, g: ConvGeometry): void;
  /** x[C, H, W] += col scattered back (the adjoint and gradient of im2col; the caller zeroes x first). */
  col2im(x: number, col: number, g: ConvGeometry): void;
  /**
   * Max pooling of `planes` (N·C) planes: out and argmax (int32, h·W + w within the plane) are
   * [planes, outH, outW]. Padding is −inf; the first maximum wins ties; NaN propagates as PyTorch.
   */
  maxPool2d(out: number, argmax: number, x: number, planes: number, g: Pool2dGeometry): void;
  /** gx[p, argmax] += gy (the caller zeroes gx). */
  maxPool2dGrad(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void;
  /** gx = 0, then gx[p, argmax] += gy: maxPool2dGrad into a fresh gradient (no separate fill pass). */
  maxPool2dGradSet(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void;
  /** Average pooling with PyTorch's divisor (see {@link AvgPool2dGeometry}). */
  avgPool2d(out: number, x: number, planes: number, g: AvgPool2dGeometry, countIncludePad: boolean): void;
  /** gx += gy spread over each window / divisor (the caller zeroes gx). */
  avgPool2dGrad(gx: number, gy: number, planes: number, g: AvgPool2dGeometry, countIncludePad: boolean): void;
  /** y[n, c, :] += bias[c] for y [N, C, HW], in place. */
  addBiasNCHW(y: number, bias: number, N: number, C: number, HW: number): void;
  /** gb[c] = Σ over n and hw of gy[n, c, hw] (overwrites gb). */
  biasGradNCHW(gb: number, gy: number, N: number, C: number, HW: number): void;
  /**
   * Direct convolution of N images (for few taps per output, C·kh·kw small): y[n, o] = bias[o] +
   * Σ w[o, c, i, j]·x[n, c, ih, iw] over one group (x: C planes per image, `xImage` floats apart; y: O
   * planes per image, `yImage` floats apart; w [O, C, kh, kw]; bias 0 = none). Overwrites y.
   */
  conv2dDirect(y: number, x: number, w: number, bias: number, N: number, O: number, g: ConvGeometry, xImage: number, yImage: number): void;
  /** gw[o, c, i, j] = Σ over images and outputs of gy[n, o]·x[n, c, ih, iw] (overwrites gw); layouts as conv2dDirect. */
  conv2dWeightGradDirect(gw: number, gy: number, x: number, N: number, O: number, g: ConvGeometry, xImage: number, yImage: number): void;
  /**
   * The forward GEMM of an im2col convolution: y[n] [O, L] = w [O, K] · cols[n] [K, L] + bias (per row; 0 =
   * none) for N images, cols `colsImage` and y `yImage` floats apart. Overwrites y. With `transW`, w is a
   * [K, O] matrix used transposed (the input gradient's wᵀ · gy[n]).
   */
  conv2dColsGemm(y: number, w: number, cols: number, bias: number, N: number, O: number, K: number, L: number,
    colsImage: number, yImage: number, transW?: boolean): void;
  /**
   * A convolution's forward pass for one group: cols[n] = im2col(x[n]) (kept for the weight gradient) and
   * y[n] = w · cols[n] + bias (0 = none) for N images (x, y, cols `xImage`, `yImage`, `colsImage` floats
   * apart; w [O, C·kh·kw]). Overwrites cols and y.
   */
  conv2dForward(y: number, x: number, w: number, bias: number, cols: number, N: number, O: number, g: ConvGeometry,
    xImage: number, yImage: number, colsImage: number): void;
  /**
   * A convolution's input gradient for one group: gx[n] += col2im(wᵀ · gy[n]) for N images (the caller
   * zeroes gx); w [O, C·kh·kw]; gy O planes per image, `gyImage` floats apart; gx C planes per image,
   * `gxImage` floats apart.
   */
  conv2dInputGrad(gx: number, w: number, gy: number, N: number, O: number, g: ConvGeometry, gyImage: number, gxImage: number): void;
  /**
   * A 3×3, stride-1, dilation-1 convolution by Winograd F(2×2, 3×3): y[n] = conv(x[n], w) + bias (0 = none)
   * with zero padding `pad` on all sides; x: N images of Cin planes [H, W], `xImage` floats apart; y: N images
   * of Cout planes [H + 2·pad − 2, W + 2·pad − 2], `yImage` floats apart (overwritten); w [Cout, Cin, 3, 3].
   */
  conv3x3Winograd(y: number, x: number, w: number, bias: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, xImage: number, yImage: number): void;
  /**
   * The input gradient of conv3x3Winograd as the transpose of its transform, over the same tiles: gx[n] =
   * Σ_o w[o, c] ⋆ gy[n, o] (overwritten); gx: N images of Cin planes [H, W], `gxImage` floats apart; gy: N images
   * of Cout planes [H + 2·pad − 2, W + 2·pad − 2], `gyImage` floats apart; w [Cout, Cin, 3, 3].
   */
  conv3x3WinogradInputGrad(gx: number, gy: number, w: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, gyImage: number, gxImage: number): void;
  /**
   * The weight gradient of conv3x3Winograd: gw [Cout, Cin, 3, 3] = Σ over images and outputs of
   * gy[n, o, i, j]·x[n, c, i + r − pad, j + s − pad] (overwrites gw); layouts as conv3x3Winograd.
   */
  conv3x3WinogradWeightGrad(gw: number, x: number, gy: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, xImage: number, gyImage: number): void;

  // fused optimizer steps: param p, grad g and state buffers (n f32s each) updated in place, one call per
  // tensor; state pointers an option does not use may be 0. Formulas in @simdgrad/kernels' abi.ts.
  /** SGD with optional momentum/dampening/nesterov/weight decay; `firstStep` initialises buf to the gradient. */
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, firstStep: boolean, maximize: boolean): void;
  /** Adam (L2 weight decay) or AdamW (`decoupled`); bias corrections 1 − β^t come from the caller. */
  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: boolean, amsgrad: boolean, biasCorrection1: number,
    biasCorrection2: number, maximize: boolean): void;
  /** RMSprop (optionally centered, with momentum). */
  rmspropStep(p: number, g: number, squareAvg: number, gradAvg: number, buf: number, n: number, lr: number, alpha: number,
    eps: number, weightDecay: number, momentum: number, centered: boolean, maximize: boolean): void;
  /** Adagrad with the decayed rate clr = lr / (1 + (t − 1)·lrDecay) from the caller. */
  adagradStep(p: number, g: number, sum: number, n: number, clr: number, weightDecay: number, eps: number, maximize: boolean): void;
  /** Σ |x|^normType over n f32s in float64 (max |x| when normType is Infinity): gradient-norm clipping. */
  normPartial(x: number, n: number, normType: number): number;

  // audio features (f32, contiguous; no gradients). The mel filterbank and the DCT are matmuls.
  /**
   * Framing + windowing: out[r, f, i] = window[i] · s(r, f·hop − pad + i) for x [rows, n] and out
   * [rows, nFrames, frameLength]; outside [0, n) s is 0 ('constant') or mirrored about the end samples
   * ('reflect', as torch.stft; the caller keeps pad < n).
   */
  frameSignal(out: number, x: number, rows: number, n: number, frameLength: number, hop: number, nFrames: number,
    pad: number, padMode: 'constant' | 'reflect', window: number): void;
  /** Real FFT of x [rows, nFft] (nFft a power of two ≥ 2) into out [rows, nFft/2 + 1, 2] (re, im); numpy.fft.rfft's convention. */
  rfft(out: number, x: number, rows: number, nFft: number): void;
  /** out[i] = |z[i]|^power for n interleaved complex values z; power 1 or 2. */
  complexPower(out: number, z: number, n: number, power: 1 | 2): void;
  /** Deltas along the last axis of x [rows, T], half-width N (torchaudio compute_deltas: replicate edges). */
  deltas(out: number, x: number, rows: number, T: number, N: number): void;

  // fused scaled-dot-product attention (f32, contiguous; never stores an [L, S] matrix)
  /**
   * out [batch, l, ev] = softmax(q·kᵀ·scale + mask)·v and lse [batch, l, 2] = each row's logsumexp as the
   * pair (max score, log Σ exp(score − max)) (for the backward; a fully masked row keeps its log-sum), for
   * q [batch, l, e], k [batch, s, e], v [batch, s, ev] (s ≥ 1). See {@link AttentionArgs} for the masks.
   */
  attention(out: number, lse: number, q: number, k: number, v: number, args: AttentionArgs): void;
  /** dq, dk, dv (overwritten) of {@link Backend.attention}, given its out and lse and dout = dL/dout. */
  attentionGrad(dq: number, dk: number, dv: number, q: number, k: number, v: number, out: number, dout: number,
    lse: number, args: AttentionArgs): void;
}

/** Sizes and masks of one fused attention call; see {@link Backend.attention}. */
export interface AttentionArgs {
  /** Problems (batch·heads), packed one after another. */
  batch: number;
  /** Queries, keys, the q/k width and the v width. */
  l: number;
  s: number;
  e: number;
  ev: number;
  scale: number;
  /** Causal: query i (at key position causalOffset + i) sees keys ≤ causalOffset + i; −1 = not causal. */
  causalOffset: number;
  /**
   * An additive f32 mask (0 = none): element (i, j) of problem b is at element
   * `maskOffsets[b] + i·maskRowStride + j` from `mask` (stride 0 broadcasts one row or one matrix).
   */
  mask: number;
  maskRowStride: number;
  maskOffsets: readonly number[];
}

/**
 * The window geometry of a 2-d pooling over planes [H, W], as PyTorch: output pixel (oh, ow) reads the
 * input cells (oh·strideH − padH + i·dilH, ow·strideW − padW + j·dilW) for taps i < kh, j < kw; cells
 * outside the input are padding. outH/outW are computed by the caller (floor or ceil mode).
 */
export interface Pool2dGeometry {
  H: number;
  W: number;
  kh: number;
  kw: number;
  padH: number;
  padW: number;
  strideH: number;
  strideW: number;
  dilH: number;
  dilW: number;
  outH: number;
  outW: number;
}

/**
 * Average pooling has no dilation. NOTE: the divisor is PyTorch's: with countIncludePad the window
 * clipped to the padded input [−pad, size + pad), otherwise only the real cells.
 */
export type AvgPool2dGeometry = Omit<Pool2dGeometry, 'dilH' | 'dilW'>;

/** The geometry of one im2col: a {@link Pool2dGeometry} over C channels of one image [C, H, W]. */
export interface ConvGeometry extends Pool2dGeometry {
  C: number;
}
