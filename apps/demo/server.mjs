// A tiny static server for dist/ on 127.0.0.1 that sends COOP/COEP, so the pages are cross-origin
// isolated (SharedArrayBuffer, and so threads, are allowed). `node server.mjs [--port N] [dir]`.
// It also serves the repo's data/fashion-mnist/ under /data/fashion-mnist/ (not copied into dist/),
// so the digits page can train on Fashion-MNIST; a plain static host without them shows the option
// as "files not served".
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.gz': 'application/gzip',
};

/** The repo's Fashion-MNIST files, served under /data/fashion-mnist/ by default. */
export const fashionMnistDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'fashion-mnist');

/**
 * Serves `root` on host:port (port 0 picks a free one). Resolves with the base URL and a close().
 * `mounts` maps URL prefixes (ending in '/') to more folders (default: the repo's Fashion-MNIST
 * under '/data/fashion-mnist/'; pass {} for none).
 * @param {{ root: string, port?: number, host?: string, isolate?: boolean, mounts?: Record<string, string> }} options
 */
export function startServer({ root, port = 0, host = '127.0.0.1', isolate = true, mounts = { '/data/fashion-mnist/': fashionMnistDir } }) {
  const mounted = Object.entries(mounts).map(([prefix, dir]) => [prefix, resolve(dir)]);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let base = resolve(root), rest = path;
    for (const [prefix, dir] of mounted) {
      if (path.startsWith(prefix)) { base = dir; rest = path.slice(prefix.length - 1); break; }
    }
    let file = normalize(join(base, rest));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      statSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
    if (isolate) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
      headers['cross-origin-resource-policy'] = 'same-origin';
    }
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolvePromise({
        url: `http://${host}:${address.port}/`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--port');
  const port = i >= 0 ? Number(args.splice(i, 2)[1]) : Number(process.env.PORT ?? 5173);
  const root = args[0] ?? join(dirname(fileURLToPath(import.meta.url)), 'dist');
  const { url } = await startServer({ root, port });
  console.log(`demo: serving ${root} at ${url} (cross-origin isolated)`);
}
