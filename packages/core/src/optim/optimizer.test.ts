// The optimizer base, for every optimizer: zeroGrad, param groups, state dicts (round trip and strict
// checks), argument errors, state surviving scopes, flat memory, and a model that actually learns.
import { beforeEach, describe, expect, it } from 'vitest';
import { setBackend } from '../engine.js';
import { keep, liveTensorCount } from '../memory.js';
import { manualSeed, randn, tensor, zeros } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { errorMessage, getBackends, setGrad, trainStep } from '../test-utils.js';
import { Adagrad } from './adagrad.js';
import { Adam, AdamW } from './adam.js';
import type { Optimizer, OptimizerStateDict } from './optimizer.js';
import { RMSprop } from './rmsprop.js';
import { SGD } from './sgd.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Make = (params: Tensor[][]) => Optimizer<any>;
/** Each optimizer with options that use every state buffer; two groups with different lr. */
const MAKERS: [string, Make][] = [
  ['SGD momentum', (ps) => new SGD([{ params: ps[0]! }, { params: ps[1]!, lr: 0.05 }], { lr: 0.1, momentum: 0.9, nesterov: true })],
  ['Adam amsgrad', (ps) => new Adam([{ params: ps[0]! }, { params: ps[1]!, lr: 0.05 }], { lr: 0.1, amsgrad: true })],
  ['AdamW', (ps) => new AdamW([{ params: ps[0]! }, { params: ps[1]!, lr: 0.05 }], { lr: 0.1 })],
  ['RMSprop centered momentum', (ps) => new RMSprop([{ params: ps[0]! }, { params: ps[1]!, lr: 0.05 }], { lr: 0.1, centered: true, momentum: 0.5 })],
  ['Adagrad', (ps) => new Adagrad([{ params: ps[0]! }, { params: ps[1]!, lr: 0.05 }], { lr: 0.1, lrDecay: 0.1, initialAccumulatorValue: 0.1 })],
];

const INIT = [[1, 2, 3, 4, 5], [-1, 0.5], [0.25, -0.25, 2]];
const GRADS = [[[0.1, -0.2, 0.3, 0.4, -0.5], [1, -1], [0.5, 0.5, -2]], [[1, 2, -3, 0.5, 0.1], [0.2, 0.1], [-1, 0, 1]],
  [[-0.3, 0.2, 0.1, 0, 2], [0.5, -0.5], [0.1, 0.2, 0.3]]];

function makeParams(values: number[][]): Tensor[] {
  return values.map((v) => tensor(v, { requiresGrad: true }));
}

