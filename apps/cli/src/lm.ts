// Language models from the terminal: the `charlm` and `translate` recipes of `simdgrad train` (time- or
// step-budgeted loops with a warm-up + cosine learning rate, AdamW, gradient clipping), `simdgrad
// sample` and `simdgrad translate` on the model files they write, and the language-model rows of
// `simdgrad bench`. The model files are those of examples/charlm.mjs and examples/translate.mjs:
// safetensors whose __metadata__ holds the architecture, its config and the vocabularies.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendInfo, Generator, io, manualSeed, nn, noGrad, optim, scope, SimdgradError, tensor, text, type Tensor } from '@simdgrad/core';
import { DEFAULT_OPSET, exportModel } from '@simdgrad/core/onnx';
import { saveFile } from '@simdgrad/core/node';
import { CliError, EXIT } from './errors.js';
import { readSafetensors } from './model-file.js';
import type { Output } from './output.js';
import { linePlot } from './plot.js';

const show = (p: string) => {
  const r = relative(process.cwd(), p);
  return r === '' || r.startsWith('..') ? resolve(p) : r;
};
const count = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : String(n));

/** The language-model recipes of `simdgrad train`, with the time budget that reaches their targets. */
export const LM_RECIPES: Record<string, { about: string; minutes: number }> = {
  charlm: { about: 'a character GPT (4 layers × 4 heads × 128, context 64) on Tiny Shakespeare: val loss in nats/char; then `simdgrad sample`', minutes: 18 },
  translate: { about: 'a transformer encoder–decoder English→French (data/fra-eng): BLEU on the held-out 10%; then `simdgrad translate`', minutes: 15 },
};

export interface LmTrainOptions {
  minutes?: number;
  steps?: number;
  layers?: number;
  heads?: number;
  width?: number;
  context?: number;
  ff?: number;
  dropout?: number;
  batchSize?: number;
  lr?: number;
  warmup?: number;
  evalEvery?: number;
  data?: string;
  seed?: number;
  out?: string;
  beam?: number;
  beamSentences?: number;
  evalSentences?: number;
  minCount?: number;
  /** Test hook: behave as if Ctrl-C came after this many steps. */
  stopAfterSteps?: number;
}

/** Flags that only the language-model recipes take, by option key, and which of them take each. */
export const LM_FLAGS: Record<string, { flag: string; recipes: string[] }> = {
  minutes: { flag: '--minutes', recipes: ['charlm', 'translate'] },
  steps: { flag: '--steps', recipes: ['charlm', 'translate'] },
  layers: { flag: '--layers', recipes: ['charlm', 'translate'] },
  heads: { flag: '--heads', recipes: ['charlm', 'translate'] },
  width: { flag: '--width', recipes: ['charlm', 'translate'] },
  dropout: { flag: '--dropout', recipes: ['charlm', 'translate'] },
  warmup: { flag: '--warmup', recipes: ['charlm', 'translate'] },
  data: { flag: '--data', recipes: ['charlm', 'translate'] },
  context: { flag: '--context', recipes: ['charlm'] },
  evalEvery: { flag: '--eval-every', recipes: ['charlm'] },
  ff: { flag: '--ff', recipes: ['translate'] },
  beam: { flag: '--beam', recipes: ['translate'] },
  beamSentences: { flag: '--beam-sentences', recipes: ['translate'] },
  evalSentences: { flag: '--eval-sentences', recipes: ['translate'] },
  minCount: { flag: '--min-count', recipes: ['translate'] },
};

/** Where the bundled corpora are: the repository's data/ (beside apps/), else /work/shared/data. */
function dataFile(rel: string, flag: string | undefined, command: string): string {
  if (flag !== undefined) {
    if (!existsSync(flag) || statSync(flag).isDirectory()) throw new CliError(`${command}: --data: no such file (${flag})`);
    return flag;
  }
  const candidates = [fileURLToPath(new URL(`../../../data/${rel}`, import.meta.url)), join('/work/shared/data', rel)];
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new CliError(`${command}: the corpus ${rel} is not here (searched ${candidates.join(', ')}) (help: --data FILE)`);
  return found;
}

interface Schedule {
  /** Wall-clock budget in ms, or null (steps only). */
  ms: number | null;
  steps: number | null;
  lr: number;
  warmup: number;
}

function scheduleOf(o: LmTrainOptions, recipe: string, lr: number): Schedule {
  const ms = o.minutes !== undefined ? o.minutes * 60_000 : o.steps !== undefined ? null : LM_RECIPES[recipe]!.minutes * 60_000;
  // a short --steps run warms up over its first tenth
  const warmup = o.warmup ?? (o.steps !== undefined && o.minutes === undefined ? Math.min(100, Math.max(1, Math.round(o.steps / 10))) : 100);
  return { ms, steps: o.steps ?? null, lr, warmup };
}

/** How far through the budget a run is (0…1): the larger of the step and time fractions. */
function progressOf(s: Schedule, step: number, elapsedMs: number): number {
  return Math.max(s.steps !== null ? step / s.steps : 0, s.ms !== null ? elapsedMs / s.ms : 0);
}

