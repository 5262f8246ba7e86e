// The MPC model predictor on the f64 wasm path (WasmPredictor + WasmTangentEngine) against the
// same predictor on the JS path (SequenceModel copies + the hand-fused TangentEngine, the oracle):
// predictions, adjoints and forward-mode Jacobians equal to 1e-12, the same Jacobian-reuse
// decisions (activation patterns), the same closed loop of the trained ICLRNN, weights only through
// syncWeights(), and the fallbacks (wasm disabled, uncovered families).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CSTR_LMPC, CSTR_MODEL_LAYOUT, ModelPredictor, createCstrLmpc, runCstrClosedLoop } from '../../src/apps/index.ts';
import { Rng } from '../../src/core/rng.ts';
import { setWasmDisabled, wasmSupport } from '../../src/core/wasm.ts';
import { enableWasmFma } from '../../src/core/wasm-node.ts';
import { loadModel } from '../../src/io/model-file.ts';
import { buildModel, type BuiltinModelKind } from '../../src/nn/models.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import type { ScaledModel } from '../../src/train/pipeline.ts';

enableWasmFma();
const skip = wasmSupport().simd ? false : 'no WebAssembly SIMD in this engine';
if (skip && process.env.CI === 'true') throw new Error('WebAssembly SIMD is required under CI (Node >= 16 has it)');

const F = (a: ArrayLike<number>) => Float64Array.from(a);
const inScaler = new MinMaxScaler({ min: [-100, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] });
const outScaler = new MinMaxScaler({ min: [-100, -2], max: [200, 4] });

function model(kind: BuiltinModelKind, seed: number): ScaledModel {
  const m = buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 16, layers: 2, seed });
  // biases of both signs: ReLU units switch on and off across the test points
  const rng = new Rng(seed);
  for (const c of m.cells) {
    const b = c.params[c.params.length - 1].value;
    for (let i = 0; i < b.length; i++) b[i] = 0.5 * (2 * rng.uniform() - 1);
  }
  return { model: m, inputScaler: inScaler, outputScaler: outScaler };
}

function close(a: Float64Array, b: Float64Array, tol: number, what: string): void {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  const e = Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
  assert.ok(e <= tol, `${what}: relative error ${e}`);
}

const points = [
  [0.5, -20, 1, 1e5], [0.5 + 1e-7, -20 + 1e-5, 1 + 1e-7, 1e5 + 1e-2], [-1.2, 60, -3, -4e5], [0.3, 10, 2, 3e5],
  [0.3 + 1e-6, 10, 2, 3e5 + 1], [1.5, -70, 0, 0], [-1.5, 70, 3.5, 5e5],
];

for (const kind of ['iclrnn', 'rnn'] as const) {
  test(`${kind}: the wasm predictor equals the JS one (predict, adjoint, Jacobians to 1e-12; same reuse decisions)`, { skip }, () => {
    const src = model(kind, 4);
    const w = new ModelPredictor(src, CSTR_MODEL_LAYOUT), j = new ModelPredictor(src, CSTR_MODEL_LAYOUT, undefined, { wasm: false });
    assert.equal(w.usesWasm, true);
    assert.equal(j.usesWasm, false);
    w.reserve(2);
    j.reserve(2);
    const n = 10 * 2;
    const o1 = new Float64Array(n), o2 = new Float64Array(n);
    const Jx1 = new Float64Array(n * 2), Ju1 = new Float64Array(n * 2), Jx2 = new Float64Array(n * 2), Ju2 = new Float64Array(n * 2);
    const dx1 = new Float64Array(2), du1 = new Float64Array(2), dx2 = new Float64Array(2), du2 = new Float64Array(2);
    const rng = new Rng(1);
    points.forEach(([x1, x2, u1, u2], k) => {
      const x = F([x1, x2]), u = F([u1, u2]), slot = k % 2;
      for (const forAdjoint of [false, true]) {
        w.predict(slot, x, u, o1, forAdjoint);
        j.predict(slot, x, u, o2, forAdjoint);
        close(o1, o2, 1e-12, `point ${k}: predict (forAdjoint ${forAdjoint})`);
      }
      const dOut = Float64Array.from({ length: n }, () => 2 * rng.uniform() - 1);
      w.adjoint(slot, dOut, dx1, du1);
      j.adjoint(slot, dOut, dx2, du2);
      close(dx1, dx2, 1e-12, `point ${k}: adjoint dx`);
      close(du1, du2, 1e-12, `point ${k}: adjoint du`);
      const withState = k !== 2;
      w.jacobian(slot, x, u, o1, withState ? Jx1 : null, Ju1);
      j.jacobian(slot, x, u, o2, withState ? Jx2 : null, Ju2);
      close(o1, o2, 1e-12, `point ${k}: jacobian values`);
      if (withState) close(Jx1, Jx2, 1e-12, `point ${k}: Jx`);
      close(Ju1, Ju2, 1e-12, `point ${k}: Ju`);
    });
    assert.deepEqual(w.stats, j.stats, 'the same Jacobians computed and reused');
    if (kind === 'iclrnn') assert.ok(w.stats.reused >= 1, 'nearby points reuse the Jacobian');
    else assert.equal(w.stats.reused, 0, 'tanh RNN: not piecewise linear');
  });
}

