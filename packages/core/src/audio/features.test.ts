// Audio features: the wasm kernels (frameSignal, rfft, complexPower, deltas) against the float64
// reference backend at the scalar-tail sizes, then the whole pipeline on both backends against values
// computed by torchaudio 0.13 in float64 (fixtures/torchaudio.json, made by fixtures/generate.py).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/backend.js';
import { SimdgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import { Generator } from '../random.js';
import { get, getBackends, onBackend, put } from '../test-utils.js';
import * as audio from './index.js';

interface Mat { shape: number[]; data: number[] }
type MelFixture = Mat & { fMin: number; fMax: number; melScale: string; norm: string | null };
const fx = JSON.parse(readFileSync(new URL('./fixtures/torchaudio.json', import.meta.url), 'utf8')) as Record<string, unknown> & {
  signal: number[]; sampleRate: number; hann16: number[]; hamming200: number[]; hannSymmetric9: number[]; rfft64: number[];
  powerSpectrogram: Mat; magnitudeSpectrogramHamming: Mat; powerSpectrogramNoCenter: Mat; melSpectrogram: Mat;
  logMelDb80: Mat; mfcc13: Mat; mfcc13Deltas: Mat; mfcc13Deltas9: Mat; dct13x40: number[];
  melHtk: MelFixture; melSlaney: MelFixture;
};
const signal = Float32Array.from(fx.signal);
const SPEC = { nFft: 256, winLength: 200, hopLength: 80 };
const MEL = { ...SPEC, sampleRate: 8000, nMels: 40, fMin: 0, fMax: 4000 };

let backends: { wasm: Backend; reference: Backend };
beforeAll(async () => { backends = await getBackends(); });

/** max |a − e| ≤ atol + rtol·max|e| (a scale-aware bound: FFT errors scale with the signal's norm). */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, what: string, atol = 0): number {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let scale = 0, err = 0, at = -1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    if (!(d <= err)) { err = d; at = i; }
  }
  if (!(err <= atol + rtol * scale)) throw new Error(`${what}: max error ${err} at ${at} (got ${actual[at]}, expected ${expected[at]}; scale ${scale})`);
  return err;
}

function random(n: number, seed: number): Float32Array {
  const g = new Generator(seed);
  return Float32Array.from({ length: n }, () => 2 * g.uniform() - 1);
}

/** Runs a primitive on one backend over fresh copies of `inputs`; returns the first `outLen` f32s of the output. */
function runPrimitive(b: Backend, inputs: Float32Array[], outLen: number, fn: (out: number, ins: number[]) => void): Float32Array {
  const ins = inputs.map((d) => put(b, d));
  const out = b.heap.alloc(Math.max(1, outLen) * 4);
  b.heap.views().f32.fill(NaN, out >> 2, (out >> 2) + outLen);
  fn(out, ins);
  const res = get(b, out, outLen) as Float32Array;
  [...ins, out].forEach((p) => b.heap.free(p));
  return res;
}

