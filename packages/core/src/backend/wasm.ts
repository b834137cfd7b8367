import { BinaryOp, ReduceOp, UnaryOp, loadKernels, type KernelBuild, type KernelExports } from '@simdgrad/kernels';
import type { Backend, BinaryOpName, DType, MatmulArgs, ReduceOpName, UnaryOpName } from './backend.js';
import { Heap } from './heap.js';
import { AUTO_MAX_THREADS, DEFAULT_SPIN_MICROS, ThreadPool, hardwareThreads, threadSupport, type PoolKernel } from './pool.js';
import { SimdgradError } from '../errors.js';
import { collapseDims } from './strides.js';
import type { AvgPool2dGeometry, ConvGeometry, Pool2dGeometry } from './backend.js';
import type { AttentionArgs } from './backend.js';

/** Most dims an op may have after collapsing (the meta block holds 4 arrays of this many i32s). */
const MAX_DIMS = 32;

/** A matmul runs on the pool when batch·m·n·k reaches this (64³: below it, waking threads costs more than it saves). */
const PAR_MATMUL_MIN = 64 * 64 * 64;
/** `bytes` rounded up to a multiple of 16 (scratch blocks of several shares stay 16-byte aligned). */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
/** Elementwise kernels (unary, unary gradient, contiguous binary, fill, copy) split from this many elements. */
const PAR_ELEMENTWISE_MIN = 1 << 16;
/** Fused optimizer steps (several streams and a division per element) split from this many elements. */
const PAR_OPTIM_MIN = 1 << 15;
/** Elementwise shares start on multiples of this many elements (64 bytes: whole SIMD vectors, whole cache lines). */
const PAR_ALIGN = 16;
/** Rows of C per matmul share are a multiple of the micro-kernel's tile height. */
const MATMUL_MR = 4;

export interface WasmBackendOptions {
  relaxed?: boolean | 'auto';
  /** Initial memory in 64 KiB pages (default 256 = 16 MiB). */
  initialPages?: number;
  /** Growth limit in pages (default 65536 = 4 GiB). */
  maximumPages?: number;
  /**
   * Threads for the kernels (default 1). n > 1 puts the heap on a shared memory, loads the
   * shared-memory kernel build and starts n − 1 workers (Node worker_threads, or Web Workers where the
   * page is cross-origin isolated); 'auto' = min(2, logical CPUs) where threads can run, else 1. When
   * threads cannot run, the backend stays single-threaded and `threadsNote` says why.
   */
  threads?: number | 'auto';
  /** Busy-wait of the threads before they sleep, in µs (default 200). */
  spinMicros?: number;
}

