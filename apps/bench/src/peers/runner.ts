/**
 * A training peer's process: `node dist/peers/runner.js <engine> <model> [threads]`, speaking the
 * protocol of ./common.ts on stdin/stdout. One engine per process, so each keeps its own global state
 * (simdgrad's init is once per process; tfjs has one active backend).
 */
import { MODEL_NAMES, serve, type ModelName, type Trainer } from './common.js';

export const NODE_ENGINES = ['simdgrad-relaxed', 'simdgrad-simd', 'tfjs-wasm', 'tfjs-cpu', 'jax'] as const;
export type NodeEngine = (typeof NODE_ENGINES)[number];

async function setup(engine: NodeEngine, model: ModelName, threads: number): Promise<Trainer> {
  switch (engine) {
    case 'simdgrad-relaxed':
    case 'simdgrad-simd': {
      const { simdgradTrainer } = await import('./simdgrad.js');
      return simdgradTrainer(model, { relaxed: engine === 'simdgrad-relaxed', threads });
    }
    case 'tfjs-wasm':
    case 'tfjs-cpu': {
      const { tfjsTrainer } = await import('./tfjs.js');
      return tfjsTrainer(model, engine === 'tfjs-wasm' ? 'wasm' : 'cpu');
    }
    case 'jax': {
      const { jaxTrainer } = await import('./jax.js');
      return jaxTrainer(model);
    }
  }
}

const [engine, model, threads] = process.argv.slice(2);
if (!(NODE_ENGINES as readonly string[]).includes(engine ?? '') || !(MODEL_NAMES as readonly string[]).includes(model ?? '')) {
  process.stderr.write(`usage: runner.js <${NODE_ENGINES.join('|')}> <${MODEL_NAMES.join('|')}> [threads]\n`);
  process.exitCode = 2;
} else {
  await serve(() => setup(engine as NodeEngine, model as ModelName, Number(threads ?? 1)));
  // tfjs / worker handles may keep the loop alive; the parent is done with us.
  process.exit(0);
}
