// ONNX export and import of the language-model layers: Embedding, positional embeddings,
// MultiheadAttention (masks), Transformer encoder/decoder layers, and a tiny GPT. Each export runs in
// onnxruntime-node and must match the engine's forward within 1e-4; each re-import must too.
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimdgradError, init, liveTensorCount, manualSeed, nn, noGrad, randint, randn, scope, tensor, text, type Tensor } from '../index.js';
import { DataType, decodeModel, encodeModel, type NodeProto, type TensorProto } from './schema.js';
import { exportModel, importModel } from './index.js';
import { maxAbsDiff } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

type Feed = Tensor | { int64: Tensor };

function ortTensor(x: Feed): ort.Tensor {
  if (!(x instanceof Object && 'int64' in x)) {
    const t = x as Tensor;
    return t.dtype === 'int32' ? new ort.Tensor('int32', t.toInt32Array(), t.shape) : new ort.Tensor('float32', t.toFloat32Array(), t.shape);
  }
  return new ort.Tensor('int64', BigInt64Array.from(x.int64.toInt32Array(), (v) => BigInt(v)), x.int64.shape);
}

/** Runs ONNX bytes in onnxruntime on the inputs (in graph-input order); returns the first output. */
async function runOrt(bytes: Uint8Array, inputs: Feed[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feeds = Object.fromEntries(session.inputNames.map((name, i) => [name, ortTensor(inputs[i]!)]));
    const result = await session.run(feeds);
    const out = result[session.outputNames[0]!]!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** Gives every bias and norm scale random values (they start at 0 and 1), so a wrong wiring would show. */
function randomise(model: nn.Module): void {
  const state: Record<string, Tensor> = {};
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith('bias')) state[name] = randn(p.shape).mul(0.1);
    else if (/(norm\d|ln_f)\.weight$/.test(name)) state[name] = randn(p.shape).mul(0.3).add(1);
  }
  model.loadStateDict(state, false);
  for (const t of Object.values(state)) t.dispose();
}

const ids = (b: number, t: number, vocab: number) => randint(0, vocab, [b, t], { dtype: 'int32' });

/** Causal self-attention as a module (the mask option is not a tensor, so it sits in forward). */
class CausalSelfAttention extends nn.Module {
  attn: nn.MultiheadAttention;
  constructor(e: number, h: number, batchFirst = true) {
    super();
    this.attn = new nn.MultiheadAttention(e, h, { batchFirst });
  }
  forward(x: Tensor): Tensor { return this.attn.forward(x, x, x, { isCausal: true }); }
}

/** Cross-attention over a second input, with a key padding mask as a third input. */
class CrossAttention extends nn.Module {
  attn = new nn.MultiheadAttention(8, 2);
  forward(q: Tensor, memory: Tensor, padding: Tensor): Tensor { return this.attn.forward(q, memory, memory, { keyPaddingMask: padding }); }
}

/** Self-attention with a fixed [T, T] attention mask held as a buffer (written as a constant). */
class MaskedAttention extends nn.Module {
  attn = new nn.MultiheadAttention(8, 4);
  constructor() {
    super();
    const m = new Float32Array(25);
    for (const k of [1, 7, 13, 14, 20]) m[k] = 1;
    this.registerBuffer('mask', tensor(m, { shape: [5, 5] }));
  }
  forward(x: Tensor): Tensor { return this.attn.forward(x, x, x, { attnMask: this.buffer('mask') }); }
}

class Encoder extends nn.Module {
  layer: nn.TransformerEncoderLayer;
  constructor(options: nn.TransformerLayerOptions, readonly causal: boolean) {
    super();
    this.layer = new nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 32, dropout: 0.1, ...options });
  }
  forward(x: Tensor): Tensor { return this.layer.forward(x, { isCausal: this.causal }); }
}

class PaddedEncoder extends nn.Module {
  layer = new nn.TransformerEncoderLayer(16, 4, { dimFeedforward: 24, dropout: 0 });
  forward(x: Tensor, padding: Tensor): Tensor { return this.layer.forward(x, { srcKeyPaddingMask: padding }); }
}

