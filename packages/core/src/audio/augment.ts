// Seeded data augmentation for audio: on waveforms (fit to a length, time shift, additive noise at a
// signal-to-noise ratio, gain) and on spectrograms (SpecAugment's frequency and time masks).
// Every function draws from a Generator: the global one (seeded by manualSeed) unless `generator` is
// given, so a seed reproduces the same augmentation bit for bit in Node and in browsers.
// see: Park et al., "SpecAugment: A Simple Data Augmentation Method for ASR" (Interspeech 2019).
import { SimdgradError, fmtShape } from '../errors.js';
import { noGrad } from '../autograd/graph.js';
import { scope } from '../memory.js';
import { generator as globalGenerator, tensor } from '../ops/creation.js';
import { Generator } from '../random.js';
import { Tensor } from '../tensor.js';

export interface RandomOptions {
  /** The generator to draw from (default: the global one, seeded by manualSeed). */
  generator?: Generator;
}

function gen(op: string, o: RandomOptions): Generator {
  const g = o.generator ?? globalGenerator;
  if (!(g instanceof Generator)) throw new SimdgradError(`${op}: generator must be a Generator`);
  return g;
}

function checkSamples(op: string, s: unknown): Float32Array {
  if (!(s instanceof Float32Array)) throw new SimdgradError(`${op}: samples must be a Float32Array (got ${s === null ? 'null' : typeof s})`);
  return s;
}

/**
 * Pads with zeros or crops to exactly `length` samples. `align` places the signal: 'start' (pad/crop
 * at the end), 'center' (default: half on each side), 'end', or an offset: the output sample i is
 * input sample i − offset (zero where that falls outside).
 *
 * @example
 * ```ts
 * const x = audio.fitLength(samples, 8192);           // centred in 8192 samples
 * const y = audio.fitLength(samples, 8192, 'start');
 * ```
 */
export function fitLength(samples: Float32Array, length: number, align: 'start' | 'center' | 'end' | number = 'center'): Float32Array {
  checkSamples('fitLength', samples);
  if (!(Number.isInteger(length) && length >= 0)) throw new SimdgradError(`fitLength: length must be a non-negative integer (got ${length})`);
  let offset: number;
  if (align === 'start') offset = 0;
  else if (align === 'end') offset = length - samples.length;
  else if (align === 'center') offset = Math.trunc((length - samples.length) / 2);
  else if (Number.isInteger(align)) offset = align;
  else throw new SimdgradError(`fitLength: align must be 'start', 'center', 'end' or an integer offset (got ${JSON.stringify(align)})`);
  const out = new Float32Array(length);
  const i0 = Math.max(0, offset), i1 = Math.min(length, samples.length + offset);
  if (i1 > i0) out.set(samples.subarray(i0 - offset, i1 - offset), i0);
  return out;
}

/**
 * Shifts the signal by a uniform random whole number of samples in [−maxShift, maxShift]: 'zero'
 * (default) fills the vacated samples with silence, 'roll' wraps them around.
 *
 * @example
 * ```ts
 * const y = audio.timeShift(samples, 800); // up to ±0.1 s at 8 kHz
 * ```
 */
export function timeShift(samples: Float32Array, maxShift: number, options: RandomOptions & { mode?: 'zero' | 'roll' } = {}): Float32Array {
  checkSamples('timeShift', samples);
  if (!(Number.isInteger(maxShift) && maxShift >= 0)) throw new SimdgradError(`timeShift: maxShift must be a non-negative integer (got ${maxShift})`);
  const mode = options.mode ?? 'zero';
  if (mode !== 'zero' && mode !== 'roll') throw new SimdgradError(`timeShift: mode must be 'zero' or 'roll' (got ${JSON.stringify(mode)})`);
  const shift = gen('timeShift', options).int(-maxShift, maxShift + 1);
  const n = samples.length;
  if (mode === 'zero') return fitLength(samples, n, shift);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[(((i + shift) % n) + n) % n] = samples[i]!;
  return out;
}

/**
 * Adds white Gaussian noise at a signal-to-noise ratio drawn uniformly from [snrDb[0], snrDb[1]] dB
 * (or exactly snrDb): noise power = signal power / 10^(snr/10). A silent signal is returned unchanged.
 *
 * @example
 * ```ts
 * const y = audio.addNoise(samples, { snrDb: [10, 30] });
 * ```
 */
