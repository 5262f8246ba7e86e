/**
 * The reference's empirical Lipschitz estimate (a lower bound found by evaluating the model, never
 * a certificate), in the certificates' space and norm: scaled, un-augmented input sequence to scaled
 * output sequence, l2 over the whole sequence. Lives with the models because training sweeps and
 * certificates both use it; `certify/empirical.ts` re-exports it beside the attack and Jensen check.
 */
import { Rng } from '../core/rng.ts';
import { ValidationError } from '../core/errors.ts';
import type { SequenceModel } from './model.ts';

/** Options of {@link referenceEstimate}. */
export interface ReferenceEstimateOptions {
  /** Sequence length. */
  steps: number;
  /** Sample inputs (batch-major, scaled, `count * steps * inputSize`); default: uniform in [low, high]. */
  samples?: Float64Array;
  /** Number of random samples when `samples` is not given (default 1000). */
  count?: number;
  /** Perturbation size of the reference protocol (default 1e-4). */
  eps?: number;
  /** Seed of the sampling and the perturbations (default 0). */
  seed?: number;
  /** Domain of the random samples (default [0, 1], the min-max scaled range). */
  low?: number;
  high?: number;
  /** Batch size of the model evaluations (default 256). */
  batch?: number;
}

/** Result of {@link referenceEstimate}. */
export interface ReferenceEstimate {
  /** Largest ratio found: a lower bound of the Lipschitz constant. */
  value: number;
  /** Number of inputs tried. */
  samples: number;
  eps: number;
  /** Index of the sample that gave the largest ratio. */
  argmax: number;
}

/**
 * The reference's empirical estimate, reproduced with a seed: for each sample input x, perturb
 * every entry of the (un-augmented, scaled) sequence by an independent uniform draw in
 * [eps/4, eps] and take the largest `||f(x') - f(x)||_2 / ||x' - x||_2`. A lower bound only.
 */
export function referenceEstimate(model: SequenceModel, o: ReferenceEstimateOptions): ReferenceEstimate {
  const steps = o.steps, n = model.inputSize, m = model.outputSize, d = steps * n;
  const eps = o.eps ?? 1e-4;
  const rng = new Rng(o.seed ?? 0);
  const low = o.low ?? 0, high = o.high ?? 1;
  let samples = o.samples;
  if (samples && samples.length % d !== 0) throw new ValidationError(`referenceEstimate: samples hold ${samples.length} values, not a multiple of steps * inputSize = ${d}`);
  if (!samples) {
    const count = o.count ?? 1000;
    samples = new Float64Array(count * d);
    for (let i = 0; i < samples.length; i++) samples[i] = rng.uniformIn(low, high);
  }
  const count = samples.length / d;
  const B = o.batch ?? 256;
  let best = 0, argmax = -1;
  for (let s0 = 0; s0 < count; s0 += B) {
    const b = Math.min(B, count - s0);
    const x = samples.slice(s0 * d, (s0 + b) * d);
    const xp = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) xp[i] = x[i] + rng.uniformIn(eps / 4, eps);
    const both = new Float64Array(2 * x.length);
    both.set(x, 0);
    both.set(xp, x.length);
    const y = model.forward(both, 2 * b, steps);
    for (let s = 0; s < b; s++) {
      let num = 0, den = 0;
      for (let i = 0; i < steps * m; i++) {
        const dy = y[(b + s) * steps * m + i] - y[s * steps * m + i];
        num += dy * dy;
      }
      for (let i = 0; i < d; i++) {
        const dx = xp[s * d + i] - x[s * d + i];
        den += dx * dx;
      }
      const r = Math.sqrt(num / den);
      if (r > best) {
        best = r;
        argmax = s0 + s;
      }
    }
  }
  return { value: best, samples: count, eps, argmax };
}
