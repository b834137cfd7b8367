// `simdgrad train`: the training loop with progress, metrics, plots, checkpoints, Ctrl-C and --resume.
//
// Reproducibility: the data order of epoch e is a permutation drawn from a generator seeded by (seed, e)
// alone, and the checkpoint holds the model, optimizer, scheduler, the global generator (dropout) and the
// position inside the epoch, so a resumed run takes exactly the steps an uninterrupted one would.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { autograd, data, generator, Generator, io, privacy, scope, SimdgradError, tensor, type Tensor } from '@simdgrad/core';
import { saveFile } from '@simdgrad/core/node';
import { CliError, EXIT } from './errors.js';
import { LM_RECIPES } from './lm.js';
import { infoFromMetadata, modelMetadata, readSafetensors } from './model-file.js';
import { describeLayers } from './model-spec.js';
import { Output, table } from './output.js';
import { linePlot } from './plot.js';
import { LINREG_MODES, looksLikeConfig, readConfig, RECIPES, type RunConfig } from './recipes.js';
import { evaluate, lossOf, OPTIMIZER_NAMES, prepareRun, type Run } from './run.js';

export interface TrainOptions {
  epochs?: number;
  batchSize?: number;
  lr?: number;
  optimizer?: string;
  seed?: number;
  mode?: string;
  limit?: number;
  out?: string;
  resume?: string;
  json?: boolean;
  verbose?: boolean;
  /** Check every op's output and every gradient for NaN/Inf and stop naming the op that made it (slower). */
  detectAnomaly?: boolean;
  /** Test hook: behave as if Ctrl-C came after this many steps. */
  stopAfterSteps?: number;
  /** DP-SGD: the noise multiplier σ, or a target ε (σ found for it), the clipping norm C and δ. */
  dpNoise?: number;
  dpEpsilon?: number;
  dpClip?: number;
  dpDelta?: number;
}

export interface EpochRecord {
  type: 'epoch';
  epoch: number;
  epochs: number;
  steps: number;
  trainLoss: number;
  trainAccuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  samplesPerSec: number;
  seconds: number;
  /** DP-SGD runs: ε spent so far at δ, and σ. */
  epsilon?: number | null;
  delta?: number;
  noiseMultiplier?: number;
}

/** Where the run is: completed epochs, steps into the current one and its running sums. */
interface Position {
  epoch: number;
  step: number;
  globalStep: number;
  lossSum: number;
  correct: number;
  seen: number;
  history: EpochRecord[];
}

interface CheckpointState {
  version: 1;
  config: RunConfig;
  position: Position;
  optimizer: { paramGroups: unknown[]; steps: Record<string, number>; buffers: Record<string, string[]> };
  scheduler: unknown;
  rng: (number | null)[];
}

export const DEFAULT_RECIPE = 'digits-mlp';

/** The RunConfig for a recipe or config file with the command-line overrides applied. */
export function resolveConfig(target: string | undefined, o: TrainOptions, command: string): RunConfig {
  const name = target ?? DEFAULT_RECIPE;
  let base: Omit<RunConfig, 'seed'> & { seed?: number };
  if (RECIPES[name] !== undefined) {
    if (o.mode !== undefined && name !== 'linreg') throw new CliError(`${command}: --mode applies to the linreg recipe only`, EXIT.usage);
    base = RECIPES[name]!.make(o.mode);
  } else if (LM_RECIPES[name] !== undefined) {
    throw new CliError(`${command}: ${name} is a language-model recipe (help: simdgrad train ${name})`, EXIT.usage);
  } else if (looksLikeConfig(name)) {
    base = readConfig(name);
  } else {
    throw new CliError(`${command}: unknown recipe "${name}" (recipes: ${[...Object.keys(RECIPES), ...Object.keys(LM_RECIPES)].join(', ')}; or a path to a JSON config)`, EXIT.usage);
  }
  const config: RunConfig = { ...base, seed: o.seed ?? base.seed ?? 0 };
  if (o.epochs !== undefined) config.epochs = o.epochs;
  if (o.batchSize !== undefined) config.batchSize = o.batchSize;
  if (o.optimizer !== undefined) {
    const type = o.optimizer.toLowerCase();
    if (!OPTIMIZER_NAMES.includes(type)) throw new CliError(`${command}: unknown optimizer "${o.optimizer}" (optimizers: ${OPTIMIZER_NAMES.join(', ')})`, EXIT.usage);
    config.optimizer = { type, lr: config.optimizer.lr };
  }
  if (o.lr !== undefined) config.optimizer = { ...config.optimizer, lr: o.lr };
  if (o.limit !== undefined) config.data = { ...config.data, limit: o.limit };
  if (o.dpNoise !== undefined && o.dpEpsilon !== undefined) throw new CliError(`${command}: give --dp-noise or --dp-epsilon, not both`, EXIT.usage);
  if (o.dpNoise !== undefined || o.dpEpsilon !== undefined) {
    config.privacy = { noiseMultiplier: o.dpNoise ?? null, targetEpsilon: o.dpEpsilon ?? null, maxGradNorm: o.dpClip ?? 1, delta: o.dpDelta ?? null };
  } else if (o.dpClip !== undefined || o.dpDelta !== undefined) {
    throw new CliError(`${command}: --dp-clip and --dp-delta need --dp-noise σ or --dp-epsilon ε (DP-SGD)`, EXIT.usage);
  }
  return config;
}

