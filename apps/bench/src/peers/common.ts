/**
 * What every training peer shares: the three models (same shapes, batch and optimizer for every
 * engine), the synthetic data, and the line protocol between `train` (the parent) and one peer
 * process (the child).
 *
 * Protocol (JSON lines; the Python peers speak it too, see `apps/bench/python/`):
 * - child → parent, once: `{"ready": true, "engine": "...", "notes": ["..."]}` or `{"ready": false, "reason": "..."}`
 * - parent → child: `{"cmd": "time", "ms": 500, "warmupMs": 300}` → child: `{"bestMs": …, "medianMs": …, "steps": …, "loss": …}`
 * - parent → child: `{"cmd": "exit"}` (or stdin closes)
 * A child never writes anything else to stdout (logs go to stderr).
 */
import { createInterface } from 'node:readline';
import { mulberry32, timeIt } from '../report.js';

export type ModelName = 'mlp' | 'cnn' | 'charlm' | 'charlm-lstm';
export const MODEL_NAMES: readonly ModelName[] = ['mlp', 'cnn', 'charlm', 'charlm-lstm'];
/** The char models: the same data (context 32 over a 65-character vocabulary), dense or LSTM body. */
export const isCharModel = (model: ModelName): boolean => model === 'charlm' || model === 'charlm-lstm';

export interface ModelSpec {
  name: ModelName;
  title: string;
  batch: number;
  /** Adam learning rate (β = 0.9, 0.999, ε = 1e-8 everywhere). */
  lr: number;
  /** Forward multiply-add flops per sample (×3 ≈ a training step), for the GFLOPS column. */
  flopsPerSample: number;
}

export const MLP = { input: 784, hidden: [256, 128], classes: 10 } as const;
/** conv3×3(16) 'valid' + ReLU + maxpool 2, conv3×3(32) + ReLU + maxpool 2, dense → 10, on 1×28×28. */
export const CNN = { size: 28, c1: 16, c2: 32, k: 3, classes: 10, /** 28→26→13→11→5 */ flat: 32 * 5 * 5 } as const;
/** embedding(65, 64) over a context of 32 characters, flatten, dense 256 + ReLU, dense → 65. */
export const CHARLM = { vocab: 65, dim: 64, context: 32, hidden: 256 } as const;
/**
 * embedding(65, 64) over a context of 32 characters, one LSTM layer of 128 (PyTorch's gates i, f, g, o),
 * its last hidden state → dense 65: predicts the next character.
 */
export const CHARLM_LSTM = { vocab: 65, dim: 64, context: 32, hidden: 128 } as const;

export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  mlp: {
    name: 'mlp', title: 'MLP 784-256-128-10, batch 128, Adam', batch: 128, lr: 1e-3,
    flopsPerSample: 2 * (784 * 256 + 256 * 128 + 128 * 10),
  },
  cnn: {
    name: 'cnn', title: 'CNN conv3×3(16)+pool, conv3×3(32)+pool, dense 10; 1×28×28, batch 64, Adam', batch: 64, lr: 1e-3,
    flopsPerSample: 2 * (26 * 26 * 16 * 9 + 11 * 11 * 32 * 16 * 9 + CNN.flat * 10),
  },
  charlm: {
    name: 'charlm', title: 'char model: embedding 64, context 32, dense 256 → vocab 65, batch 64, Adam', batch: 64, lr: 1e-3,
    flopsPerSample: 2 * (CHARLM.context * CHARLM.dim * CHARLM.hidden + CHARLM.hidden * CHARLM.vocab),
  },
  'charlm-lstm': {
    name: 'charlm-lstm', title: 'char model: embedding 64, context 32, LSTM 128 → vocab 65, batch 64, Adam', batch: 64, lr: 1e-3,
    // Per step the four gates see the input (64) and the hidden state (128); the gate nonlinearities are not counted.
    flopsPerSample: 2 * (CHARLM_LSTM.context * 4 * CHARLM_LSTM.hidden * (CHARLM_LSTM.dim + CHARLM_LSTM.hidden) +
      CHARLM_LSTM.hidden * CHARLM_LSTM.vocab),
  },
};

