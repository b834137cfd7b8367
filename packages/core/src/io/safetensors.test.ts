import { beforeAll, describe, expect, it } from 'vitest';
import { Generator, SimdgradError, init, io, liveTensorCount, tensor, zeros, type Tensor } from '../index.js';

beforeAll(async () => {
  await init();
});

/** A safetensors file from a header (object or raw JSON text) and data bytes, padded like the spec allows. */
function build(header: object | string, data: ArrayLike<number> = [], pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) while (json.length % 8 !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function le(arr: Float32Array | Int32Array | Float64Array | BigInt64Array | Uint16Array): number[] {
  return Array.from(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
}

describe('io.save', () => {
  it('writes the layout of the spec, byte for byte', () => {
    // written by hand from https://github.com/huggingface/safetensors#format:
    // u64 LE header size, the JSON header padded with spaces to a multiple of 8, then the data (LE)
    const header = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
      + '"b":{"dtype":"I32","shape":[],"data_offsets":[8,12]}}      '; // 138 bytes + 6 spaces = 144
    const expected = Uint8Array.from([
      0x90, 0, 0, 0, 0, 0, 0, 0, // 144
      ...Array.from(header, (c) => c.charCodeAt(0)),
      0x00, 0x00, 0x80, 0x3f, // 1.0f
      0x00, 0x00, 0x00, 0xc0, // -2.0f
      0x07, 0x00, 0x00, 0x00, // 7
    ]);
    const bytes = io.save({ a: tensor([1, -2]), b: tensor(7, { dtype: 'int32' }) }, { format: 'pt' });
    expect(Array.from(bytes)).toEqual(Array.from(expected));
    const { tensors, metadata } = io.load(expected);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.a!.toArray()).toEqual([1, -2]);
    expect(tensors.b!.dtype).toBe('int32');
    expect(tensors.b!.shape).toEqual([]);
    expect(tensors.b!.item()).toBe(7);
  });

  it('pads every header to 8 bytes and lays tensors out in order without gaps', () => {
    for (let n = 1; n <= 9; n++) {
      const bytes = io.save({ ['x'.repeat(n)]: zeros([n]) });
      const headerLen = new DataView(bytes.buffer).getUint32(0, true);
      expect(headerLen % 8).toBe(0);
      expect(bytes.length).toBe(8 + headerLen + 4 * n);
    }
    const bytes = io.save({ w: zeros([2, 3]), b: zeros([3]), e: zeros([0, 4]), s: tensor(1) });
    const headerLen = new DataView(bytes.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    expect(Object.keys(header)).toEqual(['w', 'b', 'e', 's']);
    expect(header.w.data_offsets).toEqual([0, 24]);
    expect(header.b.data_offsets).toEqual([24, 36]);
    expect(header.e).toEqual({ dtype: 'F32', shape: [0, 4], data_offsets: [36, 36] });
    expect(header.s).toEqual({ dtype: 'F32', shape: [], data_offsets: [36, 40] });
    expect(header.__metadata__).toBeUndefined();
  });

  it('rejects what safetensors cannot hold', () => {
    expect(() => io.save({ w: [1, 2] as unknown as Tensor })).toThrow('save: tensors["w"] is not a Tensor');
    expect(() => io.save({ __metadata__: zeros([1]) })).toThrow('save: "__metadata__" cannot be a tensor name');
    expect(() => io.save({ w: zeros([1]) }, { epochs: 3 as unknown as string })).toThrow('save: metadata values must be strings (metadata["epochs"] is number)');
    expect(() => io.save(zeros([1]) as never)).toThrow('save: tensors must be an object');
  });
});

describe('io.load round trip', () => {
  it('float32 and int32, metadata, empty and 0-d tensors, non-contiguous input', () => {
    const g = new Generator(3);
    const w = tensor(Float32Array.from({ length: 12 }, () => g.normal()), { shape: [3, 4] });
    const idx = tensor(Int32Array.of(-5, 0, 2147483647, -2147483648), { dtype: 'int32' });
    const wt = w.t(); // saved as its contiguous copy
    const input: Record<string, Tensor> = {
      'fc.weight': w, 'fc.index': idx, empty: zeros([0, 3]), scalar: tensor(-0.5), 'fc.weight.T': wt, nan: tensor([NaN, Infinity]),
    };
    const meta = { arch: 'mlp 4-3', 'note ü': 'unicode ✓ "quoted"' };
    const before = liveTensorCount();
    const bytes = io.save(input, meta);
    expect(liveTensorCount()).toBe(before);
    const { tensors, metadata } = io.load(bytes);
    expect(metadata).toEqual(meta);
    expect(Object.keys(tensors)).toEqual(Object.keys(input));
    for (const [name, t] of Object.entries(input)) {
      const u = tensors[name]!;
      expect(u.shape).toEqual(t.shape);
      expect(u.dtype).toBe(t.dtype);
      expect(t.dtype === 'int32' ? u.toInt32Array() : u.toFloat32Array()).toEqual(t.dtype === 'int32' ? t.toInt32Array() : t.toFloat32Array());
    }
    expect(io.load(bytes.buffer as ArrayBuffer).tensors.scalar!.item()).toBe(-0.5);
    // an empty file: no tensors
    expect(io.load(io.save({}))).toEqual({ tensors: {}, metadata: {} });
  });

  it('loads from a Uint8Array at an odd offset inside a larger buffer', () => {
    const bytes = io.save({ a: tensor([1, 2, 3]) });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 1);
    expect(io.load(big.subarray(1, 1 + bytes.length)).tensors.a!.toArray()).toEqual([1, 2, 3]);
  });

  it('converts F64, F16, BF16 to float32 and I64, U8, BOOL to int32', () => {
    const f64 = le(Float64Array.of(1.5, -1e-3));
    const f16 = le(Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7c00)); // 1, -2, 2^-24, inf
    const bf16 = le(Uint16Array.of(0x3fc0, 0xc0a0)); // 1.5, -5
    const i64 = le(BigInt64Array.of(-3n, 2147483647n));
    const u8 = [255, 0];
    const bool = [1, 0, 2];
    let at = 0;
    const entry = (dtype: string, shape: number[], n: number) => ({ dtype, shape, data_offsets: [at, (at += n)] });
    const header = {
      f64: entry('F64', [2], 16), f16: entry('F16', [4], 8), bf16: entry('BF16', [2], 4),
      i64: entry('I64', [2], 16), u8: entry('U8', [2], 2), bool: entry('BOOL', [3], 3),
    };
    const { tensors } = io.load(build(header, [...f64, ...f16, ...bf16, ...i64, ...u8, ...bool]));
    expect(Array.from(tensors.f64!.toFloat32Array())).toEqual([1.5, Math.fround(-1e-3)]);
    expect(Array.from(tensors.f16!.toFloat32Array())).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(Array.from(tensors.bf16!.toFloat32Array())).toEqual([1.5, -5]);
    expect(tensors.i64!.dtype).toBe('int32');
    expect(Array.from(tensors.i64!.toInt32Array())).toEqual([-3, 2147483647]);
    expect(Array.from(tensors.u8!.toInt32Array())).toEqual([255, 0]);
    expect(Array.from(tensors.bool!.toInt32Array())).toEqual([1, 0, 1]);
    const big = le(BigInt64Array.of(2n ** 40n));
    expect(() => io.load(build({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big))).toThrow('load: tensor "t": I64 value 1099511627776 at element 0 does not fit in int32');
  });
});

describe('io.load rejects corrupt files', () => {
  const good = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const eight = [0, 0, 128, 63, 0, 0, 0, 64];
  const cases: [string, Uint8Array, string][] = [
    ['too short', Uint8Array.of(1, 2, 3), 'load: the file is too short for a safetensors header (3 bytes, need at least 8)'],
    ['header past the end', build(good, eight).subarray(0, 20), 'load: the file is truncated: the header needs'],
    ['absurd header size', Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 0, 123), 'over the 104857600-byte limit'],
    ['bad JSON', build('{"a": {', []), 'load: the header is not valid JSON'],
    ['not an object', build('[1, 2]   ', []), 'load: the header must be a JSON object starting with "{"'],
    ['bad UTF-8', (() => { const b = build('{"a\u00e9":1}', []); b[11] = 0xff; return b; })(), 'load: the header is not valid UTF-8'],
    ['unknown dtype', build({ a: { dtype: 'Q8', shape: [2], data_offsets: [0, 2] } }, [1, 2]), 'load: tensor "a": unsupported dtype "Q8"'],
    ['data truncated', build(good, eight.slice(0, 6)), 'load: tensor "a": data_offsets [0, 8] are out of range (the data section has 6 bytes'],
    ['size mismatch', build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, eight), 'load: tensor "a": shape [3] of F32 needs 12 bytes but data_offsets [0, 8] hold 8'],
    ['reversed offsets', build({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, eight), 'end before they begin'],
    ['negative offset', build({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } }, eight), 'data_offsets must be [begin, end] non-negative integers'],
    ['fractional shape', build({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, eight), 'shape must be an array of non-negative integers'],
    ['overlap', build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight), 'load: tensors "a" [0, 8] and "b" [4, 8] overlap'],
    ['hole', build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, eight), 'load: the data has a hole: bytes [0, 4) belong to no tensor'],
    ['trailing bytes', build(good, [...eight, 1, 2, 3, 4]), '4 trailing bytes belong to no tensor'],
    ['metadata not strings', build({ __metadata__: { epochs: 3 }, ...good }, eight), 'load: __metadata__["epochs"] must be a string (got 3)'],
    ['entry not an object', build({ a: 5 }, []), 'load: tensor "a": its header entry must be an object'],
  ];
  it.each(cases)('%s', (_, bytes, message) => {
    expect(() => io.load(bytes)).toThrow(SimdgradError);
    expect(() => io.load(bytes)).toThrow(message);
  });

  it('accepts an unpadded header (the padding is optional)', () => {
    expect(io.load(build(good, eight, false)).tensors.a!.toArray()).toEqual([1, 2]);
  });

  it('every truncation and many random byte flips give a SimdgradError or a valid load, never anything else', () => {
    const bytes = io.save({ w: tensor([[1, 2], [3, 4]]), i: tensor([5], { dtype: 'int32' }) }, { k: 'v' });
    const before = liveTensorCount();
    const tryLoad = (b: Uint8Array) => {
      try {
        for (const t of Object.values(io.load(b).tensors)) t.dispose();
      } catch (e) {
        expect(e).toBeInstanceOf(SimdgradError);
      }
    };
    for (let n = 0; n < bytes.length; n++) tryLoad(bytes.subarray(0, n));
    const g = new Generator(11);
    for (let k = 0; k < 2000; k++) {
      const b = bytes.slice();
      b[g.int(0, b.length)] = g.int(0, 256);
      tryLoad(b);
    }
    expect(liveTensorCount()).toBe(before);
  });
});