describe('audio kernels: wasm against the float64 reference', () => {
  it('rfft at every power of two from 2 to 1024, rows 0, 1, 3', () => {
    for (let nFft = 2; nFft <= 1024; nFft *= 2) {
      for (const rows of [0, 1, 3]) {
        const x = random(rows * nFft, nFft + rows);
        const len = rows * (nFft / 2 + 1) * 2;
        const [w, r] = [backends.wasm, backends.reference].map((b) => runPrimitive(b, [x], len, (o, [p]) => b.rfft(o, p!, rows, nFft)));
        expectClose(w!, r!, 3e-7 * Math.log2(nFft), `rfft n=${nFft} rows=${rows}`);
      }
    }
  });

  it('rfft: impulse, constant and a pure tone land in the right bins', () => {
    const n = 16;
    const b = backends.wasm;
    const tone = Float32Array.from({ length: n }, (_, j) => Math.cos(2 * Math.PI * 3 * j / n));
    const impulse = new Float32Array(n); impulse[0] = 1;
    const out = runPrimitive(b, [tone, impulse, new Float32Array(n).fill(1)], 3 * 9 * 2, (o, [t, i, c]) => {
      b.rfft(o, t!, 1, n); b.rfft(o + 18 * 4, i!, 1, n); b.rfft(o + 36 * 4, c!, 1, n);
    });
    const re = (row: number, k: number) => out[row * 18 + 2 * k]!;
    for (let k = 0; k <= 8; k++) {
      expect(re(0, k)).toBeCloseTo(k === 3 ? 8 : 0, 5);
      expect(re(1, k)).toBeCloseTo(1, 6);
      expect(re(2, k)).toBeCloseTo(k === 0 ? 16 : 0, 5);
    }
  });

  it('frameSignal: frame lengths 1, 3, 4, 5, 17, 257; hops 1, 3, 7; constant and reflect padding', () => {
    for (const fl of [1, 3, 4, 5, 17, 257]) {
      for (const hop of [1, 3, 7]) {
        for (const mode of ['constant', 'reflect'] as const) {
          const n = fl + 40, rows = 2, pad = Math.min(Math.floor(fl / 2), n - 1);
          const nFrames = 1 + Math.floor((n + 2 * pad - fl) / hop);
          const x = random(rows * n, fl * hop), win = random(fl, 99);
          const [w, r] = [backends.wasm, backends.reference].map((b) => runPrimitive(b, [x, win], rows * nFrames * fl,
            (o, [px, pw]) => b.frameSignal(o, px!, rows, n, fl, hop, nFrames, pad, mode, pw!)));
          expect(Array.from(w!), `frame ${fl} ${hop} ${mode}`).toEqual(Array.from(r!));
        }
      }
    }
  });

  it('complexPower for n = 0, 1, 3, 4, 5, 17, 257, power 1 and 2', () => {
    for (const n of [0, 1, 3, 4, 5, 17, 257]) {
      for (const power of [1, 2] as const) {
        const z = random(2 * n, n);
        const [w, r] = [backends.wasm, backends.reference].map((b) => runPrimitive(b, [z], n, (o, [p]) => b.complexPower(o, p!, n, power)));
        expectClose(w!, r!, 2e-7, `complexPower ${n} ${power}`);
      }
    }
  });

  it('deltas for T = 1, 3, 4, 5, 17, 257 and N = 1, 2, 4', () => {
    for (const T of [1, 3, 4, 5, 17, 257]) {
      for (const N of [1, 2, 4]) {
        const x = random(3 * T, T * 7 + N);
        const [w, r] = [backends.wasm, backends.reference].map((b) => runPrimitive(b, [x], 3 * T, (o, [p]) => b.deltas(o, p!, 3, T, N)));
        expectClose(w!, r!, 1e-6, `deltas T=${T} N=${N}`);
      }
    }
  });
});

describe.each(['wasm', 'reference'] as const)('audio features on %s against torchaudio', (name) => {
  const on = <T>(fn: () => T): T => onBackend(backends[name], fn);

  it('windows', () => {
    expectClose(audio.hannWindow(16), fx.hann16, 1e-7, 'hann');
    expectClose(audio.hammingWindow(200), fx.hamming200, 1e-7, 'hamming');
    expectClose(audio.hannWindow(9, false), fx.hannSymmetric9, 1e-7, 'hann symmetric');
    expect(Array.from(audio.hannWindow(1))).toEqual([1]);
    expect(audio.hannWindow(0).length).toBe(0);
  });

  it('rfft equals numpy.fft.rfft', () => on(() => {
    const X = audio.rfft(tensor(signal.subarray(0, 64)));
    expect(X.shape).toEqual([33, 2]);
    expectClose(X.toFloat32Array(), fx.rfft64, 1e-6, 'rfft64');
  }));

  it('power and magnitude spectrograms (centre + reflect, hann and hamming, and uncentred)', () => on(() => {
    const P = audio.spectrogram(signal, SPEC);
    expect(P.shape).toEqual(fx.powerSpectrogram.shape);
    expectClose(P.toFloat32Array(), fx.powerSpectrogram.data, 2e-6, 'power');
    const M = audio.spectrogram(signal, { ...SPEC, power: 1, window: 'hamming' });
    expect(M.shape).toEqual(fx.magnitudeSpectrogramHamming.shape);
    expectClose(M.toFloat32Array(), fx.magnitudeSpectrogramHamming.data, 2e-6, 'magnitude');
    const C = audio.spectrogram(signal, { nFft: 256, hopLength: 64, center: false });
    expect(C.shape).toEqual(fx.powerSpectrogramNoCenter.shape);
    expectClose(C.toFloat32Array(), fx.powerSpectrogramNoCenter.data, 2e-6, 'uncentred');
  }));

  it('mel filterbanks: HTK (no norm) and Slaney (Slaney norm)', () => on(() => {
    for (const m of [fx.melHtk, fx.melSlaney]) {
      const fb = audio.melFilterbank({ nFreqs: 129, sampleRate: 8000, nMels: 40, fMin: m.fMin, fMax: m.fMax,
        melScale: m.melScale as audio.MelScale, norm: m.norm as 'slaney' | null });
      expect(fb.shape).toEqual(m.shape);
      expectClose(fb.toFloat32Array(), m.data, 1e-6, `mel ${m.melScale}`);
    }
    expect(audio.hzToMel(1000, 'slaney')).toBeCloseTo(15, 12);
    expect(audio.melToHz(audio.hzToMel(3210, 'htk'), 'htk')).toBeCloseTo(3210, 9);
    expect(audio.melToHz(audio.hzToMel(3210, 'slaney'), 'slaney')).toBeCloseTo(3210, 9);
  }));

  it('mel spectrogram, dB with topDb 80, MFCC (DCT-II ortho) and deltas', () => on(() => {
    const mel = audio.melSpectrogram(signal, MEL);
    expect(mel.shape).toEqual(fx.melSpectrogram.shape);
    expectClose(mel.toFloat32Array(), fx.melSpectrogram.data, 2e-6, 'mel');
    const db = audio.logMelSpectrogram(signal, { ...MEL, topDb: 80 });
    expectClose(db.toFloat32Array(), fx.logMelDb80.data, 0, 'dB', 2e-4);
    expectClose(audio.powerToDb(mel, { topDb: 80 }).toFloat32Array(), fx.logMelDb80.data, 0, 'powerToDb', 2e-4);
    expectClose(audio.dctMatrix(13, 40).toFloat32Array(), fx.dct13x40, 1e-7, 'dct');
    const c = audio.mfcc(signal, { ...MEL, nMfcc: 13 });
    expect(c.shape).toEqual(fx.mfcc13.shape);
    expectClose(c.toFloat32Array(), fx.mfcc13.data, 0, 'mfcc', 2e-4);
    expectClose(audio.deltas(c).toFloat32Array(), fx.mfcc13Deltas.data, 0, 'deltas', 1e-4);
    expectClose(audio.deltas(c, { winLength: 9 }).toFloat32Array(), fx.mfcc13Deltas9.data, 0, 'deltas 9', 1e-4);
  }));

  it('batches: a [2, n] signal gives the two spectrograms stacked', () => on(() => {
    const two = new Float32Array(2 * 1000);
    two.set(signal.subarray(0, 1000)); two.set(signal.subarray(1000, 2000), 1000);
    const both = audio.logMelSpectrogram(tensor(two, { shape: [2, 1000] }), { ...MEL, topDb: 80 });
    const a = audio.logMelSpectrogram(signal.subarray(0, 1000), { ...MEL, topDb: 80 });
    const b = audio.logMelSpectrogram(signal.slice(1000, 2000), { ...MEL, topDb: 80 });
    expect(both.shape).toEqual([2, 40, 13]);
    const flat = both.toFloat32Array();
    expectClose(flat.subarray(0, 520), a.toFloat32Array(), 0, 'item 0', 1e-5);
    expectClose(flat.subarray(520), b.toFloat32Array(), 0, 'item 1', 1e-5);
    const f = audio.frame(tensor(two, { shape: [2, 1000] }), { nFft: 64, hopLength: 32 });
    expect(f.shape).toEqual([2, 32, 64]);
    expect(audio.stft(signal, { nFft: 64, hopLength: 32 }).shape).toEqual([33, 63, 2]);
  }));
});

