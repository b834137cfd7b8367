// The kernel module's exports: one file per kernel family. See src/abi.ts for the contract.
export { heapBase, variant } from './common';
export { unaryF32, unaryGradF32, binaryF32, binaryBcastF32, whereF32 } from './elementwise';
export { reduceF32, argReduceF32, softmaxF32, logSoftmaxF32, softmaxGradF32, logSoftmaxGradF32 } from './reduce';
export { matmulScratchBytes, matmulF32, matmulRowsF32, peakF32 } from './matmul';
export { fillF32, fillI32, copyBytes, stridedCopy32, copyStrided32, castI32ToF32, castF32ToI32 } from './copy';
export { indexSelect32, indexAddF32, gather32, scatterAddF32, findOutOfRangeI32, countNonFiniteF32 } from './gather';
export { im2colF32, col2imF32, maxPool2dF32, maxPool2dGradF32, avgPool2dF32, avgPool2dGradF32, addBiasNCHWF32, biasGradNCHWF32 } from './conv';
export { conv2dDirectF32, conv2dWeightGradDirectF32 } from './convdirect';
export { conv2dColsGemmScratchBytes, conv2dColsGemmF32, conv2dInputGradScratchBytes, conv2dInputGradF32,
  conv2dForwardF32 } from './convgemm';
export { maxPool2dGradSetF32 } from './conv';
export { conv3x3WinogradScratchBytes, conv3x3WinogradF32, conv3x3WinogradWeightGradScratchBytes,
  conv3x3WinogradWeightGradF32, conv3x3WinogradInputGradScratchBytes, conv3x3WinogradInputGradF32 } from './winograd';
export { sgdStepF32, adamStepF32, rmspropStepF32, adagradStepF32, normPartialF32 } from './optim';
export { rfftPlanBytes, rfftScratchBytes, rfftPlanF32, rfftF32, frameF32, complexPowerF32, deltasF32 } from './audio';
export { attentionScratchBytes, attentionF32, attentionGradF32 } from './attention';
