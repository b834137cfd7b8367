// ONNX import for inference: decode a ModelProto, turn its initializers into tensors, and run its
// nodes (in file order, which the spec requires to be topological) with the engine's ops.
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { keep, scope } from '../memory.js';
import { Module } from '../nn/module.js';
import * as F from '../nn/functional.js';
import { full, tensor } from '../ops/creation.js';
import { where } from '../ops/elementwise.js';
import { broadcastShapes } from '../shape.js';
import { cat } from '../ops/shape.js';
import { Tensor } from '../tensor.js';
import { AttributeType, DataType, decodeModel, type AttributeProto, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './schema.js';

function fail(problem: string): never {
  throw new SimdgradError(`importModel: ${problem}`);
}

/** A graph input or output: its name, element type and shape (symbolic dims as their names, or null). */
export interface OnnxValueInfo {
  name: string;
  dtype: 'float32' | 'int32';
  shape: (number | string | null)[];
}

/** The ONNX ops that `importModel` can run. */
export const SUPPORTED_OPS = [
  'Add', 'AveragePool', 'BatchNormalization', 'Cast', 'Clip', 'Concat', 'Constant', 'ConstantOfShape', 'Conv', 'Div', 'Dropout', 'Elu',
  'Equal', 'Erf', 'Expand', 'Flatten', 'Gather', 'Gelu', 'Gemm', 'GlobalAveragePool', 'Greater', 'GreaterOrEqual', 'Identity',
  'LayerNormalization', 'LeakyRelu', 'Less', 'LessOrEqual', 'LogSoftmax', 'MatMul', 'MaxPool', 'Mul', 'Neg', 'Not', 'Pad', 'Pow',
  'Range', 'ReduceMean', 'Relu', 'Reshape', 'Shape', 'Sigmoid', 'Slice', 'Softmax', 'Split', 'Sqrt', 'Squeeze', 'Sub', 'Tanh',
  'Transpose', 'Trilu', 'Unsqueeze', 'Where',
] as const;
const SUPPORTED = new Set<string>(SUPPORTED_OPS);

// ---- tensors from TensorProto ----------------------------------------------------------------------
function tensorFromProto(t: TensorProto, what: string): Tensor {
  if (t.dataLocation === 1) fail(`${what}: external data is not supported (help: save the model with its weights inside the file)`);
  const dims = (t.dims ?? []).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const need = (bytes: number) => {
    if (raw && raw.length !== count * bytes) fail(`${what}: raw_data has ${raw.length} bytes but shape ${fmtShape(dims)} needs ${count * bytes}`);
  };
  let data: Float32Array | Int32Array;
  switch (t.dataType) {
    case DataType.FLOAT:
      need(4);
      data = view ? Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)) : Float32Array.from(t.floatData ?? []);
      break;
    case DataType.DOUBLE:
      need(8);
      data = view ? Float32Array.from({ length: count }, (_, i) => view.getFloat64(i * 8, true)) : Float32Array.from(t.doubleData ?? []);
      break;
    case DataType.INT32: case DataType.INT16: case DataType.INT8: case DataType.UINT8: case DataType.UINT16: case DataType.BOOL: {
      const size = ({ [DataType.INT32]: 4, [DataType.INT16]: 2, [DataType.UINT16]: 2 } as Record<number, number>)[t.dataType] ?? 1;
      need(size);
      const get = (i: number) => {
        if (t.dataType === DataType.INT32) return view!.getInt32(i * 4, true);
        if (t.dataType === DataType.INT16) return view!.getInt16(i * 2, true);
        if (t.dataType === DataType.UINT16) return view!.getUint16(i * 2, true);
        if (t.dataType === DataType.INT8) return view!.getInt8(i);
        return view!.getUint8(i);
      };
      data = view ? Int32Array.from({ length: count }, (_, i) => get(i)) : Int32Array.from(t.int32Data ?? []);
      break;
    }
    case DataType.INT64: {
      need(8);
      const values = view ? Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) : (t.int64Data ?? []).map(Number);
      for (const v of values) {
        // NOTE: INT64_MAX/MIN appear as "to the end" in Slice-like inputs; clamp rather than wrap
        if (v > 2147483647 || v < -2147483648) { data = Int32Array.from(values, (x) => Math.max(-2147483648, Math.min(2147483647, x))); break; }
      }
      data ??= Int32Array.from(values);
      break;
    }
    default:
      fail(`${what}: data type ${t.dataType} is not supported (float, double, int8/16/32/64, uint8/16 and bool are)`);
  }
  if (data.length !== count) fail(`${what}: has ${data.length} values but shape ${fmtShape(dims)} needs ${count}`);
  return tensor(data, { shape: dims, dtype: data instanceof Int32Array ? 'int32' : 'float32' });
}

