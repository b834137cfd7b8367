// The language-model commands of the built CLI, with tiny models that train in seconds: train charlm /
// train translate (--json summaries, the saved files), sample (streamed text, seeds), translate (lines,
// stdin), predict on these files, the error cases, and the language-model rows of bench --quick.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrt } from './ort.js';

const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
const CLI = join(ROOT, 'apps/cli/dist/main.js');
let dir = '';

interface Result { code: number; stdout: string; stderr: string }

function run(args: string[], stdin?: string): Promise<Result> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, CI: '1' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
  });
}

const jsonLines = (s: string) => s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const summaryOf = (s: string) => jsonLines(s).find((o) => o.type === 'summary')!;

function header(path: string): Record<string, Record<string, unknown>> {
  const bytes = readFileSync(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
}

const TINY_CHARLM = ['--layers', '1', '--heads', '2', '--width', '16', '--context', '16', '--batch-size', '8', '--lr', '0.01', '--seed', '0'];
const TINY_TRANSLATE = ['--layers', '1', '--heads', '2', '--width', '16', '--ff', '32', '--batch', '16', '--eval-sentences', '20', '--seed', '0'];
let charlm: Record<string, unknown> = {};
let translate: Record<string, unknown> = {};

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`build the CLI first: pnpm --filter @simdgrad/cli build (${CLI} is missing)`);
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-lm-'));
  // a safetensors file that is no language model: one tensor, no architecture
  const head = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  writeFileSync(join(dir, 'plain.safetensors'), Buffer.concat([len, head, Buffer.alloc(4)]));
  // both recipes at once (the machine has two cores)
  const [c, t] = await Promise.all([
    run(['train', 'charlm', ...TINY_CHARLM, '--steps', '40', '--eval-every', '10', '--out', 'charlm', '--json']),
    run(['train', 'translate', ...TINY_TRANSLATE, '--steps', '8', '--beam', '2', '--beam-sentences', '4', '--out', 'translate', '--json']),
  ]);
  expect(c.stderr).toBe('');
  expect(c.code).toBe(0);
  expect(t.stderr).toBe('');
  expect(t.code).toBe(0);
  charlm = summaryOf(c.stdout);
  translate = summaryOf(t.stdout);
  charlm.progress = jsonLines(c.stdout).filter((o) => o.type === 'progress');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('train charlm / translate', () => {
  it('documents the recipes, their flags and the new commands', async () => {
    const [train, sample, translate] = await Promise.all([run(['train', '--help']), run(['sample', '--help']), run(['translate', '--help'])]);
    for (const r of [train, sample, translate]) expect(r.code).toBe(0);
    expect(train.stdout).toMatch(/Language-model recipes \(charlm, translate\):\n\s+--minutes <m>/);
    expect(train.stdout).toMatch(/\n\s+charlm\s+a character GPT/);
    expect(train.stdout).toMatch(/\n\s+translate\s+a transformer encoder–decoder/);
    for (const flag of ['--prompt', '--tokens', '--temperature', '--top-k', '--top-p', '--seed']) expect(sample.stdout).toContain(flag);
    expect(translate.stdout).toContain('--beam <k>');
  });

  it('charlm: the --json summary holds a falling validation loss, tokens/s, the config and the model file', () => {
    const s = charlm;
    expect(s.name).toBe('charlm');
    expect(s.steps).toBe(40);
    expect(s.trainTokens).toBe(40 * 8 * 16);
    expect(Number.isFinite(s.valLoss)).toBe(true);
    const evals = (s.progress as { valLoss?: number }[]).filter((p) => p.valLoss !== undefined);
    expect(evals.map((p) => (p as { step: number }).step)).toEqual([10, 20, 30, 40]);
    // a uniform guess over 65 characters is ln 65 = 4.17 nats; 40 steps at lr 0.01 get well below it
    expect(s.valLoss as number).toBeLessThan(evals[0]!.valLoss! - 0.3);
    expect(s.trainTokensPerSec as number).toBeGreaterThan(0);
    expect(s.config).toEqual({ vocabSize: 65, contextLength: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0 });
    expect(s.interrupted).toBe(false);
    expect(String(s.sample).startsWith('ROMEO:')).toBe(true);
    const h = header(s.modelPath as string);
    // the file format of examples/charlm.mjs (GPT metadata and the vocabulary) + the result and who made it
    expect(Object.keys(h.__metadata__!).sort()).toEqual(['architecture', 'config', 'format', 'producer', 'valLoss', 'vocab']);
    expect(Number(h.__metadata__!.valLoss)).toBe(s.valLoss);
    expect(h.__metadata__!.producer).toBe('simdgrad train charlm (40 steps, seed 0)');
    expect(h.__metadata__!.architecture).toBe('gpt');
    expect(JSON.parse(h.__metadata__!.config as string)).toEqual(s.config);
    expect(JSON.parse(h.__metadata__!.vocab as string).tokens).toHaveLength(65);
    expect(h['wte.weight']!.shape).toEqual([65, 16]);
    expect(existsSync(join(dir, 'charlm/metrics.jsonl'))).toBe(true);
  });

  it('translate: the --json summary holds greedy and beam BLEU in [0, 100] and the model file', () => {
    const s = translate;
    expect(s.name).toBe('translate');
    expect(s.steps).toBe(8);
    for (const k of ['bleu', 'bleuBeam', 'bleuSingleReference']) {
      expect(s[k] as number).toBeGreaterThanOrEqual(0);
      expect(s[k] as number).toBeLessThanOrEqual(100);
    }
    expect(s.evalSentences).toBe(20);
    expect(s.beamSize).toBe(2);
    expect(s.beamSentences).toBe(4);
    expect(s.testSentences as number).toBeGreaterThan(1000);
    expect(s.trainTokensPerSec as number).toBeGreaterThan(0);
    expect(s.config).toMatchObject({ width: 16, heads: 2, layers: 1, ff: 32, dropout: 0.1 });
    expect(s.training).toMatchObject({ batchSize: 16, maxSteps: 8, minutes: null, warmup: 1 }); // --batch is --batch-size
    const h = header(s.modelPath as string);
    expect(Object.keys(h.__metadata__!).sort()).toEqual(['architecture', 'config', 'format', 'srcVocab', 'tgtVocab']);
    expect(h.__metadata__!.architecture).toBe('transformer-seq2seq');
    expect(h['decoder.0.multihead_attn.in_proj_weight']!.shape).toEqual([48, 16]);
  });

  it('Ctrl-C (the test hook) stops early, still evaluates and saves, and exits 130', async () => {
    const r = await run(['train', 'charlm', ...TINY_CHARLM, '--steps', '500', '--stop-after-steps', '3', '--out', 'stopped', '--json']);
    expect(r.code).toBe(130);
    const s = summaryOf(r.stdout);
    expect(s.interrupted).toBe(true);
    expect(s.steps).toBe(3);
    expect(Number.isFinite(s.valLoss)).toBe(true);
    expect(existsSync(s.modelPath as string)).toBe(true);
    expect(r.stderr).toMatch(/^interrupted at step 3: saving the model, then evaluating it/);
  });
});

