// The demo's engine code and drawing maths, in Node: the same trainers the page workers run, and the
// pure helpers behind the charts and the digit pad. (The pages themselves: browser.test.ts.)
import { readFileSync } from 'node:fs';
import { audio, init } from '@simdgrad/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { divergingColor, extent, formatTick, linearScale, logTicks, niceTicks, sequentialColor } from '../src/shared/scale.js';
import { toUciPixels } from '../src/pages/digits/downsample.js';
import { DigitsTrainer } from '../src/pages/digits/train.js';
import { DATASETS, makeDataset, splitPoints } from '../src/pages/playground/datasets.js';
import { PlaygroundTrainer } from '../src/pages/playground/train.js';
import { makeLineData, RegressionTrainer } from '../src/pages/regression/train.js';
import { timeJsMatmul, timeMatmul } from '../src/pages/benchmark/bench.js';
import { SpokenDigitRecogniser } from '../src/pages/spoken/recognise.js';

const asset = (name: string) => readFileSync(new URL(`../src/assets/${name}`, import.meta.url));
const fsddFile = (name: string) => readFileSync(new URL(`../../../data/fsdd/${name}`, import.meta.url));

beforeAll(async () => {
  await init();
});

describe('chart maths', () => {
  it('picks round ticks inside the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(-3, 7, 5)).toEqual([-2, 0, 2, 4, 6]);
    expect(niceTicks(64, 512, 5)).toEqual([100, 200, 300, 400, 500]);
    expect(niceTicks(2, 2)).toEqual([2]);
    expect(niceTicks(NaN, 1)).toEqual([]);
  });
  it('puts log ticks on decades, or on 1-2-5 steps in a short range', () => {
    expect(logTicks(-3.2, 0.1)).toEqual([-3, -2, -1, 0]);
    expect(logTicks(Math.log10(0.09), Math.log10(0.7)).map((v) => Number((10 ** v).toPrecision(3)))).toEqual([0.1, 0.2, 0.5]);
  });
  it('maps domains to pixels and finds extents', () => {
    const s = linearScale(0, 10, 100, 0); // y axes point down
    expect([s(0), s(5), s(10)]).toEqual([100, 50, 0]);
    expect(extent([[3, NaN, 1], Float32Array.of(7)])).toEqual([1, 7]);
    expect(extent([[2, 2]])).toEqual([1.5, 2.5]);
    expect(extent([[]])).toEqual([0, 1]);
    expect([0, 0.5, 1500, 2e6, 1e-4].map(formatTick)).toEqual(['0', '0.5', '1.5k', '2e6', '1e-4']);
  });
  it('colours class 0 orange, class 1 blue, and 0.5 neutral', () => {
    const [r0, , b0] = divergingColor(0);
    const [r1, , b1] = divergingColor(1);
    const mid = divergingColor(0.5);
    expect(r0).toBeGreaterThan(b0);
    expect(b1).toBeGreaterThan(r1);
    expect(Math.max(...mid) - Math.min(...mid)).toBeLessThan(5);
    expect(divergingColor(NaN)).toEqual(mid);
  });
  it('colours magnitudes dark to bright, clamped', () => {
    const lum = (c: number[]) => c[0]! + c[1]! + c[2]!;
    const ramp = [0, 0.25, 0.5, 0.75, 1].map((t) => lum(sequentialColor(t)));
    for (let i = 1; i < ramp.length; i++) expect(ramp[i]).toBeGreaterThan(ramp[i - 1]!);
    expect(sequentialColor(-1)).toEqual(sequentialColor(0));
    expect(sequentialColor(2)).toEqual(sequentialColor(1));
    expect(sequentialColor(NaN)).toEqual(sequentialColor(0));
  });
});

describe('digit downsampling (UCI preprocessing)', () => {
  const W = 100, H = 100;
  const draw = (inside: (x: number, y: number) => boolean) => {
    const ink = new Float32Array(W * H);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ink[y * W + x] = inside(x, y) ? 1 : 0;
    return ink;
  };
  it('is all zero for an empty pad', () => {
    expect(Array.from(toUciPixels(new Float32Array(W * H), W, H).pixels).every((v) => v === 0)).toBe(true);
  });
  it('fills the 8×8 grid with counts 0..16, keeping the aspect ratio', () => {
    // a full 40×40 square anywhere becomes all 16s
    const square = toUciPixels(draw((x, y) => x >= 10 && x < 50 && y >= 30 && y < 70), W, H).pixels;
    expect(Array.from(square).every((v) => v === 16)).toBe(true);
    // a tall bar (10 wide, 80 high) stays a narrow column in the middle
    const bar = toUciPixels(draw((x, y) => x >= 60 && x < 70 && y >= 10 && y < 90), W, H).pixels;
    for (let r = 0; r < 8; r++) {
      expect(bar[r * 8 + 0]).toBe(0);
      expect(bar[r * 8 + 7]).toBe(0);
      expect(bar[r * 8 + 3]! + bar[r * 8 + 4]!).toBeGreaterThanOrEqual(8);
    }
    expect(Array.from(bar).every((v) => Number.isInteger(v) && v >= 0 && v <= 16)).toBe(true);
  });
});

describe('playground data sets', () => {
  it.each(DATASETS)('%s: balanced, deterministic, inside the view', (name) => {
    const a = makeDataset(name, 200, 0.05, 3), b = makeDataset(name, 200, 0.05, 3);
    expect(a.xy).toEqual(b.xy);
    expect(a.labels.reduce((s, v) => s + v, 0)).toBe(100);
    expect(Math.max(...Array.from(a.xy, Math.abs))).toBeLessThan(1.3);
    const { train, test } = splitPoints(a, 0.5);
    expect([train.labels.length, test.labels.length, train.xy.length]).toEqual([100, 100, 200]);
    // a random split: both halves hold both classes in about equal numbers
    const ones = train.labels.reduce((s, v) => s + v, 0);
    expect(ones).toBeGreaterThan(35);
    expect(ones).toBeLessThan(65);
  });
});

