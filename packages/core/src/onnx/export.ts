// ONNX export: run the model once on a sample input, record which layer made which tensor, and write
// one ONNX node (or a few) per layer, with the parameters and buffers as initializers named by their
// PyTorch state-dict keys.
//
// The trace is at layer granularity: every known layer (Linear, Conv2d, …) is a leaf whose forward is
// wrapped while the model runs; containers (Sequential, text.GPT, or any Module subclass whose forward
// only chains layers) are traced through. The sequence layers (MultiheadAttention, the Transformer
// layers, positional embeddings) are leaves too, written op for op as their forward computes, with
// lengths read from the input's shape in the graph so one export runs on any batch size and length.
// Tensor arithmetic written directly in a custom forward is not recorded, and the export says so by
// name instead of writing a wrong graph.
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { MASKED_SCORE, MultiheadAttention, type MultiheadAttentionCall } from '../nn/attention.js';
import { Module } from '../nn/module.js';
import { LearnedPositionalEmbedding, SinusoidalPositionalEncoding } from '../nn/positional.js';
import { TransformerDecoderLayer, TransformerEncoderLayer, type DecoderLayerCall, type EncoderLayerCall } from '../nn/transformer.js';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, ELU, Embedding, Flatten, GELU, LayerNorm, LeakyReLU,
  Linear, LogSoftmax, MaxPool2d, ReLU, Sigmoid, SiLU, Softmax, Tanh,
} from '../nn/layers.js';
import { Tensor } from '../tensor.js';
import { AttributeType, DataType, encodeModel, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto } from './schema.js';

/** The opset written by default (the first with LayerNormalization). */
export const DEFAULT_OPSET = 17;
/** ONNX IR version 8 goes with opsets 17–18. */
const IR_VERSION = 8;

export interface ExportOptions {
  /** The default-domain opset version to declare (17 or 18; default 17). */
  opsetVersion?: number;
  /** The graph input's name (default 'input'). */
  inputName?: string;
  /** The graph output's name (default 'output'). */
  outputName?: string;
  /**
   * Make dim 0 of the input and output symbolic ('batch'), so the model runs on any batch size
   * (default true). With false the sample input's shape is fixed.
   */
  dynamicBatch?: boolean;
  /** The graph's name (default the model's class name). */
  graphName?: string;
  /** Extra `metadata_props` entries. */
  metadata?: Record<string, string>;
  /**
   * The graph inputs' names when `sampleInput` is an array (default `inputName`, then
   * `${inputName}_1`, …).
   */
  inputNames?: string[];
  /**
   * More symbolic dims, by graph input or output name, as PyTorch's `dynamic_axes`:
   * `{ input: { 1: 'sequence' }, output: { 1: 'sequence' } }` lets a language model run on any length
   * (its positions and causal masks are computed from the input's shape in the graph).
   */
  dynamicAxes?: Record<string, Record<number, string>>;
  /**
   * The ONNX element type written for int32 inputs (default 'int32'). 'int64' matches what PyTorch
   * models take for token ids; the engine itself runs on int32.
   */
  intInputType?: 'int32' | 'int64';
}

/** What the trace records for each layer call, in call order. */
interface Call {
  name: string;
  module: Module;
  input: Tensor;
  /** Every argument of the call (key, value, memory, the mask options, a position offset, …). */
  args: unknown[];
  output: Tensor;
}

/** The layer classes the export knows how to write; anything else is traced through. */
const LEAVES = [
  Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, LayerNorm, Embedding, Flatten, Dropout,
  ReLU, Sigmoid, Tanh, SiLU, GELU, LeakyReLU, ELU, Softmax, LogSoftmax,
  // composite layers: written as a whole (their own forward mixes sublayers with tensor arithmetic)
  MultiheadAttention, TransformerEncoderLayer, TransformerDecoderLayer, LearnedPositionalEmbedding, SinusoidalPositionalEncoding,
] as const;

const isLeaf = (m: Module): boolean => LEAVES.some((cls) => m instanceof cls);

function fail(problem: string): never {
  throw new SimdgradError(`exportModel: ${problem}`);
}

const attrInt = (name: string, i: number): AttributeProto => ({ name, type: AttributeType.INT, i });
const attrInts = (name: string, ints: readonly number[]): AttributeProto => ({ name, type: AttributeType.INTS, ints: [...ints] });
const attrFloat = (name: string, f: number): AttributeProto => ({ name, type: AttributeType.FLOAT, f });

type Pair = number | [number, number];
const pairOf = (v: Pair | null | undefined, fallback: Pair): [number, number] => {
  const p = v ?? fallback;
  return typeof p === 'number' ? [p, p] : [p[0], p[1]];
};

/** Builds the node list and the initializers while walking the recorded calls. */
class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private readonly initializerNames = new Map<Tensor, string>();
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(private readonly stateNames: Map<Tensor, string>) {}

  /** A fresh value name starting with `hint`. */
  fresh(hint: string): string {
    let name = hint;
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  node(opType: string, inputs: string[], outputs: string[], attributes: AttributeProto[] = [], name?: string): void {
    this.nodes.push({ opType, input: inputs, output: outputs, attribute: attributes, name: name ?? this.fresh(`${opType}_node`), domain: '' });
  }

  /** The initializer holding a module's tensor (named by its state-dict key), added once. */
  weight(t: Tensor, fallback: string): string {
    const known = this.initializerNames.get(t);
    if (known !== undefined) return known;
    const name = this.fresh(this.stateNames.get(t) ?? fallback);
    this.initializerNames.set(t, name);
    this.initializers.push(tensorProto(name, t.shape, t.dtype === 'int32' ? t.toInt32Array() : t.toFloat32Array()));
    return name;
  }

  /** A float32 constant initializer made here (ones for a missing scale, a reshape target, …). */
  constant(hint: string, dims: number[], values: Float32Array | BigInt64Array): string {
    const name = this.fresh(hint);
    this.initializers.push(tensorProto(name, dims, values));
    return name;
  }
}

