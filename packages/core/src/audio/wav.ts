// WAV (RIFF/WAVE) reading and writing. Reads uncompressed PCM (8-bit unsigned, 16/24/32-bit signed)
// and IEEE float (32/64-bit), plain or WAVE_FORMAT_EXTENSIBLE, any channel count and sample rate, and
// gives float32 samples in [-1, 1): the mix of the channels (their mean) or one picked channel.
// Anything else (compressed formats, RIFX/RF64, truncated files) is a SimdgradError that says what.
// see: Microsoft, "Multimedia Programming Interface and Data Specifications 1.0" (1991), and
// "WAVEFORMATEXTENSIBLE" (KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT GUIDs).
import { SimdgradError } from '../errors.js';

export interface WavData {
  /** Samples per second (per channel). */
  sampleRate: number;
  /** Channels in the file (`samples` is already mono). */
  channels: number;
  /** Bits per sample in the file. */
  bitsPerSample: number;
  /** 'pcm' (integer) or 'float'. */
  encoding: 'pcm' | 'float';
  /** Mono float32 samples in [-1, 1): the channel mix or the picked channel. */
  samples: Float32Array;
  /** Seconds of audio. */
  duration: number;
}

export interface ReadWavOptions {
  /**
   * 'mix' (default): the mean of all channels; a number: that channel only (0 = left).
   */
  channel?: 'mix' | number;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(v: DataView, at: number): string {
  return String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
}

/**
 * Decodes a WAV file into mono float32 samples.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * const { samples, sampleRate } = audio.readWav(readFileSync('7_jackson_32.wav'));
 * const x = audio.resample(samples, sampleRate, 16000);
 * ```
 */
export function readWav(bytes: Uint8Array | ArrayBuffer, options: ReadWavOptions = {}): WavData {
  const u8 = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(u8 instanceof Uint8Array)) throw new SimdgradError(`readWav: expected a Uint8Array or ArrayBuffer (got ${bytes === null ? 'null' : typeof bytes})`);
  const channel = options.channel ?? 'mix';
  if (channel !== 'mix' && !(Number.isInteger(channel) && channel >= 0)) {
    throw new SimdgradError(`readWav: channel must be 'mix' or a channel index ≥ 0 (got ${JSON.stringify(channel)})`);
  }
  const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (u8.length < 12) throw new SimdgradError(`readWav: not a WAV file (${u8.length} bytes, a RIFF header needs 12)`);
  const riff = fourcc(v, 0);
  if (riff === 'RIFX' || riff === 'RF64') {
    throw new SimdgradError(`readWav: ${riff} files are not supported (help: convert to a little-endian RIFF WAV, e.g. \`sox in.wav out.wav\`)`);
  }
  if (riff !== 'RIFF' || fourcc(v, 8) !== 'WAVE') {
    throw new SimdgradError(`readWav: not a WAV file (starts with ${JSON.stringify(riff)}…${JSON.stringify(fourcc(v, 8))}, expected "RIFF"…"WAVE")`);
  }
  let fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number } | null = null;
  let data: { at: number; size: number } | null = null;
  let at = 12;
  while (at + 8 <= u8.length) {
    const id = fourcc(v, at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > u8.length) throw new SimdgradError(`readWav: truncated or malformed fmt chunk (${size} bytes at offset ${at}, file has ${u8.length})`);
      let tag = v.getUint16(body, true);
      const bits = v.getUint16(body + 14, true);
      if (tag === FORMAT_EXTENSIBLE) {
        if (size < 40) throw new SimdgradError(`readWav: WAVE_FORMAT_EXTENSIBLE fmt chunk too short (${size} bytes, needs 40)`);
        tag = v.getUint16(body + 24, true); // the first two bytes of the sub-format GUID
      }
      fmt = { tag, channels: v.getUint16(body + 2, true), rate: v.getUint32(body + 4, true), blockAlign: v.getUint16(body + 12, true), bits };
    } else if (id === 'data') {
      if (body + size > u8.length) {
        throw new SimdgradError(`readWav: truncated file (the data chunk says ${size} bytes, only ${u8.length - body} follow)`);
      }
      data = { at: body, size };
      break;
    }
    at = body + size + (size & 1); // chunks are padded to an even size
  }
  if (fmt === null) throw new SimdgradError('readWav: no fmt chunk before the data (truncated or not a WAV file)');
  if (data === null) throw new SimdgradError('readWav: no data chunk (truncated file?)');
  const { tag, channels, rate, bits } = fmt;
  let encoding: 'pcm' | 'float';
  if (tag === FORMAT_PCM && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) encoding = 'pcm';
  else if (tag === FORMAT_FLOAT && (bits === 32 || bits === 64)) encoding = 'float';
  else {
    throw new SimdgradError(`readWav: unsupported encoding (format tag ${tag}, ${bits} bits) ` +
      '(help: supported are PCM 8/16/24/32-bit and IEEE float 32/64-bit; convert others, e.g. `ffmpeg -i in.wav -c:a pcm_s16le out.wav`)');
  }
  if (channels < 1) throw new SimdgradError(`readWav: the fmt chunk says ${channels} channels`);
  if (rate < 1) throw new SimdgradError(`readWav: the fmt chunk says a sample rate of ${rate} Hz`);
  const bytesPer = bits / 8;
  if (fmt.blockAlign !== channels * bytesPer) {
    throw new SimdgradError(`readWav: block align ${fmt.blockAlign} does not match ${channels} channels × ${bytesPer} bytes`);
  }
  if (channel !== 'mix' && channel >= channels) {
    throw new SimdgradError(`readWav: channel ${channel} does not exist (the file has ${channels})`);
  }
  const frames = Math.floor(data.size / fmt.blockAlign);
  const read = sampleReader(v, encoding, bits);
  const samples = new Float32Array(frames);
  if (channel === 'mix') {
    for (let i = 0; i < frames; i++) {
      let s = 0;
      for (let c = 0; c < channels; c++) s += read(data.at + i * fmt.blockAlign + c * bytesPer);
      samples[i] = s / channels;
    }
  } else {
    for (let i = 0; i < frames; i++) samples[i] = read(data.at + i * fmt.blockAlign + channel * bytesPer);
  }
  return { sampleRate: rate, channels, bitsPerSample: bits, encoding, samples, duration: frames / rate };
}

