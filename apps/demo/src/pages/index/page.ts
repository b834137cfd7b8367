// The front page: what the demo is, links to each page, and what the engine runs on in this browser.
import { backendInfo, init } from '@simdgrad/core';
import { byId, mountNav, showEngineStatus, showError } from '../../shared/layout.js';

mountNav('index.html');
init().then(
  () => showEngineStatus(byId('engine'), backendInfo(), globalThis.crossOriginIsolated === true, 'the page (main thread)'),
  (e: unknown) => showError(`simdgrad could not start: ${e instanceof Error ? e.message : String(e)}`),
);