function tensorProto(name: string, dims: readonly number[], values: Float32Array | Int32Array | BigInt64Array): TensorProto {
  // NOTE: raw_data is little-endian by the spec, and so are typed arrays on every platform we run on
  const dataType = values instanceof Float32Array ? DataType.FLOAT : values instanceof Int32Array ? DataType.INT32 : DataType.INT64;
  return { name, dims: [...dims], dataType, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice() };
}

const elemTypeOf = (t: Tensor): number => (t.dtype === 'int32' ? DataType.INT32 : DataType.FLOAT);

function valueInfo(name: string, elemType: number, shape: readonly number[], symbolic: Record<number, string>): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d, i) => (symbolic[i] !== undefined ? { dimParam: symbolic[i] } : { dimValue: d })) },
      },
    },
  };
}

/** Resolves the tensors a layer call reads to graph value names. */
interface Refs {
  /** A tensor that the graph computes (a graph input or a recorded layer's output), or a failure naming `what`. */
  value(t: Tensor, what: string): string;
  /**
   * A mask: a graph value when the graph computes it, else a constant initializer when it is the
   * model's state (a buffer or a module field), else a failure (it was computed in forward, perhaps
   * from the input, so a constant would be wrong for other inputs).
   */
  mask(t: Tensor, what: string): string;
}

/** Writes nodes for one layer, under its value-name prefix. */
class Emitter {
  constructor(readonly g: GraphBuilder, readonly prefix: string) {}

  /** A fresh value name under the prefix. */
  value(hint: string): string {
    return this.g.fresh(`${this.prefix}.${hint}`);
  }

  /** One node; returns its output's name (`output`, or a fresh one named after the op). */
  op(opType: string, inputs: string[], attrs: AttributeProto[] = [], output?: string): string {
    const out = output ?? this.value(opType.toLowerCase());
    this.g.node(opType, inputs, [out], attrs, this.g.fresh(`${this.prefix}.${opType}`));
    return out;
  }

  /** A node with several outputs (Split). */
  ops(opType: string, inputs: string[], outputs: string[], attrs: AttributeProto[] = []): string[] {
    this.g.node(opType, inputs, outputs, attrs, this.g.fresh(`${this.prefix}.${opType}`));
    return outputs;
  }

  /** The same, for a named sublayer (`self_attn`, `linear1`, …). */
  child(name: string): Emitter {
    return new Emitter(this.g, `${this.prefix}.${name}`);
  }

  scalar(hint: string, v: number): string {
    return this.g.constant(`${this.prefix}.${hint}`, [], Float32Array.of(v));
  }

  /** A 1-d int64 constant (shapes, axes, split sizes, slice bounds). */
  ints(hint: string, values: readonly number[]): string {
    return this.g.constant(`${this.prefix}.${hint}`, [values.length], BigInt64Array.from(values, (v) => BigInt(v)));
  }
}

/** Linear: Gemm for 2-d input, else MatMul with Wᵀ (+ bias). */
function emitLinear(e: Emitter, m: Linear, x: string, rank: number, out?: string): string {
  const w = e.g.weight(m.weight, `${e.prefix}.weight`);
  const b = m.bias === null ? [] : [e.g.weight(m.bias, `${e.prefix}.bias`)];
  if (rank === 2) return e.op('Gemm', [x, w, ...b], [attrInt('transB', 1)], out);
  // NOTE: Gemm is 2-d only; for [..., in] inputs, MatMul with Wᵀ (a Transpose that runtimes fold)
  const wt = e.op('Transpose', [w], [attrInts('perm', [1, 0])], e.value('weight_t'));
  if (b.length === 0) return e.op('MatMul', [x, wt], [], out);
  const mm = e.op('MatMul', [x, wt], [], e.value('matmul'));
  return e.op('Add', [mm, b[0]!], [], out);
}

function emitLayerNorm(e: Emitter, m: LayerNorm, x: string, out?: string): string {
  const shape = m.normalizedShape;
  const count = shape.reduce((a, b) => a * b, 1);
  const scale = m.weight === null ? e.g.constant(`${e.prefix}.weight`, shape, new Float32Array(count).fill(1)) : e.g.weight(m.weight, `${e.prefix}.weight`);
  const inputs = [x, scale];
  if (m.bias !== null) inputs.push(e.g.weight(m.bias, `${e.prefix}.bias`));
  return e.op('LayerNormalization', inputs, [attrInt('axis', -shape.length), attrFloat('epsilon', m.eps)], out);
}

