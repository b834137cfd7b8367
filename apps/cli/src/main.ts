#!/usr/bin/env node
// The `simdgrad` command: train, evaluate, predict, find a learning rate, benchmark and export models.
// Argument parsing is commander's; each command lives in train.ts or commands.ts. Errors print one line
// (`simdgrad <command>: problem (help: …)`), with the stack only under --verbose.
import { readFileSync } from 'node:fs';
import { backendInfo, init, SimdgradError } from '@simdgrad/core';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { benchCommand, datasetsCommand, evalCommand, EXPLAIN_METHODS, explainCommand, exportCommand, fetchCommand, lrFindCommand, predictCommand } from './commands.js';
import { CliError, EXIT } from './errors.js';
import { Output, outputMode } from './output.js';
import { LM_FLAGS, LM_RECIPES, MAX_SAMPLE_TOKENS, sampleCommand, trainCharLm, trainTranslate, translateCommand, type LmTrainOptions } from './lm.js';
import { LINREG_MODES, RECIPES } from './recipes.js';
import { OPTIMIZER_NAMES } from './run.js';
import { DEFAULT_RECIPE, train, type TrainOptions } from './train.js';

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const PRODUCER = `simdgrad ${VERSION}`;

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const nonNegativeInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};
const positiveNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
  return n;
};

const nonNegativeNumber = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
  return n;
};
const probability = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && n < 1)) throw new InvalidArgumentError(`${name} must be a number in (0, 1), e.g. 1e-5`);
  return n;
};

function recipeList(): string {
  return [...Object.entries(RECIPES), ...Object.entries(LM_RECIPES)].map(([name, r]) => `  ${name.padEnd(12)} ${r.about}`).join('\n');
}

const topP = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number in (0, 1]`);
  return n;
};

/** The language-model recipes' flags (charlm, translate), in their own help group. */
function languageModelOptions(cmd: Command): Command {
  const group = 'Language-model recipes (charlm, translate):';
  const add = (flags: string, about: string, parse: (v: string) => number | string) => cmd.addOption(new Option(flags, about).argParser(parse).helpGroup(group));
  add('--minutes <m>', 'training time budget (default: charlm 18, translate 15; with --steps alone, none)', positiveNumber('--minutes'));
  add('--steps <n>', 'stop after N optimizer steps (with --minutes: whichever comes first)', positiveInt('--steps'));
  add('--layers <n>', 'transformer layers (charlm 4; translate 2 encoder + 2 decoder)', positiveInt('--layers'));
  add('--heads <n>', 'attention heads (default 4)', positiveInt('--heads'));
  add('--width <n>', 'model width d_model (default 128)', positiveInt('--width'));
  add('--context <n>', 'charlm: characters of context (default 64)', positiveInt('--context'));
  add('--ff <n>', 'translate: feed-forward width (default 256)', positiveInt('--ff'));
  add('--dropout <p>', 'dropout (charlm 0, translate 0.1)', nonNegativeNumber('--dropout'));
  add('--warmup <n>', 'linear learning-rate warm-up steps before the cosine (default 100)', nonNegativeInt('--warmup'));
  add('--eval-every <n>', 'charlm: validation loss every N steps (default 250)', positiveInt('--eval-every'));
  add('--data <file>', 'charlm: a UTF-8 text file (default data/tinyshakespeare.txt); translate: English<TAB>French lines (default data/fra-eng/fra-eng-short.txt)', String);
  add('--beam <k>', 'translate: also report BLEU with beam search of width k', positiveInt('--beam'));
  add('--beam-sentences <n>', 'translate: held-out sentences for the beam BLEU (default 500)', positiveInt('--beam-sentences'));
  add('--eval-sentences <n>', 'translate: BLEU on only the first N held-out sentences (quick runs)', positiveInt('--eval-sentences'));
  add('--min-count <n>', 'translate: words seen fewer times are <unk> (default 3)', positiveInt('--min-count'));
  // the examples' spelling of --batch-size
  cmd.addOption(new Option('--batch <n>', 'the same as --batch-size').argParser(positiveInt('--batch')).hideHelp());
  return cmd;
}

/** Runs a language-model recipe after checking that every flag given applies to it. */
async function trainLanguageModel(recipe: string, o: LmTrainOptions & TrainOptions, out: Output): Promise<number> {
  for (const [flag, v] of [['--epochs', o.epochs], ['--optimizer', o.optimizer], ['--mode', o.mode], ['--limit', o.limit], ['--resume', o.resume], ['--detect-anomaly', o.detectAnomaly],
    ['--dp-noise', o.dpNoise], ['--dp-epsilon', o.dpEpsilon], ['--dp-clip', o.dpClip], ['--dp-delta', o.dpDelta]] as const) {
    if (v !== undefined) throw new CliError(`train: ${flag} does not apply to the ${recipe} recipe (help: it trains for --minutes or --steps with AdamW)`, EXIT.usage);
  }
  for (const [key, f] of Object.entries(LM_FLAGS)) {
    if ((o as Record<string, unknown>)[key] !== undefined && !f.recipes.includes(recipe)) throw new CliError(`train: ${f.flag} applies to the ${f.recipes.join(' and ')} recipe${f.recipes.length > 1 ? 's' : ''} only`, EXIT.usage);
  }
  return recipe === 'charlm' ? trainCharLm(o, out) : trainTranslate(o, out);
}

const CONFIG_HELP = `
A JSON config trains your own data without code, e.g.:
  {
    "data": { "csv": "flowers.csv", "labelColumn": "species", "testFraction": 0.2 },
    "model": [ { "type": "linear", "out": 16 }, { "type": "relu" }, { "type": "linear" } ],
    "optimizer": { "type": "adam", "lr": 0.01 },
    "schedule": { "type": "cosine" },
    "epochs": 50, "batchSize": 16
  }
