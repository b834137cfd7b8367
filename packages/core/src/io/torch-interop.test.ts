// safetensors round trips with PyTorch, both directions, on fixtures made by fixtures/gen-fixtures.py
// (Debian's python3-torch 1.13). PyTorch does not run here: its files and its verdict are committed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, io, nn, noGrad, scope, tensor, type Tensor } from '../index.js';
import { maxAbsDiff } from '../test-utils.js';
import { simdgradFixture } from './fixtures/simdgrad-fixture.js';

beforeAll(async () => {
  await init();
});

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const readJson = <T>(name: string): T => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;

interface ModelFixture {
  torch: string;
  keys: string[];
  inputShape: number[];
  inputDtype: string;
  input: number[];
  outputShape: number[];
  output: number[];
}

/** The architectures of gen-fixtures.py, built with simdgrad's nn. */
const architectures: [string, () => nn.Module][] = [
  ['torch-mlp', () => new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 3))],
  ['torch-cnn', () => new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.BatchNorm2d(4), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3, { stride: 1, padding: 1, groups: 2 }), new nn.GELU(), new nn.AvgPool2d(2),
    new nn.Conv2d(6, 8, 1), new nn.AdaptiveAvgPool2d(1), new nn.Flatten(), new nn.Dropout(0.5), new nn.Linear(8, 3),
  )],
  ['torch-seq', () => new nn.Sequential(new nn.Embedding(10, 6), new nn.LayerNorm(6), new nn.SiLU(), new nn.Linear(6, 4), new nn.LogSoftmax(-1))],
];

describe('safetensors from PyTorch', () => {
  it.each(architectures)('%s: the state_dict loads into the same architecture and the outputs match within 1e-5', (stem, make) => {
    const f = readJson<ModelFixture>(`${stem}.json`);
    expect(f.torch).toMatch(/^1\.13/);
    const { tensors, metadata } = io.load(readFileSync(fixture(`${stem}.safetensors`)));
    expect(metadata.format).toBe('pt');
    expect(Object.keys(tensors)).toEqual(f.keys);
    const model = make();
    expect(Object.keys(model.stateDict()).sort()).toEqual([...f.keys].sort());
    model.loadStateDict(tensors);
    model.eval();
    scope(() => {
      const x = f.inputDtype.startsWith('int')
        ? tensor(Int32Array.from(f.input), { shape: f.inputShape, dtype: 'int32' })
        : tensor(Float32Array.from(f.input), { shape: f.inputShape });
      const y = noGrad(() => model.forward(x));
      expect(y.shape).toEqual(f.outputShape);
      expect(maxAbsDiff(y.toFloat32Array(), f.output)).toBeLessThan(1e-5);
    });
    for (const t of Object.values(tensors)) t.dispose();
    model.dispose();
  });

  it('reads every dtype PyTorch wrote (F32 F64 F16 BF16 I64 I32 I16 I8 U8 BOOL, 0-d, empty)', () => {
    const f = readJson<{ tensors: Record<string, { dtype: string; shape: number[]; values: number[] }> }>('torch-dtypes.json');
    const { tensors, metadata } = io.load(readFileSync(fixture('torch-dtypes.safetensors')));
    expect(metadata).toEqual({ format: 'pt', note: 'one tensor per dtype' });
    expect(Object.keys(tensors)).toEqual(Object.keys(f.tensors));
    for (const [name, want] of Object.entries(f.tensors)) {
      const t: Tensor = tensors[name]!;
      expect(t.shape, name).toEqual(want.shape);
      expect(t.dtype, name).toBe(['F32', 'F64', 'F16', 'BF16'].includes(want.dtype) ? 'float32' : 'int32');
      // F64 narrows to float32; every other value is exact in the engine's dtype
      const expected = want.dtype === 'F64' ? Array.from(Float32Array.from(want.values)) : want.values;
      expect(Array.from(t.dtype === 'int32' ? t.toInt32Array() : t.toFloat32Array()), name).toEqual(expected);
      t.dispose();
    }
  });
});

describe('safetensors to PyTorch', () => {
  it('io.save re-makes the committed file byte for byte, and that file follows the spec', () => {
    const committed = new Uint8Array(readFileSync(fixture('simdgrad-written.safetensors')));
    const { model, bytes } = simdgradFixture();
    expect(Buffer.from(bytes).equals(Buffer.from(committed))).toBe(true);
    // the spec: u64 LE header size N; N bytes of UTF-8 JSON starting with '{' (padded with spaces);
    // the tensors tile the rest in header order, little-endian, row-major
    const view = new DataView(committed.buffer, committed.byteOffset, committed.byteLength);
    const n = Number(view.getBigUint64(0, true));
    const text = new TextDecoder().decode(committed.subarray(8, 8 + n));
    expect(text.startsWith('{')).toBe(true);
    expect(text.trimEnd().length).toBeGreaterThan(n - 8);
    const header = JSON.parse(text) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const { __metadata__: meta, ...entries } = header as unknown as Record<string, never>;
    expect(Object.keys(meta)).toEqual(['format', 'arch', 'input', 'output']);
    let at = 0;
    const state = model.stateDict();
    for (const [name, e] of Object.entries(entries) as [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][]) {
      const t = state[name]!;
      expect(e.shape).toEqual(t.shape);
      expect(e.dtype).toBe(t.dtype === 'int32' ? 'I32' : 'F32');
      expect(e.data_offsets).toEqual([at, at + t.size * 4]);
      const data = committed.subarray(8 + n + at, 8 + n + at + t.size * 4);
      const expected = t.dtype === 'int32' ? t.toInt32Array() : t.toFloat32Array();
      expect(Array.from(data)).toEqual(Array.from(new Uint8Array(expected.buffer)));
      at += t.size * 4;
    }
    expect(8 + n + at).toBe(committed.length);
    model.dispose();
  });

  it('PyTorch loaded that exact file with the same names, values and outputs (recorded by gen-fixtures.py)', () => {
    const check = readJson<{
      ok: boolean; sha256: string; torch: string; keys: string[]; maxAbsDiffValues: number; maxAbsDiffOutputs: number;
      loadStateDict: { strict: boolean; missing: string[]; unexpected: string[] }; dtypes: Record<string, string>;
    }>('pytorch-check.json');
    const digest = createHash('sha256').update(readFileSync(fixture('simdgrad-written.safetensors'))).digest('hex');
    expect(check.sha256).toBe(digest); // the verdict is about these bytes: re-run the generator after changing them
    expect(check.ok).toBe(true);
    expect(check.torch).toMatch(/^1\.13/);
    expect(check.loadStateDict).toEqual({ strict: true, missing: [], unexpected: [] });
    expect(check.maxAbsDiffValues).toBeLessThanOrEqual(1e-6);
    expect(check.maxAbsDiffOutputs).toBeLessThanOrEqual(1e-5);
    expect(check.dtypes['1.num_batches_tracked']).toBe('int32');
    expect(check.keys).toContain('1.running_var');
  });
});
