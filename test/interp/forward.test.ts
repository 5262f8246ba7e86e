// Forward-mode interpreter: values equal the cells' own forward passes, tangents equal the
// hand-written TangentEngine (1e-10) where it exists and finite differences everywhere (the LRNN and
// the GRU included), for whole sequences and for one step along state directions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForwardEngine, sequenceJacobian } from '../../src/interp/forward.ts';
import type { ProgramStack } from '../../src/interp/bind.ts';
import { TangentEngine } from '../../src/control/predictors.ts';
import { MODEL_KINDS, type BuiltinModelKind } from '../../src/nn/models.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';
import { denseProgram, randomParams, stackOfModel, randomModel as randomFamilyModel } from './programs.ts';
import { programOf } from '../../src/graph/registry.ts';

const randomModel = (kind: BuiltinModelKind, seed: number, form?: 'blocks'): SequenceModel => randomFamilyModel(kind, seed, form, { inputSize: 3, hidden: 5, seedOffset: 1, scale: 0.7 });

function randomSeq(steps: number, n: number, rng: Rng): Float64Array {
  return Float64Array.from({ length: steps * n }, () => rng.uniform());
}

/** Central differences of f: R^d -> R^m; returns m x d. */
function fdJacobian(f: (x: Float64Array) => Float64Array, x: Float64Array, h = 1e-6): Float64Array {
  const d = x.length, m = f(x).length, J = new Float64Array(m * d);
  for (let p = 0; p < d; p++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[p] += h;
    xm[p] -= h;
    const yp = f(xp), ym = f(xm);
    for (let i = 0; i < m; i++) J[i * d + p] = (yp[i] - ym[i]) / (2 * h);
  }
  return J;
}

function maxRelErr(a: Float64Array, b: Float64Array): number {
  let scale = 0, err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(a[i]), Math.abs(b[i]));
    err = Math.max(err, Math.abs(a[i] - b[i]));
  }
  return err / Math.max(scale, 1e-12);
}

for (const kind of MODEL_KINDS) {
  test(`forward mode (${kind}): values equal the model, Jacobian equals finite differences`, () => {
    const m = randomModel(kind, 3);
    const steps = 4, n = m.inputSize, rng = new Rng(5);
    const x = randomSeq(steps, n, rng);
    const stack = stackOfModel(m);
    const { y, J } = sequenceJacobian(stack, x, steps);
    const ref = m.forwardTimeMajor(x, 1, steps);
    // the hand-built programs of test/interp/programs.ts agree with the registry's
    const hand = sequenceJacobian(stackOfModel(m, 'hand'), x, steps);
    assert.ok(maxRelErr(hand.J, J) < 1e-13 && maxRelErr(hand.y, y) < 1e-13);
    assert.ok(maxRelErr(y, ref) < 1e-13, `values differ: ${maxRelErr(y, ref)}`);
    const Jfd = fdJacobian((z) => Float64Array.from(m.forwardTimeMajor(z, 1, steps)), x);
    const err = maxRelErr(J, Jfd);
    assert.ok(err < 1e-6, `${kind}: forward-mode Jacobian vs FD, relative error ${err}`);
    // causality: outputs of step t do not depend on later inputs
    const mo = m.outputSize, d = steps * n;
    for (let t = 0; t < steps; t++) for (let j = 0; j < mo; j++) for (let p = (t + 1) * n; p < d; p++) assert.equal(J[(t * mo + j) * d + p], 0);
  });
}

for (const kind of ['rnn', 'lstm', 'icrnn', 'iclstm', 'iclrnn'] as const) {
  test(`forward mode (${kind}) equals the TangentEngine to 1e-10 on constant rows`, () => {
    const m = randomModel(kind, 9);
    const n = m.inputSize, na = m.augmentedSize, steps = 6, rng = new Rng(2);
    const row = Float64Array.from({ length: n }, () => rng.uniform());
    const k = n;
    const dirs = Float64Array.from({ length: k * n }, () => rng.normal());
    // TangentEngine lanes: augmented rows
    const lanes = new Float64Array((k + 1) * na);
    const off = m.spec.augmentation?.offset;
    for (let l = 0; l <= k; l++)
      for (let i = 0; i < n; i++) {
        const v = l === 0 ? row[i] : dirs[(l - 1) * n + i];
        lanes[l * na + i] = v;
        if (off) lanes[l * na + n + i] = l === 0 ? off[i] - v : -v;
      }
    const te = new TangentEngine(m, k + 1);
    const ref = new Float64Array(steps * (k + 1) * m.outputSize);
    te.run(lanes, k + 1, steps, ref);
    const fe = new ForwardEngine(stackOfModel(m), k);
    const out = new Float64Array(ref.length);
    fe.sequence(row, dirs, k, steps, out, true);
    const err = maxRelErr(out, ref);
    assert.ok(err < 1e-10, `${kind}: ForwardEngine vs TangentEngine, relative error ${err}`);
  });
}

