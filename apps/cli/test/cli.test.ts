// Drives the built CLI (apps/cli/dist/main.js) as a subprocess: every command, the --json names scripts
// rely on, linreg's fit in its three modes, exact resume (after a test-hook stop and after a real SIGINT),
// each bad-input case with its exit code and one-line message, and the SVG plots and PNG decoder.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CLI = join(ROOT, 'apps/cli/dist/main.js');
const T10K = join(ROOT, 'data/fashion-mnist/t10k');
let dir = '';
const linregFits = new Map<string, Record<string, unknown>>();

interface Result { code: number; stdout: string; stderr: string }

function run(...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, CI: '1' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const jsonLines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const summaryOf = (s: string) => jsonLines(s).find((o) => o.type === 'summary')!;

/** The header of a safetensors file: tensor entries and __metadata__. */
function header(path: string): Record<string, { shape?: number[] } & Record<string, unknown>> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`build the CLI first: pnpm --filter @simdgrad/cli build (${CLI} is missing)`);
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-cli-'));
  writeFileSync(join(dir, 'bad-cell.csv'), 'a,b,label\n1,2,0\n3,x,1\n4,5,1\n');
  writeFileSync(join(dir, 'labels.csv'), 'a,b,label\n1,2,0\n3,4,1\n5,6,3\n2,2,1\n');
  writeFileSync(join(dir, 'bad-cell.json'), JSON.stringify({ data: { csv: 'bad-cell.csv', labelColumn: 'label' }, model: [{ type: 'linear' }], epochs: 1 }));
  writeFileSync(join(dir, 'label-range.json'), JSON.stringify({ data: { csv: 'labels.csv', labelColumn: 'label' }, model: [{ type: 'linear', out: 3 }], epochs: 1 }));
  writeFileSync(join(dir, 'shape.json'), JSON.stringify({ data: { csv: 'labels.csv' }, model: [{ type: 'linear', in: 5, out: 4 }, { type: 'relu' }, { type: 'linear' }], epochs: 1 }));
  writeFileSync(join(dir, 'broken.json'), '{"data": {"csv": "labels.csv"},');
  writeFileSync(join(dir, 'images.json'), JSON.stringify({
    data: { idx: T10K, limit: 300, testFraction: 0.2 },
    model: [{ type: 'linear', out: 32 }, { type: 'relu' }, { type: 'linear' }],
    optimizer: { type: 'adam', lr: 0.003 }, epochs: 2, batchSize: 32,
  }));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('simdgrad', () => {
  it('prints --version and --help for every command', async () => {
    const v = await run('--version');
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await run('--help');
    for (const cmd of ['train', 'eval', 'predict', 'lr-find', 'bench', 'export', 'datasets']) expect(help.stdout).toContain(cmd);
    const helps = await Promise.all(['train', 'eval', 'predict', 'lr-find', 'bench', 'export', 'datasets'].map((c) => run(c, '--help')));
    for (const h of helps) {
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Usage: simdgrad/);
    }
    expect(helps[0]!.stdout).toContain('digits-mlp');
    expect(helps[0]!.stdout).toContain('--resume');
  });

  it.concurrent.each([
    ['full-batch'], ['mini-batch'], ['sgd'],
  ])('linreg --mode %s fits w ≈ 2, b ≈ 1 and writes the scatter plot', async (mode) => {
    const r = await run('train', 'linreg', '--mode', mode, '--json', '--out', `linreg-${mode}`);
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    const epochs = lines.filter((l) => l.type === 'epoch');
    const s = summaryOf(r.stdout);
    expect(epochs.length).toBe(s.epochs);
    for (const key of ['epochs', 'steps', 'trainLoss', 'samplesPerSec', 'modelPath', 'w', 'b']) expect(s).toHaveProperty(key);
    expect(Math.abs((s.w as number) - 2)).toBeLessThan(0.15);
    expect(Math.abs((s.b as number) - 1)).toBeLessThan(0.15);
    linregFits.set(mode, s);
    const fit = readFileSync(join(dir, `linreg-${mode}`, 'fit.svg'), 'utf8');
    expect(fit.match(/<circle /g)?.length).toBe(100);
    expect(fit).toContain('class="series" data-name="fit"');
  });

  it('trains digits-mlp with --json, a self-describing model file, metrics and plots; eval and export use only that file', async () => {
    const r = await run('train', 'digits-mlp', '--epochs', '2', '--json', '--out', 'digits');
    expect(r.code, r.stderr).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.filter((l) => l.type === 'epoch').map((l) => l.epoch)).toEqual([1, 2]);
    const s = summaryOf(r.stdout);
    for (const key of ['epochs', 'steps', 'trainLoss', 'valLoss', 'testLoss', 'testAccuracy', 'samplesPerSec', 'modelPath']) expect(s[key], key).not.toBeNull();
    expect(s.epochs).toBe(2);
    expect(s.testAccuracy).toBeGreaterThan(0.8);
    const modelPath = s.modelPath as string;
    const h = header(modelPath);
    expect(h['0.weight']!.shape).toEqual([128, 64]);
    expect(h['4.bias']!.shape).toEqual([10]);
    const meta = h.__metadata__ as unknown as Record<string, string>;
    expect(JSON.parse(meta.architecture!)[0]).toEqual({ type: 'linear', in: 64, out: 128 });
    expect(JSON.parse(meta.classNames!)).toHaveLength(10);
    expect(JSON.parse(meta.preprocessing!).mean).toHaveLength(64);
    expect(JSON.parse(meta.inputShape!)).toEqual([64]);
    expect(readFileSync(join(dir, 'digits/metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    for (const f of ['loss.svg', 'accuracy.svg', 'checkpoint.safetensors']) expect(existsSync(join(dir, 'digits', f)), f).toBe(true);

    const e = await run('eval', modelPath, 'digits', '--json');
    expect(e.code, e.stderr).toBe(0);
    const ev = JSON.parse(e.stdout) as { samples: number; accuracy: number; loss: number; confusionMatrix: number[][] };
    expect(ev.samples).toBe(360);
    expect(ev.accuracy).toBeCloseTo(s.testAccuracy as number, 10);
    expect(ev.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(360);
    const human = await run('eval', join('digits', 'model.safetensors'), 'digits');
    expect(human.stdout).toContain('confusion matrix');

    const x = await run('export', modelPath, '--format', 'safetensors', '--out', 'exported.safetensors');
    expect(x.code, x.stderr).toBe(0);
    const xh = header(join(dir, 'exported.safetensors'));
    expect(Object.keys(xh).filter((k) => k !== '__metadata__').sort()).toEqual(['0.bias', '0.weight', '2.bias', '2.weight', '4.bias', '4.weight']);
    const onnx = await run('export', modelPath, '--format', 'onnx', '--out', 'm.onnx');
    expect(onnx.code, onnx.stderr).toBe(0);
    expect(readFileSync(join(dir, 'm.onnx')).length).toBeGreaterThan(1000);
  });

  it('predicts from a CSV row and a CSV file (one {label, probabilities} per input with --json)', async () => {
    const t = await run('train', 'iris', '--epochs', '30', '--json', '--out', 'iris');
    expect(t.code, t.stderr).toBe(0);
    const p = await run('predict', 'iris/model.safetensors', '5.1,3.5,1.4,0.2', '6.9,3.1,5.4,2.1', '--json');
    expect(p.code, p.stderr).toBe(0);
    const [a, b] = jsonLines(p.stdout) as { label: string; probabilities: number[] }[];
    expect(a!.label).toBe('setosa');
    expect(b!.label).toBe('virginica');
    expect(a!.probabilities).toHaveLength(3);
    expect(a!.probabilities.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
    writeFileSync(join(dir, 'flowers.csv'), 'sl,sw,pl,pw\n5.1,3.5,1.4,0.2\n6.9,3.1,5.4,2.1\n5.9,3.0,4.2,1.5\n');
    const f = await run('predict', 'iris/model.safetensors', 'flowers.csv', '--json');
    expect(jsonLines(f.stdout)).toHaveLength(3);
  });

  it('trains a JSON config on an IDX pair and predicts a PNG image', async () => {
    const t = await run('train', 'images.json', '--json', '--out', 'images');
    expect(t.code, t.stderr).toBe(0);
    const s = summaryOf(t.stdout);
    expect(s.testAccuracy).toBeGreaterThan(0.3);
    // the first test image as a PNG, through the CLI's own encoder
    const { encodeGrayPng } = await import(join(ROOT, 'apps/cli/dist/png.js')) as typeof import('../src/png.js');
    const idx = gunzipSync(readFileSync(`${T10K}-images-idx3-ubyte.gz`));
    writeFileSync(join(dir, 'boot.png'), encodeGrayPng(28, 28, idx.subarray(16, 16 + 784)));
    const p = await run('predict', 'images/model.safetensors', 'boot.png', '--json');
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout) as { label: string; probabilities: number[] };
    expect(out.probabilities).toHaveLength(10);
    const e = await run('eval', 'images/model.safetensors', T10K, '--limit', '100', '--json');
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).samples).toBe(100);
  });

  it('lr-find suggests a learning rate and plots loss against lr on a log axis', async () => {
    const r = await run('lr-find', 'iris', '--num-iter', '40', '--json', '--out', 'lrfind');
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout) as { suggestedLr: number; lrs: number[]; losses: number[]; plotPath: string };
    expect(o.suggestedLr).toBeGreaterThan(0);
    expect(o.lrs.length).toBe(o.losses.length);
    const svg = readFileSync(o.plotPath, 'utf8');
    expect(svg).toContain('1e-6');
    expect(svg).toContain('1e0');
    expect(svg).toContain('class="marker"');
  });

  it('bench times GEMM and training; datasets lists what is here', async () => {
    const b = await run('bench', '--quick', '--sizes', '32,64', '--json');
    expect(b.code, b.stderr).toBe(0);
    const o = JSON.parse(b.stdout) as { gemm: { n: number; gflops: number }[]; training: { samplesPerSec: number } };
    expect(o.gemm.map((g) => g.n)).toEqual([32, 64]);
    expect(o.gemm.every((g) => g.gflops > 0)).toBe(true);
    expect(o.training.samplesPerSec).toBeGreaterThan(0);
    const d = await run('datasets', '--json');
    const names = (JSON.parse(d.stdout) as { datasets: { name: string }[] }).datasets.map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['digits', 'iris', 'wine', 'breast-cancer', 'diabetes', 'fashion-mnist']));
  });

  it('resumes after an interruption to the same result as an uninterrupted run', async () => {
    const full = await run('train', 'digits-mlp', '--epochs', '3', '--json', '--out', 'resume-full');
    const cut = await run('train', 'digits-mlp', '--epochs', '3', '--json', '--out', 'resume-cut', '--stop-after-steps', '50');
    expect(cut.code).toBe(130);
    expect(cut.stderr).toContain('resume with: simdgrad train --resume');
    const rest = await run('train', '--resume', 'resume-cut/checkpoint.safetensors', '--json');
    expect(rest.code, rest.stderr).toBe(0);
    const [a, b] = [summaryOf(full.stdout), summaryOf(rest.stdout)];
    for (const key of ['epochs', 'steps', 'trainLoss', 'valLoss', 'testLoss', 'testAccuracy']) expect(b[key], key).toBe(a[key]);
  });

  it('saves a checkpoint on Ctrl-C (SIGINT) and resumes exactly', async () => {
    // long enough (1,000 epochs of 100 steps) that the signal lands mid-run even on an idle machine
    const child = spawn(process.execPath, [CLI, 'train', 'linreg', '--mode', 'sgd', '--epochs', '1000', '--json', '--out', 'sigint'], { cwd: dir, env: { ...process.env, CI: '1' } });
    let stdout = '', stderr = '';
    const code = await new Promise<number | null>((done) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d;
        if (stdout.includes('"epoch":1,') && !child.killed) child.kill('SIGINT');
      });
      child.stderr.on('data', (d: Buffer) => { stderr += d; });
      child.on('exit', (c) => done(c));
    });
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/checkpoint saved to .*sigint.checkpoint\.safetensors/);
    // the resumed run and an uninterrupted one with the same seed (its own run: no dependence on the
    // order in which the concurrent linreg tests finish)
    const [rest, whole] = await Promise.all([
      run('train', '--resume', 'sigint/checkpoint.safetensors', '--json'),
      run('train', 'linreg', '--mode', 'sgd', '--epochs', '1000', '--json', '--out', 'sigint-ref'),
    ]);
    expect(rest.code, rest.stderr).toBe(0);
    expect(whole.code, whole.stderr).toBe(0);
    const [a, b] = [summaryOf(whole.stdout), summaryOf(rest.stdout)];
    expect(b.w).toBe(a.w);
    expect(b.b).toBe(a.b);
    expect(b.steps).toBe(100000);
  });

  it.concurrent.each([
    ['a missing config', ['train', 'nope.json'], 1, /^simdgrad train: no such file \(nope\.json\)$/],
    ['a missing model file', ['eval', 'nope.safetensors', 'iris'], 1, /^simdgrad eval: no such file \(nope\.safetensors\)$/],
    ['a malformed model file', ['eval', 'broken.json', 'iris'], 1, /^simdgrad eval: broken\.json: not a valid safetensors file/],
    ['a malformed config', ['train', 'broken.json'], 1, /^simdgrad train: broken\.json: not valid JSON/],
    ['a non-numeric CSV cell', ['train', 'bad-cell.json'], 1, /^simdgrad train: .*bad-cell\.csv: row 3, column "b": "x" is not a number$/],
    ['a label out of range', ['train', 'label-range.json'], 1, /^simdgrad train: data: label 3 \(.*labels\.csv, row 4\) is out of range for a model with 3 classes/],
    ['a layer that does not fit the data', ['train', 'shape.json'], 1, /^simdgrad train: model: layer 0 \(linear\): "in" is 5 but its input has 2 features/],
    ['predict input of the wrong width', ['predict', 'iris/model.safetensors', '1,2,3'], 1, /^simdgrad predict: the row "1,2,3" has 3 values but the model takes 4 features$/],
    ['eval data of the wrong width', ['eval', 'iris/model.safetensors', 'digits'], 1, /^simdgrad eval: digits has 64 values per sample but the model takes 4 features/],
    ['eval CSV data of the wrong width', ['eval', 'digits/model.safetensors', 'labels.csv'], 1, /^simdgrad eval: labels\.csv has 2 values per sample but the model takes 64 features$/],
    ['an image for a table model', ['predict', 'iris/model.safetensors', 'boot.png'], 1, /^simdgrad predict: boot\.png is an image but the model takes 4 features/],
    ['an unknown recipe', ['train', 'resnet'], 2, /^simdgrad train: unknown recipe "resnet" \(recipes: linreg, digits-mlp, iris, fashion-mlp, fashion-cnn, spoken-digits, charlm, translate; or a path to a JSON config\)$/],
    ['an unknown option', ['train', 'iris', '--bogus'], 2, /^simdgrad train: unknown option '--bogus' \(help: simdgrad train --help\)$/],
    ['a bad option value', ['train', 'iris', '--epochs', 'many'], 2, /^simdgrad train: option '--epochs <n>' argument 'many' is invalid/],
    ['an unknown command', ['fly'], 2, /^simdgrad: unknown command 'fly'/],
    ['an unknown optimizer', ['train', 'iris', '--optimizer', 'lbfgs'], 2, /^simdgrad train: unknown optimizer "lbfgs"/],
    ['resuming from a model file', ['train', '--resume', 'iris/model.safetensors'], 1, /^simdgrad train: iris\/model\.safetensors: not a training checkpoint/],
  ])('rejects %s with one clear line', async (_name, args, code, message) => {
    const r = await run(...(args as string[]));
    expect(r.code, r.stderr).toBe(code);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('labels out of range in eval data are named', async () => {
    writeFileSync(join(dir, 'iris-bad.csv'), 'a,b,c,d,label\n5.1,3.5,1.4,0.2,0\n6.9,3.1,5.4,2.1,7\n');
    const r = await run('eval', 'iris/model.safetensors', 'iris-bad.csv');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^simdgrad eval: label 7 \(iris-bad\.csv, row 3\) is out of range for a model with 3 classes \(0…2\)$/);
  });

  it('shows the stack only with --verbose, and bad input never overwrites a good checkpoint', async () => {
    const v = await run('train', 'bad-cell.json', '--verbose');
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/\n\s+at /);
    const before = readFileSync(join(dir, 'digits/checkpoint.safetensors'));
    const runs = await Promise.all([
      ...['bad-cell.json', 'label-range.json', 'shape.json'].map((bad) => run('train', bad, '--out', 'digits')),
      run('train', '--resume', 'broken.json', '--out', 'digits'),
    ]);
    for (const r of runs) expect(r.code).toBe(1);
    expect(readFileSync(join(dir, 'digits/checkpoint.safetensors')).equals(before)).toBe(true);
  });

  it('draws sane SVG plots and decodes PNGs', async () => {
    const { linePlot, niceTicks } = await import(join(ROOT, 'apps/cli/dist/plot.js')) as typeof import('../src/plot.js');
    const svg = linePlot({ title: 'a < b', xLabel: 'lr', yLabel: 'loss', logX: true, series: [{ name: 'loss', points: [[1e-4, 2], [1e-3, 1.5], [1e-2, 1], [1e-1, NaN], [1, 3]] }] });
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg).toContain('a &lt; b');
    const [, w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg)!.map(Number);
    const points = /points="([^"]+)"/.exec(svg)![1]!.split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(4); // the NaN point is skipped
    for (const [x, y] of points) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(w!);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(h!);
    }
    // log axis: equal ratios are equal distances, larger x is further right
    expect(points[1]![0]! - points[0]![0]!).toBeCloseTo(points[2]![0]! - points[1]![0]!, 0);
    expect(points[3]![0]!).toBeGreaterThan(points[2]![0]!);
    // higher loss is higher up (smaller y)
    expect(points[3]![1]!).toBeLessThan(points[0]![1]!);
    for (const t of ['1e-4', '1e-3', '1e-2', '1e-1', '1e0']) expect(svg).toContain(`>${t}<`);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6000000000000001, 0.8, 1]);

    const { encodeGrayPng, decodePng, resizeGray } = await import(join(ROOT, 'apps/cli/dist/png.js')) as typeof import('../src/png.js');
    const pixels = Array.from({ length: 12 }, (_, i) => i * 20);
    const img = decodePng(encodeGrayPng(4, 3, pixels));
    expect([img.width, img.height]).toEqual([4, 3]);
    expect(Array.from(img.pixels)).toEqual(pixels);
    expect(Array.from(resizeGray(img, 2, 1).pixels)).toEqual([(0 + 20 + 80 + 100 + 160 + 180) / 6, (40 + 60 + 120 + 140 + 200 + 220) / 6]);
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png')).toThrow(/not a PNG/);
  });
});
