import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CSTR_ACCURATE_PLANT,
  CSTR_INPUT_BOUNDS,
  CSTR_LYAPUNOV_P,
  CSTR_PARAMETERS,
  CSTR_STABILITY_LEVEL,
  cstrDerivative,
  cstrInitialStates,
  generateCstrDataset,
  lyapunovValue,
  simulateCstr,
  stepCstr,
} from '../../src/systems/cstr.ts';
import { splitIndices } from '../../src/systems/split.ts';
import { assertFiniteDataset } from '../../src/systems/dataset.ts';
import { ValidationError } from '../../src/core/errors.ts';

// Raw constants of the reference table, typed in again on purpose (independent of the module).
const CAs = 1.9537;
const Ts = 401.8727;

/** Independent explicit Euler on the raw ODE in absolute variables (CA, T). */
function rawEuler(x1: number, x2: number, u1: number, u2: number, dt: number, steps: number, every: number): number[][] {
  let CA = x1 + CAs;
  let T = x2 + Ts;
  const CA0 = u1 + 4;
  const Q = u2 + 0;
  const rec: number[][] = [];
  for (let i = 1; i <= steps; i++) {
    const r = 8.46e6 * Math.exp(-5e4 / (8.314 * T)) * CA * CA;
    const dCA = (5 / 1) * (CA0 - CA) - r;
    const dT = (5 / 1) * (300 - T) - (-1.15e4 / (1000 * 0.231)) * r + Q / (1000 * 0.231 * 1);
    CA += dt * dCA;
    T += dt * dT;
    if (i % every === 0) rec.push([CA - CAs, T - Ts]);
  }
  return rec;
}

const dataset = generateCstrDataset();

test('parameters and constants match the reference table', () => {
  assert.ok(Object.isFrozen(CSTR_PARAMETERS));
  assert.deepEqual(
    { ...CSTR_PARAMETERS },
    { F: 5, V: 1, k0: 8.46e6, E: 5e4, R: 8.314, T0: 300, dH: -1.15e4, rho: 1000, Cp: 0.231, CA0s: 4, Qs: 0, CAs, Ts },
  );
  assert.deepEqual(CSTR_INPUT_BOUNDS, { u1: { min: -3.5, max: 3.5 }, u2: { min: -5e5, max: 5e5 } });
  assert.deepEqual(CSTR_LYAPUNOV_P, [[1060, 22], [22, 0.52]]);
  assert.equal(CSTR_STABILITY_LEVEL, 372);
  assert.equal(lyapunovValue(1, 0), 1060);
  assert.equal(lyapunovValue(0, 1), 0.52);
  assert.ok(Math.abs(lyapunovValue(1, 1) - (1060 + 44 + 0.52)) < 1e-12);
});

test('dataset counts and shapes', () => {
  assert.equal(dataset.name, 'cstr');
  assert.equal(dataset.initialStateCount, 772);
  assert.equal(dataset.initialStates.length, 2 * 772);
  assert.equal(dataset.count, 12352);
  assert.equal(dataset.steps, 10);
  assert.equal(dataset.inputSize, 4);
  assert.equal(dataset.outputSize, 2);
  assert.deepEqual(dataset.inputNames, ['x2', 'x1', 'u2', 'u1']);
  assert.deepEqual(dataset.outputNames, ['x2', 'x1']);
  assert.equal(dataset.inputs.length, 12352 * 10 * 4);
  assert.equal(dataset.targets.length, 12352 * 10 * 2);
  assert.ok(Math.abs(dataset.recordInterval - 5e-4) < 1e-15);
  assertFiniteDataset(dataset);
  assert.deepEqual([...dataset.inputGrid.u1].map((v) => +v.toFixed(9)), [-3.5, -7 / 6, 7 / 6, 3.5].map((v) => +v.toFixed(9)));
  assert.equal(dataset.inputGrid.u2[0], -5e5);
  assert.equal(dataset.inputGrid.u2[3], 5e5);
});

