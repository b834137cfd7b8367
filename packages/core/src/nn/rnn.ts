// Recurrent layers as PyTorch's nn.RNN, nn.LSTM and nn.GRU: batch-first by default, multi-layer,
// parameters weight_ih_l{k} [G·H, in], weight_hh_l{k} [G·H, H], bias_ih_l{k}, bias_hh_l{k}, all
// initialised uniform(±1/√H); gate order LSTM i, f, g, o and GRU r, z, n.
// The input projection of every time step is one matmul before the loop; the loop does h·W_hhᵀ.
// The LSTM records its whole sequence as one graph node (see lstmSequence): per-step nodes would give
// every step's slice of the projection a full-size zero gradient to accumulate (T² work).
import { noGrad, record } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { empty } from '../ops/core.js';
import { zeros } from '../ops/creation.js';
import { binary } from '../ops/elementwise.js';
import { cat, stack } from '../ops/shape.js';
import { Tensor } from '../tensor.js';
import * as F from './functional.js';
import * as init from './init.js';
import { Module, parameter } from './module.js';

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  /** Inputs [B, T, in] (default true here; PyTorch's default is false). */
  batchFirst?: boolean;
  /** Dropout on the outputs of every layer but the last (training only). */
  dropout?: number;
  /** RNN only: 'tanh' (default) or 'relu'. */
  nonlinearity?: 'tanh' | 'relu';
}

/** Hidden state: h [numLayers, B, H], and for the LSTM also the cell state c. */
export interface RNNState {
  h: Tensor;
  c?: Tensor;
}

