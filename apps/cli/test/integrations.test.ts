// The CLI's wiring of the engine's newer pieces, driven as a subprocess (apps/cli/dist/main.js): the
// spoken-digits recipe with predict/eval on WAV files, DP-SGD flags on train, explain heat maps, and
// ONNX export checked against the engine's own importer (and onnxruntime-node when it is installed).
// Every run is tiny (1–2 epochs on a few samples); the tests run concurrently.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from './ort.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CLI = join(ROOT, 'apps/cli/dist/main.js');
const T10K = join(ROOT, 'data/fashion-mnist/t10k');
const FSDD = join(ROOT, 'data/fsdd');
let dir = '';

interface Result { code: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Result> {
  return runEnv({}, ...args);
}

function runEnv(env: Record<string, string>, ...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, CI: '1', ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const jsonLines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const summaryOf = (s: string) => jsonLines(s).find((o) => o.type === 'summary')!;
const oneLineError = (r: Result) => expect(r.stderr, r.stderr).toMatch(/^simdgrad [a-z-]+: [^\n]+\n$/);

/** Width and height from a PNG's IHDR, after checking the signature. */
function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  expect([...b.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  expect(b.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** A tiny conv net (conv-bn-relu-pool, linear) trained for one epoch on 200 test-split images. */
let cnn: Promise<Result>;

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`build the CLI first: pnpm --filter @simdgrad/cli build (${CLI} is missing)`);
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-integrations-'));
  writeFileSync(join(dir, 'cnn.json'), JSON.stringify({
    data: { idx: T10K, limit: 200, testFraction: 0.2 },
    model: [{ type: 'conv2d', out: 4, kernel: 3, padding: 1 }, { type: 'batchnorm2d' }, { type: 'relu' }, { type: 'maxpool2d', kernel: 2 }, { type: 'flatten' }, { type: 'linear' }],
    epochs: 1, batchSize: 32,
  }));
  const { encodeGrayPng } = await import(join(ROOT, 'apps/cli/dist/png.js')) as typeof import('../src/png.js');
  const idx = gunzipSync(readFileSync(`${T10K}-images-idx3-ubyte.gz`));
  writeFileSync(join(dir, 'boot.png'), encodeGrayPng(28, 28, idx.subarray(16, 16 + 784)));
  cnn = run('train', 'cnn.json', '--json', '--out', 'cnn');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('simdgrad integrations', () => {
  it.concurrent('speech: train spoken-digits, predict a WAV, eval a WAV folder', async () => {
    // a small FSDD folder (SIMDGRAD_FSDD): every digit, takes 5–6 train and 0 test, two speakers
    mkdirSync(join(dir, 'fsdd'));
    for (let d = 0; d < 10; d++) for (const who of ['george', 'jackson']) for (const take of [0, 5, 6]) copyFileSync(join(FSDD, `${d}_${who}_${take}.wav`), join(dir, 'fsdd', `${d}_${who}_${take}.wav`));
    const t = await runEnv({ SIMDGRAD_FSDD: join(dir, 'fsdd') }, 'train', 'spoken-digits', '--epochs', '1', '--limit', '30', '--json', '--out', 'speech');
    expect(t.code, t.stderr).toBe(0);
    const s = summaryOf(t.stdout);
    expect(s.steps).toBe(1); // 30 of the 40 train recordings, batch 32
    expect(s.testAccuracy).not.toBeNull();
    const meta = JSON.parse(readFileSync(join(dir, 'speech/model.safetensors')).subarray(8, 8 + Number(readFileSync(join(dir, 'speech/model.safetensors')).readBigUInt64LE(0))).toString()).__metadata__;
    expect(JSON.parse(meta.audio)).toMatchObject({ features: 'spoken-digits', sampleRate: 8000, nMels: 40, frames: 64 });
    expect(JSON.parse(meta.inputShape)).toEqual([1, 40, 64]);

    const wav = join(FSDD, '7_jackson_0.wav');
    const p = await run('predict', 'speech/model.safetensors', wav, '--json');
    expect(p.code, p.stderr).toBe(0);
    const o = JSON.parse(p.stdout) as { label: string; index: number; probabilities: number[] };
    expect(o.probabilities).toHaveLength(10);
    expect(o.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(o.label).toBe(String(o.index));

    mkdirSync(join(dir, 'wavs'));
    for (const f of ['0_george_0.wav', '3_lucas_1.wav', '9_yweweler_2.wav']) copyFileSync(join(FSDD, f), join(dir, 'wavs', f));
    const e = await run('eval', 'speech/model.safetensors', 'wavs', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ samples: 3 });

    const bad = await run('predict', 'speech/model.safetensors', 'cnn.json');
    expect(bad.code).toBe(1);
    oneLineError(bad);
    expect(bad.stderr).toContain('not a WAV file');
  });

  it.concurrent('privacy: --dp-noise/--dp-clip report ε each epoch and in the summary; --dp-epsilon meets its target; resume stays exact', async () => {
    const [a, b, full, cut] = await Promise.all([
      run('train', 'iris', '--epochs', '2', '--dp-noise', '1.0', '--dp-clip', '1', '--json', '--out', 'dp-noise'),
      run('train', 'iris', '--epochs', '2', '--dp-epsilon', '3', '--json', '--out', 'dp-eps'),
      run('train', 'iris', '--epochs', '2', '--dp-noise', '1.0', '--json', '--out', 'dp-full'),
      run('train', 'iris', '--epochs', '2', '--dp-noise', '1.0', '--json', '--out', 'dp-cut', '--stop-after-steps', '9'),
    ]);
    expect(a.code, a.stderr).toBe(0);
    const epochs = jsonLines(a.stdout).filter((l) => l.type === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const e of epochs) expect(e).toMatchObject({ delta: 1e-5, noiseMultiplier: 1 });
    expect(epochs[1]!.epsilon as number).toBeGreaterThan(epochs[0]!.epsilon as number);
    const s = summaryOf(a.stdout);
    for (const key of ['epsilon', 'delta', 'noiseMultiplier', 'sampleRate', 'steps']) expect(s[key], key).not.toBeNull();
    expect(s.epsilon).toBe(epochs[1]!.epsilon);
    expect(s.sampleRate).toBeCloseTo(16 / 108, 10);

    expect(b.code, b.stderr).toBe(0);
    const sb = summaryOf(b.stdout);
    expect(sb.epsilon as number).toBeLessThanOrEqual(3.0001);
    expect(sb.epsilon as number).toBeGreaterThan(2.5);
    expect(sb.noiseMultiplier as number).toBeGreaterThan(0.5);

    expect(cut.code).toBe(130);
    const rest = await run('train', '--resume', 'dp-cut/checkpoint.safetensors', '--json');
    expect(rest.code, rest.stderr).toBe(0);
    const [x, y] = [summaryOf(full.stdout), summaryOf(rest.stdout)];
    for (const key of ['steps', 'trainLoss', 'testLoss', 'epsilon']) expect(y[key], key).toBe(x[key]);
  });

  it.concurrent('privacy: BatchNorm models and bad flag combinations are refused with one line', async () => {
    const [bn, clipOnly, both] = await Promise.all([
      run('train', 'cnn.json', '--dp-noise', '1', '--out', 'dp-bn'),
      run('train', 'iris', '--dp-clip', '1'),
      run('train', 'iris', '--dp-noise', '1', '--dp-epsilon', '3'),
    ]);
    expect(bn.code).toBe(2);
    oneLineError(bn);
    expect(bn.stderr).toContain('BatchNorm2d');
    expect(existsSync(join(dir, 'dp-bn'))).toBe(false);
    for (const r of [clipOnly, both]) {
      expect(r.code).toBe(2);
      oneLineError(r);
    }
  });

  it.concurrent('explain: saliency, ig (with its completeness check), smoothgrad and gradcam write PNG heat maps', async () => {
    const t = await cnn;
    expect(t.code, t.stderr).toBe(0);
    const methods = ['saliency', 'ig', 'smoothgrad', 'gradcam'];
    const rs = await Promise.all(methods.map((m) => run('explain', 'cnn/model.safetensors', 'boot.png', '--method', m, '--out', `${m}.png`, '--json', ...(m === 'ig' ? ['--steps', '64'] : []))));
    rs.forEach((r, i) => {
      expect(r.code, `${methods[i]}: ${r.stderr}`).toBe(0);
      const o = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(o).toMatchObject({ method: methods[i], mapWidth: 28, mapHeight: 28 });
      expect(pngSize(join(dir, `${methods[i]}.png`))).toEqual({ width: o.width, height: o.height });
      expect(o.width).toBeGreaterThanOrEqual(280);
    });
    const ig = JSON.parse(rs[1]!.stdout) as { completeness: { sum: number; outputDifference: number; relativeError: number } };
    expect(ig.completeness.relativeError).toBeLessThan(0.1);
    expect(Math.abs(ig.completeness.sum - ig.completeness.outputDifference)).toBeLessThan(0.1 * Math.max(Math.abs(ig.completeness.outputDifference), 1e-3));
    const human = await run('explain', 'cnn/model.safetensors', 'boot.png', '--method', 'ig', '--target', '2', '--out', 'ig2.png');
    expect(human.stdout).toMatch(/completeness error/);
    const [range, noOut] = await Promise.all([
      run('explain', 'cnn/model.safetensors', 'boot.png', '--target', '10', '--out', 'x.png'),
      run('explain', 'cnn/model.safetensors', 'boot.png'),
    ]);
    for (const r of [range, noOut]) {
      expect(r.code).toBe(2);
      oneLineError(r);
    }
  });

  it.concurrent('onnx: export loads in importModel (and onnxruntime-node if installed) and gives the same prediction', async () => {
    const t = await cnn;
    expect(t.code, t.stderr).toBe(0);
    const [x, p] = await Promise.all([
      run('export', 'cnn/model.safetensors', '--format', 'onnx', '--out', 'cnn.onnx', '--json'),
      run('predict', 'cnn/model.safetensors', 'boot.png', '--json'),
    ]);
    expect(x.code, x.stderr).toBe(0);
    expect(JSON.parse(x.stdout)).toMatchObject({ format: 'onnx', opset: 17, input: { shape: ['batch', 1, 28, 28] }, output: { shape: ['batch', 10] } });
    const want = (JSON.parse(p.stdout) as { probabilities: number[] }).probabilities;
    const bytes = readFileSync(join(dir, 'cnn.onnx'));
    const idx = gunzipSync(readFileSync(`${T10K}-images-idx3-ubyte.gz`));
    const pixels = Float32Array.from(idx.subarray(16, 16 + 784), (v) => v / 255);
    const softmax = (z: ArrayLike<number>) => {
      const m = Math.max(...Array.from(z));
      const e = Array.from(z, (v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };

    const { init, tensor } = await import('@simdgrad/core');
    const { importModel } = await import('@simdgrad/core/onnx');
    await init();
    const model = importModel(new Uint8Array(bytes));
    const got = softmax(model.forward(tensor(pixels, { shape: [1, 1, 28, 28] })).toFloat32Array());
    got.forEach((v, i) => expect(Math.abs(v - want[i]!), `class ${i}`).toBeLessThan(1e-4));

    // onnxruntime-node is a dev dependency of the core, resolved from there by path
    const ort = loadOrt(ROOT);
    if (ort !== null) {
      const session = await ort.InferenceSession.create(bytes);
      const r = await session.run({ input: new ort.Tensor('float32', pixels, [1, 1, 28, 28]) });
      softmax(r.output!.data).forEach((v, i) => expect(Math.abs(v - want[i]!), `onnxruntime class ${i}`).toBeLessThan(1e-4));
    }
  });
});
