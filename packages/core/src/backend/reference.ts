import type { Backend, BinaryOpName, DType, MatmulArgs, ReduceOpName, UnaryOpName } from './backend.js';
import { Heap } from './heap.js';
import type { AvgPool2dGeometry, ConvGeometry, Pool2dGeometry } from './backend.js';
import type { AttentionArgs } from './backend.js';

/**
 * The oracle: every primitive as a plain TypeScript loop, accumulating in float64, over its own
 * memory with the same allocator. Slow and obviously correct; tests run the same cases on it and on
 * the wasm backend and compare.
 */
export class ReferenceBackend implements Backend {
  readonly name = 'reference' as const;
  readonly heap: Heap;

  constructor(heap?: Heap) {
    this.heap = heap ?? new Heap(new WebAssembly.Memory({ initial: 16, maximum: 65536 }), 1024);
  }

  private f32(): Float32Array {
    return this.heap.views().f32;
  }

  private i32(): Int32Array {
    return this.heap.views().i32;
  }

  unary(op: UnaryOpName, out: number, x: number, n: number, p0 = 0, p1 = 0): void {
    const f = this.f32();
    const o = out >>> 2, xi = x >>> 2;
    for (let i = 0; i < n; i++) f[o + i] = unaryRef(op, f[xi + i]!, p0, p1);
  }

  unaryGrad(op: UnaryOpName, gx: number, x: number, y: number, gy: number, n: number, p0 = 0, p1 = 0): void {
    const f = this.f32();
    for (let i = 0; i < n; i++) {
      const xv = f[(x >>> 2) + i]!;
      f[(gx >>> 2) + i] = f[(gy >>> 2) + i]! * unaryDerivRef(op, xv, p0, p1);
    }
  }

  binary(op: BinaryOpName, out: number, a: number, b: number, shape: readonly number[],
    stridesA: readonly number[], stridesB: readonly number[]): void {
    const f = this.f32();
    let i = out >>> 2;
    forEachIndex(shape, [stridesA, stridesB], ([oa, ob]) => {
      f[i++] = binaryRef(op, f[(a >>> 2) + oa!]!, f[(b >>> 2) + ob!]!);
    });
  }

  where(out: number, cond: number, a: number, b: number, shape: readonly number[],
    stridesCond: readonly number[], stridesA: readonly number[], stridesB: readonly number[]): void {
    const f = this.f32();
    let i = out >>> 2;
    forEachIndex(shape, [stridesCond, stridesA, stridesB], ([oc, oa, ob]) => {
      f[i++] = f[(cond >>> 2) + oc!] !== 0 ? f[(a >>> 2) + oa!]! : f[(b >>> 2) + ob!]!;
    });
  }

