// Small training helpers shared by the examples: a classifier training loop and batched evaluation.
import { data, nn, noGrad, scope } from '@simdgrad/core';

/** Accuracy and mean cross-entropy of `model` on (x, y), evaluated in batches without a graph. */
export function evaluate(model, x, y, batchSize = 1000) {
  const wasTraining = model.training;
  model.eval();
  let correct = 0, lossSum = 0;
  const n = x.shape[0];
  for (let start = 0; start < n; start += batchSize) {
    const len = Math.min(batchSize, n - start);
    scope(() => noGrad(() => {
      const xb = x.narrow(0, start, len), yb = y.narrow(0, start, len);
      const logits = model.forward(xb);
      lossSum += nn.functional.crossEntropy(logits, yb, { reduction: 'sum' }).item();
      correct += logits.argmax(1).float().eq(yb.float()).sum().item();
    }));
  }
  model.train(wasTraining);
  return { accuracy: correct / n, loss: lossSum / n };
}

/**
 * Trains a classifier with mini-batches; `makeOptimizer(params)` builds the optimizer and
 * `makeScheduler(opt, stepsPerEpoch)` an optional per-step LR schedule. Logs one line per epoch.
 */
export function trainClassifier({ model, xTrain, yTrain, xTest, yTest, epochs, batchSize, optimizer, scheduler, log = console.log }) {
  const loader = new data.DataLoader(new data.TensorDataset(xTrain, yTrain), { batchSize, shuffle: true });
  const history = [];
  const t0 = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    let lossSum = 0, seen = 0;
    const e0 = performance.now();
    for (const [xb, yb] of loader) {
      lossSum += scope(() => {
        optimizer.zeroGrad();
        const loss = nn.functional.crossEntropy(model.forward(xb), yb);
        loss.backward();
        optimizer.step();
        scheduler?.step();
        return loss.item() * xb.shape[0];
      });
      seen += xb.shape[0];
      xb.dispose();
      yb.dispose();
    }
    const secs = (performance.now() - e0) / 1000;
    const test = evaluate(model, xTest, yTest);
    history.push({ epoch, trainLoss: lossSum / seen, testLoss: test.loss, testAccuracy: test.accuracy, samplesPerSec: seen / secs });
    log(`epoch ${String(epoch).padStart(2)}  train loss ${(lossSum / seen).toFixed(4)}  test loss ${test.loss.toFixed(4)}  ` +
      `test acc ${(100 * test.accuracy).toFixed(2)}%  ${Math.round(seen / secs)} samples/s`);
  }
  return { history, seconds: (performance.now() - t0) / 1000, final: history[history.length - 1] };
}
