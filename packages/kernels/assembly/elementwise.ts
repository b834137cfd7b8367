// Elementwise kernels: unary maps (+ their gradients), binary ops (contiguous and broadcast/strided)
// and `where`. The contract (export names, argument order, op codes) is src/abi.ts.
//
// Design
// - Every export switches on `op` ONCE, outside any loop; each `case` instantiates a generic
//   `@inline` loop helper with an op class (`mapUnary<Exp>`, `binRow<Add>` …) whose `@inline`
//   method is the per-element body, called on `changetype<T>(0)` (a typed null `this`, never
//   dereferenced). Each loop is thus specialised by the AssemblyScript front end itself.
//   Trap: passing a literal op code to an inline helper with a switch inside does NOT work in AS
//   0.28 — the front end does not fold the switch, so every call site gets every op's body
//   (a 3 MB module that Binaryen -O3 needs 10+ minutes to fold).
// - Main loops run on f32x4; the 0..3 leftover elements go through the SAME vector code on a
//   splatted lane (v128.load32_splat) and store lane 0, so a value's result never depends on its
//   position in the buffer (and there is only one implementation of each op to get right).
// - Pure functions of byte offsets: no allocation, no memory writes outside the output, no mutable
//   module globals of our own. (std-lib Math.sin/cos and Mathf.pow use wasm globals as scratch; those
//   are per instance, not in shared memory, so worker threads cannot race on them.)
// - Transcendentals (exp, expm1, log, log1p, tanh, sigmoid, erf, gelu, silu, softplus, elu) are
//   vectorised by hand; sin, cos and pow call the scalar std-lib per lane.
//
// Accuracy (measured against f64 references on 1M-point sweeps and random/special inputs):
// relative ≤ 1.8e-7 (≈ 1.5 ulp) for exp, expm1, log, log1p, tanh, sigmoid, erf, silu, softplus,
// elu; gelu ≤ 4.5e-7; geluTanh ≤ 1.7e-6 where |y| > 1e-6 (x << 0: the f32 rounding of the cubic
// argument is amplified by e^v — conditioning, not the approximations); tiny outputs (< 1e-6 or
// subnormal) are accurate in absolute terms only. Harness and fit scripts: /tmp/elem on the dev box.

import { madd } from './common';

// ------------------------------------------------------------------------------ op codes (abi.ts)

const U_NEG = 0, U_ABS = 1, U_EXP = 2, U_LOG = 3, U_SQRT = 4, U_RSQRT = 5, U_TANH = 6,
  U_SIGMOID = 7, U_RELU = 8, U_GELU = 9, U_GELU_TANH = 10, U_SILU = 11, U_SOFTPLUS = 12,
  U_SIN = 13, U_COS = 14, U_SQUARE = 15, U_RECIPROCAL = 16, U_SIGN = 17, U_FLOOR = 18,
  U_CEIL = 19, U_ROUND = 20, U_ERF = 21, U_LOG1P = 22, U_EXPM1 = 23, U_LEAKY_RELU = 24,
  U_ELU = 25, U_CLAMP = 26, U_POW_SCALAR = 27, U_AFFINE = 28, U_RDIV = 29, U_RPOW = 30;

const B_ADD = 0, B_SUB = 1, B_MUL = 2, B_DIV = 3, B_POW = 4, B_MAX = 5, B_MIN = 6,
  B_EQ = 7, B_NE = 8, B_LT = 9, B_LE = 10, B_GT = 11, B_GE = 12;

// ------------------------------------------------------------------------------ constants

const LOG2E: f32 = 1.44269504088896341;
// ln 2 split for Cody–Waite range reduction: LN2_HI has 16 significant bits (0x3f317200), so
// n * LN2_HI is exact for |n| < 2^8 and x - n*LN2_HI is exact (fused or not).
// see: Cody & Waite, "Software Manual for the Elementary Functions" (1980); same split as fdlibm.
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.42860682030941723212e-6;
const SQRT1_2: f32 = 0.70710678118654752;
const SQRT2: f32 = 1.41421356237309505;
const TWO_OVER_SQRTPI: f32 = 1.12837916709551257;
const INV_SQRT_2PI: f32 = 0.398942280401432678;
const SIGN_MASK: i32 = <i32>0x80000000;
const ABS_MASK: i32 = 0x7fffffff;

// ------------------------------------------------------------------------------ small helpers

// @ts-ignore: decorator
@inline function splat(c: f32): v128 { return f32x4.splat(c); }
// @ts-ignore: decorator
@inline function isplat(c: i32): v128 { return i32x4.splat(c); }
/** where mask: a, else b (masks are all-ones / all-zeros lanes from comparisons) */
// @ts-ignore: decorator
@inline function sel(a: v128, b: v128, mask: v128): v128 { return v128.bitselect(a, b, mask); }
// @ts-ignore: decorator
@inline function vabs(x: v128): v128 { return v128.and(x, isplat(ABS_MASK)); }
/** -|x| */
// @ts-ignore: decorator
@inline function vnabs(x: v128): v128 { return v128.or(x, isplat(SIGN_MASK)); }
/** magnitude of m (m must have a clear sign bit or be NaN) with the sign of s */
// @ts-ignore: decorator
@inline function withSign(m: v128, s: v128): v128 { return v128.or(m, v128.and(s, isplat(SIGN_MASK))); }
/** min(x, c) keeping NaN in x (pmin(a, b) = b < a ? b : a; cheaper than f32x4.min on x86) */
// @ts-ignore: decorator
@inline function vminc(x: v128, c: f32): v128 { return f32x4.pmin(x, splat(c)); }
/** max(x, c) keeping NaN in x (pmax(a, b) = a < b ? b : a) */
// @ts-ignore: decorator
@inline function vmaxc(x: v128, c: f32): v128 { return f32x4.pmax(x, splat(c)); }
/** 1.0 where mask, else 0.0 */
// @ts-ignore: decorator
@inline function mask01(m: v128): v128 { return v128.and(m, splat(1.0)); }
/** 16-byte load in the main loop; load one f32 and splat it in the tail */
// @ts-ignore: decorator
@inline function ld(p: usize, tail: bool): v128 { return tail ? v128.load32_splat(p) : v128.load(p); }

/** Math.sign: ±1.0 for x ≷ 0, and ±0 / NaN returned unchanged */
// @ts-ignore: decorator
@inline function vsign(x: v128): v128 {
  const r = sel(splat(1.0), x, f32x4.gt(x, splat(0)));
  return sel(splat(-1.0), r, f32x4.lt(x, splat(0)));
}

/** 2^n for i32 lanes n in [-126, 127] (builds the exponent field). */
// @ts-ignore: decorator
@inline function pow2i(n: v128): v128 { return i32x4.shl(i32x4.add(n, isplat(127)), 23); }

/** v * 2^n for integer-valued f32 lanes n in [-150, 128]: two factors 2^(n>>1), 2^(n-(n>>1)) keep
 *  each exponent in the normal range; v*t2 is exact and only the last multiply rounds, so results
 *  in the subnormal range are correctly rounded once and n = 128 overflows cleanly to inf. */
// @ts-ignore: decorator
@inline function scale2n(v: v128, n: v128): v128 {
  const ni = i32x4.trunc_sat_f32x4_s(n); // NaN -> 0 (the NaN travels in v)
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  return f32x4.mul(f32x4.mul(v, pow2i(n2)), pow2i(n1));
}

/** e^r - 1 for |r| <= ~0.35 (reduced argument): Taylor series to r^7 in the form r + r²·P(r).
 *  Truncation r^7/8! < 1.5e-8 relative at |r| = ln2/2. */
// @ts-ignore: decorator
@inline function expm1Poly(r: v128): v128 {
  let p = madd(r, splat(1.0 / 5040.0), splat(1.0 / 720.0));
  p = madd(r, p, splat(1.0 / 120.0));
  p = madd(r, p, splat(1.0 / 24.0));
  p = madd(r, p, splat(1.0 / 6.0));
  p = madd(r, p, splat(0.5));
  return madd(f32x4.mul(r, r), p, r);
}

