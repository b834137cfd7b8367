// Gradient-based attributions: which inputs (or which regions of a conv layer's map) a model's output
// for one class depends on.
// see: Simonyan et al., "Deep Inside Convolutional Networks" (2014) — saliency maps;
//      Sundararajan et al., "Axiomatic Attribution for Deep Networks" (2017) — integrated gradients;
//      Smilkov et al., "SmoothGrad: removing noise by adding noise" (2017);
//      Selvaraju et al., "Grad-CAM" (2017); Captum's API for the names and defaults.
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { Module } from '../nn/module.js';
import { generator as globalGenerator, tensor, zerosLike } from '../ops/creation.js';
import { cat } from '../ops/shape.js';
import type { Generator } from '../random.js';
import { Tensor } from '../tensor.js';

/** A model, or any function from a batch of inputs [N, …] to outputs [N, classes]. */
export type Forward = Module | ((x: Tensor) => Tensor);

/** The class whose output is explained: one for every sample, one per sample, or an int32 tensor [N]. */
export type Target = number | readonly number[] | Tensor;

const callModel = (model: Forward, x: Tensor): Tensor => (model instanceof Module ? model.forward(x) : model(x));

/**
 * Runs fn with the model in eval mode and its parameters not requiring grad (so explaining touches
 * no `.grad` and does no parameter work), then restores both.
 */
function frozen<T>(model: Forward, fn: () => T): T {
  if (!(model instanceof Module)) return fn();
  const modes = model.modules().map((m) => [m, m.training] as const);
  const params = model.parameters().map((p) => [p, p.requiresGrad] as const);
  model.eval();
  params.forEach(([p]) => { p.requiresGrad = false; });
  try {
    return fn();
  } finally {
    modes.forEach(([m, t]) => { m.training = t; });
    params.forEach(([p, r]) => { p.requiresGrad = r; });
  }
}

function targetsFor(op: string, target: Target, n: number): number[] {
  let list: number[];
  if (typeof target === 'number') list = new Array<number>(n).fill(target);
  else if (target instanceof Tensor) list = Array.from(target.toInt32Array());
  else if (Array.isArray(target)) list = [...target];
  else throw new SimdgradError(`${op}: target must be a class index, an array of them, or an int32 tensor (got ${typeof target})`);
  if (list.length !== n) throw new SimdgradError(`${op}: got ${list.length} targets for a batch of ${n} inputs`);
  list.forEach((t) => {
    if (!Number.isInteger(t) || t < 0) throw new SimdgradError(`${op}: targets must be integers ≥ 0 (got ${t})`);
  });
  return list;
}

/** out [N, C] → the target entry of each row, [N] (as a masked sum, so its gradient is one-hot). */
function pick(op: string, out: Tensor, targets: readonly number[]): Tensor {
  if (out.ndim !== 2 || out.shape[0] !== targets.length) {
    throw new SimdgradError(`${op}: the model must map [N, …] inputs to [N, classes] outputs (got ${fmtShape(out.shape)} for ${targets.length} inputs)`);
  }
  const c = out.shape[1]!;
  const mask = new Float32Array(targets.length * c);
  targets.forEach((t, i) => {
    if (t >= c) throw new SimdgradError(`${op}: target ${t} is out of range for ${c} outputs`);
    mask[i * c + t] = 1;
  });
  return out.mul(tensor(mask).reshape([targets.length, c])).sum(1);
}

function checkInput(op: string, input: unknown): Tensor {
  if (!(input instanceof Tensor)) throw new SimdgradError(`${op}: input must be a tensor [N, …] (got ${input === null ? 'null' : typeof input})`);
  input.assertAlive(op);
  if (input.ndim < 1 || input.dtype !== 'float32') throw new SimdgradError(`${op}: input must be a float32 batch [N, …] (got ${input.dtype} ${fmtShape(input.shape)})`);
  return input;
}

/** d(target output)/d(input) for a batch, and the target outputs. The caller is inside a scope. */
function gradientOf(model: Forward, x0: Tensor, targets: readonly number[], op: string): { grad: Tensor; scores: Float32Array } {
  const x = x0.detach().requiresGrad_();
  const scores = pick(op, callModel(model, x), targets);
  const values = scores.toFloat32Array();
  if (!scores.requiresGrad) throw new SimdgradError(`${op}: the output does not depend on the input through differentiable ops`);
  scores.sum().backward();
  const g = x.grad;
  x.grad = null;
  if (g === null) throw new SimdgradError(`${op}: no gradient reached the input`);
  const grad = g.mul(1); // into the scope (g was kept by backward)
  g.dispose();
  return { grad, scores: values };
}

