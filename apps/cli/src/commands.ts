// The commands besides train: eval, predict, export, lr-find, bench, datasets.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { audio, data, explain, Generator, io, manualSeed, nn, noGrad, optim, randn, scope, SimdgradError, tensor, zeros, type Tensor } from '@simdgrad/core';
import { DEFAULT_OPSET, exportModel } from '@simdgrad/core/onnx';
import * as bundled from '@simdgrad/core/datasets';
import { fashionMnist, fsddDirs, saveFile } from '@simdgrad/core/node';
import {
  applyStandardize, BUILTIN, checkLabels, FASHION_CACHE, fashionLocations, readCsv, readFsdd, readIdxPair, split, spokenDigitSamples, type Samples,
} from './datasets.js';
import { CliError, EXIT } from './errors.js';
import { exportLm, lmBench, lmBenchLines, lmKind, loadLm, sampleCommand, translateSentences } from './lm.js';
import { loadModel, modelMetadata, readSafetensors, type ModelInfo } from './model-file.js';
import { Output, table } from './output.js';
import { linePlot } from './plot.js';
import { decodePng, isPng, resizeGray } from './png.js';
import { evaluate, lossOf, prepareRun } from './run.js';
import { resolveConfig, type TrainOptions } from './train.js';

const show = (p: string) => relative(process.cwd(), p) || p;
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Checks the feature count, standardises and reshapes raw samples for the model. */
function toModelInput(x: Tensor, info: ModelInfo, command: string, source: string): Tensor {
  const want = prod(info.inputShape);
  const got = x.shape[1]!;
  if (got !== want) {
    const what = info.image ? `${info.image.height}×${info.image.width} images (${want} values)` : `${want} features${info.featureNames.length === want && want <= 12 ? ` (${info.featureNames.join(', ')})` : ''}`;
    throw new CliError(`${command}: ${source} has ${got} values per sample but the model takes ${what}`);
  }
  return applyStandardize(x, info.preprocessing).reshape([-1, ...info.inputShape]);
}

/** Evaluation data named on the command line: a built-in set, a CSV file or an IDX pair prefix. */
async function evalData(spec: string, info: ModelInfo, labelColumn: string | number | undefined, limit?: number): Promise<Samples & { about: string }> {
  if (info.audio !== null) {
    // audio models: FSDD's test split, or a folder of {digit}_{speaker}_{take}.wav files (the digit is the label)
    const isDir = existsSync(spec) && statSync(spec).isDirectory();
    if (spec !== 'fsdd' && !isDir) throw new CliError(`eval: ${info.name} is an audio model: give a folder of {digit}_{name}_{n}.wav files or fsdd (its test split), not ${spec}`);
    const { recordings, dir } = await readFsdd(isDir ? 'all' : 'test', isDir ? spec : undefined);
    const recs = recordings.slice(0, limit);
    return { ...spokenDigitSamples(recs, dir), about: `${isDir ? spec : `fsdd test split (${dir})`}: ${recs.length} recordings` };
  }
  if (BUILTIN[spec] !== undefined && !(existsSync(spec) && statSync(spec).isFile())) {
    if (spec === 'fashion-mnist') {
      const t = await fashionMnist({ split: 'test', limit }).catch((e: Error) => { throw new CliError(e.message.replace(/^fashionMnist: /, 'fashion-mnist: ')); });
      return { x: t.x, y: t.y, source: 'fashion-mnist', about: `fashion-mnist test split from ${t.dir}` };
    }
    const b = BUILTIN[spec]!;
    if (b.task !== info.task) throw new CliError(`eval: ${spec} is a ${b.task} data set but the model does ${info.task}`);
    const d = b.load!();
    const all: Samples = { x: d.x, y: b.task === 'regression' ? d.y.reshape([-1, 1]) : d.y, source: spec };
    if (info.data.dataset === spec && info.data.testFraction !== undefined && info.data.testFraction > 0) {
      const [, test] = split(all, info.data.testFraction, info.data.seed);
      return { ...test!, about: `${spec}: the held-out test split of training (seed ${info.data.seed})` };
    }
    return { ...all, about: `${spec}: all ${all.x.shape[0]} samples` };
  }
  if (existsSync(spec) && statSync(spec).isFile() && !/-ubyte(\.gz)?$/.test(spec)) {
    const column = labelColumn ?? info.data.labelColumn ?? -1;
    const s = readCsv(spec, column, info.task, info.classNames);
    return { ...s, about: `${spec}: ${s.x.shape[0]} rows` };
  }
  const idxImages = [`${spec}-images-idx3-ubyte`, `${spec}-images-idx3-ubyte.gz`].some((p) => existsSync(p));
  if (idxImages) {
    const s = readIdxPair(spec, info.preprocessing.scale ?? 1 / 255, limit);
    return { ...s, about: `IDX ${spec}: ${s.x.shape[0]} images` };
  }
  throw new CliError(`eval: no such file or data set (${spec}) (help: a CSV file, an IDX prefix like dir/t10k, or one of ${Object.keys(BUILTIN).join(', ')})`);
}

