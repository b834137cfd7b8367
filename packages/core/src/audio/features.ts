// Audio features on tensors: windows, framing, the real FFT, (power) spectrograms, mel filterbanks,
// log-mel (dB) spectrograms, MFCCs and deltas. The hot loops are backend primitives (frameSignal, rfft,
// complexPower, deltas: SIMD kernels in wasm, float64 loops in the reference backend); the mel
// filterbank and the DCT are matrices built here in float64 and applied with matmul; the log is `log`.
//
// Conventions follow torchaudio (and so librosa where they agree):
// - layouts: a signal is [..., samples]; spectrograms are [..., freq, time] (freq = nFft/2 + 1 bins);
// - frames: with `center` (default) the signal is padded by nFft/2 on both sides ('reflect' by
//   default, as torch.stft) and frame t starts at t·hop − nFft/2, giving 1 + ⌊(n + 2⌊nFft/2⌋ − nFft)/hop⌋ frames;
// - windows are periodic by default (torch.hann_window); a window shorter than nFft is zero-padded
//   on both sides to nFft, centred;
// - the FFT is unnormalised, X[k] = Σ x[j]·e^(−2πi·jk/n) (numpy.fft.rfft), radix-2: nFft must be a power of two;
// - mel scales: 'htk' m = 2595·log10(1 + f/700) (torchaudio's default) and 'slaney' (linear below
//   1 kHz with 3 mels per 200/3 Hz, logarithmic above: librosa's default, the Auditory Toolbox's);
//   filters are triangles between neighbouring mel points on the linear bin frequencies
//   linspace(0, sampleRate/2, nFreqs); norm 'slaney' scales each to unit area (2 / its Hz width);
// - dB = 10·log10(max(x, amin)) − 10·log10(max(ref, amin)), with `topDb` flooring at (max − topDb)
//   per spectrogram (torchaudio AmplitudeToDB, librosa power_to_db);
// - MFCC = DCT-II (orthonormal) of the dB mel spectrogram over the mel axis (torchaudio MFCC with
//   log_mels false, librosa mfcc);
// - deltas: torchaudio compute_deltas (regression over ±N frames, edges replicated).
// NOTE: features are not differentiable: they are computed without recording a graph.
// see: Davis & Mermelstein (1980) for MFCCs; Slaney, "Auditory Toolbox" (1998) for the Slaney mel scale.
import { noGrad } from '../autograd/graph.js';
import { getBackend } from '../engine.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { scope } from '../memory.js';
import { tensor } from '../ops/creation.js';
import { contiguous, empty } from '../ops/core.js';
import { Tensor } from '../tensor.js';

export type WindowName = 'hann' | 'hamming' | 'rectangular';
export type MelScale = 'htk' | 'slaney';

/** A signal: a float32 tensor [..., samples] or mono samples. */
export type Signal = Tensor | Float32Array;

export interface StftOptions {
  /** FFT size, a power of two ≥ 2 (default 512). */
  nFft?: number;
  /** Window length ≤ nFft (default nFft). */
  winLength?: number;
  /** Samples between frame starts (default ⌊winLength/2⌋, as torchaudio). */
  hopLength?: number;
  /** 'hann' (default), 'hamming', 'rectangular', or the window values themselves (winLength of them). */
  window?: WindowName | Float32Array;
  /** Pad nFft/2 on both sides so that frame t is centred on sample t·hop (default true). */
  center?: boolean;
  /** How `center` pads: 'reflect' (default, as torch.stft) or 'constant' (zeros). */
  padMode?: 'reflect' | 'constant';
}

export interface SpectrogramOptions extends StftOptions {
  /** 2 (default): power |X|²; 1: magnitude |X|. */
  power?: 1 | 2;
}

export interface MelOptions {
  /** Samples per second of the signal. */
  sampleRate: number;
  /** Mel bands (default 128, as torchaudio). */
  nMels?: number;
  /** Lowest frequency in Hz (default 0). */
  fMin?: number;
  /** Highest frequency in Hz (default sampleRate / 2). */
  fMax?: number;
  /** 'htk' (default, as torchaudio) or 'slaney' (librosa's default). */
  melScale?: MelScale;
  /** null (default): peak 1; 'slaney': unit area per filter (librosa's default). */
  norm?: 'slaney' | null;
}

