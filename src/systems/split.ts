/**
 * Seeded train / validation / test splits of a dataset's sample indices.
 *
 * Not tied to any system: it only needs a sample count and a seed.
 */
import { Rng } from '../core/rng.ts';
import type { DatasetSplit } from './dataset.ts';
import { ValidationError } from '../core/errors.ts';

/** Options of {@link splitIndices}. */
export interface SplitOptions {
  /** Fraction of all samples put in the test set, in [0, 1). Default 0.3 (the reference's 70/30). */
  testFraction?: number;
  /** Fraction of the non-test part put in the validation set, in [0, 1). Default 0.25. */
  validationFraction?: number;
}

/**
 * Split `count` sample indices at random into train, validation and test sets.
 *
 * Protocol (as in the reference, scikit-learn's `train_test_split` sizes): a seeded permutation of
 * `0..count-1` (from {@link Rng}) is drawn; its first `ceil(testFraction * count)` entries form the
 * test set; of the remaining `n` entries the next `ceil(validationFraction * n)` form the validation
 * set and the rest the training set. Each returned index array is sorted ascending. The three sets
 * are disjoint and cover `0..count-1`; the same `(count, seed, options)` always gives the same split.
 *
 * @param count number of samples (a non-negative integer)
 * @param seed seed of the permutation (any finite number, see {@link Rng})
 * @param options fractions; defaults `{ testFraction: 0.3, validationFraction: 0.25 }`
 * @throws ValidationError on a bad count, seed or fraction
 */
export function splitIndices(count: number, seed: number, options: SplitOptions = {}): DatasetSplit {
  if (!Number.isInteger(count) || count < 0)
    throw new ValidationError(`splitIndices: count must be a non-negative integer, got ${count}`);
  if (!Number.isFinite(seed)) throw new ValidationError(`splitIndices: seed must be a finite number, got ${seed}`);
  const testFraction = options.testFraction ?? 0.3;
  const validationFraction = options.validationFraction ?? 0.25;
  checkFraction('testFraction', testFraction);
  checkFraction('validationFraction', validationFraction);

  const perm = new Rng(seed).permutation(count);
  const nTest = fractionCount(testFraction, count);
  const rest = count - nTest;
  const nValidation = fractionCount(validationFraction, rest);
  const test = perm.slice(0, nTest).sort();
  const validation = perm.slice(nTest, nTest + nValidation).sort();
  const train = perm.slice(nTest + nValidation).sort();
  return { train, validation, test };
}

function checkFraction(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= 1)
    throw new ValidationError(`splitIndices: ${name} must be a number in [0, 1), got ${value}`);
}

/** ceil(fraction * n), tolerant of the rounding error of the product (0.3 * 10 -> 3, not 4). */
function fractionCount(fraction: number, n: number): number {
  return Math.min(n, Math.max(0, Math.ceil(fraction * n - 1e-9)));
}
