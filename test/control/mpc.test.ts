import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CSTR_LMPC, CSTR_MODEL_LAYOUT, CSTR_ODE, Mpc, ModelPredictor, OdePredictor, TangentEngine, closedLoop, createCstrLmpc,
  cstrFirstPrinciplesPredictor, cstrInTarget, cstrLmpcProblem, cstrModelPredictor, cstrPlant, runCstrClosedLoop,
  summarizeClosedLoop, type Predictor,
} from '../../src/apps/index.ts';
import { buildModel, MODEL_KINDS, type BuiltinModelKind } from '../../src/nn/models.ts';
import { CSTR_INPUT_BOUNDS, cstrDerivative, generateCstrDataset, lyapunovValue, simulateCstr } from '../../src/systems/cstr.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import { fitModel, predictPhysical, type ScaledModel } from '../../src/train/pipeline.ts';

const F = (a: ArrayLike<number>) => Float64Array.from(a);
const LO = [CSTR_INPUT_BOUNDS.u1.min, CSTR_INPUT_BOUNDS.u2.min];
const HI = [CSTR_INPUT_BOUNDS.u1.max, CSTR_INPUT_BOUNDS.u2.max];

/** Scalers spanning the CSTR data ranges (rows [x2, x1, u2, u1], outputs [x2, x1]). */
const inScaler = new MinMaxScaler({ min: [-100, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] });
const outScaler = new MinMaxScaler({ min: [-100, -2], max: [200, 4] });

function randomModel(kind: BuiltinModelKind, seed = 3, hidden = 8): ScaledModel {
  return { model: buildModel(kind, { inputSize: 4, outputSize: 2, hidden, layers: 2, seed }), inputScaler: inScaler, outputScaler: outScaler };
}

function inBounds(u: ArrayLike<number>): boolean {
  for (let i = 0; i < u.length; i++) if (!(u[i] >= LO[i % 2] && u[i] <= HI[i % 2])) return false;
  return true;
}

test('CSTR ODE: rates equal cstrDerivative, Jacobians match central differences', () => {
  const f = new Float64Array(2), fx = new Float64Array(4), fu = new Float64Array(4);
  for (const [x1, x2, u1, u2] of [[0.3, -20, 1, 1e5], [-1.2, 50, -3, -4e5], [1.5, -70, 3.5, 5e5]]) {
    CSTR_ODE.evaluate(F([x1, x2]), F([u1, u2]), f, fx, fu);
    const ref = cstrDerivative(x1, x2, u1, u2);
    assert.equal(f[0], ref[0]);
    assert.equal(f[1], ref[1]);
    const z = [x1, x2, u1, u2];
    const hs = [1e-6, 1e-4, 1e-6, 1e-1];
    for (let c = 0; c < 4; c++) {
      const p = z.slice(), m = z.slice();
      p[c] += hs[c];
      m[c] -= hs[c];
      const fp = cstrDerivative(p[0], p[1], p[2], p[3]), fm = cstrDerivative(m[0], m[1], m[2], m[3]);
      for (let i = 0; i < 2; i++) {
        const fd = (fp[i] - fm[i]) / (2 * hs[c]);
        const an = c < 2 ? fx[i * 2 + c] : fu[i * 2 + (c - 2)];
        assert.ok(Math.abs(fd - an) <= 1e-6 * (Math.abs(fd) + 1), `d f${i} / d z${c}: ${an} vs ${fd}`);
      }
    }
  }
});

test('first-principles predictor reproduces the Euler simulation (10 samples per period)', () => {
  const p = cstrFirstPrinciplesPredictor();
  p.reserve(1);
  const out = new Float64Array(20);
  p.predict(0, F([0.8, -40]), F([-2, 3e5]), out);
  const sim = simulateCstr([0.8, -40], [-2, 3e5], { dt: 1e-4, steps: 50, recordEvery: 5 });
  for (let s = 0; s < 10; s++) {
    assert.ok(Math.abs(out[2 * s] - sim.x1[s]) < 1e-10, `x1 sample ${s}`);
    assert.ok(Math.abs(out[2 * s + 1] - sim.x2[s]) < 1e-8, `x2 sample ${s}`);
  }
});

