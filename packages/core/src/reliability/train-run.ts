// The training run the reliability tests repeat: in this process (determinism.test.ts), in a child Node
// process (child.ts) and in Node and Chromium bundles (browser-determinism.test.ts). Browser-safe: it
// imports only the public entry, so one source serves every runtime.
import { Generator, manualSeed, nn, optim, scope, tensor, type Tensor } from '../index.js';

/** `rows` fixed rows of normal inputs (`cols` wide) and targets (`outs` wide), the same for every seed. */
export function dataset(rows: number, cols: number, outs: number): { x: Tensor; y: Tensor } {
  const g = new Generator(7);
  const x = tensor(Float32Array.from({ length: rows * cols }, () => g.normal()), { shape: [rows, cols] });
  const y = tensor(Float32Array.from({ length: rows * outs }, () => g.normal()), { shape: [rows, outs] });
  return { x, y };
}

/** One full-batch MSE step; every temporary is freed. */
export function trainStep(model: nn.Module, opt: optim.Adam, x: Tensor, y: Tensor): void {
  scope(() => {
    opt.zeroGrad();
    nn.functional.mseLoss(model.forward(x), y).backward();
    opt.step();
  });
}

/**
 * The determinism run on the active backend: Linear(16, 32)–Tanh–Linear(32, 4) from `manualSeed(seed)`,
 * `steps` Adam steps (lr 0.01) on 64 fixed rows. Returns the trained model (its data is freed).
 */
export function trainTiny(seed: number, steps: number): nn.Module {
  manualSeed(seed);
  const model = new nn.Sequential(new nn.Linear(16, 32), new nn.Tanh(), new nn.Linear(32, 4));
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const { x, y } = dataset(64, 16, 4);
  for (let i = 0; i < steps; i++) trainStep(model, opt, x, y);
  x.dispose();
  y.dispose();
  return model;
}

/** A model's state dict as bytes, in key order: each key (UTF-8) followed by its float32 data. */
export function weightBytes(model: nn.Module): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [k, t] of Object.entries(model.stateDict())) {
    const f = t.toFloat32Array();
    parts.push(new TextEncoder().encode(k), new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