class Decoder extends nn.Module {
  layer: nn.TransformerDecoderLayer;
  constructor(options: nn.TransformerLayerOptions) {
    super();
    this.layer = new nn.TransformerDecoderLayer(16, 2, { dimFeedforward: 32, dropout: 0.1, ...options });
  }
  forward(tgt: Tensor, memory: Tensor): Tensor { return this.layer.forward(tgt, memory, { tgtIsCausal: true }); }
}

/** Token embedding + sinusoidal positions + a post-norm encoder layer + a head: a small "BERT". */
class TinyEncoderLM extends nn.Module {
  emb = new nn.Embedding(11, 16);
  pos = new nn.SinusoidalPositionalEncoding(16, 32, 4);
  enc = new nn.TransformerEncoderLayer(16, 2, { dimFeedforward: 32, activation: 'gelu' });
  head = new nn.Linear(16, 11);
  forward(x: Tensor): Tensor { return this.head.forward(this.enc.forward(this.pos.forward(this.emb.forward(x)))); }
}

interface Case {
  model: nn.Module;
  /** Sample inputs; `more` are further inputs (other batch sizes or lengths) for the symbolic dims. */
  inputs: Tensor[];
  more?: Tensor[][];
  dynamicAxes?: Record<string, Record<number, string>>;
  inputNames?: string[];
}

const seq = { input: { 1: 'sequence' }, output: { 1: 'sequence' } };
const cases: [string, () => Case][] = [
  ['Embedding (int32 ids [B, T])', () => ({ model: new nn.Embedding(11, 6), inputs: [ids(3, 5, 11)], more: [[ids(1, 7, 11)]], dynamicAxes: seq })],
  ['Embedding + learned positions (offset 0)', () => {
    class M extends nn.Module {
      emb = new nn.Embedding(11, 8);
      pos = new nn.LearnedPositionalEmbedding(12, 8, { std: 0.5 });
      forward(x: Tensor): Tensor { return this.pos.forward(this.emb.forward(x)); }
    }
    return { model: new M(), inputs: [ids(2, 6, 11)], more: [[ids(3, 12, 11)], [ids(1, 1, 11)]], dynamicAxes: seq };
  }],
  ['sinusoidal positions with a scale and an offset', () => {
    class M extends nn.Module {
      pos = new nn.SinusoidalPositionalEncoding(6, 20, 2.5);
      forward(x: Tensor): Tensor { return this.pos.forward(x, 3); }
    }
    return { model: new M(), inputs: [randn([2, 4, 6])], more: [[randn([1, 9, 6])]], dynamicAxes: seq };
  }],
  ['MultiheadAttention, self-attention without a mask', () => ({ model: new nn.MultiheadAttention(8, 2), inputs: [randn([2, 5, 8])], more: [[randn([3, 2, 8])]], dynamicAxes: seq })],
  ['MultiheadAttention, causal', () => ({ model: new CausalSelfAttention(8, 2), inputs: [randn([2, 6, 8])], more: [[randn([1, 3, 8])], [randn([2, 1, 8])]], dynamicAxes: seq })],
  ['MultiheadAttention, causal, sequence-first (batchFirst false)', () => ({
    model: new CausalSelfAttention(8, 4, false), inputs: [randn([6, 2, 8])], more: [[randn([3, 4, 8])]],
    dynamicAxes: { input: { 0: 'sequence', 1: 'batch' }, output: { 0: 'sequence', 1: 'batch' } },
  })],
  ['MultiheadAttention, attention mask (a buffer, written as a constant)', () => ({ model: new MaskedAttention(), inputs: [randn([2, 5, 8])] })],
  ['MultiheadAttention, cross-attention with a key padding mask input', () => {
    const padding = tensor(Int32Array.of(0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1), { shape: [3, 5], dtype: 'int32' });
    return { model: new CrossAttention(), inputs: [randn([3, 4, 8]), randn([3, 5, 8]), padding], inputNames: ['query', 'memory', 'padding'] };
  }],
  ['TransformerEncoderLayer, post-norm ReLU', () => ({ model: new Encoder({}, false), inputs: [randn([2, 5, 16])], more: [[randn([1, 7, 16])]], dynamicAxes: seq })],
  ['TransformerEncoderLayer, pre-norm GELU, causal', () => ({ model: new Encoder({ normFirst: true, activation: 'gelu' }, true), inputs: [randn([2, 5, 16])], more: [[randn([3, 8, 16])]], dynamicAxes: seq })],
  ['TransformerEncoderLayer with a float key padding mask input', () => {
    const padding = tensor(Float32Array.of(0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0), { shape: [2, 6] });
    return { model: new PaddedEncoder(), inputs: [randn([2, 6, 16]), padding] };
  }],
  ['TransformerDecoderLayer, post-norm ReLU, causal self-attention', () => ({
    model: new Decoder({}), inputs: [randn([2, 5, 16]), randn([2, 7, 16])], more: [[randn([1, 3, 16]), randn([1, 9, 16])]],
    dynamicAxes: { input: { 1: 'target' }, input_1: { 1: 'source' }, output: { 1: 'target' } },
  })],
  ['TransformerDecoderLayer, pre-norm GELU', () => ({ model: new Decoder({ normFirst: true, activation: 'gelu' }), inputs: [randn([2, 4, 16]), randn([2, 6, 16])] })],
  ['TransformerDecoderLayer, sequence-first (batchFirst false)', () => ({
    model: new Decoder({ batchFirst: false }), inputs: [randn([5, 2, 16]), randn([7, 2, 16])], more: [[randn([2, 3, 16]), randn([4, 3, 16])]],
    dynamicAxes: { input: { 0: 'target', 1: 'batch' }, input_1: { 0: 'source', 1: 'batch' }, output: { 0: 'target', 1: 'batch' } },
  })],
  ['an encoder LM: Embedding, sinusoidal positions, GELU encoder layer, head', () => ({ model: new TinyEncoderLM(), inputs: [ids(2, 8, 11)], more: [[ids(1, 20, 11)]], dynamicAxes: seq })],
  ['a tiny GPT (2 layers, 2 heads, width 16, vocab 11, context 8)', () => ({
    model: new text.GPT({ vocabSize: 11, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 16 }), inputs: [ids(2, 8, 11)], more: [[ids(3, 5, 11)], [ids(1, 1, 11)]], dynamicAxes: seq,
  })],
];

