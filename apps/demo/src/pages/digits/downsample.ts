// Turns a drawing into the 8×8 features of the UCI digits. Their preprocessing (NIST): each digit
// was normalised into a 32×32 bitmap, cut into non-overlapping 4×4 blocks, and the "on" pixels of
// each block counted, so every feature is an integer 0..16. We do the same with the drawing: crop
// to the ink, scale the larger side to 32 (keeping the aspect ratio, centred), threshold, count.
// see: https://archive.ics.uci.edu/dataset/80 (Optical Recognition of Handwritten Digits)

/**
 * `ink` holds width×height coverage values in [0, 1] (a canvas's alpha / 255, row-major).
 * Returns 64 row-major features in 0..16 (all zero for an empty drawing), and the 32×32 bitmap.
 */
export function toUciPixels(ink: ArrayLike<number>, width: number, height: number): { pixels: Float32Array; bitmap: Uint8Array } {
  const pixels = new Float32Array(64);
  const bitmap = new Uint8Array(32 * 32);
  // bounding box of the ink
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x]! > 0.1) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return { pixels, bitmap };
  // a square box around it, centred
  const side = Math.max(x1 - x0 + 1, y1 - y0 + 1);
  const left = (x0 + x1 + 1) / 2 - side / 2;
  const top = (y0 + y1 + 1) / 2 - side / 2;
  const cell = side / 32;
  // each of the 32×32 target pixels is "on" when at least half of its source area is inked
  // (averaged over a 4×4 set of sample points inside it)
  const SUB = 4;
  for (let r = 0; r < 32; r++) {
    for (let c = 0; c < 32; c++) {
      let sum = 0;
      for (let i = 0; i < SUB; i++) {
        for (let j = 0; j < SUB; j++) {
          const sx = Math.floor(left + (c + (j + 0.5) / SUB) * cell);
          const sy = Math.floor(top + (r + (i + 0.5) / SUB) * cell);
          if (sx >= 0 && sx < width && sy >= 0 && sy < height) sum += ink[sy * width + sx]!;
        }
      }
      bitmap[r * 32 + c] = sum / (SUB * SUB) >= 0.5 ? 1 : 0;
    }
  }
  for (let r = 0; r < 32; r++) {
    for (let c = 0; c < 32; c++) pixels[(r >> 2) * 8 + (c >> 2)]! += bitmap[r * 32 + c]!;
  }
  return { pixels, bitmap };
}
