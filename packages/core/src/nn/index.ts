// The nn namespace: `nn.functional` (layers and losses as functions).
export * as functional from './functional.js';
