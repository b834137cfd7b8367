// 2-d convolution and pooling (NCHW). A convolution runs one of three paths, group by group: direct
// kernels (few taps per output), Winograd F(2×2, 3×3) (3×3, stride 1) or im2col + the GEMM kernel (the
// rest; its gradients a GEMM for the weights and a GEMM + col2im for the input); the bias gradient is a
// reduction for all. Pooling keeps the argmax for its gradient.
import type { ConvGeometry, Pool2dGeometry } from '../backend/backend.js';
import { record } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';
import { contiguous, empty, release } from './core.js';
import { cat, fullOf } from './shape.js';

type Pair = number | readonly [number, number];

function pair(op: string, v: Pair, what: string, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  // NOTE: the kernels take int32 sizes: anything past 2^31 − 1 would wrap, so it is refused here.
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min && x <= 2147483647)) {
    throw new SimdgradError(`${op}: ${what} must be an integer in [${min}, 2^31 − 1] or a pair of them (got ${JSON.stringify(v)})`);
  }
  return [p[0]!, p[1]!];
}

function outSize(size: number, k: number, pad: number, stride: number, dil: number, ceil: boolean): number {
  const span = size + 2 * pad - dil * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // NOTE: in ceil mode the last window must start inside the input or the left padding (PyTorch's rule)
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

function checkInput(op: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) throw new SimdgradError(`${op}: input must be a tensor`);
  x.assertAlive(op);
  if (x.ndim !== 4) throw new SimdgradError(`${op}: expected input [N, C, H, W] (got ${fmtShape(x.shape)})`);
  if (x.dtype !== 'float32') throw new SimdgradError(`${op}: expected a float32 input (got ${x.dtype})`);
  return x;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

/**
 * 2-d convolution (cross-correlation, as PyTorch): x [N, C, H, W], w [O, C/groups, kh, kw], b [O].
 *
 * @example
 * ```ts
 * const y = nn.functional.conv2d(x, w, b, { stride: 1, padding: 1 });
 * ```
 */
export function conv2d(x0: Tensor, w0: Tensor, b0?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  checkInput('conv2d', x0);
  if (!(w0 instanceof Tensor) || w0.ndim !== 4) throw new SimdgradError(`conv2d: weight must be [O, C/groups, kh, kw] (got ${w0 instanceof Tensor ? fmtShape(w0.shape) : typeof w0})`);
  const [N, C, H, W] = x0.shape as [number, number, number, number];
  const [O, Cg, kh, kw] = w0.shape as [number, number, number, number];
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0 || O % groups !== 0) {
    throw new SimdgradError(`conv2d: groups ${groups} must divide both the input channels ${C} and the output channels ${O}`);
  }
  if (Cg !== C / groups) {
    throw new SimdgradError(`conv2d: weight ${fmtShape(w0.shape)} expects ${Cg * groups} input channels, the input ${fmtShape(x0.shape)} has ${C}`);
  }
  if (b0 && (!(b0 instanceof Tensor) || b0.ndim !== 1 || b0.shape[0] !== O)) {
    throw new SimdgradError(`conv2d: bias must be [${O}] (got ${b0 instanceof Tensor ? fmtShape(b0.shape) : typeof b0})`);
  }
  const [strideH, strideW] = pair('conv2d', options.stride ?? 1, 'stride', 1);
  const [padH, padW] = pair('conv2d', options.padding ?? 0, 'padding', 0);
  const [dilH, dilW] = pair('conv2d', options.dilation ?? 1, 'dilation', 1);
  const outH = outSize(H, kh, padH, strideH, dilH, false), outW = outSize(W, kw, padW, strideW, dilW, false);
  if (outH < 1 || outW < 1) {
    throw new SimdgradError(`conv2d: the kernel ${kh}×${kw} (dilation ${dilH}×${dilW}) does not fit the padded input ${H + 2 * padH}×${W + 2 * padW}`);
  }
  const K = Cg * kh * kw, L = outH * outW;
  const g: ConvGeometry = { C: Cg, H, W, kh, kw, padH, padW, strideH, strideW, dilH, dilW, outH, outW };
  const x = contiguous(x0), w = contiguous(w0);
  const be = x.backend;
  const Og = O / groups, xImage = C * H * W, yImage = O * L;
  let path: ConvPath;
  if (strideW === 1 && K <= DIRECT_MAX_TAPS) {
    // direct kernels: forward with the bias fused, the weight gradient in one pass over the batch
    path = {
      forward: (_, yp, xp, wp, bp) => be.conv2dDirect(yp, xp, wp, bp, N, Og, g, xImage, yImage),
      weightGrad: (_, gw, xp, gy) => be.conv2dWeightGradDirect(gw, gy, xp, N, Og, g, xImage, yImage),
      inputGrad: (_, gx, gy, wp) => be.conv2dInputGrad(gx, wp, gy, N, Og, g, yImage, xImage),
      accumulates: { weight: false, input: true },
    };
  } else if (kh === 3 && kw === 3 && strideH === 1 && strideW === 1 && dilH === 1 && dilW === 1 && padH === padW && padH <= 2) {
    // Winograd F(2×2, 3×3): 16 multiplies per 2×2 outputs instead of 36, in the forward pass and in both
    // gradients (the transposes of its transform, over the same tiles); no im2col matrix kept
    path = {
      forward: (_, yp, xp, wp, bp) => be.conv3x3Winograd(yp, xp, wp, bp, N, Cg, H, W, Og, padH, xImage, yImage),
      weightGrad: (_, gw, xp, gy) => be.conv3x3WinogradWeightGrad(gw, xp, gy, N, Cg, H, W, Og, padH, xImage, yImage),
      inputGrad: (_, gx, gy, wp) => be.conv3x3WinogradInputGrad(gx, gy, wp, N, Cg, H, W, Og, padH, yImage, xImage),
      accumulates: { weight: false, input: false },
    };
  } else {
    // im2col + GEMM: cols[n, group] = im2col of that image's group of channels, [N, groups, K, L], kept for
    // the weight gradient; y[n, group] [Og, L] = w[group] [Og, K] · cols[n, group] [K, L] + b[group]
    const cols = empty([N, groups, K, L]);
    const colsAt = (gi: number) => cols.ptr + gi * K * L * 4;
    path = {
      forward: (gi, yp, xp, wp, bp) => be.conv2dForward(yp, xp, wp, bp, colsAt(gi), N, Og, g, xImage, yImage, groups * K * L),
      // gw[group] [Og, K] += gy[n, group] [Og, L] · cols[n, group]ᵀ [L, K] for every n: one call, the batch
      // summed into one C (strideC 0, accumulating)
      weightGrad: (gi, gw, _, gy) => be.matmul(gw, gy, colsAt(gi), {
        batch: N, m: Og, n: K, k: L, transA: false, transB: true, strideA: yImage, strideB: groups * K * L, strideC: 0, accumulate: true,
      }),
      inputGrad: (_, gx, gy, wp) => be.conv2dInputGrad(gx, wp, gy, N, Og, g, yImage, xImage),
      accumulates: { weight: true, input: true },
      keep: cols,
    };
  }
  return convolve(x0, w0, b0, x, w, g, N, O, groups, path);
}

