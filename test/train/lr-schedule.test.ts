// Learning-rate schedules (TrainOptions.learningRateSchedule, `train --lr-schedule`): the factor per
// epoch, that both training paths apply it alike, and the CLI's parsing and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { wasmSupport } from '../../src/core/wasm.ts';
import { buildModel } from '../../src/nn/models.ts';
import { prepareData } from '../../src/train/pipeline.ts';
import { train } from '../../src/train/trainer.ts';
import { checkLearningRateSchedule, learningRateFactor, Sgd } from '../../src/train/optimizers.ts';
import { createParameter } from '../../src/nn/parameter.ts';
import { parseLearningRateSchedule } from '../../src/cli/commands/core.ts';
import { smallCstr } from '../helpers.ts';

const skip = wasmSupport().simd ? false : 'no WebAssembly SIMD in this engine';

test('cosine decays from 1 to minFactor, monotonically; step multiplies every `every` epochs; constant is 1', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 500 }), fc.double({ min: 0, max: 1, noNaN: true }), (epochs, min) => {
      const s = { type: 'cosine', minFactor: min } as const;
      assert.equal(learningRateFactor(s, 0, epochs), 1);
      assert.ok(Math.abs(learningRateFactor(s, epochs - 1, epochs) - min) < 1e-12);
      for (let e = 1; e < epochs; e++) assert.ok(learningRateFactor(s, e, epochs) <= learningRateFactor(s, e - 1, epochs) + 1e-15);
    }),
  );
  assert.ok(Math.abs(learningRateFactor({ type: 'cosine' }, 99, 100) - 0.01) < 1e-15, 'default minFactor 0.01');
  assert.deepEqual([0, 9, 10, 19, 20].map((e) => learningRateFactor({ type: 'step', every: 10, factor: 0.5 }, e, 100)), [1, 1, 0.5, 0.5, 0.25]);
  assert.equal(learningRateFactor({ type: 'constant' }, 5, 10), 1);
  assert.equal(learningRateFactor(undefined, 5, 10), 1);
  assert.throws(() => checkLearningRateSchedule({ type: 'step', every: 0, factor: 0.5 }), /every must be a positive integer/);
  assert.throws(() => checkLearningRateSchedule({ type: 'cosine', minFactor: 2 }), /minFactor must be in \[0, 1\]/);
});

test('the optimiser step scales with the factor (SGD: the update is lr x factor x gradient)', () => {
  const p = createParameter('w', 1, 3, null);
  p.value.set([1, 2, 3]);
  p.grad.set([1, -1, 2]);
  const sgd = new Sgd(0.1, 0);
  sgd.learningRateFactor = 0.25;
  sgd.step([p]);
  [1 - 0.025, 2 + 0.025, 3 - 0.05].forEach((w, i) => assert.ok(Math.abs(p.value[i] - w) < 1e-15));
});

test('a schedule changes training, and the wasm f64 path applies it as the JS path does', { skip }, () => {
  const data = prepareData(smallCstr(12), {});
  const run = (wasm: boolean, schedule?: { type: 'step'; every: number; factor: number }) => {
    const m = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 6, layers: 1, seed: 2 });
    return train(m, data.train, data.validation, { epochs: 3, batchSize: 64, optimizer: { learningRate: 1e-2 }, learningRateSchedule: schedule, seed: 1, wasm, precision: 'f64' });
  };
  const step = { type: 'step', every: 1, factor: 0.1 } as const;
  const js = run(false, step), w = run(true, step), constant = run(true);
  assert.equal(w.kernels?.backend, 'wasm');
  js.trainLoss.forEach((l, e) => assert.ok(Math.abs(w.trainLoss[e] - l) <= 1e-9 * l, `epoch ${e}: wasm ${w.trainLoss[e]} vs JS ${l}`));
  assert.equal(w.trainLoss[0], constant.trainLoss[0], 'the first epoch runs at the full rate');
  assert.notEqual(w.trainLoss[2], constant.trainLoss[2]);
});

test('--lr-schedule parsing; a bad value is one usage line naming the flag (exit 2)', () => {
  assert.deepEqual(parseLearningRateSchedule(undefined), { type: 'constant' });
  assert.deepEqual(parseLearningRateSchedule('cosine'), { type: 'cosine' });
  assert.deepEqual(parseLearningRateSchedule('cosine:0.05'), { type: 'cosine', minFactor: 0.05 });
  assert.deepEqual(parseLearningRateSchedule('step:50:0.5'), { type: 'step', every: 50, factor: 0.5 });
  for (const bad of ['linear', 'cosine:x', 'step:10', 'step:0:0.5', 'cosine:1.5']) assert.throws(() => parseLearningRateSchedule(bad), /--lr-schedule/, bad);
  const bin = new URL('../../bin/iclrnn.mjs', import.meta.url).pathname;
  const r = spawnSync(process.execPath, [bin, 'train', '--system', 'cstr', '--model', 'iclrnn', '--epochs', '1', '--lr-schedule', 'step:10', '--out', join(tmpdir(), 'iclrnn-lr-schedule-never-written.json')], { encoding: 'utf8', env: { ...process.env, ICLRNN_FROM_SOURCE: '1' } });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^iclrnn: --lr-schedule "step:10": expected/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
