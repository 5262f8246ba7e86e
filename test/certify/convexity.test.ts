// Convexity: the structural certificate and the numerical Jensen check agree; a single flipped
// weight sign is detected and named; trained RNN / LSTM violate Jensen, IC models do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { structuralConvexity } from '../../src/certify/convexity.ts';
import { jensenCheck } from '../../src/certify/empirical.ts';
import { buildModel, MODEL_KINDS, isInputConvexKind, type BuiltinModelKind } from '../../src/nn/models.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';
import { generateCstrDataset } from '../../src/systems/cstr.ts';
import { fitModel } from '../../src/train/pipeline.ts';

/** A small model with random weights that satisfy its family's constraints. */
function randomModel(kind: BuiltinModelKind, seed: number, o: { hidden?: number; layers?: number; inputSize?: number; outputSize?: number } = {}): SequenceModel {
  const m = buildModel(kind, { inputSize: o.inputSize ?? 2, outputSize: o.outputSize ?? 2, hidden: o.hidden ?? 3, layers: o.layers ?? 2, seed });
  const rng = new Rng(seed + 17);
  const convex = isInputConvexKind(kind);
  for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = convex && p.name !== 'bias' ? 0.7 * Math.abs(rng.normal()) : 0.8 * rng.normal();
  m.applyConstraints();
  return m;
}

test('structural certificate of every family (default builders)', () => {
  const expect: Record<BuiltinModelKind, boolean> = { rnn: false, lstm: false, lrnn: false, icrnn: true, iclstm: false, iclrnn: true, gru: false };
  for (const kind of MODEL_KINDS) {
    const s = structuralConvexity(buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 5, layers: 2, seed: 1 }), 10);
    assert.equal(s.convex, expect[kind], `${kind}: ${JSON.stringify(s.reasons)}`);
    assert.equal(s.outputs.length, 2);
    if (kind === 'rnn' || kind === 'lrnn') assert.ok(s.reasons.some((r) => r.kind === 'activation' && r.activation === 'tanh'), kind);
    if (kind === 'lstm') assert.ok(s.reasons.some((r) => r.kind === 'activation' && r.activation === 'sigmoid'));
    if (kind === 'iclstm') assert.ok(s.reasons.some((r) => r.kind === 'product'), 'ICLSTM: the gate products are named');
    assert.equal(s.augmentation, isInputConvexKind(kind));
  }
  // ICLSTM is provably convex for one step (every gate is a function of one scalar), not beyond
  const ic = buildModel('iclstm', { inputSize: 2, outputSize: 1, hidden: 3, layers: 2, seed: 1 });
  assert.equal(structuralConvexity(ic, 1).convex, true);
  assert.equal(structuralConvexity(ic, 2).convex, false);
});

test('a single flipped weight sign is detected and named (layer, parameter, index)', () => {
  const cases: [BuiltinModelKind, string, number, number][] = [
    ['iclrnn', 'cells.0.recurrentKernel', 1, 2],
    ['iclrnn', 'cells.1.kernel', 2, 0],
    ['iclrnn', 'head.0.kernel', 1, 1],
    ['icrnn', 'cells.0.V', 0, 1],
    ['icrnn', 'cells.1.D2', 2, 1],
    ['iclstm', 'head.1.kernel', 3, 0],
  ];
  for (const [kind, path, i, j] of cases) {
    const m = randomModel(kind, 3);
    const p = m.namedParameters().find((q) => q.path === path)!.param;
    assert.ok(structuralConvexity(m, kind === 'iclstm' ? 1 : 4).convex, `${kind} before the flip`);
    p.value[i * p.cols + j] = -0.5;
    const s = structuralConvexity(m, kind === 'iclstm' ? 1 : 4);
    assert.equal(s.convex, false, `${kind} ${path}`);
    const r = s.reasons.find((x) => x.kind === 'negative-weight' && x.parameter === path);
    assert.ok(r && r.kind === 'negative-weight', `${path} named in ${JSON.stringify(s.reasons)}`);
    assert.deepEqual(r.index, [i, j]);
    assert.equal(r.value, -0.5);
    assert.equal(r.count, 1);
  }
  // a negative first-layer input weight multiplies an affine function of x: still convex, and
  // the numerical check agrees
  const m = randomModel('iclrnn', 4, { layers: 1 });
  m.cells[0].params[0].value[0] = -1;
  assert.equal(structuralConvexity(m, 3).convex, true);
  assert.equal(jensenCheck(m, { steps: 3, segments: 500, low: -2, high: 3 }).convex, true);
});

