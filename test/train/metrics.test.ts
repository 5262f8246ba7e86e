// Naive baselines and skill (src/train/metrics.ts): hand-computed cases, the CSTR numbers of issue 15
// checked through an independent path, and the fields fitModel returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SequenceDataset } from '../../src/systems/dataset.ts';
import { generateCstrDataset } from '../../src/systems/cstr.ts';
import { splitIndices } from '../../src/systems/split.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import { fitModel, prepareData } from '../../src/train/pipeline.ts';
import {
  evaluateBaselines, meanPredictorMse, naiveForecastMse, naiveForecastPlan, skillRatio, skillReport, testBaselines,
} from '../../src/train/metrics.ts';
import { ValidationError } from '../../src/core/errors.ts';

const close = (a: number | null, b: number, tol = 1e-12, what = '') => assert.ok(a !== null && Math.abs(a - b) <= tol, `${what}: got ${a}, expected ${b}`);

/** 2 sequences x 2 steps; inputs [x, u], target [x] (or the given target name). */
function tiny(outputName: string, xRows: [number, number][][]): SequenceDataset {
  return {
    name: 'tiny', count: 2, steps: 2, inputSize: 2, outputSize: 1,
    inputs: Float64Array.from(xRows.flat(2)),
    targets: Float64Array.of(2, 3, 4, 6),
    inputNames: ['x', 'u'], outputNames: [outputName],
  };
}
const constantRows: [number, number][][] = [[[1, 5], [1, 5]], [[4, 0], [4, 0]]];

test('persistence: constant input rows holding the state, hand-computed MSE with and without a scaler', () => {
  const d = tiny('x', constantRows);
  const plan = naiveForecastPlan(d);
  assert.deepEqual(plan, { kind: 'persistence', sources: [0] });
  // predictions 1,1 | 4,4 against 2,3 | 4,6: squared errors 1, 4, 0, 4 -> 9/4
  close(naiveForecastMse(d, [0, 1], null), 2.25, 1e-15, 'unscaled');
  // output scaler min 0, max 10 (factor 0.1): errors 0.1, 0.2, 0, 0.2 -> 0.09/4
  const sc = new MinMaxScaler({ min: [0], max: [10] });
  close(naiveForecastMse(d, [0, 1], sc), 0.0225, 1e-15, 'scaled');
  close(naiveForecastMse(d, [1], sc), 0.02, 1e-15, 'sequence 1 only');
});

test('mean predictor: per-feature mean of the fit sequences (hand-computed)', () => {
  const d = tiny('x', constantRows);
  const sc = new MinMaxScaler({ min: [0], max: [10] });
  // mean of scaled targets of sequence 0: (0.2 + 0.3)/2 = 0.25; on sequence 1 (0.4, 0.6): (0.15^2 + 0.35^2)/2
  close(meanPredictorMse(d, [0], [1], sc), (0.15 ** 2 + 0.35 ** 2) / 2, 1e-15, 'mean predictor');
  assert.throws(() => meanPredictorMse(d, [], [1], sc), ValidationError);
});

test('last-value: a NAME(t+k) target forecast by input NAME at the same step; inputs vary along the sequence', () => {
  const d = tiny('x(t+1)', [[[1, 5], [2, 5]], [[4, 0], [4, 0]]]);
  assert.deepEqual(naiveForecastPlan(d), { kind: 'last-value', sources: [0] });
  // predictions 1,2 | 4,4 against 2,3 | 4,6: squared errors 1, 1, 0, 4 -> 6/4
  close(naiveForecastMse(d, [0, 1], null), 1.5, 1e-15, 'last value');
  // a same-step target that is itself an input (generic time series): the baseline is exact, the skill undefined
  const same: SequenceDataset = { ...d, targets: Float64Array.of(1, 2, 4, 4), outputNames: ['x'] };
  const b = evaluateBaselines(same, { train: Int32Array.of(0), validation: new Int32Array(0), test: Int32Array.of(0, 1) }, null);
  assert.equal(b.kind, 'last-value');
  assert.equal(b.baselineMse, 0);
  assert.equal(skillReport(1e-3, b).skill, null);
});

