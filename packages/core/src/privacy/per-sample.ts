// Per-sample gradients from activations and output gradients (what Opacus calls grad samples).
// Each tracked layer's forward is wrapped on the instance: it saves its input and passes its output
// through an identity op whose backward saves dL/d(output). A layer rule then turns (input, output
// gradient) into per-sample gradient norms and the sum of clipped per-sample gradients, vectorised over
// the batch, without a per-sample backward:
//   Linear     g_i = Σ_t gy_itᵀ x_it; ‖g_i‖² = ‖gy_i‖²‖x_i‖² for one position, else Σ_ts (x_it·x_is)(gy_it·gy_is)
//              (never materialised); Σ_i c_i g_i = (c ⊙ gy)ᵀ x, one GEMM.
//   Conv2d     the same on the unfolded input (im2col): g_i = gy_i · cols_iᵀ, one batched GEMM.
//   Embedding  g_i = Σ_t onehot(idx_it) gy_itᵀ; ‖g_i‖² = Σ_ts [idx_it = idx_is] (gy_it·gy_is).
//   LayerNorm  g_i = Σ_t gy_it ⊙ x̂_it (weight), Σ_t gy_it (bias).
//   any other layer that owns parameters: a loop over the batch (one forward/backward of that layer
//   alone per sample, with its saved input and output gradient).
// see: Goodfellow, "Efficient per-example gradient computations" (2015); Lee & Kifer, "Scaling up
//      differentially private deep learning with fast per-example gradient clipping" (2021);
//      Li et al., "Large language models can be strong differentially private learners" (2022, ghost norm).
import { isGradEnabled, record } from '../autograd/graph.js';
import type { ConvGeometry } from '../backend/backend.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { keep, scope } from '../memory.js';
import { BatchNorm1d, BatchNorm2d, Conv2d, Embedding, LayerNorm, Linear } from '../nn/layers.js';
import * as F from '../nn/functional.js';
import { Module, isParameter } from '../nn/module.js';
import { contiguous, empty, release } from '../ops/core.js';
import { zeros } from '../ops/creation.js';
import { cat, stack } from '../ops/shape.js';
import { Tensor } from '../tensor.js';

/** How the loss was reduced over the batch: per-sample gradients undo a mean's 1/B. */
export type LossReduction = 'mean' | 'sum';

/** One forward call of a tracked layer: its inputs (detached) and, after backward, dL/d(output). */
interface Call {
  inputs: Tensor[];
  gy: Tensor | null;
}

/** What a rule computes for one layer over one step (tensors live in the caller's scope). */
interface LayerGrads {
  /** Per-sample squared norm of each parameter's gradient, [B] each. */
  sqNorms(): Tensor[];
  /** Σ_i c_i g_i for each parameter (c: [B] clip factors). */
  clippedSum(c: Tensor): Tensor[];
  /** The per-sample gradients [B, ...param.shape] for each parameter. */
  samples(): Tensor[];
}

type Rule = (layer: Module, params: Tensor[], calls: Call[], batch: number) => LayerGrads;

const ownParams = (m: Module): [string, Tensor][] =>
  Object.entries(m).filter(([, v]) => isParameter(v)) as [string, Tensor][];

/** [B, ...] → [B, T, last] (T = product of the middle dims; 1 for a 2-D tensor). */
const as3d = (t: Tensor, b: number): Tensor => t.reshape([b, -1, t.shape[t.ndim - 1]!]);

const sumRest = (t: Tensor): Tensor => (t.ndim === 1 ? t : t.reshape([t.shape[0]!, -1]).sum(1));

