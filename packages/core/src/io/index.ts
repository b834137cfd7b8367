// The io namespace: tensors to and from safetensors bytes (platform-neutral; files are in `@simdgrad/core/node`).
export { save, load, type Safetensors } from './safetensors.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointParts, type Stateful } from './checkpoint.js';
