/**
 * The TensorFlow.js trainers: a tfjs-layers model (the same layers as simdgrad's) trained by
 * `tf.train.adam().minimize(softmaxCrossEntropy(model.apply(x)))`, on tfjs-backend-wasm (SIMD,
 * 1 thread, set up by ../tfjs.ts) or tfjs-backend-cpu (plain JS).
 *
 * The wasm backend lacks some training kernels (Conv2DBackpropFilter for the conv filter gradient,
 * UnsortedSegmentSum for the embedding gradient); without help the step throws "Kernel '…' not
 * registered for backend 'wasm'". We help it the least invasive way: every kernel tfjs-cpu has and
 * tfjs-wasm lacks is registered for wasm as a wrapper that copies the inputs to the cpu backend, runs
 * tfjs-cpu's kernel there and copies the result back. The report names the kernels that were called.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import { loadTfjsWasm } from '../tfjs.js';
import { CHARLM, CHARLM_LSTM, CNN, MLP, MODELS, makeBatch, oneHot, type ModelName, type Trainer } from './common.js';

type Tf = typeof TfCore;
type TensorInfo = TfCore.TensorInfo;

interface BackendLike {
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  write(values: unknown, shape: number[], dtype: string): object;
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput?(shape: number[], dtype: string, memoryOffset?: number, values?: unknown): TensorInfo;
}

/**
 * Conv2DBackpropFilter for tfjs-wasm from kernels it has (stride 1, no dilation, 'valid' padding,
 * NHWC — what this bench's CNN needs): dW[kh,kw,ci,co] = Σ x[n,oh+kh,ow+kw,ci]·dy[n,oh,ow,co] is a
 * 'valid' convolution of xᵀ [ci, H, W, n] with dyᵀ [OH, OW, n, co] as the filter, giving
 * [ci, KH, KW, co], transposed to [KH, KW, ci, co]. Runs XNNPACK's Conv2D and the wasm Transpose.
 * Returns false (and registers nothing) when the wasm backend lacks those kernels.
 */
export function registerWasmConvFilterGrad(tf: Tf, calls: Map<string, number>, fallback: Map<string, number>): boolean {
  const name = 'Conv2DBackpropFilter';
  const conv = tf.getKernel('Conv2D', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const cpu = tf.getKernel(name, 'cpu');
  if (!conv || !transpose || !cpu || tf.getKernel(name, 'wasm')) return false;
  type Attrs = { strides: number | [number, number]; pad: unknown; dataFormat: string; dimRoundingMode?: unknown; filterShape: number[] };
  const generic = borrowOne(tf, cpu, fallback);
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const a = args.attrs as unknown as Attrs;
      const strides = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      if (strides[0] !== 1 || strides[1] !== 1 || a.pad !== 'valid' || (a.dataFormat !== 'NHWC' && a.dataFormat !== 'channelsLast')) {
        return generic(args);
      }
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const backend = args.backend as unknown as BackendLike;
      const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
      const run = (k: TfCore.KernelConfig, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
        k.kernelFunc({ inputs, backend: args.backend, attrs: attrs as TfCore.NamedAttrMap }) as TensorInfo;
      const xt = run(transpose, { x }, { perm: [3, 1, 2, 0] });
      const dyt = run(transpose, { x: dy }, { perm: [1, 2, 0, 3] });
      const g = run(conv, { x: xt, filter: dyt }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
      const out = run(transpose, { x: g }, { perm: [1, 2, 0, 3] });
      for (const t of [xt, dyt, g]) backend.disposeData(t.dataId, true);
      return out;
    },
  });
  return true;
}

/**
 * UnsortedSegmentSum (the gradient of an embedding lookup) for tfjs-wasm from kernels it has:
 * out[s, …] = Σ_{i: ids[i] = s} x[i, …] is oneHot(ids, S)ᵀ · x, run as wasm OneHot, Cast, Transpose and
 * XNNPACK BatchMatMul (ids out of [0, S) match no row and drop out, as in tf.unsortedSegmentSum).
 * tfjs-cpu's kernel, the only one tfjs has, builds a mask per segment with a broadcasting multiply in
 * plain JS (≈ 3 s per step of the char models here). 1-D ids only (what gather's gradient passes);
 * anything else goes to tfjs-cpu's kernel. Returns false (and registers nothing) when a kernel is missing.
 */
