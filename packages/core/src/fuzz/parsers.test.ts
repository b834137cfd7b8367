// Every file reader under a seeded mutation fuzzer: each input either loads or throws a SimdgradError
// with an `op: problem` message — never another exception, a hang, or a read outside the file or wasm
// memory — and nothing leaks on the error path. Counts per reader are printed (and noted in issue 12).
// SIMDGRAD_FUZZ_LONG=1 runs 25× more cases; SIMDGRAD_FUZZ_SEED=n explores other seeds.
// (io/safetensors.test.ts holds the small byte-flip fuzz that came with the reader; this one adds the
// length-field integers, splices, structure-aware header mutations and the other readers.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimdgradError, audio, data, getBackend, init, io, liveTensorCount, manualSeed, nn, optim, randn, tensor, type Tensor } from '../index.js';
import { fuzz, fuzzCount, summary, type FuzzReport } from './harness.js';
import { INTERESTING, mutate, mutateJson, type Rng } from './mutate.js';
import { exportModel, importModel } from '../onnx/index.js';
import { decodeModel, encodeModel, type ModelProto } from '../onnx/schema.js';

const reports: FuzzReport[] = [];

beforeAll(async () => {
  await init();
});

afterAll(() => {
  console.log(`fuzz summary${process.env.SIMDGRAD_FUZZ_LONG === '1' ? ' (long mode)' : ''}:\n${reports.map((r) => `  ${summary(r)}`).join('\n')}`);
});

/** Runs a fuzz and asserts it found nothing; leaks of tensors or heap blocks count as failures too. */
function check(r: FuzzReport, liveBefore: number, blocksBefore: number): void {
  reports.push(r);
  const distinct = [...new Set(r.failures.map((f) => `${f.kind}: ${f.error.split('\n').slice(0, 3).join(' | ')}`))];
  expect(r.failures.length, `${summary(r)}\n${distinct.join('\n')}\nfirst failing input: ${r.failures[0]?.input}`).toBe(0);
  expect(r.cases).toBe(r.loaded + r.rejected);
  expect(liveTensorCount(), `${r.name} leaked tensors`).toBe(liveBefore);
  expect(getBackend().heap.stats().liveBlocks, `${r.name} leaked heap blocks`).toBe(blocksBefore);
}

const counts = () => [liveTensorCount(), getBackend().heap.stats().liveBlocks] as const;
const disposeAll = (ts: Record<string, Tensor>) => { for (const t of Object.values(ts)) t.dispose(); };

