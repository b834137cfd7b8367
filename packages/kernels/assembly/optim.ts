// Fused optimizer steps: one call updates a parameter, reads its gradient and updates the optimizer
// state buffers in place, for n contiguous f32 elements. Plus the partial norm used by gradient
// clipping. The contract (export names, argument order) is src/abi.ts.
//
// Design
// - Each step is PyTorch's single-tensor algorithm (torch/optim/*.py, `_single_tensor_*`), written
//   with the same operation order in f32 (mul then add, never fused, so the relaxed and plain builds
//   give the same bits). Hyperparameters arrive as f64 and scalar combinations of them (1 - lr·wd,
//   lr / biasCorrection1, √biasCorrection2) are formed in f64 once, then rounded to f32.
// - One body per optimizer, `@inline` with a constant `tail` flag: the main loop runs it on f32x4, the
//   0..3 leftover elements run the SAME code on a splatted lane and store lane 0, so an element's result
//   never depends on its position in the buffer.
// - Flags (momentum on/off, nesterov, amsgrad, centered…) are loop-invariant branches; the steps are
//   memory-bound (3–5 streams per element), so specialising every flag combination would buy nothing.
// - State buffers an option does not use may be 0 (never read or written).

// @ts-ignore: decorator
@inline function splat(c: f32): v128 { return f32x4.splat(c); }
/** 16-byte load in the main loop; one f32 splatted in the tail. */
// @ts-ignore: decorator
@inline function ld(p: usize, tail: bool): v128 { return tail ? v128.load32_splat(p) : v128.load(p); }
/** 16-byte store in the main loop; lane 0 only in the tail. */
// @ts-ignore: decorator
@inline function st(p: usize, v: v128, tail: bool): void {
  if (tail) store<f32>(p, f32x4.extract_lane(v, 0));
  else v128.store(p, v);
}
// @ts-ignore: decorator
@inline function add(a: v128, b: v128): v128 { return f32x4.add(a, b); }
// @ts-ignore: decorator
@inline function mul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }

// ------------------------------------------------------------------------------ SGD

// @ts-ignore: decorator
@inline function sgdBody(o: usize, p: usize, g: usize, buf: usize, tail: bool, lr: v128, momentum: v128,
  oneMinusDampening: v128, weightDecay: v128, sign: v128, hasWeightDecay: bool, hasMomentum: bool,
  nesterov: bool, firstStep: bool): void {
  const pv = ld(p + o, tail);
  let d = mul(ld(g + o, tail), sign);
  if (hasWeightDecay) d = add(d, mul(weightDecay, pv));
  if (hasMomentum) {
    let b: v128;
    if (firstStep) b = d;
    else b = add(mul(ld(buf + o, tail), momentum), mul(d, oneMinusDampening));
    st(buf + o, b, tail);
    d = nesterov ? add(d, mul(b, momentum)) : b;
  }
  st(p + o, f32x4.sub(pv, mul(lr, d)), tail);
}

/**
 * SGD (torch.optim.SGD): d = ±g + wd·p; with momentum, buf = firstStep ? d : μ·buf + (1 − τ)·d and
 * d = nesterov ? d + μ·buf : buf; then p −= lr·d. `buf` is unused (may be 0) when momentum is 0.
 */
export function sgdStepF32(p: usize, g: usize, buf: usize, n: i32, lr: f64, momentum: f64, dampening: f64,
  weightDecay: f64, nesterov: i32, firstStep: i32, maximize: i32): void {
  const vLr = splat(<f32>lr), vMom = splat(<f32>momentum), vDamp = splat(<f32>(1.0 - dampening));
  const vWd = splat(<f32>weightDecay), vSign = splat(maximize ? -1.0 : 1.0);
  const hasWd = weightDecay != 0, hasMom = momentum != 0, nest = nesterov != 0, first = firstStep != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    sgdBody(<usize>i << 2, p, g, buf, false, vLr, vMom, vDamp, vWd, vSign, hasWd, hasMom, nest, first);
  }
  for (; i < n; i++) {
    sgdBody(<usize>i << 2, p, g, buf, true, vLr, vMom, vDamp, vWd, vSign, hasWd, hasMom, nest, first);
  }
}

// ------------------------------------------------------------------------------ Adam / AdamW

