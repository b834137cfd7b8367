// 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2015): each 2×2 block of outputs of one output channel costs 16
// multiplies per input channel instead of 36. With U = G g Gᵀ (the 3×3 filter taken to 4×4), V = Bᵀ d B
// (a 4×4 input tile, tiles 2 apart) and Y = Aᵀ M A, the 16 elements ξ of the 4×4 tiles are independent:
// M_ξ [Cout, T] = U_ξ [Cout, Cin] · V_ξ [Cin, T] is a GEMM over all T tiles — run by matmul.ts's 4×8
// micro-kernel on the packed U_ξ, reading V_ξ in place.
//
// Both gradients are transposes of the same transform over the same tiles
// (conv3x3WinogradInputGradF32, conv3x3WinogradWeightGradF32).
//
// Layout: images are processed in chunks sized so that V and M (16·(Cin + Cout)·T floats) stay in L2.
// Each input plane is copied into a zero-bordered plane, then 4 horizontally adjacent tiles are
// transformed at once (their columns are 2 apart: two loads and even/odd shuffles give each tile
// column as one f32x4). The output transform takes 4 tiles of one output channel at a time and writes
// their 2×8 outputs with interleaving shuffles.

import { microTile4x8 } from './matmul';

// @ts-ignore: decorator
@inline const MR: i32 = 4;
// @ts-ignore: decorator
@inline const NR: i32 = 8;
/** V and M of one chunk of images, in floats (384 KiB: most of the 512 KiB L2). */
// @ts-ignore: decorator
@inline const CHUNK_FLOATS: i32 = 96 * 1024;

// @ts-ignore: decorator
@inline function roundUp(v: i32, m: i32): i32 {
  return (v + m - 1) / m * m;
}

/** Images per chunk: V and M of the chunk within CHUNK_FLOATS, at least 1. */
function chunkImages(N: i32, Cin: i32, Cout: i32, tilesPerImage: i32): i32 {
  const per = 16 * (Cin + Cout) * tilesPerImage;
  return max(1, min(N, CHUNK_FLOATS / max(per, 1)));
}

// @ts-ignore: decorator
@inline function align16(v: usize): usize {
  return (v + 15) & ~(<usize>15);
}

/** Bytes of scratch conv3x3WinogradF32 needs (same arguments). */
export function conv3x3WinogradScratchBytes(N: i32, Cin: i32, Cout: i32, outH: i32, outW: i32): usize {
  const tilesY = (outH + 1) >> 1, tilesX = (outW + 1) >> 1;
  const tpi = tilesY * tilesX;
  const nb = chunkImages(N, Cin, Cout, tpi);
  const tPad = <usize>roundUp(nb * tpi, NR);
  const oPad = <usize>roundUp(Cout, MR);
  const hp = <usize>(2 * tilesY + 2), wp = <usize>(2 * roundUp(tilesX, 4) + 4);
  return align16((16 * oPad * <usize>Cin) << 2) + align16((16 * <usize>Cin * tPad) << 2) +
    align16(((16 * <usize>Cout * tPad) << 2) + 16) + align16((hp * wp) << 2) + 128;
}

/**
 * y[n] (+)= conv3x3(x[n], w) + bias, stride 1, dilation 1, zero padding `pad` on every side, for n < N.
 * x: N images of Cin planes [H, W], `xImage` floats apart; y: N images of Cout planes [outH, outW] with
 * outH = H + 2·pad − 2, outW = W + 2·pad − 2, `yImage` floats apart (overwritten); w: [Cout, Cin, 3, 3];
 * bias: [Cout] or 0. scratch: 16-byte aligned, conv3x3WinogradScratchBytes bytes.
 */
export function conv3x3WinogradF32(y: usize, x: usize, w: usize, bias: usize, scratch: usize, N: i32, Cin: i32, H: i32,
  W: i32, Cout: i32, pad: i32, xImage: i32, yImage: i32): void {
  const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
  if (N <= 0 || Cout <= 0 || outH <= 0 || outW <= 0) return;
  const tilesY = (outH + 1) >> 1, tilesX = (outW + 1) >> 1;
  const tpi = tilesY * tilesX;
  const nb = chunkImages(N, Cin, Cout, tpi);
  const tPad = roundUp(nb * tpi, NR);
  const oPad = roundUp(Cout, MR);
  const hp = 2 * tilesY + 2, wp = 2 * roundUp(tilesX, 4) + 4;
  const up = scratch;
  const v = up + align16((16 * <usize>oPad * <usize>Cin) << 2);
  const m = v + align16((16 * <usize>Cin * <usize>tPad) << 2);
  const plane = m + align16(((16 * <usize>Cout * <usize>tPad) << 2) + 16);
  const tile = plane + align16((<usize>hp * <usize>wp) << 2);
  transformWeights(up, w, Cin, Cout, oPad, false, tile);
  memory.fill(plane, 0, (<usize>hp * <usize>wp) << 2); // the border stays zero; each plane rewrites the inside
  for (let n0 = 0; n0 < N; n0 += nb) {
    const images = min(nb, N - n0);
    // V_ξ[c, t] for every image of the chunk
    for (let i = 0; i < images; i++) {
      const xn = x + ((<usize>(n0 + i) * <usize>xImage) << 2);
      for (let c = 0; c < Cin; c++) {
        copyPadded(plane, xn + ((<usize>c * <usize>H * <usize>W) << 2), H, W, pad, wp);
        transformInput(v + ((<usize>c * <usize>tPad + <usize>(i * tpi)) << 2), plane, wp, tilesY, tilesX,
          (<usize>Cin * <usize>tPad) << 2);
      }
    }
    // M_ξ = U_ξ · V_ξ
    gemm16(m, up, oPad, v, Cout, Cin, tPad, tile);
    // y = Aᵀ M A (+ bias), image by image, channel by channel
    for (let i = 0; i < images; i++) {
      const yn = y + ((<usize>(n0 + i) * <usize>yImage) << 2);
      for (let o = 0; o < Cout; o++) {
        const b: f32 = bias != 0 ? load<f32>(bias + (<usize>o << 2)) : 0;
        transformOutput(yn + ((<usize>o * <usize>outH * <usize>outW) << 2),
          m + ((<usize>o * <usize>tPad + <usize>(i * tpi)) << 2), (<usize>Cout * <usize>tPad) << 2,
          tilesY, tilesX, outH, outW, b, tile);
      }
    }
  }
}