export interface MelFilterbankOptions extends MelOptions {
  /** Frequency bins of the spectrogram (nFft/2 + 1). */
  nFreqs: number;
}

export interface DbOptions {
  /** Floor of the power before the log (default 1e-10). */
  amin?: number;
  /** Reference power for 0 dB (default 1). */
  ref?: number;
  /** Floor the result at (max − topDb) per spectrogram (default: no floor). */
  topDb?: number | null;
}

export type MelSpectrogramOptions = SpectrogramOptions & MelOptions;
export type LogMelSpectrogramOptions = MelSpectrogramOptions & DbOptions;

export interface MfccOptions extends LogMelSpectrogramOptions {
  /** Coefficients kept (default 40, as torchaudio). */
  nMfcc?: number;
}

// ------------------------------------------------------------------------------------------ windows

function checkLength(op: string, length: number): void {
  if (!(Number.isInteger(length) && length >= 0)) throw new SimdgradError(`${op}: length must be a non-negative integer (got ${length})`);
}

function cosineWindow(op: string, length: number, periodic: boolean, a0: number): Float32Array {
  checkLength(op, length);
  const w = new Float32Array(length);
  if (length === 1) { w[0] = 1; return w; }
  const denom = periodic ? length : length - 1;
  for (let i = 0; i < length; i++) w[i] = a0 - (1 - a0) * Math.cos(2 * Math.PI * i / denom);
  return w;
}

/**
 * The Hann window 0.5 − 0.5·cos(2πi/N), N = length (periodic, default) or length − 1 (symmetric); torch.hann_window.
 *
 * @example
 * ```ts
 * audio.hannWindow(4); // [0, 0.5, 1, 0.5]
 * ```
 */
export function hannWindow(length: number, periodic = true): Float32Array {
  return cosineWindow('hannWindow', length, periodic, 0.5);
}

/**
 * The Hamming window 0.54 − 0.46·cos(2πi/N); torch.hamming_window.
 *
 * @example
 * ```ts
 * audio.hammingWindow(400);
 * ```
 */
export function hammingWindow(length: number, periodic = true): Float32Array {
  return cosineWindow('hammingWindow', length, periodic, 0.54);
}

// ------------------------------------------------------------------------------------------ framing, FFT

interface Stft {
  nFft: number;
  hop: number;
  /** nFft values: the window zero-padded, centred. */
  window: Float32Array;
  center: boolean;
  padMode: 'reflect' | 'constant';
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}

function stftConfig(op: string, o: StftOptions): Stft {
  if (o === null || typeof o !== 'object') throw new SimdgradError(`${op}: options must be an object (got ${String(o)})`);
  const nFft = o.nFft ?? 512;
  if (!isPow2(nFft)) {
    throw new SimdgradError(`${op}: nFft must be a power of two ≥ 2 (got ${nFft}) (help: the FFT is radix-2; use winLength for other window sizes, e.g. nFft 512 with winLength 400)`);
  }
  const winLength = o.winLength ?? (o.window instanceof Float32Array ? o.window.length : nFft);
  if (!(Number.isInteger(winLength) && winLength >= 1 && winLength <= nFft)) {
    throw new SimdgradError(`${op}: winLength must be an integer in [1, nFft = ${nFft}] (got ${winLength})`);
  }
  const hop = o.hopLength ?? Math.max(1, Math.floor(winLength / 2));
  if (!(Number.isInteger(hop) && hop >= 1)) throw new SimdgradError(`${op}: hopLength must be a positive integer (got ${hop})`);
  let w: Float32Array;
  const kind = o.window ?? 'hann';
  if (kind instanceof Float32Array) {
    if (kind.length !== winLength) throw new SimdgradError(`${op}: the window has ${kind.length} values, winLength is ${winLength}`);
    w = kind;
  } else if (kind === 'hann') w = hannWindow(winLength);
  else if (kind === 'hamming') w = hammingWindow(winLength);
  else if (kind === 'rectangular') w = new Float32Array(winLength).fill(1);
  else throw new SimdgradError(`${op}: window must be 'hann', 'hamming', 'rectangular' or a Float32Array (got ${JSON.stringify(kind)})`);
  const window = new Float32Array(nFft);
  window.set(w, Math.floor((nFft - winLength) / 2));
  const padMode = o.padMode ?? 'reflect';
  if (padMode !== 'reflect' && padMode !== 'constant') throw new SimdgradError(`${op}: padMode must be 'reflect' or 'constant' (got ${JSON.stringify(padMode)})`);
  return { nFft, hop, window, center: o.center ?? true, padMode };
}

