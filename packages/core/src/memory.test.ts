import { beforeAll, describe, expect, it } from 'vitest';
import { init, keep, scope, zeros, type Tensor } from './index.js';

beforeAll(async () => {
  await init();
});

/** Whether the FinalizationRegistry safety net watches the tensor's memory block. */
const watched = (t: Tensor) => (t.storage as unknown as { watched: boolean }).watched;

describe('the safety net watches exactly the blocks no scope will free', () => {
  it('outside scopes, kept, or returned from the outermost scope: watched', () => {
    const free = zeros([3]);
    expect(watched(free)).toBe(true);
    let inner: Tensor | undefined, kept: Tensor | undefined, dropped: Tensor | undefined;
    const out = scope(() => {
      kept = keep(zeros([2]));
      dropped = zeros([2]);
      const mid = scope(() => {
        inner = zeros([4]);
        return inner;
      });
      // returned to an enclosing scope: that scope still frees it, so no safety net yet
      expect(watched(mid)).toBe(false);
      expect(watched(dropped)).toBe(false);
      return mid;
    });
    expect(out).toBe(inner);
    expect(watched(out)).toBe(true);
    expect(watched(kept!)).toBe(true);
    expect(dropped!.disposed).toBe(true);
    expect(watched(dropped!)).toBe(false);
    for (const t of [free, out, kept!]) t.dispose();
  });

  it('a graph kept alive by a returned tensor is watched too', () => {
    const x = zeros([3]);
    x.requiresGrad = true;
    let hidden: Tensor | undefined;
    const y = scope(() => {
      hidden = x.mul(2); // needed by y's backward only
      return hidden.mul(hidden).sum();
    });
    expect(hidden!.disposed).toBe(false);
    expect(watched(hidden!)).toBe(true);
    y.backward();
    expect(hidden!.disposed).toBe(true);
    x.dispose();
    y.dispose();
  });
});
