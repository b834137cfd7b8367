// API misuse, table-driven: public functions × (wrong shape, wrong dtype, bad dim, non-finite
// hyper-parameter, disposed tensor). Each row must throw a SimdgradError whose message starts with the
// op's name (`op: problem (values)`), never another exception, a NaN result, or a crash in wasm.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  SimdgradError, cat, data, full, init, io, linspace, manualSeed, nn, optim, randn, stack, tensor, zeros, arange, type Tensor,
} from '../index.js';

beforeAll(async () => {
  await init();
});

type Row = [name: string, run: () => unknown, message: RegExp | string];

const F = nn.functional;
const a23 = () => randn([2, 3]);
const i32 = () => tensor([0, 1, 2], { dtype: 'int32' });
const disposed = () => {
  const t = randn([2, 3], { requiresGrad: true });
  t.dispose();
  return t;
};
const param = () => randn([3], { requiresGrad: true });

function expectMisuse(run: () => unknown, message: RegExp | string): void {
  let thrown: unknown = null;
  try {
    run();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'should throw').not.toBeNull();
  expect(thrown, `${(thrown as Error)?.name}: ${(thrown as Error)?.message}`).toBeInstanceOf(SimdgradError);
  const msg = (thrown as Error).message;
  expect(msg).toMatch(/^[A-Za-z][\w.]*: \S/);
  if (typeof message === 'string') expect(msg.startsWith(message), msg).toBe(true);
  else expect(msg).toMatch(message);
}

const shapes: Row[] = [
  ['matmul inner dims', () => a23().matmul(randn([4, 5])), 'matmul:'],
  ['add without broadcast', () => a23().add(randn([4, 3])), 'add:'],
  ['mul without broadcast', () => a23().mul(randn([2, 4])), 'mul:'],
  ['reshape to another size', () => a23().reshape([4, 2]), 'reshape:'],
  ['view of a transposed tensor', () => a23().t().view([6]), 'view:'],
  ['expand to a smaller shape', () => a23().expand([3, 3]), 'expand:'],
  ['cat of different shapes', () => cat([a23(), randn([2, 4])], 0), 'cat:'],
  ['stack of different shapes', () => stack([a23(), randn([3, 2])]), 'stack:'],
  ['backward of a non-scalar', () => a23().requiresGrad_().mul(2).backward(), 'backward:'],
  ['backward with a gradient of another shape', () => a23().requiresGrad_().mul(2).backward(zeros([3, 2])), 'backward:'],
  ['item of many elements', () => a23().item(), 'item:'],
  ['mseLoss of different shapes', () => F.mseLoss(a23(), randn([3, 2])), 'mseLoss:'],
  ['crossEntropy with a target of the wrong length', () => F.crossEntropy(a23(), tensor([0, 1, 2], { dtype: 'int32' })), 'crossEntropy:'],
  ['crossEntropy with a class out of range', () => F.crossEntropy(a23(), tensor([0, 3], { dtype: 'int32' })), /^(crossEntropy|nllLoss):/],
  ['nllLoss with a negative class', () => F.nllLoss(a23().logSoftmax(1), tensor([0, -1], { dtype: 'int32' })), 'nllLoss:'],
  ['nn.Linear fed the wrong features', () => new nn.Linear(4, 2).forward(a23()), /^(linear|matmul|Linear):/],
  ['nn.Conv2d fed a 2-D tensor', () => new nn.Conv2d(1, 2, 3).forward(a23()), /^(conv2d|Conv2d):/],
  ['nn.Conv2d kernel larger than the input', () => new nn.Conv2d(1, 2, 5).forward(randn([1, 1, 3, 3])), /^(conv2d|Conv2d):/],
  ['nn.BatchNorm1d with other features', () => new nn.BatchNorm1d(4).forward(a23()), /^(batchNorm|BatchNorm1d):/],
  ['layerNorm over a mismatched shape', () => F.layerNorm(a23(), [4]), 'layerNorm:'],
  ['gather with an index of other rank', () => a23().gather(1, tensor([0], { dtype: 'int32' })), 'gather:'],
  ['tensor from ragged arrays', () => tensor([[1, 2], [3]]), 'tensor:'],
  ['zeros of a negative size', () => zeros([2, -1]), 'zeros:'],
  ['randn of a fractional size', () => randn([1.5]), 'randn:'],
  ['io.save of a non-tensor', () => io.save({ w: [1, 2] as never }), 'save:'],
  ['csvToTensors of fractional int labels', () => data.csvToTensors(data.parseCsv('a,b\n1,0.5\n', { labelColumn: 1 }), { labelDtype: 'int32' }), 'csvToTensors:'],
];

