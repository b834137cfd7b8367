// English→French with a small transformer encoder–decoder on the short Tatoeba pairs in
// data/fra-eng (CC BY 2.0 FR; attribution in data/fra-eng/_about.txt and data/README.md).
//   node examples/translate.mjs                         — train for --minutes (default 14), report BLEU
//   node examples/translate.mjs --load translate.safetensors --prompt "I am hungry."
//   node examples/translate.mjs --load translate.safetensors   — BLEU of a saved model on the held-out split
// The held-out 10% is split by *distinct English sentence* (no source sentence of the test set is seen
// in training); every French translation of a test sentence is a reference. BLEU is corpus-level,
// 4-gram, on lower-cased word tokens (text.splitWords), greedy over the whole test set and beam search
// (--beam 4) over the first --beam-eval sentences.
// Options: --layers 2 --heads 4 --width 128 --ff 256 --batch 64 --lr 1.5e-3 --min-count 3 --threads 1 --seed 0
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Generator, init, io, manualSeed, optim, scope, text, backendInfo } from '@simdgrad/core';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  return typeof dflt === 'number' ? Number(args[i + 1]) : args[i + 1];
};
const threads = opt('threads', '1');
await init({ threads: threads === 'auto' ? 'auto' : Number(threads) });
const seed = opt('seed', 0);
manualSeed(seed);

// The model (text.Translator): a pre-norm transformer encoder–decoder whose output layer shares the
// target embedding; greedy and beam-search decoding are its methods.
const { Translator } = text;
const ids = (tok) => ({ padId: tok.padId, bosId: tok.bosId, eosId: tok.eosId, maxLength: 24 });

/** Greedy decoding of a batch of source id arrays → arrays of target ids (without <bos>/<eos>). */
const greedy = (model, srcTok, tgtTok, srcSeqs) => model.greedy(srcSeqs, ids(tgtTok));
const beam = (model, srcIds, tgtTok, beamSize) => model.beam(srcIds, { ...ids(tgtTok), beamSize });

function loadModel(path) {
  const file = io.load(readFileSync(path));
  const meta = file.metadata ?? {};
  const model = new Translator(JSON.parse(meta.config));
  model.loadStateDict(file.tensors);
  model.eval();
  return { model, srcTok: text.WordTokenizer.fromJSON(meta.srcVocab), tgtTok: text.WordTokenizer.fromJSON(meta.tgtVocab) };
}

// ---- data: group the pairs by English sentence; 10% of the distinct English sentences are held out
const dataPath = fileURLToPath(new URL('../data/fra-eng/fra-eng-short.txt', import.meta.url));
const lines = readFileSync(existsSync(dataPath) ? dataPath : '/work/shared/data/fra-eng/fra-eng-short.txt', 'utf8').split('\n').filter(Boolean);
const byEnglish = new Map();
for (const line of lines) {
  const [en, fr] = line.split('\t');
  if (!byEnglish.has(en)) byEnglish.set(en, []);
  byEnglish.get(en).push(fr);
}
const english = [...byEnglish.keys()];
const gen = new Generator(seed + 3);
for (let i = english.length - 1; i > 0; i--) { const j = gen.int(0, i + 1); [english[i], english[j]] = [english[j], english[i]]; }
const nTest = Math.round(english.length * 0.1);
const testEn = english.slice(0, nTest), trainEn = english.slice(nTest);
const trainPairs = trainEn.flatMap((en) => byEnglish.get(en).map((fr) => [en, fr]));

/** Corpus BLEU on the held-out split: greedy on every sentence, beam search on the first `nBeam`. */
function evaluateBleu(model, srcTok, tgtTok, beamSize, nBeam) {
  // hypotheses as the model's own word tokens (<unk> stays one token, which never matches)
  const words = (ids) => ids.map((id) => tgtTok.tokens[id]);
  const refs = testEn.map((en) => byEnglish.get(en).map((fr) => text.splitWords(fr)));
  const srcTest = testEn.map((en) => srcTok.encode(en, { eos: true }));
  const e0 = performance.now();
  const hyps = [];
  for (let i = 0; i < srcTest.length; i += 64) hyps.push(...greedy(model, srcTok, tgtTok, srcTest.slice(i, i + 64)));
  const greedyWords = hyps.map(words);
  const greedyBleu = text.corpusBleu(greedyWords, refs);
  console.log(`greedy BLEU ${greedyBleu.bleu.toFixed(2)} on ${testEn.length} held-out sentences (precisions ${greedyBleu.precisions.map((p) => p.toFixed(3)).join('/')}, ` +
    `BP ${greedyBleu.brevityPenalty.toFixed(3)}) in ${((performance.now() - e0) / 1000).toFixed(0)} s`);
  // for comparison with single-reference setups: only the first French translation as the reference
  const singleRef = text.corpusBleu(greedyWords, refs.map((r) => [r[0]]));
  console.log(`greedy BLEU with a single reference (the first translation): ${singleRef.bleu.toFixed(2)}`);
  nBeam = Math.min(nBeam, testEn.length);
  const b0 = performance.now();
  const beamWords = srcTest.slice(0, nBeam).map((src) => words(beam(model, src, tgtTok, beamSize)));
  const beamBleu = text.corpusBleu(beamWords, refs.slice(0, nBeam));
  const greedySub = text.corpusBleu(greedyWords.slice(0, nBeam), refs.slice(0, nBeam));
  console.log(`beam-${beamSize} BLEU ${beamBleu.bleu.toFixed(2)} vs greedy ${greedySub.bleu.toFixed(2)} on the first ${nBeam} held-out sentences (${((performance.now() - b0) / 1000).toFixed(0)} s)`);
  for (let i = 0; i < 8; i++) console.log(`  ${testEn[i]} → ${(beamWords[i] ?? greedyWords[i]).join(' ')}   [ref: ${byEnglish.get(testEn[i])[0]}]`);
  return { bleu: greedyBleu.bleu, bleuSingleReference: singleRef.bleu, bleuBeam: beamBleu.bleu, beamEvalSentences: nBeam };
}

