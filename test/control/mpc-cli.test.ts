import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveModel } from '../../src/io/model-file.ts';
import { buildModel } from '../../src/nn/models.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iclrnn-mpc-'));

function run(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function userError(r: { code: number; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.equal(r.stdout, '', 'no partial output');
}

test('mpc --model first-principles --json: contract, convergence from (1.5, -70)', () => {
  const r = run('mpc', '--system', 'cstr', '--model', 'first-principles', '--x0', '1.5,-70', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['converged', 'steps', 'finalState', 'solveSeconds', 'solverStatus', 'x', 'u', 't', 'horizon', 'iterations']) assert.ok(k in j, k);
  assert.equal(j.converged, true);
  assert.ok(j.steps >= 5 && j.steps <= 20);
  assert.equal(j.finalState.length, 2);
  assert.ok(Math.abs(j.finalState[0]) < 0.02 && Math.abs(j.finalState[1]) < 3);
  for (const k of ['median', 'mean', 'max']) assert.equal(typeof j.solveSeconds[k], 'number');
  assert.equal(j.solverStatus.optimal, j.steps);
  assert.equal(j.x.length, j.steps + 1);
  assert.equal(j.u.length, j.steps);
  assert.equal(j.t.length, j.steps + 1);
  assert.deepEqual(j.x[0], [1.5, -70]);
  for (const u of j.u) assert.ok(Math.abs(u[0]) <= 3.5 && Math.abs(u[1]) <= 5e5);
});

test('mpc with a model file, horizon, noise and seed; human summary', () => {
  const model = join(dir, 'm.json');
  saveModel(model, {
    model: buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 1 }),
    inputScaler: new MinMaxScaler({ min: [-100, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] }),
    outputScaler: new MinMaxScaler({ min: [-100, -2], max: [200, 4] }),
    metadata: { system: 'cstr' },
  });
  const r = run('mpc', '--model', model, '--x0', '-1.5,70', '--horizon', '3', '--steps', '3', '--noise', '0.5,20', '--seed', '4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.modelKind, 'iclrnn');
  assert.equal(j.horizon, 3);
  assert.ok(j.steps <= 3);
  assert.deepEqual(j.noise, [0.5, 20]);
  const h = run('mpc', '--model', 'first-principles', '--steps', '2');
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /mpc cstr \(first-principles/);
  assert.match(h.stdout, /solve time per step: median/);
  assert.match(h.stdout, /solver status: optimal 2/);
});

test('mpc user errors: one line, exit 2', () => {
  userError(run('mpc', '--model', join(dir, 'missing.json')), /model file not found/);
  userError(run('mpc', '--model', 'first-principles', '--x0', '1,2,3'), /--x0 must be 2 comma-separated numbers/);
  userError(run('mpc', '--system', 'energy', '--model', 'first-principles'), /cstr only/);
  const wrong = join(dir, 'energy.json');
  saveModel(wrong, {
    model: buildModel('rnn', { inputSize: 3, outputSize: 1, hidden: 2, layers: 1, seed: 0 }),
    inputScaler: null, outputScaler: null, metadata: {},
  });
  userError(run('mpc', '--model', wrong), /4 inputs/);
});

test('mpc --json: V along the true trajectory, its maximum, the stability level and the steps outside; --report draws it', () => {
  const html = join(dir, 'mpc.html');
  const r = run('mpc', '--model', 'first-principles', '--x0', '1.2,-60', '--json', '--report', html);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.V.length, j.x.length);
  for (let k = 0; k < j.x.length; k++) {
    const [x1, x2] = j.x[k];
    assert.ok(Math.abs(j.V[k] - (1060 * x1 * x1 + 44 * x1 * x2 + 0.52 * x2 * x2)) <= 1e-9 * Math.max(1, j.V[k]));
  }
  assert.equal(j.maxV, Math.max(...j.V));
  assert.equal(j.stabilityLevel, 372);
  assert.deepEqual(j.stepsOutside, []);
  assert.equal(j.leftStabilityRegion, false);
  assert.equal(j.safety, 'nominal');
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<section id="mpc">/);
  assert.match(page, /V\(x\) on the true trajectory/);
  assert.match(page, /u1\(t\) and its bounds/);
  assert.match(page, /Every run stayed inside the stability region/);
  // the text output shows V per step and the verdict
  const h = run('mpc', '--model', 'first-principles', '--x0', '1.2,-60', '--steps', '3');
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /V on the true trajectory stayed below the stability level 372: max V 230/);
  assert.match(h.stdout, /\s+V\s+status/);
});

test('mpc safety flags: bad values are usage errors', () => {
  userError(run('mpc', '--model', 'first-principles', '--safety', 'bogus'), /--safety must be one of nominal, tightened, contractive, monitor/);
  userError(run('mpc', '--model', 'first-principles', '--safety', 'nominal', '--error-bound', '2'), /--error-bound applies to --safety tightened only/);
  userError(run('mpc', '--model', 'first-principles', '--safety', 'tightened', '--error-bound', '-1'), /--error-bound/);
  userError(run('mpc', '--model', 'first-principles', '--safety', 'tightened', '--fallback', 'pray'), /--fallback must be one of/);
  userError(run('mpc', '--model', 'first-principles', '--no-lyapunov', '--safety', 'tightened'), /needs the Lyapunov constraint/);
});

test('study: table, JSON and report of a small closed-loop study with the committed ICLRNN; flag errors', () => {
  const fixture = fileURLToPath(new URL('./fixtures/iclrnn-cstr-e200.json', import.meta.url));
  const out = join(dir, 'study.json'), html = join(dir, 'study.html');
  const r = run('study', '--kinds', 'iclrnn', '--model', `iclrnn=${fixture}`, '--grid', '5', '--no-noise', '--max-steps', '30', '--out', out, '--report', html, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.rows.map((x: { predictor: string; safety: string }) => `${x.predictor}/${x.safety}`), ['first-principles/nominal', 'iclrnn (200 epochs)/nominal', 'iclrnn (200 epochs)/tightened']);
  const tight = j.rows[2];
  assert.equal(tight.insideFraction, 1);
  assert.ok(tight.runs >= 4);
  const saved = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(saved.format, 'iclrnn-mpc');
  assert.equal(saved.runs.length, 3 * tight.runs);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<section id="study">/);
  assert.match(page, /iclrnn \(200 epochs\) · tightened: \d+\/\d+ inside/);
  userError(run('study', '--modes', 'nominal,bogus'), /--modes: unknown safety mode 'bogus'/);
  userError(run('study', '--kinds', 'transformer'), /--kinds: unknown model 'transformer'/);
  userError(run('study', '--model', 'iclrnn'), /--model must be KIND=FILE/);
});