abstract class RNNBase extends Module {
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  constructor(readonly inputSize: number, readonly hiddenSize: number, options: RNNOptions, protected readonly gates: number) {
    super();
    const name = this.constructor.name;
    if (!Number.isInteger(inputSize) || inputSize < 1) throw new SimdgradError(`${name}: inputSize must be a positive integer (got ${inputSize})`);
    if (!Number.isInteger(hiddenSize) || hiddenSize < 1) throw new SimdgradError(`${name}: hiddenSize must be a positive integer (got ${hiddenSize})`);
    this.numLayers = options.numLayers ?? 1;
    if (!Number.isInteger(this.numLayers) || this.numLayers < 1) throw new SimdgradError(`${name}: numLayers must be a positive integer (got ${this.numLayers})`);
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? true;
    this.dropout = options.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new SimdgradError(`${name}: dropout must be in [0, 1] (got ${this.dropout})`);
    const bound = 1 / Math.sqrt(hiddenSize);
    const self = this as unknown as Record<string, Tensor>;
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? inputSize : hiddenSize;
      self[`weight_ih_l${l}`] = parameter(init.uniform(empty([gates * hiddenSize, inSize]), -bound, bound));
      self[`weight_hh_l${l}`] = parameter(init.uniform(empty([gates * hiddenSize, hiddenSize]), -bound, bound));
      if (this.bias) {
        self[`bias_ih_l${l}`] = parameter(init.uniform(empty([gates * hiddenSize]), -bound, bound));
        self[`bias_hh_l${l}`] = parameter(init.uniform(empty([gates * hiddenSize]), -bound, bound));
      }
    }
  }

  protected weights(l: number): { wih: Tensor; whh: Tensor; bih: Tensor | null; bhh: Tensor | null } {
    const self = this as unknown as Record<string, Tensor | undefined>;
    return { wih: self[`weight_ih_l${l}`]!, whh: self[`weight_hh_l${l}`]!, bih: self[`bias_ih_l${l}`] ?? null, bhh: self[`bias_hh_l${l}`] ?? null };
  }

  /** One time step of one layer: (input projection xW_ihᵀ + b_ih at t, state) → new state. */
  protected abstract cell(xProj: Tensor, h: Tensor, c: Tensor | null, l: number): [Tensor, Tensor | null];

  /**
   * One layer over the whole sequence: proj [B, T, G·H] (every step's xW_ihᵀ + b_ih) and the initial
   * state → the outputs [B, T, H] and the final state. By default one {@link cell} per step.
   */
  protected sequence(proj: Tensor, h: Tensor, c: Tensor | null, l: number): { out: Tensor; h: Tensor; c: Tensor | null } {
    const outs: Tensor[] = [];
    for (let t = 0; t < proj.shape[1]!; t++) {
      [h, c] = this.cell(proj.narrow(1, t, 1).squeeze(1), h, c, l);
      outs.push(h);
    }
    return { out: stack(outs, 1), h, c };
  }

  /** x [B, T, in] → output [B, T, H] (top layer's h at every step). */
  forward(x: Tensor, state?: RNNState | Tensor): Tensor;
  forward(...inputs: Tensor[]): Tensor;
  forward(x: Tensor, state?: RNNState | Tensor): Tensor {
    const s = state === undefined ? undefined : state instanceof Tensor ? { h: state } : state;
    return this.forwardWithState(x, s)[0];
  }

  /** Like PyTorch's call: returns [output [B, T, H], final state {h, c?} each [numLayers, B, H]]. */
  forwardWithState(x: Tensor, state?: RNNState): [Tensor, RNNState] {
    const name = this.constructor.name;
    if (!this.batchFirst) x = x.transpose(0, 1);
    if (x.ndim !== 3 || x.shape[2] !== this.inputSize) throw new SimdgradError(`${name}: expected input [B, T, ${this.inputSize}] (got ${fmtShape(x.shape)})`);
    const b = x.shape[0]!, steps = x.shape[1]!, hs = this.hiddenSize;
    const isLstm = this.gates === 4;
    for (const [k, t] of Object.entries(state ?? {})) {
      if (t && (t.ndim !== 3 || t.shape[0] !== this.numLayers || t.shape[1] !== b || t.shape[2] !== hs)) {
        throw new SimdgradError(`${name}: initial ${k} must be [${this.numLayers}, ${b}, ${hs}] (got ${fmtShape(t.shape)})`);
      }
    }
    if (steps === 0) throw new SimdgradError(`${name}: the sequence is empty`);
    const hN: Tensor[] = [], cN: Tensor[] = [];
    let layerInput = x;
    for (let l = 0; l < this.numLayers; l++) {
      const { wih, bih } = this.weights(l);
      const proj = F.linear(layerInput, wih, bih); // [B, T, G·H] for every step at once
      const h0 = state?.h ? state.h.narrow(0, l, 1).squeeze(0) : zeros([b, hs]);
      const c0 = isLstm ? (state?.c ? state.c.narrow(0, l, 1).squeeze(0) : zeros([b, hs])) : null;
      const { out, h, c } = this.sequence(proj, h0, c0, l);
      hN.push(h);
      if (c) cN.push(c);
      layerInput = out;
      if (this.dropout > 0 && this.training && l < this.numLayers - 1) layerInput = F.dropout(layerInput, this.dropout, true);
    }
    const out = this.batchFirst ? layerInput : layerInput.transpose(0, 1);
    return [out, isLstm ? { h: stack(hN, 0), c: stack(cN, 0) } : { h: stack(hN, 0) }];
  }

  override extraRepr(): string {
    return `${this.inputSize}, ${this.hiddenSize}${this.numLayers !== 1 ? `, num_layers=${this.numLayers}` : ''}, batch_first=${this.batchFirst}` +
      `${this.bias ? '' : ', bias=False'}${this.dropout ? `, dropout=${this.dropout}` : ''}`;
  }
}