/** The signal as a contiguous float32 tensor [rows, n] plus its leading shape; the caller is in a scope. */
function asRows(op: string, signal: Signal): { x: Tensor; lead: number[]; n: number } {
  let t: Tensor;
  if (signal instanceof Float32Array) t = tensor(signal);
  else if (signal instanceof Tensor) {
    signal.assertAlive(op);
    if (signal.dtype !== 'float32') throw new SimdgradError(`${op}: expected a float32 signal (got ${signal.dtype})`);
    if (signal.ndim < 1) throw new SimdgradError(`${op}: expected a signal [..., samples] (got a scalar)`);
    t = signal;
  } else throw new SimdgradError(`${op}: signal must be a float32 Tensor or a Float32Array (got ${signal === null ? 'null' : typeof signal})`);
  const n = t.shape[t.ndim - 1]!;
  const lead = t.shape.slice(0, -1);
  return { x: contiguous(t), lead, n };
}

/** Frames of the signal, by the rules of {@link StftOptions}: the count and the padding. */
function frameGeometry(op: string, n: number, s: Stft): { nFrames: number; pad: number } {
  const pad = s.center ? Math.floor(s.nFft / 2) : 0;
  if (s.center && s.padMode === 'reflect' && pad >= n) {
    throw new SimdgradError(`${op}: reflect padding of ${pad} needs more than ${pad} samples (got ${n}) (help: padMode: 'constant', or pad the signal)`);
  }
  const span = n + 2 * pad - s.nFft;
  if (span < 0) throw new SimdgradError(`${op}: the signal (${n} samples) is shorter than nFft ${s.nFft} (help: center: true, or a smaller nFft)`);
  return { nFrames: 1 + Math.floor(span / s.hop), pad };
}

/** Windowed frames [rows, nFrames, nFft] (inside a scope). */
function framesOf(op: string, x: Tensor, rows: number, n: number, s: Stft): { frames: Tensor; nFrames: number } {
  const { nFrames, pad } = frameGeometry(op, n, s);
  const win = tensor(s.window);
  const frames = empty([rows, nFrames, s.nFft]);
  getBackend().frameSignal(frames.ptr, x.ptr, rows, n, s.nFft, s.hop, nFrames, pad, s.padMode, win.ptr);
  return { frames, nFrames };
}

/** Time-major power frames [rows, nFrames, nFreqs] (inside a scope). */
function powerFrames(op: string, signal: Signal, o: SpectrogramOptions): { p: Tensor; lead: number[]; nFrames: number; nFreqs: number } {
  const s = stftConfig(op, o);
  const power = o.power ?? 2;
  if (power !== 1 && power !== 2) throw new SimdgradError(`${op}: power must be 1 or 2 (got ${String(power)})`);
  const { x, lead, n } = asRows(op, signal);
  const rows = lead.reduce((a, b) => a * b, 1);
  const { frames, nFrames } = framesOf(op, x, rows, n, s);
  const nFreqs = s.nFft / 2 + 1;
  const spec = empty([rows, nFrames, nFreqs, 2]);
  const be = getBackend();
  be.rfft(spec.ptr, frames.ptr, rows * nFrames, s.nFft);
  const p = empty([rows, nFrames, nFreqs]);
  be.complexPower(p.ptr, spec.ptr, rows * nFrames * nFreqs, power);
  return { p, lead, nFrames, nFreqs };
}

/** Runs `fn` without a graph, freeing every temporary except the result. */
function run<T>(fn: () => T): T {
  return scope(() => noGrad(fn));
}