// ---- Linear -------------------------------------------------------------------------------------------
const linearRule: Rule = (layer, params, calls, b) => {
  const lin = layer as Linear;
  const x = cat(calls.map((c) => as3d(c.inputs[0]!, b)), 1); // [B, T, in]
  const gy = cat(calls.map((c) => as3d(c.gy!, b)), 1); // [B, T, out]
  const t = x.shape[1]!, inF = lin.inFeatures, outF = lin.outFeatures;
  const which = params.map((p) => (p === lin.weight ? 'weight' : 'bias'));
  return {
    sqNorms: () => which.map((w) => {
      if (w === 'bias') return gy.sum(1).square().sum(1);
      if (t === 1) return gy.square().sum([1, 2]).mul(x.square().sum([1, 2]));
      // NOTE: the ghost norm costs T²(in + out) per sample against T·in·out to materialise
      if (t * (inF + outF) < inF * outF) {
        return x.matmul(x.transpose(1, 2)).mul(gy.matmul(gy.transpose(1, 2))).sum([1, 2]);
      }
      return gy.transpose(1, 2).matmul(x).square().sum([1, 2]);
    }),
    clippedSum: (c) => {
      const gc = gy.mul(c.reshape([b, 1, 1]));
      return which.map((w) => (w === 'bias' ? gc.sum([0, 1])
        : gc.reshape([b * t, outF]).transpose(0, 1).matmul(x.reshape([b * t, inF]))));
    },
    samples: () => which.map((w) => (w === 'bias' ? gy.sum(1) : gy.transpose(1, 2).matmul(x))),
  };
};

// ---- Conv2d -------------------------------------------------------------------------------------------
const pairOf = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** im2col of every image: [B, groups, K, L] (no graph). */
function unfold(conv: Conv2d, x0: Tensor): Tensor {
  const [n, cIn, h, w] = x0.shape as [number, number, number, number];
  const groups = conv.options.groups, cg = cIn / groups;
  const [kh, kw] = conv.kernelSize;
  const [strideH, strideW] = pairOf(conv.options.stride as number);
  const [padH, padW] = pairOf(conv.options.padding as number);
  const [dilH, dilW] = pairOf(conv.options.dilation as number);
  const outH = Math.floor((h + 2 * padH - dilH * (kh - 1) - 1) / strideH) + 1;
  const outW = Math.floor((w + 2 * padW - dilW * (kw - 1) - 1) / strideW) + 1;
  const g: ConvGeometry = { C: cg, H: h, W: w, kh, kw, padH, padW, strideH, strideW, dilH, dilW, outH, outW };
  const k = cg * kh * kw, l = outH * outW;
  const x = contiguous(x0);
  const cols = empty([n, groups, k, l]);
  for (let i = 0; i < n; i++) {
    for (let gi = 0; gi < groups; gi++) {
      x.backend.im2col(cols.ptr + ((i * groups + gi) * k * l) * 4, x.ptr + ((i * cIn + gi * cg) * h * w) * 4, g);
    }
  }
  release(x, x0);
  return cols;
}

const convRule: Rule = (layer, params, calls, b) => {
  const conv = layer as Conv2d;
  const groups = conv.options.groups, o = conv.outChannels, og = o / groups;
  const cols = cat(calls.map((c) => unfold(conv, c.inputs[0]!)), 3); // [B, G, K, L]
  const gy = cat(calls.map((c) => c.gy!.reshape([b, o, -1])), 2); // [B, O, L]
  const k = cols.shape[2]!;
  let weightSamples: Tensor | null = null;
  const ws = (): Tensor => {
    if (weightSamples === null) {
      const parts: Tensor[] = [];
      for (let gi = 0; gi < groups; gi++) {
        const cg = cols.narrow(1, gi, 1).reshape([b, k, -1]);
        parts.push(gy.narrow(1, gi * og, og).matmul(cg.transpose(1, 2))); // [B, Og, K]
      }
      weightSamples = (parts.length === 1 ? parts[0]! : cat(parts, 1)).reshape([b, ...conv.weight.shape]);
    }
    return weightSamples;
  };
  const which = params.map((p) => (p === conv.weight ? 'weight' : 'bias'));
  const samples = () => which.map((w) => (w === 'bias' ? gy.sum(2) : ws()));
  return {
    sqNorms: () => samples().map(sumSquaresPerSample),
    clippedSum: (c) => samples().map((s) => s.mul(c.reshape([b, ...s.shape.slice(1).map(() => 1)])).sum(0)),
    samples,
  };
};

