// FNV-1a (32-bit) over bytes: the build script records it for each kernel build, and the Node loader
// checks a .wasm file it reads from disk against it before using the file.

/** The 32-bit FNV-1a hash of `bytes`. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}