// ------------------------------------------------------------------------------ exp family

/**
 * e^x. Range reduction x = n·ln2 + r, n = round(x·log2e), |r| <= ln2/2 (+ rounding slack), r in two
 * Cody–Waite steps; e^r from expm1Poly; 2^n put into the exponent bits (scale2n).
 * Trap: clamp first. x >= 88.8 gives n = 128 -> inf; x <= -104 gives 2^-150·p -> 0 (the true
 * result underflows below the smallest subnormal 1.4e-45 at x < -103.97). NaN passes through the
 * clamps (pmin/pmax keep the first operand's NaN) and through r, so exp(NaN) = NaN.
 */
// @ts-ignore: decorator
@inline function vexp(x: v128): v128 {
  const xc = vmaxc(vminc(x, 88.8), -104.0);
  const n = f32x4.nearest(f32x4.mul(xc, splat(LOG2E)));
  let r = madd(n, splat(-LN2_HI), xc);
  r = madd(n, splat(-LN2_LO), r);
  return scale2n(f32x4.add(expm1Poly(r), splat(1.0)), n);
}

/**
 * e^(hi + lo) where lo is a small correction (|lo| << 1) and hi in [-104, 0]: used for e^(-x²) with
 * x² split exactly into hi + lo. Trap: computing -x*x in f32 first loses x²·2^-24 absolute in the
 * exponent, i.e. a relative error ~x²·6e-8 in the result (1.5e-6 at x = 5) — hence the split.
 */
// @ts-ignore: decorator
@inline function vexpHiLo(hi: v128, lo: v128): v128 {
  const hc = vmaxc(hi, -104.0);
  const n = f32x4.nearest(f32x4.mul(hc, splat(LOG2E)));
  let r = madd(n, splat(-LN2_HI), hc);
  r = f32x4.add(madd(n, splat(-LN2_LO), r), lo);
  return scale2n(f32x4.add(expm1Poly(r), splat(1.0)), n);
}

/**
 * e^(-s·a²) for a >= 0 (a <= ~15, NaN allowed), s = 1 or 0.5: a = ah + al with ah holding the top
 * 12 significant bits, so ah² is exact in f32 and a² = ah² + al·(a + ah) exactly (Dekker-style split).
 */
// @ts-ignore: decorator
@inline function vexpNegSq(a: v128, s: f32): v128 {
  const ah = v128.and(a, isplat(<i32>0xfffff000));
  const al = f32x4.sub(a, ah);
  const hi = f32x4.mul(f32x4.mul(ah, ah), splat(-s));
  const lo = f32x4.mul(f32x4.mul(al, f32x4.add(a, ah)), splat(-s));
  return vexpHiLo(hi, lo);
}

/**
 * e^x - 1, accurate near 0. Same reduction as vexp, then e^x - 1 = 2^n·(e^r - 1) + (2^n - 1): for
 * |x| <= ln2/2, n = 0 and this is exactly the polynomial (no cancellation); 2^n - 1 is exact for
 * n <= 24. For x > 20 (n >= 29) expm1 = exp in f32, computed with the overflow-safe two-factor scale
 * (a single 2^n would be inf at n = 128 and inf·q + inf is NaN for q < 0).
 * Clamp x >= -30 (expm1 = -1 in f32 there) keeps 2^n a normal number. expm1(±0) = ±0 restored at
 * the end (the sum rounds -0 to +0).
 */
// @ts-ignore: decorator
@inline function vexpm1(x: v128, mayBeBig: bool): v128 {
  const xc = vmaxc(vminc(x, 88.8), -30.0);
  const n = f32x4.nearest(f32x4.mul(xc, splat(LOG2E)));
  let r = madd(n, splat(-LN2_HI), xc);
  r = madd(n, splat(-LN2_LO), r);
  const q = expm1Poly(r);
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const t1 = pow2i(n1), t2 = pow2i(n2);
  const t = f32x4.mul(t1, t2); // 2^n, exact and finite whenever it is used
  let res = madd(t, q, f32x4.sub(t, splat(1.0)));
  if (mayBeBig) {
    const big = f32x4.gt(xc, splat(20.0));
    res = sel(f32x4.mul(f32x4.mul(f32x4.add(q, splat(1.0)), t2), t1), res, big);
  }
  return sel(x, res, f32x4.eq(x, splat(0)));
}

// ------------------------------------------------------------------------------ log family

/**
 * ln x. Split x = 2^k·m with m in [√½, √2) by integer tricks on the bits (adding 0x3f800000 -
 * 0x3f3504f3 makes the exponent field roll over exactly at m = √½). Then with f = m - 1 (exact,
 * Sterbenz) and s = f/(2+f): ln(1+f) = 2·atanh(s) = 2s + 2s³/3 + 2s⁵/5 + …; |s| <= 0.1716 so terms
 * to s⁹ leave < 2e-9 relative. Written as f - s·(f - R) with R = 2s³/3·… /s (since 2s = f - s·f) so
 * the leading term f is exact and the correction is small: near x = 1 the result is accurate
 * relative to ln x itself, not to 1.
 * Result = k·LN2_HI (exact) + (ln(1+f) + k·LN2_LO).
 * see: the atanh-series reduction of fdlibm e_log.c / musl logf, rewritten here without tables.
 * Traps: subnormal x is scaled by 2^23 first (the bit trick needs an implicit leading 1);
 * specials by select at the end: x = ±0 -> -inf, x < 0 (incl. -inf) -> NaN, +inf -> +inf, NaN -> NaN.
 */
// @ts-ignore: decorator
@inline function vlog(x: v128): v128 {
  const sub = f32x4.lt(x, splat(1.17549435e-38));
  const xs = sel(f32x4.mul(x, splat(8388608.0)), x, sub);
  const ix = i32x4.add(xs, isplat(0x3f800000 - 0x3f3504f3));
  const k = i32x4.sub(i32x4.sub(i32x4.shr_s(ix, 23), isplat(127)), v128.and(sub, isplat(23)));
  const m = i32x4.add(v128.and(ix, isplat(0x007fffff)), isplat(0x3f3504f3));
  const f = f32x4.sub(m, splat(1.0));
  const s = f32x4.div(f, f32x4.add(f, splat(2.0)));
  const z = f32x4.mul(s, s);
  let R = madd(z, splat(2.0 / 9.0), splat(2.0 / 7.0));
  R = madd(z, R, splat(2.0 / 5.0));
  R = madd(z, R, splat(2.0 / 3.0));
  R = f32x4.mul(R, z);
  const l1p = f32x4.sub(f, f32x4.mul(s, f32x4.sub(f, R)));
  const kf = f32x4.convert_i32x4_s(k);
  let res = madd(kf, splat(LN2_HI), madd(kf, splat(LN2_LO), l1p));
  // specials
  const passThrough = v128.or(f32x4.ne(x, x), f32x4.eq(x, splat(Infinity))); // NaN, +inf
  res = sel(x, res, passThrough);
  res = sel(splat(NaN), res, f32x4.lt(x, splat(0)));
  res = sel(splat(-Infinity), res, f32x4.eq(x, splat(0)));
  return res;
}

/**
 * ln(1 + x), accurate near 0: u = 1 + x rounds, but ln(1+x) = ln(u) + (x - (u - 1))/u to first
 * order, and x - (u - 1) is exactly the rounding error of u.
 * see: the classic correction for log1p, e.g. Goldberg, "What every computer scientist should know
 * about floating-point arithmetic" (1991), Theorem 4 discussion.
 * Traps: at x = -1 (u = 0) and x = +inf the correction is 0/0 or inf-inf: return ln(u) whenever it
 * is not finite. log1p(±0) = ±0 restored explicitly (0 + -0 = +0).
 */
