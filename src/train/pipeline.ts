/**
 * From a data set to a trained, evaluated model: split, min-max scaling fitted on the training
 * part, the paper's noise protocol (Gaussian noise on the scaled training targets), training, test MSE
 * on clean scaled test targets.
 */
import { Rng } from '../core/rng.ts';
import { buildModel, type BuildOptions, type BuiltinModelKind } from '../nn/models.ts';
import { toBatchMajor, toTimeMajor, type SequenceModel } from '../nn/model.ts';
import { WasmPredictor } from '../nn/wasm-predictor.ts';
import type { DatasetSplit, SequenceDataset } from '../systems/dataset.ts';
import { assertFiniteDataset } from '../systems/dataset.ts';
import { splitIndices } from '../systems/split.ts';
import { MinMaxScaler, scalingProblems } from '../nn/scaler.ts';
import { evaluateBaselines, skillRatio, type BaselineReport } from './metrics.ts';
import { evaluateMse, train, trainAsync, WASM_FORWARD_MIN_ROWS, type EpochInfo, type TrainHistory, type TrainingData, type TrainOptions } from './trainer.ts';
import { ValidationError } from '../core/errors.ts';

export type { ScaledModel } from '../nn/scaled-model.ts';
import type { ScaledModel } from '../nn/scaled-model.ts';

/** A data set split into train / validation / test, scaled with scalers fitted on the training part (see `prepareData`). */
export interface PreparedData {
  split: DatasetSplit;
  inputScaler: MinMaxScaler;
  outputScaler: MinMaxScaler;
  train: TrainingData;
  validation: TrainingData;
  test: TrainingData;
  /** Degenerate scaling found on the training part (constant features, ranges dominated by outliers). */
  warnings: FitWarning[];
}

/**
 * Something suspicious about a fit that does not stop it: a degenerate scaling (a constant
 * feature, a range dominated by a few outliers) or a degenerate model (an all-zero weight matrix).
 * The library returns these; the CLI prints them.
 */
export interface FitWarning {
  code: 'constant-feature' | 'outlier-dominated-feature' | 'zero-weights';
  /** One line, naming the column (and rows) or the parameter. */
  message: string;
  /** The feature (column) name, for scaling warnings. */
  column?: string;
  /** 1-based source rows (or data set positions) of the outliers, at most 5. */
  rows?: string[];
  /** The parameter path, for zero-weight warnings. */
  parameter?: string;
}

function describeScalingProblems(dataset: SequenceDataset, split: DatasetSplit): FitWarning[] {
  const out: FitWarning[] = [];
  const where = (row: number): string => {
    const sequence = Math.floor(row / dataset.steps), step = row % dataset.steps;
    return dataset.rowOf ? `row ${dataset.rowOf(sequence, step)}` : `sequence ${sequence}, step ${step}`;
  };
  for (const [what, data, width, names] of [
    ['input', dataset.inputs, dataset.inputSize, dataset.inputNames],
    ['output', dataset.targets, dataset.outputSize, dataset.outputNames],
  ] as const) {
    // Constant features: on the training rows (where the scaler is fitted); outliers: anywhere (an
    // outlier in the test part makes the test metrics as meaningless as one in the training part).
    const problems = [
      ...scalingProblems(data, width, split.train, dataset.steps, ['constant']),
      ...scalingProblems(data, width, undefined, 1, ['outliers']),
    ];
    for (const p of problems) {
      const column = names[p.feature] ?? String(p.feature);
      if (p.kind === 'constant') {
        out.push({ code: 'constant-feature', column, message: `${what} column '${column}' is constant (${p.min}) on the training data: it carries no information (scaled to 0)` });
      } else {
        const rows = p.outliers.map((o) => where(o.row));
        const list = p.outliers.map((o, i) => `${rows[i]}: ${o.value}`).join('; ');
        out.push({
          code: 'outlier-dominated-feature',
          column,
          rows,
          message:
            `${what} column '${column}': ${p.outlierCount} outlier${p.outlierCount === 1 ? '' : 's'} (${list}${p.outlierCount > p.outliers.length ? '; ...' : ''}) ` +
            `stretch its range to [${p.min}, ${p.max}] while 98 % of the values lie in [${p.bulk[0]}, ${p.bulk[1]}]; min-max scaling squeezes them together (check the data)`,
        });
      }
    }
  }
  return out;
}

/** All-zero weight matrices of a trained model (its output then ignores what feeds them). */
export function zeroWeightWarnings(model: SequenceModel): FitWarning[] {
  const out: FitWarning[] = [];
  for (const { path, param } of model.namedParameters()) {
    if (/bias/i.test(path) || param.value.length === 0) continue;
    let zero = true;
    for (let i = 0; i < param.value.length && zero; i++) if (param.value[i] !== 0) zero = false;
    if (zero) out.push({ code: 'zero-weights', parameter: path, message: `weights ${path} (${param.rows}x${param.cols}) are all zero after training: the model ignores what feeds them (degenerate model; try another learning rate, optimizer or spectral mode)` });
  }
  return out;
}

