import { beforeAll, describe, expect, it } from 'vitest';
import { data, init, io, manualSeed, nn, optim, rand, randn, scope, type Tensor } from '../index.js';

beforeAll(async () => {
  await init();
});

function makeRun() {
  const model = new nn.Sequential(new nn.Linear(3, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 1));
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 2, gamma: 0.5 });
  return { model, optimizer, scheduler };
}

function epoch(run: ReturnType<typeof makeRun>, x: Tensor, y: Tensor): void {
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 8, shuffle: true });
  for (const [xb, yb] of loader) {
    scope(() => {
      run.optimizer.zeroGrad();
      nn.functional.mseLoss(run.model.forward(xb!), yb!).backward();
      run.optimizer.step();
    });
    xb!.dispose();
    yb!.dispose();
  }
  run.scheduler.step();
}

describe('training checkpoints', () => {
  it('a resumed run equals an uninterrupted one, bit for bit', () => {
    manualSeed(0);
    const x = randn([40, 3]);
    const y = x.sum(1, true).add(rand([40, 1]));
    // uninterrupted: 4 epochs
    manualSeed(1);
    const a = makeRun();
    manualSeed(2);
    for (let e = 0; e < 4; e++) epoch(a, x, y);
    // interrupted after 2 epochs, saved, restored into a fresh run, then 2 more
    manualSeed(1);
    const b = makeRun();
    manualSeed(2);
    for (let e = 0; e < 2; e++) epoch(b, x, y);
    const bytes = io.saveCheckpoint({ ...b, epoch: 2, extra: { note: 'half way' } });
    manualSeed(99); // a different RNG state that the checkpoint must overwrite
    const c = makeRun();
    const { epoch: done, extra } = io.loadCheckpoint(bytes, c);
    expect(done).toBe(2);
    expect(extra).toEqual({ note: 'half way' });
    for (let e = done; e < 4; e++) epoch(c, x, y);
    const wa = a.model.parameters().map((p) => Array.from(p.toFloat32Array()));
    const wc = c.model.parameters().map((p) => Array.from(p.toFloat32Array()));
    expect(wc).toEqual(wa);
    expect(c.optimizer.paramGroups[0]!.lr).toBe(a.optimizer.paramGroups[0]!.lr);
    expect(Array.from(c.model.buffers()[0]!.toFloat32Array())).toEqual(Array.from(a.model.buffers()[0]!.toFloat32Array()));
  });

  it('rejects files that are not checkpoints', () => {
    const m = makeRun();
    const plain = io.save(m.model.stateDict());
    expect(() => io.loadCheckpoint(plain, m)).toThrow(/loadCheckpoint: not a simdgrad checkpoint/);
  });
});
