// The demo page: starts the engine in the browser and shows what it runs on.
import { backendInfo, init } from '@simdgrad/core';

const out = document.getElementById('info')!;
init().then(
  () => { out.textContent = JSON.stringify(backendInfo(), null, 2); },
  (e: unknown) => { out.textContent = `simdgrad could not start: ${e instanceof Error ? e.message : String(e)}`; },
);
