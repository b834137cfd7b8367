// Every op: forward on the wasm backend against the reference backend, and backward against central
// finite differences, over shapes including sizes 1, 3, 17 and broadcasting.
import { describe, it } from 'vitest';
import { checkOp } from '../test-utils.js';
import { where } from './elementwise.js';
import { cat, stack } from './shape.js';
import type { Tensor } from '../tensor.js';

const SHAPES: number[][] = [[1], [3], [17], [3, 17], [2, 3, 5]];

describe('unary ops', () => {
  const positive: [number, number] = [0.2, 3];
  const cases: [string, (x: Tensor) => Tensor, [number, number]?][] = [
    ['neg', (x) => x.neg()], ['abs', (x) => x.abs()], ['exp', (x) => x.exp()], ['log', (x) => x.log(), positive],
    ['sqrt', (x) => x.sqrt(), positive], ['rsqrt', (x) => x.rsqrt(), positive], ['tanh', (x) => x.tanh()],
    ['sigmoid', (x) => x.sigmoid()], ['relu', (x) => x.relu()], ['gelu', (x) => x.gelu()],
    ['gelu tanh', (x) => x.gelu('tanh')], ['leakyRelu', (x) => x.leakyRelu(0.1)], ['clamp', (x) => x.clamp(-0.5, 0.7)],
    ['silu', (x) => x.silu()], ['elu', (x) => x.elu(1.2)], ['softplus', (x) => x.softplus()], ['square', (x) => x.square()],
    ['reciprocal', (x) => x.reciprocal(), positive], ['sin', (x) => x.sin()], ['cos', (x) => x.cos()], ['erf', (x) => x.erf()],
    ['log1p', (x) => x.log1p(), positive], ['expm1', (x) => x.expm1()],
  ];
  it.each(cases)('%s', async (name, fn, range) => {
    for (const shape of SHAPES) await checkOp(`${name} ${JSON.stringify(shape)}`, fn, [{ shape, range }]);
  });
});

describe('binary ops with broadcasting', () => {
  const pairs: [number[], number[]][] = [[[3], [3]], [[17], [1]], [[3, 1], [1, 17]], [[2, 3, 5], [3, 5]], [[1], [3, 17]], [[], [3]]];
  const cases: [string, (a: Tensor, b: Tensor) => Tensor, [number, number]?, [number, number]?][] = [
    ['add', (a, b) => a.add(b)], ['sub', (a, b) => a.sub(b)], ['mul', (a, b) => a.mul(b)],
    ['div', (a, b) => a.div(b), undefined, [0.5, 2]], ['pow', (a, b) => a.pow(b), [0.3, 2], [-1.5, 1.5]],
    ['maximum', (a, b) => a.maximum(b)], ['minimum', (a, b) => a.minimum(b)],
  ];
  it.each(cases)('%s', async (name, fn, ra, rb) => {
    for (const [sa, sb] of pairs) {
      await checkOp(`${name} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`, fn, [{ shape: sa, range: ra }, { shape: sb, range: rb }]);
    }
  });

  it('scalar operands on either side', async () => {
    await checkOp('x + 2', (x) => x.add(2), [{ shape: [17] }]);
    await checkOp('x - 2', (x) => x.sub(2), [{ shape: [17] }]);
    await checkOp('x * 3', (x) => x.mul(3), [{ shape: [17] }]);
    await checkOp('x / 4', (x) => x.div(4), [{ shape: [17] }]);
    await checkOp('x ** 3', (x) => x.pow(3), [{ shape: [17] }]);
    await checkOp('x ** 2', (x) => x.pow(2), [{ shape: [17] }]);
    await checkOp('max(x, 0.5)', (x) => x.maximum(0.5), [{ shape: [17] }]);
    await checkOp('x > 0 (mask)', (x) => x.gt(0), [{ shape: [17] }], { grad: false });
    await checkOp('comparisons', (a, b) => a.le(b).add(a.ge(b)).add(a.lt(b)).add(a.eq(b)).add(a.ne(b)), [{ shape: [3, 4] }, { shape: [4] }], { grad: false });
  });

  it('where', async () => {
    await checkOp('where', (c, a, b) => where(c.gt(0), a, b), [{ shape: [3, 1], requiresGrad: false }, { shape: [3, 17] }, { shape: [17] }]);
    await checkOp('where scalar', (c, a) => where(c.gt(0), a, 0), [{ shape: [17], requiresGrad: false }, { shape: [17] }]);
  });

  it('a value used twice accumulates its gradient', async () => {
    await checkOp('x*x + x', (x) => x.mul(x).add(x), [{ shape: [3, 17] }]);
    await checkOp('diamond', (x) => { const y = x.exp(); return y.mul(y.sin()).add(y); }, [{ shape: [5] }]);
  });
});