const sumSquaresPerSample = (s: Tensor): Tensor => sumRest(s.square());

// ---- Embedding ----------------------------------------------------------------------------------------
const embeddingRule: Rule = (layer, _params, calls, b) => {
  const emb = layer as Embedding;
  const v = emb.numEmbeddings, d = emb.embeddingDim;
  const idx = cat(calls.map((c) => c.inputs[0]!.reshape([b, -1])), 1); // [B, T] int32
  const gy = cat(calls.map((c) => c.gy!.reshape([b, -1, d])), 1); // [B, T, D]
  const t = idx.shape[1]!;
  /** Σ of g_it over each sample's positions into row idx_it, with the indexAdd kernel (embedding's
   * backward): one call per sample into [B, V, D] (perSample), or one over the batch into [V, D]. */
  const scatter = (g: Tensor, perSample: boolean): Tensor => {
    const ic = contiguous(idx), gc = contiguous(g);
    const out = zeros(perSample ? [b, v, d] : [v, d]);
    const be = out.backend;
    if (perSample) {
      for (let i = 0; i < b; i++) be.indexAdd(out.ptr + i * v * d * 4, ic.ptr + i * t * 4, gc.ptr + i * t * d * 4, 1, v, d, t);
    } else {
      be.indexAdd(out.ptr, ic.ptr, gc.ptr, 1, v, d, b * t);
    }
    release(ic, idx);
    release(gc, g);
    return out;
  };
  return {
    sqNorms: () => {
      const f = idx.float();
      const same = f.unsqueeze(2).eq(f.unsqueeze(1)); // [B, T, T]
      return [gy.matmul(gy.transpose(1, 2)).mul(same).sum([1, 2])];
    },
    clippedSum: (c) => [scatter(gy.mul(c.reshape([b, 1, 1])), false)],
    samples: () => [scatter(gy, true)],
  };
};

// ---- LayerNorm ----------------------------------------------------------------------------------------
const layerNormRule: Rule = (layer, params, calls, b) => {
  const ln = layer as LayerNorm;
  const parts = calls.map((c) => {
    const x = c.inputs[0]!;
    const xhat = F.layerNorm(x, ln.normalizedShape, null, null, ln.eps);
    const mid = x.shape.slice(1, x.ndim - ln.normalizedShape.length).map((_, i) => i + 1);
    const red = (t: Tensor) => (mid.length > 0 ? t.sum(mid) : t);
    return { w: red(c.gy!.mul(xhat)), b: red(c.gy!) };
  });
  const total = (key: 'w' | 'b') => parts.slice(1).reduce((acc, p) => acc.add(p[key]), parts[0]![key]);
  const samples = () => params.map((p) => total(p === ln.weight ? 'w' : 'b'));
  return {
    sqNorms: () => samples().map(sumSquaresPerSample),
    clippedSum: (c) => samples().map((s) => s.mul(c.reshape([b, ...s.shape.slice(1).map(() => 1)])).sum(0)),
    samples,
  };
};