/**
 * The saliency map: the gradient of the target output with respect to the input (absolute by
 * default), same shape as `input`.
 *
 * @example
 * ```ts
 * const map = explain.saliency(model, x, 3); // x [1, 784] → [1, 784]
 * ```
 */
export function saliency(model: Forward, input: Tensor, target: Target, options: { absolute?: boolean } = {}): Tensor {
  const op = 'saliency';
  checkInput(op, input);
  const targets = targetsFor(op, target, input.shape[0]!);
  return scope(() => frozen(model, () => {
    const { grad } = gradientOf(model, input, targets, op);
    return options.absolute === false ? grad : grad.abs();
  }));
}

/** Quadrature rules for the path integral of integrated gradients. */
export type IntegrationMethod = 'gaussLegendre' | 'trapezoid' | 'left' | 'right' | 'middle';

/** Points α ∈ [0, 1] and weights (summing to 1) of a quadrature rule with `steps` points. */
export function quadrature(method: IntegrationMethod, steps: number): { alphas: number[]; weights: number[] } {
  if (!Number.isInteger(steps) || steps < 1) throw new SimdgradError(`integratedGradients: steps must be an integer ≥ 1 (got ${steps})`);
  const n = steps;
  switch (method) {
    case 'left': return { alphas: range(n, (i) => i / n), weights: range(n, () => 1 / n) };
    case 'right': return { alphas: range(n, (i) => (i + 1) / n), weights: range(n, () => 1 / n) };
    case 'middle': return { alphas: range(n, (i) => (i + 0.5) / n), weights: range(n, () => 1 / n) };
    case 'trapezoid': {
      if (n < 2) throw new SimdgradError('integratedGradients: the trapezoid rule needs steps ≥ 2');
      return { alphas: range(n, (i) => i / (n - 1)), weights: range(n, (i) => (i === 0 || i === n - 1 ? 0.5 : 1) / (n - 1)) };
    }
    case 'gaussLegendre': return gaussLegendre(n);
    default: throw new SimdgradError(`integratedGradients: method must be one of gaussLegendre, trapezoid, left, right, middle (got ${JSON.stringify(method)})`);
  }
}

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

