// Unsigned LEB128, the integer encoding of the WebAssembly binary format (shared by the two module
// rewriters: shared-memory.ts and body-patch.ts).
// see: WebAssembly core spec, binary format — 5.2.2 integers.

/** Reads a u32 at `at`; `what` names it in errors. Returns the value and the offset after it. */
export function readU32(bytes: Uint8Array, at: number, what = 'LEB128'): [value: number, next: number] {
  let value = 0, shift = 0, pos = at;
  for (;;) {
    if (pos >= bytes.length) throw new Error(`kernels: truncated ${what} at byte ${at}`);
    const b = bytes[pos++]!;
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, pos];
    shift += 7;
    if (shift > 28) throw new Error(`kernels: ${what} at byte ${at} is longer than a u32`);
  }
}

/** The bytes of `value` as a u32. */
export function u32(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}