export async function evalCommand(modelPath: string, dataSpec: string, o: { labelColumn?: string; limit?: number; batchSize?: number }, out: Output): Promise<number> {
  const { model, info } = loadModel(modelPath);
  const labelColumn = o.labelColumn === undefined ? undefined : /^-?\d+$/.test(o.labelColumn) ? Number(o.labelColumn) : o.labelColumn;
  const s = await evalData(dataSpec, info, labelColumn, o.limit);
  const classes = info.classNames?.length ?? 1;
  const x = toModelInput(s.x, info, 'eval', s.source);
  if (info.task === 'classification') checkLabels(s, classes, 'eval');
  const r = evaluate(model, { x, y: s.y }, info.task, classes, o.batchSize ?? 500);
  const result: Record<string, unknown> = { samples: r.samples, loss: r.loss };
  if (info.task === 'classification') Object.assign(result, { accuracy: r.accuracy, classNames: info.classNames, confusionMatrix: r.confusion });
  out.json(result);
  out.log(`${info.name} on ${s.about}`);
  out.log(`loss ${r.loss.toFixed(4)}${r.accuracy !== undefined ? `  accuracy ${(100 * r.accuracy).toFixed(2)}%` : ''}  (${r.samples} samples)`);
  if (r.confusion !== undefined) {
    const names = info.classNames!;
    out.log();
    out.log('confusion matrix (rows: true class, columns: predicted class):');
    const rows = table(['', ...names.map((_, i) => String(i))], r.confusion.map((row, i) => [String(i), ...row.map(String)]));
    rows.forEach((line, i) => out.log(i === 0 || names[i - 1] === String(i - 1) ? line : `${line}  ${names[i - 1]}`));
  }
  return 0;
}

