// Interval bound interpreter: soundness on random programs (sampled points and a projected
// gradient attack never leave the bounds), on every model family (the multi-block ICLSTM included),
// and agreement with src/certify/propagate.ts on the global box, where both are plain IBP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { intervalBounds, sequenceBox } from '../../src/interp/bounds.ts';
import { boxAround, propagateModel } from '../../src/certify/propagate.ts';
import { buildModel, MODEL_KINDS, isInputConvexKind, type BuiltinModelKind } from '../../src/nn/models.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';
import { attack, checkInside, randomModel, randomProgramCase, stackOfModel } from './programs.ts';

test('interval bounds contain every node of random programs at sampled inputs and at attacked inputs (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 1, max: 4 }), fc.double({ min: 0, max: 2, noNaN: true }), (seed, steps, radius) => {
      const { rng, stack, program, d, box } = randomProgramCase(seed, steps, radius);
      const bounds = intervalBounds(stack, steps, box);
      for (let s = 0; s < 8; s++) {
        const x = Float64Array.from({ length: d }, (_, p) => (s === 0 ? box.lo[p] : s === 1 ? box.hi[p] : Math.min(box.hi[p], box.lo[p] + (box.hi[p] - box.lo[p]) * rng.uniform())));
        checkInside(stack, bounds, x, steps);
      }
      const m = program.outputSize, t = rng.int(steps), j = rng.int(m);
      for (const dir of [1, -1]) {
        const a = attack(stack, box.lo, box.hi, steps, t, j, dir, rng);
        checkInside(stack, bounds, a.x, steps);
      }
    }),
    { numRuns: 150 },
  );
});

for (const kind of [...MODEL_KINDS, 'iclstm-blocks'] as const) {
  test(`interval bounds (${kind}): sampled and attacked sequences stay inside; global bounds equal propagate.ts`, () => {
    const m = kind === 'iclstm-blocks' ? randomModel('iclstm', 2, 'blocks') : randomModel(kind, 2);
    const stack = stackOfModel(m), steps = 4, n = m.inputSize, rng = new Rng(4);
    const center = Float64Array.from({ length: steps * n }, () => rng.uniform());
    const box = sequenceBox(center, 0.3);
    const bounds = intervalBounds(stack, steps, box);
    for (let s = 0; s < 10; s++) checkInside(stack, bounds, Float64Array.from(center, (c, p) => Math.min(box.hi[p], Math.max(box.lo[p], c - 0.3 + 0.6 * rng.uniform()))), steps);
    const a = attack(stack, box.lo, box.hi, steps, steps - 1, 0, 1, rng);
    checkInside(stack, bounds, a.x, steps);
    // over R^d propagate.ts runs plain IBP (no linear forms, no zonotopes): the same bounds, up to rounding widening
    const g = intervalBounds(stack, steps, sequenceBox(center, Infinity));
    const ref = propagateModel(m, steps, boxAround(center, Infinity));
    for (let i = 0; i < g.outputs.l.length; i++) {
      for (const [mine, theirs] of [[g.outputs.l[i], ref.outputs.l[i]], [g.outputs.u[i], ref.outputs.u[i]]]) {
        if (!Number.isFinite(theirs)) assert.equal(mine, theirs);
        else assert.ok(Math.abs(mine - theirs) <= 1e-9 * (1 + Math.abs(theirs)), `${kind} output ${i}: ${mine} vs propagate ${theirs}`);
      }
    }
  });
}

test('interval bounds: a zero-radius box gives (nearly) the point value; bad boxes are rejected', () => {
  const m = randomModel('lstm', 5);
  const stack = stackOfModel(m), steps = 3, rng = new Rng(1);
  const x = Float64Array.from({ length: steps * m.inputSize }, () => rng.uniform());
  const b = intervalBounds(stack, steps, sequenceBox(x, 0));
  const y = m.forwardTimeMajor(x, 1, steps);
  for (let i = 0; i < y.length; i++) assert.ok(b.outputs.u[i] - b.outputs.l[i] < 1e-12 && b.outputs.l[i] <= y[i] && y[i] <= b.outputs.u[i]);
  assert.throws(() => intervalBounds(stack, steps, sequenceBox(x.subarray(1), 0)), /coordinates/);
  assert.throws(() => intervalBounds(stack, steps, { lo: Float64Array.from(x, (v) => v + 1), hi: x }), /lo/);
});