function sampleReader(v: DataView, encoding: 'pcm' | 'float', bits: number): (at: number) => number {
  if (encoding === 'float') return bits === 32 ? (at) => v.getFloat32(at, true) : (at) => v.getFloat64(at, true);
  switch (bits) {
    case 8: return (at) => (v.getUint8(at) - 128) / 128;
    case 16: return (at) => v.getInt16(at, true) / 32768;
    case 24: return (at) => (((v.getUint8(at + 2) << 24) | (v.getUint8(at + 1) << 16) | (v.getUint8(at) << 8)) >> 8) / 8388608;
    default: return (at) => v.getInt32(at, true) / 2147483648;
  }
}

export interface WriteWavOptions {
  /** 16 (default), 8, 24 or 32 for PCM; 32 with `float: true` for IEEE float. */
  bitsPerSample?: 8 | 16 | 24 | 32;
  /** Write IEEE float samples (format tag 3, 32-bit). */
  float?: boolean;
}

/**
 * Encodes samples as a canonical 44-byte-header WAV file. `channels` is one Float32Array per channel
 * (all the same length) or a single mono array. PCM values are clipped to [-1, 1] and rounded.
 *
 * @example
 * ```ts
 * const bytes = audio.writeWav(samples, 8000);                       // 16-bit mono
 * const stereo = audio.writeWav([left, right], 44100, { bitsPerSample: 24 });
 * ```
 */
export function writeWav(channels: Float32Array | readonly Float32Array[], sampleRate: number, options: WriteWavOptions = {}): Uint8Array {
  const chans = channels instanceof Float32Array ? [channels] : [...channels];
  if (chans.length < 1 || !chans.every((c) => c instanceof Float32Array)) throw new SimdgradError('writeWav: expected a Float32Array or an array of them (one per channel)');
  const frames = chans[0]!.length;
  if (!chans.every((c) => c.length === frames)) throw new SimdgradError(`writeWav: channels differ in length (${chans.map((c) => c.length).join(', ')})`);
  if (!(Number.isInteger(sampleRate) && sampleRate > 0)) throw new SimdgradError(`writeWav: sampleRate must be a positive integer (got ${sampleRate})`);
  const float = options.float ?? false;
  const bits = options.bitsPerSample ?? (float ? 32 : 16);
  if (float ? bits !== 32 : ![8, 16, 24, 32].includes(bits)) {
    throw new SimdgradError(`writeWav: bitsPerSample must be ${float ? '32 for float' : '8, 16, 24 or 32'} (got ${bits})`);
  }
  const bytesPer = bits / 8, blockAlign = bytesPer * chans.length, dataSize = frames * blockAlign;
  const out = new Uint8Array(44 + dataSize + (dataSize & 1));
  const v = new DataView(out.buffer);
  const put4 = (at: number, s: string) => { for (let i = 0; i < 4; i++) v.setUint8(at + i, s.charCodeAt(i)); };
  put4(0, 'RIFF'); v.setUint32(4, out.length - 8, true); put4(8, 'WAVE');
  put4(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, float ? FORMAT_FLOAT : FORMAT_PCM, true);
  v.setUint16(22, chans.length, true); v.setUint32(24, sampleRate, true); v.setUint32(28, sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true); v.setUint16(34, bits, true);
  put4(36, 'data'); v.setUint32(40, dataSize, true);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < chans.length; c++) {
      const at = 44 + i * blockAlign + c * bytesPer;
      const s = chans[c]![i]!;
      if (float) { v.setFloat32(at, s, true); continue; }
      const x = Math.max(-1, Math.min(1, Number.isNaN(s) ? 0 : s));
      if (bits === 8) v.setUint8(at, Math.min(255, Math.round(x * 128) + 128));
      else if (bits === 16) v.setInt16(at, Math.min(32767, Math.round(x * 32768)), true);
      else if (bits === 24) {
        const q = Math.min(8388607, Math.round(x * 8388608));
        v.setUint8(at, q & 0xff); v.setUint8(at + 1, (q >> 8) & 0xff); v.setUint8(at + 2, (q >> 16) & 0xff);
      } else v.setInt32(at, Math.min(2147483647, Math.round(x * 2147483648)), true);
    }
  }
  return out;
}
