import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iclrnn-cli-'));

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function userError(r: { code: number; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
}

test('simulate cstr --json reports the reference counts', () => {
  const r = run('simulate', 'cstr', '--json', '--out', join(dir, 'cstr.csv'));
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.samples, 12352);
  assert.equal(j.initialStates, 772);
  assert.ok(existsSync(join(dir, 'cstr.csv')));
});

test('train -> eval -> predict (physical and --scaled), JSON contract', () => {
  const model = join(dir, 'm.json');
  const r = run('train', '--system', 'cstr', '--model', 'iclrnn', '--hidden', '4', '--layers', '1', '--epochs', '1', '--seed', '3', '--out', model, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['model', 'epochs', 'trainLoss', 'valLoss', 'testMse', 'secondsPerEpoch']) assert.ok(k in j, k);
  assert.equal(j.model, 'iclrnn');
  assert.equal(j.epochs, 1);
  const e = run('eval', model, '--system', 'cstr', '--json');
  assert.equal(e.code, 0, e.stderr);
  assert.equal(JSON.parse(e.stdout).testMse, j.testMse);
  const one = join(dir, 'x1.json');
  writeFileSync(one, JSON.stringify({ X: [[-50, 1, 1e5, 1], [-50, 1, 1e5, 1]] }));
  const p = run('predict', model, '--input', one, '--json');
  assert.equal(p.code, 0, p.stderr);
  const Y = JSON.parse(p.stdout).Y;
  assert.equal(Y.length, 2);
  assert.equal(Y[0].length, 2);
  const batch = join(dir, 'xb.json');
  writeFileSync(batch, JSON.stringify({ X: [[[0.1, 0.2, 0.3, 0.4]], [[0.5, 0.5, 0.5, 0.5]]] }));
  const s = run('predict', model, '--input', batch, '--scaled', '--json');
  assert.equal(s.code, 0, s.stderr);
  const Ys = JSON.parse(s.stdout).Y;
  assert.equal(Ys.length, 2);
  assert.equal(Ys[0][0].length, 2);
});

test('user errors: one line on stderr, exit 2, no stack trace, no partial output', () => {
  userError(run('train', '--system', 'cstr', '--model', 'transformer', '--out', join(dir, 'x.json')), /--model must be one of/);
  userError(run('train', '--system', 'mars', '--model', 'rnn', '--out', join(dir, 'x.json')), /--system must be one of/);
  userError(run('train', '--system', 'cstr', '--model', 'rnn', '--epochs', 'ten', '--out', join(dir, 'x.json')), /--epochs must be a non-negative integer/);
  userError(run('train', '--system', 'cstr', '--model', 'rnn'), /--out MODEL.json is required/);
  userError(run('eval', join(dir, 'missing.json')), /model file not found/);
  userError(run('frobnicate'), /unknown command/);
  userError(run('train', '--system', 'cstr', '--model', 'rnn', '--bogus'), /unknown option/);
  const model = join(dir, 'm.json');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ X: [[1, 2, 3, NaN]] }).replace('null', 'null'));
  userError(run('predict', model, '--input', bad), /X\[0\]\[3\] is null, not a finite number/);
  writeFileSync(bad, JSON.stringify({ X: [[1, 2, 3]] }));
  userError(run('predict', model, '--input', bad), /X\[0\] has 3 values but the model takes 4 input features/);
  writeFileSync(bad, '{"X": [[1,2');
  userError(run('predict', model, '--input', bad), /not valid JSON/);
  userError(run('predict', model, '--input', join(dir, 'nothere.json')), /input file not found/);
  userError(run('simulate', 'cstr', '--out', join(dir, 'data.txt')), /--out must end in .csv or .json/);
  assert.ok(!existsSync(join(dir, 'x.json')));
  assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')));
});

test('train --precision / --kernels: the training path is reported; bad values are user errors', () => {
  const js = run('train', '--system', 'cstr', '--model', 'iclrnn', '--hidden', '4', '--layers', '1', '--epochs', '1', '--kernels', 'js', '--out', join(dir, 'k-js.json'), '--json');
  assert.equal(js.code, 0, js.stderr);
  assert.deepEqual(JSON.parse(js.stdout).kernels, { backend: 'js', precision: 'f64', fma: false });
  const f64 = run('train', '--system', 'cstr', '--model', 'iclrnn', '--hidden', '4', '--layers', '1', '--epochs', '1', '--precision', 'f64', '--out', join(dir, 'k-f64.json'));
  assert.equal(f64.code, 0, f64.stderr);
  // wasm SIMD exists in every Node >= 16, so the auto path is the wasm one for an ICLRNN
  assert.match(f64.stdout, /s\/epoch \(wasm f64 SIMD(\+FMA)?\)/);
  userError(run('train', '--system', 'cstr', '--model', 'iclrnn', '--precision', 'f16', '--out', join(dir, 'k.json')), /--precision must be 'f32' or 'f64', got 'f16'/);
  userError(run('train', '--system', 'cstr', '--model', 'iclrnn', '--kernels', 'gpu', '--out', join(dir, 'k.json')), /--kernels must be 'auto' or 'js', got 'gpu'/);
});

test('train --iclstm-form blocks: the published multi-block ICLSTM trains, saves and certifies through the CLI', () => {
  const file = join(dir, 'blocks.json');
  const r = run('train', '--system', 'cstr', '--model', 'iclstm', '--iclstm-form', 'blocks', '--hidden', '3', '--layers', '2', '--epochs', '1', '--out', file, '--json');
  assert.equal(r.code, 0, r.stderr);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(saved.spec.layout, ['cells.0', 'head.0', 'cells.1', 'head.1', 'head.2']);
  const c = run('certify', file, '--steps', '3', '--json');
  assert.equal(c.code, 0, c.stderr);
  const cert = JSON.parse(c.stdout);
  assert.equal(cert.convex, false); // the gate products (README, Models)
  assert.ok(cert.lipschitz.domain > 0 && cert.lipschitz.domain >= cert.lipschitz.attack, JSON.stringify(cert.lipschitz));
  userError(run('train', '--system', 'cstr', '--model', 'rnn', '--iclstm-form', 'blocks', '--out', join(dir, 'b.json')), /--iclstm-form applies to --model iclstm only/);
  userError(run('train', '--system', 'cstr', '--model', 'iclstm', '--iclstm-form', 'towers', '--out', join(dir, 'b.json')), /--iclstm-form must be 'stacked' or 'blocks', got 'towers'/);
});
