/**
 * The native references (numpy + its BLAS; Debian's PyTorch), run as `apps/bench/python/train_peer.py`
 * under the interpreter that has the module. Absent interpreters or modules are skipped with a note.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The script, relative to this file (dist/peers → ../../python). */
export const PYTHON_SCRIPT = fileURLToPath(new URL('../../python/train_peer.py', import.meta.url));

export interface PythonFound {
  python: string | null;
  /** Why not, when python is null. */
  reason?: string;
  version?: string;
}

const cache = new Map<string, PythonFound>();

/** The first interpreter among `candidates` that can `import module` (checked once per process). */
export function findPython(module: 'numpy' | 'torch', candidates: readonly string[]): PythonFound {
  const key = `${module}:${candidates.join(',')}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let found: PythonFound = { python: null, reason: `no ${candidates.join(' or ')} can import ${module}` };
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', `import ${module}; print(${module}.__version__)`], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) {
      found = { python, version: r.stdout.trim() };
      break;
    }
  }
  cache.set(key, found);
  return found;
}

/**
 * glibc malloc settings for the Python peers: large blocks stay in the heap instead of being mmap'ed and
 * unmapped on every step. NOTE: with the defaults, PyTorch's CNN step maps and frees ~9 MB of
 * activations per step (~2,300 page faults); where page faults are slow (a loaded VM) that tripled its
 * CPU time per step and made its figure swing with the machine's memory pressure, an unfair handicap
 * that has nothing to do with its kernels. A resident heap is what PyTorch sees after warm-up on most
 * machines (and with jemalloc/tcmalloc); simdgrad's wasm memory is resident likewise.
 */
export const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '1073741824', MALLOC_TRIM_THRESHOLD_: '1073741824' } as const;

/** Environment for a numpy/torch child limited to `threads` BLAS/OpenMP threads (and {@link MALLOC_ENV}). */
export function threadEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, ...MALLOC_ENV, OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
}
