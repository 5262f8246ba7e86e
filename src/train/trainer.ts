/**
 * Minibatch training of a sequence model: MSE loss, Adam or SGD, constraints applied after every
 * optimiser step, validation loss per epoch, optional early stopping, per-epoch callbacks.
 * Deterministic: the only randomness (shuffling) comes from a seeded Rng.
 */
import { Rng } from '../core/rng.ts';
import type { SequenceModel } from '../nn/model.ts';
import { checkLearningRateSchedule, createOptimizer, learningRateFactor, type LearningRateSchedule, type Optimizer, type OptimizerConfig } from './optimizers.ts';
import { ValidationError } from '../core/errors.ts';
import { WasmTrainer } from './wasm-trainer.ts';
import { WasmPredictor } from '../nn/wasm-predictor.ts';
import { DataParallelGradients, type TrainingThreads } from './data-parallel.ts';

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

/** Options of the minibatch trainer `train`: epochs, batch size, optimizer, seed, callbacks and early stopping. */
export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  optimizer?: { type?: 'adam' | 'sgd'; learningRate?: number; momentum?: number };
  /** Learning-rate schedule over the epochs (default constant), see {@link LearningRateSchedule}. */
  learningRateSchedule?: LearningRateSchedule;
  seed?: number;
  shuffle?: boolean;
  /** Stop when the validation loss has not improved by minDelta for `patience` epochs; restores the best weights. */
  earlyStopping?: { patience: number; minDelta?: number };
  /** Called after each epoch; return false to stop training. */
  onEpoch?: (info: EpochInfo) => void | boolean;
  /** Clock used for timings (injectable so the library stays free of Node APIs). */
  now?: () => number;
  /**
   * Divergence detection (default on, factor {@link DIVERGENCE_FACTOR}, action 'throw'): a
   * non-finite loss, or an epoch's training loss above `factor` times the untrained model's loss.
   * 'throw' raises a {@link TrainingDivergedError}; 'stop' restores the last sound epoch's weights
   * and returns with `history.diverged` set. `false` turns the check off (a non-finite loss still throws).
   */
  divergence?: { factor?: number; action?: 'throw' | 'stop' } | false;
  /** Stops training before the next minibatch once aborted (`history.interrupted`); the weights of the last finished epoch are kept. */
  signal?: AbortSignal;
  /**
   * Arithmetic of the WebAssembly training path (default 'f32'). It covers stacks of simple cells
   * (RNN, ICLRNN), of LSTM, of GRU and of ICRNN cells with a non-residual dense head trained by Adam, where wasm SIMD
   * is available; every other model, SGD, or `wasm: false` trains in plain-JavaScript f64. The trained weights
   * are f32 values in f32 (exact in f64, so certificates and MPC compute on them in f64).
   */
  precision?: 'f32' | 'f64';
  /** false: always train with the plain-JavaScript f64 kernels (default true: wasm where it applies). */
  wasm?: boolean;
  /** The wasm path's relaxed-SIMD (FMA) variant: 'auto' (default: where the engine validates it), or forced on / off. */
  fma?: boolean | 'auto';
  /**
   * Data-parallel training of the wasm path on `threads.count` threads (the caller's included;
   * default one). Same count, same seed, same data: bit-identical models; a different count sums
   * the gradients in another order. Ignored on the plain-JS path (`history.kernels` says how many
   * threads ran). Node: `nodeTrainingThreads(n)`.
   */
  threads?: TrainingThreads;
}

/** What training returns: losses per epoch, epochs run, seconds per epoch and whether it stopped early. */
export interface TrainHistory {
  trainLoss: number[];
  valLoss: number[];
  epochsRun: number;
  stoppedEarly: boolean;
  bestEpoch: number;
  secondsPerEpoch: number;
  optimizer: OptimizerConfig;
  /** Set when training stopped because the loss diverged (only with `divergence.action: 'stop'`). */
  diverged: DivergenceInfo | null;
  /** True when training stopped because `options.signal` was aborted. */
  interrupted: boolean;
  /**
   * Which kernels trained the model: the wasm-resident path (`wasm`, in `precision`, with or
   * without relaxed-SIMD FMA) or the plain-JavaScript f64 kernels (`js`). Absent in histories
   * recorded before the wasm path existed.
   */
  kernels?: { backend: 'wasm' | 'js'; precision: 'f32' | 'f64'; fma: boolean; threads?: number };
}

