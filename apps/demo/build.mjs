// Bundles the demo into dist/: one HTML file per page (src/pages/<page>.html is the page's own
// <title> line and <main>; the head and nav every page shares are added here), style.css, and in assets/ one ES module per
// page and per page worker (the engine and its embedded .wasm in shared chunks) plus the files of
// src/assets/ (model weights; not its README). The output is a plain static folder.
// `node build.mjs --watch` rebuilds on change (the dev server uses it).
import { context } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
export const dist = join(here, 'dist');

function entryPoints() {
  const entries = {};
  for (const page of readdirSync(join(src, 'pages'), { withFileTypes: true })) {
    if (!page.isDirectory()) continue;
    entries[page.name] = join(src, 'pages', page.name, 'page.ts');
    const worker = join(src, 'pages', page.name, 'worker.ts');
    if (existsSync(worker)) entries[`${page.name}.worker`] = worker;
  }
  return entries;
}

/**
 * The whole HTML document of src/pages/<page>.html: the shared head (its <title> line, the style sheet
 * and the page's script, assets/<page>.js, built from src/pages/<page>/page.ts) and nav, then its <main>.
 */
function pageHtml(file) {
  const content = readFileSync(join(src, 'pages', file), 'utf8');
  const title = /^<title>[^<\n]+<\/title>\n/.exec(content);
  if (!title) throw new Error(`demo build: src/pages/${file} must start with its <title>…</title> line`);
  const page = file.slice(0, -'.html'.length);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  ${title[0]}  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="style.css">
  <script type="module" src="assets/${page}.js"></script>
</head>
<body>
<nav id="nav"></nav>
${content.slice(title[0].length)}</body>
</html>
`;
}

function copyStatic(out = dist) {
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(join(src, 'pages'))) {
    if (f.endsWith('.html')) writeFileSync(join(out, f), pageHtml(f));
  }
  copyFileSync(join(src, 'style.css'), join(out, 'style.css'));
  const assets = join(src, 'assets');
  if (existsSync(assets)) {
    mkdirSync(join(out, 'assets'), { recursive: true });
    for (const f of readdirSync(assets)) {
      if (f !== 'README.md') copyFileSync(join(assets, f), join(out, 'assets', f));
    }
  }
}

/**
 * Builds dist/ once, or keeps rebuilding it when `watch` is true (returns the esbuild context).
 * `outdir` builds elsewhere instead (a test's own copy, so it never races another test's server).
 */
export async function buildDemo({ watch = false, outdir = dist } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  copyStatic(outdir);
  const ctx = await context({
    entryPoints: entryPoints(),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: !watch,
    sourcemap: true,
    outdir: join(outdir, 'assets'),
    chunkNames: 'chunks/[name]-[hash]',
    external: ['node:*'],
    logLevel: 'warning',
    plugins: [{ name: 'copy-static', setup: (b) => b.onEnd(() => copyStatic(outdir)) }],
  });
  if (watch) {
    await ctx.watch();
    return ctx;
  }
  await ctx.rebuild();
  await ctx.dispose();
  return null;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const watch = process.argv.includes('--watch');
  await buildDemo({ watch });
  console.log(watch ? 'demo: watching src/, writing dist/' : 'demo: built dist/ (a static folder: serve it from any host)');
}