test('model predictor equals predictPhysical on the same rows, in (x1, x2) / (u1, u2) order', () => {
  for (const kind of ['iclrnn', 'lstm'] as const) {
    const m = randomModel(kind);
    const p = cstrModelPredictor(m);
    p.reserve(1);
    const out = new Float64Array(20), out2 = new Float64Array(20);
    const x = [0.4, -25], u = [1.5, -2e5];
    p.predict(0, F(x), F(u), out);
    p.predict(0, F(x), F(u), out2, false); // forward-mode engine path
    const rows = new Float64Array(40);
    for (let s = 0; s < 10; s++) rows.set([x[1], x[0], u[1], u[0]], 4 * s);
    const y = predictPhysical(m, rows, 1, 10);
    for (let s = 0; s < 10; s++) {
      assert.ok(Math.abs(out[2 * s] - y[2 * s + 1]) <= 1e-12 * (1 + Math.abs(y[2 * s + 1])), `${kind} x1 ${s}`);
      assert.ok(Math.abs(out[2 * s + 1] - y[2 * s]) <= 1e-12 * (1 + Math.abs(y[2 * s])), `${kind} x2 ${s}`);
      assert.ok(Math.abs(out2[2 * s + 1] - out[2 * s + 1]) <= 1e-12 * (1 + Math.abs(out[2 * s + 1])), `${kind} engine ${s}`);
    }
  }
  assert.throws(() => new ModelPredictor(randomModel('rnn'), { ...CSTR_MODEL_LAYOUT, stateColumns: [1, 1] }), /used twice/);
  assert.throws(() => new ModelPredictor(randomModel('rnn'), { ...CSTR_MODEL_LAYOUT, inputColumns: [3] }), /input features/);
});

test('forward mode equals the reverse-mode Jacobian for every family (LRNN and GRU through the program interpreter)', () => {
  const x = F([0.7, -30]), u = F([1.2, 2e5]);
  const preds: Predictor[] = [cstrFirstPrinciplesPredictor(), ...MODEL_KINDS.map((k) => cstrModelPredictor(randomModel(k, 5, 12)))];
  for (const p of preds) {
    p.reserve(1);
    const S = p.samplesPerPeriod, out = new Float64Array(S * 2), out2 = new Float64Array(S * 2);
    assert.ok(p.jacobian, `${p.name}: forward mode`);
    if (p instanceof ModelPredictor && ['lrnn', 'gru'].includes(p.source.model.spec.kind)) assert.equal(TangentEngine.supports(p.source.model), false, 'served by the program interpreter');
    const Jx = new Float64Array(S * 4), Ju = new Float64Array(S * 4);
    p.jacobian(0, x, u, out2, Jx, Ju);
    p.predict(0, x, u, out);
    const dOut = new Float64Array(S * 2), dx = new Float64Array(2), du = new Float64Array(2);
    let nonzero = 0;
    for (let r = 0; r < S * 2; r++) {
      assert.ok(Math.abs(out[r] - out2[r]) <= 1e-12 * (1 + Math.abs(out[r])), `${p.name}: values`);
      dOut.fill(0);
      dOut[r] = 1;
      p.adjoint(0, dOut, dx, du);
      for (let d = 0; d < 2; d++) {
        const scale = 1 + Math.abs(dx[d]);
        assert.ok(Math.abs(dx[d] - Jx[r * 2 + d]) <= 1e-9 * scale, `${p.name}: d y${r} / d x${d}: ${Jx[r * 2 + d]} vs ${dx[d]}`);
        const su = 1e-12 + Math.abs(du[d]);
        assert.ok(Math.abs(du[d] - Ju[r * 2 + d]) <= 1e-9 * su, `${p.name}: d y${r} / d u${d}: ${Ju[r * 2 + d]} vs ${du[d]}`);
        if (du[d] !== 0) nonzero++;
      }
    }
    assert.ok(nonzero > 0, `${p.name}: some input sensitivity`);
  }
});