test('none: a target that is not among the inputs gives no naive baseline and a null skill', () => {
  const d = tiny('y', constantRows);
  const split = { train: Int32Array.of(0), validation: new Int32Array(0), test: Int32Array.of(1) };
  const b = evaluateBaselines(d, split, null);
  assert.equal(b.kind, 'none');
  assert.equal(b.baselineMse, null);
  assert.deepEqual(b.sources, [null]);
  close(b.meanMse, (1.5 ** 2 + 3.5 ** 2) / 2, 1e-12, 'mean predictor still reported');
  const r = skillReport(0.5, b);
  assert.equal(r.skill, null);
  close(r.skillVsMean, 0.5 / b.meanMse, 1e-15, 'skill vs mean');
});

test('skillRatio: test / baseline, null for a missing, zero or non-finite case', () => {
  close(skillRatio(1e-4, 5e-4), 0.2, 1e-15, 'ratio');
  assert.equal(skillRatio(1e-4, null), null);
  assert.equal(skillRatio(1e-4, 0), null);
  assert.equal(skillRatio(Number.NaN, 1), null);
});

test('CSTR, split seed 0: persistence about 5.5e-4 and the mean predictor about 5.8e-2 (independent recomputation)', () => {
  const d = generateCstrDataset();
  const data = prepareData(d, { splitSeed: 0 });
  const b = evaluateBaselines(d, data.split, data.outputScaler);
  assert.equal(b.kind, 'persistence');
  assert.deepEqual(b.sources, ['x2', 'x1']);
  // Independent path: the scaled test inputs back to physical units, the initial state (step 0,
  // features x2, x1) through the output scaler, against the scaled test targets of every step.
  const t = data.test, phys = data.inputScaler.inverse(t.inputs);
  let sum = 0;
  for (let i = 0; i < t.count; i++)
    for (let s = 0; s < t.steps; s++)
      for (let j = 0; j < 2; j++) {
        const pred = data.outputScaler.transform(Float64Array.of(phys[i * t.steps * 4], phys[i * t.steps * 4 + 1]))[j];
        sum += (pred - t.targets[(i * t.steps + s) * 2 + j]) ** 2;
      }
  const persistence = sum / (t.count * t.steps * 2);
  close(b.baselineMse, persistence, 1e-15, 'persistence vs independent recomputation');
  assert.ok(persistence > 5.4e-4 && persistence < 5.6e-4, `persistence ${persistence}, issue 15 reports 5.5e-4`);
  assert.ok(b.meanMse > 5.7e-2 && b.meanMse < 5.9e-2, `mean predictor ${b.meanMse}, issue 15 reports 5.8e-2`);
  // the same through the split-seed entry point used by `iclrnn eval`
  assert.deepEqual(testBaselines(d, 0, data.outputScaler), b);
  assert.deepEqual(splitIndices(d.count, 0).test, data.split.test);
});

test('fitModel returns baselineMse and skill = testMse / baselineMse on its own test split', () => {
  // 40 sequences of a decaying state x under input u: persistence is a fair, non-trivial baseline
  const count = 40, steps = 3;
  const inputs = new Float64Array(count * steps * 2), targets = new Float64Array(count * steps);
  for (let i = 0; i < count; i++) {
    const x0 = (i % 7) / 7, u = (i % 3) - 1;
    for (let t = 0; t < steps; t++) {
      inputs.set([x0, u], (i * steps + t) * 2);
      targets[i * steps + t] = x0 * 0.9 ** (t + 1) + 0.05 * u * (t + 1);
    }
  }
  const d: SequenceDataset = { name: 'decay', count, steps, inputSize: 2, outputSize: 1, inputs, targets, inputNames: ['x', 'u'], outputNames: ['x'] };
  const fit = fitModel(d, { kind: 'rnn', hidden: 3, layers: 1, epochs: 2, seed: 1 });
  assert.equal(fit.baselines.kind, 'persistence');
  const expected = naiveForecastMse(d, fit.data.split.test, fit.outputScaler);
  close(fit.baselineMse, expected!, 1e-15, 'baselineMse');
  close(fit.skill, fit.testMse / expected!, 1e-12, 'skill');
});