  reduce(op: ReduceOpName, out: number, x: number, outer: number, len: number, inner: number): void {
    const f = this.f32();
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = op === 'max' ? -Infinity : op === 'min' ? Infinity : op === 'prod' ? 1 : 0;
        for (let l = 0; l < len; l++) {
          const v = f[(x >>> 2) + (o * len + l) * inner + i]!;
          if (op === 'max') acc = Number.isNaN(v) || Number.isNaN(acc) ? NaN : Math.max(acc, v);
          else if (op === 'min') acc = Number.isNaN(v) || Number.isNaN(acc) ? NaN : Math.min(acc, v);
          else if (op === 'prod') acc *= v;
          else acc += v;
        }
        if (op === 'mean') acc /= len;
        f[(out >>> 2) + o * inner + i] = acc;
      }
    }
  }

  argReduce(op: 'argmax' | 'argmin', out: number, x: number, outer: number, len: number, inner: number): void {
    const f = this.f32();
    const iv = this.i32();
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0;
        for (let l = 0; l < len; l++) {
          const v = f[(x >>> 2) + (o * len + l) * inner + i]!;
          const bv = f[(x >>> 2) + (o * len + best) * inner + i]!;
          if (Number.isNaN(bv)) break;
          if (Number.isNaN(v)) { best = l; break; }
          if (op === 'argmax' ? v > bv : v < bv) best = l;
        }
        iv[(out >>> 2) + o * inner + i] = best;
      }
    }
  }

  softmax(out: number, x: number, rows: number, cols: number): void {
    this.softmaxRows(out, x, rows, cols, false);
  }

  logSoftmax(out: number, x: number, rows: number, cols: number): void {
    this.softmaxRows(out, x, rows, cols, true);
  }

  private softmaxRows(out: number, x: number, rows: number, cols: number, log: boolean): void {
    const f = this.f32();
    for (let r = 0; r < rows; r++) {
      const xo = (x >>> 2) + r * cols, yo = (out >>> 2) + r * cols;
      let m = -Infinity;
      for (let c = 0; c < cols; c++) m = Math.max(m, f[xo + c]!);
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(f[xo + c]! - m);
      for (let c = 0; c < cols; c++) {
        f[yo + c] = log ? f[xo + c]! - m - Math.log(s) : Math.exp(f[xo + c]! - m) / s;
      }
    }
  }

  softmaxGrad(gx: number, y: number, gy: number, rows: number, cols: number): void {
    const f = this.f32();
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let d = 0;
      for (let c = 0; c < cols; c++) d += f[(gy >>> 2) + o + c]! * f[(y >>> 2) + o + c]!;
      for (let c = 0; c < cols; c++) f[(gx >>> 2) + o + c] = f[(y >>> 2) + o + c]! * (f[(gy >>> 2) + o + c]! - d);
    }
  }

  logSoftmaxGrad(gx: number, y: number, gy: number, rows: number, cols: number): void {
    const f = this.f32();
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let c = 0; c < cols; c++) s += f[(gy >>> 2) + o + c]!;
      for (let c = 0; c < cols; c++) f[(gx >>> 2) + o + c] = f[(gy >>> 2) + o + c]! - Math.exp(f[(y >>> 2) + o + c]!) * s;
    }
  }

  matmul(c: number, a: number, b: number, args: MatmulArgs): void {
    const f = this.f32();
    const { batch, m, n, k, transA, transB } = args;
    for (let p = 0; p < batch; p++) {
      const A = (a >>> 2) + p * args.strideA, B = (b >>> 2) + p * args.strideB, C = (c >>> 2) + p * args.strideC;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < k; q++) {
            s += f[A + (transA ? q * m + i : i * k + q)]! * f[B + (transB ? j * k + q : q * n + j)]!;
          }
          f[C + i * n + j] = args.accumulate ? f[C + i * n + j]! + s : s;
        }
      }
    }
  }

  fill(dtype: DType, out: number, n: number, value: number): void {
    (dtype === 'int32' ? this.i32() : this.f32()).fill(value, out >>> 2, (out >>> 2) + n);
  }

  copy(dst: number, src: number, nbytes: number): void {
    this.heap.views().u8.copyWithin(dst, src, src + nbytes);
  }

  stridedCopy(dst: number, src: number, shape: readonly number[], strides: readonly number[]): void {
    const iv = this.i32();
    let i = dst >>> 2;
    forEachIndex(shape, [strides], ([o]) => { iv[i++] = iv[(src >>> 2) + o!]!; });
  }

  copyStrided(dst: number, src: number, shape: readonly number[], dstStrides: readonly number[], srcStrides: readonly number[]): void {
    const iv = this.i32();
    forEachIndex(shape, [dstStrides, srcStrides], ([od, os]) => { iv[(dst >>> 2) + od!] = iv[(src >>> 2) + os!]!; });
  }

  cast(from: DType, to: DType, dst: number, src: number, n: number): void {
    const f = this.f32(), iv = this.i32();
    for (let i = 0; i < n; i++) {
      if (from === to) iv[(dst >>> 2) + i] = iv[(src >>> 2) + i]!;
      else if (from === 'int32') f[(dst >>> 2) + i] = iv[(src >>> 2) + i]!;
      else {
        const v = f[(src >>> 2) + i]!;
        iv[(dst >>> 2) + i] = Number.isNaN(v) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
      }
    }
  }

  indexSelect(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void {
    const iv = this.i32();
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < nidx; j++)
        for (let i = 0; i < inner; i++)
          iv[(out >>> 2) + (o * nidx + j) * inner + i] = iv[(x >>> 2) + (o * len + iv[(idx >>> 2) + j]!) * inner + i]!;
  }

  indexAdd(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void {
    const f = this.f32(), iv = this.i32();
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < nidx; j++)
        for (let i = 0; i < inner; i++)
          f[(gx >>> 2) + (o * len + iv[(idx >>> 2) + j]!) * inner + i] += f[(gy >>> 2) + (o * nidx + j) * inner + i]!;
  }

  gather(out: number, x: number, idx: number, outer: number, len: number, inner: number, nidx: number): void {
    const iv = this.i32();
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < nidx; j++)
        for (let i = 0; i < inner; i++) {
          const p = (o * nidx + j) * inner + i;
          iv[(out >>> 2) + p] = iv[(x >>> 2) + (o * len + iv[(idx >>> 2) + p]!) * inner + i]!;
        }
  }

  scatterAdd(gx: number, idx: number, gy: number, outer: number, len: number, inner: number, nidx: number): void {
    const f = this.f32(), iv = this.i32();
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < nidx; j++)
        for (let i = 0; i < inner; i++) {
          const p = (o * nidx + j) * inner + i;
          f[(gx >>> 2) + (o * len + iv[(idx >>> 2) + p]!) * inner + i] += f[(gy >>> 2) + p]!;
        }
  }

  findOutOfRange(idx: number, n: number, hi: number): number {
    const iv = this.i32();
    for (let j = 0; j < n; j++) {
      const v = iv[(idx >>> 2) + j]!;
      if (v < 0 || v >= hi) return j;
    }
    return -1;
  }

  countNonFinite(x: number, n: number): number {
    const f = this.f32();
    let c = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(f[(x >>> 2) + i]!)) c++;
    return c;
  }

  im2col(col: number, x: number, g: ConvGeometry): void {
    const f = this.f32();
    let o = col >>> 2;
    for (let c = 0; c < g.C; c++)
      for (let i = 0; i < g.kh; i++)
        for (let j = 0; j < g.kw; j++)
          for (let oh = 0; oh < g.outH; oh++)
            for (let ow = 0; ow < g.outW; ow++) {
              const ih = oh * g.strideH - g.padH + i * g.dilH, iw = ow * g.strideW - g.padW + j * g.dilW;
              const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
              f[o++] = inside ? f[(x >>> 2) + (c * g.H + ih) * g.W + iw]! : 0;
            }
  }

  col2im(x: number, col: number, g: ConvGeometry): void {
    const f = this.f32();
    const acc = new Float64Array(g.C * g.H * g.W);
    let o = col >>> 2;
    for (let c = 0; c < g.C; c++)
      for (let i = 0; i < g.kh; i++)
        for (let j = 0; j < g.kw; j++)
          for (let oh = 0; oh < g.outH; oh++)
            for (let ow = 0; ow < g.outW; ow++, o++) {
              const ih = oh * g.strideH - g.padH + i * g.dilH, iw = ow * g.strideW - g.padW + j * g.dilW;
              if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) acc[(c * g.H + ih) * g.W + iw] += f[o]!;
            }
    for (let k = 0; k < acc.length; k++) f[(x >>> 2) + k] += acc[k]!;
  }

  maxPool2d(out: number, argmax: number, x: number, planes: number, g: Pool2dGeometry): void {
    const f = this.f32(), iv = this.i32();
    let o = 0;
    for (let p = 0; p < planes; p++)
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++, o++) {
          let best = -Infinity, arg = -1;
          for (let i = 0; i < g.kh; i++)
            for (let j = 0; j < g.kw; j++) {
              const ih = oh * g.strideH - g.padH + i * g.dilH, iw = ow * g.strideW - g.padW + j * g.dilW;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              const idx = ih * g.W + iw;
              const v = f[(x >>> 2) + p * g.H * g.W + idx]!;
              if (arg < 0) arg = idx; // PyTorch starts at the first real cell
              if (v > best || Number.isNaN(v)) { best = v; arg = idx; }
            }
          f[(out >>> 2) + o] = best;
          iv[(argmax >>> 2) + o] = arg;
        }
  }

  maxPool2dGradSet(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void {
    this.f32().fill(0, gx >>> 2, (gx >>> 2) + planes * g.H * g.W);
    this.maxPool2dGrad(gx, gy, argmax, planes, g);
  }

  maxPool2dGrad(gx: number, gy: number, argmax: number, planes: number, g: Pool2dGeometry): void {
    const f = this.f32(), iv = this.i32();
    const plane = g.H * g.W, n = g.outH * g.outW;
    const acc = new Float64Array(planes * plane);
    for (let p = 0; p < planes; p++)
      for (let o = 0; o < n; o++) {
        const a = iv[(argmax >>> 2) + p * n + o]!;
        if (a >= 0) acc[p * plane + a] += f[(gy >>> 2) + p * n + o]!;
      }
    for (let k = 0; k < acc.length; k++) f[(gx >>> 2) + k] += acc[k]!;
  }

  avgPool2d(out: number, x: number, planes: number, g: AvgPool2dGeometry, countIncludePad: boolean): void {
    const f = this.f32();
    let o = out >>> 2;
    for (let p = 0; p < planes; p++)
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++) {
          const w = avgWindow(g, oh, ow, countIncludePad);
          let s = 0;
          for (let ih = w.hs; ih < w.he; ih++)
            for (let iw = w.ws; iw < w.we; iw++) s += f[(x >>> 2) + (p * g.H + ih) * g.W + iw]!;
          f[o++] = s / w.divisor;
        }
  }

  avgPool2dGrad(gx: number, gy: number, planes: number, g: AvgPool2dGeometry, countIncludePad: boolean): void {
    const f = this.f32();
    const acc = new Float64Array(planes * g.H * g.W);
    let o = gy >>> 2;
    for (let p = 0; p < planes; p++)
      for (let oh = 0; oh < g.outH; oh++)
        for (let ow = 0; ow < g.outW; ow++) {
          const w = avgWindow(g, oh, ow, countIncludePad);
          const v = f[o++]! / w.divisor;
          for (let ih = w.hs; ih < w.he; ih++)
            for (let iw = w.ws; iw < w.we; iw++) acc[(p * g.H + ih) * g.W + iw] += v;
        }
    for (let k = 0; k < acc.length; k++) f[(gx >>> 2) + k] += acc[k]!;
  }

  addBiasNCHW(y: number, bias: number, N: number, C: number, HW: number): void {
    const f = this.f32();
    for (let n = 0; n < N; n++)
      for (let c = 0; c < C; c++)
        for (let k = 0; k < HW; k++) f[(y >>> 2) + (n * C + c) * HW + k] += f[(bias >>> 2) + c]!;
  }

  biasGradNCHW(gb: number, gy: number, N: number, C: number, HW: number): void {
    const f = this.f32();
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let n = 0; n < N; n++)
        for (let k = 0; k < HW; k++) s += f[(gy >>> 2) + (n * C + c) * HW + k]!;
      f[(gb >>> 2) + c] = s;
    }
  }

  conv2dDirect(y: number, x: number, w: number, bias: number, N: number, O: number, g: ConvGeometry, xImage: number, yImage: number): void {
    const f = this.f32();
    const L = g.outH * g.outW, K = g.C * g.kh * g.kw;
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let oh = 0; oh < g.outH; oh++)
          for (let ow = 0; ow < g.outW; ow++) {
            let s = bias !== 0 ? f[(bias >>> 2) + o]! : 0;
            for (let c = 0; c < g.C; c++)
              for (let i = 0; i < g.kh; i++)
                for (let j = 0; j < g.kw; j++) {
                  const ih = oh * g.strideH - g.padH + i * g.dilH, iw = ow * g.strideW - g.padW + j * g.dilW;
                  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                  s += f[(w >>> 2) + o * K + (c * g.kh + i) * g.kw + j]! * f[(x >>> 2) + n * xImage + (c * g.H + ih) * g.W + iw]!;
                }
            f[(y >>> 2) + n * yImage + o * L + oh * g.outW + ow] = s;
          }
  }

  conv2dWeightGradDirect(gw: number, gy: number, x: number, N: number, O: number, g: ConvGeometry, xImage: number, yImage: number): void {
    const f = this.f32();
    const L = g.outH * g.outW, K = g.C * g.kh * g.kw;
    for (let o = 0; o < O; o++)
      for (let c = 0; c < g.C; c++)
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            let s = 0;
            for (let n = 0; n < N; n++)
              for (let oh = 0; oh < g.outH; oh++)
                for (let ow = 0; ow < g.outW; ow++) {
                  const ih = oh * g.strideH - g.padH + i * g.dilH, iw = ow * g.strideW - g.padW + j * g.dilW;
                  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                  s += f[(gy >>> 2) + n * yImage + o * L + oh * g.outW + ow]! * f[(x >>> 2) + n * xImage + (c * g.H + ih) * g.W + iw]!;
                }
            f[(gw >>> 2) + o * K + (c * g.kh + i) * g.kw + j] = s;
          }
  }

  conv2dColsGemm(y: number, w: number, cols: number, bias: number, N: number, O: number, K: number, L: number,
    colsImage: number, yImage: number, transW = false): void {
    const f = this.f32();
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let l = 0; l < L; l++) {
          let s = 0;
          for (let p = 0; p < K; p++) {
            s += f[(w >>> 2) + (transW ? p * O + o : o * K + p)]! * f[(cols >>> 2) + n * colsImage + p * L + l]!;
          }
          f[(y >>> 2) + n * yImage + o * L + l] = s + (bias !== 0 ? f[(bias >>> 2) + o]! : 0);
        }
  }

  conv2dForward(y: number, x: number, w: number, bias: number, cols: number, N: number, O: number, g: ConvGeometry,
    xImage: number, yImage: number, colsImage: number): void {
    const K = g.C * g.kh * g.kw, L = g.outH * g.outW;
    for (let n = 0; n < N; n++) this.im2col(cols + n * colsImage * 4, x + n * xImage * 4, g);
    this.conv2dColsGemm(y, w, cols, bias, N, O, K, L, colsImage, yImage);
  }

  conv2dInputGrad(gx: number, w: number, gy: number, N: number, O: number, g: ConvGeometry, gyImage: number, gxImage: number): void {
    const f = this.f32();
    const K = g.C * g.kh * g.kw, L = g.outH * g.outW;
    for (let n = 0; n < N; n++) {
      const acc = new Float64Array(g.C * g.H * g.W);
      for (let c = 0; c < g.C; c++)
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++)
            for (let oh = 0; oh < g.outH; oh++)
              for (let ow = 0; ow < g.outW; ow++) {
                const ih = oh * g.strideH - g.padH + i * g.dilH, iw = ow * g.strideW - g.padW + j * g.dilW;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                let s = 0;
                for (let o = 0; o < O; o++) {
                  s += f[(w >>> 2) + o * K + (c * g.kh + i) * g.kw + j]! * f[(gy >>> 2) + n * gyImage + o * L + oh * g.outW + ow]!;
                }
                acc[(c * g.H + ih) * g.W + iw] += s;
              }
      for (let k = 0; k < acc.length; k++) f[(gx >>> 2) + n * gxImage + k] += acc[k]!;
    }
  }

  // The Winograd primitives are, by definition, this reference's general convolution kernels on a 3×3,
  // stride-1 geometry.
  conv3x3Winograd(y: number, x: number, w: number, bias: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, xImage: number, yImage: number): void {
    this.conv2dDirect(y, x, w, bias, N, Cout, conv3x3Geometry(Cin, H, W, pad), xImage, yImage);
  }

  conv3x3WinogradInputGrad(gx: number, gy: number, w: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, gyImage: number, gxImage: number): void {
    const f = this.f32();
    for (let n = 0; n < N; n++) f.fill(0, (gx >>> 2) + n * gxImage, (gx >>> 2) + n * gxImage + Cin * H * W);
    this.conv2dInputGrad(gx, w, gy, N, Cout, conv3x3Geometry(Cin, H, W, pad), gyImage, gxImage);
  }

  conv3x3WinogradWeightGrad(gw: number, x: number, gy: number, N: number, Cin: number, H: number, W: number, Cout: number,
    pad: number, xImage: number, gyImage: number): void {
    this.conv2dWeightGradDirect(gw, gy, x, N, Cout, conv3x3Geometry(Cin, H, W, pad), xImage, gyImage);
  }

  // The optimizer steps in float64, element by element, as written in torch/optim (state stored as f32).
  sgdStep(p: number, g: number, buf: number, n: number, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, firstStep: boolean, maximize: boolean): void {
    const f = this.f32();
    for (let i = 0; i < n; i++) {
      const pi = (p >>> 2) + i, bi = (buf >>> 2) + i;
      let d = maximize ? -f[(g >>> 2) + i]! : f[(g >>> 2) + i]!;
      if (weightDecay !== 0) d += weightDecay * f[pi]!;
      if (momentum !== 0) {
        const b = firstStep ? d : momentum * f[bi]! + (1 - dampening) * d;
        f[bi] = b;
        d = nesterov ? d + momentum * b : b;
      }
      f[pi] = f[pi]! - lr * d;
    }
  }

  adamStep(p: number, g: number, m: number, v: number, vmax: number, n: number, lr: number, beta1: number, beta2: number,
    eps: number, weightDecay: number, decoupled: boolean, amsgrad: boolean, biasCorrection1: number,
    biasCorrection2: number, maximize: boolean): void {
    const f = this.f32();
    for (let i = 0; i < n; i++) {
      const pi = (p >>> 2) + i, mi = (m >>> 2) + i, vi = (v >>> 2) + i, xi = (vmax >>> 2) + i;
      let pv = f[pi]!;
      let d = maximize ? -f[(g >>> 2) + i]! : f[(g >>> 2) + i]!;
      if (decoupled) pv *= 1 - lr * weightDecay;
      else if (weightDecay !== 0) d += weightDecay * pv;
      const mv = beta1 * f[mi]! + (1 - beta1) * d;
      let vv = beta2 * f[vi]! + (1 - beta2) * d * d;
      f[mi] = mv;
      f[vi] = vv;
      if (amsgrad) {
        vv = Number.isNaN(vv) || Number.isNaN(f[xi]!) ? NaN : Math.max(f[xi]!, vv);
        f[xi] = vv;
      }
      const denom = Math.sqrt(vv) / Math.sqrt(biasCorrection2) + eps;
      f[pi] = pv - (lr / biasCorrection1) * (mv / denom);
    }
  }

  rmspropStep(p: number, g: number, squareAvg: number, gradAvg: number, buf: number, n: number, lr: number, alpha: number,
    eps: number, weightDecay: number, momentum: number, centered: boolean, maximize: boolean): void {
    const f = this.f32();
    for (let i = 0; i < n; i++) {
      const pi = (p >>> 2) + i, si = (squareAvg >>> 2) + i, ai = (gradAvg >>> 2) + i, bi = (buf >>> 2) + i;
      let d = maximize ? -f[(g >>> 2) + i]! : f[(g >>> 2) + i]!;
      if (weightDecay !== 0) d += weightDecay * f[pi]!;
      const s = alpha * f[si]! + (1 - alpha) * d * d;
      f[si] = s;
      let avg: number;
      if (centered) {
        const ga = alpha * f[ai]! + (1 - alpha) * d;
        f[ai] = ga;
        avg = Math.sqrt(s - ga * ga) + eps;
      } else {
        avg = Math.sqrt(s) + eps;
      }
      if (momentum > 0) {
        const b = momentum * f[bi]! + d / avg;
        f[bi] = b;
        f[pi] = f[pi]! - lr * b;
      } else {
        f[pi] = f[pi]! - lr * (d / avg);
      }
    }
  }

  adagradStep(p: number, g: number, sum: number, n: number, clr: number, weightDecay: number, eps: number, maximize: boolean): void {
    const f = this.f32();
    for (let i = 0; i < n; i++) {
      const pi = (p >>> 2) + i, si = (sum >>> 2) + i;
      let d = maximize ? -f[(g >>> 2) + i]! : f[(g >>> 2) + i]!;
      if (weightDecay !== 0) d += weightDecay * f[pi]!;
      const s = f[si]! + d * d;
      f[si] = s;
      f[pi] = f[pi]! - clr * (d / (Math.sqrt(s) + eps));
    }
  }

  normPartial(x: number, n: number, normType: number): number {
    const f = this.f32();
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(f[(x >>> 2) + i]!);
      if (normType === Infinity) acc = Number.isNaN(a) || Number.isNaN(acc) ? NaN : Math.max(acc, a);
      else acc += normType === 2 ? a * a : normType === 1 ? a : Math.pow(a, normType);
    }
    return acc;
  }

  // ---- audio ------------------------------------------------------------------------------------
  frameSignal(out: number, x: number, rows: number, n: number, frameLength: number, hop: number, nFrames: number,
    pad: number, padMode: 'constant' | 'reflect', window: number): void {
    const f = this.f32();
    for (let r = 0; r < rows; r++) {
      for (let fr = 0; fr < nFrames; fr++) {
        for (let i = 0; i < frameLength; i++) {
          let j = fr * hop - pad + i;
          if (padMode === 'reflect' && n > 1) {
            if (j < 0) j = -j;
            if (j >= n) j = 2 * (n - 1) - j;
          }
          const v = j >= 0 && j < n ? f[(x >>> 2) + r * n + j]! : 0;
          f[(out >>> 2) + (r * nFrames + fr) * frameLength + i] = v * f[(window >>> 2) + i]!;
        }
      }
    }
  }

  /** The DFT by its definition, X[k] = Σ x[j]·e^(−2πi·jk/n), in float64 (O(n²) per row). */
  rfft(out: number, x: number, rows: number, nFft: number): void {
    const f = this.f32();
    const cos = new Float64Array(nFft), sin = new Float64Array(nFft);
    for (let j = 0; j < nFft; j++) {
      cos[j] = Math.cos(2 * Math.PI * j / nFft);
      sin[j] = Math.sin(2 * Math.PI * j / nFft);
    }
    const bins = nFft / 2 + 1;
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < bins; k++) {
        let re = 0, im = 0;
        for (let j = 0; j < nFft; j++) {
          const v = f[(x >>> 2) + r * nFft + j]!;
          const t = (j * k) % nFft; // exact index of the angle 2π·jk/n
          re += v * cos[t]!;
          im -= v * sin[t]!;
        }
        f[(out >>> 2) + 2 * (r * bins + k)] = re;
        f[(out >>> 2) + 2 * (r * bins + k) + 1] = im;
      }
    }
  }

  complexPower(out: number, z: number, n: number, power: 1 | 2): void {
    const f = this.f32();
    for (let i = 0; i < n; i++) {
      const re = f[(z >>> 2) + 2 * i]!, im = f[(z >>> 2) + 2 * i + 1]!;
      const p = re * re + im * im;
      f[(out >>> 2) + i] = power === 1 ? Math.sqrt(p) : p;
    }
  }

  deltas(out: number, x: number, rows: number, T: number, N: number): void {
    const f = this.f32();
    const denom = N * (N + 1) * (2 * N + 1) / 3;
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < T; t++) {
        let acc = 0;
        for (let k = 1; k <= N; k++) {
          acc += k * (f[(x >>> 2) + r * T + Math.min(t + k, T - 1)]! - f[(x >>> 2) + r * T + Math.max(t - k, 0)]!);
        }
        f[(out >>> 2) + r * T + t] = acc / denom;
      }
    }
  }

  attention(out: number, lse: number, q: number, k: number, v: number, args: AttentionArgs): void {
    const f = this.f32();
    const { batch, l, ev } = args;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < l; i++) {
        const p = this.attentionRow(f, q, k, b, i, args);
        for (let c = 0; c < ev; c++) {
          let acc = 0;
          for (let j = 0; j < p.probs.length; j++) acc += p.probs[j]! * f[(v >>> 2) + (b * args.s + j) * ev + c]!;
          f[(out >>> 2) + (b * l + i) * ev + c] = acc;
        }
        f[(lse >>> 2) + 2 * (b * l + i)] = p.max;
        f[(lse >>> 2) + 2 * (b * l + i) + 1] = p.logSum;
      }
    }
  }

  attentionGrad(dq: number, dk: number, dv: number, q: number, k: number, v: number, _out: number, dout: number,
    _lse: number, args: AttentionArgs): void {
    const f = this.f32();
    const { batch, l, s, e, ev, scale } = args;
    const gq = new Float64Array(batch * l * e), gk = new Float64Array(batch * s * e), gv = new Float64Array(batch * s * ev);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < l; i++) {
        const { probs } = this.attentionRow(f, q, k, b, i, args);
        const go = (dout >>> 2) + (b * l + i) * ev;
        // dP_j = dO·V_j; D = Σ_j P_j·dP_j; dS_j = P_j (dP_j − D)
        const dp = probs.map((_, j) => {
          let acc = 0;
          for (let c = 0; c < ev; c++) acc += f[go + c]! * f[(v >>> 2) + (b * s + j) * ev + c]!;
          return acc;
        });
        let d = 0;
        for (let j = 0; j < probs.length; j++) d += probs[j]! * dp[j]!;
        for (let j = 0; j < probs.length; j++) {
          const pj = probs[j]!, ds = pj * (dp[j]! - d) * scale;
          for (let c = 0; c < ev; c++) gv[(b * s + j) * ev + c] += pj * f[go + c]!;
          for (let c = 0; c < e; c++) {
            gq[(b * l + i) * e + c] += ds * f[(k >>> 2) + (b * s + j) * e + c]!;
            gk[(b * s + j) * e + c] += ds * f[(q >>> 2) + (b * l + i) * e + c]!;
          }
        }
      }
    }
    f.set(gq, dq >>> 2);
    f.set(gk, dk >>> 2);
    f.set(gv, dv >>> 2);
  }

  /**
   * Softmax probabilities of row i of problem b over the keys it may see (0…causalOffset + i when
   * causal, else all), the row's max score and the log of Σ exp(score − max).
   */
  private attentionRow(f: Float32Array, q: number, k: number, b: number, i: number, args: AttentionArgs): { probs: number[]; max: number; logSum: number } {
    const { l, s, e, scale } = args;
    const n = args.causalOffset >= 0 ? Math.min(s, args.causalOffset + i + 1) : s;
    const scores: number[] = [];
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let c = 0; c < e; c++) acc += f[(q >>> 2) + (b * l + i) * e + c]! * f[(k >>> 2) + (b * s + j) * e + c]!;
      acc *= scale;
      if (args.mask !== 0) {
        const mv = f[(args.mask >>> 2) + args.maskOffsets[b]! + i * args.maskRowStride + j]!;
        // NOTE: a masked score is rounded to float32 as the composed path stores it, so MASKED_SCORE
        // absorbs the score and a fully masked row is uniform (the convention of nn/attention.ts)
        if (mv !== 0) acc = Math.fround(Math.fround(acc) + mv);
      }
      scores.push(acc);
    }
    let m = -Infinity;
    for (const x of scores) m = Math.max(m, x);
    let sum = 0;
    for (const x of scores) sum += Math.exp(x - m);
    return { probs: scores.map((x) => Math.exp(x - m) / sum), max: m, logSum: Math.log(sum) };
  }
}

