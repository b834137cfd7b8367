import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimdgradError, data, init } from '../index.js';

beforeAll(async () => {
  await init();
});

/** A 2×3 uint8 IDX file written by hand: magic 00 00 08 02, dims 2 and 3 big-endian, then 6 bytes. */
const U8_2X3 = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 253, 254, 255);

describe('parseIdx', () => {
  it('reads a hand-made uint8 file', () => {
    const idx = data.parseIdx(U8_2X3);
    expect(idx.shape).toEqual([2, 3]);
    expect(idx.dtype).toBe('uint8');
    expect(idx.data).toBeInstanceOf(Uint8Array);
    expect(Array.from(idx.data)).toEqual([0, 1, 2, 253, 254, 255]);
  });

  it('reads big-endian int32, int16, float32, float64 and int8 elements', () => {
    const i32 = data.parseIdx(Uint8Array.of(0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe));
    expect(i32.data).toBeInstanceOf(Int32Array);
    expect(Array.from(i32.data)).toEqual([256, -2]);
    const i16 = data.parseIdx(Uint8Array.of(0, 0, 0x0b, 1, 0, 0, 0, 1, 0x80, 0x00));
    expect(Array.from(i16.data)).toEqual([-32768]);
    const f32 = data.parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0x3f, 0xc0, 0, 0));
    expect(f32.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f32.data)).toEqual([1.5]);
    const f64 = data.parseIdx(Uint8Array.of(0, 0, 0x0e, 1, 0, 0, 0, 1, 0xc0, 0x04, 0, 0, 0, 0, 0, 0));
    expect(Array.from(f64.data)).toEqual([-2.5]);
    const i8 = data.parseIdx(Uint8Array.of(0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x7f));
    expect(Array.from(i8.data)).toEqual([-1, 127]);
  });

  it('inflates gzip in parseIdxAsync, and tells parseIdx users to use it', async () => {
    const gz = new Uint8Array(gzipSync(U8_2X3));
    expect(data.isGzip(gz)).toBe(true);
    const idx = await data.parseIdxAsync(gz);
    expect(idx.shape).toEqual([2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 1, 2, 253, 254, 255]);
    expect((await data.parseIdxAsync(U8_2X3)).shape).toEqual([2, 3]);
    expect(() => data.parseIdx(gz)).toThrow('parseIdx: the bytes are gzip-compressed (help: use `await data.parseIdxAsync(bytes)`');
    await expect(data.parseIdxAsync(gz.subarray(0, gz.length - 6))).rejects.toThrow(SimdgradError);
  });

  it('rejects bad magic, unknown types, and truncated or overlong files', () => {
    expect(() => data.parseIdx(Uint8Array.of(1, 0, 8, 1))).toThrow('parseIdx: bad magic number');
    expect(() => data.parseIdx(Uint8Array.of(0, 0, 0x07, 1, 0, 0, 0, 0))).toThrow('parseIdx: unknown element type 0x07');
    expect(() => data.parseIdx(U8_2X3.subarray(0, 10))).toThrow('parseIdx: the file is truncated: 2 dims need a 12-byte header (got 10 bytes)');
    expect(() => data.parseIdx(U8_2X3.subarray(0, 17))).toThrow('parseIdx: shape [2,3] of uint8 needs 6 data bytes (got 5: the file is truncated)');
    expect(() => data.parseIdx(Uint8Array.of(...U8_2X3, 9))).toThrow('longer than its dims');
    expect(() => data.parseIdx(Uint8Array.of(0, 0))).toThrow('too short');
  });

  it('idxToTensor scales to float32 or keeps int32 labels', () => {
    const idx = data.parseIdx(U8_2X3);
    const x = data.idxToTensor(idx, { scale: 1 / 255 });
    expect(x.shape).toEqual([2, 3]);
    expect(x.toFloat32Array()[5]).toBeCloseTo(1, 6);
    const y = data.idxToTensor(idx, { dtype: 'int32' });
    expect(y.dtype).toBe('int32');
    expect(y.toArray()).toEqual([[0, 1, 2], [253, 254, 255]]);
  });
});
