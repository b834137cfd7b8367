// The digits page: train on the UCI digits in the worker, then draw a digit and read the probabilities;
// or train on Fashion-MNIST (when the site serves its files) and look at held-out images.
import { Plot } from '../../shared/chart.js';
import { byId, mountNav, onEngineReady, showError } from '../../shared/layout.js';
import { WorkerClient } from '../../shared/worker-client.js';
import { divergingColor, sequentialColor } from '../../shared/scale.js';
import { ProbabilityBars } from '../../shared/prob-bars.js';
import { DrawPad } from './draw-pad.js';
import { toUciPixels } from './downsample.js';
import type { DigitsIn, DigitsOut } from './messages.js';
import { DATASET_INFO, FASHION_FILES, type DigitsDataset } from './datasets.js';
import type { Attribution, DigitsModel, ExplainMethod } from './train.js';

mountNav('digits.html');
const el = {
  dataset: byId<HTMLSelectElement>('dataset'),
  model: byId<HTMLSelectElement>('model'),
  epochs: byId<HTMLInputElement>('epochs'),
  lr: byId<HTMLInputElement>('lr'),
  batch: byId<HTMLInputElement>('batch'),
  train: byId<HTMLButtonElement>('train'),
  stop: byId<HTMLButtonElement>('stop'),
  status: byId('status'),
  stats: byId('stats'),
  clear: byId<HTMLButtonElement>('clear'),
  sample: byId<HTMLButtonElement>('sample'),
  pixels: byId<HTMLCanvasElement>('pixels'),
  probs: byId('probs'),
  prediction: byId('prediction'),
  explain: byId<HTMLSelectElement>('explain'),
  saliency: byId<HTMLCanvasElement>('saliency'),
  explainNote: byId('explain-note'),
  drawCard: byId('draw-card'),
  explainCard: byId('explain-card'),
  galleryCard: byId('gallery-card'),
  gallery: byId('gallery'),
  more: byId<HTMLButtonElement>('more'),
  seesTitle: byId('sees-title'),
};
// Fashion-MNIST's files, relative to the page (dev.mjs and server.mjs serve the repo's data/fashion-mnist/ there)
const fashionUrl = new URL('data/fashion-mnist/', location.href).href;
/** The data set of the trained (or training) model. */
let dataset: DigitsDataset = 'uci';
let galleryStart = 0;

const curve = new Plot(byId<HTMLCanvasElement>('curve'), { xLabel: 'epoch', yLabel: 'cross-entropy', logY: true });
let history: { epoch: number[]; train: number[]; test: number[] } = { epoch: [], train: [], test: [] };
let trained = false;
let lastPixels: Float32Array | null = null;
let predictId = 0;
let sampleIndex = 0;

const bars = new ProbabilityBars(el.probs, 10);

/** Draws a square grey image of raw pixels (0..maxPixel) into a canvas of its size. */
function drawImage(canvas: HTMLCanvasElement, pixels: Float32Array, side: number, maxPixel: number): void {
  if (canvas.width !== side) canvas.width = canvas.height = side;
  const image = new ImageData(side, side);
  for (let i = 0; i < side * side; i++) {
    const v = Math.round(((pixels[i] ?? 0) / maxPixel) * 255);
    image.data.set([v, v, v, 255], 4 * i);
  }
  canvas.getContext('2d')!.putImageData(image, 0, 0);
}

function showPixels(pixels: Float32Array): void {
  const { side, maxPixel } = DATASET_INFO[dataset];
  drawImage(el.pixels, pixels, side, maxPixel);
}

/** Class names on the probability bars. */
function showClassNames(): void {
  bars.setNames(DATASET_INFO[dataset].classes);
}

/** The layout for a data set: drawing and attributions for UCI digits, a gallery for Fashion-MNIST. */
function showLayout(): void {
  const fashion = dataset === 'fashion';
  el.drawCard.hidden = fashion;
  el.explainCard.hidden = fashion;
  el.galleryCard.hidden = !fashion;
  el.seesTitle.textContent = fashion ? 'A held-out image, and what the model thinks' : 'What the model sees, and thinks';
  showClassNames();
  showPixels(new Float32Array(DATASET_INFO[dataset].side ** 2));
}

