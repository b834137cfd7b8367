// The shared-memory variant of a kernel build, made by rewriting its memory import.
//
// The worker pool runs the kernels on one shared WebAssembly.Memory. A module may only import a shared
// memory if its import says so (limits flag 0x03, with a maximum), but the code of a build compiled
// with `--sharedMemory` is otherwise identical to the plain one (the kernels use no atomics), so
// instead of embedding two more builds we rewrite the one memory import.
// see: WebAssembly core spec, binary format — 5.5.5 import section, 5.3.8 limits.

import { readU32, u32 } from './leb128.js';

/** Pages a shared kernel memory may grow to (4 GiB): the most a 32-bit memory can have. */
export const SHARED_MAX_PAGES = 65536;

/** Skips a name (LEB length + bytes). */
function skipName(bytes: Uint8Array, at: number): number {
  const [n, next] = readU32(bytes, at);
  return next + n;
}

/** Skips limits: flag, min, and max when the flag has bit 0. */
function skipLimits(bytes: Uint8Array, at: number): number {
  const flag = bytes[at]!;
  let pos = readU32(bytes, at + 1)[1];
  if (flag & 1) pos = readU32(bytes, pos)[1];
  return pos;
}

/**
 * `bytes` with its imported memory turned into a shared one (flag 0x03, the same minimum, maximum
 * {@link SHARED_MAX_PAGES}). Throws when the module imports no memory or a 64-bit one.
 */
export function withSharedMemoryImport(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new Error('kernels: not a WebAssembly module');
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, payload] = readU32(bytes, pos + 1);
    const end = payload + size;
    if (id === 2) {
      let [count, p] = readU32(bytes, payload);
      for (; count > 0; count--) {
        p = skipName(bytes, skipName(bytes, p));
        const kind = bytes[p++]!;
        if (kind === 0x02) {
          const flag = bytes[p]!;
          if (flag > 0x03) throw new Error(`kernels: the memory import has limits flag ${flag} (64-bit or unknown), cannot make it shared`);
          const [min] = readU32(bytes, p + 1);
          const after = skipLimits(bytes, p);
          const limits = [0x03, ...u32(min), ...u32(SHARED_MAX_PAGES)];
          const newPayloadSize = size - (after - p) + limits.length;
          const sizeBytes = u32(newPayloadSize);
          const out = new Uint8Array(bytes.length - (payload - pos - 1) - (after - p) + sizeBytes.length + limits.length);
          let o = 0;
          out.set(bytes.subarray(0, pos + 1), o); o += pos + 1;
          out.set(sizeBytes, o); o += sizeBytes.length;
          out.set(bytes.subarray(payload, p), o); o += p - payload;
          out.set(limits, o); o += limits.length;
          out.set(bytes.subarray(after), o);
          return out;
        }
        if (kind === 0x00 || kind === 0x04) p = readU32(bytes, kind === 0x04 ? p + 1 : p)[1];
        else if (kind === 0x01) p = skipLimits(bytes, p + 1);
        else if (kind === 0x03) p += 2;
        else throw new Error(`kernels: unknown import kind ${kind}`);
      }
      break;
    }
    pos = end;
  }
  throw new Error('kernels: the module imports no memory');
}
