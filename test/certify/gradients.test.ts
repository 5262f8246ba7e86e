// Finite-difference checks of every differentiable piece of the certificates: the gradient of the
// attack's log-ratio, the LFR forward/adjoint pair, and the exactness of the step LFR and of the
// Jacobian enclosure at a point (zero-radius box) against the model's own finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pairRatios } from '../../src/certify/empirical.ts';
import { buildStepLfr, lfrAdjoint, lfrForward, siteRanges } from '../../src/certify/lfr.ts';
import { propagateModel, boxAround } from '../../src/certify/propagate.ts';
import { buildModel, MODEL_KINDS, isInputConvexKind, type BuiltinModelKind } from '../../src/nn/models.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';

function randomModel(kind: BuiltinModelKind, seed: number): SequenceModel {
  const m = buildModel(kind, { inputSize: 2, outputSize: 2, hidden: 3, layers: 2, seed });
  const rng = new Rng(seed + 7);
  const convex = isInputConvexKind(kind);
  for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = convex && p.name !== 'bias' ? 0.6 * rng.uniform() + 0.05 : 0.8 * rng.normal();
  // positive biases keep the ReLU sites away from their kinks at the test points
  if (convex) for (const p of m.parameters()) if (p.name === 'bias') for (let i = 0; i < p.value.length; i++) p.value[i] = 0.3 + 0.2 * rng.uniform();
  return m;
}

const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1e-3, Math.abs(a) + Math.abs(b)), `${what}: ${a} vs ${b}`);

for (const kind of MODEL_KINDS) {
  test(`${kind}: gradient of the attack's log-ratio matches finite differences`, () => {
    const m = randomModel(kind, 11);
    const steps = 3, d = steps * 2, count = 2;
    const rng = new Rng(3);
    const X = new Float64Array(2 * count * d).map(() => rng.uniformIn(0.2, 0.8));
    const { ratios, gradient } = pairRatios(m, X, count, steps, true);
    const g = Float64Array.from(gradient!);
    const h = 1e-6;
    for (let k = 0; k < 10; k++) {
      const i = rng.int(X.length), s = Math.floor(i / d) % count;
      const v = X[i];
      X[i] = v + h;
      const p = Math.log(pairRatios(m, X, count, steps, false).ratios[s]);
      X[i] = v - h;
      const q = Math.log(pairRatios(m, X, count, steps, false).ratios[s]);
      X[i] = v;
      close(g[i], (p - q) / (2 * h), 1e-4, `${kind} d log R / dx[${i}]`);
    }
    assert.ok(ratios.every((r) => r > 0));
  });

  // The LFR builder (certify/lfr.ts) has no GRU rule; the GRU's certified bound comes from the
  // program interpreters (test/interp/gain.test.ts).
  if (kind !== 'gru') test(`${kind}: the step LFR at a point reproduces the model's Jacobian (finite differences)`, () => {
    const m = randomModel(kind, 5);
    const steps = 3, n = 2, d = steps * n;
    const rng = new Rng(9);
    const x = new Float64Array(d).map(() => rng.uniformIn(0.2, 0.8));
    // zero-radius box: every gain range collapses to the exact derivative at x
    const prop = propagateModel(m, steps, boxAround(x, 0));
    const lfr = buildStepLfr(m);
    const theta = Array.from({ length: steps }, (_, t) => siteRanges(lfr, prop, t).alpha);
    const e = Array.from({ length: steps }, () => new Float64Array(n).map(() => rng.normal()));
    const jv = lfrForward(lfr, theta, e).y;
    const h = 1e-6;
    const xp = x.map((v, p) => v + h * e[Math.floor(p / n)][p % n]);
    const xm = x.map((v, p) => v - h * e[Math.floor(p / n)][p % n]);
    const yp = m.forward(xp, 1, steps), ym = m.forward(xm, 1, steps);
    for (let t = 0; t < steps; t++) for (let o = 0; o < 2; o++) close(jv[t][o], (yp[t * 2 + o] - ym[t * 2 + o]) / (2 * h), 1e-5, `${kind} J e at step ${t}`);
    // the enclosure at a point is the exact Jacobian with zero radius
    const J = prop.jacobian;
    for (let r = 0; r < J.k; r++) {
      let s = 0;
      for (let p = 0; p < d; p++) s += J.C[r * d + p] * e[Math.floor(p / n)][p % n];
      close(s, jv[Math.floor(r / 2)][r % 2], 1e-9, `${kind} enclosure row ${r}`);
      for (let p = 0; p < d; p++) assert.ok(J.R[r * d + p] <= 1e-9 * (1 + Math.abs(J.C[r * d + p])), `radius ${J.R[r * d + p]}`);
    }
  });
}

test('LFR adjoint matches finite differences w.r.t. the inputs and the gains', () => {
  for (const kind of ['lstm', 'icrnn', 'lrnn', 'iclrnn'] as const) {
    const m = randomModel(kind, 2);
    const lfr = buildStepLfr(m);
    const steps = 3, n = 2;
    const rng = new Rng(4);
    const theta = Array.from({ length: steps }, () => new Float64Array(lfr.nw).map(() => rng.uniformIn(-0.5, 1)));
    const e = Array.from({ length: steps }, () => new Float64Array(n).map(() => rng.normal()));
    const w = Array.from({ length: steps }, () => new Float64Array(lfr.Y.length).map(() => rng.normal()));
    const loss = () => lfrForward(lfr, theta, e).y.reduce((s, y, t) => s + y.reduce((a, v, o) => a + v * w[t][o], 0), 0);
    const fw = lfrForward(lfr, theta, e);
    const adj = lfrAdjoint(lfr, theta, fw.xi, w);
    const h = 1e-6;
    for (let k = 0; k < 6; k++) {
      const t = rng.int(steps), j = rng.int(n);
      const v = e[t][j];
      e[t][j] = v + h;
      const p = loss();
      e[t][j] = v - h;
      const q = loss();
      e[t][j] = v;
      close(adj.de[t][j], (p - q) / (2 * h), 1e-5, `${kind} dL/de[${t}][${j}]`);
      const i = rng.int(lfr.nw);
      const th = theta[t][i];
      theta[t][i] = th + h;
      const p2 = loss();
      theta[t][i] = th - h;
      const q2 = loss();
      theta[t][i] = th;
      close(adj.dtheta[t][i], (p2 - q2) / (2 * h), 1e-5, `${kind} dL/dtheta[${t}][${i}]`);
    }
  }
});
