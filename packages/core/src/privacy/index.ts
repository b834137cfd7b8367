// The privacy namespace: DP-SGD (per-sample gradients, clipping, noise, Poisson sampling) and the RDP
// accountant.
export {
  computeRdp, rdpToEpsilon, epsilonFor, noiseMultiplierFor, RdpAccountant, DEFAULT_ORDERS, type EpsilonConversion,
} from './accountant.js';
export { PerSampleGradients, type PerSampleOptions, type LossReduction } from './per-sample.js';
export {
  makePrivate, DPOptimizer, PoissonDataLoader, defaultDelta,
  type MakePrivateOptions, type PrivateTraining, type DPOptimizerOptions,
} from './dp-sgd.js';
