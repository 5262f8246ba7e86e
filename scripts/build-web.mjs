#!/usr/bin/env node
// Builds the browser dashboard (src/web) into dist/web with esbuild: the page script (Preact +
// uPlot), the Web Worker that does every computation with the iclrnn library, and the static files.
// Standalone: `node scripts/build-web.mjs [--outdir DIR] [--dev]`; `npm run build` calls it too.
//
// The worker bundle imports the library's Node-only readers (Keras, MAT, CSV) for file import in the
// page. Their `node:*` imports are mapped to a small in-memory file system backed by h5wasm's
// Emscripten FS (src/web/worker/node-shim.ts), and `h5wasm/node` to h5wasm's browser build. That
// part (4 MB, mostly the HDF5 wasm binary) is a separate chunk loaded only when a file is imported.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the dashboard into `outdir` (default dist/web). Returns the output directory. */
export async function buildWeb({ outdir = join(root, 'dist', 'web'), dev = false, quiet = false } = {}) {
  const web = join(root, 'src', 'web');
  const shim = join(web, 'worker', 'node-shim.ts');
  const nodeShim = {
    name: 'node-shim',
    setup(b) {
      b.onResolve({ filter: /^node:(fs|fs\/promises|os|path)$/ }, () => ({ path: shim }));
      b.onResolve({ filter: /^h5wasm\/node$/ }, () => ({ path: join(root, 'node_modules', 'h5wasm', 'dist', 'esm', 'hdf5_hl.js') }));
    },
  };
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const common = {
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: !dev,
    sourcemap: dev ? 'inline' : false,
    legalComments: 'none',
    logLevel: quiet ? 'silent' : 'warning',
    define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
  };
  const worker = await build({
    ...common,
    entryPoints: { worker: join(web, 'worker', 'worker.ts') },
    outdir,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    plugins: [nodeShim],
    inject: [join(web, 'worker', 'process-shim.ts')],
    metafile: true,
  });
  const app = await build({ ...common, entryPoints: { app: join(web, 'main.tsx') }, outdir, metafile: true });
  cpSync(join(web, 'index.html'), join(outdir, 'index.html'));
  const css = readFileSync(join(root, 'node_modules', 'uplot', 'dist', 'uPlot.min.css'), 'utf8') + '\n' + readFileSync(join(web, 'style.css'), 'utf8');
  writeFileSync(join(outdir, 'app.css'), css);
  // Static hosts that honour a _headers file (Netlify, Cloudflare Pages) get the isolation headers.
  writeFileSync(join(outdir, '_headers'), '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n');
  const bytes = (m) => Object.values(m.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
  if (!quiet) console.log(`dashboard built in ${outdir} (page ${(bytes(app) / 1024).toFixed(0)} KiB, worker + chunks ${(bytes(worker) / 1024).toFixed(0)} KiB)`);
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--outdir');
  await buildWeb({ outdir: i >= 0 ? resolve(args[i + 1]) : undefined, dev: args.includes('--dev') });
}
