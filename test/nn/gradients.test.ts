// Finite-difference checks of every cell and head: gradients w.r.t. parameters and inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, MODEL_KINDS, isInputConvexKind } from '../../src/nn/models.ts';
import { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';

const batch = 3, steps = 4, inputSize = 3, outputSize = 2;

function loss(model: SequenceModel, x: Float64Array, w: Float64Array): number {
  const y = model.forward(x, batch, steps);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += w[i] * y[i];
  return s;
}

function check(model: SequenceModel, seed: number, label: string): void {
  const rng = new Rng(seed);
  const convex = isInputConvexKind(model.spec.kind);
  // Larger random weights than the initialisers so every nonlinearity is exercised.
  for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = convex ? 0.6 * rng.uniform() : 0.8 * rng.normal();
  const x = new Float64Array(batch * steps * inputSize).map(() => rng.uniformIn(-1, 1));
  const w = new Float64Array(batch * steps * outputSize).map(() => rng.normal());
  model.zeroGrad();
  model.forward(x, batch, steps);
  const dx = model.backward(w, batch, steps);
  const h = 1e-6;
  let worst = 0;
  const compare = (analytic: number, numeric: number, what: string) => {
    const err = Math.abs(analytic - numeric) / Math.max(1e-3, Math.abs(analytic) + Math.abs(numeric));
    worst = Math.max(worst, err);
    assert.ok(err < 1e-4, `${label}: ${what}: analytic ${analytic} vs finite difference ${numeric}`);
  };
  for (const { path, param } of model.namedParameters()) {
    const g = Float64Array.from(param.grad);
    // check up to 6 entries per parameter, spread over the matrix
    const idx = new Set<number>();
    for (let k = 0; k < Math.min(6, param.value.length); k++) idx.add(rng.int(param.value.length));
    for (const i of idx) {
      const v = param.value[i];
      param.value[i] = v + h;
      const lp = loss(model, x, w);
      param.value[i] = v - h;
      const lm = loss(model, x, w);
      param.value[i] = v;
      compare(g[i], (lp - lm) / (2 * h), `${path}[${i}]`);
    }
  }
  for (let k = 0; k < 8; k++) {
    const i = rng.int(x.length);
    const v = x[i];
    x[i] = v + h;
    const lp = loss(model, x, w);
    x[i] = v - h;
    const lm = loss(model, x, w);
    x[i] = v;
    compare(dx[i], (lp - lm) / (2 * h), `input[${i}]`);
  }
  assert.ok(worst < 1e-4);
}

for (const kind of MODEL_KINDS) {
  test(`gradient check: ${kind} (2 layers, params and inputs)`, () => {
    for (const seed of [1, 2]) {
      const model = buildModel(kind, { inputSize, outputSize, hidden: 5, layers: 2, seed });
      check(model, 100 + seed, kind);
    }
  });
}

test('gradient check: one-layer models and a tanh / sigmoid head', () => {
  const model = new SequenceModel({
    kind: 'custom',
    inputSize,
    augmentation: { offset: [0.5, 1, 0] },
    cells: [{ type: 'simple', inputSize: 6, units: 4, activation: 'tanh' }],
    head: [
      { inputSize: 4, units: 3, activation: 'tanh' },
      { inputSize: 3, units: outputSize, activation: 'sigmoid' },
    ],
  });
  check(model, 7, 'custom');
});

test('backward rejects a shape other than the last forward', () => {
  const model = buildModel('rnn', { inputSize, outputSize, hidden: 3, layers: 1 });
  model.forward(new Float64Array(batch * steps * inputSize), batch, steps);
  assert.throws(() => model.backward(new Float64Array(2 * steps * outputSize), 2, steps), /different shape/);
});

test('input-gradient-only backward gives the same input gradient and touches no parameter gradient', () => {
  for (const kind of MODEL_KINDS) {
    const model = buildModel(kind, { inputSize, outputSize, hidden: 4, layers: 2, seed: 5 });
    const rng = new Rng(8);
    const x = new Float64Array(batch * steps * inputSize).map(() => rng.uniform());
    const w = new Float64Array(batch * steps * outputSize).map(() => rng.normal());
    const { toTimeMajor } = { toTimeMajor: (a: Float64Array, f: number) => { const o = new Float64Array(a.length); for (let b = 0; b < batch; b++) for (let t = 0; t < steps; t++) for (let j = 0; j < f; j++) o[(t * batch + b) * f + j] = a[(b * steps + t) * f + j]; return o; } };
    const xt = toTimeMajor(x, inputSize), wt = toTimeMajor(w, outputSize);
    model.zeroGrad();
    model.forwardTimeMajor(xt, batch, steps);
    const full = Float64Array.from(model.backwardTimeMajor(wt, true, true)!);
    model.zeroGrad();
    model.forwardTimeMajor(xt, batch, steps);
    const only = Float64Array.from(model.backwardTimeMajor(wt, true, false)!);
    assert.deepEqual(Array.from(only), Array.from(full), kind);
    for (const p of model.parameters()) assert.ok(p.grad.every((g) => g === 0), `${kind}: ${p.name} gradient touched`);
  }
});