data: "csv" (+ "labelColumn", "testCsv"), "idx" (a prefix like "dir/train" or {"images", "labels"}, + "testIdx"),
or "dataset" (a built-in name); "testFraction", "valFraction", "standardize", "limit", "classNames".
task: "classification" (default) or "regression".
layers: linear (in, out, bias), conv2d (out, kernel, stride, padding), batchnorm1d, batchnorm2d, maxpool2d
(kernel, stride), avgpool2d, flatten, dropout (p), relu, tanh, sigmoid, gelu, silu, leakyrelu, elu.
Sizes are inferred; the last linear's "out" defaults to the number of classes (1 for regression).
schedule: {"type": "step", "stepSize", "gamma"} | {"type": "cosine", "tMax"} | {"type": "onecycle", "maxLr"}.`;

/** Options shared by train and lr-find. */
function trainingOptions(cmd: Command): Command {
  return cmd
    .option('--epochs <n>', 'number of epochs', positiveInt('--epochs'))
    .option('--batch-size <n>', 'samples per step', positiveInt('--batch-size'))
    .option('--lr <rate>', 'learning rate', positiveNumber('--lr'))
    .option('--optimizer <name>', `optimizer: ${OPTIMIZER_NAMES.join(', ')}`)
    .option('--seed <n>', 'random seed (data split, init, data order)', nonNegativeInt('--seed'))
    .option('--mode <mode>', `linreg only: ${Object.keys(LINREG_MODES).join(', ')}`)
    .option('--limit <n>', 'use only the first N samples of each split (quick runs)', positiveInt('--limit'))
    .option('--threads <n>', 'threads for the kernels (1 = single-threaded; more need worker_threads)', positiveInt('--threads'))
    .option('--out <dir>', 'output directory (default: runs/<name>)');
}

function common(cmd: Command): Command {
  return cmd.option('--json', 'machine-readable output: one JSON object per line').option('--verbose', 'show stack traces on errors');
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const outFor = (o: { json?: boolean; verbose?: boolean }) => new Output(outputMode(o.json === true), o.verbose === true);
  const ready = async (o: { threads?: number; verbose?: boolean }) => {
    await init({ threads: o.threads ?? 1 });
    const info = backendInfo();
    if (o.threads !== undefined && o.threads > info.threads) process.stderr.write(`note: --threads ${o.threads}: running ${info.threads} (${info.threadsNote ?? 'threads are not available'})\n`);
  };

  const program = new Command('simdgrad')
    .description('simdgrad — deep learning in JavaScript on WebAssembly SIMD: train, evaluate, predict, benchmark, export')
    .version(VERSION, '--version', 'print the version')
    .helpOption('--help', 'show help')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  languageModelOptions(common(trainingOptions(program.command('train')
    .description('train a built-in recipe or a JSON config, writing model, checkpoint, metrics and plots to --out')
    .argument('[recipe|config.json]', `a recipe (default ${DEFAULT_RECIPE}) or a JSON config`))))
    .option('--resume <ckpt>', 'continue from a checkpoint.safetensors (same result as an uninterrupted run)')
    .option('--detect-anomaly', 'check every op and gradient for NaN/Inf and stop naming the op that made it (slower)')
    .option('--dp-noise <sigma>', 'DP-SGD: noise multiplier σ (Gaussian noise σ·C on the summed clipped per-sample gradients, Poisson batches)', nonNegativeNumber('--dp-noise'))
    .option('--dp-epsilon <eps>', 'DP-SGD: target ε after --epochs; σ is found for it (instead of --dp-noise)', positiveNumber('--dp-epsilon'))
    .option('--dp-clip <C>', 'DP-SGD: clip each sample\'s gradient to L2 norm C (default 1)', positiveNumber('--dp-clip'))
    .option('--dp-delta <delta>', 'DP-SGD: δ of the (ε, δ) guarantee (default: a power of ten below 1/N, at most 1e-5)', probability('--dp-delta'))
    .addOption(new Option('--stop-after-steps <n>', 'test hook: stop as on Ctrl-C after N steps').argParser(positiveInt('--stop-after-steps')).hideHelp())
    .addHelpText('after', `\nRecipes:\n${recipeList()}\n${CONFIG_HELP}\n\nExamples:\n  simdgrad train linreg --mode sgd\n  simdgrad train digits-mlp --epochs 5 --out runs/digits\n  simdgrad train my-config.json --json\n  simdgrad train --resume runs/digits/checkpoint.safetensors\n  simdgrad train spoken-digits --out runs/speech        (then: simdgrad predict runs/speech/model.safetensors one.wav)\n  simdgrad train fashion-mlp --dp-epsilon 3 --dp-clip 1  (DP-SGD: ε printed every epoch; BatchNorm models are refused)\n  simdgrad train charlm --out runs/charlm               (18 min; then: simdgrad sample runs/charlm --prompt "ROMEO:")\n  simdgrad train translate --beam 4 --json              (15 min; then: simdgrad translate runs/translate "I am hungry.")\n  simdgrad train charlm --steps 200 --layers 2 --width 64  (a quick look)`)
    .action(async (target: string | undefined, o: TrainOptions & LmTrainOptions & { threads?: number; batch?: number }) => {
      if (o.batch !== undefined) {
        if (o.batchSize !== undefined && o.batchSize !== o.batch) throw new CliError(`train: --batch ${o.batch} and --batch-size ${o.batchSize} disagree (they are the same option)`, EXIT.usage);
        o.batchSize = o.batch;
        delete o.batch;
      }
      if (target !== undefined && LM_RECIPES[target] !== undefined) {
        await ready(o);
        code = await trainLanguageModel(target, o, outFor(o));
        return;
      }
      const lmFlag = Object.entries(LM_FLAGS).find(([key]) => (o as Record<string, unknown>)[key] !== undefined);
      if (lmFlag !== undefined) throw new CliError(`train: ${lmFlag[1].flag} applies to the ${lmFlag[1].recipes.join(' and ')} recipe${lmFlag[1].recipes.length > 1 ? 's' : ''} only`, EXIT.usage);
      await ready(o);
      code = await train(target, o, outFor(o), PRODUCER);
    });

  common(program.command('eval')
    .description('loss, accuracy and a confusion matrix of a model file on data')
    .argument('<model>', 'a model.safetensors written by train (or its directory)')
    .argument('<data>', `a CSV file, an IDX prefix (dir/t10k), a built-in data set: ${['digits', 'iris', 'wine', 'breast-cancer', 'diabetes', 'fashion-mnist'].join(', ')}; audio models: a folder of {digit}_{name}_{n}.wav files or fsdd`))
    .option('--label-column <col>', 'the CSV label column, by name or index (default: as in training, else the last)')
    .option('--limit <n>', 'use only the first N samples', positiveInt('--limit'))
    .option('--batch-size <n>', 'samples per forward pass', positiveInt('--batch-size'))
    .addHelpText('after', '\nExamples:\n  simdgrad eval runs/digits-mlp/model.safetensors digits\n  simdgrad eval model.safetensors test.csv --json\n  simdgrad eval runs/spoken-digits/model.safetensors data/fsdd')
    .action(async (model: string, dataSpec: string, o) => {
      await ready(o);
      code = await evalCommand(model, dataSpec, o, outFor(o));
    });

  common(program.command('predict')
    .description('predict from CSV rows, a CSV file, PNG images (image models) or WAV recordings (spoken-digits models); translate or continue text (language models)')
    .argument('<model>', 'a model.safetensors written by train')
    .argument('<input...>', 'a CSV file, a PNG image, a .wav file, or a quoted row like "5.1,3.5,1.4,0.2"'))
    .option('--top <k>', 'classes to show per input', positiveInt('--top'))
    .addHelpText('after', '\nWith --json, one {"label", "index", "probabilities"} object per input row ({"prediction"} for regression).\n\nExamples:\n  simdgrad predict runs/iris/model.safetensors "5.1,3.5,1.4,0.2"\n  simdgrad predict runs/fashion-cnn/model.safetensors boot.png --json\n  simdgrad predict runs/spoken-digits/model.safetensors data/fsdd/7_jackson_0.wav')
    .action(async (model: string, inputs: string[], o) => {
      await ready(o);
      code = predictCommand(model, inputs, o, outFor(o));
    });

  common(program.command('sample')
    .description('write text with a charlm model, streamed as it is generated (KV cache); tokens/s at the end')
    .argument('<model>', 'a model.safetensors written by train charlm (or its directory)'))
    .option('--prompt <text>', 'the text to continue (default: a newline)')
    .option('--tokens <n>', `characters to generate, 1…${MAX_SAMPLE_TOKENS} (default 500)`, nonNegativeInt('--tokens'))
    .option('--temperature <t>', 'softmax temperature; 0 = greedy (default 0.8)', nonNegativeNumber('--temperature'))
    .option('--top-k <k>', 'sample among the k most likely characters; 0 = all (default 40)', nonNegativeInt('--top-k'))
    .option('--top-p <p>', 'nucleus sampling: the most likely characters up to probability p (default 0.95)', topP('--top-p'))
    .option('--seed <n>', 'random seed: the same seed gives the same text (default 0)', nonNegativeInt('--seed'))
    .option('--threads <n>', 'threads for the kernels', positiveInt('--threads'))
    .addHelpText('after', '\nThe text goes to stdout (the prompt first); the tokens/s line to stderr. With --json: one {"prompt", "text", "tokens", "tokensPerSec", …} object.\n\nExamples:\n  simdgrad sample runs/charlm --prompt "ROMEO:" --tokens 500\n  simdgrad sample runs/charlm/model.safetensors --prompt "JULIET:" --temperature 0.5 --top-k 10 --seed 3')
    .action(async (model: string, o) => {
      await ready(o);
      code = sampleCommand(model, o, outFor(o));
    });

  common(program.command('translate')
    .description('translate English sentences to French with a translate model (one line out per sentence)')
    .argument('<model>', 'a model.safetensors written by train translate (or its directory)')
    .argument('[sentence...]', 'English sentences (quoted); without any, one per line of stdin'))
    .option('--beam <k>', 'beam search of width k (default: greedy)', positiveInt('--beam'))
    .option('--max-length <n>', 'most French words per sentence (default: 24, or twice the input)', positiveInt('--max-length'))
    .option('--threads <n>', 'threads for the kernels', positiveInt('--threads'))
    .addHelpText('after', '\nWith --json, one {"source", "translation", "tokens", "unknownWords"} object per sentence.\n\nExamples:\n  simdgrad translate runs/translate "I am hungry." "Where is the station?"\n  simdgrad translate runs/translate/model.safetensors --beam 4 < sentences.txt')
    .action(async (model: string, sentences: string[], o) => {
      await ready(o);
      code = await translateCommand(model, sentences, o, outFor(o));
    });

  common(trainingOptions(program.command('lr-find')
    .description('the learning-rate range test: a suggested learning rate and a plot of loss against lr (log axis)')
    .argument('[recipe|config.json]', `a recipe (default ${DEFAULT_RECIPE}) or a JSON config`)))
    .option('--start-lr <lr>', 'first lr (default 1e-6)', positiveNumber('--start-lr'))
    .option('--end-lr <lr>', 'last lr (default 10)', positiveNumber('--end-lr'))
    .option('--num-iter <n>', 'steps (default 100)', positiveInt('--num-iter'))
    .addHelpText('after', '\nExample:\n  simdgrad lr-find digits-mlp --optimizer sgd')
    .action(async (target: string | undefined, o) => {
      await ready(o);
      code = await lrFindCommand(target, o, outFor(o));
    });

  common(program.command('bench')
    .description('GEMM GFLOPS, training throughput, and language-model tokens/s (training, generation) of this machine'))
    .option('--sizes <list>', 'square matmul sizes, comma-separated (default 128,256,512)')
    .option('--quick', 'smaller sizes, shorter timings')
    .action(async (o) => {
      await ready(o);
      code = await benchCommand(o, outFor(o));
    });

  common(program.command('export')
    .description('write a model as safetensors (PyTorch key names) or ONNX (opset 17, for onnxruntime) for other tools')
    .argument('<model>', 'a model.safetensors written by train'))
    .addOption(new Option('--format <format>', 'output format').choices(['safetensors', 'onnx']).default('safetensors'))
    .option('--out <file>', 'the file to write')
    .addHelpText('after', '\nONNX: input "input" [batch, …inputShape] as the model saw it in training (standardised / scaled / log-mel), output "output" (logits); the model file\'s metadata goes into metadata_props.\n\nExamples:\n  simdgrad export runs/iris/model.safetensors --format safetensors --out iris.safetensors\n  simdgrad export runs/fashion-cnn/model.safetensors --format onnx --out fashion.onnx')
    .action(async (model: string, o) => {
      await ready(o);
      code = await exportCommand(model, o, outFor(o), PRODUCER);
    });

  common(program.command('explain')
    .description('why the model predicts what it does: an attribution heat map (PNG) of one input')
    .argument('<model>', 'a model.safetensors written by train')
    .argument('<input>', 'a PNG image, a .wav file (audio models), a CSV file (its first row) or a quoted row like "5.1,3.5,1.4,0.2"'))
    .addOption(new Option('--method <method>', 'saliency (|∂output/∂input|), ig (integrated gradients, signed), smoothgrad, gradcam (conv nets)').choices([...EXPLAIN_METHODS]).default('ig'))
    .option('--out <file>', 'the PNG to write (the map over the input, upscaled)')
    .option('--target <n>', 'the class to explain (default: the predicted one)', nonNegativeInt('--target'))
    .option('--steps <n>', 'ig: path steps (default 50); smoothgrad: noisy samples (default 25)', positiveInt('--steps'))
    .addHelpText('after', '\nFor ig the completeness check is printed: the attributions sum to F(x) − F(baseline) (baseline: all-zero model input).\n\nExamples:\n  simdgrad explain runs/fashion-cnn/model.safetensors boot.png --method gradcam --out cam.png\n  simdgrad explain runs/digits-mlp/model.safetensors digit.csv --method ig --steps 100 --out ig.png --json')
    .action(async (model: string, input: string, o) => {
      await ready(o);
      code = await explainCommand(model, input, o, outFor(o));
    });

  const datasets = common(program.command('datasets')
    .description('data sets available here (bundled, Fashion-MNIST on disk); `datasets fetch NAME` downloads one'))
    .action(async (o) => {
      await ready(o);
      code = await datasetsCommand(outFor(o));
    });
  common(datasets.command('fetch')
    .description('download a data set from its official source into ~/.cache/simdgrad (needs a network)')
    .argument('<name>', 'fashion-mnist'))
    .action(async (name: string, o) => {
      await ready(o);
      code = await fetchCommand(name, outFor(o));
    });

  common(program.command('info').description('what the engine runs on (SIMD, relaxed SIMD, threads)'))
    .action(async (o) => {
      await init();
      const info = backendInfo();
      const out = outFor(o);
      out.json(info);
      for (const [k, v] of Object.entries(info)) out.log(`${k}: ${v}`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return e.code === 'commander.help' ? EXIT.usage : 0;
      const sub = argv.find((a) => !a.startsWith('-'));
      const cmd = sub !== undefined && program.commands.some((c) => c.name() === sub) ? ` ${sub}` : '';
      process.stderr.write(`simdgrad${cmd}: ${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim()} (help: simdgrad${cmd} --help)\n`);
      return EXIT.usage;
    }
    throw e;
  }
  return code;
}

// `simdgrad … | head` closes the pipe early: stop quietly instead of throwing EPIPE
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  const sub = process.argv.slice(2).find((a) => !a.startsWith('-'));
  const prefix = sub !== undefined && ['train', 'eval', 'predict', 'sample', 'translate', 'explain', 'lr-find', 'bench', 'export', 'datasets', 'info'].includes(sub) ? `simdgrad ${sub}` : 'simdgrad';
  const known = e instanceof CliError || e instanceof SimdgradError;
  const message = e instanceof Error ? e.message : String(e);
  const text = known ? message : `internal error: ${message}`;
  // a message that names its command already (`train charlm: …`) gets only the program name in front
  const named = prefix !== 'simdgrad' && new RegExp(`^${sub}( [a-z-]+)?: `).test(text);
  process.stderr.write(`${named ? `simdgrad ${text}` : `${prefix}: ${text}`}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  process.exitCode = e instanceof CliError ? e.exitCode : EXIT.error;
});