// @ts-ignore: decorator
@inline function vlog1p(x: v128): v128 {
  const one = splat(1.0);
  const u = f32x4.add(x, one);
  const lu = vlog(u);
  const corr = f32x4.div(f32x4.sub(x, f32x4.sub(u, one)), u);
  let res = sel(f32x4.add(lu, corr), lu, f32x4.lt(vabs(lu), splat(Infinity)));
  return sel(x, res, f32x4.eq(x, splat(0)));
}

// ------------------------------------------------------------------------------ sigmoid / tanh

/**
 * Logistic sigmoid, stable for any x: with e = e^(-|x|) in (0, 1], σ(x) = 1/(1+e) for x >= 0 and
 * e/(1+e) for x < 0 — never inf/inf, and the tiny values for very negative x keep their relative
 * accuracy (no 1 - something cancellation). NaN -> NaN.
 */
// @ts-ignore: decorator
@inline function vsigmoid(x: v128): v128 {
  const e = vexp(vnabs(x));
  return f32x4.div(sel(splat(1.0), e, f32x4.ge(x, splat(0))), f32x4.add(e, splat(1.0)));
}

/**
 * tanh x = sign(x)·em/(em + 2) with em = expm1(2|x|): accurate relative near 0 (no 1 - 2/(e^2x+1)
 * cancellation). |x| is clamped to 9.1 (tanh = 1.0f beyond 9.01) so em never reaches inf (inf/inf).
 * tanh(±0) = ±0, NaN -> NaN.
 */
// @ts-ignore: decorator
@inline function vtanh(x: v128): v128 {
  const a = vminc(vabs(x), 9.1);
  const em = vexpm1(f32x4.add(a, a), false);
  return withSign(f32x4.div(em, f32x4.add(em, splat(2.0))), x);
}

// ------------------------------------------------------------------------------ erf / Φ

/**
 * erf(z)/z ≈ P(z²) for 0 <= z <= 1, degree 6 in z² (7 terms): relative error 1.2e-9 before
 * rounding the coefficients to f32 (≤ 7e-8 after).
 * see: own weighted least-squares fit with Lawson iterations (≈ minimax relative error) against
 * mpmath erf, 1500 points on [1e-4, 1]; script kept next to the test harness (fit3.py). The leading
 * coefficient is 2/√π as in the Taylor series.
 */
// @ts-ignore: decorator
@inline function erfSmallP(z2: v128): v128 {
  let p = madd(z2, splat(7.853679563e-05), splat(-8.010144811e-04));
  p = madd(z2, p, splat(5.188322626e-03));
  p = madd(z2, p, splat(-2.685380913e-02));
  p = madd(z2, p, splat(1.128358543e-01));
  p = madd(z2, p, splat(-3.761262596e-01));
  return madd(z2, p, splat(1.128379107e+00));
}

/**
 * erfc(z)·e^(z²) ≈ R(t), t = 2/(2+z), degree 9, for 0.5 <= z <= 9: relative error 7e-10 before
 * f32 rounding of the coefficients (5.5e-9 after). The scaled erfc is smooth and bounded
 * (0.62 at z = 0.5, ~1/(z√π) for large z), so erfc(z) = e^(-z²)·R keeps full RELATIVE accuracy deep
 * into the tail (needed for Φ(x) = ½erfc(-x/√2) at x << 0, i.e. gelu of negative inputs).
 * see: own fit as for erfSmallP (4000 points on [0.5, 9], fit5.py); the variable t = 1/(1 + z/2)
 * follows the idea of Abramowitz & Stegun 7.1.26 (a rational variable), with 10 terms instead of 5.
 */
// @ts-ignore: decorator
@inline function erfcScaledR(z: v128): v128 {
  const t = f32x4.div(splat(2.0), f32x4.add(z, splat(2.0)));
  let p = madd(t, splat(-7.658982277e-02), splat(3.605097532e-01));
  p = madd(t, p, splat(-6.280672550e-01));
  p = madd(t, p, splat(4.243122637e-01));
  p = madd(t, p, splat(-1.198909804e-01));
  p = madd(t, p, splat(2.404292673e-01));
  p = madd(t, p, splat(2.334457040e-01));
  p = madd(t, p, splat(2.838782072e-01));
  p = madd(t, p, splat(2.819575667e-01));
  return madd(t, p, splat(4.637096936e-06));
}

/**
 * erf x: |x| < 1 -> |x|·P(x²) (relative accuracy near 0), else 1 - e^(-x²)·R(|x|) (e^(-x²) with the
 * exact split of x²). |x| clamped to 4: erf = ±1 exactly in f32 from 3.92 on, and the clamp keeps
 * e^(-x²) normal (subnormal intermediates cost ~100 cycles each on x86). Odd: the sign is copied
 * back, so erf(-0) = -0; NaN -> NaN. Both branches are computed for all lanes (SIMD).
 */
// @ts-ignore: decorator
@inline function verf(x: v128): v128 {
  const a = vminc(vabs(x), 4.0);
  const small = f32x4.lt(a, splat(1.0));
  const es = f32x4.mul(a, erfSmallP(f32x4.mul(a, a)));
  const ec = f32x4.mul(vexpNegSq(a, 1.0), erfcScaledR(a));
  return withSign(sel(es, f32x4.sub(splat(1.0), ec), small), x);
}

/** |x| beyond which Φ(-|x|) (< 3.7e-36) and φ are taken as 0: keeps every intermediate normal. */
const PHI_CUT: f32 = 12.5;

/**
 * Φ(x) (standard normal CDF) given a = min(|x|, PHI_CUT) and ea = e^(-a²/2) (shared with the gelu
 * gradient). tail = Φ(-a) = ½erfc(z), z = a/√2: ½ - ½erf(z) for z < 0.5 (cancellation ≤ 1.6×), else
 * ½·e^(-a²/2)·R(z) — the exponential computed from a directly, not from the rounded z, to keep the
 * tail's relative error ~1e-7. Φ(x) = tail for x < 0, 1 - tail otherwise; tail = 0 for |x| > PHI_CUT
 * (true values < 3.7e-36: absolute error only).
 */
// @ts-ignore: decorator
@inline function vphi(x: v128, a: v128, ea: v128): v128 {
  const z = f32x4.mul(a, splat(SQRT1_2));
  const small = f32x4.lt(z, splat(0.5));
  const es = f32x4.mul(z, erfSmallP(f32x4.mul(z, z)));
  const half = splat(0.5);
  let tail = sel(madd(es, splat(-0.5), half), f32x4.mul(f32x4.mul(ea, erfcScaledR(z)), half), small);
  tail = v128.andnot(tail, f32x4.gt(vabs(x), splat(PHI_CUT)));
  return sel(tail, f32x4.sub(splat(1.0), tail), f32x4.lt(x, splat(0)));
}

// ------------------------------------------------------------------------------ per-lane scalar

/** Math.pow semantics on f32. Trap: Mathf.pow is musl powf (C99), where pow(1, y) = 1 for every y
 *  and pow(-1, ±inf) = 1; JS gives NaN whenever |x| = 1 and y is ±inf or NaN. */
// @ts-ignore: decorator
@inline function powJS(x: f32, y: f32): f32 {
  const r = Mathf.pow(x, y);
  return (Mathf.abs(x) == 1 && !isFinite<f32>(y)) ? <f32>NaN : r;
}

// Scalar functions applied lane by lane (class S with an inline s(x, p)).
// sin/cos go through the f64 std-lib functions: measured, AS 0.28's Mathf.sin/cos (musl sinf port)
// return garbage for |x| in ~[1e26, 1e28] (large-argument reduction bug); the f64 versions are
// right everywhere and rounding their result to f32 is within 0.5 ulp + 2^-29.
// @ts-ignore: decorator
@final class SinS { @inline s(x: f32, p: f32): f32 { return <f32>Math.sin(<f64>x); } }
// @ts-ignore: decorator
@final class CosS { @inline s(x: f32, p: f32): f32 { return <f32>Math.cos(<f64>x); } }
// @ts-ignore: decorator
@final class PowS { @inline s(x: f32, p: f32): f32 { return powJS(x, p); } }       // x ** p
// @ts-ignore: decorator
@final class RPowS { @inline s(x: f32, p: f32): f32 { return powJS(p, x); } }      // p ** x

