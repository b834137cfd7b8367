// The Tensor: data in wasm memory (a Storage block, shared by views), a shape, element strides, a dtype,
// and — when it was computed from tensors that require grad — the graph node that made it.
import type { Backend, DType } from './backend/backend.js';
import { backward as runBackward, type Node } from './autograd/graph.js';
import { SimdgradError, fmtShape } from './errors.js';
import { setTensorCheck, track, untrackDisposed, type Storage } from './memory.js';
import { shapeSize } from './shape.js';
import * as ew from './ops/elementwise.js';
import * as red from './ops/reduce.js';
import * as sh from './ops/shape.js';
import * as ix from './ops/indexing.js';
import { matmul } from './ops/matmul.js';

/** Nested arrays of numbers, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray = number | NestedArray[];

/**
 * An n-dimensional array of float32 or int32 in wasm memory, with reverse-mode autograd.
 * Create tensors with `tensor()`, `zeros()`, `randn()`…; free them with `dispose()`, `using`, or `scope()`.
 *
 * @example
 * ```ts
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward();
 * x.grad!.toArray(); // [[2, 4], [6, 8]]
 * ```
 */
export class Tensor {
  /** Sizes of each dim. */
  readonly shape: readonly number[];
  /** Element strides of each dim (row-major for contiguous tensors; 0 on expanded dims). */
  readonly strides: readonly number[];
  /** Offset of the first element into the storage, in elements. */
  readonly offset: number;
  readonly dtype: DType;
  /** @internal the memory block (shared by views) */
  readonly storage: Storage;
  /** Whether gradients flow to this tensor. Set it on leaves you want `.grad` for. */
  requiresGrad = false;
  /** The gradient accumulated by `backward()` (leaves only); owned by this tensor. */
  grad: Tensor | null = null;
  /** @internal the op that made this tensor, while its graph is alive */
  node: Node | null = null;
  /** @internal kept by a scope only because a graph needs it; freed when that graph is released */
  heldByGraph = false;
  private isDisposed = false;

  /** @internal use `tensor()`, `zeros()`… to create tensors */
  constructor(storage: Storage, offset: number, shape: number[], strides: number[], dtype: DType) {
    this.storage = storage;
    this.offset = offset;
    this.shape = Object.freeze(shape);
    this.strides = Object.freeze(strides);
    this.dtype = dtype;
    this.size = shapeSize(shape);
    track(this);
  }

  /** Number of elements. */
  readonly size: number;

