import { loadKernels as real } from '/tmp/kcopy/dist/index.js';
export async function loadKernels(o) {
  const k = await real(o);
  const ex = { ...k.exports };
  const orig = k.exports.matmulF32;
  ex.matmulF32 = (c, a, b, s, batch, m, n, kk, ...rest) => { orig(c, a, b, s, batch, m, n, kk, ...rest); if (m === 17) new Float32Array(o.memory.buffer, c, 1)[0] += 0.01; };
  for (const key of Object.keys(k.exports)) if (!(key in ex)) ex[key] = k.exports[key];
  return { ...k, exports: Object.assign(Object.create(null), k.exports, ex) };
}