describe('reductions', () => {
  it.each(['sum', 'mean', 'max', 'min'] as const)('%s', async (op) => {
    for (const shape of [[1], [17], [3, 17], [2, 3, 5]]) {
      await checkOp(`${op} all ${JSON.stringify(shape)}`, (x) => x[op](), [{ shape }]);
      for (let d = -shape.length; d < shape.length; d++) {
        await checkOp(`${op} dim ${d} ${JSON.stringify(shape)}`, (x) => x[op](d), [{ shape }]);
        await checkOp(`${op} dim ${d} keepdim`, (x) => x[op](d, true), [{ shape }]);
      }
    }
    await checkOp(`${op} dims [0, 2]`, (x) => x[op]([0, 2]), [{ shape: [2, 3, 5] }]);
    await checkOp(`${op} dims [1, 2] keepdim`, (x) => x[op]([1, 2], true), [{ shape: [2, 3, 5] }]);
  });

  it('var, std, prod, logsumexp', async () => {
    await checkOp('var', (x) => x.var(1), [{ shape: [3, 17] }]);
    await checkOp('std all', (x) => x.std(), [{ shape: [3, 5] }]);
    await checkOp('prod', (x) => x.prod(1), [{ shape: [3, 5], range: [0.5, 1.5] }]);
    await checkOp('logsumexp', (x) => x.logsumexp(1), [{ shape: [3, 17], range: [-10, 10] }]);
  });

  it('argmax and argmin', async () => {
    await checkOp('argmax', (x) => x.argmax(1), [{ shape: [3, 17] }], { grad: false });
    await checkOp('argmin all', (x) => x.argmin(), [{ shape: [3, 17] }], { grad: false });
    await checkOp('argmax keepdim', (x) => x.argmax(0, true), [{ shape: [3, 17] }], { grad: false });
  });

  it('softmax and logSoftmax on any dim', async () => {
    for (const shape of [[17], [3, 17], [2, 3, 5]]) {
      for (let d = 0; d < shape.length; d++) {
        await checkOp(`softmax ${d} ${JSON.stringify(shape)}`, (x) => x.softmax(d), [{ shape, range: [-5, 5] }]);
        await checkOp(`logSoftmax ${d} ${JSON.stringify(shape)}`, (x) => x.logSoftmax(d), [{ shape, range: [-5, 5] }]);
      }
    }
  });
});

describe('matmul', () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [4, 5]], [[1, 17], [17, 3]], [[17, 1], [1, 17]], [[2, 3, 4], [4, 5]], [[2, 3, 4], [2, 4, 5]],
    [[4, 5], [2, 5, 3]], [[2, 1, 3, 4], [1, 3, 4, 2]], [[4], [4]], [[3, 4], [4]], [[4], [4, 3]], [[2, 3, 4], [4]],
  ];
  it.each(cases)('%j · %j', async (sa, sb) => {
    await checkOp('matmul', (a, b) => a.matmul(b), [{ shape: sa }, { shape: sb }], { rtol: 1e-4, atol: 1e-5 });
  });
  it('transposed views go through without copies and give the same numbers', async () => {
    await checkOp('aT·b', (a, b) => a.transpose(0, 1).matmul(b), [{ shape: [4, 3] }, { shape: [4, 5] }]);
    await checkOp('a·bT', (a, b) => a.matmul(b.transpose(0, 1)), [{ shape: [3, 4] }, { shape: [5, 4] }]);
    await checkOp('batched transposed', (a, b) => a.transpose(-1, -2).matmul(b.transpose(-1, -2)), [{ shape: [2, 4, 3] }, { shape: [2, 5, 4] }]);
    await checkOp('permuted batch', (a, b) => a.permute(1, 0, 2).matmul(b), [{ shape: [3, 2, 4] }, { shape: [4, 5] }]);
  });
});

