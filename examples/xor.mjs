// A two-layer network built by hand from tensors, trained with plain gradient descent on XOR.
// Run: pnpm build && node examples/xor.mjs
import { init, manualSeed, noGrad, randn, scope, tensor, zeros } from '@simdgrad/core';

await init();
manualSeed(0);

const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
const y = tensor([[0], [1], [1], [0]]);

// parameters: 2 → 8 → 1
const w1 = randn([2, 8]).mul(0.8).requiresGrad_();
const b1 = zeros([8], { requiresGrad: true });
const w2 = randn([8, 1]).mul(0.8).requiresGrad_();
const b2 = zeros([1], { requiresGrad: true });
const params = [w1, b1, w2, b2];
const lr = 0.5;

for (let step = 0; step <= 2000; step++) {
  const loss = scope(() => {
    const hidden = x.matmul(w1).add(b1).tanh();
    const pred = hidden.matmul(w2).add(b2).sigmoid();
    const loss = pred.sub(y).square().mean();
    loss.backward();
    noGrad(() => {
      for (const p of params) {
        p.addInPlace(p.grad.mul(-lr)); // p -= lr * grad
        p.grad.dispose();
        p.grad = null;
      }
    });
    return loss.item();
  });
  if (step % 200 === 0) console.log(`step ${String(step).padStart(4)}  loss ${loss.toFixed(6)}`);
}

const pred = noGrad(() => x.matmul(w1).add(b1).tanh().matmul(w2).add(b2).sigmoid());
console.log('predictions:', Array.from(pred.toFloat32Array(), (v) => v.toFixed(3)).join(', '), '(targets 0, 1, 1, 0)');
