// saveFile when the disk fails midway: node:fs/promises is mocked so that writing or fsyncing the
// temporary file fails after part of the data was written, as ENOSPC or EIO would.
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SimdgradError } from '../index.js';
import { saveFile } from '../node.js';

const fault = vi.hoisted(() => ({ mode: 'none' as 'none' | 'write' | 'sync' }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (...args: Parameters<typeof fs.open>) => {
    const handle = await fs.open(...args);
    if (fault.mode === 'none') return handle;
    return new Proxy(handle, {
      get(target, prop) {
        if (prop === 'writeFile' && fault.mode === 'write') {
          return async (bytes: Uint8Array) => {
            await target.writeFile(bytes.subarray(0, bytes.length >> 1));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          };
        }
        if (prop === 'sync' && fault.mode === 'sync') {
          return async () => { throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }); };
        }
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }) as typeof fs.open;
  return { ...fs, default: { ...fs, open }, open };
});

const dir = mkdtempSync(join(tmpdir(), 'simdgrad-atomic-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('saveFile is atomic', () => {
  it.each(['write', 'sync'] as const)('a failing %s leaves the old file intact and no temporary file', async (mode) => {
    const path = join(dir, `model-${mode}.safetensors`);
    const old = Uint8Array.from({ length: 100 }, (_, i) => i);
    writeFileSync(path, old);
    fault.mode = mode;
    try {
      const err = await saveFile(path, new Uint8Array(1 << 16).fill(0xee)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SimdgradError);
      expect((err as Error).message).toMatch(/saveFile: could not write .* \((ENOSPC|EIO).*\); any previous file is unchanged/);
    } finally {
      fault.mode = 'none';
    }
    expect(new Uint8Array(readFileSync(path))).toEqual(old);
    expect(readdirSync(dir).filter((f) => f.includes(`model-${mode}`))).toEqual([`model-${mode}.safetensors`]);
    await saveFile(path, Uint8Array.of(1, 2, 3)); // and works again once the disk does
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
  });
});