function subset(d: SequenceDataset, idx: Int32Array, inScaler: MinMaxScaler, outScaler: MinMaxScaler): TrainingData {
  const s = d.steps, ni = d.inputSize, no = d.outputSize;
  const x = new Float64Array(idx.length * s * ni), y = new Float64Array(idx.length * s * no);
  for (let k = 0; k < idx.length; k++) {
    x.set(d.inputs.subarray(idx[k] * s * ni, (idx[k] + 1) * s * ni), k * s * ni);
    y.set(d.targets.subarray(idx[k] * s * no, (idx[k] + 1) * s * no), k * s * no);
  }
  return { inputs: inScaler.transform(x, x), targets: outScaler.transform(y, y), count: idx.length, steps: s };
}

/**
 * Splits (70/30 train/test, then 25 % of train as validation, seeded by `splitSeed`), fits the
 * scalers on the training part only, and adds N(0, noise^2) to the scaled targets of the training
 * and validation parts (seeded by `noiseSeed`). Test targets stay clean.
 */
export function prepareData(dataset: SequenceDataset, options: { splitSeed?: number; noise?: number; noiseSeed?: number } = {}): PreparedData {
  assertFiniteDataset(dataset);
  const noise = options.noise ?? 0;
  if (!(noise >= 0) || !Number.isFinite(noise)) throw new ValidationError(`noise must be a finite number >= 0, got ${noise}`);
  const split = splitIndices(dataset.count, options.splitSeed ?? 0);
  const inputScaler = MinMaxScaler.fit(dataset.inputs, dataset.inputSize, split.train, dataset.steps);
  const outputScaler = MinMaxScaler.fit(dataset.targets, dataset.outputSize, split.train, dataset.steps);
  const trainData = subset(dataset, split.train, inputScaler, outputScaler);
  const validation = subset(dataset, split.validation, inputScaler, outputScaler);
  const test = subset(dataset, split.test, inputScaler, outputScaler);
  if (noise > 0) {
    const rng = new Rng(options.noiseSeed ?? 12345);
    for (const part of [trainData, validation]) for (let i = 0; i < part.targets.length; i++) part.targets[i] += noise * rng.normal();
  }
  return { split, inputScaler, outputScaler, train: trainData, validation, test, warnings: describeScalingProblems(dataset, split) };
}

/** Options of {@link fitModel}: the model family and size (as {@link buildModel}), training settings, the split seed and the training-noise level. */
export interface FitOptions extends Omit<BuildOptions, 'inputSize' | 'outputSize'> {
  kind: BuiltinModelKind;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: 'adam' | 'sgd';
  /** Learning-rate schedule over the epochs (see `TrainOptions.learningRateSchedule`; default constant). */
  learningRateSchedule?: TrainOptions['learningRateSchedule'];
  noise?: number;
  splitSeed?: number;
  earlyStopping?: { patience: number; minDelta?: number };
  onEpoch?: (info: EpochInfo) => void | boolean;
  now?: () => number;
  /** Divergence detection of the trainer (see `TrainOptions.divergence`). */
  divergence?: TrainOptions['divergence'];
  /** Stops training when aborted ({@link fitModelAsync} only reacts while it runs; see `TrainOptions.signal`). */
  signal?: AbortSignal;
  /** Training arithmetic of the WebAssembly path (see `TrainOptions.precision`; default 'f32'). */
  precision?: TrainOptions['precision'];
  /** false: train with the plain-JavaScript f64 kernels (see `TrainOptions.wasm`). */
  wasm?: boolean;
  /** Data-parallel threads of the wasm path (see `TrainOptions.threads`). */
  threads?: TrainOptions['threads'];
}

/** What {@link fitModel} returns: the trained model with its scalers, the prepared data, the training history and the scaled test MSE. */
export interface FitResult extends ScaledModel {
  history: TrainHistory;
  testMse: number;
  /** MSE of the naive forecast (persistence / last-value, see metrics.ts) on the same test split; null: none. */
  baselineMse: number | null;
  /** `testMse / baselineMse` (< 1: better than the naive forecast); null without a baseline. */
  skill: number | null;
  /** All baselines of the test split (kind, naive forecast, mean predictor). */
  baselines: BaselineReport;
  data: PreparedData;
  /** Degenerate scaling and degenerate-model warnings (nothing is printed; the caller reports them). */
  warnings: FitWarning[];
}

/**
 * Builds, trains and evaluates a model of a family on a data set. Same options, same result.
 *
 * @example
 * ```ts
 * const data = generateCstrDataset();
 * const fit = fitModel(data, { kind: 'iclrnn', hidden: 64, layers: 2, epochs: 30, learningRate: 3e-3, seed: 0 });
 * console.log(fit.testMse, fit.history.epochsRun);
 * ```
 */