function showGallery(items: Extract<DigitsOut, { type: 'gallery' }>['items']): void {
  const { classes, side, maxPixel } = DATASET_INFO[dataset];
  el.gallery.replaceChildren();
  for (const it of items) {
    const fig = document.createElement('figure');
    const c = document.createElement('canvas');
    drawImage(c, it.pixels, side, maxPixel);
    const cap = document.createElement('figcaption');
    const right = it.predicted === it.label;
    cap.className = right ? 'right' : 'wrong';
    cap.textContent = `${classes[it.predicted]} ${(100 * it.probability).toFixed(0)}%` + (right ? '' : ` (is ${classes[it.label]})`);
    Object.assign(fig.dataset, { label: String(it.label), predicted: String(it.predicted) });
    fig.append(c, cap);
    // click an image to see its class probabilities
    c.addEventListener('click', () => { predict(it.pixels); el.status.textContent = `Held-out image #${it.index}, labelled ${classes[it.label]}.`; });
    el.gallery.append(fig);
  }
  el.gallery.dataset['count'] = String(items.length);
  if (items[0]) predict(items[0].pixels);
}

function showProbs(probs: Float32Array | null): void {
  if (!probs) {
    el.prediction.textContent = trained ? '–' : 'train first';
    delete el.prediction.dataset['class'];
    bars.clear();
    return;
  }
  const best = bars.show(probs);
  el.prediction.textContent = DATASET_INFO[dataset].classes[best]!;
  el.prediction.dataset['class'] = String(best);
  el.prediction.dataset['probability'] = String(probs[best]);
}

/**
 * The attribution map as a heat map over the 8×8 input: saliency (magnitudes) in the sequential
 * map, integrated gradients (signed) blue where a pixel adds to the class's score and orange where it
 * takes away; each inked cell is outlined in proportion to its ink.
 */
function showAttribution(a: Attribution | null, pixels: Float32Array | null): void {
  const c = el.saliency, g = c.getContext('2d')!;
  const cell = c.width / 8;
  g.fillStyle = '#e8eaeb';
  g.fillRect(0, 0, c.width, c.height);
  if (!a || !pixels) {
    delete c.dataset['drawn'];
    return;
  }
  let maxAbs = 0;
  for (const v of a.map) maxAbs = Math.max(maxAbs, Math.abs(v));
  const signed = a.method === 'integrated-gradients';
  for (let i = 0; i < 64; i++) {
    const v = maxAbs > 0 ? a.map[i]! / maxAbs : 0;
    const [r, gr, b] = signed ? divergingColor(0.5 + 0.5 * v) : sequentialColor(v);
    g.fillStyle = `rgb(${r},${gr},${b})`;
    g.fillRect((i % 8) * cell, Math.floor(i / 8) * cell, cell, cell);
  }
  g.lineWidth = 1.5;
  for (let i = 0; i < 64; i++) {
    if (pixels[i]! <= 0) continue;
    // white over the dark sequential map, dark over the light diverging one
    g.strokeStyle = `rgba(${signed ? '29,35,41' : '255,255,255'},${(0.25 + 0.75 * pixels[i]! / 16).toFixed(3)})`;
    g.strokeRect((i % 8) * cell + 3, Math.floor(i / 8) * cell + 3, cell - 6, cell - 6);
  }
  Object.assign(c.dataset, { drawn: 'true', method: a.method, target: String(a.target), max: String(maxAbs) });
  el.explainNote.textContent = signed
    ? `Integrated gradients for class ${a.target}: blue pixels add to its score, orange ones take away ` +
      `(completeness error ${(100 * (a.relativeError ?? 0)).toFixed(2)}%: the attributions sum to the score's change from a blank image).`
    : `Saliency for class ${a.target}: bright cells are where a small change of ink would change its score most (outlined: your ink).`;
}

function predict(pixels: Float32Array): void {
  lastPixels = pixels;
  showPixels(pixels);
  if (trained) worker.send({ type: 'predict', pixels: pixels.slice(), id: ++predictId, explain: el.explain.value as ExplainMethod });
  else {
    showProbs(null);
    showAttribution(null, null);
  }
}

let lastLive = 0;
const pad = new DrawPad(byId<HTMLCanvasElement>('pad'), (final) => {
  const now = performance.now();
  if (!final && now - lastLive < 120) return; // live updates while drawing, a few a second
  lastLive = now;
  const canvas = pad.canvas;
  predict(toUciPixels(pad.ink(), canvas.width, canvas.height).pixels);
});

