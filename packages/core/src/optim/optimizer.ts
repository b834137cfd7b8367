// The optimizer base: parameter groups with per-group options, per-parameter state (step count and
// state tensors in wasm memory), zeroGrad, and checkpointable state dicts. Each optimizer (sgd.ts,
// adam.ts, …) adds its options, their checks and one fused kernel call per parameter.
// see: torch/optim/optimizer.py (param_groups, state, state_dict / load_state_dict).
import { contiguousStrides } from '../backend/strides.js';
import { noGrad } from '../autograd/graph.js';
import { SimdgradError, fmtShape } from '../errors.js';
import { Storage, keep } from '../memory.js';
import { Tensor } from '../tensor.js';

/** Options every optimizer has. */
export interface BaseOptions {
  /** Learning rate; schedulers write it. */
  lr: number;
}

/**
 * A parameter group: its tensors and its own copy of every option (`lr` is mutable: schedulers write it).
 * `initialLr` is set by the first LR scheduler made on the optimizer (PyTorch's `initial_lr`).
 */
export type ParamGroup<O extends BaseOptions> = O & { params: Tensor[]; initialLr?: number };

/** A group as the constructor and `addParamGroup` take it: tensors plus any option to override. */
export type ParamGroupInput<O extends BaseOptions> = Partial<O> & { params: Iterable<Tensor> | Tensor };

/** What the constructors accept: tensors (`model.parameters()`), or parameter groups. */
export type Params<O extends BaseOptions> = Iterable<Tensor> | Iterable<ParamGroupInput<O>>;

/** One parameter's saved state: its step count (where the optimizer counts steps) and state buffers. */
export type ParamStateDict = Record<string, number | Float32Array>;

/**
 * A checkpointable snapshot: `state` maps a parameter's index (counting through the groups in order) to its
 * state; `paramGroups` holds each group's options and the indices of its parameters. Plain data only.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamStateDict>;
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

/** @internal the live state of one parameter */
export interface ParamState {
  step: number;
  buffers: Record<string, Tensor>;
}

/** What an optimizer keeps per parameter, for state-dict checks. */
export interface StateSpec {
  /** Whether the state has a step count. */
  step: boolean;
  /** Every state-buffer key this optimizer may create. */
  buffers: readonly string[];
  /** Buffer keys every saved state entry must have. */
  required: readonly string[];
}

