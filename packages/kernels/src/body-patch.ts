// One kernel build stored as the function bodies that differ from another build.
//
// The SIMD and relaxed-SIMD builds are the same program compiled twice: every section but the code
// section is byte for byte the same, and only the kernels that multiply-add (GEMM, conv, attention,
// a few elementwise ones) differ. A single-file bundle carries both builds, so the package embeds one
// build whole and the other as a patch of replaced function bodies (≈ 40% of a build), made at build
// time by scripts/build.mjs and applied here before compiling.
// see: WebAssembly core spec, binary format — 5.5.2 sections, 5.5.13 code section.

import { readU32, u32 } from './leb128.js';

/** "\0sgp": never the start of a wasm module ("\0asm"). */
const MAGIC = [0x00, 0x73, 0x67, 0x70];
const VERSION = 1;

/** Is `bytes` a body patch (rather than a whole module)? */
export function isBodyPatch(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && MAGIC.every((m, i) => bytes[i] === m);
}

interface CodeSection {
  /** offset of the section id byte, and of the first byte after the section */
  start: number;
  end: number;
  /** each function body including its size prefix, as [begin, end) offsets into the module */
  bodies: Array<[number, number]>;
}

function codeSection(module: Uint8Array): CodeSection {
  if (module.length < 8 || module[0] !== 0 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) throw new Error('kernels: not a WebAssembly module');
  let pos = 8;
  while (pos < module.length) {
    const id = module[pos]!;
    const [size, payload] = readU32(module, pos + 1, 'section size');
    const end = payload + size;
    if (end > module.length) throw new Error(`kernels: section ${id} at byte ${pos} runs past the module's end`);
    if (id === 10) {
      let [count, p] = readU32(module, payload, 'function count');
      const bodies: Array<[number, number]> = [];
      for (; count > 0; count--) {
        const [bodySize, bodyStart] = readU32(module, p, 'function body size');
        bodies.push([p, bodyStart + bodySize]);
        p = bodyStart + bodySize;
      }
      if (p !== end) throw new Error('kernels: the code section\'s bodies do not add up to its size');
      return { start: pos, end, bodies };
    }
    pos = end;
  }
  throw new Error('kernels: the module has no code section');
}

/**
 * A patch that turns `base` into `target`: the target's function bodies that differ from the base's.
 * Returns null when the two differ anywhere outside the code section or in their function count (then
 * the target has to be stored whole).
 */
export function makeBodyPatch(base: Uint8Array, target: Uint8Array): Uint8Array<ArrayBuffer> | null {
  const a = codeSection(base), b = codeSection(target);
  if (a.bodies.length !== b.bodies.length) return null;
  const same = (x: Uint8Array, y: Uint8Array) => x.length === y.length && x.every((v, i) => v === y[i]);
  if (!same(base.subarray(0, a.start), target.subarray(0, b.start)) || !same(base.subarray(a.end), target.subarray(b.end))) return null;
  const out: number[] = [...MAGIC, VERSION, ...u32(base.length)];
  const changed: number[] = [];
  for (let i = 0; i < a.bodies.length; i++) {
    if (!same(base.subarray(...a.bodies[i]!), target.subarray(...b.bodies[i]!))) changed.push(i);
  }
  out.push(...u32(changed.length));
  for (const i of changed) {
    out.push(...u32(i));
    for (const v of target.subarray(...b.bodies[i]!)) out.push(v);
  }
  return new Uint8Array(out);
}

/** Applies a patch made by {@link makeBodyPatch} to the base build it was made from. */
export function applyBodyPatch(base: Uint8Array, patch: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!isBodyPatch(patch)) throw new Error('kernels: not a kernel body patch');
  if (patch[4] !== VERSION) throw new Error(`kernels: body patch version ${patch[4]} (expected ${VERSION})`);
  let [baseLength, p] = readU32(patch, 5, 'base length');
  if (baseLength !== base.length) {
    throw new Error(`kernels: the body patch was made for a ${baseLength}-byte base build, not this ${base.length}-byte one (rebuild @simdgrad/kernels)`);
  }
  const code = codeSection(base);
  const replaced = new Map<number, [number, number]>();
  let count: number;
  [count, p] = readU32(patch, p, 'patch count');
  for (; count > 0; count--) {
    let index: number, size: number, bodyStart: number;
    [index, p] = readU32(patch, p, 'function index');
    if (index >= code.bodies.length) throw new Error(`kernels: the body patch replaces function ${index}, but the base has ${code.bodies.length}`);
    [size, bodyStart] = readU32(patch, p, 'function body size');
    if (bodyStart + size > patch.length) throw new Error(`kernels: the body patch is truncated in function ${index}`);
    replaced.set(index, [p, bodyStart + size]);
    p = bodyStart + size;
  }
  if (p !== patch.length) throw new Error(`kernels: ${patch.length - p} stray bytes after the body patch`);
  // the new code section: function count, then each body from the base or the patch
  const parts: Uint8Array[] = [new Uint8Array(u32(code.bodies.length))];
  code.bodies.forEach((range, i) => {
    const r = replaced.get(i);
    parts.push(r ? patch.subarray(r[0], r[1]) : base.subarray(range[0], range[1]));
  });
  const payload = parts.reduce((n, part) => n + part.length, 0);
  const header = new Uint8Array([10, ...u32(payload)]);
  const out = new Uint8Array(code.start + header.length + payload + (base.length - code.end));
  out.set(base.subarray(0, code.start), 0);
  let o = code.start;
  out.set(header, o); o += header.length;
  for (const part of parts) { out.set(part, o); o += part.length; }
  out.set(base.subarray(code.end), o);
  return out;
}
