// The optim namespace: optimizers (one per file on a small base), gradient clipping, LR schedulers and
// the LR range test.
export { Optimizer, type BaseOptions, type ParamGroup, type ParamGroupInput, type Params, type OptimizerStateDict, type ParamStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { clipGradNorm, clipGradValue } from './clip.js';
export * as lrScheduler from './lr-scheduler.js';
export { findLr, type FindLrOptions, type FindLrResult } from './lr-finder.js';