/**
 * The 16 GEMMs of a transform, c_ξ [rows, tPad] = u_ξ · b_ξ [depth, tPad] for ξ < 16: u holds each u_ξ
 * packed as 4-row slivers (rowsPad × depth floats apart), b and c each b_ξ / c_ξ row-major (depth resp.
 * rows × tPad floats apart; tPad a multiple of 8). A 4×8 tile at a time by matmul.ts's micro-kernel
 * reading b in place, the depth × 8 sliver of b_ξ staying in L1 across the rows.
 */
function gemm16(c: usize, u: usize, rowsPad: i32, b: usize, rows: i32, depth: i32, tPad: i32, tile: usize): void {
  const ld = <usize>tPad << 2;
  for (let xi = 0; xi < 16; xi++) {
    const uXi = u + ((<usize>xi * <usize>rowsPad * <usize>depth) << 2);
    const bXi = b + ((<usize>xi * <usize>depth * <usize>tPad) << 2);
    const cXi = c + ((<usize>xi * <usize>rows * <usize>tPad) << 2);
    for (let j = 0; j < tPad; j += NR) {
      let as = uXi;
      for (let r = 0; r < rows; r += MR) {
        microTile4x8(depth, as, bXi + (<usize>j << 2), ld, cXi + ((<usize>r * <usize>tPad + <usize>j) << 2), ld,
          min(MR, rows - r), NR, false, 0, 0, tile);
        as += <usize>depth << 4;
      }
    }
  }
}

/**
 * U_ξ = (G g Gᵀ)_ξ for every filter, packed for the micro-kernel: for each ξ, 4-row slivers of output
 * channels, [Cin][4] each (rows past Cout zero). swap: w is stored [Cin][Cout] (the filters of a
 * transposed problem). G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
 */
function transformWeights(up: usize, w: usize, Cin: i32, Cout: i32, oPad: i32, swap: bool, h: usize): void {
  const plane = <usize>oPad * <usize>Cin;
  for (let a = 0; a < oPad; a++) {
    for (let b = 0; b < Cin; b++) {
      const dst = up + ((<usize>(a >> 2) * <usize>Cin * 4 + <usize>b * 4 + <usize>(a & 3)) << 2);
      if (a >= Cout) {
        for (let xi = 0; xi < 16; xi++) store<f32>(dst + ((<usize>xi * plane) << 2), 0);
        continue;
      }
      // g[r][s]: the filter from output channel a to input channel b (stored [b][a] when swap)
      const g = swap ? w + ((<usize>b * <usize>Cout + <usize>a) * 36) : w + ((<usize>a * <usize>Cin + <usize>b) * 36);
      // h = G g (4×3), in the 128-byte scratch tile
      for (let s = 0; s < 3; s++) {
        const g0 = load<f32>(g + (<usize>s << 2)), g1 = load<f32>(g + (<usize>(3 + s) << 2)), g2 = load<f32>(g + (<usize>(6 + s) << 2));
        store<f32>(h + (<usize>s << 2), g0);
        store<f32>(h + (<usize>(3 + s) << 2), (g0 + g1 + g2) * 0.5);
        store<f32>(h + (<usize>(6 + s) << 2), (g0 - g1 + g2) * 0.5);
        store<f32>(h + (<usize>(9 + s) << 2), g2);
      }
      // U = h Gᵀ (4×4)
      for (let r = 0; r < 4; r++) {
        const h0 = load<f32>(h + (<usize>(3 * r) << 2)), h1 = load<f32>(h + (<usize>(3 * r + 1) << 2)), h2 = load<f32>(h + (<usize>(3 * r + 2) << 2));
        const base = dst + ((<usize>(4 * r) * plane) << 2);
        store<f32>(base, h0);
        store<f32>(base + (plane << 2), (h0 + h1 + h2) * 0.5);
        store<f32>(base + ((2 * plane) << 2), (h0 - h1 + h2) * 0.5);
        store<f32>(base + ((3 * plane) << 2), h2);
      }
    }
  }
}

/** Copies an H×W plane into the inside of the zero-bordered plane (rows wp floats apart) at (pad, pad). */
function copyPadded(plane: usize, src: usize, H: i32, W: i32, pad: i32, wp: i32): void {
  const rowBytes = <usize>W << 2;
  let d = plane + ((<usize>pad * <usize>wp + <usize>pad) << 2);
  let s = src;
  for (let r = 0; r < H; r++) {
    memory.copy(d, s, rowBytes);
    d += <usize>wp << 2;
    s += rowBytes;
  }
}

/**
 * V for the tiles of one padded plane: tile (ty, tx) covers rows 2ty…2ty+3 and columns 2tx…2tx+3;
 * element ξ of tile t goes to v + ξ·xiStride + 4t. Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]].
 */