const dtypes: Row[] = [
  ['requiresGrad on int32', () => i32().requiresGrad_(), 'requiresGrad:'],
  ['indexSelect with a float index', () => a23().indexSelect(0, tensor([0, 1])), 'indexSelect:'],
  ['gather with a float index', () => a23().gather(1, zeros([2, 1])), 'gather:'],
  ['embedding with float indices', () => F.embedding(tensor([0, 1]), randn([3, 2])), /^(embedding|indexSelect):/],
  ['crossEntropy with float targets of class indices', () => F.crossEntropy(a23(), tensor([0.5, 1])), 'crossEntropy:'],
  ['optimizer of an int32 tensor', () => new optim.SGD([i32()], { lr: 0.1 }), 'SGD:'],
  ['tensor with an unknown dtype', () => tensor([1], { dtype: 'float16' as never }), 'tensor:'],
  ['idxToTensor int32 from float data', () => data.idxToTensor({ shape: [1], dtype: 'float32', data: new Float32Array(1) }, { dtype: 'int32' }), 'idxToTensor:'],
];

const dims: Row[] = [
  ['sum over dim 5', () => a23().sum(5), 'sum:'],
  ['mean over dim -3', () => a23().mean(-3), 'mean:'],
  ['softmax over dim 2', () => a23().softmax(2), 'softmax:'],
  ['logSoftmax over dim -4', () => a23().logSoftmax(-4), 'logSoftmax:'],
  ['argmax over dim 9', () => a23().argmax(9), 'argmax:'],
  ['transpose of dim 3', () => a23().transpose(0, 3), 'transpose:'],
  ['permute with a repeated dim', () => a23().permute(0, 0), 'permute:'],
  ['squeeze of dim 4', () => a23().squeeze(4), 'squeeze:'],
  ['unsqueeze at dim 4', () => a23().unsqueeze(4), 'unsqueeze:'],
  ['narrow past the end', () => a23().narrow(1, 2, 5), 'narrow:'],
  ['slice with step 0', () => a23().slice(1, 0, 2, 0), 'slice:'],
  ['cat along dim 3', () => cat([a23(), a23()], 3), 'cat:'],
  ['indexSelect with an index out of range', () => a23().indexSelect(0, tensor([5], { dtype: 'int32' })), 'indexSelect:'],
  ['logsumexp over dim 2', () => a23().logsumexp(2), 'logsumexp:'],
  ['flatten with start after end', () => randn([2, 3, 4]).flatten(2, 1), 'flatten:'],
  ['var over a fractional dim', () => a23().var(0.5), /^(var|variance):/],
];

