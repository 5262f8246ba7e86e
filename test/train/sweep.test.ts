import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../../src/nn/models.ts';
import { fitModel } from '../../src/train/pipeline.ts';
import {
  cellKey,
  configDifferences,
  empiricalLipschitz,
  parseSweepResults,
  runSweep,
  sweepCells,
  SweepConfigMismatchError,
  SweepFormatError,
  type SweepCellSpec,
  type SweepResults,
} from '../../src/train/sweep.ts';
import { smallCstr } from '../helpers.ts';
import { ValidationError } from '../../src/core/errors.ts';

const config = { system: 'cstr', data: { system: 'cstr', splitSeed: 0 }, hidden: 4, layers: 1, epochs: 2, batchSize: 64, learningRate: 1e-3 };
const models = ['iclrnn', 'rnn'];
const noise = [0, 0.9];
const seeds = [0];

/** A fake results file: the last saved JSON text, checked to parse on every save. */
function fakeFile() {
  const f = {
    text: null as string | null,
    saves: 0,
    save(r: SweepResults) {
      const text = JSON.stringify(r);
      const back = JSON.parse(text); // always valid JSON
      parseSweepResults(back); // and a valid results object
      f.text = text;
      f.saves++;
    },
    read(): unknown {
      return f.text === null ? null : JSON.parse(f.text);
    },
  };
  return f;
}

const metricsOf = (c: SweepCellSpec) => ({ testMse: 0.001 * (c.index + 1), lipschitz: { empirical: 1 + c.noise, upperBound: null, reason: 'none' }, trainSeconds: 0.5 });

test('cells: model x noise x seed, model-major, validated', () => {
  const cells = sweepCells(['a', 'b'], [0, 0.5], [1, 2]);
  assert.equal(cells.length, 8);
  assert.deepEqual(cells.slice(0, 3).map((c) => c.key), ['a/noise=0/seed=1', 'a/noise=0/seed=2', 'a/noise=0.5/seed=1']);
  assert.throws(() => sweepCells([], [0], [0]), ValidationError);
  assert.throws(() => sweepCells(['a', 'a'], [0], [0]), /twice/);
  assert.throws(() => sweepCells(['a'], [0, -0], [0]), /twice/);
  assert.throws(() => sweepCells(['a'], [-1], [0]), ValidationError);
  assert.throws(() => sweepCells(['a'], [0], [0.5]), ValidationError);
});

test('resumes after an interruption without recomputing or losing finished cells; file valid after every cell', async () => {
  const file = fakeFile();
  let calls = 0;
  const doneCounts: number[] = [];
  await assert.rejects(
    runSweep({
      config, models, noise, seeds,
      results: file.read(),
      save: (r) => {
        file.save(r);
        doneCounts.push(Object.values(r.cells).filter((c) => c.status === 'done').length);
      },
      runCell: (c) => {
        calls++;
        if (calls === 3) throw new Error('interrupted');
        return metricsOf(c);
      },
    }),
    /interrupted/,
  );
  assert.equal(calls, 3);
  const saved = parseSweepResults(file.read());
  assert.equal(Object.keys(saved.cells).length, 2, 'the two finished cells are saved');
  // saved once at the start, once per finished cell (and once when rethrowing); never loses a cell
  assert.deepEqual(doneCounts.slice(0, 3), [0, 1, 2]);
  for (let i = 1; i < doneCounts.length; i++) assert.ok(doneCounts[i] >= doneCounts[i - 1]);
  const before = structuredClone(saved.cells);

  // rerun: only the two missing cells run
  let calls2 = 0;
  const ran: string[] = [];
  const out = await runSweep({
    config, models, noise, seeds,
    results: file.read(),
    save: (r) => file.save(r),
    runCell: (c) => {
      calls2++;
      ran.push(c.key);
      return metricsOf(c);
    },
  });
  assert.equal(calls2, 2);
  assert.deepEqual(ran, [cellKey('rnn', 0, 0), cellKey('rnn', 0.9, 0)]);
  assert.equal(out.ran, 2);
  assert.equal(out.skipped, 2);
  assert.equal(out.total, 4);
  const final = parseSweepResults(file.read());
  assert.equal(Object.keys(final.cells).length, 4);
  for (const [k, c] of Object.entries(before)) assert.deepEqual(final.cells[k], c, `finished cell ${k} untouched`);
  assert.equal(final.cells[cellKey('rnn', 0.9, 0)].testMse, 0.004);
  assert.equal(final.cells[cellKey('rnn', 0.9, 0)].lipschitz?.empirical, 1.9);

  // a third run does nothing
  let calls3 = 0;
  const again = await runSweep({ config, models, noise, seeds, results: file.read(), save: (r) => file.save(r), runCell: (c) => (calls3++, metricsOf(c)) });
  assert.equal(calls3, 0);
  assert.equal(again.skipped, 4);
  assert.ok(again.cells.every((c) => c !== null && c.status === 'done'));
});

