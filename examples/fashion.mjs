// Fashion-MNIST (60k train / 10k test, from `apt-get install -y dataset-fashion-mnist`):
//   node examples/fashion.mjs mlp   — MLP 784-256-128-10, Adam
//   node examples/fashion.mjs cnn   — conv3×3(16)+BN+pool, conv3×3(32)+BN+pool, dense 128; Adam + OneCycle
// Options: --epochs N, --limit N (train on the first N images).
import { init, manualSeed, nn, optim } from '@simdgrad/core';
import { fashionMnist } from '@simdgrad/core/node';
import { trainClassifier } from './lib.mjs';

await init();
const args = process.argv.slice(2);
const kind = args.find((a) => !a.startsWith('--')) ?? 'mlp';
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

manualSeed(0);
const train = await fashionMnist({ split: 'train', limit: opt('limit', undefined) });
const test = await fashionMnist({ split: 'test' });
console.log(`Fashion-MNIST from ${train.dir}: ${train.x.shape[0]} train, ${test.x.shape[0]} test`);

let model, xTrain = train.x, xTest = test.x, epochs, batchSize, optimizer, scheduler;
if (kind === 'mlp') {
  model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(), new nn.Linear(128, 10));
  epochs = opt('epochs', 20);
  batchSize = 128;
  optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  scheduler = null;
} else {
  model = new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.BatchNorm2d(32), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Flatten(), new nn.Linear(32 * 7 * 7, 128), new nn.ReLU(), new nn.Dropout(0.3), new nn.Linear(128, 10));
  xTrain = train.x.reshape([-1, 1, 28, 28]);
  xTest = test.x.reshape([-1, 1, 28, 28]);
  epochs = opt('epochs', 15);
  batchSize = 64;
  optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const stepsPerEpoch = Math.ceil(xTrain.shape[0] / batchSize);
  scheduler = new optim.lrScheduler.OneCycleLR(optimizer, { maxLr: 3e-3, totalSteps: epochs * stepsPerEpoch });
}
console.log(model.toString());
const result = trainClassifier({ model, xTrain, yTrain: train.y, xTest, yTest: test.y, epochs, batchSize, optimizer, scheduler });
console.log(`fashion-${kind}: test accuracy ${(100 * result.final.testAccuracy).toFixed(2)}% after ${epochs} epochs in ${result.seconds.toFixed(0)} s`);