test('MPC gradient and constraint Jacobian match central finite differences (all predictors, both modes)', () => {
  const sources: (ScaledModel | 'first-principles')[] = ['first-principles', ...MODEL_KINDS.map((k) => randomModel(k, 7, 8))];
  const x = [0.7, -30];
  const u = [1.2, 2e5, -0.5, -1e5, 2.0, 3e5];
  const prev = [1, 1.5e5];
  for (const src of sources) {
    for (const derivatives of ['adjoint', 'forward'] as const) {
      let mpc: Mpc;
      try {
        mpc = createCstrLmpc(src, { horizon: 3, rateLimits: [1, 2e5], solver: { derivatives } });
      } catch (e) {
        assert.equal(derivatives, 'forward');
        assert.match((e as Error).message, /no forward mode/);
        continue;
      }
      const e = mpc.evaluate(x, u, { previousInput: prev });
      assert.equal(e.constraints.length, 3 + 12);
      for (let i = 0; i < 6; i++) {
        const h = (i % 2 ? 5e5 : 3.5) * 1e-5;
        const up = u.slice(), um = u.slice();
        up[i] += h;
        um[i] -= h;
        const ep = mpc.evaluate(x, up, { previousInput: prev }), em = mpc.evaluate(x, um, { previousInput: prev });
        const fd = (ep.cost - em.cost) / (2 * h);
        const noise = (1e-9 * Math.abs(e.cost)) / h;
        assert.ok(Math.abs(fd - e.gradient[i]) <= 2e-5 * Math.abs(fd) + noise, `${mpc.predictor.name} ${derivatives} df/du${i}: ${e.gradient[i]} vs ${fd}`);
        for (let r = 0; r < e.constraints.length; r++) {
          const fdc = (ep.constraints[r] - em.constraints[r]) / (2 * h);
          const a = e.jacobian[r * 6 + i];
          const nc = (1e-9 * (1 + Math.abs(e.constraints[r]) + lyapunovValue(x[0], x[1]))) / h;
          assert.ok(Math.abs(fdc - a) <= 2e-5 * Math.abs(fdc) + nc, `${mpc.predictor.name} ${derivatives} dc${r}/du${i}: ${a} vs ${fdc}`);
        }
      }
    }
  }
});

test('first-principles LMPC drives the CSTR from both published initial states into the target', () => {
  for (const x0 of CSTR_LMPC.initialStates) {
    const mpc = createCstrLmpc('first-principles');
    assert.equal(mpc.derivatives, 'forward');
    const r = runCstrClosedLoop(mpc, x0);
    assert.ok(r.converged, `from ${x0}: final ${r.finalState}`);
    assert.ok(r.steps <= 20 && r.steps >= 5, `steps ${r.steps}`);
    assert.ok(cstrInTarget(r.finalState));
    assert.equal(r.boundViolations, 0);
    for (const u of r.u) assert.ok(inBounds(u), `input ${u}`);
    for (const s of r.statuses) assert.equal(s, 'optimal');
    const s = summarizeClosedLoop(r);
    assert.equal(s.solverStatus.optimal, r.steps);
    assert.ok(s.solveSeconds.max < 1, 'a first-principles solve takes milliseconds');
    // the Lyapunov value of the plant decreases overall
    assert.ok(lyapunovValue(r.finalState[0], r.finalState[1]) < 0.05 * lyapunovValue(x0[0], x0[1]));
  }
  // the adjoint/BFGS variant converges too
  const r = runCstrClosedLoop(createCstrLmpc('first-principles', { solver: { derivatives: 'adjoint' } }), CSTR_LMPC.initialStates[0]);
  assert.ok(r.converged);
});

