// Library side of issue 9 items 4 and 6: divergence detection in the trainer, the async trainer
// (same numbers, stops on an AbortSignal), and warnings returned (never printed) by fitModel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/nn/models.ts';
import { train, trainAsync, TrainingDivergedError, type TrainingData } from '../../src/train/trainer.ts';
import { fitModel } from '../../src/train/pipeline.ts';
import { scalingProblems } from '../../src/nn/scaler.ts';
import type { SequenceDataset } from '../../src/systems/dataset.ts';

function data(count: number, steps: number, seed: number): TrainingData {
  const inputs = new Float64Array(count * steps * 2), targets = new Float64Array(count * steps);
  for (let i = 0; i < inputs.length; i++) inputs[i] = (Math.sin(i * 1.7 + seed) + 1) / 2;
  for (let i = 0; i < targets.length; i++) targets[i] = 0.5 * inputs[2 * i] + 0.25 * inputs[2 * i + 1];
  return { inputs, targets, count, steps };
}

test('an exploding loss throws TrainingDivergedError by default; action stop restores the last sound weights', () => {
  const d = data(64, 3, 1);
  const model = buildModel('rnn', { inputSize: 2, outputSize: 1, hidden: 4, layers: 1, seed: 0 });
  assert.throws(() => train(model, d, null, { epochs: 3, batchSize: 16, optimizer: { learningRate: 1e9 } }), (e: unknown) => e instanceof TrainingDivergedError && /diverged at epoch 1/.test(e.message));
  const m2 = buildModel('rnn', { inputSize: 2, outputSize: 1, hidden: 4, layers: 1, seed: 0 });
  const before = m2.parameters().map((p) => Float64Array.from(p.value));
  const h = train(m2, d, null, { epochs: 3, batchSize: 16, optimizer: { learningRate: 1e9 }, divergence: { action: 'stop' } });
  assert.ok(h.diverged && h.diverged.epoch === 1 && h.diverged.loss > 1e4 * h.diverged.initialLoss);
  // diverged in the first epoch: the untouched initial weights are back (then constraints finalised: rnn has none)
  m2.parameters().forEach((p, i) => assert.deepEqual(Array.from(p.value), Array.from(before[i])));
  // a sane learning rate does not trip the detector
  const m3 = buildModel('rnn', { inputSize: 2, outputSize: 1, hidden: 4, layers: 1, seed: 0 });
  assert.equal(train(m3, d, null, { epochs: 3, batchSize: 16, optimizer: { learningRate: 1e-2 } }).diverged, null);
});

test('trainAsync gives bit-identical weights to train and stops when aborted', async () => {
  const d = data(64, 3, 2), v = data(16, 3, 3);
  const a = buildModel('iclrnn', { inputSize: 2, outputSize: 1, hidden: 4, layers: 1, seed: 5 });
  const b = buildModel('iclrnn', { inputSize: 2, outputSize: 1, hidden: 4, layers: 1, seed: 5 });
  const ha = train(a, d, v, { epochs: 4, batchSize: 8, seed: 1 });
  const hb = await trainAsync(b, d, v, { epochs: 4, batchSize: 8, seed: 1, yieldEveryMs: 0 });
  assert.deepEqual(hb.trainLoss, ha.trainLoss);
  a.parameters().forEach((p, i) => assert.deepEqual(Array.from(b.parameters()[i].value), Array.from(p.value)));
  const c = buildModel('iclrnn', { inputSize: 2, outputSize: 1, hidden: 4, layers: 1, seed: 5 });
  const abort = new AbortController();
  const hc = await trainAsync(c, d, v, { epochs: 1000, batchSize: 8, seed: 1, yieldEveryMs: 0, onEpoch: (i) => void (i.epoch === 2 && abort.abort()), signal: abort.signal });
  assert.equal(hc.interrupted, true);
  assert.equal(hc.epochsRun, 2);
});

test('fitModel returns degenerate-scaling and zero-weight warnings instead of printing them', () => {
  const count = 40, steps = 2;
  const inputs = new Float64Array(count * steps * 2), targets = new Float64Array(count * steps);
  for (let r = 0; r < count * steps; r++) {
    inputs[2 * r] = Math.sin(r);
    inputs[2 * r + 1] = 7; // constant
    targets[r] = Math.cos(r);
  }
  inputs[2 * 33] = 1e300; // one outlier
  const ds: SequenceDataset = { name: 'toy', count, steps, inputSize: 2, outputSize: 1, inputs, targets, inputNames: ['u', 'c'], outputNames: ['y'] };
  const writes: unknown[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  (process.stderr as { write: unknown }).write = (s: unknown) => (writes.push(s), true);
  let fit;
  try {
    fit = fitModel(ds, { kind: 'rnn', hidden: 3, layers: 1, epochs: 1, seed: 0 });
  } finally {
    (process.stderr as { write: unknown }).write = orig;
  }
  assert.equal(writes.length, 0, 'the library printed nothing');
  const codes = fit.warnings.map((w) => `${w.code}:${w.column ?? w.parameter}`);
  assert.ok(codes.includes('constant-feature:c'), codes.join(', '));
  assert.ok(codes.includes('outlier-dominated-feature:u'), codes.join(', '));
  assert.match(fit.warnings.find((w) => w.code === 'outlier-dominated-feature')!.message, /sequence 16, step 1: 1e\+300/);
  // a heavy-tailed but honest column is not flagged; a sparse binary one neither
  const honest = Float64Array.from({ length: 1000 }, (_, i) => Math.exp((i % 100) / 10));
  assert.equal(scalingProblems(honest, 1).length, 0);
  const sparse = Float64Array.from({ length: 1000 }, (_, i) => (i % 100 === 0 ? 1 : 0));
  assert.equal(scalingProblems(sparse, 1).length, 0);
});
