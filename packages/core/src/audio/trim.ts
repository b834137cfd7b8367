// Silence trimming: keeps the span from the first to the last frame whose RMS is within `topDb` of the
// loudest frame's (librosa.effects.trim's rule, with reference = the maximum RMS).
import { SimdgradError } from '../errors.js';

export interface TrimOptions {
  /** Frames quieter than (loudest − topDb) dB count as silence (default 40). */
  topDb?: number;
  /** RMS frame length in samples (default 256). */
  frameLength?: number;
  /** Samples between frames (default 64). */
  hopLength?: number;
}

/**
 * Trims leading and trailing silence; returns a view into `samples` (empty when all is silent).
 *
 * @example
 * ```ts
 * const speech = audio.trimSilence(recording, { topDb: 35 });
 * ```
 */
export function trimSilence(samples: Float32Array, options: TrimOptions = {}): Float32Array {
  if (!(samples instanceof Float32Array)) throw new SimdgradError('trimSilence: samples must be a Float32Array');
  const topDb = options.topDb ?? 40, frameLength = options.frameLength ?? 256, hop = options.hopLength ?? 64;
  if (!(topDb > 0)) throw new SimdgradError(`trimSilence: topDb must be > 0 (got ${topDb})`);
  if (!(Number.isInteger(frameLength) && frameLength >= 1)) throw new SimdgradError(`trimSilence: frameLength must be a positive integer (got ${frameLength})`);
  if (!(Number.isInteger(hop) && hop >= 1)) throw new SimdgradError(`trimSilence: hopLength must be a positive integer (got ${hop})`);
  const n = samples.length;
  const nFrames = Math.max(1, 1 + Math.ceil((n - frameLength) / hop));
  const energy = new Float64Array(nFrames);
  let loudest = 0;
  for (let f = 0; f < nFrames; f++) {
    let s = 0;
    const a = f * hop, b = Math.min(n, a + frameLength);
    for (let i = a; i < b; i++) s += samples[i]! * samples[i]!;
    energy[f] = s / frameLength;
    loudest = Math.max(loudest, energy[f]!);
  }
  if (loudest === 0) return samples.subarray(0, 0);
  const threshold = loudest * 10 ** (-topDb / 10);
  let first = 0, last = nFrames - 1;
  while (energy[first]! <= threshold) first++;
  while (energy[last]! <= threshold) last--;
  return samples.subarray(first * hop, Math.min(n, last * hop + frameLength));
}
