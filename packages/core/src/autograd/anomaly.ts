// Anomaly detection (PyTorch's `torch.autograd.detect_anomaly`): while it is on, every op recorded in
// the graph has its output checked for NaN/Inf in forward, and every gradient a backward rule returns is
// checked in backward; the first non-finite value stops the run with an error naming the op.
// The check is one `countNonFinite` kernel call per tensor (no JS loop on the hot path); the values are
// read into JavaScript only on the error path, to say how many NaN and Inf there are.
import { SimdgradError, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';

let depth = 0;
let switchedOn = false;

/** Whether anomaly detection is on (inside `detectAnomaly(fn)` or after `setDetectAnomaly(true)`). */
export function isAnomalyEnabled(): boolean {
  return switchedOn || depth > 0;
}

/**
 * Turns anomaly detection on or off for everything that follows (PyTorch's `set_detect_anomaly`).
 * Prefer {@link detectAnomaly} for a block of code.
 */
export function setDetectAnomaly(mode: boolean): void {
  if (typeof mode !== 'boolean') throw new SimdgradError(`setDetectAnomaly: mode must be true or false (got ${String(mode)})`);
  switchedOn = mode;
}

/**
 * Runs `fn` with anomaly detection on and returns what it returns: every op recorded in the graph checks
 * its output for NaN/Inf, and `backward()` checks every gradient, throwing a SimdgradError that names
 * the op that first produced a non-finite value, e.g. `detectAnomaly: log produced NaN in its output
 * (1 of 3 elements, shape [3])` or `detectAnomaly: the gradient of sqrt (backward) has Inf …`.
 * Costs one extra kernel pass per op output and gradient; use it to debug, not in production.
 * An async `fn` is supported (detection stays on until its promise settles).
 *
 * NOTE: only ops that record a graph (an input requires grad, outside `noGrad()`) are checked in
 * forward; a NaN already present in a leaf (data, parameters) is reported as such by the first op
 * that reads it.
 *
 * @example
 * ```ts
 * const x = tensor([1, -1, 4], { requiresGrad: true });
 * autograd.detectAnomaly(() => x.log().sum().backward());
 * // throws: detectAnomaly: log produced NaN in its output (1 of 3 elements, shape [3])
 * ```
 */
export function detectAnomaly<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new SimdgradError(`detectAnomaly: expected a function to run (got ${fn === null ? 'null' : typeof fn})`);
  depth++;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    depth--;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => { depth--; }) as T;
  }
  depth--;
  return result;
}

/** Counts of NaN and ±Inf in a float32 tensor, or null when every element is finite. */
function nonFinite(t: Tensor): { nan: number; inf: number } | null {
  if (t.dtype !== 'float32' || t.size === 0 || t.disposed) return null;
  const c = t.isContiguous() ? t : t.contiguousCopy();
  try {
    if (c.backend.countNonFinite(c.ptr, c.size) === 0) return null;
    // the error path only: read the values to tell NaN from Inf
    const v = c.toFloat32Array();
    let nan = 0, inf = 0;
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i]!)) nan++;
      else if (!Number.isFinite(v[i]!)) inf++;
    }
    return { nan, inf };
  } finally {
    if (c !== t) c.dispose();
  }
}

function what(c: { nan: number; inf: number }): string {
  return c.nan > 0 && c.inf > 0 ? 'NaN and Inf' : c.nan > 0 ? 'NaN' : 'Inf';
}

function counts(c: { nan: number; inf: number }, t: Tensor): string {
  const parts = c.nan > 0 && c.inf > 0 ? `${c.nan} NaN, ${c.inf} Inf of ${t.size} elements` : `${c.nan + c.inf} of ${t.size} elements`;
  return `${parts}, shape ${fmtShape(t.shape)}`;
}

/**
 * @internal forward check of an op's output (called by `record` when detection is on). Blames the
 * op, unless one of its inputs already held the non-finite values (a leaf or a tensor made without grad).
 */
export function checkForward(name: string, out: Tensor, inputs: readonly Tensor[]): void {
  const bad = nonFinite(out);
  if (bad === null) return;
  for (let i = 0; i < inputs.length; i++) {
    const inBad = nonFinite(inputs[i]!);
    if (inBad !== null) {
      const source = inputs[i]!.node === null ? 'a leaf tensor (data or a parameter)' : `made by ${inputs[i]!.node!.name}`;
      throw new SimdgradError(`detectAnomaly: input ${i} of ${name} already has ${what(inBad)} (${counts(inBad, inputs[i]!)}; ${source}) ` +
        '(help: check the data and the parameters, e.g. after a too-large learning rate)');
    }
  }
  throw new SimdgradError(`detectAnomaly: ${name} produced ${what(bad)} in its output (${counts(bad, out)})`);
}

/** @internal backward check of the gradient a node's rule returned for its input `i`. */
export function checkBackward(name: string, grad: Tensor, i: number): void {
  const bad = nonFinite(grad);
  if (bad === null) return;
  throw new SimdgradError(`detectAnomaly: the gradient of ${name} (backward) has ${what(bad)} in the gradient of its input ${i} (${counts(bad, grad)})`);
}

/** @internal checks a gradient that no backward rule made: the one passed to backward(), or a sum of two. */
export function checkGradient(grad: Tensor, where: string): void {
  const bad = nonFinite(grad);
  if (bad === null) return;
  throw new SimdgradError(`detectAnomaly: ${where} has ${what(bad)} (${counts(bad, grad)})`);
}