/** Visits every index of `shape` in row-major order with each operand's element offset. */
function forEachIndex(shape: readonly number[], strides: readonly (readonly number[])[], visit: (offsets: number[]) => void): void {
  const total = shape.reduce((a, b) => a * b, 1);
  if (total === 0) return;
  const idx = new Array<number>(shape.length).fill(0);
  for (let t = 0; t < total; t++) {
    visit(strides.map((s) => s.reduce((acc, st, d) => acc + st * idx[d]!, 0)));
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** erf in float64 (series near 0, continued fraction for erfc beyond). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax > 6) return Math.sign(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = x, sum = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))), evaluated bottom-up
  let frac = ax;
  for (let n = 60; n >= 1; n--) frac = ax + n / 2 / frac;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / frac;
  return Math.sign(x) * (1 - erfc);
}

const SQRT1_2 = Math.SQRT1_2;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const GELU_C = Math.sqrt(2 / Math.PI);

/** float64 value of a unary op (the oracle for unaryF32). */
export function unaryRef(op: UnaryOpName, x: number, p0: number, p1: number): number {
  switch (op) {
    case 'neg': return -x;
    case 'abs': return Math.abs(x);
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'sqrt': return Math.sqrt(x);
    case 'rsqrt': return 1 / Math.sqrt(x);
    case 'tanh': return Math.tanh(x);
    case 'sigmoid': return sigmoid(x);
    case 'relu': return x > 0 ? x : Number.isNaN(x) ? NaN : 0;
    case 'gelu': return x === -Infinity ? 0 : 0.5 * x * (1 + erf(x * SQRT1_2)); // NOTE: the limit, not -inf·0
    case 'geluTanh': return x === -Infinity ? 0 : 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
    case 'silu': return x === -Infinity ? 0 : x * sigmoid(x);
    case 'softplus': return x > 20 ? x : Math.log1p(Math.exp(x));
    case 'sin': return Math.sin(x);
    case 'cos': return Math.cos(x);
    case 'square': return x * x;
    case 'reciprocal': return 1 / x;
    case 'sign': return Number.isNaN(x) ? NaN : Math.sign(x) + 0;
    case 'floor': return Math.floor(x);
    case 'ceil': return Math.ceil(x);
    case 'round': return roundHalfEven(x);
    case 'erf': return erf(x);
    case 'log1p': return Math.log1p(x);
    case 'expm1': return Math.expm1(x);
    case 'leakyRelu': return x > 0 ? x : p0 * x;
    case 'elu': return x > 0 ? x : p0 * Math.expm1(x);
    case 'clamp': return Number.isNaN(x) ? NaN : Math.min(Math.max(x, p0), p1);
    case 'powScalar': return Math.pow(x, p0);
    case 'affine': return p0 * x + p1;
    case 'rdiv': return p0 / x;
    case 'rpow': return Math.pow(p0, x);
  }
}