/** Inputs for predict: PNG images, a CSV file, or a literal CSV row ("5.1,3.5,1.4,0.2"). */
function predictInputs(inputs: string[], info: ModelInfo, command = 'predict'): { x: Tensor; names: string[] } {
  const rows: number[][] = [];
  const names: string[] = [];
  const want = prod(info.inputShape);
  for (const input of inputs) {
    if (existsSync(input) && statSync(input).isFile()) {
      const bytes = readFileSync(input);
      if (isWav(bytes) || info.audio !== null) {
        rows.push(Array.from(wavFeatures(bytes, input, info, command)));
        names.push(input);
        continue;
      }
      if (isPng(bytes)) {
        if (info.image === null) throw new CliError(`predict: ${input} is an image but the model takes ${want} features, not images`);
        if (info.image.channels !== 1) throw new CliError(`predict: the model takes ${info.image.channels}-channel images; only grayscale is supported`);
        const img = resizeGray(decodePng(bytes, input), info.image.width, info.image.height);
        const scale = info.preprocessing.scale ?? 1 / 255;
        rows.push(Array.from(img.pixels, (v) => v * scale));
        names.push(input);
        continue;
      }
      // a label column (as in training, else the last) is dropped when the file has one column too many
      const text = bytes.toString('utf8');
      const lc = info.data.labelColumn ?? -1;
      const parse = (labelColumn?: string | number) => {
        try {
          return data.parseCsv(text, labelColumn === undefined ? {} : { labelColumn });
        } catch (e) {
          throw new CliError(`${input}: ${(e as Error).message.replace(/^parseCsv: /, '')}`);
        }
      };
      let csv: data.CsvData;
      try {
        csv = parse();
      } catch (e) {
        try {
          csv = parse(lc);
        } catch {
          throw e;
        }
      }
      if (csv.labels === null && csv.cols === want + 1) {
        csv = typeof lc === 'string' && !csv.columnNames.includes(lc) ? parse(-1) : parse(lc);
      }
      if (csv.cols !== want) throw new CliError(`predict: ${input} has ${csv.cols} feature columns but the model takes ${want} features`);
      const drop = -1;
      for (let r = 0; r < csv.rows; r++) {
        rows.push(Array.from(csv.features.subarray(r * csv.cols, (r + 1) * csv.cols)).filter((_, c) => c !== drop));
        names.push(`${input}:${r + 1}`);
      }
      continue;
    }
    if (/^[\s\d.,eE+\-naNinfINF;]+$/.test(input) && /\d/.test(input)) {
      let csv: data.CsvData;
      try {
        csv = data.parseCsv(input, { header: false });
      } catch (e) {
        throw new CliError(`predict: the row "${input}" is not a CSV row of numbers (${(e as Error).message.replace(/^parseCsv: /, '')})`);
      }
      if (csv.cols !== want) throw new CliError(`predict: the row "${input}" has ${csv.cols} values but the model takes ${want} features`);
      for (let r = 0; r < csv.rows; r++) rows.push(Array.from(csv.features.subarray(r * csv.cols, (r + 1) * csv.cols)));
      names.push(input.length <= 40 ? input : `${input.slice(0, 30)}…`);
      continue;
    }
    throw new CliError(`${command}: no such file (${input}) (help: ${info.audio !== null ? 'a .wav file' : 'a CSV file, a PNG image, or a quoted row like "5.1,3.5,1.4,0.2"'})`);
  }
  if (rows.length === 0) throw new CliError(`${command}: no input rows`);
  return { x: tensor(Float32Array.from(rows.flat()), { shape: [rows.length, want] }), names };
}

const isWav = (b: Uint8Array) => b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WAVE';

/** A WAV file → the audio model's features (flattened), as in training. */
function wavFeatures(bytes: Uint8Array, path: string, info: ModelInfo, command: string): Float32Array {
  if (info.audio === null) throw new CliError(`${command}: ${path} is a WAV file but ${info.name} takes ${info.image ? 'images' : `${prod(info.inputShape)} features`}, not audio`);
  if (!isWav(bytes)) throw new CliError(`${command}: ${path} is not a WAV file (RIFF/WAVE) and ${info.name} is an audio model (help: give a .wav recording)`);
  if (info.audio.features !== 'spoken-digits') throw new CliError(`${command}: ${path}: unknown audio features "${info.audio.features}" in the model file`);
  let wav: audio.WavData;
  try {
    wav = audio.readWav(bytes);
  } catch (e) {
    throw new CliError(`${command}: ${path}: ${(e as Error).message.replace(/^readWav: /, '')}`);
  }
  if (wav.samples.length === 0) throw new CliError(`${command}: ${path}: the WAV file has no samples`);
  const x = audio.spokenDigitFeatures([audio.prepareSpokenDigit(wav.samples, wav.sampleRate)]);
  const v = x.toFloat32Array();
  x.dispose();
  return v;
}