describe.each(['wasm', 'reference'] as const)('optimizer base on %s', (backend) => {
  beforeEach(async () => setBackend((await getBackends())[backend]));

  it.each(MAKERS)('%s: stateDict round trip continues with the same numbers', (_, make) => {
    const ps = makeParams(INIT);
    const opt = make([[ps[0]!, ps[1]!], [ps[2]!]]);
    for (const grads of GRADS.slice(0, 2)) {
      ps.forEach((p, i) => setGrad(p, grads[i]!));
      opt.step();
    }
    const sd = opt.stateDict();
    const snapshot = ps.map((p) => Array.from(p.toFloat32Array()));
    // the state dict is plain data with Float32Array copies
    expect(sd.paramGroups.map((g) => g.params)).toEqual([[0, 1], [2]]);
    for (const entry of Object.values(sd.state)) {
      for (const v of Object.values(entry)) expect(typeof v === 'number' || v instanceof Float32Array).toBe(true);
    }
    // continue the original
    ps.forEach((p, i) => setGrad(p, GRADS[2]![i]!));
    opt.step();
    const continued = ps.map((p) => Array.from(p.toFloat32Array()));
    // a fresh optimizer over fresh parameters with the snapshot values, loaded from the state dict
    const qs = makeParams(snapshot);
    const opt2 = make([[qs[0]!, qs[1]!], [qs[2]!]]);
    opt2.paramGroups[1]!.lr = 123; // overwritten by the load
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups[1]!.lr).toBe(0.05);
    qs.forEach((q, i) => setGrad(q, GRADS[2]![i]!));
    opt2.step();
    expect(qs.map((q) => Array.from(q.toFloat32Array()))).toEqual(continued);
    opt.dispose();
    opt2.dispose();
  });

  it.each(MAKERS)('%s: the second group uses its own lr', (_, make) => {
    const [a, b] = makeParams([[1, 1, 1], [1, 1, 1]]);
    const opt = make([[a!], [b!]]);
    setGrad(a!, [1, -2, 3]);
    setGrad(b!, [1, -2, 3]);
    opt.step();
    const da = Array.from(a!.toFloat32Array(), (v) => v - 1), db = Array.from(b!.toFloat32Array(), (v) => v - 1);
    // the first step is linear in lr for every optimizer here except AdamW's decay term (lr·wd·p)
    da.forEach((d, i) => expect(db[i]! / d).toBeCloseTo(0.5, 2));
  });

  it('zeroGrad disposes every grad and sets it to null', () => {
    const [a, b] = makeParams([[1, 2], [3]]);
    const opt = new SGD([a!, b!], { lr: 0.1 });
    setGrad(a!, [1, 1]);
    setGrad(b!, [1]);
    const g = a!.grad!;
    opt.zeroGrad();
    expect(a!.grad).toBeNull();
    expect(b!.grad).toBeNull();
    expect(g.disposed).toBe(true);
    opt.step(); // no grads: nothing moves
    expect(Array.from(a!.toFloat32Array())).toEqual([1, 2]);
  });

  it('a training loop keeps its state across scopes and runs in flat memory', () => {
    manualSeed(3);
    const w = randn([4, 1], { requiresGrad: true });
    const b = zeros([1], { requiresGrad: true });
    const x = randn([32, 4]);
    const trueW = tensor([[1], [-2], [0.5], [3]]);
    const y = x.matmul(trueW).add(0.7);
    const opt = new Adam([w, b], { lr: 0.05 });
    const lossAt = () => trainStep(opt, () => x.matmul(w).add(b).sub(y).square().mean());
    const first = lossAt();
    lossAt();
    const live = liveTensorCount();
    let last = first;
    for (let i = 0; i < 300; i++) last = lossAt();
    expect(liveTensorCount()).toBe(live);
    expect(last).toBeLessThan(first * 1e-3);
    expect(w.toFloat32Array()[1]).toBeCloseTo(-2, 1);
    opt.dispose();
  });

  it('step(closure) runs the closure first and returns its loss', () => {
    const [p] = makeParams([[2]]);
    const opt = new SGD([p!], { lr: 0.25 });
    const loss = opt.step(() => {
      setGrad(p!, [2 * p!.item()]); // d(p²)/dp
      return p!.item() ** 2;
    });
    expect(loss).toBe(4);
    expect(p!.item()).toBe(1);
  });

  it('addParamGroup adds a group with its own options; a parameter may be in one group only', () => {
    const [a, b] = makeParams([[1], [1]]);
    const opt = new Adam([a!], { lr: 0.1 });
    opt.addParamGroup({ params: [b!], lr: 0.01, betas: [0.5, 0.6] });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.01, betas: [0.5, 0.6], eps: 1e-8 });
    expect(() => opt.addParamGroup({ params: [a!] })).toThrow('Adam: some parameters appear in more than one parameter group');
    expect(() => opt.addParamGroup({ params: [tensor([1])], lr: -1 })).toThrow('Adam: invalid learning rate: -1');
    expect(() => opt.addParamGroup({ params: [tensor([1])], foo: 1 } as never)).toThrow('Adam: unknown option "foo" in a parameter group');
    // options are copied: changing one group's betas leaves the defaults alone
    opt.paramGroups[0]!.betas[0] = 0.1;
    expect(opt.defaults.betas[0]).toBe(0.9);
  });

  it('rejects bad params by name', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: optimizer got an empty parameter list');
    expect(() => new SGD(5 as never, { lr: 0.1 })).toThrow('SGD: params must be an array of tensors or of parameter groups (got 5)');
    expect(() => new SGD([p, 3] as never, { lr: 0.1 })).toThrow('SGD: can only optimize tensors (params[1] is 3)');
    expect(() => new SGD([p, p], { lr: 0.1 })).toThrow('SGD: a parameter group contains the same tensor twice (params[1])');
    expect(() => new SGD([p.mul(2)], { lr: 0.1 })).toThrow("SGD: can't optimize a non-leaf tensor");
    expect(() => new SGD([tensor([1], { dtype: 'int32' })], { lr: 0.1 })).toThrow('SGD: can only optimize float32 tensors');
    expect(() => new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 })).toThrow('some parameters appear in more than one parameter group');
    const q = tensor([1, 2, 3], { requiresGrad: true });
    const opt = new SGD([q], { lr: 0.1 });
    q.grad = keep(tensor([1, 2]));
    expect(() => opt.step()).toThrow('SGD.step: a gradient of shape [2] does not match its parameter\'s shape [3]');
  });

  it('loadStateDict checks groups, keys and shapes strictly and changes nothing on error', () => {
    const [a, b] = makeParams([[1, 2, 3], [4]]);
    const opt = new Adam([a!, b!], { lr: 0.1 });
    setGrad(a!, [1, 1, 1]);
    setGrad(b!, [1]);
    opt.step();
    const good = opt.stateDict();
    const bad = (f: (sd: OptimizerStateDict) => void): OptimizerStateDict => {
      const sd = structuredClone(good);
      f(sd);
      return sd;
    };
    const err = (sd: unknown) => errorMessage(() => opt.loadStateDict(sd as OptimizerStateDict));
    expect(err(null)).toBe('Adam.loadStateDict: expected { state, paramGroups } as stateDict() returns (got null)');
    expect(err(bad((sd) => sd.paramGroups.push({ ...sd.paramGroups[0]!, params: [2] })))).toBe(
      'Adam.loadStateDict: the state dict has 2 parameter groups, the optimizer has 1');
    expect(err(bad((sd) => sd.paramGroups[0]!.params.pop()))).toBe(
      "Adam.loadStateDict: paramGroups[0] has 1 parameters, the optimizer's group has 2");
    expect(err(bad((sd) => { sd.state[0]!.expAvg = new Float32Array(2); }))).toBe(
      'Adam.loadStateDict: state[0].expAvg has 2 elements, but the parameter of shape [3] has 3');
    expect(err(bad((sd) => { sd.state[1]!.momentumBuffer = new Float32Array(1); }))).toBe(
      'Adam.loadStateDict: unknown key "momentumBuffer" in state[1] (expected step, expAvg, expAvgSq, maxExpAvgSq)');
    expect(err(bad((sd) => { delete sd.state[1]!.expAvgSq; }))).toBe('Adam.loadStateDict: state[1] lacks "expAvgSq"');
    expect(err(bad((sd) => { sd.state[1]!.step = -1; }))).toBe('Adam.loadStateDict: state[1].step must be a non-negative integer (got -1)');
    expect(err(bad((sd) => { sd.state[5] = sd.state[0]!; }))).toBe('Adam.loadStateDict: state key 5 is not a parameter index (the optimizer has 2 parameters)');
    expect(err(bad((sd) => { delete sd.paramGroups[0]!.eps; }))).toBe('Adam.loadStateDict: paramGroups[0] lacks the option "eps"');
    expect(err(bad((sd) => { sd.paramGroups[0]!.momentum = 0.9; }))).toBe(
      'Adam.loadStateDict: unknown option "momentum" in paramGroups[0] (expected lr, betas, eps, weightDecay, amsgrad, maximize)');
    expect(err(bad((sd) => { sd.paramGroups[0]!.lr = -3; }))).toBe('Adam: invalid learning rate: -3 (expected ≥ 0)');
    // nothing changed
    expect(opt.stateDict()).toEqual(good);
    // an SGD state dict does not load into Adam
    const sgd = new SGD([tensor([1, 2, 3], { requiresGrad: true }), tensor([4], { requiresGrad: true })], { lr: 0.1 });
    expect(err(sgd.stateDict())).toMatch(/unknown option "momentum"|lacks the option/);
  });
});
