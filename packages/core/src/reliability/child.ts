// The subprocess side of the reliability tests (bundled by subprocess.ts with esbuild and run with node):
//   train SEED STEPS PLAIN      → prints {"hash", "build"}: SHA-256 of the weights after STEPS Adam steps
//   checkpoint-loop PATH STEPS  → resumes from PATH if it exists, then trains and saves a checkpoint with
//                                 saveCheckpointFile after every step, printing "saved N"; at the end "done HASH"
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { getBackend, init, manualSeed, nn, optim } from '../index.js';
import { loadCheckpointFile, saveCheckpointFile } from '../node.js';
import { dataset, trainStep, trainTiny, weightBytes } from './train-run.js';

/** SHA-256 of a model's state dict (keys and float32 bytes, in key order). */
function hashWeights(model: nn.Module): string {
  return createHash('sha256').update(weightBytes(model)).digest('hex');
}

async function main(): Promise<void> {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'train') {
    await init({ relaxed: c === 'plain' ? false : 'auto' });
    const model = trainTiny(Number(a), Number(b));
    process.stdout.write(`${JSON.stringify({ hash: hashWeights(model), build: (getBackend() as { build?: string }).build })}\n`);
  } else if (mode === 'checkpoint-loop') {
    await init();
    const path = a!, total = Number(b);
    manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(64, 128), new nn.Tanh(), new nn.Linear(128, 64));
    const opt = new optim.Adam(model.parameters(), { lr: 0.001 });
    const { x, y } = dataset(32, 64, 64);
    let done = existsSync(path) ? (await loadCheckpointFile(path, { model, optimizer: opt })).epoch : 0;
    while (done < total) {
      trainStep(model, opt, x, y);
      done++;
      await saveCheckpointFile(path, { model, optimizer: opt, epoch: done });
      process.stdout.write(`saved ${done}\n`);
    }
    process.stdout.write(`done ${hashWeights(model)}\n`);
  } else {
    throw new Error(`child: unknown mode ${mode}`);
  }
}

await main();
