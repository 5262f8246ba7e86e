// Skill in sweeps (issue 15): every sweep cell records the naive baseline of its test split and
// skill = testMse / baselineMse; results files written before that (without the fields) still load,
// resume, and report "n/a"; the HTML report shows the baseline and the skill.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { generateCstrDataset } from '../../src/systems/cstr.ts';
import { prepareData } from '../../src/train/pipeline.ts';
import { evaluateBaselines } from '../../src/train/metrics.ts';
import { aggregateSweep, cellKey, cellSkill, doneCellResult, emptySweepResults, parseSweepResults, recordCell, SweepFormatError } from '../../src/train/sweep.ts';
import { parseSweepJobResult, SWEEP_JOB_RESULT_FORMAT } from '../../src/train/distributed/payload.ts';
import { renderCellsTable, renderMseSection, renderReport, reportRowsFromSweep } from '../../src/report/html.ts';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const tiny = ['--system', 'cstr', '--models', 'iclrnn', '--hidden', '3', '--layers', '1', '--batch', '512', '--epochs', '1', '--lipschitz-samples', '20', '--no-save-models'];

function sweep(args: string[]) {
  return spawnSync(process.execPath, [bin, 'sweep', ...tiny, ...args], { encoding: 'utf8' });
}

test('a tiny CSTR sweep records the persistence baseline of its split and skill = testMse / baselineMse exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-skill-'));
  const out = join(dir, 'r.json'), report = join(dir, 'r.html');
  const r = sweep(['--noise', '0,0.3', '--out', out, '--report', report, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const saved = parseSweepResults(JSON.parse(readFileSync(out, 'utf8')));
  // the baseline computed independently: the default CSTR data, split seed 0, scaler fitted on the training part
  const d = generateCstrDataset();
  const p = prepareData(d, { splitSeed: 0 });
  const expected = evaluateBaselines(d, p.split, p.outputScaler);
  assert.equal(expected.kind, 'persistence');
  for (const n of [0, 0.3]) {
    const c = saved.cells[cellKey('iclrnn', n, 0)];
    assert.equal(c.status, 'done');
    assert.equal(c.baselineKind, 'persistence');
    assert.equal(c.baselineMse, expected.baselineMse);
    assert.equal(c.meanPredictorMse, expected.meanMse);
    assert.equal(typeof c.testMse, 'number');
    assert.equal(c.skill, (c.testMse as number) / (expected.baselineMse as number), 'skill is testMse / baselineMse, exactly');
  }
  const summary = JSON.parse(r.stdout) as { baseline: { kind: string; mse: number }; cells: { skill: number | null; testMse: number }[] };
  assert.equal(summary.baseline.kind, 'persistence');
  assert.equal(summary.baseline.mse, expected.baselineMse);
  for (const c of summary.cells) assert.equal(c.skill, c.testMse / (expected.baselineMse as number));
  const html = readFileSync(report, 'utf8');
  assert.match(html, /<th>skill<\/th>/, 'the cells table has a skill column');
  assert.match(html, /<th>baseline MSE<\/th>/);
  assert.match(html, /persistence \(baseline\)/, 'the MSE table has a persistence row');
  assert.match(html, /Persistence predicts that the state stays at its initial value/);
  assert.match(html, /class="skill">skill \d/);
  // the text summary has a skill column and names the baseline
  const text = sweep(['--noise', '0,0.3', '--out', out]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /baseline: persistence .*test MSE/);
  assert.match(text.stdout, /test MSE +skill/);
});

