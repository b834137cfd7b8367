// Learning-rate schedulers: each `step()` writes a new lr into every parameter group of an optimizer.
// see: torch/optim/lr_scheduler.py. The schedules here use PyTorch's closed forms (lr as a function of the
// epoch count and the initial lr), which give PyTorch's numbers; unlike PyTorch's chainable forms they do
// not compose with other schedulers writing the same lr (ReduceLROnPlateau, which reads the current lr, does).
import { SimdgradError } from '../errors.js';
import { Optimizer, describe, type BaseOptions } from './optimizer.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

/** A scheduler's checkpointable state (plain data). */
export interface LRSchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
  options: Record<string, unknown>;
}

function checkOptimizer(op: string, optimizer: unknown): asserts optimizer is AnyOptimizer {
  if (!(optimizer instanceof Optimizer)) throw new SimdgradError(`${op}: expected an optimizer (got ${describe(optimizer)})`);
}

function checkPositiveInteger(op: string, what: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new SimdgradError(`${op}: ${what} must be a positive integer (got ${describe(v)})`);
}

function checkFinite(op: string, what: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SimdgradError(`${op}: ${what} must be a finite number (got ${describe(v)})`);
}

/** A number per parameter group, from one number or an array with one entry per group. */
function perGroup(op: string, what: string, v: number | readonly number[], groups: number): number[] {
  if (Array.isArray(v)) {
    if (v.length !== groups) throw new SimdgradError(`${op}: expected ${groups} values of ${what} (one per parameter group), got ${v.length}`);
    v.forEach((x, i) => checkFinite(op, `${what}[${i}]`, x));
    return [...v];
  }
  checkFinite(op, what, v);
  return new Array<number>(groups).fill(v as number);
}

function copyOptions(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = Array.isArray(v) ? [...v] : v;
  return out;
}

/** Strict checks shared by every scheduler's loadStateDict. */
function checkStateKeys(op: string, sd: unknown, want: readonly string[], options: object): asserts sd is Record<string, unknown> {
  if (sd === null || typeof sd !== 'object') throw new SimdgradError(`${op}: expected a state dict object (got ${describe(sd)})`);
  for (const k of Object.keys(sd)) if (!want.includes(k)) throw new SimdgradError(`${op}: unknown key "${k}" (expected ${want.join(', ')})`);
  for (const k of want) if (!(k in sd)) throw new SimdgradError(`${op}: the state dict lacks "${k}"`);
  const saved = (sd as { options: unknown }).options;
  if (saved === null || typeof saved !== 'object') throw new SimdgradError(`${op}: options must be an object`);
  const own = Object.keys(options);
  for (const k of Object.keys(saved)) if (!own.includes(k)) throw new SimdgradError(`${op}: unknown option "${k}" (expected ${own.join(', ')})`);
  for (const k of own) if (!(k in saved)) throw new SimdgradError(`${op}: options lack "${k}"`);
}

function checkLrArray(op: string, what: string, v: unknown, groups: number): void {
  if (!Array.isArray(v) || v.length !== groups || v.some((x) => typeof x !== 'number')) {
    throw new SimdgradError(`${op}: ${what} must be an array of ${groups} numbers (one per parameter group) (got ${describe(v)})`);
  }
}

/**
 * The base of the epoch-count schedulers: `step()` advances `lastEpoch` and writes `lrAt(group)` into each
 * group's lr. Construction performs the first step (epoch 0), as PyTorch. `baseLrs` are the groups'
 * `initialLr` (set from their lr by the first scheduler made on the optimizer).
 */
export abstract class LRScheduler<O extends object = object> {
  /** Steps taken (0 right after construction). */
  lastEpoch = -1;
  /** Each group's initial lr. */
  baseLrs: number[] = [];
  protected lastLr: number[] = [];

  protected constructor(readonly name: string, readonly optimizer: AnyOptimizer, protected options: O) {
    checkOptimizer(name, optimizer);
    this.checkOptions(options);
  }

  /** Throws a `SimdgradError` naming the first bad option. */
  protected abstract checkOptions(options: O): void;

