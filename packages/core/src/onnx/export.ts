// ONNX export: run the model once on a sample input, record which layer made which tensor, and write
// one ONNX node (or a few) per layer, with the parameters and buffers as initializers named by their
// PyTorch state-dict keys.
//
// The trace is at layer granularity: every known layer (Linear, Conv2d, …) is a leaf whose forward is
// wrapped while the model runs; containers (Sequential, or any Module subclass whose forward only
// chains layers) are traced through. Tensor arithmetic written directly in a custom forward is not
// recorded, and the export says so by name instead of writing a wrong graph.
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { Module } from '../nn/module.js';
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
}

/** What the trace records for each layer call, in call order. */
interface Call {
  name: string;
  module: Module;
  input: Tensor;
  output: Tensor;
}

/** The layer classes the export knows how to write; anything else is traced through. */
const LEAVES = [
  Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, LayerNorm, Embedding, Flatten, Dropout,
  ReLU, Sigmoid, Tanh, SiLU, GELU, LeakyReLU, ELU, Softmax, LogSoftmax,
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

function valueInfo(name: string, dtype: Tensor['dtype'], shape: readonly number[], dynamicBatch: boolean): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: dtype === 'int32' ? DataType.INT32 : DataType.FLOAT,
        shape: { dim: shape.map((d, i) => (i === 0 && dynamicBatch ? { dimParam: 'batch' } : { dimValue: d })) },
      },
    },
  };
}

/** Writes the nodes for one layer call: `x` is the input's value name, the result the output's. */
function emitLayer(g: GraphBuilder, call: Call, x: string): string {
  const { module: m, name } = call;
  const prefix = name === '' ? m.constructor.name : name;
  const out = g.fresh(`${prefix}.output`);
  const n = (op: string, inputs: string[], attrs: AttributeProto[] = [], output = out) => {
    g.node(op, inputs, [output], attrs, g.fresh(`${prefix}.${op}`));
    return output;
  };

  if (m instanceof Linear) {
    const w = g.weight(m.weight, `${prefix}.weight`);
    const b = m.bias === null ? [] : [g.weight(m.bias, `${prefix}.bias`)];
    if (call.input.ndim === 2) return n('Gemm', [x, w, ...b], [attrInt('transB', 1)]);
    // NOTE: Gemm is 2-d only; for [..., in] inputs, MatMul with Wᵀ (a Transpose that runtimes fold)
    const wt = g.fresh(`${prefix}.weight_t`);
    g.node('Transpose', [w], [wt], [attrInts('perm', [1, 0])], g.fresh(`${prefix}.Transpose`));
    if (b.length === 0) return n('MatMul', [x, wt]);
    const mm = g.fresh(`${prefix}.matmul`);
    n('MatMul', [x, wt], [], mm);
    return n('Add', [mm, b[0]!]);
  }
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
  if (m instanceof LayerNorm) {
    const shape = m.normalizedShape;
    const count = shape.reduce((a, b) => a * b, 1);
    const scale = m.weight === null ? g.constant(`${prefix}.weight`, shape, new Float32Array(count).fill(1)) : g.weight(m.weight, `${prefix}.weight`);
    const inputs = [x, scale];
    if (m.bias !== null) inputs.push(g.weight(m.bias, `${prefix}.bias`));
    return n('LayerNormalization', inputs, [attrInt('axis', -shape.length), attrFloat('epsilon', m.eps)]);
  }
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
  if (m instanceof GELU) {
    // NOTE: opset 20 has a Gelu op; for 17–19 it is written out, as PyTorch's exporter does
    const scalar = (hint: string, v: number) => g.constant(`${prefix}.${hint}`, [], Float32Array.of(v));
    const t = (hint: string) => g.fresh(`${prefix}.${hint}`);
    let inner: string;
    if (m.approximate === 'tanh') {
      // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
      const sq = t('x2'), cube = t('x3'), cx3 = t('cx3'), sum = t('sum'), scaled = t('scaled');
      n('Mul', [x, x], [], sq);
      n('Mul', [sq, x], [], cube);
      n('Mul', [cube, scalar('c', 0.044715)], [], cx3);
      n('Add', [x, cx3], [], sum);
      n('Mul', [sum, scalar('k', Math.sqrt(2 / Math.PI))], [], scaled);
      inner = t('tanh');
      n('Tanh', [scaled], [], inner);
    } else {
      // 0.5·x·(1 + erf(x/√2))
      const div = t('div');
      n('Div', [x, scalar('sqrt2', Math.SQRT2)], [], div);
      inner = t('erf');
      n('Erf', [div], [], inner);
    }
    const plus = t('plus1'), half = t('halfx');
    n('Add', [inner, scalar('one', 1)], [], plus);
    n('Mul', [x, scalar('half', 0.5)], [], half);
    return n('Mul', [half, plus]);
  }
  return fail(`layer '${prefix}' (${m.constructor.name}) has no ONNX translation`);
}

