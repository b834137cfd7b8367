// Reverse-mode automatic differentiation over a recorded graph.
// see: micrograd (engine.py) — each value records its inputs and a closure that adds into their
// gradients; backward() is a topological sort and a reverse walk.
import { SimdgradError, fmtShape } from '../errors.js';
import { keep, scope } from '../memory.js';
import type { Tensor } from '../tensor.js';
import { checkBackward, checkForward, checkGradient, isAnomalyEnabled } from './anomaly.js';

/** How an op's output propagates its gradient to its inputs. */
export interface Node {
  /** The op's name, for error messages and `gradFn`. */
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Tensors the backward closure reads besides the inputs and the output (kept alive with the graph). */
  readonly saved: readonly Tensor[];
  /** Given dL/d(output), returns dL/d(input) per input (null where an input needs none). */
  readonly backward: (gradOutput: Tensor) => (Tensor | null)[];
}

let gradEnabled = true;

/** Whether ops record the graph now. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording any graph (inference, parameter updates) and returns what it returns.
 *
 * @example
 * ```ts
 * const pred = noGrad(() => model.forward(x));
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Does any input need a gradient (and is recording on)? */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/** Attaches a node to `out` when recording and some input requires grad. Returns `out`. */
export function record(out: Tensor, name: string, inputs: readonly Tensor[],
  backward: (gradOutput: Tensor) => (Tensor | null)[], saved: readonly Tensor[] = []): Tensor {
  if (needsGrad(inputs)) {
    if (isAnomalyEnabled()) {
      try {
        checkForward(name, out, inputs);
      } catch (e) {
        out.dispose();
        throw e;
      }
    }
    out.requiresGrad = true;
    out.node = { name, inputs, saved, backward };
  }
  return out;
}

/** Reverse topological order of the graph under `root` (root first). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  // iterative DFS (deep graphs such as RNNs would overflow the call stack)
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const child = inputs[i]!;
      if (child.node !== null && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/**
 * Computes d(root)/d(leaf) for every leaf with requiresGrad under root and adds it into `leaf.grad`.
 * The graph is released afterwards unless `retainGraph`.
 */
export function backward(root: Tensor, gradient?: Tensor, retainGraph = false): void {
  root.assertAlive('backward');
  if (!root.requiresGrad) {
    throw new SimdgradError('backward: the tensor does not require grad and has no graph (help: create the inputs with { requiresGrad: true })');
  }
  if (gradient === undefined && root.size !== 1) {
    throw new SimdgradError(`backward: grad can be implicitly created only for scalar outputs (got shape ${fmtShape(root.shape)}) ` +
      '(help: pass a gradient of the same shape, or reduce with .sum() or .mean() first)');
  }
  if (gradient !== undefined && (gradient.shape.length !== root.shape.length || gradient.shape.some((d, i) => d !== root.shape[i]))) {
    throw new SimdgradError(`backward: gradient shape ${fmtShape(gradient.shape)} does not match the output shape ${fmtShape(root.shape)}`);
  }
  const order = topoOrder(root);
  const anomaly = isAnomalyEnabled();
  noGrad(() => scope(() => {
    const grads = new Map<Tensor, Tensor>();
    if (anomaly && gradient !== undefined) checkGradient(gradient, 'the gradient passed to backward()');
    grads.set(root, gradient ?? root.onesLike());
    for (const t of order) {
      const g = grads.get(t);
      if (g === undefined) continue;
      grads.delete(t);
      if (t.node === null) {
        accumulateLeaf(t, g);
        continue;
      }
      const node = t.node;
      const inputGrads = node.backward(g);
      node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (gi === null || gi === undefined || !input.requiresGrad) return;
        if (anomaly) checkBackward(node.name, gi, i);
        if (input.node === null) {
          accumulateLeaf(input, gi);
        } else {
          const prev = grads.get(input);
          const sum = prev === undefined ? gi : prev.add(gi);
          if (anomaly && prev !== undefined) checkGradient(sum, `the sum of the gradients reaching ${input.node.name} (backward)`);
          grads.set(input, sum);
        }
      });
    }
  }));
  if (!retainGraph) releaseGraph(order);
}

/** leaf.grad += g (in place when a grad already exists; the new grad is owned by the leaf). */
function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (g.shape.length !== leaf.shape.length || g.shape.some((d, i) => d !== leaf.shape[i])) {
    throw new SimdgradError(`backward: internal error: gradient shape ${fmtShape(g.shape)} ≠ leaf shape ${fmtShape(leaf.shape)}`);
  }
  if (leaf.grad === null) {
    leaf.grad = keep(g.contiguousCopy());
  } else {
    leaf.grad.addInPlace(g);
  }
}

/** Drops the nodes of a walked graph and frees the intermediates only the graph was holding. */
function releaseGraph(order: readonly Tensor[]): void {
  const held = new Set<Tensor>();
  for (const t of order) {
    const node = t.node;
    if (node === null) continue;
    t.node = null;
    if (t.heldByGraph) held.add(t);
    for (const s of node.inputs) if (s.heldByGraph) held.add(s);
    for (const s of node.saved) if (s.heldByGraph) held.add(s);
  }
  for (const t of held) if (!t.disposed && t.node === null) t.dispose();
}
