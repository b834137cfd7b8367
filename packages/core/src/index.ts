/**
 * @simdgrad/core — a PyTorch-style deep-learning engine for JavaScript and TypeScript whose hot loops
 * run as WebAssembly SIMD.
 *
 * @example
 * ```ts
 * import { init, tensor } from '@simdgrad/core';
 * await init();
 * const x = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.matmul(x).sum().backward();
 * ```
 */
export { init, getBackend, setBackend, backendInfo, shutdown, type InitOptions, type BackendInfo } from './engine.js';
export { SimdgradError } from './errors.js';
export { Tensor, type NestedArray } from './tensor.js';
export { scope, keep, liveTensorCount } from './memory.js';
export { noGrad, isGradEnabled } from './autograd/graph.js';
export {
  tensor, zeros, ones, full, zerosLike, onesLike, arange, linspace, rand, randn, randint, uniform, normal,
  manualSeed, generator, type TensorOptions, type FromDataOptions,
} from './ops/creation.js';
export { cat, stack } from './ops/shape.js';
export { where } from './ops/elementwise.js';
export { gradcheck, type GradcheckOptions } from './autograd/gradcheck.js';
export * as autograd from './autograd/index.js';
export * as nn from './nn/index.js';
export * as data from './data/index.js';
export * as io from './io/index.js';
export { Generator } from './random.js';
export type { Backend, DType, MatmulArgs, UnaryOpName, BinaryOpName, ReduceOpName } from './backend/backend.js';
export { Heap, sizeClass, type HeapStats, type Views } from './backend/heap.js';
export { ReferenceBackend } from './backend/reference.js';
export { WasmBackend, createWasmBackend, type WasmBackendOptions } from './backend/wasm.js';
export { collapseDims, contiguousStrides } from './backend/strides.js';
export * as optim from './optim/index.js';
export * as explain from './explain/index.js';
export * as privacy from './privacy/index.js';
export * as audio from './audio/index.js';
export * as text from './text/index.js';
