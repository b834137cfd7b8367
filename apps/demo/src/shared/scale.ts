// Pure helpers behind the charts (no DOM, so they are unit-tested in Node): tick choice, scales,
// the data range of a set of series, and the colour maps.

/** About `count` round tick values (1, 2 or 5 × 10^k apart) covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  if (min > max) [min, max] = [max, min];
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/** Maps [d0, d1] linearly onto [r0, r1]. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** The [min, max] of the finite values in `arrays`; [0, 1] when there are none; widened when flat. */
export function extent(arrays: ArrayLike<number>[], fallback: [number, number] = [0, 1]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) {
      const v = a[i]!;
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (lo === Infinity) return fallback;
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  return [lo, hi];
}

/** Short tick labels: 0.001, 0.5, 12, 1.5k, 2e6. */
export function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e5 || a < 1e-3) return v.toExponential(0).replace('e+', 'e');
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/**
 * The playground's diverging colour map: p = P(class 1) in [0, 1] → RGB, orange (class 0) through
 * near-white (0.5) to blue (class 1). `strength` < 1 fades toward white (for the background).
 */
export function divergingColor(p: number, strength = 1): [number, number, number] {
  const t = Math.min(1, Math.max(0, Number.isFinite(p) ? p : 0.5));
  const orange: [number, number, number] = [245, 147, 34];
  const blue: [number, number, number] = [8, 119, 189];
  const white: [number, number, number] = [232, 234, 235];
  const [end, u] = t < 0.5 ? [orange, (0.5 - t) * 2] : [blue, (t - 0.5) * 2];
  const s = u * strength;
  return [0, 1, 2].map((i) => Math.round(white[i]! + (end[i]! - white[i]!) * s)) as [number, number, number];
}

/**
 * Ticks for a log axis, given the log10 of its ends: the powers of ten inside, or 1-2-5 steps when
 * the range spans fewer than two decades. Returns log10 values.
 */
export function logTicks(lo: number, hi: number): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (lo > hi) [lo, hi] = [hi, lo];
  const eps = 1e-9;
  const decades: number[] = [];
  for (let k = Math.ceil(lo - eps); k <= hi + eps; k++) decades.push(k);
  if (decades.length >= 3) return decades;
  const out: number[] = [];
  for (let k = Math.floor(lo) - 1; k <= Math.ceil(hi); k++) {
    for (const f of [1, 2, 5]) {
      const v = k + Math.log10(f);
      if (v >= lo - eps && v <= hi + eps) out.push(v);
    }
  }
  return out.length >= 2 ? out : niceTicks(lo, hi, 3);
}

/** Colour stops of the sequential map (dark purple → orange → pale yellow, magma-like). */
const SEQUENTIAL: [number, number, number][] = [
  [0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99], [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164],
];

/**
 * A sequential colour map for magnitudes (spectrograms, saliency): t in [0, 1] → RGB, dark at 0,
 * bright at 1; non-finite values count as 0, values outside [0, 1] are clamped.
 */
export function sequentialColor(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (SEQUENTIAL.length - 1);
  const i = Math.min(Math.floor(x), SEQUENTIAL.length - 2), f = x - i;
  const a = SEQUENTIAL[i]!, b = SEQUENTIAL[i + 1]!;
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}
