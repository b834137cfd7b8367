// `pnpm dev`: rebuilds dist/ on every change and serves it on 127.0.0.1 with COOP/COEP.
import { buildDemo, dist } from './build.mjs';
import { startServer } from './server.mjs';

await buildDemo({ watch: true });
const { url } = await startServer({ root: dist, port: Number(process.env.PORT ?? 5173) });
console.log(`demo: ${url} (cross-origin isolated; rebuilding on change, reload the page to see it)`);
