/**
 * Naive baselines and skill: how much better than "nothing changes" a model is.
 *
 * The scaled test MSE alone hides how little a model may have learnt: on the CSTR, predicting that
 * the state stays at its initial value for the whole interval already scores about 5.5e-4. So every
 * evaluation reports, beside the test MSE, the MSE of a naive forecast on the same test sequences in
 * the same scaled space, and the skill ratio `testMse / baselineMse` (< 1: better than the baseline).
 *
 * The naive forecast: each target feature that is also an input feature (same name, or an input
 * `NAME` for a target `NAME(t+k)` as the solar system names its lead target) is predicted, at every
 * step, by that input's value at the same step, i.e. the latest observation of the target quantity
 * the model has been given.
 * - **persistence** when those inputs are constant along every sequence (the CSTR: 10 identical
 *   input rows holding the initial state, so the forecast is "the state stays where it started");
 * - **last-value** otherwise (solar: radiation now, as the forecast of radiation 15 minutes ahead);
 * - **none** when some target is not among the inputs (energy: U -> Y); then only the mean
 *   predictor is reported and the skill is null.
 * The mean predictor (the per-feature mean of the clean, scaled training targets, predicted for
 * every test step) is always reported as a second reference.
 *
 * Pure functions over arrays: no Node APIs.
 */
import type { DatasetSplit, SequenceDataset } from '../systems/dataset.ts';
import { splitIndices } from '../systems/split.ts';
import type { MinMaxScaler } from '../nn/scaler.ts';
import { ValidationError } from '../core/errors.ts';

/** Which naive forecast a data set admits. */
export type BaselineKind = 'persistence' | 'last-value' | 'none';

/** How the naive forecast is formed for a data set. */
export interface NaiveForecastPlan {
  kind: BaselineKind;
  /** For each target feature, the index of the input feature that forecasts it (null: none matches). */
  sources: (number | null)[];
}

/** Baselines of a data set on one split, in the model's scaled output space. */
export interface BaselineReport {
  /** Naive forecast used for the skill. */
  kind: BaselineKind;
  /** MSE of the naive forecast on the test sequences (scaled); null when `kind` is 'none'. */
  baselineMse: number | null;
  /** MSE of predicting the per-feature mean of the training targets (scaled). */
  meanMse: number;
  /** Per target feature: the input feature name used by the naive forecast, or null. */
  sources: (string | null)[];
  /** Number of test sequences evaluated. */
  testCount: number;
}

/** A test MSE put beside its baselines. */
export interface SkillReport extends BaselineReport {
  testMse: number;
  /** `testMse / baselineMse`; null when there is no naive baseline (or it is exactly 0). */
  skill: number | null;
  /** `testMse / meanMse` (null when meanMse is 0). */
  skillVsMean: number | null;
}

/** Input feature that carries target `name`: the same name, or `NAME` for a target `NAME(t+k)`. */
function sourceIndex(name: string, inputNames: readonly string[]): number | null {
  const direct = inputNames.indexOf(name);
  if (direct >= 0) return direct;
  const lead = /^(.+)\(t\s*[+]\s*\d+\)$/.exec(name);
  if (lead) {
    const i = inputNames.indexOf(lead[1]);
    if (i >= 0) return i;
  }
  return null;
}

/**
 * Decides the naive forecast of a data set from its feature names and, to tell persistence from
 * last-value, whether the matched inputs are constant along every sequence.
 */
export function naiveForecastPlan(d: SequenceDataset): NaiveForecastPlan {
  const sources = d.outputNames.map((n) => sourceIndex(n, d.inputNames));
  if (sources.length !== d.outputSize || sources.some((s) => s === null)) return { kind: 'none', sources };
  const s = d.steps, ni = d.inputSize;
  for (let i = 0; i < d.count; i++) {
    const base = i * s * ni;
    for (let t = 1; t < s; t++)
      for (const c of sources as number[]) if (d.inputs[base + t * ni + c] !== d.inputs[base + c]) return { kind: 'last-value', sources };
  }
  return { kind: 'persistence', sources };
}

/** Scaled value of physical `v` for output feature j (identity without a scaler). */
function scaleOut(scaler: MinMaxScaler | null, j: number, v: number): number {
  return scaler ? (v - scaler.min[j]) * scaler.factor(j) : v;
}

/**
 * MSE, in the scaled output space, of the naive forecast over the listed sequences: target feature
 * j at step t is predicted by input feature `plan.sources[j]` at step t (physical units, mapped
 * through the output scaler of feature j). Averaged over sequences, steps and features, as the test
 * MSE. Returns null when the plan is 'none'.
 */