/**
 * The base of every optimizer. Subclasses give their name (for error messages), their defaults, an
 * option check and `updateGroup`, which calls one fused kernel per parameter that has a gradient.
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The options each new group starts from. */
  readonly defaults: Readonly<O>;
  /** The parameter groups, each with its options (write `lr` to change the learning rate). */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** @internal per-parameter state */
  protected readonly state = new Map<Tensor, ParamState>();

  protected constructor(readonly name: string, params: Params<O>, defaults: O, private readonly spec: StateSpec) {
    this.validate(defaults);
    this.defaults = Object.freeze(copyOptions(defaults));
    if (params === null || typeof params !== 'object' || typeof (params as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new SimdgradError(`${name}: params must be an array of tensors or of parameter groups (got ${describe(params)})`);
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) throw new SimdgradError(`${name}: optimizer got an empty parameter list`);
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>] : (list as ParamGroupInput<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Throws a `SimdgradError` naming the first bad option. */
  protected abstract validate(options: O): void;

  /** Updates every parameter of one group that has a gradient (one kernel call each). */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /**
   * Performs one optimization step over every parameter whose `.grad` is not null. `closure`, if
   * given, runs first (it should recompute the loss and the gradients) and its result is returned.
   */
  step(closure?: () => number): number | undefined {
    const loss = closure?.();
    this.paramGroups.forEach((group, i) => {
      // NOTE: a NaN or Infinity lr would silently turn every parameter into NaN in the fused kernel
      const lr = group.lr as unknown;
      if (typeof lr !== 'number' || !(lr >= 0 && lr < Infinity)) {
        throw new SimdgradError(`${this.name}.step: the learning rate of parameter group ${i} is ${describe(lr)} (expected a finite number ≥ 0) (help: check what set paramGroups[${i}].lr)`);
      }
    });
    noGrad(() => {
      for (const group of this.paramGroups) this.updateGroup(group);
    });
    return loss;
  }

  /** Disposes every parameter's gradient and sets it to null (PyTorch's `zero_grad(set_to_none=True)`). */
  zeroGrad(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad !== null) {
          p.grad.dispose();
          p.grad = null;
        }
      }
    }
  }

  /** Adds a group of parameters (with options overriding the defaults), e.g. layers unfrozen later. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const op = `${this.name}`;
    if (group === null || typeof group !== 'object' || !('params' in group)) {
      throw new SimdgradError(`${op}: a parameter group must be an object with a params array (got ${describe(group)})`);
    }
    const raw = group.params instanceof Tensor ? [group.params] : group.params;
    if (raw === null || typeof raw !== 'object' || typeof (raw as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new SimdgradError(`${op}: a parameter group's params must be an array of tensors (got ${describe(raw)})`);
    }
    const params = [...raw];
    const seen = new Set<Tensor>();
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new SimdgradError(`${op}: can only optimize tensors (params[${i}] is ${describe(p)})`);
      p.assertAlive(op);
      if (p.node !== null) throw new SimdgradError(`${op}: can't optimize a non-leaf tensor (params[${i}] was computed by ${p.node.name}) (help: detach() it and set requiresGrad)`);
      if (p.dtype !== 'float32') throw new SimdgradError(`${op}: can only optimize float32 tensors (params[${i}] is ${p.dtype})`);
      if (!p.isContiguous()) throw new SimdgradError(`${op}: can only optimize contiguous tensors (params[${i}] of shape ${fmtShape(p.shape)} is a strided view) (help: optimize the tensor it is a view of)`);
      if (seen.has(p)) throw new SimdgradError(`${op}: a parameter group contains the same tensor twice (params[${i}])`);
      seen.add(p);
    });
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (seen.has(p)) throw new SimdgradError(`${op}: some parameters appear in more than one parameter group`);
      }
    }
    const options: Record<string, unknown> = { ...copyOptions(this.defaults) };
    for (const [key, value] of Object.entries(group)) {
      if (key === 'params') continue;
      if (!(key in this.defaults) && key !== 'initialLr') {
        throw new SimdgradError(`${op}: unknown option "${key}" in a parameter group (expected one of ${Object.keys(this.defaults).join(', ')})`);
      }
      if (value !== undefined) options[key] = Array.isArray(value) ? [...value] : value;
    }
    this.validate(options as unknown as O);
    this.paramGroups.push({ ...options, params } as ParamGroup<O>);
  }

  /** A snapshot of the options and state as plain data (Float32Array copies), e.g. for a checkpoint. */
  stateDict(): OptimizerStateDict {
    const state: Record<number, ParamStateDict> = {};
    const paramGroups: OptimizerStateDict['paramGroups'] = [];
    let index = 0;
    for (const group of this.paramGroups) {
      const indices: number[] = [];
      for (const p of group.params) {
        const st = this.state.get(p);
        if (st !== undefined) {
          const entry: ParamStateDict = {};
          if (this.spec.step) entry.step = st.step;
          for (const [key, t] of Object.entries(st.buffers)) entry[key] = t.toFloat32Array();
          state[index] = entry;
        }
        indices.push(index++);
      }
      const { params: _params, ...options } = group;
      paramGroups.push({ ...copyOptions(options as Record<string, unknown>), params: indices });
    }
    return { state, paramGroups };
  }

  /**
   * Restores options and state from `stateDict()` output (of an optimizer of the same kind over
   * parameters of the same shapes, in the same order). Everything is checked before anything changes.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const op = `${this.name}.loadStateDict`;
    if (sd === null || typeof sd !== 'object' || typeof sd.state !== 'object' || sd.state === null || !Array.isArray(sd.paramGroups)) {
      throw new SimdgradError(`${op}: expected { state, paramGroups } as stateDict() returns (got ${describe(sd)})`);
    }
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new SimdgradError(`${op}: the state dict has ${sd.paramGroups.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    }
    const params: Tensor[] = [];
    const newOptions: Record<string, unknown>[] = [];
    this.paramGroups.forEach((group, gi) => {
      const saved = sd.paramGroups[gi]!;
      if (saved === null || typeof saved !== 'object' || !Array.isArray(saved.params)) {
        throw new SimdgradError(`${op}: paramGroups[${gi}] must be an object with a params array`);
      }
      if (saved.params.length !== group.params.length) {
        throw new SimdgradError(`${op}: paramGroups[${gi}] has ${saved.params.length} parameters, the optimizer's group has ${group.params.length}`);
      }
      saved.params.forEach((idx, j) => {
        if (idx !== params.length + j) throw new SimdgradError(`${op}: paramGroups[${gi}].params[${j}] is ${idx}, expected ${params.length + j} (parameters are numbered through the groups in order)`);
      });
      params.push(...group.params);
      const want = Object.keys(this.defaults);
      const { params: _p, ...options } = saved;
      for (const key of Object.keys(options)) {
        if (!want.includes(key) && key !== 'initialLr') throw new SimdgradError(`${op}: unknown option "${key}" in paramGroups[${gi}] (expected ${want.join(', ')})`);
      }
      for (const key of want) {
        if (!(key in options)) throw new SimdgradError(`${op}: paramGroups[${gi}] lacks the option "${key}"`);
      }
      this.validate(options as unknown as O);
      newOptions.push(copyOptions(options));
    });
    const allowed = [...(this.spec.step ? ['step'] : []), ...this.spec.buffers];
    const entries = new Map<Tensor, ParamStateDict>();
    for (const [key, entry] of Object.entries(sd.state)) {
      const idx = Number(key);
      if (!Number.isInteger(idx) || idx < 0 || idx >= params.length) {
        throw new SimdgradError(`${op}: state key ${key} is not a parameter index (the optimizer has ${params.length} parameters)`);
      }
      const p = params[idx]!;
      if (entry === null || typeof entry !== 'object') throw new SimdgradError(`${op}: state[${idx}] must be an object (got ${describe(entry)})`);
      for (const k of Object.keys(entry)) {
        if (!allowed.includes(k)) throw new SimdgradError(`${op}: unknown key "${k}" in state[${idx}] (expected ${allowed.join(', ')})`);
      }
      for (const k of [...(this.spec.step ? ['step'] : []), ...this.spec.required]) {
        if (!(k in entry)) throw new SimdgradError(`${op}: state[${idx}] lacks "${k}"`);
      }
      if (this.spec.step) {
        const step = entry.step;
        if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) throw new SimdgradError(`${op}: state[${idx}].step must be a non-negative integer (got ${describe(step)})`);
      }
      for (const k of this.spec.buffers) {
        if (!(k in entry)) continue;
        const buf = entry[k];
        if (!(buf instanceof Float32Array) && !Array.isArray(buf)) throw new SimdgradError(`${op}: state[${idx}].${k} must be a Float32Array (got ${describe(buf)})`);
        if (buf.length !== p.size) {
          throw new SimdgradError(`${op}: state[${idx}].${k} has ${buf.length} elements, but the parameter of shape ${fmtShape(p.shape)} has ${p.size}`);
        }
      }
      entries.set(p, entry);
    }
    // all checked: apply
    this.paramGroups.forEach((group, gi) => Object.assign(group, newOptions[gi]));
    this.disposeState();
    for (const [p, entry] of entries) {
      const st: ParamState = { step: this.spec.step ? (entry.step as number) : 0, buffers: {} };
      for (const k of this.spec.buffers) {
        const buf = entry[k];
        if (buf === undefined) continue;
        const t = stateTensor(p, 0);
        t.backend.heap.views().f32.set(buf as Float32Array | number[], t.ptr >>> 2);
        st.buffers[k] = t;
      }
      this.state.set(p, st);
    }
  }

  /** Frees the optimizer's state tensors (the optimizer starts afresh if stepped again). */
  dispose(): void {
    this.disposeState();
  }

  private disposeState(): void {
    for (const st of this.state.values()) for (const t of Object.values(st.buffers)) t.dispose();
    this.state.clear();
  }

  // ---- helpers for subclasses -------------------------------------------------------------------

  /** The state of `p`, created empty (step 0, no buffers) on first use. */
  protected stateOf(p: Tensor): ParamState {
    let st = this.state.get(p);
    if (st === undefined) {
      st = { step: 0, buffers: {} };
      this.state.set(p, st);
    }
    return st;
  }

  /** State buffer `key` of `p`, created filled with `init` when missing. Returns [tensor, wasCreated]. */
  protected buffer(p: Tensor, st: ParamState, key: string, init = 0): [Tensor, boolean] {
    const t = st.buffers[key];
    if (t !== undefined) return [t, false];
    const created = stateTensor(p, init);
    st.buffers[key] = created;
    return [created, true];
  }

  /**
   * The gradient of `p` as a contiguous tensor, or null when p.grad is null (the parameter is skipped).
   * A strided gradient is replaced by a contiguous copy (still owned by `p`).
   */
  protected gradOf(p: Tensor): Tensor | null {
    p.assertAlive(`${this.name}.step`);
    const g = p.grad;
    if (g === null) return null;
    g.assertAlive(`${this.name}.step`);
    if (g.shape.length !== p.shape.length || g.shape.some((d, i) => d !== p.shape[i])) {
      throw new SimdgradError(`${this.name}.step: a gradient of shape ${fmtShape(g.shape)} does not match its parameter's shape ${fmtShape(p.shape)}`);
    }
    if (g.dtype !== 'float32') throw new SimdgradError(`${this.name}.step: gradients must be float32 (got ${g.dtype})`);
    if (g.backend !== p.backend) throw new SimdgradError(`${this.name}.step: a gradient lives on another backend than its parameter`);
    if (g.isContiguous()) return g;
    const c = keep(g.contiguousCopy());
    g.dispose();
    p.grad = c;
    return c;
  }
}