describe('sample', () => {
  it('prints the prompt then exactly N characters; the same seed gives the same text', async () => {
    const [a, b, c, j] = await Promise.all([
      run(['sample', 'charlm/model.safetensors', '--prompt', 'ROMEO:', '--tokens', '60', '--seed', '3']),
      run(['sample', 'charlm', '--prompt', 'ROMEO:', '--tokens', '60', '--seed', '3']),
      run(['sample', 'charlm', '--prompt', 'ROMEO:', '--tokens', '60', '--seed', '4']),
      run(['sample', 'charlm', '--prompt', 'ROMEO:', '--tokens', '60', '--seed', '3', '--json']),
    ]);
    for (const r of [a, b, c, j]) expect(r.code).toBe(0);
    expect(a.stdout.startsWith('ROMEO:')).toBe(true);
    expect(a.stdout.endsWith('\n')).toBe(true);
    const generated = Array.from(a.stdout.slice('ROMEO:'.length, -1));
    expect(generated).toHaveLength(60);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).not.toBe(a.stdout);
    expect(a.stderr).toMatch(/^60 tokens in [\d.]+ s: [\d.]+ tokens\/s \(KV cache, context 16, 1 thread\)\n$/);
    const s = JSON.parse(j.stdout) as { text: string; tokens: number; tokensPerSec: number };
    expect(`ROMEO:${s.text}\n`).toBe(a.stdout);
    expect(s.tokens).toBe(60);
    expect(s.tokensPerSec).toBeGreaterThan(0);
    expect(j.stderr).toBe('');
  });

  it('predict on a charlm file continues the input', async () => {
    const r = await run(['predict', 'charlm', 'JULIET:']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('JULIET:')).toBe(true);
    expect(Array.from(r.stdout.slice(7, -1))).toHaveLength(200);
  });
});

