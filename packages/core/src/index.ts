/**
 * @simdgrad/core — a PyTorch-style deep-learning engine for JavaScript and TypeScript whose hot loops
 * run as WebAssembly SIMD.
 */
export { init, getBackend, setBackend, backendInfo, type InitOptions, type BackendInfo } from './engine.js';
export { SimdgradError } from './errors.js';
export type { Backend, DType, MatmulArgs, UnaryOpName, BinaryOpName, ReduceOpName } from './backend/backend.js';
export { Heap, sizeClass, type HeapStats, type Views } from './backend/heap.js';
export { ReferenceBackend } from './backend/reference.js';
export { WasmBackend, createWasmBackend, type WasmBackendOptions } from './backend/wasm.js';
export { collapseDims, contiguousStrides } from './backend/strides.js';