export function predictCommand(modelPath: string, inputs: string[], o: { top?: number }, out: Output): number {
  // language models: translate each input, or continue each as a prompt
  const file = readSafetensors(modelPath);
  const kind = lmKind(file.metadata);
  if (kind === 'translate') return translateSentences(modelPath, inputs, {}, out, 'predict', loadLm(modelPath, 'predict', kind, file));
  if (kind === 'charlm') {
    const lm = loadLm(modelPath, 'predict', kind, file);
    for (const prompt of inputs) sampleCommand(modelPath, { prompt, tokens: 200 }, out, 'predict', lm);
    return 0;
  }
  const { model, info } = loadModel(modelPath, file);
  const { x: raw, names } = predictInputs(inputs, info);
  const x = applyStandardize(raw, info.preprocessing).reshape([-1, ...info.inputShape]);
  const result = noGrad(() => scope(() => {
    const y = model.forward(x);
    return info.task === 'classification' ? y.softmax(1).toFloat32Array() : y.toFloat32Array();
  }));
  const n = raw.shape[0]!;
  for (let i = 0; i < n; i++) {
    if (info.task === 'classification') {
      const k = info.classNames!.length;
      const probs = Array.from(result.subarray(i * k, (i + 1) * k));
      const best = probs.indexOf(Math.max(...probs));
      out.json({ label: info.classNames![best], index: best, probabilities: probs });
      const top = probs.map((p, c) => [p, c] as const).sort((a, b) => b[0] - a[0]).slice(0, o.top ?? 3);
      out.log(`${names[i] ?? `row ${i + 1}`}: ${info.classNames![best]} (${(100 * probs[best]!).toFixed(1)}%)   top: ${top.map(([p, c]) => `${info.classNames![c]} ${(100 * p).toFixed(1)}%`).join(', ')}`);
    } else {
      const v = result[i]!;
      out.json({ prediction: v });
      out.log(`${names[i] ?? `row ${i + 1}`}: ${v.toFixed(4)}`);
    }
  }
  return 0;
}

export async function exportCommand(modelPath: string, o: { format: string; out?: string }, out: Output, producer: string): Promise<number> {
  const format = o.format.toLowerCase();
  const file = readSafetensors(modelPath);
  if ((format === 'onnx' || format === 'safetensors') && lmKind(file.metadata) !== null) {
    if (o.out === undefined) throw new CliError('export: --out FILE is required', EXIT.usage);
    await exportLm(modelPath, file, format, resolve(o.out), out, producer);
    return 0;
  }
  if (format === 'onnx') {
    if (o.out === undefined) throw new CliError('export: --out FILE is required', EXIT.usage);
    const { model, info } = loadModel(modelPath, file);
    const sample = zeros([1, ...info.inputShape]);
    let bytes: Uint8Array;
    try {
      bytes = exportModel(model, sample, { metadata: modelMetadata(info, producer), graphName: info.name });
    } catch (e) {
      if (e instanceof SimdgradError) throw new CliError(`export: ${e.message.replace(/^exportModel: /, '')}`);
      throw e;
    } finally {
      sample.dispose();
    }
    const target = resolve(o.out);
    await saveFile(target, bytes);
    const outputs = info.task === 'classification' ? info.classNames!.length : 1;
    const pre = info.audio !== null ? 'log-mel features of the WAV (as in training)' : [info.preprocessing.scale !== undefined ? `pixels × ${Number.isInteger(1 / info.preprocessing.scale) ? `1/${1 / info.preprocessing.scale}` : info.preprocessing.scale}` : '', info.preprocessing.mean ? 'standardised with the mean/std in the metadata' : ''].filter(Boolean).join(', ');
    out.json({ format, path: target, bytes: bytes.length, opset: DEFAULT_OPSET, input: { name: 'input', shape: ['batch', ...info.inputShape] }, output: { name: 'output', shape: ['batch', outputs] } });
    out.log(`wrote ${show(target)} (ONNX opset ${DEFAULT_OPSET}, ${bytes.length} bytes): input "input" [batch, ${info.inputShape.join(', ')}] → output "output" [batch, ${outputs}]${info.task === 'classification' ? ' (logits)' : ''}`);
    if (pre !== '') out.log(`inputs are as the model saw them in training: ${pre}; the model file's metadata is in the ONNX metadata_props`);
    return 0;
  }
  if (format !== 'safetensors') throw new CliError(`export: unknown --format "${o.format}" (formats: safetensors, onnx)`, EXIT.usage);
  if (o.out === undefined) throw new CliError('export: --out FILE is required', EXIT.usage);
  const { model, info } = loadModel(modelPath, file);
  const target = resolve(o.out);
  await saveFile(target, io.save(model.stateDict(), modelMetadata(info, producer)));
  const keys = Object.entries(model.stateDict()).map(([k, t]) => `${k} [${t.shape.join(', ')}]`);
  out.json({ format, path: target, tensors: Object.keys(model.stateDict()) });
  out.log(`wrote ${show(target)} (safetensors, PyTorch key names): ${keys.join(', ')}`);
  return 0;
}

