/**
 * Minibatch training of a sequence model: MSE loss, Adam or SGD, constraints applied after every
 * optimiser step, validation loss per epoch, optional early stopping, per-epoch callbacks.
 * Deterministic: the only randomness (shuffling) comes from a seeded Rng.
 */
import { Rng } from '../core/rng.ts';
import type { SequenceModel } from '../nn/model.ts';
import { createOptimizer, type Optimizer, type OptimizerConfig } from './optimizers.ts';

/** Scaled sequences, batch-major: `inputs[(i * steps + t) * inputSize + f]`. */
export interface TrainingData {
  inputs: Float64Array;
  targets: Float64Array;
  count: number;
  steps: number;
}

/** What one finished epoch reports. */
export interface EpochInfo {
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number | null;
  seconds: number;
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  optimizer?: { type?: 'adam' | 'sgd'; learningRate?: number; momentum?: number };
  seed?: number;
  shuffle?: boolean;
  /** Stop when the validation loss has not improved by minDelta for `patience` epochs; restores the best weights. */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Called after each epoch; return false to stop training. */
  onEpoch?: (info: EpochInfo) => void | boolean;
  /** Clock used for timings (injectable so the library stays free of Node APIs). */
  now?: () => number;
}

export interface TrainHistory {
  trainLoss: number[];
  valLoss: number[];
  epochsRun: number;
  stoppedEarly: boolean;
  bestEpoch: number;
  secondsPerEpoch: number;
  optimizer: OptimizerConfig;
}

function checkData(d: TrainingData, model: SequenceModel, what: string): void {
  if (d.inputs.length !== d.count * d.steps * model.inputSize)
    throw new RangeError(`${what}: inputs hold ${d.inputs.length} values, expected count*steps*inputSize = ${d.count}*${d.steps}*${model.inputSize}`);
  if (d.targets.length !== d.count * d.steps * model.outputSize)
    throw new RangeError(`${what}: targets hold ${d.targets.length} values, expected count*steps*outputSize = ${d.count}*${d.steps}*${model.outputSize}`);
  for (const [name, arr] of [['inputs', d.inputs], ['targets', d.targets]] as const)
    for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new RangeError(`${what}: ${name}[${i}] is ${arr[i]}`);
}

/** Copies the listed samples (batch-major source) into a time-major batch buffer. */
export function gatherTimeMajor(src: Float64Array, steps: number, width: number, idx: ArrayLike<number>, from: number, to: number, out: Float64Array): void {
  const b = to - from;
  for (let k = 0; k < b; k++) {
    const s = idx[from + k];
    for (let t = 0; t < steps; t++) {
      const so = (s * steps + t) * width, dO = (t * b + k) * width;
      for (let j = 0; j < width; j++) out[dO + j] = src[so + j];
    }
  }
}

/** Mean squared error of the model over a data set (no gradients), evaluated in chunks. */
export function evaluateMse(model: SequenceModel, data: TrainingData, batchSize = 512): number {
  const steps = data.steps, nin = model.inputSize, nout = model.outputSize;
  const bs = Math.min(batchSize, data.count);
  const xb = new Float64Array(bs * steps * nin), yb = new Float64Array(bs * steps * nout);
  const idx = new Int32Array(data.count).map((_, i) => i);
  let sum = 0;
  for (let from = 0; from < data.count; from += bs) {
    const to = Math.min(data.count, from + bs), b = to - from;
    gatherTimeMajor(data.inputs, steps, nin, idx, from, to, xb);
    gatherTimeMajor(data.targets, steps, nout, idx, from, to, yb);
    const y = model.forwardTimeMajor(xb, b, steps);
    for (let i = 0; i < b * steps * nout; i++) {
      const e = y[i] - yb[i];
      sum += e * e;
    }
  }
  return sum / (data.count * steps * nout);
}

/**
 * Trains `model` in place on scaled data. Returns the loss history. The model's constraints are
 * applied after every step and made exact (accurate spectral norms) at the end.
 */
export function train(model: SequenceModel, data: TrainingData, validation: TrainingData | null, options: TrainOptions): TrainHistory {
  checkData(data, model, 'training data');
  if (validation) checkData(validation, model, 'validation data');
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new RangeError(`epochs must be a non-negative integer, got ${options.epochs}`);
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  const now = options.now ?? (() => Date.now() / 1000);
  const optimizer: Optimizer = createOptimizer(options.optimizer ?? {});
  const rng = new Rng(options.seed ?? 0);
  const steps = data.steps, nin = model.inputSize, nout = model.outputSize;
  const bs = Math.min(batchSize, data.count);
  const xb = new Float64Array(bs * steps * nin), yb = new Float64Array(bs * steps * nout), dy = new Float64Array(bs * steps * nout);
  const order = new Int32Array(data.count).map((_, i) => i);
  const params = model.parameters();
  const history: TrainHistory = { trainLoss: [], valLoss: [], epochsRun: 0, stoppedEarly: false, bestEpoch: -1, secondsPerEpoch: 0, optimizer: optimizer.config() };
  let best = Infinity, bestWeights: Float64Array[] | null = null, sinceBest = 0;
  const t0 = now();
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const te = now();
    if (options.shuffle ?? true) rng.shuffle(order);
    let sum = 0;
    for (let from = 0; from < data.count; from += bs) {
      const to = Math.min(data.count, from + bs), b = to - from, n = b * steps * nout;
      gatherTimeMajor(data.inputs, steps, nin, order, from, to, xb);
      gatherTimeMajor(data.targets, steps, nout, order, from, to, yb);
      model.zeroGrad();
      const y = model.forwardTimeMajor(xb, b, steps);
      for (let i = 0; i < n; i++) {
        const e = y[i] - yb[i];
        sum += e * e;
        dy[i] = (2 * e) / n;
      }
      model.backwardTimeMajor(dy.subarray(0, n), false);
      optimizer.step(params);
      model.applyConstraints();
    }
    const trainLoss = sum / (data.count * steps * nout);
    if (!Number.isFinite(trainLoss)) throw new RangeError(`training diverged at epoch ${epoch + 1} (loss ${trainLoss}); lower the learning rate`);
    const valLoss = validation ? evaluateMse(model, validation) : null;
    history.trainLoss.push(trainLoss);
    if (valLoss !== null) history.valLoss.push(valLoss);
    history.epochsRun = epoch + 1;
    const monitored = valLoss ?? trainLoss;
    if (monitored < best - (options.earlyStopping?.minDelta ?? 0)) {
      best = monitored;
      history.bestEpoch = epoch + 1;
      sinceBest = 0;
      if (options.earlyStopping) bestWeights = params.map((p) => Float64Array.from(p.value));
    } else sinceBest++;
    const info: EpochInfo = { epoch: epoch + 1, epochs: options.epochs, trainLoss, valLoss, seconds: now() - te };
    const go = options.onEpoch?.(info);
    if (options.earlyStopping && sinceBest >= options.earlyStopping.patience) {
      history.stoppedEarly = true;
      break;
    }
    if (go === false) break;
  }
  if (bestWeights && history.stoppedEarly) params.forEach((p, i) => p.value.set(bestWeights![i]));
  model.finalizeConstraints();
  history.secondsPerEpoch = history.epochsRun > 0 ? (now() - t0) / history.epochsRun : 0;
  return history;
}