/** gy·p·x^(p-1) for one lane, in f64 so that neither x^(p-1) nor p·x^(p-1) overflows before gy
 *  scales it back into range. Math.pow fix-up as in powJS. */
// @ts-ignore: decorator
@inline function powGrad1(x: f32, g: f32, p: f32): f32 {
  const q = <f64>p - 1;
  let r = Math.pow(<f64>x, q);
  if (Math.abs(<f64>x) == 1 && !isFinite<f64>(q)) r = NaN;
  return <f32>(<f64>g * (<f64>p * r));
}

/** Scalar function per lane; in the tail only lane 0 is computed. */
// @ts-ignore: decorator
@inline function lanes<S>(x: v128, p: f32, tail: bool): v128 {
  const f = changetype<S>(0);
  let r = f32x4.splat(f.s(f32x4.extract_lane(x, 0), p));
  if (!tail) {
    r = f32x4.replace_lane(r, 1, f.s(f32x4.extract_lane(x, 1), p));
    r = f32x4.replace_lane(r, 2, f.s(f32x4.extract_lane(x, 2), p));
    r = f32x4.replace_lane(r, 3, f.s(f32x4.extract_lane(x, 3), p));
  }
  return r;
}

// ------------------------------------------------------------------------------ unary ops
//
// One class per op: v(x, P0, P1, p0, tail) = f(x) on 4 lanes; g(px, py, pg, P0, P1, p0, C, tail) =
// gy·f'(x) on 4 lanes, loading only what it needs (x at px, y = f(x) at py, gy at pg; `ld` loads a
// vector, or one splatted element in the tail). C is an op constant computed once (ln p0 for rpow).
// Derivatives that are 0/1 by region are applied with selects (gx = 0 there even if gy is NaN or
// inf, as PyTorch's relu/threshold/clamp backward do).