export async function lrFindCommand(target: string | undefined, o: TrainOptions & { startLr?: number; endLr?: number; numIter?: number }, out: Output): Promise<number> {
  const config = resolveConfig(target, o, 'lr-find');
  const run = await prepareRun(config);
  const { train: tr } = run;
  const bs = config.batchSize;
  let epoch = 0, step = 0;
  let order = data.permutation(tr.n, new Generator(config.seed * 1_000_003 + 1));
  run.model.train();
  const res = optim.findLr({
    optimizer: run.optimizer, startLr: o.startLr ?? 1e-6, endLr: o.endLr ?? 10, numIter: o.numIter ?? 100,
    step: () => {
      if (step * bs >= tr.n) {
        epoch++;
        step = 0;
        order = data.permutation(tr.n, new Generator(config.seed * 1_000_003 + epoch + 1));
      }
      const start = step++ * bs;
      const len = Math.min(bs, tr.n - start);
      return scope(() => {
        const idx = tensor(order.subarray(start, start + len), { dtype: 'int32' });
        run.optimizer.zeroGrad();
        const l = lossOf(config.task, run.model.forward(tr.x.indexSelect(0, idx)), tr.y.indexSelect(0, idx));
        l.backward();
        run.optimizer.step();
        return l.item();
      });
    },
  });
  const outDir = resolve(o.out ?? join('runs', config.name));
  mkdirSync(outDir, { recursive: true });
  const plotPath = join(outDir, 'lr-find.svg');
  writeFileSync(plotPath, linePlot({
    title: `${config.name}: LR range test (${config.optimizer.type})`, xLabel: 'learning rate (log scale)', yLabel: 'smoothed loss', logX: true,
    series: [{ name: 'loss', points: res.lrs.map((lr, i) => [lr, res.losses[i]!]) }],
    markerX: { x: res.suggestedLr, label: `suggested ${res.suggestedLr.toExponential(2)}` },
  }));
  out.json({ suggestedLr: res.suggestedLr, lrs: res.lrs, losses: res.losses, plotPath });
  out.log(`${config.name}: ${res.lrs.length} steps from lr ${res.lrs[0]!.toExponential(1)} to ${res.lrs[res.lrs.length - 1]!.toExponential(1)}${res.lrs.length < (o.numIter ?? 100) ? ' (stopped: the loss diverged)' : ''}`);
  out.log(`suggested learning rate: ${res.suggestedLr.toExponential(2)}  (train with --lr ${Number(res.suggestedLr.toPrecision(2))})`);
  out.log(`plot: ${show(plotPath)}`);
  return 0;
}

