// The f64 wasm inference path (src/nn/wasm-predictor.ts) against the JS model it mirrors: forward
// outputs and input gradients equal SequenceModel.forwardTimeMajor / backwardTimeMajor to 1e-12
// relative (both FMA and plain SIMD variants), input gradients agree with central finite
// differences, forward mode equals the JS TangentEngine (outputs, derivative lanes and the ReLU
// activation pattern), weights follow the model only through sync(), and the fallbacks: models
// outside the covered architectures and wasm switched off give null.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { setWasmDisabled, wasmSupport } from '../../src/core/wasm.ts';
import { enableWasmFma } from '../../src/core/wasm-node.ts';
import { SequenceModel, type ModelSpec } from '../../src/nn/model.ts';
import { buildModel } from '../../src/nn/models.ts';
import { WasmPredictor, wasmPredictorReason } from '../../src/nn/wasm-predictor.ts';
import { TangentEngine } from '../../src/control/tangent-engine.ts';

const support = enableWasmFma();
const skip = support.simd ? false : 'no WebAssembly SIMD in this engine';
if (skip && process.env.CI === 'true') throw new Error('WebAssembly SIMD is required under CI (Node >= 16 has it)');
const fmaVariants = support.relaxedSimd ? [false, true] : [false];

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

/** Random weights (and biases of both signs, so ReLU units switch on and off). */
function randomize(m: SequenceModel, seed: number, scale = 0.4): SequenceModel {
  const rng = new Rng(seed);
  for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = scale * (2 * rng.uniform() - 1);
  return m;
}

/** A model with a residual ReLU dense layer (the ICLSTM head form) over a tanh and a ReLU cell, no augmentation. */
function residualModel(augmented: boolean): SequenceModel {
  const nin = 3, na = augmented ? 6 : 3;
  const spec: ModelSpec = {
    kind: 'custom', inputSize: nin, augmentation: augmented ? { offset: [1, 0.5, -0.25] } : null,
    cells: [
      { type: 'simple', inputSize: na, units: 7, activation: 'tanh' },
      { type: 'simple', inputSize: 7, units: 5, activation: 'relu' },
    ],
    head: [
      { inputSize: 5, units: na, activation: 'relu', residual: true },
      { inputSize: na, units: 2, activation: 'tanh' },
      { inputSize: 2, units: 2, activation: 'linear' },
    ],
  };
  return randomize(new SequenceModel(spec), 11);
}

const models: [string, () => SequenceModel][] = [
  ['iclrnn 2x16 (augmented, ReLU)', () => randomize(buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 16, layers: 2, seed: 1 }), 5, 0.3)],
  ['rnn 2x9 (tanh)', () => randomize(buildModel('rnn', { inputSize: 4, outputSize: 2, hidden: 9, layers: 2, seed: 2 }), 6)],
  ['residual head, augmented', () => residualModel(true)],
  ['residual head, plain input', () => residualModel(false)],
  ['one ReLU cell, no dense layer', () => randomize(new SequenceModel({ kind: 'custom', inputSize: 2, augmentation: { offset: [1, 1] }, cells: [{ type: 'simple', inputSize: 4, units: 3, activation: 'relu' }], head: [] }), 12)],
];

function input(n: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => 2 * rng.uniform() - 1);
}

