// The forward-mode interpreter behind the MPC predictor's engine interface (ProgramTangentEngine):
// equal to the hand-written TangentEngine where that exists, and the MPC predictor of the families
// it does not cover (LRNN, GRU) uses it, with Jacobians equal to finite differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TangentEngine } from '../../src/control/index.ts';
import { ProgramTangentEngine } from '../../src/nn/program-stack.ts';
import { buildModel, type BuiltinModelKind } from '../../src/nn/models.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import type { ScaledModel } from '../../src/train/pipeline.ts';
import { Rng } from '../../src/core/rng.ts';

const inScaler = new MinMaxScaler({ min: [-100, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] });
const outScaler = new MinMaxScaler({ min: [-100, -2], max: [200, 4] });

function scaled(kind: BuiltinModelKind, seed: number): ScaledModel {
  const model = buildModel(kind, { inputSize: 4, outputSize: 2, hidden: 8, layers: 2, seed, lipschitz: { eps: 0.2 } });
  if (kind === 'lrnn' || kind === 'gru') {
    // weights large enough that every part of the cell moves the output visibly
    const rng = new Rng(seed);
    for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = 0.5 * rng.normal();
  }
  return { model, inputScaler: inScaler, outputScaler: outScaler };
}

for (const kind of ['rnn', 'lstm', 'icrnn', 'iclstm', 'iclrnn'] as const) {
  test(`ProgramTangentEngine (${kind}) equals the TangentEngine to 1e-10`, () => {
    const m = scaled(kind, 2).model, na = m.augmentedSize, lanes = 5, steps = 10, rng = new Rng(6);
    const a = Float64Array.from({ length: lanes * na }, (_, i) => (i < na ? rng.uniform() : rng.normal()));
    const ref = new Float64Array(steps * lanes * m.outputSize), out = new Float64Array(ref.length);
    new TangentEngine(m, lanes).run(a, lanes, steps, ref);
    new ProgramTangentEngine(m, lanes).run(a, lanes, steps, out);
    let err = 0, scale = 0;
    for (let i = 0; i < ref.length; i++) {
      err = Math.max(err, Math.abs(out[i] - ref[i]));
      scale = Math.max(scale, Math.abs(ref[i]));
    }
    assert.ok(err <= 1e-10 * scale, `${kind}: ${err} (scale ${scale})`);
  });
}