function timeIt(fn: () => void, minSeconds: number): number {
  fn();
  let reps = 0;
  const t0 = performance.now();
  do {
    fn();
    reps++;
  } while (performance.now() - t0 < minSeconds * 1000 || reps < 2);
  return (performance.now() - t0) / 1000 / reps;
}

export async function benchCommand(o: { sizes?: string; quick?: boolean }, out: Output): Promise<number> {
  const sizes = (o.sizes ?? (o.quick ? '64,128,256' : '128,256,512')).split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 4096)) throw new CliError(`bench: --sizes must be integers in 1…4096, comma-separated (got "${o.sizes}")`, EXIT.usage);
  const minSeconds = o.quick ? 0.1 : 0.5;
  const gemm: { n: number; ms: number; gflops: number }[] = [];
  out.log('GEMM (f32 matmul, simdgrad wasm SIMD):');
  for (const n of sizes) {
    const [a, b] = [randn([n, n]), randn([n, n])];
    const secs = timeIt(() => scope(() => { a.matmul(b); }), minSeconds);
    a.dispose();
    b.dispose();
    const r = { n, ms: secs * 1000, gflops: (2 * n ** 3) / secs / 1e9 };
    gemm.push(r);
    out.log(`  ${String(n).padStart(4)}×${n}×${n}: ${r.ms.toFixed(2).padStart(8)} ms  ${r.gflops.toFixed(2).padStart(7)} GFLOPS`);
  }
  // training throughput: the digits MLP, one Adam step per batch of 64
  const d = bundled.digits();
  const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const xb = d.x.narrow(0, 0, 64).contiguous(), yb = d.y.narrow(0, 0, 64).contiguous();
  const mlpStep = timeIt(() => scope(() => {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(xb), yb).backward();
    opt.step();
  }), minSeconds);
  const training = { model: 'mlp 64-128-64-10, batch 64, Adam', samplesPerSec: 64 / mlpStep };
  out.log(`training: ${training.model}: ${Math.round(training.samplesPerSec)} samples/s`);
  // language models: training and generation tokens/s (see lm.ts)
  const languageModel = lmBench(o.quick === true);
  out.log();
  for (const line of lmBenchLines(languageModel)) out.log(line);
  out.log(`  (medians per token; with the KV cache a token costs about the same early and late${o.quick ? '; --quick: one short run each, rough' : ''})`);
  let peers = 'none installed';
  try {
    // peers are optional: resolve them only if the user has installed them next to the CLI
    await import(['@tensorflow', 'tfjs-core'].join('/'));
    peers = 'tfjs-core found (help: pnpm bench runs the full comparison in apps/bench)';
  } catch {
    peers = 'none installed (help: pnpm bench compares with tfjs-backend-wasm)';
  }
  out.log(`peers: ${peers}`);
  out.json({ gemm, training, languageModel, peers });
  return 0;
}

export async function datasetsCommand(out: Output): Promise<number> {
  const fm = fashionLocations();
  const list = [
    ...Object.entries(BUILTIN).filter(([n]) => n !== 'fashion-mnist' && n !== 'fsdd').map(([name, b]) => ({ name, task: b.task, available: true, location: 'bundled', about: b.about })),
    {
      name: 'fashion-mnist', task: 'classification', available: fm.train !== null || fm.test !== null,
      location: fm.train ?? fm.test ?? null, train: fm.train, test: fm.test, about: BUILTIN['fashion-mnist']!.about,
    },
    (() => {
      const dir = fsddDirs().find((d) => existsSync(d) && readdirSync(d).some((f) => /^\d_[A-Za-z]+_\d+\.wav$/.test(f))) ?? null;
      return { name: 'fsdd', task: 'classification', available: dir !== null, location: dir, about: BUILTIN.fsdd!.about };
    })(),
  ];
  out.json({ datasets: list, searched: fm.searched, cache: FASHION_CACHE });
  for (const d of list) out.log(`${d.name.padEnd(15)}${d.task.padEnd(16)}${d.location ?? 'not found'}  — ${d.about}`);
  if (fm.train === null) {
    out.log();
    out.log(`fashion-mnist train split: not found (searched ${fm.searched.join(', ')})`);
    out.log('  get it: simdgrad datasets fetch fashion-mnist   (or apt-get install -y dataset-fashion-mnist)');
  } else if (fm.test !== null) {
    out.log();
    out.log(`fashion-mnist: train ${fm.train}, test ${fm.test}`);
  }
  return 0;
}

