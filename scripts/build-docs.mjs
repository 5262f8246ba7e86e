#!/usr/bin/env node
// `npm run docs`: the API reference in docs/api/ from the TSDoc comments of the shipped
// declarations (dist/*.d.ts, so run `npm run build` first). api-extractor reads each public entry
// point (the root `iclrnn` and the subpaths `iclrnn/nn`, `iclrnn/certify`, `iclrnn/control`; the
// `iclrnn/browser` entry is the root minus the file I/O) into a doc model; api-documenter turns the
// models into Markdown. (TypeDoc does not support TypeScript 7; api-extractor brings its own
// compiler to read declaration files.)
//
// `--check` also fails (exit 1) when a public export has no doc comment, or when a function or
// class of the root entry has no @example; nothing is written to docs/api then except on success.
// test/package/docs.test.ts runs it.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const outIndex = process.argv.indexOf('--out');
const outDir = outIndex >= 0 ? process.argv[outIndex + 1] : join(root, 'docs', 'api');

/** Public entry points documented here: package subpath, declaration file, doc-model package name. */
export const ENTRY_POINTS = [
  { subpath: 'iclrnn', dts: 'dist/index.d.ts', name: 'iclrnn', requireExamples: true },
  { subpath: 'iclrnn/nn', dts: 'dist/api/nn.d.ts', name: '@iclrnn/nn', requireExamples: false },
  { subpath: 'iclrnn/certify', dts: 'dist/api/certify.d.ts', name: '@iclrnn/certify', requireExamples: false },
  { subpath: 'iclrnn/control', dts: 'dist/api/control.d.ts', name: '@iclrnn/control', requireExamples: false },
];

for (const e of ENTRY_POINTS) {
  if (!existsSync(join(root, e.dts))) {
    console.error(`docs: ${e.dts} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
}

const work = mkdtempSync(join(tmpdir(), 'iclrnn-docs-'));
const models = join(work, 'models');
mkdirSync(models);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const problems = [];

for (const e of ENTRY_POINTS) {
  const config = ExtractorConfig.prepare({
    configObjectFullPath: join(root, 'api-extractor.json'),
    packageJsonFullPath: join(root, 'package.json'),
    packageJson: { ...pkg, name: e.name },
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: join(root, e.dts),
      compiler: {
        overrideTsconfig: {
          compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: true, types: ['node'] },
          files: [join(root, e.dts)],
        },
      },
      apiReport: { enabled: false },
      docModel: { enabled: true, apiJsonFilePath: join(models, `${e.name.replace(/[@/]/g, '_')}.api.json`) },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          // Types reachable only through other exports (e.g. option objects of option objects) are
          // documented where they are declared; the entry points list what users name directly.
          'ae-forgotten-export': { logLevel: 'none' },
          'ae-missing-release-tag': { logLevel: 'none' },
          'ae-internal-missing-underscore': { logLevel: 'none' },
        },
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: true, showVerboseMessages: false, messageCallback: (m) => { if (m.logLevel === 'warning') m.logLevel = 'verbose'; } });
  if (!result.succeeded) {
    console.error(`docs: api-extractor failed on ${e.dts} (${result.errorCount} errors)`);
    process.exit(1);
  }
  // The doc model: every export of the entry point must carry a doc comment.
  const model = JSON.parse(readFileSync(config.apiJsonFilePath, 'utf8'));
  const entry = model.members[0];
  for (const m of entry.members) {
    const doc = (m.docComment ?? '').replace(/\/\*\*|\*\/|^\s*\*/gm, '').trim();
    if (!doc) problems.push(`${e.subpath}: export '${m.name}' (${m.kind}) has no doc comment`);
    else if (e.requireExamples && (m.kind === 'Function' || m.kind === 'Class') && !/@example/.test(m.docComment)) {
      problems.push(`${e.subpath}: export '${m.name}' (${m.kind}) has no @example`);
    }
  }
}

if (problems.length) {
  console.error(`docs: ${problems.length} public export(s) without the required documentation:\n  ${problems.join('\n  ')}`);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
}

const require = createRequire(import.meta.url);
const documenter = join(dirname(require.resolve('@microsoft/api-documenter/package.json')), 'bin', 'api-documenter');
const md = join(work, 'markdown');
const r = spawnSync(process.execPath, [documenter, 'markdown', '--input-folder', models, '--output-folder', md], { encoding: 'utf8' });
if (r.status !== 0) {
  console.error(`docs: api-documenter failed:\n${r.stdout}\n${r.stderr}`);
  process.exit(1);
}
// Subpaths were documented as the packages '@iclrnn/<name>' (api-documenter wants package names);
// show them under their import specifier 'iclrnn/<name>'.
for (const f of readdirSync(md)) {
  const p = join(md, f);
  const text = readFileSync(p, 'utf8').replace(/@iclrnn\/(nn|certify|control)/g, 'iclrnn/$1');
  writeFileSync(p, text);
}
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
cpSync(md, outDir, { recursive: true });
rmSync(work, { recursive: true, force: true });
console.error(`docs: ${readdirSync(outDir).length} pages in ${outDir} (start at index.md)`);
