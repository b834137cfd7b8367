/**
 * The jax-js trainer (`@jax-js/jax`, wasm device, one thread in Node): the loss as a pure function of
 * the parameters, `valueAndGrad` + an Adam update written with jax numpy, all under one `jit`.
 * jax-js has no optimizer in the core package (that is `@jax-js/optax`), so Adam is spelled out here;
 * the bias correction is folded into the step size, passed as a scalar each step.
 *
 * jax-js arrays are reference-counted: every call consumes its array arguments (`.ref` keeps one).
 */
import { mulberry32 } from '../report.js';
import { CHARLM, CHARLM_LSTM, CNN, MLP, MODELS, makeBatch, oneHot, type ModelName, type Trainer } from './common.js';

type Jax = typeof import('@jax-js/jax');
type Arr = import('@jax-js/jax').Array;

export async function jaxTrainer(model: ModelName, embedVia: 'take' | 'onehot' = 'take'): Promise<Trainer> {
  const jax: Jax = await import('@jax-js/jax');
  const { numpy: np, nn, lax, jit, valueAndGrad, tree } = jax;
  // init() without arguments probes WebGPU through `navigator`, which Node 20 lacks.
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (got ${devices.join(', ')})`);
  jax.defaultDevice('wasm');
  const spec = MODELS[model];
  const r = mulberry32(7);
  const uniform = (shape: number[], fanIn: number): Arr => {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const bound = 1 / Math.sqrt(fanIn);
    for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * bound;
    return np.array(a).reshape(shape);
  };
  const dense = (i: number, o: number): Arr[] => [uniform([i, o], i), uniform([o], i)];

  // Parameters as a flat list; forward(params, x) → logits.
  let params: Arr[];
  let forward: (p: Arr[], x: Arr) => Arr;
  const pool2 = (h: Arr, size: number, n: number, c: number): Arr => {
    const half = Math.floor(size / 2);
    const even = size % 2 === 0 ? h : h.slice([], [], [0, 2 * half], [0, 2 * half]);
    return np.max(even.reshape([n, c, half, 2, half, 2]), [3, 5]);
  };
  const b = spec.batch;
  switch (model) {
    case 'mlp':
      params = [...dense(MLP.input, MLP.hidden[0]), ...dense(MLP.hidden[0], MLP.hidden[1]), ...dense(MLP.hidden[1], MLP.classes)];
      forward = (p, x) => {
        let h = nn.relu(np.matmul(x, p[0]!).add(p[1]!));
        h = nn.relu(np.matmul(h, p[2]!).add(p[3]!));
        return np.matmul(h, p[4]!).add(p[5]!);
      };
      break;
    case 'cnn':
      params = [
        uniform([CNN.c1, 1, CNN.k, CNN.k], 9), uniform([1, CNN.c1, 1, 1], 9),
        uniform([CNN.c2, CNN.c1, CNN.k, CNN.k], 9 * CNN.c1), uniform([1, CNN.c2, 1, 1], 9 * CNN.c1),
        ...dense(CNN.flat, CNN.classes),
      ];
      forward = (p, x) => {
        let h = nn.relu(lax.convGeneralDilated(x, p[0]!, [1, 1], 'VALID').add(p[1]!));
        h = pool2(h, 26, b, CNN.c1);
        h = nn.relu(lax.convGeneralDilated(h, p[2]!, [1, 1], 'VALID').add(p[3]!));
        h = pool2(h, 11, b, CNN.c2);
        return np.matmul(h.reshape([b, CNN.flat]), p[4]!).add(p[5]!);
      };
      break;
    case 'charlm':
      params = [
        uniform([CHARLM.vocab, CHARLM.dim], 1),
        ...dense(CHARLM.context * CHARLM.dim, CHARLM.hidden), ...dense(CHARLM.hidden, CHARLM.vocab),
      ];
      forward = (p, x) => {
        const e = (embedVia === 'take' ? np.take(p[0]!, x, 0) : np.matmul(nn.oneHot(x, CHARLM.vocab), p[0]!))
          .reshape([b, CHARLM.context * CHARLM.dim]);
        const h = nn.relu(np.matmul(e, p[1]!).add(p[2]!));
        return np.matmul(h, p[3]!).add(p[4]!);
      };
      break;
    case 'charlm-lstm': {
      // No LSTM layer in jax-js: the cell is written out (gates i, f, g, o as PyTorch; one bias) and the
      // 32 steps unrolled inside the jit. The input projection of all steps is one matmul.
      const { vocab, dim, context, hidden: hs } = CHARLM_LSTM;
      params = [uniform([vocab, dim], 1), uniform([dim, 4 * hs], hs), uniform([hs, 4 * hs], hs), uniform([4 * hs], hs), ...dense(hs, vocab)];
      forward = (p, x) => {
        const e = embedVia === 'take' ? np.take(p[0]!, x, 0) : np.matmul(nn.oneHot(x, vocab), p[0]!);
        const xp = np.matmul(e.reshape([b * context, dim]), p[1]!).add(p[3]!).reshape([b, context, 4 * hs]);
        const whh = p[2]!;
        let h = np.zeros([b, hs]);
        let c = np.zeros([b, hs]);
        for (let t = 0; t < context; t++) {
          const g = xp.ref.slice([], t, []).add(np.matmul(h, whh.ref));
          const i = nn.sigmoid(g.ref.slice([], [0, hs]));
          const f = nn.sigmoid(g.ref.slice([], [hs, 2 * hs]));
          const cand = np.tanh(g.ref.slice([], [2 * hs, 3 * hs]));
          const o = nn.sigmoid(g.slice([], [3 * hs, 4 * hs]));
          c = f.mul(c).add(i.mul(cand));
          h = o.mul(np.tanh(c.ref));
        }
        xp.dispose();
        whh.dispose();
        c.dispose();
        return np.matmul(h, p[4]!).add(p[5]!);
      };
      break;
    }
  }
  const lossFn = (p: Arr[], x: Arr, y: Arr): Arr => nn.logSoftmax(forward(p, x), -1).mul(y).sum().mul(-1 / b);
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const step = jit((p: Arr[], m: Arr[], v: Arr[], x: Arr, y: Arr, alpha: Arr) => {
    const [loss, g] = valueAndGrad(lossFn)(tree.ref(p), x, y);
    const np2: Arr[] = [];
    const nm: Arr[] = [];
    const nv: Arr[] = [];
    (g as Arr[]).forEach((gi, i) => {
      const mi = m[i]!.mul(b1).add(gi.ref.mul(1 - b1));
      const vi = v[i]!.mul(b2).add(gi.ref.mul(gi).mul(1 - b2));
      np2.push(p[i]!.sub(mi.ref.mul(alpha.ref).div(np.sqrt(vi.ref).add(eps))));
      nm.push(mi);
      nv.push(vi);
    });
    alpha.dispose();
    return [np2, nm, nv, loss] as [Arr[], Arr[], Arr[], Arr];
  });
  let m = params.map((q) => np.zerosLike(q.ref));
  let v = params.map((q) => np.zerosLike(q.ref));
  const batch = makeBatch(model);
  const xShape = model === 'cnn' ? [b, 1, CNN.size, CNN.size] : batch.xShape;
  const x = batch.x instanceof Int32Array ? np.array(batch.x, { dtype: np.int32 }).reshape(xShape) : np.array(batch.x).reshape(xShape);
  const y = np.array(oneHot(batch.y, batch.classes)).reshape([b, batch.classes]);
  let t = 0;
  const notes = ['Adam spelled out in jax numpy inside the jit (the core package has no optimizers)'];
  if (embedVia === 'onehot') notes.push(`embedding as oneHot(x) @ table: the gather's gradient fails under jit ("${takeError}")`);
  const trainer: Trainer = {
    engine: 'jax-js 0.1.25 (wasm, jit, 1 thread)',
    notes,
    step() {
      t++;
      const alpha = np.array(spec.lr * Math.sqrt(1 - b2 ** t) / (1 - b1 ** t));
      const [p2, m2, v2, loss] = step(params, m, v, x.ref, y.ref, alpha);
      params = p2;
      m = m2;
      v = v2;
      return loss.dataSync()[0]!;
    },
  };
  if ((model === 'charlm' || model === 'charlm-lstm') && embedVia === 'take') {
    try {
      trainer.step();
    } catch (e) {
      takeError = e instanceof Error ? e.message.split('\n')[0]! : String(e);
      return jaxTrainer(model, 'onehot');
    }
  }
  return trainer;
}

let takeError = '';