// @ts-ignore: decorator
@final class Neg {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.neg(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.neg(ld(pg, tail));
  }
}
// @ts-ignore: decorator
@final class Abs {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vabs(x); }
  // sign(x)·gy with sign(±0) = ±0 (so gx = ±0·gy, 0 as PyTorch), sign(NaN) = NaN
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(ld(pg, tail), vsign(ld(px, tail)));
  }
}
// @ts-ignore: decorator
@final class Exp {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vexp(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(ld(pg, tail), ld(py, tail));
  }
}
// @ts-ignore: decorator
@final class Log {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vlog(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.div(ld(pg, tail), ld(px, tail));
  }
}
// @ts-ignore: decorator
@final class Sqrt {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.sqrt(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const y = ld(py, tail);
    return f32x4.div(ld(pg, tail), f32x4.add(y, y)); // gy·0.5/y, one rounding
  }
}
// @ts-ignore: decorator
@final class Rsqrt {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.div(splat(1.0), f32x4.sqrt(x)); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    // (-0.5·gy·y)·y² : gy first, so y³ alone can't overflow when the product is finite
    const y = ld(py, tail);
    return f32x4.mul(f32x4.mul(f32x4.mul(ld(pg, tail), splat(-0.5)), y), f32x4.mul(y, y));
  }
}
// @ts-ignore: decorator
@final class Tanh {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vtanh(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const y = ld(py, tail);
    return f32x4.mul(ld(pg, tail), madd(f32x4.neg(y), y, splat(1.0)));
  }
}
// @ts-ignore: decorator
@final class Sigmoid {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vsigmoid(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const y = ld(py, tail);
    return f32x4.mul(ld(pg, tail), f32x4.mul(y, f32x4.sub(splat(1.0), y)));
  }
}
// @ts-ignore: decorator
@final class Relu {
  // max(x, 0): NaN stays NaN, relu(-0) = +0
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.max(x, splat(0)); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return v128.and(ld(pg, tail), f32x4.gt(ld(px, tail), splat(0)));
  }
}
// @ts-ignore: decorator
@final class Gelu {
  // x·Φ(x). Trap: x = -inf gives -inf·0 = NaN; multiplying by max(x, -20) instead gives the limit
  // -0 (Φ = 0 there anyway). NaN passes (pmax keeps x's NaN).
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    const a = vminc(vabs(x), PHI_CUT);
    return f32x4.mul(vmaxc(x, -20.0), vphi(x, a, vexpNegSq(a, 0.5)));
  }
  // Φ(x) + x·φ(x), φ(x) = e^(-x²/2)/√(2π) (the same e^(-a²/2) feeds Φ's tail). Beyond PHI_CUT φ is
  // taken as 0 and x clamped in the product (at ±inf, x·φ would be inf·0): gelu' = 0 / 1 there.
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const x = ld(px, tail);
    const a = vminc(vabs(x), PHI_CUT);
    const ea = v128.andnot(vexpNegSq(a, 0.5), f32x4.gt(vabs(x), splat(PHI_CUT)));
    const xc = vmaxc(vminc(x, PHI_CUT), -PHI_CUT);
    return f32x4.mul(ld(pg, tail), madd(f32x4.mul(xc, ea), splat(INV_SQRT_2PI), vphi(x, a, ea)));
  }
}
// @ts-ignore: decorator
@final class GeluTanh {
  // ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), evaluated as x·σ(v), v = 2u = x(c0 + c1x²), since
  // 1 + tanh(u) = 2σ(2u): no cancellation for x << 0. Clamp x >= -1e4 gives -0 (the limit) at -inf
  // instead of -inf·0 = NaN. see: Hendrycks & Gimpel, "Gaussian Error Linear Units" (2016).
  // σ(v) is set to 0 for v < -87 (true σ < 1.7e-38): keeps e^v out of the subnormal range, which
  // costs ~100 cycles per op on x86; the absolute error is below |x|·1.7e-38.
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    const xc = vmaxc(x, -1e4);
    const v = f32x4.mul(xc, madd(f32x4.mul(xc, xc), splat(0.0713548162726), splat(1.59576912160573)));
    const e = vexp(vmaxc(vnabs(v), -87.0));
    const s = f32x4.div(sel(splat(1.0), e, f32x4.ge(v, splat(0))), f32x4.add(e, splat(1.0)));
    return f32x4.mul(xc, v128.andnot(s, f32x4.lt(v, splat(-87.0))));
  }
  // y' = s + x·v'·s(1-s), v' = c0 + 3c1x², s(1-s) = e/(1+e)² with e = e^(-|v|) (stable: no 1 - s
  // cancellation, no overflow). x clamped to ±20 (y' is exactly 1 / 0 in f32 beyond; avoids inf·0
  // from x³ overflowing).
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const one = splat(1.0);
    const x = vmaxc(vminc(ld(px, tail), 20.0), -20.0);
    const x2 = f32x4.mul(x, x);
    const v = f32x4.mul(x, madd(x2, splat(0.0713548162726), splat(1.59576912160573)));
    const dv = madd(x2, splat(0.2140644488178), splat(1.59576912160573));
    // e = 0 for |v| > 87 (as in v(): no subnormal intermediates; s and s(1-s) become exact 0 / 1)
    const e = v128.andnot(vexp(vmaxc(vnabs(v), -87.0)), f32x4.gt(vabs(v), splat(87.0)));
    const inv = f32x4.div(one, f32x4.add(one, e));
    const s = sel(inv, f32x4.mul(e, inv), f32x4.ge(v, splat(0)));
    const ds = f32x4.mul(f32x4.mul(e, inv), inv);
    return f32x4.mul(ld(pg, tail), madd(f32x4.mul(x, dv), ds, s));
  }
}
// @ts-ignore: decorator
@final class Silu {
  // x·σ(x); x clamped at -200 so that x = -inf gives -0 (the limit) instead of -inf·0 = NaN
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    const xc = vmaxc(x, -200.0);
    return f32x4.mul(xc, vsigmoid(xc));
  }
  // s·(1 + x·(1 - s)) with 1 - s = σ(-x) computed directly (stable); x clamped to ±200 (derivative
  // exactly 1 / -0 there) so ±inf give no inf·0.
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const one = splat(1.0);
    const x = vmaxc(vminc(ld(px, tail), 200.0), -200.0);
    const e = vexp(vnabs(x));
    const inv = f32x4.div(one, f32x4.add(one, e));
    const pos = f32x4.ge(x, splat(0));
    const s = sel(inv, f32x4.mul(e, inv), pos);
    const ns = sel(f32x4.mul(e, inv), inv, pos);
    return f32x4.mul(ld(pg, tail), f32x4.mul(s, madd(x, ns, one)));
  }
}
// @ts-ignore: decorator
@final class Softplus {
  // ln(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x, keeps e^x's relative accuracy
  // for x << 0 (PyTorch's default threshold = 20 linearisation is NOT applied: exact everywhere)
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    return f32x4.add(f32x4.max(x, splat(0)), vlog1p(vexp(vnabs(x))));
  }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(ld(pg, tail), vsigmoid(ld(px, tail)));
  }
}
// @ts-ignore: decorator
@final class Sin {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return lanes<SinS>(x, 0, tail); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(ld(pg, tail), lanes<CosS>(ld(px, tail), 0, tail));
  }
}
// @ts-ignore: decorator
@final class Cos {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return lanes<CosS>(x, 0, tail); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.neg(f32x4.mul(ld(pg, tail), lanes<SinS>(ld(px, tail), 0, tail)));
  }
}
// @ts-ignore: decorator
@final class Square {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.mul(x, x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const x = ld(px, tail);
    return f32x4.mul(f32x4.mul(ld(pg, tail), x), splat(2.0));
  }
}
// @ts-ignore: decorator
@final class Reciprocal {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.div(splat(1.0), x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const y = ld(py, tail);
    return f32x4.neg(f32x4.mul(f32x4.mul(ld(pg, tail), y), y)); // (gy·y)·y: no y² overflow
  }
}
// @ts-ignore: decorator
@final class Sign {
  // Math.sign semantics: ±1, and ±0 / NaN returned as they are
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vsign(x); }
}
// @ts-ignore: decorator
@final class Floor { @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.floor(x); } }
// @ts-ignore: decorator
@final class Ceil { @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.ceil(x); } }
// @ts-ignore: decorator
@final class Round {
  // round half to even (like torch.round / numpy.round), NOT JS Math.round (half up)
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.nearest(x); }
}
// @ts-ignore: decorator
@final class Erf {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return verf(x); }
  // 2/√π·e^(-x²); |x| clamped to 10.5 (e^-110 = 0 in f32), square split exactly as in verf.
  // (For 9.4 < |x| <= 10.5 the true value is subnormal and computed as such: slow but right.)
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const a = vminc(vabs(ld(px, tail)), 10.5);
    return f32x4.mul(ld(pg, tail), f32x4.mul(vexpNegSq(a, 1.0), splat(TWO_OVER_SQRTPI)));
  }
}
// @ts-ignore: decorator
@final class Log1p {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vlog1p(x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.div(ld(pg, tail), f32x4.add(ld(px, tail), splat(1.0)));
  }
}
// @ts-ignore: decorator
@final class Expm1 {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return vexpm1(x, true); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(ld(pg, tail), f32x4.add(ld(py, tail), splat(1.0)));
  }
}
// @ts-ignore: decorator
@final class LeakyRelu {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    return sel(x, f32x4.mul(x, P0), f32x4.gt(x, splat(0)));
  }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const gy = ld(pg, tail);
    return sel(gy, f32x4.mul(gy, P0), f32x4.gt(ld(px, tail), splat(0)));
  }
}
// @ts-ignore: decorator
@final class Elu {
  // expm1 on min(x, 0): the unselected lanes stay in range; NaN -> p0·NaN = NaN
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    return sel(x, f32x4.mul(P0, vexpm1(vminc(x, 0), false)), f32x4.gt(x, splat(0)));
  }
  // x <= 0: y + p0 (= p0·e^x), from the output as PyTorch does
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const gy = ld(pg, tail);
    return sel(gy, f32x4.mul(gy, f32x4.add(ld(py, tail), P0)), f32x4.gt(ld(px, tail), splat(0)));
  }
}
// @ts-ignore: decorator
@final class Clamp {
  // min(max(x, p0), p1): f32x4.max/min propagate NaN; p0 > p1 gives p1 (as torch.clamp)
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.min(f32x4.max(x, P0), P1); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const x = ld(px, tail);
    return v128.and(ld(pg, tail), v128.and(f32x4.ge(x, P0), f32x4.le(x, P1)));
  }
}
// @ts-ignore: decorator
@final class PowScalar {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return lanes<PowS>(x, p0, tail); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const x = ld(px, tail), g = ld(pg, tail);
    let r = f32x4.splat(powGrad1(f32x4.extract_lane(x, 0), f32x4.extract_lane(g, 0), p0));
    if (!tail) {
      r = f32x4.replace_lane(r, 1, powGrad1(f32x4.extract_lane(x, 1), f32x4.extract_lane(g, 1), p0));
      r = f32x4.replace_lane(r, 2, powGrad1(f32x4.extract_lane(x, 2), f32x4.extract_lane(g, 2), p0));
      r = f32x4.replace_lane(r, 3, powGrad1(f32x4.extract_lane(x, 3), f32x4.extract_lane(g, 3), p0));
    }
    return r;
  }
}
// @ts-ignore: decorator
@final class Affine {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return madd(P0, x, P1); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(ld(pg, tail), P0);
  }
}
// @ts-ignore: decorator
@final class Rdiv {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.div(P0, x); }
  // -p0/x² evaluated as -(gy·y)/x: no x² underflow/overflow
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.neg(f32x4.div(f32x4.mul(ld(pg, tail), ld(py, tail)), ld(px, tail)));
  }
}
// @ts-ignore: decorator
@final class Rpow {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return lanes<RPowS>(x, p0, tail); }
  // y·ln p0 (C = ln p0)
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    return f32x4.mul(f32x4.mul(ld(pg, tail), C), ld(py, tail));
  }
}

// powScalar / gradient specialisations picked outside the loop (Math.pow special values kept)
// @ts-ignore: decorator
@final class Copy { @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return x; } }
// @ts-ignore: decorator
@final class One { @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return splat(1.0); } } // NaN ** 0 = 1
// @ts-ignore: decorator
@final class Cube {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.mul(f32x4.mul(x, x), x); }
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const x = ld(px, tail);
    return f32x4.mul(f32x4.mul(f32x4.mul(ld(pg, tail), splat(3.0)), x), x);
  }
}
// @ts-ignore: decorator
@final class SqrtJS {
  // pow(-0, .5) = +0 (sqrt gives -0), pow(-inf, .5) = +inf (sqrt gives NaN)
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    return sel(splat(Infinity), vabs(f32x4.sqrt(x)), f32x4.eq(x, splat(-Infinity)));
  }
}
// @ts-ignore: decorator
@final class RsqrtJS {
  // pow(-0, -.5) = +inf (1/sqrt gives -inf), pow(-inf, -.5) = +0 (1/sqrt gives NaN)
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 {
    return sel(splat(0), f32x4.div(splat(1.0), vabs(f32x4.sqrt(x))), f32x4.eq(x, splat(-Infinity)));
  }
}
// @ts-ignore: decorator
@final class InvSquare {
  @inline v(x: v128, P0: v128, P1: v128, p0: f32, tail: bool): v128 { return f32x4.div(splat(1.0), f32x4.mul(x, x)); }
}
// @ts-ignore: decorator
@final class GradZero {
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 { return splat(0); }
}
// @ts-ignore: decorator
@final class GradPass {
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 { return ld(pg, tail); }
}
// @ts-ignore: decorator
@final class Rpow0Grad {
  // 0 ** x: y·ln 0 = y·(-inf) is defined as 0 where x >= 0 (as PyTorch's masked_fill); x < 0 -> -inf·gy
  @inline g(px: usize, py: usize, pg: usize, P0: v128, P1: v128, p0: f32, C: v128, tail: bool): v128 {
    const gx = f32x4.mul(ld(pg, tail), f32x4.mul(ld(py, tail), C));
    return v128.andnot(gx, f32x4.ge(ld(px, tail), splat(0)));
  }
}