function checkData(d: TrainingData, model: SequenceModel, what: string): void {
  if (d.inputs.length !== d.count * d.steps * model.inputSize)
    throw new ValidationError(`${what}: inputs hold ${d.inputs.length} values, expected count*steps*inputSize = ${d.count}*${d.steps}*${model.inputSize}`);
  if (d.targets.length !== d.count * d.steps * model.outputSize)
    throw new ValidationError(`${what}: targets hold ${d.targets.length} values, expected count*steps*outputSize = ${d.count}*${d.steps}*${model.outputSize}`);
  for (const [name, arr] of [['inputs', d.inputs], ['targets', d.targets]] as const)
    for (let i = 0; i < arr.length; i++) if (!Number.isFinite(arr[i])) throw new ValidationError(`${what}: ${name}[${i}] is ${arr[i]}`);
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

/**
 * Rows (sequences x steps) from which batch evaluation runs in the f64 wasm kernels
 * ({@link WasmPredictor}, equal to the JS forward to about 1e-15 relative) instead of JS: below
 * it, setting up the kernel instance (about 1 ms) costs more than it saves.
 */
export const WASM_FORWARD_MIN_ROWS = 2048;

/** Mean squared error of the model over a data set (no gradients), evaluated in chunks. */
export function evaluateMse(model: SequenceModel, data: TrainingData, batchSize = 512): number {
  const steps = data.steps, nin = model.inputSize, nout = model.outputSize;
  const bs = Math.min(batchSize, data.count);
  const xb = new Float64Array(bs * steps * nin), yb = new Float64Array(bs * steps * nout);
  const idx = new Int32Array(data.count).map((_, i) => i);
  // the f64 wasm forward where it covers the model and the data repay its set-up (about 1 ms)
  const fast = data.count * steps >= WASM_FORWARD_MIN_ROWS ? WasmPredictor.create(model) : null;
  const yw = fast ? new Float64Array(bs * steps * nout) : null;
  let sum = 0;
  for (let from = 0; from < data.count; from += bs) {
    const to = Math.min(data.count, from + bs), b = to - from;
    gatherTimeMajor(data.inputs, steps, nin, idx, from, to, xb);
    gatherTimeMajor(data.targets, steps, nout, idx, from, to, yb);
    const y = fast ? fast.forward(xb.subarray(0, b * steps * nin), b, steps, yw!) : model.forwardTimeMajor(xb, b, steps);
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
 *
 * Divergence (a non-finite batch loss, or an epoch's training loss above `divergence.factor` times
 * the loss of the untrained model) stops training: by default with a {@link TrainingDivergedError};
 * with `divergence.action: 'stop'` the weights of the last sound epoch are restored and
 * `history.diverged` says what happened.
 */
export function train(model: SequenceModel, data: TrainingData, validation: TrainingData | null, options: TrainOptions): TrainHistory {
  const run = trainSteps(model, data, validation, options);
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link train} that gives the event loop a turn every `yieldEveryMs` milliseconds (default 50),
 * so that signal handlers, timers and an `AbortSignal` (`options.signal`) are served during a long
 * training. Same numbers as {@link train}, bit for bit.
 */
export async function trainAsync(
  model: SequenceModel,
  data: TrainingData,
  validation: TrainingData | null,
  options: TrainOptions & { yieldEveryMs?: number },
): Promise<TrainHistory> {
  const clock = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
  const every = options.yieldEveryMs ?? 50;
  const run = trainSteps(model, data, validation, options);
  let last = clock();
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    if (clock() - last >= every) {
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      last = clock();
    }
  }
}

/** Default of `divergence.factor`: an epoch loss this many times the untrained model's loss is divergence. */
export const DIVERGENCE_FACTOR = 1e4;

/** The training loop, one yield per minibatch (see {@link train} and {@link trainAsync}). */
function* trainSteps(model: SequenceModel, data: TrainingData, validation: TrainingData | null, options: TrainOptions): Generator<void, TrainHistory, void> {
  checkData(data, model, 'training data');
  if (validation) checkData(validation, model, 'validation data');
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new ValidationError(`epochs must be a non-negative integer, got ${options.epochs}`, { variable: 'epochs' });
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ValidationError(`batch size must be a positive integer, got ${batchSize}`, { variable: 'batchSize' });
  const divergence = options.divergence === false ? null : { factor: options.divergence?.factor ?? DIVERGENCE_FACTOR, action: options.divergence?.action ?? 'throw' };
  if (divergence && !(divergence.factor > 1)) throw new ValidationError(`divergence.factor must be a number > 1, got ${divergence.factor}`, { variable: 'divergence.factor' });
  const now = options.now ?? (() => Date.now() / 1000);
  const optimizer: Optimizer = createOptimizer(options.optimizer ?? {});
  checkLearningRateSchedule(options.learningRateSchedule);
  const rng = new Rng(options.seed ?? 0);
  const steps = data.steps, nin = model.inputSize, nout = model.outputSize;
  const bs = Math.min(batchSize, data.count);
  const xb = new Float64Array(bs * steps * nin), yb = new Float64Array(bs * steps * nout), dy = new Float64Array(bs * steps * nout);
  const threads = options.threads ?? null;
  if (threads && !(Number.isInteger(threads.count) && threads.count >= 1)) throw new ValidationError(`threads must be a positive integer, got ${threads.count}`, { variable: 'threads' });
  const params = model.parameters();
  // The wasm-resident path (see TrainOptions.precision); null: the plain-JS f64 path below.
  const fast = options.wasm === false ? null : WasmTrainer.create(model, { precision: options.precision ?? 'f32', fma: options.fma ?? 'auto', batchCapacity: bs, steps, optimizer: optimizer.config() });
  // Data-parallel threads share each minibatch of the wasm path (see data-parallel.ts).
  const parallel = fast && threads && threads.count > 1 ? new DataParallelGradients(fast, model, data, bs, optimizer.config(), threads) : null;
  try {
    const order = parallel ? parallel.order : new Int32Array(data.count).map((_, i) => i);
    const history: TrainHistory = {
      trainLoss: [], valLoss: [], epochsRun: 0, stoppedEarly: false, bestEpoch: -1, secondsPerEpoch: 0, optimizer: optimizer.config(), diverged: null, interrupted: false,
      kernels: fast ? { backend: 'wasm', precision: fast.precision, fma: fast.fma, ...(parallel ? { threads: parallel.threads } : {}) } : { backend: 'js', precision: 'f64', fma: false },
    };
    let best = Infinity, bestWeights: Float64Array[] | null = null, sinceBest = 0;
    // Weights after the last sound epoch, restored when training diverges.
    const sound = divergence ? params.map((p) => Float64Array.from(p.value)) : null;
    let initialLoss = NaN;
    const t0 = now();
    const diverge = (epoch: number, loss: number, reason: string): TrainHistory | null => {
      history.diverged = { epoch, loss, initialLoss, reason };
      if (sound) params.forEach((p, i) => p.value.set(sound[i]));
      if (divergence!.action === 'throw') throw new TrainingDivergedError(history.diverged, history);
      return history;
    };
    training: for (let epoch = 0; epoch < options.epochs; epoch++) {
      const te = now();
      const lrFactor = learningRateFactor(options.learningRateSchedule, epoch, options.epochs);
      optimizer.learningRateFactor = lrFactor;
      if (fast) fast.learningRateFactor = lrFactor;
      if (options.shuffle ?? true) rng.shuffle(order);
      let sum = 0;
      for (let from = 0; from < data.count; from += bs) {
        if (options.signal?.aborted) {
          history.interrupted = true;
          if (sound) params.forEach((p, i) => p.value.set(sound[i]));
          break training;
        }
        const to = Math.min(data.count, from + bs), b = to - from, n = b * steps * nout;
        let batchSum = 0;
        if (parallel) {
          batchSum = parallel.gradientsOf(from, to); // slices on every thread, summed in thread order
          fast!.update();
          parallel.publishWeights();
        } else if (fast) batchSum = fast.step(data, order, from, to); // forward, backward, Adam and constraints in wasm
        else {
          gatherTimeMajor(data.inputs, steps, nin, order, from, to, xb);
          gatherTimeMajor(data.targets, steps, nout, order, from, to, yb);
          model.zeroGrad();
          const y = model.forwardTimeMajor(xb, b, steps);
          for (let i = 0; i < n; i++) {
            const e = y[i] - yb[i];
            batchSum += e * e;
            dy[i] = (2 * e) / n;
          }
        }
        if (Number.isNaN(initialLoss)) initialLoss = batchSum / n; // the untrained model's loss on the first batch
        if (divergence && !Number.isFinite(batchSum)) {
          diverge(epoch + 1, batchSum / n, `the loss became ${batchSum / n} in epoch ${epoch + 1}`);
          break training;
        }
        sum += batchSum;
        if (!fast) {
          model.backwardTimeMajor(dy.subarray(0, n), false);
          optimizer.step(params);
          model.applyConstraints();
        }
        yield;
      }
      fast?.pullWeights();
      const trainLoss = sum / (data.count * steps * nout);
      if (!Number.isFinite(trainLoss) && !divergence) throw new TrainingDivergedError({ epoch: epoch + 1, loss: trainLoss, initialLoss, reason: `the loss became ${trainLoss}` }, history);
      if (divergence && trainLoss > divergence.factor * Math.max(initialLoss, Number.MIN_VALUE)) {
        diverge(epoch + 1, trainLoss, `the training loss ${trainLoss.toPrecision(3)} of epoch ${epoch + 1} is ${(trainLoss / initialLoss).toPrecision(2)} times the untrained model's ${initialLoss.toPrecision(3)}`);
        break;
      }
      const valLoss = validation ? (fast && validation.steps === fast.steps ? fast.evaluate(validation) : evaluateMse(model, validation)) : null;
      if (divergence && valLoss !== null && !Number.isFinite(valLoss)) {
        diverge(epoch + 1, valLoss, `the validation loss became ${valLoss} in epoch ${epoch + 1}`);
        break;
      }
      if (sound) params.forEach((p, i) => sound[i].set(p.value));
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
  } finally {
    parallel?.close();
  }
}

/** What {@link TrainingDivergedError} and `TrainHistory.diverged` report. */
export interface DivergenceInfo {
  /** 1-based epoch in which the loss diverged. */
  epoch: number;
  /** The offending loss (non-finite or exploding). */
  loss: number;
  /** Loss of the untrained model on the first minibatch (the reference of the factor). */
  initialLoss: number;
  /** One sentence saying what was seen. */
  reason: string;
}

/**
 * Training diverged (non-finite or exploding loss), usually because the learning rate is too
 * large. A {@link ValidationError}: the user fixes it by changing the training settings. The model
 * holds the weights of the last sound epoch; `history` has the epochs before.
 *
 * @example
 * ```js
 * try { fitModel(data, { kind: 'rnn', learningRate: 1e9 }); }
 * catch (e) { if (e instanceof TrainingDivergedError) console.error(e.message, e.divergence.epoch); else throw e; }
 * ```
 */
export class TrainingDivergedError extends ValidationError {
  readonly divergence: DivergenceInfo;
  readonly history: TrainHistory;
  constructor(info: DivergenceInfo, history: TrainHistory) {
    super(`training diverged at epoch ${info.epoch}: ${info.reason}; lower the learning rate`, { variable: 'learningRate' });
    this.name = 'TrainingDivergedError';
    this.divergence = info;
    this.history = history;
  }
}
