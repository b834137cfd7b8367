import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = (file: string) => execFileSync(process.execPath, [fileURLToPath(new URL(file, import.meta.url))], { encoding: 'utf8' });

describe('examples', () => {
  it('xor: a hand-built two-layer network learns XOR', () => {
    const out = run('./xor.mjs');
    const losses = [...out.matchAll(/loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
    expect(losses.length).toBeGreaterThan(5);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 50);
    const preds = out.match(/predictions: ([\d., ]+) \(/)![1]!.split(', ').map(Number);
    expect(preds.map((p) => Math.round(p))).toEqual([0, 1, 1, 0]);
  });
});
