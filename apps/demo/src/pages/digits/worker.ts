// The digits page's worker: trains the chosen model epoch by epoch, then answers predictions.
import { serveWorker } from '../../shared/worker-host.js';
import type { DigitsIn, DigitsOut } from './messages.js';
import { DigitsTrainer } from './train.js';

let trainer: DigitsTrainer | null = null;
let ready = false; // a trained (or partly trained) model can answer predictions

serveWorker<DigitsIn, DigitsOut>({
  async start(msg, ctx) {
    if (msg.type !== 'start') return;
    trainer?.dispose();
    ready = false;
    const t = (trainer = new DigitsTrainer(msg.config));
    ctx.post({ type: 'begin', trainSize: t.trainSize, testSize: t.testSize });
    const t0 = performance.now();
    for (let e = 0; e < msg.epochs && !ctx.cancelled(); e++) {
      const stats = t.epoch();
      ready = true;
      if (e === msg.epochs - 1) ctx.post({ type: 'done', seconds: (performance.now() - t0) / 1000, ...stats });
      else ctx.post({ type: 'progress', ...stats });
      await ctx.yield();
    }
  },
  message(msg, post) {
    if (msg.type === 'predict') {
      const probs = trainer && ready ? trainer.predict(msg.pixels) : null;
      let attribution = null;
      if (trainer && probs && msg.pixels.some((v) => v > 0)) {
        // explain the predicted class
        let best = 0;
        for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
        attribution = trainer.explain(msg.pixels, best, msg.explain);
      }
      post({ type: 'prediction', id: msg.id, probs, attribution }, [...(probs ? [probs.buffer] : []), ...(attribution ? [attribution.map.buffer] : [])]);
    } else if (msg.type === 'sample' && trainer) {
      post({ type: 'sample', ...trainer.testSample(msg.index) });
    }
  },
});
