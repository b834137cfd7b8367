// Runs child.ts in a fresh Node process: bundled once with esbuild from the sources (so the test
// exercises the code in this tree, built or not), then started with `node`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

let bundled: Promise<string> | null = null;

/** The path of the bundled child script (built on first use). */
export function childScript(): Promise<string> {
  bundled ??= (async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'simdgrad-child-')), 'child.mjs');
    await build({
      entryPoints: [fileURLToPath(new URL('./child.ts', import.meta.url))],
      bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: out, logLevel: 'error',
    });
    return out;
  })();
  return bundled;
}

/** Runs the child to completion; resolves with its stdout (rejects on a non-zero exit). */
export async function runChild(...args: string[]): Promise<string> {
  const script = await childScript();
  return new Promise((done, fail) => {
    execFile(process.execPath, [script, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`child ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else done(stdout);
    });
  });
}

/** Starts the child and returns the process (the caller reads stdout and kills it). */
export async function startChild(...args: string[]): Promise<ChildProcess> {
  return spawn(process.execPath, [await childScript(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