test('a changed configuration is a clear error before anything runs; key order and undefined do not matter', async () => {
  const file = fakeFile();
  await runSweep({ config, models, noise, seeds, save: (r) => file.save(r), runCell: metricsOf });
  const savesBefore = file.saves;
  let calls = 0;
  const err = await runSweep({
    config: { ...config, epochs: 3 },
    models, noise, seeds,
    results: file.read(),
    save: (r) => file.save(r),
    runCell: (c) => (calls++, metricsOf(c)),
  }).then(() => null, (e) => e);
  assert.ok(err instanceof SweepConfigMismatchError, String(err));
  assert.match(err.message, /epochs: 2 in the results, 3 requested/);
  assert.equal(err.message.split('\n').length, 1);
  assert.equal(calls, 0);
  assert.equal(file.saves, savesBefore, 'the results file is not touched');

  // the same configuration with other key order and an undefined field is accepted
  const reordered = { learningRate: 1e-3, batchSize: 64, epochs: 2, layers: 1, hidden: 4, data: { splitSeed: 0, system: 'cstr', data: undefined }, system: 'cstr' };
  const ok = await runSweep({ config: reordered, models, noise, seeds, results: file.read(), save: (r) => file.save(r), runCell: (c) => (calls++, metricsOf(c)) });
  assert.equal(calls, 0);
  assert.equal(ok.skipped, 4);

  assert.deepEqual(configDifferences({ a: 1, b: { c: 2 } }, { a: 1, b: { c: 3 }, d: true }), ['b.c: 2 in the results, 3 requested', 'd: unset in the results, true requested']);
});

test('extending a sweep (new noise level, new seed) runs only the new cells', async () => {
  const file = fakeFile();
  await runSweep({ config, models: ['iclrnn'], noise: [0], seeds: [0], save: (r) => file.save(r), runCell: metricsOf });
  const ran: string[] = [];
  const out = await runSweep({
    config, models: ['iclrnn'], noise: [0, 0.3], seeds: [0, 1],
    results: file.read(),
    save: (r) => file.save(r),
    runCell: (c) => (ran.push(c.key), metricsOf(c)),
  });
  assert.equal(ran.length, 3);
  assert.ok(!ran.includes(cellKey('iclrnn', 0, 0)));
  assert.equal(out.skipped, 1);
  const r = parseSweepResults(file.read());
  assert.deepEqual(r.noise, [0, 0.3]);
  assert.deepEqual(r.seeds, [0, 1]);
});

test("failed cells are recorded when onCellError says 'record', and retried on the next run", async () => {
  const file = fakeFile();
  const out = await runSweep({
    config, models, noise: [0], seeds,
    save: (r) => file.save(r),
    runCell: (c) => {
      if (c.model === 'rnn') throw new RangeError('training diverged at epoch 1');
      return metricsOf(c);
    },
    onCellError: (e) => (e instanceof RangeError ? 'record' : 'throw'),
  });
  assert.equal(out.failed, 1);
  const saved = parseSweepResults(file.read());
  assert.equal(saved.cells[cellKey('rnn', 0, 0)].status, 'failed');
  assert.match(saved.cells[cellKey('rnn', 0, 0)].error ?? '', /diverged/);
  const ran: string[] = [];
  await runSweep({ config, models, noise: [0], seeds, results: file.read(), save: (r) => file.save(r), runCell: (c) => (ran.push(c.key), metricsOf(c)) });
  assert.deepEqual(ran, [cellKey('rnn', 0, 0)]);
  assert.equal(parseSweepResults(file.read()).cells[cellKey('rnn', 0, 0)].status, 'done');
});

test('NaN metrics become null in the results (valid JSON); malformed results files are rejected', async () => {
  const file = fakeFile();
  await runSweep({ config, models: ['rnn'], noise: [0], seeds, save: (r) => file.save(r), runCell: () => ({ testMse: NaN, lipschitz: { empirical: Infinity, upperBound: null } }) });
  const c = parseSweepResults(file.read()).cells[cellKey('rnn', 0, 0)];
  assert.equal(c.testMse, null);
  assert.equal(c.lipschitz?.empirical, null);
  assert.throws(() => parseSweepResults([]), SweepFormatError);
  assert.throws(() => parseSweepResults({ format: 'other' }), /not a sweep results file/);
  assert.throws(() => parseSweepResults({ format: 'iclrnn-sweep', version: 99, config: {}, cells: {} }), /version/);
  assert.throws(() => parseSweepResults({ format: 'iclrnn-sweep', version: 1, config: {}, cells: { x: { model: 'a', noise: 0, seed: 0, status: 'done' } } }), /does not match/);
});