describe('the trainers the page workers run', () => {
  it('regression recovers w ≈ 2, b ≈ 1 in each regime', () => {
    const { x, y } = makeLineData(0);
    for (const [regime, lr] of [['full-batch', 0.5], ['mini-batch', 0.1], ['sgd', 0.01]] as const) {
      const t = new RegressionTrainer(x, y, { regime, lr });
      const before = t.stats().loss;
      let s = t.stats();
      for (let e = 0; e < 60; e++) s = t.epoch();
      t.dispose();
      expect(s.loss).toBeLessThan(before);
      expect(Math.abs(s.w - 2)).toBeLessThan(0.2);
      expect(Math.abs(s.b - 1)).toBeLessThan(0.2);
    }
  });

  it('playground learns XOR past 90% test accuracy, and its heat map is a probability grid', () => {
    const { train, test } = splitPoints(makeDataset('xor', 400, 0.05, 1), 0.5);
    const t = new PlaygroundTrainer(train, test, { hiddenLayers: 2, width: 8, activation: 'tanh', optimizer: 'adam', lr: 0.03, batchSize: 10 });
    for (let e = 0; e < 30; e++) t.epoch();
    const s = t.stats();
    const grid = t.grid(20, 1.3);
    t.dispose();
    expect(s.testAccuracy).toBeGreaterThan(0.9);
    expect(grid.length).toBe(400);
    expect(Array.from(grid).every((p) => p >= 0 && p <= 1)).toBe(true);
    // XOR: blue (1) where x·y > 0: top-right corner of the grid (row 0, last column) vs top-left
    expect(grid[19]).toBeGreaterThan(0.5);
    expect(grid[0]).toBeLessThan(0.5);
  });

  it.each(['mlp', 'cnn'] as const)('digits %s passes 90% on held-out images in 3 epochs', (model) => {
    const t = new DigitsTrainer({ model, lr: 3e-3, batchSize: 32 });
    let s = t.epoch();
    s = t.epoch();
    s = t.epoch();
    const sample = t.testSample(0);
    const probs = t.predict(sample.pixels);
    t.dispose();
    expect(s.testAccuracy).toBeGreaterThan(0.9);
    expect(probs.length).toBe(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
  });

  it.each(['mlp', 'cnn'] as const)('digits %s explains a prediction: saliency and integrated gradients over the 8×8 input', (model) => {
    const t = new DigitsTrainer({ model, lr: 3e-3, batchSize: 32 });
    t.epoch();
    t.epoch();
    const { pixels, label } = t.testSample(3);
    const sal = t.explain(pixels, label, 'saliency');
    const ig = t.explain(pixels, label, 'integrated-gradients');
    t.dispose();
    expect([sal.map.length, ig.map.length]).toEqual([64, 64]);
    expect(Array.from(sal.map).every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    expect(Math.max(...sal.map)).toBeGreaterThan(0);
    // integrated gradients from a blank image: nothing where there is no ink, and (nearly) complete
    pixels.forEach((v, i) => { if (v === 0) expect(Math.abs(ig.map[i]!)).toBe(0); });
    expect(Math.max(...Array.from(ig.map, Math.abs))).toBeGreaterThan(0);
    expect(ig.relativeError).toBeLessThan(0.1);
  });

  it('benchmark times a matmul, in the engine and in plain JavaScript', () => {
    for (const r of [timeMatmul(64, 0.01), timeJsMatmul(64, 0.01)]) {
      expect(r.n).toBe(64);
      expect(r.reps).toBeGreaterThan(0);
      expect(r.gflops).toBeGreaterThan(0);
      // the mean time and the rate describe the same runs: 2n³ flops each
      expect(r.gflops).toBeCloseTo((2 * 64 ** 3) / (r.ms / 1000) / 1e9, 6);
    }
  });
});

describe('the spoken-digits recogniser (the page worker\'s pipeline, with the shipped weights)', () => {
  let r: SpokenDigitRecogniser;
  beforeAll(() => { r = SpokenDigitRecogniser.fromSafetensors(asset('spoken-digits.safetensors')); });

  it('ships weights under 300 KB and loads them into audio.spokenDigitModel()', () => {
    expect(asset('spoken-digits.safetensors').length).toBeLessThan(300 * 1024);
    expect(r.parameterCount).toBeGreaterThan(40_000);
  });

  it('recognises FSDD test takes from their WAV files, and a 48 kHz take padded with silence', () => {
    const out = r.classifyWav(fsddFile('7_jackson_0.wav'));
    expect(out.digit).toBe(7);
    expect([out.bands, out.frames, out.logMel.length, out.wave.length]).toEqual([40, 64, 40 * 64, 8192]);
    expect(out.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    // what the microphone test feeds: resampled to 48 kHz, with silence around it
    const { samples, sampleRate } = audio.readWav(fsddFile('7_jackson_0.wav'));
    const up = audio.resample(samples, sampleRate, 48000);
    const padded = new Float32Array(up.length + 48000 * 1.5);
    padded.set(up, 24000);
    expect(r.classify(padded, 48000).digit).toBe(7);
    expect(r.classifyWav(fsddFile('3_theo_2.wav')).digit).toBe(3);
  });

  it('says what is wrong with a file that is not a WAV', () => {
    expect(() => r.classifyWav(new TextEncoder().encode('not a wav file at all'))).toThrow(/readWav/);
  });
});
