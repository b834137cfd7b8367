// A character-level GPT on Tiny Shakespeare (first 90% train, last 10% validation), as issue 8 asks:
//   node examples/charlm.mjs                       — train for --minutes (default 18), then sample
//   node examples/charlm.mjs --sample model.safetensors --prompt "ROMEO:" --tokens 500
// Options: --layers 4 --heads 4 --width 128 --context 64 --batch 32 --lr 2e-3 --minutes 18
//          --eval-every 250 --out charlm.safetensors --threads auto --seed 0
// AdamW (weight decay 0.1, β2 0.99) with a linear warm-up and a cosine decay over the time budget,
// gradient clipping at 1.0. Prints val loss (nats/char) periodically, a sample, and a JSON summary.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { init, io, manualSeed, nn, noGrad, optim, scope, tensor, text, Generator, backendInfo } from '@simdgrad/core';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = args[i + 1];
  return typeof dflt === 'number' ? Number(v) : v;
};
const threads = opt('threads', 'auto');
await init({ threads: threads === 'auto' ? 'auto' : Number(threads) });
const seed = opt('seed', 0);
manualSeed(seed);

const dataPath = fileURLToPath(new URL('../data/tinyshakespeare.txt', import.meta.url));
const corpus = readFileSync(existsSync(dataPath) ? dataPath : '/work/shared/data/tinyshakespeare.txt', 'utf8');

function loadModel(path) {
  const file = io.load(readFileSync(path));
  const meta = file.metadata ?? {};
  const model = new text.GPT(JSON.parse(meta.config));
  model.loadStateDict(file.tensors);
  return { model, tok: text.CharTokenizer.fromJSON(meta.vocab) };
}

function sampleText(model, tok, prompt, n, sampling) {
  model.eval();
  const t0 = performance.now();
  let count = 0;
  process.stdout.write(prompt);
  for (const id of text.generate(model, tok.encode(prompt), { maxNewTokens: n, ...sampling })) {
    process.stdout.write(tok.decode([id]));
    count++;
  }
  const secs = (performance.now() - t0) / 1000;
  process.stdout.write('\n');
  return count / secs;
}

const sampling = { temperature: opt('temperature', 0.8), topK: opt('top-k', 40), topP: opt('top-p', 0.95), generator: new Generator(seed + 1) };
const samplePath = opt('sample', null);
if (samplePath) {
  const { model, tok } = loadModel(samplePath);
  const rate = sampleText(model, tok, opt('prompt', '\n'), opt('tokens', 500), sampling);
  console.log(`generation: ${rate.toFixed(1)} tokens/s`);
  process.exit(0);
}

const tok = text.CharTokenizer.fromText(corpus);
const ids = tok.encode(corpus);
const split = Math.floor(ids.length * 0.9);
const train = ids.subarray(0, split), val = ids.subarray(split);
const T = opt('context', 64), B = opt('batch', 32);
const config = { vocabSize: tok.vocabSize, contextLength: T, nLayer: opt('layers', 4), nHead: opt('heads', 4), nEmbd: opt('width', 128), dropout: opt('dropout', 0) };
const model = new text.GPT(config);
const nParams = model.parameters().reduce((a, p) => a + p.size, 0);
console.log(`charlm: ${corpus.length} chars, vocab ${tok.vocabSize}, train ${train.length} / val ${val.length}; ` +
  `GPT ${config.nLayer}×${config.nHead}h×${config.nEmbd}, context ${T}, batch ${B}, ${nParams} parameters, ${backendInfo().threads} thread(s)`);

const gen = new Generator(seed + 2);
function batchAt(source, starts) {
  const x = new Int32Array(starts.length * T), y = new Int32Array(starts.length * T);
  starts.forEach((s, b) => {
    x.set(source.subarray(s, s + T), b * T);
    y.set(source.subarray(s + 1, s + T + 1), b * T);
  });
  return [tensor(x, { shape: [starts.length, T], dtype: 'int32' }), tensor(y, { shape: [starts.length * T], dtype: 'int32' })];
}
const randomStarts = (source, n) => Array.from({ length: n }, () => gen.int(0, source.length - T - 1));