test('LMPC solution: Lyapunov constraint satisfied, first input in bounds, warm start reused', () => {
  const mpc = createCstrLmpc('first-principles', { horizon: 3 });
  const s1 = mpc.solve([1.5, -70]);
  assert.equal(s1.status, 'optimal');
  assert.equal(s1.fallback, 'none');
  assert.equal(s1.message, null);
  assert.equal(s1.warmStarted, false);
  assert.ok(inBounds(s1.inputs));
  assert.deepEqual(Array.from(s1.input), Array.from(s1.inputs.slice(0, 2)));
  assert.ok(s1.lyapunov);
  for (const v of s1.lyapunov.predicted) assert.ok(v <= s1.lyapunov.now * (1 + 1e-6), `V ${v} <= ${s1.lyapunov.now}`);
  assert.ok(s1.kktResidual <= 1e-6);
  assert.equal(s1.states.length, 6);
  // same state again: the shifted warm start is used; explicit warm start; null forces the centre
  const s2 = mpc.solve([1.5, -70]);
  assert.equal(s2.warmStarted, true);
  const s3 = mpc.solve([1.5, -70], s1.inputs);
  assert.equal(s3.warmStarted, true);
  assert.ok(s3.iterations <= 1, `iterations from the optimum: ${s3.iterations}`);
  const s4 = mpc.solve([1.5, -70], null);
  assert.equal(s4.warmStarted, false);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(s4.inputs[i] - s1.inputs[i]) <= 1e-4 * (HI[i % 2] - LO[i % 2]), 'same optimum');
  assert.throws(() => mpc.solve([1]), /state must have 2/);
  assert.throws(() => mpc.solve([NaN, 0]), /not finite/);
  assert.throws(() => mpc.solve([0, 0], [1, 2]), /warmStart has 2 entries/);
  assert.throws(() => new Mpc({ ...cstrLmpcProblem(cstrFirstPrinciplesPredictor()), horizon: 0 }), /horizon/);
  assert.throws(() => new Mpc({ ...cstrLmpcProblem(cstrFirstPrinciplesPredictor()), inputBounds: { lower: [1, 1], upper: [0, 2] } }), /lower bound/);
  assert.throws(() => createCstrLmpc('first-principles', { lyapunov: { decay: 2 } }), /decay/);
});

test('infeasible Lyapunov constraint: flagged, min-violation fallback, inputs within bounds', () => {
  // demand V to shrink 1000-fold in one period: impossible
  const mpc = createCstrLmpc('first-principles', { lyapunov: { decay: 1e-3 } });
  const s = mpc.solve([1.5, -70]);
  assert.equal(s.status, 'infeasible');
  assert.equal(s.fallback, 'min-violation');
  assert.match(s.message!, /infeasible/);
  assert.ok(s.constraintViolation > 0);
  assert.ok(inBounds(s.inputs));
  // the fallback input brings V down at least as far as any of a few alternatives
  const vOf = (inputs: ArrayLike<number>) => {
    const e = mpc.evaluate([1.5, -70], inputs);
    return Math.max(0, e.constraints[0]) + Math.max(0, e.constraints[1]);
  };
  const mine = vOf(s.inputs);
  for (const alt of [[0, 0, 0, 0], [3.5, 5e5, 3.5, 5e5], [-3.5, -5e5, -3.5, -5e5], [-3.5, 5e5, -3.5, 5e5]]) assert.ok(mine <= vOf(alt) + 1e-6, `${mine} vs ${vOf(alt)} at ${alt}`);
});

test('rate limits hold along the closed loop, including against the last applied input', () => {
  const limits: [number, number] = [1, 1.5e5];
  const mpc = createCstrLmpc('first-principles', { rateLimits: limits });
  const r = runCstrClosedLoop(mpc, [1.5, -70], { maxSteps: 12 });
  for (let k = 1; k < r.u.length; k++)
    for (let j = 0; j < 2; j++) assert.ok(Math.abs(r.u[k][j] - r.u[k - 1][j]) <= limits[j] * (1 + 1e-6) + 1e-9, `step ${k} input ${j}: ${r.u[k - 1][j]} -> ${r.u[k][j]}`);
  assert.equal(r.boundViolations, 0);
});

