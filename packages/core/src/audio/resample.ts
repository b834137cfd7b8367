// Band-limited resampling by windowed-sinc interpolation, in float64 (a one-off per file, not a hot
// loop). The same filter and framing as torchaudio.functional.resample's defaults (sinc_interp_hann,
// lowpass_filter_width 6, rolloff 0.99), so results agree with it to float rounding:
// - the rates are reduced by their gcd to orig/new; the output has ceil(new·length/orig) samples;
// - a low-pass at rolloff·min(orig, new)/2 (in units of the lower rate's Nyquist), realised as a
//   Hann-windowed sinc of ±lowpassFilterWidth zero crossings; one filter phase per output phase;
// - the signal is zero outside [0, length) (edges fade like torchaudio's zero padding).
// see: J. O. Smith, "Digital Audio Resampling Home Page" (bandlimited interpolation), and
// torchaudio/functional/functional.py (_get_sinc_resample_kernel, _apply_sinc_resample_kernel).
import { SimdgradError } from '../errors.js';

export interface ResampleOptions {
  /** Zero crossings of the sinc on each side (default 6): sharper low-pass, longer filter. */
  lowpassFilterWidth?: number;
  /** Cut-off as a fraction of the lower Nyquist frequency (default 0.99). */
  rolloff?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Resamples mono samples from `fromRate` to `toRate` (positive integers, in Hz).
 *
 * @example
 * ```ts
 * const y = audio.resample(samples, 44100, 8000); // ceil(8000·n/44100) samples
 * ```
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  if (!(samples instanceof Float32Array)) throw new SimdgradError('resample: samples must be a Float32Array');
  for (const [name, r] of [['fromRate', fromRate], ['toRate', toRate]] as const) {
    if (!(Number.isInteger(r) && r > 0)) throw new SimdgradError(`resample: ${name} must be a positive integer in Hz (got ${r})`);
  }
  const width0 = options.lowpassFilterWidth ?? 6, rolloff = options.rolloff ?? 0.99;
  if (!(Number.isInteger(width0) && width0 > 0)) throw new SimdgradError(`resample: lowpassFilterWidth must be a positive integer (got ${width0})`);
  if (!(rolloff > 0 && rolloff <= 1)) throw new SimdgradError(`resample: rolloff must be in (0, 1] (got ${rolloff})`);
  if (fromRate === toRate) return samples.slice();
  const g = gcd(fromRate, toRate);
  const orig = fromRate / g, neu = toRate / g;
  const baseFreq = Math.min(orig, neu) * rolloff;
  const width = Math.ceil(width0 * orig / baseFreq);
  const taps = 2 * width + orig;
  // kernel[p][k]: the weight of input sample i·orig − width + k for output sample i·neu + p
  const kernel: Float64Array[] = [];
  const scale = baseFreq / orig;
  for (let p = 0; p < neu; p++) {
    const row = new Float64Array(taps);
    for (let k = 0; k < taps; k++) {
      let t = (-p / neu + (k - width) / orig) * baseFreq;
      t = Math.max(-width0, Math.min(width0, t));
      const w = Math.cos(t * Math.PI / width0 / 2) ** 2;
      const tp = t * Math.PI;
      row[k] = (tp === 0 ? 1 : Math.sin(tp) / tp) * w * scale;
    }
    kernel.push(row);
  }
  const n = samples.length;
  const outLen = Math.ceil(neu * n / orig);
  const out = new Float32Array(outLen);
  for (let j = 0; j < outLen; j++) {
    const i = Math.floor(j / neu), p = j - i * neu;
    const row = kernel[p]!;
    const start = i * orig - width;
    const k0 = Math.max(0, -start), k1 = Math.min(taps, n - start);
    let acc = 0;
    for (let k = k0; k < k1; k++) acc += samples[start + k]! * row[k]!;
    out[j] = acc;
  }
  return out;
}
