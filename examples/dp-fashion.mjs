// Differentially private training (DP-SGD) of an MLP on Fashion-MNIST, at a target (ε, δ).
//   node examples/dp-fashion.mjs [--epsilon 3] [--delta 1e-5] [--epochs 20] [--batch 512] [--clip 1] [--lr 0.002] [--hidden 256]
// The noise multiplier σ is the smallest one whose ε after `epochs` stays ≤ the target (RDP accountant);
// batches are Poisson-sampled with q = batch / 60000; each sample's gradient is clipped to `clip`.
import { data, init, manualSeed, nn, optim, privacy, scope } from '@simdgrad/core';
import { fashionMnist } from '@simdgrad/core/node';
import { evaluate } from './lib.mjs';

await init();
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const targetEpsilon = opt('epsilon', 3), delta = opt('delta', 1e-5), epochs = opt('epochs', 20);
const batchSize = opt('batch', 512), maxGradNorm = opt('clip', 1), lr = opt('lr', 0.002), hidden = opt('hidden', 256);

manualSeed(0);
const train = await fashionMnist({ split: 'train' });
const test = await fashionMnist({ split: 'test' });
// standardise with fixed, data-independent constants (the usual Fashion-MNIST mean/std), so no privacy is spent
const norm = (x) => x.sub(0.286).div(0.353);
const xTrain = norm(train.x), xTest = norm(test.x);
console.log(`Fashion-MNIST from ${train.dir}: ${xTrain.shape[0]} train, ${xTest.shape[0]} test`);

// NOTE: tanh rather than ReLU: bounded activations keep clipped gradients informative under DP
// see: Papernot et al., "Tempered sigmoid activations for deep learning with differential privacy" (2021)
const model = new nn.Sequential(new nn.Linear(784, hidden), new nn.Tanh(), new nn.Linear(hidden, 10));
const optimizer = new optim.Adam(model.parameters(), { lr });
const loader = new data.DataLoader(new data.TensorDataset(xTrain, train.y), { batchSize });
const priv = privacy.makePrivate({ model, optimizer, dataLoader: loader, maxGradNorm, targetEpsilon, targetDelta: delta, epochs });
console.log(`DP-SGD: q = ${priv.sampleRate.toFixed(5)} (expected batch ${batchSize}), σ = ${priv.noiseMultiplier.toFixed(4)}, ` +
  `C = ${maxGradNorm}, ${priv.dataLoader.length} steps/epoch, Adam lr ${lr}; target ε = ${targetEpsilon} at δ = ${delta}`);

const t0 = performance.now();
let final;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const e0 = performance.now();
  let lossSum = 0, seen = 0;
  for (const [xb, yb] of priv.dataLoader) {
    lossSum += scope(() => {
      priv.optimizer.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(xb), yb);
      loss.backward();
      priv.optimizer.step();
      return loss.item() * xb.shape[0];
    });
    seen += xb.shape[0];
    xb.dispose();
    yb.dispose();
  }
  const result = evaluate(model, xTest, test.y);
  const eps = priv.getEpsilon(delta);
  final = { epoch, epsilon: eps, testAccuracy: result.accuracy };
  console.log(`epoch ${String(epoch).padStart(2)}  train loss ${(lossSum / seen).toFixed(4)}  test acc ${(100 * result.accuracy).toFixed(2)}%  ` +
    `ε = ${eps.toFixed(3)} (δ = ${delta})  ${Math.round(seen / ((performance.now() - e0) / 1000))} samples/s`);
}
const seconds = (performance.now() - t0) / 1000;
console.log(`dp-fashion: test accuracy ${(100 * final.testAccuracy).toFixed(2)}% at ε = ${final.epsilon.toFixed(3)}, δ = ${delta} ` +
  `(σ = ${priv.noiseMultiplier.toFixed(4)}, C = ${maxGradNorm}, q = ${priv.sampleRate.toFixed(5)}, ${priv.steps} steps) in ${seconds.toFixed(0)} s`);
console.log(JSON.stringify({ epsilon: final.epsilon, delta, noiseMultiplier: priv.noiseMultiplier, sampleRate: priv.sampleRate,
  steps: priv.steps, maxGradNorm, testAccuracy: final.testAccuracy, seconds }));