/**
 * Splits a signal [..., samples] into windowed frames [..., nFrames, nFft] (see {@link StftOptions}).
 *
 * @example
 * ```ts
 * const f = audio.frame(x, { nFft: 256, hopLength: 128, window: 'hamming' }); // [nFrames, 256]
 * ```
 */
export function frame(signal: Signal, options: StftOptions = {}): Tensor {
  return run(() => {
    const s = stftConfig('frame', options);
    const { x, lead, n } = asRows('frame', signal);
    const rows = lead.reduce((a, b) => a * b, 1);
    const { frames, nFrames } = framesOf('frame', x, rows, n, s);
    return frames.reshape([...lead, nFrames, s.nFft]);
  });
}

/**
 * The real FFT over the last axis: x [..., n] (n a power of two) → [..., n/2 + 1, 2] with (re, im)
 * pairs, unnormalised (numpy.fft.rfft).
 *
 * @example
 * ```ts
 * const X = audio.rfft(tensor([1, 0, 0, 0])); // [[1, 0], [1, 0], [1, 0]]
 * ```
 */
export function rfft(x: Tensor): Tensor {
  return run(() => {
    const { x: c, lead, n } = asRows('rfft', x);
    if (!isPow2(n)) throw new SimdgradError(`rfft: the last axis must be a power of two ≥ 2 (got ${n}) (help: zero-pad it)`);
    const rows = lead.reduce((a, b) => a * b, 1);
    const out = empty([...lead, n / 2 + 1, 2]);
    getBackend().rfft(out.ptr, c.ptr, rows, n);
    return out;
  });
}

/**
 * The short-time Fourier transform: [..., nFreqs, nFrames, 2] with (re, im) pairs (torch.stft's
 * layout with `return_complex=False`).
 *
 * @example
 * ```ts
 * const S = audio.stft(x, { nFft: 256, hopLength: 64 });
 * ```
 */
export function stft(signal: Signal, options: StftOptions = {}): Tensor {
  return run(() => {
    const s = stftConfig('stft', options);
    const { x, lead, n } = asRows('stft', signal);
    const rows = lead.reduce((a, b) => a * b, 1);
    const { frames, nFrames } = framesOf('stft', x, rows, n, s);
    const nFreqs = s.nFft / 2 + 1;
    const spec = empty([rows, nFrames, nFreqs, 2]);
    getBackend().rfft(spec.ptr, frames.ptr, rows * nFrames, s.nFft);
    return spec.transpose(1, 2).contiguous().reshape([...lead, nFreqs, nFrames, 2]);
  });
}

/**
 * The power (|X|², default) or magnitude spectrogram: [..., nFft/2 + 1, nFrames] (torchaudio.transforms.Spectrogram).
 *
 * @example
 * ```ts
 * const S = audio.spectrogram(samples, { nFft: 256, hopLength: 80 });
 * ```
 */
export function spectrogram(signal: Signal, options: SpectrogramOptions = {}): Tensor {
  return run(() => {
    const { p, lead, nFrames, nFreqs } = powerFrames('spectrogram', signal, options);
    return p.transpose(1, 2).contiguous().reshape([...lead, nFreqs, nFrames]);
  });
}

// ------------------------------------------------------------------------------------------ mel

/**
 * Hertz to mels on the 'htk' or 'slaney' scale (see the file header).
 *
 * @example
 * ```ts
 * audio.hzToMel(1000, 'slaney'); // 15
 * ```
 */
export function hzToMel(f: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 2595 * Math.log10(1 + f / 700);
  const fSp = 200 / 3, minLogHz = 1000, minLogMel = minLogHz / fSp, logStep = Math.log(6.4) / 27;
  return f >= minLogHz ? minLogMel + Math.log(f / minLogHz) / logStep : f / fSp;
}

/** Mels to hertz, the inverse of {@link hzToMel}. */
export function melToHz(m: number, scale: MelScale = 'htk'): number {
  if (scale === 'htk') return 700 * (10 ** (m / 2595) - 1);
  const fSp = 200 / 3, minLogHz = 1000, minLogMel = minLogHz / fSp, logStep = Math.log(6.4) / 27;
  return m >= minLogMel ? minLogHz * Math.exp(logStep * (m - minLogMel)) : fSp * m;
}