test('closed loop: seeded bounded noise is reproducible; no target means maxSteps; bad options throw', () => {
  const run = (seed: number) => runCstrClosedLoop(createCstrLmpc('first-principles'), [-1.5, 70], { maxSteps: 4, noise: [1, 30], seed });
  const a = run(1), b = run(1), c = run(2);
  assert.deepEqual(a.x, b.x);
  assert.deepEqual(a.disturbances, b.disturbances);
  assert.notDeepEqual(a.x, c.x);
  for (const w of a.disturbances) assert.ok(Math.abs(w[0]) <= 1 && Math.abs(w[1]) <= 30);
  const r = closedLoop(cstrPlant(), createCstrLmpc('first-principles'), { x0: [1.5, -70], maxSteps: 3 });
  assert.equal(r.steps, 3);
  assert.equal(r.converged, false);
  assert.equal(r.t.length, 4);
  assert.throws(() => closedLoop(cstrPlant(), createCstrLmpc('first-principles'), { x0: [1] }), /x0/);
  assert.throws(() => closedLoop(cstrPlant(), createCstrLmpc('first-principles'), { x0: [0, 0], noise: { bounds: [-1, 0] } }), /noise/);
  // a controller returning an out-of-bounds input is clipped and counted, never applied as is
  const bad = { inputBounds: { lower: LO, upper: HI }, solve: () => ({ input: [10, 0] }) };
  const rb = closedLoop(cstrPlant(), bad, { x0: [0.1, 1], maxSteps: 2 });
  assert.equal(rb.boundViolations, 2);
  assert.deepEqual(rb.u[0], [3.5, 0]);
});

test('property: the MPC never returns an input outside its bounds (random states, horizons, models, noise)', () => {
  const models = [randomModel('iclrnn', 11, 6), randomModel('rnn', 12, 6)];
  fc.assert(
    fc.property(
      fc.double({ min: -2, max: 2, noNaN: true }),
      fc.double({ min: -90, max: 90, noNaN: true }),
      fc.integer({ min: 1, max: 3 }),
      fc.constantFrom<'first-principles' | 0 | 1>('first-principles', 0, 1),
      fc.constantFrom(1, 0.9, 1e-3),
      fc.integer({ min: 0, max: 1000 }),
      (x1, x2, horizon, which, decay, seed) => {
        const src = which === 'first-principles' ? which : models[which];
        const mpc = createCstrLmpc(src, { horizon, lyapunov: { decay }, solver: { maxIterations: 30 } });
        const r = runCstrClosedLoop(mpc, [x1, x2], { maxSteps: 2, noise: [0.5, 20], seed });
        for (const u of r.u) if (!inBounds(u)) return false;
        for (let k = 0; k < r.steps; k++) {
          if (!['optimal', 'max-iterations', 'infeasible'].includes(r.statuses[k])) return false;
          if ((r.statuses[k] === 'optimal') !== (r.fallbacks[k] === 'none')) return false;
        }
        return r.boundViolations === 0;
      },
    ),
    { numRuns: 40, seed: 42 },
  );
});

test('generic problem: an ODE predictor with no Lyapunov constraint and end-state cost', () => {
  // double integrator x' = [x2, u], drive to the origin
  const ode = {
    stateSize: 2,
    inputSize: 1,
    evaluate(x: Float64Array, u: Float64Array, f: Float64Array, fx: Float64Array | null, fu: Float64Array | null) {
      f[0] = x[1];
      f[1] = u[0];
      if (fx) fx.set([0, 1, 0, 0]);
      if (fu) fu.set([0, 1]);
    },
  };
  const p = new OdePredictor(ode, { period: 0.1, dt: 0.01, samplesPerPeriod: 2 });
  const mpc = new Mpc({
    predictor: p, horizon: 10, inputBounds: { lower: [-1], upper: [1] },
    cost: { stateWeights: [1, 0.1], inputWeights: [0.01], samples: 'end' },
  });
  assert.equal(mpc.m, 0);
  const s = mpc.solve([1, 0]);
  assert.equal(s.status, 'optimal');
  assert.ok(s.input[0] < 0, 'pushes back towards the origin');
  const plant = { stateSize: 2, inputSize: 1, period: 0.1, step: (x: Float64Array, u: Float64Array, _w: Float64Array | null, out: Float64Array) => {
    const o = new Float64Array(2);
    p.reserve(1);
    const tmp = new Float64Array(4);
    p.predict(0, x, u, tmp);
    o[0] = tmp[2];
    o[1] = tmp[3];
    out.set(o);
  } };
  const r = closedLoop(plant, mpc, { x0: [1, 0], maxSteps: 60, target: (x) => Math.abs(x[0]) < 0.05 && Math.abs(x[1]) < 0.05 });
  assert.ok(r.converged, `final ${r.finalState}`);
});

