// The spoken-digit recogniser's pieces, shared by the example, the CLI recipe and the browser demo so
// that all three compute the same features: 8 kHz audio fitted to 8192 samples (1.024 s), a 40-band
// log-mel spectrogram (nFft 256 = 32 ms Hann windows, hop 128 = 16 ms, HTK mels 0–4 kHz, dB with
// topDb 80) of 64 frames, standardised per utterance; and a small CNN over the [1, 40, 64] image.
import { SimdgradError } from '../errors.js';
import { scope } from '../memory.js';
import { noGrad } from '../autograd/graph.js';
import { tensor } from '../ops/creation.js';
import { BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers.js';
import type { Tensor } from '../tensor.js';
import { fitLength } from './augment.js';
import { logMelSpectrogram } from './features.js';
import { resample } from './resample.js';
import { trimSilence } from './trim.js';

/** The feature settings of the spoken-digit recogniser. */
export const SPOKEN_DIGITS = {
  sampleRate: 8000,
  /** Samples per utterance after padding/cropping (64 hops of 128). */
  samples: 8192,
  nFft: 256,
  hopLength: 128,
  nMels: 40,
  frames: 64,
  topDb: 80,
} as const;

/**
 * Turns a recording at any rate into the recogniser's input waveform: resampled to 8 kHz, leading
 * and trailing silence trimmed (`trim`, default true: microphone input has plenty, FSDD files
 * little), centred in 8192 samples (cropped when longer), peak-normalised.
 *
 * @example
 * ```ts
 * const w = audio.prepareSpokenDigit(samples, 48000);
 * ```
 */
export function prepareSpokenDigit(samples: Float32Array, sampleRate: number, options: { trim?: boolean; align?: 'center' | number } = {}): Float32Array {
  let x = sampleRate === SPOKEN_DIGITS.sampleRate ? samples : resample(samples, sampleRate, SPOKEN_DIGITS.sampleRate);
  if (options.trim ?? true) {
    const t = trimSilence(x, { topDb: 40 });
    if (t.length > 0) x = t;
  }
  const out = fitLength(x, SPOKEN_DIGITS.samples, options.align ?? 'center');
  let peak = 0;
  for (let i = 0; i < out.length; i++) peak = Math.max(peak, Math.abs(out[i]!));
  if (peak > 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! / peak;
  return out;
}

/**
 * Log-mel features [N, 1, 40, 64] of N prepared waveforms (each 8192 samples at 8 kHz), each
 * standardised to zero mean and unit variance.
 *
 * @example
 * ```ts
 * const x = audio.spokenDigitFeatures([audio.prepareSpokenDigit(samples, rate)]);
 * const digit = model.forward(x).argmax(1).item();
 * ```
 */
export function spokenDigitFeatures(waveforms: readonly Float32Array[]): Tensor {
  const S = SPOKEN_DIGITS;
  waveforms.forEach((w, i) => {
    if (!(w instanceof Float32Array) || w.length !== S.samples) {
      throw new SimdgradError(`spokenDigitFeatures: waveform ${i} must be a Float32Array of ${S.samples} samples (help: audio.prepareSpokenDigit)`);
    }
  });
  const flat = new Float32Array(waveforms.length * S.samples);
  waveforms.forEach((w, i) => flat.set(w, i * S.samples));
  return scope(() => noGrad(() => {
    const x = tensor(flat, { shape: [waveforms.length, S.samples] });
    // center: false with the 128-sample hop gives exactly 1 + (8192 − 256)/128 = 63 frames; centred gives 65:
    // use centre + constant padding and drop the last frame → 64 frames covering the whole window
    const db = logMelSpectrogram(x, { sampleRate: S.sampleRate, nFft: S.nFft, hopLength: S.hopLength, nMels: S.nMels, topDb: S.topDb, padMode: 'constant' })
      .narrow(2, 0, S.frames);
    const mean = db.mean([1, 2], true);
    const std = db.sub(mean).square().mean([1, 2], true).add(1e-5).sqrt();
    return db.sub(mean).div(std).unsqueeze(1).contiguous();
  }));
}

/**
 * The recogniser: three conv3×3 + BatchNorm + ReLU + max-pool blocks (16, 32, 64 channels) over the
 * [1, 40, 64] log-mel image, then dropout and a linear layer to 10 digits (≈ 50k parameters).
 *
 * @example
 * ```ts
 * const model = audio.spokenDigitModel();
 * ```
 */
export function spokenDigitModel(): Sequential {
  const block = (cin: number, cout: number) => [new Conv2d(cin, cout, 3, { padding: 1 }), new BatchNorm2d(cout), new ReLU(), new MaxPool2d(2)];
  return new Sequential(
    ...block(1, 16), ...block(16, 32), ...block(32, 64),
    new Flatten(), new Dropout(0.3), new Linear(64 * 5 * 8, 10));
}
