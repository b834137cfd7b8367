/**
 * @simdgrad/core/onnx — ONNX export and import. A subpath of its own, so the protobuf library stays out
 * of bundles that don't use ONNX.
 *
 * @example
 * ```ts
 * import { init, randn, nn } from '@simdgrad/core';
 * import { exportModel, importModel } from '@simdgrad/core/onnx';
 * await init();
 * const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
 * const bytes = exportModel(model, randn([1, 4]));   // runs in onnxruntime
 * const again = importModel(bytes);                  // runs here, for inference
 * ```
 *
 * @module @simdgrad/core/onnx
 */
export { exportModel, DEFAULT_OPSET, type ExportOptions } from './export.js';
export { importModel, OnnxModel, SUPPORTED_OPS, type OnnxValueInfo } from './import.js';