/**
 * Elman RNN: h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh).
 *
 * @example
 * ```ts
 * const rnn = new nn.RNN(8, 16, { numLayers: 2 });
 * const [out, { h }] = rnn.forwardWithState(x); // x [B, T, 8] → out [B, T, 16], h [2, B, 16]
 * ```
 */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super(inputSize, hiddenSize, options, 1);
    this.nonlinearity = options.nonlinearity ?? 'tanh';
    if (this.nonlinearity !== 'tanh' && this.nonlinearity !== 'relu') throw new SimdgradError(`RNN: nonlinearity must be 'tanh' or 'relu' (got ${String(this.nonlinearity)})`);
  }
  protected cell(xProj: Tensor, h: Tensor, _c: Tensor | null, l: number): [Tensor, null] {
    const { whh, bhh } = this.weights(l);
    const pre = xProj.add(F.linear(h, whh, bhh));
    return [this.nonlinearity === 'tanh' ? pre.tanh() : pre.relu(), null];
  }
}

/**
 * Long short-term memory (see: Hochreiter & Schmidhuber 1997; PyTorch's formulation):
 * i, f, g, o = σ, σ, tanh, σ of (x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) split in four;
 * c' = f⊙c + i⊙g; h' = o⊙tanh(c').
 */
export class LSTM extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super(inputSize, hiddenSize, options, 4);
  }
  protected cell(xProj: Tensor, h: Tensor, c: Tensor | null, l: number): [Tensor, Tensor] {
    const { whh, bhh } = this.weights(l);
    const hs = this.hiddenSize;
    const g = xProj.add(F.linear(h, whh, bhh));
    const i = g.narrow(1, 0, hs).sigmoid(), f = g.narrow(1, hs, hs).sigmoid();
    const cand = g.narrow(1, 2 * hs, hs).tanh(), o = g.narrow(1, 3 * hs, hs).sigmoid();
    const c2 = f.mul(c!).add(i.mul(cand));
    return [o.mul(c2.tanh()), c2];
  }

  protected override sequence(proj: Tensor, h: Tensor, c: Tensor | null, l: number): { out: Tensor; h: Tensor; c: Tensor } {
    const { whh, bhh } = this.weights(l);
    const z = lstmSequence(proj, h, c!, whh, bhh);
    const steps = proj.shape[1]!;
    // z is time-major [T + 1, B, H]: the outputs h_1…h_T, then the final cell state.
    return { out: z.narrow(0, 0, steps).transpose(0, 1), h: z.narrow(0, steps - 1, 1).squeeze(0), c: z.narrow(0, steps, 1).squeeze(0) };
  }
}

/** 1 − x in one kernel call (the fused scalar affine). */
const oneMinus = (x: Tensor): Tensor => binary('sub', 1, x);

/**
 * An LSTM layer over a whole sequence as one graph node. proj [B, T, 4H] holds x_t·W_ihᵀ + b_ih for
 * every step; returns z [T + 1, B, H] = h_1…h_T and the final c_T. The forward runs step by step
 * without recording and keeps the gate activations; the backward walks the steps in reverse with the
 * gates' gradients, then forms dW_hh as one matmul over all steps and d(proj) as those gradients.
 * see: the LSTM backward in e.g. Graves 2012, "Supervised Sequence Labelling with RNNs", §4.6.
 */
