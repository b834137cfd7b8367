// The packages as a user gets them: `pnpm pack` @simdgrad/kernels and @simdgrad/core, npm-install the
// tarballs into a fresh project in a temporary directory outside the workspace, and train a tiny model
// (a) in a Node ESM script, (b) in an esbuild browser bundle, (c) in a Vite build, (d) in a Web
// Worker of each — with no configuration beyond what a user would write anyway. Needs the packages
// built (`pnpm test` builds first), the npm registry (for esbuild, vite and protobufjs) and Debian's
// Chromium at /usr/bin/chromium (.ci/run installs it).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dir = '';
const tarballs: Record<string, string> = {};

// ---- the consumer project's files: exactly what a user would write ------------------------------
/** Trains y = 3x − 1 + noise-free with a 1-16-1 MLP and Adam; returns the first and last loss. */
const TRAIN = `import { init, tensor, nn, optim, scope, backendInfo } from '@simdgrad/core';

export async function train() {
  await init();
  const xs = Array.from({ length: 32 }, (_, i) => [i / 16 - 1]);
  const x = tensor(xs);
  const y = tensor(xs.map(([v]) => [3 * v - 1 + 0.5 * v * v]));
  const model = new nn.Sequential(new nn.Linear(1, 16), new nn.Tanh(), new nn.Linear(16, 1));
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  const losses = [];
  for (let step = 0; step < 150; step++) {
    losses.push(scope(() => {
      opt.zeroGrad();
      const loss = model.forward(x).sub(y).square().mean();
      loss.backward();
      opt.step();
      return loss.item();
    }));
  }
  return { first: losses[0], last: losses[losses.length - 1], simd: backendInfo().simd, model, x };
}
`;

const NODE_SCRIPT = `import { train } from './train.js';
import { exportModel, importModel } from '@simdgrad/core/onnx';
import { saveFile, loadFile } from '@simdgrad/core/node';
import { io, noGrad } from '@simdgrad/core';

const { first, last, simd, model, x } = await train();
// the subpaths resolve too: save and reload the weights, export to ONNX and run the import
await saveFile('model.safetensors', io.save(model.stateDict()));
const { tensors } = io.load(await loadFile('model.safetensors'));
const onnx = importModel(exportModel(model, x));
const a = noGrad(() => model.forward(x)).toFloat32Array(), b = onnx.forward(x).toFloat32Array();
const onnxDiff = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
console.log(JSON.stringify({ first, last, simd, keys: Object.keys(tensors), onnxDiff }));
`;

const TYPES_CHECK = `import { init, tensor, nn, optim, type Tensor } from '@simdgrad/core';
import { exportModel, type ExportOptions } from '@simdgrad/core/onnx';
import { saveFile } from '@simdgrad/core/node';
import { loadKernels } from '@simdgrad/kernels';
await init();
const t: Tensor = tensor([[1, 2]]);
const model: nn.Module = new nn.Linear(2, 1);
const opt: optim.Adam = new optim.Adam(model.parameters(), { lr: 1e-3 });
const options: ExportOptions = { opsetVersion: 17 };
const bytes: Uint8Array = exportModel(model, t, options);
void saveFile; void loadKernels; void opt; void bytes;
`;

/** The page's script: trains on the main thread, then in a module Web Worker, and reports both. */
const PAGE_MAIN = `import { train } from './train.js';

async function main() {
  const page = await train();
  const worker = await new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e) => resolve(e.data);
    w.onerror = (e) => reject(new Error(e.message));
  });
  window.__result = { page: { first: page.first, last: page.last, simd: page.simd }, worker };
}
main().catch((e) => { window.__result = { error: String(e && e.stack || e) }; });
`;
const WORKER = `import { train } from './train.js';
train().then(
  ({ first, last, simd }) => postMessage({ first, last, simd }),
  (e) => postMessage({ error: String(e && e.stack || e) }),
);
`;
const html = (src: string) => `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>consumer</title></head>
<body><script type="module" src="${src}"></script></body></html>
`;