/** GELU written out with Erf (or Tanh): opset 20 has a Gelu op; for 17–19 PyTorch's exporter does the same. */
function emitGelu(e: Emitter, x: string, approximate: 'none' | 'tanh', out?: string): string {
  let inner: string;
  if (approximate === 'tanh') {
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
    const sq = e.op('Mul', [x, x], [], e.value('x2'));
    const cube = e.op('Mul', [sq, x], [], e.value('x3'));
    const cx3 = e.op('Mul', [cube, e.scalar('c', 0.044715)], [], e.value('cx3'));
    const sum = e.op('Add', [x, cx3], [], e.value('sum'));
    const scaled = e.op('Mul', [sum, e.scalar('k', Math.sqrt(2 / Math.PI))], [], e.value('scaled'));
    inner = e.op('Tanh', [scaled], [], e.value('tanh'));
  } else {
    // 0.5·x·(1 + erf(x/√2))
    const div = e.op('Div', [x, e.scalar('sqrt2', Math.SQRT2)], [], e.value('div'));
    inner = e.op('Erf', [div], [], e.value('erf'));
  }
  const plus = e.op('Add', [inner, e.scalar('one', 1)], [], e.value('plus1'));
  const half = e.op('Mul', [x, e.scalar('half', 0.5)], [], e.value('halfx'));
  return e.op('Mul', [half, plus], [], out);
}

/** The masks of one attention call, as graph value names (0/1 values, 1 = may not attend). */
interface AttentionMasks {
  /** [B, S] */
  keyPadding: { name: string; dtype: Tensor['dtype'] } | null;
  /** [L, S] or [B·H, L, S] */
  attn: { name: string; dtype: Tensor['dtype']; shape: readonly number[] } | null;
  causal: boolean;
}

/**
 * MultiheadAttention, op for op as the engine computes it (nn/attention.ts): input projections,
 * heads [B, H, T, D], (q·scale)·kᵀ, + causal mask, + mask·MASKED_SCORE, softmax, ·v, out_proj.
 */
function emitAttention(e: Emitter, m: MultiheadAttention, q: string, k: string, v: string, selfAttention: boolean, masks: AttentionMasks, out?: string): string {
  const E = m.embedDim, H = m.numHeads, D = m.headDim;
  if (!m.batchFirst) {
    // [T, B, E] → [B, T, E]
    const perm = [attrInts('perm', [1, 0, 2])];
    const qb = e.op('Transpose', [q], perm, e.value('query_bf'));
    const kb = k === q ? qb : e.op('Transpose', [k], perm, e.value('key_bf'));
    const vb = v === k ? kb : e.op('Transpose', [v], perm, e.value('value_bf'));
    [q, k, v] = [qb, kb, vb];
  }
  const project = (x: string, w: string, b: string | null, hint: string) => {
    const wt = e.op('Transpose', [w], [attrInts('perm', [1, 0])], e.value(`${hint}_weight_t`));
    const mm = e.op('MatMul', [x, wt], [], e.value(`${hint}_proj`));
    return b === null ? mm : e.op('Add', [mm, b], [], e.value(`${hint}_proj_b`));
  };
  const bias = m.in_proj_bias === null ? null : e.g.weight(m.in_proj_bias, `${e.prefix}.in_proj_bias`);
  let qp: string, kp: string, vp: string;
  if (m.in_proj_weight !== null && selfAttention) {
    // self-attention: one packed projection [B, L, 3E], split into q, k, v
    const qkv = project(q, e.g.weight(m.in_proj_weight, `${e.prefix}.in_proj_weight`), bias, 'qkv');
    [qp, kp, vp] = e.ops('Split', [qkv, e.ints('split3', [E, E, E])], ['q', 'k', 'v'].map((h) => e.value(h)), [attrInt('axis', -1)]) as [string, string, string];
  } else {
    let weights: string[];
    if (m.in_proj_weight !== null) {
      const w = e.g.weight(m.in_proj_weight, `${e.prefix}.in_proj_weight`);
      weights = e.ops('Split', [w, e.ints('split3', [E, E, E])], ['q', 'k', 'v'].map((h) => e.value(`${h}_weight`)), [attrInt('axis', 0)]);
    } else {
      weights = [m.q_proj_weight!, m.k_proj_weight!, m.v_proj_weight!].map((w, i) => e.g.weight(w, `${e.prefix}.${'qkv'[i]}_proj_weight`));
    }
    const biases = bias === null ? [null, null, null] : e.ops('Split', [bias, e.ints('split3', [E, E, E])], ['q', 'k', 'v'].map((h) => e.value(`${h}_bias`)), [attrInt('axis', 0)]);
    qp = project(q, weights[0]!, biases[0]!, 'q');
    kp = project(k, weights[1]!, biases[1]!, 'k');
    vp = project(v, weights[2]!, biases[2]!, 'v');
  }
  // [B, T, E] → [B, T, H, D] → [B, H, T, D]; Reshape's 0 keeps B and T symbolic
  const headShape = e.ints('head_shape', [0, 0, H, D]);
  const heads = (x: string, hint: string) => e.op('Transpose', [e.op('Reshape', [x, headShape], [], e.value(`${hint}_split`))], [attrInts('perm', [0, 2, 1, 3])], e.value(`${hint}_heads`));
  const qh = heads(qp, 'q'), kh = heads(kp, 'k'), vh = heads(vp, 'v');
  // NOTE: the engine scales q (not the scores) before the product; the same order here keeps the rounding
  const qs = e.op('Mul', [qh, e.scalar('scale', 1 / Math.sqrt(D))], [], e.value('q_scaled'));
  const kt = e.op('Transpose', [kh], [attrInts('perm', [0, 1, 3, 2])], e.value('k_t'));
  let scores = e.op('MatMul', [qs, kt], [], e.value('scores'));
  if (masks.causal) {
    // MASKED_SCORE where key j > query i + (S − L), from the runtime lengths: Trilu of an [L, S] block of ones
    const len = (x: string, hint: string) => e.op('Shape', [x], [attrInt('start', 2), attrInt('end', 3)], e.value(hint));
    const l = len(qh, 'query_length'), s = len(kh, 'key_length');
    const ones = e.op('ConstantOfShape', [e.op('Concat', [l, s], [attrInt('axis', 0)], e.value('causal_shape'))],
      [{ name: 'value', type: AttributeType.TENSOR, t: tensorProto('value', [1], Float32Array.of(1)) }], e.value('causal_ones'));
    const diagonal = e.op('Add', [e.op('Sub', [s, l], [], e.value('causal_offset')), e.ints('one', [1])], [], e.value('causal_k1'));
    const k0 = e.op('Squeeze', [diagonal, e.ints('axis0', [0])], [], e.value('causal_k'));
    const upper = e.op('Trilu', [ones, k0], [attrInt('upper', 1)], e.value('causal_upper'));
    scores = e.op('Add', [scores, e.op('Mul', [upper, e.scalar('masked_score', MASKED_SCORE)], [], e.value('causal_mask'))], [], e.value('scores_causal'));
  }
  const asFloat = (name: string, dtype: Tensor['dtype'], hint: string) => (dtype === 'float32' ? name : e.op('Cast', [name], [attrInt('to', DataType.FLOAT)], e.value(hint)));
  let mask: string | null = null;
  if (masks.keyPadding) {
    mask = e.op('Reshape', [asFloat(masks.keyPadding.name, masks.keyPadding.dtype, 'key_padding_float'), e.ints('key_padding_shape', [0, 1, 1, -1])], [], e.value('key_padding_mask'));
  }
  if (masks.attn) {
    const { shape } = masks.attn;
    let am = asFloat(masks.attn.name, masks.attn.dtype, 'attn_mask_float');
    if (shape.length === 3) am = e.op('Reshape', [am, e.ints('attn_mask_shape', [-1, H, shape[1]!, shape[2]!])], [], e.value('attn_mask_heads'));
    mask = mask === null ? am : e.op('Clip', [e.op('Add', [mask, am], [], e.value('mask_sum')), e.scalar('zero', 0), e.scalar('one', 1)], [], e.value('mask'));
  }
  if (mask !== null) scores = e.op('Add', [scores, e.op('Mul', [mask, e.scalar('masked_score', MASKED_SCORE)], [], e.value('mask_scores'))], [], e.value('scores_masked'));
  const weights = e.op('Softmax', [scores], [attrInt('axis', -1)], e.value('weights'));
  const ctx = e.op('MatMul', [weights, vh], [], e.value('context'));
  const merged = e.op('Reshape', [e.op('Transpose', [ctx], [attrInts('perm', [0, 2, 1, 3])], e.value('context_t')), e.ints('merge_shape', [0, 0, E])], [], e.value('context_merged'));
  if (m.batchFirst) return emitLinear(e.child('out_proj'), m.out_proj, merged, 3, out);
  const y = emitLinear(e.child('out_proj'), m.out_proj, merged, 3);
  return e.op('Transpose', [y], [attrInts('perm', [1, 0, 2])], out);
}