const hyper: Row[] = [];
type OptCtor = (params: Tensor[], o: Record<string, unknown>) => unknown;
const OPTIMIZERS: [string, OptCtor, string[]][] = [
  ['SGD', (p, o) => new optim.SGD(p, o as never), ['momentum', 'dampening', 'weightDecay']],
  ['Adam', (p, o) => new optim.Adam(p, o as never), ['eps', 'weightDecay']],
  ['AdamW', (p, o) => new optim.AdamW(p, o as never), ['eps', 'weightDecay']],
  ['RMSprop', (p, o) => new optim.RMSprop(p, o as never), ['alpha', 'eps', 'weightDecay', 'momentum']],
  ['Adagrad', (p, o) => new optim.Adagrad(p, o as never), ['lrDecay', 'eps', 'weightDecay', 'initialAccumulatorValue']],
];
for (const [name, make, extra] of OPTIMIZERS) {
  for (const lr of [NaN, Infinity, -Infinity, -1]) hyper.push([`${name} lr ${lr}`, () => make([param()], { lr }), `${name}:`]);
  for (const key of extra) for (const v of [NaN, Infinity]) hyper.push([`${name} ${key} ${v}`, () => make([param()], { lr: 0.1, [key]: v }), `${name}:`]);
  if (name.startsWith('Adam')) hyper.push([`${name} betas [NaN, 0.9]`, () => make([param()], { lr: 0.1, betas: [NaN, 0.9] }), `${name}:`]);
  // a non-finite lr set later (by hand, in a param group) is caught at step()
  for (const lr of [NaN, Infinity]) {
    hyper.push([`${name} step() with paramGroups[0].lr = ${lr}`, () => {
      const p = param();
      const opt = make([p], { lr: 0.1 }) as optim.Optimizer<never>;
      p.grad = tensor([1, 1, 1]);
      (opt.paramGroups[0] as { lr: number }).lr = lr;
      opt.step();
    }, `${name}.step:`]);
  }
}
const sgd = () => new optim.SGD([param()], { lr: 0.1 });
const S = optim.lrScheduler;
for (const v of [NaN, Infinity]) {
  hyper.push(
    [`StepLR stepSize ${v}`, () => new S.StepLR(sgd(), { stepSize: v }), 'StepLR:'],
    [`StepLR gamma ${v}`, () => new S.StepLR(sgd(), { stepSize: 1, gamma: v }), 'StepLR:'],
    [`ExponentialLR gamma ${v}`, () => new S.ExponentialLR(sgd(), { gamma: v }), 'ExponentialLR:'],
    [`CosineAnnealingLR tMax ${v}`, () => new S.CosineAnnealingLR(sgd(), { tMax: v }), 'CosineAnnealingLR:'],
    [`CosineAnnealingLR etaMin ${v}`, () => new S.CosineAnnealingLR(sgd(), { tMax: 10, etaMin: v }), 'CosineAnnealingLR:'],
    [`LinearLR startFactor ${v}`, () => new S.LinearLR(sgd(), { startFactor: v }), 'LinearLR:'],
    [`LinearLR totalIters ${v}`, () => new S.LinearLR(sgd(), { totalIters: v }), 'LinearLR:'],
    [`OneCycleLR maxLr ${v}`, () => new S.OneCycleLR(sgd(), { maxLr: v, totalSteps: 10 }), 'OneCycleLR:'],
    [`OneCycleLR totalSteps ${v}`, () => new S.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: v }), 'OneCycleLR:'],
    [`OneCycleLR divFactor ${v}`, () => new S.OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 10, divFactor: v }), 'OneCycleLR:'],
    [`ReduceLROnPlateau factor ${v}`, () => new S.ReduceLROnPlateau(sgd(), { factor: v }), 'ReduceLROnPlateau:'],
    [`ReduceLROnPlateau threshold ${v}`, () => new S.ReduceLROnPlateau(sgd(), { threshold: v }), 'ReduceLROnPlateau:'],
    [`ReduceLROnPlateau minLr ${v}`, () => new S.ReduceLROnPlateau(sgd(), { minLr: v }), 'ReduceLROnPlateau:'],
    [`dropout p ${v}`, () => F.dropout(a23(), v), 'dropout:'],
    [`nn.Dropout p ${v}`, () => new nn.Dropout(v), /^(dropout|Dropout):/],
    [`leakyRelu slope ${v}`, () => a23().leakyRelu(v), 'leakyRelu:'],
    [`elu alpha ${v}`, () => a23().elu(v), 'elu:'],
    [`huberLoss delta ${v}`, () => F.huberLoss(a23(), a23(), 'mean', v), 'huberLoss:'],
    [`layerNorm eps ${v}`, () => F.layerNorm(a23(), [3], null, null, v), 'layerNorm:'],
    [`arange step ${v}`, () => arange(0, 10, v), 'arange:'],
    [`linspace steps ${v}`, () => linspace(0, 1, v), 'linspace:'],
    [`manualSeed ${v}`, () => manualSeed(v), 'manualSeed:'],
    [`zeros of size ${v}`, () => zeros([v]), 'zeros:'],
  );
}
// NOTE: an infinite maxNorm/clipValue means "no clipping" (as PyTorch), and ReduceLROnPlateau.step(NaN)
// counts as a bad epoch (as PyTorch): those are not misuse.
hyper.push(
  ['clipGradNorm maxNorm NaN', () => optim.clipGradNorm([param()], NaN), 'clipGradNorm:'],
  ['clipGradValue clipValue NaN', () => optim.clipGradValue([param()], NaN), 'clipGradValue:'],
  ['batchNorm eps NaN', () => F.batchNorm(a23(), null, null, null, null, true, 0.1, NaN), 'batchNorm:'],
  ['nn.BatchNorm1d momentum NaN', () => new nn.BatchNorm1d(3, { momentum: NaN }).forward(a23()), 'batchNorm:'],
  ['arange step 0', () => arange(0, 10, 0), 'arange:'],
  ['clamp min NaN', () => a23().clamp(NaN, 1), 'clamp:'],
  ['full of an unknown dtype', () => full([2], 1, { dtype: 'bool' as never }), 'full:'],
);

