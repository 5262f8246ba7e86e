import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CSTR_P_FLAT, CSTR_SAFE_LEVEL_FLOOR, CSTR_SAFETY_STATES, InputErrorTable, Mpc, SafeLmpcController, createCstrLmpc, createSafeCstrLmpc, cstrFirstPrinciplesPredictor, cstrLmpcProblem,
  cstrLyapunovTrace, cstrRegionGrid, cstrV, estimateCstrPredictionError, pNorm, runCstrClosedLoop, type Predictor,
} from '../../src/apps/index.ts';
import { cstrStudyStates, runCstrStudy } from '../../src/apps/cstr-study.ts';
import { CSTR_STABILITY_LEVEL, lyapunovValue } from '../../src/systems/cstr.ts';

/**
 * The first-principles predictor with a known error: the predicted samples are shifted by `bias`
 * (growing linearly over the period), like a learned model that is consistently too hot or too cold.
 */
function biasedPredictor(bias: [number, number]): Predictor {
  const p = cstrFirstPrinciplesPredictor();
  const S = p.samplesPerPeriod;
  const shift = (out: Float64Array) => {
    for (let s = 0; s < S; s++) {
      out[2 * s] += (bias[0] * (s + 1)) / S;
      out[2 * s + 1] += (bias[1] * (s + 1)) / S;
    }
  };
  return {
    name: `first-principles biased by (${bias})`, stateSize: 2, inputSize: 2, samplesPerPeriod: S,
    reserve: (n) => p.reserve(n),
    predict(slot, x, u, out, forAdjoint) {
      p.predict(slot, x, u, out, forAdjoint);
      shift(out);
    },
    adjoint: (slot, dOut, dx, du) => p.adjoint(slot, dOut, dx, du),
    jacobian(slot, x, u, out, Jx, Ju) {
      p.jacobian!(slot, x, u, out, Jx, Ju);
      shift(out);
    },
  };
}

test('the inequality behind the tightened constraint: V(x + e) <= (sqrt(V(x)) + |e|_P)^2', () => {
  fc.assert(
    fc.property(fc.double({ min: -2, max: 2, noNaN: true }), fc.double({ min: -90, max: 90, noNaN: true }), fc.double({ min: -0.3, max: 0.3, noNaN: true }), fc.double({ min: -20, max: 20, noNaN: true }), (x1, x2, e1, e2) => {
      const v = cstrV([x1 + e1, x2 + e2]);
      const bound = (Math.sqrt(cstrV([x1, x2])) + pNorm(CSTR_P_FLAT, [e1, e2])) ** 2;
      return v <= bound * (1 + 1e-12) + 1e-9;
    }),
    { numRuns: 500, seed: 16 },
  );
  assert.equal(cstrV([1.5, -70]), lyapunovValue(1.5, -70));
});

test('tightened Lyapunov rows: V(x_pred) - (sqrt(max(V(x_now), floor)) - eta)^2; nominal unchanged', () => {
  const x0 = [1.2, -60];
  const u = [1, 1e5, -1, -1e5];
  const nominal = new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor()));
  const tight = new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor(), { lyapunov: { errorBound: 3, levelFloor: 50 } }));
  const en = nominal.evaluate(x0, u), et = tight.evaluate(x0, u);
  const v0 = lyapunovValue(1.2, -60);
  const rhs = (Math.sqrt(v0) - 3) ** 2;
  for (let k = 0; k < 2; k++) {
    assert.ok(Math.abs(et.constraints[k] - (en.constraints[k] + v0 - rhs)) < 1e-9 * v0, `row ${k}`);
    for (let j = 0; j < 4; j++) assert.equal(et.jacobian[k * 4 + j], en.jacobian[k * 4 + j]);
  }
  // the floor takes over near the set-point, and no room at all gives right-hand side 0
  assert.deepEqual(tight.lyapunovRightHandSides([0.01, 0.5]).map((v) => Number(v.toFixed(9))), [Number(((Math.sqrt(50) - 3) ** 2).toFixed(9)), Number(((Math.sqrt(50) - 3) ** 2).toFixed(9))]);
  const none = new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor(), { lyapunov: { errorBound: 40 } }));
  assert.deepEqual(none.lyapunovRightHandSides(x0), [0, 0]);
  assert.deepEqual(nominal.lyapunovRightHandSides(x0), [v0, v0]);
  assert.throws(() => new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor(), { lyapunov: { errorBound: -1 } })), /errorBound/);
  assert.throws(() => new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor(), { lyapunov: { levelFloor: NaN } })), /levelFloor/);
});

