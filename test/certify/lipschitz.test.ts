// Soundness of the certified Lipschitz bounds as properties (no pair of inputs ever exceeds them),
// ordering of the numbers, and brute-forced exact constants of tiny models bracketed by the bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { certify } from '../../src/certify/certify.ts';
import { lipschitzAttack, pairRatios } from '../../src/certify/empirical.ts';
import { propagateModel, boxAround } from '../../src/certify/propagate.ts';
import { lfrBound } from '../../src/certify/lfr.ts';
import { certifiedNorm } from '../../src/core/spectral.ts';
import { buildModel, MODEL_KINDS, isInputConvexKind, type BuiltinModelKind } from '../../src/nn/models.ts';
import { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';
import { ValidationError } from '../../src/core/errors.ts';

function randomModel(kind: BuiltinModelKind, seed: number, o: { hidden: number; layers: number; inputSize: number; outputSize: number }): SequenceModel {
  const m = buildModel(kind, { ...o, seed });
  const rng = new Rng(seed + 99);
  const convex = isInputConvexKind(kind);
  for (const p of m.parameters())
    for (let i = 0; i < p.value.length; i++) p.value[i] = convex && p.name !== 'bias' ? 0.8 * Math.abs(rng.normal()) : 0.9 * rng.normal();
  m.applyConstraints();
  return m;
}

/** Largest ratio over random pairs drawn by `draw` (both points of a pair). */
function maxRatio(model: SequenceModel, steps: number, rng: Rng, pairs: number, draw: () => [Float64Array, Float64Array]): number {
  const d = steps * model.inputSize;
  const X = new Float64Array(2 * pairs * d);
  for (let s = 0; s < pairs; s++) {
    const [a, b] = draw();
    X.set(a, s * d);
    X.set(b, (pairs + s) * d);
  }
  void rng;
  return Math.max(...pairRatios(model, X, pairs, steps, false).ratios);
}

// The GRU is certified by the cell-program gain interpreter (certify/programs.ts): a norm-product
// bound, sound but without the Jacobian enclosure that makes the others' local bounds tight.
const ENCLOSURE_KINDS = MODEL_KINDS.filter((k) => k !== 'gru');

for (const kind of MODEL_KINDS) {
  test(`${kind}: no pair of inputs exceeds upperBound, domain or local bound (property)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }),
        fc.double({ min: 0.001, max: 0.5, noNaN: true }),
        (seed, steps, hidden, layers, outputSize, radius) => {
          const model = randomModel(kind, seed, { hidden, layers, inputSize: 2, outputSize });
          const rng = new Rng(seed);
          const d = steps * 2;
          const center = new Float64Array(d).map(() => rng.uniformIn(-0.5, 1.5));
          const r = certify(model, { steps, seed, attack: { starts: 4, iterations: 15 }, jensen: false, sampleCount: 30, local: { center, radius } });
          const L = r.lipschitz;
          const slack = (v: number) => v * (1 + 1e-9) + 1e-12;
          // orderings
          if (L.upperBound !== null) {
            assert.ok(L.empirical <= slack(L.upperBound), `empirical ${L.empirical} > upper ${L.upperBound}`);
            assert.ok((L.attack ?? 0) <= slack(L.upperBound), `attack ${L.attack} > upper ${L.upperBound}`);
            assert.ok(L.local! <= slack(L.upperBound), 'local <= global');
            assert.ok(L.domain! <= slack(L.upperBound), 'domain <= global');
          } else assert.equal(kind, 'iclstm', `${kind}: no global bound (${L.upperBoundReason})`);
          assert.ok(L.local !== null && Number.isFinite(L.local), 'a local bound always exists');
          assert.ok((L.details.local!.attack ?? 0) <= slack(L.local!), `local attack ${L.details.local!.attack} > local ${L.local}`);
          // random pairs: wide, near (derivative-like) and inside the boxes
          const wide = () => new Float64Array(d).map(() => rng.uniformIn(-4, 5));
          const near = (x: Float64Array, s: number) => x.map((v) => v + s * rng.normal());
          if (L.upperBound !== null) {
            const g = maxRatio(model, steps, rng, 150, () => {
              const a = wide();
              return [a, rng.uniform() < 0.5 ? wide() : near(a, 10 ** rng.uniformIn(-5, 0))];
            });
            assert.ok(g <= slack(L.upperBound), `global: ratio ${g} > upperBound ${L.upperBound}`);
          }
          const inBox = (c: Float64Array, rad: number) => c.map((v) => v + rad * rng.uniformIn(-1, 1));
          const loc = maxRatio(model, steps, rng, 150, () => {
            const a = inBox(center, radius);
            return [a, rng.uniform() < 0.5 ? inBox(center, radius) : near(a, radius * 1e-3).map((v, p) => Math.min(center[p] + radius, Math.max(center[p] - radius, v)))];
          });
          assert.ok(loc <= slack(L.local!), `local: ratio ${loc} > local bound ${L.local}`);
          const half = new Float64Array(d).fill(0.5);
          const dom = maxRatio(model, steps, rng, 100, () => [inBox(half, 0.5), inBox(half, 0.5)]);
          assert.ok(dom <= slack(L.domain!), `domain: ratio ${dom} > domain bound ${L.domain}`);
        },
      ),
      { numRuns: kind === 'lstm' || kind === 'iclstm' ? 8 : 12 },
    );
  });
}

/** Exact global Lipschitz constant of a 1-input, 1-output, one-step ICLRNN with one layer: kinks enumerated. */
function exactIclrnn1d(model: SequenceModel): number {
  const cell = model.cells[0], head = model.head[0];
  const u = cell.units;
  const K = cell.params[0].value, b = cell.params[2].value; // kernel [2 x u] on [x, 1 - x], bias
  const slope = Array.from({ length: u }, (_, j) => K[j] - K[u + j]);
  const icpt = Array.from({ length: u }, (_, j) => K[u + j] + b[j]);
  const W = head.kernel.value, c = head.bias.value[0];
  const kinks: number[] = [];
  for (let j = 0; j < u; j++) if (slope[j] !== 0) kinks.push(-icpt[j] / slope[j]);
  kinks.sort((a, z) => a - z);
  const edges = [-1e6, ...kinks, 1e6];
  const pts: number[] = [...kinks];
  for (let k = 0; k + 1 < edges.length; k++) {
    const mid = 0.5 * (edges[k] + edges[k + 1]);
    // head pre-activation is affine on this interval
    let gs = 0, g0 = c;
    for (let j = 0; j < u; j++) if (slope[j] * mid + icpt[j] > 0) {
      gs += W[j] * slope[j];
      g0 += W[j] * icpt[j];
    }
    if (gs !== 0) {
      const x = -g0 / gs;
      if (x > edges[k] && x < edges[k + 1]) pts.push(x);
    }
  }
  pts.sort((a, z) => a - z);
  const all = [-1e6, ...pts, 1e6];
  let best = 0;
  for (let k = 0; k + 1 < all.length; k++) {
    const a = all[k], z = all[k + 1];
    if (!(z > a)) continue;
    const x1 = a + 0.25 * (z - a), x2 = a + 0.75 * (z - a);
    const y = model.forward(Float64Array.from([x1, x2]), 2, 1);
    best = Math.max(best, Math.abs(y[1] - y[0]) / (x2 - x1));
  }
  return best;
}

/** Exact constant of y = W^T relu(K^T x + b) + c with x in R^2 (line arrangement: every cell sampled). */
function exactReluNet2d(model: SequenceModel): number {
  const cell = model.cells[0], head = model.head[0];
  const u = cell.units;
  const K = cell.params[0].value, b = cell.params[2].value, W = head.kernel.value, m = head.units;
  const lines = Array.from({ length: u }, (_, j) => ({ a: K[j], c: K[u + j], b: b[j] })); // a x0 + c x1 + b = 0
  const pts: [number, number][] = [[0, 0]];
  for (let k = 0; k < 256; k++) pts.push([1e7 * Math.cos((2 * Math.PI * (k + 0.5)) / 256), 1e7 * Math.sin((2 * Math.PI * (k + 0.5)) / 256)]);
  for (let i = 0; i < u; i++)
    for (let j = i + 1; j < u; j++) {
      const L1 = lines[i], L2 = lines[j];
      const det = L1.a * L2.c - L2.a * L1.c;
      if (Math.abs(det) < 1e-12) continue;
      const x0 = (-L1.b * L2.c + L2.b * L1.c) / det, x1 = (-L1.a * L2.b + L2.a * L1.b) / det;
      for (let k = 0; k < 16; k++) pts.push([x0 + 1e-6 * Math.cos((2 * Math.PI * (k + 0.5)) / 16), x1 + 1e-6 * Math.sin((2 * Math.PI * (k + 0.5)) / 16)]);
    }
  let best = 0;
  for (const [x0, x1] of pts) {
    // J = W^T D K^T (m x 2)
    const J = new Float64Array(m * 2);
    for (let j = 0; j < u; j++) {
      if (!(lines[j].a * x0 + lines[j].c * x1 + lines[j].b > 0)) continue;
      for (let o = 0; o < m; o++) {
        J[o * 2] += W[j * m + o] * lines[j].a;
        J[o * 2 + 1] += W[j * m + o] * lines[j].c;
      }
    }
    // largest singular value of an m x 2 matrix: sqrt of the top eigenvalue of the 2 x 2 Gram
    let g00 = 0, g01 = 0, g11 = 0;
    for (let o = 0; o < m; o++) {
      g00 += J[o * 2] ** 2;
      g01 += J[o * 2] * J[o * 2 + 1];
      g11 += J[o * 2 + 1] ** 2;
    }
    const tr = g00 + g11, det = g00 * g11 - g01 * g01;
    best = Math.max(best, Math.sqrt(0.5 * tr + Math.sqrt(Math.max(0, 0.25 * tr * tr - det))));
  }
  return best;
}

test('tiny models with brute-forced exact constants: attack <= exact <= certified bounds (gap reported)', (t) => {
  const gaps: string[] = [];
  for (let seed = 0; seed < 12; seed++) {
    const units = 2 + (seed % 3);
    // (a) one-step ICLRNN on a scalar input: kinks enumerated
    const ic = randomModel('iclrnn', seed, { hidden: units, layers: 1, inputSize: 1, outputSize: 1 });
    const exactA = exactIclrnn1d(ic);
    const rA = certify(ic, { steps: 1, seed, attack: { starts: 16, iterations: 60 }, jensen: false, sampleCount: 50, domainBound: false });
    assert.ok(rA.lipschitz.attack! <= exactA * (1 + 1e-6) + 1e-12, `attack ${rA.lipschitz.attack} > exact ${exactA}`);
    assert.ok(exactA <= rA.lipschitz.upperBound! * (1 + 1e-9), `exact ${exactA} > upper ${rA.lipschitz.upperBound}`);
    gaps.push(`iclrnn 1x${units}: exact ${exactA.toPrecision(5)} upper/exact ${(rA.lipschitz.upperBound! / Math.max(exactA, 1e-300)).toFixed(4)} attack/exact ${(rA.lipschitz.attack! / Math.max(exactA, 1e-300)).toFixed(4)}`);
    // (b) one-step ReLU net with mixed signs on a 2-D input: every cell of the line arrangement
    const relu = new SequenceModel({
      kind: 'custom', inputSize: 2, augmentation: null,
      cells: [{ type: 'simple', inputSize: 2, units, activation: 'relu' }],
      head: [{ inputSize: units, units: 2, activation: 'linear' }],
    });
    const rng = new Rng(seed + 5);
    for (const p of relu.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal();
    const exactB = exactReluNet2d(relu);
    const rB = certify(relu, { steps: 1, seed, attack: { starts: 16, iterations: 60 }, jensen: false, sampleCount: 50, domainBound: false });
    assert.ok(rB.lipschitz.attack! <= exactB * (1 + 1e-6) + 1e-12, `attack ${rB.lipschitz.attack} > exact ${exactB}`);
    assert.ok(exactB <= rB.lipschitz.upperBound! * (1 + 1e-9), `exact ${exactB} > upper ${rB.lipschitz.upperBound}`);
    gaps.push(`relu 1x${units} (mixed signs, 2-D): exact ${exactB.toPrecision(5)} upper/exact ${(rB.lipschitz.upperBound! / exactB).toFixed(4)} attack/exact ${(rB.lipschitz.attack! / exactB).toFixed(4)}`);
  }
  t.diagnostic(gaps.join('\n'));
});

test('the LFR certificate is exact on a scalar ReLU recurrence and never below an attack', () => {
  // h_t = relu(k x_t + r h_{t-1}), y_t = w h_t: with k, r, w > 0 the worst case is all active
  const m = new SequenceModel({
    kind: 'custom', inputSize: 1, augmentation: null,
    cells: [{ type: 'simple', inputSize: 1, units: 1, activation: 'relu' }],
    head: [{ inputSize: 1, units: 1, activation: 'linear' }],
  });
  m.cells[0].params[0].value[0] = 0.7;
  m.cells[0].params[1].value[0] = 0.9;
  m.head[0].kernel.value[0] = 1.3;
  const T = 4;
  // exact: norm of the lower-triangular Toeplitz matrix w k r^(t - s)
  const A = new Float64Array(T * T);
  for (let t = 0; t < T; t++) for (let s = 0; s <= t; s++) A[t * T + s] = 1.3 * 0.7 * 0.9 ** (t - s);
  let v = new Float64Array(T).fill(1);
  let sigma = 0;
  for (let it = 0; it < 500; it++) {
    const w = new Float64Array(T), z = new Float64Array(T);
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) w[i] += A[i * T + j] * v[j];
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) z[j] += A[i * T + j] * w[i];
    const nz = Math.hypot(...z);
    sigma = Math.sqrt(nz / Math.hypot(...v));
    v = z.map((x) => x / nz);
  }
  const prop = propagateModel(m, T, boxAround(new Float64Array(T), Infinity));
  const b = lfrBound(m, prop, { lo: 0.5 * sigma, hi: 10 * sigma, tolerance: 1e-4 });
  assert.ok(b.value !== null && b.value >= sigma * (1 - 1e-9), `lfr ${b.value} < exact ${sigma}`);
  assert.ok(b.value! <= sigma * 1.001, `lfr ${b.value} not tight vs ${sigma}`);
  const a = lipschitzAttack(m, { steps: T, starts: 8, iterations: 40 });
  assert.ok(a.value <= sigma * (1 + 1e-6));
  assert.ok(a.value >= 0.99 * sigma, `attack ${a.value} far below ${sigma}`);
});

test('report: norm and space are stated; steps default from metadata; ICLSTM global is null with a reason', () => {
  const m = buildModel('iclrnn', { inputSize: 2, outputSize: 1, hidden: 3, layers: 1, seed: 1 });
  const r = certify(m, { attack: { starts: 2, iterations: 5 }, jensen: false, sampleCount: 20 }, { system: 'energy' });
  assert.equal(r.steps, 5);
  assert.match(r.norm, /l2 over the whole sequence/);
  assert.match(r.space, /scaled, un-augmented input sequence/);
  const ic = buildModel('iclstm', { inputSize: 2, outputSize: 1, hidden: 3, layers: 1, seed: 1 });
  const q = certify(ic, { steps: 3, attack: { starts: 2, iterations: 5 }, jensen: false, sampleCount: 20 });
  assert.equal(q.lipschitz.upperBound, null);
  assert.match(q.lipschitz.upperBoundReason ?? '', /not globally Lipschitz/);
  assert.ok(q.lipschitz.domain !== null && Number.isFinite(q.lipschitz.domain));
  assert.throws(() => certify(m, { steps: 0 }), ValidationError);
  assert.throws(() => certify(m, { steps: 2, local: { center: new Float64Array(3), radius: 0.1 } }), ValidationError);
});

test('local bounds shrink to the Jacobian norm at the centre as the radius goes to 0 (every kind)', () => {
  for (const kind of ENCLOSURE_KINDS) {
    const model = randomModel(kind, 21, { hidden: 4, layers: 2, inputSize: 2, outputSize: 2 });
    const steps = 3, d = 6;
    const rng = new Rng(8);
    const center = new Float64Array(d).map(() => rng.uniformIn(0.2, 0.8));
    // ||J(centre)||: the enclosure of a zero-radius box is the exact Jacobian
    const J = propagateModel(model, steps, boxAround(center, 0)).jacobian;
    const jn = certifiedNorm(J.C, steps * 2, d).estimate;
    let prev = Infinity;
    for (const radius of [1e-2, 1e-3, 1e-5]) {
      const r = certify(model, { steps, attack: false, jensen: false, sampleCount: 10, domainBound: false, local: { center, radius } });
      const loc = r.lipschitz.local!;
      assert.ok(loc >= jn * (1 - 1e-9), `${kind} r=${radius}: local ${loc} < ||J|| ${jn}`);
      assert.ok(loc <= prev * (1 + 1e-6), `${kind}: local bound grew as the box shrank (${prev} -> ${loc})`);
      prev = loc;
    }
    assert.ok(prev <= jn * 1.01 + 1e-9, `${kind}: local bound ${prev} at r=1e-5 vs ||J|| ${jn}`);
  }
});
