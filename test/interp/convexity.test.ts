// Curvature / monotonicity interpreter: the expected verdict on every family (the GRU, RNN, LSTM,
// LRNN not proven; ICLSTM beyond one step not proven), flipped weight signs named by node and index, and soundness: whatever it
// proves convex passes a random midpoint-convexity check, whatever it proves monotone is monotone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { convexityOf, Curv } from '../../src/interp/convexity.ts';
import { ForwardEngine } from '../../src/interp/forward.ts';
import type { ProgramStack } from '../../src/interp/bind.ts';
import { structuralConvexity } from '../../src/certify/convexity.ts';
import { buildModel, MODEL_KINDS, isInputConvexKind, type BuiltinModelKind } from '../../src/nn/models.ts';
import { programOf } from '../../src/graph/registry.ts';
import { Rng } from '../../src/core/rng.ts';
import { denseProgram, randomParams, randomProgram, stackOfModel } from './programs.ts';

function evaluate(stack: ProgramStack, x: Float64Array, steps: number): Float64Array {
  const e = new ForwardEngine(stack, 0), m = e.outputSize, out = new Float64Array(steps * m);
  e.sequence(x, null, 0, steps, out);
  return out;
}

/** The verdict each family must get (default builder, or random weights within its constraints). */
const expected = (kind: BuiltinModelKind, steps: number) =>
  kind === 'iclrnn' || kind === 'icrnn' || (kind === 'iclstm' && steps === 1); // ICLSTM: gate products beyond one step

for (const kind of MODEL_KINDS) {
  test(`convexity (${kind}): the expected verdict (default builder and random weights, 1 and 3 steps), and certify's structural certificate is this verdict`, () => {
    for (const seed of [0, 1, 2]) {
      const m = buildModel(kind, { inputSize: 2, outputSize: 2, hidden: 4, layers: 2, seed });
      if (seed > 0) {
        const rng = new Rng(seed);
        const convex = isInputConvexKind(kind);
        for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = convex && p.name !== 'bias' ? 0.5 * rng.uniform() : 0.6 * rng.normal();
      }
      for (const steps of [1, 3]) {
        const mine = convexityOf(stackOfModel(m), steps), ref = structuralConvexity(m, steps);
        assert.equal(mine.convex, expected(kind, steps), `${kind} seed ${seed} steps ${steps}: ${mine.convex}; ${JSON.stringify(mine.issues.slice(0, 2))}`);
        assert.equal(mine.convex, mine.outputs.every(Boolean));
        assert.equal(ref.convex, mine.convex);
        assert.deepEqual(ref.outputs, mine.outputs);
        if (!mine.convex) assert.ok(mine.issues.length > 0 && ref.reasons.length > 0);
        // with roles only (no measured signs) the input-convex families are proven too
        if (isInputConvexKind(kind) && mine.convex) assert.ok(convexityOf(stackOfModel(m), steps, { basis: 'roles' }).convex, `${kind}: roles basis`);
      }
    }
  });
}

test('convexity: the GRU is not proven convex (sigmoid gates, products); the reason names the node', () => {
  const rng = new Rng(3);
  const gru = programOf({ type: 'gru', inputSize: 2, units: 3 }), head = denseProgram(3, 1, 'linear');
  const stack: ProgramStack = { inputSize: 2, augmentation: null, layers: [{ program: gru, params: randomParams(gru, rng) }, { program: head, params: randomParams(head, rng) }] };
  const r = convexityOf(stack, 2);
  assert.equal(r.convex, false);
  assert.ok(r.issues.some((i) => i.kind === 'activation' && gru.nodes[i.node].op === 'act'));
});

test('convexity: a flipped weight sign is found, named by matrix and index; an affine argument tolerates it', () => {
  const m = buildModel('icrnn', { inputSize: 2, outputSize: 2, hidden: 3, layers: 1, seed: 4 });
  assert.ok(convexityOf(stackOfModel(m), 3).convex);
  const V = m.cells[0].params.find((p) => p.name === 'V')!;
  V.value[1 * 3 + 2] = -0.5;
  const r = convexityOf(stackOfModel(m), 3);
  assert.equal(r.convex, false);
  const s = r.issues.find((i) => i.kind === 'sign');
  assert.ok(s && s.matrix === 'V' && s.index![0] === 1 && s.index![1] === 2 && s.value === -0.5, JSON.stringify(r.issues));
  // a negative first-layer input weight multiplies an affine function of x: still convex
  const m2 = buildModel('iclrnn', { inputSize: 2, outputSize: 2, hidden: 3, layers: 1, seed: 4 });
  m2.cells[0].params.find((p) => p.name === 'kernel')!.value[0] = -0.5;
  assert.ok(convexityOf(stackOfModel(m2), 3).convex);
});

test('convexity: a box where every ReLU is on makes the ICRNN affine; monotonicity of the augmented input is mixed', () => {
  const m = buildModel('icrnn', { inputSize: 2, outputSize: 1, hidden: 3, layers: 1, seed: 2 });
  for (const p of m.parameters()) p.value.fill(0.3);
  const steps = 2, d = 4;
  const r = convexityOf(stackOfModel(m), steps, { box: { lo: new Float64Array(d).fill(0.1), hi: new Float64Array(d).fill(0.2) } });
  // all weights 0.3 > 0, offsets 1: [x, 1 - x] >= 0.8 > 0 so every pre-activation is positive
  for (const c of r.outputClasses) assert.equal(c, Curv.Affine);
  // x and 1 - x enter with equal weights: the output is constant in x (0 everywhere in mono)... as an affine map it is
  // flat, but the interpreter only knows signs: non-decreasing and non-increasing parts give "unknown"
  assert.ok(Array.from(r.monotone).every((v) => v === 2 || v === 0));
});