export function addNoise(samples: Float32Array, options: RandomOptions & { snrDb: number | readonly [number, number] }): Float32Array {
  checkSamples('addNoise', samples);
  const snr = options?.snrDb;
  const [lo, hi] = typeof snr === 'number' ? [snr, snr] : Array.isArray(snr) && snr.length === 2 ? snr : [NaN, NaN];
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo <= hi)) {
    throw new SimdgradError(`addNoise: snrDb must be a number or a [low, high] pair of finite numbers (got ${JSON.stringify(snr)})`);
  }
  const g = gen('addNoise', options);
  const db = lo + (hi - lo) * g.uniform();
  let power = 0;
  for (let i = 0; i < samples.length; i++) power += samples[i]! * samples[i]!;
  power /= Math.max(1, samples.length);
  const out = samples.slice();
  if (power === 0) return out;
  const std = Math.sqrt(power / 10 ** (db / 10));
  for (let i = 0; i < out.length; i++) out[i] = out[i]! + std * g.normal();
  return out;
}

/**
 * Multiplies by a gain drawn uniformly from [minDb, maxDb] dB (loudness augmentation).
 *
 * @example
 * ```ts
 * const y = audio.randomGain(samples, -6, 6);
 * ```
 */
export function randomGain(samples: Float32Array, minDb: number, maxDb: number, options: RandomOptions = {}): Float32Array {
  checkSamples('randomGain', samples);
  if (!(Number.isFinite(minDb) && Number.isFinite(maxDb) && minDb <= maxDb)) throw new SimdgradError(`randomGain: need finite minDb ≤ maxDb (got ${minDb}, ${maxDb})`);
  const g = 10 ** ((minDb + (maxDb - minDb) * gen('randomGain', options).uniform()) / 20);
  return samples.map((v) => v * g);
}

export interface MaskOptions extends RandomOptions {
  /** Masks per spectrogram (default 1). */
  count?: number;
  /** The value written into the masked cells (default 0; the spectrogram's mean is common for log-mels). */
  value?: number;
}

/**
 * SpecAugment frequency masking on spectrograms [..., freq, time]: for each spectrogram (every
 * leading index independently), `count` bands of width ⌊u·maxWidth⌋ starting at ⌊v·(freq − width)⌋
 * (u, v uniform; torchaudio's FrequencyMasking with iid_masks) are set to `value`.
 *
 * @example
 * ```ts
 * const y = audio.frequencyMask(logMels, 8, { count: 2, value: -80 });
 * ```
 */
export function frequencyMask(spec: Tensor, maxWidth: number, options: MaskOptions = {}): Tensor {
  return mask('frequencyMask', spec, maxWidth, options, 2);
}

/**
 * SpecAugment time masking on spectrograms [..., freq, time]: like {@link frequencyMask} along time.
 *
 * @example
 * ```ts
 * const y = audio.timeMask(logMels, 10, { count: 2 });
 * ```
 */
export function timeMask(spec: Tensor, maxWidth: number, options: MaskOptions = {}): Tensor {
  return mask('timeMask', spec, maxWidth, options, 1);
}

function mask(op: string, spec: Tensor, maxWidth: number, o: MaskOptions, fromEnd: 1 | 2): Tensor {
  if (!(spec instanceof Tensor)) throw new SimdgradError(`${op}: spec must be a tensor [..., freq, time]`);
  spec.assertAlive(op);
  if (spec.ndim < 2 || spec.dtype !== 'float32') throw new SimdgradError(`${op}: expected a float32 spectrogram [..., freq, time] (got ${spec.dtype} ${fmtShape(spec.shape)})`);
  if (!(Number.isInteger(maxWidth) && maxWidth >= 0)) throw new SimdgradError(`${op}: maxWidth must be a non-negative integer (got ${maxWidth})`);
  const count = o.count ?? 1, value = o.value ?? 0;
  if (!(Number.isInteger(count) && count >= 0)) throw new SimdgradError(`${op}: count must be a non-negative integer (got ${count})`);
  if (!Number.isFinite(value)) throw new SimdgradError(`${op}: value must be a finite number (got ${value})`);
  const g = gen(op, o);
  const F = spec.shape[spec.ndim - 2]!, T = spec.shape[spec.ndim - 1]!;
  const items = spec.size / Math.max(1, F * T);
  const size = fromEnd === 2 ? F : T;
  const keep = new Float32Array(spec.size).fill(1);
  for (let b = 0; b < items; b++) {
    for (let c = 0; c < count; c++) {
      const width = g.uniform() * maxWidth;
      const start = g.uniform() * Math.max(0, size - width);
      const s = Math.floor(start), e = Math.min(size, Math.floor(start + width));
      for (let i = s; i < e; i++) {
        if (fromEnd === 2) keep.fill(0, b * F * T + i * T, b * F * T + (i + 1) * T);
        else for (let f = 0; f < F; f++) keep[b * F * T + f * T + i] = 0;
      }
    }
  }
  return scope(() => noGrad(() => {
    const k = tensor(keep, { shape: spec.shape });
    const masked = spec.mul(k);
    return value === 0 ? masked : masked.add(k.neg().add(1).mul(value));
  }));
}