// ------------------------------------------------------------------------------ unary loops

// @ts-ignore: decorator
@inline function mapUnary<Op>(out: usize, x: usize, n: i32, p0: f32, p1: f32): void {
  const op = changetype<Op>(0);
  const P0 = f32x4.splat(p0), P1 = f32x4.splat(p1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, op.v(v128.load(x + o), P0, P1, p0, false));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, f32x4.extract_lane(op.v(v128.load32_splat(x + o), P0, P1, p0, true), 0));
  }
}

/** out[i] = f(x[i]) for i < n; op is a UnaryOp code (abi.ts), p0/p1 its parameters. out may equal x. */
export function unaryF32(op: i32, out: usize, x: usize, n: i32, p0: f32, p1: f32): void {
  switch (op) {
    case U_NEG: mapUnary<Neg>(out, x, n, p0, p1); break;
    case U_ABS: mapUnary<Abs>(out, x, n, p0, p1); break;
    case U_EXP: mapUnary<Exp>(out, x, n, p0, p1); break;
    case U_LOG: mapUnary<Log>(out, x, n, p0, p1); break;
    case U_SQRT: mapUnary<Sqrt>(out, x, n, p0, p1); break;
    case U_RSQRT: mapUnary<Rsqrt>(out, x, n, p0, p1); break;
    case U_TANH: mapUnary<Tanh>(out, x, n, p0, p1); break;
    case U_SIGMOID: mapUnary<Sigmoid>(out, x, n, p0, p1); break;
    case U_RELU: mapUnary<Relu>(out, x, n, p0, p1); break;
    case U_GELU: mapUnary<Gelu>(out, x, n, p0, p1); break;
    case U_GELU_TANH: mapUnary<GeluTanh>(out, x, n, p0, p1); break;
    case U_SILU: mapUnary<Silu>(out, x, n, p0, p1); break;
    case U_SOFTPLUS: mapUnary<Softplus>(out, x, n, p0, p1); break;
    case U_SIN: mapUnary<Sin>(out, x, n, p0, p1); break;
    case U_COS: mapUnary<Cos>(out, x, n, p0, p1); break;
    case U_SQUARE: mapUnary<Square>(out, x, n, p0, p1); break;
    case U_RECIPROCAL: mapUnary<Reciprocal>(out, x, n, p0, p1); break;
    case U_SIGN: mapUnary<Sign>(out, x, n, p0, p1); break;
    case U_FLOOR: mapUnary<Floor>(out, x, n, p0, p1); break;
    case U_CEIL: mapUnary<Ceil>(out, x, n, p0, p1); break;
    case U_ROUND: mapUnary<Round>(out, x, n, p0, p1); break;
    case U_ERF: mapUnary<Erf>(out, x, n, p0, p1); break;
    case U_LOG1P: mapUnary<Log1p>(out, x, n, p0, p1); break;
    case U_EXPM1: mapUnary<Expm1>(out, x, n, p0, p1); break;
    case U_LEAKY_RELU: mapUnary<LeakyRelu>(out, x, n, p0, p1); break;
    case U_ELU: mapUnary<Elu>(out, x, n, p0, p1); break;
    case U_CLAMP: mapUnary<Clamp>(out, x, n, p0, p1); break;
    case U_POW_SCALAR: {
      // common exponents without the per-lane scalar pow; all keep Math.pow's special values
      if (p0 == 1) mapUnary<Copy>(out, x, n, p0, p1);
      else if (p0 == 2) mapUnary<Square>(out, x, n, p0, p1);
      else if (p0 == 0) mapUnary<One>(out, x, n, p0, p1);
      else if (p0 == 3) mapUnary<Cube>(out, x, n, p0, p1);
      else if (p0 == 0.5) mapUnary<SqrtJS>(out, x, n, p0, p1);
      else if (p0 == -0.5) mapUnary<RsqrtJS>(out, x, n, p0, p1);
      else if (p0 == -1) mapUnary<Reciprocal>(out, x, n, p0, p1);
      else if (p0 == -2) mapUnary<InvSquare>(out, x, n, p0, p1);
      else mapUnary<PowScalar>(out, x, n, p0, p1);
      break;
    }
    case U_AFFINE: mapUnary<Affine>(out, x, n, p0, p1); break;
    case U_RDIV: mapUnary<Rdiv>(out, x, n, p0, p1); break;
    case U_RPOW: mapUnary<Rpow>(out, x, n, p0, p1); break;
  }
}

// @ts-ignore: decorator
@inline function mapGrad<Op>(gx: usize, x: usize, y: usize, gy: usize, n: i32, p0: f32, p1: f32, c: f32): void {
  const op = changetype<Op>(0);
  const P0 = f32x4.splat(p0), P1 = f32x4.splat(p1), C = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(gx + o, op.g(x + o, y + o, gy + o, P0, P1, p0, C, false));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(gx + o, f32x4.extract_lane(op.g(x + o, y + o, gy + o, P0, P1, p0, C, true), 0));
  }
}

/** gx[i] = gy[i]·f'(x[i]) given x and y = f(x); see abi.ts UnaryOp. gx may equal gy (or x, y). */
export function unaryGradF32(op: i32, gx: usize, x: usize, y: usize, gy: usize, n: i32, p0: f32, p1: f32): void {
  switch (op) {
    case U_NEG: mapGrad<Neg>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_ABS: mapGrad<Abs>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_EXP: mapGrad<Exp>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_LOG: mapGrad<Log>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_SQRT: mapGrad<Sqrt>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_RSQRT: mapGrad<Rsqrt>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_TANH: mapGrad<Tanh>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_SIGMOID: mapGrad<Sigmoid>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_RELU: mapGrad<Relu>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_GELU: mapGrad<Gelu>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_GELU_TANH: mapGrad<GeluTanh>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_SILU: mapGrad<Silu>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_SOFTPLUS: mapGrad<Softplus>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_SIN: mapGrad<Sin>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_COS: mapGrad<Cos>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_SQUARE: mapGrad<Square>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_RECIPROCAL: mapGrad<Reciprocal>(gx, x, y, gy, n, p0, p1, 0); break;
    // piecewise constant: gradient 0 (zeros even where gy is NaN, as PyTorch's zeros_like)
    case U_SIGN:
    case U_FLOOR:
    case U_CEIL:
    case U_ROUND: mapGrad<GradZero>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_ERF: mapGrad<Erf>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_LOG1P: mapGrad<Log1p>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_EXPM1: mapGrad<Expm1>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_LEAKY_RELU: mapGrad<LeakyRelu>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_ELU: mapGrad<Elu>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_CLAMP: mapGrad<Clamp>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_POW_SCALAR: {
      // p0·x^(p0-1), defined as 0 for p0 = 0 (even where x^-1 is inf)
      if (p0 == 0) mapGrad<GradZero>(gx, x, y, gy, n, p0, p1, 0);
      else if (p0 == 1) mapGrad<GradPass>(gx, x, y, gy, n, p0, p1, 0);
      else if (p0 == 2) mapGrad<Square>(gx, x, y, gy, n, p0, p1, 0);
      else if (p0 == 3) mapGrad<Cube>(gx, x, y, gy, n, p0, p1, 0);
      else mapGrad<PowScalar>(gx, x, y, gy, n, p0, p1, 0);
      break;
    }
    case U_AFFINE: mapGrad<Affine>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_RDIV: mapGrad<Rdiv>(gx, x, y, gy, n, p0, p1, 0); break;
    case U_RPOW: {
      const lnp = <f32>Math.log(<f64>p0); // once per call, in f64
      if (p0 == 0) mapGrad<Rpow0Grad>(gx, x, y, gy, n, p0, p1, lnp);
      else mapGrad<Rpow>(gx, x, y, gy, n, p0, p1, lnp);
      break;
    }
  }
}

