// The FSDD loader (the official split) and a short training run of the spoken-digit pipeline: the
// CNN on log-mel features learns to tell "zero" from "one" in two epochs.
import { beforeAll, describe, expect, it } from 'vitest';
import * as audio from './audio/index.js';
import { setBackend } from './engine.js';
import { noGrad } from './autograd/graph.js';
import { scope } from './memory.js';
import { manualSeed, tensor } from './ops/creation.js';
import { crossEntropy } from './nn/functional.js';
import { Adam } from './optim/adam.js';
import { Generator } from './random.js';
import { getBackends, trainStep } from './test-utils.js';
import { fsdd, parseFsddName, type FsddRecording } from './fsdd.js';

let all: FsddRecording[];
beforeAll(async () => {
  setBackend((await getBackends()).wasm);
  all = (await fsdd({ split: 'all' })).recordings;
});

describe('fsdd', () => {
  it('loads the shipped subset with the official split (takes 0–4 are test)', async () => {
    expect(all.length).toBe(2400);
    const test = all.filter((r) => r.take <= 4);
    expect(test.length).toBe(300);
    for (let d = 0; d < 10; d++) expect(test.filter((r) => r.digit === d).length).toBe(30);
    expect(new Set(all.map((r) => r.speaker))).toEqual(new Set(['george', 'jackson', 'lucas', 'nicolas', 'theo', 'yweweler']));
    expect(all.every((r) => r.sampleRate === 8000 && r.samples.length > 1000)).toBe(true);
    expect((await fsdd({ split: 'test' })).recordings.map((r) => r.file)).toEqual(test.map((r) => r.file));
    expect(parseFsddName('7_jackson_32.wav')).toEqual({ digit: 7, speaker: 'jackson', take: 32 });
    expect(parseFsddName('notes.txt')).toBeNull();
    await expect(fsdd({ dir: '/nonexistent' })).rejects.toThrow(/fsdd: no \{digit\}_\{speaker\}_\{take\}\.wav files in \/nonexistent \(help:/);
    await expect(fsdd({ split: 'dev' as never })).rejects.toThrow(/split must be 'train', 'test' or 'all'/);
  });

  it('the spoken-digit CNN learns zero vs one in two epochs', () => {
    manualSeed(0);
    const pick = (test: boolean) => all.filter((r) => r.digit <= 1 && (r.take <= 4) === test);
    const prep = (rs: FsddRecording[]) => audio.spokenDigitFeatures(rs.map((r) => audio.prepareSpokenDigit(r.samples, r.sampleRate)));
    // every third training take, shuffled (the files come sorted by digit)
    const g = new Generator(3);
    const train = pick(false).filter((r) => r.take % 3 === 0).map((r) => [g.uniform(), r] as const).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
    const test = pick(true);
    const xTrain = prep(train), yTrain = tensor(Int32Array.from(train, (r) => r.digit));
    const xTest = prep(test), yTest = Int32Array.from(test, (r) => r.digit);
    const model = audio.spokenDigitModel();
    const opt = new Adam(model.parameters(), { lr: 3e-3 });
    const losses: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      for (let s = 0; s < train.length; s += 16) {
        const n = Math.min(16, train.length - s);
        losses.push(trainStep(opt, () => crossEntropy(model.forward(xTrain.narrow(0, s, n)), yTrain.narrow(0, s, n))));
      }
    }
    model.eval();
    const pred = scope(() => noGrad(() => model.forward(xTest).argmax(1).toInt32Array()));
    const acc = pred.filter((p, i) => p === yTest[i]).length / test.length;
    expect(losses.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(losses.slice(0, 3).reduce((a, b) => a + b) / 3);
    expect(acc).toBeGreaterThanOrEqual(0.85);
  });
});