test('structural certificate and Jensen check agree on random models (property)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...MODEL_KINDS), fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), (kind, seed, steps, flip) => {
      const m = randomModel(kind, seed, { layers: 1 + (seed % 2) });
      if (flip) {
        // flip one weight of a constrained matrix (not the first-layer input kernel)
        const cand = m.namedParameters().filter((q) => q.param.constraint && q.path !== 'cells.0.kernel' && !q.path.endsWith('Scale'));
        if (cand.length) {
          const q = cand[seed % cand.length].param;
          q.value[seed % q.value.length] = -3;
        }
      }
      const s = structuralConvexity(m, steps);
      const j = jensenCheck(m, { steps, segments: 300, seed, low: -2, high: 3 });
      // soundness: a proof is never contradicted by the numbers
      if (s.convex) assert.ok(j.convex, `${kind}: structural proof but Jensen violation ${j.worstViolation}`);
      // a numerical violation always comes with a reason
      if (!j.convex) assert.ok(!s.convex && s.reasons.length > 0);
    }),
    { numRuns: 60 },
  );
});

test('a large flipped head weight gives a measurable Jensen violation, and it is named', () => {
  // y = relu(3 - 5 relu(x_0 - 0.5)): concave kink at x_0 = 0.5
  const m = randomModel('iclrnn', 5, { layers: 1 });
  for (const p of m.parameters()) p.value.fill(0);
  m.cells[0].params[0].value[0] = 1; // kernel[0][0] on x_0
  (m.cells[0] as unknown as { bias: { value: Float64Array } }).bias.value[0] = -0.5;
  m.head[0].kernel.value[0] = -5;
  m.head[0].bias.value[0] = 3;
  const s = structuralConvexity(m, 2);
  const j = jensenCheck(m, { steps: 2, segments: 2000, low: -2, high: 3 });
  assert.equal(s.convex, false);
  assert.ok(s.reasons.some((r) => r.kind === 'negative-weight' && r.parameter === 'head.0.kernel'));
  assert.equal(j.convex, false, `worst ${j.worstViolation}`);
  assert.equal(j.worstOutput?.feature, 0);
});

test('ICLSTM over two steps: the gate products break convexity numerically too', () => {
  let violated = 0;
  for (let seed = 0; seed < 6; seed++) {
    const m = buildModel('iclstm', { inputSize: 1, outputSize: 1, hidden: 2, layers: 1, seed });
    const rng = new Rng(seed);
    for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = p.name === 'bias' ? rng.normal() : 2 * Math.abs(rng.normal());
    assert.equal(structuralConvexity(m, 2).convex, false);
    if (!jensenCheck(m, { steps: 2, segments: 2000, seed, low: -2, high: 2 }).convex) violated++;
  }
  assert.ok(violated >= 1, 'at least one ICLSTM violates Jensen');
});

test('trained RNN and LSTM violate Jensen; trained IC models do not (beyond float tolerance)', () => {
  const data = generateCstrDataset();
  for (const kind of ['rnn', 'lstm', 'iclrnn', 'icrnn'] as const) {
    const r = fitModel(data, { kind, hidden: 8, layers: 1, epochs: 2, learningRate: 3e-3, seed: 1 });
    const j = jensenCheck(r.model, { steps: 10, segments: 1500 });
    const s = structuralConvexity(r.model, 10);
    if (kind === 'rnn' || kind === 'lstm') {
      assert.equal(j.convex, false, `${kind}: no violation found (worst ${j.worstViolation})`);
      assert.equal(s.convex, false);
    } else {
      assert.equal(j.convex, true, `${kind}: violation ${j.worstViolation}`);
      assert.equal(s.convex, true);
    }
  }
});
