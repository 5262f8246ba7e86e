// The npm package as a user gets it: `npm run build`, `npm pack`, install the tarball into a fresh
// project that has no TypeScript and no tsx, then use it there: (a) the root API from a plain .mjs
// file (train one epoch on a small CSTR set, save, load, predict), (b) the installed `iclrnn` bin,
// (c) `iclrnn/browser` bundled by esbuild and run with no Node globals, (d) a .ts consumer
// type-checked against the shipped .d.ts, (e) which modules start-up loads, (f) the API docs. Also
// what the tarball contains and its unpacked size.
//
// No network: the consumer is installed with `npm ci --offline` from a lockfile built from this
// repository's package-lock.json (the npm cache holds every dependency after this repository's
// own `npm ci` / `npm install`), with the packed tarball as the `iclrnn` dependency.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
  engines: Record<string, string>;
};
/** Unpacked size budget of the tarball (bytes); the README's packaging section states it. */
const UNPACKED_BUDGET = 12 * 1024 * 1024;
/** The root API (`import ... from 'iclrnn'`), runtime names; the README lists them. */
const ROOT_RUNTIME_EXPORTS = [
  'CSTR_LMPC',
  'DataError',
  'MODEL_FORMAT_VERSION',
  'MODEL_KINDS',
  'ModelFileError',
  'Mpc',
  'TrainingDivergedError',
  'ValidationError',
  'buildModel',
  'certify',
  'closedLoop',
  'createCstrLmpc',
  'enableWasmFma',
  'energyDataset',
  'fitModel',
  'fitModelAsync',
  'formatCertificate',
  'generateCstrDataset',
  'importKeras',
  'isInputConvexKind',
  'isValidationError',
  'kerasScalersFromPickles',
  'loadEnergyDataset',
  'loadModel',
  'loadSolarDataset',
  'loadTimeSeries',
  'modelFromJson',
  'modelToJson',
  'nodeTrainingThreads',
  'predictPhysical',
  'readPickledMinMaxScaler',
  'runCstrClosedLoop',
  'runSweep',
  'saveModel',
  'simulateCstr',
  'skillReport',
  'solarDataset',
  'summarizeClosedLoop',
  'testBaselines',
  'testMseOf',
  'windowedDataset',
];
/** Root names that need Node (file I/O); `iclrnn/browser` is the root without them. */
const NODE_ONLY = ['enableWasmFma', 'importKeras', 'kerasScalersFromPickles', 'loadEnergyDataset', 'loadModel', 'loadSolarDataset', 'loadTimeSeries', 'nodeTrainingThreads', 'readPickledMinMaxScaler', 'saveModel'];

/** The environment of every child: dist/, not the sources (the test runner sets ICLRNN_FROM_SOURCE). */
const env = { ...process.env, ICLRNN_FROM_SOURCE: '', NO_COLOR: '1' };
function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}
function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const work = mkdtempSync(join(tmpdir(), 'iclrnn-package-'));
const consumer = join(work, 'consumer');
let tarball = '';
let packInfo: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

test.after(() => rmSync(work, { recursive: true, force: true }));

test('npm run build, npm pack: the tarball holds dist/, the bin and docs, no tests, results or fixtures, within the size budget', () => {
  ok(run('npm', ['run', 'build'], root), 'npm run build');
  const out = ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root), 'npm pack');
  packInfo = JSON.parse(out)[0];
  tarball = join(work, packInfo.filename);
  assert.ok(existsSync(tarball));
  const paths = packInfo.files.map((f) => f.path);
  for (const p of ['package.json', 'README.md', 'CHANGELOG.md', 'bin/iclrnn.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/browser.js', 'dist/browser.d.ts', 'dist/api/nn.js', 'dist/api/certify.js', 'dist/api/control.js', 'dist/cli/main.js'])
    assert.ok(paths.includes(p), `tarball lacks ${p}`);
  const forbidden = paths.filter((p) => /^(test|results|bench|scripts|docs|\.ci|node_modules)\//.test(p) || /fixtures?\//.test(p) || /\.test\.[jt]s$/.test(p) || /tsbuildinfo$/.test(p));
  assert.deepEqual(forbidden, [], 'tarball holds files users do not need');
  assert.ok(packInfo.unpackedSize <= UNPACKED_BUDGET, `unpacked size ${packInfo.unpackedSize} B exceeds the budget ${UNPACKED_BUDGET} B`);
  console.log(`# tarball ${packInfo.filename}: ${packInfo.size} B packed, ${packInfo.unpackedSize} B unpacked, ${paths.length} files`);
});