test('error-bound estimate: a known bias is measured in the P-norm', () => {
  const bias: [number, number] = [0, 5];
  const e = estimateCstrPredictionError(biasedPredictor(bias), { stateGrid: 9, inputGrid: 3 });
  const expected = pNorm(CSTR_P_FLAT, bias);
  // the Euler predictor itself is off from the RK4 plant by a little; the bias dominates
  assert.ok(Math.abs(e.maxObserved - expected) < 0.1 * expected, `${e.maxObserved} vs ${expected}`);
  assert.equal(e.errorBound, 1.25 * e.maxObserved);
  assert.equal(e.samples, cstrRegionGrid(9, 9, 1.1 * CSTR_STABILITY_LEVEL).length * 9);
  assert.ok(Math.abs(e.componentMax[1] - 5) < 0.5);
  const fp = estimateCstrPredictionError(cstrFirstPrinciplesPredictor(), { stateGrid: 9, inputGrid: 3 });
  assert.ok(fp.maxObserved < 0.2 * expected, `first-principles error ${fp.maxObserved}`);
  // with noise the corners of the noise box widen it
  const noisy = estimateCstrPredictionError(cstrFirstPrinciplesPredictor(), { stateGrid: 9, inputGrid: 3, noise: [2, 200] });
  assert.ok(noisy.maxObserved > fp.maxObserved && noisy.samples === 4 * fp.samples);
  for (const x of cstrRegionGrid(9, 9)) assert.ok(cstrV(x) <= CSTR_STABILITY_LEVEL);
});

test('a biased model: the nominal LMPC leaves V < 372 on the plant, the tightened one keeps V <= max(V0, level floor) from the four states', () => {
  for (const bias of [[0, -5], [0, 5]] as [number, number][]) {
    const p = biasedPredictor(bias);
    const nominal = CSTR_SAFETY_STATES.map((x0) => runCstrClosedLoop(createCstrLmpc(p), x0, { maxSteps: 25 }).lyapunov);
    assert.ok(nominal.some((t) => t.exited), `bias ${bias}: the nominal LMPC should leave the region (max V ${nominal.map((t) => t.maxV.toFixed(0))})`);
    const safe = createSafeCstrLmpc(p, { errorBound: estimateCstrPredictionError(p, { stateGrid: 9, inputGrid: 3 }) });
    assert.equal(safe.levelFloor, CSTR_SAFE_LEVEL_FLOOR);
    assert.ok(safe.controller instanceof SafeLmpcController);
    for (const x0 of CSTR_SAFETY_STATES) {
      const r = runCstrClosedLoop(safe.controller, x0, { maxSteps: 25 });
      assert.equal(r.lyapunov.exited, false, `bias ${bias} from ${x0}: max V ${r.lyapunov.maxV}`);
      const allowed = Math.max(r.lyapunov.V[0], safe.levelFloor);
      assert.ok(r.lyapunov.maxV <= allowed * (1 + 1e-9), `bias ${bias} from ${x0}: V rose above max(V0, floor) (${r.lyapunov.maxV} > ${allowed})`);
      assert.equal(safe.controller.stats.assumptionViolations, 0);
    }
  }
});

test('safe controller: fallback to the backup when the tightened problem has no room; monitor hands over after a violated bound', () => {
  const p = biasedPredictor([0, -10]);
  // an error bound far too small for this model: the monitor must notice the plant breaking the promise
  const s = createSafeCstrLmpc(p, { errorBound: 0.01 });
  const c = s.controller as SafeLmpcController;
  const r = runCstrClosedLoop(c, [1.5, -70], { maxSteps: 25 });
  assert.ok(c.stats.assumptionViolations >= 1);
  assert.equal(c.stats.handedOver, true);
  assert.ok(r.fallbacks.includes('backup'));
  // a bound larger than sqrt(V) everywhere: every step goes to the backup (the first-principles LMPC)
  const all = createSafeCstrLmpc(p, { errorBound: 100 });
  const r2 = runCstrClosedLoop(all.controller, [1.2, -60]);
  assert.ok(r2.fallbacks.every((f) => f === 'backup'));
  assert.equal(r2.converged, true);
  assert.equal(r2.lyapunov.exited, false);
  assert.throws(() => new SafeLmpcController(createCstrLmpc(p), { V: cstrV, fallback: 'backup' }), /backup/);
  assert.throws(() => createSafeCstrLmpc(p, { safety: 'bogus' as never }), /safety mode/);
});

test('V trace of a run: level, exits, rises', () => {
  const t = cstrLyapunovTrace([[0, 20], [0, 28], [0, 30], [0, 10]]);
  assert.deepEqual(t.stepsOutside, [1, 2]);
  assert.equal(t.exited, true);
  assert.equal(t.rises, 2);
  assert.equal(t.level, 372);
  assert.equal(t.maxV, 0.52 * 30 * 30);
  const inside = cstrLyapunovTrace([[1.5, -70], [1, -40]]);
  assert.equal(inside.exited, false);
});