/** A safetensors file from a header object (or text) and data bytes. */
function safetensors(header: object | string, body: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

function splitSafetensors(b: Uint8Array): { header: string; body: Uint8Array } {
  const n = Number(new DataView(b.buffer, b.byteOffset).getBigUint64(0, true));
  return { header: new TextDecoder().decode(b.subarray(8, 8 + n)), body: b.subarray(8 + n) };
}

describe('fuzz: file readers', () => {
  it('safetensors (io.load): byte mutations, length fields up to 2^64, header value swaps, body resizes', () => {
    const bytes = (n: number, fill = 0x3f) => new Uint8Array(n).fill(fill);
    const seeds = [
      io.save({ w: tensor([[1, 2], [3, 4]]), i: tensor([5], { dtype: 'int32' }), e: tensor([]).reshape([0, 3]), s: tensor(2) }, { k: 'v' }),
      safetensors({ a: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1, 2], data_offsets: [4, 8] },
        c: { dtype: 'F64', shape: [1], data_offsets: [8, 16] }, d: { dtype: 'I64', shape: [2], data_offsets: [16, 32] } }, bytes(32, 0)),
      safetensors({ __metadata__: { format: 'pt' }, m: { dtype: 'U8', shape: [3], data_offsets: [0, 3] }, n: { dtype: 'BOOL', shape: [1], data_offsets: [3, 4] },
        o: { dtype: 'I16', shape: [2], data_offsets: [4, 8] }, p: { dtype: 'U32', shape: [1], data_offsets: [8, 12] } }, bytes(12, 1)),
    ];
    const [live, blocks] = counts();
    const r = fuzz('safetensors', 0x5afe, fuzzCount(30000), (rng: Rng) => {
      const seed = rng.pick(seeds);
      const mode = rng.int(0, 3);
      if (mode === 0) return mutate(rng, seed, { corpus: seeds, fieldOffsets: [0, 4], maxLength: 4096 });
      const { header, body } = splitSafetensors(seed);
      const h = mode === 1 ? mutateJson(rng, header, ['dtype', 'shape', 'data_offsets', '__metadata__']) : header;
      const size = mode === 2 ? Math.max(0, body.length + rng.int(-8, 9)) : body.length;
      const b = new Uint8Array(size);
      b.set(body.subarray(0, size));
      const file = safetensors(h, b);
      // sometimes lie about the header size with a field-breaking integer
      if (rng.next() < 0.2) new DataView(file.buffer).setBigUint64(0, rng.pick(INTERESTING), true);
      return file;
    }, (b) => disposeAll(io.load(b).tensors));
    check(r, live, blocks);
  });

  it('checkpoints (io.loadCheckpoint): mutated files and mutated checkpoint metadata', () => {
    const model = new nn.Linear(3, 2);
    const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    const sched = new optim.lrScheduler.StepLR(opt, { stepSize: 2 });
    const seed = io.saveCheckpoint({ model, optimizer: opt, scheduler: sched, epoch: 3, extra: { best: 0.5 } });
    const { header, body } = splitSafetensors(seed);
    const [live, blocks] = counts();
    const r = fuzz('checkpoint', 0xc4e0, fuzzCount(8000), (rng: Rng) => {
      const mode = rng.int(0, 3);
      if (mode === 0) return mutate(rng, seed, { fieldOffsets: [0], maxLength: 4096 });
      const h = JSON.parse(header) as { __metadata__: Record<string, string> };
      if (mode === 1) h.__metadata__['simdgrad.checkpoint'] = mutateJson(rng, h.__metadata__['simdgrad.checkpoint']!, ['version', 'epoch', 'optimizer', 'scheduler', 'rng', 'extra', 'state', 'paramGroups']);
      return safetensors(mode === 2 ? mutateJson(rng, JSON.stringify(h)) : JSON.stringify(h), body);
    }, (b) => {
      io.loadCheckpoint(b, { model, optimizer: opt, scheduler: sched });
    });
    check(r, live, blocks);
    // the objects it loaded into still work
    expect(() => io.loadCheckpoint(seed, { model, optimizer: opt, scheduler: sched })).not.toThrow();
  });

  it('IDX (data.parseIdx + idxToTensor): dims whose product overflows, wrong element types, truncation', () => {
    const idx = (type: number, dims: number[], bytesPer: number) => {
      const n = dims.reduce((a, b) => a * b, 1);
      const out = new Uint8Array(4 + 4 * dims.length + n * bytesPer);
      const v = new DataView(out.buffer);
      out[2] = type;
      out[3] = dims.length;
      dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
      for (let i = 4 + 4 * dims.length; i < out.length; i++) out[i] = i * 37;
      return out;
    };
    const seeds = [idx(0x08, [3, 2, 2], 1), idx(0x09, [5], 1), idx(0x0b, [2, 3], 2), idx(0x0c, [4], 4), idx(0x0d, [2, 2], 4), idx(0x0e, [2], 8), idx(0x08, [0, 28, 28], 1)];
    const [live, blocks] = counts();
    const r = fuzz('idx', 0x1d8, fuzzCount(40000), (rng: Rng) => {
      if (rng.next() < 0.25) {
        // a header whose dims multiply past 2^32, 2^53 or 2^64 (or to 0) over a small body
        const ndim = rng.int(1, 6);
        const head = new Uint8Array(4 + 4 * ndim + rng.int(0, 64));
        const v = new DataView(head.buffer);
        head[2] = rng.pick([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e]);
        head[3] = ndim;
        for (let d = 0; d < ndim; d++) v.setUint32(4 + 4 * d, rng.pick([0, 1, 2, 3, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff]), false);
        return head;
      }
      return mutate(rng, rng.pick(seeds), { corpus: seeds, fieldOffsets: [2, 3, 4, 8, 12], maxLength: 4096 });
    }, (b) => {
      const parsed = data.parseIdx(b);
      if (parsed.data.length <= 4096) {
        const float = parsed.dtype === 'float32' || parsed.dtype === 'float64';
        data.idxToTensor(parsed, float ? { scale: 1 / 255 } : { dtype: 'int32' }).dispose();
      }
    });
    check(r, live, blocks);
  });

  it('CSV (data.parseCsv + csvToTensors): token and byte mutations under random options', () => {
    const seeds = [
      'sepal_length,sepal_width,species\n5.1,3.5,setosa\n7.0,3.2,versicolor\n6.3,3.3,virginica\n',
      '1,2,0\n3,4,1\n5,6,2\n',
      'a;b;label\n1.5;-2;1\n3e2;4;0\r\n',
      'x\ty\n1\t2\n3\t4\n',
      '  1   2  3\n 4 5 6\n',
      'name,value\n"a, b",1\n"c ""q""",2\n',
      '\uFEFFf1,f2,t\nNaN,inf,1.5\n-Infinity,0,2.5\n',
    ].map((s) => new TextEncoder().encode(s));
    const labelColumns = [undefined, undefined, -1, 0, 2, 5, -9, 1.5, 'species', 'label', 'missing'];
    const [live, blocks] = counts();
    const decoder = new TextDecoder();
    const r = fuzz('csv', 0xc57, fuzzCount(30000), (rng: Rng) => ({
      text: decoder.decode(mutate(rng, rng.pick(seeds), { corpus: seeds, text: true, maxLength: 2048 })),
      options: {
        header: rng.pick([undefined, 'auto', true, false] as const),
        labelColumn: rng.pick(labelColumns),
        delimiter: rng.pick([undefined, undefined, ',', ';', '\t', 'whitespace', '::']),
      },
      labelDtype: rng.pick([undefined, 'float32', 'int32'] as const),
    }), ({ text, options, labelDtype }) => {
      const csv = data.parseCsv(text, options);
      const { x, y } = data.csvToTensors(csv, labelDtype === undefined ? {} : { labelDtype });
      x.dispose();
      y?.dispose();
    });
    check(r, live, blocks);
  });

  it('WAV (audio.readWav): chunk sizes, channel counts, block align, formats, truncation', () => {
    const tone = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i / 3));
    const seeds = [
      audio.writeWav(tone(40), 8000),
      audio.writeWav([tone(21), tone(21)], 44100, { bitsPerSample: 24 }),
      audio.writeWav(tone(16), 16000, { float: true }),
      audio.writeWav([tone(9), tone(9), tone(9)], 22050, { bitsPerSample: 8 }),
      audio.writeWav(tone(10), 8000, { bitsPerSample: 32 }),
    ];
    const [live, blocks] = counts();
    // RIFF size, fmt size, format tag, channels, rate, byte rate, block align, bits, data size
    const fields = [4, 16, 20, 22, 24, 28, 32, 34, 40];
    const r = fuzz('wav', 0x3a7, fuzzCount(30000), (rng: Rng) => ({
      bytes: mutate(rng, rng.pick(seeds), { corpus: seeds, fieldOffsets: fields, maxLength: 4096 }),
      channel: rng.pick(['mix', 'mix', 0, 1, 2, 7] as const),
    }), ({ bytes, channel }) => {
      const w = audio.readWav(bytes, { channel });
      if (w.samples.length > 0 && !(w.sampleRate > 0)) throw new Error(`readWav loaded a non-positive sample rate ${w.sampleRate}`);
    });
    check(r, live, blocks);
  });

  it('ONNX (importModel + forward): byte mutations of exported models and structure-aware field swaps', () => {
    manualSeed(12);
    const mlp = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3));
    const conv = new nn.Sequential(new nn.Conv2d(2, 3, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2), new nn.Flatten(), new nn.Linear(12, 2));
    const mlpX = randn([2, 4]), convX = randn([1, 2, 4, 4]);
    const seeds = [exportModel(mlp, mlpX), exportModel(conv, convX)];
    const samples = [mlpX, convX];
    const decoded = seeds.map((b) => decodeModel(b));
    const ops = ['Relu', 'Gemm', 'Conv', 'MaxPool', 'Flatten', 'Reshape', 'MatMul', 'Add', 'Pad', 'Gather', 'Transpose', 'Constant', 'Softmax', 'Nope', ''];
    /** Replaces 1–3 leaves of a decoded model (numbers, number arrays, strings, op types) and re-encodes it. */
    const mutateProto = (rng: Rng, proto: ModelProto): Uint8Array | null => {
      const root = structuredClone(proto) as unknown;
      for (let r = 1 + rng.int(0, 3); r > 0; r--) {
        const slots: { parent: Record<string, unknown> | unknown[]; key: string | number; value: unknown }[] = [];
        const walk = (v: unknown) => {
          if (v instanceof Uint8Array) return;
          if (Array.isArray(v)) v.forEach((x, i) => { slots.push({ parent: v, key: i, value: x }); walk(x); });
          else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) { slots.push({ parent: v as Record<string, unknown>, key: k, value: x }); walk(x); }
        };
        walk(root);
        const s = rng.pick(slots);
        const set = (x: unknown) => { (s.parent as Record<string | number, unknown>)[s.key] = x; };
        const choice = rng.int(0, 6);
        if (choice === 0 && !Array.isArray(s.parent)) delete (s.parent as Record<string, unknown>)[s.key as string];
        else if (choice === 1 && Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
        else if (choice === 2 && Array.isArray(s.parent)) s.parent.push(structuredClone(s.value));
        else if (s.key === 'opType') set(rng.pick(ops));
        else if (typeof s.value === 'string') set(rng.pick(['', 'x', (s.parent as Record<string, unknown>).name ?? '', 'input', 'output']));
        else if (typeof s.value === 'number') set(rng.pick([0, 1, -1, 2, 3, 7, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53, -(2 ** 53), 0.5, s.value + 1, s.value - 1]));
        else if (s.value instanceof Uint8Array) set(s.value.subarray(0, rng.int(0, s.value.length + 1)));
      }
      try {
        return encodeModel(root as ModelProto);
      } catch {
        return null; // the schema refused the edit: fall back to a byte mutation
      }
    };
    const [live, blocks] = counts();
    const r = fuzz('onnx', 0x0a11, fuzzCount(3000), (rng: Rng) => {
      const which = rng.int(0, seeds.length);
      const bytes = rng.next() < 0.5 ? mutateProto(rng, decoded[which]!) : null;
      return bytes ?? mutate(rng, seeds[which]!, { corpus: seeds, maxLength: 8192 });
    }, (bytes) => {
      const model = importModel(bytes);
      try {
        // a sample input of the declared shape (symbolic dims → 1) if it is small, else the seed's
        const declared = model.inputs[0]!.shape.map((d) => (typeof d === 'number' ? d : 1));
        const small = declared.every((d) => Number.isInteger(d) && d >= 0 && d <= 64) && declared.reduce((a, b) => a * b, 1) <= 4096;
        const x = small ? randn(declared) : (samples.find((t) => t.ndim === declared.length) ?? samples[0]!).clone();
        try {
          model.forward(x).dispose();
        } finally {
          x.dispose();
        }
      } finally {
        model.dispose();
      }
    });
    check(r, live, blocks);
    for (const t of [mlpX, convX, ...mlp.parameters(), ...conv.parameters()]) t.dispose();
  });
});

