// Finite-difference checks of the reverse interpreter for all seven families (the six with
// hand-written cells, the GRU and the dense layer): gradients w.r.t. every parameter (sampled
// entries), the inputs and the initial state, over several steps of a batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/core/rng.ts';
import type { CellConfig } from '../../src/nn/cell.ts';
import { ProgramCell } from '../../src/nn/program-cell.ts';
import { handWrittenConfigs } from './cell-configs.ts';

function allConfigs(nin: number, u: number): CellConfig[] {
  return [
    ...handWrittenConfigs(nin, u),
    { type: 'gru', inputSize: nin, units: u },
    { type: 'dense', inputSize: nin, units: u, activation: 'tanh' } as unknown as CellConfig,
  ];
}

/** Loss `sum w . ys + sum v . s_T` of a sequence from the initial state s0. */
function loss(cell: ProgramCell, batch: number, steps: number, xs: Float64Array, s0: Float64Array, w: Float64Array, v: Float64Array): number {
  const ss = batch * cell.stateSize, is = batch * cell.inputSize, os = batch * cell.outputSize;
  const states = new Float64Array((steps + 1) * ss);
  states.set(s0);
  const ys = new Float64Array(steps * os), cache = new Float64Array(batch * cell.cacheSize);
  cell.prepare();
  for (let t = 0; t < steps; t++)
    cell.forward(batch, xs.subarray(t * is, (t + 1) * is), states.subarray(t * ss, (t + 1) * ss), states.subarray((t + 1) * ss, (t + 2) * ss), ys.subarray(t * os, (t + 1) * os), cache);
  let s = 0;
  for (let i = 0; i < ys.length; i++) s += w[i] * ys[i];
  for (let i = 0; i < ss; i++) s += v[i] * states[steps * ss + i];
  return s;
}

function check(config: CellConfig, batch: number, steps: number, seed: number, samples = 5): void {
  const rng = new Rng(seed);
  const cell = new ProgramCell(config);
  const convex = config.type === 'icrnn' || config.type === 'iclstm';
  for (const p of cell.params) for (let i = 0; i < p.value.length; i++) p.value[i] = convex && p.name !== 'bias' ? 0.8 * rng.uniform() : 0.8 * rng.normal();
  const ss = batch * cell.stateSize, is = batch * cell.inputSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize;
  const xs = new Float64Array(steps * is).map(() => rng.uniformIn(-1, 1));
  // a non-zero initial state (ICLSTM: a positive cell state keeps the kinks away)
  const s0 = new Float64Array(ss).map(() => (convex ? 0.2 + 0.5 * rng.uniform() : 0.5 * rng.normal()));
  const w = new Float64Array(steps * os).map(() => rng.normal());
  const v = new Float64Array(ss).map(() => rng.normal());
  // analytic
  const states = new Float64Array((steps + 1) * ss), ys = new Float64Array(steps * os), caches = new Float64Array(steps * cs);
  states.set(s0);
  cell.prepare();
  for (let t = 0; t < steps; t++)
    cell.forward(batch, xs.subarray(t * is, (t + 1) * is), states.subarray(t * ss, (t + 1) * ss), states.subarray((t + 1) * ss, (t + 2) * ss), ys.subarray(t * os, (t + 1) * os), caches.subarray(t * cs, (t + 1) * cs));
  for (const p of cell.params) p.grad.fill(0);
  const dxs = new Float64Array(steps * is);
  let dsNext = Float64Array.from(v), dsPrev = new Float64Array(ss);
  for (let t = steps - 1; t >= 0; t--) {
    cell.backward(batch, xs.subarray(t * is, (t + 1) * is), states.subarray(t * ss, (t + 1) * ss), states.subarray((t + 1) * ss, (t + 2) * ss), ys.subarray(t * os, (t + 1) * os),
      caches.subarray(t * cs, (t + 1) * cs), w.subarray(t * os, (t + 1) * os), dsNext, dsPrev, dxs.subarray(t * is, (t + 1) * is));
    [dsNext, dsPrev] = [dsPrev, dsNext];
  }
  cell.finishBackward();
  const ds0 = dsNext;
  const h = 1e-6;
  const compare = (analytic: number, f: () => number, bump: (d: number) => void, what: string) => {
    bump(h);
    const lp = f();
    bump(-2 * h);
    const lm = f();
    bump(h);
    const numeric = (lp - lm) / (2 * h);
    const err = Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(analytic) + Math.abs(numeric));
    assert.ok(err < 1e-5, `${config.type}: ${what}: analytic ${analytic} vs finite difference ${numeric}`);
  };
  const f = () => loss(cell, batch, steps, xs, s0, w, v);
  for (const p of cell.params) {
    const idx = new Set<number>();
    for (let k = 0; k < Math.min(samples, p.value.length); k++) idx.add(rng.int(p.value.length));
    for (const i of idx) compare(p.grad[i], f, (d) => (p.value[i] += d), `${p.name}[${i}]`);
  }
  for (let k = 0; k < samples; k++) {
    const i = rng.int(xs.length);
    compare(dxs[i], f, (d) => (xs[i] += d), `x[${i}]`);
  }
  for (let k = 0; k < Math.min(samples, ss); k++) {
    const i = rng.int(ss);
    compare(ds0[i], f, (d) => (s0[i] += d), `s0[${i}]`);
  }
}

for (const config of allConfigs(3, 4)) {
  test(`finite differences: reverse interpreter of ${config.type}${config.type === 'simple' ? `/${config.activation}` : ''}`, () => {
    for (const seed of [1, 2, 3]) check(config, 3, 4, seed);
  });
}

test('property: finite differences hold for random sizes and families', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer(),
      (k, nin, u, batch, steps, seed) => check(allConfigs(nin, u)[k], batch, steps, seed, 3)),
    { numRuns: 30 },
  );
});
