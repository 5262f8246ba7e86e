/**
 * The waste-heat-recovery energy system dataset (REFERENCE section 2).
 *
 * Pure functions over arrays (no Node APIs): usable in a browser. The file loader is
 * `loadEnergyDataset` in `src/io/datasets.ts`.
 */
import { DataError } from '../core/errors.ts';
import type { SequenceDataset } from './dataset.ts';
import { type NumericMatrix, windowedDataset } from './timeseries.ts';

/** Options of {@link energyDataset}. */
export interface EnergyOptions {
  /** Steps per sequence. Default 5 (the reference). */
  window?: number;
  /** Steps between sequence starts. Default 5 (the reference: non-overlapping windows). */
  stride?: number;
  /** Label of the data source (e.g. the file path), used in error messages. */
  source?: string;
}

/**
 * Builds the energy-system dataset from control actions `U` and measured states `Y`, both
 * time-major (rows are time steps; 20001 x 2 each in the reference file).
 *
 * Reference windowing: for every `i` with `i % stride == 0` and `i + window <= rows`, sample
 * `i / stride` has input `U[i : i+window]` and target `Y[i : i+window]`. With the defaults
 * (window 5, stride 5) and 20001 rows that is 4000 sequences of 5 steps. Inputs are plain `U`
 * (input-convex models add `[U, -U]` themselves). Feature names are `u1, u2, ...` and
 * `y1, y2, ...`. Name: `'energy'`.
 *
 * Throws {@link DataError} when U and Y differ in row count, when the window is longer than the
 * data, or when a value is NaN / infinite.
 *
 * @example
 * ```ts
 * const U = { rows: 20001, cols: 2, data: u };   // time-major numeric matrices (Float64Array data)
 * const Y = { rows: 20001, cols: 2, data: y };
 * const data = energyDataset(U, Y);              // windows of 5 steps, one every 5 steps
 * ```
 */
export function energyDataset(U: NumericMatrix, Y: NumericMatrix, options: EnergyOptions = {}): SequenceDataset {
  const { window = 5, stride = 5, source } = options;
  const where = source === undefined ? '' : `${source}: `;
  if (U.rows !== Y.rows) {
    throw new DataError(`${where}U has ${U.rows} rows (time steps) but Y has ${Y.rows}`, { file: source });
  }
  for (const [m, v] of [[U, 'U'], [Y, 'Y']] as const) {
    if (m.cols < 1) throw new DataError(`${where}${v} has no columns`, { file: source, variable: v });
    if (m.data.length !== m.rows * m.cols) {
      throw new DataError(`${where}${v} holds ${m.data.length} values, expected ${m.rows}x${m.cols}`, { file: source, variable: v });
    }
  }
  const columns = new Map<string, Float64Array>();
  const inputs: string[] = [];
  const outputs: string[] = [];
  const add = (m: NumericMatrix, prefix: string, names: string[]): void => {
    for (let c = 0; c < m.cols; c++) {
      const col = new Float64Array(m.rows);
      for (let r = 0; r < m.rows; r++) col[r] = m.data[r * m.cols + c];
      const name = `${prefix}${c + 1}`;
      columns.set(name, col);
      names.push(name);
    }
  };
  add(U, 'u', inputs);
  add(Y, 'y', outputs);
  return windowedDataset(columns, { inputs, outputs, window, stride, name: 'energy', source });
}
