// Memory under long runs: 100,000 steps of a small training loop stay flat (wasm memory bytes, live
// tensors, live heap blocks and bytes the same after warm-up as at the end), and an allocation larger
// than the engine can grow to is a clear out-of-memory SimdgradError after which the engine still works.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SimdgradError, createWasmBackend, getBackend, init, liveTensorCount, manualSeed, nn, optim, scope, setBackend, tensor, zeros,
  type Backend, type Tensor,
} from '../index.js';

let original: Backend;

beforeAll(async () => {
  original = await init();
});

afterAll(() => {
  setBackend(original);
});

const STEPS = Number(process.env.SIMDGRAD_MEMORY_STEPS ?? 100_000);
const WARMUP = 1_000;

describe('memory', () => {
  it(`${STEPS} training steps run in flat memory`, { timeout: 120_000 }, () => {
    manualSeed(3);
    // a tiny model with Adam and a scheduler: every kind of work of a real step (forward, loss, backward
    // through a graph, fused update), kept small so that 100k steps take ~15 s
    const model = new nn.Sequential(new nn.Linear(2, 1), new nn.Tanh());
    const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 10_000, gamma: 0.9 });
    const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
    const y = tensor([[0], [1], [1], [0]]);
    const heap = getBackend().heap;
    const snapshot = () => ({ ...heap.stats(), liveTensors: liveTensorCount() });
    let atWarmup: ReturnType<typeof snapshot> | null = null;
    const before = snapshot();
    let loss = NaN;
    const t0 = performance.now();
    for (let i = 0; i < STEPS; i++) {
      const l = scope(() => {
        opt.zeroGrad();
        const out = nn.functional.mseLoss(model.forward(x), y);
        out.backward();
        opt.step();
        return i % 1000 === 0 ? out.item() : NaN;
      });
      if (i % 1000 === 0) {
        loss = l;
        sched.step();
      }
      if (i === WARMUP) atWarmup = snapshot();
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = snapshot();
    console.log(`memory: ${STEPS} steps in ${seconds.toFixed(1)} s; before ${JSON.stringify(before)}; ` +
      `after warm-up (${WARMUP} steps) ${JSON.stringify(atWarmup)}; after ${JSON.stringify(after)}; last loss ${loss}`);
    expect(Number.isFinite(loss)).toBe(true);
    // exactly the same after 100k steps as after the warm-up: wasm memory, tensors, blocks, bytes
    expect(after.memoryBytes).toBe(atWarmup!.memoryBytes);
    expect(after.liveTensors).toBe(atWarmup!.liveTensors);
    expect(after.liveBlocks).toBe(atWarmup!.liveBlocks);
    expect(after.liveBytes).toBe(atWarmup!.liveBytes);
    // and the only tensors the loop added since before it: each parameter's grad and Adam's two buffers
    expect(after.liveTensors - before.liveTensors).toBe(3 * model.parameters().length);
    opt.zeroGrad();
    for (const t of [x, y] as Tensor[]) t.dispose();
  });

  it('an allocation beyond what the engine can grow to is a clear out-of-memory error, and the engine stays usable', async () => {
    // the default engine: 2^30 floats (4 GiB) is over the 4 GiB wasm32 limit; nothing is grown for it
    const heap = original.heap;
    const memBefore = heap.stats().memoryBytes;
    const live = liveTensorCount();
    let err: unknown = null;
    try {
      zeros([1 << 30]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimdgradError);
    expect((err as Error).message).toMatch(/^alloc: out of wasm memory: cannot grow to 40\d\d\.\d MiB for a block of 4294967296 bytes .*over the limit.*\(help: dispose tensors/);
    expect(heap.stats().memoryBytes).toBe(memBefore);
    expect(liveTensorCount()).toBe(live);
    expect(scope(() => tensor([1, 2]).mul(3).sum().item())).toBe(9);

    // a small engine (4 MiB cap): fill it until an allocation fails, free, and it works again
    const small = await createWasmBackend({ relaxed: false, initialPages: 16, maximumPages: 64 });
    setBackend(small);
    try {
      const held: Tensor[] = [];
      let oom: unknown = null;
      try {
        for (let i = 0; i < 100; i++) held.push(zeros([64 * 1024])); // 256 KiB each
      } catch (e) {
        oom = e;
      }
      expect(oom).toBeInstanceOf(SimdgradError);
      expect((oom as Error).message).toMatch(/^alloc: out of wasm memory: cannot grow to [\d.]+ MiB for a block of 262144 bytes \([\d.]+ MiB live, limit 4 MiB; over the limit\)/);
      expect(held.length).toBeGreaterThan(5);
      expect(small.heap.stats().memoryBytes).toBeLessThanOrEqual(64 * 65536);
      for (const t of held) t.dispose();
      // usable again: the freed blocks are reused, a training step runs
      const m = new nn.Linear(8, 2);
      const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
      const l = scope(() => {
        const out = m.forward(zeros([4, 8]).add(1)).square().mean();
        out.backward();
        opt.step();
        return out.item();
      });
      expect(Number.isFinite(l)).toBe(true);
      const again = zeros([64 * 1024]);
      expect(again.sum().item()).toBe(0);
    } finally {
      setBackend(original);
    }
  });

  it('tensors placed above 2 GiB of wasm memory work (a signed `ptr >> 2` made every op there fail; found by the config fuzzer)', async () => {
    const big = await createWasmBackend({ relaxed: false, initialPages: 16 });
    setBackend(big);
    try {
      // reserve 2 GiB without touching it (the pages stay virtual), so the next blocks land above 2^31
      const hole = big.heap.alloc(2 ** 31);
      const t = tensor([[1, 2], [3, 4]], { requiresGrad: true });
      expect(t.ptr).toBeGreaterThanOrEqual(2 ** 31);
      expect(t.toArray()).toEqual([[1, 2], [3, 4]]);
      const l = t.matmul(t).sum();
      expect(l.item()).toBe(54);
      l.backward();
      expect(t.grad!.toArray()).toEqual([[7, 11], [9, 13]]);
      const m = new nn.Linear(2, 1);
      const opt = new optim.Adam(m.parameters(), { lr: 0.1 });
      scope(() => { m.forward(t.detach()).sum().backward(); opt.step(); });
      expect(m.weight.toFloat32Array().every(Number.isFinite)).toBe(true);
      expect(tensor([5, 1, 3], { dtype: 'int32' }).toArray()).toEqual([5, 1, 3]);
      big.heap.free(hole);
    } finally {
      setBackend(original);
    }
  });
});