// ---- helpers --------------------------------------------------------------------------------------
async function sh(cmd: string, args: string[], cwd: string, timeout = 240_000): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
    return stdout;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}: ${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  }
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** A static file server over `base` on a free port (no special headers, like a plain host). */
async function serve(base: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(base, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(base) || !existsSync(file)) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Result { first: number; last: number; simd: boolean; error?: string }

function expectLearned(r: Result | undefined, where: string): void {
  expect(r?.error, where).toBeUndefined();
  expect(r!.simd, `${where}: the wasm SIMD backend runs`).toBe(true);
  expect(r!.first, where).toBeGreaterThan(0.5);
  expect(r!.last, `${where}: loss ${r!.first} → ${r!.last}`).toBeLessThan(r!.first * 0.05);
}

/** Loads a built page in Chromium and returns what it reported. */
async function inChromium(base: string, path: string): Promise<{ page: Result; worker: Result; errors: string[] }> {
  const { url, server } = await serve(base);
  const profile = mkdtempSync(join(tmpdir(), 'simdgrad-consumer-chromium-'));
  let browser: BrowserContext | null = null;
  try {
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    await page.goto(url + path);
    await page.waitForFunction(() => (window as unknown as { __result?: unknown }).__result !== undefined, undefined, { timeout: 60_000 });
    const result = await page.evaluate(() => (window as unknown as { __result: { page: Result; worker: Result; error?: string } }).__result);
    if (result.error) throw new Error(`the page failed: ${result.error}`);
    return { ...result, errors };
  } finally {
    await browser?.close();
    await new Promise((r) => server.close(r));
    rmSync(profile, { recursive: true, force: true });
  }
}

// ---- the test --------------------------------------------------------------------------------------
beforeAll(async () => {
  for (const pkg of ['kernels', 'core']) {
    if (!existsSync(join(root, 'packages', pkg, 'dist', 'index.js'))) throw new Error(`packages/${pkg} is not built (help: pnpm build)`);
  }
  dir = mkdtempSync(join(tmpdir(), 'simdgrad-consumer-'));
  const packs = join(dir, 'packs');
  mkdirSync(packs);
  for (const pkg of ['kernels', 'core']) {
    await sh('pnpm', ['pack', '--pack-destination', packs], join(root, 'packages', pkg));
  }
  for (const f of readdirSync(packs)) tarballs[f.includes('kernels') ? 'kernels' : 'core'] = join(packs, f);
  const app = join(dir, 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  // a fresh project: the two tarballs, and esbuild + vite at the versions the workspace uses
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'simdgrad-consumer', private: true, type: 'module',
    dependencies: { '@simdgrad/kernels': `file:${tarballs.kernels}`, '@simdgrad/core': `file:${tarballs.core}` },
    devDependencies: { esbuild: rootPkg.devDependencies.esbuild, vite: rootPkg.devDependencies.vite },
  }, null, 2));
  writeFileSync(join(app, 'src', 'train.js'), TRAIN);
  writeFileSync(join(app, 'src', 'node-main.js'), NODE_SCRIPT);
  writeFileSync(join(app, 'src', 'page.js'), PAGE_MAIN);
  writeFileSync(join(app, 'src', 'worker.js'), WORKER);
  writeFileSync(join(app, 'src', 'types-check.ts'), TYPES_CHECK);
  writeFileSync(join(app, 'index.html'), html('./src/page.js'));
  await sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app, 300_000);
}, 420_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed packages in a fresh project', () => {
  it('the tarballs hold ESM, .d.ts and no tests, maps or fixtures; dependencies are plain versions', async () => {
    for (const [pkg, tgz] of Object.entries(tarballs)) {
      const list = (await sh('tar', ['-tzf', tgz], dir)).split('\n').filter(Boolean);
      expect(list, pkg).toContain('package/dist/index.js');
      expect(list, pkg).toContain('package/dist/index.d.ts');
      expect(list.filter((f) => /\.test\.|\.map$|fixtures/.test(f)), pkg).toEqual([]);
    }
    const installed = JSON.parse(readFileSync(join(dir, 'app', 'node_modules', '@simdgrad', 'core', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; sideEffects: boolean };
    expect(installed.dependencies['@simdgrad/kernels']).toMatch(/^\d+\.\d+\.\d+/); // workspace:* was replaced
    expect(installed.sideEffects).toBe(false);
  });

  it('(a) a Node ESM script trains, saves and reloads, and round-trips through ONNX', async () => {
    const out = JSON.parse((await sh('node', ['src/node-main.js'], join(dir, 'app'), 60_000)).trim().split('\n').pop()!) as Result & { keys: string[]; onnxDiff: number };
    expectLearned(out, 'node');
    expect(out.keys).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(out.onnxDiff).toBeLessThan(1e-5);
  }, 90_000);

  it('the types resolve from the tarballs (tsc --noEmit, strict, bundler resolution)', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await sh('node', [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext', '--moduleResolution', 'bundler', '--skipLibCheck', 'false', '--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), 'src/types-check.ts'], join(dir, 'app'), 90_000);
  }, 120_000);

  it('(b, d) an esbuild browser bundle trains in Chromium, on the page and in a Web Worker', async () => {
    const app = join(dir, 'app');
    // the page and its worker as two entry points; no loaders or plugins
    await sh(join(app, 'node_modules', '.bin', 'esbuild'), ['src/page.js', 'src/worker.js', '--bundle', '--format=esm', '--outdir=esbuild-dist/src', '--platform=browser'], app, 60_000);
    writeFileSync(join(app, 'esbuild-dist', 'index.html'), html('./src/page.js'));
    const r = await inChromium(join(app, 'esbuild-dist'), '/');
    expectLearned(r.page, 'esbuild page');
    expectLearned(r.worker, 'esbuild worker');
    expect(r.errors).toEqual([]);
  }, 120_000);

  it('(c, d) a Vite build trains in Chromium, on the page and in a Web Worker', async () => {
    const app = join(dir, 'app');
    await sh(join(app, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], app, 90_000);
    const r = await inChromium(join(app, 'dist'), '/');
    expectLearned(r.page, 'vite page');
    expectLearned(r.worker, 'vite worker');
    expect(r.errors).toEqual([]);
  }, 150_000);
});