function prepare(make: () => Case): Case {
  manualSeed(21);
  const c = make();
  randomise(c.model);
  c.model.eval();
  return c;
}

describe('onnx export of the language-model layers', () => {
  it.each(cases)('%s: onnxruntime matches the engine within 1e-4, on the sample and other shapes', async (_, make) => {
    const { model, inputs, more = [], dynamicAxes, inputNames } = prepare(make);
    const bytes = exportModel(model, inputs, { dynamicAxes, inputNames });
    for (const feed of [inputs, ...more]) {
      const expected = noGrad(() => model.forward(...feed));
      const got = await runOrt(bytes, feed);
      expect([...got.dims]).toEqual(expected.shape);
      expect(maxAbsDiff(got.data, expected.toFloat32Array())).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('takes int64 token ids (intInputType) as PyTorch models do, and names the initializers by state-dict keys', async () => {
    manualSeed(22);
    const gpt = new text.GPT({ vocabSize: 11, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 16 });
    const x = ids(2, 6, 11);
    const bytes = exportModel(gpt, x, { intInputType: 'int64', dynamicAxes: seq });
    const proto = decodeModel(bytes);
    expect(proto.graph!.input![0]!.type!.tensorType!.elemType).toBe(7); // INT64
    expect(proto.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'batch' }, { dimParam: 'sequence' }]);
    const names = proto.graph!.initializer!.map((t) => t.name);
    for (const key of ['wte.weight', 'wpe.weight', 'h.0.self_attn.in_proj_weight', 'h.0.self_attn.in_proj_bias', 'h.1.self_attn.out_proj.weight', 'h.1.linear1.weight', 'h.1.norm2.bias', 'ln_f.weight', 'lm_head.weight']) {
      expect(names).toContain(key);
    }
    expect(proto.graph!.node!.filter((n) => n.opType === 'LayerNormalization')).toHaveLength(5);
    expect(proto.graph!.node!.filter((n) => n.opType === 'Softmax')).toHaveLength(2);
    const expected = noGrad(() => gpt.eval().forward(x));
    const got = await runOrt(bytes, [{ int64: x }]);
    expect(maxAbsDiff(got.data, expected.toFloat32Array())).toBeLessThan(1e-4);
    // the engine's model runs again with its own training flags
    expect(gpt.training).toBe(false);
    gpt.dispose();
  });

  it('refuses what it cannot write, by name, and frees what the trace made', () => {
    manualSeed(23);
    const x = randn([2, 4, 8]);
    class Cached extends nn.Module {
      gpt = new text.GPT({ vocabSize: 5, contextLength: 4, nLayer: 1, nHead: 2, nEmbd: 8 });
      caches = this.gpt.newCaches(1);
      forward(t: Tensor): Tensor { return this.gpt.forward(t, this.caches); }
    }
    class InlineMask extends nn.Module {
      attn = new nn.MultiheadAttention(8, 2);
      forward(t: Tensor): Tensor {
        const first = t.narrow(0, 0, 1).squeeze(0); // [T, E]: the mask depends on the input's values
        return this.attn.forward(t, t, t, { attnMask: first.matmul(first.t()).gt(0) });
      }
    }
    class Custom extends nn.Module {
      layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 8, activation: (t) => t.tanh() });
      forward(t: Tensor): Tensor { return this.layer.forward(t); }
    }
    class Unknown extends nn.Module {
      rnn = new nn.GRU(8, 8, { batchFirst: true });
      forward(t: Tensor): Tensor { return this.rnn.forward(t); }
    }
    const cached = new Cached(), inline = new InlineMask(), custom = new Custom(), unknown = new Unknown();
    const mha = new nn.MultiheadAttention(8, 2), emb = new nn.Embedding(3, 2), tokens = ids(1, 3, 5), small = ids(1, 2, 3);
    const before = liveTensorCount();
    expect(() => exportModel(cached, tokens)).toThrow(/layer 'gpt.h.0.self_attn' was called with a KV cache.*help: export the model's plain forward/);
    expect(() => exportModel(inline, x)).toThrow(/attention mask .* was made inside forward.*help: pass it as a model input/);
    expect(() => exportModel(custom, x)).toThrow(/layer 'layer' \(TransformerEncoderLayer\) has a custom activation function/);
    expect(() => exportModel(unknown, x)).toThrow(/outside the exportable layers.*no ONNX translation: 'rnn' \(GRU\)/);
    expect(() => exportModel(mha, [x, x])).toThrow(/sample inputs must be distinct tensors/);
    expect(() => exportModel(mha, x, { dynamicAxes: { nope: { 1: 's' } } })).toThrow(/dynamicAxes names 'nope'/);
    expect(() => exportModel(mha, x, { dynamicAxes: { input: { 3: 's' } } })).toThrow(/axis 3, out of range for 3 dims/);
    expect(() => exportModel(emb, small, { intInputType: 'int16' as 'int32' })).toThrow(SimdgradError);
    expect(liveTensorCount()).toBe(before);
  });
});