/** A kept (scope-proof) f32 tensor shaped like `p`, on p's backend, filled with `value`. */
function stateTensor(p: Tensor, value: number): Tensor {
  const b = p.backend;
  const size = p.size;
  const storage = new Storage(b, b.heap.alloc(Math.max(size, 1) * 4), size * 4);
  const t = keep(new Tensor(storage, 0, [...p.shape], contiguousStrides(p.shape), 'float32'));
  b.fill('float32', t.ptr, size, value);
  return t;
}

/** A copy of an options object (arrays such as `betas` copied too). */
function copyOptions<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = Array.isArray(v) ? [...v] : v;
  return out as T;
}

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Tensor) return `a tensor of shape ${fmtShape(v.shape)}`;
  return typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
}

// ---- option checks shared by the optimizers ------------------------------------------------------

/** `${op}: invalid ${what}: ${v} (expected ≥ 0)` unless v is a finite number ≥ 0. */
export function checkNonNegative(op: string, what: string, v: unknown): void {
  if (typeof v !== 'number' || !(v >= 0)) throw new SimdgradError(`${op}: invalid ${what}: ${describe(v)} (expected ≥ 0)`);
  if (v === Infinity) throw new SimdgradError(`${op}: invalid ${what}: Infinity (expected a finite number ≥ 0)`);
}

export function checkBoolean(op: string, what: string, v: unknown): void {
  if (typeof v !== 'boolean') throw new SimdgradError(`${op}: ${what} must be true or false (got ${describe(v)})`);
}

export function checkNumber(op: string, what: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new SimdgradError(`${op}: ${what} must be a finite number (got ${describe(v)})`);
}
