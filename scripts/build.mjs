#!/usr/bin/env node
// `npm run build` (also run by `prepare`, so `npm install` / `npm ci` in a clone and `npm pack`
// build it): compiles src/ into dist/ (ESM .js, .d.ts, source maps), then builds the dashboard's
// browser app into dist/web when scripts/build-web.mjs exists (skipped with --no-web).
//
// Why tsc alone (no esbuild step): TypeScript 7's tsc emits JavaScript with
// `rewriteRelativeImportExtensions` (the sources import './x.ts', dist/ imports './x.js') together
// with declarations and source maps, so one compiler gives .js, .d.ts and maps from the same
// program and dist/ keeps the module layout of src/ (one file per module, which the CLI's lazy
// imports rely on). Its declaration files keep the '.ts' specifiers of the sources; they are
// rewritten to '.js' below so consumers on any `moduleResolution` (node16, nodenext, bundler) and
// older TypeScript versions resolve them.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const started = Date.now();

rmSync(dist, { recursive: true, force: true });

const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error(`build: tsc failed (exit ${r.status ?? r.signal})`);
  process.exit(1);
}

/** Every file under dir whose name ends with suffix. */
function walk(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

// Relative '.ts' specifiers in declarations -> '.js' (static imports/exports and import('...') types).
const specifier = /((?:from\s+|import\s*\(\s*|import\s+)['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g;
let rewritten = 0;
for (const file of walk(dist, '.d.ts')) {
  const text = readFileSync(file, 'utf8');
  const next = text.replace(specifier, (_m, head, path, tail) => `${head}${path}.js${tail}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten++;
  }
}
// A leftover '.ts' specifier would break consumers: fail the build instead of shipping it.
for (const file of [...walk(dist, '.d.ts'), ...walk(dist, '.js')]) {
  const left = readFileSync(file, 'utf8').match(/(?:from\s+|import\s*\(\s*|import\s+)['"]\.{1,2}\/[^'"]*\.ts['"]/);
  if (left) {
    console.error(`build: ${file} still imports a .ts file: ${left[0]}`);
    process.exit(1);
  }
}

const web = join(root, 'scripts', 'build-web.mjs');
if (process.argv.includes('--no-web')) console.error('build: --no-web: dist/web (the dashboard app) not built');
else if (existsSync(web)) {
  const w = spawnSync(process.execPath, [web], { stdio: 'inherit', cwd: root });
  if (w.status !== 0) {
    console.error(`build: scripts/build-web.mjs failed (exit ${w.status ?? w.signal})`);
    process.exit(1);
  }
}
console.error(`build: dist/ written in ${((Date.now() - started) / 1000).toFixed(1)} s (${rewritten} declaration files rewritten to .js specifiers)`);