test('an old-format results file (no baseline fields) loads, resumes, and reports skill n/a for its cells', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-old-'));
  const out = join(dir, 'old.json'), report = join(dir, 'old.html');
  const first = sweep(['--noise', '0', '--out', out]);
  assert.equal(first.status, 0, first.stderr);
  const json = JSON.parse(readFileSync(out, 'utf8'));
  for (const c of Object.values(json.cells) as Record<string, unknown>[]) for (const k of ['baselineMse', 'skill', 'meanPredictorMse', 'baselineKind']) delete c[k];
  writeFileSync(out, JSON.stringify(json));
  const old = parseSweepResults(json);
  const oldCell = old.cells[cellKey('iclrnn', 0, 0)];
  assert.equal(cellSkill(oldCell), null);
  assert.match(renderCellsTable(reportRowsFromSweep(old)), /n\/a/);
  assert.match(renderReport({ system: 'cstr', rows: reportRowsFromSweep(old) }), /Skill: n\/a \(these results were recorded without the naive baseline\)/);
  // resume: the old cell is kept as it is (not retrained), the new one gets its skill
  const r = sweep(['--noise', '0,0.3', '--out', out, '--report', report, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const saved = parseSweepResults(JSON.parse(readFileSync(out, 'utf8')));
  assert.equal(saved.cells[cellKey('iclrnn', 0, 0)].skill, undefined);
  assert.equal(saved.cells[cellKey('iclrnn', 0, 0)].testMse, oldCell.testMse);
  assert.equal(typeof saved.cells[cellKey('iclrnn', 0.3, 0)].skill, 'number');
  const cells = (JSON.parse(r.stdout) as { cells: { noise: number; skill: number | null }[] }).cells;
  assert.equal(cells.find((c) => c.noise === 0)!.skill, null);
  assert.equal(typeof cells.find((c) => c.noise === 0.3)!.skill, 'number');
  assert.match(readFileSync(report, 'utf8'), /<th>skill<\/th>/);
});

test('the skill fields are validated in results files and in worker results', () => {
  const base = emptySweepResults({ system: 'cstr' });
  recordCell(base, doneCellResult({ key: cellKey('rnn', 0, 0), model: 'rnn', noise: 0, seed: 0 }, { testMse: 1e-3, baselineMse: 5e-4, skill: 2, baselineKind: 'persistence' }, null));
  assert.equal(parseSweepResults(JSON.parse(JSON.stringify(base))).cells[cellKey('rnn', 0, 0)].skill, 2);
  const bad = (patch: Record<string, unknown>) => {
    const j = JSON.parse(JSON.stringify(base));
    Object.assign(j.cells[cellKey('rnn', 0, 0)], patch);
    return () => parseSweepResults(j);
  };
  assert.throws(bad({ skill: 'high' }), (e) => e instanceof SweepFormatError && /non-numeric skill/.test(e.message));
  assert.throws(bad({ baselineMse: [1] }), /non-numeric baselineMse/);
  assert.throws(bad({ baselineKind: 'seasonal' }), /unknown baselineKind "seasonal"/);
  assert.doesNotThrow(bad({ baselineKind: null, baselineMse: null, skill: null }));
  const key = cellKey('rnn', 0, 0);
  const ok = { format: SWEEP_JOB_RESULT_FORMAT, version: 1, key, metrics: { testMse: 1e-3, baselineMse: 5e-4, skill: 2, baselineKind: 'persistence', meanPredictorMse: 0.05 }, modelText: null, worker: 'h:1' };
  assert.equal(parseSweepJobResult(ok, key).metrics.skill, 2);
  assert.throws(() => parseSweepJobResult({ ...ok, metrics: { ...ok.metrics, meanPredictorMse: 'x' } }, key), /non-numeric meanPredictorMse/);
  assert.throws(() => parseSweepJobResult({ ...ok, metrics: { ...ok.metrics, baselineKind: 7 } }, key), /unknown baselineKind/);
});

test('cellSkill: the recorded skill, else testMse / baselineMse, else null', () => {
  assert.equal(cellSkill({ testMse: 1e-3, skill: 0.5, baselineMse: 1 }), 0.5);
  assert.equal(cellSkill({ testMse: 1e-3, baselineMse: 4e-3 }), 0.25);
  assert.equal(cellSkill({ testMse: 1e-3, baselineMse: 0 }), null);
  assert.equal(cellSkill({ testMse: 1e-3, baselineMse: null }), null);
  assert.equal(cellSkill({ testMse: null, baselineMse: 1e-3 }), null);
});

test('aggregateSweep: per model and noise, the mean, spread and mean skill over seeds (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 1e-8, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
      fc.double({ min: 1e-6, max: 1, noNaN: true }),
      (mses, baseline) => {
        const r = emptySweepResults({ system: 'cstr' });
        r.models = ['iclrnn'];
        r.noise = [0.3];
        mses.forEach((m, seed) => recordCell(r, doneCellResult({ key: cellKey('iclrnn', 0.3, seed), model: 'iclrnn', noise: 0.3, seed }, { testMse: m, baselineMse: baseline, skill: m / baseline, baselineKind: 'persistence' }, null)));
        recordCell(r, { key: cellKey('iclrnn', 0.3, 99), model: 'iclrnn', noise: 0.3, seed: 99, status: 'failed', testMse: null, finishedAt: null });
        const [a, ...rest] = aggregateSweep(r);
        assert.equal(rest.length, 0);
        assert.equal(a.n, mses.length, 'failed cells are left out');
        const mean = mses.reduce((s, x) => s + x, 0) / mses.length;
        assert.ok(Math.abs(a.testMse! - mean) <= 1e-12 * mean);
        assert.ok(Math.abs(a.skill! - mean / baseline) <= 1e-9 * (mean / baseline), 'mean skill = mean MSE / baseline (one split)');
        assert.equal(a.testMseMin, Math.min(...mses));
        assert.equal(a.testMseMax, Math.max(...mses));
        assert.equal(a.testMseStd === null, mses.length < 2);
        assert.equal(a.baselineMse, baseline);
      },
    ),
  );
});

test('the report of a data set without a naive forecast (energy: U -> Y) says so and shows the mean predictor', () => {
  const rows = [{ model: 'iclrnn', noise: 0, seed: 0, testMse: 9e-3, baselineMse: null, skill: null, meanPredictorMse: 3.44e-2, baselineKind: 'none', status: 'done' }];
  const html = renderMseSection(rows, 'energy');
  assert.match(html, /Skill: n\/a\. This data set has no naive forecast/);
  assert.match(html, /mean predictor/);
  assert.match(html, /skill n\/a/);
});