test('forward mode: the published multi-block ICLSTM (dense layers and residual adds between cells)', () => {
  const m = randomModel('iclstm', 4, 'blocks');
  assert.ok(m.interleaved);
  const steps = 3, rng = new Rng(8);
  const x = randomSeq(steps, m.inputSize, rng);
  const { y, J } = sequenceJacobian(stackOfModel(m), x, steps);
  assert.ok(maxRelErr(y, m.forwardTimeMajor(x, 1, steps)) < 1e-13);
  const err = maxRelErr(J, fdJacobian((z) => Float64Array.from(m.forwardTimeMajor(z, 1, steps)), x));
  assert.ok(err < 1e-6, `relative error ${err}`);
});

test('forward mode (GRU program + dense head): Jacobian equals finite differences of its own values', () => {
  const rng = new Rng(12);
  const gru = programOf({ type: 'gru', inputSize: 3, units: 4 }), head = denseProgram(4, 2, 'linear');
  const stack: ProgramStack = { inputSize: 3, augmentation: null, layers: [{ program: gru, params: randomParams(gru, rng, 0.9) }, { program: head, params: randomParams(head, rng) }] };
  const steps = 5, x = randomSeq(steps, 3, rng);
  const { J } = sequenceJacobian(stack, x, steps);
  const values = (z: Float64Array) => sequenceJacobian({ ...stack }, z, steps).y;
  const err = maxRelErr(J, fdJacobian(values, x));
  assert.ok(err < 1e-6, `relative error ${err}`);
});

test('forward mode: one step along state directions equals finite differences (LRNN, LSTM, GRU)', () => {
  const rng = new Rng(21);
  for (const kind of ['lrnn', 'lstm'] as const) {
    const m = randomModel(kind, 6);
    const stack = stackOfModel(m);
    const p0 = stack.layers[0].program;
    checkStateStep(stack, p0.state.map((s) => s.size), rng, kind);
  }
  const gru = programOf({ type: 'gru', inputSize: 2, units: 3 });
  checkStateStep({ inputSize: 2, augmentation: null, layers: [{ program: gru, params: randomParams(gru, rng, 1) }] }, [3], rng, 'gru');
});

function checkStateStep(stack: ProgramStack, slots: number[], rng: Rng, what: string): void {
  const e = new ForwardEngine(stack, 64);
  const n = stack.inputSize, ns = slots.reduce((a, b) => a + b, 0);
  const x = Float64Array.from({ length: n }, () => rng.uniform());
  const s0 = Float64Array.from({ length: ns }, () => 0.5 * rng.normal());
  const k = ns + n;
  const run = (s: Float64Array, xx: Float64Array, withDirs: boolean): Float64Array => {
    e.reset();
    let off = 0;
    slots.forEach((size, slot) => {
      const tang = new Float64Array(k * size);
      if (withDirs) for (let i = 0; i < size; i++) tang[(off + i) * size + i] = 1;
      e.setState(0, slot, s.subarray(off, off + size), tang, withDirs ? k : 0);
      off += size;
    });
    const dx = new Float64Array(k * n);
    if (withDirs) for (let i = 0; i < n; i++) dx[(ns + i) * n + i] = 1;
    const out = new Float64Array((k + 1) * e.outputSize);
    e.step(xx, withDirs ? dx : null, withDirs ? k : 0, out);
    return out;
  };
  const lanes = run(s0, x, true), mo = e.outputSize;
  const J = new Float64Array(mo * k);
  for (let j = 0; j < mo; j++) for (let d = 0; d < k; d++) J[j * k + d] = lanes[(1 + d) * mo + j];
  const z0 = new Float64Array(k);
  z0.set(s0);
  z0.set(x, ns);
  const f = (z: Float64Array) => run(z.subarray(0, ns), z.subarray(ns), false).slice(0, mo);
  const err = maxRelErr(J, fdJacobian(f, z0));
  assert.ok(err < 1e-6, `${what}: state-direction Jacobian relative error ${err}`);
}