// @ts-ignore: decorator
@inline function adamBody(o: usize, p: usize, g: usize, m: usize, v: usize, vmax: usize, tail: bool,
  decay: v128, weightDecay: v128, beta1: v128, oneMinusBeta1: v128, beta2: v128, oneMinusBeta2: v128,
  bc2Sqrt: v128, eps: v128, negStepSize: v128, sign: v128, decoupled: bool, coupled: bool, amsgrad: bool): void {
  let pv = ld(p + o, tail);
  let d = mul(ld(g + o, tail), sign);
  if (decoupled) pv = mul(pv, decay);
  else if (coupled) d = add(d, mul(weightDecay, pv));
  const mv = add(mul(ld(m + o, tail), beta1), mul(d, oneMinusBeta1));
  let vv = add(mul(ld(v + o, tail), beta2), mul(mul(d, d), oneMinusBeta2));
  st(m + o, mv, tail);
  st(v + o, vv, tail);
  if (amsgrad) {
    vv = f32x4.max(ld(vmax + o, tail), vv);
    st(vmax + o, vv, tail);
  }
  const denom = add(f32x4.div(f32x4.sqrt(vv), bc2Sqrt), eps);
  st(p + o, add(pv, mul(negStepSize, f32x4.div(mv, denom))), tail);
}

/**
 * Adam (decoupled = 0) and AdamW (decoupled = 1), torch.optim.Adam/AdamW:
 * d = ±g (+ wd·p for Adam; AdamW first scales p by 1 − lr·wd); m = β1·m + (1 − β1)·d;
 * v = β2·v + (1 − β2)·d²; with amsgrad vmax = max(vmax, v) replaces v below;
 * p += −(lr / bc1) · m / (√v / √bc2 + eps), where bc1 = 1 − β1^t and bc2 = 1 − β2^t.
 * `vmax` is unused (may be 0) without amsgrad.
 */
export function adamStepF32(p: usize, g: usize, m: usize, v: usize, vmax: usize, n: i32, lr: f64, beta1: f64,
  beta2: f64, eps: f64, weightDecay: f64, decoupled: i32, amsgrad: i32, biasCorrection1: f64,
  biasCorrection2: f64, maximize: i32): void {
  const dec = decoupled != 0 && weightDecay != 0, cpl = decoupled == 0 && weightDecay != 0, ams = amsgrad != 0;
  const vDecay = splat(<f32>(1.0 - lr * weightDecay)), vWd = splat(<f32>weightDecay);
  const vB1 = splat(<f32>beta1), vOmB1 = splat(<f32>(1.0 - beta1));
  const vB2 = splat(<f32>beta2), vOmB2 = splat(<f32>(1.0 - beta2));
  const vBc2 = splat(<f32>Math.sqrt(biasCorrection2)), vEps = splat(<f32>eps);
  const vNegStep = splat(<f32>(-lr / biasCorrection1)), vSign = splat(maximize ? -1.0 : 1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    adamBody(<usize>i << 2, p, g, m, v, vmax, false, vDecay, vWd, vB1, vOmB1, vB2, vOmB2, vBc2, vEps, vNegStep, vSign,
      dec, cpl, ams);
  }
  for (; i < n; i++) {
    adamBody(<usize>i << 2, p, g, m, v, vmax, true, vDecay, vWd, vB1, vOmB1, vB2, vOmB2, vBc2, vEps, vNegStep, vSign,
      dec, cpl, ams);
  }
}

// ------------------------------------------------------------------------------ RMSprop

// @ts-ignore: decorator
@inline function rmspropBody(o: usize, p: usize, g: usize, sq: usize, gavg: usize, buf: usize, tail: bool,
  negLr: v128, alpha: v128, oneMinusAlpha: v128, eps: v128, weightDecay: v128, momentum: v128, sign: v128,
  hasWeightDecay: bool, hasMomentum: bool, centered: bool): void {
  const pv = ld(p + o, tail);
  let d = mul(ld(g + o, tail), sign);
  if (hasWeightDecay) d = add(d, mul(weightDecay, pv));
  const s = add(mul(ld(sq + o, tail), alpha), mul(mul(d, d), oneMinusAlpha));
  st(sq + o, s, tail);
  let avg: v128;
  if (centered) {
    const ga = add(mul(ld(gavg + o, tail), alpha), mul(d, oneMinusAlpha));
    st(gavg + o, ga, tail);
    avg = add(f32x4.sqrt(f32x4.sub(s, mul(ga, ga))), eps);
  } else {
    avg = add(f32x4.sqrt(s), eps);
  }
  if (hasMomentum) {
    const b = add(mul(ld(buf + o, tail), momentum), f32x4.div(d, avg));
    st(buf + o, b, tail);
    st(p + o, add(pv, mul(negLr, b)), tail);
  } else {
    st(p + o, add(pv, mul(negLr, f32x4.div(d, avg))), tail);
  }
}

