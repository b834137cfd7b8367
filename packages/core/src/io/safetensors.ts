// The safetensors file format (Hugging Face), as its README specifies:
//   8 bytes   N, the header size, an unsigned little-endian 64-bit integer
//   N bytes   a UTF-8 JSON object { name: { dtype, shape, data_offsets: [begin, end] }, …,
//             "__metadata__": { string: string } }, starting with '{', maybe padded with spaces
//   the rest  the byte buffer: each tensor's elements, little-endian, row-major; offsets are relative
//             to the start of the buffer, and the tensors cover it entirely, without holes or overlap.
// see: https://github.com/huggingface/safetensors#format
import type { DType } from '../backend/backend.js';
import { SimdgradError } from '../errors.js';
import { contiguous, empty, release } from '../ops/core.js';
import { Tensor } from '../tensor.js';

/** What `load` returns: the tensors by name, in file order, and the `__metadata__` strings. */
export interface Safetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Headers larger than this are refused (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** dtypes read from files: what they become, and how to read one element (little-endian). */
const READ: Record<string, { bytes: number; to: DType; get?: (v: DataView, at: number) => number }> = {
  F32: { bytes: 4, to: 'float32' },
  I32: { bytes: 4, to: 'int32' },
  F64: { bytes: 8, to: 'float32', get: (v, at) => v.getFloat64(at, true) },
  F16: { bytes: 2, to: 'float32', get: (v, at) => halfToFloat(v.getUint16(at, true)) },
  BF16: { bytes: 2, to: 'float32', get: (v, at) => bfloat16ToFloat(v.getUint16(at, true)) },
  I64: { bytes: 8, to: 'int32', get: (v, at) => Number(v.getBigInt64(at, true)) },
  U32: { bytes: 4, to: 'int32', get: (v, at) => v.getUint32(at, true) },
  I16: { bytes: 2, to: 'int32', get: (v, at) => v.getInt16(at, true) },
  U16: { bytes: 2, to: 'int32', get: (v, at) => v.getUint16(at, true) },
  I8: { bytes: 1, to: 'int32', get: (v, at) => v.getInt8(at) },
  U8: { bytes: 1, to: 'int32', get: (v, at) => v.getUint8(at) },
  BOOL: { bytes: 1, to: 'int32', get: (v, at) => (v.getUint8(at) !== 0 ? 1 : 0) },
};

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function bfloat16ToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0]!;
}

/**
 * Serialises tensors (float32 → F32, int32 → I32) and optional string metadata to safetensors bytes,
 * loadable by PyTorch (`safetensors.torch.load_file`). The header lists `__metadata__` first, then the
 * tensors in the object's key order (JavaScript puts integer-like keys such as "0" first), and the
 * data follows in that order without gaps; the header is padded with spaces to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * const bytes = io.save({ 'fc.weight': w, 'fc.bias': b }, { arch: 'linear 4→3' });
 * const { tensors, metadata } = io.load(bytes);
 * ```
 */