test('initial states: 772, all inside V < 372, on the reference grid', () => {
  const s = cstrInitialStates();
  assert.equal(s.length, 2 * 772);
  for (let k = 0; k < 772; k++) {
    const x1 = s[2 * k];
    const x2 = s[2 * k + 1];
    const v = 1060 * x1 * x1 + 44 * x1 * x2 + 0.52 * x2 * x2;
    assert.ok(v < 372, `state ${k} has V = ${v}`);
    // x1 + CAs on linspace(0, 6, 100), x2 + Ts on linspace(300, 600, 100)
    const j = ((x1 + CAs) * 99) / 6;
    const i = ((x2 + Ts - 300) * 99) / 300;
    assert.ok(Math.abs(j - Math.round(j)) < 1e-6 && Math.abs(i - Math.round(i)) < 1e-6);
  }
  // independent count over the grid
  let n = 0;
  for (let i = 0; i < 100; i++)
    for (let j = 0; j < 100; j++) {
      const x2 = 300 + (300 * i) / 99 - Ts;
      const x1 = (6 * j) / 99 - CAs;
      if (1060 * x1 * x1 + 44 * x1 * x2 + 0.52 * x2 * x2 < 372) n++;
    }
  assert.equal(n, 772);
});

test('dataset samples match an independent Euler loop on the raw ODE', () => {
  const nInit = 772;
  for (const s of [0, 1, 771, 772 * 5 + 300, 772 * 10 + 17, 12351]) {
    const ia = Math.floor(s / (4 * nInit));
    const ib = Math.floor(s / nInit) % 4;
    const u1 = -3.5 + (7 * ia) / 3;
    const u2 = -5e5 + (1e6 * ib) / 3;
    const inRow = dataset.inputs.subarray(s * 40, s * 40 + 40);
    const [x2, x1, uu2, uu1] = inRow;
    assert.ok(Math.abs(uu1 - u1) < 1e-12 && Math.abs(uu2 - u2) < 1e-6, `sample ${s} inputs`);
    for (let t = 0; t < 10; t++) assert.deepEqual([...inRow.subarray(t * 4, t * 4 + 4)], [x2, x1, uu2, uu1]);
    const rec = rawEuler(x1, x2, uu1, uu2, 1e-4, 50, 5);
    assert.equal(rec.length, 10);
    for (let t = 0; t < 10; t++) {
      const gx2 = dataset.targets[(s * 10 + t) * 2];
      const gx1 = dataset.targets[(s * 10 + t) * 2 + 1];
      assert.ok(Math.abs(gx1 - rec[t][0]) < 1e-9, `sample ${s} step ${t} x1 ${gx1} vs ${rec[t][0]}`);
      assert.ok(Math.abs(gx2 - rec[t][1]) < 1e-7, `sample ${s} step ${t} x2 ${gx2} vs ${rec[t][1]}`);
    }
  }
});

test("recordAlignment 'reference' records after steps 1, 6, ..., 46", () => {
  const tr = simulateCstr([0.3, -20], [1, 2e5], { recordAlignment: 'reference' });
  const rec = rawEuler(0.3, -20, 1, 2e5, 1e-4, 50, 1);
  assert.equal(tr.x1.length, 10);
  for (let k = 0; k < 10; k++) {
    assert.ok(Math.abs(tr.x1[k] - rec[5 * k][0]) < 1e-9);
    assert.ok(Math.abs(tr.x2[k] - rec[5 * k][1]) < 1e-7);
    assert.ok(Math.abs(tr.times[k] - (5 * k + 1) * 1e-4) < 1e-15);
  }
});

test('simulateCstr matches the raw loop; derivative matches the raw ODE', () => {
  const tr = simulateCstr([-0.5, 30], [-2, -3e5]);
  const rec = rawEuler(-0.5, 30, -2, -3e5, 1e-4, 50, 5);
  for (let k = 0; k < 10; k++) {
    assert.ok(Math.abs(tr.x1[k] - rec[k][0]) < 1e-9);
    assert.ok(Math.abs(tr.x2[k] - rec[k][1]) < 1e-7);
  }
  assert.deepEqual(tr.final, [tr.x1[9], tr.x2[9]]);
  const out = new Float64Array(2);
  const d = cstrDerivative(0.2, -10, 1, 1e5, out);
  assert.equal(d, out);
  const CA = 0.2 + CAs;
  const T = -10 + Ts;
  const r = 8.46e6 * Math.exp(-5e4 / (8.314 * T)) * CA * CA;
  assert.ok(Math.abs(d[0] - (5 * (5 - CA) - r)) < 1e-9);
  assert.ok(Math.abs(d[1] - (5 * (300 - T) + (1.15e4 / 231) * r + 1e5 / 231)) < 1e-7);
  // steady state is (nearly) an equilibrium
  const z = cstrDerivative(0, 0, 0, 0);
  assert.ok(Math.abs(z[0]) < 1e-2 && Math.abs(z[1]) < 1e-1, `f(0) = ${z[0]}, ${z[1]}`);
});

