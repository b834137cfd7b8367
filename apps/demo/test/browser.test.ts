// The demo in a real browser: Debian's Chromium driven by playwright-core. Builds dist/ when it is
// missing or older than src/, serves it with COOP/COEP on a free port, and checks each page as the
// issue asks. Screenshots go to apps/demo/test-output/ (not committed) for a person to look at.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { audio, init } from '@simdgrad/core';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, dist } from '../build.mjs';
import { startServer } from '../server.mjs';
import { CHROMIUM, chromiumMissing, FLAGS, newestMtime } from './chromium.js';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, '..', 'test-output');
const fsdd = join(here, '..', '..', '..', 'data', 'fsdd');

let server: { url: string; close(): Promise<void> };
let browser: BrowserContext;
let profile: string;

// NOTE: a missing Chromium fails every test here by name (not a skip, not just a hook error), so
// the totals show it.
const missing = chromiumMissing('demo browser tests');

beforeAll(async () => {
  if (missing) return;
  const built = join(dist, 'index.html');
  if (!existsSync(built) || statSync(built).mtimeMs < newestMtime(join(here, '..', 'src'))) await buildDemo();
  mkdirSync(shots, { recursive: true });
  server = await startServer({ root: dist });
  profile = mkdtempSync(join(tmpdir(), 'simdgrad-demo-chromium-'));
  // The microphone is a fake device playing a WAV file (looped): an FSDD test-split take ("seven",
  // never trained on) at 48 kHz, with 0.5 s of silence before it and 1 s after, so a take recorded
  // as soon as the device opens holds the whole word.
  await init();
  const take = audio.readWav(readFileSync(join(fsdd, '7_jackson_0.wav')));
  const speech = audio.resample(take.samples, take.sampleRate, 48000);
  const wave = new Float32Array(24000 + speech.length + 48000);
  wave.set(speech, 24000);
  const microphone = join(profile, 'microphone-7.wav');
  writeFileSync(microphone, audio.writeWav(wave, 48000));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 900 },
    args: [...FLAGS, '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${microphone}`],
  });
  await browser.grantPermissions(['microphone'], { origin: server.url.replace(/\/$/, '') });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

/** Opens a page and records its console errors and uncaught exceptions. */
async function open(file: string): Promise<{ page: Page; errors: string[] }> {
  if (missing) throw new Error(missing);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  await page.goto(server.url + file);
  return { page, errors };
}

/** Waits for the page's worker to report the engine; checks SIMD and cross-origin isolation. */
async function engineReady(page: Page): Promise<void> {
  await page.waitForSelector('#engine[data-simd]', { state: 'attached', timeout: 15_000 });
  expect(await page.getAttribute('#engine', 'data-isolated')).toBe('yes'); // the server's COOP/COEP work
}

async function finish(page: Page, errors: string[], name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  await page.close();
  expect(errors).toEqual([]);
}

/** Draws one stroke through points given as fractions of the pad. */
async function stroke(page: Page, points: [number, number][]): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const at = ([x, y]: [number, number]): [number, number] => [box.x + x * box.width, box.y + y * box.height];
  await page.mouse.move(...at(points[0]!));
  await page.mouse.down();
  for (const p of points.slice(1)) await page.mouse.move(...at(p), { steps: 3 });
  await page.mouse.up();
}

/** How many distinct colours a canvas holds (1 for a blank or flat one). */
async function canvasColours(page: Page, selector: string): Promise<number> {
  return page.$eval(selector, (c) => {
    const canvas = c as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return seen.size;
  });
}

