// The benchmark page: GEMM GFLOPS in this browser, and what the engine runs on.
import { Plot } from '../../shared/chart.js';
import { byId, mountNav, onEngineReady, showError } from '../../shared/layout.js';
import { WorkerClient } from '../../shared/worker-client.js';
import type { BenchIn, BenchOut } from './messages.js';

mountNav('benchmark.html');
const SIZES = [64, 128, 192, 256, 384, 512];
const el = {
  run: byId<HTMLButtonElement>('run'),
  quick: byId<HTMLInputElement>('quick'),
  status: byId('status'),
  rows: byId('rows'),
  peak: byId('peak'),
};
const chart = new Plot(byId<HTMLCanvasElement>('chart'), { xLabel: 'n (n×n · n×n, float32)', yLabel: 'GFLOPS', yFromZero: true });
let results: BenchOut[] = [];

function render(): void {
  const rs = results.filter((r): r is Extract<BenchOut, { type: 'result' }> => r.type === 'result');
  el.rows.replaceChildren(...rs.map(({ engine, js }) => {
    const tr = document.createElement('tr');
    const cells = [String(engine.n), engine.ms.toFixed(2), engine.gflops.toFixed(1), js ? js.gflops.toFixed(2) : '–', js ? `${(engine.gflops / js.gflops).toFixed(0)}×` : '–'];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    tr.dataset['n'] = String(engine.n);
    tr.dataset['gflops'] = String(engine.gflops);
    return tr;
  }));
  const withJs = rs.filter((r) => r.js);
  chart.setSeries([
    { color: '#0877bd', xs: rs.map((r) => r.engine.n), ys: rs.map((r) => r.engine.gflops), label: 'simdgrad matmul' },
    { kind: 'points', color: '#0877bd', xs: rs.map((r) => r.engine.n), ys: rs.map((r) => r.engine.gflops), radius: 3.5 },
    { color: '#f59322', xs: withJs.map((r) => r.engine.n), ys: withJs.map((r) => r.js!.gflops), label: 'plain JS loop' },
  ]);
  if (rs.length > 0) {
    const best = rs.reduce((a, b) => (b.engine.gflops > a.engine.gflops ? b : a));
    el.peak.textContent = `${best.engine.gflops.toFixed(1)} GFLOPS`;
    el.peak.dataset['gflops'] = String(best.engine.gflops);
  }
}

const worker = new WorkerClient<BenchIn, BenchOut>('benchmark');
onEngineReady(worker.ready, 'the benchmark worker', () => {
  el.run.disabled = false;
  el.status.textContent = 'Ready.';
});
worker
  .on('result', (m) => {
    results.push(m);
    render();
    el.status.textContent = `Measured n = ${m.engine.n}…`;
  })
  .on('done', (m) => {
    el.status.textContent = `Done in ${m.seconds.toFixed(1)} s.`;
    el.status.dataset['done'] = 'true';
    el.run.disabled = false;
  })
  .on('error', (m) => { showError(m.message); el.run.disabled = false; });

el.run.addEventListener('click', () => {
  results = [];
  render();
  el.status.dataset['done'] = 'false';
  el.status.textContent = 'Running… (the page stays responsive: the work is in a worker)';
  el.run.disabled = true;
  worker.send({ type: 'start', sizes: SIZES, minSeconds: el.quick.checked ? 0.08 : 0.4, jsBaselineUpTo: 256 });
});