/** DP-SGD around a run: per-step Poisson batches (seeded by the step, so resume is exact) and the private optimizer. */
function makePrivateRun(run: Run, stepsDone: number): { priv: privacy.PrivateTraining<Tensor[]>; delta: number; batch: (globalStep: number) => Int32Array } {
  const p = run.config.privacy!;
  const dataset = new data.TensorDataset(run.train.x, run.train.y);
  const delta = p.delta ?? privacy.defaultDelta(run.train.n);
  let priv: privacy.PrivateTraining<Tensor[]>;
  try {
    priv = privacy.makePrivate({
      model: run.model, optimizer: run.optimizer, dataLoader: new data.DataLoader(dataset, { batchSize: run.config.batchSize }), maxGradNorm: p.maxGradNorm,
      ...(p.targetEpsilon !== null ? { targetEpsilon: p.targetEpsilon, targetDelta: delta, epochs: run.config.epochs } : { noiseMultiplier: p.noiseMultiplier! }),
    });
  } catch (e) {
    if (e instanceof SimdgradError) throw new CliError(`train: DP-SGD: ${e.message}`, EXIT.usage);
    throw e;
  }
  if (stepsDone > 0) priv.accountant.step(priv.noiseMultiplier, priv.sampleRate, stepsDone);
  const seed = run.config.seed * 1_000_003 + 600_000;
  const batch = (globalStep: number) => new privacy.PoissonDataLoader(dataset, { sampleRate: priv.sampleRate, generator: new Generator(seed + globalStep) }).sampleIndices();
  return { priv, delta, batch };
}

function readCheckpoint(path: string): { state: CheckpointState; tensors: Record<string, Tensor> } {
  const { tensors, metadata } = readSafetensors(path);
  if (metadata.checkpoint === undefined) throw new CliError(`${path}: not a training checkpoint (help: --resume takes the checkpoint.safetensors that train --out writes)`);
  infoFromMetadata(metadata, path);
  try {
    return { state: JSON.parse(metadata.checkpoint) as CheckpointState, tensors };
  } catch {
    throw new CliError(`${path}: the checkpoint metadata is not valid JSON`);
  }
}