  /** The lr of group `i` at epoch `this.lastEpoch`. */
  protected abstract lrAt(i: number): number;

  /** Records the base lrs and takes the first step; subclasses call it last in their constructor. */
  protected start(): void {
    for (const g of this.optimizer.paramGroups) g.initialLr ??= g.lr;
    this.baseLrs = this.optimizer.paramGroups.map((g) => g.initialLr!);
    this.step();
  }

  /** Advances one epoch (or one batch, for OneCycleLR) and writes the new lrs into the optimizer. */
  step(): void {
    this.lastEpoch += 1;
    const lrs = this.optimizer.paramGroups.map((_, i) => this.lrAt(i));
    this.optimizer.paramGroups.forEach((g, i) => { g.lr = lrs[i]!; });
    this.lastLr = lrs;
  }

  /** The lrs the last step wrote, one per parameter group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): LRSchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr], options: copyOptions(this.options) };
  }

  /** Restores `stateDict()` output (the optimizer's lrs come from its own state dict, as in PyTorch). */
  loadStateDict(sd: LRSchedulerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    checkStateKeys(op, sd, ['lastEpoch', 'baseLrs', 'lastLr', 'options'], this.options);
    const groups = this.optimizer.paramGroups.length;
    if (typeof sd.lastEpoch !== 'number' || !Number.isInteger(sd.lastEpoch) || sd.lastEpoch < -1) {
      throw new SimdgradError(`${op}: lastEpoch must be an integer ≥ -1 (got ${describe(sd.lastEpoch)})`);
    }
    checkLrArray(op, 'baseLrs', sd.baseLrs, groups);
    checkLrArray(op, 'lastLr', sd.lastLr, groups);
    const options = copyOptions(sd.options) as O;
    this.checkOptions(options);
    this.options = options;
    this.lastEpoch = sd.lastEpoch;
    this.baseLrs = [...sd.baseLrs];
    this.lastLr = [...sd.lastLr];
    this.afterLoad();
  }

  /** Recomputes anything derived from the options (after loadStateDict). */
  protected afterLoad(): void {}
}

// ---- StepLR ----------------------------------------------------------------------------------------

export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Multiplicative decay (default 0.1). */
  gamma: number;
}

/**
 * Decays each group's lr by `gamma` every `stepSize` epochs: lr = initialLr · gamma^⌊epoch / stepSize⌋.
 *
 * @example
 * ```ts
 * const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 90; epoch++) { train(); sched.step(); }
 * ```
 */
export class StepLR extends LRScheduler<StepLROptions> {
  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number }) {
    super('StepLR', optimizer, { stepSize: options?.stepSize, gamma: options?.gamma ?? 0.1 });
    this.start();
  }

  protected checkOptions(o: StepLROptions): void {
    checkPositiveInteger(this.name, 'stepSize', o.stepSize);
    checkFinite(this.name, 'gamma', o.gamma);
  }

  protected lrAt(i: number): number {
    return this.baseLrs[i]! * this.options.gamma ** Math.floor(this.lastEpoch / this.options.stepSize);
  }
}

// ---- ExponentialLR ---------------------------------------------------------------------------------

export interface ExponentialLROptions {
  /** Multiplicative decay per epoch. */
  gamma: number;
}

/**
 * Decays each group's lr by `gamma` every epoch: lr = initialLr · gamma^epoch.
 *
 * @example
 * ```ts
 * const sched = new optim.lrScheduler.ExponentialLR(opt, { gamma: 0.95 });
 * ```
 */
export class ExponentialLR extends LRScheduler<ExponentialLROptions> {
  constructor(optimizer: AnyOptimizer, options: ExponentialLROptions) {
    super('ExponentialLR', optimizer, { gamma: options?.gamma });
    this.start();
  }

  protected checkOptions(o: ExponentialLROptions): void {
    checkFinite(this.name, 'gamma', o.gamma);
  }

  protected lrAt(i: number): number {
    return this.baseLrs[i]! * this.options.gamma ** this.lastEpoch;
  }
}

