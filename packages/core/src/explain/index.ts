// The explain namespace: attributions (saliency, integrated gradients, SmoothGrad, Grad-CAM) and PNG
// heat maps (platform-neutral: they return bytes).
export {
  saliency, integratedGradients, smoothGrad, gradCam, quadrature, resizeBilinear,
  type Forward, type Target, type IntegrationMethod, type IntegratedGradientsOptions, type IntegratedGradientsResult,
  type SmoothGradOptions, type GradCamOptions, type ModelSplit,
} from './attribution.js';
export { encodePng, heatmapPng, colorAt, crc32, type Colormap, type HeatmapOptions } from './png.js';
