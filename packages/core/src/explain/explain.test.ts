import { inflateSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { explain, init, liveTensorCount, manualSeed, nn, randn, scope, tensor, type Tensor } from '../index.js';
import { expectAllClose } from '../test-utils.js';

beforeAll(async () => {
  await init();
});

const rows = (t: Tensor, n: number): Float32Array[] => {
  const v = t.toFloat32Array(), k = v.length / n;
  return Array.from({ length: n }, (_, i) => v.subarray(i * k, (i + 1) * k));
};

describe('explain on a linear model', () => {
  it('integrated gradients equal weight × (input − baseline), for every quadrature rule', () => {
    manualSeed(0);
    const model = new nn.Linear(6, 3);
    const x = randn([2, 6]), baseline = randn([2, 6]);
    const targets = [2, 0];
    const w = rows(model.weight, 3), xs = rows(x, 2), bs = rows(baseline, 2);
    for (const method of ['gaussLegendre', 'trapezoid', 'left', 'right', 'middle'] as const) {
      const r = explain.integratedGradients(model, x, targets, { baseline, steps: 7, method });
      const got = rows(r.attributions, 2);
      targets.forEach((t, i) => {
        const want = w[t]!.map((wj, j) => wj * (xs[i]![j]! - bs[i]![j]!));
        expectAllClose(got[i]!, want, 1e-5, 1e-6, method);
      });
      expect(r.relativeError).toBeLessThan(1e-5);
      r.attributions.dispose();
    }
  });

  it('saliency is |w| of the target row and leaves the model untouched', () => {
    manualSeed(1);
    const model = new nn.Linear(4, 2);
    model.train();
    const x = randn([1, 4]);
    const live = liveTensorCount();
    const s = explain.saliency(model, x, 1);
    expectAllClose(s.toFloat32Array(), rows(model.weight, 2)[1]!.map(Math.abs), 1e-6, 1e-7);
    const signed = explain.saliency(model, x, 1, { absolute: false });
    expectAllClose(signed.toFloat32Array(), rows(model.weight, 2)[1]!, 1e-6, 1e-7);
    expect(model.weight.grad).toBeNull();
    expect(model.weight.requiresGrad).toBe(true);
    expect(model.training).toBe(true);
    s.dispose(); signed.dispose();
    expect(liveTensorCount()).toBe(live);
  });
});

describe('explain on an MLP', () => {
  it('integrated gradients satisfy completeness: Σ attributions = F(x) − F(baseline)', () => {
    manualSeed(2);
    const smooth = new nn.Sequential(new nn.Linear(10, 16), new nn.Tanh(), new nn.Linear(16, 16), new nn.Tanh(), new nn.Linear(16, 4));
    const x = randn([3, 10]);
    // smooth network, Gauss–Legendre with 32 points: the stated tolerance is 1e-4 relative
    const r = explain.integratedGradients(smooth, x, [0, 1, 3], { steps: 32 });
    expect(r.relativeError).toBeLessThan(1e-4);
    r.delta.forEach((d, i) => expect(Math.abs(d)).toBeLessThan(1e-4 * Math.max(1, Math.abs(r.outputDifference[i]!))));
    const sums = r.attributions.sum(1).toFloat32Array();
    sums.forEach((s, i) => expect(s).toBeCloseTo(r.outputDifference[i]!, 3));
    // ReLU network (the integrand jumps): trapezoid with 256 points, tolerance 1% relative
    const relu = new nn.Sequential(new nn.Linear(10, 32), new nn.ReLU(), new nn.Linear(32, 4));
    const r2 = explain.integratedGradients(relu, x, 2, { steps: 256, method: 'trapezoid' });
    expect(r2.relativeError).toBeLessThan(0.01);
  });

  it('a pixel the model ignores gets zero saliency, SmoothGrad and IG attribution', () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(9, 12), new nn.Tanh(), new nn.Linear(12, 3));
    // the first layer's column 4 is zero: pixel 4 cannot change the output
    const mask = tensor([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const state = model.stateDict();
    model.loadStateDict({ ...state, '0.weight': state['0.weight']!.mul(mask) });
    const x = randn([2, 9]);
    const maps = [
      explain.saliency(model, x, 1),
      explain.smoothGrad(model, x, 1, { samples: 8 }),
      explain.integratedGradients(model, x, 1, { steps: 8 }).attributions,
    ];
    for (const m of maps) {
      for (const row of rows(m, 2)) {
        expect(Math.abs(row[4]!)).toBe(0);
        expect(row.filter((v, j) => j !== 4 && v !== 0).length).toBe(8);
      }
      m.dispose();
    }
  });

  it('SmoothGrad is reproducible from the seed', () => {
    const model = new nn.Sequential(new nn.Linear(5, 8), new nn.Tanh(), new nn.Linear(8, 2));
    const x = randn([1, 5]);
    manualSeed(7);
    const a = explain.smoothGrad(model, x, 0, { samples: 5 }).toFloat32Array();
    manualSeed(7);
    const b = explain.smoothGrad(model, x, 0, { samples: 5 }).toFloat32Array();
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});

describe('Grad-CAM', () => {
  it('weights the chosen conv layer\'s maps by their pooled gradients (module hook = model split)', () => {
    manualSeed(4);
    const conv = new nn.Conv2d(1, 3, 3, { padding: 1 });
    const head = new nn.Sequential(new nn.ReLU(), new nn.Flatten(), new nn.Linear(3 * 6 * 6, 5));
    const model = new nn.Sequential(conv, ...[head[0]!, head[1]!, head[2]!]);
    const x = randn([2, 1, 6, 6]);
    const cam = explain.gradCam(model, conv, x, [1, 4]);
    expect(cam.shape).toEqual([2, 6, 6]);
    expect(Object.prototype.hasOwnProperty.call(conv, 'forward')).toBe(false);
    const split = explain.gradCam(model, { features: (t) => conv.forward(t), head: (a) => head.forward(a) }, x, [1, 4]);
    expectAllClose(cam.toFloat32Array(), split.toFloat32Array(), 1e-6, 1e-7);
    // by hand: A = conv(x); dY/dA = relu'(A) ⊙ W_target reshaped; α_k = mean(dY/dA_k); cam = relu(Σ α_k A_k)
    const want = scope(() => {
      const a = conv.forward(x);
      const w = (head[2] as nn.Linear).weight;
      const wt = tensor([1, 4], { dtype: 'int32' });
      const g = w.indexSelect(0, wt).reshape([2, 3, 6, 6]).mul(a.gt(0));
      return a.mul(g.mean([2, 3], true)).sum(1).relu().toFloat32Array();
    });
    expectAllClose(cam.toFloat32Array(), want, 1e-5, 1e-6);
    expect(cam.toFloat32Array().every((v) => v >= 0)).toBe(true);
    expect(() => explain.gradCam(model, new nn.Conv2d(1, 1, 1), x, 0)).toThrow(/was not called/);
  });

  it('upsamples a coarse map to the input size', () => {
    const up = explain.resizeBilinear(tensor([[[0, 1], [2, 3]]]), 4, 4).toArray() as number[][][];
    expect(up[0]![0]).toEqual([0, 0.25, 0.75, 1]);
    expect(up[0]![3]).toEqual([2, 2.25, 2.75, 3]);
  });
});

describe('PNG heat maps', () => {
  /** Parses chunks, checks CRCs, inflates IDAT with Node's zlib and returns the header and raw rows. */
  function decode(bytes: Uint8Array): { width: number; height: number; colorType: number; raw: Uint8Array } {
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let o = 8, width = 0, height = 0, colorType = 0;
    const idat: Uint8Array[] = [];
    for (;;) {
      const len = view.getUint32(o);
      const type = String.fromCharCode(...bytes.subarray(o + 4, o + 8));
      expect(view.getUint32(o + 8 + len)).toBe(explain.crc32(bytes.subarray(o + 4, o + 8 + len)));
      const body = bytes.subarray(o + 8, o + 8 + len);
      if (type === 'IHDR') { width = view.getUint32(o + 8); height = view.getUint32(o + 12); colorType = body[9]!; }
      if (type === 'IDAT') idat.push(body);
      o += 12 + len;
      if (type === 'IEND') break;
    }
    return { width, height, colorType, raw: new Uint8Array(inflateSync(Buffer.concat(idat))) };
  }

  it('encodes pixels that zlib decodes back, across several stored blocks', () => {
    const w = 200, h = 120; // 120 rows × 801 bytes > 65535: two stored blocks
    const px = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i * 7) & 0xff);
    const { width, height, colorType, raw } = decode(explain.encodePng(px, w, h, 4));
    expect([width, height, colorType]).toEqual([w, h, 6]);
    for (let y = 0; y < h; y++) {
      expect(raw[y * (w * 4 + 1)]).toBe(0);
      expect(Array.from(raw.subarray(y * (w * 4 + 1) + 1, (y + 1) * (w * 4 + 1)))).toEqual(Array.from(px.subarray(y * w * 4, (y + 1) * w * 4)));
    }
  });

  it('renders an attribution map over its image, scaled up', () => {
    const map = tensor(Array.from({ length: 16 }, (_, i) => (i === 5 ? 2 : i === 6 ? -1 : 0))).reshape([1, 16]);
    const png = explain.heatmapPng(map, { width: 4, height: 4, scale: 3, colormap: 'diverging' });
    const { width, height, colorType, raw } = decode(png);
    expect([width, height, colorType]).toEqual([12, 12, 2]);
    const pixel = (x: number, y: number) => Array.from(raw.subarray(y * 37 + 1 + x * 3, y * 37 + 1 + x * 3 + 3));
    expect(pixel(3, 3)).toEqual(explain.colorAt('diverging', 1)); // the peak: deep red
    expect(pixel(0, 0)).toEqual(explain.colorAt('diverging', 0.5)); // zero: white
    expect(pixel(6, 3)).toEqual(explain.colorAt('diverging', 0.25));
    const over = decode(explain.heatmapPng(tensor([[0, 1], [1, 0]]), { image: [0, 0, 1, 1], alpha: 0.5 }));
    expect(over.width).toBe(2);
    expect(() => explain.heatmapPng(tensor([1, 2, 3]))).toThrow(/give width and height/);
  });
});
