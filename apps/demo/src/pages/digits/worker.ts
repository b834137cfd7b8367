// The digits page's worker: loads the data set (Fashion-MNIST is fetched from the site when chosen),
// trains the chosen model epoch by epoch, then answers predictions.
import { serveWorker } from '../../shared/worker-host.js';
import type { DigitsIn, DigitsOut } from './messages.js';
import { DigitsTrainer, FASHION_FILES, loadFashionMnist } from './train.js';

let trainer: DigitsTrainer | null = null;
let ready = false; // a trained (or partly trained) model can answer predictions
// the fetched (compressed) Fashion-MNIST files, kept for the next run
let fashionBytes: { url: string; images: Uint8Array; labels: Uint8Array } | null = null;

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Fashion-MNIST: files not served (${url}: HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

serveWorker<DigitsIn, DigitsOut>({
  async start(msg, ctx) {
    if (msg.type !== 'start') return;
    trainer?.dispose();
    trainer = null;
    ready = false;
    const dataset = msg.config.dataset ?? 'uci';
    let t: DigitsTrainer;
    if (dataset === 'fashion') {
      ctx.post({ type: 'loading', dataset });
      const base = msg.dataUrl ?? new URL('../data/fashion-mnist/', self.location.href).href;
      if (fashionBytes?.url !== base) {
        const [images, labels] = await Promise.all([fetchBytes(new URL(FASHION_FILES.images, base).href), fetchBytes(new URL(FASHION_FILES.labels, base).href)]);
        fashionBytes = { url: base, images, labels };
      }
      if (ctx.cancelled()) return;
      t = trainer = new DigitsTrainer(msg.config, await loadFashionMnist(fashionBytes.images, fashionBytes.labels));
    } else {
      t = trainer = new DigitsTrainer(msg.config);
    }
    ctx.post({ type: 'begin', dataset, trainSize: t.trainSize, testSize: t.testSize });
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
      // attributions are drawn over the 8×8 UCI input only
      if (trainer && trainer.dataset === 'uci' && probs && msg.pixels.some((v) => v > 0)) {
        attribution = trainer.explain(msg.pixels, argmax(probs), msg.explain); // explain the predicted class
      }
      post({ type: 'prediction', id: msg.id, probs, attribution }, [...(probs ? [probs.buffer] : []), ...(attribution ? [attribution.map.buffer] : [])]);
    } else if (msg.type === 'sample' && trainer) {
      post({ type: 'sample', ...trainer.testSample(msg.index) });
    } else if (msg.type === 'gallery' && trainer && ready) {
      const items = [];
      for (let i = 0; i < msg.count; i++) {
        const index = msg.start + i;
        const { pixels, label } = trainer.testSample(index);
        const probs = trainer.predict(pixels);
        const predicted = argmax(probs);
        items.push({ index, pixels, label, predicted, probability: probs[predicted]! });
      }
      post({ type: 'gallery', items }, items.map((it) => it.pixels.buffer));
    }
  },
});
