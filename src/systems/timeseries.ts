/**
 * Generic windowing of multichannel time series into a {@link SequenceDataset}.
 *
 * Pure functions over arrays (no Node APIs): usable in a browser.
 */
import { DataError } from '../core/errors.ts';
import type { SequenceDataset } from './dataset.ts';

/** A dense real matrix, row-major: element (r, c) sits at `data[r * cols + c]`. */
export interface NumericMatrix {
  rows: number;
  cols: number;
  /** rows * cols values, row-major. */
  data: Float64Array;
}

/** Named numeric columns of equal length (a `Map` or a plain object). */
export type ColumnSource = ReadonlyMap<string, ArrayLike<number>> | Readonly<Record<string, ArrayLike<number>>>;

/** Options of {@link windowedDataset}. */
export interface WindowOptions {
  /** Column names fed as inputs, in order. */
  inputs: string[];
  /** Column names used as targets, in order. */
  outputs: string[];
  /** Steps per sequence (integer >= 1). */
  window: number;
  /** Steps between the starts of consecutive sequences (integer >= 1). Default: `window`. */
  stride?: number;
  /** Dataset name. Default `'timeseries'`. */
  name?: string;
  /** Label of the data source (e.g. a file path), used in error messages. */
  source?: string;
}

/** Returns the transpose of a row-major matrix (a new matrix; the input is not modified). */
export function transposeMatrix(m: NumericMatrix): NumericMatrix {
  const { rows, cols, data } = m;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return { rows: cols, cols: rows, data: out };
}

/**
 * Orients a matrix so that rows are time steps and columns are channels.
 *
 * With `channels` given, the matrix must have exactly that many columns (returned as is) or rows
 * (returned transposed); otherwise a {@link DataError} is thrown. Without it, time is taken to run
 * along the longer dimension: a matrix with more columns than rows is transposed.
 *
 * @param m the matrix
 * @param options `channels`: expected channel count; `label`: name used in error messages
 */
export function toTimeMajor(m: NumericMatrix, options: { channels?: number; label?: string } = {}): NumericMatrix {
  const { channels, label = 'matrix' } = options;
  if (channels !== undefined) {
    if (m.cols === channels) return m;
    if (m.rows === channels) return transposeMatrix(m);
    throw new DataError(`${label} is ${m.rows}x${m.cols}; expected ${channels} channels (N x ${channels} or ${channels} x N)`);
  }
  return m.cols > m.rows ? transposeMatrix(m) : m;
}

/**
 * Start indices of the windows `[i, i + window)` with `i = 0, stride, 2*stride, ...` and
 * `i + window <= length`.
 */
export function windowStarts(length: number, window: number, stride: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + window <= length; i += stride) out.push(i);
  return out;
}

/** Validates that `v` is an integer >= `min`; throws a DataError naming `what` otherwise. */
export function checkInteger(v: number, what: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new DataError(`${what} must be an integer >= ${min}, got ${v}`);
}

function columnNames(columns: ColumnSource): string[] {
  return columns instanceof Map ? [...columns.keys()] : Object.keys(columns);
}

function getColumn(columns: ColumnSource, name: string): ArrayLike<number> | undefined {
  if (columns instanceof Map) return columns.get(name);
  return Object.prototype.hasOwnProperty.call(columns, name) ? (columns as Record<string, ArrayLike<number>>)[name] : undefined;
}

/**
 * Cuts named columns into fixed-length input/target sequences.
 *
 * For every start `i = 0, stride, 2*stride, ...` with `i + window <= rows`, sample k has
 * `inputs[k][t][j] = columns[inputs[j]][i + t]` and `targets[k][t][j] = columns[outputs[j]][i + t]`
 * for `t = 0 .. window-1` (one target row per input row, same time step).
 *
 * Throws {@link DataError} for: no inputs / outputs, an unknown column (the message lists the
 * available ones), columns of different lengths, a window longer than the data, a non-integer
 * window or stride, a NaN / infinite value in a used column (1-based row and column name).
 *
 * @example
 * ```ts
 * const columns = { u: Float64Array.from([0, 1, 2, 3]), y: Float64Array.from([0, 2, 4, 6]) };
 * const data = windowedDataset(columns, { inputs: ['u'], outputs: ['y'], window: 2 }); // 2 sequences of 2 steps
 * ```
 */
export function windowedDataset(columns: ColumnSource, options: WindowOptions): SequenceDataset {
  const { inputs, outputs, window, name = 'timeseries', source } = options;
  const stride = options.stride ?? window;
  const where = source === undefined ? '' : `${source}: `;
  if (inputs.length === 0) throw new DataError(`${where}no input columns given`, { file: source });
  if (outputs.length === 0) throw new DataError(`${where}no output columns given`, { file: source });
  checkInteger(window, `${where}window`, 1);
  checkInteger(stride, `${where}stride`, 1);
  const available = columnNames(columns);
  const pick = (col: string): ArrayLike<number> => {
    const c = getColumn(columns, col);
    if (c === undefined) {
      throw new DataError(`${where}unknown column "${col}"; available: ${available.map((a) => `"${a}"`).join(', ')}`, {
        file: source,
        variable: col,
      });
    }
    return c;
  };
  const ins = inputs.map(pick);
  const outs = outputs.map(pick);
  const all = [...inputs, ...outputs];
  const cols = [...ins, ...outs];
  const rows = cols[0].length;
  cols.forEach((c, j) => {
    if (c.length !== rows) {
      throw new DataError(`${where}column "${all[j]}" has ${c.length} rows but column "${all[0]}" has ${rows}`, {
        file: source,
        variable: all[j],
      });
    }
    for (let r = 0; r < rows; r++) {
      if (!Number.isFinite(c[r])) {
        throw new DataError(`${where}column "${all[j]}", row ${r + 1}: value ${c[r]} is not a finite number`, {
          file: source,
          variable: all[j],
          row: r + 1,
          column: all[j],
        });
      }
    }
  });
  if (window > rows) {
    throw new DataError(`${where}window of ${window} steps is longer than the data (${rows} rows)`, { file: source });
  }
  const starts = windowStarts(rows, window, stride);
  const count = starts.length;
  const ni = ins.length;
  const no = outs.length;
  const x = new Float64Array(count * window * ni);
  const y = new Float64Array(count * window * no);
  starts.forEach((s, k) => {
    for (let t = 0; t < window; t++) {
      const row = s + t;
      const base = k * window + t;
      for (let j = 0; j < ni; j++) x[base * ni + j] = ins[j][row];
      for (let j = 0; j < no; j++) y[base * no + j] = outs[j][row];
    }
  });
  return {
    name,
    count,
    steps: window,
    inputSize: ni,
    outputSize: no,
    inputs: x,
    targets: y,
    inputNames: [...inputs],
    outputNames: [...outputs],
    rowOf: (sequence, step) => starts[sequence] + step + 1,
  };
}
