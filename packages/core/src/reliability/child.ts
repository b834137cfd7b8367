// The subprocess side of the reliability tests (bundled by subprocess.ts with esbuild and run with node):
//   train SEED STEPS PLAIN      → prints {"hash", "build"}: SHA-256 of the weights after STEPS Adam steps
//   checkpoint-loop PATH STEPS  → resumes from PATH if it exists, then trains and saves a checkpoint with
//                                 saveCheckpointFile after every step, printing "saved N"; at the end "done HASH"
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Generator, getBackend, init, manualSeed, nn, optim, scope, tensor, type Tensor } from '../index.js';
import { loadCheckpointFile, saveCheckpointFile } from '../node.js';

/** SHA-256 of the float32 bytes of a state dict, in key order. */
export function hashWeights(model: nn.Module): string {
  const h = createHash('sha256');
  for (const [k, t] of Object.entries(model.stateDict())) {
    h.update(k);
    const f = t.toFloat32Array();
    h.update(new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }
  return h.digest('hex');
}

function dataset(rows: number, cols: number, outs: number): { x: Tensor; y: Tensor } {
  const g = new Generator(7);
  const x = tensor(Float32Array.from({ length: rows * cols }, () => g.normal()), { shape: [rows, cols] });
  const y = tensor(Float32Array.from({ length: rows * outs }, () => g.normal()), { shape: [rows, outs] });
  return { x, y };
}

function step(model: nn.Module, opt: optim.Adam, x: Tensor, y: Tensor): void {
  scope(() => {
    opt.zeroGrad();
    nn.functional.mseLoss(model.forward(x), y).backward();
    opt.step();
  });
}

async function main(): Promise<void> {
  const [mode, a, b, c] = process.argv.slice(2);
  if (mode === 'train') {
    await init({ relaxed: c === 'plain' ? false : 'auto' });
    manualSeed(Number(a));
    const model = new nn.Sequential(new nn.Linear(16, 32), new nn.Tanh(), new nn.Linear(32, 4));
    const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    const { x, y } = dataset(64, 16, 4);
    for (let i = 0; i < Number(b); i++) step(model, opt, x, y);
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
      step(model, opt, x, y);
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