export function registerWasmSegmentSum(tf: Tf, calls: Map<string, number>, fallback: Map<string, number>): boolean {
  const name = 'UnsortedSegmentSum';
  const [oneHot, cast, transpose, matmul, reshape] = ['OneHot', 'Cast', 'Transpose', 'BatchMatMul', 'Reshape'].map((k) => tf.getKernel(k, 'wasm'));
  const cpu = tf.getKernel(name, 'cpu');
  if (!oneHot || !cast || !transpose || !matmul || !reshape || !cpu || tf.getKernel(name, 'wasm')) return false;
  const generic = borrowOne(tf, cpu, fallback);
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
      const segments = (args.attrs as unknown as { numSegments: number }).numSegments;
      if (segmentIds.shape.length !== 1 || x.shape.length < 1 || x.shape[0] !== segmentIds.shape[0] || x.dtype !== 'float32') return generic(args);
      calls.set(name, (calls.get(name) ?? 0) + 1);
      const backend = args.backend as unknown as BackendLike;
      const run = (k: TfCore.KernelConfig, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
        k.kernelFunc({ inputs, backend: args.backend, attrs: attrs as TfCore.NamedAttrMap }) as TensorInfo;
      const n = x.shape[0]!;
      const rest = x.shape.slice(1);
      const width = rest.reduce((a, b) => a * b, 1);
      // NOTE: the wasm OneHot writes int32 whatever dtype it is told, so the mask is cast afterwards.
      const ints = run(oneHot, { indices: segmentIds }, { depth: segments, onValue: 1, offValue: 0, dtype: 'int32' });
      const mask = run(cast, { x: ints }, { dtype: 'float32' });
      const maskT = run(transpose, { x: mask }, { perm: [1, 0] });
      const x2 = run(reshape, { x }, { shape: [n, width] });
      const sums = run(matmul, { a: maskT, b: x2 }, { transposeA: false, transposeB: false });
      const out = run(reshape, { x: sums }, { shape: [segments, ...rest] });
      // Reshapes share data (reference counted): release ours without forcing.
      for (const t of [ints, mask, maskT]) backend.disposeData(t.dataId, true);
      for (const t of [x2, sums]) backend.disposeData(t.dataId);
      return out;
    },
  });
  return true;
}