/** Mean validation loss over `batches` batches at evenly spaced, fixed offsets. */
function valLoss(batches) {
  model.eval();
  let sum = 0;
  const stride = Math.floor((val.length - T - 1) / (batches * B));
  for (let i = 0; i < batches; i++) {
    const starts = Array.from({ length: B }, (_, j) => (i * B + j) * stride);
    sum += scope(() => noGrad(() => {
      const [x, y] = batchAt(val, starts);
      return nn.functional.crossEntropy(model.forward(x).reshape([-1, tok.vocabSize]), y).item();
    }));
  }
  model.train();
  return sum / batches;
}

const lr = opt('lr', 2e-3), minLr = lr / 20, warmup = opt('warmup', 100);
const budget = opt('minutes', 18) * 60_000;
const evalEvery = opt('eval-every', 250);
const optimizer = new optim.AdamW(model.parameters(), { lr, betas: [0.9, 0.99], weightDecay: 0.1 });
// the cosine runs over the wall-clock budget (the machine's speed is not known in advance)
const lrAt = (step, progress) => (step < warmup ? lr * (step + 1) / warmup : minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));

const t0 = performance.now();
let step = 0, trainTime = 0, emaLoss = null;
const history = [];
while (performance.now() - t0 < budget) {
  const s0 = performance.now();
  const loss = scope(() => {
    for (const g of optimizer.paramGroups) g.lr = lrAt(step, (performance.now() - t0) / budget);
    optimizer.zeroGrad();
    const [x, y] = batchAt(train, randomStarts(train, B));
    const l = nn.functional.crossEntropy(model.forward(x).reshape([-1, tok.vocabSize]), y);
    l.backward();
    optim.clipGradNorm(model.parameters(), 1.0);
    optimizer.step();
    return l.item();
  });
  trainTime += performance.now() - s0;
  emaLoss = emaLoss === null ? loss : 0.98 * emaLoss + 0.02 * loss;
  step++;
  if (step % evalEvery === 0) {
    const v = valLoss(8);
    const tps = (step * B * T) / (trainTime / 1000);
    history.push({ step, minutes: (performance.now() - t0) / 60000, trainLoss: emaLoss, valLoss: v });
    console.log(`step ${step}  ${((performance.now() - t0) / 60000).toFixed(1)} min  train ${emaLoss.toFixed(3)}  val ${v.toFixed(3)}  ` +
      `lr ${optimizer.paramGroups[0].lr.toExponential(2)}  ${Math.round(tps)} tokens/s`);
  } else if (step % 25 === 0) {
    console.log(`step ${step}  train ${emaLoss.toFixed(3)}  ${Math.round((step * B * T) / (trainTime / 1000))} tokens/s`);
  }
}
const trainTokensPerSec = (step * B * T) / (trainTime / 1000);
const finalVal = valLoss(opt('final-eval-batches', 40));
console.log(`final: ${step} steps, ${(step * B * T / 1e6).toFixed(2)}M tokens in ${(trainTime / 60000).toFixed(1)} min, val loss ${finalVal.toFixed(4)} nats/char, ${Math.round(trainTokensPerSec)} tokens/s training`);

const out = opt('out', 'charlm.safetensors');
writeFileSync(out, io.save(model.stateDict(), { ...model.metadata(), vocab: JSON.stringify(tok) }));
console.log(`saved ${out}\n--- sample (temperature ${sampling.temperature}, top-k ${sampling.topK}, top-p ${sampling.topP}) ---`);
const genRate = sampleText(model, tok, opt('prompt', 'ROMEO:'), opt('tokens', 500), sampling);
console.log(`--- generation: ${genRate.toFixed(1)} tokens/s (KV cache)`);
console.log(JSON.stringify({ recipe: 'charlm', valLoss: finalVal, steps: step, trainTokens: step * B * T, trainTokensPerSec, generateTokensPerSec: genRate, parameters: nParams, config, history }));