// ---- fallback: a loop over the batch ------------------------------------------------------------------
function loopRule(original: (...inputs: Tensor[]) => Tensor, tracker: PerSampleGradients): Rule {
  return (_layer, params, calls, b) => {
    const per: Tensor[][] = params.map(() => []);
    tracker.withoutTaps(() => {
      const saved = params.map((p) => p.grad);
      params.forEach((p) => { p.grad = null; });
      try {
        for (let i = 0; i < b; i++) {
          const acc: (Tensor | null)[] = params.map(() => null);
          for (const call of calls) {
            const gi = scope(() => {
              const inputs = call.inputs.map((t) => (t.ndim > 0 && t.shape[0] === b ? t.narrow(0, i, 1) : t));
              const out = original(...inputs);
              out.backward(call.gy!.narrow(0, i, 1).contiguous());
              const grads = params.map((p) => p.grad?.contiguousCopy() ?? zeros(p.shape));
              params.forEach((p) => { p.grad?.dispose(); p.grad = null; });
              return grads;
            });
            gi.forEach((g, j) => { acc[j] = acc[j] === null ? g : acc[j]!.add(g); });
          }
          acc.forEach((g, j) => per[j]!.push(g!));
        }
      } finally {
        params.forEach((p, j) => { p.grad = saved[j]!; });
      }
    });
    const samples = () => per.map((gs) => stack(gs, 0));
    let cached: Tensor[] | null = null;
    const get = () => (cached ??= samples());
    return {
      sqNorms: () => get().map(sumSquaresPerSample),
      clippedSum: (c) => get().map((s) => s.mul(c.reshape([b, ...s.shape.slice(1).map(() => 1)])).sum(0)),
      samples: get,
    };
  };
}

// ---- the tracker --------------------------------------------------------------------------------------

interface Tracked {
  name: string;
  layer: Module;
  params: Tensor[];
  calls: Call[];
  rule: Rule;
  /** 'fast' for a vectorised rule, 'loop' for the fallback. */
  kind: 'fast' | 'loop';
}

/** Options of {@link PerSampleGradients}. */
export interface PerSampleOptions {
  /** Only these parameters get per-sample gradients (default: every parameter of the model). */
  params?: Iterable<Tensor>;
  /** How the loss is reduced over the batch (default 'mean': gradients are scaled back by B). */
  lossReduction?: LossReduction;
}

/**
 * Computes per-sample gradients for a model's parameters during an ordinary forward/backward.
 * Construct it on a model (it wraps the forward of each layer that owns parameters), run
 * `loss.backward()`, then read `norms()`, `samples()` or `clippedSum(maxNorm)`; `clear()` drops the
 * saved activations (do it every step), `detach()` restores the layers.
 *
 * Fast rules: Linear, Conv2d, Embedding, LayerNorm; any other layer with parameters uses a loop over
 * the batch. Batch normalisation mixes samples and is rejected (help: use LayerNorm).
 * While tracking, the fast-rule layers no longer fill `.grad` of their parameters in backward.
 *
 * @example
 * ```ts
 * const psg = new privacy.PerSampleGradients(model);
 * nn.functional.crossEntropy(model.forward(x), y).backward();
 * const grads = psg.samples(); // Map: parameter → [B, ...shape]
 * psg.clear();
 * ```
 */
export class PerSampleGradients {
  readonly lossReduction: LossReduction;
  private readonly tracked: Tracked[] = [];
  private readonly anchor: Tensor;
  private taps = true;
  private batch: number | null = null;

  constructor(readonly model: Module, options: PerSampleOptions = {}) {
    if (!(model instanceof Module)) throw new SimdgradError('PerSampleGradients: model must be an nn.Module');
    this.lossReduction = options.lossReduction ?? 'mean';
    if (this.lossReduction !== 'mean' && this.lossReduction !== 'sum') {
      throw new SimdgradError(`PerSampleGradients: lossReduction must be 'mean' or 'sum' (got ${JSON.stringify(this.lossReduction)})`);
    }
    const wanted = new Set(options.params ?? model.parameters());
    const owned = new Set<Tensor>();
    for (const [name, m] of model.namedModules()) {
      const own = ownParams(m).filter(([, p]) => wanted.has(p) && !owned.has(p));
      if (own.length === 0) continue;
      if (m instanceof BatchNorm1d || m instanceof BatchNorm2d) {
        throw new SimdgradError(`PerSampleGradients: ${name || 'the model'} is ${m.constructor.name}, which mixes the samples of a batch, so per-sample gradients are not defined (help: use nn.LayerNorm, or freeze it)`);
      }
      own.forEach(([, p]) => owned.add(p));
      this.track(name, m, own.map(([, p]) => p));
    }
    for (const p of wanted) {
      if (!owned.has(p)) throw new SimdgradError(`PerSampleGradients: a parameter of shape ${fmtShape(p.shape)} is not a field of any module of the model`);
    }
    this.anchor = keep(zeros([]));
    this.anchor.requiresGrad = true;
  }