function transformInput(v: usize, plane: usize, wp: i32, tilesY: i32, tilesX: i32, xiStride: usize): void {
  const rowBytes = <usize>wp << 2;
  let t = v;
  for (let ty = 0; ty < tilesY; ty++) {
    const r0 = plane + <usize>(2 * ty) * rowBytes;
    for (let tx = 0; tx < tilesX; tx += 4) {
      const p = r0 + (<usize>(2 * tx) << 2);
      // d_rj: column j of row r of the 4 tiles (columns 2 apart)
      let a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 8), d = v128.load(p, 24);
      const d00 = i32x4.shuffle(a, b, 0, 2, 4, 6), d01 = i32x4.shuffle(a, b, 1, 3, 5, 7);
      const d02 = i32x4.shuffle(c, d, 0, 2, 4, 6), d03 = i32x4.shuffle(c, d, 1, 3, 5, 7);
      a = v128.load(p + rowBytes); b = v128.load(p + rowBytes, 16); c = v128.load(p + rowBytes, 8); d = v128.load(p + rowBytes, 24);
      const d10 = i32x4.shuffle(a, b, 0, 2, 4, 6), d11 = i32x4.shuffle(a, b, 1, 3, 5, 7);
      const d12 = i32x4.shuffle(c, d, 0, 2, 4, 6), d13 = i32x4.shuffle(c, d, 1, 3, 5, 7);
      const p2 = p + 2 * rowBytes;
      a = v128.load(p2); b = v128.load(p2, 16); c = v128.load(p2, 8); d = v128.load(p2, 24);
      const d20 = i32x4.shuffle(a, b, 0, 2, 4, 6), d21 = i32x4.shuffle(a, b, 1, 3, 5, 7);
      const d22 = i32x4.shuffle(c, d, 0, 2, 4, 6), d23 = i32x4.shuffle(c, d, 1, 3, 5, 7);
      const p3 = p + 3 * rowBytes;
      a = v128.load(p3); b = v128.load(p3, 16); c = v128.load(p3, 8); d = v128.load(p3, 24);
      const d30 = i32x4.shuffle(a, b, 0, 2, 4, 6), d31 = i32x4.shuffle(a, b, 1, 3, 5, 7);
      const d32 = i32x4.shuffle(c, d, 0, 2, 4, 6), d33 = i32x4.shuffle(c, d, 1, 3, 5, 7);
      // rows: Bᵀ d
      const e00 = f32x4.sub(d00, d20), e01 = f32x4.sub(d01, d21), e02 = f32x4.sub(d02, d22), e03 = f32x4.sub(d03, d23);
      const e10 = f32x4.add(d10, d20), e11 = f32x4.add(d11, d21), e12 = f32x4.add(d12, d22), e13 = f32x4.add(d13, d23);
      const e20 = f32x4.sub(d20, d10), e21 = f32x4.sub(d21, d11), e22 = f32x4.sub(d22, d12), e23 = f32x4.sub(d23, d13);
      const e30 = f32x4.sub(d10, d30), e31 = f32x4.sub(d11, d31), e32 = f32x4.sub(d12, d32), e33 = f32x4.sub(d13, d33);
      // columns: (Bᵀ d) B, stored as ξ = 4·row + column
      const count = min(4, tilesX - tx);
      storeTiles(t, 0 * xiStride, f32x4.sub(e00, e02), count);
      storeTiles(t, 1 * xiStride, f32x4.add(e01, e02), count);
      storeTiles(t, 2 * xiStride, f32x4.sub(e02, e01), count);
      storeTiles(t, 3 * xiStride, f32x4.sub(e01, e03), count);
      storeTiles(t, 4 * xiStride, f32x4.sub(e10, e12), count);
      storeTiles(t, 5 * xiStride, f32x4.add(e11, e12), count);
      storeTiles(t, 6 * xiStride, f32x4.sub(e12, e11), count);
      storeTiles(t, 7 * xiStride, f32x4.sub(e11, e13), count);
      storeTiles(t, 8 * xiStride, f32x4.sub(e20, e22), count);
      storeTiles(t, 9 * xiStride, f32x4.add(e21, e22), count);
      storeTiles(t, 10 * xiStride, f32x4.sub(e22, e21), count);
      storeTiles(t, 11 * xiStride, f32x4.sub(e21, e23), count);
      storeTiles(t, 12 * xiStride, f32x4.sub(e30, e32), count);
      storeTiles(t, 13 * xiStride, f32x4.add(e31, e32), count);
      storeTiles(t, 14 * xiStride, f32x4.sub(e32, e31), count);
      storeTiles(t, 15 * xiStride, f32x4.sub(e31, e33), count);
      t += <usize>count << 2;
    }
  }
}

/** Stores the first `count` lanes of `val` at base + offset (all 4 at once when count is 4). */
// @ts-ignore: decorator
@inline function storeTiles(base: usize, offset: usize, val: v128, count: i32): void {
  const at = base + offset;
  if (count == 4) {
    v128.store(at, val);
  } else {
    store<f32>(at, f32x4.extract_lane(val, 0));
    if (count > 1) store<f32>(at, f32x4.extract_lane(val, 1), 4);
    if (count > 2) store<f32>(at, f32x4.extract_lane(val, 2), 8);
  }
}

/**
 * One output plane from M (tile t's element ξ at m + ξ·xiStride + 4t, tiles of this image row by row):
 * Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]], 4 tiles at a time; + b.
 */
function transformOutput(out: usize, m: usize, xiStride: usize, tilesY: i32, tilesX: i32, outH: i32, outW: i32, b: f32,
  scratch: usize): void {
  const bv = f32x4.splat(b);
  const rowBytes = <usize>outW << 2;
  let t = m;
  for (let ty = 0; ty < tilesY; ty++) {
    const row0 = out + <usize>(2 * ty) * rowBytes;
    const second = 2 * ty + 1 < outH;
    for (let tx = 0; tx < tilesX; tx += 4) {
      const count = min(4, tilesX - tx);
      // s_ij = (Aᵀ M)_ij for the 4 tiles (loads past the last tile read other tiles or M's slack)
      const m00 = v128.load(t), m01 = v128.load(t + xiStride), m02 = v128.load(t + 2 * xiStride), m03 = v128.load(t + 3 * xiStride);
      const m10 = v128.load(t + 4 * xiStride), m11 = v128.load(t + 5 * xiStride), m12 = v128.load(t + 6 * xiStride), m13 = v128.load(t + 7 * xiStride);
      const m20 = v128.load(t + 8 * xiStride), m21 = v128.load(t + 9 * xiStride), m22 = v128.load(t + 10 * xiStride), m23 = v128.load(t + 11 * xiStride);
      const m30 = v128.load(t + 12 * xiStride), m31 = v128.load(t + 13 * xiStride), m32 = v128.load(t + 14 * xiStride), m33 = v128.load(t + 15 * xiStride);
      const s00 = f32x4.add(f32x4.add(m00, m10), m20), s01 = f32x4.add(f32x4.add(m01, m11), m21);
      const s02 = f32x4.add(f32x4.add(m02, m12), m22), s03 = f32x4.add(f32x4.add(m03, m13), m23);
      const s10 = f32x4.sub(f32x4.sub(m10, m20), m30), s11 = f32x4.sub(f32x4.sub(m11, m21), m31);
      const s12 = f32x4.sub(f32x4.sub(m12, m22), m32), s13 = f32x4.sub(f32x4.sub(m13, m23), m33);
      const y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), bv);
      const y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), bv);
      const y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), bv);
      const y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), bv);
      // output row 2ty: y00[0] y01[0] y00[1] y01[1] …; row 2ty + 1 from y10, y11
      const a0 = i32x4.shuffle(y00, y01, 0, 4, 1, 5), a1 = i32x4.shuffle(y00, y01, 2, 6, 3, 7);
      const b0 = i32x4.shuffle(y10, y11, 0, 4, 1, 5), b1 = i32x4.shuffle(y10, y11, 2, 6, 3, 7);
      const col = 2 * tx;
      const p = row0 + (<usize>col << 2);
      if (count == 4 && col + 8 <= outW && second) {
        v128.store(p, a0);
        v128.store(p, a1, 16);
        v128.store(p + rowBytes, b0);
        v128.store(p + rowBytes, b1, 16);
      } else {
        v128.store(scratch, a0);
        v128.store(scratch, a1, 16);
        v128.store(scratch, b0, 32);
        v128.store(scratch, b1, 48);
        const cols = min(2 * count, outW - col);
        const rows: i32 = second ? 2 : 1;
        for (let r = 0; r < rows; r++) {
          const dst = p + <usize>r * rowBytes;
          const src = scratch + (<usize>r << 5);
          for (let k = 0; k < cols; k++) {
            store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>k << 2)));
          }
        }
      }
      t += <usize>count << 2;
    }
  }
}