const show = (tok, ids) => tok.decode(ids);
const loadPath = opt('load', null);
if (loadPath) {
  const { model, srcTok, tgtTok } = loadModel(loadPath);
  const sentence = opt('prompt', null);
  if (sentence) console.log(`${sentence} → ${show(tgtTok, beam(model, srcTok.encode(sentence, { eos: true }), tgtTok, opt('beam', 4)))}`);
  else console.log(JSON.stringify({ recipe: 'translate', ...evaluateBleu(model, srcTok, tgtTok, opt('beam', 4), opt('beam-eval', 500)) }));
  process.exit(0);
}

const minCount = opt('min-count', 3);
const srcTok = text.WordTokenizer.fromTexts(trainPairs.map(([en]) => en), { minCount });
const tgtTok = text.WordTokenizer.fromTexts(trainPairs.map(([, fr]) => fr), { minCount });
const train = trainPairs.map(([en, fr]) => [srcTok.encode(en, { eos: true }), tgtTok.encode(fr, { bos: true, eos: true })]);
const config = { srcVocab: srcTok.vocabSize, tgtVocab: tgtTok.vocabSize, width: opt('width', 128), heads: opt('heads', 4), layers: opt('layers', 2), ff: opt('ff', 256), dropout: opt('dropout', 0.1) };
const model = new Translator(config);
const nParams = model.parameters().reduce((a, p) => a + p.size, 0);
console.log(`translate: ${lines.length} pairs, ${english.length} distinct English sentences → train ${trainEn.length} (${train.length} pairs) / test ${testEn.length}; ` +
  `vocab en ${srcTok.vocabSize} fr ${tgtTok.vocabSize}; ${nParams} parameters; ${backendInfo().threads} thread(s)`);

const B = opt('batch', 64), lr = opt('lr', 1.5e-3), warmup = opt('warmup', 100), budget = opt('minutes', 14) * 60_000;
const optimizer = new optim.AdamW(model.parameters(), { lr, betas: [0.9, 0.98], weightDecay: 0.01 });
// linear warm-up, then a cosine over the wall-clock budget down to 5% of lr
const lrAt = (step, progress) => (step < warmup ? lr * (step + 1) / warmup : lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)))));
const t0 = performance.now();
let step = 0, tokens = 0, trainTime = 0, ema = null, epoch = 0;
const order = train.map((_, i) => i);
outer: for (;;) {
  epoch++;
  for (let i = order.length - 1; i > 0; i--) { const j = gen.int(0, i + 1); [order[i], order[j]] = [order[j], order[i]]; }
  // batches of similar target length (less padding): sort chunks of 50 batches by length
  const chunk = B * 50;
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((a, b) => train[a][1].length - train[b][1].length);
    for (let s = 0; s < part.length; s += B) {
      if (performance.now() - t0 > budget) break outer;
      const idx = part.slice(s, s + B);
      const s0 = performance.now();
      const loss = scope(() => {
        for (const g of optimizer.paramGroups) g.lr = lrAt(step, (performance.now() - t0) / budget);
        optimizer.zeroGrad();
        const l = model.loss(idx.map((i) => train[i][0]), idx.map((i) => train[i][1]), { padId: tgtTok.padId, labelSmoothing: 0.1 });
        l.backward();
        optim.clipGradNorm(model.parameters(), 1.0);
        optimizer.step();
        tokens += idx.reduce((a, i) => a + train[i][1].length - 1, 0);
        return l.item();
      });
      trainTime += performance.now() - s0;
      ema = ema === null ? loss : 0.98 * ema + 0.02 * loss;
      step++;
      if (step % 100 === 0) console.log(`epoch ${epoch} step ${step}  ${((performance.now() - t0) / 60000).toFixed(1)} min  loss ${ema.toFixed(3)}  ${Math.round(tokens / (trainTime / 1000))} target tokens/s`);
    }
  }
}
console.log(`trained ${step} steps (${epoch - 1}+ epochs) in ${(trainTime / 60000).toFixed(1)} min, ${Math.round(tokens / (trainTime / 1000))} target tokens/s`);
model.eval();

const result = evaluateBleu(model, srcTok, tgtTok, opt('beam', 4), opt('beam-eval', 500));
const out = opt('out', 'translate.safetensors');
writeFileSync(out, io.save(model.stateDict(), { ...model.metadata(), srcVocab: JSON.stringify(srcTok), tgtVocab: JSON.stringify(tgtTok) }));
console.log(JSON.stringify({ recipe: 'translate', ...result, testSentences: testEn.length, steps: step, targetTokensPerSec: tokens / (trainTime / 1000), parameters: nParams, config }));