/** The masks of an attention call, resolved; fails on a KV cache (incremental decoding is not a graph). */
function attentionMasks(refs: Refs, where: string, call: MultiheadAttentionCall): AttentionMasks {
  if (call.cache) fail(`layer '${where}' was called with a KV cache, which the export does not write (help: export the model's plain forward, without caches)`);
  return {
    keyPadding: call.keyPaddingMask ? { name: refs.mask(call.keyPaddingMask, `${where} key padding mask`), dtype: call.keyPaddingMask.dtype } : null,
    attn: call.attnMask ? { name: refs.mask(call.attnMask, `${where} attention mask`), dtype: call.attnMask.dtype, shape: call.attnMask.shape } : null,
    causal: call.isCausal === true,
  };
}

/** The feed-forward block of a transformer layer: linear2(act(linear1(x))) (dropouts are identities in eval). */
function emitFeedForward(e: Emitter, m: TransformerEncoderLayer | TransformerDecoderLayer): (x: string) => string {
  if (m.activationName === 'custom') fail(`layer '${e.prefix}' (${m.constructor.name}) has a custom activation function, which has no ONNX translation (help: activation 'relu' or 'gelu')`);
  return (x) => {
    const h = emitLinear(e.child('linear1'), m.linear1, x, 3);
    const a = m.activationName === 'gelu' ? emitGelu(e.child('activation'), h, 'none') : e.op('Relu', [h], [], e.value('relu'));
    return emitLinear(e.child('linear2'), m.linear2, a, 3);
  };
}