describe('regressions the fuzzer found', () => {
  it('loadCheckpoint checks the structure of its metadata before restoring anything (was a TypeError)', () => {
    const model = new nn.Linear(2, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const good = io.saveCheckpoint({ model, optimizer: opt, epoch: 1 });
    const { header, body } = splitSafetensors(good);
    const h = JSON.parse(header) as { __metadata__: Record<string, string> };
    const meta = JSON.parse(h.__metadata__['simdgrad.checkpoint']!) as Record<string, unknown>;
    const withMeta = (m: unknown) => safetensors({ ...h, __metadata__: { ...h.__metadata__, 'simdgrad.checkpoint': JSON.stringify(m) } }, body);
    const w0 = model.weight.toFloat32Array();
    for (const [m, message] of [
      [null, 'loadCheckpoint: the checkpoint metadata is corrupt: it must be an object (got null)'],
      [{ ...meta, optimizer: 4294967295 }, 'loadCheckpoint: the checkpoint metadata is corrupt: "optimizer" must be null or { paramGroups: [...], state: {...} } (got 4294967295)'],
      [{ ...meta, rng: [] }, 'loadCheckpoint: the checkpoint metadata is corrupt: "rng" must be 4 uint32 words (not all 0) and a spare number or null (got [])'],
      [{ ...meta, rng: [0, 0, 0, 0, null] }, 'loadCheckpoint: the checkpoint metadata is corrupt: "rng" must be 4 uint32 words'],
      [{ ...meta, epoch: -1 }, 'loadCheckpoint: the checkpoint metadata is corrupt: "epoch" must be an integer ≥ 0 (got -1)'],
      [{ ...meta, version: 2 }, 'loadCheckpoint: unsupported checkpoint version 2 (expected 1)'],
    ] as const) {
      expect(() => io.loadCheckpoint(withMeta(m), { model, optimizer: opt })).toThrow(message);
    }
    // nothing was restored from the corrupt files
    expect(model.weight.toFloat32Array()).toEqual(w0);
    expect(io.loadCheckpoint(good, { model, optimizer: opt }).epoch).toBe(1);
  });

  it('importModel frees what it loaded when it rejects a file, and on names defined twice (were leaks); bad bytes are SimdgradErrors', () => {
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const x = randn([1, 3]);
    const good = decodeModel(exportModel(model, x));
    const live = liveTensorCount();
    const edited = (edit: (m: ModelProto) => void) => { const m = structuredClone(good); edit(m); return encodeModel(m); };
    for (const [bytes, message] of [
      [edited((m) => { m.graph!.input = []; }), 'importModel: the graph has no inputs'],
      [edited((m) => { m.graph!.output = []; }), 'importModel: the graph has no outputs'],
      [edited((m) => { delete m.graph!.input![0]!.type; }), 'importModel: value'],
      [edited((m) => { m.graph!.output![0]!.type!.tensorType!.elemType = 2147483647; }), 'element type 2147483647 is not supported'],
      [Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f), 'importModel: the bytes are not an ONNX model'],
      [Uint8Array.of(0xff), 'importModel: the bytes are not an ONNX model'],
    ] as const) {
      expect(() => importModel(bytes)).toThrow(SimdgradError);
      expect(() => importModel(bytes)).toThrow(message);
      expect(liveTensorCount()).toBe(live);
    }
    // an initializer listed twice: the last one wins and the first is freed with the model
    const twice = importModel(edited((m) => { m.graph!.initializer!.push(structuredClone(m.graph!.initializer![0]!)); }));
    twice.forward(x).dispose();
    twice.dispose();
    expect(liveTensorCount()).toBe(live);
    x.dispose();
    model.dispose();
  });

  it('importModel rejects Conv/pool sizes past int32 (stride 2^32 was a wasm "divide by zero" trap in forward)', () => {
    const conv = new nn.Sequential(new nn.Conv2d(1, 1, 3, { padding: 1 }), new nn.MaxPool2d(2));
    const x = randn([1, 1, 4, 4]);
    const good = decodeModel(exportModel(conv, x));
    const live = liveTensorCount();
    const withAttr = (op: string, name: string, ints: number[]) => {
      const m = structuredClone(good);
      const a = m.graph!.node!.find((n) => n.opType === op)!.attribute!.find((at) => at.name === name)!;
      a.ints = ints;
      return importModel(encodeModel(m));
    };
    for (const [op, name, ints, message] of [
      ['Conv', 'strides', [1, 2 ** 32], "(Conv): strides must be integers in [1, 2^31 - 1] (got [1, 4294967296])"],
      ['Conv', 'dilations', [0, 1], '(Conv): dilations must be integers in [1, 2^31 - 1]'],
      ['Conv', 'pads', [1, 1, 1, 2 ** 32], '(Conv): pads must be integers in [0, 2^31 - 1]'],
      ['MaxPool', 'kernel_shape', [2 ** 32, 2], '(MaxPool): kernel_shape must be integers in [1, 2^31 - 1]'],
      ['MaxPool', 'strides', [2], '(MaxPool): strides must have 2 values for a 2-d op (got [2])'],
    ] as const) {
      const model = withAttr(op, name, [...ints]);
      expect(() => model.forward(x)).toThrow(SimdgradError);
      expect(() => model.forward(x)).toThrow(message);
      model.dispose();
      expect(liveTensorCount()).toBe(live);
    }
    x.dispose();
    conv.dispose();
  });
});
