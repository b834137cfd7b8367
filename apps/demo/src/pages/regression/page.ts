// The linear-regression page: pick a regime and a learning rate, watch the line fit and the loss fall.
import { Plot } from '../../shared/chart.js';
import { byId, mountNav, onEngineReady, showError } from '../../shared/layout.js';
import { WorkerClient } from '../../shared/worker-client.js';
import type { RegressionIn, RegressionOut } from './messages.js';
import { REGIMES, type Regime } from './train.js';

mountNav('regression.html');
const regime = byId<HTMLSelectElement>('regime');
const lr = byId<HTMLInputElement>('lr');
const epochs = byId<HTMLInputElement>('epochs');
const slow = byId<HTMLInputElement>('slow');
const trainButton = byId<HTMLButtonElement>('train');
const stopButton = byId<HTMLButtonElement>('stop');
const status = byId('status');
const result = byId('result');

for (const [key, r] of Object.entries(REGIMES)) regime.add(new Option(r.label, key));
regime.addEventListener('change', () => { lr.value = String(REGIMES[regime.value as Regime].lr); });
lr.value = String(REGIMES['full-batch'].lr);

const fit = new Plot(byId<HTMLCanvasElement>('fit'), { xLabel: 'x', yLabel: 'y', x: [0, 1], y: [0, 4] });
const lossPlot = new Plot(byId<HTMLCanvasElement>('loss'), { xLabel: 'epoch', yLabel: 'MSE', logY: true });
let xs: ArrayLike<number> = [], ys: ArrayLike<number> = [];
let lossX: number[] = [], lossY: number[] = [];

function drawFit(w: number, b: number): void {
  fit.setSeries([
    { kind: 'points', color: '#0877bd', xs, ys, label: 'data' },
    { color: '#999', xs: [0, 1], ys: [1, 3], width: 1, label: 'y = 2x + 1' },
    { color: '#f59322', xs: [0, 1], ys: [b, w + b], width: 3, label: 'fit' },
  ]);
}

function showStats(s: { epoch: number; loss: number; w: number; b: number }, done: boolean): void {
  result.textContent = `epoch ${s.epoch}   loss ${s.loss.toFixed(4)}   w = ${s.w.toFixed(3)}   b = ${s.b.toFixed(3)}`;
  Object.assign(result.dataset, { epoch: String(s.epoch), loss: String(s.loss), w: String(s.w), b: String(s.b), done: String(done) });
}

const worker = new WorkerClient<RegressionIn, RegressionOut>('regression');
onEngineReady(worker.ready, 'the training worker', () => {
  trainButton.disabled = false;
  status.textContent = 'Ready.';
});
worker
  .on('data', (m) => { xs = m.x; ys = m.y; })
  .on('progress', (m) => {
    if (m.epoch > 0) { lossX.push(m.epoch); lossY.push(m.loss); }
    else result.dataset['initialLoss'] = String(m.loss); // before the first step
    drawFit(m.w, m.b);
    lossPlot.setSeries([{ color: '#f59322', xs: lossX, ys: lossY, label: 'loss (all points)' }]);
    showStats(m, false);
  })
  .on('done', (m) => {
    showStats(m, true);
    status.textContent = `Done: ${m.epoch} epochs in ${m.seconds.toFixed(2)} s. Final w = ${m.w.toFixed(4)}, b = ${m.b.toFixed(4)}.`;
    trainButton.disabled = false;
    stopButton.disabled = true;
  })
  .on('stopped', () => { status.textContent = 'Stopped.'; trainButton.disabled = false; stopButton.disabled = true; })
  .on('error', (m) => { showError(m.message); trainButton.disabled = false; });

trainButton.addEventListener('click', () => {
  lossX = [];
  lossY = [];
  result.dataset['done'] = 'false';
  worker.send({ type: 'start', regime: regime.value as Regime, lr: Number(lr.value), epochs: Number(epochs.value), delayMs: slow.checked ? 25 : 0 });
  status.textContent = 'Training…';
  trainButton.disabled = true;
  stopButton.disabled = false;
});
stopButton.addEventListener('click', () => worker.stop());
lr.addEventListener('change', () => worker.send({ type: 'set-lr', lr: Number(lr.value) }));
drawFit(0, 0);