/**
 * Exports a model to ONNX bytes (a ModelProto, opset 17 by default) by running it once on
 * `sampleInput` in eval mode. Each layer becomes ONNX nodes; parameters and buffers become
 * initializers named by their state-dict keys (`0.weight`, `bn.running_mean`, …). Dim 0 is symbolic
 * ('batch') unless `dynamicBatch: false`. The model's training flags are restored afterwards.
 *
 * Supported layers: Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d/2d (with
 * running stats), LayerNorm, Embedding (int32 indices), Flatten, Dropout (identity in eval) and the
 * activations ReLU, Sigmoid, Tanh, SiLU, GELU, LeakyReLU, ELU, Softmax, LogSoftmax, nested in
 * Sequential or in your own Module whose forward chains them.
 *
 * @example
 * ```ts
 * import { init, randn, nn } from '@simdgrad/core';
 * import { exportModel } from '@simdgrad/core/onnx';
 * await init();
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
 * const bytes = exportModel(model, randn([1, 4])); // write it to model.onnx
 * ```
 */
export function exportModel(model: Module, sampleInput: Tensor, options: ExportOptions = {}): Uint8Array {
  if (!(model instanceof Module)) fail(`model must be an nn.Module (got ${model === null ? 'null' : typeof model})`);
  if (!(sampleInput instanceof Tensor)) fail(`sampleInput must be a Tensor (got ${sampleInput === null ? 'null' : typeof sampleInput})`);
  sampleInput.assertAlive('exportModel');
  const opset = options.opsetVersion ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < 17 || opset > 18) fail(`opsetVersion must be 17 or 18 (got ${opset})`);
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  if (inputName === outputName) fail(`inputName and outputName must differ (both ${JSON.stringify(inputName)})`);
  const dynamicBatch = options.dynamicBatch ?? true;
  if (dynamicBatch && sampleInput.ndim === 0) fail('a 0-d sample input has no batch dim (help: dynamicBatch: false)');

  const stateNames = new Map<Tensor, string>();
  for (const [k, t] of Object.entries(model.stateDict())) if (!stateNames.has(t)) stateNames.set(t, k);

  const wasTraining = new Map(model.modules().map((m) => [m, m.training] as const));
  const leaves = model.namedModules().filter(([, m]) => isLeaf(m));
  const calls: Call[] = [];
  model.eval();
  for (const [name, m] of leaves) {
    const forward = m.forward;
    Object.defineProperty(m, 'forward', {
      configurable: true,
      writable: true,
      value: (...inputs: Tensor[]) => {
        const output = forward.apply(m, inputs);
        calls.push({ name, module: m, input: inputs[0]!, output });
        return output;
      },
    });
  }
  try {
    return scope(() => noGrad(() => {
      const result = model.forward(sampleInput);
      if (!(result instanceof Tensor)) fail(`the model's forward must return one Tensor (got ${result === null ? 'null' : typeof result})`);
      const g = new GraphBuilder(stateNames);
      g.fresh(inputName);
      g.fresh(outputName);
      const names = new Map<Tensor, string>([[sampleInput, inputName]]);
      // a layer called inside another recorded layer (none today) would appear twice: keep the outer
      for (const call of calls) {
        const x = names.get(call.input);
        if (x === undefined) {
          fail(`the input of layer '${call.name}' (${call.module.constructor.name}, shape ${fmtShape(call.input.shape)}) was computed by tensor operations outside the exportable layers, which the layer-level trace cannot record `
            + '(help: express the computation with nn layers, e.g. new nn.ReLU() instead of x.relu() in forward)');
        }
        if (call.output === call.input) continue; // Dropout in eval: the same value
        names.set(call.output, emitLayer(g, call, x));
      }
      let last = names.get(result);
      if (last === undefined) {
        fail(`the model's output (shape ${fmtShape(result.shape)}) was computed by tensor operations outside the exportable layers (help: end the model with an nn layer)`);
      }
      // name the graph output: rename the producing node's output, or add an Identity for input → output
      const producer = g.nodes.find((nd) => nd.output[0] === last);
      const consumed = g.nodes.some((nd) => nd.input.includes(last!));
      if (producer !== undefined && !consumed) producer.output[0] = outputName;
      else g.node('Identity', [last], [outputName]);
      last = outputName;

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
          input: [valueInfo(inputName, sampleInput.dtype, sampleInput.shape, dynamicBatch)],
          output: [valueInfo(outputName, result.dtype, result.shape, dynamicBatch && result.ndim > 0)],
        },
        metadataProps,
      });
    }));
  } finally {
    for (const [, m] of leaves) delete (m as unknown as Record<string, unknown>).forward;
    for (const [m, training] of wasTraining) m.training = training;
  }
}
