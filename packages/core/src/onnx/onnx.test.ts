import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimdgradError, init, io, liveTensorCount, manualSeed, nn, noGrad, randint, randn, scope, tensor, type Tensor } from '../index.js';
import { DataType, decodeModel, encodeModel } from './schema.js';
import { exportModel, importModel } from './index.js';
import { maxAbsDiff } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

/** Runs ONNX bytes in onnxruntime on one float32/int32 input; returns the first output's values and dims. */
async function runOrt(bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const feed = x.dtype === 'int32'
      ? new ort.Tensor('int32', x.toInt32Array(), x.shape)
      : new ort.Tensor('float32', x.toFloat32Array(), x.shape);
    const result = await session.run({ [session.inputNames[0]!]: feed });
    const out = result[session.outputNames[0]!]!;
    return { data: out.data as Float32Array, dims: out.dims };
  } finally {
    await session.release();
  }
}

/** Randomises a batch norm's running statistics and affine parameters, so eval mode is not the identity. */
function randomiseBatchNorm(bn: nn.BatchNorm1d | nn.BatchNorm2d): void {
  const c = bn.numFeatures;
  bn.loadStateDict({
    weight: randn([c]).mul(0.3).add(1),
    bias: randn([c]).mul(0.2),
    running_mean: randn([c]).mul(0.5),
    running_var: randn([c]).square().add(0.5),
    num_batches_tracked: tensor(Int32Array.of(10), { shape: [], dtype: 'int32' }),
  });
}

class Convnet extends nn.Module {
  features = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: 1 }), new nn.BatchNorm2d(8), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(8, 8, 3, { stride: 2, padding: 1, groups: 2 }), new nn.SiLU(), new nn.AvgPool2d(2, { stride: 1 }),
    new nn.Conv2d(8, 4, [1, 3], { dilation: [1, 2], padding: [0, 2], bias: false }), new nn.AdaptiveAvgPool2d(1),
  );
  head = new nn.Sequential(new nn.Flatten(), new nn.Dropout(0.3), new nn.Linear(4, 5), new nn.LogSoftmax(1));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

// Each case: a model and a sample input; the export runs in onnxruntime and must match the engine.
const cases: [string, () => { model: nn.Module; x: Tensor }][] = [
  ['an MLP with every activation', () => ({
    model: new nn.Sequential(
      new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.Tanh(), new nn.Linear(16, 16), new nn.Sigmoid(),
      new nn.Linear(16, 16), new nn.GELU(), new nn.Linear(16, 16), new nn.GELU('tanh'), new nn.Linear(16, 16), new nn.LeakyReLU(0.2),
      new nn.Linear(16, 16), new nn.ELU(0.7), new nn.Linear(16, 16, { bias: false }), new nn.SiLU(), new nn.Dropout(0.5),
      new nn.Linear(16, 4), new nn.Softmax(-1),
    ),
    x: randn([5, 6]),
  })],
  ['a CNN with norms, every pooling, groups and dilation', () => {
    const model = new Convnet();
    randomiseBatchNorm(model.features[1] as nn.BatchNorm2d);
    return { model, x: randn([2, 3, 16, 16]) };
  }],
  ['LayerNorm and Linear on 3-d input, BatchNorm1d', () => {
    const bn = new nn.BatchNorm1d(4);
    randomiseBatchNorm(bn);
    const ln = new nn.LayerNorm(8);
    ln.loadStateDict({ weight: randn([8]), bias: randn([8]) });
    return { model: new nn.Sequential(new nn.Linear(8, 8), ln, new nn.LayerNorm([4, 8], 1e-3, { elementwiseAffine: false }), bn, new nn.Flatten(1, 2), new nn.Linear(32, 3)), x: randn([3, 4, 8]) };
  }],
  ['Embedding (int32 indices), flattened by Reshape', () => ({
    model: new nn.Sequential(new nn.Embedding(10, 4), new nn.Flatten(0, 1), new nn.Linear(4, 2)),
    x: randint(0, 10, [3, 5], { dtype: 'int32' }),
  })],
  ['a custom module that chains layers, AdaptiveAvgPool2d to 2×2', () => {
    class Net extends nn.Module {
      conv = new nn.Conv2d(1, 2, 3, { padding: 1 });
      pool = new nn.AdaptiveAvgPool2d(2);
      flat = new nn.Flatten();
      fc = new nn.Linear(8, 2);
      forward(x: Tensor): Tensor { return this.fc.forward(this.flat.forward(this.pool.forward(this.conv.forward(x)))); }
    }
    return { model: new Net(), x: randn([2, 1, 6, 6]) };
  }],
];