interface Mel {
  sampleRate: number;
  nMels: number;
  fMin: number;
  fMax: number;
  melScale: MelScale;
  norm: 'slaney' | null;
}

function melConfig(op: string, o: MelOptions): Mel {
  if (o === null || typeof o !== 'object') throw new SimdgradError(`${op}: options must be an object with sampleRate (got ${String(o)})`);
  const { sampleRate } = o;
  if (!(typeof sampleRate === 'number' && sampleRate > 0 && Number.isFinite(sampleRate))) {
    throw new SimdgradError(`${op}: sampleRate must be a positive number of Hz (got ${String(sampleRate)})`);
  }
  const nMels = o.nMels ?? 128, fMin = o.fMin ?? 0, fMax = o.fMax ?? sampleRate / 2;
  const melScale = o.melScale ?? 'htk', norm = o.norm ?? null;
  if (!(Number.isInteger(nMels) && nMels >= 1)) throw new SimdgradError(`${op}: nMels must be a positive integer (got ${nMels})`);
  if (!(fMin >= 0 && fMin < fMax && fMax <= sampleRate / 2)) {
    throw new SimdgradError(`${op}: need 0 ≤ fMin < fMax ≤ sampleRate/2 (got fMin ${fMin}, fMax ${fMax}, sampleRate ${sampleRate})`);
  }
  if (melScale !== 'htk' && melScale !== 'slaney') throw new SimdgradError(`${op}: melScale must be 'htk' or 'slaney' (got ${JSON.stringify(melScale)})`);
  if (norm !== null && norm !== 'slaney') throw new SimdgradError(`${op}: norm must be null or 'slaney' (got ${JSON.stringify(norm)})`);
  return { sampleRate, nMels, fMin, fMax, melScale, norm };
}

/** The filterbank as float64 rows [nMels][nFreqs] (torchaudio melscale_fbanks / librosa filters.mel). */
function melWeights(nFreqs: number, m: Mel): Float64Array[] {
  const { nMels } = m;
  const lo = hzToMel(m.fMin, m.melScale), hi = hzToMel(m.fMax, m.melScale);
  const hz = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) hz[i] = melToHz(lo + (hi - lo) * i / (nMels + 1), m.melScale);
  const rows: Float64Array[] = [];
  for (let i = 0; i < nMels; i++) {
    const row = new Float64Array(nFreqs);
    const left = hz[i]!, center = hz[i + 1]!, right = hz[i + 2]!;
    const enorm = m.norm === 'slaney' ? 2 / (right - left) : 1;
    for (let k = 0; k < nFreqs; k++) {
      const f = nFreqs === 1 ? 0 : (m.sampleRate / 2) * k / (nFreqs - 1);
      const up = (f - left) / (center - left), down = (right - f) / (right - center);
      row[k] = Math.max(0, Math.min(up, down)) * enorm;
    }
    rows.push(row);
  }
  return rows;
}

/**
 * The mel filterbank [nMels, nFreqs]: row m is the triangle of band m over the spectrogram's bins, so
 * `fb.matmul(spec)` maps a spectrogram [nFreqs, time] to mels [nMels, time].
 *
 * @example
 * ```ts
 * const fb = audio.melFilterbank({ nFreqs: 129, sampleRate: 8000, nMels: 40, melScale: 'slaney', norm: 'slaney' });
 * ```
 */
export function melFilterbank(options: MelFilterbankOptions): Tensor {
  const m = melConfig('melFilterbank', options);
  const { nFreqs } = options;
  if (!(Number.isInteger(nFreqs) && nFreqs >= 1)) throw new SimdgradError(`melFilterbank: nFreqs must be a positive integer (got ${String(nFreqs)})`);
  const rows = melWeights(nFreqs, m);
  const flat = new Float32Array(m.nMels * nFreqs);
  rows.forEach((r, i) => flat.set(r, i * nFreqs));
  return tensor(flat, { shape: [m.nMels, nFreqs] });
}

