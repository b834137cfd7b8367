// The regression page's worker: trains y = wx + b and reports every epoch.
import { serveWorker } from '../../shared/worker-host.js';
import type { RegressionIn, RegressionOut } from './messages.js';
import { makeLineData, RegressionTrainer } from './train.js';

let points: { x: Float32Array; y: Float32Array } | null = null; // made once the engine is up
let trainer: RegressionTrainer | null = null;

serveWorker<RegressionIn, RegressionOut>({
  async start(msg, ctx) {
    if (msg.type !== 'start') return;
    points ??= makeLineData(0);
    trainer?.dispose();
    trainer = new RegressionTrainer(points.x, points.y, { regime: msg.regime, lr: msg.lr });
    ctx.post({ type: 'data', x: points.x.slice(), y: points.y.slice() });
    ctx.post({ type: 'progress', ...trainer.stats() });
    const t0 = performance.now();
    let last = trainer.stats();
    for (let e = 0; e < msg.epochs && !ctx.cancelled(); e++) {
      last = trainer.epoch();
      ctx.post({ type: 'progress', ...last });
      if (msg.delayMs > 0) await new Promise((r) => setTimeout(r, msg.delayMs));
      else await ctx.yield();
    }
    if (!ctx.cancelled()) ctx.post({ type: 'done', seconds: (performance.now() - t0) / 1000, ...last });
  },
  message(msg) {
    if (msg.type === 'set-lr') trainer?.setLr(msg.lr);
  },
});
