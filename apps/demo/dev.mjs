// `pnpm dev`: rebuilds dist/ on every change and serves it on 127.0.0.1 with COOP/COEP (and the repo's
// data/fashion-mnist/ under /data/fashion-mnist/).
import { buildDemo, dist } from './build.mjs';
import { fashionMnistDir, startServer } from './server.mjs';

await buildDemo({ watch: true });
// the repo's Fashion-MNIST files are served (not copied into dist/) for the digits page
const { url } = await startServer({ root: dist, port: Number(process.env.PORT ?? 5173), mounts: { '/data/fashion-mnist/': fashionMnistDir } });
console.log(`demo: ${url} (cross-origin isolated; rebuilding on change, reload the page to see it)`);