/** Mel spectrogram, time-major [rows, nFrames, nMels] (inside a scope). */
function melFrames(op: string, signal: Signal, o: MelSpectrogramOptions) {
  const m = melConfig(op, o);
  const { p, lead, nFrames, nFreqs } = powerFrames(op, signal, o);
  const fb = melFilterbank({ ...m, nFreqs });
  return { mel: p.matmul(fb.t()), lead, nFrames, nMels: m.nMels };
}

/**
 * The mel spectrogram [..., nMels, nFrames] (torchaudio.transforms.MelSpectrogram): the power
 * spectrogram times the mel filterbank.
 *
 * @example
 * ```ts
 * const M = audio.melSpectrogram(samples, { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 40 });
 * ```
 */
export function melSpectrogram(signal: Signal, options: MelSpectrogramOptions): Tensor {
  return run(() => {
    const { mel, lead, nFrames, nMels } = melFrames('melSpectrogram', signal, options);
    return mel.transpose(1, 2).contiguous().reshape([...lead, nMels, nFrames]);
  });
}

function dbConfig(op: string, o: DbOptions) {
  const amin = o.amin ?? 1e-10, ref = o.ref ?? 1, topDb = o.topDb ?? null;
  if (!(amin > 0)) throw new SimdgradError(`${op}: amin must be > 0 (got ${amin})`);
  if (!(ref > 0)) throw new SimdgradError(`${op}: ref must be > 0 (got ${ref})`);
  if (topDb !== null && !(topDb >= 0)) throw new SimdgradError(`${op}: topDb must be ≥ 0 or null (got ${topDb})`);
  return { amin, ref, topDb };
}

/** dB of a [rows, a, b] power tensor, topDb per row (inside a scope). */
function toDb(x: Tensor, o: { amin: number; ref: number; topDb: number | null }): Tensor {
  let db = x.clamp(o.amin).log().mul(10 / Math.LN10);
  const offset = 10 * Math.log10(Math.max(o.ref, o.amin));
  if (offset !== 0) db = db.sub(offset);
  if (o.topDb !== null) db = db.maximum(db.max([1, 2], true).sub(o.topDb));
  return db;
}

/**
 * Power to decibels: 10·log10(max(x, amin) / ref), floored at (max − topDb) over each spectrogram
 * (the last two axes), as torchaudio's AmplitudeToDB('power') and librosa's power_to_db.
 *
 * @example
 * ```ts
 * const db = audio.powerToDb(audio.melSpectrogram(x, { sampleRate: 8000 }), { topDb: 80 });
 * ```
 */
export function powerToDb(x: Tensor, options: DbOptions = {}): Tensor {
  const o = dbConfig('powerToDb', options);
  if (!(x instanceof Tensor)) throw new SimdgradError('powerToDb: x must be a tensor');
  x.assertAlive('powerToDb');
  return run(() => {
    const shape = x.shape;
    const three = shape.length >= 2 ? x.reshape([-1, shape[shape.length - 2]!, shape[shape.length - 1]!])
      : x.reshape([1, 1, -1]);
    return toDb(three, o).reshape(shape);
  });
}

/**
 * The log-mel spectrogram in dB [..., nMels, nFrames]: {@link melSpectrogram} then {@link powerToDb}.
 *
 * @example
 * ```ts
 * const L = audio.logMelSpectrogram(samples, { sampleRate: 8000, nFft: 256, hopLength: 128, nMels: 40, topDb: 80 });
 * ```
 */
export function logMelSpectrogram(signal: Signal, options: LogMelSpectrogramOptions): Tensor {
  const d = dbConfig('logMelSpectrogram', options);
  return run(() => {
    const { mel, lead, nFrames, nMels } = melFrames('logMelSpectrogram', signal, options);
    return toDb(mel.transpose(1, 2), d).contiguous().reshape([...lead, nMels, nFrames]);
  });
}

