// The parts every page shares: the navigation bar and the engine status panel.
import type { BackendInfo } from '@simdgrad/core';

const PAGES: [file: string, title: string][] = [
  ['index.html', 'simdgrad'],
  ['regression.html', 'Linear regression'],
  ['playground.html', 'Playground'],
  ['digits.html', 'Digits'],
  ['spoken.html', 'Spoken digits'],
  ['text.html', 'Text'],
  ['benchmark.html', 'Benchmark'],
];

/** Fills <nav id="nav"> with links to every page, marking the current one. */
export function mountNav(current: string): void {
  const nav = document.getElementById('nav');
  if (!nav) return;
  nav.replaceChildren(...PAGES.map(([file, title]) => {
    const a = document.createElement('a');
    a.href = file;
    a.textContent = title;
    if (file === current) a.setAttribute('aria-current', 'page');
    return a;
  }));
}

/**
 * Shows what the engine runs on, honestly: backend, SIMD, relaxed SIMD, threads (with the reason
 * when it is one) and whether the page is cross-origin isolated. `where` says which context
 * reported it (the page's worker, usually). The values are also data attributes, for tests.
 */
export function showEngineStatus(el: HTMLElement, info: BackendInfo, isolated: boolean, where: string): void {
  const onOff = (b: boolean) => (b ? 'on' : 'off');
  const rows: [string, string, string][] = [
    ['backend', info.backend, 'backend'],
    ['SIMD', onOff(info.simd), 'simd'],
    ['relaxed SIMD', onOff(info.relaxedSimd), 'relaxed'],
    ['threads', `${info.threads}${info.threads === 1 && info.threadsNote ? ` (${info.threadsNote})` : ''}`, 'threads'],
    ['cross-origin isolated', isolated ? 'yes' : 'no (no SharedArrayBuffer: threads impossible here)', 'isolated'],
  ];
  const dl = document.createElement('dl');
  for (const [name, value, key] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dd.dataset[key] = value.split(' ')[0]!;
    dl.append(dt, dd);
  }
  const caption = document.createElement('p');
  caption.className = 'muted';
  caption.textContent = `Reported by ${where}.`;
  el.replaceChildren(dl, caption);
  el.dataset['simd'] = onOff(info.simd);
  el.dataset['relaxed'] = onOff(info.relaxedSimd);
  el.dataset['threads'] = String(info.threads);
  el.dataset['isolated'] = isolated ? 'yes' : 'no';
}

/**
 * Waits for a page worker's engine (`WorkerClient.ready`): then shows what it runs on in #engine,
 * as reported by `where`, and calls `onReady`; if the engine could not start, shows why instead.
 * @example onEngineReady(worker.ready, 'the training worker', () => { train.disabled = false; });
 */
export function onEngineReady(ready: Promise<{ info: BackendInfo; isolated: boolean }>, where: string, onReady: () => void): void {
  ready.then(
    ({ info, isolated }) => {
      showEngineStatus(byId('engine'), info, isolated, where);
      onReady();
    },
    (e: Error) => showError(e.message),
  );
}

/** Shows an error in the page's status line (and the console, where tests see it). */
export function showError(message: string): void {
  const el = document.getElementById('status');
  if (el) {
    el.textContent = message;
    el.classList.add('error');
  }
  console.error(message);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`demo: the page has no #${id}`);
  return el as T;
}