// ------------------------------------------------------------------------------- weight gradient
//
// The weight gradient of the same transform, by transposing it: with dM = A dY Aᵀ for each 2×2 block of
// gy (A = [[1, 0], [1, 1], [1, −1], [0, −1]]), dU_ξ [Cout, Cin] = Σ_t dM_ξ[o, t] · V_ξ[c, t] — a GEMM
// whose depth is the number of tiles (long, the micro-kernel's best case) — and gw = Gᵀ dU G.
// Both operands are needed tile-major with channels contiguous (dM as packed 4-row slivers of output
// channels, [o/4][t][4]; V as [t][c], rows of Cin rounded up to 8), so here the transforms run on 4
// channels at once: the planes of 4 channels are first interleaved ([row][column][4], 4× fewer floats
// to move than the transformed tiles), then each tile's 16 loads are whole f32x4 and its 16 results
// are stored as they are.

/**
 * The weight gradient's chunks of images do not depend on Cout, so that a split of the output channels
 * over threads sums every dU in the same order as one thread does (the same bits).
 */
// @ts-ignore: decorator
@inline const WG_NOMINAL_COUT: i32 = 32;

/** Bytes of scratch conv3x3WinogradWeightGradF32 needs (N images, Cin → Cout channels, outH × outW outputs). */
export function conv3x3WinogradWeightGradScratchBytes(N: i32, Cin: i32, Cout: i32, outH: i32, outW: i32): usize {
  const tilesY = (outH + 1) >> 1, tilesX = (outW + 1) >> 1;
  const tpi = tilesY * tilesX;
  const c8 = <usize>roundUp(Cin, NR), oPad = <usize>roundUp(Cout, MR);
  const nb = chunkImages(N, <i32>c8, WG_NOMINAL_COUT, tpi);
  const t = <usize>(nb * tpi);
  const hp = <usize>(2 * tilesY + 2), wp = <usize>(2 * tilesX + 2);
  return align16((16 * oPad * c8) << 2) + align16((16 * t * c8) << 2) + align16((16 * oPad * t) << 2) +
    ((hp * wp) << 4) + ((<usize>(4 * tilesY * tilesX)) << 4) + 128;
}

/**
 * gw [Cout, Cin, 3, 3] = the weight gradient of conv3x3WinogradF32 for N images: Σ over
 * images and outputs of gy[n, o, i, j] · x[n, c, i + r − pad, j + s − pad] (overwrites gw). x: N images
 * of Cin planes [H, W], `xImage` floats apart; gy: N images of Cout planes [outH, outW], `gyImage` floats
 * apart, outH = H + 2·pad − 2, outW = W + 2·pad − 2. scratch: conv3x3WinogradWeightGradScratchBytes bytes.
 * Threads may split the output channels (gw and gy advanced by o0 rows/planes, Cout = their count).
 */
