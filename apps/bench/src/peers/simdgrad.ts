/**
 * The simdgrad trainer: the core's public API only (nn.Sequential, optim.Adam, crossEntropy, scope).
 * Build and thread count come from `init({ relaxed, threads })`, which is once per process — so each
 * variant runs in its own peer process.
 */
import { backendInfo, init, nn, optim, scope, tensor, type Tensor } from '@simdgrad/core';
import { CHARLM, CHARLM_LSTM, CNN, MLP, MODELS, makeBatch, type ModelName, type Trainer } from './common.js';

export interface SimdgradOptions {
  /** false: the plain-SIMD build; true: relaxed SIMD (falls back to plain where the runtime lacks it). */
  relaxed: boolean;
  threads: number;
}

/** embedding → LSTM → the last step's hidden state → dense to the vocabulary (logits of the next character). */
class CharLstm extends nn.Module {
  embedding = new nn.Embedding(CHARLM_LSTM.vocab, CHARLM_LSTM.dim);
  lstm = new nn.LSTM(CHARLM_LSTM.dim, CHARLM_LSTM.hidden);
  head = new nn.Linear(CHARLM_LSTM.hidden, CHARLM_LSTM.vocab);
  forward(x: Tensor): Tensor {
    const [, state] = this.lstm.forwardWithState(this.embedding.forward(x));
    return this.head.forward(state.h.squeeze(0));
  }
}

function buildModel(model: ModelName): nn.Module {
  switch (model) {
    case 'mlp':
      return new nn.Sequential(
        new nn.Linear(MLP.input, MLP.hidden[0]), new nn.ReLU(),
        new nn.Linear(MLP.hidden[0], MLP.hidden[1]), new nn.ReLU(),
        new nn.Linear(MLP.hidden[1], MLP.classes),
      );
    case 'cnn':
      return new nn.Sequential(
        new nn.Conv2d(1, CNN.c1, CNN.k), new nn.ReLU(), new nn.MaxPool2d(2),
        new nn.Conv2d(CNN.c1, CNN.c2, CNN.k), new nn.ReLU(), new nn.MaxPool2d(2),
        new nn.Flatten(), new nn.Linear(CNN.flat, CNN.classes),
      );
    case 'charlm':
      return new nn.Sequential(
        new nn.Embedding(CHARLM.vocab, CHARLM.dim), new nn.Flatten(),
        new nn.Linear(CHARLM.context * CHARLM.dim, CHARLM.hidden), new nn.ReLU(),
        new nn.Linear(CHARLM.hidden, CHARLM.vocab),
      );
    case 'charlm-lstm':
      return new CharLstm();
  }
}

export async function simdgradTrainer(model: ModelName, o: SimdgradOptions): Promise<Trainer> {
  await init({ relaxed: o.relaxed, threads: o.threads });
  const info = backendInfo();
  const notes: string[] = [];
  if (o.relaxed && !info.relaxedSimd) notes.push('relaxed SIMD unavailable: ran the plain-SIMD build');
  if (info.threads !== o.threads) notes.push(`asked for ${o.threads} threads, runs ${info.threads} (${info.threadsNote ?? ''})`);
  const net = buildModel(model);
  const opt = new optim.Adam(net.parameters(), { lr: MODELS[model].lr });
  const batch = makeBatch(model);
  const shape = model === 'cnn' ? [batch.xShape[0]!, 1, CNN.size, CNN.size] : batch.xShape;
  const x: Tensor = tensor(batch.x, { shape, ...(batch.x instanceof Int32Array ? { dtype: 'int32' as const } : {}) });
  const y: Tensor = tensor(batch.y, { dtype: 'int32' });
  return {
    engine: `simdgrad (${info.relaxedSimd ? 'relaxed SIMD' : 'SIMD'}, ${info.threads} thread${info.threads > 1 ? 's' : ''})`,
    notes,
    step() {
      return scope(() => {
        opt.zeroGrad();
        const loss = nn.functional.crossEntropy(net.forward(x), y);
        loss.backward();
        opt.step();
        return loss.item();
      });
    },
  };
}
