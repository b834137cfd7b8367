// Heat maps as PNG bytes, in platform-neutral code (no fs, no zlib): the image data goes into stored
// (uncompressed) deflate blocks, which every PNG decoder reads. Write the bytes with the node entry's
// saveFile, or wrap them in a Blob in a browser.
// see: the PNG specification (ISO/IEC 15948), §5 (chunks, CRC-32) and RFC 1950/1951 (zlib, stored blocks).
import { SimdgradError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the PNG/zip polynomial) of bytes. */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function adler32(bytes: Uint8Array): number {
  let a = 1, b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** A zlib stream of stored deflate blocks (≤ 65535 bytes each). */
function zlibStored(data: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(data.length / 65535));
  const out = new Uint8Array(2 + data.length + blocks * 5 + 4);
  out[0] = 0x78; out[1] = 0x01; // deflate, 32K window, no dictionary, fastest (header check: 0x7801 % 31 == 0)
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535, len = Math.min(65535, data.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE = 00 (stored)
    out[o++] = len & 0xff; out[o++] = len >>> 8;
    out[o++] = ~len & 0xff; out[o++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), o);
    o += len;
  }
  const ad = adler32(data);
  out[o++] = ad >>> 24; out[o++] = (ad >>> 16) & 0xff; out[o++] = (ad >>> 8) & 0xff; out[o++] = ad & 0xff;
  return out;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes 8-bit pixels (row-major; 1 = gray, 3 = RGB, 4 = RGBA channels) as a PNG file.
 *
 * @example
 * ```ts
 * const bytes = explain.encodePng(new Uint8Array([255, 0, 0, 255]), 1, 1, 4); // one red pixel
 * ```
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3 | 4 = 4): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new SimdgradError(`encodePng: width and height must be integers ≥ 1 (got ${width}×${height})`);
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) throw new SimdgradError(`encodePng: channels must be 1, 3 or 4 (got ${channels})`);
  if (pixels.length !== width * height * channels) {
    throw new SimdgradError(`encodePng: expected ${width * height * channels} bytes for ${width}×${height}×${channels} (got ${pixels.length})`);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : channels === 3 ? 2 : 6; // colour type: gray, RGB, RGBA
  // compression 0, filter 0, interlace 0
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter byte 0
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlibStored(raw)), chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Colour maps for heat maps: 'heat' (black → red → yellow → white) for magnitudes, 'diverging'
 * (blue → white → red) for signed attributions, 'gray'. */
export type Colormap = 'heat' | 'diverging' | 'gray';

const STOPS: Record<Colormap, [number, number, number][]> = {
  heat: [[0, 0, 0], [128, 0, 0], [230, 40, 0], [255, 160, 0], [255, 240, 80], [255, 255, 255]],
  diverging: [[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130], [178, 24, 43]],
  gray: [[0, 0, 0], [255, 255, 255]],
};