function elemDtype(elemType: number | undefined, what: string): 'float32' | 'int32' {
  if (elemType === DataType.FLOAT || elemType === DataType.DOUBLE || elemType === DataType.FLOAT16) return 'float32';
  if (elemType === DataType.INT32 || elemType === DataType.INT64 || elemType === DataType.INT8 || elemType === DataType.UINT8 || elemType === DataType.INT16 || elemType === DataType.BOOL) return 'int32';
  return fail(`${what}: element type ${elemType} is not supported`);
}

// ---- attributes ------------------------------------------------------------------------------------
class Attrs {
  private readonly map = new Map<string, AttributeProto>();
  constructor(private readonly node: NodeProto) {
    for (const a of node.attribute ?? []) this.map.set(a.name, a);
  }
  int(name: string, fallback: number): number {
    const a = this.map.get(name);
    return a === undefined ? fallback : Number(a.i ?? 0);
  }
  float(name: string, fallback: number): number {
    const a = this.map.get(name);
    return a === undefined ? fallback : Number(a.f ?? 0);
  }
  ints(name: string): number[] | null {
    const a = this.map.get(name);
    return a === undefined ? null : (a.ints ?? []).map(Number);
  }
  string(name: string, fallback: string): string {
    const a = this.map.get(name);
    return a?.s === undefined ? fallback : new TextDecoder().decode(a.s);
  }
  get(name: string): AttributeProto | undefined {
    return this.map.get(name);
  }
  /** Fails on an attribute value the import cannot honour. */
  require(name: string, ok: (a: AttributeProto) => boolean, why: string): void {
    const a = this.map.get(name);
    if (a !== undefined && !ok(a)) fail(`node '${this.node.name ?? ''}' (${this.node.opType}): ${why}`);
  }
}

/** ONNX pads [top, left, bottom, right] → the engine's symmetric [padH, padW]. */
function symmetricPads(node: NodeProto, attrs: Attrs): [number, number] {
  attrs.require('auto_pad', (a) => { const s = new TextDecoder().decode(a.s ?? new Uint8Array()); return s === '' || s === 'NOTSET'; }, 'auto_pad is not supported (help: export with explicit pads)');
  const p = checkInts(node, 'pads', attrs.ints('pads') ?? [0, 0, 0, 0], 0);
  if (p.length !== 4 || p[0] !== p[2] || p[1] !== p[3]) fail(`node '${node.name ?? ''}' (${node.opType}): only symmetric 2-d pads are supported (got [${p.join(', ')}])`);
  return [p[0]!, p[1]!];
}

/** Fails unless every value is an integer in [min, 2^31 − 1] (the kernels take int32 sizes; 2^32 would wrap to 0). */
function checkInts(node: NodeProto, name: string, values: number[], min: number): number[] {
  if (values.some((v) => !Number.isInteger(v) || v < min || v > 2147483647)) {
    fail(`node '${node.name ?? ''}' (${node.opType}): ${name} must be integers in [${min}, 2^31 - 1] (got [${values.join(', ')}])`);
  }
  return values;
}

function pair(node: NodeProto, name: string, v: number[] | null, fallback: [number, number], min = 1): [number, number] {
  if (v === null) return fallback;
  if (v.length !== 2) fail(`node '${node.name ?? ''}' (${node.opType}): ${name} must have 2 values for a 2-d op (got [${v.join(', ')}])`);
  checkInts(node, name, v, min);
  return [v[0]!, v[1]!];
}