function lstmSequence(proj: Tensor, h0: Tensor, c0: Tensor, whh: Tensor, bhh: Tensor | null): Tensor {
  const b = proj.shape[0]!, steps = proj.shape[1]!, hs = whh.shape[1]!;
  const sig: Tensor[] = [], cand: Tensor[] = [], cs: Tensor[] = [], tcs: Tensor[] = [], hsOut: Tensor[] = [];
  const z = noGrad(() => {
    // Time-major, with b_hh folded in: each step's slice is contiguous.
    const pt = bhh ? proj.transpose(0, 1).add(bhh) : proj.transpose(0, 1).contiguous();
    const whhT = whh.transpose(0, 1);
    let h = h0, c = c0;
    for (let t = 0; t < steps; t++) {
      const pre = pt.narrow(0, t, 1).squeeze(0).add(h.matmul(whhT));
      const s = pre.sigmoid(); // i, f and o are read from here; its g quarter is unused
      const g = pre.narrow(1, 2 * hs, hs).tanh();
      c = s.narrow(1, hs, hs).mul(c).add(s.narrow(1, 0, hs).mul(g));
      const tc = c.tanh();
      h = s.narrow(1, 3 * hs, hs).mul(tc);
      sig.push(s); cand.push(g); cs.push(c); tcs.push(tc); hsOut.push(h);
    }
    return cat([...hsOut, c].map((x) => x.unsqueeze(0)), 0);
  });
  const inputs = bhh ? [proj, h0, c0, whh, bhh] : [proj, h0, c0, whh];
  return record(z, 'lstm', inputs, (gz) => {
    const g = gz.contiguous();
    let dh: Tensor | null = null;
    let dc = g.narrow(0, steps, 1).squeeze(0);
    const dGates: Tensor[] = new Array(steps);
    for (let t = steps - 1; t >= 0; t--) {
      const gOut = g.narrow(0, t, 1).squeeze(0);
      dh = dh === null ? gOut : dh.add(gOut);
      const s = sig[t]!, gt = cand[t]!, tc = tcs[t]!, cPrev = t > 0 ? cs[t - 1]! : c0;
      const i = s.narrow(1, 0, hs), f = s.narrow(1, hs, hs), o = s.narrow(1, 3 * hs, hs);
      // c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t)
      const dcTotal = dc.add(dh.mul(o).mul(oneMinus(tc.square())));
      // NOTE: σ' = σ(1 − σ) for i, f, o (from the saved σ); tanh' = 1 − g² for g.
      const sd = s.mul(oneMinus(s));
      const dPre = cat([
        dcTotal.mul(gt).mul(sd.narrow(1, 0, hs)), dcTotal.mul(cPrev).mul(sd.narrow(1, hs, hs)),
        dcTotal.mul(i).mul(oneMinus(gt.square())), dh.mul(tc).mul(sd.narrow(1, 3 * hs, hs)),
      ], 1);
      dGates[t] = dPre;
      dc = dcTotal.mul(f);
      dh = dPre.matmul(whh);
    }
    const dProj = stack(dGates, 1); // [B, T, 4H]
    let dWhh: Tensor | null = null;
    if (whh.requiresGrad) {
      const hPrev = stack([h0, ...hsOut.slice(0, steps - 1)], 1).reshape([b * steps, hs]);
      dWhh = dProj.reshape([b * steps, 4 * hs]).transpose(0, 1).matmul(hPrev);
    }
    const grads: (Tensor | null)[] = [dProj, h0.requiresGrad ? dh : null, c0.requiresGrad ? dc : null, dWhh];
    if (bhh) grads.push(bhh.requiresGrad ? dProj.sum([0, 1]) : null);
    return grads;
  }, [...sig, ...cand, ...cs, ...tcs, ...hsOut]);
}


/**
 * Gated recurrent unit (see: Cho et al. 2014; PyTorch's formulation, r applied after W_hn):
 * r = σ(x_r + h_r), z = σ(x_z + h_z), n = tanh(x_n + r⊙(h·W_hnᵀ + b_hn)), h' = (1 − z)⊙n + z⊙h.
 */
export class GRU extends RNNBase {
  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super(inputSize, hiddenSize, options, 3);
  }
  protected cell(xProj: Tensor, h: Tensor, _c: Tensor | null, l: number): [Tensor, null] {
    const { whh, bhh } = this.weights(l);
    const hs = this.hiddenSize;
    const hp = F.linear(h, whh, bhh);
    const r = xProj.narrow(1, 0, hs).add(hp.narrow(1, 0, hs)).sigmoid();
    const z = xProj.narrow(1, hs, hs).add(hp.narrow(1, hs, hs)).sigmoid();
    const n = xProj.narrow(1, 2 * hs, hs).add(r.mul(hp.narrow(1, 2 * hs, hs))).tanh();
    // h' = n + z⊙(h − n)
    return [n.add(z.mul(h.sub(n))), null];
  }
}