/** One way of running conv2d, group by group (pointers are the group's, images `C·H·W` / `O·L` floats apart). */
interface ConvPath {
  forward(gi: number, y: number, x: number, w: number, bias: number): void;
  weightGrad(gi: number, gw: number, x: number, gy: number): void;
  inputGrad(gi: number, gx: number, gy: number, w: number): void;
  /** which gradient kernels add into a zeroed result (rather than overwrite it) */
  accumulates: { weight: boolean; input: boolean };
  /** a buffer the backward reads (the im2col columns), freed with the graph */
  keep?: Tensor;
}

/**
 * The forward pass group by group and the graph node: the weight and input gradients by the path's
 * kernels, the bias gradient (gy summed over N, H, W) the same for every path.
 */
function convolve(x0: Tensor, w0: Tensor, b0: Tensor | null | undefined, x: Tensor, w: Tensor, g: ConvGeometry,
  N: number, O: number, groups: number, path: ConvPath): Tensor {
  const be = x.backend;
  const C = g.C * groups, L = g.outH * g.outW, Og = O / groups;
  const xGroup = g.C * g.H * g.W * 4, yGroup = Og * L * 4, wGroup = Og * g.C * g.kh * g.kw * 4;
  const b = b0 ? contiguous(b0) : null;
  const y = empty([N, O, g.outH, g.outW]);
  for (let gi = 0; gi < groups; gi++) {
    path.forward(gi, y.ptr + gi * yGroup, x.ptr + gi * xGroup, w.ptr + gi * wGroup, b ? b.ptr + gi * Og * 4 : 0);
  }
  if (b && b0) release(b, b0); // the backward does not read the bias
  const zeroedIf = (zero: boolean, shape: number[]) => (zero ? fullOf(shape, 0) : empty(shape));
  record(y, 'conv2d', b0 ? [x0, w0, b0] : [x0, w0], (gy0) => {
    const gy = contiguous(gy0);
    let gw: Tensor | null = null, gx: Tensor | null = null, gb: Tensor | null = null;
    if (w0.requiresGrad) {
      gw = zeroedIf(path.accumulates.weight, [O, g.C, g.kh, g.kw]);
      for (let gi = 0; gi < groups; gi++) path.weightGrad(gi, gw.ptr + gi * wGroup, x.ptr + gi * xGroup, gy.ptr + gi * yGroup);
    }
    if (x0.requiresGrad) {
      gx = zeroedIf(path.accumulates.input, [N, C, g.H, g.W]);
      for (let gi = 0; gi < groups; gi++) path.inputGrad(gi, gx.ptr + gi * xGroup, gy.ptr + gi * yGroup, w.ptr + gi * wGroup);
    }
    if (b0?.requiresGrad) {
      gb = empty([O]);
      be.biasGradNCHW(gb.ptr, gy.ptr, N, O, L);
    }
    release(gy, gy0);
    return b0 ? [gx, gw, gb] : [gx, gw];
  }, [path.keep ?? null, x !== x0 ? x : null, w !== w0 ? w : null].filter((t): t is Tensor => t !== null));
  if (y.node === null) {
    path.keep?.dispose();
    release(x, x0);
    release(w, w0);
  }
  return y;
}