  get ndim(): number {
    return this.shape.length;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  /** @internal */
  get backend(): Backend {
    return this.storage.backend;
  }

  /** @internal byte offset of the first element in wasm memory */
  get ptr(): number {
    return this.storage.ptr + this.offset * 4;
  }

  /** The name of the op that made this tensor (null for leaves and after the graph was released). */
  get gradFn(): string | null {
    return this.node?.name ?? null;
  }

  /** @internal throws a clear error when the tensor was disposed */
  assertAlive(op: string): void {
    if (this.isDisposed || this.storage.freed) {
      throw new SimdgradError(`${op}: the tensor (shape ${fmtShape(this.shape)}) was disposed (help: keep it out of scope() by returning it, or don't dispose it before use)`);
    }
  }

  /** Whether the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    let s = 1;
    for (let d = this.shape.length - 1; d >= 0; d--) {
      if (this.shape[d] !== 1 && this.strides[d] !== s) return false;
      s *= this.shape[d]!;
    }
    return true;
  }

  // ---- data out ---------------------------------------------------------------------------------

  /** A contiguous copy of the elements as a Float32Array (int32 tensors are converted). */
  toFloat32Array(): Float32Array {
    this.assertAlive('toFloat32Array');
    const data = this.readContiguous();
    return data instanceof Float32Array ? data : Float32Array.from(data);
  }

  /** A contiguous copy of the elements as an Int32Array (float32 tensors are truncated toward zero). */
  toInt32Array(): Int32Array {
    this.assertAlive('toInt32Array');
    const data = this.readContiguous();
    return data instanceof Int32Array ? data : Int32Array.from(data, (v) => Math.trunc(v));
  }

  /** The elements as nested arrays of numbers (a number for a 0-d tensor). */
  toArray(): NestedArray {
    this.assertAlive('toArray');
    const data = this.readContiguous();
    const build = (dim: number, off: number): NestedArray => {
      if (dim === this.shape.length) return data[off]!;
      const inner = shapeSize(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]!; i++) out.push(build(dim + 1, off + i * inner));
      return out;
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor. */
  item(): number {
    this.assertAlive('item');
    if (this.size !== 1) throw new SimdgradError(`item: only one-element tensors can be converted to a number (got shape ${fmtShape(this.shape)})`);
    const v = this.backend.heap.views();
    return this.dtype === 'int32' ? v.i32[this.ptr >>> 2]! : v.f32[this.ptr >>> 2]!;
  }

  private readContiguous(): Float32Array | Int32Array {
    const t = this.isContiguous() ? this : sh.contiguousOf(this);
    const v = this.backend.heap.views();
    const start = t.ptr >>> 2;
    const data = this.dtype === 'int32' ? v.i32.slice(start, start + this.size) : v.f32.slice(start, start + this.size);
    if (t !== this) t.dispose();
    return data;
  }

  // ---- autograd and memory ----------------------------------------------------------------------

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad, adding it into
   * their `.grad`. A non-scalar tensor needs `gradient` (dL/dthis). The graph is released afterwards.
   */
  backward(gradient?: Tensor, options: { retainGraph?: boolean } = {}): void {
    runBackward(this, gradient, options.retainGraph ?? false);
  }

  /** A tensor sharing this one's data but cut from the graph (requiresGrad false). */
  detach(): Tensor {
    this.assertAlive('detach');
    this.storage.retain();
    return new Tensor(this.storage, this.offset, [...this.shape], [...this.strides], this.dtype);
  }

  /** Sets requiresGrad in place and returns this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(value = true): this {
    if (value && this.dtype !== 'float32') throw new SimdgradError(`requiresGrad: only float32 tensors can require grad (got ${this.dtype})`);
    if (this.node !== null && !value) throw new SimdgradError('requiresGrad: cannot turn off requiresGrad on a non-leaf tensor (help: use detach())');
    this.requiresGrad = value;
    return this;
  }

  /** Frees the tensor's memory now (its views keep the data alive until they are disposed too). Idempotent. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    untrackDisposed(this);
    this.storage.release();
    this.node = null;
    if (this.grad !== null) {
      this.grad.dispose();
      this.grad = null;
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** @internal adds this tensor's graph (everything it still needs for backward) into `out` */
  collectGraph(out: Set<Tensor>): void {
    const stack: Tensor[] = [this];
    while (stack.length > 0) {
      const t = stack.pop()!;
      const node = t.node;
      if (node === null) continue;
      for (const s of [...node.inputs, ...node.saved]) {
        if (!out.has(s)) {
          out.add(s);
          stack.push(s);
        }
      }
    }
  }

  /** @internal a float32 tensor of ones with this shape */
  onesLike(): Tensor {
    return sh.fullOf(this.shape, 1);
  }

  /** @internal a contiguous copy detached from the graph */
  contiguousCopy(): Tensor {
    return sh.copyOf(this);
  }

  /** @internal this += other (same shape; other may be strided); no graph */
  addInPlace(other: Tensor): void {
    this.assertAlive('addInPlace');
    this.backend.binary('add', this.ptr, this.ptr, other.ptr, this.shape, this.strides, other.strides);
  }

  /** A contiguous copy that stays in the graph. */
  clone(): Tensor {
    return sh.clone(this);
  }

  /** This tensor if contiguous, else a contiguous copy (in the graph). */
  contiguous(): Tensor {
    return this.isContiguous() ? this : sh.clone(this);
  }

  /** A float32 copy (or this tensor if already float32). */
  float(): Tensor {
    return sh.toDtype(this, 'float32');
  }

  /** An int32 copy, truncating toward zero (or this tensor if already int32). */
  int(): Tensor {
    return sh.toDtype(this, 'int32');
  }

  toString(): string {
    if (this.isDisposed) return `Tensor(disposed, shape=${fmtShape(this.shape)})`;
    const body = this.size <= 100 ? JSON.stringify(this.toArray()) : `…${this.size} elements…`;
    const grad = this.requiresGrad ? (this.node ? `, gradFn=${this.node.name}` : ', requiresGrad=true') : '';
    return `tensor(${body}, shape=${fmtShape(this.shape)}, dtype=${this.dtype}${grad})`;
  }

  // ---- elementwise ------------------------------------------------------------------------------
  add(other: Tensor | number): Tensor { return ew.binary('add', this, other); }
  sub(other: Tensor | number): Tensor { return ew.binary('sub', this, other); }
  mul(other: Tensor | number): Tensor { return ew.binary('mul', this, other); }
  div(other: Tensor | number): Tensor { return ew.binary('div', this, other); }
  pow(exponent: Tensor | number): Tensor { return ew.binary('pow', this, exponent); }
  maximum(other: Tensor | number): Tensor { return ew.binary('maximum', this, other); }
  minimum(other: Tensor | number): Tensor { return ew.binary('minimum', this, other); }
  eq(other: Tensor | number): Tensor { return ew.binary('eq', this, other); }
  ne(other: Tensor | number): Tensor { return ew.binary('ne', this, other); }
  gt(other: Tensor | number): Tensor { return ew.binary('gt', this, other); }
  lt(other: Tensor | number): Tensor { return ew.binary('lt', this, other); }
  ge(other: Tensor | number): Tensor { return ew.binary('ge', this, other); }
  le(other: Tensor | number): Tensor { return ew.binary('le', this, other); }
  neg(): Tensor { return ew.unary('neg', this); }
  abs(): Tensor { return ew.unary('abs', this); }
  exp(): Tensor { return ew.unary('exp', this); }
  log(): Tensor { return ew.unary('log', this); }
  sqrt(): Tensor { return ew.unary('sqrt', this); }
  rsqrt(): Tensor { return ew.unary('rsqrt', this); }
  square(): Tensor { return ew.unary('square', this); }
  reciprocal(): Tensor { return ew.unary('reciprocal', this); }
  sin(): Tensor { return ew.unary('sin', this); }
  cos(): Tensor { return ew.unary('cos', this); }
  tanh(): Tensor { return ew.unary('tanh', this); }
  sigmoid(): Tensor { return ew.unary('sigmoid', this); }
  relu(): Tensor { return ew.unary('relu', this); }
  /** GELU; exact (erf) by default, or the tanh approximation with `approximate: 'tanh'`. */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return ew.unary(approximate === 'tanh' ? 'geluTanh' : 'gelu', this, 0, 0, 'gelu'); }
  silu(): Tensor { return ew.unary('silu', this); }
  softplus(): Tensor { return ew.unary('softplus', this); }
  elu(alpha = 1): Tensor { return ew.unary('elu', this, checkFinite('elu', alpha, 'alpha'), 0, 'elu'); }
  leakyRelu(negativeSlope = 0.01): Tensor { return ew.unary('leakyRelu', this, checkFinite('leakyRelu', negativeSlope, 'negativeSlope'), 0, 'leakyRelu'); }
  erf(): Tensor { return ew.unary('erf', this); }
  log1p(): Tensor { return ew.unary('log1p', this); }
  expm1(): Tensor { return ew.unary('expm1', this); }
  sign(): Tensor { return ew.unary('sign', this); }
  floor(): Tensor { return ew.unary('floor', this); }
  ceil(): Tensor { return ew.unary('ceil', this); }
  round(): Tensor { return ew.unary('round', this); }
  /** Clamps into [min, max]; either bound may be omitted (null/undefined). */
  clamp(min?: number | null, max?: number | null): Tensor {
    const lo = min ?? -Infinity, hi = max ?? Infinity;
    checkNum('clamp', lo, 'min'); checkNum('clamp', hi, 'max');
    if (lo > hi) throw new SimdgradError(`clamp: min must not exceed max (got min ${lo}, max ${hi})`);
    return ew.unary('clamp', this, lo, hi, 'clamp');
  }

  // ---- reductions -------------------------------------------------------------------------------
  sum(dim?: number | readonly number[], keepdim = false): Tensor { return red.reduce('sum', this, dim, keepdim); }
  mean(dim?: number | readonly number[], keepdim = false): Tensor { return red.reduce('mean', this, dim, keepdim); }
  /** Max values (over all elements, or along dim); for indices use argmax. */
  max(dim?: number | readonly number[], keepdim = false): Tensor { return red.reduce('max', this, dim, keepdim); }
  min(dim?: number | readonly number[], keepdim = false): Tensor { return red.reduce('min', this, dim, keepdim); }
  prod(dim?: number, keepdim = false): Tensor { return red.reduce('prod', this, dim, keepdim); }
  /** Variance (unbiased by default, as PyTorch). */
  var(dim?: number | readonly number[], keepdim = false, unbiased = true): Tensor { return red.variance(this, dim, keepdim, unbiased); }
  std(dim?: number | readonly number[], keepdim = false, unbiased = true): Tensor { return red.variance(this, dim, keepdim, unbiased).sqrt(); }
  argmax(dim?: number, keepdim = false): Tensor { return red.argReduce('argmax', this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return red.argReduce('argmin', this, dim, keepdim); }
  softmax(dim = -1): Tensor { return red.softmax(this, dim, false); }
  logSoftmax(dim = -1): Tensor { return red.softmax(this, dim, true); }
  logsumexp(dim: number, keepdim = false): Tensor { return red.logsumexp(this, dim, keepdim); }

  // ---- linear algebra ---------------------------------------------------------------------------
  /** Matrix product with PyTorch's rules: 1-D, 2-D, and batched with broadcast batch dims. */
  matmul(other: Tensor): Tensor { return matmul(this, other); }

  // ---- shape ------------------------------------------------------------------------------------
  reshape(...shape: (number | readonly number[])[]): Tensor { return sh.reshape(this, flatArgs(shape), false); }
  /** Like reshape, but never copies (an error when the layout does not allow a view). */
  view(...shape: (number | readonly number[])[]): Tensor { return sh.reshape(this, flatArgs(shape), true); }
  flatten(startDim = 0, endDim = -1): Tensor { return sh.flatten(this, startDim, endDim); }
  squeeze(dim?: number): Tensor { return sh.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return sh.unsqueeze(this, dim); }
  transpose(dim0: number, dim1: number): Tensor { return sh.transpose(this, dim0, dim1); }
  /** The transpose of a 2-D tensor. */
  t(): Tensor {
    if (this.ndim > 2) throw new SimdgradError(`t: expects a tensor with ≤ 2 dims (got ${this.ndim}) (help: use transpose(d0, d1))`);
    return this.ndim < 2 ? this.clone() : sh.transpose(this, 0, 1);
  }
  permute(...dims: (number | readonly number[])[]): Tensor { return sh.permute(this, flatArgs(dims)); }
  expand(...shape: (number | readonly number[])[]): Tensor { return sh.expand(this, flatArgs(shape)); }
  /** Elements start…start+length-1 along dim (a view). */
  narrow(dim: number, start: number, length: number): Tensor { return sh.narrow(this, dim, start, length); }
  /** Elements start…end-1 (end exclusive, negative counts from the end) along dim, with a step (a view). */
  slice(dim: number, start = 0, end?: number, step = 1): Tensor { return sh.slice(this, dim, start, end, step); }

  // ---- indexing ---------------------------------------------------------------------------------
  /** Picks entries along dim by a 1-D int32 index (embedding lookup). */
  indexSelect(dim: number, index: Tensor): Tensor { return ix.indexSelect(this, dim, index); }
  /** out[…i…] = this[…index[…i…]…] along dim (PyTorch's gather). */
  gather(dim: number, index: Tensor): Tensor { return ix.gather(this, dim, index); }
}

setTensorCheck((v: unknown): v is Tensor => v instanceof Tensor);

function checkNum(op: string, v: number, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new SimdgradError(`${op}: ${what} must be a number (got ${String(v)})`);
  return v;
}

function checkFinite(op: string, v: number, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SimdgradError(`${op}: ${what} must be a finite number (got ${String(v)})`);
  return v;
}

/** Accepts `f(2, 3)` and `f([2, 3])` alike. */
function flatArgs(args: (number | readonly number[])[]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}