/** A random stack of a random ReLU program and a linear head, weights of random sign (some get proven convex). */
function randomReluStack(rng: Rng): ProgramStack {
  const { program, params } = randomProgram(rng, { acts: ['relu'], ops2: ['matmul', 'matmul', 'bias', 'scale', 'affine', 'add', 'mul', 'act', 'act', 'act', 'slice', 'concat'] });
  // bias the signs positive so that a fair share is convex
  for (const v of Object.values(params)) for (let i = 0; i < v.length; i++) if (rng.uniform() < 0.8) v[i] = Math.abs(v[i]);
  return { inputSize: program.inputSize, augmentation: null, layers: [{ program, params }] };
}

test('convexity: proven-convex random programs pass a midpoint check; proven monotonicity holds (fast-check)', () => {
  let proven = 0, monoChecked = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 30 }), fc.integer({ min: 1, max: 3 }), (seed, steps) => {
      const rng = new Rng(seed);
      const stack = randomReluStack(rng);
      const r = convexityOf(stack, steps);
      const n = stack.inputSize, d = steps * n, m = stack.layers[0].program.outputSize;
      const outs: number[] = [];
      for (let t = 0; t < steps; t++) for (let j = 0; j < m; j++) if (r.outputClasses[t * m + j] <= Curv.Convex) outs.push(t * m + j);
      if (outs.length === 0) return;
      proven++;
      for (let s = 0; s < 20; s++) {
        const x = Float64Array.from({ length: d }, () => 4 * rng.uniform() - 2), y = Float64Array.from({ length: d }, () => 4 * rng.uniform() - 2);
        const mid = Float64Array.from(x, (v, p) => 0.5 * v + 0.5 * y[p]);
        const fx = evaluate(stack, x, steps), fy = evaluate(stack, y, steps), fm = evaluate(stack, mid, steps);
        for (const o of outs) {
          const tol = 1e-9 * (1 + Math.abs(fx[o]) + Math.abs(fy[o]));
          assert.ok(fm[o] <= 0.5 * fx[o] + 0.5 * fy[o] + tol, `output ${o}: f(mid) ${fm[o]} > mean ${0.5 * fx[o] + 0.5 * fy[o]}`);
        }
        // monotonicity: moving one coordinate up moves every output as proven
        const p = rng.int(d), up = Float64Array.from(x);
        up[p] += 0.5 + rng.uniform();
        const fu = evaluate(stack, up, steps);
        for (let o = 0; o < steps * m; o++) {
          const s0 = r.monotone[o * d + p], tol = 1e-9 * (1 + Math.abs(fx[o]));
          if (s0 === 1) assert.ok(fu[o] >= fx[o] - tol, `output ${o} proven non-decreasing in ${p}`);
          if (s0 === -1) assert.ok(fu[o] <= fx[o] + tol, `output ${o} proven non-increasing in ${p}`);
          if (s0 === 0) assert.ok(Math.abs(fu[o] - fx[o]) <= tol, `output ${o} proven independent of ${p}`);
          if (s0 !== 2) monoChecked++;
        }
      }
    }),
    { numRuns: 200 },
  );
  assert.ok(proven >= 20, `only ${proven} random programs were proven convex somewhere: the check would be vacuous`);
  assert.ok(monoChecked > 100);
});

test('convexity: the one-step ICLSTM and the multi-block ICLSTM over one step pass the midpoint check', () => {
  const rng = new Rng(7);
  for (const form of ['stacked', 'blocks'] as const) {
    const m = buildModel('iclstm', { inputSize: 2, outputSize: 2, hidden: 3, layers: 2, seed: 1, iclstmForm: form });
    for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = p.name === 'bias' ? 0.3 * rng.normal() : 0.5 * rng.uniform();
    const stack = stackOfModel(m);
    const r = convexityOf(stack, 1);
    assert.equal(r.convex, true, `${form}: ${JSON.stringify(r.issues.slice(0, 2))}`);
    assert.equal(convexityOf(stack, 2).convex, false, `${form}: two steps are not proven (gate products of different scalars)`);
    for (let s = 0; s < 200; s++) {
      const x = Float64Array.from({ length: 2 }, () => 4 * rng.uniform() - 2), y = Float64Array.from({ length: 2 }, () => 4 * rng.uniform() - 2);
      const mid = Float64Array.from(x, (v, p) => 0.5 * v + 0.5 * y[p]);
      const fx = evaluate(stack, x, 1), fy = evaluate(stack, y, 1), fm = evaluate(stack, mid, 1);
      for (let o = 0; o < fx.length; o++) assert.ok(fm[o] <= 0.5 * fx[o] + 0.5 * fy[o] + 1e-9 * (1 + Math.abs(fx[o]) + Math.abs(fy[o])));
    }
  }
});
