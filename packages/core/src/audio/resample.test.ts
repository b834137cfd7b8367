// Resampling against torchaudio.functional.resample (same windowed-sinc filter), and its properties.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff } from '../test-utils.js';
import { resample } from './resample.js';

const fx = JSON.parse(readFileSync(new URL('./fixtures/torchaudio.json', import.meta.url), 'utf8')) as Record<string, number[]>;
const signal = Float32Array.from(fx.signal!);

describe('resample', () => {
  it('matches torchaudio (8k→16k, 8k→11.025k, 44.1k→8k)', () => {
    for (const [x, from, to, key] of [[signal.subarray(0, 400), 8000, 16000, 'resample8kTo16k'], [signal.subarray(0, 300), 8000, 11025, 'resample8kTo11025'],
      [Float32Array.from(fx.signal44k!), 44100, 8000, 'resample44100To8k']] as const) {
      const y = resample(x, from, to);
      expect(y.length, key).toBe(fx[key]!.length);
      expect(maxAbsDiff(y, fx[key]!), key).toBeLessThan(1e-6);
    }
  });

  it('keeps a tone below the new Nyquist and removes one above it', () => {
    const n = 8000;
    const tone = (f: number, sr: number, len: number) => Float32Array.from({ length: len }, (_, i) => Math.sin(2 * Math.PI * f * i / sr));
    const y = resample(tone(440, 16000, n), 16000, 8000);
    expect(y.length).toBe(4000);
    expect(maxAbsDiff(y.subarray(100, 3900), tone(440, 8000, 4000).subarray(100, 3900))).toBeLessThan(2e-3);
    const alias = resample(tone(6000, 16000, n), 16000, 8000);
    expect(Math.max(...alias.subarray(100, 3900).map(Math.abs))).toBeLessThan(1e-2);
  });

  it('identity, empty input, lengths, argument checks', () => {
    expect(resample(signal, 8000, 8000)).toEqual(signal);
    expect(resample(new Float32Array(0), 8000, 16000).length).toBe(0);
    expect(resample(new Float32Array(3), 3, 2).length).toBe(2);
    expect(() => resample(signal, 8000.5, 16000)).toThrow(/resample: fromRate must be a positive integer in Hz \(got 8000.5\)/);
    expect(() => resample(signal, 8000, 16000, { rolloff: 2 })).toThrow(/rolloff must be in \(0, 1\]/);
    expect(() => resample([1, 2] as never, 1, 2)).toThrow(/samples must be a Float32Array/);
  });
});
