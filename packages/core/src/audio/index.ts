/**
 * The audio namespace: WAV files, resampling, features (spectrograms, mel filterbanks, log-mels, MFCCs,
 * deltas) with the hot loops in WebAssembly SIMD, and seeded augmentation.
 *
 * @example
 * ```ts
 * import { audio, init } from '@simdgrad/core';
 * await init();
 * const { samples, sampleRate } = audio.readWav(bytes);
 * const x = audio.resample(samples, sampleRate, 8000);
 * const logMel = audio.logMelSpectrogram(x, { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 40 }); // [40, frames]
 * ```
 */
export { readWav, writeWav, type WavData, type ReadWavOptions, type WriteWavOptions } from './wav.js';
export { resample, type ResampleOptions } from './resample.js';
export {
  hannWindow, hammingWindow, frame, rfft, stft, spectrogram, hzToMel, melToHz, melFilterbank, melSpectrogram,
  powerToDb, logMelSpectrogram, dctMatrix, mfcc, deltas,
  type Signal, type WindowName, type MelScale, type StftOptions, type SpectrogramOptions, type MelOptions,
  type MelFilterbankOptions, type MelSpectrogramOptions, type LogMelSpectrogramOptions, type DbOptions, type MfccOptions,
} from './features.js';
export {
  fitLength, timeShift, addNoise, randomGain, frequencyMask, timeMask, type RandomOptions, type MaskOptions,
} from './augment.js';
export { trimSilence, type TrimOptions } from './trim.js';
export { SPOKEN_DIGITS, prepareSpokenDigit, spokenDigitFeatures, spokenDigitModel } from './spoken-digits.js';