// ------------------------------------------------------------------------------ binary ops
//
// One class per op: v(a, b) on 4 lanes and its scalar twin s(a, b) with bit-identical results
// (used in tails and strided rows). maximum/minimum: f32x4.max/min and f32.max/min propagate NaN
// (as torch.maximum) and order -0 < +0. Comparisons are IEEE (NaN compares false, except ne) and
// give 1.0 / 0.0.

// @ts-ignore: decorator
@final class Add {
  @inline v(a: v128, b: v128): v128 { return f32x4.add(a, b); }
  @inline s(a: f32, b: f32): f32 { return a + b; }
}
// @ts-ignore: decorator
@final class Sub {
  @inline v(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
  @inline s(a: f32, b: f32): f32 { return a - b; }
}
// @ts-ignore: decorator
@final class Mul {
  @inline v(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
  @inline s(a: f32, b: f32): f32 { return a * b; }
}
// @ts-ignore: decorator
@final class Div {
  @inline v(a: v128, b: v128): v128 { return f32x4.div(a, b); }
  @inline s(a: f32, b: f32): f32 { return a / b; }
}
// @ts-ignore: decorator
@final class Pow {
  // Math.pow per lane (scalar musl powf + the JS fix-up in powJS)
  @inline v(a: v128, b: v128): v128 {
    let r = f32x4.splat(powJS(f32x4.extract_lane(a, 0), f32x4.extract_lane(b, 0)));
    r = f32x4.replace_lane(r, 1, powJS(f32x4.extract_lane(a, 1), f32x4.extract_lane(b, 1)));
    r = f32x4.replace_lane(r, 2, powJS(f32x4.extract_lane(a, 2), f32x4.extract_lane(b, 2)));
    return f32x4.replace_lane(r, 3, powJS(f32x4.extract_lane(a, 3), f32x4.extract_lane(b, 3)));
  }
  @inline s(a: f32, b: f32): f32 { return powJS(a, b); }
}
// @ts-ignore: decorator
@final class Maximum {
  @inline v(a: v128, b: v128): v128 { return f32x4.max(a, b); }
  @inline s(a: f32, b: f32): f32 { return Mathf.max(a, b); }
}
// @ts-ignore: decorator
@final class Minimum {
  @inline v(a: v128, b: v128): v128 { return f32x4.min(a, b); }
  @inline s(a: f32, b: f32): f32 { return Mathf.min(a, b); }
}
// @ts-ignore: decorator
@final class Eq {
  @inline v(a: v128, b: v128): v128 { return mask01(f32x4.eq(a, b)); }
  @inline s(a: f32, b: f32): f32 { return select<f32>(1, 0, a == b); }
}
// @ts-ignore: decorator
@final class Ne {
  @inline v(a: v128, b: v128): v128 { return mask01(f32x4.ne(a, b)); }
  @inline s(a: f32, b: f32): f32 { return select<f32>(1, 0, a != b); }
}
// @ts-ignore: decorator
@final class Lt {
  @inline v(a: v128, b: v128): v128 { return mask01(f32x4.lt(a, b)); }
  @inline s(a: f32, b: f32): f32 { return select<f32>(1, 0, a < b); }
}
// @ts-ignore: decorator
@final class Le {
  @inline v(a: v128, b: v128): v128 { return mask01(f32x4.le(a, b)); }
  @inline s(a: f32, b: f32): f32 { return select<f32>(1, 0, a <= b); }
}
// @ts-ignore: decorator
@final class Gt {
  @inline v(a: v128, b: v128): v128 { return mask01(f32x4.gt(a, b)); }
  @inline s(a: f32, b: f32): f32 { return select<f32>(1, 0, a > b); }
}
// @ts-ignore: decorator
@final class Ge {
  @inline v(a: v128, b: v128): v128 { return mask01(f32x4.ge(a, b)); }
  @inline s(a: f32, b: f32): f32 { return select<f32>(1, 0, a >= b); }
}

/** One contiguous output row. aVec/bVec: the operand advances (stride 1, v128 loads) or is a single
 *  value (stride 0, splatted once). Constant flags: one folded loop per combination. */
// @ts-ignore: decorator
@inline function binRow<Op>(out: usize, a: usize, b: usize, n: i32, aVec: bool, bVec: bool): void {
  const op = changetype<Op>(0);
  const sa = aVec ? <f32>0 : load<f32>(a), sb = bVec ? <f32>0 : load<f32>(b);
  const va = f32x4.splat(sa), vb = f32x4.splat(sb);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, op.v(aVec ? v128.load(a + o) : va, bVec ? v128.load(b + o) : vb));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, op.s(aVec ? load<f32>(a + o) : sa, bVec ? load<f32>(b + o) : sb));
  }
}

/** One output row with arbitrary input element strides (byte steps da, db; 0 or negative OK). */
// @ts-ignore: decorator
@inline function binRowStrided<Op>(out: usize, a: usize, b: usize, n: i32, da: usize, db: usize): void {
  const op = changetype<Op>(0);
  for (let i = 0; i < n; i++) {
    store<f32>(out + (<usize>i << 2), op.s(load<f32>(a), load<f32>(b)));
    a += da; b += db;
  }
}

/**
 * Broadcast driver. meta: shape[ndim], stridesA[ndim], stridesB[ndim] (i32 element strides, any
 * sign). Output contiguous in shape order. The two innermost dims are walked incrementally (row
 * pointers advanced by the dim ndim-2 strides); the offset of each "plane" over the outer ndim-2
 * dims is recomputed from the plane index by div/mod: no scratch memory, no per-element division.
 * Trap: pointer arithmetic is u32 and wraps, which is exactly right for negative strides.
 */
// @ts-ignore: decorator
@inline function bcastBinary<Op>(out: usize, a: usize, b: usize, meta: usize, ndim: i32): void {
  const mA = meta + (<usize>ndim << 2), mB = meta + (<usize>ndim << 3);
  const l0 = <usize>(ndim - 1) << 2;
  const n0 = load<i32>(meta + l0), a0 = load<i32>(mA + l0), b0 = load<i32>(mB + l0);
  let n1 = 1, a1 = 0, b1 = 0;
  if (ndim >= 2) {
    const l1 = <usize>(ndim - 2) << 2;
    n1 = load<i32>(meta + l1); a1 = load<i32>(mA + l1); b1 = load<i32>(mB + l1);
  }
  let planes = 1;
  for (let d = 0; d < ndim - 2; d++) planes *= load<i32>(meta + (<usize>d << 2));
  if (n0 <= 0 || n1 <= 0 || planes <= 0) return; // empty tensor: write nothing
  const mode = (a0 == 1 && b0 == 1) ? 0 : (a0 == 1 && b0 == 0) ? 1 : (a0 == 0 && b0 == 1) ? 2 : 3;
  const rowBytes = <usize>n0 << 2;
  const da1 = <usize>a1 << 2, db1 = <usize>b1 << 2;
  const da0 = <usize>a0 << 2, db0 = <usize>b0 << 2;
  let po = out;
  for (let p = 0; p < planes; p++) {
    let offA = 0, offB = 0, rem = p;
    for (let d = ndim - 3; d >= 0; d--) {
      const ld4 = <usize>d << 2;
      const s = load<i32>(meta + ld4);
      const c = rem % s;
      rem = rem / s;
      offA += c * load<i32>(mA + ld4);
      offB += c * load<i32>(mB + ld4);
    }
    let pa = a + (<usize>offA << 2), pb = b + (<usize>offB << 2);
    for (let j = 0; j < n1; j++) {
      if (mode == 0) binRow<Op>(po, pa, pb, n0, true, true);
      else if (mode == 1) binRow<Op>(po, pa, pb, n0, true, false);
      else if (mode == 2) binRow<Op>(po, pa, pb, n0, false, true);
      else binRowStrided<Op>(po, pa, pb, n0, da0, db0);
      po += rowBytes; pa += da1; pb += db1;
    }
  }
}