/** Gauss–Legendre nodes on [0, 1]: roots of P_n by Newton's method from Chebyshev guesses. */
function gaussLegendre(n: number): { alphas: number[]; weights: number[] } {
  const alphas: number[] = [], weights: number[] = [];
  for (let i = 0; i < n; i++) {
    let x = Math.cos(Math.PI * (i + 0.75) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      // P_n(x) and P_n'(x) by the three-term recurrence
      let p0 = 1, p1 = x;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      dp = n * (x * p1 - p0) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    alphas.push((1 - x) / 2);
    weights.push(1 / ((1 - x * x) * dp * dp)); // 2/((1−x²)P'²) on [−1, 1], halved for [0, 1]
  }
  return { alphas, weights };
}

/** Options of {@link integratedGradients}. */
export interface IntegratedGradientsOptions {
  /** The reference input: a tensor of the input's shape, or a constant (default 0: a black image). */
  baseline?: Tensor | number;
  /** Quadrature points on the straight path (default 50). */
  steps?: number;
  /** Default 'gaussLegendre' (Captum's default; exact for polynomials of degree < 2·steps). */
  method?: IntegrationMethod;
  /** Path points evaluated per forward (default: all, up to 512 rows). */
  internalBatchSize?: number;
}

/** What {@link integratedGradients} returns. */
export interface IntegratedGradientsResult {
  /** (x − baseline) ⊙ ∫₀¹ ∂F/∂x(baseline + α(x − baseline)) dα, same shape as the input. */
  attributions: Tensor;
  /** F(x) − F(baseline) per sample (the target outputs). */
  outputDifference: number[];
  /** Completeness gap per sample: Σ attributions − (F(x) − F(baseline)). */
  delta: number[];
  /** max over samples of |delta| / max(|F(x) − F(baseline)|, 1e-6). */
  relativeError: number;
}

/**
 * Integrated gradients along the straight path from `baseline` to `input`, with the completeness
 * check (attributions sum to F(x) − F(baseline)) reported as `delta` and `relativeError`. Raise
 * `steps` when the error is too large (for ReLU networks the integrand jumps, so a few percent at
 * 50 steps is common).
 *
 * @example
 * ```ts
 * const { attributions, relativeError } = explain.integratedGradients(model, x, 3, { steps: 64 });
 * ```
 */
export function integratedGradients(model: Forward, input: Tensor, target: Target, options: IntegratedGradientsOptions = {}): IntegratedGradientsResult {
  const op = 'integratedGradients';
  checkInput(op, input);
  const n = input.shape[0]!;
  const targets = targetsFor(op, target, n);
  const { alphas, weights } = quadrature(options.method ?? 'gaussLegendre', options.steps ?? 50);
  const perChunk = Math.max(1, Math.floor((options.internalBatchSize ?? Math.max(512, n)) / n));
  return scope(() => frozen(model, () => {
    const base = options.baseline === undefined || typeof options.baseline === 'number'
      ? zerosLike(input).add(options.baseline ?? 0)
      : options.baseline;
    if (!(base instanceof Tensor) || base.ndim !== input.ndim || base.shape.some((d, i) => d !== input.shape[i])) {
      throw new SimdgradError(`${op}: baseline must be a number or a tensor of the input's shape ${fmtShape(input.shape)}`);
    }
    const diff = input.sub(base);
    let total: Tensor | null = null;
    for (let start = 0; start < alphas.length; start += perChunk) {
      const chunk = alphas.slice(start, start + perChunk);
      const next = scope(() => {
        const points = cat(chunk.map((a) => base.add(diff.mul(a))), 0); // [k·N, …]
        const { grad } = gradientOf(model, points, chunk.flatMap(() => targets), op);
        const w = tensor(chunk.map((_, j) => weights[start + j]!)).reshape([chunk.length, ...input.shape.map(() => 1)]);
        const part = grad.reshape([chunk.length, ...input.shape]).mul(w).sum(0);
        return total === null ? part : total.add(part);
      });
      total?.dispose();
      total = next;
    }
    const attributions = diff.mul(total!);
    const sums = attributions.reshape([n, -1]).sum(1).toFloat32Array();
    const [fx, fb] = noGrad(() => [pick(op, callModel(model, input), targets).toFloat32Array(), pick(op, callModel(model, base), targets).toFloat32Array()]);
    const outputDifference = Array.from(fx, (v, i) => v - fb[i]!);
    const delta = Array.from(sums, (s, i) => s - outputDifference[i]!);
    const relativeError = Math.max(...delta.map((d, i) => Math.abs(d) / Math.max(Math.abs(outputDifference[i]!), 1e-6)));
    return { attributions, outputDifference, delta, relativeError };
  }));
}

/** Options of {@link smoothGrad}. */
export interface SmoothGradOptions {
  /** Noisy copies averaged (default 25). */
  samples?: number;
  /** Noise std as a fraction of the input's range max − min (default 0.15, the paper's 10–20%). */
  noiseLevel?: number;
  /** Average |gradient| (default true), or the signed gradient. */
  absolute?: boolean;
  /** SmoothGrad-SQ: average the squared gradient (default false). */
  squared?: boolean;
  generator?: Generator;
}

/**
 * SmoothGrad: the saliency map averaged over copies of the input with Gaussian noise added, which
 * removes much of the gradient's high-frequency noise. Noise comes from the seeded generator.
 *
 * @example
 * ```ts
 * manualSeed(0);
 * const map = explain.smoothGrad(model, x, 3, { samples: 50 });
 * ```
 */
export function smoothGrad(model: Forward, input: Tensor, target: Target, options: SmoothGradOptions = {}): Tensor {
  const op = 'smoothGrad';
  checkInput(op, input);
  const samples = options.samples ?? 25, level = options.noiseLevel ?? 0.15;
  if (!Number.isInteger(samples) || samples < 1) throw new SimdgradError(`${op}: samples must be an integer ≥ 1 (got ${samples})`);
  if (!(level >= 0)) throw new SimdgradError(`${op}: noiseLevel must be ≥ 0 (got ${level})`);
  const gen = options.generator ?? globalGenerator;
  const targets = targetsFor(op, target, input.shape[0]!);
  return scope(() => frozen(model, () => {
    const values = input.toFloat32Array();
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const std = level * (hi - lo);
    let total: Tensor | null = null;
    for (let s = 0; s < samples; s++) {
      const next = scope(() => {
        const noise = new Float32Array(values.length);
        for (let i = 0; i < noise.length; i++) noise[i] = std * gen.normal();
        const { grad } = gradientOf(model, input.add(tensor(noise).reshape(input.shape)), targets, op);
        const g = options.squared ? grad.square() : options.absolute === false ? grad : grad.abs();
        return total === null ? g : total.add(g);
      });
      total?.dispose();
      total = next;
    }
    return total!.div(samples);
  }));
}

/** Splits a model at a layer: `features` maps the input to the layer's activations, `head` maps them to outputs. */
export interface ModelSplit {
  features: (x: Tensor) => Tensor;
  head: (activations: Tensor) => Tensor;
}

/** Options of {@link gradCam}. */
export interface GradCamOptions {
  /** Resize the map to the input's height and width, bilinearly (default true for [N, C, H, W] inputs). */
  upsample?: boolean;
  /** Keep only positive evidence (default true, as the paper). */
  relu?: boolean;
}

/**
 * Grad-CAM for conv nets: the activations A [N, K, h, w] of a chosen layer, weighted per channel by
 * the spatial mean of d(target)/dA, summed over channels and passed through ReLU → [N, h, w]
 * (upsampled to [N, H, W] by default).
 *
 * `layer` is either a module inside `model` — its `forward` is wrapped for the call to capture its
 * output, so any model that calls `layer.forward` works (nn.Sequential or your own) — or a
 * {@link ModelSplit} `{ features, head }` for models that compute the layer some other way.
 *
 * @example
 * ```ts
 * const cam = explain.gradCam(model, model[4], x, 7); // model[4]: the last Conv2d; x [1, 1, 28, 28] → [1, 28, 28]
 * ```
 */
export function gradCam(model: Forward, layer: Module | ModelSplit, input: Tensor, target: Target, options: GradCamOptions = {}): Tensor {
  const op = 'gradCam';
  checkInput(op, input);
  const n = input.shape[0]!;
  const targets = targetsFor(op, target, n);
  return scope(() => frozen(model, () => {
    let acts: Tensor | null = null;
    let out: Tensor;
    if (layer instanceof Module) {
      const own = Object.getOwnPropertyDescriptor(layer, 'forward');
      const original = layer.forward.bind(layer) as (...xs: Tensor[]) => Tensor;
      Object.defineProperty(layer, 'forward', {
        configurable: true, enumerable: false, writable: true,
        value: (...xs: Tensor[]) => {
          // the captured map becomes a leaf, so backward stops there and fills its .grad
          acts = original(...xs).detach().requiresGrad_();
          return acts;
        },
      });
      try {
        out = callModel(model, input);
      } finally {
        if (own) Object.defineProperty(layer, 'forward', own);
        else delete (layer as unknown as Record<string, unknown>).forward;
      }
    } else if (layer && typeof layer.features === 'function' && typeof layer.head === 'function') {
      acts = layer.features(input).detach().requiresGrad_();
      out = layer.head(acts);
    } else {
      throw new SimdgradError(`${op}: layer must be a module of the model or { features, head } functions`);
    }
    const a = acts as Tensor | null;
    if (a === null) throw new SimdgradError(`${op}: the layer was not called by the model's forward (help: pass a module the model uses, or { features, head })`);
    if (a.ndim !== 4) throw new SimdgradError(`${op}: the layer's output must be a feature map [N, K, h, w] (got ${fmtShape(a.shape)})`);
    pick(op, out, targets).sum().backward();
    const g = a.grad;
    if (g === null) throw new SimdgradError(`${op}: the target output does not depend on the layer's activations`);
    const weights = g.mean([2, 3], true); // [N, K, 1, 1]
    let cam = a.detach().mul(weights).sum(1); // [N, h, w]
    if (options.relu !== false) cam = cam.relu();
    const up = options.upsample ?? input.ndim === 4;
    if (up && input.ndim === 4 && (cam.shape[1] !== input.shape[2] || cam.shape[2] !== input.shape[3])) {
      cam = resizeBilinear(cam, input.shape[2]!, input.shape[3]!);
    }
    return cam;
  }));
}

/** Bilinear resize of maps [N, h, w] → [N, H, W] (half-pixel centres, as align_corners=False). */
export function resizeBilinear(maps: Tensor, height: number, width: number): Tensor {
  if (maps.ndim !== 3) throw new SimdgradError(`resizeBilinear: expected maps [N, h, w] (got ${fmtShape(maps.shape)})`);
  const [n, h, w] = maps.shape as [number, number, number];
  const src = maps.toFloat32Array();
  const out = new Float32Array(n * height * width);
  const coord = (i: number, scale: number, size: number): [number, number, number] => {
    const s = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), size - 1);
    const i0 = Math.floor(s), i1 = Math.min(i0 + 1, size - 1);
    return [i0, i1, s - i0];
  };
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < height; y++) {
      const [y0, y1, fy] = coord(y, h / height, h);
      for (let x = 0; x < width; x++) {
        const [x0, x1, fx] = coord(x, w / width, w);
        const at = (yy: number, xx: number) => src[b * h * w + yy * w + xx]!;
        const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
        const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
        out[b * height * width + y * width + x] = top * (1 - fy) + bottom * fy;
      }
    }
  }
  return tensor(out).reshape([n, height, width]);
}