/**
 * Largest C/groups·kh·kw that convolves directly (no im2col, no GEMM): with few taps the GEMM's k is
 * too short for its packing and tile overheads to pay off (the first layer of an image model).
 */
const DIRECT_MAX_TAPS = 27;

export interface MaxPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
}

function poolGeometry(op: string, x: Tensor, kernelSize: Pair, stride: Pair | null | undefined, padding: Pair, dilation: Pair, ceil: boolean): Pool2dGeometry {
  const [kh, kw] = pair(op, kernelSize, 'kernelSize', 1);
  const [strideH, strideW] = pair(op, stride ?? kernelSize, 'stride', 1);
  const [padH, padW] = pair(op, padding, 'padding', 0);
  const [dilH, dilW] = pair(op, dilation, 'dilation', 1);
  if (padH * 2 > kh || padW * 2 > kw) throw new SimdgradError(`${op}: padding ${padH}×${padW} must be at most half the kernel ${kh}×${kw}`);
  const H = x.shape[2]!, W = x.shape[3]!;
  const outH = outSize(H, kh, padH, strideH, dilH, ceil), outW = outSize(W, kw, padW, strideW, dilW, ceil);
  if (outH < 1 || outW < 1) throw new SimdgradError(`${op}: the window ${kh}×${kw} does not fit the input ${fmtShape(x.shape)}`);
  return { H, W, kh, kw, padH, padW, strideH, strideW, dilH, dilW, outH, outW };
}

/** Max pooling over [N, C, H, W]; stride defaults to the kernel size. */
export function maxPool2d(x0: Tensor, kernelSize: Pair, options: MaxPool2dOptions | number = {}): Tensor {
  checkInput('maxPool2d', x0);
  const opts = typeof options === 'number' ? { stride: options } : options;
  const g = poolGeometry('maxPool2d', x0, kernelSize, opts.stride, opts.padding ?? 0, opts.dilation ?? 1, opts.ceilMode ?? false);
  const [N, C] = x0.shape as [number, number];
  const x = contiguous(x0);
  const planes = N * C;
  const y = empty([N, C, g.outH, g.outW]);
  const argmax = empty([N, C, g.outH, g.outW], 'int32');
  x.backend.maxPool2d(y.ptr, argmax.ptr, x.ptr, planes, g);
  release(x, x0);
  record(y, 'maxPool2d', [x0], (gy0) => {
    const gy = contiguous(gy0);
    const gx = empty(x0.shape);
    gx.backend.maxPool2dGradSet(gx.ptr, gy.ptr, argmax.ptr, planes, g);
    release(gy, gy0);
    return [gx];
  }, [argmax]);
  if (y.node === null) argmax.dispose();
  return y;
}

export interface AvgPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

/** Average pooling over [N, C, H, W]; stride defaults to the kernel size. */
export function avgPool2d(x0: Tensor, kernelSize: Pair, options: AvgPool2dOptions | number = {}): Tensor {
  checkInput('avgPool2d', x0);
  const opts = typeof options === 'number' ? { stride: options } : options;
  const g = poolGeometry('avgPool2d', x0, kernelSize, opts.stride, opts.padding ?? 0, 1, opts.ceilMode ?? false);
  const include = opts.countIncludePad ?? true;
  const [N, C] = x0.shape as [number, number];
  const x = contiguous(x0);
  const y = empty([N, C, g.outH, g.outW]);
  x.backend.avgPool2d(y.ptr, x.ptr, N * C, g, include);
  release(x, x0);
  return record(y, 'avgPool2d', [x0], (gy0) => {
    const gy = contiguous(gy0);
    const gx = fullOf(x0.shape, 0);
    gx.backend.avgPool2dGrad(gx.ptr, gy.ptr, N * C, g, include);
    release(gy, gy0);
    return [gx];
  });
}

/** Adaptive average pooling to an output size (windows as PyTorch: floor(i·H/oh) … ceil((i+1)·H/oh)). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  checkInput('adaptiveAvgPool2d', x);
  const [oh, ow] = pair('adaptiveAvgPool2d', outputSize, 'outputSize', 1);
  const H = x.shape[2]!, W = x.shape[3]!;
  if (oh === 1 && ow === 1) return x.mean([2, 3], true);
  if (H % oh === 0 && W % ow === 0) return avgPool2d(x, [H / oh, W / ow]);
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const h0 = Math.floor((i * H) / oh), h1 = Math.ceil(((i + 1) * H) / oh);
    const cells: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const w0 = Math.floor((j * W) / ow), w1 = Math.ceil(((j + 1) * W) / ow);
      cells.push(x.slice(2, h0, h1).slice(3, w0, w1).mean([2, 3], true));
    }
    rows.push(cat(cells, 3));
  }
  return cat(rows, 2);
}