/** Linear warm-up, then a cosine over the budget down to lr/20 (as the examples). */
function lrAt(s: Schedule, step: number, progress: number): number {
  if (step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  return s.lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}

interface LoopResult {
  steps: number;
  tokens: number;
  trainMs: number;
  elapsedMs: number;
  interrupted: boolean;
}

/**
 * The shared training loop: calls `step(lr)` (one optimizer step, returning its loss and tokens)
 * until the budget is spent or Ctrl-C (a second Ctrl-C exits at once); `after(step)` runs between
 * steps (logging, evaluation) outside the timed part.
 */
async function trainLoop(
  s: Schedule, o: LmTrainOptions, command: string,
  step: (lr: number) => { loss: number; tokens: number },
  after: (state: { step: number; loss: number; lr: number; tokensPerSec: number; elapsedMs: number }) => void,
): Promise<LoopResult> {
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  let steps = 0, tokens = 0, trainMs = 0;
  let lastYield = performance.now();
  try {
    while (progressOf(s, steps, performance.now() - t0) < 1) {
      const lr = lrAt(s, steps, progressOf(s, steps, performance.now() - t0));
      const s0 = performance.now();
      const r = step(lr);
      trainMs += performance.now() - s0;
      if (!Number.isFinite(r.loss)) throw new CliError(`${command}: the loss became ${r.loss} at step ${steps + 1} (help: lower --lr)`);
      steps++;
      tokens += r.tokens;
      after({ step: steps, loss: r.loss, lr, tokensPerSec: tokens / (trainMs / 1000), elapsedMs: performance.now() - t0 });
      // NOTE: let a Ctrl-C (an event) through every 40 ms
      if (performance.now() - lastYield > 40) {
        await new Promise((r2) => setImmediate(r2));
        lastYield = performance.now();
      }
      if (o.stopAfterSteps !== undefined && steps >= o.stopAfterSteps) interrupted = true;
      if (interrupted) break;
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  return { steps, tokens, trainMs, elapsedMs: performance.now() - t0, interrupted };
}

interface Progress {
  type: 'progress';
  step: number;
  minutes: number;
  trainLoss: number;
  valLoss?: number;
  lr: number;
  tokensPerSec: number;
}

/** metrics.jsonl and loss.svg in the output directory. */
function writeRunFiles(outDir: string, name: string, history: Progress[], yLabel: string): { metricsPath: string; plots: Record<string, string> } {
  const metricsPath = join(outDir, 'metrics.jsonl');
  writeFileSync(metricsPath, history.map((h) => `${JSON.stringify(h)}\n`).join(''));
  const series = [{ name: 'train (smoothed)', points: history.map((h): [number, number] => [h.step, h.trainLoss]) }];
  const val = history.filter((h) => h.valLoss !== undefined).map((h): [number, number] => [h.step, h.valLoss!]);
  if (val.length > 0) series.push({ name: 'validation', points: val });
  const lossPath = join(outDir, 'loss.svg');
  writeFileSync(lossPath, linePlot({ title: `${name}: loss`, xLabel: 'step', yLabel, series: series.filter((x) => x.points.length > 0) }));
  return { metricsPath, plots: { loss: lossPath } };
}

const threadsNote = () => `${backendInfo().threads} thread${backendInfo().threads === 1 ? '' : 's'}`;
const countParams = (m: nn.Module) => m.parameters().reduce((a, p) => a + p.size, 0);

/** Runs `simdgrad train charlm`: the character GPT of examples/charlm.mjs; returns the exit code. */
export async function trainCharLm(o: LmTrainOptions, out: Output): Promise<number> {
  const command = 'train charlm';
  const path = dataFile('tinyshakespeare.txt', o.data, command);
  const corpus = readFileSync(path, 'utf8');
  const seed = o.seed ?? 0;
  manualSeed(seed);
  const tok = text.CharTokenizer.fromText(corpus);
  const ids = tok.encode(corpus);
  const split = Math.floor(ids.length * 0.9);
  const train = ids.subarray(0, split), val = ids.subarray(split);
  const T = o.context ?? 64, B = o.batchSize ?? 32;
  if (val.length < T + 1) throw new CliError(`${command}: the validation split of ${show(path)} has ${val.length} characters, fewer than --context ${T} + 1 (help: a longer --data file or a smaller --context)`);
  const config = { vocabSize: tok.vocabSize, contextLength: T, nLayer: o.layers ?? 4, nHead: o.heads ?? 4, nEmbd: o.width ?? 128, dropout: o.dropout ?? 0 };
  if (config.nEmbd % config.nHead !== 0) throw new CliError(`${command}: --width must be a multiple of --heads (got width ${config.nEmbd}, heads ${config.nHead})`, EXIT.usage);
  const model = new text.GPT(config);
  const nParams = countParams(model);
  const s = scheduleOf(o, 'charlm', o.lr ?? 2e-3);
  const evalEvery = o.evalEvery ?? 250;
  const outDir = resolve(o.out ?? join('runs', 'charlm'));
  mkdirSync(outDir, { recursive: true });
  const modelPath = join(outDir, 'model.safetensors');

  out.log(`charlm: ${show(path)}, ${corpus.length} characters, vocabulary ${tok.vocabSize}; train ${train.length} / validation ${val.length} (the last 10%)`);
  out.log(`model: GPT ${config.nLayer} layers × ${config.nHead} heads × ${config.nEmbd} wide, context ${T} (${nParams} parameters)`);
  out.log(`AdamW lr ${s.lr} (warm-up ${s.warmup} steps, cosine to lr/20), batch ${B} × ${T} characters, ${budgetText(s)}, seed ${seed}, ${threadsNote()}`);

  const gen = new Generator(seed + 2);
  const batchAt = (source: Int32Array, starts: number[]): [Tensor, Tensor] => {
    const x = new Int32Array(starts.length * T), y = new Int32Array(starts.length * T);
    starts.forEach((st, b) => {
      x.set(source.subarray(st, st + T), b * T);
      y.set(source.subarray(st + 1, st + T + 1), b * T);
    });
    return [tensor(x, { shape: [starts.length, T], dtype: 'int32' }), tensor(y, { shape: [starts.length * T], dtype: 'int32' })];
  };
  /** Mean validation loss (nats/char) over `batches` batches of windows at evenly spaced, fixed offsets. */
  const valLoss = (batches: number): { loss: number; positions: number } => {
    model.eval();
    const windows = Math.min(batches * B, val.length - T);
    const stride = Math.max(1, Math.floor((val.length - T - 1) / windows));
    let sum = 0;
    for (let w = 0; w < windows; w += B) {
      const starts = Array.from({ length: Math.min(B, windows - w) }, (_, j) => (w + j) * stride);
      sum += scope(() => noGrad(() => {
        const [x, y] = batchAt(val, starts);
        return nn.functional.crossEntropy(model.forward(x).reshape([-1, tok.vocabSize]), y).item();
      })) * starts.length;
    }
    model.train();
    return { loss: sum / windows, positions: windows * T };
  };

  const optimizer = new optim.AdamW(model.parameters(), { lr: s.lr, betas: [0.9, 0.99], weightDecay: 0.1 });
  const history: Progress[] = [];
  let ema: number | null = null;
  let lastLog = performance.now();
  const result = await trainLoop(s, o, command, (lr) => {
    const loss = scope(() => {
      for (const g of optimizer.paramGroups) g.lr = lr;
      optimizer.zeroGrad();
      const starts = Array.from({ length: B }, () => gen.int(0, train.length - T - 1));
      const [x, y] = batchAt(train, starts);
      const l = nn.functional.crossEntropy(model.forward(x).reshape([-1, tok.vocabSize]), y);
      l.backward();
      optim.clipGradNorm(model.parameters(), 1.0);
      optimizer.step();
      return l.item();
    });
    return { loss, tokens: B * T };
  }, ({ step, loss, lr, tokensPerSec, elapsedMs }) => {
    ema = ema === null ? loss : 0.98 * ema + 0.02 * loss;
    const now = performance.now();
    const evaluateNow = step % evalEvery === 0;
    if (!evaluateNow && now - lastLog < 10_000) return;
    lastLog = now;
    const rec: Progress = { type: 'progress', step, minutes: elapsedMs / 60_000, trainLoss: ema, lr, tokensPerSec };
    if (evaluateNow) rec.valLoss = valLoss(8).loss;
    history.push(rec);
    out.json(rec);
    out.log(`step ${step}  ${rec.minutes.toFixed(1)} min  train ${ema.toFixed(3)}${rec.valLoss !== undefined ? `  val ${rec.valLoss.toFixed(3)}` : ''}  lr ${lr.toExponential(2)}  ${Math.round(tokensPerSec)} tokens/s`);
  });

  if (result.interrupted) out.note(`interrupted at step ${result.steps}: saving the model, then evaluating it (Ctrl-C again quits)`);
  const trainTokensPerSec = result.trainMs > 0 ? result.tokens / (result.trainMs / 1000) : 0;
  // the file of examples/charlm.mjs (the demo page loads it): GPT metadata + the vocabulary
  await saveFile(modelPath, io.save(model.stateDict(), { ...model.metadata(), vocab: JSON.stringify(tok) }));
  const final = valLoss(40);
  // again with the result in the metadata (the demo page shows it); the first save keeps the weights
  // safe should the evaluation be interrupted
  await saveFile(modelPath, io.save(model.stateDict(), {
    ...model.metadata(), vocab: JSON.stringify(tok),
    valLoss: String(final.loss), producer: `simdgrad train charlm (${result.steps} steps, seed ${seed})`,
  }));
  if (ema !== null) history.push({ type: 'progress', step: result.steps, minutes: result.elapsedMs / 60_000, trainLoss: ema, valLoss: final.loss, lr: optimizer.paramGroups[0]!.lr, tokensPerSec: trainTokensPerSec });
  const { metricsPath, plots } = writeRunFiles(outDir, 'charlm', history, 'cross-entropy (nats/char)');

  // a short sample, to see what the model writes
  model.eval();
  const prompt = Array.from('ROMEO:').every((c) => tok.index.has(c)) ? 'ROMEO:' : tok.decode([ids[split]!]);
  const sampling = { temperature: 0.8, topK: 40, topP: 0.95 };
  const g0 = performance.now();
  const sampleIds = [...text.generate(model, tok.encode(prompt), { maxNewTokens: 200, ...sampling, generator: new Generator(seed + 1) })];
  const generateTokensPerSec = sampleIds.length / ((performance.now() - g0) / 1000);
  const sample = prompt + tok.decode(sampleIds);

  const summary = {
    type: 'summary', name: 'charlm', valLoss: final.loss, valBitsPerChar: final.loss / Math.LN2, valPositions: final.positions,
    steps: result.steps, trainTokens: result.tokens, trainTokensPerSec, generateTokensPerSec, seconds: result.elapsedMs / 1000, trainSeconds: result.trainMs / 1000,
    parameters: nParams, config, training: { batchSize: B, lr: s.lr, warmup: s.warmup, minutes: s.ms === null ? null : s.ms / 60_000, maxSteps: s.steps, seed, threads: backendInfo().threads, data: path },
    interrupted: result.interrupted, sample, modelPath, metricsPath, plots,
  };
  out.json(summary);
  out.log();
  out.log(`${result.steps} steps (${count(result.tokens)} characters) in ${(result.trainMs / 60_000).toFixed(1)} min: ${Math.round(trainTokensPerSec)} tokens/s training`);
  out.log(`validation loss ${final.loss.toFixed(4)} nats/char (${(final.loss / Math.LN2).toFixed(3)} bits/char) over ${final.positions} held-out positions`);
  out.log(`sample (temperature 0.8, top-k 40, top-p 0.95; ${Math.round(generateTokensPerSec)} tokens/s with the KV cache):`);
  for (const line of sample.split('\n')) out.log(`  ${line}`);
  out.log(`model:   ${show(modelPath)}   (then: simdgrad sample ${show(modelPath)} --prompt "${prompt === 'ROMEO:' ? 'ROMEO:' : '…'}")`);
  out.log(`metrics: ${show(metricsPath)}`);
  out.log(`plot:    ${show(plots.loss)}`);
  return result.interrupted ? EXIT.interrupted : 0;
}

function budgetText(s: Schedule): string {
  const parts = [s.ms !== null ? `${Number((s.ms / 60_000).toPrecision(4))} min` : '', s.steps !== null ? `${s.steps} steps` : ''].filter(Boolean);
  return parts.join(' or ') + (parts.length > 1 ? ' (whichever comes first)' : '');
}

/** The Tatoeba pairs grouped by English sentence; 10% of the distinct English sentences held out. */
function translationData(path: string, seed: number, command: string) {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const byEnglish = new Map<string, string[]>();
  lines.forEach((line, i) => {
    const [en, fr] = line.split('\t');
    if (en === undefined || fr === undefined || en.trim() === '' || fr.trim() === '') {
      throw new CliError(`${command}: ${show(path)} line ${i + 1}: expected "English<TAB>French" (got ${JSON.stringify(line.slice(0, 60))})`);
    }
    if (!byEnglish.has(en)) byEnglish.set(en, []);
    byEnglish.get(en)!.push(fr);
  });
  const english = [...byEnglish.keys()];
  if (english.length < 10) throw new CliError(`${command}: ${show(path)} has ${english.length} distinct English sentences; at least 10 are needed for a 10% held-out split`);
  const gen = new Generator(seed + 3);
  for (let i = english.length - 1; i > 0; i--) {
    const j = gen.int(0, i + 1);
    [english[i], english[j]] = [english[j]!, english[i]!];
  }
  const nTest = Math.round(english.length * 0.1);
  const testEn = english.slice(0, nTest), trainEn = english.slice(nTest);
  const trainPairs = trainEn.flatMap((en) => byEnglish.get(en)!.map((fr) => [en, fr] as const));
  return { lines: lines.length, byEnglish, english, testEn, trainEn, trainPairs, gen };
}

/** Runs `simdgrad train translate`: the English→French model of examples/translate.mjs; returns the exit code. */
export async function trainTranslate(o: LmTrainOptions, out: Output): Promise<number> {
  const command = 'train translate';
  const path = dataFile('fra-eng/fra-eng-short.txt', o.data, command);
  const seed = o.seed ?? 0;
  manualSeed(seed);
  const d = translationData(path, seed, command);
  const minCount = o.minCount ?? 3;
  const srcTok = text.WordTokenizer.fromTexts(d.trainPairs.map(([en]) => en), { minCount });
  const tgtTok = text.WordTokenizer.fromTexts(d.trainPairs.map(([, fr]) => fr), { minCount });
  const train = d.trainPairs
    .map(([en, fr]) => [srcTok.encode(en, { eos: true }), tgtTok.encode(fr, { bos: true, eos: true })] as const)
    .filter(([src, tgt]) => src.length <= text.TRANSLATOR_MAX_POSITIONS && tgt.length <= text.TRANSLATOR_MAX_POSITIONS + 1);
  const config = { srcVocab: srcTok.vocabSize, tgtVocab: tgtTok.vocabSize, width: o.width ?? 128, heads: o.heads ?? 4, layers: o.layers ?? 2, ff: o.ff ?? 256, dropout: o.dropout ?? 0.1 };
  if (config.width % config.heads !== 0) throw new CliError(`${command}: --width must be a multiple of --heads (got width ${config.width}, heads ${config.heads})`, EXIT.usage);
  const model = new text.Translator(config);
  const nParams = countParams(model);
  const B = o.batchSize ?? 64;
  const s = scheduleOf(o, 'translate', o.lr ?? 1.5e-3);
  const outDir = resolve(o.out ?? join('runs', 'translate'));
  mkdirSync(outDir, { recursive: true });
  const modelPath = join(outDir, 'model.safetensors');
  const special = { padId: tgtTok.padId, bosId: tgtTok.bosId, eosId: tgtTok.eosId };

  out.log(`translate: ${show(path)}, ${d.lines} pairs, ${d.english.length} distinct English sentences → train ${d.trainEn.length} (${train.length} pairs) / held out ${d.testEn.length}`);
  out.log(`vocabulary: English ${srcTok.vocabSize}, French ${tgtTok.vocabSize} words (seen ≥ ${minCount} times)`);
  out.log(`model: transformer encoder–decoder, ${config.layers}+${config.layers} layers × ${config.heads} heads × ${config.width} wide, feed-forward ${config.ff} (${nParams} parameters)`);
  out.log(`AdamW lr ${s.lr} (warm-up ${s.warmup} steps, cosine to lr/20), batch ${B} pairs, label smoothing 0.1, ${budgetText(s)}, seed ${seed}, ${threadsNote()}`);

  // batches of similar target length (less padding): shuffled each epoch, sorted within chunks of 50 batches
  const order = train.map((_, i) => i);
  let epoch = 0;
  let queue: number[][] = [];
  const nextBatch = (): number[] => {
    if (queue.length === 0) {
      epoch++;
      for (let i = order.length - 1; i > 0; i--) {
        const j = d.gen.int(0, i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (let c = 0; c < order.length; c += B * 50) {
        const part = order.slice(c, c + B * 50).sort((a, b) => train[a]![1].length - train[b]![1].length);
        for (let k = 0; k < part.length; k += B) queue.push(part.slice(k, k + B));
      }
    }
    return queue.shift()!;
  };

  const optimizer = new optim.AdamW(model.parameters(), { lr: s.lr, betas: [0.9, 0.98], weightDecay: 0.01 });
  const history: Progress[] = [];
  let ema: number | null = null;
  let lastLog = performance.now();
  const result = await trainLoop(s, o, command, (lr) => {
    const idx = nextBatch();
    const loss = scope(() => {
      for (const g of optimizer.paramGroups) g.lr = lr;
      optimizer.zeroGrad();
      const l = model.loss(idx.map((i) => train[i]![0]), idx.map((i) => train[i]![1]), { padId: tgtTok.padId, labelSmoothing: 0.1 });
      l.backward();
      optim.clipGradNorm(model.parameters(), 1.0);
      optimizer.step();
      return l.item();
    });
    return { loss, tokens: idx.reduce((a, i) => a + train[i]![1].length - 1, 0) };
  }, ({ step, loss, lr, tokensPerSec, elapsedMs }) => {
    ema = ema === null ? loss : 0.98 * ema + 0.02 * loss;
    const now = performance.now();
    if (step % 100 !== 0 && now - lastLog < 10_000) return;
    lastLog = now;
    const rec: Progress = { type: 'progress', step, minutes: elapsedMs / 60_000, trainLoss: ema, lr, tokensPerSec };
    history.push(rec);
    out.json(rec);
    out.log(`epoch ${epoch} step ${step}  ${rec.minutes.toFixed(1)} min  loss ${ema.toFixed(3)}  lr ${lr.toExponential(2)}  ${Math.round(tokensPerSec)} target tokens/s`);
  });
  if (result.interrupted) out.note(`interrupted at step ${result.steps}: saving the model, then evaluating it (Ctrl-C again quits)`);
  const trainTokensPerSec = result.trainMs > 0 ? result.tokens / (result.trainMs / 1000) : 0;
  model.eval();
  // the file of examples/translate.mjs: the Translator's metadata + both vocabularies
  await saveFile(modelPath, io.save(model.stateDict(), { ...model.metadata(), srcVocab: JSON.stringify(srcTok), tgtVocab: JSON.stringify(tgtTok) }));
  if (ema !== null) history.push({ type: 'progress', step: result.steps, minutes: result.elapsedMs / 60_000, trainLoss: ema, lr: optimizer.paramGroups[0]!.lr, tokensPerSec: trainTokensPerSec });
  const { metricsPath, plots } = writeRunFiles(outDir, 'translate', history, 'cross-entropy (label smoothing 0.1)');

  // corpus BLEU on the held-out sentences (every French translation of a sentence is a reference);
  // hypotheses are the model's own word tokens (<unk> stays one token and never matches)
  const testEn = d.testEn.slice(0, o.evalSentences ?? d.testEn.length);
  const refs = testEn.map((en) => d.byEnglish.get(en)!.map((fr) => text.splitWords(fr)));
  const srcTest = testEn.map((en) => srcTok.encode(en, { eos: true }).slice(0, text.TRANSLATOR_MAX_POSITIONS));
  const words = (ids: number[]) => ids.map((id) => tgtTok.tokens[id]!);
  const e0 = performance.now();
  const greedyWords: string[][] = [];
  for (let i = 0; i < srcTest.length; i += 64) greedyWords.push(...model.greedy(srcTest.slice(i, i + 64), { ...special, maxLength: 24 }).map(words));
  const greedy = text.corpusBleu(greedyWords, refs);
  const single = text.corpusBleu(greedyWords, refs.map((r) => [r[0]!]));
  const greedySeconds = (performance.now() - e0) / 1000;
  let beam: { bleu: number; greedyBleu: number; beamSize: number; sentences: number; seconds: number } | null = null;
  if (o.beam !== undefined) {
    const n = Math.min(o.beamSentences ?? 500, testEn.length);
    const b0 = performance.now();
    const beamWords = srcTest.slice(0, n).map((src) => words(model.beam(src, { ...special, maxLength: 24, beamSize: o.beam })));
    beam = { bleu: text.corpusBleu(beamWords, refs.slice(0, n)).bleu, greedyBleu: text.corpusBleu(greedyWords.slice(0, n), refs.slice(0, n)).bleu, beamSize: o.beam, sentences: n, seconds: (performance.now() - b0) / 1000 };
  }

  const summary = {
    type: 'summary', name: 'translate', bleu: greedy.bleu, bleuPrecisions: greedy.precisions, brevityPenalty: greedy.brevityPenalty, bleuSingleReference: single.bleu,
    ...(beam !== null ? { bleuBeam: beam.bleu, bleuGreedySameSentences: beam.greedyBleu, beamSize: beam.beamSize, beamSentences: beam.sentences } : {}),
    testSentences: d.testEn.length, evalSentences: testEn.length,
    steps: result.steps, epochs: epoch, trainTokens: result.tokens, trainTokensPerSec, seconds: result.elapsedMs / 1000, trainSeconds: result.trainMs / 1000,
    parameters: nParams, config, training: { batchSize: B, lr: s.lr, warmup: s.warmup, minutes: s.ms === null ? null : s.ms / 60_000, maxSteps: s.steps, seed, minCount, threads: backendInfo().threads, data: path },
    interrupted: result.interrupted, modelPath, metricsPath, plots,
  };
  out.json(summary);
  out.log();
  out.log(`${result.steps} steps (${epoch} epoch${epoch === 1 ? '' : 's'} begun) in ${(result.trainMs / 60_000).toFixed(1)} min: ${Math.round(trainTokensPerSec)} target tokens/s training`);
  out.log(`BLEU ${greedy.bleu.toFixed(2)} (greedy, corpus 4-gram, ${testEn.length} held-out sentences, all references; precisions ${greedy.precisions.map((p) => p.toFixed(3)).join('/')}, BP ${greedy.brevityPenalty.toFixed(3)}; ${greedySeconds.toFixed(0)} s)`);
  out.log(`BLEU ${single.bleu.toFixed(2)} with the first translation as the only reference`);
  if (beam !== null) out.log(`BLEU ${beam.bleu.toFixed(2)} with beam ${beam.beamSize} vs ${beam.greedyBleu.toFixed(2)} greedy on the first ${beam.sentences} held-out sentences (${beam.seconds.toFixed(0)} s)`);
  for (let i = 0; i < Math.min(5, testEn.length); i++) out.log(`  ${testEn[i]} → ${detokenize(greedyWords[i]!)}   [reference: ${d.byEnglish.get(testEn[i]!)![0]}]`);
  out.log(`model:   ${show(modelPath)}   (then: simdgrad translate ${show(modelPath)} "I am hungry.")`);
  out.log(`metrics: ${show(metricsPath)}`);
  out.log(`plot:    ${show(plots.loss)}`);
  return result.interrupted ? EXIT.interrupted : 0;
}

/** Words of the model's output as a sentence: no space before . , and a capital first letter. */
export function detokenize(words: string[]): string {
  const s = words.join(' ').replace(/ ([.,])/g, '$1');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface CharLmFile { kind: 'charlm'; path: string; model: text.GPT; tok: text.CharTokenizer }
export interface TranslateLmFile { kind: 'translate'; path: string; model: text.Translator; srcTok: text.WordTokenizer; tgtTok: text.WordTokenizer }
type LmFile = CharLmFile | TranslateLmFile;

/** 'charlm' or 'translate' for a language-model file's __metadata__, else null. */
export function lmKind(meta: Record<string, string>): 'charlm' | 'translate' | null {
  if (meta.architecture === 'gpt' && meta.vocab !== undefined) return 'charlm';
  if (meta.architecture === 'transformer-seq2seq' && meta.srcVocab !== undefined) return 'translate';
  return null;
}

/**
 * Loads a charlm or translate model file (in eval mode), or throws naming what the file is; `file`: the
 * file when the caller has already read it (to look at its metadata).
 */
export function loadLm(path: string, command: string, want: 'charlm', file?: io.Safetensors): CharLmFile;
export function loadLm(path: string, command: string, want: 'translate', file?: io.Safetensors): TranslateLmFile;
export function loadLm(path: string, command: string, want: 'charlm' | 'translate', file?: io.Safetensors): LmFile;
export function loadLm(path: string, command: string, want: 'charlm' | 'translate', file = readSafetensors(path)): LmFile {
  const { tensors, metadata } = file;
  const kind = lmKind(metadata);
  const other = want === 'charlm' ? `simdgrad translate ${path} "I am hungry."` : `simdgrad sample ${path} --prompt "ROMEO:"`;
  if (kind === null) {
    const what = metadata.architecture === undefined ? 'no architecture in its __metadata__'
      : metadata.task !== undefined ? `a ${metadata.task} model${metadata.name !== undefined ? ` "${metadata.name}"` : ''}`
      : `architecture ${JSON.stringify(metadata.architecture.slice(0, 40))}`;
    throw new CliError(`${command}: ${path} is not a ${want} model (${what}) (help: \`simdgrad train ${want}\` writes one)`);
  }
  if (kind !== want) throw new CliError(`${command}: ${path} is a ${kind} model, not a ${want} model (help: ${other})`);
  try {
    if (kind === 'charlm') {
      const model = new text.GPT(JSON.parse(metadata.config!));
      model.loadStateDict(tensors);
      model.eval();
      return { kind, path, model, tok: text.CharTokenizer.fromJSON(metadata.vocab!) };
    }
    const model = new text.Translator(JSON.parse(metadata.config!));
    model.loadStateDict(tensors);
    model.eval();
    return { kind, path, model, srcTok: text.WordTokenizer.fromJSON(metadata.srcVocab!), tgtTok: text.WordTokenizer.fromJSON(metadata.tgtVocab!) };
  } catch (e) {
    if (e instanceof SimdgradError || e instanceof SyntaxError) throw new CliError(`${command}: ${path}: the ${kind} model does not load (${e.message})`);
    throw e;
  }
}

export const MAX_SAMPLE_TOKENS = 100_000;

export interface SampleOptions {
  prompt?: string;
  tokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}

/**
 * `simdgrad sample`: streams a charlm model's continuation of the prompt to stdout; returns the exit code.
 * `lm`: the model when the caller has loaded it already (predict samples several prompts from one load).
 */
export function sampleCommand(modelPath: string, o: SampleOptions, out: Output, command = 'sample', lm?: CharLmFile): number {
  const n = o.tokens ?? 500;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SAMPLE_TOKENS) throw new CliError(`${command}: --tokens must be an integer in 1…${MAX_SAMPLE_TOKENS} (got ${n})`, EXIT.usage);
  const { model, tok } = lm ?? loadLm(modelPath, command, 'charlm');
  const prompt = o.prompt ?? '\n';
  if (prompt === '') throw new CliError(`${command}: --prompt is empty (help: give at least one character, e.g. --prompt "ROMEO:")`, EXIT.usage);
  const missing = [...new Set(Array.from(prompt))].filter((c) => !tok.index.has(c));
  if (missing.length > 0) {
    const vocab = tok.tokens.join('');
    throw new CliError(`${command}: the prompt has ${missing.length === 1 ? 'a character' : `${missing.length} characters`} not in the model's vocabulary: ${missing.map((c) => JSON.stringify(c)).join(', ')} ` +
      `(the vocabulary: ${tok.vocabSize} characters, ${JSON.stringify(vocab.length > 80 ? `${vocab.slice(0, 80)}…` : vocab)})`);
  }
  const sampling = { temperature: o.temperature ?? 0.8, topK: o.topK ?? 40, topP: o.topP ?? 0.95 };
  const seed = o.seed ?? 0;
  const stream = out.mode !== 'json';
  if (stream) process.stdout.write(prompt);
  let generated = '';
  let count = 0;
  const t0 = performance.now();
  try {
    for (const id of text.generate(model, tok.encode(prompt), { maxNewTokens: n, ...sampling, generator: new Generator(seed) })) {
      const c = tok.decode([id]);
      generated += c;
      count++;
      if (stream) process.stdout.write(c);
    }
  } catch (e) {
    if (e instanceof SimdgradError) throw new CliError(`${command}: ${e.message}`, EXIT.usage);
    throw e;
  }
  const seconds = (performance.now() - t0) / 1000;
  const tokensPerSec = count / seconds;
  if (stream) {
    process.stdout.write('\n');
    out.note(`${count} tokens in ${seconds.toFixed(2)} s: ${tokensPerSec.toFixed(1)} tokens/s (KV cache, context ${model.config.contextLength}, ${threadsNote()})`);
  }
  out.json({ prompt, text: generated, tokens: count, seconds, tokensPerSec, ...sampling, seed, model: modelPath });
  return 0;
}

export interface TranslateCommandOptions {
  beam?: number;
  maxLength?: number;
}

/**
 * Translates sentences with a translate model, one output line (or JSON object) per sentence; `lm`: the
 * model when the caller has loaded it already.
 */
export function translateSentences(modelPath: string, sentences: string[], o: TranslateCommandOptions, out: Output, command = 'translate',
  lm: TranslateLmFile = loadLm(modelPath, command, 'translate')): number {
  const { model, srcTok, tgtTok } = lm;
  const maxWords = text.TRANSLATOR_MAX_POSITIONS - 1;
  if (o.maxLength !== undefined && (o.maxLength < 1 || o.maxLength > maxWords)) throw new CliError(`${command}: --max-length must be in 1…${maxWords} (got ${o.maxLength})`, EXIT.usage);
  const sources = sentences.map((s, i) => {
    const ids = srcTok.encode(s, { eos: true });
    if (ids.length - 1 > maxWords) throw new CliError(`${command}: sentence ${i + 1} has ${ids.length - 1} words and marks; the model reads at most ${maxWords} (help: split it)`);
    return ids;
  });
  const special = { padId: tgtTok.padId, bosId: tgtTok.bosId, eosId: tgtTok.eosId };
  const lengthFor = (ids: Int32Array) => o.maxLength ?? Math.min(maxWords, Math.max(24, 2 * ids.length + 4));
  const outputs: number[][] = [];
  const t0 = performance.now();
  if (o.beam !== undefined) {
    for (const ids of sources) outputs.push(model.beam(ids, { ...special, beamSize: o.beam, maxLength: lengthFor(ids) }));
  } else {
    for (let i = 0; i < sources.length; i += 64) {
      const chunk = sources.slice(i, i + 64);
      outputs.push(...model.greedy(chunk, { ...special, maxLength: Math.max(...chunk.map(lengthFor)) }));
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  sentences.forEach((s, i) => {
    const words = outputs[i]!.map((id) => tgtTok.tokens[id]!);
    const unknown = [...new Set(text.splitWords(s, srcTok.lower).filter((w) => !srcTok.index.has(w)))];
    const translation = s.trim() === '' ? '' : detokenize(words);
    out.json({ source: s, translation, tokens: words, unknownWords: unknown, decoding: o.beam !== undefined ? `beam ${o.beam}` : 'greedy' });
    out.log(translation);
    if (unknown.length > 0 && out.mode !== 'json') out.note(`note: sentence ${i + 1}: ${unknown.map((w) => JSON.stringify(w)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the model's English vocabulary (read as <unk>)`);
  });
  if (out.mode !== 'json' && sentences.length > 1) out.note(`${sentences.length} sentences in ${seconds.toFixed(2)} s (${o.beam !== undefined ? `beam ${o.beam}` : 'greedy'})`);
  return 0;
}

/** `simdgrad translate`: sentences from the command line, else one per line of stdin. */
export async function translateCommand(modelPath: string, sentences: string[], o: TranslateCommandOptions, out: Output): Promise<number> {
  if (sentences.length === 0 && process.stdin.isTTY === true) {
    throw new CliError('translate: give a sentence, or lines on stdin (e.g. echo "I am hungry." | simdgrad translate MODEL)', EXIT.usage);
  }
  // loaded before waiting for stdin, so a bad model file is reported at once
  const lm = loadLm(modelPath, 'translate', 'translate');
  if (sentences.length === 0) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) throw new CliError('translate: stdin is empty (help: one English sentence per line)', EXIT.usage);
    sentences = lines;
  }
  return translateSentences(modelPath, sentences, o, out, 'translate', lm);
}

export interface LmBench {
  model: string;
  training: { batchSize: number; context: number; tokensPerSec: number; msPerStep: number };
  generation: { cache: boolean; positions: [number, number]; tokens: number; tokensPerSec: number }[];
}

/**
 * Language-model throughput on this machine: a training step (forward + backward + AdamW) of the
 * 4-layer/4-head/128-wide GPT at context 64, batch 32; and greedy generation with the KV cache at
 * early and late positions (about equal when the cache works) and without it at the late ones
 * (a full forward pass over the context per token).
 */
export function lmBench(quick: boolean): LmBench {
  const V = 65, T = 64, B = 32;
  manualSeed(0);
  const model = new text.GPT({ vocabSize: V, contextLength: T, nLayer: 4, nHead: 4, nEmbd: 128 });
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.1 });
  const gen = new Generator(1);
  const x = tensor(Int32Array.from({ length: B * T }, () => gen.int(0, V)), { shape: [B, T], dtype: 'int32' });
  const y = tensor(Int32Array.from({ length: B * T }, () => gen.int(0, V)), { shape: [B * T], dtype: 'int32' });
  const trainStep = () => scope(() => {
    opt.zeroGrad();
    nn.functional.crossEntropy(model.forward(x).reshape([-1, V]), y).backward();
    opt.step();
  });
  trainStep(); // warm-up: the allocator's blocks and the optimizer state
  const stepTimes: number[] = [];
  const t0 = performance.now();
  do {
    const s0 = performance.now();
    trainStep();
    stepTimes.push(performance.now() - s0);
  } while (performance.now() - t0 < (quick ? 100 : 2000) || stepTimes.length < (quick ? 1 : 3));
  const stepMs = median(stepTimes);
  x.dispose();
  y.dispose();

  model.eval();
  const n = quick ? 16 : 31;
  const prompt = (len: number) => Array.from({ length: len }, (_, i) => (i * 7) % V);
  // per-token times of the steps after the first (the first includes the prompt's forward pass); the
  // fed token of step i sits at position promptLen + i - 1
  const cached = (promptLen: number): number[] => {
    const times: number[] = [];
    let last = 0;
    for (const _ of text.generate(model, prompt(promptLen), { maxNewTokens: n + 1, temperature: 0 })) {
      const now = performance.now();
      if (last > 0) times.push(now - last);
      last = now;
    }
    return times;
  };
  const uncached = (promptLen: number): number[] => {
    const ids = prompt(promptLen);
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const g0 = performance.now();
      const next = scope(() => noGrad(() => {
        const logits = model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: 'int32' }));
        return logits.narrow(1, ids.length - 1, 1).reshape([-1]).argmax().item();
      }));
      ids.push(next);
      times.push(performance.now() - g0);
    }
    return times;
  };
  const long = T - n - 1; // late positions: long … long + n - 1 (< T, so the cache is never rebuilt)
  for (let i = 0; i < (quick ? 1 : 3); i++) cached(1); // warm-up: the JIT keeps improving over the first runs
  // NOTE: tokens/s from the median time per token, over a few interleaved runs of each kind: garbage
  // collections and other processes on a busy machine add spikes that a mean would count
  const times: number[][] = [[], [], []];
  for (let r = 0; r < (quick ? 1 : 3); r++) {
    times[0]!.push(...cached(1));
    times[1]!.push(...cached(long));
    times[2]!.push(...uncached(long));
  }
  const rate = (t: number[]) => 1000 / median(t);
  const generation = [
    { cache: true, positions: [1, n] as [number, number], tokens: n, tokensPerSec: rate(times[0]!) },
    { cache: true, positions: [long, long + n - 1] as [number, number], tokens: n, tokensPerSec: rate(times[1]!) },
    { cache: false, positions: [long, long + n - 1] as [number, number], tokens: n, tokensPerSec: rate(times[2]!) },
  ];
  for (const p of model.parameters()) p.dispose();
  return { model: `GPT 4 layers × 4 heads × 128, context ${T}, vocabulary ${V}`, training: { batchSize: B, context: T, tokensPerSec: (B * T) / (stepMs / 1000), msPerStep: stepMs }, generation };
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The bench table's language-model lines. */
export function lmBenchLines(r: LmBench): string[] {
  const rows = [
    ['training: forward + backward + AdamW', `batch ${r.training.batchSize} × ${r.training.context}`, Math.round(r.training.tokensPerSec).toString(), `${r.training.msPerStep.toFixed(1)} ms/step`],
    ...r.generation.map((g) => [`generation: ${g.cache ? 'KV cache' : 'no cache (full forward)'}`, `positions ${g.positions[0]}–${g.positions[1]}`, g.tokensPerSec.toFixed(1), `${(1000 / g.tokensPerSec).toFixed(2)} ms/token`]),
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return [`language model (${r.model}):`, ...rows.map((row) => `  ${row[0]!.padEnd(w[0]!)}  ${row[1]!.padEnd(w[1]!)}  ${row[2]!.padStart(w[2]!)} tokens/s  ${row[3]!.padStart(w[3]!)}`)];
}

/**
 * `simdgrad export` of a language-model file. charlm → ONNX: int64 ids [batch, sequence ≤ context] in,
 * logits [batch, sequence, vocab] out, the file's metadata (config, vocabulary) in metadata_props;
 * → safetensors: the same tensors and metadata (PyTorch names). The translator's output layer reuses
 * the target embedding inside its forward, which the ONNX tracer does not follow: it is refused by name.
 */
export async function exportLm(modelPath: string, file: io.Safetensors, format: 'onnx' | 'safetensors', target: string, out: Output, producer: string): Promise<void> {
  const { metadata } = file;
  const kind = lmKind(metadata);
  if (kind === 'translate' && format === 'onnx') {
    throw new CliError(`export: ${modelPath} is a translate model: its ONNX export is not supported (the decoder's output reuses the target embedding inside forward) (help: --format safetensors)`);
  }
  const lm = loadLm(modelPath, 'export', kind === 'translate' ? 'translate' : 'charlm', file);
  {
    if (format === 'safetensors') {
      await saveFile(target, io.save(lm.model.stateDict(), { ...metadata, producer }));
      out.json({ format, path: target, tensors: Object.keys(lm.model.stateDict()) });
      out.log(`wrote ${relative(process.cwd(), target) || target} (safetensors, ${Object.keys(lm.model.stateDict()).length} tensors, PyTorch key names; the config and vocabulary in __metadata__)`);
      return;
    }
    const gpt = lm.model as text.GPT;
    const config = JSON.parse(metadata.config!) as { contextLength: number; vocabSize: number };
    const sample = tensor(new Int32Array(config.contextLength), { shape: [1, config.contextLength], dtype: 'int32' });
    let bytes: Uint8Array;
    try {
      bytes = exportModel(gpt, sample, {
        dynamicAxes: { input: { 1: 'sequence' }, output: { 1: 'sequence' } }, intInputType: 'int64',
        metadata: { ...metadata, producer }, graphName: 'charlm',
      });
    } catch (e) {
      if (e instanceof SimdgradError) throw new CliError(`export: ${e.message.replace(/^exportModel: /, '')}`);
      throw e;
    } finally {
      sample.dispose();
    }
    await saveFile(target, bytes);
    out.json({ format, path: target, bytes: bytes.length, opset: DEFAULT_OPSET, input: { name: 'input', dtype: 'int64', shape: ['batch', 'sequence'] }, output: { name: 'output', shape: ['batch', 'sequence', config.vocabSize] } });
    out.log(`wrote ${relative(process.cwd(), target) || target} (ONNX opset ${DEFAULT_OPSET}, ${bytes.length} bytes): input "input" int64 character ids [batch, sequence ≤ ${config.contextLength}] → output "output" logits [batch, sequence, ${config.vocabSize}]; the vocabulary is in metadata_props`);
  }
}