function emitEncoderLayer(e: Emitter, m: TransformerEncoderLayer, call: Call, refs: Refs, src: string, out: string): string {
  const opts = (call.args[1] ?? {}) as EncoderLayerCall;
  const masks = attentionMasks(refs, `${e.prefix}.self_attn`, { attnMask: opts.srcMask, keyPaddingMask: opts.srcKeyPaddingMask, isCausal: opts.isCausal, cache: opts.cache });
  const sa = (x: string) => emitAttention(e.child('self_attn'), m.self_attn, x, x, x, true, masks);
  const ff = emitFeedForward(e, m);
  const norm = (i: 1 | 2, x: string, output?: string) => emitLayerNorm(e.child(`norm${i}`), i === 1 ? m.norm1 : m.norm2, x, output);
  const add = (a: string, b: string, hint: string, output?: string) => e.op('Add', [a, b], [], output ?? e.value(hint));
  if (m.normFirst) {
    const x = add(src, sa(norm(1, src)), 'residual1');
    return add(x, ff(norm(2, x)), 'residual2', out);
  }
  const x = norm(1, add(src, sa(src), 'residual1'));
  return norm(2, add(x, ff(x), 'residual2'), out);
}

function emitDecoderLayer(e: Emitter, m: TransformerDecoderLayer, call: Call, refs: Refs, tgt: string, out: string): string {
  const memoryTensor = call.args[1];
  if (!(memoryTensor instanceof Tensor)) fail(`layer '${e.prefix}' (TransformerDecoderLayer) was called without a memory tensor`);
  const memory = refs.value(memoryTensor, `the memory of layer '${e.prefix}'`);
  const opts = (call.args[2] ?? {}) as DecoderLayerCall;
  const selfMasks = attentionMasks(refs, `${e.prefix}.self_attn`, { attnMask: opts.tgtMask, keyPaddingMask: opts.tgtKeyPaddingMask, isCausal: opts.tgtIsCausal, cache: opts.cache });
  const crossMasks = attentionMasks(refs, `${e.prefix}.multihead_attn`, { attnMask: opts.memoryMask, keyPaddingMask: opts.memoryKeyPaddingMask });
  const sa = (x: string) => emitAttention(e.child('self_attn'), m.self_attn, x, x, x, true, selfMasks);
  const mha = (x: string) => emitAttention(e.child('multihead_attn'), m.multihead_attn, x, memory, memory, false, crossMasks);
  const ff = emitFeedForward(e, m);
  const norms = [m.norm1, m.norm2, m.norm3];
  const norm = (i: 1 | 2 | 3, x: string, output?: string) => emitLayerNorm(e.child(`norm${i}`), norms[i - 1]!, x, output);
  const add = (a: string, b: string, hint: string, output?: string) => e.op('Add', [a, b], [], output ?? e.value(hint));
  if (m.normFirst) {
    let x = add(tgt, sa(norm(1, tgt)), 'residual1');
    x = add(x, mha(norm(2, x)), 'residual2');
    return add(x, ff(norm(3, x)), 'residual3', out);
  }
  let x = norm(1, add(tgt, sa(tgt), 'residual1'));
  x = norm(2, add(x, mha(x), 'residual2'));
  return norm(3, add(x, ff(x), 'residual3'), out);
}

/** Positional embeddings: rows offset…offset+T−1 of the table, with T read from the input's shape at run time. */
function emitPositional(e: Emitter, m: LearnedPositionalEmbedding | SinusoidalPositionalEncoding, call: Call, x: string, out: string): string {
  const offset = call.args[1] ?? 0;
  if (typeof offset !== 'number') fail(`layer '${e.prefix}' (${m.constructor.name}): the position offset must be a number (got ${typeof offset})`);
  const table = m instanceof LearnedPositionalEmbedding ? e.g.weight(m.weight, `${e.prefix}.weight`) : e.g.weight(m.buffer('pe')!, `${e.prefix}.pe`);
  const length = e.op('Shape', [x], [attrInt('start', -2), attrInt('end', -1)], e.value('length'));
  const end = offset === 0 ? length : e.op('Add', [length, e.ints('offset', [offset])], [], e.value('end'));
  const rows = e.op('Slice', [table, e.ints('start', [offset]), end, e.ints('axis0', [0])], [], e.value('positions'));
  const scaled = m instanceof SinusoidalPositionalEncoding && m.scale !== 1 ? e.op('Mul', [x, e.scalar('scale', m.scale)], [], e.value('scaled')) : x;
  return e.op('Add', [scaled, rows], [], out);
}