/**
 * RMSprop (torch.optim.RMSprop): d = ±g + wd·p; sq = α·sq + (1 − α)·d²; centered: gavg = α·gavg + (1 − α)·d
 * and avg = √(sq − gavg²) + eps, else avg = √sq + eps; with momentum buf = μ·buf + d / avg and p −= lr·buf,
 * else p −= lr · d / avg. `gavg` (without centered) and `buf` (without momentum) may be 0.
 */
export function rmspropStepF32(p: usize, g: usize, sq: usize, gavg: usize, buf: usize, n: i32, lr: f64, alpha: f64,
  eps: f64, weightDecay: f64, momentum: f64, centered: i32, maximize: i32): void {
  const vNegLr = splat(<f32>-lr), vA = splat(<f32>alpha), vOmA = splat(<f32>(1.0 - alpha)), vEps = splat(<f32>eps);
  const vWd = splat(<f32>weightDecay), vMom = splat(<f32>momentum), vSign = splat(maximize ? -1.0 : 1.0);
  const hasWd = weightDecay != 0, hasMom = momentum > 0, cen = centered != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    rmspropBody(<usize>i << 2, p, g, sq, gavg, buf, false, vNegLr, vA, vOmA, vEps, vWd, vMom, vSign, hasWd, hasMom, cen);
  }
  for (; i < n; i++) {
    rmspropBody(<usize>i << 2, p, g, sq, gavg, buf, true, vNegLr, vA, vOmA, vEps, vWd, vMom, vSign, hasWd, hasMom, cen);
  }
}

// ------------------------------------------------------------------------------ Adagrad

// @ts-ignore: decorator
@inline function adagradBody(o: usize, p: usize, g: usize, sum: usize, tail: bool, negClr: v128, eps: v128,
  weightDecay: v128, sign: v128, hasWeightDecay: bool): void {
  const pv = ld(p + o, tail);
  let d = mul(ld(g + o, tail), sign);
  if (hasWeightDecay) d = add(d, mul(weightDecay, pv));
  const s = add(ld(sum + o, tail), mul(d, d));
  st(sum + o, s, tail);
  const std = add(f32x4.sqrt(s), eps);
  st(p + o, add(pv, mul(negClr, f32x4.div(d, std))), tail);
}

/**
 * Adagrad (torch.optim.Adagrad): d = ±g + wd·p; sum += d²; p −= clr · d / (√sum + eps), where the caller
 * passes clr = lr / (1 + (t − 1)·lrDecay).
 */
export function adagradStepF32(p: usize, g: usize, sum: usize, n: i32, clr: f64, weightDecay: f64, eps: f64,
  maximize: i32): void {
  const vNegClr = splat(<f32>-clr), vEps = splat(<f32>eps), vWd = splat(<f32>weightDecay);
  const vSign = splat(maximize ? -1.0 : 1.0), hasWd = weightDecay != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) adagradBody(<usize>i << 2, p, g, sum, false, vNegClr, vEps, vWd, vSign, hasWd);
  for (; i < n; i++) adagradBody(<usize>i << 2, p, g, sum, true, vNegClr, vEps, vWd, vSign, hasWd);
}

// ------------------------------------------------------------------------------ norms (gradient clipping)

/**
 * Σ |x|^normType over n f32s, accumulated in f64; for normType = +∞ the max |x| instead (NaN propagates).
 * normType 2 and 1 have vector paths; other positive values call pow per element.
 */
export function normPartialF32(x: usize, n: i32, normType: f64): f64 {
  let i = 0;
  if (normType == Infinity) {
    let mv = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) mv = f32x4.max(mv, f32x4.abs(v128.load(x + (<usize>i << 2))));
    let m = Mathf.max(Mathf.max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      Mathf.max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; i < n; i++) m = Mathf.max(m, Mathf.abs(load<f32>(x + (<usize>i << 2))));
    return <f64>m;
  }
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  if (normType == 2) {
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const lo = f64x2.promote_low_f32x4(v);
      const hi = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1));
      a0 = f64x2.add(a0, f64x2.mul(lo, lo));
      a1 = f64x2.add(a1, f64x2.mul(hi, hi));
    }
  } else if (normType == 1) {
    for (; i + 4 <= n; i += 4) {
      const v = f32x4.abs(v128.load(x + (<usize>i << 2)));
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
    }
  }
  const s = f64x2.add(a0, a1);
  let acc = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const a = Math.abs(<f64>load<f32>(x + (<usize>i << 2)));
    acc += normType == 2 ? a * a : normType == 1 ? a : Math.pow(a, normType);
  }
  return acc;
}