  /** Names of the tracked layers and whether each uses a fast rule or the loop. */
  get layers(): { name: string; type: string; rule: 'fast' | 'loop' }[] {
    return this.tracked.map((t) => ({ name: t.name, type: t.layer.constructor.name, rule: t.kind }));
  }

  /** The parameters tracked, in model order. */
  get params(): Tensor[] {
    return this.tracked.flatMap((t) => t.params);
  }

  /** Batch size of the last recorded forward (null before any). */
  get batchSize(): number | null {
    return this.batch;
  }

  /** Whether a backward has filled the output gradients of the recorded calls. */
  get ready(): boolean {
    return this.tracked.some((t) => t.calls.some((c) => c.gy !== null));
  }

  private track(name: string, layer: Module, params: Tensor[]): void {
    const original = layer.forward.bind(layer) as (...inputs: Tensor[]) => Tensor;
    let rule: Rule, kind: 'fast' | 'loop' = 'fast';
    let forward: (inputs: Tensor[]) => Tensor;
    if (layer instanceof Linear) {
      rule = linearRule;
      forward = ([x]) => F.linear(x!, layer.weight.detach(), layer.bias?.detach());
    } else if (layer instanceof Conv2d) {
      rule = convRule;
      forward = ([x]) => F.conv2d(x!, layer.weight.detach(), layer.bias?.detach(), layer.options);
    } else if (layer instanceof Embedding) {
      rule = embeddingRule;
      forward = ([x]) => F.embedding(x!, layer.weight.detach());
    } else if (layer instanceof LayerNorm) {
      rule = layerNormRule;
      forward = ([x]) => F.layerNorm(x!, layer.normalizedShape, layer.weight?.detach(), layer.bias?.detach(), layer.eps);
    } else {
      rule = loopRule(original, this);
      kind = 'loop';
      forward = (inputs) => original(...inputs);
    }
    const entry: Tracked = { name, layer, params, calls: [], rule, kind };
    this.tracked.push(entry);
    const self = this;
    Object.defineProperty(layer, 'forward', {
      configurable: true, enumerable: false, writable: true,
      value: (...inputs: Tensor[]): Tensor => {
        if (!self.taps || !isGradEnabled()) return original(...inputs);
        const b = inputs[0]?.shape[0];
        if (b === undefined || inputs[0]!.ndim === 0) throw new SimdgradError(`PerSampleGradients: ${name || layer.constructor.name} got an input without a batch dim`);
        if (self.batch !== null && self.batch !== b) {
          if (self.ready) {
            throw new SimdgradError(`PerSampleGradients: batch size changed from ${self.batch} to ${b} within one step (help: call clear() between steps)`);
          }
          self.clear(); // forwards that never saw a backward (e.g. an evaluation with grad enabled)
        }
        self.batch = b;
        const y = forward(inputs);
        const call: Call = { inputs: inputs.map((t) => keep(t.detach())), gy: null };
        entry.calls.push(call);
        const scale = self.lossReduction === 'mean' ? b : 1;
        const out = y.detach();
        return record(out, 'perSampleTap', [y, self.anchor], (g) => {
          const saved = scale === 1 ? g.contiguousCopy() : g.mul(scale);
          if (call.gy === null) call.gy = keep(saved);
          else {
            const sum = keep(call.gy.add(saved));
            call.gy.dispose();
            call.gy = sum;
          }
          return [g, null];
        });
      },
    });
  }

  /** @internal runs fn with the layers' plain forwards (for the loop rule) */
  withoutTaps<T>(fn: () => T): T {
    const prev = this.taps;
    this.taps = false;
    try {
      return fn();
    } finally {
      this.taps = prev;
    }
  }