const disposedRows: Row[] = [
  ['add', () => disposed().add(1), 'add:'],
  ['add (other)', () => a23().add(disposed()), 'add:'],
  ['matmul', () => disposed().matmul(randn([3, 2])), 'matmul:'],
  ['sum', () => disposed().sum(), 'sum:'],
  ['softmax', () => disposed().softmax(1), 'softmax:'],
  ['reshape', () => disposed().reshape([6]), 'reshape:'],
  ['transpose', () => disposed().transpose(0, 1), 'transpose:'],
  ['indexSelect', () => disposed().indexSelect(0, tensor([0], { dtype: 'int32' })), 'indexSelect:'],
  ['cat', () => cat([a23(), disposed()]), 'cat:'],
  ['toArray', () => disposed().toArray(), 'toArray:'],
  ['item', () => { const t = tensor(1); t.dispose(); return t.item(); }, 'item:'],
  ['backward', () => { const t = param().mul(2).sum(); t.dispose(); t.backward(); }, 'backward:'],
  ['clone', () => disposed().clone(), 'clone:'],
  ['detach', () => disposed().detach(), 'detach:'],
  ['mseLoss', () => F.mseLoss(disposed(), a23()), /^(mseLoss|sub):/],
  ['nn.Linear.forward', () => new nn.Linear(3, 2).forward(disposed()), /^(linear|matmul):/],
  ['io.save', () => io.save({ w: disposed() }), 'save:'],
  ['optimizer over a disposed parameter', () => new optim.Adam([disposed()], { lr: 0.1 }), 'Adam:'],
  ['optimizer.step after its parameter was disposed', () => {
    const p = param();
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.grad = tensor([1, 1, 1]);
    p.dispose();
    opt.step();
  }, 'SGD.step:'],
];

describe('API misuse gives `op: problem` SimdgradErrors', () => {
  it.each(shapes)('wrong shape: %s', (_, run, message) => expectMisuse(run, message));
  it.each(dtypes)('wrong dtype: %s', (_, run, message) => expectMisuse(run, message));
  it.each(dims)('bad dim: %s', (_, run, message) => expectMisuse(run, message));
  it.each(hyper)('non-finite or invalid hyper-parameter: %s', (_, run, message) => expectMisuse(run, message));
  it.each(disposedRows)('disposed tensor: %s', (_, run, message) => expectMisuse(run, message));
});