describe('translate', () => {
  it('prints one line per sentence, from arguments or stdin, greedy or beam, and predict does the same', async () => {
    const [args, stdin, json, beam, predict] = await Promise.all([
      run(['translate', 'translate', 'I am hungry.', 'Where is the station?']),
      run(['translate', 'translate/model.safetensors'], 'Hello.\nGood night.\nI like xyzzy.\n'),
      run(['translate', 'translate', '--json', 'I am hungry.']),
      run(['translate', 'translate', '--beam', '3', 'I am hungry.']),
      run(['predict', 'translate', 'I am hungry.']),
    ]);
    for (const r of [args, stdin, json, beam, predict]) expect(r.code).toBe(0);
    expect(args.stdout.split('\n')).toHaveLength(3); // two lines and the final newline
    expect(stdin.stdout.split('\n')).toHaveLength(4);
    expect(stdin.stderr).toContain('note: sentence 3: "xyzzy" is not in the model\'s English vocabulary (read as <unk>)');
    const o = JSON.parse(json.stdout) as { source: string; translation: string; tokens: string[]; unknownWords: string[] };
    expect(o.source).toBe('I am hungry.');
    expect(o.unknownWords).toEqual([]);
    expect(`${o.translation}\n`).toBe(args.stdout.split('\n')[0] + '\n');
    expect(beam.stdout.split('\n')).toHaveLength(2);
    expect(predict.stdout).toBe(`${args.stdout.split('\n')[0]}\n`);
  });
});