test('empirical Lipschitz estimate: reference protocol, deterministic, finite; real tiny cells through runSweep', async () => {
  const data = smallCstr(24);
  const file = fakeFile();
  const out = await runSweep({
    config, models: ['iclrnn', 'rnn'], noise: [0], seeds,
    save: (r) => file.save(r),
    runCell: (c) => {
      const r = fitModel(data, { kind: c.model as 'iclrnn' | 'rnn', hidden: 4, layers: 1, epochs: 1, batchSize: 64, seed: c.seed, noise: c.noise });
      const t = r.data.test;
      return { testMse: r.testMse, lipschitz: { empirical: empiricalLipschitz(r.model, t.inputs, t.count, t.steps, 1), upperBound: null } };
    },
  });
  for (const c of out.cells) {
    assert.ok(c && Number.isFinite(c.testMse) && c.testMse! > 0);
    assert.ok(c && Number.isFinite(c.lipschitz?.empirical) && c.lipschitz!.empirical! > 0);
  }
  const m = buildModel('rnn', { inputSize: 4, outputSize: 2, hidden: 5, layers: 1, seed: 3 });
  const x = Float64Array.from({ length: 7 * 10 * 4 }, (_, i) => ((i * 37) % 101) / 101);
  const a = empiricalLipschitz(m, x, 7, 10, 5), b = empiricalLipschitz(m, x, 7, 10, 5, { batchSize: 3 });
  assert.equal(a, b, 'same seed, same estimate, whatever the batching');
  assert.ok(a > 0 && Number.isFinite(a));
  assert.equal(empiricalLipschitz(m, x, 0, 10, 5), 0);
  assert.throws(() => empiricalLipschitz(m, x.subarray(0, 10), 7, 10, 5), ValidationError);
  // a scalar linear model y = w x has estimate |w| * (norm ratio) <= |w|; here check the bound for the
  // ICLRNN: every weight matrix has spectral norm <= 1, so a 1-layer, 1-step model is 1-Lipschitz in
  // the augmented input, i.e. <= sqrt(2) in the plain input.
  const ic = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 6, layers: 1, seed: 1 });
  const x1 = Float64Array.from({ length: 50 * 4 }, (_, i) => ((i * 13) % 29) / 29);
  assert.ok(empiricalLipschitz(ic, x1, 50, 1, 2) <= Math.SQRT2 + 1e-9);
});

test('CLI: sweep end to end (tiny), resume skips, configuration mismatch exits 2 with one line', () => {
  const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-'));
  const out = join(dir, 'results.json');
  const report = join(dir, 'report.html');
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'sweep', '--system', 'cstr', '--models', 'iclrnn', '--noise', '0,0.5', '--hidden', '3', '--layers', '1', '--batch', '512', '--lipschitz-samples', '200', '--out', out, ...args], { encoding: 'utf8' });
  const a = run('--epochs', '1', '--json', '--report', report);
  assert.equal(a.status, 0, a.stderr);
  const j = JSON.parse(a.stdout);
  assert.equal(j.ran, 2);
  assert.equal(j.cells.length, 2);
  assert.ok(j.cells.every((c: { testMse: number; lipschitz: number }) => c.testMse > 0 && c.lipschitz > 0));
  assert.ok(existsSync(report));
  const html = readFileSync(report, 'utf8');
  assert.ok((html.match(/<svg/g) ?? []).length >= 5, 'MSE, Lipschitz and phase portrait figures');
  const saved = parseSweepResults(JSON.parse(readFileSync(out, 'utf8')));
  assert.equal(Object.keys(saved.cells).length, 2);
  assert.ok(existsSync(join(dir, saved.cells[cellKey('iclrnn', 0, 0)].modelFile as string)));
  for (const cell of Object.values(saved.cells)) {
    const lip = cell.lipschitz!;
    assert.ok(typeof lip.upperBound === 'number' && lip.upperBound >= (lip.empirical as number), `certified bound ${lip.upperBound} vs estimate ${lip.empirical}`);
  }
  const b = run('--epochs', '1', '--json');
  assert.equal(b.status, 0, b.stderr);
  assert.equal(JSON.parse(b.stdout).skipped, 2);
  assert.equal(JSON.parse(b.stdout).ran, 0);
  const c = run('--epochs', '2');
  assert.equal(c.status, 2);
  assert.match(c.stderr, /different configuration.*epochs: 1 in the results, 2 requested/);
  assert.equal(c.stderr.trim().split('\n').length, 1);
  assert.doesNotMatch(c.stderr, /\n\s+at /);
});