/** The backend that runs the WebAssembly SIMD kernels. Create it with {@link createWasmBackend}. */
export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly heap: Heap;
  readonly build: KernelBuild;
  private readonly k: KernelExports;
  /** A small block for shapes/strides passed to the broadcasting kernels. */
  private readonly meta: number;
  private pool: ThreadPool | null;
  /** Threads the caller allows (≤ pool workers + 1); see {@link useThreads}. */
  private maxThreads: number;
  private note: string | undefined;

  /**
   * @param pool optional worker pool over the same (shared) memory; the backend then splits big kernels
   * @param threadsNote why the backend runs on one thread (shown by backendInfo())
   */
  constructor(k: KernelExports, heap: Heap, build: KernelBuild, pool: ThreadPool | null = null, threadsNote?: string) {
    this.k = k;
    this.heap = heap;
    this.build = build;
    this.meta = heap.alloc(4 * 4 * MAX_DIMS);
    this.pool = pool;
    this.maxThreads = pool ? pool.workers + 1 : 1;
    this.note = threadsNote;
  }

  /** Threads the kernels run on (1 = no pool, or limited by {@link useThreads}). */
  get threads(): number {
    return this.pool ? Math.min(this.maxThreads, this.pool.workers + 1) : 1;
  }

  /** Why the kernels run on one thread, when they do (undefined otherwise). */
  get threadsNote(): string | undefined {
    if (this.threads > 1) return undefined;
    if (this.pool) return `single-threaded by choice (useThreads(1)); the pool has ${this.pool.workers + 1} threads`;
    return this.note ?? 'single-threaded (threads: 1; pass init({ threads: 2 }) or \'auto\' for the worker pool)';
  }

  /**
   * Uses at most `n` threads from now on (1 = the caller only), within the pool's size; returns the
   * count in use. Results do not depend on it: each output element is computed by one thread, the same way.
   */
  useThreads(n: number): number {
    this.maxThreads = Math.max(1, Math.floor(n));
    return this.threads;
  }

  /** Stops the worker pool (the backend keeps working on one thread). Idempotent. */
  async shutdown(): Promise<void> {
    const pool = this.pool;
    if (!pool) return;
    this.pool = null;
    this.maxThreads = 1;
    this.note = 'single-threaded: the thread pool was shut down';
    await pool.shutdown();
  }

  /**
   * Splits `n` elements of `kernel` over the pool (shares on PAR_ALIGN-element boundaries): `args` is
   * the caller's full argument list, `nIndex` where the count goes, `ptrs` the indices of pointers to
   * advance (a 0 pointer means "absent" and stays 0). Returns false when the work stays on one thread.
   */
  private splitElements(kernel: PoolKernel, n: number, min: number, args: number[], nIndex: number, ptrs: readonly number[],
    bytesPerElement = 4): boolean {
    if (this.pool === null || this.threads < 2 || n < min) return false;
    const chunk = Math.ceil(Math.ceil(n / this.threads) / PAR_ALIGN) * PAR_ALIGN;
    this.runShares(kernel, n, chunk, args, { count: nIndex, advance: ptrs.map((i) => [i, bytesPerElement] as const) });
    return true;
  }

  /**
   * Units per thread's share when `total` units (images, planes, channels) of ≈ `work` multiply-adds go
   * over the pool in multiples of `align` units; `total` (one share) when they stay on one thread.
   */
  private shareSize(total: number, work: number, align = 1): number {
    if (this.pool === null || this.threads < 2 || total < 2 * align || work < PAR_MATMUL_MIN) return total;
    return Math.ceil(total / this.threads / align) * align;
  }

  /**
   * Runs `kernel` over `total` units in shares of `per` (see shareSize): the first on the caller, the
   * others on the workers. `args` is the caller's full argument list; `how` says how a share's differ
   * (see ShareArgs). Every unit is computed the same way whatever the split, so results do not depend
   * on the thread count.
   */
  private runShares(kernel: PoolKernel, total: number, per: number, args: number[], how: ShareArgs): void {
    const pool = this.pool;
    const shares = Math.max(1, Math.ceil(total / per));
    const scratchBytes = how.scratch ? align16(how.scratch[1]) : 0;
    const scratch = how.scratch ? this.heap.alloc(scratchBytes * shares) : 0;
    const place = (a: { [i: number]: number }, share: number): void => {
      const start = share * per, len = Math.min(per, total - start);
      if (how.count !== undefined) a[how.count] = len;
      if (how.range !== undefined) {
        a[how.range] = start;
        a[how.range + 1] = start + len;
      }
      for (const [i, bytes] of how.advance ?? []) if (args[i] !== 0) a[i] = args[i]! + start * bytes;
      if (how.scratch) a[how.scratch[0]] = scratch + share * scratchBytes;
    };
    let posted = 0;
    try {
      for (let share = 1; share < shares; share++) {
        const a = pool!.args(posted);
        for (let i = 0; i < args.length; i++) a[i] = args[i]!;
        place(a, share);
        pool!.post(posted++, kernel);
      }
      const own = args.slice();
      place(own, 0);
      Reflect.apply(this.k[kernel], undefined, own);
    } finally {
      if (posted > 0) pool!.wait();
      if (scratch !== 0) this.heap.free(scratch);
    }
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
    if (this.pool !== null && this.splitElements('unaryF32', n, PAR_ELEMENTWISE_MIN, [UnaryOp[op], out, x, n, p0, p1], 3, [1, 2])) return;
    this.k.unaryF32(UnaryOp[op], out, x, n, p0, p1);
  }

  unaryGrad(op: UnaryOpName, gx: number, x: number, y: number, gy: number, n: number, p0 = 0, p1 = 0): void {
    if (this.pool !== null && this.splitElements('unaryGradF32', n, PAR_ELEMENTWISE_MIN,
      [UnaryOp[op], gx, x, y, gy, n, p0, p1], 5, [1, 2, 3, 4])) return;
    this.k.unaryGradF32(UnaryOp[op], gx, x, y, gy, n, p0, p1);
  }

  binary(op: BinaryOpName, out: number, a: number, b: number, shape: readonly number[],
    stridesA: readonly number[], stridesB: readonly number[]): void {
    const c = collapseDims(shape, [stridesA, stridesB]);
    const [sa, sb] = c.strides as [number[], number[]];
    if (c.shape.length === 1 && sa[0] === 1 && sb[0] === 1) {
      const n = c.shape[0]!;
      if (this.pool !== null && this.splitElements('binaryF32', n, PAR_ELEMENTWISE_MIN, [BinaryOp[op], out, a, b, n], 4, [1, 2, 3])) return;
      this.k.binaryF32(BinaryOp[op], out, a, b, n);
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
    if (this.pool !== null && this.threads > 1 && batch * m * n * k >= PAR_MATMUL_MIN && this.matmulParallel(c, a, b, args)) return;
    const scratchBytes = this.k.matmulScratchBytes(m, n, k);
    const scratch = scratchBytes > 0 ? this.heap.alloc(scratchBytes) : 0;
    try {
      this.k.matmulF32(c, a, b, scratch, batch, m, n, k, args.transA ? 1 : 0, args.transB ? 1 : 0,
        args.strideA, args.strideB, args.strideC, args.accumulate ? 1 : 0);
    } finally {
      if (scratch !== 0) this.heap.free(scratch);
    }
  }

  /**
   * The matmul split over the pool: whole problems of the batch when the batch divides evenly (or the
   * matrices are too short to split), else rows of every C in multiples of the 4-row micro-tile. Each
   * share has its own packing scratch; each element of C is computed by one thread exactly as on one
   * thread (the kernel's k-blocking does not depend on the rows). False: not worth splitting.
   */
  private matmulParallel(c: number, a: number, b: number, args: MatmulArgs): boolean {
    const T = this.threads;
    const { batch, m, n, k, strideA, strideB, strideC } = args;
    const ta = args.transA ? 1 : 0, tb = args.transB ? 1 : 0, acc = args.accumulate ? 1 : 0;
    // NOTE: strideC = 0 sums every product into one C (a reduction over the batch): only rows may split
    const byBatch = strideC !== 0 && batch >= T && (batch % T === 0 || m < 4 * MATMUL_MR * T);
    if (!byBatch && m < 2 * MATMUL_MR * T) return false;
    const kernelArgs = [c, a, b, 0, batch, m, n, k, ta, tb, strideA, strideB, strideC, acc, 0, m];
    if (byBatch) {
      this.runShares('matmulF32', batch, Math.ceil(batch / T), kernelArgs, {
        count: 4, advance: [[0, strideC * 4], [1, strideA * 4], [2, strideB * 4]], scratch: [3, this.k.matmulScratchBytes(m, n, k)],
      });
    } else {
      const per = Math.ceil(Math.ceil(m / T) / MATMUL_MR) * MATMUL_MR;
      this.runShares('matmulRowsF32', m, per, kernelArgs, { range: 14, scratch: [3, this.k.matmulScratchBytes(per, n, k)] });
    }
    return true;
  }

  fill(dtype: DType, out: number, n: number, value: number): void {
    if (dtype === 'int32') this.k.fillI32(out, n, value);
    else if (this.pool === null || !this.splitElements('fillF32', n, PAR_ELEMENTWISE_MIN, [out, n, value], 1, [0])) {
      this.k.fillF32(out, n, value);
    }
  }

  copy(dst: number, src: number, nbytes: number): void {
    if (nbytes <= 0 || dst === src) return;
    // only disjoint copies split (a memmove of overlapping blocks must run in one order)
    if (this.pool !== null && Math.abs(dst - src) >= nbytes &&
      this.splitElements('copyBytes', nbytes, PAR_ELEMENTWISE_MIN * 4, [dst, src, nbytes], 2, [0, 1], 1)) return;
    this.k.copyBytes(dst, src, nbytes);
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

  conv2dDirect(y: number, x: number, w: number, bias: number, N: number, O: number, g: ConvGeometry, xImage: number, yImage: number): void {
    const args = [y, x, w, bias, N, g.C, g.H, g.W, O, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW, g.dilH, g.dilW,
      g.outH, g.outW, xImage, yImage];
    // threads split the images
    const work = N * O * g.outH * g.outW * g.C * g.kh * g.kw;
    this.runShares('conv2dDirectF32', N, this.shareSize(N, work), args, { count: 4, advance: [[0, yImage * 4], [1, xImage * 4]] });
  }

  conv2dWeightGradDirect(gw: number, gy: number, x: number, N: number, O: number, g: ConvGeometry, xImage: number, yImage: number): void {
    const args = [gw, gy, x, N, g.C, g.H, g.W, O, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW, g.dilH, g.dilW,
      g.outH, g.outW, xImage, yImage];
    // threads split the output channels in fours (the kernel pairs channels: the same pairs, the same bits)
    const K = g.C * g.kh * g.kw, L = g.outH * g.outW;
    this.runShares('conv2dWeightGradDirectF32', O, this.shareSize(O, N * O * L * K, 4), args, { count: 7, advance: [[0, K * 4], [1, L * 4]] });
  }

  conv2dColsGemm(y: number, w: number, cols: number, bias: number, N: number, O: number, K: number, L: number,
    colsImage: number, yImage: number, transW = false): void {
    if (this.pool !== null && this.threads > 1 && N * O * K * L >= PAR_MATMUL_MIN) {
      // on the pool: the batched matmul (split over images or rows), then the bias
      this.matmul(y, w, cols, {
        batch: N, m: O, n: L, k: K, transA: transW, transB: false, strideA: 0, strideB: colsImage, strideC: yImage, accumulate: false,
      });
      if (bias !== 0) for (let n = 0; n < N; n++) this.k.addBiasNCHWF32(y + n * yImage * 4, bias, 1, O, L);
      return;
    }
    const scratch = this.heap.alloc(this.k.conv2dColsGemmScratchBytes(O, K));
    try {
      this.k.conv2dColsGemmF32(y, w, cols, bias, scratch, N, O, K, L, colsImage, yImage, transW ? 1 : 0);
    } finally {
      this.heap.free(scratch);
    }
  }

  conv2dForward(y: number, x: number, w: number, bias: number, cols: number, N: number, O: number, g: ConvGeometry,
    xImage: number, yImage: number, colsImage: number): void {
    const K = g.C * g.kh * g.kw, L = g.outH * g.outW;
    if (this.pool !== null && this.threads > 1 && N * O * K * L >= PAR_MATMUL_MIN) {
      // on the pool: every image's im2col, then the batched GEMM split over the threads
      for (let n = 0; n < N; n++) this.im2col(cols + n * colsImage * 4, x + n * xImage * 4, g);
      this.conv2dColsGemm(y, w, cols, bias, N, O, K, L, colsImage, yImage);
      return;
    }
    const scratch = this.heap.alloc(this.k.conv2dColsGemmScratchBytes(O, K));
    try {
      this.k.conv2dForwardF32(y, x, w, bias, cols, scratch, N, g.C, g.H, g.W, O, g.kh, g.kw, g.padH, g.padW, g.strideH,
        g.strideW, g.dilH, g.dilW, g.outH, g.outW, xImage, yImage, colsImage);
    } finally {
      this.heap.free(scratch);
    }
  }

  conv2dInputGrad(gx: number, w: number, gy: number, N: number, O: number, g: ConvGeometry, gyImage: number, gxImage: number): void {
    const K = g.C * g.kh * g.kw, L = g.outH * g.outW;
    if (this.pool !== null && this.threads > 1 && N * O * K * L >= PAR_MATMUL_MIN) {
      // on the pool: the batch's gcol through the (split) matmul, then col2im image by image
      const gcol = this.heap.alloc(N * K * L * 4);
      try {
        this.conv2dColsGemm(gcol, w, gy, 0, N, K, O, L, gyImage, K * L, true);
        for (let n = 0; n < N; n++) this.col2im(gx + n * gxImage * 4, gcol + n * K * L * 4, g);
      } finally {
        this.heap.free(gcol);
      }
      return;
    }
    const scratch = this.heap.alloc(this.k.conv2dInputGradScratchBytes(K, O, L));
    try {
      this.k.conv2dInputGradF32(gx, w, gy, scratch, N, g.C, g.H, g.W, O, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW,
        g.dilH, g.dilW, g.outH, g.outW, gyImage, gxImage);
    } finally {
      this.heap.free(scratch);
    }
  }

  conv3x3Winograd(y: number, x: number, w: number, bias: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, xImage: number, yImage: number): void {
    const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
    if (N <= 0 || outH <= 0 || outW <= 0) return;
    // threads split the images
    const per = this.shareSize(N, N * Cin * Cout * outH * outW * 9);
    this.runShares('conv3x3WinogradF32', N, per, [y, x, w, bias, 0, N, Cin, H, W, Cout, pad, xImage, yImage], {
      count: 5, advance: [[0, yImage * 4], [1, xImage * 4]], scratch: [4, this.k.conv3x3WinogradScratchBytes(per, Cin, Cout, outH, outW)],
    });
  }

  conv3x3WinogradInputGrad(gx: number, gy: number, w: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, gyImage: number, gxImage: number): void {
    const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
    if (N <= 0) return;
    // threads split the images
    const per = this.shareSize(N, N * Cin * Cout * Math.max(outH * outW, 0) * 9);
    this.runShares('conv3x3WinogradInputGradF32', N, per, [gx, gy, w, 0, N, Cin, H, W, Cout, pad, gyImage, gxImage], {
      count: 4, advance: [[0, gxImage * 4], [1, gyImage * 4]], scratch: [3, this.k.conv3x3WinogradInputGradScratchBytes(per, Cin, Cout, outH, outW)],
    });
  }

  conv3x3WinogradWeightGrad(gw: number, x: number, gy: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, xImage: number, gyImage: number): void {
    const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
    const plane = Math.max(outH * outW, 0);
    // threads split the output channels, in fours (the kernel's image chunks do not depend on Cout: same bits)
    const per = this.shareSize(Cout, N * Cin * Cout * plane * 9, 4);
    this.runShares('conv3x3WinogradWeightGradF32', Cout, per, [gw, x, gy, 0, N, Cin, H, W, Cout, pad, xImage, gyImage], {
      count: 8, advance: [[0, Cin * 9 * 4], [2, plane * 4]], scratch: [3, this.k.conv3x3WinogradWeightGradScratchBytes(N, Cin, per, outH, outW)],
    });
  }

  maxPool2d(out: number, argmax: number, x: number, planes: number, g: Pool2dGeometry): void {
    const args = [out, argmax, x, planes, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW, g.dilH, g.dilW, g.outH, g.outW];
    // threads split the planes (argmax indexes within a plane)
    const L = g.outH * g.outW;
    this.runShares('maxPool2dF32', planes, this.shareSize(planes, planes * L * g.kh * g.kw), args,
      { count: 3, advance: [[0, L * 4], [1, L * 4], [2, g.H * g.W * 4]] });
  }

  maxPool2dGrad(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void {
    this.k.maxPool2dGradF32(gx, gy, argmax, planes, g.H, g.W, g.outH, g.outW);
  }

  maxPool2dGradSet(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void {
    const args = [gx, gy, argmax, planes, g.H, g.W, g.kh, g.kw, g.padH, g.padW, g.strideH, g.strideW, g.dilH, g.dilW, g.outH, g.outW];
    const L = g.outH * g.outW;
    this.runShares('maxPool2dGradSetF32', planes, this.shareSize(planes, planes * g.H * g.W * 4), args,
      { count: 3, advance: [[0, g.H * g.W * 4], [1, L * 4], [2, L * 4]] });
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
    if (this.pool !== null && this.splitElements('sgdStepF32', n, PAR_OPTIM_MIN, [p, g, buf, n, lr, momentum, dampening,
      weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, maximize ? 1 : 0], 3, [0, 1, 2])) return;
    this.k.sgdStepF32(p, g, buf, n, lr, momentum, dampening, weightDecay, nesterov ? 1 : 0, firstStep ? 1 : 0, maximize ? 1 : 0);
  }

  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: boolean, amsgrad: boolean, biasCorrection1: number,
    biasCorrection2: number, maximize: boolean): void {
    if (this.pool !== null && this.splitElements('adamStepF32', n, PAR_OPTIM_MIN, [p, g, m, v, vmax, n, lr, beta1, beta2, eps,
      weightDecay, decoupled ? 1 : 0, amsgrad ? 1 : 0, biasCorrection1, biasCorrection2, maximize ? 1 : 0], 5, [0, 1, 2, 3, 4])) return;
    this.k.adamStepF32(p, g, m, v, vmax, n, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, amsgrad ? 1 : 0,
      biasCorrection1, biasCorrection2, maximize ? 1 : 0);
  }

  rmspropStep(p: number, g: number, squareAvg: number, gradAvg: number, buf: number, n: number, lr: number, alpha: number,
    eps: number, weightDecay: number, momentum: number, centered: boolean, maximize: boolean): void {
    if (this.pool !== null && this.splitElements('rmspropStepF32', n, PAR_OPTIM_MIN, [p, g, squareAvg, gradAvg, buf, n, lr, alpha,
      eps, weightDecay, momentum, centered ? 1 : 0, maximize ? 1 : 0], 5, [0, 1, 2, 3, 4])) return;
    this.k.rmspropStepF32(p, g, squareAvg, gradAvg, buf, n, lr, alpha, eps, weightDecay, momentum, centered ? 1 : 0, maximize ? 1 : 0);
  }

  adagradStep(p: number, g: number, sum: number, n: number, clr: number, weightDecay: number, eps: number, maximize: boolean): void {
    if (this.pool !== null && this.splitElements('adagradStepF32', n, PAR_OPTIM_MIN, [p, g, sum, n, clr, weightDecay, eps,
      maximize ? 1 : 0], 3, [0, 1, 2])) return;
    this.k.adagradStepF32(p, g, sum, n, clr, weightDecay, eps, maximize ? 1 : 0);
  }

  normPartial(x: number, n: number, normType: number): number {
    return this.k.normPartialF32(x, n, normType);
  }

  // ---- audio ------------------------------------------------------------------------------------
  /** rfft plans by nFft, made on first use and kept for the backend's life (a few KiB each). */
  private readonly rfftPlans = new Map<number, number>();

  frameSignal(out: number, x: number, rows: number, n: number, frameLength: number, hop: number, nFrames: number,
    pad: number, padMode: 'constant' | 'reflect', window: number): void {
    this.k.frameF32(out, x, rows, n, frameLength, hop, nFrames, pad, padMode === 'reflect' ? 1 : 0, window);
  }

  rfft(out: number, x: number, rows: number, nFft: number): void {
    let plan = this.rfftPlans.get(nFft);
    if (plan === undefined) {
      plan = this.heap.alloc(this.k.rfftPlanBytes(nFft));
      this.k.rfftPlanF32(plan, nFft);
      this.rfftPlans.set(nFft, plan);
    }
    const scratch = this.heap.alloc(this.k.rfftScratchBytes(nFft));
    try {
      this.k.rfftF32(out, x, rows, nFft, plan, scratch);
    } finally {
      this.heap.free(scratch);
    }
  }

  complexPower(out: number, z: number, n: number, power: 1 | 2): void {
    this.k.complexPowerF32(out, z, n, power);
  }

  deltas(out: number, x: number, rows: number, T: number, N: number): void {
    this.k.deltasF32(out, x, rows, T, N);
  }

  // ---- attention --------------------------------------------------------------------------------
  // Threads split the problems (batch · heads): each problem is computed by one thread, whole.

  attention(out: number, lse: number, q: number, k: number, v: number, args: AttentionArgs): void {
    const per = this.shareSize(args.batch, args.batch * args.l * args.s * (args.e + args.ev));
    const meta = this.attentionMeta(args);
    try {
      this.runShares('attentionF32', args.batch, per, [out, lse, q, k, v, args.mask, meta, 0, 0, args.batch, args.l, args.s,
        args.e, args.ev, args.scale, args.causalOffset], { range: 8, scratch: [7, this.k.attentionScratchBytes(args.e, args.ev)] });
    } finally {
      if (meta !== 0) this.heap.free(meta);
    }
  }

  attentionGrad(dq: number, dk: number, dv: number, q: number, k: number, v: number, out: number, dout: number,
    lse: number, args: AttentionArgs): void {
    const per = this.shareSize(args.batch, 2 * args.batch * args.l * args.s * (args.e + args.ev));
    const meta = this.attentionMeta(args);
    try {
      this.runShares('attentionGradF32', args.batch, per, [dq, dk, dv, q, k, v, out, dout, lse, args.mask, meta, 0, 0,
        args.batch, args.l, args.s, args.e, args.ev, args.scale, args.causalOffset],
      { range: 12, scratch: [11, this.k.attentionScratchBytes(args.e, args.ev)] });
    } finally {
      if (meta !== 0) this.heap.free(meta);
    }
  }

  /** With a mask, the kernels' meta block [rowStride, offset per problem] (i32); else 0. */
  private attentionMeta(args: AttentionArgs): number {
    if (args.mask === 0) return 0;
    const meta = this.heap.alloc((args.batch + 1) * 4);
    const i32 = this.heap.views().i32;
    i32[meta >>> 2] = args.maskRowStride;
    for (let b = 0; b < args.batch; b++) i32[(meta >>> 2) + 1 + b] = args.maskOffsets[b]!;
    return meta;
  }
}

/**
 * How one share's kernel arguments differ from the caller's (WasmBackend.runShares): `count`, the index
 * of the unit count, and `advance`, pointers moved by so many bytes per unit; or `range`, the index of a
 * unit range [i0, i1); `scratch`, the index of a scratch pointer and the bytes each share needs (the
 * runner allocates one block for all shares and frees it after).
 */
interface ShareArgs {
  count?: number;
  advance?: ReadonlyArray<readonly [index: number, bytesPerUnit: number]>;
  range?: number;
  scratch?: readonly [index: number, bytes: number];
}

function checkDims(ndim: number): void {
  if (ndim > MAX_DIMS) throw new SimdgradError(`op: at most ${MAX_DIMS} non-trivial dims are supported (got ${ndim})`);
}

/**
 * Loads the kernels on a fresh memory and returns the backend over it. With `threads` > 1 (or 'auto')
 * and a runtime that can run threads, the memory is shared, the shared-memory kernel build is loaded
 * and a pool of threads − 1 workers starts; otherwise the backend is single-threaded and its
 * `threadsNote` says why.
 */
export async function createWasmBackend(options: WasmBackendOptions = {}): Promise<WasmBackend> {
  const maximum = options.maximumPages ?? 65536;
  const initial = Math.min(options.initialPages ?? 256, maximum);
  const plan = await planThreads(options.threads ?? 1);
  let note = plan.note;
  if (plan.threads > 1) {
    let memory: WebAssembly.Memory | null = null;
    try {
      memory = new WebAssembly.Memory({ initial, maximum, shared: true });
    } catch (e) {
      note = `single-threaded: cannot create a shared memory of up to ${maximum} pages (${(e as Error)?.message ?? e})`;
    }
    if (memory !== null) {
      const loaded = await loadKernels({ memory, relaxed: options.relaxed ?? 'auto', shared: true });
      const heap = new Heap(memory, loaded.exports.heapBase(), maximum);
      try {
        const pool = await ThreadPool.create({
          module: loaded.module, memory, heap, kernels: loaded.exports, workers: plan.threads - 1, spinMicros: options.spinMicros ?? DEFAULT_SPIN_MICROS,
        });
        return new WasmBackend(loaded.exports, heap, loaded.build, pool);
      } catch (e) {
        // the shared memory and build work on one thread too
        return new WasmBackend(loaded.exports, heap, loaded.build, null,
          `single-threaded: ${(e as Error)?.message?.replace(/^threads: /, '') ?? e}`);
      }
    }
  }
  const memory = new WebAssembly.Memory({ initial, maximum });
  const loaded = await loadKernels({ memory, relaxed: options.relaxed ?? 'auto' });
  const heap = new Heap(memory, loaded.exports.heapBase(), maximum);
  return new WasmBackend(loaded.exports, heap, loaded.build, null, note);
}

/** How many threads to start for `threads`, and why only one when so. */
async function planThreads(threads: number | 'auto'): Promise<{ threads: number; note?: string }> {
  if (threads !== 'auto' && !(Number.isInteger(threads) && threads >= 1)) {
    throw new SimdgradError(`init: threads must be a positive integer or 'auto' (got ${String(threads)})`);
  }
  if (threads === 1) return { threads: 1 };
  const support = threadSupport();
  if (!support.ok) return { threads: 1, note: `single-threaded: ${support.reason}` };
  if (threads !== 'auto') return { threads };
  const cpus = await hardwareThreads();
  if (cpus < 2) return { threads: 1, note: `single-threaded: threads 'auto' found ${cpus} logical CPU` };
  return { threads: Math.min(AUTO_MAX_THREADS, cpus) };
}
