// GEMM timing: C = A·B for square n×n float32 matrices, through the engine's public matmul (so it
// includes the tensor overhead a user pays), against a plain-JavaScript triple loop for scale.
import { randn, scope } from '@simdgrad/core';

export interface GemmResult {
  n: number;
  /** Milliseconds per matmul (mean over the timed repetitions). */
  ms: number;
  gflops: number;
  reps: number;
}

/** Times n×n·n×n matmuls for at least `minSeconds` after one warm-up; 2n³ flops each. */
export function timeMatmul(n: number, minSeconds = 0.25): GemmResult {
  return scope(() => {
    const a = randn([n, n]), b = randn([n, n]);
    return timeGemm(n, minSeconds, () => a.matmul(b).dispose());
  });
}

/**
 * Runs one n×n·n×n product `run` once to warm up (first-touch memory, packing buffers), then
 * repeatedly for at least `minSeconds`, and reports the mean time and GFLOPS (2n³ flops a run).
 */
function timeGemm(n: number, minSeconds: number, run: () => void): GemmResult {
  run();
  let reps = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    run();
    reps++;
    elapsed = (performance.now() - t0) / 1000;
  } while (elapsed < minSeconds);
  return { n, ms: (1000 * elapsed) / reps, gflops: (2 * n ** 3 * reps) / elapsed / 1e9, reps };
}

/** The same product as a naive i-k-j loop over Float32Arrays in plain JavaScript. */
export function timeJsMatmul(n: number, minSeconds = 0.25): GemmResult {
  const a = new Float32Array(n * n).map(() => Math.random() - 0.5);
  const b = new Float32Array(n * n).map(() => Math.random() - 0.5);
  const c = new Float32Array(n * n);
  const run = () => {
    c.fill(0);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        const aik = a[i * n + k]!;
        const row = k * n, out = i * n;
        for (let j = 0; j < n; j++) c[out + j]! += aik * b[row + j]!;
      }
    }
  };
  return timeGemm(n, minSeconds, run);
}