test('the tarball installs offline into a project with no TypeScript and no tsx', () => {
  assert.ok(tarball, 'needs the tarball of the first test');
  mkdirSync(consumer, { recursive: true });
  const local = join(consumer, 'iclrnn.tgz');
  copyFileSync(tarball, local);
  // A lockfile: the tarball as `iclrnn`, its dependencies as this repository's lockfile pins them.
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const packages: Record<string, Record<string, unknown>> = {
    '': { name: 'consumer', dependencies: { iclrnn: 'file:iclrnn.tgz' } },
    'node_modules/iclrnn': {
      version: pkg.version,
      resolved: 'file:iclrnn.tgz',
      integrity: 'sha512-' + createHash('sha512').update(readFileSync(local)).digest('base64'),
      license: 'MIT',
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  // The repository's lockfile records no tarball URLs; the registry's URL scheme gives them (the
  // npm cache holds these tarballs after the repository's own install).
  const registry = run('npm', ['config', 'get', 'registry'], root).stdout.trim().replace(/\/?$/, '/');
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || entry.dev) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    packages[path] = { resolved: `${registry}${name}/-/${name.split('/').pop()}-${entry.version}.tgz`, ...entry };
  }
  writeFileSync(join(consumer, 'package-lock.json'), JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 1));
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { iclrnn: 'file:iclrnn.tgz' } }));
  ok(run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], consumer), 'npm ci --offline in the consumer');
  assert.ok(existsSync(join(consumer, 'node_modules', 'iclrnn', 'dist', 'index.js')));
  for (const absent of ['typescript', 'tsx', 'esbuild']) assert.ok(!existsSync(join(consumer, 'node_modules', absent)), `${absent} was installed`);
});

test('(a) plain .mjs: the root API trains one epoch on a small CSTR set, saves, loads, predicts; internals are not importable', () => {
  writeFileSync(
    join(consumer, 'train.mjs'),
    `import * as api from 'iclrnn';
import { generateCstrDataset, fitModel, saveModel, loadModel, predictPhysical, ValidationError } from 'iclrnn';
const data = generateCstrDataset();
const n = 300;
const small = { ...data, count: n, inputs: data.inputs.subarray(0, n * 40), targets: data.targets.subarray(0, n * 20) };
const fit = fitModel(small, { kind: 'iclrnn', hidden: 8, layers: 1, epochs: 1, seed: 0 });
saveModel('model.json', { ...fit, metadata: { system: 'cstr' } });
const back = loadModel('model.json');
const y = predictPhysical(back, small.inputs.subarray(0, 40), 1, 10);
let validation = null;
try { fitModel(small, { kind: 'iclrnn', hidden: 0, layers: 1, epochs: 1 }); } catch (e) { validation = e instanceof ValidationError ? e.name : 'other: ' + e; }
const blocked = [];
for (const spec of ['iclrnn/dist/nn/model.js', 'iclrnn/src/index.ts', 'iclrnn/dist/index.js', 'iclrnn/package.json']) {
  try { await import(spec); } catch (e) { if (e.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') blocked.push(spec); }
}
const subpaths = {};
for (const s of ['iclrnn/browser', 'iclrnn/nn', 'iclrnn/certify', 'iclrnn/control']) subpaths[s] = Object.keys(await import(s)).length;
const browserExports = Object.keys(await import('iclrnn/browser')).sort();
console.log(JSON.stringify({ exports: Object.keys(api).sort(), browserExports, testMse: fit.testMse, epochs: fit.history.epochsRun, y: Array.from(y), validation, blocked, subpaths }));
`,
  );
  const r = JSON.parse(ok(run(process.execPath, ['train.mjs'], consumer), 'train.mjs'));
  assert.deepEqual(r.exports, [...ROOT_RUNTIME_EXPORTS].sort());
  assert.deepEqual(r.browserExports, ROOT_RUNTIME_EXPORTS.filter((n) => !NODE_ONLY.includes(n)).sort());
  assert.equal(r.epochs, 1);
  assert.ok(Number.isFinite(r.testMse) && r.testMse > 0);
  assert.equal(r.y.length, 20);
  assert.ok(r.y.every(Number.isFinite));
  assert.equal(r.validation, 'ValidationError');
  assert.deepEqual(r.blocked, ['iclrnn/dist/nn/model.js', 'iclrnn/src/index.ts', 'iclrnn/dist/index.js', 'iclrnn/package.json']);
  for (const [s, count] of Object.entries(r.subpaths as Record<string, number>)) assert.ok(count > 5, `${s} exports ${count} names`);
});

