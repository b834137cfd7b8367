// The playground: 2-D classification with a live decision boundary.
import { Plot } from '../../shared/chart.js';
import { drawHeatmap } from '../../shared/heatmap.js';
import { byId, mountNav, onEngineReady, showError } from '../../shared/layout.js';
import { WorkerClient } from '../../shared/worker-client.js';
import { DATASETS, makeDataset, splitPoints, type DatasetName, type Points } from './datasets.js';
import type { PlaygroundIn, PlaygroundOut } from './messages.js';
import type { Activation, OptimizerName } from './train.js';

const EXTENT = 1.3; // the heat map covers [-EXTENT, EXTENT]²
const GRID = 50;
const N_POINTS = 400;

mountNav('playground.html');
const el = {
  dataset: byId<HTMLSelectElement>('dataset'),
  noise: byId<HTMLInputElement>('noise'),
  layers: byId<HTMLInputElement>('layers'),
  width: byId<HTMLInputElement>('width'),
  activation: byId<HTMLSelectElement>('activation'),
  optimizer: byId<HTMLSelectElement>('optimizer'),
  lr: byId<HTMLInputElement>('lr'),
  batch: byId<HTMLInputElement>('batch'),
  train: byId<HTMLButtonElement>('train'),
  stop: byId<HTMLButtonElement>('stop'),
  status: byId('status'),
  stats: byId('stats'),
  heat: byId<HTMLCanvasElement>('heat'),
};
for (const d of DATASETS) el.dataset.add(new Option(d, d));
el.optimizer.addEventListener('change', () => { el.lr.value = el.optimizer.value === 'adam' ? '0.03' : '0.3'; });

let split: { train: Points; test: Points } = { train: { xy: new Float32Array(0), labels: new Int32Array(0) }, test: { xy: new Float32Array(0), labels: new Int32Array(0) } };
let lastGrid: Float32Array | null = null;
const lossPlot = new Plot(byId<HTMLCanvasElement>('loss'), { xLabel: 'epoch', yLabel: 'cross-entropy', logY: true });
let history: { epoch: number[]; train: number[]; test: number[] } = { epoch: [], train: [], test: [] };

function redraw(): void {
  drawHeatmap(el.heat, lastGrid, GRID, EXTENT, [{ ...split.train }, { ...split.test, hollow: true }]);
}

const HINTS: Record<DatasetName, string> = {
  circles: 'Circles: one hidden layer of a few units is enough.',
  xor: 'XOR: needs a hidden layer; 2 × 8 tanh with Adam learns it in a second or two.',
  spirals: 'Spirals are hard: try 3 hidden layers of 16–32 ReLU units, Adam, learning rate 0.003–0.01.',
  moons: 'Moons: a small network bends the boundary around the arms.',
};

function newData(): void {
  byId('hint').textContent = HINTS[el.dataset.value as DatasetName];
  const points = makeDataset(el.dataset.value as DatasetName, N_POINTS, Number(el.noise.value), 1);
  split = splitPoints(points, 0.5);
  lastGrid = null;
  redraw();
}

const worker = new WorkerClient<PlaygroundIn, PlaygroundOut>('playground');
onEngineReady(worker.ready, 'the training worker', () => {
  el.train.disabled = false;
  el.status.textContent = 'Ready: pick a data set and a network, then Train.';
});
worker
  .on('progress', (m) => {
    lastGrid = m.grid;
    redraw();
    if (m.epoch > 0) {
      history.epoch.push(m.epoch);
      history.train.push(m.trainLoss);
      history.test.push(m.testLoss);
    }
    lossPlot.setSeries([
      { color: '#0877bd', xs: history.epoch, ys: history.train, label: 'train loss' },
      { color: '#f59322', xs: history.epoch, ys: history.test, label: 'test loss' },
    ]);
    el.stats.textContent = `epoch ${m.epoch}   train loss ${m.trainLoss.toFixed(3)}   test loss ${m.testLoss.toFixed(3)}\n` +
      `train accuracy ${(100 * m.trainAccuracy).toFixed(1)}%   test accuracy ${(100 * m.testAccuracy).toFixed(1)}%   ${Math.round(m.epochsPerSecond)} epochs/s`;
    Object.assign(el.stats.dataset, {
      epoch: String(m.epoch), trainLoss: String(m.trainLoss), testLoss: String(m.testLoss),
      trainAccuracy: String(m.trainAccuracy), testAccuracy: String(m.testAccuracy),
    });
  })
  .on('stopped', () => { el.status.textContent = 'Stopped.'; el.train.disabled = false; el.stop.disabled = true; })
  .on('error', (m) => { showError(m.message); el.train.disabled = false; el.stop.disabled = true; });

el.train.addEventListener('click', () => {
  history = { epoch: [], train: [], test: [] };
  worker.send({
    type: 'start',
    train: split.train,
    test: split.test,
    gridSize: GRID,
    extent: EXTENT,
    config: {
      hiddenLayers: Number(el.layers.value),
      width: Number(el.width.value),
      activation: el.activation.value as Activation,
      optimizer: el.optimizer.value as OptimizerName,
      lr: Number(el.lr.value),
      batchSize: Number(el.batch.value),
    },
  });
  el.status.textContent = 'Training… (runs until you stop it)';
  el.train.disabled = true;
  el.stop.disabled = false;
});
el.stop.addEventListener('click', () => worker.stop());
el.lr.addEventListener('change', () => worker.send({ type: 'set-lr', lr: Number(el.lr.value) }));
for (const input of [el.dataset, el.noise]) {
  input.addEventListener('change', () => {
    worker.stop();
    newData();
  });
}
newData();
