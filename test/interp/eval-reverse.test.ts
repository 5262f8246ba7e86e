// The evaluate and reverse interpreters against the hand-written cells (src/nn/*-cell.ts):
// forward equal to 1e-12, adjoint (input, state and parameter gradients) to 1e-10, over several
// steps of a batch, for the six existing families; and the dense program against Dense.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/core/rng.ts';
import type { CellConfig, RecurrentCell } from '../../src/nn/cell.ts';
import { createCell } from '../../src/nn/model.ts';
import { ProgramCell } from '../../src/nn/program-cell.ts';
import { Dense } from '../../src/nn/dense.ts';
import { programOf } from '../../src/graph/registry.ts';
import { ProgramEvaluator } from '../../src/interp/eval.ts';
import { ProgramAdjoint } from '../../src/interp/reverse.ts';
import { handWrittenConfigs } from './cell-configs.ts';

/** Weights that exercise every branch: signed for the free families, mostly positive for the convex ones (biases signed). */
function randomize(cells: RecurrentCell[], rng: Rng, convex: boolean): void {
  const ref = cells[0];
  ref.params.forEach((p, k) => {
    for (let i = 0; i < p.value.length; i++) {
      const v = convex && p.name !== 'bias' ? 0.9 * rng.uniform() - 0.1 : 0.7 * rng.normal();
      for (const c of cells) c.params[k].value[i] = v;
    }
  });
}

interface Trace { states: Float64Array; ys: Float64Array; caches: Float64Array }

function runForward(cell: RecurrentCell, batch: number, steps: number, xs: Float64Array): Trace {
  const ss = batch * cell.stateSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize, is = batch * cell.inputSize;
  const states = new Float64Array((steps + 1) * ss), ys = new Float64Array(steps * os), caches = new Float64Array(steps * cs);
  cell.prepare();
  for (let t = 0; t < steps; t++)
    cell.forward(batch, xs.subarray(t * is, (t + 1) * is), states.subarray(t * ss, (t + 1) * ss), states.subarray((t + 1) * ss, (t + 2) * ss),
      ys.subarray(t * os, (t + 1) * os), caches.subarray(t * cs, (t + 1) * cs));
  return { states, ys, caches };
}

/** Backward over the sequence from dys (time-major) and a final-state gradient; returns dxs and ds0. */
function runBackward(cell: RecurrentCell, batch: number, steps: number, xs: Float64Array, tr: Trace, dys: Float64Array, dsLast: Float64Array, paramGradients = true) {
  const ss = batch * cell.stateSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize, is = batch * cell.inputSize;
  const dxs = new Float64Array(steps * is);
  let dsNext = Float64Array.from(dsLast), dsPrev = new Float64Array(ss);
  cell.paramGradients = paramGradients;
  for (const p of cell.params) p.grad.fill(0);
  for (let t = steps - 1; t >= 0; t--) {
    cell.backward(batch, xs.subarray(t * is, (t + 1) * is), tr.states.subarray(t * ss, (t + 1) * ss), tr.states.subarray((t + 1) * ss, (t + 2) * ss),
      tr.ys.subarray(t * os, (t + 1) * os), tr.caches.subarray(t * cs, (t + 1) * cs), dys.subarray(t * os, (t + 1) * os), dsNext, dsPrev, dxs.subarray(t * is, (t + 1) * is));
    [dsNext, dsPrev] = [dsPrev, dsNext];
  }
  cell.finishBackward();
  return { dxs, ds0: dsNext, grads: cell.params.map((p) => Float64Array.from(p.grad)) };
}

function close(a: Float64Array, b: Float64Array, tol: number, what: string): void {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  for (let i = 0; i < a.length; i++)
    if (!(Math.abs(a[i] - b[i]) <= tol * scale)) assert.fail(`${what}[${i}]: interpreter ${a[i]} vs hand-written ${b[i]}`);
}

