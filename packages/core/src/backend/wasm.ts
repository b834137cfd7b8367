import { BinaryOp, ReduceOp, UnaryOp, loadKernels, type KernelBuild, type KernelExports } from '@simdgrad/kernels';
import type { Backend, BinaryOpName, DType, MatmulArgs, ReduceOpName, UnaryOpName } from './backend.js';
import { Heap } from './heap.js';
import { SimdgradError } from '../errors.js';
import { collapseDims } from './strides.js';
import type { AvgPool2dGeometry, ConvGeometry, Pool2dGeometry } from './backend.js';

/** Most dims an op may have after collapsing (the meta block holds 4 arrays of this many i32s). */
const MAX_DIMS = 32;

export interface WasmBackendOptions {
  relaxed?: boolean | 'auto';
  /** Initial memory in 64 KiB pages (default 256 = 16 MiB). */
  initialPages?: number;
  /** Growth limit in pages (default 65536 = 4 GiB). */
  maximumPages?: number;
}

/** The backend that runs the WebAssembly SIMD kernels. Create it with {@link createWasmBackend}. */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly heap: Heap;
  readonly build: KernelBuild;
  private readonly k: KernelExports;
  /** A small block for shapes/strides passed to the broadcasting kernels. */
  private readonly meta: number;

  constructor(k: KernelExports, heap: Heap, build: KernelBuild) {
    this.k = k;
    this.heap = heap;
    this.build = build;
    this.meta = heap.alloc(4 * 4 * MAX_DIMS);
  }

  /** Writes the blocks into the meta area and returns its pointer. */
  private writeMeta(blocks: readonly (readonly number[])[]): number {
    const i32 = this.heap.views().i32;
    let p = this.meta >> 2;
    for (const block of blocks) {
      for (const v of block) i32[p++] = v;
    }
    return this.meta;
  }

  unary(op: UnaryOpName, out: number, x: number, n: number, p0 = 0, p1 = 0): void {
    this.k.unaryF32(UnaryOp[op], out, x, n, p0, p1);
  }

  unaryGrad(op: UnaryOpName, gx: number, x: number, y: number, gy: number, n: number, p0 = 0, p1 = 0): void {
    this.k.unaryGradF32(UnaryOp[op], gx, x, y, gy, n, p0, p1);
  }

  binary(op: BinaryOpName, out: number, a: number, b: number, shape: readonly number[],
    stridesA: readonly number[], stridesB: readonly number[]): void {
    const c = collapseDims(shape, [stridesA, stridesB]);
    const [sa, sb] = c.strides as [number[], number[]];
    if (c.shape.length === 1 && sa[0] === 1 && sb[0] === 1) {
      this.k.binaryF32(BinaryOp[op], out, a, b, c.shape[0]!);
      return;
    }
    checkDims(c.shape.length);
    this.k.binaryBcastF32(BinaryOp[op], out, a, b, this.writeMeta([c.shape, sa, sb]), c.shape.length);
  }

  where(out: number, cond: number, a: number, b: number, shape: readonly number[],
    stridesCond: readonly number[], stridesA: readonly number[], stridesB: readonly number[]): void {
    const c = collapseDims(shape, [stridesCond, stridesA, stridesB]);
    checkDims(c.shape.length);
    this.k.whereF32(out, cond, a, b, this.writeMeta([c.shape, ...c.strides]), c.shape.length);
  }

  reduce(op: ReduceOpName, out: number, x: number, outer: number, len: number, inner: number): void {
    this.k.reduceF32(ReduceOp[op], out, x, outer, len, inner);
  }

  argReduce(op: 'argmax' | 'argmin', out: number, x: number, outer: number, len: number, inner: number): void {
    this.k.argReduceF32(op === 'argmax' ? 0 : 1, out, x, outer, len, inner);
  }

  softmax(out: number, x: number, rows: number, cols: number): void {
    this.k.softmaxF32(out, x, rows, cols);
  }

  logSoftmax(out: number, x: number, rows: number, cols: number): void {
    this.k.logSoftmaxF32(out, x, rows, cols);
  }

  softmaxGrad(gx: number, y: number, gy: number, rows: number, cols: number): void {
    this.k.softmaxGradF32(gx, y, gy, rows, cols);
  }

  logSoftmaxGrad(gx: number, y: number, gy: number, rows: number, cols: number): void {
    this.k.logSoftmaxGradF32(gx, y, gy, rows, cols);
  }

  matmul(c: number, a: number, b: number, args: MatmulArgs): void {
    const { batch, m, n, k } = args;
    const scratchBytes = this.k.matmulScratchBytes(m, n, k);
    const scratch = scratchBytes > 0 ? this.heap.alloc(scratchBytes) : 0;
    try {
      this.k.matmulF32(c, a, b, scratch, batch, m, n, k, args.transA ? 1 : 0, args.transB ? 1 : 0,
        args.strideA, args.strideB, args.strideC, args.accumulate ? 1 : 0);
    } finally {
      if (scratch !== 0) this.heap.free(scratch);
    }
  }

  fill(dtype: DType, out: number, n: number, value: number): void {
    if (dtype === 'int32') this.k.fillI32(out, n, value);
    else this.k.fillF32(out, n, value);
  }

  copy(dst: number, src: number, nbytes: number): void {
    if (nbytes > 0 && dst !== src) this.k.copyBytes(dst, src, nbytes);
  }

  stridedCopy(dst: number, src: number, shape: readonly number[], strides: readonly number[]): void {
    const c = collapseDims(shape, [strides]);
    const s = c.strides[0]!;
    if (c.shape.length === 1 && s[0] === 1) {
      this.copy(dst, src, c.shape[0]! * 4);
      return;
    }
    checkDims(c.shape.length);
    this.k.stridedCopy32(dst, src, this.writeMeta([c.shape, s]), c.shape.length);
  }

  copyStrided(dst: number, src: number, shape: readonly number[], dstStrides: readonly number[], srcStrides: readonly number[]): void {
    const c = collapseDims(shape, [dstStrides, srcStrides]);
    const [sd, ss] = c.strides as [number[], number[]];
    if (c.shape.length === 1 && sd[0] === 1 && ss[0] === 1) {
      this.copy(dst, src, c.shape[0]! * 4);
      return;
    }
    checkDims(c.shape.length);
    this.k.copyStrided32(dst, src, this.writeMeta([c.shape, sd, ss]), c.shape.length);
  }

  cast(from: DType, to: DType, dst: number, src: number, n: number): void {
    if (from === to) this.copy(dst, src, n * 4);
    else if (from === 'int32') this.k.castI32ToF32(dst, src, n);
    else this.k.castF32ToI32(dst, src, n);
  }

  indexSelect(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void {
    this.k.indexSelect32(out, x, idx, outer, len, inner, nidx);
  }

  indexAdd(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void {
    this.k.indexAddF32(gx, idx, gy, outer, len, inner, nidx);
  }

  gather(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void {
    this.k.gather32(out, x, idx, outer, len, inner, nidx);
  }

  scatterAdd(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void {
    this.k.scatterAddF32(gx, idx, gy, outer, len, inner, nidx);
  }

  findOutOfRange(idx: number, n: number, hi: number): number {
    return this.k.findOutOfRangeI32(idx, n, hi);
  }

  countNonFinite(x: number, n: number): number {
    return this.k.countNonFiniteF32(x, n);
  }

  im2col(col: number, x: number, g: ConvGeometry): void {
    this.k.im2colF32(col, x, g.C, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW, g.dilH, g.dilW, g.outH, g.outW);
  }

  col2im(x: number, col: number, g: ConvGeometry): void {
    this.k.col2imF32(x, col, g.C, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW, g.dilH, g.dilW, g.outH, g.outW);
  }

  maxPool2d(out: number, argmax: number, x: number, planes: number, g: Pool2dGeometry): void {
    this.k.maxPool2dF32(out, argmax, x, planes, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW,
      g.dilH, g.dilW, g.outH, g.outW);
  }

  maxPool2dGrad(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void {
    this.k.maxPool2dGradF32(gx, gy, argmax, planes, g.H, g.W, g.outH, g.outW);
  }

  avgPool2d(out: number, x: number, planes: number, g: AvgPool2dGeometry, countIncludePad: boolean): void {
    this.k.avgPool2dF32(out, x, planes, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW,
      countIncludePad ? 1 : 0, g.outH, g.outW);
  }

  avgPool2dGrad(gx: number, gy: number, planes: number, g: AvgPool2dGeometry, countIncludePad: boolean): void {
    this.k.avgPool2dGradF32(gx, gy, planes, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW,
      countIncludePad ? 1 : 0, g.outH, g.outW);
  }

  addBiasNCHW(y: number, bias: number, N: number, C: number, HW: number): void {
    this.k.addBiasNCHWF32(y, bias, N, C, HW);
  }

  biasGradNCHW(gb: number, gy: number, N: number, C: number, HW: number): void {
    this.k.biasGradNCHWF32(gb, gy, N, C, HW);
  }

  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, firstStep: boolean, maximize: boolean): void {
    this.k.sgdStepF32(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, maximize ? 1 : 0);
  }

  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: boolean, amsgrad: boolean, biasCorrection1: number,
    biasCorrection2: number, maximize: boolean): void {
    this.k.adamStepF32(p, g, m, v, vmax, n, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, amsgrad ? 1 : 0,
      biasCorrection1, biasCorrection2, maximize ? 1 : 0);
  }

  rmspropStep(p: number, g: number, squareAvg: number, gradAvg: number, buf: number, n: number, lr: number, alpha: number,
    eps: number, weightDecay: number, momentum: number, centered: boolean, maximize: boolean): void {
    this.k.rmspropStepF32(p, g, squareAvg, gradAvg, buf, n, lr, alpha, eps, weightDecay, momentum, centered ? 1 : 0, maximize ? 1 : 0);
  }

  adagradStep(p: number, g: number, sum: number, n: number, clr: number, weightDecay: number, eps: number, maximize: boolean): void {
    this.k.adagradStepF32(p, g, sum, n, clr, weightDecay, eps, maximize ? 1 : 0);
  }

  normPartial(x: number, n: number, normType: number): number {
    return this.k.normPartialF32(x, n, normType);
  }
}

function checkDims(ndim: number): void {
  if (ndim > MAX_DIMS) throw new SimdgradError(`op: at most ${MAX_DIMS} non-trivial dims are supported (got ${ndim})`);
}

/** Loads the kernels on a fresh memory and returns the backend over it. */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const maximum = options.maximumPages ?? 65536;
  const memory = new WebAssembly.Memory({ initial: Math.min(options.initialPages ?? 256, maximum), maximum });
  const loaded = await loadKernels({ memory, relaxed: options.relaxed ?? 'auto' });
  const heap = new Heap(memory, loaded.exports.heapBase(), maximum);
  return new WasmBackend(loaded.exports, heap, loaded.build);
}
