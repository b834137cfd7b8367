// Small UCI data sets with a held-out 20% test split: digits (MLP), iris and breast cancer (logistic
// regression and a small MLP). Run: pnpm build && node examples/uci.mjs [digits|iris|breast-cancer]
import { data, init, manualSeed, nn, optim } from '@simdgrad/core';
import { breastCancer, digits, iris } from '@simdgrad/core/datasets';
import { trainClassifier } from './lib.mjs';

await init();

const tasks = {
  digits: { load: digits, hidden: [128, 64], epochs: 40, lr: 1e-3, batchSize: 32, bar: 0.97 },
  iris: { load: iris, hidden: [], epochs: 500, lr: 0.1, batchSize: 16, bar: 0.95 },
  'breast-cancer': { load: breastCancer, hidden: [], epochs: 100, lr: 1e-2, batchSize: 32, bar: 0.95 },
};

export function runTask(name, { log = console.log, epochs } = {}) {
  const t = tasks[name];
  manualSeed(0);
  const { x, y, classNames } = t.load();
  const { train: [xTr, yTr], test: [xTe, yTe] } = data.trainTestSplit([x, y], { testFraction: 0.2, seed: 0, stratify: y });
  const stats = data.standardize(xTr);
  const xTest = data.normalize(xTe, stats);
  const layers = [];
  let width = x.shape[1];
  for (const h of t.hidden) {
    layers.push(new nn.Linear(width, h), new nn.ReLU());
    width = h;
  }
  layers.push(new nn.Linear(width, classNames.length));
  const model = new nn.Sequential(...layers);
  const optimizer = new optim.Adam(model.parameters(), { lr: t.lr });
  log(`${name}: ${xTr.shape[0]} train / ${xTe.shape[0]} test, ${x.shape[1]} features, ${classNames.length} classes`);
  log(model.toString());
  const result = trainClassifier({ model, xTrain: stats.x, yTrain: yTr, xTest, yTest: yTe, epochs: epochs ?? t.epochs, batchSize: t.batchSize, optimizer, log: () => {} });
  log(`${name}: test accuracy ${(100 * result.final.testAccuracy).toFixed(2)}% (bar ${100 * t.bar}%) in ${result.seconds.toFixed(1)} s`);
  return { ...result.final, bar: t.bar };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const which = process.argv[2] ? [process.argv[2]] : Object.keys(tasks);
  for (const name of which) runTask(name);
}