describe('onnx.exportModel', () => {
  it.each(cases)('%s: onnxruntime matches the engine within 1e-4, on the sample and another batch size', async (_, make) => {
    manualSeed(11);
    const { model, x } = make();
    model.eval();
    const bytes = exportModel(model, x);
    for (const input of [x, x.dtype === 'int32' ? randint(0, 10, [1, ...x.shape.slice(1)], { dtype: 'int32' }) : randn([1, ...x.shape.slice(1)])]) {
      const expected = noGrad(() => model.forward(input));
      const got = await runOrt(bytes, input);
      expect([...got.dims]).toEqual(expected.shape);
      expect(maxAbsDiff(got.data, expected.toFloat32Array())).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  it('writes opset 17, initializers named by state-dict keys, a symbolic batch dim, and restores training mode', () => {
    const model = new nn.Sequential(new nn.Linear(4, 3), new nn.BatchNorm1d(3), new nn.Dropout(0.1));
    expect(model.training).toBe(true);
    const proto = decodeModel(exportModel(model, randn([2, 4]), { metadata: { arch: 'mlp' } }));
    expect(model.training).toBe(true);
    expect(model[1]!.training).toBe(true);
    expect(proto.opsetImport).toEqual([{ version: 17 }]); // the default domain '' is proto3's default, so not on the wire
    expect(proto.irVersion).toBe(8);
    expect(proto.producerName).toBe('simdgrad');
    expect(proto.metadataProps).toEqual([{ key: 'arch', value: 'mlp' }]);
    expect(proto.graph!.initializer!.map((t) => [t.name, t.dims])).toEqual([
      ['0.weight', [3, 4]], ['0.bias', [3]], ['1.weight', [3]], ['1.bias', [3]], ['1.running_mean', [3]], ['1.running_var', [3]],
    ]);
    expect(proto.graph!.node!.map((n) => n.opType)).toEqual(['Gemm', 'BatchNormalization']);
    expect(proto.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 4 }]);
    expect(proto.graph!.output![0]!.name).toBe('output');
    const fixed = decodeModel(exportModel(model, randn([2, 4]), { dynamicBatch: false, opsetVersion: 18 }));
    expect(fixed.graph!.input![0]!.type!.tensorType!.shape!.dim).toEqual([{ dimValue: 2 }, { dimValue: 4 }]);
    expect(fixed.opsetImport![0]!.version).toBe(18);
    model.dispose();
  });

  it('writes an Identity for a model that returns its input (Dropout alone)', async () => {
    const x = randn([2, 3]);
    const got = await runOrt(exportModel(new nn.Dropout(0.5), x), x);
    expect(maxAbsDiff(got.data, x.toFloat32Array())).toBe(0);
  });

  it('refuses what it cannot express, by name, and frees what the trace made', () => {
    class Residual extends nn.Module {
      fc = new nn.Linear(3, 3);
      forward(x: Tensor): Tensor { return this.fc.forward(x).add(x); }
    }
    class Inline extends nn.Module {
      fc1 = new nn.Linear(3, 3);
      fc2 = new nn.Linear(3, 3);
      forward(x: Tensor): Tensor { return this.fc2.forward(this.fc1.forward(x).relu()); }
    }
    const x = randn([2, 3]);
    const residual = new Residual(), inline = new Inline();
    const before = liveTensorCount();
    expect(() => exportModel(residual, x)).toThrow(/the model's output .* outside the exportable layers/);
    expect(() => exportModel(inline, x)).toThrow(/input of layer 'fc2' \(Linear.*help: express the computation with nn layers/);
    expect(liveTensorCount()).toBe(before);
    expect(() => exportModel(new nn.AdaptiveAvgPool2d(2), randn([1, 1, 5, 5]))).toThrow(/uneven windows/);
    expect(() => exportModel(new nn.BatchNorm1d(3, { trackRunningStats: false }), x)).toThrow(/no running statistics/);
    expect(() => exportModel(new nn.Linear(3, 3), x, { opsetVersion: 13 })).toThrow(SimdgradError);
    expect(() => exportModel({} as nn.Module, x)).toThrow(/model must be an nn.Module/);
    // the forward wrappers are gone again
    expect(Object.prototype.hasOwnProperty.call(inline.fc1, 'forward')).toBe(false);
  });
});

describe('onnx.importModel', () => {
  it.each(cases)('%s: export → import gives the same outputs', (_, make) => {
    manualSeed(12);
    const { model, x } = make();
    model.eval();
    const imported = importModel(exportModel(model, x));
    const before = liveTensorCount();
    const got = imported.forward(x);
    expect(liveTensorCount()).toBe(before + 1);
    const expected = noGrad(() => model.forward(x));
    expect(got.shape).toEqual(expected.shape);
    expect(maxAbsDiff(got.toFloat32Array(), expected.toFloat32Array())).toBeLessThan(1e-5);
    expect(imported.inputs[0]!.shape[0]).toBe('batch');
    imported.dispose();
    model.dispose();
  });

  it('runs a model exported by PyTorch (torch.onnx.export, opset 17) like PyTorch did', () => {
    const dir = new URL('../io/fixtures/', import.meta.url);
    const expected = JSON.parse(readFileSync(new URL('torch-convnet.json', dir), 'utf8')) as { input: number[]; inputShape: number[]; output: number[]; outputShape: number[] };
    const model = importModel(readFileSync(new URL('torch-convnet.onnx', dir)));
    expect(model.producerName).toBe('pytorch');
    expect(model.opsetVersion).toBe(17);
    scope(() => {
      const y = model.forward(tensor(Float32Array.from(expected.input), { shape: expected.inputShape }));
      expect(y.shape).toEqual(expected.outputShape);
      expect(maxAbsDiff(y.toFloat32Array(), expected.output)).toBeLessThan(1e-4);
    });
    model.dispose();
  });

  it('runs Pad (PyTorch writes AvgPool2d as Pad + AveragePool) like onnxruntime, with growing and cropping pads', async () => {
    const pads = BigInt64Array.of(0n, 0n, 1n, -1n, 0n, 1n, 2n, 0n);
    const bytes = encodeModel({
      irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'pad', node: [{ opType: 'Pad', input: ['x', 'pads', 'value'], output: ['y'], name: 'pad' }],
        initializer: [
          { name: 'pads', dims: [8], dataType: DataType.INT64, rawData: new Uint8Array(pads.buffer) },
          { name: 'value', dims: [], dataType: DataType.FLOAT, rawData: new Uint8Array(Float32Array.of(-3).buffer) },
        ],
        input: [{ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }, { dimValue: 3 }, { dimValue: 4 }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
      },
    });
    const x = randn([1, 2, 3, 4]);
    const got = importModel(bytes).forward(x);
    const want = await runOrt(bytes, x);
    expect(got.shape).toEqual([...want.dims]);
    expect(maxAbsDiff(got.toFloat32Array(), want.data)).toBe(0);
  });

  it('PyTorch weights loaded here, exported, and run in onnxruntime match PyTorch within 1e-4', async () => {
    const dir = new URL('../io/fixtures/', import.meta.url);
    const f = JSON.parse(readFileSync(new URL('torch-cnn.json', dir), 'utf8')) as { input: number[]; inputShape: number[]; output: number[] };
    const model = new nn.Sequential(
      new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(4, 6, 3, { stride: 1, padding: 1, groups: 2 }), new nn.GELU(), new nn.AvgPool2d(2),
      new nn.Conv2d(6, 8, 1), new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(8, 3),
    );
    const { tensors } = io.load(readFileSync(new URL('torch-cnn.safetensors', dir)));
    model.loadStateDict(tensors);
    const x = tensor(Float32Array.from(f.input), { shape: f.inputShape });
    const got = await runOrt(exportModel(model, x), x);
    expect(maxAbsDiff(got.data, f.output)).toBeLessThan(1e-4);
    for (const t of Object.values(tensors)) t.dispose();
    model.dispose();
  });

  it('names unsupported ops and bad bytes', () => {
    expect(() => importModel(Uint8Array.of(1, 2, 3, 255, 255))).toThrow(/importModel: the bytes are not an ONNX model/);
    const model = new nn.Sequential(new nn.Linear(2, 2));
    const proto = decodeModel(exportModel(model, randn([1, 2])));
    expect(proto.graph!.node!.length).toBe(1);
    expect(() => importModel(new Uint8Array(0))).toThrow(/no graph/);
    expect(() => importModel(exportModel(model, randn([1, 2]))).train()).toThrow(/inference only/);
  });
});
