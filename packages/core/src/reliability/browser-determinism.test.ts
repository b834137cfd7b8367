// Determinism across runtimes: the same tiny model, seed and data trained for STEPS Adam steps in Node
// and in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core) ends with
// byte-identical weights — for the plain-SIMD build (init({ relaxed: false })) and for the default
// build (relaxed SIMD where the runtime has it). One training entry, bundled from this tree's sources
// twice with esbuild (platform node, run with `node`; platform browser, format esm, served to the page
// through playwright's request routing, so no server or port is needed). The weights come back as
// base64 float32 bytes and are compared (and hashed with SHA-256) here.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEPS = 50;
const ORIGIN = 'http://localhost:9';

type Mode = 'plain' | 'auto';
interface Result { build: string; weights: string }

// NOTE: a missing Chromium fails each test by name with the fix (not a skip), so the totals show it.
const missing = existsSync(CHROMIUM) ? null
  : `browser determinism: ${CHROMIUM} is missing (help: apt-get update && apt-get install -y chromium)`;

// The training run, shared by both bundles: reliability/train-run.ts, as child.ts's `train` mode runs it.
const source = (rel: string) => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));
const TRAIN = `
import { getBackend, init } from ${source('../index.ts')};
import { trainTiny, weightBytes } from ${source('./train-run.ts')};
export async function run(mode) {
  await init({ relaxed: mode === 'plain' ? false : 'auto' });
  const b = weightBytes(trainTiny(1234, ${STEPS}));
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return { build: getBackend().build, weights: btoa(bin) };
}
`;

let dir: string;
let nodeScript: string;
let browserScript: string;
let browser: BrowserContext | undefined;
let profile: string | undefined;

async function bundle(platform: 'node' | 'browser', footer: string, out: string): Promise<string> {
  const result = await build({
    stdin: { contents: TRAIN + footer, resolveDir: dir, sourcefile: `determinism-${platform}.js`, loader: 'js' },
    bundle: true, platform, format: 'esm', target: platform === 'node' ? 'node20' : 'es2022', write: false, logLevel: 'error',
  });
  writeFileSync(out, result.outputFiles[0]!.contents);
  return result.outputFiles[0]!.text;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-browser-determinism-'));
  nodeScript = join(dir, 'node.mjs');
  const [, text] = await Promise.all([
    bundle('node', 'run(process.argv[2]).then((r) => process.stdout.write(JSON.stringify(r)));\n', nodeScript),
    bundle('browser', 'globalThis.simdgradRun = run;\n', join(dir, 'browser.mjs')),
  ]);
  browserScript = text;
  if (missing) return;
  profile = mkdtempSync(join(tmpdir(), 'simdgrad-determinism-chromium-'));
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
  // the page and its script come from playwright's routing: nothing listens on ORIGIN
  await browser.route(`${ORIGIN}/**`, (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/run.mjs') return route.fulfill({ contentType: 'text/javascript', body: browserScript });
    return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>determinism</title>' });
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function inNode(mode: Mode): Promise<Result> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [nodeScript, mode], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`node run (${mode}) failed: ${err.message}\n${stderr}`));
      else done(JSON.parse(stdout) as Result);
    });
  });
}

/** A fresh page per run: init() is once per engine instance. */
async function inChromium(mode: Mode): Promise<Result> {
  if (missing || !browser) throw new Error(missing ?? 'browser determinism: Chromium did not start');
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${ORIGIN}/`);
    // NOTE: a string, not a function: vitest rewrites `import()` inside functions of this file
    return (await page.evaluate(`import('/run.mjs').then(() => globalThis.simdgradRun(${JSON.stringify(mode)}))`)) as Result;
  } catch (e) {
    throw new Error(`chromium run (${mode}) failed: ${(e as Error).message}${errors.length ? `\npage errors: ${errors.join('\n')}` : ''}`);
  } finally {
    await page.close();
  }
}

const sha = (b64: string) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex');

function firstDifference(a: string, b: string): string {
  const x = Buffer.from(a, 'base64'), y = Buffer.from(b, 'base64');
  if (x.length !== y.length) return `lengths differ (${x.length} vs ${y.length} bytes)`;
  const i = x.findIndex((v, j) => v !== y[j]);
  return `first differing byte at ${i} of ${x.length}`;
}

describe('determinism: Node vs Chromium', () => {
  for (const mode of ['plain', 'auto'] as const) {
    it(`the ${mode === 'plain' ? 'plain-SIMD build (init({ relaxed: false }))' : 'default build (relaxed SIMD where available)'} gives byte-identical weights after ${STEPS} Adam steps`, async () => {
      const [node, web] = await Promise.all([inNode(mode), inChromium(mode)]);
      if (mode === 'plain') {
        expect(node.build).toBe('simd');
        expect(web.build).toBe('simd');
      } else {
        // both runtimes have relaxed SIMD (Node through the flag the kernels set, Chromium natively)
        expect(web.build).toBe(node.build);
      }
      console.log(`browser determinism (${mode}): node ${node.build} ${sha(node.weights).slice(0, 16)}…, chromium ${web.build} ${sha(web.weights).slice(0, 16)}…`);
      expect(sha(web.weights), `Chromium's weights differ from Node's (${mode}): ${firstDifference(node.weights, web.weights)}`).toBe(sha(node.weights));
      expect(web.weights).toBe(node.weights);
    });
  }
});