// ---- CosineAnnealingLR -----------------------------------------------------------------------------

export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine from initialLr down to etaMin. */
  tMax: number;
  /** The lowest lr (default 0). */
  etaMin: number;
}

/**
 * Cosine annealing (SGDR without restarts): lr = etaMin + (initialLr − etaMin)·(1 + cos(π·epoch / tMax)) / 2.
 * Past tMax the cosine continues (the lr rises again), as PyTorch's.
 * see: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts" (2016).
 *
 * @example
 * ```ts
 * const sched = new optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 100 });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler<CosineAnnealingLROptions> {
  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number }) {
    super('CosineAnnealingLR', optimizer, { tMax: options?.tMax, etaMin: options?.etaMin ?? 0 });
    this.start();
  }

  protected checkOptions(o: CosineAnnealingLROptions): void {
    checkPositiveInteger(this.name, 'tMax', o.tMax);
    checkFinite(this.name, 'etaMin', o.etaMin);
  }

  protected lrAt(i: number): number {
    const { tMax, etaMin } = this.options;
    return etaMin + (this.baseLrs[i]! - etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / tMax)) / 2;
  }
}

// ---- LinearLR ----------------------------------------------------------------------------------------

export interface LinearLROptions {
  /** Factor of the initial lr at epoch 0, in (0, 1] (default 1/3). */
  startFactor: number;
  /** Factor reached at totalIters and kept after, in [0, 1] (default 1). */
  endFactor: number;
  /** Epochs of the linear ramp (default 5). */
  totalIters: number;
}

/**
 * Scales the lr by a factor moving linearly from startFactor to endFactor over totalIters epochs (warm-up):
 * lr = initialLr · (startFactor + (endFactor − startFactor) · min(epoch, totalIters) / totalIters).
 *
 * @example
 * ```ts
 * const warmup = new optim.lrScheduler.LinearLR(opt, { startFactor: 0.1, totalIters: 10 });
 * ```
 */
export class LinearLR extends LRScheduler<LinearLROptions> {
  constructor(optimizer: AnyOptimizer, options: Partial<LinearLROptions> = {}) {
    super('LinearLR', optimizer, { startFactor: 1 / 3, endFactor: 1, totalIters: 5, ...options });
    this.start();
  }

  protected checkOptions(o: LinearLROptions): void {
    if (typeof o.startFactor !== 'number' || !(o.startFactor > 0 && o.startFactor <= 1)) {
      throw new SimdgradError(`${this.name}: startFactor must be in (0, 1] (got ${describe(o.startFactor)})`);
    }
    if (typeof o.endFactor !== 'number' || !(o.endFactor >= 0 && o.endFactor <= 1)) {
      throw new SimdgradError(`${this.name}: endFactor must be in [0, 1] (got ${describe(o.endFactor)})`);
    }
    checkPositiveInteger(this.name, 'totalIters', o.totalIters);
  }

  protected lrAt(i: number): number {
    const { startFactor, endFactor, totalIters } = this.options;
    return this.baseLrs[i]! * (startFactor + (endFactor - startFactor) * Math.min(this.lastEpoch, totalIters) / totalIters);
  }
}

// ---- OneCycleLR --------------------------------------------------------------------------------------

export interface OneCycleLROptions {
  /** Peak lr, one number or one per parameter group. */
  maxLr: number | number[];
  /** Steps in the cycle (call step() once per batch). */
  totalSteps: number;
  /** Fraction of the cycle spent increasing the lr (default 0.3). */
  pctStart: number;
  /** 'cos' (default) or 'linear' annealing. */
  annealStrategy: 'cos' | 'linear';
  /** Cycle momentum (SGD/RMSprop `momentum`, Adam's β1) inversely to the lr (default true, as PyTorch). */
  cycleMomentum: boolean;
  /** Lowest momentum, reached at the peak lr (default 0.85). */
  baseMomentum: number;
  /** Highest momentum, at the start and end (default 0.95). */
  maxMomentum: number;
  /** initialLr = maxLr / divFactor (default 25). */
  divFactor: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  finalDivFactor: number;
  /** Fastai's two phases (false, default) or the paper's three (up, down to initialLr, annihilate). */
  threePhase: boolean;
}

