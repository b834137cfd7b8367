// The benchmark page's worker: times the engine's matmul at each size (and plain JS up to a size).
import { serveWorker } from '../../shared/worker-host.js';
import { timeJsMatmul, timeMatmul } from './bench.js';
import type { BenchIn, BenchOut } from './messages.js';

serveWorker<BenchIn, BenchOut>({
  async start(msg, ctx) {
    const t0 = performance.now();
    for (const n of msg.sizes) {
      if (ctx.cancelled()) return;
      const engine = timeMatmul(n, msg.minSeconds);
      const js = n <= msg.jsBaselineUpTo ? timeJsMatmul(n, msg.minSeconds) : null;
      ctx.post({ type: 'result', engine, js });
      await ctx.yield();
    }
    ctx.post({ type: 'done', seconds: (performance.now() - t0) / 1000 });
  },
});
