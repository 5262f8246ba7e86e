/**
 * Per-feature min-max scaling to [0, 1], fitted on the training part only (as sklearn's
 * MinMaxScaler in the reference). A feature with zero range gets scale 1 (sklearn's rule).
 */
export interface MinMaxScalerConfig {
  min: number[];
  max: number[];
}

export class MinMaxScaler {
  readonly min: Float64Array;
  readonly max: Float64Array;
  private readonly scale: Float64Array;

  constructor(config: MinMaxScalerConfig) {
    if (config.min.length !== config.max.length) throw new RangeError(`scaler: min has ${config.min.length} entries but max has ${config.max.length}`);
    this.min = Float64Array.from(config.min);
    this.max = Float64Array.from(config.max);
    this.scale = new Float64Array(this.min.length);
    for (let j = 0; j < this.min.length; j++) {
      if (!Number.isFinite(this.min[j]) || !Number.isFinite(this.max[j])) throw new RangeError(`scaler: feature ${j} has a non-finite min or max`);
      const r = this.max[j] - this.min[j];
      this.scale[j] = r > 0 ? 1 / r : 1;
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
    if (min.some((v) => !Number.isFinite(v))) throw new RangeError('scaler: cannot fit on an empty or non-finite data set');
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