/**
 * The DCT-II matrix [nMfcc, nMels]: D[k, n] = s_k·cos(π(n + ½)k / nMels), with s_0 = √(1/nMels) and
 * s_k = √(2/nMels) for 'ortho' (default; scipy.fft.dct(norm='ortho')), or 2 for norm null (unscaled).
 *
 * @example
 * ```ts
 * const D = audio.dctMatrix(13, 40); // D.matmul(logMel) → MFCCs [13, time]
 * ```
 */
export function dctMatrix(nMfcc: number, nMels: number, norm: 'ortho' | null = 'ortho'): Tensor {
  if (!(Number.isInteger(nMels) && nMels >= 1)) throw new SimdgradError(`dctMatrix: nMels must be a positive integer (got ${nMels})`);
  if (!(Number.isInteger(nMfcc) && nMfcc >= 1 && nMfcc <= nMels)) throw new SimdgradError(`dctMatrix: nMfcc must be an integer in [1, nMels = ${nMels}] (got ${nMfcc})`);
  const d = new Float32Array(nMfcc * nMels);
  for (let k = 0; k < nMfcc; k++) {
    const s = norm === 'ortho' ? Math.sqrt((k === 0 ? 1 : 2) / nMels) : 2;
    for (let n = 0; n < nMels; n++) d[k * nMels + n] = s * Math.cos(Math.PI * (n + 0.5) * k / nMels);
  }
  return tensor(d, { shape: [nMfcc, nMels] });
}

/**
 * Mel-frequency cepstral coefficients [..., nMfcc, nFrames]: the orthonormal DCT-II of the dB mel
 * spectrogram (topDb 80 by default, as torchaudio.transforms.MFCC).
 *
 * @example
 * ```ts
 * const c = audio.mfcc(samples, { sampleRate: 8000, nFft: 256, hopLength: 80, nMels: 40, nMfcc: 13 });
 * const features = cat([c, audio.deltas(c), audio.deltas(audio.deltas(c))], -2); // [39, time]
 * ```
 */
export function mfcc(signal: Signal, options: MfccOptions): Tensor {
  const d = dbConfig('mfcc', { topDb: 80, ...options });
  const nMfcc = options.nMfcc ?? 40;
  const nMels = options.nMels ?? 128;
  if (!(Number.isInteger(nMfcc) && nMfcc >= 1 && nMfcc <= nMels)) throw new SimdgradError(`mfcc: nMfcc must be an integer in [1, nMels = ${nMels}] (got ${nMfcc})`);
  return run(() => {
    const { mel, lead, nFrames } = melFrames('mfcc', signal, options);
    const db = toDb(mel, d); // [rows, nFrames, nMels]; topDb over the whole spectrogram either way
    return db.matmul(dctMatrix(nMfcc, nMels).t()).transpose(1, 2).contiguous().reshape([...lead, nMfcc, nFrames]);
  });
}

/**
 * Deltas (time derivatives) along the last axis: d[t] = Σ_{k=1..N} k·(x[t+k] − x[t−k]) / (2·Σk²) with
 * N = ⌊(winLength − 1)/2⌋ and the edges replicated (torchaudio.functional.compute_deltas).
 *
 * @example
 * ```ts
 * const d1 = audio.deltas(mfccs);          // winLength 5
 * const d2 = audio.deltas(d1, { winLength: 9 });
 * ```
 */
export function deltas(x: Tensor, options: { winLength?: number } = {}): Tensor {
  const winLength = options.winLength ?? 5;
  if (!(Number.isInteger(winLength) && winLength >= 3)) throw new SimdgradError(`deltas: winLength must be an integer ≥ 3 (got ${winLength})`);
  if (!(x instanceof Tensor)) throw new SimdgradError('deltas: x must be a tensor');
  x.assertAlive('deltas');
  if (x.ndim < 1 || x.dtype !== 'float32') throw new SimdgradError(`deltas: expected a float32 tensor [..., time] (got ${x.dtype} ${fmtShape(x.shape)})`);
  return run(() => {
    const c = contiguous(x);
    const T = x.shape[x.ndim - 1]!;
    const out = empty(x.shape);
    if (T > 0) getBackend().deltas(out.ptr, c.ptr, x.size / T, T, Math.floor((winLength - 1) / 2));
    return out;
  });
}