  /** The layer rules over the calls recorded since the last clear() (calls without a gradient are skipped). */
  private prepared(): { entry: Tracked; grads: LayerGrads }[] {
    if (this.batch === null || !this.ready) {
      throw new SimdgradError('PerSampleGradients: no per-sample data (help: run model.forward and loss.backward() first, with gradients enabled)');
    }
    const b = this.batch;
    const out: { entry: Tracked; grads: LayerGrads }[] = [];
    for (const entry of this.tracked) {
      const calls = entry.calls.filter((c) => c.gy !== null);
      if (calls.length === 0) continue;
      out.push({ entry, grads: entry.rule(entry.layer, entry.params, calls, b) });
    }
    return out;
  }

  /** Per-sample gradients, materialised: parameter → [B, ...param.shape]. */
  samples(): Map<Tensor, Tensor> {
    const out = new Map<Tensor, Tensor>();
    if (this.batch === 0) {
      for (const p of this.params) out.set(p, zeros([0, ...p.shape]));
      return out;
    }
    const list = scope(() => this.prepared().flatMap(({ entry, grads }) => {
      const s = grads.samples();
      return entry.params.map((p, i) => [p, s[i]!.contiguous()] as const);
    }));
    for (const [p, s] of list) out.set(p, s);
    return out;
  }

  /** The per-sample gradient norm over all tracked parameters: [B]. */
  norms(): Tensor {
    if (this.batch === 0) return zeros([0]);
    return scope(() => this.totalSqNorm(this.prepared()).sqrt());
  }

  private totalSqNorm(prep: { grads: LayerGrads }[]): Tensor {
    let total: Tensor | null = null;
    for (const { grads } of prep) for (const s of grads.sqNorms()) total = total === null ? s : total.add(s);
    return total ?? zeros([this.batch ?? 0]);
  }

  /**
   * Clips each sample's gradient (over all tracked parameters) to norm ≤ maxNorm and sums over the
   * batch: parameter → Σ_i min(1, maxNorm / ‖g_i‖) g_i. Also returns the per-sample norms.
   */
  clippedSum(maxNorm: number): { grads: Map<Tensor, Tensor>; norms: Float32Array } {
    if (typeof maxNorm !== 'number' || !(maxNorm > 0)) throw new SimdgradError(`clippedSum: maxNorm must be > 0 (got ${maxNorm})`);
    // an empty (Poisson-sampled) batch contributes nothing; the caller adds the noise alone
    if (this.batch === 0) return { grads: new Map(), norms: new Float32Array(0) };
    const [pairs, norms] = scope(() => {
      const prep = this.prepared();
      const norm = this.totalSqNorm(prep).sqrt();
      // NOTE: c = min(1, C / (‖g‖ + 1e-6)): the epsilon keeps zero gradients finite (Opacus's choice)
      const c = norm.add(1e-6).reciprocal().mul(maxNorm).clamp(null, 1);
      const list: [Tensor, Tensor][] = [];
      for (const { entry, grads } of prep) {
        const sums = grads.clippedSum(c);
        entry.params.forEach((p, i) => list.push([p, sums[i]!.reshape(p.shape).contiguous()]));
      }
      return [list, norm.toFloat32Array()] as const;
    });
    return { grads: new Map(pairs), norms };
  }

  /** Frees the saved activations and output gradients (call once per step). */
  clear(): void {
    for (const t of this.tracked) {
      for (const c of t.calls) {
        c.inputs.forEach((x) => x.dispose());
        c.gy?.dispose();
      }
      t.calls.length = 0;
    }
    this.batch = null;
  }

  /** Restores the layers' own forwards and frees everything saved. */
  detach(): void {
    this.clear();
    for (const t of this.tracked) delete (t.layer as unknown as Record<string, unknown>).forward;
    this.tracked.length = 0;
    this.anchor.dispose();
  }
}