test('study: >= 50 grid states inside V < 372 plus the four safety states; rows for every configuration', () => {
  const states = cstrStudyStates();
  assert.ok(states.length >= 54);
  for (const x of states) assert.ok(cstrV(x) < CSTR_STABILITY_LEVEL);
  for (const s of CSTR_SAFETY_STATES) assert.ok(states.some((x) => x[0] === s[0] && x[1] === s[1]));
  const p = biasedPredictor([0, -5]);
  const res = runCstrStudy(
    [{ label: 'fp', kind: 'first-principles', source: 'first-principles' }, { label: 'biased', kind: 'biased', source: p as never }],
    { states: states.slice(-4), maxSteps: 25, noise: [2, 200], errorBound: { stateGrid: 9, inputGrid: 3 } },
  );
  assert.deepEqual(res.rows.map((r) => `${r.predictor}/${r.safety}/${r.noisy}`), ['fp/nominal/false', 'fp/nominal/true', 'biased/nominal/false', 'biased/nominal/true', 'biased/tightened/false', 'biased/tightened/true']);
  assert.equal(res.runs.length, 6 * 4);
  const row = (name: string) => res.rows.find((r) => `${r.predictor}/${r.safety}/${r.noisy}` === name)!;
  assert.equal(row('fp/nominal/false').insideFraction, 1);
  assert.ok(row('biased/nominal/false').insideFraction < 1);
  assert.equal(row('biased/tightened/false').insideFraction, 1);
  assert.equal(row('fp/nominal/false').stepsRatio, 1);
  assert.ok(row('biased/tightened/false').errorBound! > 3);
});

test('input-dependent error bound: bilinear table above the inflated grid errors around u, exact gradient', () => {
  const errors = [1, 2, 3, 4, 5, 6, 2, 1, 0.5, 3, 2, 8, 1, 1, 1, 2]; // 4 x 4 grid over the CSTR input box
  const lo: [number, number] = [-3.5, -5e5], hi: [number, number] = [3.5, 5e5];
  const t = new InputErrorTable(lo, hi, 4, 4, errors, 1.25);
  const h1 = (hi[0] - lo[0]) / 3, h2 = (hi[1] - lo[1]) / 3;
  fc.assert(
    fc.property(fc.double({ min: lo[0], max: hi[0], noNaN: true }), fc.double({ min: lo[1], max: hi[1], noNaN: true }), (u1, u2) => {
      const a = Math.min(2, Math.floor((u1 - lo[0]) / h1)), b = Math.min(2, Math.floor((u2 - lo[1]) / h2));
      const around = Math.max(errors[a * 4 + b], errors[a * 4 + b + 1], errors[(a + 1) * 4 + b], errors[(a + 1) * 4 + b + 1]);
      const v = t.value([u1, u2], null);
      return v >= 1.25 * around - 1e-12 && v >= t.minimum - 1e-12 && v <= t.maximum + 1e-12;
    }),
    { numRuns: 300, seed: 9 },
  );
  const g = new Float64Array(2);
  for (const u of [[0.3, 1.2e5], [-2.9, -3.1e5], [2.2, 4.4e5]]) {
    t.value(u, g);
    const d = [1e-6, 1e-1];
    for (let j = 0; j < 2; j++) {
      const p = u.slice(), m = u.slice();
      p[j] += d[j];
      m[j] -= d[j];
      const fd = (t.value(p, null) - t.value(m, null)) / (2 * d[j]);
      assert.ok(Math.abs(fd - g[j]) <= 1e-6 * Math.abs(fd) + 1e-8, `d eta / d u${j + 1}: ${g[j]} vs ${fd}`);
    }
  }
  assert.throws(() => new InputErrorTable(lo, hi, 4, 4, errors.slice(1), 1.25), /4 x 4/);
});

test('MPC with an input-dependent margin: the first Lyapunov row and its exact Jacobian (forward and adjoint) match finite differences', () => {
  const table = new InputErrorTable([-3.5, -5e5], [3.5, 5e5], 3, 3, [3, 2, 4, 1, 0.5, 2, 5, 3, 1], 1.25);
  const x0 = [1.2, -60];
  const u = [0.7, 1.3e5, -0.4, -2.1e5];
  for (const derivatives of ['forward', 'adjoint'] as const) {
    const mpc = new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor(), { lyapunov: { periods: 'first', errorBound: table.maximum, inputErrorBound: table, levelFloor: 300 }, solver: { derivatives } }));
    const e = mpc.evaluate(x0, u);
    const xEnd = mpc.predict(x0, u).subarray(9 * 2, 10 * 2);
    const r = Math.sqrt(300) - table.value([u[0], u[1]], null);
    assert.ok(Math.abs(e.constraints[0] - (cstrV(xEnd) - r * r)) < 1e-9 * 300);
    const steps = [1e-6, 1e-1, 1e-6, 1e-1];
    for (let j = 0; j < 4; j++) {
      const p = u.slice(), m = u.slice();
      p[j] += steps[j];
      m[j] -= steps[j];
      const fd = (mpc.evaluate(x0, p).constraints[0] - mpc.evaluate(x0, m).constraints[0]) / (2 * steps[j]);
      assert.ok(Math.abs(fd - e.jacobian[j]) <= 1e-5 * Math.abs(fd) + 1e-9, `${derivatives} dc0/du${j}: ${e.jacobian[j]} vs ${fd}`);
    }
  }
});