// ---- small integer tensors (shapes, indices, masks) ---------------------------------------------------
// NOTE: the engine's arithmetic is float32 (int32 tensors are cast); ONNX int64 arithmetic on shapes
// (PyTorch writes Shape → Gather → Mul/Div → Concat → Reshape) must stay exact integer math, so
// int-only elementwise ops run here in JavaScript over the (tiny) values, with broadcasting.
function intElementwise(op: string, inputs: Tensor[], fn: (...v: number[]) => number): Tensor {
  const shape = inputs.reduce<number[]>((s, t) => broadcastShapes(op, s, t.shape), []);
  const size = shape.reduce((a, b) => a * b, 1);
  const arrays = inputs.map((t) => t.toInt32Array());
  // each input's stride per output dim (0 where it broadcasts)
  const strides = inputs.map((t) => {
    const st = new Array<number>(shape.length).fill(0);
    let acc = 1;
    for (let i = t.ndim - 1; i >= 0; i--) {
      const o = i + shape.length - t.ndim;
      st[o] = t.shape[i] === 1 ? 0 : acc;
      acc *= t.shape[i]!;
    }
    return st;
  });
  const out = new Int32Array(size);
  const index = new Array<number>(shape.length).fill(0);
  const args = new Array<number>(inputs.length);
  for (let k = 0; k < size; k++) {
    for (let j = 0; j < inputs.length; j++) {
      let off = 0;
      for (let d = 0; d < shape.length; d++) off += index[d]! * strides[j]![d]!;
      args[j] = arrays[j]![off]!;
    }
    out[k] = fn(...args);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return tensor(out, { shape, dtype: 'int32' });
}

const allInt = (ts: Tensor[]) => ts.every((t) => t.dtype === 'int32');
/** ONNX integer Div truncates toward zero. */
const intDiv = (a: number, b: number) => (b === 0 ? 0 : Math.trunc(a / b));

/** A 1-d or 0-d int tensor as numbers. */
const intsOf = (t: Tensor): number[] => Array.from(t.dtype === 'int32' ? t.toInt32Array() : t.toFloat32Array());

/** Elementwise binary: exact int math when both are int, else the engine's float ops. */
function binaryOp(op: string, a: Tensor, b: Tensor): Tensor {
  const intFns: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => (x + y) | 0, Sub: (x, y) => (x - y) | 0, Mul: (x, y) => Math.imul(x, y), Div: intDiv,
    Equal: (x, y) => +(x === y), Less: (x, y) => +(x < y), Greater: (x, y) => +(x > y),
    LessOrEqual: (x, y) => +(x <= y), GreaterOrEqual: (x, y) => +(x >= y), Pow: (x, y) => Math.trunc(x ** y),
  };
  if (allInt([a, b])) return intElementwise(op, [a, b], intFns[op]!);
  switch (op) {
    case 'Add': return a.add(b);
    case 'Sub': return a.sub(b);
    case 'Mul': return a.mul(b);
    case 'Div': return a.div(b);
    case 'Pow': return a.pow(b);
    case 'Equal': return a.eq(b).int();
    case 'Less': return a.lt(b).int();
    case 'Greater': return a.gt(b).int();
    case 'LessOrEqual': return a.le(b).int();
    default: return a.ge(b).int();
  }
}

/** The value of a `value` tensor attribute (ConstantOfShape), as a number and dtype. */
function fillValue(attrs: Attrs): { value: number; dtype: 'float32' | 'int32' } {
  const t = attrs.get('value')?.t;
  if (t === undefined) return { value: 0, dtype: 'float32' };
  const v = tensorFromProto(t, 'ConstantOfShape value');
  try {
    return { value: v.dtype === 'int32' ? v.toInt32Array()[0] ?? 0 : v.toFloat32Array()[0] ?? 0, dtype: v.dtype === 'int32' ? 'int32' : 'float32' };
  } finally {
    v.dispose();
  }
}

/** ONNX Slice on one axis (start/end clamped as the spec says), with any nonzero step. */
function sliceAxis(t: Tensor, axis: number, start: number, end: number, step: number): Tensor {
  const dim = t.shape[axis]!;
  const norm = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
  if (step > 0) {
    const s = norm(start, 0, dim), e = norm(end, 0, dim);
    const run = t.narrow(axis, s, Math.max(0, e - s));
    return step === 1 ? run : run.slice(axis, 0, undefined, step);
  }
  const s = norm(start, -1, dim - 1), e = norm(end, -1, dim - 1);
  const idx: number[] = [];
  for (let i = s; i > e; i += step) idx.push(i);
  return t.indexSelect(axis, tensor(Int32Array.from(idx), { dtype: 'int32' }));
}

// ---- the ops -----------------------------------------------------------------------------------------
type Get = (i: number) => Tensor | null;