/** One engine's training step on one model, set up and ready: `step()` runs forward + backward + Adam and waits for the result. */
export interface Trainer {
  /** e.g. 'simdgrad 0.1.0 (relaxed SIMD, 1 thread)'. */
  engine: string;
  /** Honest remarks: help the peer needed, fallbacks taken, substitutions. */
  notes: string[];
  /** One training step; returns the loss (read back, so lazy engines finish their work). */
  step(): number;
  /** Extra notes known only after steps ran (e.g. which borrowed kernels were called). */
  lateNotes?(): string[];
}

export interface TimeRequest {
  cmd: 'time';
  ms: number;
  warmupMs: number;
}

export interface TimeResult {
  bestMs: number;
  medianMs: number;
  steps: number;
  loss: number;
  notes?: string[];
}

export interface Batch {
  /** Row-major inputs: [batch, 784] (mlp), [batch, 28, 28] pixels (cnn; the peer picks NCHW or NHWC, C = 1), or int32 [batch, 32] (charlm). */
  x: Float32Array | Int32Array;
  xShape: number[];
  /** Class labels, int32 [batch]. */
  y: Int32Array;
  classes: number;
}

/** One synthetic batch for `model` (the same numbers in every JS peer; both char models share theirs). */
export function makeBatch(model: ModelName): Batch {
  const spec = MODELS[model];
  const r = mulberry32(12345);
  const b = spec.batch;
  if (isCharModel(model)) {
    const x = new Int32Array(b * CHARLM.context);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(r() * CHARLM.vocab);
    const y = new Int32Array(b);
    for (let i = 0; i < b; i++) y[i] = Math.floor(r() * CHARLM.vocab);
    return { x, xShape: [b, CHARLM.context], y, classes: CHARLM.vocab };
  }
  const features = model === 'mlp' ? MLP.input : CNN.size * CNN.size;
  const x = new Float32Array(b * features);
  for (let i = 0; i < x.length; i++) x[i] = r();
  const y = new Int32Array(b);
  for (let i = 0; i < b; i++) y[i] = Math.floor(r() * 10);
  return { x, xShape: model === 'mlp' ? [b, MLP.input] : [b, CNN.size, CNN.size], y, classes: 10 };
}

/** One-hot float32 [batch, classes] of `y`. */
export function oneHot(y: Int32Array, classes: number): Float32Array {
  const out = new Float32Array(y.length * classes);
  y.forEach((c, i) => { out[i * classes + c] = 1; });
  return out;
}

/** Times `trainer.step` for one request: samples of single steps (a step lasts ≥ 1 ms on every engine). */
export function timeSteps(trainer: Trainer, req: TimeRequest): TimeResult {
  let loss = NaN;
  const t = timeIt(() => { loss = trainer.step(); }, {
    minMs: req.ms, warmupMs: req.warmupMs, minSampleMs: 0, minSamples: 3, maxMs: 2 * req.ms, callsPerSample: 1,
  });
  return { bestMs: t.bestMs, medianMs: t.medianMs, steps: t.samples, loss };
}

function send(msg: unknown): void {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

/**
 * The child side of the protocol: sets the trainer up, says ready (or why not), then answers timing
 * requests until told to exit.
 */
export async function serve(setup: () => Promise<Trainer>): Promise<void> {
  let trainer: Trainer;
  try {
    trainer = await setup();
    const loss = trainer.step();
    if (!Number.isFinite(loss)) throw new Error(`first step gave a non-finite loss (${loss})`);
  } catch (e) {
    send({ ready: false, reason: firstLine(e) });
    return;
  }
  send({ ready: true, engine: trainer.engine, notes: trainer.notes });
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const msg = JSON.parse(line) as { cmd: string };
    if (msg.cmd === 'time') {
      try {
        const result = timeSteps(trainer, msg as TimeRequest);
        const late = trainer.lateNotes?.() ?? [];
        send(late.length > 0 ? { ...result, notes: late } : result);
      } catch (e) {
        send({ error: firstLine(e) });
      }
    } else {
      break;
    }
  }
  lines.close();
}

/** A short one-line reason from an error. */
export function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 200 ? line.slice(0, 197) + '...' : line;
}
