// Seeded audio augmentation: same seed → same output, and each transform does what it says.
import { beforeAll, describe, expect, it } from 'vitest';
import { tensor } from '../ops/creation.js';
import { Generator } from '../random.js';
import { getBackends, onBackend } from '../test-utils.js';
import type { Backend } from '../backend/backend.js';
import { addNoise, fitLength, frequencyMask, randomGain, timeMask, timeShift } from './augment.js';

let wasm: Backend;
beforeAll(async () => { wasm = (await getBackends()).wasm; });
const ramp = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10));

describe('waveform augmentation', () => {
  it('fitLength pads and crops by alignment', () => {
    const x = Float32Array.of(1, 2, 3, 4);
    expect(Array.from(fitLength(x, 6))).toEqual([0, 1, 2, 3, 4, 0]);
    expect(Array.from(fitLength(x, 6, 'start'))).toEqual([1, 2, 3, 4, 0, 0]);
    expect(Array.from(fitLength(x, 6, 'end'))).toEqual([0, 0, 1, 2, 3, 4]);
    expect(Array.from(fitLength(x, 2))).toEqual([2, 3]);
    expect(Array.from(fitLength(x, 3, -2))).toEqual([3, 4, 0]);
    expect(() => fitLength(x, 3, 'middle' as never)).toThrow(/fitLength: align must be/);
  });

  it('timeShift is seeded, within ±maxShift, zero-filled or rolled', () => {
    const a = timeShift(ramp, 50, { generator: new Generator(1) });
    expect(a).toEqual(timeShift(ramp, 50, { generator: new Generator(1) }));
    const shift = Array.from({ length: 101 }, (_, k) => k - 50).find((s) => fitLength(ramp, 1000, s).every((v, i) => v === a[i]));
    expect(shift).toBeDefined();
    const r = timeShift(Float32Array.of(1, 2, 3), 1, { generator: new Generator(5), mode: 'roll' });
    expect([...r].sort()).toEqual([1, 2, 3]);
    expect(Array.from(timeShift(ramp, 0))).toEqual(Array.from(ramp));
  });

  it('addNoise hits the signal-to-noise ratio and is seeded', () => {
    const y = addNoise(ramp, { snrDb: 20, generator: new Generator(3) });
    let ps = 0, pn = 0;
    for (let i = 0; i < ramp.length; i++) { ps += ramp[i]! ** 2; pn += (y[i]! - ramp[i]!) ** 2; }
    expect(10 * Math.log10(ps / pn)).toBeGreaterThan(19);
    expect(10 * Math.log10(ps / pn)).toBeLessThan(21);
    expect(y).toEqual(addNoise(ramp, { snrDb: 20, generator: new Generator(3) }));
    expect(addNoise(new Float32Array(4), { snrDb: [5, 10] })).toEqual(new Float32Array(4));
    expect(() => addNoise(ramp, { snrDb: [10, 5] })).toThrow(/addNoise: snrDb must be a number or a \[low, high\] pair/);
    const g = randomGain(ramp, -6, 6, { generator: new Generator(2) });
    const ratio = g[5]! / ramp[5]!;
    expect(ratio).toBeGreaterThan(0.5); expect(ratio).toBeLessThan(2.0);
  });
});

describe('SpecAugment masks', () => {
  it('mask whole bands per item, seeded, with the fill value', () => onBackend(wasm, () => {
    const F = 8, T = 12;
    const spec = tensor(new Float32Array(2 * F * T).fill(1), { shape: [2, F, T] });
    const a = frequencyMask(spec, 4, { generator: new Generator(7), count: 2, value: -5 }).toFloat32Array();
    expect(a).toEqual(frequencyMask(spec, 4, { generator: new Generator(7), count: 2, value: -5 }).toFloat32Array());
    for (let b = 0; b < 2; b++) {
      for (let f = 0; f < F; f++) {
        const row = a.subarray(b * F * T + f * T, b * F * T + (f + 1) * T);
        expect(row.every((v) => v === row[0]) && (row[0] === 1 || row[0] === -5)).toBe(true);
      }
    }
    expect(a.includes(-5), 'no band masked: a no-op mask would pass the checks above').toBe(true);
    const t = timeMask(spec, 5, { generator: new Generator(9) }).toFloat32Array();
    let maskedColumns = 0;
    for (let b = 0; b < 2; b++) {
      const masked = [];
      for (let i = 0; i < T; i++) {
        const col = Array.from({ length: F }, (_, f) => t[b * F * T + f * T + i]!);
        expect(col.every((v) => v === col[0])).toBe(true);
        if (col[0] === 0) masked.push(i);
      }
      expect(masked.length).toBeLessThanOrEqual(5);
      if (masked.length > 0) expect(masked[masked.length - 1]! - masked[0]!).toBe(masked.length - 1);
      maskedColumns += masked.length;
    }
    expect(maskedColumns, 'no column masked: a no-op mask would pass the checks above').toBeGreaterThan(0);
    expect(() => timeMask(tensor([1, 2, 3]), 2)).toThrow(/timeMask: expected a float32 spectrogram \[..., freq, time\]/);
  }));
});