function runNode(node: NodeProto, get: Get): Tensor | Tensor[] {
  const attrs = new Attrs(node);
  const x = (i: number): Tensor => get(i) ?? fail(`node '${node.name ?? ''}' (${node.opType}): input ${i} is missing`);
  const opt = (i: number): Tensor | null => get(i);
  const axisOf = (t: Tensor, axis: number) => (axis < 0 ? axis + t.ndim : axis);
  switch (node.opType) {
    case 'Identity': case 'Dropout': return x(0);
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow':
    case 'Equal': case 'Less': case 'Greater': case 'LessOrEqual': case 'GreaterOrEqual':
      return binaryOp(node.opType, x(0), x(1));
    case 'Neg': return x(0).dtype === 'int32' ? intElementwise('Neg', [x(0)], (v) => -v | 0) : x(0).neg();
    case 'Not': return intElementwise('Not', [x(0).dtype === 'int32' ? x(0) : x(0).ne(0).int()], (v) => +(v === 0));
    case 'Where': {
      const c = x(0), a = x(1), b = x(2);
      if (allInt([a, b])) return intElementwise('Where', [c.dtype === 'int32' ? c : c.ne(0).int(), a, b], (k, u, w) => (k !== 0 ? u : w));
      return where(c, a.float(), b.float());
    }
    case 'Gelu': {
      const approximate = attrs.string('approximate', 'none');
      if (approximate !== 'none' && approximate !== 'tanh') fail(`node '${node.name ?? ''}' (Gelu): approximate must be 'none' or 'tanh' (got '${approximate}')`);
      return x(0).gelu(approximate);
    }
    case 'Cast': {
      const to = attrs.int('to', DataType.FLOAT), t = x(0);
      if (to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16 || to === DataType.BFLOAT16) return t.float();
      if (to === DataType.BOOL) return t.dtype === 'int32' ? intElementwise('Cast', [t], (v) => +(v !== 0)) : t.ne(0).int();
      if ([DataType.INT32, DataType.INT64, DataType.INT16, DataType.INT8, DataType.UINT8, DataType.UINT16].includes(to as 6)) return t.int();
      return fail(`node '${node.name ?? ''}' (Cast): cast to data type ${to} is not supported`);
    }
    case 'Clip': {
      const t = x(0), lo = opt(1), hi = opt(2);
      const min = lo === null ? null : intsOf(lo)[0]!, max = hi === null ? null : intsOf(hi)[0]!;
      if (t.dtype === 'int32') return intElementwise('Clip', [t], (v) => Math.min(max ?? v, Math.max(min ?? v, v)));
      return t.clamp(min, max);
    }
    case 'Shape': {
      const t = x(0);
      const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + t.ndim : a, 0), t.ndim);
      const dims = t.shape.slice(clampAxis(attrs.int('start', 0)), clampAxis(attrs.int('end', t.ndim)));
      return tensor(Int32Array.from(dims), { shape: [dims.length], dtype: 'int32' });
    }
    case 'Unsqueeze': {
      const t = x(0);
      const rank = t.ndim + intsOf(x(1)).length;
      const axes = new Set(intsOf(x(1)).map((a) => (a < 0 ? a + rank : a)));
      if ([...axes].some((a) => a < 0 || a >= rank)) fail(`node '${node.name ?? ''}' (Unsqueeze): axes [${intsOf(x(1)).join(', ')}] out of range for ${rank} output dims`);
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(axes.has(i) ? 1 : t.shape[j++]!);
      return t.reshape(shape);
    }
    case 'Squeeze': {
      const t = x(0), axesIn = opt(1);
      const axes = new Set(axesIn === null ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : intsOf(axesIn).map((a) => (a < 0 ? a + t.ndim : a)));
      for (const a of axes) if (t.shape[a] !== 1) fail(`node '${node.name ?? ''}' (Squeeze): axis ${a} of ${fmtShape(t.shape)} is not 1`);
      return t.reshape(t.shape.filter((_, i) => !axes.has(i)));
    }
    case 'Concat': {
      const all = node.input.map((_, i) => x(i));
      const nonEmpty = all.filter((t) => !t.shape.includes(0));
      const parts = nonEmpty.length > 0 ? nonEmpty : [all[0]!];
      const axis = axisOf(parts[0]!, attrs.int('axis', 0));
      const dtype = parts.every((t) => t.dtype === 'int32') ? 'int32' : 'float32';
      return parts.length === 1 ? parts[0]! : cat(parts.map((t) => (dtype === 'float32' ? t.float() : t)), axis);
    }
    case 'ConstantOfShape': {
      const { value, dtype } = fillValue(attrs);
      return full(checkInts(node, 'shape', intsOf(x(0)), 0), value, { dtype });
    }
    case 'Range': {
      const [start, limit, delta] = [x(0), x(1), x(2)].map((t) => intsOf(t)[0]!) as [number, number, number];
      if (delta === 0) fail(`node '${node.name ?? ''}' (Range): delta must not be 0`);
      const n = Math.max(0, Math.ceil((limit - start) / delta));
      const values = Array.from({ length: n }, (_, i) => start + i * delta);
      return x(0).dtype === 'int32' ? tensor(Int32Array.from(values), { dtype: 'int32' }) : tensor(Float32Array.from(values));
    }
    case 'Expand': {
      const t = x(0);
      const shape = broadcastShapes('Expand', t.shape, intsOf(x(1)));
      return t.expand(shape).contiguous();
    }
    case 'Trilu': {
      const t = x(0), k = opt(1) === null ? 0 : intsOf(x(1))[0]!;
      if (t.ndim < 2) fail(`node '${node.name ?? ''}' (Trilu): input must have at least 2 dims (got ${fmtShape(t.shape)})`);
      const upper = attrs.int('upper', 1) === 1;
      const rows = t.shape[t.ndim - 2]!, cols = t.shape[t.ndim - 1]!;
      const keep01 = new Int32Array(rows * cols);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) keep01[i * cols + j] = +(upper ? j - i >= k : j - i <= k);
      const mask = tensor(keep01, { shape: [rows, cols], dtype: 'int32' });
      return t.dtype === 'int32' ? intElementwise('Trilu', [mask, t], (m, v) => (m ? v : 0)) : where(mask, t, 0);
    }
    case 'Slice': {
      let t = x(0);
      const starts = intsOf(x(1)), ends = intsOf(x(2));
      const axes = opt(3) === null ? starts.map((_, i) => i) : intsOf(x(3)).map((a) => axisOf(t, a));
      const steps = opt(4) === null ? starts.map(() => 1) : intsOf(x(4));
      if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
        fail(`node '${node.name ?? ''}' (Slice): starts, ends, axes and steps must have one value per sliced axis (got ${starts.length}, ${ends.length}, ${axes.length}, ${steps.length})`);
      }
      axes.forEach((axis, i) => {
        if (axis < 0 || axis >= t.ndim) fail(`node '${node.name ?? ''}' (Slice): axis ${axis} out of range for ${fmtShape(t.shape)}`);
        if (steps[i] === 0) fail(`node '${node.name ?? ''}' (Slice): steps must not be 0`);
        t = sliceAxis(t, axis, starts[i]!, ends[i]!, steps[i]!);
      });
      return t.contiguous();
    }
    case 'Split': {
      const t = x(0);
      const axis = axisOf(t, attrs.int('axis', 0));
      const dim = t.shape[axis]!, count = node.output.length;
      const splitIn = opt(1);
      let sizes: number[];
      if (splitIn !== null) sizes = intsOf(splitIn);
      else if (attrs.ints('split') !== null) sizes = attrs.ints('split')!;
      else {
        const parts = attrs.int('num_outputs', count);
        const chunk = Math.ceil(dim / parts);
        sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
      }
      if (sizes.length !== count || sizes.reduce((a, b) => a + b, 0) !== dim) {
        fail(`node '${node.name ?? ''}' (Split): split sizes [${sizes.join(', ')}] must be ${count} values adding up to dim ${axis} of ${fmtShape(t.shape)}`);
      }
      let at = 0;
      return sizes.map((size) => { const part = t.narrow(axis, at, size).contiguous(); at += size; return part; });
    }
    case 'ReduceMean': {
      const t = x(0);
      const axesIn = (opt(1) === null ? attrs.ints('axes') ?? [] : intsOf(x(1)));
      const keepDims = attrs.int('keepdims', 1) === 1;
      if (axesIn.length === 0) return attrs.int('noop_with_empty_axes', 0) === 1 ? t : t.mean(t.shape.map((_, i) => i), keepDims);
      return t.mean(axesIn.map((a) => axisOf(t, a)), keepDims);
    }
    case 'Sqrt': return x(0).sqrt();
    case 'Erf': return x(0).erf();
    case 'Relu': return x(0).relu();
    case 'Sigmoid': return x(0).sigmoid();
    case 'Tanh': return x(0).tanh();
    case 'LeakyRelu': return x(0).leakyRelu(attrs.float('alpha', 0.01));
    case 'Elu': return x(0).elu(attrs.float('alpha', 1));
    case 'Softmax': return x(0).softmax(attrs.int('axis', -1));
    case 'LogSoftmax': return x(0).logSoftmax(attrs.int('axis', -1));
    case 'MatMul': return x(0).matmul(x(1));
    case 'Transpose': {
      const t = x(0);
      const perm = attrs.ints('perm') ?? t.shape.map((_, i) => t.ndim - 1 - i);
      return t.permute(perm).contiguous();
    }
    case 'Gemm': {
      const a0 = x(0), b0 = x(1), c = opt(2);
      const a = attrs.int('transA', 0) ? a0.t() : a0;
      const b = attrs.int('transB', 0) ? b0.t() : b0;
      const alpha = attrs.float('alpha', 1), beta = attrs.float('beta', 1);
      let y = a.matmul(b);
      if (alpha !== 1) y = y.mul(alpha);
      if (c !== null) y = y.add(beta === 1 ? c : c.mul(beta));
      return y;
    }
    case 'Conv': {
      const w = x(1);
      if (w.ndim !== 4) fail(`node '${node.name ?? ''}' (Conv): only 2-d convolutions are supported (weight ${fmtShape(w.shape)})`);
      return F.conv2d(x(0), w, opt(2), {
        stride: pair(node, 'strides', attrs.ints('strides'), [1, 1]), padding: symmetricPads(node, attrs),
        dilation: pair(node, 'dilations', attrs.ints('dilations'), [1, 1]), groups: checkInts(node, 'group', [attrs.int('group', 1)], 1)[0]!,
      });
    }
    case 'MaxPool': {
      if (node.output.length > 1 && node.output[1] !== '') fail(`node '${node.name ?? ''}' (MaxPool): the Indices output is not supported`);
      const k = pair(node, 'kernel_shape', attrs.ints('kernel_shape'), [1, 1]);
      return F.maxPool2d(x(0), k, {
        stride: pair(node, 'strides', attrs.ints('strides'), [1, 1]), padding: symmetricPads(node, attrs),
        dilation: pair(node, 'dilations', attrs.ints('dilations'), [1, 1]), ceilMode: attrs.int('ceil_mode', 0) === 1,
      });
    }
    case 'AveragePool': {
      const k = pair(node, 'kernel_shape', attrs.ints('kernel_shape'), [1, 1]);
      return F.avgPool2d(x(0), k, {
        stride: pair(node, 'strides', attrs.ints('strides'), [1, 1]), padding: symmetricPads(node, attrs),
        ceilMode: attrs.int('ceil_mode', 0) === 1, countIncludePad: attrs.int('count_include_pad', 0) === 1,
      });
    }
    case 'GlobalAveragePool': return F.adaptiveAvgPool2d(x(0), 1);
    case 'BatchNormalization':
      if (attrs.int('training_mode', 0) !== 0) fail(`node '${node.name ?? ''}' (BatchNormalization): training_mode is not supported`);
      return F.batchNorm(x(0), x(3), x(4), x(1), x(2), false, 0.1, attrs.float('epsilon', 1e-5));
    case 'LayerNormalization': {
      const t = x(0);
      const axis = axisOf(t, attrs.int('axis', -1));
      return F.layerNorm(t, t.shape.slice(axis), x(1), opt(2), attrs.float('epsilon', 1e-5));
    }
    case 'Gather': {
      const data = x(0), idx = x(1);
      const axis = axisOf(data, attrs.int('axis', 0));
      let flat = idx.dtype === 'int32' ? idx.reshape([-1]) : idx.int().reshape([-1]);
      // NOTE: ONNX allows negative indices (PyTorch's shape arithmetic gathers dim -1 this way)
      const size = data.shape[axis]!;
      if (flat.shape[0]! <= 64 && intsOf(flat).some((i) => i < 0)) flat = tensor(Int32Array.from(intsOf(flat), (i) => (i < 0 ? i + size : i)), { dtype: 'int32' });
      const picked = data.indexSelect(axis, flat);
      return picked.reshape([...data.shape.slice(0, axis), ...idx.shape, ...data.shape.slice(axis + 1)]);
    }
    case 'Flatten': {
      const t = x(0);
      const axis = axisOf(t, attrs.int('axis', 1));
      const rows = t.shape.slice(0, axis).reduce((a, b) => a * b, 1);
      return t.reshape([rows, -1]);
    }
    case 'Pad': {
      // PyTorch writes AvgPool2d as Pad + AveragePool; done here with cat (and slice for negative pads)
      const mode = attrs.string('mode', 'constant');
      if (mode !== 'constant') fail(`node '${node.name ?? ''}' (Pad): only mode 'constant' is supported (got '${mode}')`);
      let t = x(0);
      const pads = Array.from(x(1).toInt32Array());
      const value = opt(2)?.item() ?? 0;
      const axesInput = opt(3);
      const axes = axesInput ? Array.from(axesInput.toInt32Array(), (a) => axisOf(t, a)) : t.shape.map((_, i) => i);
      if (pads.length !== 2 * axes.length) fail(`node '${node.name ?? ''}' (Pad): expected ${2 * axes.length} pads (got ${pads.length})`);
      axes.forEach((axis, i) => {
        const before = pads[i]!, after = pads[i + axes.length]!;
        if (before < 0) t = t.slice(axis, -before);
        if (after < 0) t = t.slice(axis, 0, t.shape[axis]! + after);
        const side = (n: number) => full(t.shape.map((d, j) => (j === axis ? n : d)), value, { dtype: t.dtype });
        const parts = [...(before > 0 ? [side(before)] : []), t, ...(after > 0 ? [side(after)] : [])];
        if (parts.length > 1) t = cat(parts, axis);
      });
      return t;
    }
    case 'Reshape': {
      const t = x(0);
      const target = Array.from(x(1).toInt32Array());
      // 0 copies the input's dim unless allowzero=1
      const allowZero = attrs.int('allowzero', 0) === 1;
      return t.reshape(target.map((d, i) => (d === 0 && !allowZero ? t.shape[i]! : d)));
    }
    default:
      return fail(`node '${node.name ?? ''}': op ${node.opType} is not supported`);
  }
}