const FASHION_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com';
const FASHION_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

export async function fetchCommand(name: string, out: Output): Promise<number> {
  if (name !== 'fashion-mnist') throw new CliError(`datasets fetch: unknown data set "${name}" (fetchable: fashion-mnist; the others are bundled)`, EXIT.usage);
  mkdirSync(FASHION_CACHE, { recursive: true });
  for (const file of FASHION_FILES) {
    const target = join(FASHION_CACHE, file);
    if (existsSync(target)) {
      out.log(`${file}: already in ${show(FASHION_CACHE)}`);
      continue;
    }
    const url = `${FASHION_URL}/${file}`;
    out.log(`downloading ${url}`);
    let bytes: Uint8Array;
    try {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw new CliError(`datasets fetch: could not download ${url} (${(e as Error).message}) (help: check the network, or apt-get install -y dataset-fashion-mnist)`);
    }
    try {
      data.parseIdx(await data.gunzip(bytes));
    } catch (e) {
      throw new CliError(`datasets fetch: ${url} is not a gzipped IDX file (${(e as Error).message}); nothing was saved`);
    }
    await saveFile(target, bytes);
  }
  out.json({ name, dir: FASHION_CACHE, files: FASHION_FILES });
  out.log(`fashion-mnist is in ${FASHION_CACHE}`);
  return 0;
}

export const EXPLAIN_METHODS = ['saliency', 'ig', 'smoothgrad', 'gradcam'] as const;

/** Values rescaled to [0, 1] (for drawing a standardised input under a map). */
function unit(v: Float32Array): Float32Array {
  let lo = Infinity, hi = -Infinity;
  for (const x of v) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
  return v.map((x) => (hi > lo ? (x - lo) / (hi - lo) : 0));
}

