// The playground's worker: trains until stopped, sending the stats and the heat map ~12 times a second.
import { serveWorker } from '../../shared/worker-host.js';
import type { PlaygroundIn, PlaygroundOut } from './messages.js';
import { PlaygroundTrainer } from './train.js';

let trainer: PlaygroundTrainer | null = null;
const REPORT_MS = 80;

serveWorker<PlaygroundIn, PlaygroundOut>({
  async start(msg, ctx) {
    if (msg.type !== 'start') return;
    trainer?.dispose();
    const t = (trainer = new PlaygroundTrainer(msg.train, msg.test, msg.config));
    const report = (epochsDone: number, seconds: number) => {
      const grid = t.grid(msg.gridSize, msg.extent);
      ctx.post({ type: 'progress', ...t.stats(), grid, epochsPerSecond: seconds > 0 ? epochsDone / seconds : 0 }, [grid.buffer]);
    };
    report(0, 0);
    while (!ctx.cancelled()) {
      const t0 = performance.now();
      let epochs = 0;
      while (performance.now() - t0 < REPORT_MS) {
        t.epoch();
        epochs++;
      }
      report(epochs, (performance.now() - t0) / 1000);
      await ctx.yield();
    }
  },
  message(msg) {
    if (msg.type === 'set-lr') trainer?.setLr(msg.lr);
  },
});