export function fitModel(dataset: SequenceDataset, o: FitOptions): FitResult {
  const { data, model, trainOptions } = setUpFit(dataset, o);
  return finishFit(dataset, data, model, train(model, data.train, data.validation, trainOptions));
}

/**
 * {@link fitModel} that lets the event loop run during training (signal handlers, timers,
 * `o.signal`), with the same numbers bit for bit.
 *
 * @example
 * ```js
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 60_000); // at most a minute
 * const fit = await fitModelAsync(generateCstrDataset(), { kind: 'iclrnn', epochs: 100, signal: stop.signal });
 * ```
 */
export async function fitModelAsync(dataset: SequenceDataset, o: FitOptions): Promise<FitResult> {
  const { data, model, trainOptions } = setUpFit(dataset, o);
  return finishFit(dataset, data, model, await trainAsync(model, data.train, data.validation, trainOptions));
}

function setUpFit(dataset: SequenceDataset, o: FitOptions): { data: PreparedData; model: SequenceModel; trainOptions: TrainOptions } {
  const seed = o.seed ?? 0;
  const data = prepareData(dataset, { splitSeed: o.splitSeed, noise: o.noise, noiseSeed: seed + 1 });
  const model = buildModel(o.kind, { ...o, inputSize: dataset.inputSize, outputSize: dataset.outputSize, seed });
  const trainOptions: TrainOptions = {
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizer: { type: o.optimizer, learningRate: o.learningRate },
    learningRateSchedule: o.learningRateSchedule,
    seed: seed + 2,
    earlyStopping: o.earlyStopping,
    onEpoch: o.onEpoch,
    now: o.now,
    divergence: o.divergence,
    signal: o.signal,
    precision: o.precision,
    wasm: o.wasm,
    threads: o.threads,
  };
  return { data, model, trainOptions };
}

function finishFit(dataset: SequenceDataset, data: PreparedData, model: SequenceModel, history: TrainHistory): FitResult {
  const testMse = evaluateMse(model, data.test);
  const warnings = [...data.warnings, ...zeroWeightWarnings(model)];
  const baselines = evaluateBaselines(dataset, data.split, data.outputScaler);
  return {
    model, inputScaler: data.inputScaler, outputScaler: data.outputScaler, history, testMse,
    baselineMse: baselines.baselineMse, skill: skillRatio(testMse, baselines.baselineMse), baselines, data, warnings,
  };
}

/**
 * Test MSE of a stored model on a data set, in the model's scaled output space, using the model's
 * own scalers (not refitted) and the test part of the split with `splitSeed`.
 *
 * @example
 * ```ts
 * const stored = loadModel('iclrnn.json');
 * console.log(testMseOf(stored, generateCstrDataset(), 0)); // scaled test MSE on split seed 0
 * ```
 */
export function testMseOf(m: ScaledModel, dataset: SequenceDataset, splitSeed = 0): number {
  assertFiniteDataset(dataset);
  if (dataset.inputSize !== m.model.inputSize)
    throw new ValidationError(`the model takes ${m.model.inputSize} input features but the data set '${dataset.name}' has ${dataset.inputSize}`);
  if (dataset.outputSize !== m.model.outputSize)
    throw new ValidationError(`the model predicts ${m.model.outputSize} outputs but the data set '${dataset.name}' has ${dataset.outputSize}`);
  const split = splitIndices(dataset.count, splitSeed);
  const identity = (w: number) => new MinMaxScaler({ min: new Array(w).fill(0), max: new Array(w).fill(1) });
  const test = subset(dataset, split.test, m.inputScaler ?? identity(dataset.inputSize), m.outputScaler ?? identity(dataset.outputSize));
  return evaluateMse(m.model, test);
}

/**
 * Predicts in physical units: scales the inputs, runs the model, unscales the outputs.
 * `x` is batch-major (batch x steps x inputSize); returns batch x steps x outputSize. From
 * {@link WASM_FORWARD_MIN_ROWS} rows on, models the f64 wasm kernels cover (RNN, ICLRNN) run there
 * (equal to the JS forward to about 1e-15 relative).
 *
 * @example
 * ```ts
 * const x = data.inputs.subarray(0, 10 * 4);          // one sequence: 10 steps x 4 inputs, physical units
 * const y = predictPhysical(fit, x, 1, 10);           // 10 steps x 2 outputs, physical units
 * ```
 */
export function predictPhysical(m: ScaledModel, x: Float64Array, batch: number, steps: number): Float64Array {
  const xs = m.inputScaler ? m.inputScaler.transform(x) : x;
  const fast = batch * steps >= WASM_FORWARD_MIN_ROWS ? WasmPredictor.create(m.model) : null;
  const y = fast
    ? toBatchMajor(fast.forward(toTimeMajor(xs, batch, steps, m.model.inputSize), batch, steps), batch, steps, m.model.outputSize)
    : m.model.forward(xs, batch, steps);
  return m.outputScaler ? m.outputScaler.inverse(y, y) : y;
}
