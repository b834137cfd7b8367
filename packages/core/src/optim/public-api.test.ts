// The optim namespace through the public entry, with an nn model: model.parameters() into an optimizer,
// a scheduler and clipping in one training loop.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, manualSeed, nn, optim, randn, scope, tensor } from '../index.js';

beforeAll(async () => {
  await init();
});

describe('optim through the public entry', () => {
  it('trains an nn.Linear with AdamW, CosineAnnealingLR and clipGradNorm', () => {
    manualSeed(0);
    const model = new nn.Linear(3, 1);
    const x = randn([64, 3]);
    const y = x.matmul(tensor([[1.5], [-2], [0.25]])).add(0.5);
    const opt = new optim.AdamW(model.parameters(), { lr: 0.1, weightDecay: 1e-4 });
    const sched = new optim.lrScheduler.CosineAnnealingLR(opt, { tMax: 200 });
    const losses: number[] = [];
    for (let i = 0; i < 200; i++) {
      losses.push(scope(() => {
        opt.zeroGrad();
        const loss = nn.functional.mseLoss(model.forward(x), y);
        loss.backward();
        optim.clipGradNorm(model.parameters(), 5);
        opt.step();
        sched.step();
        return loss.item();
      }));
    }
    expect(losses[losses.length - 1]).toBeLessThan(1e-3 * losses[0]!);
    expect(sched.getLastLr()[0]).toBeCloseTo(0, 10);
    expect(Object.keys(optim)).toEqual(expect.arrayContaining(['SGD', 'Adam', 'AdamW', 'RMSprop', 'Adagrad', 'clipGradNorm', 'clipGradValue', 'lrScheduler', 'findLr']));
  });
});