/** The colour of t ∈ [0, 1] in a colour map. */
export function colorAt(map: Colormap, t: number): [number, number, number] {
  const stops = STOPS[map];
  if (stops === undefined) throw new SimdgradError(`heatmap: colormap must be heat, diverging or gray (got ${JSON.stringify(map)})`);
  const x = Math.min(Math.max(Number.isFinite(t) ? t : 0, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
  const a = stops[i]!, b = stops[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** Options of {@link heatmapPng}. */
export interface HeatmapOptions {
  /** Size of the map when the values are flat (e.g. [1, 784] attributions of a 28×28 image). */
  width?: number;
  height?: number;
  /** Default 'heat' (magnitudes); 'diverging' shows signed values around white. */
  colormap?: Colormap;
  /** A grayscale image in [0, 1] of the same size to draw under the map (e.g. the input). */
  image?: Tensor | ArrayLike<number>;
  /** Opacity of the map over the image (default 0.6). */
  alpha?: number;
  /** Integer upscaling factor (nearest neighbour), e.g. 10 for a 28×28 map → 280×280 (default 1). */
  scale?: number;
}

/** Values and size of a map: a tensor [H, W], [1, H, W], [1, 1, H, W] or [C, H, W] (channels summed), or flat with width/height. */
function mapOf(map: Tensor | ArrayLike<number>, options: HeatmapOptions): { values: Float32Array; width: number; height: number } {
  let values: Float32Array;
  let width = options.width, height = options.height;
  if (map instanceof Tensor) {
    map.assertAlive('heatmapPng');
    const dims = map.shape.filter((d, i) => d !== 1 || i >= map.ndim - 2);
    values = map.toFloat32Array();
    if (width === undefined && height === undefined && dims.length >= 2) {
      height = dims[dims.length - 2]!;
      width = dims[dims.length - 1]!;
      const planes = values.length / (width * height);
      if (planes > 1) { // sum the channels of [C, H, W]
        const summed = new Float32Array(width * height);
        for (let c = 0; c < planes; c++) for (let i = 0; i < summed.length; i++) summed[i]! += values[c * summed.length + i]!;
        values = summed;
      }
    }
  } else {
    values = Float32Array.from(map);
  }
  if (width === undefined || height === undefined) {
    const side = Math.round(Math.sqrt(values.length));
    if (side * side !== values.length) throw new SimdgradError(`heatmapPng: give width and height for a flat map of ${values.length} values`);
    width ??= side; height ??= side;
  }
  if (width * height !== values.length) {
    throw new SimdgradError(`heatmapPng: ${width}×${height} does not match the map's ${values.length} values${map instanceof Tensor ? ` (shape ${fmtShape(map.shape)})` : ''}`);
  }
  return { values, width, height };
}

/**
 * Renders a 2-D map (attributions, a saliency or Grad-CAM map) as an RGB PNG, optionally over a
 * grayscale image. Values are scaled by their largest magnitude; 'heat' shows |v|, 'diverging' v.
 *
 * @example
 * ```ts
 * const { attributions } = explain.integratedGradients(model, x, 3);
 * const png = explain.heatmapPng(attributions, { width: 28, height: 28, image: x, scale: 10 });
 * await saveFile('map.png', png); // from '@simdgrad/core/node'
 * ```
 */
export function heatmapPng(map: Tensor | ArrayLike<number>, options: HeatmapOptions = {}): Uint8Array {
  const { values, width, height } = mapOf(map, options);
  const colormap = options.colormap ?? 'heat';
  const alpha = options.alpha ?? 0.6;
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new SimdgradError(`heatmapPng: scale must be an integer ≥ 1 (got ${scale})`);
  if (!(alpha >= 0 && alpha <= 1)) throw new SimdgradError(`heatmapPng: alpha must be in [0, 1] (got ${alpha})`);
  let under: Float32Array | null = null;
  if (options.image !== undefined) {
    under = options.image instanceof Tensor ? options.image.toFloat32Array() : Float32Array.from(options.image);
    if (under.length !== values.length) throw new SimdgradError(`heatmapPng: the image has ${under.length} values, the map ${values.length}`);
    let lo = Infinity, hi = -Infinity;
    for (const v of under) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const span = hi - lo || 1;
    under = under.map((v) => (v - lo) / span);
  }
  let peak = 0;
  for (const v of values) if (Number.isFinite(v)) peak = Math.max(peak, Math.abs(v));
  peak ||= 1;
  const w = width * scale, h = height * scale;
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const t = colormap === 'diverging' ? 0.5 + 0.5 * values[i]! / peak : Math.abs(values[i]!) / peak;
      let c = colorAt(colormap, t);
      if (under !== null) {
        const g = 255 * under[i]!;
        c = c.map((v) => Math.round(alpha * v + (1 - alpha) * g)) as [number, number, number];
      }
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const o = ((y * scale + dy) * w + x * scale + dx) * 3;
          rgb[o] = c[0]; rgb[o + 1] = c[1]; rgb[o + 2] = c[2];
        }
      }
    }
  }
  return encodePng(rgb, w, h, 3);
}