/** Writes the nodes for one layer call: `x` is the input's value name, the result the output's. */
function emitLayer(g: GraphBuilder, call: Call, x: string, refs: Refs): string {
  const { module: m, name } = call;
  const prefix = name === '' ? m.constructor.name : name;
  const e = new Emitter(g, prefix);
  const out = g.fresh(`${prefix}.output`);
  const n = (op: string, inputs: string[], attrs: AttributeProto[] = [], output = out) => e.op(op, inputs, attrs, output);

  if (m instanceof Linear) return emitLinear(e, m, x, call.input.ndim, out);
  if (m instanceof Conv2d) {
    const o = m.options;
    const [sh, sw] = pairOf(o.stride as Pair, 1), [ph, pw] = pairOf(o.padding as Pair, 0), [dh, dw] = pairOf(o.dilation as Pair, 1);
    const inputs = [x, g.weight(m.weight, `${prefix}.weight`)];
    if (m.bias !== null) inputs.push(g.weight(m.bias, `${prefix}.bias`));
    return n('Conv', inputs, [
      attrInts('kernel_shape', m.kernelSize), attrInts('strides', [sh, sw]), attrInts('pads', [ph, pw, ph, pw]),
      attrInts('dilations', [dh, dw]), attrInt('group', o.groups),
    ]);
  }
  if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
    const raw = m.options as unknown;
    const opts = (typeof raw === 'number' ? { stride: raw } : (raw ?? {})) as { stride?: Pair | null; padding?: Pair; dilation?: Pair; ceilMode?: boolean; countIncludePad?: boolean };
    const [kh, kw] = pairOf(m.kernelSize, 1), [sh, sw] = pairOf(opts.stride, m.kernelSize), [ph, pw] = pairOf(opts.padding, 0);
    const attrs = [attrInts('kernel_shape', [kh, kw]), attrInts('strides', [sh, sw]), attrInts('pads', [ph, pw, ph, pw]), attrInt('ceil_mode', opts.ceilMode ? 1 : 0)];
    if (m instanceof MaxPool2d) return n('MaxPool', [x], [...attrs, attrInts('dilations', pairOf(opts.dilation, 1))]);
    return n('AveragePool', [x], [...attrs, attrInt('count_include_pad', opts.countIncludePad ?? true ? 1 : 0)]);
  }
  if (m instanceof AdaptiveAvgPool2d) {
    const [H, W] = [call.input.shape[2]!, call.input.shape[3]!];
    const [oh, ow] = pairOf(m.outputSize, 1);
    if (oh === 1 && ow === 1) return n('GlobalAveragePool', [x]);
    if (H % oh !== 0 || W % ow !== 0) {
      fail(`layer '${prefix}' (AdaptiveAvgPool2d to ${oh}×${ow}) on a ${H}×${W} input has uneven windows, which ONNX cannot express (help: use an input size divisible by the output size, or output size 1)`);
    }
    const [kh, kw] = [H / oh, W / ow];
    return n('AveragePool', [x], [attrInts('kernel_shape', [kh, kw]), attrInts('strides', [kh, kw])]);
  }
  if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) {
    if (!m.trackRunningStats) fail(`layer '${prefix}' (${m.constructor.name}) has no running statistics, so in eval it normalises with batch statistics, which ONNX inference does not do (help: trackRunningStats: true)`);
    const c = m.numFeatures;
    const scale = m.weight === null ? g.constant(`${prefix}.weight`, [c], new Float32Array(c).fill(1)) : g.weight(m.weight, `${prefix}.weight`);
    const bias = m.bias === null ? g.constant(`${prefix}.bias`, [c], new Float32Array(c)) : g.weight(m.bias, `${prefix}.bias`);
    const mean = g.weight(m.buffer('running_mean')!, `${prefix}.running_mean`);
    const variance = g.weight(m.buffer('running_var')!, `${prefix}.running_var`);
    return n('BatchNormalization', [x, scale, bias, mean, variance], [attrFloat('epsilon', m.eps)]);
  }
  if (m instanceof LayerNorm) return emitLayerNorm(e, m, x, out);
  if (m instanceof Embedding) {
    return n('Gather', [g.weight(m.weight, `${prefix}.weight`), x], [attrInt('axis', 0)]);
  }
  if (m instanceof Flatten) {
    const nd = call.input.ndim;
    const start = m.startDim < 0 ? m.startDim + nd : m.startDim;
    const end = m.endDim < 0 ? m.endDim + nd : m.endDim;
    if (start === 1 && end === nd - 1) return n('Flatten', [x], [attrInt('axis', 1)]);
    // Reshape: 0 copies the input's dim (keeps the batch dim symbolic), -1 takes the flattened run
    const target = [...call.input.shape.slice(0, start).map(() => 0), -1, ...call.input.shape.slice(end + 1)];
    const shape = g.constant(`${prefix}.shape`, [target.length], BigInt64Array.from(target, (v) => BigInt(v)));
    return n('Reshape', [x, shape]);
  }
  if (m instanceof ReLU) return n('Relu', [x]);
  if (m instanceof Sigmoid) return n('Sigmoid', [x]);
  if (m instanceof Tanh) return n('Tanh', [x]);
  if (m instanceof LeakyReLU) return n('LeakyRelu', [x], [attrFloat('alpha', m.negativeSlope)]);
  if (m instanceof ELU) return n('Elu', [x], [attrFloat('alpha', m.alpha)]);
  if (m instanceof Softmax) return n('Softmax', [x], [attrInt('axis', m.dim)]);
  if (m instanceof LogSoftmax) return n('LogSoftmax', [x], [attrInt('axis', m.dim)]);
  if (m instanceof SiLU) {
    const s = g.fresh(`${prefix}.sigmoid`);
    n('Sigmoid', [x], [], s);
    return n('Mul', [x, s]);
  }
  if (m instanceof GELU) return emitGelu(e, x, m.approximate === 'tanh' ? 'tanh' : 'none', out);
  if (m instanceof MultiheadAttention) {
    const [, key, value, opts] = call.args as [Tensor, Tensor | undefined, Tensor | undefined, MultiheadAttentionCall | undefined];
    const k = key ?? call.input, v = value ?? key ?? call.input;
    const kName = refs.value(k, `the key of layer '${prefix}'`), vName = refs.value(v, `the value of layer '${prefix}'`);
    const selfAttention = call.input === k && k === v;
    return emitAttention(e, m, x, kName, vName, selfAttention, attentionMasks(refs, prefix, opts ?? {}), out);
  }
  if (m instanceof TransformerEncoderLayer) return emitEncoderLayer(e, m, call, refs, x, out);
  if (m instanceof TransformerDecoderLayer) return emitDecoderLayer(e, m, call, refs, x, out);
  if (m instanceof LearnedPositionalEmbedding || m instanceof SinusoidalPositionalEncoding) return emitPositional(e, m, call, x, out);
  return fail(`layer '${prefix}' (${m.constructor.name}) has no ONNX translation`);
}