test('a briefly trained ICLRNN (1 x 16, 8 epochs) drives the CSTR into the target from both published states', () => {
  const fit = fitModel(generateCstrDataset(), { kind: 'iclrnn', hidden: 16, layers: 1, epochs: 8, learningRate: 1e-2, seed: 0 });
  for (const x0 of CSTR_LMPC.initialStates) {
    const mpc = createCstrLmpc(fit);
    assert.equal(mpc.derivatives, 'forward');
    assert.equal(mpc.hessian, 'gauss-newton');
    const r = runCstrClosedLoop(mpc, x0);
    assert.ok(r.converged, `from ${x0}: final ${r.finalState} (test MSE ${fit.testMse})`);
    assert.equal(r.boundViolations, 0);
    for (const u of r.u) assert.ok(inBounds(u));
    const s = summarizeClosedLoop(r);
    assert.ok(s.iterations.median <= 5, `median SQP iterations ${s.iterations.median}`);
  }
});

test('piecewise-linear networks: a Jacobian reused across an unchanged activation pattern is exact', () => {
  for (const kind of ['iclrnn', 'icrnn', 'lstm'] as const) {
    const m = randomModel(kind, 9, 12);
    const p = cstrModelPredictor(m), q = cstrModelPredictor(m, { reuseJacobians: false });
    p.reserve(1);
    q.reserve(1);
    const out = new Float64Array(20), outQ = new Float64Array(20);
    const Jx = new Float64Array(40), Ju = new Float64Array(40), JxQ = new Float64Array(40), JuQ = new Float64Array(40);
    const points = [[0.5, -20, 1, 1e5], [0.5 + 1e-7, -20 + 1e-5, 1 + 1e-7, 1e5 + 1e-2], [-1.2, 60, -3, -4e5], [0.3, 10, 2, 3e5]];
    for (const [x1, x2, u1, u2] of points) {
      p.jacobian(0, F([x1, x2]), F([u1, u2]), out, Jx, Ju);
      q.jacobian(0, F([x1, x2]), F([u1, u2]), outQ, JxQ, JuQ);
      for (let i = 0; i < 20; i++) assert.ok(Math.abs(out[i] - outQ[i]) <= 1e-12 * (1 + Math.abs(outQ[i])), `${kind}: value ${i}`);
      for (let i = 0; i < 40; i++) {
        assert.ok(Math.abs(Jx[i] - JxQ[i]) <= 1e-9 * (1e-6 + Math.abs(JxQ[i])), `${kind}: Jx ${i} ${Jx[i]} vs ${JxQ[i]}`);
        assert.ok(Math.abs(Ju[i] - JuQ[i]) <= 1e-9 * (1e-12 + Math.abs(JuQ[i])), `${kind}: Ju ${i} ${Ju[i]} vs ${JuQ[i]}`);
      }
    }
    assert.equal(q.stats.reused, 0);
    if (kind === 'lstm') assert.equal(p.stats.reused, 0, 'LSTM is not piecewise linear: never reused');
    else assert.ok(p.stats.reused >= 1, `${kind}: the nearby point reuses the Jacobian`);
    assert.equal(p.stats.reused + p.stats.computed, points.length);
  }
});
