/**
 * From a data set to a trained, evaluated model: split, min-max scaling fitted on the training
 * part, the paper's noise protocol (Gaussian noise on the scaled training targets), training, test MSE
 * on clean scaled test targets.
 */
import { Rng } from '../core/rng.ts';
import { buildModel, type BuildOptions, type BuiltinModelKind } from '../nn/models.ts';
import type { SequenceModel } from '../nn/model.ts';
import type { DatasetSplit, SequenceDataset } from '../systems/dataset.ts';
import { assertFiniteDataset } from '../systems/dataset.ts';
import { splitIndices } from '../systems/split.ts';
import { MinMaxScaler } from './scaler.ts';
import { evaluateMse, train, type EpochInfo, type TrainHistory, type TrainingData } from './trainer.ts';

/** A model together with the scalers that map physical units to its scaled space. */
export interface ScaledModel {
  model: SequenceModel;
  /** Scaler of the plain input features (null: inputs are already in model space). */
  inputScaler: MinMaxScaler | null;
  /** Scaler of the outputs (null: outputs are in model space). */
  outputScaler: MinMaxScaler | null;
}

export interface PreparedData {
  split: DatasetSplit;
  inputScaler: MinMaxScaler;
  outputScaler: MinMaxScaler;
  train: TrainingData;
  validation: TrainingData;
  test: TrainingData;
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
  if (!(noise >= 0) || !Number.isFinite(noise)) throw new RangeError(`noise must be a finite number >= 0, got ${noise}`);
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
  return { split, inputScaler, outputScaler, train: trainData, validation, test };
}

export interface FitOptions extends Omit<BuildOptions, 'inputSize' | 'outputSize'> {
  kind: BuiltinModelKind;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  optimizer?: 'adam' | 'sgd';
  noise?: number;
  splitSeed?: number;
  earlyStopping?: { patience: number; minDelta?: number };
  onEpoch?: (info: EpochInfo) => void | boolean;
  now?: () => number;
}

export interface FitResult extends ScaledModel {
  history: TrainHistory;
  testMse: number;
  data: PreparedData;
}

/** Builds, trains and evaluates a model of a family on a data set. Same options, same result. */
export function fitModel(dataset: SequenceDataset, o: FitOptions): FitResult {
  const seed = o.seed ?? 0;
  const data = prepareData(dataset, { splitSeed: o.splitSeed, noise: o.noise, noiseSeed: seed + 1 });
  const model = buildModel(o.kind, { ...o, inputSize: dataset.inputSize, outputSize: dataset.outputSize, seed });
  const history = train(model, data.train, data.validation, {
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizer: { type: o.optimizer, learningRate: o.learningRate },
    seed: seed + 2,
    earlyStopping: o.earlyStopping,
    onEpoch: o.onEpoch,
    now: o.now,
  });
  const testMse = evaluateMse(model, data.test);
  return { model, inputScaler: data.inputScaler, outputScaler: data.outputScaler, history, testMse, data };
}

/**
 * Test MSE of a stored model on a data set, in the model's scaled output space, using the model's
 * own scalers (not refitted) and the test part of the split with `splitSeed`.
 */
export function testMseOf(m: ScaledModel, dataset: SequenceDataset, splitSeed = 0): number {
  assertFiniteDataset(dataset);
  if (dataset.inputSize !== m.model.inputSize)
    throw new RangeError(`the model takes ${m.model.inputSize} input features but the data set '${dataset.name}' has ${dataset.inputSize}`);
  if (dataset.outputSize !== m.model.outputSize)
    throw new RangeError(`the model predicts ${m.model.outputSize} outputs but the data set '${dataset.name}' has ${dataset.outputSize}`);
  const split = splitIndices(dataset.count, splitSeed);
  const identity = (w: number) => new MinMaxScaler({ min: new Array(w).fill(0), max: new Array(w).fill(1) });
  const test = subset(dataset, split.test, m.inputScaler ?? identity(dataset.inputSize), m.outputScaler ?? identity(dataset.outputSize));
  return evaluateMse(m.model, test);
}

/**
 * Predicts in physical units: scales the inputs, runs the model, unscales the outputs.
 * `x` is batch-major (batch x steps x inputSize); returns batch x steps x outputSize.
 */
export function predictPhysical(m: ScaledModel, x: Float64Array, batch: number, steps: number): Float64Array {
  const xs = m.inputScaler ? m.inputScaler.transform(x) : x;
  const y = m.model.forward(xs, batch, steps);
  return m.outputScaler ? m.outputScaler.inverse(y, y) : y;
}
