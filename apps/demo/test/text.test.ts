// The text page in headless Chromium (Debian's, driven by playwright-core): the demo is built into a
// folder of this test's own (so it never races browser.test.ts's build of dist/), served with
// COOP/COEP, and the page generates text in its worker. The same model file, prompt, settings and seed
// run in Node through @simdgrad/core must give the identical text: same .wasm, same numbers, whatever
// the runtime or the thread count. Also: a prompt the model cannot read, Stop, and what the page
// transfers (printed, and bounded so that the engine never lands in the page's own bundle).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Generator, init, io, text } from '@simdgrad/core';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo } from '../build.mjs';
import { startServer } from '../server.mjs';
import { CHROMIUM, chromiumMissing, FLAGS } from './chromium.js';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, '..', 'test-output');
const weightsPath = join(here, '..', 'src', 'assets', 'charlm.safetensors');

// NOTE: a missing Chromium fails every test here by name (not a skip), so the totals show it.
const missing = chromiumMissing('demo text page tests');

let root: string;
let profile: string;
let server: { url: string; close(): Promise<void> };
let browser: BrowserContext;

beforeAll(async () => {
  await init();
  if (missing) return;
  root = mkdtempSync(join(tmpdir(), 'simdgrad-demo-text-'));
  await buildDemo({ outdir: join(root, 'site') });
  mkdirSync(shots, { recursive: true });
  server = await startServer({ root: join(root, 'site'), mounts: {} });
  profile = join(root, 'profile');
  browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 }, args: FLAGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Opens the text page, waits for the model, and records console errors and uncaught exceptions. */
async function openReady(): Promise<{ page: Page; errors: string[] }> {
  if (missing) throw new Error(missing);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(server.url + 'text.html');
  await page.waitForSelector('#status[data-ready="true"]', { state: 'attached', timeout: 30_000 });
  return { page, errors };
}

interface Settings { prompt: string; length: number; temperature: number; topK: number; topP: number; seed: number }

async function fill(page: Page, s: Settings): Promise<void> {
  await page.fill('#prompt', s.prompt);
  await page.fill('#length', String(s.length));
  await page.fill('#temperature', String(s.temperature));
  await page.fill('#top-k', String(s.topK));
  await page.fill('#top-p', String(s.topP));
  await page.fill('#seed', String(s.seed));
}

/** The same generation in Node: the model file loaded with the engine's public API, sampled with the seed. */
function generateInNode(s: Settings): string {
  const { tensors, metadata } = io.load(readFileSync(weightsPath));
  const model = new text.GPT(JSON.parse(metadata['config']!) as text.GPTConfig);
  model.loadStateDict(tensors);
  for (const t of Object.values(tensors)) t.dispose();
  model.eval();
  const tok = text.CharTokenizer.fromJSON(metadata['vocab']!);
  const ids = text.generate(model, tok.encode(s.prompt), {
    maxNewTokens: s.length, temperature: s.temperature, topK: s.topK, topP: s.topP, generator: new Generator(s.seed),
  });
  const out = tok.decode(Array.from(ids));
  model.dispose();
  return out;
}

describe('text page in Chromium', () => {
  it('streams N characters after the prompt, all from the vocabulary, identical to Node for the same seed', async () => {
    const { page, errors } = await openReady();
    await page.waitForSelector('#engine[data-simd]', { state: 'attached', timeout: 5_000 });
    expect(await page.getAttribute('#engine', 'data-isolated')).toBe('yes');
    const threads = await page.getAttribute('#engine', 'data-threads');
    // the model's facts, read by the worker from the file's metadata
    const { metadata } = io.load(readFileSync(weightsPath));
    const config = JSON.parse(metadata['config']!) as text.GPTConfig;
    const vocabulary = (JSON.parse(metadata['vocab']!) as { tokens: string[] }).tokens;
    const facts = await page.$eval('#facts', (e) => ({ ...(e as HTMLElement).dataset }));
    expect(facts).toMatchObject({
      layers: String(config.nLayer), heads: String(config.nHead), width: String(config.nEmbd),
      context: String(config.contextLength), vocabSize: String(config.vocabSize), bytes: String(readFileSync(weightsPath).length),
    });
    expect(JSON.parse(facts['vocabulary']!)).toEqual(vocabulary);
    expect(Number(facts['parameters'])).toBeGreaterThan(100_000);
    expect(await page.innerText('#attribution')).toContain('Tiny Shakespeare');
    expect(await page.innerText('#provenance')).toContain('simdgrad train charlm');

    // longer than the context, so the KV cache is rebuilt on the way in both runtimes
    const s: Settings = { prompt: 'ROMEO:', length: 2 * config.contextLength + 37, temperature: 0.8, topK: 40, topP: 0.95, seed: 1234 };
    await fill(page, s);
    await page.click('#generate');
    await page.waitForSelector('#stats[data-done="true"]', { state: 'attached', timeout: 60_000 });
    const echo = await page.textContent('#echo');
    const generated = (await page.textContent('#generated'))!;
    expect(echo).toBe(s.prompt);
    expect(await page.textContent('#output')).toBe(s.prompt + generated);
    expect(Array.from(generated)).toHaveLength(s.length);
    expect(Array.from(generated).filter((c) => !vocabulary.includes(c))).toEqual([]);
    expect(await page.getAttribute('#stats', 'data-count')).toBe(String(s.length));
    expect(await page.getAttribute('#stats', 'data-seed')).toBe(String(s.seed));
    const rate = Number(await page.getAttribute('#stats', 'data-rate'));
    expect(rate).toBeGreaterThan(0);

    const inNode = generateInNode(s);
    console.log(`text page: ${s.length} characters at ${rate.toFixed(0)} tokens/s in Chromium (${threads} thread(s)); Node gives the same text: ${inNode === generated}\n${s.prompt}${generated}`);
    expect(generated).toBe(inNode);

    // the same seed again gives the same text; the page stays usable
    await page.click('#generate');
    await page.waitForSelector('#stats[data-done="true"]', { state: 'attached', timeout: 60_000 });
    expect(await page.textContent('#generated')).toBe(generated);
    await page.screenshot({ path: join(shots, 'text.png'), fullPage: true });
    await page.close();
    expect(errors).toEqual([]);
  });

  it('says which prompt characters the model cannot read, and generates nothing', async () => {
    const { page, errors } = await openReady();
    await fill(page, { prompt: 'ROMÉO: ☃', length: 50, temperature: 0.8, topK: 40, topP: 0.95, seed: 1 });
    await page.click('#generate');
    await page.waitForSelector('#status[data-problem="true"]', { state: 'attached', timeout: 5_000 });
    const message = (await page.textContent('#status'))!;
    expect(message).toContain('2 characters are not in the model\'s vocabulary');
    expect(message).toContain('"É" (U+00C9)');
    expect(message).toContain('"☃" (U+2603)');
    expect(await page.getAttribute('#status', 'class')).toContain('error');
    expect(await page.textContent('#output')).toBe('');
    expect(await page.isEnabled('#generate')).toBe(true);
    await page.screenshot({ path: join(shots, 'text-bad-prompt.png'), fullPage: true });
    // an empty prompt and a bad setting are explained the same way
    await page.fill('#prompt', '');
    await page.click('#generate');
    expect(await page.textContent('#status')).toMatch(/^prompt: empty/);
    await page.fill('#prompt', 'ROMEO:');
    await page.fill('#top-p', '0');
    await page.click('#generate');
    expect(await page.textContent('#status')).toBe('top-p: must be above 0 and at most 1 (got 0)');
    // fixed, it runs
    await page.fill('#top-p', '0.9');
    await page.fill('#length', '20');
    await page.click('#generate');
    await page.waitForSelector('#stats[data-done="true"]', { state: 'attached', timeout: 30_000 });
    expect(await page.getAttribute('#status', 'data-problem')).toBeNull();
    expect(Array.from((await page.textContent('#generated'))!)).toHaveLength(20);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('streams characters as they come, and Stop ends a long generation', async () => {
    const { page, errors } = await openReady();
    await fill(page, { prompt: 'JULIET:', length: 5000, temperature: 1, topK: 0, topP: 1, seed: 5 });
    await page.click('#generate');
    await page.waitForFunction(() => Number(document.getElementById('stats')!.dataset['count']) >= 20, null, { timeout: 30_000 });
    // the characters arrive one after another while the worker runs (streaming, not all at the end)
    const first = Number(await page.getAttribute('#stats', 'data-count'));
    await page.waitForFunction((n) => Number(document.getElementById('stats')!.dataset['count']) > n, first, { timeout: 10_000 });
    expect(await page.isEnabled('#stop')).toBe(true);
    expect(await page.isDisabled('#generate')).toBe(true);
    await page.click('#stop');
    await page.waitForSelector('#stats[data-done="true"]', { state: 'attached', timeout: 10_000 });
    const count = Number(await page.getAttribute('#stats', 'data-count'));
    expect(count).toBeGreaterThan(first);
    expect(count).toBeLessThan(5000);
    expect(Array.from((await page.textContent('#generated'))!)).toHaveLength(count);
    expect(await page.textContent('#status')).toBe(`Stopped after ${count} characters.`);
    expect(await page.isEnabled('#generate')).toBe(true);
    await page.close();
    expect(errors).toEqual([]);
  });

  it('loads only what it needs: the page\'s scripts hold no engine; the worker brings the engine, one kernel build and the weights', async () => {
    if (missing) throw new Error(missing);
    const site = join(root, 'site');
    const page = await browser.newPage();
    const fetched = new Set<string>();
    // requests from the page and from its dedicated worker are both reported on the context
    const onFinished = (r: { url(): string }) => { if (r.url().startsWith(server.url)) fetched.add(new URL(r.url()).pathname.slice(1)); };
    browser.on('requestfinished', onFinished);
    await page.goto(server.url + 'text.html');
    await page.waitForSelector('#status[data-ready="true"]', { state: 'attached', timeout: 30_000 });
    await page.waitForTimeout(200);
    browser.off('requestfinished', onFinished);
    await page.close();

    const bytes = (p: string) => readFileSync(join(site, p));
    /** A script and the chunks it imports statically, transitively (esbuild writes `from"./chunks/x.js"`). */
    const closure = (entry: string, out = new Set<string>()): Set<string> => {
      if (out.has(entry)) return out;
      out.add(entry);
      for (const m of bytes(entry).toString('utf8').matchAll(/from"\.\/((?:chunks\/)?[\w-]+\.js)"/g)) {
        closure(join(dirname(entry), m[1]!).replace(/^assets\/chunks\/chunks\//, 'assets/chunks/'), out);
      }
      return out;
    };
    const pageFiles = ['text.html', 'style.css', ...closure('assets/text.js')];
    const workerFiles = [...closure('assets/text.worker.js')].filter((p) => !pageFiles.includes(p));
    const kernels = [...fetched].filter((p) => p.startsWith('assets/chunks/wasm-'));
    const sum = (paths: string[]) => paths.reduce((n, p) => n + bytes(p).length, 0);
    const gz = (paths: string[]) => paths.reduce((n, p) => n + gzipSync(bytes(p)).length, 0);
    const line = (what: string, paths: string[]) => `  ${what}: ${sum(paths)} bytes (${gz(paths)} gzipped) in ${paths.length} files`;
    console.log(['text page transfers (no compression on the test server):',
      line('the page (html, css, its scripts)', pageFiles),
      line('the worker (its script and the engine)', workerFiles),
      line('the kernels (one build, chosen at run time)', kernels),
      line('the weights', ['assets/charlm.safetensors']),
      `  total ${sum([...fetched])} bytes; files: ${[...fetched].join(', ')}`].join('\n'));

    // everything the page and its worker load was fetched, and nothing else
    expect(new Set(fetched)).toEqual(new Set([...pageFiles, ...workerFiles, ...kernels, 'assets/charlm.safetensors']));
    expect(kernels).toHaveLength(1);
    // the page's own scripts hold no engine (a few KB; the engine chunk alone is ~190 KB)
    const pageScripts = pageFiles.filter((p) => p.endsWith('.js'));
    expect(pageScripts.some((p) => bytes(p).includes('WebAssembly'))).toBe(false);
    expect(sum(pageScripts)).toBeLessThan(20_000);
    expect(workerFiles.some((p) => bytes(p).includes('WebAssembly'))).toBe(true);
  });
});
