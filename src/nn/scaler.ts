import { ValidationError } from '../core/errors.ts';

/**
 * Per-feature min-max scaling to [0, 1], fitted on the training part only (as sklearn's
 * MinMaxScaler in the reference). A feature with zero range gets scale 1 (sklearn's rule).
 */
export interface MinMaxScalerConfig {
  min: number[];
  max: number[];
}

/** Min-max scaling per feature onto [0, 1], fitted on training data; `transform` and `inverse` map between physical units and the scaled space. */
export class MinMaxScaler {
  readonly min: Float64Array;
  readonly max: Float64Array;
  private readonly scale: Float64Array;

  constructor(config: MinMaxScalerConfig) {
    if (config.min.length !== config.max.length) throw new ValidationError(`scaler: min has ${config.min.length} entries but max has ${config.max.length}`);
    this.min = Float64Array.from(config.min);
    this.max = Float64Array.from(config.max);
    this.scale = new Float64Array(this.min.length);
    for (let j = 0; j < this.min.length; j++) {
      if (!Number.isFinite(this.min[j]) || !Number.isFinite(this.max[j])) throw new ValidationError(`scaler: feature ${j} has a non-finite min or max`);
      if (this.max[j] < this.min[j]) throw new ValidationError(`scaler: feature ${j} has max ${this.max[j]} below min ${this.min[j]}`);
      // A constant feature (zero range) gets scale 1 (sklearn's rule), stored as max = min + 1 so a
      // saved scaler never holds a zero range (which the model-file loader refuses).
      if (this.max[j] === this.min[j]) this.max[j] = this.min[j] + 1;
      const r = this.max[j] - this.min[j];
      if (!Number.isFinite(r) || !(r > 0))
        throw new ValidationError(`scaler: feature ${j} spans [${this.min[j]}, ${this.max[j]}], a range too large (or too small) to scale in double precision`);
      this.scale[j] = 1 / r;
    }
  }

  get features(): number {
    return this.min.length;
  }

  /**
   * Fits on rows of `width` features taken from `data` (row-major); only the rows listed in `rows`
   * (groups of `rowsPerItem` consecutive rows per item index) are used when given.
   */
  static fit(data: Float64Array, width: number, items?: ArrayLike<number>, rowsPerItem = 1): MinMaxScaler {
    const min = new Array(width).fill(Infinity), max = new Array(width).fill(-Infinity);
    const visit = (r: number) => {
      for (let j = 0; j < width; j++) {
        const v = data[r * width + j];
        if (v < min[j]) min[j] = v;
        if (v > max[j]) max[j] = v;
      }
    };
    if (items) for (let i = 0; i < items.length; i++) for (let k = 0; k < rowsPerItem; k++) visit(items[i] * rowsPerItem + k);
    else for (let r = 0; r < data.length / width; r++) visit(r);
    if (min.some((v) => !Number.isFinite(v))) throw new ValidationError('scaler: cannot fit on an empty or non-finite data set');
    return new MinMaxScaler({ min, max });
  }

  /** Scales row-major data in place (or into `out`). */
  transform(data: Float64Array, out: Float64Array = new Float64Array(data.length)): Float64Array {
    const w = this.min.length;
    for (let i = 0; i < data.length; i++) {
      const j = i % w;
      out[i] = (data[i] - this.min[j]) * this.scale[j];
    }
    return out;
  }

  /** Inverse of {@link transform}. */
  inverse(data: Float64Array, out: Float64Array = new Float64Array(data.length)): Float64Array {
    const w = this.min.length;
    for (let i = 0; i < data.length; i++) {
      const j = i % w;
      out[i] = data[i] / this.scale[j] + this.min[j];
    }
    return out;
  }

  /** d(scaled)/d(physical) of feature j. */
  factor(j: number): number {
    return this.scale[j];
  }

  config(): MinMaxScalerConfig {
    return { min: Array.from(this.min), max: Array.from(this.max) };
  }
}

/** A feature whose min-max scaling is degenerate (see {@link scalingProblems}). */
export interface ScalingProblem {
  /** 'constant': min == max on the fitted rows; 'outliers': a few values stretch the range so far that the rest is squeezed together. */
  kind: 'constant' | 'outliers';
  /** Feature index. */
  feature: number;
  min: number;
  max: number;
  /** 'outliers': the outlying values and where they are (row index in `data` terms, i.e. item * rowsPerItem + k), at most 5. */
  outliers: { row: number; value: number }[];
  /** 'outliers': how many values lie outside the bulk. */
  outlierCount: number;
  /** 'outliers': the 1st..99th percentile range of the values (the bulk). */
  bulk: [number, number];
}

/**
 * The k-th smallest value of `a[0..n)` (0-based), rearranging `a`: Hoare's selection (expected
 * linear time). Written here because a full sort per feature made the scaling check the slowest
 * part of a `train` start-up (0.4 s on the CSTR's 124k rows); the result is exactly `sorted[k]`.
 */
function selectKth(a: Float64Array, n: number, k: number): number {
  let lo = 0, hi = n - 1;
  while (hi > lo) {
    const mid = lo + ((hi - lo) >> 1);
    // median of three as the pivot
    const x = a[lo], y = a[mid], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/**
 * Finds degenerate features of a min-max scaling fitted on the same rows as {@link MinMaxScaler.fit}:
 * constant features (min == max: they carry no information), and features whose range is
 * dominated by a few outliers (98 % of the values lie in less than 0.1 % of the range, and at most
 * max(3, 0.1 %) values lie outside: after scaling, the informative values are squeezed into a
 * sliver of [0, 1]). `kinds` limits the search ('constant' needs one pass per feature, 'outliers'
 * two selections). Pure.
 */
export function scalingProblems(
  data: Float64Array,
  width: number,
  items?: ArrayLike<number>,
  rowsPerItem = 1,
  kinds: readonly ScalingProblem['kind'][] = ['constant', 'outliers'],
): ScalingProblem[] {
  const n = items ? items.length * rowsPerItem : Math.floor(data.length / width);
  const rows = new Int32Array(n);
  if (items) {
    for (let i = 0, r = 0; i < items.length; i++) for (let k = 0; k < rowsPerItem; k++) rows[r++] = items[i] * rowsPerItem + k;
  } else for (let r = 0; r < n; r++) rows[r] = r;
  const out: ScalingProblem[] = [];
  if (n === 0) return out;
  const col = new Float64Array(n), work = new Float64Array(n);
  for (let j = 0; j < width; j++) {
    let min = Infinity, max = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = data[rows[i] * width + j];
      col[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min === max) {
      if (kinds.includes('constant')) out.push({ kind: 'constant', feature: j, min, max, outliers: [], outlierCount: 0, bulk: [min, max] });
      continue;
    }
    if (!kinds.includes('outliers')) continue;
    const at = (p: number) => Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))));
    work.set(col);
    const lo = selectKth(work, n, at(0.01));
    const hi = selectKth(work, n, at(0.99));
    const range = max - min, spread = hi - lo;
    if (!(spread < 1e-3 * range)) continue;
    const band = Math.max(10 * spread, 1e-3 * range);
    const outliers: { row: number; value: number }[] = [];
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v < lo - band || v > hi + band) {
        count++;
        if (outliers.length < 5) outliers.push({ row: rows[i], value: v });
      }
    }
    if (count > 0 && count <= Math.max(3, 0.001 * n)) out.push({ kind: 'outliers', feature: j, min, max, outliers, outlierCount: count, bulk: [lo, hi] });
  }
  return out;
}
