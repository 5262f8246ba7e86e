// Batch evaluation in the f64 wasm kernels (evaluateMse, predictPhysical from WASM_FORWARD_MIN_ROWS
// rows on): equal to the plain-JS forward to rounding, and the JS path where wasm is off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setWasmDisabled, wasmSupport } from '../../src/core/wasm.ts';
import { evaluateMse, WASM_FORWARD_MIN_ROWS } from '../../src/train/trainer.ts';
import { fitModel, predictPhysical } from '../../src/train/pipeline.ts';
import { WasmPredictor } from '../../src/nn/wasm-predictor.ts';
import { smallCstr } from '../helpers.ts';

const skip = wasmSupport().simd ? false : 'no WebAssembly SIMD in this engine';

test('evaluateMse and predictPhysical of an RNN and an ICLRNN: wasm equals JS to 1e-12 relative', { skip }, () => {
  const data = smallCstr(3);
  for (const kind of ['rnn', 'iclrnn'] as const) {
    const fit = fitModel(data, { kind, hidden: 12, layers: 2, epochs: 1, seed: 2 });
    const test = fit.data.test;
    assert.ok(test.count * test.steps >= WASM_FORWARD_MIN_ROWS, `test split of ${test.count} sequences is too small to take the wasm path`);
    assert.ok(WasmPredictor.create(fit.model), `${kind}: the wasm predictor covers the model`);
    const batch = test.count, steps = test.steps;
    const x = new Float64Array(batch * steps * data.inputSize);
    for (let i = 0; i < x.length; i++) x[i] = data.inputs[i % data.inputs.length];
    const wasmMse = evaluateMse(fit.model, test), wasmY = predictPhysical(fit, x, batch, steps);
    const was = setWasmDisabled(true);
    let jsMse: number, jsY: Float64Array;
    try {
      jsMse = evaluateMse(fit.model, test);
      jsY = predictPhysical(fit, x, batch, steps);
    } finally {
      setWasmDisabled(was);
    }
    assert.ok(Math.abs(wasmMse - jsMse) <= 1e-12 * jsMse, `${kind}: ${wasmMse} vs ${jsMse}`);
    let num = 0, den = 0;
    for (let i = 0; i < jsY.length; i++) {
      num += (wasmY[i] - jsY[i]) ** 2;
      den += jsY[i] ** 2;
    }
    assert.ok(den > 0 && Math.sqrt(num / den) < 1e-12, `${kind}: relative error ${Math.sqrt(num / den)}`);
  }
});