describe('onnx import of the language-model layers', () => {
  it.each(cases)('%s: export → import gives the same outputs', (_, make) => {
    const { model, inputs, more = [], dynamicAxes, inputNames } = prepare(make);
    const imported = importModel(exportModel(model, inputs, { dynamicAxes, inputNames }));
    for (const feed of [inputs, ...more]) {
      const before = liveTensorCount();
      const out = imported.run(Object.fromEntries(imported.inputs.map((v, i) => [v.name, feed[i]!])));
      expect(liveTensorCount()).toBe(before + 1);
      const got = Object.values(out)[0]!;
      const expected = noGrad(() => model.forward(...feed));
      expect(got.shape).toEqual(expected.shape);
      expect(maxAbsDiff(got.toFloat32Array(), expected.toFloat32Array())).toBeLessThan(1e-4);
      got.dispose();
    }
    imported.dispose();
    model.dispose();
  });
});

describe('onnx import of language models exported by PyTorch', () => {
  interface Fixture {
    inputNames: string[];
    cases: { inputs: { shape: number[]; dtype: 'int32' | 'float32'; values: number[] }[]; outputShape: number[]; output: number[] }[];
  }
  // made by fixtures/gen-lm-fixtures.py (torch.onnx.export, opset 17, symbolic batch and length)
  const fixtures: [string, string, string[]][] = [
    ['torch-encoder-layer', 'TransformerEncoderLayer (pre-norm, GELU) with a causal src_mask built from the length', ['Trilu', 'ConstantOfShape', 'Erf', 'LayerNormalization']],
    ['torch-mha', 'MultiheadAttention cross-attention, sequence-first, bool key_padding_mask', ['Equal', 'Where', 'Expand', 'Squeeze']],
    ['torch-tiny-lm', 'an Embedding LM: int64 ids, learned positions, 2-layer TransformerEncoder, head', ['Gather', 'Trilu', 'Relu', 'LayerNormalization']],
  ];
  it.each(fixtures)('%s (%s) runs like PyTorch within 1e-4 at two shapes', (name, _, ops) => {
    const dir = new URL('./fixtures/', import.meta.url);
    const f = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Fixture;
    const bytes = readFileSync(new URL(`${name}.onnx`, dir));
    const opTypes = new Set(decodeModel(bytes).graph!.node!.map((n) => n.opType));
    for (const op of ops) expect(opTypes).toContain(op);
    const model = importModel(bytes);
    expect(model.producerName).toBe('pytorch');
    expect(model.inputs.map((i) => i.name)).toEqual(f.inputNames);
    for (const c of f.cases) {
      scope(() => {
        const feeds = Object.fromEntries(c.inputs.map((inp, i) => [f.inputNames[i]!, inp.dtype === 'int32'
          ? tensor(Int32Array.from(inp.values), { shape: inp.shape, dtype: 'int32' })
          : tensor(Float32Array.from(inp.values), { shape: inp.shape })]));
        const y = model.run(feeds).output!;
        expect(y.shape).toEqual(c.outputShape);
        expect(maxAbsDiff(y.toFloat32Array(), c.output)).toBeLessThan(1e-4);
      });
    }
    model.dispose();
  });
});

