/**
 * Published numbers the report compares against.
 *
 * Source: Z. Wang and Z. Wu, "Input Convex Lipschitz RNN: A Fast and Robust Approach for Engineering
 * Tasks", arXiv:2401.07494, and the test MSEs printed by its public reference notebooks (Keras),
 * as collected in docs/REFERENCE.md section 5 ("Published results (the bar)"): test MSE on the scaled
 * targets after 1000 epochs, by the standard deviation sigma of the Gaussian noise added to the
 * scaled training targets; and the empirical Lipschitz estimates at sigma = 0.9 on the CSTR.
 * ICLSTM (Wang, Yu & Wu, Applied Energy 377, 2025) publishes no numbers on these benchmarks.
 */

/** Noise levels (sigma) of the published test-MSE table. */
export const PUBLISHED_NOISE: readonly number[] = Object.freeze([0, 0.3, 0.6, 0.9]);

/** Test MSE (scaled targets, 1000 epochs) by system and model, one value per {@link PUBLISHED_NOISE} level. */
export const PUBLISHED_TEST_MSE: Readonly<Record<'cstr' | 'energy', Readonly<Record<string, readonly number[]>>>> = Object.freeze({
  cstr: Object.freeze({
    rnn: Object.freeze([1.5e-6, 3.2e-3, 2.2e-2, 6.7e-2]),
    lstm: Object.freeze([5.1e-7, 1.6e-3, 4.1e-2, 1.3e-1]),
    lrnn: Object.freeze([1.3e-5, 5.8e-4, 1.1e-3, 2.0e-3]),
    icrnn: Object.freeze([9.0e-5, 1.8e-4, 1.3e-4, 2.9e-4]),
    iclrnn: Object.freeze([3.0e-4, 4.1e-4, 2.9e-4, 4.1e-4]),
  }),
  energy: Object.freeze({
    rnn: Object.freeze([6.0e-3, 1.9e-2, 1.0e-1, 2.9e-1]),
    lstm: Object.freeze([5.9e-3, 1.3e-2, 1.2e-1, 3.6e-1]),
    lrnn: Object.freeze([6.1e-3, 6.4e-3, 6.7e-3, 7.8e-3]),
    icrnn: Object.freeze([1.0e-2, 1.0e-2, 1.0e-2, 1.1e-2]),
    iclrnn: Object.freeze([8.3e-3, 8.4e-3, 8.6e-3, 9.3e-3]),
  }),
});

/** Empirical Lipschitz estimates published for the CSTR at sigma = 0.9 (approximate, "~"). */
export const PUBLISHED_LIPSCHITZ_CSTR: Readonly<{ noise: number; values: Readonly<Record<string, number>> }> = Object.freeze({
  noise: 0.9,
  values: Object.freeze({ rnn: 67, lstm: 137, iclrnn: 1.0 }),
});

/** Epochs behind the published numbers. */
export const PUBLISHED_EPOCHS = 1000;

/** Human-readable citation of the numbers above. */
export const PUBLISHED_CITATION =
  'Wang & Wu, Input Convex Lipschitz RNN, arXiv:2401.07494, reference notebooks (test MSE on scaled targets after 1000 epochs)';

/** Short source line (without the metric). */
export const PUBLISHED_SOURCE = 'Wang & Wu, Input Convex Lipschitz RNN, arXiv:2401.07494, reference notebooks';

/** Published test MSE of a model on a system at a noise level, or null when none is published. */
export function publishedTestMse(system: string, model: string, noise: number): number | null {
  const table = (PUBLISHED_TEST_MSE as Record<string, Record<string, readonly number[]>>)[system];
  const row = table?.[model];
  if (!row) return null;
  const i = PUBLISHED_NOISE.findIndex((n) => Math.abs(n - noise) < 1e-9);
  return i < 0 ? null : row[i];
}