/** A wasm kernel that runs tfjs-cpu's `k`: inputs copied to the cpu backend, the outputs copied back. */
function borrowOne(tf: Tf, k: TfCore.KernelConfig, calls: Map<string, number>): TfCore.KernelFunc {
  const cpu = tf.engine().findBackend('cpu') as unknown as BackendLike | null;
  if (cpu === null) throw new Error('tfjs-backend-cpu is not registered');
  const name = k.kernelName;
  return ({ inputs, backend, attrs }) => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
    const wasm = backend as unknown as BackendLike;
    const cpuInputs: Record<string, TensorInfo> = {};
    for (const [key, t] of Object.entries(inputs)) {
      if (t === undefined) continue;
      const values = wasm.readSync(t.dataId) as ArrayLike<number> & { slice(): unknown };
      cpuInputs[key] = { dataId: cpu.write(values.slice(), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    }
    const out = k.kernelFunc({ inputs: cpuInputs, backend: cpu as unknown as TfCore.KernelBackend, attrs }) as TensorInfo | TensorInfo[];
    const outs = Array.isArray(out) ? out : [out];
    const results = outs.map((o) => {
      const values = (cpu.readSync(o.dataId) as ArrayLike<number> & { slice(): unknown }).slice();
      cpu.disposeData(o.dataId, true);
      return wasm.makeOutput!(o.shape, o.dtype, undefined, values);
    });
    for (const t of Object.values(cpuInputs)) cpu.disposeData(t.dataId, true);
    return Array.isArray(out) ? results : results[0]!;
  };
}

/** Registers, for 'wasm', every kernel that 'cpu' has and 'wasm' lacks; returns per-kernel call counts. */
function borrowCpuKernels(tf: Tf, calls: Map<string, number>): void {
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (tf.getKernel(k.kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel({ kernelName: k.kernelName, backendName: 'wasm', kernelFunc: borrowOne(tf, k, calls) });
  }
}

function buildModel(tfl: typeof import('@tensorflow/tfjs-layers'), model: ModelName): import('@tensorflow/tfjs-layers').Sequential {
  const L = tfl.layers;
  switch (model) {
    case 'mlp':
      return tfl.sequential({ layers: [
        L.dense({ units: MLP.hidden[0], activation: 'relu', inputShape: [MLP.input] }),
        L.dense({ units: MLP.hidden[1], activation: 'relu' }),
        L.dense({ units: MLP.classes }),
      ] });
    case 'cnn':
      return tfl.sequential({ layers: [
        L.conv2d({ filters: CNN.c1, kernelSize: CNN.k, activation: 'relu', inputShape: [CNN.size, CNN.size, 1] }),
        L.maxPooling2d({ poolSize: 2 }),
        L.conv2d({ filters: CNN.c2, kernelSize: CNN.k, activation: 'relu' }),
        L.maxPooling2d({ poolSize: 2 }),
        L.flatten(),
        L.dense({ units: CNN.classes }),
      ] });
    case 'charlm':
      return tfl.sequential({ layers: [
        L.embedding({ inputDim: CHARLM.vocab, outputDim: CHARLM.dim, inputLength: CHARLM.context }),
        L.flatten(),
        L.dense({ units: CHARLM.hidden, activation: 'relu' }),
        L.dense({ units: CHARLM.vocab }),
      ] });
    case 'charlm-lstm':
      // recurrentActivation: tfjs-layers defaults to hardSigmoid; sigmoid is the LSTM every other engine runs.
      // recurrentInitializer: the default 'orthogonal' throws in tfjs 4.22 ("rMat.flatten is not a
      // function", in its QR); the initial values do not change the step time (see LSTM_INIT_NOTE).
      return tfl.sequential({ layers: [
        L.embedding({ inputDim: CHARLM_LSTM.vocab, outputDim: CHARLM_LSTM.dim, inputLength: CHARLM_LSTM.context }),
        L.lstm({ units: CHARLM_LSTM.hidden, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }),
        L.dense({ units: CHARLM_LSTM.vocab }),
      ] });
  }
}

const LSTM_INIT_NOTE = 'LSTM recurrent kernel initialised glorotUniform: tfjs-layers\' default orthogonal initializer ' +
  'throws in 4.22 ("rMat.flatten is not a function"); sigmoid gates instead of its default hardSigmoid, as in the other engines';

export async function tfjsTrainer(model: ModelName, backend: 'wasm' | 'cpu'): Promise<Trainer> {
  const notes: string[] = [];
  let tf: Tf;
  let version: string;
  let calls: Map<string, number> | null = null;
  const helped = new Map<string, number>();
  const segmentSum = new Map<string, number>();
  if (backend === 'wasm') {
    const w = await loadTfjsWasm();
    tf = w.tf;
    version = w.version;
    await import('@tensorflow/tfjs-backend-cpu');
    calls = new Map();
    registerWasmConvFilterGrad(tf, helped, calls);
    registerWasmSegmentSum(tf, segmentSum, calls);
    borrowCpuKernels(tf, calls);
    // loadTfjsWasm selected 'wasm'; registering kernels does not change that.
    if (tf.getBackend() !== 'wasm') throw new Error(`expected the wasm backend, got ${tf.getBackend()}`);
    notes.push('1 thread: tfjs-wasm 4.22 has no multithread support in Node');
  } else {
    tf = (await import('@tensorflow/tfjs-core')) as Tf;
    const cpu = await import('@tensorflow/tfjs-backend-cpu');
    version = cpu.version_cpu;
    if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialize');
    await tf.ready();
  }
  const tfl = await import('@tensorflow/tfjs-layers');
  const net = buildModel(tfl, model);
  if (model === 'charlm-lstm') notes.push(LSTM_INIT_NOTE);
  const opt = tf.train.adam(MODELS[model].lr, 0.9, 0.999, 1e-8);
  const batch = makeBatch(model);
  const shape = model === 'cnn' ? [batch.xShape[0]!, CNN.size, CNN.size, 1] : batch.xShape;
  const x = batch.x instanceof Int32Array ? tf.tensor(batch.x, shape, 'int32') : tf.tensor(batch.x, shape, 'float32');
  const y = tf.tensor2d(oneHot(batch.y, batch.classes), [batch.y.length, batch.classes]);
  const vars = net.trainableWeights.map((w: unknown) => (w as unknown as { read(): TfCore.Variable }).read());
  const lossFn = () => tf.losses.softmaxCrossEntropy(y, net.apply(x, { training: true }) as TfCore.Tensor) as TfCore.Scalar;
  return {
    engine: backend === 'wasm' ? `tfjs-layers + tfjs-wasm ${version} (SIMD, 1 thread)` : `tfjs-layers + tfjs-cpu ${version}`,
    notes,
    step() {
      const loss = opt.minimize(lossFn, true, vars)!;
      const v = loss.dataSync()[0]!;
      loss.dispose();
      return v;
    },
    lateNotes() {
      const out: string[] = [];
      if (helped.size > 0) {
        out.push(`tfjs-wasm lacks ${[...helped.keys()].join(', ')} (without help: "Kernel '…' not registered for backend 'wasm'"); ` +
          'we registered one built from its own Transpose + XNNPACK Conv2D (tfjs-cpu\'s naive kernel makes a step ~20 s)');
      }
      if (segmentSum.size > 0) {
        out.push('tfjs-wasm lacks UnsortedSegmentSum, the embedding gradient (without help: "Kernel \'…\' not registered for backend ' +
          '\'wasm\'"); we registered one built from its own OneHot + Transpose + XNNPACK BatchMatMul (tfjs-cpu\'s JS kernel costs ≈ 3 s a step here)');
      }
      if (calls !== null && calls.size > 0) {
        out.push(`tfjs-wasm lacks ${[...calls.keys()].join(', ')} (without help: "Kernel '…' not registered for backend 'wasm'"); ` +
          'borrowed tfjs-cpu\'s kernel, inputs/outputs copied across per call');
      }
      return out;
    },
  };
}