test('(b) the installed iclrnn bin: --help, --version, predict, and a user error as one line with exit 2', () => {
  const bin = join(consumer, 'node_modules', '.bin', 'iclrnn');
  const help = ok(run(bin, ['--help'], consumer), 'iclrnn --help');
  for (const c of ['train', 'predict', 'certify', 'mpc', 'sweep', 'import', 'demo']) assert.match(help, new RegExp(`\\n  ${c} `));
  assert.equal(ok(run(bin, ['--version'], consumer), 'iclrnn --version').trim(), pkg.version);
  writeFileSync(join(consumer, 'x.json'), JSON.stringify({ X: Array.from({ length: 10 }, () => [-50, 0.5, 1e5, 1]) }));
  const out = JSON.parse(ok(run(bin, ['predict', 'model.json', '--input', 'x.json', '--json'], consumer), 'iclrnn predict'));
  assert.equal(out.Y.length, 10);
  assert.equal(out.Y[0].length, 2);
  const bad = run(bin, ['predict', 'missing.json', '--input', 'x.json'], consumer);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^iclrnn: .*missing\.json/);
});

test('(c) iclrnn/browser bundles with esbuild and trains and certifies with no Node globals', async () => {
  writeFileSync(
    join(consumer, 'page.mjs'),
    `import { generateCstrDataset, fitModel, certify, predictPhysical } from 'iclrnn/browser';
const data = generateCstrDataset();
const n = 200;
const small = { ...data, count: n, inputs: data.inputs.subarray(0, n * 40), targets: data.targets.subarray(0, n * 20) };
const fit = fitModel(small, { kind: 'iclrnn', hidden: 6, layers: 1, epochs: 1, seed: 1 });
const report = certify(fit.model, { steps: 3, sampleCount: 20, attack: { starts: 2, iterations: 5 }, jensen: { segments: 20 } });
globalThis.result = { testMse: fit.testMse, convex: report.convex, y: predictPhysical(fit, small.inputs.subarray(0, 40), 1, 10).length };
`,
  );
  const bundle = await build({ entryPoints: [join(consumer, 'page.mjs')], absWorkingDir: consumer, bundle: true, platform: 'browser', format: 'iife', write: false, logLevel: 'silent' });
  const code = bundle.outputFiles[0].text;
  assert.doesNotMatch(code, /require\(["']node:|from ["']node:/);
  const context: Record<string, unknown> = { performance: { now: () => performance.now() }, structuredClone, console: { log() {}, error() {}, warn() {} } };
  context.globalThis = context;
  runInNewContext(code, context);
  const result = context.result as { testMse: number; convex: boolean; y: number };
  assert.ok(Number.isFinite(result.testMse));
  assert.equal(result.convex, true);
  assert.equal(result.y, 20);
});

test('(d) a TypeScript consumer type-checks against the shipped .d.ts; a wrong call does not', () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const tsconfig = {
    compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: [] },
    files: ['consumer.ts'],
  };
  writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify(tsconfig));
  writeFileSync(
    join(consumer, 'consumer.ts'),
    `import { generateCstrDataset, fitModel, predictPhysical, certify, createCstrLmpc, ValidationError, type FitResult, type CertificateReport } from 'iclrnn';
import { buildModel, train, type SequenceModel } from 'iclrnn/nn';
import { structuralConvexity } from 'iclrnn/certify';
import { solveQp, type QpResult } from 'iclrnn/control';
import * as browser from 'iclrnn/browser';
const data = generateCstrDataset();
const fit: FitResult = fitModel(data, { kind: 'iclrnn', hidden: 4, layers: 1, epochs: 1 });
const y: Float64Array = predictPhysical(fit, data.inputs.subarray(0, 40), 1, 10);
const report: CertificateReport = certify(fit.model, { steps: 10 });
const convex: boolean = report.convex && structuralConvexity(fit.model, 10).convex;
const model: SequenceModel = buildModel('lstm', { inputSize: 4, outputSize: 2, hidden: 3, layers: 1 });
const solve: (p: Parameters<typeof solveQp>[0]) => QpResult = solveQp;
const e: Error = new ValidationError('x', { flag: '--lr' });
const mpc = createCstrLmpc('first-principles');
void [y, convex, model, solve, e, mpc, train, browser.fitModel];
`,
  );
  ok(run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer), 'tsc on the consumer');
  writeFileSync(join(consumer, 'consumer.ts'), `import { fitModel, generateCstrDataset } from 'iclrnn';\nfitModel(generateCstrDataset(), { kind: 'not-a-model', hidden: 4, layers: 1 });\n`);
  const bad = run(process.execPath, [tsc, '-p', 'tsconfig.json'], consumer);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /not-a-model/);
});