/**
 * Exports a model to ONNX bytes (a ModelProto, opset 17 by default) by running it once on
 * `sampleInput` in eval mode. Each layer becomes ONNX nodes; parameters and buffers become
 * initializers named by their state-dict keys (`0.weight`, `bn.running_mean`, …). Dim 0 is symbolic
 * ('batch') unless `dynamicBatch: false`; `dynamicAxes` makes more dims symbolic. The model's training
 * flags are restored afterwards.
 *
 * Supported layers: Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d/2d (with
 * running stats), LayerNorm, Embedding (int32 indices, or int64 with `intInputType`), Flatten, Dropout
 * (identity in eval) and the activations ReLU, Sigmoid, Tanh, SiLU, GELU, LeakyReLU, ELU, Softmax,
 * LogSoftmax; and the sequence layers MultiheadAttention (self- or cross-attention, batch-first or not,
 * causal, attention and key-padding masks), TransformerEncoderLayer / TransformerDecoderLayer (pre- or
 * post-norm, ReLU or GELU), LearnedPositionalEmbedding and SinusoidalPositionalEncoding — nested in
 * Sequential, text.GPT, or your own Module whose forward chains them. A model with several inputs
 * (a decoder's memory, a padding mask) takes an array of sample inputs, one graph input each; a mask
 * that is the model's state (a buffer or a field) is written as a constant.
 *
 * @example
 * ```ts
 * import { init, randn, randint, nn, text } from '@simdgrad/core';
 * import { exportModel } from '@simdgrad/core/onnx';
 * await init();
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
 * const bytes = exportModel(model, randn([1, 4])); // write it to model.onnx
 * // a language model on any batch size and length:
 * const gpt = new text.GPT({ vocabSize: 65, contextLength: 64, nLayer: 2, nHead: 2, nEmbd: 32 });
 * const lm = exportModel(gpt, randint(0, 65, [1, 8], { dtype: 'int32' }), {
 *   dynamicAxes: { input: { 1: 'sequence' }, output: { 1: 'sequence' } }, intInputType: 'int64',
 * });
 * ```
 */
