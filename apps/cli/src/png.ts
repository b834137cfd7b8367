// A small PNG decoder over node:zlib: 8- and 16-bit grayscale, RGB, palette and alpha images,
// non-interlaced, decoded to grayscale in [0, 255]. The encoder (for tests and sample images) is the
// core's explain.encodePng.
// see: https://www.w3.org/TR/png-3/ (chunks, filters §7.3, Paeth predictor).
import { inflateSync } from 'node:zlib';
import { explain } from '@simdgrad/core';
import { CliError } from './errors.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export interface GrayImage {
  width: number;
  height: number;
  /** Row-major luminance, 0…255. */
  pixels: Float32Array;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Decodes a PNG to grayscale (ITU-R BT.601 luma; transparent pixels are composited on black). */
export function decodePng(bytes: Uint8Array, name = 'image'): GrayImage {
  if (!isPng(bytes)) throw new CliError(`${name} is not a PNG file (bad signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let width = 0, height = 0, depth = 0, colorType = -1, interlace = 0;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  while (pos + 8 <= bytes.length) {
    const len = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    if (body.length !== len) throw new CliError(`${name}: truncated PNG (${type} chunk)`);
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      depth = body[8]!;
      colorType = body[9]!;
      interlace = body[12]!;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const channels = CHANNELS[colorType];
  if (channels === undefined || width === 0 || height === 0) throw new CliError(`${name}: not a valid PNG (no or bad IHDR)`);
  if (depth !== 8 && depth !== 16) throw new CliError(`${name}: PNG bit depth ${depth} is not supported (help: save it as an 8-bit PNG)`);
  if (interlace !== 0) throw new CliError(`${name}: interlaced PNGs are not supported (help: save it without interlacing)`);
  if (colorType === 3 && palette === null) throw new CliError(`${name}: palette PNG without a PLTE chunk`);
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new CliError(`${name}: corrupt PNG image data (${(e as Error).message})`);
  }
  const bpp = (channels * depth) / 8;
  const stride = width * bpp;
  if (raw.length < height * (stride + 1)) throw new CliError(`${name}: truncated PNG image data`);
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const pixels = new Float32Array(width * height);
  const max = depth === 16 ? 65535 : 255;
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let p: number;
      switch (filter) {
        case 0: p = 0; break;
        case 1: p = a; break;
        case 2: p = b; break;
        case 3: p = (a + b) >> 1; break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new CliError(`${name}: bad PNG filter type ${filter} on row ${y}`);
      }
      cur[i] = (line[i]! + p) & 255;
    }
    for (let x = 0; x < width; x++) {
      const sample = (ch: number) => (depth === 16 ? (cur[(x * channels + ch) * 2]! << 8) | cur[(x * channels + ch) * 2 + 1]! : cur[x * channels + ch]!) / max;
      let gray: number, alpha = 1;
      if (colorType === 3) {
        const k = cur[x]! * 3;
        gray = (0.299 * palette![k]! + 0.587 * palette![k + 1]! + 0.114 * palette![k + 2]!) / 255;
      } else if (colorType === 0 || colorType === 4) {
        gray = sample(0);
        if (colorType === 4) alpha = sample(1);
      } else {
        gray = 0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2);
        if (colorType === 6) alpha = sample(3);
      }
      pixels[y * width + x] = gray * alpha * 255;
    }
    prev.set(cur);
  }
  return { width, height, pixels };
}

/** Resizes by area averaging (downscale) or bilinear-free nearest sampling (upscale). */
export function resizeGray(img: GrayImage, width: number, height: number): GrayImage {
  if (img.width === width && img.height === height) return img;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const ya = (y * img.height) / height, yb = ((y + 1) * img.height) / height;
    for (let x = 0; x < width; x++) {
      const xa = (x * img.width) / width, xb = ((x + 1) * img.width) / width;
      let sum = 0, weight = 0;
      for (let sy = Math.floor(ya); sy < Math.min(img.height, Math.ceil(yb)); sy++) {
        const wy = Math.min(yb, sy + 1) - Math.max(ya, sy);
        for (let sx = Math.floor(xa); sx < Math.min(img.width, Math.ceil(xb)); sx++) {
          const w = wy * (Math.min(xb, sx + 1) - Math.max(xa, sx));
          sum += w * img.pixels[sy * img.width + sx]!;
          weight += w;
        }
      }
      out[y * width + x] = weight > 0 ? sum / weight : 0;
    }
  }
  return { width, height, pixels: out };
}

/** Encodes 8-bit grayscale pixels (0…255, rounded and clamped) as a PNG, with the core's encoder. */
export function encodeGrayPng(width: number, height: number, pixels: ArrayLike<number>): Uint8Array {
  const bytes = Uint8Array.from({ length: width * height }, (_, i) => Math.max(0, Math.min(255, Math.round(pixels[i]!))));
  return explain.encodePng(bytes, width, height, 1);
}
