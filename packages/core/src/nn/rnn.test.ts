import { beforeAll, describe, expect, it } from 'vitest';
import { init, manualSeed, nn, randn, scope, stack, tensor, type Tensor } from '../index.js';
import { checkOp, expectAllClose } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

const sig = (v: number) => 1 / (1 + Math.exp(-v));

describe('nn.RNN / nn.LSTM / nn.GRU', () => {
  it('use PyTorch parameter names and shapes', () => {
    const lstm = new nn.LSTM(3, 5, { numLayers: 2 });
    expect(lstm.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
      ['weight_ih_l0', [20, 3]], ['weight_hh_l0', [20, 5]], ['bias_ih_l0', [20]], ['bias_hh_l0', [20]],
      ['weight_ih_l1', [20, 5]], ['weight_hh_l1', [20, 5]], ['bias_ih_l1', [20]], ['bias_hh_l1', [20]],
    ]);
    expect(new nn.GRU(3, 4, { bias: false }).namedParameters().map(([k, p]) => [k, p.shape])).toEqual([['weight_ih_l0', [12, 3]], ['weight_hh_l0', [12, 4]]]);
    const bound = 1 / Math.sqrt(5);
    expect(lstm.parameters().every((p) => Array.from(p.toFloat32Array()).every((x) => Math.abs(x) <= bound))).toBe(true);
    expect(lstm.toString()).toBe('LSTM(3, 5, num_layers=2, batch_first=true)');
  });

  it('an LSTM step equals the hand computation (gate order i, f, g, o)', () => {
    const lstm = new nn.LSTM(1, 1);
    lstm.loadStateDict({
      weight_ih_l0: tensor([[0.1], [0.2], [0.3], [0.4]]), weight_hh_l0: tensor([[0.5], [0.6], [0.7], [0.8]]),
      bias_ih_l0: tensor([0.01, 0.02, 0.03, 0.04]), bias_hh_l0: tensor([0, 0, 0, 0]),
    });
    const [out, st] = lstm.forwardWithState(tensor([[[1]]]), { h: tensor([[[0.5]]]), c: tensor([[[0.25]]]) });
    const i = sig(0.1 + 0.01 + 0.25), f = sig(0.2 + 0.02 + 0.3), g = Math.tanh(0.3 + 0.03 + 0.35), o = sig(0.4 + 0.04 + 0.4);
    const c1 = f * 0.25 + i * g, h1 = o * Math.tanh(c1);
    expectAllClose(out.toFloat32Array(), [h1], 1e-6, 1e-7, 'h');
    expectAllClose(st.h.toFloat32Array(), [h1], 1e-6, 1e-7, 'hN');
    expectAllClose(st.c!.toFloat32Array(), [c1], 1e-6, 1e-7, 'cN');
  });

  it('a GRU step equals the hand computation (gate order r, z, n; r after W_hn)', () => {
    const gru = new nn.GRU(1, 1);
    gru.loadStateDict({
      weight_ih_l0: tensor([[0.1], [0.2], [0.3]]), weight_hh_l0: tensor([[0.4], [0.5], [0.6]]),
      bias_ih_l0: tensor([0.01, 0.02, 0.03]), bias_hh_l0: tensor([0.04, 0.05, 0.06]),
    });
    const x = 2, h = -0.5;
    const r = sig(0.1 * x + 0.01 + 0.4 * h + 0.04), z = sig(0.2 * x + 0.02 + 0.5 * h + 0.05);
    const n = Math.tanh(0.3 * x + 0.03 + r * (0.6 * h + 0.06));
    const [out] = gru.forwardWithState(tensor([[[x]]]), { h: tensor([[[h]]]) });
    expectAllClose(out.toFloat32Array(), [(1 - z) * n + z * h], 1e-6, 1e-7, 'gru');
  });

  it('an RNN over two steps equals the hand computation', () => {
    const rnn = new nn.RNN(1, 1);
    rnn.loadStateDict({ weight_ih_l0: tensor([[0.5]]), weight_hh_l0: tensor([[-1]]), bias_ih_l0: tensor([0.1]), bias_hh_l0: tensor([0.2]) });
    const h1 = Math.tanh(0.5 * 1 + 0.3), h2 = Math.tanh(0.5 * 2 - h1 + 0.3);
    expectAllClose(rnn.forward(tensor([[[1], [2]]])).toFloat32Array(), [h1, h2], 1e-6, 1e-7, 'rnn');
  });

  it('multi-layer, batch-first shapes and the returned state', () => scope(() => {
    manualSeed(1);
    const gru = new nn.GRU(3, 4, { numLayers: 2 });
    const x = randn([2, 5, 3]);
    const [out, st] = gru.forwardWithState(x);
    expect(out.shape).toEqual([2, 5, 4]);
    expect(st.h.shape).toEqual([2, 2, 4]);
    // the top layer's final state is the last output
    expectAllClose(st.h.narrow(0, 1, 1).reshape([2, 4]).toFloat32Array(), out.narrow(1, 4, 1).reshape([2, 4]).toFloat32Array(), 0, 0, 'last');
    // running in two halves with the state carried over gives the same result
    const [, sa] = gru.forwardWithState(x.narrow(1, 0, 2));
    const [b] = gru.forwardWithState(x.narrow(1, 2, 3), sa);
    expectAllClose(b.toFloat32Array(), out.narrow(1, 2, 3).toFloat32Array(), 1e-5, 1e-6, 'carry');
    const seqFirst = new nn.LSTM(3, 4, { batchFirst: false });
    expect(seqFirst.forward(randn([5, 2, 3])).shape).toEqual([5, 2, 4]);
    expect(() => gru.forward(randn([2, 5, 4]))).toThrow('GRU: expected input [B, T, 3] (got [2,5,4])');
  }));

  it('LSTM parameter and state gradients equal those of the cell written out step by step', () => scope(() => {
    manualSeed(3);
    const lstm = new nn.LSTM(3, 4, { numLayers: 2 });
    const x = randn([2, 5, 3], { requiresGrad: true });
    const h0 = randn([2, 2, 4], { requiresGrad: true }), c0 = randn([2, 2, 4], { requiresGrad: true });
    const w = randn([2, 5, 4]);
    // A loss that reads every output, the final h and the final c (so all three gradient paths count).
    const lossOf = (out: Tensor, h: Tensor, c: Tensor) => out.mul(w).sum().add(h.square().sum()).add(c.mul(0.5).sum());
    const [out, st] = lstm.forwardWithState(x, { h: h0, c: c0 });
    lossOf(out, st.h, st.c!).backward();
    const fused = [x, h0, c0, ...lstm.parameters()].map((t) => Array.from(t.grad!.toFloat32Array()));
    for (const t of [x, h0, c0, ...lstm.parameters()]) t.grad = null;
    // The same LSTM from plain ops (gate order i, f, g, o).
    const p = Object.fromEntries(lstm.namedParameters());
    let input = x;
    const hN: Tensor[] = [], cN: Tensor[] = [];
    for (let l = 0; l < 2; l++) {
      let h = h0.narrow(0, l, 1).squeeze(0), c = c0.narrow(0, l, 1).squeeze(0);
      const outs: Tensor[] = [];
      for (let t = 0; t < 5; t++) {
        const g = nn.functional.linear(input.narrow(1, t, 1).squeeze(1), p[`weight_ih_l${l}`]!, p[`bias_ih_l${l}`])
          .add(nn.functional.linear(h, p[`weight_hh_l${l}`]!, p[`bias_hh_l${l}`]));
        c = g.narrow(1, 4, 4).sigmoid().mul(c).add(g.narrow(1, 0, 4).sigmoid().mul(g.narrow(1, 8, 4).tanh()));
        h = g.narrow(1, 12, 4).sigmoid().mul(c.tanh());
        outs.push(h);
      }
      hN.push(h); cN.push(c);
      input = stack(outs, 1);
    }
    expectAllClose(out.toFloat32Array(), input.toFloat32Array(), 1e-5, 1e-6, 'out');
    lossOf(input, stack(hN, 0), stack(cN, 0)).backward();
    const plain = [x, h0, c0, ...lstm.parameters()].map((t) => Array.from(t.grad!.toFloat32Array()));
    const names = ['x', 'h0', 'c0', ...lstm.namedParameters().map(([k]) => k)];
    fused.forEach((g, i) => expectAllClose(g, plain[i]!, 1e-4, 1e-5, `grad ${names[i]}`));
  }));

  it('gradcheck (forward vs reference too)', async () => {
    await checkOp('rnn', (x) => new nn.RNN(2, 3, { numLayers: 2 }).forward(x!), [{ shape: [2, 3, 2] }]);
    await checkOp('lstm', (x, h, c) => new nn.LSTM(2, 3).forwardWithState(x!, { h: h!, c: c! })[0], [{ shape: [2, 3, 2] }, { shape: [1, 2, 3] }, { shape: [1, 2, 3] }]);
    await checkOp('gru', (x) => new nn.GRU(2, 3, { numLayers: 2 }).forward(x!), [{ shape: [2, 3, 2] }]);
  });
});
