import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCstrLmpc, runCstrClosedLoop } from '../../src/apps/cstr-lmpc.ts';
import type { StudyResult } from '../../src/apps/cstr-study.ts';
import { mpcRunFromResult, renderMpcSection, renderReport, renderStudySection, ReportSectionError, type MpcRun } from '../../src/report/index.ts';

/** A run whose V rises above 372 at steps 2 and 3 (x along the x2 axis: V = 0.52 x2^2). */
function exitingRun(): MpcRun {
  const x2 = [20, 25, 28, 27, 10, 2];
  return { label: 'exits', t: x2.map((_, k) => k * 0.005), x1: x2.map(() => 0), x2, u1: [0, 0, 0, 0, 0], u2: [1e5, 2e5, -5e5, 0, 0], solveSeconds: [1e-3, 2e-3, 1e-3, 1e-3, 1e-3] };
}

test('requested report sections must not come out empty', () => {
  // a report that asks for the MPC section but has no runs fails instead of shipping a placeholder
  assert.throws(() => renderReport({ system: 'cstr', mpcRuns: null, requireSections: ['mpc'] }), (e: unknown) => e instanceof ReportSectionError && e.section === 'mpc' && /No MPC closed-loop runs/.test(e.message));
  assert.throws(() => renderReport({ mpcRuns: [{ label: 'broken' } as unknown as MpcRun], requireSections: ['mpc'] }), ReportSectionError);
  assert.throws(() => renderReport({ requireSections: ['study'] }), /study/);
  assert.throws(() => renderReport({ requireSections: ['phase'] }), /no such section/);
  // with runs it renders
  const html = renderReport({ mpcRuns: [exitingRun()], requireSections: ['mpc'] });
  assert.match(html, /<section id="mpc">/);
  assert.doesNotMatch(html, /data-empty/);
  // not requested: the placeholder is allowed (and marked)
  assert.match(renderReport({}), /<section id="mpc" data-empty="true">/);
});

test('MPC section: V against 372 with exits flagged, inputs with their bounds, solve times', () => {
  const s = renderMpcSection([exitingRun()]);
  assert.match(s, /V\(x\) on the true trajectory/);
  assert.match(s, /V = 372/);
  assert.match(s, /left the stability region V &lt; 372 in 1 of 1 runs/);
  assert.match(s, /EXIT: 2 steps with V ≥ 372/);
  assert.match(s, /u1\(t\) and its bounds/);
  assert.match(s, /u2\(t\) and its bounds/);
  assert.match(s, /Solve time per step/);
  assert.match(s, /1 \/ 2 ms/, 'median / max solve time');
  assert.equal((s.match(/<svg\b/g) ?? []).length, 7);
  // a run that stays inside says so
  const inside = renderMpcSection([{ ...exitingRun(), x2: [20, 15, 10, 5, 2, 1] }]);
  assert.match(inside, /Every run stayed inside the stability region/);
  assert.doesNotMatch(inside, /EXIT/);
});

test('a real closed loop becomes a report run with V on the true trajectory', () => {
  const r = runCstrClosedLoop(createCstrLmpc('first-principles'), [1.2, -60], { maxSteps: 3 });
  const run = mpcRunFromResult('fp', r);
  assert.equal(run.V!.length, r.x.length);
  assert.equal(run.u1.length, r.steps);
  assert.equal(run.solveSeconds!.length, r.steps);
  assert.ok(Math.abs(run.V![0] - 230.4) < 0.1);
  const s = renderMpcSection([run]);
  assert.match(s, /Every run stayed inside/);
});

test('study section: table and one phase-plane panel per configuration', () => {
  const run = (exited: boolean, predictor: string, safety: 'nominal' | 'tightened') => ({
    predictor, kind: 'iclrnn', safety, noisy: false, x0: [1, -40] as [number, number], converged: true, steps: 3, maxV: exited ? 500 : 200, exited, fallbacks: 0,
    solveSeconds: [1e-3, 1e-3, 1e-3], x1: [1, exited ? 1.8 : 0.5, 0], x2: [-40, -60, 0],
  });
  const study: StudyResult = {
    config: { states: 1, modes: ['nominal', 'tightened'], noise: null, maxSteps: 40, level: 372, seed: 0 },
    errorBounds: {},
    rows: [
      { predictor: 'm', kind: 'iclrnn', safety: 'nominal', noisy: false, runs: 1, insideFraction: 0, maxV: 500, convergedFraction: 1, meanSteps: 3, stepsRatio: 1, maxStepsRatio: 1, solveMs: { median: 1, p95: 1, max: 1 }, fallbackFraction: 0, errorBound: null },
      { predictor: 'm', kind: 'iclrnn', safety: 'tightened', noisy: false, runs: 1, insideFraction: 1, maxV: 200, convergedFraction: 1, meanSteps: 3, stepsRatio: 1, maxStepsRatio: 1, solveMs: { median: 1, p95: 1, max: 1 }, fallbackFraction: 0, errorBound: 2.5 },
    ],
    runs: [run(true, 'm', 'nominal'), run(false, 'm', 'tightened')],
  };
  const s = renderStudySection(study);
  assert.equal((s.match(/<svg\b/g) ?? []).length, 2);
  assert.match(s, /m · nominal: 0\/1 inside/);
  assert.match(s, /m · tightened: 1\/1 inside/);
  assert.match(s, /class="failed">0 %/);
  assert.match(renderStudySection(null), /data-empty/);
  assert.match(renderReport({ study, requireSections: ['study'] }), /<section id="study">/);
});