/** Restores model, optimizer, scheduler and generator from a checkpoint; all checked before the run starts. */
function restore(run: Run, state: CheckpointState, tensors: Record<string, Tensor>, path: string): void {
  const own: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith('model.')) own[k.slice(6)] = t;
  try {
    run.model.loadStateDict(own);
    const st: Record<number, Record<string, number | Float32Array>> = {};
    for (const [idx, step] of Object.entries(state.optimizer.steps)) st[Number(idx)] = { step };
    for (const [idx, keys] of Object.entries(state.optimizer.buffers)) {
      st[Number(idx)] ??= {};
      for (const k of keys) {
        const t = tensors[`optimizer.${idx}.${k}`];
        if (t === undefined) throw new CliError(`${path}: the optimizer state lacks ${idx}.${k}`);
        st[Number(idx)]![k] = t.toFloat32Array();
      }
    }
    run.optimizer.loadStateDict({ state: st, paramGroups: state.optimizer.paramGroups as never });
    if (run.scheduler !== null && state.scheduler !== null) run.scheduler.loadStateDict(state.scheduler as never);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${path}: the checkpoint does not fit this run (${(e as Error).message})`);
  }
  generator.setState(state.rng.map((v) => (v === null ? NaN : v)));
}

function checkpointBytes(run: Run, position: Position, producer: string): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  const made: Tensor[] = [];
  for (const [k, t] of Object.entries(run.model.stateDict())) tensors[`model.${k}`] = t;
  const sd = run.optimizer.stateDict();
  const steps: Record<string, number> = {};
  const buffers: Record<string, string[]> = {};
  for (const [idx, entry] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(entry)) {
      if (typeof v === 'number') steps[idx] = v;
      else {
        const t = tensor(v, { shape: [v.length] });
        made.push(t);
        tensors[`optimizer.${idx}.${k}`] = t;
        (buffers[idx] ??= []).push(k);
      }
    }
  }
  const state: CheckpointState = {
    version: 1, config: run.config, position,
    optimizer: { paramGroups: sd.paramGroups, steps, buffers },
    scheduler: run.scheduler?.stateDict() ?? null,
    rng: generator.getState().map((v) => (Number.isNaN(v) ? null : v)),
  };
  try {
    return io.save(tensors, { ...modelMetadata(run.info, producer), checkpoint: JSON.stringify(state) });
  } finally {
    for (const t of made) t.dispose();
  }
}

/** ε for JSON: null when infinite (σ = 0). */
const finite = (v: number) => (Number.isFinite(v) ? v : null);
const pct = (v: number | undefined) => (v === undefined ? '' : `${(100 * v).toFixed(2)}%`);
const num = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(4));

/** Rows of the summary table: all epochs when few, else about 12 evenly spaced (first and last kept). */
function summaryRows(history: EpochRecord[], classification: boolean): string[] {
  const hasVal = history.some((h) => h.valLoss !== undefined);
  const pick = history.length <= 15 ? history : history.filter((_, i) => i === 0 || i === history.length - 1 || i % Math.ceil(history.length / 12) === 0);
  const header = ['epoch', 'train loss', ...(classification ? ['train acc'] : []), ...(hasVal ? ['val loss'] : []), ...(hasVal && classification ? ['val acc'] : []), 'lr'];
  const rows = pick.map((h) => [String(h.epoch), num(h.trainLoss), ...(classification ? [pct(h.trainAccuracy)] : []), ...(hasVal ? [num(h.valLoss)] : []),
    ...(hasVal && classification ? [pct(h.valAccuracy)] : []), Number(h.lr.toPrecision(3)).toString()]);
  return table(header, rows);
}

function writePlots(run: Run, history: EpochRecord[], outDir: string): Record<string, string> {
  const plots: Record<string, string> = {};
  const epochs = history.map((h) => h.epoch);
  const series = (key: 'trainLoss' | 'valLoss' | 'trainAccuracy' | 'valAccuracy', name: string) => {
    const points = history.flatMap((h, i): [number, number][] => (h[key] === undefined ? [] : [[epochs[i]!, h[key]!]]));
    return points.length > 0 ? [{ name, points }] : [];
  };
  const lossPath = join(outDir, 'loss.svg');
  writeFileSync(lossPath, linePlot({ title: `${run.config.name}: loss`, xLabel: 'epoch', yLabel: run.config.task === 'classification' ? 'cross-entropy' : 'mean squared error', series: [...series('trainLoss', 'train'), ...series('valLoss', 'validation')] }));
  plots.loss = lossPath;
  if (run.config.task === 'classification') {
    const accPath = join(outDir, 'accuracy.svg');
    writeFileSync(accPath, linePlot({ title: `${run.config.name}: accuracy`, xLabel: 'epoch', yLabel: 'accuracy', series: [...series('trainAccuracy', 'train'), ...series('valAccuracy', 'validation')] }));
    plots.accuracy = accPath;
  }
  if (run.config.name === 'linreg') {
    const x = run.train.x.toFloat32Array(), y = run.train.y.toFloat32Array();
    const w = run.model.stateDict()['0.weight']!.item(), b = run.model.stateDict()['0.bias']!.item();
    const fitPath = join(outDir, 'fit.svg');
    writeFileSync(fitPath, linePlot({
      title: `y = ${w.toFixed(3)}x + ${b.toFixed(3)}`, xLabel: 'x', yLabel: 'y',
      series: [{ name: 'data', points: Array.from(x, (v, i) => [v, y[i]!]), dots: true }, { name: 'fit', points: [[0, b], [1, w + b]] }],
    }));
    plots.fit = fitPath;
  }
  return plots;
}

/** Runs `simdgrad train`; returns the exit code. */
export async function train(target: string | undefined, o: TrainOptions, out: Output, producer: string): Promise<number> {
  let config: RunConfig;
  let resumed: { state: CheckpointState; tensors: Record<string, Tensor> } | null = null;
  if (o.resume !== undefined) {
    if (target !== undefined) throw new CliError('train: give a recipe/config or --resume CKPT, not both (the checkpoint holds its run\'s settings)', EXIT.usage);
    for (const [flag, v] of [['--lr', o.lr], ['--batch-size', o.batchSize], ['--optimizer', o.optimizer], ['--seed', o.seed], ['--mode', o.mode], ['--limit', o.limit],
      ['--dp-noise', o.dpNoise], ['--dp-epsilon', o.dpEpsilon], ['--dp-clip', o.dpClip], ['--dp-delta', o.dpDelta]] as const) {
      if (v !== undefined) throw new CliError(`train: ${flag} cannot be changed when resuming (the checkpoint fixes it; only --epochs can grow)`, EXIT.usage);
    }
    resumed = readCheckpoint(o.resume);
    config = { ...resumed.state.config };
    if (o.epochs !== undefined) {
      if (o.epochs < resumed.state.position.epoch) throw new CliError(`train: --epochs ${o.epochs} is fewer than the ${resumed.state.position.epoch} the checkpoint has done`, EXIT.usage);
      if (config.schedule?.type === 'onecycle' && o.epochs !== config.epochs) throw new CliError('train: --epochs cannot change on resume with a onecycle schedule (its length is fixed)', EXIT.usage);
      config.epochs = o.epochs;
    }
  } else {
    config = resolveConfig(target, o, 'train');
  }
  const outDir = resolve(o.out ?? (o.resume !== undefined ? dirname(o.resume) : join('runs', config.name)));

  const run = await prepareRun(config);
  const position: Position = resumed?.state.position
    ? structuredClone(resumed.state.position)
    : { epoch: 0, step: 0, globalStep: 0, lossSum: 0, correct: 0, seen: 0, history: [] };
  if (resumed !== null) restore(run, resumed.state, resumed.tensors, o.resume!);
  const dp = config.privacy !== undefined ? makePrivateRun(run, position.globalStep) : null;
  if (dp !== null) run.stepsPerEpoch = dp.priv.dataLoader.length;
  const opt = dp?.priv.optimizer ?? run.optimizer;

  mkdirSync(outDir, { recursive: true });
  const modelPath = join(outDir, 'model.safetensors');
  const checkpointPath = join(outDir, 'checkpoint.safetensors');
  const metricsPath = join(outDir, 'metrics.jsonl');
  const show = (p: string) => relative(process.cwd(), p) || p;
  const classification = config.task === 'classification';

  out.log(`${config.name}: ${run.loaded.description}; ${run.train.n} train${run.val ? ` / ${run.val.n} val` : ''}${run.test ? ` / ${run.test.n} test` : ''}`);
  out.log(`model: ${describeLayers(run.info.architecture)} (${run.model.parameters().reduce((a, p) => a + p.size, 0)} parameters)`);
  out.log(`${config.optimizer.type} lr ${config.optimizer.lr}, batch ${config.batchSize}${config.mode ? ` (${config.mode})` : ''}, ${config.epochs} epochs, seed ${config.seed}${config.schedule ? `, ${config.schedule.type} schedule` : ''}`);
  if (dp !== null) {
    out.log(`DP-SGD: noise multiplier σ ${dp.priv.noiseMultiplier.toPrecision(4)}, clip C ${dp.priv.maxGradNorm}, Poisson sampling rate ${dp.priv.sampleRate.toPrecision(3)}, δ ${dp.delta}` +
      `${config.privacy!.targetEpsilon !== null ? ` (σ chosen for ε ${config.privacy!.targetEpsilon} after ${config.epochs} epochs)` : ''}`);
  }
  if (resumed !== null) out.log(`resuming from ${show(o.resume!)} at epoch ${position.epoch + 1}, step ${position.step}`);

  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  const stepsThisRun = { n: 0 };
  const save = async (what: 'checkpoint' | 'model') => {
    if (what === 'checkpoint') await saveFile(checkpointPath, checkpointBytes(run, position, producer));
    else await saveFile(modelPath, io.save(run.model.stateDict(), modelMetadata(run.info, producer)));
  };
  const writeMetrics = () => writeFileSync(metricsPath, position.history.map((h) => `${JSON.stringify(h)}\n`).join(''));

  const { train: tr } = run;
  const bs = config.batchSize;
  const t0 = performance.now();
  let lastSave = performance.now();
  let lastLog = 0;
  let samplesThisRun = 0;
  try {
    // NOTE: the 40 ms yield budget spans epochs: short epochs must still let Ctrl-C (an event) through
    let lastYield = performance.now();
    for (let epoch = position.epoch; epoch < config.epochs; epoch++) {
      // the order of epoch e depends only on (seed, e)
      const order = data.permutation(tr.n, new Generator(config.seed * 1_000_003 + epoch + 1));
      run.model.train();
      const e0 = performance.now();
      let seenHere = 0;
      out.startEpoch(`epoch ${epoch + 1}/${config.epochs}`, run.stepsPerEpoch, position.step);
      for (let step = position.step; step < run.stepsPerEpoch; step++) {
        const start = step * bs;
        // DP-SGD: a Poisson-sampled batch (its size varies, and may be 0)
        const rows = dp !== null ? dp.batch(position.globalStep) : order.subarray(start, start + Math.min(bs, tr.n - start));
        const len = rows.length;
        const trainStep = () => scope(() => {
          opt.zeroGrad();
          if (len === 0) {
            opt.step(); // an empty Poisson batch still takes its step of pure noise
            return [0, 0];
          }
          const idx = tensor(rows, { dtype: 'int32' });
          const yb = tr.y.indexSelect(0, idx);
          const xb = run.augment !== null ? run.augment(rows, new Generator(config.seed * 1_000_003 + 500_000 + position.globalStep)) : tr.x.indexSelect(0, idx);
          const output = run.model.forward(xb);
          const l = lossOf(config.task, output, yb);
          l.backward();
          opt.step();
          const c = classification ? output.argmax(1).float().eq(yb.float()).sum().item() : 0;
          return [l.item(), c];
        });
        let loss: number, correct: number;
        try {
          [loss, correct] = o.detectAnomaly ? autograd.detectAnomaly(trainStep) : trainStep();
        } catch (e) {
          if (e instanceof SimdgradError && e.message.startsWith('detectAnomaly: ')) {
            throw new CliError(`train: stopped at epoch ${epoch + 1}, step ${step + 1}: ${e.message}; the last checkpoint was not overwritten`);
          }
          throw e;
        }
        if (!Number.isFinite(loss)) {
          throw new CliError(`train: the loss became ${loss} at epoch ${epoch + 1}, step ${step + 1} (help: lower --lr, or rerun with --detect-anomaly to name the op that made it); the last checkpoint was not overwritten`);
        }
        if (run.schedulePer === 'step') run.scheduler?.step();
        position.lossSum += loss * len;
        position.correct += correct;
        position.seen += len;
        position.step = step + 1;
        position.globalStep++;
        seenHere += len;
        samplesThisRun += len;
        stepsThisRun.n++;
        const now = performance.now();
        if (now - lastYield > 40) {
          out.updateEpoch(step + 1, position.lossSum / position.seen, (seenHere * 1000) / (now - e0));
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
        if (o.stopAfterSteps !== undefined && stepsThisRun.n >= o.stopAfterSteps) interrupted = true;
        if (interrupted) break;
      }
      out.endEpoch();
      if (interrupted && position.step < run.stepsPerEpoch) break;

      // end of epoch: validation, record, schedule
      const secs = (performance.now() - e0) / 1000;
      const val = run.val !== null ? evaluate(run.model, run.val, config.task, run.classes) : null;
      const rec: EpochRecord = {
        type: 'epoch', epoch: epoch + 1, epochs: config.epochs, steps: position.globalStep,
        trainLoss: position.lossSum / position.seen,
        ...(classification ? { trainAccuracy: position.correct / position.seen } : {}),
        ...(val !== null ? { valLoss: val.loss, ...(classification ? { valAccuracy: val.accuracy } : {}) } : {}),
        lr: run.optimizer.paramGroups[0]!.lr, samplesPerSec: secs > 0 ? seenHere / secs : 0, seconds: secs,
        ...(dp !== null ? { epsilon: finite(dp.priv.getEpsilon(dp.delta)), delta: dp.delta, noiseMultiplier: dp.priv.noiseMultiplier } : {}),
      };
      if (run.schedulePer === 'epoch') run.scheduler?.step();
      position.history.push(rec);
      Object.assign(position, { epoch: epoch + 1, step: 0, lossSum: 0, correct: 0, seen: 0 });
      out.json(rec);
      const now = performance.now();
      if (out.mode !== 'json' && (config.epochs <= 50 || epoch === 0 || now - lastLog > 1000 || epoch + 1 === config.epochs)) {
        lastLog = now;
        out.log(`epoch ${String(epoch + 1).padStart(String(config.epochs).length)}/${config.epochs}  train loss ${num(rec.trainLoss)}` +
          `${classification ? `  acc ${pct(rec.trainAccuracy)}` : ''}${val ? `  val loss ${num(rec.valLoss)}${classification ? `  acc ${pct(rec.valAccuracy)}` : ''}` : ''}` +
          `${dp !== null ? `  ε ${rec.epsilon === null ? '∞' : rec.epsilon!.toFixed(3)} (δ ${dp.delta})` : ''}  ${Math.round(rec.samplesPerSec)} samples/s`);
      }
      if (now - lastSave > 10_000) {
        writeMetrics();
        await save('checkpoint');
        lastSave = performance.now();
      }
      if (interrupted) break;
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    out.endEpoch();
  }

  writeMetrics();
  await save('checkpoint');
  await save('model');
  if (interrupted && position.epoch < config.epochs) {
    const resumeCmd = `simdgrad train --resume ${show(checkpointPath)}`;
    out.json({ type: 'interrupted', epoch: position.epoch, step: position.step, steps: position.globalStep, checkpointPath, modelPath, resume: resumeCmd });
    const where = position.step === 0 ? `after epoch ${position.epoch}` : `at epoch ${position.epoch + 1}, step ${position.step}/${run.stepsPerEpoch}`;
    out.note(`interrupted ${where}: checkpoint saved to ${show(checkpointPath)}`);
    out.note(`resume with: ${resumeCmd}`);
    return EXIT.interrupted;
  }

  const plots = writePlots(run, position.history, outDir);
  const last = position.history[position.history.length - 1];
  const test = run.test !== null ? evaluate(run.model, run.test, config.task, run.classes) : null;
  const seconds = (performance.now() - t0) / 1000;
  const summary: Record<string, unknown> = {
    type: 'summary', name: config.name, epochs: position.epoch, steps: position.globalStep,
    trainLoss: last?.trainLoss ?? null, valLoss: last?.valLoss ?? null,
    ...(classification ? { trainAccuracy: last?.trainAccuracy ?? null, valAccuracy: last?.valAccuracy ?? null } : {}),
    testLoss: test?.loss ?? null, testAccuracy: test?.accuracy ?? null,
    samplesPerSec: seconds > 0 ? samplesThisRun / seconds : 0, seconds,
    modelPath, checkpointPath, metricsPath, plots,
    ...(dp !== null ? { epsilon: finite(dp.priv.getEpsilon(dp.delta)), delta: dp.delta, noiseMultiplier: dp.priv.noiseMultiplier, maxGradNorm: dp.priv.maxGradNorm, sampleRate: dp.priv.sampleRate } : {}),
  };
  if (config.name === 'linreg') {
    const sd = run.model.stateDict();
    summary.w = sd['0.weight']!.item();
    summary.b = sd['0.bias']!.item();
    summary.mode = config.mode;
  }
  out.json(summary);
  if (out.mode !== 'json') {
    out.log();
    for (const line of summaryRows(position.history, classification)) out.log(line);
    out.log();
    if (dp !== null) out.log(`privacy: (ε ${summary.epsilon === null ? '∞' : (summary.epsilon as number).toFixed(3)}, δ ${dp.delta})-DP after ${position.globalStep} steps (σ ${dp.priv.noiseMultiplier.toPrecision(4)}, C ${dp.priv.maxGradNorm}, q ${dp.priv.sampleRate.toPrecision(3)})`);
    if (test !== null) out.log(`test: loss ${num(test.loss)}${classification ? `, accuracy ${pct(test.accuracy)}` : ''} (${test.samples} samples)`);
    if (config.name === 'linreg') out.log(`fitted: y = ${(summary.w as number).toFixed(4)}x + ${(summary.b as number).toFixed(4)} (truth: y = 2x + 1)`);
    out.log(`${position.globalStep} steps in ${seconds.toFixed(1)} s (${Math.round(summary.samplesPerSec as number)} samples/s)`);
    out.log(`model:      ${show(modelPath)}`);
    out.log(`checkpoint: ${show(checkpointPath)}`);
    out.log(`metrics:    ${show(metricsPath)}`);
    out.log(`plots:      ${Object.values(plots).map(show).join(', ')}`);
  }
  return 0;
}

export { LINREG_MODES };
