// nn.Module: parameters register themselves from fields (recursively, with dotted names that become the
// stateDict keys, as in PyTorch); buffers are registered by name.
import { SimdgradError, fmtShape } from '../errors.js';
import { keep } from '../memory.js';
import { noGrad } from '../autograd/graph.js';
import { Tensor } from '../tensor.js';

const PARAMETERS = new WeakSet<Tensor>();

/**
 * Marks a tensor as a parameter: a float32 leaf that requires grad, owned by its module (no scope frees
 * it). Assign it to a module field and the module finds it.
 *
 * @example
 * ```ts
 * class Affine extends nn.Module {
 *   scale = nn.parameter(ones([3]));
 *   forward(x: Tensor) { return x.mul(this.scale); }
 * }
 * ```
 */
export function parameter(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new SimdgradError(`parameter: expected a tensor (got ${typeof t})`);
  if (t.dtype !== 'float32') throw new SimdgradError(`parameter: parameters must be float32 (got ${t.dtype})`);
  if (t.node !== null) throw new SimdgradError('parameter: expected a leaf tensor (help: detach() it first)');
  t.requiresGrad = true;
  PARAMETERS.add(keep(t));
  return t;
}

export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && PARAMETERS.has(t);
}

/** The base class of every layer and model. Subclasses define `forward`. */
export abstract class Module {
  /** Training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly bufferMap = new Map<string, Tensor | null>();

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Registers a tensor that is state but not a parameter (e.g. running_mean), under its PyTorch name. */
  protected registerBuffer(name: string, t: Tensor | null): void {
    this.bufferMap.set(name, t === null ? null : keep(t));
  }

  /** A registered buffer by name. */
  buffer(name: string): Tensor | null {
    const t = this.bufferMap.get(name);
    if (t === undefined) throw new SimdgradError(`buffer: ${this.constructor.name} has no buffer '${name}'`);
    return t;
  }

  /** Replaces a buffer's tensor (the old one is disposed). */
  protected setBuffer(name: string, t: Tensor): void {
    const old = this.bufferMap.get(name);
    this.bufferMap.set(name, keep(t));
    if (old && old !== t) old.dispose();
  }

  /** Direct submodules with their field names (arrays of modules give `name.0`, `name.1`, …). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m: Module, i) => out.push([`${key}.${i}`, m]));
      }
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every submodule, depth first, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters with their dotted names (PyTorch's state-dict keys), in registration order. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const walk = (m: Module, pre: string) => {
      for (const [key, value] of Object.entries(m)) {
        if (isParameter(value) && !seen.has(value)) {
          seen.add(value);
          out.push([pre + key, value]);
        }
      }
      for (const [name, child] of m.namedChildren()) walk(child, `${pre}${name}.`);
    };
    walk(this, prefix ? `${prefix}.` : '');
    return out;
  }

  /** The parameters, for an optimizer: `new optim.Adam(model.parameters(), { lr: 1e-3 })`. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [b, t] of m.bufferMap) if (t !== null) out.push([name ? `${name}.${b}` : b, t]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Sets training mode here and below. Returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode (train(false)). */
  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient (frees it; PyTorch's set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Parameters and buffers by PyTorch key (`0.weight`, `fc1.bias`, `bn.running_mean`, …). The tensors
   * are the module's own (not copies): read them, don't dispose them.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [k, t] of this.namedParameters()) out[k] = t;
    for (const [k, t] of this.namedBuffers()) out[k] = t;
    return out;
  }

  /** Copies values into the parameters and buffers; strict checks keys and shapes. */
  loadStateDict(state: Record<string, Tensor>, strict = true): { missingKeys: string[]; unexpectedKeys: string[] } {
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !(k in own));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0)) {
      throw new SimdgradError(`loadStateDict: keys do not match (missing: ${missingKeys.join(', ') || 'none'}; unexpected: ${unexpectedKeys.join(', ') || 'none'})`);
    }
    for (const [k, target] of Object.entries(own)) {
      const src = state[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) throw new SimdgradError(`loadStateDict: '${k}' is not a tensor`);
      if (src.ndim !== target.ndim || src.shape.some((d, i) => d !== target.shape[i])) {
        throw new SimdgradError(`loadStateDict: '${k}' has shape ${fmtShape(src.shape)}, the model expects ${fmtShape(target.shape)}`);
      }
      copyInto(target, src);
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Calls fn on every module (children first), like PyTorch's apply. Returns this. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Frees every parameter and buffer of this module tree. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const b of this.buffers()) b.dispose();
  }

  /** One-line description of this module's own settings (e.g. `in_features=2, out_features=3`). */
  extraRepr(): string {
    return '';
  }

  /** The module tree, as PyTorch prints it. */
  toString(): string {
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})`;
    const lines = children.map(([name, m]) => `  (${name}): ${m.toString().split('\n').join('\n  ')}`);
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

/** target ← src (same shape), in place, outside the graph; casts between float32 and int32. */
export function copyInto(target: Tensor, src: Tensor): void {
  noGrad(() => {
    target.assertAlive('copy');
    src.assertAlive('copy');
    const s = src.dtype === target.dtype ? src : (target.dtype === 'int32' ? src.int() : src.float());
    target.backend.copyStrided(target.ptr, s.ptr, target.shape, target.strides, s.strides);
    if (s !== src) s.dispose();
  });
}
