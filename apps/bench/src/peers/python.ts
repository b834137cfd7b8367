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

/** Environment for a numpy/torch child limited to `threads` BLAS/OpenMP threads. */
export function threadEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OPENBLAS_NUM_THREADS: n, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
}
