// Parameter initialisation, as torch.nn.init does it. Each function fills a tensor in place (outside the
// graph) from the global seeded generator and returns it.
// see: Glorot & Bengio (2010) for xavier; He et al. (2015) for kaiming.
import { SimdgradError, fmtShape } from '../errors.js';
import { generator } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

function fill(t: Tensor, next: () => number): Tensor {
  t.assertAlive('init');
  if (t.dtype !== 'float32' || !t.isContiguous()) throw new SimdgradError(`init: expected a contiguous float32 tensor (got ${t.dtype} ${fmtShape(t.shape)})`);
  const v = t.backend.heap.views().f32;
  const start = t.ptr >>> 2;
  for (let i = 0; i < t.size; i++) v[start + i] = next();
  return t;
}

/** fan_in and fan_out as PyTorch computes them ([out, in, ...kernel]). */
export function calculateFanInAndFanOut(t: Tensor): [number, number] {
  if (t.ndim < 2) throw new SimdgradError(`init: fan in and fan out need a tensor with ≥ 2 dims (got ${fmtShape(t.shape)})`);
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return [t.shape[1]! * receptive, t.shape[0]! * receptive];
}

/** The recommended gain for a nonlinearity (PyTorch's calculate_gain). */
export function calculateGain(nonlinearity: string, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'sigmoid': return 1;
    case 'tanh': return 5 / 3;
    case 'relu': return Math.SQRT2;
    case 'leaky_relu': case 'leakyRelu': { const s = param ?? 0.01; return Math.sqrt(2 / (1 + s * s)); }
    case 'selu': return 3 / 4;
    default: throw new SimdgradError(`calculateGain: unknown nonlinearity '${nonlinearity}'`);
  }
}

export function uniform(t: Tensor, a = 0, b = 1): Tensor {
  return fill(t, () => a + (b - a) * generator.uniform());
}

export function normal(t: Tensor, mean = 0, std = 1): Tensor {
  return fill(t, () => mean + std * generator.normal());
}

export function constant(t: Tensor, value: number): Tensor {
  return fill(t, () => value);
}

export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

export function xavierUniform(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform(t, -a, a);
}

export function xavierNormal(t: Tensor, gain = 1): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** negative slope of the rectifier after this layer (leaky_relu) */
  a?: number;
  mode?: 'fanIn' | 'fanOut';
  nonlinearity?: string;
}

function kaimingStd(t: Tensor, { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' }: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return uniform(t, -bound, bound);
}

export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal(t, 0, kaimingStd(t, options));
}