for (const [name, make] of models) {
  for (const fma of fmaVariants) {
    test(`${name}${fma ? ' (FMA)' : ''}: wasm forward and input gradient equal the JS model to 1e-12`, { skip }, () => {
      const m = make();
      const wp = WasmPredictor.create(m, { fma });
      assert.ok(wp, wasmPredictorReason(m) ?? 'wasm available');
      assert.equal(wp.fma, fma);
      for (const [batch, steps] of [[1, 10], [3, 4], [1, 1], [5, 7]]) {
        const nin = m.inputSize, nout = m.outputSize;
        const x = input(batch * steps * nin, batch * 100 + steps);
        const dy = input(batch * steps * nout, 7 + batch);
        const yj = Float64Array.from(m.forwardTimeMajor(x, batch, steps));
        const gj = Float64Array.from(m.backwardTimeMajor(dy, true, false)!);
        const yw = wp.forward(x, batch, steps);
        assert.ok(relErr(yw, yj) <= 1e-12, `forward ${batch}x${steps}: ${relErr(yw, yj)}`);
        const y2 = new Float64Array(yj.length);
        const gw = wp.inputGradient(x, dy, batch, steps, undefined, y2);
        assert.ok(relErr(gw, gj) <= 1e-12, `input gradient ${batch}x${steps}: ${relErr(gw, gj)}`);
        assert.deepEqual(y2, yw, 'inputGradient reports the same forward output');
        // pure: repeating a call gives the same bits
        assert.deepEqual(wp.forward(x, batch, steps), yw);
      }
    });
  }
}

test('wasm input gradient agrees with central finite differences (tanh model; ReLU model away from kinks)', { skip }, () => {
  for (const [name, make] of models) {
    const m = make();
    const wp = WasmPredictor.create(m)!;
    const batch = 2, steps = 5, nin = m.inputSize;
    const x = input(batch * steps * nin, 3);
    const dy = input(batch * steps * m.outputSize, 4);
    const g = wp.inputGradient(x, dy, batch, steps);
    const f = (v: Float64Array) => {
      const y = wp.forward(v, batch, steps);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
      return s;
    };
    const h = 1e-6;
    let worst = 0;
    for (let i = 0; i < x.length; i++) {
      const xp = Float64Array.from(x), xm = Float64Array.from(x);
      xp[i] += h;
      xm[i] -= h;
      const fd = (f(xp) - f(xm)) / (2 * h);
      worst = Math.max(worst, Math.abs(fd - g[i]) / Math.max(1, Math.abs(g[i])));
    }
    assert.ok(worst < 1e-6, `${name}: finite-difference mismatch ${worst}`);
  }
});

test('forward mode equals the JS TangentEngine: outputs, derivative lanes and ReLU pattern', { skip }, () => {
  for (const [name, make] of models) {
    const m = make();
    const wp = WasmPredictor.create(m)!;
    const na = m.augmentedSize, steps = 10;
    for (const lanes of [1, 2, 5]) {
      const te = new TangentEngine(m, lanes);
      const a = input(lanes * na, lanes);
      const o1 = new Float64Array(steps * lanes * m.outputSize), o2 = new Float64Array(o1.length);
      const p1 = new Uint8Array(te.patternSize(steps)), p2 = new Uint8Array(wp.patternSize(steps));
      te.run(a, lanes, steps, o1, p1);
      wp.tangent(a, lanes, steps, o2, p2);
      assert.ok(relErr(o2, o1) <= 1e-12, `${name}, ${lanes} lanes: ${relErr(o2, o1)}`);
      assert.equal(wp.piecewiseLinear, te.piecewiseLinear, name);
      if (te.piecewiseLinear) {
        assert.deepEqual(p2, p1, `${name}: activation pattern`);
        if (name.startsWith('iclrnn')) assert.ok(p1.includes(0) && p1.includes(1), `${name}: the pattern has units on and off`);
      }
    }
  }
});

