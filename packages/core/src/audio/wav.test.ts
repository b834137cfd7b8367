// WAV reading/writing: exact sample values for each encoding, channel mixing and picking, chunk
// walking (extensible format, odd-sized chunks before data), a real FSDD file, and every error path.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readWav, writeWav } from './wav.js';

function header(tag: number, channels: number, rate: number, bits: number, dataBytes: number, extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(44 + extra.length + dataBytes);
  const v = new DataView(out.buffer);
  const s = (at: number, t: string) => { for (let i = 0; i < 4; i++) out[at + i] = t.charCodeAt(i); };
  s(0, 'RIFF'); v.setUint32(4, out.length - 8, true); s(8, 'WAVE');
  s(12, 'fmt '); v.setUint32(16, 16, true); v.setUint16(20, tag, true); v.setUint16(22, channels, true);
  v.setUint32(24, rate, true); v.setUint32(28, rate * channels * bits / 8, true); v.setUint16(32, channels * bits / 8, true); v.setUint16(34, bits, true);
  out.set(extra, 36);
  s(36 + extra.length, 'data'); v.setUint32(40 + extra.length, dataBytes, true);
  return out;
}

describe('readWav', () => {
  it('decodes PCM 8/16/24/32-bit and float32/64 to exact values', () => {
    const x = Float32Array.of(0, 0.5, -0.5, -1, 0.25);
    for (const bits of [8, 16, 24, 32] as const) {
      const w = readWav(writeWav(x, 8000, { bitsPerSample: bits }));
      expect(w).toMatchObject({ sampleRate: 8000, channels: 1, bitsPerSample: bits, encoding: 'pcm' });
      expect(Array.from(w.samples)).toEqual(Array.from(x));
    }
    const f = readWav(writeWav(Float32Array.of(0.1, -2.5), 44100, { float: true }));
    expect(f.encoding).toBe('float');
    expect(Array.from(f.samples)).toEqual([Math.fround(0.1), -2.5]);
    const d = header(3, 1, 16000, 64, 16);
    new DataView(d.buffer).setFloat64(44, 0.125, true); new DataView(d.buffer).setFloat64(52, -0.75, true);
    expect(Array.from(readWav(d).samples)).toEqual([0.125, -0.75]);
  });

  it('maps the integer extremes as PCM convention: −2^(b−1) → −1, 8-bit 128 → 0', () => {
    const b16 = header(1, 1, 8000, 16, 4); new DataView(b16.buffer).setInt16(44, -32768, true); new DataView(b16.buffer).setInt16(46, 32767, true);
    expect(Array.from(readWav(b16).samples)).toEqual([-1, Math.fround(32767 / 32768)]);
    const b8 = header(1, 1, 8000, 8, 3); b8.set([0, 128, 255], 44);
    expect(Array.from(readWav(b8).samples)).toEqual([-1, 0, Math.fround(127 / 128)]);
    const b24 = header(1, 1, 8000, 24, 6); b24.set([0, 0, 0x80, 0xff, 0xff, 0x7f], 44);
    expect(Array.from(readWav(b24).samples)).toEqual([-1, Math.fround(8388607 / 8388608)]);
  });

  it('mixes stereo to mono by default, or picks a channel', () => {
    const left = Float32Array.of(0.5, -0.5, 0.25), right = Float32Array.of(0.25, 0.5, -0.25);
    const bytes = writeWav([left, right], 22050);
    expect(readWav(bytes)).toMatchObject({ channels: 2, sampleRate: 22050 });
    expect(Array.from(readWav(bytes).samples)).toEqual([0.375, 0, 0]);
    expect(Array.from(readWav(bytes, { channel: 1 }).samples)).toEqual(Array.from(right));
    expect(readWav(bytes).duration).toBeCloseTo(3 / 22050, 12);
  });

  it('skips other chunks (odd sizes are padded) and reads WAVE_FORMAT_EXTENSIBLE', () => {
    const list = new Uint8Array(12); // "LIST", size 3, 3 bytes + 1 pad byte
    list.set([76, 73, 83, 84, 3, 0, 0, 0, 1, 2, 3, 0]);
    const withList = header(1, 1, 8000, 16, 2, list);
    new DataView(withList.buffer).setInt16(44 + 12, 16384, true);
    expect(Array.from(readWav(withList).samples)).toEqual([0.5]);
    // extensible: fmt chunk of 40 bytes, sub-format GUID starting with 3 (IEEE float)
    const out = new Uint8Array(12 + 8 + 40 + 8 + 4);
    const v = new DataView(out.buffer);
    const s = (at: number, t: string) => { for (let i = 0; i < 4; i++) out[at + i] = t.charCodeAt(i); };
    s(0, 'RIFF'); v.setUint32(4, out.length - 8, true); s(8, 'WAVE'); s(12, 'fmt '); v.setUint32(16, 40, true);
    v.setUint16(20, 0xfffe, true); v.setUint16(22, 1, true); v.setUint32(24, 48000, true); v.setUint32(28, 192000, true);
    v.setUint16(32, 4, true); v.setUint16(34, 32, true); v.setUint16(36, 22, true); v.setUint16(44, 3, true);
    s(60, 'data'); v.setUint32(64, 4, true); v.setFloat32(68, 0.75, true);
    expect(readWav(out)).toMatchObject({ sampleRate: 48000, encoding: 'float', samples: Float32Array.of(0.75) });
  });

  it('reads an FSDD recording (8 kHz mono 16-bit)', () => {
    const bytes = readFileSync(new URL('../../../../data/fsdd/0_jackson_0.wav', import.meta.url));
    const w = readWav(bytes);
    expect(w).toMatchObject({ sampleRate: 8000, channels: 1, bitsPerSample: 16, encoding: 'pcm' });
    expect(w.samples.length).toBe(0x2838 / 2);
    expect(Math.max(...w.samples.map(Math.abs))).toBeLessThanOrEqual(1);
  });

  it('says what is wrong with bad files', () => {
    const ok = writeWav(Float32Array.of(0.5, 0.25), 8000);
    expect(() => readWav(new Uint8Array(5))).toThrow(/readWav: not a WAV file \(5 bytes/);
    expect(() => readWav(new TextEncoder().encode('OggS0000WAVEfmt '))).toThrow(/not a WAV file \(starts with "OggS"/);
    const rifx = ok.slice(); rifx.set([82, 73, 70, 88], 0);
    expect(() => readWav(rifx)).toThrow(/RIFX files are not supported \(help:/);
    expect(() => readWav(ok.subarray(0, ok.length - 1))).toThrow(/readWav: truncated file \(the data chunk says 4 bytes, only 3 follow\)/);
    expect(() => readWav(ok.subarray(0, 30))).toThrow(/truncated or malformed fmt chunk/);
    expect(() => readWav(ok.subarray(0, 36))).toThrow(/no data chunk \(truncated file\?\)/);
    expect(() => readWav(header(2, 1, 8000, 4, 4))).toThrow(/unsupported encoding \(format tag 2, 4 bits\)/);
    expect(() => readWav(header(1, 1, 8000, 12, 4))).toThrow(/unsupported encoding \(format tag 1, 12 bits\)/);
    expect(() => readWav(header(3, 1, 8000, 16, 4))).toThrow(/unsupported encoding \(format tag 3, 16 bits\)/);
    const zeroRate = header(1, 1, 0, 16, 2);
    expect(() => readWav(zeroRate)).toThrow(/sample rate of 0 Hz/);
    expect(() => readWav(ok, { channel: 1 })).toThrow(/channel 1 does not exist \(the file has 1\)/);
    expect(() => readWav(ok, { channel: -1 })).toThrow(/channel must be 'mix' or a channel index/);
    const dataFirst = ok.slice(); dataFirst.set([100, 97, 116, 97], 12); // the fmt chunk renamed: data comes without fmt
    expect(() => readWav(dataFirst)).toThrow(/no fmt chunk/);
  });
});

describe('writeWav', () => {
  it('writes the canonical 44-byte header (byte-identical to an FSDD file)', () => {
    const orig = new Uint8Array(readFileSync(new URL('../../../../data/fsdd/0_jackson_0.wav', import.meta.url)));
    const again = writeWav(readWav(orig).samples, 8000);
    expect(again).toEqual(orig);
  });

  it('checks its arguments', () => {
    expect(() => writeWav(Float32Array.of(0), 0)).toThrow(/writeWav: sampleRate must be a positive integer/);
    expect(() => writeWav([Float32Array.of(0), Float32Array.of(0, 1)], 8000)).toThrow(/channels differ in length \(1, 2\)/);
    expect(() => writeWav(Float32Array.of(0), 8000, { bitsPerSample: 12 as never })).toThrow(/bitsPerSample must be 8, 16, 24 or 32/);
  });
});
