// The text namespace: tokenizers, a GPT-style language model, sampling/generation and BLEU.
export { CharTokenizer, WordTokenizer, splitWords, tokenizerFromJSON, SPECIAL_TOKENS } from './tokenizer.js';
export { GPT, type GPTConfig } from './gpt.js';
export { sample, generate, beamSearch, type SamplingOptions, type GenerateOptions, type BeamSearchOptions, type CachedLanguageModel } from './generate.js';
export { corpusBleu, type BleuResult } from './bleu.js';
export { Translator, padSequences, TRANSLATOR_MAX_POSITIONS, type TranslatorConfig, type TranslateOptions, type SpecialIds } from './translator.js';