/** float64 derivative of a unary op at x (the oracle for unaryGradF32). */
export function unaryDerivRef(op: UnaryOpName, x: number, p0: number, p1: number): number {
  switch (op) {
    case 'neg': return -1;
    case 'abs': return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'exp': return Math.exp(x);
    case 'log': return 1 / x;
    case 'sqrt': return 0.5 / Math.sqrt(x);
    case 'rsqrt': return -0.5 * Math.pow(x, -1.5);
    case 'tanh': return 1 - Math.tanh(x) ** 2;
    case 'sigmoid': return sigmoid(x) * (1 - sigmoid(x));
    case 'relu': return x > 0 ? 1 : 0;
    case 'gelu': return 0.5 * (1 + erf(x * SQRT1_2)) + x * phi(x);
    case 'geluTanh': {
      const u = GELU_C * (x + 0.044715 * x ** 3);
      const t = Math.tanh(u);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
    }
    case 'silu': { const s = sigmoid(x); return s * (1 + x * (1 - s)); }
    case 'softplus': return sigmoid(x);
    case 'sin': return Math.cos(x);
    case 'cos': return -Math.sin(x);
    case 'square': return 2 * x;
    case 'reciprocal': return -1 / (x * x);
    case 'sign': case 'floor': case 'ceil': case 'round': return 0;
    case 'erf': return (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    case 'log1p': return 1 / (1 + x);
    case 'expm1': return Math.exp(x);
    case 'leakyRelu': return x > 0 ? 1 : p0;
    case 'elu': return x > 0 ? 1 : p0 * Math.exp(x);
    case 'clamp': return x >= p0 && x <= p1 ? 1 : 0;
    case 'powScalar': return p0 === 0 ? 0 : p0 * Math.pow(x, p0 - 1);
    case 'affine': return p0;
    case 'rdiv': return -p0 / (x * x);
    case 'rpow': return Math.pow(p0, x) * Math.log(p0);
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** float64 value of a binary op (the oracle for binaryF32). */
export function binaryRef(op: BinaryOpName, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'pow': return Math.pow(a, b);
    case 'maximum': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.max(a, b);
    case 'minimum': return Number.isNaN(a) || Number.isNaN(b) ? NaN : Math.min(a, b);
    case 'eq': return a === b ? 1 : 0;
    case 'ne': return a !== b ? 1 : 0;
    case 'lt': return a < b ? 1 : 0;
    case 'le': return a <= b ? 1 : 0;
    case 'gt': return a > b ? 1 : 0;
    case 'ge': return a >= b ? 1 : 0;
  }
}

/** The real cells [hs, he) × [ws, we) of one average-pooling window and PyTorch's divisor for it. */
function avgWindow(g: AvgPool2dGeometry, oh: number, ow: number, countIncludePad: boolean) {
  const h0 = oh * g.strideH - g.padH, w0 = ow * g.strideW - g.padW;
  // the window clipped to the padded input
  const hp = Math.min(h0 + g.kh, g.H + g.padH), wp = Math.min(w0 + g.kw, g.W + g.padW);
  const hs = Math.max(h0, 0), ws = Math.max(w0, 0), he = Math.min(hp, g.H), we = Math.min(wp, g.W);
  const divisor = countIncludePad ? (hp - h0) * (wp - w0) : Math.max(he - hs, 0) * Math.max(we - ws, 0);
  return { hs, he, ws, we, divisor };
}

/** The geometry of a 3×3, stride-1 convolution with `pad` on all sides (the Winograd primitives' case). */
function conv3x3Geometry(C: number, H: number, W: number, pad: number): ConvGeometry {
  return { C, H, W, kh: 3, kw: 3, padH: pad, padW: pad, strideH: 1, strideW: 1, dilH: 1, dilW: 1, outH: H + 2 * pad - 2, outW: W + 2 * pad - 2 };
}
