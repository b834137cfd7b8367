// Checkpoints survive kill -9: a subprocess trains and saves a checkpoint with saveCheckpointFile after
// every step; we SIGKILL it at random moments several times. After each kill the file on disk must load
// (the previous checkpoint or the new one, never a torn file), and a run resumed from it after every kill
// must end with the same weights, bit for bit, as an uninterrupted run.
// In-process exact resume: io/checkpoint.test.ts; the CLI's resume after a test-hook stop and after a real
// SIGINT: apps/cli/test/cli.test.ts.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, io, nn, optim } from '../index.js';
import { Rng } from '../fuzz/mutate.js';
import { runChild, startChild } from './subprocess.js';

const STEPS = 150;
const KILLS = 6;
let dir = '';

beforeAll(async () => {
  await init();
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-kill-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Starts the checkpoint loop and SIGKILLs it `delayMs` after its first save of this run; resolves with the last step it reported. */
async function killDuringSaves(path: string, delayMs: number): Promise<{ lastReported: number; finished: boolean }> {
  const child = await startChild('checkpoint-loop', path, String(STEPS));
  let out = '';
  let stderr = '';
  let timer: NodeJS.Timeout | null = null;
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((done, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (timer === null && /saved \d+/.test(out)) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.on('exit', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      const saved = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      if (signal !== 'SIGKILL' && code !== 0) fail(new Error(`checkpoint loop exited with ${code}: ${stderr}`));
      else done({ lastReported: saved.length > 0 ? saved[saved.length - 1]! : -1, finished: out.includes('done ') });
    });
  });
}

function loadInto(path: string): number {
  const model = new nn.Sequential(new nn.Linear(64, 128), new nn.Tanh(), new nn.Linear(128, 64));
  const opt = new optim.Adam(model.parameters(), { lr: 0.001 });
  const { epoch } = io.loadCheckpoint(new Uint8Array(readFileSync(path)), { model, optimizer: opt });
  for (const p of model.parameters()) p.dispose();
  return epoch;
}

describe('checkpoints under kill -9', () => {
  it(`${KILLS} SIGKILLs during repeated saveCheckpointFile: the file always loads, and the resumed run equals an uninterrupted one`, async () => {
    const reference = await runChild('checkpoint-loop', join(dir, 'uninterrupted.safetensors'), String(STEPS));
    const want = /done ([0-9a-f]{64})/.exec(reference)![1];

    const path = join(dir, 'killed.safetensors');
    const rng = new Rng(0x6b111);
    const epochs: number[] = [];
    let kills = 0;
    for (let i = 0; i < KILLS; i++) {
      const { lastReported, finished } = await killDuringSaves(path, rng.int(0, 120));
      if (finished) break;
      kills++;
      expect(existsSync(path)).toBe(true);
      const epoch = loadInto(path); // throws on a torn file
      // the file holds the last reported save or the one after it (renamed before its line was printed)
      expect(epoch === lastReported || epoch === lastReported + 1, `epoch ${epoch}, last reported ${lastReported}`).toBe(true);
      epochs.push(epoch);
    }
    const final = await runChild('checkpoint-loop', path, String(STEPS));
    const got = /done ([0-9a-f]{64})/.exec(final)![1];
    const orphans = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    console.log(`checkpoint kill -9: ${kills} kills, resumed at steps ${epochs.join(', ')} of ${STEPS}; ${orphans.length} orphaned temp files left by the kills`);
    expect(kills).toBeGreaterThanOrEqual(3);
    expect(got).toBe(want);
  });
});
