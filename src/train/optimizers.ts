/** First-order optimisers over a model's parameters. */
import type { Parameter } from '../nn/parameter.ts';
import { ValidationError } from '../core/errors.ts';

/** A gradient-descent optimizer that updates parameters in place from their gradients. */
export interface Optimizer {
  /** Applies one update from the current gradients. */
  step(params: Parameter[]): void;
  config(): OptimizerConfig;
  /** Multiplies the configured learning rate in the following steps (a schedule sets it per epoch; default 1). */
  learningRateFactor: number;
}

/**
 * A learning-rate schedule over the epochs of one training run, as a factor on the configured rate:
 * constant; cosine decay from 1 at the first epoch to `minFactor` at the last (default 0.01); or
 * step decay, the factor multiplied by `factor` every `every` epochs.
 */
export type LearningRateSchedule =
  | { type: 'constant' }
  | { type: 'cosine'; minFactor?: number }
  | { type: 'step'; every: number; factor: number };

/** The factor of `schedule` in 0-based `epoch` of `epochs` (see {@link LearningRateSchedule}). */
export function learningRateFactor(schedule: LearningRateSchedule | undefined, epoch: number, epochs: number): number {
  if (!schedule || schedule.type === 'constant') return 1;
  if (schedule.type === 'cosine') {
    const min = schedule.minFactor ?? 0.01;
    const progress = epochs > 1 ? epoch / (epochs - 1) : 0;
    return min + (1 - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return schedule.factor ** Math.floor(epoch / schedule.every);
}

/** Checks a schedule's numbers (a {@link ValidationError} naming the field). */
export function checkLearningRateSchedule(schedule: LearningRateSchedule | undefined): void {
  if (!schedule || schedule.type === 'constant') return;
  if (schedule.type === 'cosine') {
    const m = schedule.minFactor ?? 0.01;
    if (!(m >= 0 && m <= 1)) throw new ValidationError(`cosine schedule: minFactor must be in [0, 1], got ${m}`, { variable: 'learningRateSchedule.minFactor' });
    return;
  }
  if (schedule.type === 'step') {
    if (!(Number.isInteger(schedule.every) && schedule.every >= 1)) throw new ValidationError(`step schedule: every must be a positive integer, got ${schedule.every}`, { variable: 'learningRateSchedule.every' });
    if (!(schedule.factor > 0 && schedule.factor <= 1)) throw new ValidationError(`step schedule: factor must be in (0, 1], got ${schedule.factor}`, { variable: 'learningRateSchedule.factor' });
    return;
  }
  throw new ValidationError(`unknown learning-rate schedule type ${JSON.stringify((schedule as { type: unknown }).type)} (constant, cosine or step)`, { variable: 'learningRateSchedule.type' });
}

/** The settings of an optimizer (Adam or SGD), as stored in model files. */
export type OptimizerConfig =
  | { type: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number }
  | { type: 'sgd'; learningRate: number; momentum: number };

/** Adam (Kingma & Ba) with bias correction; defaults as Keras (beta1 0.9, beta2 0.999, epsilon 1e-7). */
export class Adam implements Optimizer {
  private m = new Map<Parameter, Float64Array>();
  private v = new Map<Parameter, Float64Array>();
  private t = 0;
  learningRateFactor = 1;
  constructor(
    readonly learningRate = 1e-3,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-7,
  ) {
    if (!(learningRate > 0)) throw new ValidationError(`learning rate must be > 0, got ${learningRate}`);
  }
  step(params: Parameter[]): void {
    this.t++;
    const { beta1, beta2, epsilon } = this;
    const lr = (this.learningRate * this.learningRateFactor * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    for (const p of params) {
      let m = this.m.get(p), v = this.v.get(p);
      if (!m || !v) {
        m = new Float64Array(p.value.length);
        v = new Float64Array(p.value.length);
        this.m.set(p, m);
        this.v.set(p, v);
      }
      const w = p.value, g = p.grad;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = (m[i] = beta1 * m[i] + (1 - beta1) * gi);
        const vi = (v[i] = beta2 * v[i] + (1 - beta2) * gi * gi);
        w[i] -= (lr * mi) / (Math.sqrt(vi) + epsilon);
      }
    }
  }
  config(): OptimizerConfig {
    return { type: 'adam', learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Stochastic gradient descent with optional (heavy-ball) momentum. */
export class Sgd implements Optimizer {
  private velocity = new Map<Parameter, Float64Array>();
  learningRateFactor = 1;
  constructor(readonly learningRate = 1e-2, readonly momentum = 0) {
    if (!(learningRate > 0)) throw new ValidationError(`learning rate must be > 0, got ${learningRate}`);
  }
  step(params: Parameter[]): void {
    for (const p of params) {
      let vel = this.velocity.get(p);
      if (!vel) this.velocity.set(p, (vel = new Float64Array(p.value.length)));
      for (let i = 0; i < p.value.length; i++) {
        vel[i] = this.momentum * vel[i] - this.learningRate * this.learningRateFactor * p.grad[i];
        p.value[i] += vel[i];
      }
    }
  }
  config(): OptimizerConfig {
    return { type: 'sgd', learningRate: this.learningRate, momentum: this.momentum };
  }
}

/** Builds an optimiser from a partial config. */
export function createOptimizer(c: { type?: 'adam' | 'sgd'; learningRate?: number; momentum?: number }): Optimizer {
  return c.type === 'sgd' ? new Sgd(c.learningRate ?? 1e-2, c.momentum ?? 0) : new Adam(c.learningRate ?? 1e-3);
}