export function conv3x3WinogradWeightGradF32(gw: usize, x: usize, gy: usize, scratch: usize, N: i32, Cin: i32, H: i32,
  W: i32, Cout: i32, pad: i32, xImage: i32, gyImage: i32): void {
  const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
  if (Cin <= 0 || Cout <= 0) return;
  if (N <= 0 || outH <= 0 || outW <= 0) {
    memory.fill(gw, 0, (<usize>Cout * <usize>Cin * 9) << 2);
    return;
  }
  const tilesY = (outH + 1) >> 1, tilesX = (outW + 1) >> 1;
  const tpi = tilesY * tilesX;
  const c8 = roundUp(Cin, NR), oPad = roundUp(Cout, MR);
  const nb = chunkImages(N, c8, WG_NOMINAL_COUT, tpi);
  // x's 4 interleaved channels with a zero border (hp × wp pixels), gy's the same without (2·tilesY × 2·tilesX)
  const hp = 2 * tilesY + 2, wp = 2 * tilesX + 2;
  const du = scratch;
  const vt = du + align16((16 * <usize>oPad * <usize>c8) << 2);
  const dm = vt + align16((16 * <usize>(nb * tpi) * <usize>c8) << 2);
  const xq = dm + align16((16 * <usize>oPad * <usize>(nb * tpi)) << 2);
  const gq = xq + ((<usize>hp * <usize>wp) << 4);
  const tile = gq + ((<usize>(4 * tilesY * tilesX)) << 4);
  // the interleaved planes' borders, V's padding columns (c ≥ Cin) and dM's padding rows (o ≥ Cout) stay zero
  memory.fill(vt, 0, (16 * <usize>(nb * tpi) * <usize>c8) << 2);
  memory.fill(dm, 0, (16 * <usize>oPad * <usize>(nb * tpi)) << 2);
  memory.fill(xq, 0, ((<usize>hp * <usize>wp) << 4) + ((<usize>(4 * tilesY * tilesX)) << 4));
  const ldb = <usize>c8 << 2;
  const xPlane = (<usize>H * <usize>W) << 2, gPlane = (<usize>outH * <usize>outW) << 2;
  for (let n0 = 0; n0 < N; n0 += nb) {
    const images = min(nb, N - n0);
    const T = images * tpi;
    for (let i = 0; i < images; i++) {
      const xn = x + ((<usize>(n0 + i) * <usize>xImage) << 2);
      const gn = gy + ((<usize>(n0 + i) * <usize>gyImage) << 2);
      const t0 = i * tpi;
      for (let c = 0; c < Cin; c += 4) {
        interleave4(xq + ((<usize>pad * <usize>wp + <usize>pad) << 4), xn + <usize>c * xPlane, xPlane, min(4, Cin - c), H, W, wp);
        inputTiles4(vt + ((<usize>t0 * <usize>c8 + <usize>c) << 2), xq, wp, tilesY, tilesX, (<usize>T * <usize>c8) << 2, <usize>c8 << 2);
      }
      for (let o = 0; o < Cout; o += 4) {
        interleave4(gq, gn + <usize>o * gPlane, gPlane, min(4, Cout - o), outH, outW, 2 * tilesX);
        gradTiles4(dm + ((<usize>o * <usize>T + <usize>t0 * 4) << 2), gq, 2 * tilesX, tilesY, tilesX, (<usize>oPad * <usize>T) << 2);
      }
    }
    // dU_ξ [Cout, c8] (+)= dM_ξ · V_ξ over the chunk's T tiles
    for (let xi = 0; xi < 16; xi++) {
      const dmXi = dm + ((<usize>xi * <usize>oPad * <usize>T) << 2);
      const vXi = vt + ((<usize>xi * <usize>T * <usize>c8) << 2);
      const duXi = du + ((<usize>xi * <usize>oPad * <usize>c8) << 2);
      for (let j = 0; j < c8; j += NR) {
        for (let o = 0; o < Cout; o += MR) {
          microTile4x8(T, dmXi + ((<usize>o * <usize>T) << 2), vXi + (<usize>j << 2), ldb,
            duXi + ((<usize>o * <usize>c8 + <usize>j) << 2), ldb, min(MR, Cout - o), NR, n0 > 0, 0, 0, tile);
        }
      }
    }
  }
  // gw = Gᵀ dU G, Gᵀ = [[1, ½, ½, 0], [0, ½, −½, 0], [0, ½, ½, 1]]
  const xiStride = <usize>oPad * <usize>c8;
  for (let o = 0; o < Cout; o++) {
    for (let c = 0; c < Cin; c++) {
      const u = du + ((<usize>o * <usize>c8 + <usize>c) << 2);
      const h = tile; // 12 floats: Gᵀ dU (3×4)
      for (let j = 0; j < 4; j++) {
        const u0 = load<f32>(u + ((<usize>j * xiStride) << 2)), u1 = load<f32>(u + ((<usize>(4 + j) * xiStride) << 2));
        const u2 = load<f32>(u + ((<usize>(8 + j) * xiStride) << 2)), u3 = load<f32>(u + ((<usize>(12 + j) * xiStride) << 2));
        store<f32>(h + (<usize>j << 2), u0 + 0.5 * (u1 + u2));
        store<f32>(h + (<usize>(4 + j) << 2), 0.5 * (u1 - u2));
        store<f32>(h + (<usize>(8 + j) << 2), 0.5 * (u1 + u2) + u3);
      }
      const g = gw + ((<usize>o * <usize>Cin + <usize>c) * 36);
      for (let r = 0; r < 3; r++) {
        const h0 = load<f32>(h + (<usize>(4 * r) << 2)), h1 = load<f32>(h + (<usize>(4 * r + 1) << 2));
        const h2 = load<f32>(h + (<usize>(4 * r + 2) << 2)), h3 = load<f32>(h + (<usize>(4 * r + 3) << 2));
        store<f32>(g + (<usize>(3 * r) << 2), h0 + 0.5 * (h1 + h2));
        store<f32>(g + (<usize>(3 * r + 1) << 2), 0.5 * (h1 - h2));
        store<f32>(g + (<usize>(3 * r + 2) << 2), 0.5 * (h1 + h2) + h3);
      }
    }
  }
}

/**
 * dst[r][w][q] = plane q's [r][w] for q < count (zero for the others), r < H, w < W; dst rows are `cols`
 * pixels (16 bytes each) apart. 4 pixels of 4 channels at a time by a 4×4 transpose.
 */
function interleave4(dst: usize, src: usize, planeBytes: usize, count: i32, H: i32, W: i32, cols: i32): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < H; r++) {
    const s = src + ((<usize>r * <usize>W) << 2);
    const d = dst + ((<usize>r * <usize>cols) << 4);
    let w = 0;
    for (; w + 4 <= W; w += 4) {
      const at = s + (<usize>w << 2);
      const r0 = v128.load(at);
      const r1 = count > 1 ? v128.load(at + planeBytes) : zero;
      const r2 = count > 2 ? v128.load(at + 2 * planeBytes) : zero;
      const r3 = count > 3 ? v128.load(at + 3 * planeBytes) : zero;
      const l01 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), h01 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const l23 = i32x4.shuffle(r2, r3, 0, 4, 1, 5), h23 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const p = d + (<usize>w << 4);
      v128.store(p, i32x4.shuffle(l01, l23, 0, 1, 4, 5));
      v128.store(p, i32x4.shuffle(l01, l23, 2, 3, 6, 7), 16);
      v128.store(p, i32x4.shuffle(h01, h23, 0, 1, 4, 5), 32);
      v128.store(p, i32x4.shuffle(h01, h23, 2, 3, 6, 7), 48);
    }
    for (; w < W; w++) {
      const at = s + (<usize>w << 2);
      const p = d + (<usize>w << 4);
      store<f32>(p, load<f32>(at));
      store<f32>(p, count > 1 ? load<f32>(at + planeBytes) : 0, 4);
      store<f32>(p, count > 2 ? load<f32>(at + 2 * planeBytes) : 0, 8);
      store<f32>(p, count > 3 ? load<f32>(at + 3 * planeBytes) : 0, 12);
    }
  }
}

/**
 * V = Bᵀ d B of every tile of 4 interleaved channels (xq: zero-bordered, rows `wp` pixels apart): tile t's
 * element ξ (4 channels) goes to dst + ξ·xiStride + t·rowStride.
 */
