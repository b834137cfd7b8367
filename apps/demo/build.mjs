// Bundles the demo into dist/ (one ES module with the kernels embedded, plus the page).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist', { recursive: true });
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  outfile: 'dist/main.js',
  external: ['node:*'],
  logLevel: 'warning',
});
copyFileSync('src/index.html', 'dist/index.html');
console.log('demo: built dist/index.html and dist/main.js');