function constantNode(node: NodeProto): Tensor {
  const attrs = new Attrs(node);
  const value = attrs.get('value');
  if (value?.t) return tensorFromProto(value.t, `Constant '${node.name ?? ''}'`);
  const f = attrs.get('value_float'), i = attrs.get('value_int'), fs = attrs.get('value_floats'), is = attrs.get('value_ints');
  if (f) return tensor([Number(f.f ?? 0)], { shape: [] });
  if (i) return tensor(Int32Array.of(Number(i.i ?? 0)), { shape: [], dtype: 'int32' });
  if (fs) return tensor(Float32Array.from(fs.floats ?? []));
  if (is) return tensor(Int32Array.from((is.ints ?? []).map(Number)), { dtype: 'int32' });
  return fail(`Constant '${node.name ?? ''}': only value, value_float(s) and value_int(s) are supported`);
}

/**
 * An imported ONNX model, runnable with the engine's ops. It is a Module (always in eval mode) whose
 * `forward(x)` feeds the first graph input and returns the first output; `run` takes and returns every
 * input and output by name. The initializers are its buffers; `dispose()` frees them.
 */
export class OnnxModel extends Module {
  readonly inputs: OnnxValueInfo[];
  readonly outputs: OnnxValueInfo[];
  /** The opset the file declares for the default domain. */
  readonly opsetVersion: number;
  readonly producerName: string;
  /** The file's `metadata_props`. */
  readonly metadata: Record<string, string>;
  private readonly graph: GraphProto;
  private readonly constants = new Map<string, Tensor>();
  /** Values of nodes whose inputs are all constants (a weight's Transpose, PyTorch's shape constants), computed once at import. */
  private readonly folded = new Map<string, Tensor>();
  private readonly foldedNodes = new Set<NodeProto>();