test('rk4 and euler agree for small dt; rk4 converges', () => {
  const x0: [number, number] = [0.8, -40];
  const u: [number, number] = [2, 4e5];
  const rk = simulateCstr(x0, u, { integrator: 'rk4' });
  const rkFine = simulateCstr(x0, u, { integrator: 'rk4', dt: 1e-5, steps: 500, recordEvery: 50 });
  const eulerFine = simulateCstr(x0, u, { dt: 1e-6, steps: 5000, recordEvery: 500 });
  const accurate = simulateCstr(x0, u, { ...CSTR_ACCURATE_PLANT });
  for (let k = 0; k < 10; k++) {
    assert.ok(Math.abs(rk.x1[k] - rkFine.x1[k]) < 1e-8);
    assert.ok(Math.abs(rk.x2[k] - rkFine.x2[k]) < 1e-6);
    assert.ok(Math.abs(accurate.x2[k] - rkFine.x2[k]) < 1e-9);
    assert.ok(Math.abs(eulerFine.x1[k] - rkFine.x1[k]) < 1e-4, `x1 ${eulerFine.x1[k]} vs ${rkFine.x1[k]}`);
    assert.ok(Math.abs(eulerFine.x2[k] - rkFine.x2[k]) < 5e-3, `x2 ${eulerFine.x2[k]} vs ${rkFine.x2[k]}`);
    assert.ok(Math.abs(rkFine.times[k] - (k + 1) * 5e-4) < 1e-15);
  }
  const dsRk = generateCstrDataset({ integrator: 'rk4' });
  assert.equal(dsRk.count, 12352);
  let maxDiff = 0;
  for (let i = 0; i < dsRk.targets.length; i += 2) maxDiff = Math.max(maxDiff, Math.abs(dsRk.targets[i] - dataset.targets[i]));
  assert.ok(maxDiff > 0 && maxDiff < 0.1, `euler vs rk4 dataset max |dx2| = ${maxDiff}`);
});

test('stepCstr: one period, records, noise as a constant rate', () => {
  const x: [number, number] = [1.5, -70];
  const u: [number, number] = [-1, 1e5];
  const s = stepCstr(x, u);
  const tr = simulateCstr(x, u);
  assert.equal(s.x1, tr.final[0]);
  assert.equal(s.x2, tr.final[1]);
  assert.equal(s.records, undefined);
  const withRec = stepCstr(x, u, 0.005, { record: true });
  assert.deepEqual([...withRec.records!.x2], [...tr.x2]);
  // zero noise changes nothing; a constant rate w shifts the state by about period * w
  const z = stepCstr(x, u, 0.005, {}, { x1: 0, x2: 0 });
  assert.deepEqual([z.x1, z.x2], [s.x1, s.x2]);
  const n = stepCstr(x, u, 0.005, {}, { x1: 2, x2: 100 });
  assert.ok(Math.abs(n.x1 - s.x1 - 0.01) < 2e-3, `${n.x1 - s.x1}`);
  assert.ok(Math.abs(n.x2 - s.x2 - 0.5) < 0.1, `${n.x2 - s.x2}`);
  // a period that is not a multiple of dt is still covered exactly
  const a = stepCstr(x, u, 0.00505, { integrator: 'rk4' });
  const b = simulateCstr(x, u, { integrator: 'rk4', dt: 0.00505 / 51, steps: 51, recordEvery: 51 });
  assert.equal(a.x1, b.final[0]);
  const acc = stepCstr(x, u, 0.005, CSTR_ACCURATE_PLANT);
  assert.ok(Math.abs(acc.x2 - s.x2) < 0.1);
});