describe('onnx import: what it refuses', () => {
  const graphOf = (nodes: NodeProto[], initializer = [] as { name: string; dims: number[]; dataType: number; rawData: Uint8Array }[]) => encodeModel({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g', node: nodes, initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 2 }, { dimValue: 6 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  });
  const int64 = (name: string, values: number[]) => ({ name, dims: [values.length], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer) });

  it('names each unsupported op with the first node that uses it', () => {
    const bytes = graphOf([
      { opType: 'LSTM', input: ['x'], output: ['h'], name: 'encoder_lstm' },
      { opType: 'Attention', domain: 'com.microsoft', input: ['h'], output: ['a'], name: 'fused_attention' },
      { opType: 'LSTM', input: ['a'], output: ['y'], name: 'second_lstm' },
    ]);
    expect(() => importModel(bytes)).toThrow(/importModel: unsupported ops: LSTM \(node 'encoder_lstm'\), com\.microsoft\.Attention \(node 'fused_attention'\) \(supported: Add, /);
  });

  it('fails at run time with the node and the values when an op is given what it cannot take', () => {
    const split = importModel(graphOf([{ opType: 'Split', input: ['x', 'sizes'], output: ['y', 'z'], name: 'bad_split', attribute: [{ name: 'axis', type: 2, i: 1 }] }], [int64('sizes', [2, 3])]));
    expect(() => split.forward(randn([2, 6]))).toThrow(/node 'bad_split' \(Split\): split sizes \[2, 3\] must be 2 values adding up to dim 1 of \[2,6\]/);
    split.dispose();
    const squeeze = importModel(graphOf([{ opType: 'Squeeze', input: ['x', 'axes'], output: ['y'], name: 'bad_squeeze' }], [int64('axes', [1])]));
    expect(() => squeeze.forward(randn([2, 6]))).toThrow(/node 'bad_squeeze' \(Squeeze\): axis 1 of \[2,6\] is not 1/);
    squeeze.dispose();
  });

  it('runs int64 shape arithmetic exactly (Shape → Gather → Div → Concat → Reshape, as PyTorch writes it)', () => {
    // y = x.reshape([B, 2, T / 2]) with T read from the shape at run time
    const model = importModel(graphOf([
      { opType: 'Shape', input: ['x'], output: ['shape'], name: 'shape' },
      { opType: 'Gather', input: ['shape', 'last'], output: ['t'], name: 'gather', attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Div', input: ['t', 'two'], output: ['half'], name: 'div' },
      { opType: 'Unsqueeze', input: ['half', 'axis0'], output: ['half1'], name: 'unsqueeze' },
      { opType: 'Concat', input: ['minus1_two', 'half1'], output: ['target'], name: 'concat', attribute: [{ name: 'axis', type: 2, i: 0 }] },
      { opType: 'Reshape', input: ['x', 'target'], output: ['y'], name: 'reshape' },
    ], [
      { name: 'last', dims: [], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(-1n).buffer) },
      { name: 'two', dims: [], dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.of(2n).buffer) },
      int64('axis0', [0]), int64('minus1_two', [-1, 2]),
    ]));
    const y = model.forward(randn([2, 6]));
    expect(y.shape).toEqual([2, 2, 3]);
    y.dispose();
    model.dispose();
  });
});

describe('onnx import: the shape and mask ops, against onnxruntime', () => {
  const i64 = (name: string, values: number[], dims = [values.length]): TensorProto => ({ name, dims, dataType: DataType.INT64, rawData: new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer) });
  const f32 = (name: string, values: number[], dims = [values.length]): TensorProto => ({ name, dims, dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.from(values).buffer) });
  const model = (opset: number, nodes: NodeProto[], initializer: ReturnType<typeof i64>[]) => encodeModel({
    irVersion: 8, opsetImport: [{ domain: '', version: opset }],
    graph: {
      name: 'ops', node: nodes.map((n, i) => ({ name: `${n.opType.toLowerCase()}_${i}`, ...n })), initializer,
      input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: 6 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  });
  const int = (name: string, i: number) => ({ name, type: 2, i });
  const str = (name: string, s: string) => ({ name, type: 3, s: new TextEncoder().encode(s) });

  it('Shape, Gather, Range, Less, Not, Where, Slice (negative step), Split (num_outputs), Concat, ReduceMean, Expand, Trilu, Clip, Sub, Cast (opset 18)', async () => {
    const bytes = model(18, [
      { opType: 'Shape', input: ['x'], output: ['shape'] },
      { opType: 'Gather', input: ['shape', 'one_scalar'], output: ['n'], attribute: [int('axis', 0)] },
      { opType: 'Range', input: ['zero_scalar', 'n', 'one_scalar'], output: ['r'] },
      { opType: 'Less', input: ['r', 'three'], output: ['lt'] },
      { opType: 'Not', input: ['lt'], output: ['ge'] },
      { opType: 'Where', input: ['ge', 'x', 'zero_f'], output: ['w'] },
      { opType: 'Slice', input: ['w', 'minus1', 'minus100', 'axis1', 'minus2'], output: ['sl'] },
      { opType: 'Split', input: ['x'], output: ['p0', 'p1', 'p2'], attribute: [int('axis', 1), int('num_outputs', 3)] },
      { opType: 'Concat', input: ['p2', 'p0'], output: ['cat'], attribute: [int('axis', 1)] },
      { opType: 'ReduceMean', input: ['cat', 'axis1'], output: ['mean'], attribute: [int('keepdims', 1)] },
      { opType: 'Shape', input: ['sl'], output: ['sl_shape'] },
      { opType: 'Expand', input: ['mean', 'sl_shape'], output: ['ex'] },
      { opType: 'Trilu', input: ['sl', 'zero_scalar'], output: ['lower'], attribute: [int('upper', 0)] },
      { opType: 'Clip', input: ['lower', 'clip_lo', 'clip_hi'], output: ['clipped'] },
      { opType: 'Add', input: ['clipped', 'ex'], output: ['a'] },
      { opType: 'Sub', input: ['r', 'two'], output: ['rs'] },
      { opType: 'Clip', input: ['rs', 'zero_scalar', 'two_scalar'], output: ['rc'] },
      { opType: 'Cast', input: ['rc'], output: ['rf'], attribute: [int('to', DataType.FLOAT)] },
      { opType: 'Mul', input: ['x', 'rf'], output: ['b'] },
      { opType: 'Concat', input: ['a', 'b'], output: ['y'], attribute: [int('axis', 1)] },
    ], [
      i64('one_scalar', [1], []), i64('zero_scalar', [0], []), i64('two_scalar', [2], []), i64('three', [3]), i64('two', [2]),
      f32('zero_f', [0], []), i64('minus1', [-1]), i64('minus100', [-100]), i64('axis1', [1]), i64('minus2', [-2]),
      f32('clip_lo', [-0.5], []), f32('clip_hi', [0.5], []),
    ]);
    const imported = importModel(bytes);
    for (const x of [randn([2, 6]), randn([3, 6])]) {
      const want = await runOrt(bytes, [x]);
      const got = imported.forward(x);
      expect(got.shape).toEqual([...want.dims]);
      expect(got.shape).toEqual([x.shape[0], 9]);
      expect(maxAbsDiff(got.toFloat32Array(), want.data)).toBeLessThan(1e-6);
      got.dispose();
    }
    imported.dispose();
  });

  it('Gelu (opset 20), exact and tanh', async () => {
    for (const approximate of ['none', 'tanh']) {
      const bytes = model(20, [{ opType: 'Gelu', input: ['x'], output: ['y'], attribute: [str('approximate', approximate)] }], []);
      const x = randn([3, 6]).mul(3);
      const want = await runOrt(bytes, [x]);
      const imported = importModel(bytes);
      const got = imported.forward(x);
      expect(maxAbsDiff(got.toFloat32Array(), want.data)).toBeLessThan(1e-5);
      expect(maxAbsDiff(got.toFloat32Array(), x.gelu(approximate as 'none' | 'tanh').toFloat32Array())).toBeLessThan(1e-5);
      got.dispose();
      imported.dispose();
    }
  });

  it('folds constant subgraphs once at import, and dispose frees them with the initializers', () => {
    manualSeed(24);
    const gpt = new text.GPT({ vocabSize: 11, contextLength: 8, nLayer: 2, nHead: 2, nEmbd: 16 });
    const x = ids(2, 5, 11);
    const bytes = exportModel(gpt, x, { dynamicAxes: seq });
    const before = liveTensorCount();
    const imported = importModel(bytes);
    const initializers = decodeModel(bytes).graph!.initializer!.length;
    // every Linear's weight Transpose (and the split of the packed in_proj weights) is computed once, here
    expect(liveTensorCount() - before).toBeGreaterThan(initializers);
    const loaded = liveTensorCount();
    const y = imported.forward(x);
    expect(liveTensorCount()).toBe(loaded + 1);
    const expected = scope(() => noGrad(() => gpt.eval().forward(x).toFloat32Array()));
    expect(maxAbsDiff(y.toFloat32Array(), expected)).toBeLessThan(1e-4);
    y.dispose();
    imported.dispose();
    expect(liveTensorCount()).toBe(before);
    gpt.dispose();
  });
});