  /** @internal use importModel */
  constructor(proto: ModelProto) {
    super();
    this.training = false;
    const graph = proto.graph ?? fail('the model has no graph');
    this.graph = graph;
    const opset = (proto.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
    this.opsetVersion = Number(opset?.version ?? 0);
    if (this.opsetVersion < 13) fail(`opset ${this.opsetVersion} is older than 13, the oldest supported (help: re-export with opset_version=17)`);
    this.producerName = proto.producerName ?? '';
    this.metadata = Object.fromEntries((proto.metadataProps ?? []).map((p) => [p.key, p.value]));

    // each unsupported op once, with the first node that uses it
    const unsupported = new Map<string, string>();
    for (const n of graph.node ?? []) {
      const domain = n.domain ?? '';
      if (SUPPORTED.has(n.opType) && (domain === '' || domain === 'ai.onnx')) continue;
      const op = domain === '' ? n.opType : `${domain}.${n.opType}`;
      if (!unsupported.has(op)) unsupported.set(op, n.name ?? '');
    }
    if (unsupported.size > 0) {
      fail(`unsupported ops: ${[...unsupported].map(([op, node]) => `${op} (node '${node}')`).join(', ')} (supported: ${SUPPORTED_OPS.join(', ')})`);
    }

    try {
      for (const init of graph.initializer ?? []) {
        const t = keep(tensorFromProto(init, `initializer '${init.name ?? ''}'`));
        // NOTE: a name defined twice (invalid ONNX) keeps the last tensor; the earlier one is freed, not leaked
        this.constants.get(init.name ?? '')?.dispose();
        this.constants.set(init.name ?? '', t);
        this.registerBuffer(init.name ?? '', t);
      }
      for (const node of graph.node ?? []) {
        if (node.opType !== 'Constant') continue;
        const t = keep(constantNode(node));
        this.constants.get(node.output[0]!)?.dispose();
        this.constants.set(node.output[0]!, t);
        this.registerBuffer(node.output[0]!, t);
      }
      this.foldConstants(graph);
      const info = (v: { name: string; type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } } }): OnnxValueInfo => ({
        name: v.name,
        dtype: elemDtype(v.type?.tensorType?.elemType, `value '${v.name}'`),
        shape: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? Number(d.dimValue) : d.dimParam ?? null)),
      });
      // graph inputs may list initializers too (IR < 4 style); those are not fed by the caller
      this.inputs = (graph.input ?? []).filter((v) => !this.constants.has(v.name)).map(info);
      this.outputs = (graph.output ?? []).map(info);
      if (this.inputs.length === 0) fail('the graph has no inputs');
      if (this.outputs.length === 0) fail('the graph has no outputs');
    } catch (e) {
      // NOTE: every check that can fail after the first initializer is loaded sits inside this try, so a
      // rejected file frees what it loaded
      for (const t of this.constants.values()) t.dispose();
      for (const t of this.folded.values()) if (!t.disposed) t.dispose();
      throw e;
    }
  }

  /**
   * Runs, once, every node whose inputs are all initializers, constants or earlier folded values, and
   * keeps its outputs, so `run` does not redo a weight's Transpose (or PyTorch's constant shape
   * arithmetic) on every call. The folded values are not buffers: the state dict stays the file's
   * initializers.
   */
  private foldConstants(graph: GraphProto): void {
    const known = (name: string) => this.constants.get(name) ?? this.folded.get(name);
    for (const node of graph.node ?? []) {
      if (node.opType === 'Constant') continue;
      const inputs = node.input.filter((name) => name !== '');
      if (inputs.length === 0 || !inputs.every((name) => known(name) !== undefined)) continue;
      const results = scope(() => noGrad(() => {
        const r = runNode(node, (i) => (node.input[i] ? known(node.input[i]!) ?? null : null));
        return Array.isArray(r) ? r : [r];
      }));
      results.forEach((t, i) => {
        const name = node.output[i];
        // an output that is its own input (Identity) is owned already; anything else is kept here
        if (!name || [...this.constants.values(), ...this.folded.values()].includes(t)) return;
        this.folded.get(name)?.dispose();
        this.folded.set(name, keep(t));
      });
      node.output.forEach((name, i) => {
        const t = results[i];
        if (name && t && !this.folded.has(name)) this.folded.set(name, t);
      });
      this.foldedNodes.add(node);
    }
  }

  /** Frees the initializers, constants and folded values. */
  override dispose(): void {
    const owned = new Set(this.buffers());
    for (const t of this.folded.values()) if (!owned.has(t) && !t.disposed) t.dispose();
    this.folded.clear();
    super.dispose();
  }

  /**
   * Runs the graph on named inputs and returns every graph output by name. Intermediate tensors are
   * freed; the outputs are new tensors the caller owns.
   *
   * @example
   * ```ts
   * const { output } = model.run({ input: x });
   * ```
   */
  run(feeds: Record<string, Tensor>): Record<string, Tensor> {
    for (const v of this.inputs) {
      const t = feeds[v.name];
      if (!(t instanceof Tensor)) fail(`run: input '${v.name}' is missing (inputs: ${this.inputs.map((i) => i.name).join(', ')})`);
      t.assertAlive('run');
      if (t.ndim !== v.shape.length || v.shape.some((d, i) => typeof d === 'number' && d !== t.shape[i])) {
        fail(`run: input '${v.name}' has shape ${fmtShape(t.shape)}, the model expects [${v.shape.map((d) => d ?? '?').join(', ')}]`);
      }
    }
    return scope(() => noGrad(() => {
      const values = new Map<string, Tensor>([...this.constants, ...this.folded]);
      for (const v of this.inputs) {
        const t = feeds[v.name]!;
        values.set(v.name, t.dtype === v.dtype ? t : v.dtype === 'int32' ? t.int() : t.float());
      }
      for (const node of this.graph.node ?? []) {
        if (node.opType === 'Constant' || this.foldedNodes.has(node)) continue;
        const get: Get = (i) => {
          const name = node.input[i];
          if (name === undefined || name === '') return null;
          return values.get(name) ?? fail(`node '${node.name ?? ''}' (${node.opType}) reads '${name}', which no earlier node or initializer makes (the graph is not in topological order?)`);
        };
        const result = runNode(node, get);
        if (Array.isArray(result)) result.forEach((t, i) => { if (node.output[i]) values.set(node.output[i]!, t); });
        else values.set(node.output[0]!, result);
      }
      const out: Record<string, Tensor> = {};
      for (const v of this.outputs) {
        const t = values.get(v.name) ?? fail(`the graph output '${v.name}' is never computed`);
        // an output that is an input or initializer is copied, so the caller may dispose it freely
        out[v.name] = t.clone();
      }
      return out;
    }));
  }

  /** Runs the graph on its first input and returns its first output. */
  forward(x: Tensor): Tensor {
    const result = this.run({ [this.inputs[0]!.name]: x });
    const first = result[this.outputs[0]!.name]!;
    for (const [k, t] of Object.entries(result)) if (k !== this.outputs[0]!.name) t.dispose();
    return first;
  }

  override train(mode = true): this {
    if (mode) throw new SimdgradError('OnnxModel: imported models are for inference only (help: rebuild the architecture with nn layers and load the weights to train)');
    return this;
  }

  override extraRepr(): string {
    return `inputs=${this.inputs.map((i) => i.name).join(',')}, outputs=${this.outputs.map((o) => o.name).join(',')}, nodes=${this.graph.node?.length ?? 0}, opset=${this.opsetVersion}`;
  }
}