/** out[i] = a[i] (op) b[i] for i < n, all contiguous; op is a BinaryOp code. out may equal a or b. */
export function binaryF32(op: i32, out: usize, a: usize, b: usize, n: i32): void {
  switch (op) {
    case B_ADD: binRow<Add>(out, a, b, n, true, true); break;
    case B_SUB: binRow<Sub>(out, a, b, n, true, true); break;
    case B_MUL: binRow<Mul>(out, a, b, n, true, true); break;
    case B_DIV: binRow<Div>(out, a, b, n, true, true); break;
    case B_POW: binRow<Pow>(out, a, b, n, true, true); break;
    case B_MAX: binRow<Maximum>(out, a, b, n, true, true); break;
    case B_MIN: binRow<Minimum>(out, a, b, n, true, true); break;
    case B_EQ: binRow<Eq>(out, a, b, n, true, true); break;
    case B_NE: binRow<Ne>(out, a, b, n, true, true); break;
    case B_LT: binRow<Lt>(out, a, b, n, true, true); break;
    case B_LE: binRow<Le>(out, a, b, n, true, true); break;
    case B_GT: binRow<Gt>(out, a, b, n, true, true); break;
    case B_GE: binRow<Ge>(out, a, b, n, true, true); break;
  }
}

/** Broadcasting/strided binary op: meta = shape[ndim], stridesA[ndim], stridesB[ndim]; ndim >= 1. */
export function binaryBcastF32(op: i32, out: usize, a: usize, b: usize, meta: usize, ndim: i32): void {
  switch (op) {
    case B_ADD: bcastBinary<Add>(out, a, b, meta, ndim); break;
    case B_SUB: bcastBinary<Sub>(out, a, b, meta, ndim); break;
    case B_MUL: bcastBinary<Mul>(out, a, b, meta, ndim); break;
    case B_DIV: bcastBinary<Div>(out, a, b, meta, ndim); break;
    case B_POW: bcastBinary<Pow>(out, a, b, meta, ndim); break;
    case B_MAX: bcastBinary<Maximum>(out, a, b, meta, ndim); break;
    case B_MIN: bcastBinary<Minimum>(out, a, b, meta, ndim); break;
    case B_EQ: bcastBinary<Eq>(out, a, b, meta, ndim); break;
    case B_NE: bcastBinary<Ne>(out, a, b, meta, ndim); break;
    case B_LT: bcastBinary<Lt>(out, a, b, meta, ndim); break;
    case B_LE: bcastBinary<Le>(out, a, b, meta, ndim); break;
    case B_GT: bcastBinary<Gt>(out, a, b, meta, ndim); break;
    case B_GE: bcastBinary<Ge>(out, a, b, meta, ndim); break;
  }
}

// ------------------------------------------------------------------------------ where

/** Contiguous output row of where; each operand either advances (flag true: stride 1) or is one
 *  splatted value (stride 0). cond is read as f32 and tested with != 0: 0 and -0 pick b, NaN picks
 *  a; an int32 0/1 mask works too (bit pattern 1 is a nonzero subnormal, and wasm never flushes
 *  subnormals). Values are copied as bits (NaN payloads, -0 kept). */
// @ts-ignore: decorator
@inline function whereRow(out: usize, c: usize, a: usize, b: usize, n: i32, cV: bool, aV: bool, bV: bool): void {
  const sc = cV ? <f32>0 : load<f32>(c), sa = aV ? 0 : load<i32>(a), sb = bV ? 0 : load<i32>(b);
  const vc = f32x4.splat(sc), va = i32x4.splat(sa), vb = i32x4.splat(sb);
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const m = f32x4.ne(cV ? v128.load(c + o) : vc, zero);
    v128.store(out + o, v128.bitselect(aV ? v128.load(a + o) : va, bV ? v128.load(b + o) : vb, m));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const cc = cV ? load<f32>(c + o) : sc;
    store<i32>(out + o, cc != 0 ? (aV ? load<i32>(a + o) : sa) : (bV ? load<i32>(b + o) : sb));
  }
}

/** out = cond != 0 ? a : b with broadcasting; meta = shape, stridesCond, stridesA, stridesB. */
export function whereF32(out: usize, cond: usize, a: usize, b: usize, meta: usize, ndim: i32): void {
  const mC = meta + (<usize>ndim << 2), mA = meta + (<usize>ndim << 3), mB = meta + <usize>ndim * 12;
  const l0 = <usize>(ndim - 1) << 2;
  const n0 = load<i32>(meta + l0);
  const c0 = load<i32>(mC + l0), a0 = load<i32>(mA + l0), b0 = load<i32>(mB + l0);
  let n1 = 1, c1 = 0, a1 = 0, b1 = 0;
  if (ndim >= 2) {
    const l1 = <usize>(ndim - 2) << 2;
    n1 = load<i32>(meta + l1); c1 = load<i32>(mC + l1); a1 = load<i32>(mA + l1); b1 = load<i32>(mB + l1);
  }
  let planes = 1;
  for (let d = 0; d < ndim - 2; d++) planes *= load<i32>(meta + (<usize>d << 2));
  if (n0 <= 0 || n1 <= 0 || planes <= 0) return;
  // innermost strides all in {0, 1}: vector row specialised by a 3-bit code; else strided scalar
  const simple = (<u32>c0 <= 1) && (<u32>a0 <= 1) && (<u32>b0 <= 1);
  const code = (c0 << 2) | (a0 << 1) | b0;
  const rowBytes = <usize>n0 << 2;
  const dc1 = <usize>c1 << 2, da1 = <usize>a1 << 2, db1 = <usize>b1 << 2;
  const dc0 = <usize>c0 << 2, da0 = <usize>a0 << 2, db0 = <usize>b0 << 2;
  let po = out;
  for (let p = 0; p < planes; p++) {
    let offC = 0, offA = 0, offB = 0, rem = p;
    for (let d = ndim - 3; d >= 0; d--) {
      const ld4 = <usize>d << 2;
      const s = load<i32>(meta + ld4);
      const c = rem % s;
      rem = rem / s;
      offC += c * load<i32>(mC + ld4);
      offA += c * load<i32>(mA + ld4);
      offB += c * load<i32>(mB + ld4);
    }
    let pc = cond + (<usize>offC << 2), pa = a + (<usize>offA << 2), pb = b + (<usize>offB << 2);
    for (let j = 0; j < n1; j++) {
      if (simple) {
        switch (code) {
          case 7: whereRow(po, pc, pa, pb, n0, true, true, true); break;
          case 6: whereRow(po, pc, pa, pb, n0, true, true, false); break;
          case 5: whereRow(po, pc, pa, pb, n0, true, false, true); break;
          case 4: whereRow(po, pc, pa, pb, n0, true, false, false); break;
          case 3: whereRow(po, pc, pa, pb, n0, false, true, true); break;
          case 2: whereRow(po, pc, pa, pb, n0, false, true, false); break;
          case 1: whereRow(po, pc, pa, pb, n0, false, false, true); break;
          default: whereRow(po, pc, pa, pb, n0, false, false, false); break;
        }
      } else {
        let qc = pc, qa = pa, qb = pb;
        for (let i = 0; i < n0; i++) {
          store<i32>(po + (<usize>i << 2), load<f32>(qc) != 0 ? load<i32>(qa) : load<i32>(qb));
          qc += dc0; qa += da0; qb += db0;
        }
      }
      po += rowBytes; pc += dc1; pa += da1; pb += db1;
    }
  }
}