describe('shape ops', () => {
  it('reshape, view, flatten, squeeze, unsqueeze', async () => {
    await checkOp('reshape', (x) => x.reshape(6, 5).mul(x.reshape([-1]).reshape(6, 5)), [{ shape: [2, 3, 5] }]);
    await checkOp('reshape of a transpose (copy)', (x) => x.transpose(0, 1).reshape(-1).exp(), [{ shape: [3, 4] }]);
    await checkOp('view', (x) => x.view(3, 2, 5).sin(), [{ shape: [2, 3, 5] }]);
    await checkOp('flatten', (x) => x.flatten(1).exp(), [{ shape: [2, 3, 5] }]);
    await checkOp('squeeze', (x) => x.squeeze().exp(), [{ shape: [1, 3, 1] }]);
    await checkOp('squeeze dim', (x) => x.squeeze(0).exp(), [{ shape: [1, 3, 1] }]);
    await checkOp('unsqueeze', (x) => x.unsqueeze(1).add(x.unsqueeze(-1)), [{ shape: [3] }]);
  });
  it('transpose, permute, expand', async () => {
    await checkOp('transpose', (x) => x.transpose(0, 2).exp(), [{ shape: [2, 3, 5] }]);
    await checkOp('permute', (x) => x.permute(2, 0, 1).mul(2).tanh(), [{ shape: [2, 3, 5] }]);
    await checkOp('expand', (x) => x.expand(4, 3, 5).sin(), [{ shape: [3, 1] }]);
    await checkOp('t', (x) => x.t().exp(), [{ shape: [3, 5] }]);
  });
  it('slice and narrow', async () => {
    await checkOp('narrow', (x) => x.narrow(1, 1, 2).exp(), [{ shape: [3, 5] }]);
    await checkOp('slice step', (x) => x.slice(1, 0, 5, 2).exp(), [{ shape: [3, 5] }]);
    await checkOp('slice negative', (x) => x.slice(0, -2).exp(), [{ shape: [17] }]);
    await checkOp('slice of transpose', (x) => x.transpose(0, 1).slice(0, 1, 4).exp(), [{ shape: [3, 5] }]);
  });
  it('cat and stack', async () => {
    await checkOp('cat 0', (a, b) => cat([a, b], 0).exp(), [{ shape: [2, 3] }, { shape: [1, 3] }]);
    await checkOp('cat 1', (a, b) => cat([a, b, a], 1).exp(), [{ shape: [2, 3] }, { shape: [2, 17] }]);
    await checkOp('stack', (a, b) => stack([a, b], 1).sin(), [{ shape: [2, 3] }, { shape: [2, 3] }]);
  });
});

describe('indexing', () => {
  it('indexSelect and gather', async () => {
    await checkOp('indexSelect 0', (x, i) => x.indexSelect(0, i), [{ shape: [5, 3] }, { shape: [7], int: [0, 5] }]);
    await checkOp('indexSelect 1', (x, i) => x.indexSelect(1, i), [{ shape: [2, 17, 3] }, { shape: [4], int: [0, 17] }]);
    await checkOp('gather', (x, i) => x.gather(1, i), [{ shape: [3, 5] }, { shape: [3, 2], int: [0, 5] }]);
    await checkOp('gather narrow', (x, i) => x.gather(0, i), [{ shape: [4, 5] }, { shape: [2, 3], int: [0, 4] }]);
  });
});