export function save(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  if (tensors === null || typeof tensors !== 'object' || tensors instanceof Tensor || Array.isArray(tensors)) {
    throw new SimdgradError('save: tensors must be an object of name → Tensor (help: io.save({ weight: w }))');
  }
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) throw new SimdgradError('save: metadata must be an object of string → string');
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SimdgradError(`save: metadata values must be strings (metadata["${k}"] is ${v === null ? 'null' : typeof v}) (help: JSON.stringify it)`);
    }
    header.__metadata__ = { ...metadata };
  }
  const entries = Object.entries(tensors);
  let end = 0;
  for (const [name, t] of entries) {
    if (name === '' || name === '__metadata__') throw new SimdgradError(`save: ${JSON.stringify(name)} cannot be a tensor name`);
    if (!(t instanceof Tensor)) throw new SimdgradError(`save: tensors["${name}"] is not a Tensor (got ${t === null ? 'null' : typeof t})`);
    t.assertAlive('save');
    const begin = end;
    end += t.size * 4;
    header[name] = { dtype: t.dtype === 'int32' ? 'I32' : 'F32', shape: [...t.shape], data_offsets: [begin, end] };
  }
  let json = JSON.stringify(header);
  let headerBytes = new TextEncoder().encode(json);
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    json += ' '.repeat(padded - headerBytes.length);
    headerBytes = new TextEncoder().encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + end);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes.length, true);
  view.setUint32(4, Math.floor(headerBytes.length / 2 ** 32), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    // NOTE: wasm memory is little-endian by definition, like the file, so the bytes copy as they are
    const c = contiguous(t);
    const bytes = c.size * 4;
    out.set(c.backend.heap.views().u8.subarray(c.ptr, c.ptr + bytes), at);
    release(c, t);
    at += bytes;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function fail(problem: string): never {
  throw new SimdgradError(`load: ${problem}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkEntry(name: string, info: unknown, dataBytes: number): Entry {
  if (!isPlainObject(info)) fail(`tensor "${name}": its header entry must be an object (got ${JSON.stringify(info)})`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== 'string') fail(`tensor "${name}": dtype must be a string (got ${JSON.stringify(dtype)})`);
  const type = READ[dtype];
  if (type === undefined) fail(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(READ).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    fail(`tensor "${name}": shape must be an array of non-negative integers (got ${JSON.stringify(shape)})`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor "${name}": data_offsets must be [begin, end] non-negative integers (got ${JSON.stringify(offsets)})`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor "${name}": data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataBytes) fail(`tensor "${name}": data_offsets [${begin}, ${end}] are out of range (the data section has ${dataBytes} bytes; the file may be truncated)`);
  let size = 1;
  for (const s of shape as number[]) size *= s;
  if (!Number.isSafeInteger(size * type.bytes) || size * type.bytes !== end - begin) {
    fail(`tensor "${name}": shape [${(shape as number[]).join(',')}] of ${dtype} needs ${size * type.bytes} bytes but data_offsets [${begin}, ${end}] hold ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * Reads safetensors bytes into tensors (F32 → float32, I32 → int32; F64, F16 and BF16 are converted
 * to float32, I64, U32, I16, U16, I8, U8 and BOOL to int32, refusing values out of int32 range).
 * Every offset and size is checked before anything is read, so a truncated or corrupt file gives a
 * clear error and never a read outside the buffer. The tensors are new; the caller disposes them.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = io.load(bytes);
 * tensors['fc.weight'].shape; // [3, 4]
 * ```
 */
export function load(bytes: Uint8Array | ArrayBuffer): Safetensors {
  if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
  if (!(bytes instanceof Uint8Array)) fail(`bytes must be a Uint8Array or ArrayBuffer (got ${bytes === null ? 'null' : typeof bytes})`);
  if (bytes.length < 8) fail(`the file is too short for a safetensors header (${bytes.length} bytes, need at least 8)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_BYTES) fail(`the header size ${n} is over the ${MAX_HEADER_BYTES}-byte limit (this is not a safetensors file, or it is corrupt)`);
  if (8 + n > bytes.length) fail(`the file is truncated: the header needs ${n} bytes after the first 8 but only ${bytes.length - 8} follow`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail(`the header must be a JSON object starting with "{" (it starts with ${JSON.stringify(text.slice(0, 16))})`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(header)) fail('the header must be a JSON object');

  const dataStart = 8 + n;
  const dataBytes = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(info)) fail(`__metadata__ must be an object of strings (got ${JSON.stringify(info)})`);
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') fail(`__metadata__["${k}"] must be a string (got ${JSON.stringify(v)})`);
        metadata[k] = v;
      }
    } else {
      entries.push(checkEntry(name, info, dataBytes));
    }
  }

  // the tensors must tile the data section exactly: no holes, no overlap, nothing after the last.
  // NOTE: JSON.parse keeps the last of duplicate keys (which the spec forbids); the bytes of the
  // dropped entry then form a hole, so such a file is rejected here too.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let prev: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < covered) fail(`tensors "${prev!.name}" [${prev!.begin}, ${prev!.end}] and "${e.name}" [${e.begin}, ${e.end}] overlap`);
    if (e.begin > covered) fail(`the data has a hole: bytes [${covered}, ${e.begin}) belong to no tensor (before "${e.name}")`);
    covered = e.end;
    prev = e;
  }
  if (covered !== dataBytes) fail(`the data section has ${dataBytes} bytes but the tensors cover ${covered} (${dataBytes - covered} trailing bytes belong to no tensor)`);

  // convert what needs converting before allocating, so a bad value leaks nothing
  const converted = new Map<string, Float32Array | Int32Array>();
  for (const e of entries) {
    const type = READ[e.dtype]!;
    if (type.get === undefined) continue;
    const count = (e.end - e.begin) / type.bytes;
    const out = type.to === 'int32' ? new Int32Array(count) : new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const v = type.get(view, dataStart + e.begin + i * type.bytes);
      if (type.to === 'int32' && (v < -2147483648 || v > 2147483647)) fail(`tensor "${e.name}": ${e.dtype} value ${v} at element ${i} does not fit in int32`);
      out[i] = v;
    }
    converted.set(e.name, out);
  }
  const tensors: Record<string, Tensor> = {};
  try {
    for (const e of entries) {
      const t = empty(e.shape, READ[e.dtype]!.to);
      tensors[e.name] = t;
      const u8 = t.backend.heap.views().u8;
      const conv = converted.get(e.name);
      if (conv === undefined) u8.set(bytes.subarray(dataStart + e.begin, dataStart + e.end), t.ptr);
      else u8.set(new Uint8Array(conv.buffer, conv.byteOffset, conv.byteLength), t.ptr);
    }
  } catch (err) {
    for (const t of Object.values(tensors)) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}