const worker = new WorkerClient<DigitsIn, DigitsOut>('digits');
onEngineReady(worker.ready, 'the training worker', () => {
  el.train.disabled = false;
  el.status.textContent = 'Ready: train a model (a few seconds), then draw a digit.';
  checkFashion();
});
const onEpoch = (m: Extract<DigitsOut, { type: 'progress' }>) => {
  history.epoch.push(m.epoch);
  history.train.push(m.trainLoss);
  history.test.push(m.testLoss);
  curve.setSeries([
    { color: '#0877bd', xs: history.epoch, ys: history.train, label: 'train loss' },
    { color: '#f59322', xs: history.epoch, ys: history.test, label: 'test loss' },
  ]);
  el.stats.textContent = `epoch ${m.epoch}   train loss ${m.trainLoss.toFixed(3)}   test loss ${m.testLoss.toFixed(3)}   ` +
    `test accuracy ${(100 * m.testAccuracy).toFixed(1)}%   ${Math.round(m.samplesPerSecond)} samples/s`;
  Object.assign(el.stats.dataset, { epoch: String(m.epoch), testAccuracy: String(m.testAccuracy) });
  trained = true;
  el.sample.disabled = false;
  el.more.disabled = false;
  if (lastPixels && dataset === 'uci') predict(lastPixels);
  if (dataset === 'fashion') worker.send({ type: 'gallery', start: galleryStart, count: 8 });
};
worker
  .on('loading', () => { el.status.textContent = 'Fetching and parsing Fashion-MNIST…'; })
  .on('begin', (m) => { el.status.textContent = `Training on ${m.trainSize} images, testing on ${m.testSize}…`; })
  .on('progress', onEpoch)
  .on('done', (m) => {
    onEpoch({ ...m, type: 'progress' });
    el.status.textContent = dataset === 'fashion'
      ? `Trained in ${m.seconds.toFixed(1)} s: ${(100 * m.testAccuracy).toFixed(1)}% on held-out Fashion-MNIST images.`
      : `Trained in ${m.seconds.toFixed(1)} s: ${(100 * m.testAccuracy).toFixed(1)}% on held-out digits. Draw one!`;
    el.stats.dataset['done'] = 'true';
    el.train.disabled = false;
    el.stop.disabled = true;
  })
  .on('prediction', (m) => {
    if (m.id !== predictId) return;
    showProbs(m.probs);
    showAttribution(m.attribution, lastPixels);
  })
  .on('sample', (m) => {
    pad.clear();
    predict(m.pixels);
    el.status.textContent = `Held-out image #${sampleIndex}, labelled ${DATASET_INFO[dataset].classes[m.label]}.`;
  })
  .on('gallery', (m) => showGallery(m.items))
  .on('stopped', () => { el.status.textContent = 'Stopped (the model so far still predicts).'; el.train.disabled = false; el.stop.disabled = true; })
  .on('error', (m) => { showError(m.message); el.train.disabled = false; el.stop.disabled = true; });

const defaultEpochs = () => {
  const cnn = el.model.value === 'cnn';
  el.epochs.value = el.dataset.value === 'fashion' ? (cnn ? '3' : '5') : cnn ? '12' : '15';
};
el.model.addEventListener('change', defaultEpochs);
el.dataset.addEventListener('change', defaultEpochs);

/** Whether the site serves Fashion-MNIST's files; if not, the option says so and is disabled. */
async function checkFashion(): Promise<void> {
  const option = el.dataset.querySelector<HTMLOptionElement>('option[value="fashion"]')!;
  let served = false;
  try {
    const res = await fetch(new URL(FASHION_FILES.labels, fashionUrl), { method: 'HEAD' });
    served = res.ok;
  } catch { /* a network error: not served */ }
  el.dataset.dataset['fashion'] = served ? 'served' : 'missing';
  if (!served) {
    option.textContent = 'Fashion-MNIST (files not served)';
    option.disabled = true;
    if (el.dataset.value === 'fashion') { el.dataset.value = 'uci'; defaultEpochs(); }
  }
}

el.train.addEventListener('click', () => {
  history = { epoch: [], train: [], test: [] };
  trained = false;
  el.stats.dataset['done'] = 'false';
  dataset = el.dataset.value as DigitsDataset;
  el.stats.dataset['dataset'] = dataset;
  lastPixels = null;
  galleryStart = 0;
  el.gallery.replaceChildren();
  delete el.gallery.dataset['count'];
  pad.clear();
  showProbs(null);
  showAttribution(null, null);
  showLayout();
  worker.send({
    type: 'start',
    epochs: Number(el.epochs.value),
    dataUrl: fashionUrl,
    config: { dataset, model: el.model.value as DigitsModel, lr: Number(el.lr.value), batchSize: Number(el.batch.value) },
  });
  el.train.disabled = true;
  el.stop.disabled = false;
});
el.stop.addEventListener('click', () => worker.stop());
el.clear.addEventListener('click', () => {
  pad.clear();
  lastPixels = null;
  showPixels(new Float32Array(DATASET_INFO[dataset].side ** 2));
  showProbs(null);
  showAttribution(null, null);
});
el.explain.addEventListener('change', () => { if (lastPixels) predict(lastPixels); });
el.sample.addEventListener('click', () => worker.send({ type: 'sample', index: sampleIndex++ }));
el.more.addEventListener('click', () => { galleryStart += 8; worker.send({ type: 'gallery', start: galleryStart, count: 8 }); });
showPixels(new Float32Array(64));
showProbs(null);
showAttribution(null, null);