interface Phase {
  endStep: number;
  lr: [from: 'initial' | 'max' | 'min', to: 'initial' | 'max' | 'min'];
  momentum: [from: 'base' | 'max', to: 'base' | 'max'];
}

/**
 * The 1cycle policy: the lr rises from maxLr/divFactor to maxLr over the first pctStart of totalSteps,
 * then falls to maxLr/(divFactor·finalDivFactor); momentum (or Adam's β1) moves the opposite way between
 * maxMomentum and baseMomentum. Step it once per batch; stepping past totalSteps is an error.
 * NOTE: as PyTorch, cycleMomentum (on by default) writes the optimizer's momentum (β1 for Adam) even if it
 * was 0; pass cycleMomentum: false to leave it alone. Optimizers without momentum (Adagrad) need false.
 * see: Smith & Topin, "Super-Convergence" (2017); torch.optim.lr_scheduler.OneCycleLR.
 *
 * @example
 * ```ts
 * const sched = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.1, totalSteps: epochs * batchesPerEpoch });
 * ```
 */
export class OneCycleLR extends LRScheduler<OneCycleLROptions> {
  private phases: Phase[] = [];
  private levels: { initial: number; max: number; min: number }[] = [];

  constructor(optimizer: AnyOptimizer, options: Partial<OneCycleLROptions> & { maxLr: number | number[]; totalSteps: number }) {
    super('OneCycleLR', optimizer, {
      pctStart: 0.3, annealStrategy: 'cos', cycleMomentum: true, baseMomentum: 0.85, maxMomentum: 0.95,
      divFactor: 25, finalDivFactor: 1e4, threePhase: false, ...options,
    } as OneCycleLROptions);
    this.derive();
    this.optimizer.paramGroups.forEach((g, i) => {
      g.initialLr = this.levels[i]!.initial;
      g.lr = this.levels[i]!.initial;
    });
    if (this.options.cycleMomentum) this.optimizer.paramGroups.forEach((g) => this.setMomentum(g, this.options.maxMomentum));
    this.start();
  }

  protected checkOptions(o: OneCycleLROptions): void {
    const op = this.name;
    checkPositiveInteger(op, 'totalSteps', o.totalSteps);
    perGroup(op, 'maxLr', o.maxLr, this.optimizer.paramGroups.length);
    if (typeof o.pctStart !== 'number' || !(o.pctStart >= 0 && o.pctStart <= 1)) throw new SimdgradError(`${op}: pctStart must be a number in [0, 1] (got ${describe(o.pctStart)})`);
    if (o.annealStrategy !== 'cos' && o.annealStrategy !== 'linear') throw new SimdgradError(`${op}: annealStrategy must be 'cos' or 'linear' (got ${describe(o.annealStrategy)})`);
    for (const k of ['baseMomentum', 'maxMomentum', 'divFactor', 'finalDivFactor'] as const) checkFinite(op, k, o[k]);
    if (typeof o.cycleMomentum !== 'boolean') throw new SimdgradError(`${op}: cycleMomentum must be true or false (got ${describe(o.cycleMomentum)})`);
    if (typeof o.threePhase !== 'boolean') throw new SimdgradError(`${op}: threePhase must be true or false (got ${describe(o.threePhase)})`);
    if (o.cycleMomentum && !('momentum' in this.optimizer.defaults) && !('betas' in this.optimizer.defaults)) {
      throw new SimdgradError(`${op}: the ${this.optimizer.name} optimizer has no momentum or beta1 to cycle (help: pass cycleMomentum: false)`);
    }
  }

