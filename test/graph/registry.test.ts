// The family registry and the per-family declarations: every family builds, parameter names /
// shapes / order match the hand-written cells, Keras placements fill every parameter entry once,
// and the GRU program computes the Keras GRU equations (checked against a scalar implementation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILIES, cellFamily, familyOfKerasClass, programOf } from '../../src/graph/registry.ts';
import type { FamilyConfigBase } from '../../src/graph/family.ts';
import { ValidationError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { sigmoid } from '../../src/graph/activations.ts';
import { ProgramCell } from '../../src/nn/program-cell.ts';
import { ProgramEvaluator } from '../../src/interp/eval.ts';

const configs: FamilyConfigBase[] = [
  { type: 'simple', inputSize: 3, units: 4, activation: 'tanh' } as FamilyConfigBase,
  { type: 'lstm', inputSize: 3, units: 4 },
  { type: 'lipschitz', inputSize: 3, units: 4, eps: 0.01, gamma: 0.01, beta: 0.8, alpha: 1 } as FamilyConfigBase,
  { type: 'icrnn', inputSize: 3, units: 4 },
  { type: 'iclstm', inputSize: 3, units: 4 },
  { type: 'gru', inputSize: 3, units: 4 },
  { type: 'dense', inputSize: 3, units: 4, activation: 'relu' } as FamilyConfigBase,
];

test('the registry holds the seven families; unknown names fail clearly', () => {
  assert.deepEqual([...FAMILIES.keys()].sort(), ['dense', 'gru', 'iclstm', 'icrnn', 'lipschitz', 'lstm', 'simple']);
  assert.throws(() => cellFamily('transformer'), (e) => e instanceof ValidationError && /unknown cell family 'transformer'.*gru/.test(e.message));
  assert.throws(() => programOf({ type: 'gru', inputSize: 0, units: 3 }), ValidationError);
  assert.equal(familyOfKerasClass('GRU')?.name, 'gru');
  assert.equal(familyOfKerasClass('MyICLSTMCell')?.name, 'iclstm');
  assert.equal(familyOfKerasClass('Conv1D'), null);
});

test('Keras placements cover every parameter entry exactly once', () => {
  for (const c of configs) {
    const fam = cellFamily(c.type), p = programOf(c);
    assert.equal(p.family, c.type);
    const hit = new Map(p.params.map((q) => [q.name, new Uint8Array(q.rows * q.cols)]));
    for (const w of fam.keras!.weights(c, true)) {
      const len = w.shape.reduce((a, b) => a * b, 1);
      for (const pl of w.placements) {
        assert.ok(pl.from + pl.length <= len, `${c.type} ${w.name}: placement outside the array`);
        const h = hit.get(pl.param)!;
        assert.ok(h, `${c.type}: unknown parameter ${pl.param}`);
        for (let i = 0; i < pl.length; i++) h[pl.to + i]++;
      }
    }
    for (const [name, h] of hit) assert.ok(h.every((v) => v === 1), `${c.type}.${name} covered once`);
  }
});

test('GRU program = Keras GRU (reset_after) equations, scalar reference', () => {
  const nin = 2, u = 3, batch = 2, steps = 4;
  const cell = new ProgramCell({ type: 'gru', inputSize: nin, units: u });
  assert.deepEqual(cell.params.map((p) => `${p.name}:${p.rows}x${p.cols}`), ['kernel:2x9', 'recurrentKernel:3x9', 'bias:1x9', 'recurrentBias:1x9']);
  assert.equal(cell.stateSize, u);
  const rng = new Rng(4);
  for (const p of cell.params) for (let i = 0; i < p.value.length; i++) p.value[i] = rng.normal();
  const [K, R, bi, br] = cell.params.map((p) => p.value);
  const xs = Float64Array.from({ length: steps * batch * nin }, () => rng.normal());
  const s0 = new Float64Array(batch * u), s1 = new Float64Array(batch * u), y = new Float64Array(batch * u), cache = new Float64Array(batch * cell.cacheSize);
  const ref = Array.from({ length: batch }, () => new Array<number>(u).fill(0));
  cell.prepare();
  for (let t = 0; t < steps; t++) {
    const x = xs.subarray(t * batch * nin, (t + 1) * batch * nin);
    cell.forward(batch, x, s0, s1, y, cache);
    for (let r = 0; r < batch; r++) {
      const h = ref[r];
      const xk = (g: number, j: number) => bi[g * u + j] + Array.from({ length: nin }, (_, k) => x[r * nin + k] * K[k * 3 * u + g * u + j]).reduce((a, b) => a + b);
      const hr = (g: number, j: number) => br[g * u + j] + h.reduce((a, hv, k) => a + hv * R[k * 3 * u + g * u + j], 0);
      const next = h.map((hv, j) => {
        const z = sigmoid(xk(0, j) + hr(0, j)), rr = sigmoid(xk(1, j) + hr(1, j));
        const hh = Math.tanh(xk(2, j) + rr * hr(2, j));
        return z * hv + (1 - z) * hh;
      });
      ref[r] = next;
      for (let j = 0; j < u; j++) {
        assert.ok(Math.abs(y[r * u + j] - next[j]) < 1e-13, `t ${t} row ${r} unit ${j}: ${y[r * u + j]} vs ${next[j]}`);
        assert.equal(s1[r * u + j], y[r * u + j]);
      }
    }
    s0.set(s1);
  }
});

test('a program cell refuses parameter buffers of the wrong size and builds for every family', () => {
  for (const c of configs) {
    const cell = new ProgramCell(c as never);
    assert.equal(cell.params.length, programOf(c).params.length);
    assert.equal(cell.outputSize, 4);
  }
  const p = programOf(configs[5]);
  const bad = p.params.map((q, i) => ({ value: new Float64Array(q.rows * q.cols + (i === 1 ? 1 : 0)), grad: new Float64Array(q.rows * q.cols) }));
  assert.throws(() => new ProgramEvaluator(p, bad), /recurrentKernel/);
  assert.throws(() => new ProgramEvaluator(p, bad.slice(1)), /3 parameter buffers for 4/);
});