function inputTiles4(dst: usize, xq: usize, wp: i32, tilesY: i32, tilesX: i32, xiStride: usize, rowStride: usize): void {
  const row = <usize>wp << 4;
  let t = dst;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      const p = xq + <usize>(2 * ty) * row + (<usize>(2 * tx) << 4);
      const d00 = v128.load(p), d01 = v128.load(p, 16), d02 = v128.load(p, 32), d03 = v128.load(p, 48);
      const p1 = p + row, p2 = p + 2 * row, p3 = p + 3 * row;
      const d10 = v128.load(p1), d11 = v128.load(p1, 16), d12 = v128.load(p1, 32), d13 = v128.load(p1, 48);
      const d20 = v128.load(p2), d21 = v128.load(p2, 16), d22 = v128.load(p2, 32), d23 = v128.load(p2, 48);
      const d30 = v128.load(p3), d31 = v128.load(p3, 16), d32 = v128.load(p3, 32), d33 = v128.load(p3, 48);
      const e00 = f32x4.sub(d00, d20), e01 = f32x4.sub(d01, d21), e02 = f32x4.sub(d02, d22), e03 = f32x4.sub(d03, d23);
      const e10 = f32x4.add(d10, d20), e11 = f32x4.add(d11, d21), e12 = f32x4.add(d12, d22), e13 = f32x4.add(d13, d23);
      const e20 = f32x4.sub(d20, d10), e21 = f32x4.sub(d21, d11), e22 = f32x4.sub(d22, d12), e23 = f32x4.sub(d23, d13);
      const e30 = f32x4.sub(d10, d30), e31 = f32x4.sub(d11, d31), e32 = f32x4.sub(d12, d32), e33 = f32x4.sub(d13, d33);
      v128.store(t, f32x4.sub(e00, e02));
      v128.store(t + xiStride, f32x4.add(e01, e02));
      v128.store(t + 2 * xiStride, f32x4.sub(e02, e01));
      v128.store(t + 3 * xiStride, f32x4.sub(e01, e03));
      v128.store(t + 4 * xiStride, f32x4.sub(e10, e12));
      v128.store(t + 5 * xiStride, f32x4.add(e11, e12));
      v128.store(t + 6 * xiStride, f32x4.sub(e12, e11));
      v128.store(t + 7 * xiStride, f32x4.sub(e11, e13));
      v128.store(t + 8 * xiStride, f32x4.sub(e20, e22));
      v128.store(t + 9 * xiStride, f32x4.add(e21, e22));
      v128.store(t + 10 * xiStride, f32x4.sub(e22, e21));
      v128.store(t + 11 * xiStride, f32x4.sub(e21, e23));
      v128.store(t + 12 * xiStride, f32x4.sub(e30, e32));
      v128.store(t + 13 * xiStride, f32x4.add(e31, e32));
      v128.store(t + 14 * xiStride, f32x4.sub(e32, e31));
      v128.store(t + 15 * xiStride, f32x4.sub(e31, e33));
      t += rowStride;
    }
  }
}

/**
 * dM = A dY Aᵀ of every 2×2 block of 4 interleaved gy channels (gq: 2·tilesY rows of `cols` pixels, zero
 * past the plane), A = [[1, 0], [1, 1], [1, −1], [0, −1]]: tile t's element ξ goes to dst + ξ·xiStride + 16t.
 */
function gradTiles4(dst: usize, gq: usize, cols: i32, tilesY: i32, tilesX: i32, xiStride: usize): void {
  const row = <usize>cols << 4;
  let t = dst;
  for (let ty = 0; ty < tilesY; ty++) {
    for (let tx = 0; tx < tilesX; tx++) {
      const p = gq + <usize>(2 * ty) * row + (<usize>(2 * tx) << 4);
      const y00 = v128.load(p), y01 = v128.load(p, 16), y10 = v128.load(p + row), y11 = v128.load(p + row, 16);
      // rows of A dY: [y0, y0 + y1, y0 − y1, −y1]; then columns [u, u + v, u − v, −v]
      const s10 = f32x4.add(y00, y10), s11 = f32x4.add(y01, y11);
      const s20 = f32x4.sub(y00, y10), s21 = f32x4.sub(y01, y11);
      v128.store(t, y00);
      v128.store(t + xiStride, f32x4.add(y00, y01));
      v128.store(t + 2 * xiStride, f32x4.sub(y00, y01));
      v128.store(t + 3 * xiStride, f32x4.neg(y01));
      v128.store(t + 4 * xiStride, s10);
      v128.store(t + 5 * xiStride, f32x4.add(s10, s11));
      v128.store(t + 6 * xiStride, f32x4.sub(s10, s11));
      v128.store(t + 7 * xiStride, f32x4.neg(s11));
      v128.store(t + 8 * xiStride, s20);
      v128.store(t + 9 * xiStride, f32x4.add(s20, s21));
      v128.store(t + 10 * xiStride, f32x4.sub(s20, s21));
      v128.store(t + 11 * xiStride, f32x4.neg(s21));
      v128.store(t + 12 * xiStride, f32x4.neg(y10));
      v128.store(t + 13 * xiStride, f32x4.neg(f32x4.add(y10, y11)));
      v128.store(t + 14 * xiStride, f32x4.sub(y11, y10));
      v128.store(t + 15 * xiStride, y11);
      t += 16;
    }
  }
}

// ------------------------------------------------------------------------------- input gradient
//
// The input gradient as the transpose of the forward transform (rather than a forward transform of gy
// padded by 2 − pad, which has (H/2)² tiles instead of the forward's (outH/2)²): dM = A dY Aᵀ for each
// 2×2 block of gy, dV_ξ [Cin, T] = U_ξᵀ · dM_ξ (the forward's U, packed as slivers of input channels),
// and each tile's B dV Bᵀ (4×4) is added into a zero-bordered plane at rows and columns 2·tile, 4 tiles of
// a row at a time (neighbouring tiles overlap by 2 columns: the overlap is added by shifting one lane),
// before the plane's inside is written to gx.

/**
 * Bytes of scratch conv3x3WinogradInputGradF32 needs (the forward's N, Cin, Cout, outH, outW): the forward's
 * layout with the channel roles swapped (Uᵀ, then dM where the forward has V, dV where it has M).
 */
export function conv3x3WinogradInputGradScratchBytes(N: i32, Cin: i32, Cout: i32, outH: i32, outW: i32): usize {
  return conv3x3WinogradScratchBytes(N, Cout, Cin, outH, outW);
}

/**
 * gx[n] = the input gradient of the forward conv3x3WinogradF32 for gy[n], n < N (overwritten): gx is N images
 * of Cin planes [H, W], `gxImage` floats apart; gy N images of Cout planes [outH, outW] (outH = H + 2·pad − 2,
 * outW = W + 2·pad − 2), `gyImage` floats apart; w [Cout, Cin, 3, 3].
 * scratch: conv3x3WinogradInputGradScratchBytes bytes.
 */