describe('demo site in Chromium', () => {
  it('home page loads and reports the engine', async () => {
    const { page, errors } = await open('index.html');
    await engineReady(page);
    expect(await page.getAttribute('#engine', 'data-simd')).toBe('on');
    expect(await page.locator('nav a').count()).toBe(7);
    await finish(page, errors, 'home');
  });

  it('regression: training drives the loss down and w, b to about 2, 1', async () => {
    const { page, errors } = await open('regression.html');
    await engineReady(page);
    await page.selectOption('#regime', 'full-batch');
    await page.fill('#lr', '0.5');
    await page.fill('#epochs', '100');
    await page.click('#train');
    await page.waitForSelector('#result[data-done="true"]', { state: 'attached', timeout: 30_000 });
    const [initial, loss, w, b] = await Promise.all(['initial-loss', 'loss', 'w', 'b'].map(async (k) => Number(await page.getAttribute('#result', `data-${k}`))));
    expect(loss).toBeLessThan(initial! / 2);
    expect(Math.abs(w! - 2)).toBeLessThan(0.2);
    expect(Math.abs(b! - 1)).toBeLessThan(0.2);
    await finish(page, errors, 'regression');
  });

  it('playground: XOR test accuracy passes 90%', async () => {
    const { page, errors } = await open('playground.html');
    await engineReady(page);
    await page.selectOption('#dataset', 'xor');
    await page.click('#train');
    await page.waitForFunction(() => Number(document.getElementById('stats')!.dataset['testAccuracy']) > 0.9, null, { timeout: 30_000 });
    await page.waitForTimeout(500); // let the boundary settle a little for the screenshot
    await page.click('#stop');
    expect(Number(await page.getAttribute('#stats', 'data-test-accuracy'))).toBeGreaterThan(0.9);
    await finish(page, errors, 'playground-xor');
  });

  it('digits: trains, then classifies a drawn 1 and a drawn 0', async () => {
    const { page, errors } = await open('digits.html');
    await engineReady(page);
    await page.click('#train');
    await page.waitForSelector('#stats[data-done="true"]', { state: 'attached', timeout: 40_000 });
    expect(Number(await page.getAttribute('#stats', 'data-test-accuracy'))).toBeGreaterThan(0.9);

    const drawn: [string, [number, number][]][] = [
      ['1', [[0.5, 0.15], [0.5, 0.85]]],
      ['0', Array.from({ length: 25 }, (_, i): [number, number] => {
        const t = (2 * Math.PI * i) / 24;
        return [0.5 + 0.22 * Math.sin(t), 0.5 - 0.33 * Math.cos(t)];
      })],
    ];
    for (const [digit, points] of drawn) {
      await page.click('#clear');
      await stroke(page, points);
      await page.waitForSelector(`#prediction[data-class]`, { state: 'attached', timeout: 5_000 });
      await page.waitForTimeout(200); // the pen-up prediction is the last one
      expect(await page.getAttribute('#prediction', 'data-class')).toBe(digit);
      // the saliency map of the drawing, for the predicted class, is drawn: cells in many colours
      await page.waitForSelector(`#saliency[data-drawn="true"][data-target="${digit}"]`, { state: 'attached', timeout: 5_000 });
      expect(Number(await page.getAttribute('#saliency', 'data-max'))).toBeGreaterThan(0);
      expect(await canvasColours(page, '#saliency')).toBeGreaterThan(8);
      await page.screenshot({ path: join(shots, `digits-drawn-${digit}.png`), fullPage: true });
    }
    // integrated gradients: signed contributions, only where there is ink
    await page.selectOption('#explain', 'integrated-gradients');
    await page.waitForSelector('#saliency[data-method="integrated-gradients"]', { state: 'attached', timeout: 5_000 });
    expect(await canvasColours(page, '#saliency')).toBeGreaterThan(3);
    await page.screenshot({ path: join(shots, 'digits-integrated-gradients.png'), fullPage: true });
    await finish(page, errors, 'digits');
  });

  it('digits: trains an MLP on Fashion-MNIST (served from the repo) for 1 epoch, above 70% held out', async () => {
    const { page, errors } = await open('digits.html');
    await engineReady(page);
    await page.waitForSelector('#dataset[data-fashion="served"]', { state: 'attached', timeout: 5_000 });
    await page.selectOption('#dataset', 'fashion');
    await page.selectOption('#model', 'mlp');
    await page.fill('#epochs', '1');
    await page.click('#train');
    await page.waitForSelector('#stats[data-done="true"][data-dataset="fashion"]', { state: 'attached', timeout: 20_000 });
    expect(Number(await page.getAttribute('#stats', 'data-test-accuracy'))).toBeGreaterThan(0.7);
    expect(await page.textContent('#status')).toContain('Fashion-MNIST');
    // a few held-out images with the model's guesses, named by class; the drawing pad is for UCI digits
    await page.waitForSelector('#gallery[data-count="8"]', { state: 'attached', timeout: 5_000 });
    const captions = await page.locator('#gallery figcaption').allTextContents();
    expect(captions.length).toBe(8);
    const classes = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
    for (const c of captions) expect(classes.some((name) => c.startsWith(name))).toBe(true);
    expect(await page.locator('#probs span').allTextContents()).toEqual(expect.arrayContaining(['Ankle boot', 'T-shirt/top']));
    expect(await page.isHidden('#draw-card')).toBe(true);
    await finish(page, errors, 'digits-fashion');
  });

  it('digits: on a static host without the Fashion-MNIST files, the option says "files not served"', async () => {
    if (missing) throw new Error(missing);
    const plain = await startServer({ root: dist, mounts: {} });
    try {
      const page = await browser.newPage();
      await page.goto(plain.url + 'digits.html');
      await page.waitForSelector('#dataset[data-fashion="missing"]', { state: 'attached', timeout: 15_000 });
      expect(await page.textContent('#dataset option[value="fashion"]')).toContain('files not served');
      expect(await page.locator('#dataset option[value="fashion"]').isDisabled()).toBe(true);
      await page.close();
    } finally {
      await plain.close();
    }
  });

  it('spoken digits: recognises a "seven" from the (fake) microphone, and an uploaded WAV', async () => {
    const { page, errors } = await open('spoken.html');
    await engineReady(page);
    await page.waitForSelector('#status[data-ready="true"]', { state: 'attached', timeout: 15_000 });
    await page.click('#record');
    await page.waitForSelector('#prediction[data-source="microphone"]', { state: 'attached', timeout: 15_000 });
    expect(await page.getAttribute('#prediction', 'data-class')).toBe('7');
    expect(await page.getAttribute('#spectrogram', 'data-drawn')).toBe('true');
    expect(await canvasColours(page, '#spectrogram')).toBeGreaterThan(50);
    await page.screenshot({ path: join(shots, 'spoken-microphone.png'), fullPage: true });

    // the upload fallback: an 8 kHz FSDD test-split take of "three"
    await page.setInputFiles('#file', join(fsdd, '3_theo_2.wav'));
    await page.waitForSelector('#prediction[data-source="file"]', { state: 'attached', timeout: 15_000 });
    expect(await page.getAttribute('#prediction', 'data-class')).toBe('3');
    expect(await page.textContent('#licence')).toContain('CC BY-SA 4.0');
    await finish(page, errors, 'spoken');
  });

  it('benchmark: reports SIMD on and measures GFLOPS', async () => {
    const { page, errors } = await open('benchmark.html');
    await engineReady(page);
    expect(await page.getAttribute('#engine', 'data-simd')).toBe('on');
    // the dev server sends COOP/COEP, so the training worker runs the 2-thread pool
    expect(await page.getAttribute('#engine', 'data-threads')).toBe('2');
    await page.check('#quick');
    await page.click('#run');
    await page.waitForSelector('#status[data-done="true"]', { state: 'attached', timeout: 30_000 });
    const gflops = await page.locator('#rows tr').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset['gflops'])));
    expect(gflops.length).toBe(6);
    for (const g of gflops) expect(g).toBeGreaterThan(0);
    await finish(page, errors, 'benchmark');
  });
});