export function naiveForecastMse(d: SequenceDataset, indices: ArrayLike<number>, outputScaler: MinMaxScaler | null, plan = naiveForecastPlan(d)): number | null {
  if (plan.kind === 'none') return null;
  if (indices.length === 0) throw new ValidationError('naiveForecastMse: no sequences to evaluate');
  const s = d.steps, ni = d.inputSize, no = d.outputSize;
  let sum = 0;
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    for (let t = 0; t < s; t++) {
      const xr = (i * s + t) * ni, yr = (i * s + t) * no;
      for (let j = 0; j < no; j++) {
        const e = scaleOut(outputScaler, j, d.inputs[xr + plan.sources[j]!]) - scaleOut(outputScaler, j, d.targets[yr + j]);
        sum += e * e;
      }
    }
  }
  return sum / (indices.length * s * no);
}

/**
 * MSE, in the scaled output space, of predicting for every step of the `evaluate` sequences the
 * per-feature mean of the targets of the `fit` sequences (all their steps).
 */
export function meanPredictorMse(d: SequenceDataset, fit: ArrayLike<number>, evaluate: ArrayLike<number>, outputScaler: MinMaxScaler | null): number {
  if (fit.length === 0 || evaluate.length === 0) throw new ValidationError('meanPredictorMse: no sequences to fit or evaluate');
  const s = d.steps, no = d.outputSize;
  const mean = new Float64Array(no);
  for (let k = 0; k < fit.length; k++)
    for (let t = 0; t < s; t++) {
      const yr = (fit[k] * s + t) * no;
      for (let j = 0; j < no; j++) mean[j] += scaleOut(outputScaler, j, d.targets[yr + j]);
    }
  for (let j = 0; j < no; j++) mean[j] /= fit.length * s;
  let sum = 0;
  for (let k = 0; k < evaluate.length; k++)
    for (let t = 0; t < s; t++) {
      const yr = (evaluate[k] * s + t) * no;
      for (let j = 0; j < no; j++) {
        const e = scaleOut(outputScaler, j, d.targets[yr + j]) - mean[j];
        sum += e * e;
      }
    }
  return sum / (evaluate.length * s * no);
}

/**
 * Baselines of a data set on a split, in the scaled space of `outputScaler` (the model's; null:
 * targets are already in model space): the naive forecast on the test part, and the mean of the
 * clean training targets predicted on the test part.
 */
export function evaluateBaselines(d: SequenceDataset, split: DatasetSplit, outputScaler: MinMaxScaler | null): BaselineReport {
  const plan = naiveForecastPlan(d);
  return {
    kind: plan.kind,
    baselineMse: naiveForecastMse(d, split.test, outputScaler, plan),
    meanMse: meanPredictorMse(d, split.train, split.test, outputScaler),
    sources: plan.sources.map((c) => (c === null ? null : d.inputNames[c])),
    testCount: split.test.length,
  };
}

/** `testMse / baselineMse`, or null when there is no (or a zero) baseline. */
export function skillRatio(testMse: number, baselineMse: number | null): number | null {
  if (baselineMse === null || !(baselineMse > 0) || !Number.isFinite(testMse)) return null;
  return testMse / baselineMse;
}

/**
 * Puts a test MSE beside the baselines of its data set and split: `skill` is test MSE over the
 * naive (persistence or last-value) forecast's MSE, `skillVsMean` over the mean predictor's.
 * Below 1 means the model beats the baseline.
 *
 * @example
 * ```js
 * const report = skillReport(2e-5, testBaselines(data, 0, fit.outputScaler));
 * report.skill; // 2e-5 / 5.5e-4 on the CSTR, about 0.036
 * ```
 */
export function skillReport(testMse: number, baselines: BaselineReport): SkillReport {
  return { ...baselines, testMse, skill: skillRatio(testMse, baselines.baselineMse), skillVsMean: skillRatio(testMse, baselines.meanMse) };
}

/**
 * {@link evaluateBaselines} on the split drawn with `splitSeed` (the split {@link splitIndices}
 * gives, as `testMseOf` uses): for evaluating a stored model with its own output scaler.
 *
 * @example
 * ```js
 * const data = generateCstrDataset();
 * const fit = fitModel(data, { kind: 'iclrnn', hidden: 16, layers: 1, epochs: 5 });
 * const skill = skillReport(testMseOf(fit, data, 0), testBaselines(data, 0, fit.outputScaler));
 * console.log(skill.kind, skill.baselineMse, skill.skill); // 'persistence', ~5.5e-4, test / baseline
 * ```
 */
export function testBaselines(d: SequenceDataset, splitSeed: number, outputScaler: MinMaxScaler | null): BaselineReport {
  return evaluateBaselines(d, splitIndices(d.count, splitSeed), outputScaler);
}