/**
 * Reads ONNX model bytes (a ModelProto) into a model that runs on the engine, for inference. Supports
 * the ops the export writes plus the ones PyTorch's exporter uses for the same layers (see
 * `SUPPORTED_OPS`): MLPs and CNNs (2-d Conv/pooling with symmetric pads), and attention, Transformer
 * layers and embedding language models, including the int64 shape arithmetic (Shape, Gather, Concat,
 * Slice, …) and masks (Trilu, Where, Equal) that PyTorch writes for them; float32 and int (→ int32)
 * tensors. A graph with any other op is refused up front, naming each op and a node that uses it.
 *
 * @example
 * ```ts
 * import { importModel } from '@simdgrad/core/onnx';
 * const model = importModel(bytes);           // e.g. from fs.readFileSync('model.onnx')
 * const y = model.forward(randn([1, 3, 28, 28]));
 * const lm = importModel(gptBytes);            // an exported language model
 * const { output } = lm.run({ input: ids });   // int32 ids [B, T] → logits [B, T, vocab]
 * ```
 */
export function importModel(bytes: Uint8Array | ArrayBuffer): OnnxModel {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) fail(`bytes must be a Uint8Array or ArrayBuffer (got ${bytes === null ? 'null' : typeof bytes})`);
  let proto: ModelProto;
  try {
    proto = decodeModel(bytes);
  } catch (e) {
    fail(`the bytes are not an ONNX model (${(e as Error).message})`);
  }
  return new OnnxModel(proto);
}