  private derive(): void {
    const o = this.options;
    this.levels = perGroup(this.name, 'maxLr', o.maxLr, this.optimizer.paramGroups.length).map((max) => {
      const initial = max / o.divFactor;
      return { initial, max, min: initial / o.finalDivFactor };
    });
    const up = o.pctStart * o.totalSteps - 1;
    this.phases = o.threePhase
      ? [
        { endStep: up, lr: ['initial', 'max'], momentum: ['max', 'base'] },
        { endStep: 2 * o.pctStart * o.totalSteps - 2, lr: ['max', 'initial'], momentum: ['base', 'max'] },
        { endStep: o.totalSteps - 1, lr: ['initial', 'min'], momentum: ['max', 'max'] },
      ]
      : [
        { endStep: up, lr: ['initial', 'max'], momentum: ['max', 'base'] },
        { endStep: o.totalSteps - 1, lr: ['max', 'min'], momentum: ['base', 'max'] },
      ];
  }

  protected override afterLoad(): void {
    this.derive();
  }

  private anneal(start: number, end: number, pct: number): number {
    return this.options.annealStrategy === 'cos'
      ? end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
      : (end - start) * pct + start;
  }

  private setMomentum(group: BaseOptions, value: number): void {
    const g = group as BaseOptions & { momentum?: number; betas?: [number, number] };
    if ('betas' in this.optimizer.defaults) g.betas = [value, g.betas![1]];
    else g.momentum = value;
  }

  protected lrAt(i: number): number {
    const step = this.lastEpoch;
    const { totalSteps, baseMomentum, maxMomentum, cycleMomentum } = this.options;
    if (step > totalSteps) {
      throw new SimdgradError(`${this.name}: tried to step ${step} times; the cycle has totalSteps = ${totalSteps} (help: make totalSteps = epochs × batches per epoch)`);
    }
    const levels = this.levels[i]!;
    const momenta = { base: baseMomentum, max: maxMomentum };
    let startStep = 0;
    for (let k = 0; k < this.phases.length; k++) {
      const phase = this.phases[k]!;
      if (step <= phase.endStep || k === this.phases.length - 1) {
        const pct = (step - startStep) / (phase.endStep - startStep);
        if (cycleMomentum) {
          this.setMomentum(this.optimizer.paramGroups[i]!, this.anneal(momenta[phase.momentum[0]], momenta[phase.momentum[1]], pct));
        }
        return this.anneal(levels[phase.lr[0]], levels[phase.lr[1]], pct);
      }
      startStep = phase.endStep;
    }
    throw new SimdgradError(`${this.name}: internal error: no phase for step ${step}`);
  }
}

// ---- ReduceLROnPlateau -------------------------------------------------------------------------------

export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower metrics are better (a loss); 'max': higher are better (an accuracy). */
  mode: 'min' | 'max';
  /** lr ← lr · factor on a plateau; must be < 1 (default 0.1). */
  factor: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience: number;
  /** Smallest change that counts as an improvement (default 1e-4). */
  threshold: number;
  /** 'rel' (default): relative to the best value; 'abs': absolute. */
  thresholdMode: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown: number;
  /** Lower bound of the lr, one number or one per group (default 0). */
  minLr: number | number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps: number;
}

/** ReduceLROnPlateau's checkpointable state. */
export interface ReduceLROnPlateauStateDict {
  lastEpoch: number;
  best: number;
  numBadEpochs: number;
  cooldownCounter: number;
  lastLr: number[];
  options: Record<string, unknown>;
}

/**
 * Reduces the lr by `factor` when a metric has stopped improving for `patience` epochs. Call
 * `step(metric)` once per epoch with the validation loss (mode 'min') or accuracy (mode 'max').
 * It reads and writes the groups' current lr, so it composes with a warm-up scheduler.
 * see: torch.optim.lr_scheduler.ReduceLROnPlateau (same rules, same numbers).
 *
 * @example
 * ```ts
 * const sched = new optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 5 });
 * for (let epoch = 0; epoch < 100; epoch++) { train(); sched.step(validationLoss()); }
 * ```
 */
export class ReduceLROnPlateau {
  readonly name = 'ReduceLROnPlateau';
  lastEpoch = 0;
  /** The best metric so far. */
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  private options: ReduceLROnPlateauOptions;
  private minLrs: number[];
  private lastLr: number[];

