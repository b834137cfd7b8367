// The classic first example: fit y = 2x + 1 (+ noise) with a linear model by gradient descent, in its
// three forms — full-batch, mini-batch and stochastic — and check that each recovers w ≈ 2, b ≈ 1.
// Run: pnpm build && node examples/linreg.mjs
import { data, init, manualSeed, nn, optim, rand, randn, scope } from '@simdgrad/core';

await init();
manualSeed(0);
// 100 points, x uniform in [0, 1), noise σ = 0.33
const x = rand([100, 1]);
const y = x.mul(2).add(1).add(randn([100, 1]).mul(0.33));

const regimes = [
  { name: 'full-batch', batchSize: 100, lr: 0.5, epochs: 500 },
  { name: 'mini-batch', batchSize: 10, lr: 0.1, epochs: 200 },
  { name: 'stochastic', batchSize: 1, lr: 0.01, epochs: 100 },
];
const results = {};
for (const { name, batchSize, lr, epochs } of regimes) {
  manualSeed(1);
  const model = new nn.Linear(1, 1);
  const opt = new optim.SGD(model.parameters(), { lr });
  const loader = new data.DataLoader(new data.TensorDataset(x, y), { batchSize, shuffle: true });
  let loss = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [xb, yb] of loader) {
      loss = scope(() => {
        opt.zeroGrad();
        const l = nn.functional.mseLoss(model.forward(xb), yb);
        l.backward();
        opt.step();
        return l.item();
      });
      xb.dispose();
      yb.dispose();
    }
  }
  const w = model.weight.item(), b = model.bias.item();
  results[name] = { w, b };
  console.log(`${name.padEnd(10)}  batch ${String(batchSize).padStart(3)}  lr ${lr}  epochs ${epochs}:  w = ${w.toFixed(4)}  b = ${b.toFixed(4)}  (last batch loss ${loss.toFixed(4)})`);
}
console.log(JSON.stringify(results));
