// The text page's worker: fetches the character model once, then generates text for each Generate
// press, posting every character as soon as it is sampled. A new press or Stop ends the running one.
import { serveWorker, errorText } from '../../shared/worker-host.js';
import { CharModel } from './char-model.js';
import type { TextIn, TextOut } from './messages.js';

// next to this bundle in dist/assets/ (build.mjs copies it from src/assets/)
const WEIGHTS = new URL('./charlm.safetensors', import.meta.url);
/** Let messages (Stop, a new press) in at least this often, in milliseconds. */
const YIELD_EVERY_MS = 20;

let model: Promise<CharModel> | null = null;

async function loadModel(): Promise<CharModel> {
  const res = await fetch(WEIGHTS);
  if (!res.ok) throw new Error(`could not fetch the model weights (${WEIGHTS.pathname}: HTTP ${res.status})`);
  return CharModel.fromSafetensors(new Uint8Array(await res.arrayBuffer()));
}

function getModel(): Promise<CharModel> {
  model ??= loadModel();
  return model;
}

serveWorker<TextIn, TextOut>({
  jobTypes: ['generate'],
  async start(msg, ctx) {
    if (msg.type !== 'generate') return;
    const m = await getModel();
    const problem = m.problem(msg);
    if (problem !== null) {
      ctx.post({ type: 'rejected', message: problem });
      return;
    }
    let last = { count: 0, seconds: 0 };
    let yielded = performance.now();
    for (const step of m.generate(msg)) {
      ctx.post({ type: 'chars', text: step.char, count: step.count, seconds: step.seconds });
      last = step;
      if (performance.now() - yielded >= YIELD_EVERY_MS) {
        await ctx.yield();
        yielded = performance.now();
        if (ctx.cancelled()) return; // leaving the loop ends the generator, which frees its KV cache
      }
    }
    ctx.post({ type: 'done', count: last.count, seconds: last.seconds });
  },
  message(msg, post) {
    if (msg.type !== 'load') return;
    getModel().then(
      (m) => post({ type: 'loaded', facts: m.facts }),
      (e: unknown) => post({ type: 'error', message: errorText(e) } as never),
    );
  },
});
