import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SqpSolver, solveNlp, type NlpProblem, type SqpResult } from '../../src/control/nlp.ts';
import { ValidationError } from '../../src/core/errors.ts';

const F = (a: number[]) => Float64Array.from(a);
const INF = Infinity;

function near(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} (tol ${tol})`);
}

function inBounds(r: SqpResult, p: NlpProblem): void {
  for (let i = 0; i < p.n; i++) {
    assert.ok(r.z[i] >= p.lower[i] && r.z[i] <= p.upper[i], `z[${i}] = ${r.z[i]} outside [${p.lower[i]}, ${p.upper[i]}]`);
  }
}

function rosenbrock(lower: number[], upper: number[]): NlpProblem {
  return {
    n: 2, m: 0, lower: F(lower), upper: F(upper),
    evaluate(z, g) {
      const [x, y] = z;
      g[0] = -2 * (1 - x) - 400 * x * (y - x * x);
      g[1] = 200 * (y - x * x);
      return (1 - x) ** 2 + 100 * (y - x * x) ** 2;
    },
  };
}

test('Rosenbrock: unconstrained minimum inside a box, and a minimum on an active bound', () => {
  const free = solveNlp(rosenbrock([-2, -2], [2, 2]), [-1.2, 1]);
  assert.equal(free.status, 'optimal');
  near(free.z[0], 1, 1e-5, 'x');
  near(free.z[1], 1, 1e-5, 'y');
  assert.ok(free.f < 1e-10);

  // With y <= 0.5 the minimum lies on y = 0.5 where d/dx[(1-x)^2 + 100(0.5-x^2)^2] = 0.
  let x = 0.7;
  for (let k = 0; k < 50; k++) {
    const d1 = -2 * (1 - x) - 400 * x * (0.5 - x * x);
    const d2 = 2 - 200 + 1200 * x * x;
    x -= d1 / d2;
  }
  const p = rosenbrock([-1.5, -0.5], [1.5, 0.5]);
  const r = solveNlp(p, [-1.2, 0.5]);
  assert.equal(r.status, 'optimal');
  near(r.z[0], x, 1e-5, 'x');
  assert.equal(r.z[1], 0.5);
  assert.ok(r.boundMultipliers[1] > 0, 'upper bound of y active');
  assert.ok(r.kktResidual <= 1e-6);
  inBounds(r, p);
});

const circle: NlpProblem = {
  n: 2, m: 1, lower: F([-2, -2]), upper: F([2, 2]),
  evaluate(z, g, c, J) {
    g[0] = 1;
    g[1] = 1;
    c[0] = z[0] * z[0] + z[1] * z[1] - 1;
    J[0] = 2 * z[0];
    J[1] = 2 * z[1];
    return z[0] + z[1];
  },
};

test('active nonlinear constraint: min x + y s.t. x^2 + y^2 <= 1 from feasible and infeasible starts', () => {
  const solver = new SqpSolver(2, 1);
  for (const z0 of [[0, 0], [1.5, -0.3], [2, 2], [0.1, 0.9], [-2, -2]]) {
    const r = solver.solve(circle, z0);
    assert.equal(r.status, 'optimal', `from ${z0}`);
    near(r.z[0], -Math.SQRT1_2, 1e-5, 'x');
    near(r.z[1], -Math.SQRT1_2, 1e-5, 'y');
    near(r.multipliers[0], Math.SQRT1_2, 1e-5, 'lambda');
    assert.ok(r.constraintViolation <= 1e-6);
    assert.ok(r.evaluations >= r.iterations + 1);
  }
});

test('HS071 (Hock-Schittkowski 71, the Ipopt example) reaches the published optimum', () => {
  // min x1 x4 (x1 + x2 + x3) + x3  s.t. x1 x2 x3 x4 >= 25, sum x^2 = 40 (as two inequalities), 1 <= x <= 5.
  const hs071: NlpProblem = {
    n: 4, m: 3, lower: F([1, 1, 1, 1]), upper: F([5, 5, 5, 5]),
    evaluate(x, g, c, J) {
      const [a, b, cc, d] = x;
      g[0] = d * (2 * a + b + cc);
      g[1] = a * d;
      g[2] = a * d + 1;
      g[3] = a * (a + b + cc);
      c[0] = 25 - a * b * cc * d;
      J[0] = -b * cc * d; J[1] = -a * cc * d; J[2] = -a * b * d; J[3] = -a * b * cc;
      const s = a * a + b * b + cc * cc + d * d - 40;
      c[1] = s;
      c[2] = -s;
      for (let i = 0; i < 4; i++) {
        J[4 + i] = 2 * x[i];
        J[8 + i] = -2 * x[i];
      }
      return a * d * (a + b + cc) + cc;
    },
  };
  const r = solveNlp(hs071, [1, 5, 5, 1]);
  assert.equal(r.status, 'optimal');
  const expected = [1, 4.74299963, 3.82114998, 1.37940829];
  for (let i = 0; i < 4; i++) near(r.z[i], expected[i], 1e-5, `x${i + 1}`);
  near(r.f, 17.0140173, 1e-6, 'f');
  near(r.multipliers[0], 0.55229366, 1e-4, 'lambda product');
  near(r.multipliers[1] - r.multipliers[2], 0.16146857, 1e-4, 'lambda sphere'); // Ipopt: -0.1614686 (sign convention)
  near(r.boundMultipliers[0], -1.08787121, 1e-4, 'x1 lower bound multiplier');
  assert.equal(r.z[0], 1);
});

/** A smooth convex problem parametrised by a target p: min |z - p|^2 + 0.1 sum exp(z) s.t. |z|^2 <= 1. */
function convex(p: number[]): NlpProblem {
  return {
    n: 4, m: 1, lower: F([-1, -1, -1, -1]), upper: F([1, 1, 1, 0.3]),
    evaluate(z, g, c, J) {
      let f = 0;
      let s = -1;
      for (let i = 0; i < 4; i++) {
        const e = Math.exp(z[i]);
        f += (z[i] - p[i]) ** 2 + 0.1 * e;
        g[i] = 2 * (z[i] - p[i]) + 0.1 * e;
        s += z[i] * z[i];
        J[i] = 2 * z[i];
      }
      c[0] = s;
      return f;
    },
  };
}

test('warm start from a nearby solution converges in fewer iterations (and from the optimum in none)', () => {
  const solver = new SqpSolver(4, 1);
  const p1 = [1, 0.5, -0.5, 0.6];
  const r1 = solver.solve(convex(p1), [0, 0, 0, 0]);
  assert.equal(r1.status, 'optimal');
  assert.ok(r1.multipliers[0] > 0, 'norm constraint active');
  assert.equal(r1.z[3], 0.3, 'upper bound active');
  const p2 = p1.map((v, i) => v + 0.02 * (i % 2 ? 1 : -1));
  const cold = solver.solve(convex(p2), [0, 0, 0, 0]);
  const warm = solver.solve(convex(p2), r1.z);
  assert.equal(cold.status, 'optimal');
  assert.equal(warm.status, 'optimal');
  for (let i = 0; i < 4; i++) near(warm.z[i], cold.z[i], 1e-5, `z${i}`);
  assert.ok(warm.iterations < cold.iterations, `warm ${warm.iterations} vs cold ${cold.iterations}`);
  const again = solver.solve(convex(p2), warm.z);
  assert.equal(again.status, 'optimal');
  assert.ok(again.iterations <= 1, `restart from the optimum took ${again.iterations} iterations`);
  // Keeping the BFGS matrix between solves also works.
  const keep = new SqpSolver(4, 1, { warmStartHessian: true });
  keep.solve(convex(p1), [0, 0, 0, 0]);
  const k2 = keep.solve(convex(p2), r1.z);
  assert.equal(k2.status, 'optimal');
  for (let i = 0; i < 4; i++) near(k2.z[i], cold.z[i], 1e-5, `z${i}`);
});

test('infeasible: z in [0, 0.5] but z >= 1 required returns the bound point minimising the violation', () => {
  // Linear constraint, and the nonlinear 1 - z^2 <= 0 whose gradient vanishes at the start z = 0.
  for (const [c, dc, viol] of [
    [(z: number) => 1 - z, () => -1, 0.5],
    [(z: number) => 1 - z * z, (z: number) => -2 * z, 0.75],
  ] as const) {
    const p: NlpProblem = {
      n: 1, m: 1, lower: F([0]), upper: F([0.5]),
      evaluate(z, g, cons, J) {
        g[0] = 2 * (z[0] - 0.2);
        cons[0] = c(z[0]);
        J[0] = dc(z[0]);
        return (z[0] - 0.2) ** 2;
      },
    };
    for (const z0 of [[0], [0.3], [0.5], [7]]) {
      const r = solveNlp(p, z0);
      assert.equal(r.status, 'infeasible', `from ${z0}`);
      assert.equal(r.z[0], 0.5);
      near(r.constraintViolation, viol, 1e-12, 'violation');
      inBounds(r, p);
    }
  }
});

test('infeasible in 2-D: box [0,1]^2 with |z|^2 >= 4 ends at the corner (1, 1)', () => {
  const p: NlpProblem = {
    n: 2, m: 1, lower: F([0, 0]), upper: F([1, 1]),
    evaluate(z, g, c, J) {
      g[0] = z[0];
      g[1] = 2 * z[1];
      c[0] = 4 - z[0] * z[0] - z[1] * z[1];
      J[0] = -2 * z[0];
      J[1] = -2 * z[1];
      return 0.5 * z[0] * z[0] + z[1] * z[1];
    },
  };
  const r = solveNlp(p, [0.3, 0.6]);
  assert.equal(r.status, 'infeasible');
  assert.equal(r.z[0], 1);
  assert.equal(r.z[1], 1);
  near(r.constraintViolation, 2, 1e-12);
});

test('feasible problem whose linearisation is inconsistent at the start (elastic mode, zero Jacobian)', () => {
  // |z| >= 1 with z in [-2, 2]; the start z = 0 is a maximiser of the violation.
  const p: NlpProblem = {
    n: 1, m: 1, lower: F([-2]), upper: F([2]),
    evaluate(z, g, c, J) {
      g[0] = 2 * (z[0] - 0.2);
      c[0] = 1 - z[0] * z[0];
      J[0] = -2 * z[0];
      return (z[0] - 0.2) ** 2;
    },
  };
  const r = solveNlp(p, [0]);
  assert.equal(r.status, 'optimal');
  near(Math.abs(r.z[0]), 1, 1e-6, '|z|');
  // Two constraints, zero Jacobian of the first at the start: min |z|^2 s.t. z0 z1 >= 1, z0 <= 2 z1.
  const q: NlpProblem = {
    n: 2, m: 2, lower: F([0, 0]), upper: F([2, 2]),
    evaluate(z, g, c, J) {
      g[0] = 2 * z[0];
      g[1] = 2 * z[1];
      c[0] = 1 - z[0] * z[1]; // z0 z1 >= 1
      J[0] = -z[1];
      J[1] = -z[0];
      c[1] = z[0] - 2 * z[1]; // z0 <= 2 z1
      J[2] = 1;
      J[3] = -2;
      return z[0] * z[0] + z[1] * z[1];
    },
  };
  const s = solveNlp(q, [0, 0]);
  assert.equal(s.status, 'optimal');
  near(s.z[0], 1, 1e-5);
  near(s.z[1], 1, 1e-5);
});

test('Gauss-Newton Hessian callback (nonlinear least squares with a constraint) matches BFGS', () => {
  // Fit y = a exp(b t) to data, with a + b <= 2.
  const t = [0, 0.5, 1, 1.5, 2];
  const y = t.map((ti) => 1.5 * Math.exp(0.8 * ti) + 0.05 * Math.sin(7 * ti));
  const base = {
    n: 2, m: 1, lower: F([-5, -5]), upper: F([5, 5]),
    evaluate(z: Float64Array, g: Float64Array, c: Float64Array, J: Float64Array) {
      let f = 0;
      for (let i = 0; i < t.length; i++) {
        const e = Math.exp(z[1] * t[i]);
        const r = z[0] * e - y[i];
        f += 0.5 * r * r;
        g[0] += r * e;
        g[1] += r * z[0] * t[i] * e;
      }
      c[0] = z[0] + z[1] - 2;
      J[0] = 1;
      J[1] = 1;
      return f;
    },
  };
  const gn: NlpProblem = {
    ...base,
    hessian(z, H) {
      H.fill(0);
      for (let i = 0; i < t.length; i++) {
        const e = Math.exp(z[1] * t[i]);
        const j0 = e, j1 = z[0] * t[i] * e;
        H[0] += j0 * j0;
        H[1] += j0 * j1;
        H[2] += j0 * j1;
        H[3] += j1 * j1;
      }
    },
  };
  const a = solveNlp(base, [1, 0]);
  const b = solveNlp(gn, [1, 0]);
  assert.equal(a.status, 'optimal');
  assert.equal(b.status, 'optimal');
  near(b.z[0], a.z[0], 1e-5);
  near(b.z[1], a.z[1], 1e-5);
  near(b.z[0] + b.z[1], 2, 1e-6, 'constraint active');
});

test('start outside the bounds, fixed variables, iteration limit, size checks', () => {
  const p = rosenbrock([-1.5, 0.5], [1.5, 0.5]); // y fixed at 0.5
  const r = solveNlp(p, [100, -100]);
  assert.equal(r.status, 'optimal');
  assert.equal(r.z[1], 0.5);
  inBounds(r, p);
  const limited = solveNlp(rosenbrock([-2, -2], [2, 2]), [-1.2, 1], { maxIterations: 3 });
  assert.equal(limited.status, 'max-iterations');
  assert.equal(limited.iterations, 3);
  assert.throws(() => new SqpSolver(3, 0).solve(p), ValidationError);
  assert.throws(() => solveNlp({ ...p, lower: F([1, 0]), upper: F([0, 1]) }), ValidationError);
});

/**
 * Random convex NLP: f = 0.5 z'Qz + q'z + sum softplus(w_k'z); constraints: balls |z - a_k|^2 <= r_k^2
 * and half-spaces; a box. `feasible` plants a strictly feasible interior point.
 */
const randomConvexNlp = fc
  .record({
    n: fc.integer({ min: 1, max: 6 }),
    mBall: fc.integer({ min: 0, max: 2 }),
    mLin: fc.integer({ min: 0, max: 3 }),
    feasible: fc.boolean(),
    seed: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 128, maxLength: 128 }),
    z0: fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 6, maxLength: 6 }),
  })
  .map(({ n, mBall, mLin, feasible, seed, z0 }) => {
    let k = 0;
    const next = () => seed[k++ % seed.length] / 1000;
    const m = mBall + mLin;
    const M = Array.from({ length: n * n }, next);
    const Q = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? 0.1 : 0;
        for (let l = 0; l < n; l++) s += M[i * n + l] * M[j * n + l];
        Q[i * n + j] = s;
      }
    const q = Array.from({ length: n }, () => 3 * next());
    const w = Array.from({ length: n }, next);
    const x0 = Array.from({ length: n }, () => 0.5 * next());
    const centres = Array.from({ length: mBall }, () => Array.from({ length: n }, next));
    const radii = centres.map((a) => {
      const dist = Math.sqrt(a.reduce((s, v, i) => s + (v - x0[i]) ** 2, 0));
      return feasible ? dist + 0.1 + Math.abs(next()) : Math.abs(next());
    });
    const rows = Array.from({ length: mLin }, () => Array.from({ length: n }, next));
    const rhs = rows.map((a) => a.reduce((s, v, i) => s + v * x0[i], 0) + (feasible ? 0.1 + Math.abs(next()) : next()));
    const lower = F(x0.map((v) => v - 0.2 - Math.abs(next())));
    const upper = F(x0.map((v) => v + 0.2 + Math.abs(next())));
    const problem: NlpProblem = {
      n, m, lower, upper,
      evaluate(z, g, c, J) {
        let f = 0;
        let wz = 0;
        for (let i = 0; i < n; i++) wz += w[i] * z[i];
        const sp = wz > 30 ? wz : Math.log1p(Math.exp(wz));
        const sg = 1 / (1 + Math.exp(-wz));
        f += sp;
        for (let i = 0; i < n; i++) {
          let Qz = 0;
          for (let j = 0; j < n; j++) Qz += Q[i * n + j] * z[j];
          f += 0.5 * z[i] * Qz + q[i] * z[i];
          g[i] = Qz + q[i] + sg * w[i];
        }
        for (let b = 0; b < mBall; b++) {
          let s = -radii[b] * radii[b];
          for (let i = 0; i < n; i++) {
            s += (z[i] - centres[b][i]) ** 2;
            J[b * n + i] = 2 * (z[i] - centres[b][i]);
          }
          c[b] = s;
        }
        for (let l = 0; l < mLin; l++) {
          let s = -rhs[l];
          for (let i = 0; i < n; i++) {
            s += rows[l][i] * z[i];
            J[(mBall + l) * n + i] = rows[l][i];
          }
          c[mBall + l] = s;
        }
        return f;
      },
    };
    return { problem, feasible, z0: z0.slice(0, n).map((v) => v / 1000) };
  });

test('property: random convex NLPs stay in the bounds; planted-feasible ones are solved to KKT tolerance', () => {
  fc.assert(
    fc.property(randomConvexNlp, ({ problem: p, feasible, z0 }) => {
      const r = solveNlp(p, z0);
      inBounds(r, p);
      assert.equal(r.multipliers.length, p.m);
      if (feasible) assert.equal(r.status, 'optimal');
      if (r.status === 'optimal') {
        // Independent KKT check with the returned multipliers.
        const g = new Float64Array(p.n), c = new Float64Array(p.m), J = new Float64Array(p.m * p.n);
        const f = p.evaluate(r.z, g, c, J);
        near(f, r.f, 1e-12 * (1 + Math.abs(f)), 'f');
        for (let k = 0; k < p.m; k++) {
          assert.ok(c[k] <= 1e-6, `c${k} = ${c[k]}`);
          assert.ok(r.multipliers[k] >= 0);
          assert.ok(r.multipliers[k] * Math.max(0, -c[k]) <= 1e-6, 'complementarity');
        }
        for (let i = 0; i < p.n; i++) {
          let s = g[i];
          for (let k = 0; k < p.m; k++) s += J[k * p.n + i] * r.multipliers[k];
          const projected = r.z[i] - Math.min(p.upper[i], Math.max(p.lower[i], r.z[i] - s));
          assert.ok(Math.abs(projected) <= 1e-6, `stationarity ${i}: ${projected}`);
        }
      }
      if (r.status === 'infeasible') assert.ok(r.constraintViolation > 1e-6);
    }),
    { numRuns: 150 },
  );
});
