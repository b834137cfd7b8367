import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimdgradError, init, io, tensor } from '../index.js';
import { loadFile, saveFile } from '../node.js';

const dir = mkdtempSync(join(tmpdir(), 'simdgrad-io-'));

beforeAll(async () => {
  await init();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('saveFile and loadFile (Node entry)', () => {
  it('round-trips a safetensors file and replaces an old one', async () => {
    const path = join(dir, 'model.safetensors');
    await saveFile(path, io.save({ w: tensor([1, 2]) }, { v: '1' }));
    await saveFile(path, io.save({ w: tensor([3, 4, 5]) }, { v: '2' }));
    const { tensors, metadata } = io.load(await loadFile(path));
    expect(metadata).toEqual({ v: '2' });
    expect(tensors.w!.toArray()).toEqual([3, 4, 5]);
    expect(readdirSync(dir)).toEqual(['model.safetensors']); // no temporary file left behind
  });

  it('a failed rename leaves no temporary file', async () => {
    const target = join(dir, 'is-a-dir');
    mkdirSync(join(target, 'child'), { recursive: true });
    await expect(saveFile(target, Uint8Array.of(1))).rejects.toThrow(/saveFile: could not write .*is-a-dir .*any previous file is unchanged/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('clear errors for a missing file and bad arguments', async () => {
    await expect(loadFile(join(dir, 'nope.safetensors'))).rejects.toThrow('loadFile: no such file');
    await expect(saveFile(join(dir, 'x'), [1, 2] as never)).rejects.toThrow(SimdgradError);
    await expect(saveFile(join(dir, 'no-such-dir', 'x'), Uint8Array.of(1))).rejects.toThrow('saveFile: could not write');
    writeFileSync(join(dir, 'plain.bin'), Uint8Array.of(7, 8));
    expect(Array.from(await loadFile(join(dir, 'plain.bin')))).toEqual([7, 8]);
    expect(readFileSync(join(dir, 'plain.bin')).length).toBe(2);
  });
});
