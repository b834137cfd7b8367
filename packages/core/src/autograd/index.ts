// The autograd namespace: anomaly detection (PyTorch's torch.autograd.detect_anomaly), gradient checks
// and the grad-mode switch.
export { detectAnomaly, setDetectAnomaly, isAnomalyEnabled } from './anomaly.js';
export { gradcheck, type GradcheckOptions } from './gradcheck.js';
export { noGrad, isGradEnabled } from './graph.js';