export function conv3x3WinogradInputGradF32(gx: usize, gy: usize, w: usize, scratch: usize, N: i32, Cin: i32, H: i32,
  W: i32, Cout: i32, pad: i32, gyImage: i32, gxImage: i32): void {
  const outH = H + 2 * pad - 2, outW = W + 2 * pad - 2;
  if (N <= 0 || Cin <= 0 || H <= 0 || W <= 0) return;
  const planeBytes = (<usize>H * <usize>W) << 2;
  if (outH <= 0 || outW <= 0 || Cout <= 0) {
    // no output reads any input: the gradient is zero
    for (let n = 0; n < N; n++) memory.fill(gx + ((<usize>n * <usize>gxImage) << 2), 0, <usize>Cin * planeBytes);
    return;
  }
  const tilesY = (outH + 1) >> 1, tilesX = (outW + 1) >> 1;
  const tpi = tilesY * tilesX;
  const nb = chunkImages(N, Cout, Cin, tpi);
  const tPad = roundUp(nb * tpi, NR);
  const cPad = roundUp(Cin, MR);
  const hp = 2 * tilesY + 2, wp = 2 * roundUp(tilesX, 4) + 4;
  // the forward's scratch layout with the channel roles swapped (see conv3x3WinogradInputGradScratchBytes)
  const up = scratch;
  const dm = up + align16((16 * <usize>cPad * <usize>Cout) << 2);
  const dv = dm + align16((16 * <usize>Cout * <usize>tPad) << 2);
  const plane = dv + align16(((16 * <usize>Cin * <usize>tPad) << 2) + 16);
  const tile = plane + align16((<usize>hp * <usize>wp) << 2);
  // Uᵀ: slivers of input channels, depth Cout — the forward's filters with the channel roles swapped
  transformWeights(up, w, Cout, Cin, cPad, true, tile);
  for (let n0 = 0; n0 < N; n0 += nb) {
    const images = min(nb, N - n0);
    // dM_ξ[o, t] for every image of the chunk (gy copied into the zero-bordered plane first: whole groups)
    memory.fill(plane, 0, (<usize>hp * <usize>wp) << 2);
    for (let i = 0; i < images; i++) {
      const gn = gy + ((<usize>(n0 + i) * <usize>gyImage) << 2);
      for (let o = 0; o < Cout; o++) {
        copyPadded(plane, gn + ((<usize>o * <usize>outH * <usize>outW) << 2), outH, outW, 0, wp);
        gradTilesRow(dm + ((<usize>o * <usize>tPad + <usize>(i * tpi)) << 2), plane, wp, tilesY, tilesX,
          (<usize>Cout * <usize>tPad) << 2);
      }
    }
    // dV_ξ = U_ξᵀ · dM_ξ
    gemm16(dv, up, cPad, dm, Cin, Cout, tPad, tile);
    // gx = B dV Bᵀ overlap-added, plane by plane
    for (let i = 0; i < images; i++) {
      const xn = gx + ((<usize>(n0 + i) * <usize>gxImage) << 2);
      for (let c = 0; c < Cin; c++) {
        memory.fill(plane, 0, (<usize>hp * <usize>wp) << 2);
        scatterTiles(plane, wp, dv + ((<usize>c * <usize>tPad + <usize>(i * tpi)) << 2), (<usize>Cin * <usize>tPad) << 2,
          tilesY, tilesX);
        cropPlane(xn + <usize>c * planeBytes, plane, H, W, pad, wp);
      }
    }
  }
}

/**
 * dM = A dY Aᵀ for the 2×2 blocks of one zero-bordered gy plane (rows `wp` floats apart), 4 blocks of a
 * row at a time; tile t's element ξ goes to out + ξ·xiStride + 4t. A = [[1, 0], [1, 1], [1, −1], [0, −1]].
 */
function gradTilesRow(out: usize, plane: usize, wp: i32, tilesY: i32, tilesX: i32, xiStride: usize): void {
  const rowBytes = <usize>wp << 2;
  let t = out;
  for (let ty = 0; ty < tilesY; ty++) {
    const r0 = plane + <usize>(2 * ty) * rowBytes;
    for (let tx = 0; tx < tilesX; tx += 4) {
      const count = min(4, tilesX - tx);
      const p = r0 + (<usize>(2 * tx) << 2);
      const a0 = v128.load(p), a1 = v128.load(p, 16), b0 = v128.load(p + rowBytes), b1 = v128.load(p + rowBytes, 16);
      const y00 = i32x4.shuffle(a0, a1, 0, 2, 4, 6), y01 = i32x4.shuffle(a0, a1, 1, 3, 5, 7);
      const y10 = i32x4.shuffle(b0, b1, 0, 2, 4, 6), y11 = i32x4.shuffle(b0, b1, 1, 3, 5, 7);
      // rows of A dY: [y0, y0 + y1, y0 − y1, −y1]; then columns [u, u + v, u − v, −v]
      const s10 = f32x4.add(y00, y10), s11 = f32x4.add(y01, y11);
      const s20 = f32x4.sub(y00, y10), s21 = f32x4.sub(y01, y11);
      storeTiles(t, 0, y00, count);
      storeTiles(t, xiStride, f32x4.add(y00, y01), count);
      storeTiles(t, 2 * xiStride, f32x4.sub(y00, y01), count);
      storeTiles(t, 3 * xiStride, f32x4.neg(y01), count);
      storeTiles(t, 4 * xiStride, s10, count);
      storeTiles(t, 5 * xiStride, f32x4.add(s10, s11), count);
      storeTiles(t, 6 * xiStride, f32x4.sub(s10, s11), count);
      storeTiles(t, 7 * xiStride, f32x4.neg(s11), count);
      storeTiles(t, 8 * xiStride, s20, count);
      storeTiles(t, 9 * xiStride, f32x4.add(s20, s21), count);
      storeTiles(t, 10 * xiStride, f32x4.sub(s20, s21), count);
      storeTiles(t, 11 * xiStride, f32x4.neg(s21), count);
      storeTiles(t, 12 * xiStride, f32x4.neg(y10), count);
      storeTiles(t, 13 * xiStride, f32x4.neg(f32x4.add(y10, y11)), count);
      storeTiles(t, 14 * xiStride, f32x4.sub(y11, y10), count);
      storeTiles(t, 15 * xiStride, y11, count);
      t += <usize>count << 2;
    }
  }
}

/**
 * Adds B dV Bᵀ of every tile into the zeroed plane (rows `wp` floats apart) at rows and columns 2·tile:
 * B X = [X0, X1 − X2 + X3, X1 + X2 − X0, −X3] by rows, then the same by columns. 4 tiles of a row at a
 * time: their columns 2 and 3 overlap the next tile's 0 and 1, added by shifting those lanes by one
 * (the last lane carries into the next group). Lanes past the row's last tile are masked to zero.
 */
