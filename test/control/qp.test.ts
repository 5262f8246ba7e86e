import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QpSolver, solveQp, type QpProblem, type QpResult } from '../../src/control/qp.ts';
import { ValidationError } from '../../src/core/errors.ts';

const F = (a: number[]) => Float64Array.from(a);

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `entry ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

/** max |Hx + g + A'lambda + boundMultipliers|. */
function stationarity(p: QpProblem, r: QpResult): number {
  let worst = 0;
  for (let i = 0; i < p.n; i++) {
    let s = p.g[i] + r.boundMultipliers[i];
    for (let j = 0; j < p.n; j++) s += p.H[i * p.n + j] * r.x[j];
    for (let k = 0; k < p.m; k++) s += p.A[k * p.n + i] * r.multipliers[k];
    worst = Math.max(worst, Math.abs(s));
  }
  return worst;
}

test('unconstrained QP: x = -H^-1 g', () => {
  const H = F([4, 1, 1, 3]);
  const g = F([1, 2]);
  const r = solveQp({ n: 2, m: 0, H, g, A: F([]), b: F([]) });
  assert.equal(r.status, 'optimal');
  // H^-1 = [3 -1; -1 4] / 11
  close(r.x, [-(3 * 1 - 1 * 2) / 11, -(-1 * 1 + 4 * 2) / 11], 1e-12);
  close(r.boundMultipliers, [0, 0]);
  assert.ok(Math.abs(r.objective - (0.5 * (4 * r.x[0] ** 2 + 2 * r.x[0] * r.x[1] + 3 * r.x[1] ** 2) + r.x[0] + 2 * r.x[1])) < 1e-12);
});

test('bounds active: signed bound multipliers and exact bound values', () => {
  const p: QpProblem = { n: 2, m: 0, H: F([1, 0, 0, 1]), g: F([-3, 2]), A: F([]), b: F([]), lower: F([-1, -1]), upper: F([1, 1]) };
  const r = solveQp(p);
  assert.equal(r.status, 'optimal');
  assert.equal(r.x[0], 1);
  assert.equal(r.x[1], -1);
  close(r.boundMultipliers, [2, -1], 1e-12);
  assert.ok(stationarity(p, r) < 1e-12);
});

test('inequality active: projection onto a half-plane', () => {
  // min (x-1)^2 + (y-2)^2 s.t. x + y <= 1  ->  (0, 1), lambda = 2
  const p: QpProblem = { n: 2, m: 1, H: F([2, 0, 0, 2]), g: F([-2, -4]), A: F([1, 1]), b: F([1]) };
  const r = solveQp(p);
  assert.equal(r.status, 'optimal');
  close(r.x, [0, 1], 1e-12);
  close(r.multipliers, [2], 1e-12);
  assert.ok(Math.abs(r.objective - -3) < 1e-12); // x^2 + y^2 - 2x - 4y at (0, 1)
});

test('inactive inequality gets a zero multiplier', () => {
  const p: QpProblem = { n: 2, m: 1, H: F([2, 0, 0, 2]), g: F([-2, -4]), A: F([1, 1]), b: F([10]) };
  const r = solveQp(p);
  close(r.x, [1, 2], 1e-12);
  close(r.multipliers, [0]);
});

test('degenerate vertex: four constraints active at a 2-D point, duplicates and an equality pair', () => {
  // min (x-1)^2 + (y-1)^2 s.t. x + y <= 1, x <= 0.5, y <= 0.5, 2x + 2y <= 2, x + y <= 1 (duplicate)
  const p: QpProblem = {
    n: 2, m: 5, H: F([2, 0, 0, 2]), g: F([-2, -2]),
    A: F([1, 1, 1, 0, 0, 1, 2, 2, 1, 1]), b: F([1, 0.5, 0.5, 2, 1]),
    lower: F([-5, -5]), upper: F([0.5, 0.5]),
  };
  const r = solveQp(p);
  assert.equal(r.status, 'optimal');
  close(r.x, [0.5, 0.5], 1e-12);
  assert.ok(stationarity(p, r) < 1e-10);
  for (const l of r.multipliers) assert.ok(l >= 0);
  // Equality x + y = 1 as two opposite inequalities.
  const q: QpProblem = { n: 2, m: 2, H: F([2, 0, 0, 2]), g: F([0, -4]), A: F([1, 1, -1, -1]), b: F([1, -1]) };
  const s = solveQp(q);
  assert.equal(s.status, 'optimal');
  close(s.x, [-0.5, 1.5], 1e-12);
  assert.ok(stationarity(q, s) < 1e-10);
});

test('infeasible QP and non-convex Hessian are reported', () => {
  const inf = solveQp({
    n: 2, m: 1, H: F([1, 0, 0, 1]), g: F([0, 0]), A: F([1, 1]), b: F([-3]),
    lower: F([-1, -1]), upper: F([1, 1]),
  });
  assert.equal(inf.status, 'infeasible');
  const conflicting = solveQp({ n: 1, m: 2, H: F([1]), g: F([0]), A: F([1, -1]), b: F([-1, -1]) });
  assert.equal(conflicting.status, 'infeasible');
  const nc = solveQp({ n: 2, m: 0, H: F([1, 2, 2, 1]), g: F([0, 0]), A: F([]), b: F([]) });
  assert.equal(nc.status, 'not-convex');
  assert.throws(() => solveQp({ n: 1, m: 0, H: F([1]), g: F([0]), A: F([]), b: F([]), lower: F([1]), upper: F([0]) }), ValidationError);
});

test('a solver instance is reusable and rejects mismatched sizes', () => {
  const solver = new QpSolver(2, 1);
  const p: QpProblem = { n: 2, m: 1, H: F([2, 0, 0, 2]), g: F([-2, -4]), A: F([1, 1]), b: F([1]) };
  close(solver.solve(p).x, [0, 1], 1e-12);
  p.b[0] = 10;
  close(solver.solve(p).x, [1, 2], 1e-12);
  p.b[0] = 1;
  close(solver.solve(p).x, [0, 1], 1e-12);
  assert.throws(() => solver.solve({ ...p, m: 0 }), ValidationError);
});

/** Random strictly convex QP with a known feasible point, so that it is feasible by construction. */
const randomQp = fc
  .record({
    n: fc.integer({ min: 1, max: 8 }),
    m: fc.integer({ min: 0, max: 10 }),
    seed: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 400, maxLength: 400 }),
    boundMask: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
  })
  .map(({ n, m, seed, boundMask }) => {
    let k = 0;
    // Quantised to 1e-3 so that shrinking cannot produce rows scaled like 1e-90 (out of scope).
    const next = () => Math.round(seed[k++ % seed.length] * 1000) / 1000;
    const M = new Float64Array(n * n).map(() => next() * 2);
    const H = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? 0.05 : 0;
        for (let l = 0; l < n; l++) s += M[i * n + l] * M[j * n + l];
        H[i * n + j] = s;
      }
    const g = new Float64Array(n).map(() => next() * 5);
    const x0 = new Float64Array(n).map(() => next());
    const A = new Float64Array(m * n).map(() => next());
    const b = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = Math.abs(next()) * 0.5;
      for (let j = 0; j < n; j++) s += A[i * n + j] * x0[j];
      b[i] = s;
    }
    const lower = new Float64Array(n), upper = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      lower[i] = boundMask[i] & 1 ? x0[i] - Math.abs(next()) * 0.5 : -Infinity;
      upper[i] = boundMask[i] & 2 ? x0[i] + Math.abs(next()) * 0.5 : Infinity;
    }
    return { n, m, H, g, A, b, lower, upper } satisfies QpProblem;
  });

test('property: random feasible convex QPs satisfy bounds exactly and the KKT conditions', () => {
  fc.assert(
    fc.property(randomQp, (p) => {
      const r = new QpSolver(p.n, p.m).solve(p);
      assert.equal(r.status, 'optimal');
      // Scale of the terms in the stationarity sum (multipliers can be huge on badly scaled rows).
      const maxAbs = (a: ArrayLike<number>) => Array.from(a, Math.abs).reduce((s, v) => Math.max(s, v), 0);
      const scale = 1 + maxAbs(p.g) + maxAbs(r.multipliers) * maxAbs(p.A) + maxAbs(r.boundMultipliers);
      for (let i = 0; i < p.n; i++) {
        assert.ok(r.x[i] >= p.lower![i] && r.x[i] <= p.upper![i], `x[${i}] outside bounds`);
        const bm = r.boundMultipliers[i];
        if (bm > 0) assert.equal(r.x[i], p.upper![i]);
        if (bm < 0) assert.equal(r.x[i], p.lower![i]);
      }
      for (let k = 0; k < p.m; k++) {
        let ax = 0;
        for (let j = 0; j < p.n; j++) ax += p.A[k * p.n + j] * r.x[j];
        const slack = p.b[k] - ax;
        assert.ok(slack >= -1e-8, `row ${k} violated by ${-slack}`);
        assert.ok(r.multipliers[k] >= 0);
        assert.ok(r.multipliers[k] * Math.abs(slack) <= 1e-8 * scale, `complementarity row ${k}`);
      }
      assert.ok(stationarity(p, r) <= 1e-8 * scale, `stationarity ${stationarity(p, r)}`);
    }),
    { numRuns: 300 },
  );
});

test('property: whatever the status, x never leaves the bounds (random possibly infeasible QPs)', () => {
  fc.assert(
    fc.property(randomQp, fc.double({ min: -3, max: 0, noNaN: true }), (p, shift) => {
      // Shift the right-hand sides so that some problems become infeasible.
      const b = p.b.map((v) => v + shift);
      const r = solveQp({ ...p, b });
      assert.ok(['optimal', 'infeasible'].includes(r.status));
      for (let i = 0; i < p.n; i++) assert.ok(r.x[i] >= p.lower![i] && r.x[i] <= p.upper![i]);
    }),
    { numRuns: 200 },
  );
});
