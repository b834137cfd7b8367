// Spoken-digit recognition on the Free Spoken Digit Dataset (FSDD, Zohar Jackson et al., CC BY-SA 4.0;
// the repository's data/fsdd): a small CNN on 40-band log-mel spectrograms (64 frames, 1.02 s at 8 kHz)
// with the dataset's own split (takes 0–4 of every speaker and digit are the test set).
//   node examples/spoken-digits.mjs [--epochs 20] [--save model.safetensors]
//   node examples/spoken-digits.mjs predict model.safetensors some.wav
// Training augments every batch, seeded: time shift (±0.2 s), white noise (SNR 10–40 dB, half the
// clips), and SpecAugment (one frequency mask ≤ 6 bands, one time mask ≤ 8 frames).
import { readFileSync } from 'node:fs';
import { Generator, audio, init, io, manualSeed, optim, scope, tensor, noGrad, nn } from '@simdgrad/core';
import { fsdd, loadFile, saveFile } from '@simdgrad/core/node';
import { evaluate } from './lib.mjs';

await init({ threads: 'auto' });
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};

if (args[0] === 'predict') {
  const [, modelPath, wavPath] = args;
  const { tensors } = io.load(await loadFile(modelPath));
  const model = audio.spokenDigitModel();
  model.loadStateDict(tensors);
  model.eval();
  const wav = audio.readWav(readFileSync(wavPath));
  const x = audio.spokenDigitFeatures([audio.prepareSpokenDigit(wav.samples, wav.sampleRate)]);
  const probs = noGrad(() => model.forward(x).softmax(1)).toFloat32Array();
  const digit = probs.indexOf(Math.max(...probs));
  console.log(`${wavPath}: ${digit} (p = ${probs[digit].toFixed(3)}; ${wav.sampleRate} Hz, ${wav.duration.toFixed(2)} s)`);
  process.exit(0);
}

const epochs = Number(opt('epochs', 20));
const batchSize = 32;
manualSeed(0);
const gen = new Generator(1);
const t0 = performance.now();
const train = await fsdd({ split: 'train' });
const test = await fsdd({ split: 'test' });
const prep = (r) => audio.prepareSpokenDigit(r.samples, r.sampleRate);
const trainWaves = train.recordings.map(prep), testWaves = test.recordings.map(prep);
const yTrain = Int32Array.from(train.recordings, (r) => r.digit);
const yTest = tensor(Int32Array.from(test.recordings, (r) => r.digit));
const xTest = audio.spokenDigitFeatures(testWaves);
console.log(`FSDD from ${train.dir}: ${trainWaves.length} train, ${testWaves.length} test recordings; features ${JSON.stringify(xTest.shape)} ` +
  `(${((performance.now() - t0) / 1000).toFixed(1)} s to load)`);

const model = audio.spokenDigitModel();
console.log(model.toString());
const stepsPerEpoch = Math.ceil(trainWaves.length / batchSize);
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
const scheduler = new optim.lrScheduler.OneCycleLR(optimizer, { maxLr: 3e-3, totalSteps: epochs * stepsPerEpoch });

function augment(w) {
  let x = audio.timeShift(w, 1600, { generator: gen });
  if (gen.uniform() < 0.5) x = audio.addNoise(x, { snrDb: [10, 40], generator: gen });
  return x;
}

const tTrain = performance.now();
let final;
for (let epoch = 1; epoch <= epochs; epoch++) {
  const e0 = performance.now();
  model.train();
  const order = Array.from(trainWaves.keys());
  for (let i = order.length - 1; i > 0; i--) {
    const j = gen.int(0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let lossSum = 0, correct = 0;
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const [loss, hits] = scope(() => {
      let x = audio.spokenDigitFeatures(idx.map((i) => augment(trainWaves[i])));
      x = audio.timeMask(audio.frequencyMask(x, 6, { generator: gen }), 8, { generator: gen });
      const y = tensor(Int32Array.from(idx, (i) => yTrain[i]));
      optimizer.zeroGrad();
      const logits = model.forward(x);
      const l = nn.functional.crossEntropy(logits, y);
      l.backward();
      optimizer.step();
      scheduler.step();
      return [l.item() * idx.length, logits.argmax(1).float().eq(y.float()).sum().item()];
    });
    lossSum += loss;
    correct += hits;
  }
  const ev = evaluate(model, xTest, yTest, 100);
  final = ev;
  console.log(`epoch ${String(epoch).padStart(2)}  train loss ${(lossSum / order.length).toFixed(4)}  train acc ${(100 * correct / order.length).toFixed(2)}%  ` +
    `test loss ${ev.loss.toFixed(4)}  test acc ${(100 * ev.accuracy).toFixed(2)}%  ${((performance.now() - e0) / 1000).toFixed(1)} s`);
}
const secs = (performance.now() - tTrain) / 1000;
console.log(`spoken-digits: test accuracy ${(100 * final.accuracy).toFixed(2)}% (${Math.round(final.accuracy * testWaves.length)}/${testWaves.length}) ` +
  `after ${epochs} epochs in ${secs.toFixed(0)} s`);
const save = opt('save', null);
if (save) {
  await saveFile(save, io.save(model.stateDict(), { arch: 'spoken-digits-cnn', features: JSON.stringify(audio.SPOKEN_DIGITS) }));
  console.log(`saved ${save}`);
}