  constructor(readonly optimizer: AnyOptimizer, options: Partial<ReduceLROnPlateauOptions> = {}) {
    checkOptimizer(this.name, optimizer);
    this.options = {
      mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...options,
    };
    this.minLrs = this.checkOptions(this.options);
    this.best = this.options.mode === 'min' ? Infinity : -Infinity;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private checkOptions(o: ReduceLROnPlateauOptions): number[] {
    const op = this.name;
    if (o.mode !== 'min' && o.mode !== 'max') throw new SimdgradError(`${op}: mode must be 'min' or 'max' (got ${describe(o.mode)})`);
    if (o.thresholdMode !== 'rel' && o.thresholdMode !== 'abs') throw new SimdgradError(`${op}: thresholdMode must be 'rel' or 'abs' (got ${describe(o.thresholdMode)})`);
    if (typeof o.factor !== 'number' || !(o.factor < 1 && o.factor >= 0)) throw new SimdgradError(`${op}: factor must be in [0, 1) (got ${describe(o.factor)})`);
    if (typeof o.patience !== 'number' || !Number.isInteger(o.patience) || o.patience < 0) throw new SimdgradError(`${op}: patience must be an integer ≥ 0 (got ${describe(o.patience)})`);
    if (typeof o.cooldown !== 'number' || !Number.isInteger(o.cooldown) || o.cooldown < 0) throw new SimdgradError(`${op}: cooldown must be an integer ≥ 0 (got ${describe(o.cooldown)})`);
    checkFinite(op, 'threshold', o.threshold);
    checkFinite(op, 'eps', o.eps);
    return perGroup(op, 'minLr', o.minLr, this.optimizer.paramGroups.length);
  }

  private isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this.options;
    if (mode === 'min') return thresholdMode === 'rel' ? a < best * (1 - threshold) : a < best - threshold;
    return thresholdMode === 'rel' ? a > best * (threshold + 1) : a > best + threshold;
  }

  /** Records one epoch's metric and reduces the lr after `patience` epochs without improvement. */
  step(metric: number): void {
    if (typeof metric !== 'number') throw new SimdgradError(`${this.name}.step: metric must be a number (got ${describe(metric)})`);
    this.lastEpoch += 1;
    if (this.isBetter(metric, this.best)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown are ignored
    }
    if (this.numBadEpochs > this.options.patience) {
      this.optimizer.paramGroups.forEach((g, i) => {
        const newLr = Math.max(g.lr * this.options.factor, this.minLrs[i]!);
        if (g.lr - newLr > this.options.eps) g.lr = newLr;
      });
      this.cooldownCounter = this.options.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The groups' lrs after the last step. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): ReduceLROnPlateauStateDict {
    return {
      lastEpoch: this.lastEpoch, best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter,
      lastLr: [...this.lastLr], options: copyOptions(this.options),
    };
  }

  loadStateDict(sd: ReduceLROnPlateauStateDict): void {
    const op = `${this.name}.loadStateDict`;
    checkStateKeys(op, sd, ['lastEpoch', 'best', 'numBadEpochs', 'cooldownCounter', 'lastLr', 'options'], this.options);
    for (const k of ['lastEpoch', 'numBadEpochs', 'cooldownCounter'] as const) {
      if (typeof sd[k] !== 'number' || !Number.isInteger(sd[k]) || sd[k] < 0) throw new SimdgradError(`${op}: ${k} must be an integer ≥ 0 (got ${describe(sd[k])})`);
    }
    if (typeof sd.best !== 'number') throw new SimdgradError(`${op}: best must be a number (got ${describe(sd.best)})`);
    checkLrArray(op, 'lastLr', sd.lastLr, this.optimizer.paramGroups.length);
    const options = copyOptions(sd.options) as unknown as ReduceLROnPlateauOptions;
    const minLrs = this.checkOptions(options);
    this.options = options;
    this.minLrs = minLrs;
    this.lastEpoch = sd.lastEpoch;
    this.best = sd.best;
    this.numBadEpochs = sd.numBadEpochs;
    this.cooldownCounter = sd.cooldownCounter;
    this.lastLr = [...sd.lastLr];
  }
}