test('splitIndices: sizes, disjointness, determinism', () => {
  const sp = splitIndices(12352, 123);
  assert.equal(sp.test.length, 3706);
  assert.equal(sp.validation.length, 2162);
  assert.equal(sp.train.length, 12352 - 3706 - 2162);
  const seen = new Uint8Array(12352);
  for (const part of [sp.train, sp.validation, sp.test]) {
    for (let i = 0; i < part.length; i++) {
      if (i > 0) assert.ok(part[i] > part[i - 1], 'sorted');
      assert.equal(seen[part[i]], 0, 'disjoint');
      seen[part[i]] = 1;
    }
  }
  assert.ok(seen.every((v) => v === 1), 'covers all indices');
  const again = splitIndices(12352, 123);
  assert.deepEqual(again, sp);
  const other = splitIndices(12352, 124);
  assert.notDeepEqual(other.test, sp.test);
  const small = splitIndices(10, 1);
  assert.deepEqual([small.train.length, small.validation.length, small.test.length], [5, 2, 3]);
  const none = splitIndices(20, 1, { testFraction: 0, validationFraction: 0 });
  assert.equal(none.train.length, 20);
  assert.throws(() => splitIndices(-1, 1), ValidationError);
  assert.throws(() => splitIndices(10, NaN), /seed/);
  assert.throws(() => splitIndices(10, 1, { testFraction: 1 }), /testFraction/);
  assert.throws(() => splitIndices(10, 1, { validationFraction: -0.1 }), /validationFraction/);
});

test('property: trajectories from inside the region under bounded inputs stay finite', () => {
  const state = fc
    .record({ x1: fc.double({ min: -1.7, max: 1.7, noNaN: true }), x2: fc.double({ min: -77, max: 77, noNaN: true }) })
    .filter(({ x1, x2 }) => lyapunovValue(x1, x2) < CSTR_STABILITY_LEVEL);
  const input = fc.record({
    u1: fc.double({ min: -3.5, max: 3.5, noNaN: true }),
    u2: fc.double({ min: -5e5, max: 5e5, noNaN: true }),
  });
  fc.assert(
    fc.property(state, input, fc.constantFrom('euler' as const, 'rk4' as const), (x, u, integrator) => {
      const tr = simulateCstr([x.x1, x.x2], [u.u1, u.u2], { integrator });
      for (let k = 0; k < tr.x1.length; k++) {
        if (!Number.isFinite(tr.x1[k]) || !Number.isFinite(tr.x2[k])) return false;
        // physically sensible: concentration stays non-negative, temperature within a wide band
        if (tr.x1[k] + CAs < 0 || Math.abs(tr.x2[k]) > 500) return false;
      }
      return true;
    }),
    { numRuns: 300, seed: 42 },
  );
});

test('errors: ValidationError with clear messages', () => {
  assert.throws(() => simulateCstr([NaN, 0], [0, 0]), { name: 'ValidationError', message: /x0\[0\] \(x1\) must be a finite number, got NaN/ });
  assert.throws(() => simulateCstr([0, 0], [0, Infinity]), /u\[1\] \(u2\) must be a finite number/);
  assert.throws(() => simulateCstr([0, 0], [0, 0], { dt: 0 }), /dt must be a finite number > 0/);
  assert.throws(() => simulateCstr([0, 0], [0, 0], { steps: 2.5 }), /steps must be an integer >= 1/);
  assert.throws(() => simulateCstr([0, 0], [0, 0], { recordEvery: 60 }), /recordEvery \(60\) must not exceed steps/);
  assert.throws(() => simulateCstr([0, 0], [0, 0], { integrator: 'rk45' as never }), /integrator must be 'euler' or 'rk4'/);
  assert.throws(() => simulateCstr([0, 0], [0, 0], { substeps: 0 }), /substeps/);
  assert.throws(() => simulateCstr([0, 0], [0, 0], { noise: { x1: NaN, x2: 0 } }), /noise\.x1/);
  assert.throws(() => stepCstr([0, NaN], [0, 0]), /x\[1\] \(x2\) must be a finite number/);
  assert.throws(() => stepCstr([0, 0], [0, 0], -1), /period/);
  assert.throws(() => stepCstr([0, 0], [0, 0], 0.005, {}, { x1: 0, x2: Infinity }), /noise\.x2/);
  assert.throws(() => cstrDerivative(0, 0, NaN, 0), /cstrDerivative: u1 must be a finite number/);
  assert.throws(() => cstrDerivative(0, 0, 0, 0, new Float64Array(1)), /out must have length >= 2/);
  assert.throws(() => lyapunovValue(NaN, 0), /lyapunovValue: x1/);
  assert.throws(() => generateCstrDataset({ dt: -1 }), ValidationError);
  // a wildly unstable step reports divergence instead of returning NaN
  assert.throws(() => simulateCstr([0, 0], [0, 0], { dt: 10, steps: 50 }), /diverged/);
});
