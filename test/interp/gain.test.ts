// Norm-product gain interpreter: never looser than src/certify/product.ts on the families it
// covers, finite where product.ts gives up (residual heads, ICLSTM over a box, the GRU), and never
// beaten by an attack (pair ratios and Jacobian norms at random and hill-climbed points).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { gainBound } from '../../src/interp/gain.ts';
import { sequenceJacobian } from '../../src/interp/forward.ts';
import { sequenceBox, type SequenceBox } from '../../src/interp/bounds.ts';
import type { ProgramStack } from '../../src/interp/bind.ts';
import { productBound } from '../../src/certify/product.ts';
import { type BuiltinModelKind } from '../../src/nn/models.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { programOf } from '../../src/graph/registry.ts';
import { Rng } from '../../src/core/rng.ts';
import { denseProgram, randomParams, randomProgram, stackOfModel, randomModel as randomFamilyModel } from './programs.ts';

const randomModel = (kind: BuiltinModelKind, seed: number, form?: 'blocks'): SequenceModel => randomFamilyModel(kind, seed, form, { seedOffset: 5 });

/** Largest singular value by power iteration (a lower estimate, fine for an attack). */
function spectral(J: Float64Array, rows: number, cols: number): number {
  let v = new Float64Array(cols).fill(1 / Math.sqrt(cols)), s = 0;
  for (let it = 0; it < 100; it++) {
    const u = new Float64Array(rows);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) u[i] += J[i * cols + j] * v[j];
    const w = new Float64Array(cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[j] += J[i * cols + j] * u[i];
    const nw = Math.hypot(...w);
    if (nw === 0) return 0;
    s = Math.sqrt(nw);
    v = w.map((x) => x / nw);
  }
  return s;
}

/** The largest Lipschitz evidence found: pair ratios and Jacobian norms at random points, then hill climbing on ||J||. */
function attack(stack: ProgramStack, box: SequenceBox, steps: number, rng: Rng, tries = 20): number {
  const d = box.lo.length, m = stack.layers[stack.layers.length - 1].program.outputSize;
  const sample = () => Float64Array.from({ length: d }, (_, p) => Math.min(box.hi[p], box.lo[p] + (box.hi[p] - box.lo[p]) * rng.uniform()));
  let best = 0;
  const jnorm = (x: Float64Array) => spectral(sequenceJacobian(stack, x, steps).J, steps * m, d);
  for (let s = 0; s < tries; s++) {
    const x = sample(), y = sample();
    const fx = sequenceJacobian(stack, x, steps).y, fy = sequenceJacobian(stack, y, steps).y;
    const num = Math.hypot(...fx.map((v, i) => v - fy[i])), den = Math.hypot(...x.map((v, i) => v - y[i]));
    if (den > 0) best = Math.max(best, num / den);
    let cur = x, cv = jnorm(x);
    for (let it = 0; it < 10; it++) {
      const cand = Float64Array.from(cur, (v, p) => Math.min(box.hi[p], Math.max(box.lo[p], v + 0.2 * (box.hi[p] - box.lo[p]) * (rng.uniform() - 0.5))));
      const c = jnorm(cand);
      if (c > cv) {
        cur = cand;
        cv = c;
      }
    }
    best = Math.max(best, cv);
  }
  return best;
}

for (const kind of ['rnn', 'lstm', 'lrnn', 'icrnn', 'iclrnn'] as const) {
  test(`gain (${kind}): certify's product component is this global bound, and it is above every attack`, () => {
    for (const seed of [1, 2]) {
      const m = randomModel(kind, seed), steps = 5, d = steps * m.inputSize;
      const stack = stackOfModel(m);
      const mine = gainBound(stack, steps);
      // certify's product component is this bound (certify/product.ts), stated per parameter
      const ref = productBound(m, steps);
      assert.ok(mine.value !== null && ref.value === mine.value, `${kind}: ${mine.reason} / ${ref.reason}`);
      const box = sequenceBox(Float64Array.from({ length: d }, () => 0.5), 2);
      const found = attack(stack, box, steps, new Rng(seed));
      assert.ok(found <= mine.value, `${kind}: attack found ${found} > bound ${mine.value}`);
    }
  });
}

test('gain: the stacked ICLSTM is unbounded globally (named product), finite over a box and above the attack', () => {
  for (const form of [undefined, 'blocks'] as const) {
    const m = randomModel('iclstm', 3, form), steps = 3, d = steps * m.inputSize;
    const stack = stackOfModel(m);
    const g = gainBound(stack, steps);
    assert.equal(g.value, null);
    assert.match(g.reason!, /product node/);
    const box = sequenceBox(Float64Array.from({ length: d }, () => 0.5), 0.5);
    const local = gainBound(stack, steps, { box });
    assert.ok(local.value !== null && Number.isFinite(local.value), local.reason ?? '');
    const found = attack(stack, box, steps, new Rng(4));
    assert.ok(found <= local.value, `${form ?? 'stacked'}: attack ${found} > bound ${local.value}`);
  }
});

test('gain: the GRU gets a finite certified bound above the attack', () => {
  const rng = new Rng(9);
  const gru = programOf({ type: 'gru', inputSize: 2, units: 4 }), head = denseProgram(4, 2, 'linear');
  const stack: ProgramStack = { inputSize: 2, augmentation: null, layers: [{ program: gru, params: randomParams(gru, rng, 0.8) }, { program: head, params: randomParams(head, rng) }] };
  const steps = 4, g = gainBound(stack, steps);
  assert.ok(g.value !== null && Number.isFinite(g.value), g.reason ?? '');
  const found = attack(stack, sequenceBox(new Float64Array(steps * 2), 3), steps, rng);
  assert.ok(found > 0 && found <= g.value, `attack ${found} vs bound ${g.value}`);
});

test('gain: random programs over random boxes are never beaten by the attack (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 1, max: 3 }), fc.double({ min: 0.05, max: 1.5, noNaN: true }), (seed, steps, radius) => {
      const rng = new Rng(seed);
      const { program, params } = randomProgram(rng);
      const stack: ProgramStack = { inputSize: program.inputSize, augmentation: null, layers: [{ program, params }] };
      const d = steps * program.inputSize;
      const box = sequenceBox(Float64Array.from({ length: d }, () => 2 * rng.uniform() - 1), radius);
      const g = gainBound(stack, steps, { box });
      if (g.value === null) return;
      const found = attack(stack, box, steps, rng, 4);
      assert.ok(found <= g.value, `attack ${found} > bound ${g.value}`);
    }),
    { numRuns: 60 },
  );
});
