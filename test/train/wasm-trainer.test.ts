// The WebAssembly training path (src/train/wasm-trainer.ts) against the plain-JS f64 path it
// replaces: the minibatch gradients in f64 equal the JS ones to rounding, in f32 to 1e-5 relative;
// whole training runs agree (f64) and stay bit-reproducible; models it does not cover fall back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasmSupport } from '../../src/core/wasm.ts';
import { buildModel, type BuiltinModelKind } from '../../src/nn/models.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { prepareData } from '../../src/train/pipeline.ts';
import { gatherTimeMajor, train, type TrainingData } from '../../src/train/trainer.ts';
import { WasmTrainer } from '../../src/train/wasm-trainer.ts';
import { smallCstr } from '../helpers.ts';

const skip = wasmSupport().simd ? false : 'no WebAssembly SIMD in this engine';
if (skip && process.env.CI === 'true') throw new Error('WebAssembly SIMD is required under CI (Node >= 16 has it)');

const data = prepareData(smallCstr(12), {});

/** The JS trainer's gradient of the minibatch `idx[from..to)` (MSE over the batch, as train()). */
function jsGradients(model: SequenceModel, d: TrainingData, idx: Int32Array, from: number, to: number): Float64Array[] {
  const b = to - from, T = d.steps, nin = model.inputSize, nout = model.outputSize;
  const xb = new Float64Array(b * T * nin), yb = new Float64Array(b * T * nout);
  gatherTimeMajor(d.inputs, T, nin, idx, from, to, xb);
  gatherTimeMajor(d.targets, T, nout, idx, from, to, yb);
  model.zeroGrad();
  const y = model.forwardTimeMajor(xb, b, T);
  const n = b * T * nout, dy = new Float64Array(n);
  for (let i = 0; i < n; i++) dy[i] = (2 * (y[i] - yb[i])) / n;
  model.backwardTimeMajor(dy, false);
  return model.parameters().map((p) => Float64Array.from(p.grad));
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
}

for (const kind of ['iclrnn', 'rnn', 'lstm', 'icrnn', 'gru'] as BuiltinModelKind[]) {
  test(`${kind}: wasm minibatch gradients equal the JS ones (f64 to 1e-12, f32 to 1e-5 relative)`, { skip }, () => {
    const model = buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 12, layers: 2, seed: 7 });
    const idx = Int32Array.from({ length: data.train.count }, (_, i) => (i * 7) % data.train.count);
    const want = jsGradients(model, data.train, idx, 3, 67);
    for (const [precision, tol] of [['f64', 1e-12], ['f32', 1e-5]] as const) {
      const w = WasmTrainer.create(model, { precision, batchCapacity: 64, steps: data.train.steps, optimizer: { type: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } });
      assert.ok(w, `${precision}: the wasm path covers ${kind}`);
      w.computeGradients(data.train, idx, 3, 67);
      const got = w.gradients();
      assert.equal(got.length, want.length);
      got.forEach((g, i) => assert.ok(relErr(g, want[i]) <= tol, `${kind} ${precision} parameter ${model.parameters()[i].name}: relative error ${relErr(g, want[i])}`));
    }
  });
}

test('training in wasm f64 follows the JS f64 run; wasm runs are bit-reproducible; f32 stays close', { skip }, () => {
  const run = (o: { wasm: boolean; precision?: 'f32' | 'f64' }) => {
    const m = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 8, layers: 2, seed: 3 });
    const h = train(m, data.train, data.validation, { epochs: 3, batchSize: 64, optimizer: { learningRate: 3e-3 }, seed: 1, ...o });
    return { h, w: m.parameters().map((p) => Array.from(p.value)) };
  };
  const js = run({ wasm: false }), f64 = run({ wasm: true, precision: 'f64' }), f64b = run({ wasm: true, precision: 'f64' }), f32 = run({ wasm: true, precision: 'f32' });
  assert.deepEqual(js.h.kernels, { backend: 'js', precision: 'f64', fma: false });
  assert.equal(f64.h.kernels?.backend, 'wasm');
  assert.deepEqual(f64.w, f64b.w, 'same seed, same data, same machine: bit-identical');
  js.h.trainLoss.forEach((l, e) => {
    assert.ok(Math.abs(f64.h.trainLoss[e] - l) <= 1e-9 * l, `epoch ${e}: wasm f64 ${f64.h.trainLoss[e]} vs JS ${l}`);
    assert.ok(Math.abs(f32.h.trainLoss[e] - l) <= 1e-3 * l, `epoch ${e}: wasm f32 ${f32.h.trainLoss[e]} vs JS ${l}`);
  });
  // f32 weights are f32 values (exact in f64)
  for (const row of f32.w) for (const v of row) assert.equal(Math.fround(v), v);
});

test('models and optimisers the wasm path does not cover train on the JS path', () => {
  for (const kind of ['lrnn', 'iclstm'] as BuiltinModelKind[]) {
    const m = buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 1 });
    assert.equal(WasmTrainer.create(m, { precision: 'f32', batchCapacity: 16, steps: data.train.steps, optimizer: { type: 'adam', learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } }), null, kind);
    assert.equal(train(m, data.train, null, { epochs: 1, batchSize: 64 }).kernels?.backend, 'js', kind);
  }
  const m = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 1 });
  assert.equal(train(m, data.train, null, { epochs: 1, batchSize: 64, optimizer: { type: 'sgd', learningRate: 1e-2 } }).kernels?.backend, 'js', 'SGD');
});

for (const kind of ['lstm', 'icrnn', 'gru'] as BuiltinModelKind[]) {
  test(`${kind}: training in wasm f64 follows the JS f64 run (3 epochs, constraints included) and reports the wasm kernels`, { skip }, () => {
    const run = (wasm: boolean) => {
      const m = buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 6, layers: 2, seed: 5 });
      return train(m, data.train, data.validation, { epochs: 3, batchSize: 64, optimizer: { learningRate: 3e-3 }, seed: 2, wasm, precision: 'f64' });
    };
    const js = run(false), w = run(true);
    assert.equal(w.kernels?.backend, 'wasm');
    js.trainLoss.forEach((l, e) => assert.ok(Math.abs(w.trainLoss[e] - l) <= 1e-9 * l, `epoch ${e}: wasm ${w.trainLoss[e]} vs JS ${l}`));
    js.valLoss.forEach((l, e) => assert.ok(Math.abs(w.valLoss[e] - l) <= 1e-9 * l, `epoch ${e}: validation wasm ${w.valLoss[e]} vs JS ${l}`));
  });
}