test('forward mode lanes are directional derivatives (finite differences of the forward pass)', { skip }, () => {
  const m = models[1][1]();
  const wp = WasmPredictor.create(m)!;
  const nin = m.inputSize, na = m.augmentedSize, steps = 6, lanes = 3, nout = m.outputSize;
  const x0 = input(nin, 9);
  const dirs = [input(nin, 10), input(nin, 12)];
  const a = new Float64Array(lanes * na);
  for (let j = 0; j < nin; j++) {
    a[j] = x0[j];
    a[nin + j] = 1 - x0[j];
    for (let d = 0; d < 2; d++) {
      a[(d + 1) * na + j] = dirs[d][j];
      a[(d + 1) * na + nin + j] = -dirs[d][j];
    }
  }
  const out = new Float64Array(steps * lanes * nout);
  wp.tangent(a, lanes, steps, out);
  const rows = (v: Float64Array) => Float64Array.from({ length: steps * nin }, (_, i) => v[i % nin]);
  const h = 1e-6;
  for (let d = 0; d < 2; d++) {
    const xp = Float64Array.from(x0, (v, j) => v + h * dirs[d][j]), xm = Float64Array.from(x0, (v, j) => v - h * dirs[d][j]);
    const yp = wp.forward(rows(xp), 1, steps), ym = wp.forward(rows(xm), 1, steps);
    for (let t = 0; t < steps; t++)
      for (let o = 0; o < nout; o++) {
        const fd = (yp[t * nout + o] - ym[t * nout + o]) / (2 * h);
        assert.ok(Math.abs(fd - out[(t * lanes + d + 1) * nout + o]) < 1e-7, `direction ${d}, step ${t}, output ${o}`);
      }
    // lane 0 is the forward pass
    const y = wp.forward(rows(x0), 1, steps);
    for (let t = 0; t < steps; t++) for (let o = 0; o < nout; o++) assert.ok(Math.abs(y[t * nout + o] - out[t * lanes * nout + o]) <= 1e-15 * (1 + Math.abs(y[t * nout + o])));
  }
});

test('weights reach the wasm copy only through sync()', { skip }, () => {
  const m = models[0][1]();
  const wp = WasmPredictor.create(m)!;
  const x = input(10 * 4, 1);
  const before = wp.forward(x, 1, 10);
  for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] *= 1.1;
  assert.deepEqual(wp.forward(x, 1, 10), before, 'unchanged until sync');
  wp.sync();
  const yj = Float64Array.from(m.forwardTimeMajor(x, 1, 10));
  const after = wp.forward(x, 1, 10);
  assert.ok(relErr(after, yj) <= 1e-12);
  assert.ok(relErr(after, before) > 1e-3);
});

test('uncovered models and disabled wasm give null (callers keep the JS path)', () => {
  const lstm = buildModel('lstm', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 0 });
  assert.match(wasmPredictorReason(lstm)!, /cell type 'lstm'/);
  assert.equal(WasmPredictor.create(lstm), null);
  const sig = new SequenceModel({
    kind: 'custom', inputSize: 2, augmentation: null,
    cells: [{ type: 'simple', inputSize: 2, units: 3, activation: 'relu' }],
    head: [{ inputSize: 3, units: 1, activation: 'sigmoid' }],
  });
  assert.match(wasmPredictorReason(sig)!, /sigmoid/);
  const iclrnn = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 0 });
  assert.equal(wasmPredictorReason(iclrnn), null);
  const prev = setWasmDisabled(true);
  try {
    assert.equal(WasmPredictor.create(iclrnn), null);
  } finally {
    setWasmDisabled(prev);
  }
  if (wasmSupport().simd) assert.ok(WasmPredictor.create(iclrnn));
});

test('shape errors are ValidationErrors; capacity grows with batch and steps', { skip }, () => {
  const m = models[0][1]();
  const wp = WasmPredictor.create(m)!;
  assert.throws(() => wp.forward(new Float64Array(3), 1, 10), /input holds 3 values/);
  assert.throws(() => wp.forward(new Float64Array(40), 0, 10), /positive integers/);
  assert.throws(() => wp.forward(new Float64Array(40), 1, 10, new Float64Array(2)), /output array/);
  const x = input(64 * 30 * 4, 2);
  const yj = Float64Array.from(m.forwardTimeMajor(x, 64, 30));
  assert.ok(relErr(wp.forward(x, 64, 30), yj) <= 1e-12);
});