function scatterTiles(plane: usize, wp: i32, dv: usize, xiStride: usize, tilesY: i32, tilesX: i32): void {
  const rowBytes = <usize>wp << 2;
  const zero = f32x4.splat(0);
  let t = dv;
  for (let ty = 0; ty < tilesY; ty++) {
    const r0 = plane + <usize>(2 * ty) * rowBytes;
    // the previous group's columns q2, q3 for each of the 4 rows of a tile (their lane 3 carries over)
    let p20 = zero, p30 = zero, p21 = zero, p31 = zero, p22 = zero, p32 = zero, p23 = zero, p33 = zero;
    let tx = 0;
    for (; tx < tilesX; tx += 4) {
      const count = min(4, tilesX - tx);
      const keep = count == 4 ? i32x4.splat(-1) : i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(count));
      const m00 = v128.and(v128.load(t), keep), m01 = v128.and(v128.load(t + xiStride), keep);
      const m02 = v128.and(v128.load(t + 2 * xiStride), keep), m03 = v128.and(v128.load(t + 3 * xiStride), keep);
      const m10 = v128.and(v128.load(t + 4 * xiStride), keep), m11 = v128.and(v128.load(t + 5 * xiStride), keep);
      const m12 = v128.and(v128.load(t + 6 * xiStride), keep), m13 = v128.and(v128.load(t + 7 * xiStride), keep);
      const m20 = v128.and(v128.load(t + 8 * xiStride), keep), m21 = v128.and(v128.load(t + 9 * xiStride), keep);
      const m22 = v128.and(v128.load(t + 10 * xiStride), keep), m23 = v128.and(v128.load(t + 11 * xiStride), keep);
      const m30 = v128.and(v128.load(t + 12 * xiStride), keep), m31 = v128.and(v128.load(t + 13 * xiStride), keep);
      const m32 = v128.and(v128.load(t + 14 * xiStride), keep), m33 = v128.and(v128.load(t + 15 * xiStride), keep);
      // rows of B X: [X0, X1 − X2 + X3, X1 + X2 − X0, −X3] (for each column j)
      const e10 = f32x4.add(f32x4.sub(m10, m20), m30), e11 = f32x4.add(f32x4.sub(m11, m21), m31);
      const e12 = f32x4.add(f32x4.sub(m12, m22), m32), e13 = f32x4.add(f32x4.sub(m13, m23), m33);
      const e20 = f32x4.sub(f32x4.add(m10, m20), m00), e21 = f32x4.sub(f32x4.add(m11, m21), m01);
      const e22 = f32x4.sub(f32x4.add(m12, m22), m02), e23 = f32x4.sub(f32x4.add(m13, m23), m03);
      const col = r0 + (<usize>(2 * tx) << 2);
      // each row times Bᵀ: q0 = u0, q1 = u1 − u2 + u3, q2 = u1 + u2 − u0, q3 = −u3
      let q2 = f32x4.sub(f32x4.add(m01, m02), m00), q3 = f32x4.neg(m03);
      addRow(col, m00, f32x4.add(f32x4.sub(m01, m02), m03), q2, q3, p20, p30);
      p20 = q2; p30 = q3;
      q2 = f32x4.sub(f32x4.add(e11, e12), e10); q3 = f32x4.neg(e13);
      addRow(col + rowBytes, e10, f32x4.add(f32x4.sub(e11, e12), e13), q2, q3, p21, p31);
      p21 = q2; p31 = q3;
      q2 = f32x4.sub(f32x4.add(e21, e22), e20); q3 = f32x4.neg(e23);
      addRow(col + 2 * rowBytes, e20, f32x4.add(f32x4.sub(e21, e22), e23), q2, q3, p22, p32);
      p22 = q2; p32 = q3;
      // row 3 of B X is −X3
      const e30 = f32x4.neg(m30), e31 = f32x4.neg(m31), e32 = f32x4.neg(m32), e33 = f32x4.neg(m33);
      q2 = f32x4.sub(f32x4.add(e31, e32), e30); q3 = f32x4.neg(e33);
      addRow(col + 3 * rowBytes, e30, f32x4.add(f32x4.sub(e31, e32), e33), q2, q3, p23, p33);
      p23 = q2; p33 = q3;
      t += <usize>count << 2;
    }
    // a full last group carries its lane 3 to columns 2·tilesX and 2·tilesX + 1 (a partial one carries zero)
    const end = r0 + (<usize>(2 * tx) << 2);
    addCarry(end, p20, p30);
    addCarry(end + rowBytes, p21, p31);
    addCarry(end + 2 * rowBytes, p22, p32);
    addCarry(end + 3 * rowBytes, p23, p33);
  }
}

/**
 * Adds one tile row of 4 tiles into the plane at `p` (8 columns): column 2l gets q0[l] + q2[l − 1], column
 * 2l + 1 gets q1[l] + q3[l − 1], lane −1 being the previous group's lane 3.
 */
// @ts-ignore: decorator
@inline function addRow(p: usize, q0: v128, q1: v128, q2: v128, q3: v128, prevQ2: v128, prevQ3: v128): void {
  const even = f32x4.add(q0, i32x4.shuffle(prevQ2, q2, 3, 4, 5, 6));
  const odd = f32x4.add(q1, i32x4.shuffle(prevQ3, q3, 3, 4, 5, 6));
  v128.store(p, f32x4.add(v128.load(p), i32x4.shuffle(even, odd, 0, 4, 1, 5)));
  v128.store(p, f32x4.add(v128.load(p, 16), i32x4.shuffle(even, odd, 2, 6, 3, 7)), 16);
}

/** Adds the carried lane 3 of q2 and q3 at plane columns p and p + 1. */
// @ts-ignore: decorator
@inline function addCarry(p: usize, q2: v128, q3: v128): void {
  store<f32>(p, load<f32>(p) + f32x4.extract_lane(q2, 3));
  store<f32>(p, load<f32>(p, 4) + f32x4.extract_lane(q3, 3), 4);
}

/** gx plane [H, W] = the padded plane's inside (rows `wp` floats apart, offset pad, pad). */
function cropPlane(dst: usize, plane: usize, H: i32, W: i32, pad: i32, wp: i32): void {
  for (let r = 0; r < H; r++) {
    memory.copy(dst + ((<usize>r * <usize>W) << 2), plane + ((<usize>(r + pad) * <usize>wp + <usize>pad) << 2), <usize>W << 2);
  }
}