test('syncWeights brings changed weights into the wasm copy', { skip }, () => {
  const src = model('iclrnn', 8);
  const w = new ModelPredictor(src, CSTR_MODEL_LAYOUT);
  const x = F([0.3, 10]), u = F([2, 3e5]);
  const o0 = new Float64Array(20), o1 = new Float64Array(20), Ju = new Float64Array(40), Ju0 = new Float64Array(40);
  w.jacobian(0, x, u, o0, null, Ju0);
  for (const p of src.model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] *= 1.05;
  w.jacobian(0, x, u, o1, null, Ju);
  assert.deepEqual(o1, o0, 'unchanged before syncWeights');
  w.syncWeights();
  w.predict(0, x, u, o1);
  const fresh = new ModelPredictor(src, CSTR_MODEL_LAYOUT, undefined, { wasm: false }), o2 = new Float64Array(20), Ju2 = new Float64Array(40);
  fresh.predict(0, x, u, o2);
  close(o1, o2, 1e-12, 'predict after sync');
  w.jacobian(0, x, u, o1, null, Ju);
  fresh.jacobian(0, x, u, o2, null, Ju2);
  close(Ju, Ju2, 1e-12, 'Jacobian after sync (no stale reuse)');
});

test('fallbacks: wasm disabled or an uncovered family runs the JS path with forward mode', () => {
  const prev = setWasmDisabled(true);
  try {
    const p = new ModelPredictor(model('iclrnn', 1), CSTR_MODEL_LAYOUT);
    assert.equal(p.usesWasm, false);
    assert.equal(p.hasForwardMode, true);
  } finally {
    setWasmDisabled(prev);
  }
  const lstm = new ModelPredictor(model('lstm', 1), CSTR_MODEL_LAYOUT);
  assert.equal(lstm.usesWasm, false);
  assert.equal(lstm.hasForwardMode, true);
});

test('the trained ICLRNN (200 epochs) runs the same closed loop on the wasm and the JS path', { skip }, () => {
  const src = loadModel(new URL('./fixtures/iclrnn-cstr-e200.json', import.meta.url).pathname);
  for (const x0 of CSTR_LMPC.initialStates) {
    const rw = runCstrClosedLoop(createCstrLmpc(new ModelPredictor(src, CSTR_MODEL_LAYOUT)), x0);
    const rj = runCstrClosedLoop(createCstrLmpc(new ModelPredictor(src, CSTR_MODEL_LAYOUT, undefined, { wasm: false })), x0);
    assert.equal(rw.converged, rj.converged);
    assert.equal(rw.steps, rj.steps, `steps from (${x0})`);
    close(F(rw.finalState), F(rj.finalState), 1e-8, `final state from (${x0})`);
  }
});
