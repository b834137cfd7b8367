// The IDX format of MNIST and Fashion-MNIST: a 4-byte magic (0, 0, element type, number of dims),
// the dims as big-endian u32, then the elements big-endian, row-major.
// see: http://yann.lecun.com/exdb/mnist/ ("THE IDX FILE FORMAT")
import type { DType } from '../backend/backend.js';
import { SimdgradError } from '../errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxData {
  shape: number[];
  dtype: IdxDType;
  /** The elements, row-major, in native byte order. */
  data: IdxArray;
}

const TYPES: Record<number, { dtype: IdxDType; bytes: number }> = {
  0x08: { dtype: 'uint8', bytes: 1 },
  0x09: { dtype: 'int8', bytes: 1 },
  0x0b: { dtype: 'int16', bytes: 2 },
  0x0c: { dtype: 'int32', bytes: 4 },
  0x0d: { dtype: 'float32', bytes: 4 },
  0x0e: { dtype: 'float64', bytes: 8 },
};

/** Whether the bytes start with the gzip magic (0x1f 0x8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Inflates gzip bytes with the platform's `DecompressionStream('gzip')` (browsers, Node ≥ 18, Deno, Bun).
 *
 * @example
 * ```ts
 * const raw = await data.gunzip(gzBytes);
 * ```
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new SimdgradError('gunzip: this runtime has no DecompressionStream (help: inflate the bytes yourself, e.g. with node:zlib gunzipSync, and call parseIdx)');
  }
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new SimdgradError(`gunzip: the gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}

/**
 * Parses an uncompressed IDX file. Synchronous; for `.gz` files use `parseIdxAsync`, which inflates
 * first. The whole file is checked: magic, element type, that the data fills exactly the dims.
 *
 * @example
 * ```ts
 * const labels = data.parseIdx(bytes); // { shape: [10000], dtype: 'uint8', data: Uint8Array }
 * ```
 */
export function parseIdx(bytes: Uint8Array): IdxData {
  if (!(bytes instanceof Uint8Array)) throw new SimdgradError(`parseIdx: bytes must be a Uint8Array (got ${bytes === null ? 'null' : typeof bytes})`);
  if (isGzip(bytes)) throw new SimdgradError('parseIdx: the bytes are gzip-compressed (help: use `await data.parseIdxAsync(bytes)`, which inflates them)');
  if (bytes.length < 4) throw new SimdgradError(`parseIdx: the file is too short for an IDX header (${bytes.length} bytes, need at least 4)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new SimdgradError(`parseIdx: bad magic number (the first two bytes are ${bytes[0]}, ${bytes[1]}; an IDX file starts with 0, 0)`);
  }
  const type = TYPES[bytes[2]!];
  if (type === undefined) throw new SimdgradError(`parseIdx: unknown element type 0x${bytes[2]!.toString(16).padStart(2, '0')} (known: 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64)`);
  const ndim = bytes[3]!;
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw new SimdgradError(`parseIdx: the file is truncated: ${ndim} dims need a ${headerBytes}-byte header (got ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let size = 1;
  for (let d = 0; d < ndim; d++) {
    const s = view.getUint32(4 + 4 * d, false);
    shape.push(s);
    size *= s;
  }
  const want = size * type.bytes;
  const have = bytes.length - headerBytes;
  if (have !== want) {
    throw new SimdgradError(`parseIdx: shape [${shape.join(',')}] of ${type.dtype} needs ${want} data bytes (got ${have}: the file is ${have < want ? 'truncated' : 'longer than its dims'})`);
  }
  let data: IdxArray;
  const src = bytes.subarray(headerBytes);
  switch (type.dtype) {
    // NOTE: new Uint8Array(src) copies; src.slice() would not when src is a Node Buffer
    case 'uint8': data = new Uint8Array(src); break;
    case 'int8': data = new Int8Array(new Uint8Array(src).buffer); break;
    case 'int16': data = Int16Array.from({ length: size }, (_, i) => view.getInt16(headerBytes + 2 * i, false)); break;
    case 'int32': data = Int32Array.from({ length: size }, (_, i) => view.getInt32(headerBytes + 4 * i, false)); break;
    case 'float32': data = Float32Array.from({ length: size }, (_, i) => view.getFloat32(headerBytes + 4 * i, false)); break;
    case 'float64': data = Float64Array.from({ length: size }, (_, i) => view.getFloat64(headerBytes + 8 * i, false)); break;
  }
  return { shape, dtype: type.dtype, data };
}

/**
 * Parses an IDX file, raw or gzip-compressed (detected by its magic bytes and inflated with
 * `DecompressionStream`). Async because inflating is.
 *
 * @example
 * ```ts
 * const images = await data.parseIdxAsync(new Uint8Array(await (await fetch(url)).arrayBuffer()));
 * images.shape; // [10000, 28, 28]
 * ```
 */
export async function parseIdxAsync(bytes: Uint8Array): Promise<IdxData> {
  if (!(bytes instanceof Uint8Array)) throw new SimdgradError(`parseIdxAsync: bytes must be a Uint8Array (got ${bytes === null ? 'null' : typeof bytes})`);
  return parseIdx(isGzip(bytes) ? await gunzip(bytes) : bytes);
}

/**
 * IDX data as a tensor of the same shape: float32 (default) with each value times `scale`
 * (e.g. 1/255 for pixels), or int32 (for labels).
 *
 * @example
 * ```ts
 * const x = data.idxToTensor(images, { scale: 1 / 255 }); // [N, 28, 28] in [0, 1]
 * const y = data.idxToTensor(labels, { dtype: 'int32' }); // [N]
 * ```
 */
export function idxToTensor(idx: IdxData, options: { dtype?: DType; scale?: number } = {}): Tensor {
  const { dtype = 'float32', scale = 1 } = options;
  if (dtype === 'int32') {
    if (scale !== 1) throw new SimdgradError('idxToTensor: scale applies to float32 only');
    if (idx.dtype === 'float32' || idx.dtype === 'float64') throw new SimdgradError(`idxToTensor: cannot make int32 from ${idx.dtype} data`);
    return tensor(Int32Array.from(idx.data), { shape: idx.shape, dtype: 'int32' });
  }
  if (dtype !== 'float32') throw new SimdgradError(`idxToTensor: dtype must be 'float32' or 'int32' (got ${JSON.stringify(dtype)})`);
  const out = new Float32Array(idx.data.length);
  for (let i = 0; i < out.length; i++) out[i] = idx.data[i]! * scale;
  return tensor(out, { shape: idx.shape });
}