function compareFamily(config: CellConfig, batch: number, steps: number, seed: number): void {
  const rng = new Rng(seed);
  const hand = createCell(config);
  const prog = new ProgramCell(config);
  assert.equal(prog.stateSize, hand.stateSize, 'state size');
  assert.equal(prog.outputSize, hand.outputSize, 'output size');
  assert.deepEqual(prog.params.map((p) => [p.name, p.rows, p.cols]), hand.params.map((p) => [p.name, p.rows, p.cols]), 'parameter names, shapes and order');
  const convex = config.type === 'icrnn' || config.type === 'iclstm' || (config.type === 'simple' && config.activation === 'relu');
  randomize([hand, prog], rng, convex);
  const xs = new Float64Array(steps * batch * config.inputSize).map(() => rng.uniformIn(-1, 1));
  const a = runForward(prog, batch, steps, xs), b = runForward(hand, batch, steps, xs);
  const label = `${config.type}${config.type === 'simple' ? `/${config.activation}` : ''}`;
  close(a.ys, b.ys, 1e-12, `${label} outputs`);
  close(a.states, b.states, 1e-12, `${label} states`);
  const dys = new Float64Array(a.ys.length).map(() => rng.normal());
  const dsLast = new Float64Array(batch * hand.stateSize).map(() => rng.normal());
  for (const pg of [true, false]) {
    const ga = runBackward(prog, batch, steps, xs, a, dys, dsLast, pg), gb = runBackward(hand, batch, steps, xs, b, dys, dsLast, pg);
    close(ga.dxs, gb.dxs, 1e-10, `${label} input gradient`);
    close(ga.ds0, gb.ds0, 1e-10, `${label} initial-state gradient`);
    hand.params.forEach((p, k) => {
      if (pg) close(ga.grads[k], gb.grads[k], 1e-10, `${label} d${p.name}`);
      else assert.ok(ga.grads[k].every((v) => v === 0), `${label}: no parameter gradient when skipped (${p.name})`);
    });
  }
}

for (const config of handWrittenConfigs(3, 5)) {
  const label = `${config.type}${config.type === 'simple' ? `/${config.activation}` : ''}`;
  test(`interpreters equal the hand-written ${label} cell (batch 4, 6 steps)`, () => {
    compareFamily(config, 4, 6, 11);
    compareFamily({ ...config, inputSize: 1, units: 2 } as CellConfig, 1, 3, 12);
  });
}

test('property: interpreters equal the hand-written cells for random sizes', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer(),
      (k, nin, u, batch, steps, seed) => {
        compareFamily(handWrittenConfigs(nin, u)[k], batch, steps, seed);
      }),
    { numRuns: 40 },
  );
});

test('the dense program equals Dense (forward and adjoint), every activation', () => {
  const rng = new Rng(5);
  for (const activation of ['linear', 'relu', 'tanh', 'sigmoid'] as const) {
    const rows = 7, nin = 4, u = 3;
    const d = new Dense({ inputSize: nin, units: u, activation });
    for (const p of d.params) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal();
    const program = programOf({ type: 'dense', inputSize: nin, units: u, activation } as never);
    const params = d.params.map((p) => ({ value: p.value, grad: new Float64Array(p.value.length) }));
    const ev = new ProgramEvaluator(program, params);
    const ad = new ProgramAdjoint(ev);
    const x = new Float64Array(rows * nin).map(() => rng.normal());
    const yA = new Float64Array(rows * u), act = new Float64Array(rows * u);
    ev.step(rows, x, new Float64Array(0), new Float64Array(0), yA, new Float64Array(rows * ev.plan.cacheSize));
    d.forward(rows, x, act, act, null);
    close(yA, act, 1e-14, `dense ${activation} forward`);
    const dy = new Float64Array(rows * u).map(() => rng.normal());
    const dxA = new Float64Array(rows * nin), dxB = new Float64Array(rows * nin);
    const cache = new Float64Array(rows * ev.plan.cacheSize);
    ev.step(rows, x, new Float64Array(0), new Float64Array(0), yA, cache);
    ad.step(rows, x, new Float64Array(0), new Float64Array(0), yA, cache, dy, new Float64Array(0), new Float64Array(0), dxA);
    for (const p of d.params) p.grad.fill(0);
    d.backward(rows, x, act, Float64Array.from(dy), dxB, null);
    close(dxA, dxB, 1e-12, `dense ${activation} input gradient`);
    d.params.forEach((p, k) => close(params[k].grad, p.grad, 1e-12, `dense ${activation} d${p.name}`));
  }
});