export function exportModel(model: Module, sampleInput: Tensor | readonly Tensor[], options: ExportOptions = {}): Uint8Array {
  if (!(model instanceof Module)) fail(`model must be an nn.Module (got ${model === null ? 'null' : typeof model})`);
  const inputs: readonly Tensor[] = Array.isArray(sampleInput) ? sampleInput : [sampleInput as Tensor];
  if (inputs.length === 0) fail('sampleInput must be a Tensor or a non-empty array of Tensors (got an empty array)');
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) fail(`sampleInput${Array.isArray(sampleInput) ? `[${i}]` : ''} must be a Tensor (got ${t === null ? 'null' : typeof t})`);
    t.assertAlive('exportModel');
  });
  const opset = options.opsetVersion ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < 17 || opset > 18) fail(`opsetVersion must be 17 or 18 (got ${opset})`);
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const inputNames = options.inputNames ?? inputs.map((_, i) => (i === 0 ? inputName : `${inputName}_${i}`));
  if (inputNames.length !== inputs.length) fail(`inputNames must name each of the ${inputs.length} sample inputs (got ${inputNames.length} names)`);
  if (new Set([...inputNames, outputName]).size !== inputNames.length + 1) fail(`input and output names must all differ (got inputs ${JSON.stringify(inputNames)}, output ${JSON.stringify(outputName)})`);
  if (new Set(inputs).size !== inputs.length) fail('the sample inputs must be distinct tensors (the same tensor twice would be one graph input)');
  const dynamicBatch = options.dynamicBatch ?? true;
  if (dynamicBatch && inputs.some((t) => t.ndim === 0)) fail('a 0-d sample input has no batch dim (help: dynamicBatch: false)');
  const intInputType = options.intInputType ?? 'int32';
  if (intInputType !== 'int32' && intInputType !== 'int64') fail(`intInputType must be 'int32' or 'int64' (got ${JSON.stringify(intInputType)})`);
  const dynamicAxes = options.dynamicAxes ?? {};
  for (const key of Object.keys(dynamicAxes)) {
    if (key !== outputName && !inputNames.includes(key)) fail(`dynamicAxes names '${key}', which is neither an input (${inputNames.join(', ')}) nor the output (${outputName})`);
  }

  const stateNames = new Map<Tensor, string>();
  for (const [k, t] of Object.entries(model.stateDict())) if (!stateNames.has(t)) stateNames.set(t, k);
  // tensors that are the model's state (buffers, parameters, plain tensor fields): a mask among them is a constant
  const stateTensors = new Set<Tensor>(stateNames.keys());
  for (const m of model.modules()) for (const v of Object.values(m)) if (v instanceof Tensor) stateTensors.add(v);

  const wasTraining = new Map(model.modules().map((m) => [m, m.training] as const));
  // a leaf inside another leaf (the Linear inside MultiheadAttention) is written by its parent, so not traced
  const leafNames: string[] = [];
  const leaves = model.namedModules().filter(([name, m]) => {
    if (!isLeaf(m) || leafNames.some((p) => p === '' || name.startsWith(`${p}.`))) return false;
    leafNames.push(name);
    return true;
  });
  // modules that hold parameters or buffers of their own but have no translation (an RNN, a custom layer)
  const untranslated = (): string => {
    const found = model.namedModules().filter(([name, m]) => !isLeaf(m) && !leafNames.some((p) => p === '' || name.startsWith(`${p}.`))
      && (m.namedParameters().some(([k]) => !k.includes('.')) || m.namedBuffers().some(([k]) => !k.includes('.'))));
    return found.length === 0 ? '' : ` (layers with no ONNX translation: ${found.map(([name, m]) => `'${name || m.constructor.name}' (${m.constructor.name})`).join(', ')})`;
  };
  const calls: Call[] = [];
  model.eval();
  for (const [name, m] of leaves) {
    const forward = m.forward;
    Object.defineProperty(m, 'forward', {
      configurable: true,
      writable: true,
      value: (...args: Tensor[]) => {
        const output = forward.apply(m, args);
        calls.push({ name, module: m, input: args[0]!, args, output });
        return output;
      },
    });
  }
  try {
    return scope(() => noGrad(() => {
      const result = model.forward(...inputs);
      if (!(result instanceof Tensor)) fail(`the model's forward must return one Tensor (got ${result === null ? 'null' : typeof result})`);
      const g = new GraphBuilder(stateNames);
      for (const nm of inputNames) g.fresh(nm);
      g.fresh(outputName);
      const names = new Map<Tensor, string>(inputs.map((t, i) => [t, inputNames[i]!]));
      const refs: Refs = {
        value: (t, what) => names.get(t) ?? fail(`${what} (shape ${fmtShape(t.shape)}) was computed by tensor operations outside the exportable layers, which the layer-level trace cannot record (help: pass it as a model input)`),
        mask: (t, what) => {
          const known = names.get(t);
          if (known !== undefined) return known;
          if (stateTensors.has(t)) return g.weight(t, `${what.split(' ')[0]}.mask`);
          return fail(`the ${what} (shape ${fmtShape(t.shape)}) was made inside forward, perhaps from the input, so it cannot be written as a constant `
            + '(help: pass it as a model input (sampleInput as an array), register it as a buffer, or use isCausal for a causal mask)');
        },
      };
      for (const call of calls) {
        const x = names.get(call.input);
        if (x === undefined) {
          fail(`the input of layer '${call.name}' (${call.module.constructor.name}, shape ${fmtShape(call.input.shape)}) was computed by tensor operations outside the exportable layers${untranslated()}, which the layer-level trace cannot record `
            + '(help: express the computation with nn layers, e.g. new nn.ReLU() instead of x.relu() in forward)');
        }
        if (call.output === call.input) continue; // Dropout in eval: the same value
        names.set(call.output, emitLayer(g, call, x, refs));
      }
      let last = names.get(result);
      if (last === undefined) {
        fail(`the model's output (shape ${fmtShape(result.shape)}) was computed by tensor operations outside the exportable layers${untranslated()} (help: end the model with an nn layer)`);
      }
      // name the graph output: rename the producing node's output, or add an Identity for input → output
      const producer = g.nodes.find((nd) => nd.output.includes(last!));
      const consumed = g.nodes.some((nd) => nd.input.includes(last!));
      if (producer !== undefined && !consumed && producer.output.length === 1) producer.output[0] = outputName;
      else g.node('Identity', [last], [outputName]);
      last = outputName;

      const axesOf = (name: string, ndim: number): Record<number, string> => {
        const axes: Record<number, string> = dynamicBatch && ndim > 0 ? { 0: 'batch' } : {};
        for (const [k, v] of Object.entries(dynamicAxes[name] ?? {})) {
          const axis = Number(k) < 0 ? Number(k) + ndim : Number(k);
          if (!Number.isInteger(axis) || axis < 0 || axis >= ndim) fail(`dynamicAxes['${name}'] names axis ${k}, out of range for ${ndim} dims`);
          if (typeof v !== 'string' || v === '') fail(`dynamicAxes['${name}'][${k}] must be a non-empty dim name (got ${JSON.stringify(v)})`);
          axes[axis] = v;
        }
        return axes;
      };
      const metadataProps = Object.entries({ ...(options.metadata ?? {}) }).map(([key, value]) => ({ key, value: String(value) }));
      return encodeModel({
        irVersion: IR_VERSION,
        opsetImport: [{ domain: '', version: opset }],
        producerName: 'simdgrad',
        producerVersion: '0.1.0',
        graph: {
          name: options.graphName ?? model.constructor.name,
          node: g.nodes,
          initializer: g.initializers,
          input: inputs.map((t, i) => valueInfo(inputNames[i]!, t.dtype === 'int32' && intInputType === 'int64' ? DataType.INT64 : elemTypeOf(t), t.shape, axesOf(inputNames[i]!, t.ndim))),
          output: [valueInfo(outputName, elemTypeOf(result), result.shape, axesOf(outputName, result.ndim))],
        },
        metadataProps,
      });
    }));
  } finally {
    for (const [, m] of leaves) delete (m as unknown as Record<string, unknown>).forward;
    for (const [m, training] of wasTraining) m.training = training;
  }
}