test('(e) start-up loads only what the command needs: --help no command module, predict no HDF5, report, certificate or MPC code', () => {
  writeFileSync(join(consumer, 'record-hooks.mjs'), `export async function load(url, context, next) { process.stderr.write('LOADED ' + url + '\\n'); return next(url, context); }\n`);
  writeFileSync(join(consumer, 'record.mjs'), `import { register } from 'node:module';\nregister(new URL('./record-hooks.mjs', import.meta.url));\n`);
  const bin = join(consumer, 'node_modules', 'iclrnn', 'bin', 'iclrnn.mjs');
  const loaded = (...args: string[]) => {
    const r = run(process.execPath, ['--import', './record.mjs', bin, ...args], consumer);
    assert.equal(r.status, 0, r.stderr);
    return r.stderr.split('\n').filter((l) => l.startsWith('LOADED ')).map((l) => l.slice(7).replace(/^.*\/node_modules\//, ''));
  };
  const help = loaded('--help');
  assert.ok(help.includes('iclrnn/dist/cli/main.js'), help.join('\n'));
  assert.deepEqual(help.filter((u) => /dist\/cli\/commands\/(?!index)|h5wasm|dist\/(nn|train|certify|control|report|io)\//.test(u)), []);
  const predict = loaded('predict', 'model.json', '--input', 'x.json', '--json');
  assert.ok(predict.includes('iclrnn/dist/cli/commands/core.js'));
  assert.deepEqual(predict.filter((u) => /h5wasm|dist\/(report|certify|control)\/|commands\/(sweep|certify|mpc|import)/.test(u)), []);
});

test('(f) every public export is documented (TSDoc; root functions and classes with an example) and the API pages generate', () => {
  const out = join(work, 'api');
  const r = run(process.execPath, [join(root, 'scripts', 'build-docs.mjs'), '--check', '--out', out], root);
  assert.equal(r.status, 0, `scripts/build-docs.mjs --check failed:\n${r.stdout}\n${r.stderr}`);
  const index = readFileSync(join(out, 'index.md'), 'utf8');
  for (const p of ['iclrnn', 'iclrnn/nn', 'iclrnn/certify', 'iclrnn/control']) assert.ok(index.includes(p), `index.md does not list ${p}`);
  for (const name of ['fitModel', 'certify', 'createCstrLmpc']) {
    const page = readFileSync(join(out, `iclrnn.${name.toLowerCase()}.md`), 'utf8');
    assert.match(page, /## Example/, `${name} page has no example`);
  }
});
