// The nn namespace: modules, layers, losses, initialisers and `nn.functional`.
export * as functional from './functional.js';
export * as init from './init.js';
export { Module, parameter, isParameter } from './module.js';
export {
  Linear, Sequential, Flatten, Dropout, Embedding, LayerNorm, BatchNorm1d, BatchNorm2d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
  ReLU, Sigmoid, Tanh, SiLU, GELU, LeakyReLU, ELU, Softmax, LogSoftmax, type BatchNormOptions,
} from './layers.js';
export { MSELoss, L1Loss, HuberLoss, SmoothL1Loss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss } from './loss.js';
export {
  MultiheadAttention, KVCache, scaledDotProductAttention, causalMask, MASKED_SCORE,
  type MultiheadAttentionOptions, type MultiheadAttentionCall, type ScaledDotProductAttentionOptions,
} from './attention.js';
export { TransformerEncoderLayer, TransformerDecoderLayer, type TransformerLayerOptions, type EncoderLayerCall, type DecoderLayerCall } from './transformer.js';
export { LearnedPositionalEmbedding, SinusoidalPositionalEncoding, sinusoidalTable } from './positional.js';
export { RNN, LSTM, GRU, type RNNOptions, type RNNState } from './rnn.js';