describe('errors', () => {
  it('bad prompts, wrong or missing model files, --tokens out of range, flags of the wrong recipe', async () => {
    const cases: [string, string[], number, RegExp][] = [
      ['prompt characters outside the vocabulary', ['sample', 'charlm', '--prompt', 'Ωmega é'], 1,
        /^simdgrad sample: the prompt has 2 characters not in the model's vocabulary: "Ω", "é" \(the vocabulary: 65 characters, .*\)\n$/],
      ['an empty prompt', ['sample', 'charlm', '--prompt', ''], 2, /^simdgrad sample: --prompt is empty/],
      ['--tokens 0', ['sample', 'charlm', '--tokens', '0'], 2, /^simdgrad sample: --tokens must be an integer in 1…100000 \(got 0\)\n$/],
      ['--tokens too many', ['sample', 'charlm', '--tokens', '100001'], 2, /^simdgrad sample: --tokens must be an integer in 1…100000 \(got 100001\)\n$/],
      ['a missing file', ['sample', 'nothing.safetensors'], 1, /^simdgrad sample: no such file \(nothing\.safetensors\)\n$/],
      ['a file that is no language model', ['sample', 'plain.safetensors'], 1,
        /^simdgrad sample: plain\.safetensors is not a charlm model \(no architecture in its __metadata__\) \(help: `simdgrad train charlm` writes one\)\n$/],
      ['a translate model given to sample', ['sample', 'translate'], 1, /^simdgrad sample: translate is a translate model, not a charlm model \(help: simdgrad translate translate "I am hungry\."\)\n$/],
      ['a charlm model given to translate', ['translate', 'charlm', 'Hi.'], 1, /^simdgrad translate: charlm is a charlm model, not a translate model/],
      ['a missing translate model', ['translate', 'nothing', 'Hi.'], 1, /^simdgrad translate: no such file \(nothing\)\n$/],
      ['a charlm model given to eval', ['eval', 'charlm', 'digits'], 1, /^simdgrad eval: charlm: a charlm language model; this command takes the classification and regression models of train \(help: simdgrad sample charlm --prompt "ROMEO:"\)\n$/],
      ['--top-p 0', ['sample', 'charlm', '--top-p', '0'], 2, /^simdgrad sample: .*--top-p must be a number in \(0, 1\]/],
      ['an epoch count for a language model', ['train', 'charlm', '--epochs', '2'], 2, /^simdgrad train: --epochs does not apply to the charlm recipe/],
      ['a charlm flag for translate', ['train', 'translate', '--context', '8'], 2, /^simdgrad train: --context applies to the charlm recipe only\n$/],
      ['a language-model flag for another recipe', ['train', 'iris', '--layers', '2'], 2, /^simdgrad train: --layers applies to the charlm and translate recipes only\n$/],
      ['a missing corpus', ['train', 'charlm', '--data', 'nothing.txt'], 1, /^simdgrad train charlm: --data: no such file \(nothing\.txt\)\n$/],
      ['width not a multiple of heads', ['train', 'charlm', '--width', '10', '--heads', '4', '--steps', '1'], 2, /--width must be a multiple of --heads \(got width 10, heads 4\)/],
    ];
    const results = await Promise.all(cases.map(([, args]) => run(args)));
    cases.forEach(([what, , code, message], i) => {
      expect({ what, code: results[i]!.code, stderr: results[i]!.stderr }).toEqual({ what, code, stderr: expect.stringMatching(message) });
    });
  });
});

describe('export of language models', () => {
  it('charlm → ONNX: int64 ids of any length in, logits out, the same numbers in the engine and in onnxruntime', async () => {
    const x = await run(['export', charlm.modelPath as string, '--format', 'onnx', '--out', 'charlm.onnx', '--json']);
    expect(x.code, x.stderr).toBe(0);
    expect(JSON.parse(x.stdout)).toMatchObject({ format: 'onnx', opset: 17, input: { dtype: 'int64', shape: ['batch', 'sequence'] }, output: { shape: ['batch', 'sequence', 65] } });
    const { init, io, tensor, text } = await import('@simdgrad/core');
    const { importModel } = await import('@simdgrad/core/onnx');
    await init();
    const file = io.load(readFileSync(charlm.modelPath as string));
    const gpt = new text.GPT(JSON.parse(file.metadata.config!));
    gpt.loadStateDict(file.tensors);
    gpt.eval();
    const ids = Int32Array.from('ROMEO: ', (c) => (JSON.parse(file.metadata.vocab!) as { tokens: string[] }).tokens.indexOf(c));
    expect(Math.min(...ids)).toBeGreaterThanOrEqual(0);
    const want = gpt.forward(tensor(ids, { shape: [1, ids.length], dtype: 'int32' })).toFloat32Array();
    const bytes = new Uint8Array(readFileSync(join(dir, 'charlm.onnx')));
    const got = importModel(bytes).forward(tensor(ids, { shape: [1, ids.length], dtype: 'int32' })).toFloat32Array();
    expect(got.length).toBe(7 * 65);
    got.forEach((v, i) => expect(Math.abs(v - want[i]!), `logit ${i}`).toBeLessThan(1e-4));
    const ort = loadOrt(ROOT);
    if (ort !== null) {
      const session = await ort.InferenceSession.create(bytes);
      const r = await session.run({ input: new ort.Tensor('int64', BigInt64Array.from(ids, (v) => BigInt(v)), [1, ids.length]) });
      Array.from(r.output!.data).forEach((v, i) => expect(Math.abs(v - want[i]!), `onnxruntime logit ${i}`).toBeLessThan(1e-4));
    }
  });

  it('translate → safetensors keeps the metadata; → ONNX is refused by name', async () => {
    const [s, o] = await Promise.all([
      run(['export', translate.modelPath as string, '--format', 'safetensors', '--out', 'tr.safetensors']),
      run(['export', translate.modelPath as string, '--format', 'onnx', '--out', 'tr.onnx']),
    ]);
    expect(s.code, s.stderr).toBe(0);
    expect(header(join(dir, 'tr.safetensors')).__metadata__!.architecture).toBe('transformer-seq2seq');
    expect(o.code).not.toBe(0);
    expect(o.stderr).toMatch(/export: .* is a translate model: its ONNX export is not supported/);
  });
});

describe('bench --quick', () => {
  it('reports training and generation tokens/s of the GPT', async () => {
    const r = await run(['bench', '--quick', '--sizes', '32', '--json']);
    expect(r.code).toBe(0);
    const lm = (JSON.parse(r.stdout) as { languageModel: { training: Record<string, number>; generation: { cache: boolean; positions: number[]; tokensPerSec: number }[] } }).languageModel;
    expect(lm.training.batchSize).toBe(32);
    expect(lm.training.context).toBe(64);
    expect(lm.training.tokensPerSec).toBeGreaterThan(0);
    expect(lm.generation.map((g) => [g.cache, g.positions])).toEqual([[true, [1, 16]], [true, [47, 62]], [false, [47, 62]]]);
    for (const g of lm.generation) expect(g.tokensPerSec).toBeGreaterThan(0);
  }, 60_000);
});
