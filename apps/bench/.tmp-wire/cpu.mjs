import { loadKernels } from '@simdgrad/kernels';
const memory = new WebAssembly.Memory({ initial: 1 });
const k = (await loadKernels({ memory, relaxed: false })).exports;
const iters = 20000;
for (let r = 0; r < 10; r++) {
  const w0 = performance.now(), c0 = process.cpuUsage();
  k.peakF32(iters, 1, 0);
  const w = performance.now() - w0, c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  console.log('wall', (iters*192/w/1e6).toFixed(1), 'cpu', (iters*192/cpuMs/1e6).toFixed(1), w.toFixed(2), cpuMs.toFixed(2));
}