describe('audio feature argument checks', () => {
  const on = <T>(fn: () => T): T => onBackend(backends.wasm, fn);
  const err = (fn: () => unknown, msg: RegExp) => on(() => expect(fn).toThrow(msg));

  it('names the bad argument', () => {
    err(() => audio.spectrogram(signal, { nFft: 400 }), /spectrogram: nFft must be a power of two ≥ 2 \(got 400\) \(help:/);
    err(() => audio.spectrogram(signal, { nFft: 256, winLength: 300 }), /winLength must be an integer in \[1, nFft = 256\]/);
    err(() => audio.spectrogram(signal, { hopLength: 0 }), /hopLength must be a positive integer/);
    err(() => audio.spectrogram(new Float32Array(100), { nFft: 256 }), /reflect padding of 128 needs more than 128 samples \(got 100\)/);
    err(() => audio.spectrogram(new Float32Array(100), { nFft: 256, center: false }), /shorter than nFft 256/);
    err(() => audio.melSpectrogram(signal, { sampleRate: 8000, fMax: 5000 }), /need 0 ≤ fMin < fMax ≤ sampleRate\/2/);
    err(() => audio.melSpectrogram(signal, { sampleRate: 8000, melScale: 'bark' as never }), /melScale must be 'htk' or 'slaney'/);
    err(() => audio.mfcc(signal, { sampleRate: 8000, nMels: 20, nMfcc: 30 }), /nMfcc must be an integer in \[1, nMels = 20\]/);
    err(() => audio.deltas(tensor([1, 2, 3]), { winLength: 2 }), /deltas: winLength must be an integer ≥ 3/);
    err(() => audio.rfft(tensor([1, 2, 3])), /rfft: the last axis must be a power of two/);
    err(() => audio.spectrogram(tensor([1, 2], { dtype: 'int32' })), /expected a float32 signal/);
    expect(() => audio.hannWindow(-1)).toThrow(SimdgradError);
  });

  it('constant padding works for signals shorter than nFft/2', () => on(() => {
    const S = audio.spectrogram(new Float32Array(100).fill(0.5), { nFft: 256, padMode: 'constant' });
    expect(S.shape).toEqual([129, 1 + Math.floor(100 / 128)]);
  }));
});