/** `simdgrad explain`: an attribution map of one input as a PNG heat map. */
export async function explainCommand(
  modelPath: string, input: string,
  o: { method: string; out?: string; target?: number; steps?: number },
  out: Output,
): Promise<number> {
  const method = o.method.toLowerCase();
  if (!(EXPLAIN_METHODS as readonly string[]).includes(method)) throw new CliError(`explain: unknown --method "${o.method}" (methods: ${EXPLAIN_METHODS.join(', ')})`, EXIT.usage);
  if (o.out === undefined) throw new CliError('explain: --out FILE.png is required', EXIT.usage);
  const { model, info } = loadModel(modelPath);
  const { x: raw, names } = predictInputs([input], info, 'explain');
  if (raw.shape[0]! > 1) out.note(`explain: ${input} has ${raw.shape[0]} rows; explaining the first (${names[0]})`);
  const row = noGrad(() => scope(() => raw.narrow(0, 0, 1).contiguous()));
  const x = applyStandardize(row, info.preprocessing).reshape([1, ...info.inputShape]);
  const classification = info.task === 'classification';
  const classes = classification ? info.classNames!.length : 1;
  const probs = noGrad(() => scope(() => {
    const y = model.forward(x);
    return classification ? y.softmax(1).toFloat32Array() : y.toFloat32Array();
  }));
  const predicted = classification ? probs.indexOf(Math.max(...probs)) : 0;
  const target = o.target ?? predicted;
  if (target >= classes) throw new CliError(`explain: --target ${target} is out of range (the model has ${classes} output${classes > 1 ? 's' : ''}: 0…${classes - 1})`, EXIT.usage);

  // the map's grid: the image (or spectrogram), a square of features (8×8 digits), else one row
  const f = prod(info.inputShape);
  const [h, w] = info.inputShape.length === 3 ? [info.inputShape[1]!, info.inputShape[2]!]
    : f >= 16 && Number.isInteger(Math.sqrt(f)) ? [Math.sqrt(f), Math.sqrt(f)] : [1, f];
  let values: Float32Array;
  let completeness: { sum: number; outputDifference: number; delta: number; relativeError: number } | null = null;
  manualSeed(0); // SmoothGrad's noise
  try {
    if (method === 'gradcam') {
      const convs = info.architecture.flatMap((l, i) => (l.type === 'conv2d' ? [i] : []));
      if (convs.length === 0) throw new CliError(`explain: --method gradcam needs a conv net, and ${info.name} has no conv2d layer (help: --method saliency, ig or smoothgrad)`, EXIT.usage);
      const cam = explain.gradCam(model, model[convs[convs.length - 1]!]!, x, target);
      values = cam.toFloat32Array();
      cam.dispose();
    } else if (method === 'ig') {
      const r = explain.integratedGradients(model, x, target, { steps: o.steps ?? 50 });
      values = r.attributions.toFloat32Array();
      r.attributions.dispose();
      const sum = values.reduce((a, b) => a + b, 0);
      completeness = { sum, outputDifference: r.outputDifference[0]!, delta: r.delta[0]!, relativeError: r.relativeError };
    } else {
      const map = method === 'saliency' ? explain.saliency(model, x, target) : explain.smoothGrad(model, x, target, { samples: o.steps ?? 25 });
      values = map.toFloat32Array();
      map.dispose();
    }
  } catch (e) {
    if (e instanceof SimdgradError) throw new CliError(`explain: ${e.message}`);
    throw e;
  }
  // [C, H, W] attributions → one plane (channels summed)
  if (values.length !== h * w) {
    const plane = new Float32Array(h * w);
    for (let i = 0; i < values.length; i++) plane[i % plane.length]! += values[i]!;
    values = plane;
  }
  // the input under the map: pixels as they are, other inputs rescaled to [0, 1]
  const under = h > 1 ? (info.image !== null && info.audio === null ? row.toFloat32Array().subarray(0, h * w) : unit(row.toFloat32Array().subarray(0, h * w))) : undefined;
  const scale = Math.max(1, Math.floor(320 / Math.max(h, w)));
  const png = explain.heatmapPng(values, { width: w, height: h, image: under, scale, colormap: method === 'ig' ? 'diverging' : 'heat' });
  const target_ = resolve(o.out);
  await saveFile(target_, png);
  const label = classification ? info.classNames![target]! : 'output';
  out.json({
    method, input, target, label, predicted: classification ? info.classNames![predicted] : probs[0], probability: classification ? probs[target] : undefined,
    out: target_, width: w * scale, height: h * scale, mapWidth: w, mapHeight: h, ...(completeness !== null ? { completeness } : {}),
  });
  out.log(`${input}: ${classification ? `predicted ${info.classNames![predicted]} (${(100 * probs[predicted]!).toFixed(1)}%); explaining class ${label} (${(100 * probs[target]!).toFixed(1)}%)` : `prediction ${probs[0]!.toFixed(4)}`}`);
  if (completeness !== null) {
    out.log(`integrated gradients: Σ attributions ${completeness.sum.toFixed(5)}, F(x) − F(baseline 0) ${completeness.outputDifference.toFixed(5)}: completeness error ${completeness.delta.toExponential(2)} (relative ${(100 * completeness.relativeError).toFixed(3)}%${completeness.relativeError > 0.05 ? '; raise --steps' : ''})`);
  }
  out.log(`wrote ${show(target_)} (${method} map ${w}×${h}, drawn at ${w * scale}×${h * scale})`);
  return 0;
}
