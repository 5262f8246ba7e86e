/**
 * File loaders for the real datasets (REFERENCE section 2) and for generic time series.
 * They read files (Node) and hand the numbers to the pure builders in `src/systems/`.
 */
import { extname } from 'node:path';
import { numericColumns, readCsvFile } from './csv.ts';
import { DataError } from './errors.ts';
import { type MatReadOptions, readMatVariable } from './mat.ts';
import type { SequenceDataset } from '../systems/dataset.ts';
import { type EnergyOptions, energyDataset } from '../systems/energy.ts';
import { SOLAR_COLUMNS, type SolarDataset, type SolarOptions, solarDataset } from '../systems/solar.ts';
import { type NumericMatrix, toTimeMajor, transposeMatrix, windowedDataset } from '../systems/timeseries.ts';

/** Which axis of a MAT / HDF5 matrix is time (see {@link loadTimeSeries}). */
export type TimeAxis = 'auto' | 'rows' | 'cols';

function orient(m: NumericMatrix, axis: TimeAxis, label: string): NumericMatrix {
  if (axis === 'rows') return m;
  if (axis === 'cols') return transposeMatrix(m);
  if (axis !== 'auto') throw new DataError(`${label}: timeAxis must be 'auto', 'rows' or 'cols', got ${String(axis)}`);
  return toTimeMajor(m, { label });
}

/**
 * Loads the energy-system dataset from a `.mat` file holding `U` (control actions) and `Y`
 * (measured states), e.g. `../shared/data/energy/test_collected_data.mat`.
 *
 * Both variables are read in MATLAB orientation and made time-major: time runs along the longer
 * dimension (the reference file stores them as 2 x 20001 in MATLAB orientation, 20001 x 2 as
 * h5py sees them; either way they become 20001 x 2). Then {@link energyDataset} applies the
 * reference windowing (window 5, stride 5: 4000 sequences for 20001 rows).
 *
 * Throws {@link DataError} for a missing / corrupt file, missing or non-numeric U / Y, NaN / Inf
 * values, or U and Y of different lengths.
 *
 * @example
 * ```ts
 * const data = await loadEnergyDataset('test_collected_data.mat');
 * ```
 */
export async function loadEnergyDataset(
  path: string,
  options: EnergyOptions & { timeAxis?: TimeAxis } = {},
): Promise<SequenceDataset> {
  const axis = options.timeAxis ?? 'auto';
  const U = orient(await readMatVariable(path, 'U'), axis, `${path}: variable "U"`);
  const Y = orient(await readMatVariable(path, 'Y'), axis, `${path}: variable "Y"`);
  return energyDataset(U, Y, { ...options, source: path });
}

/**
 * Loads the solar forecasting dataset from `SolarPrediction.csv` (see `src/systems/solar.ts` for
 * the exact task definition and options). Uses the columns of {@link SOLAR_COLUMNS}; every cell
 * of them must be a finite number (errors name the file, data row and column).
 *
 * @example
 * ```ts
 * const data = await loadSolarDataset('SolarPrediction.csv');
 * ```
 */
export async function loadSolarDataset(path: string, options: SolarOptions = {}): Promise<SolarDataset> {
  const table = await readCsvFile(path);
  const columns = numericColumns(table, Object.values(SOLAR_COLUMNS));
  return solarDataset(columns, { ...options, source: path });
}

/** Options of {@link loadTimeSeries}. */
export interface TimeSeriesFileOptions {
  /** Input column names (see {@link loadTimeSeries} for MAT naming). */
  inputs: string[];
  /** Target column names. */
  outputs: string[];
  /** Steps per sequence. */
  window: number;
  /** Steps between sequence starts. Default: `window`. */
  stride?: number;
  /**
   * MAT / HDF5 only: which matrix axis is time. `'auto'` (default): the longer dimension;
   * `'rows'`: rows are time steps; `'cols'`: columns are time steps.
   */
  timeAxis?: TimeAxis;
  /** MAT / HDF5 only: orientation in which variables are read (default `'auto'`, see `src/io/mat.ts`). */
  orientation?: MatReadOptions['orientation'];
}

const MAT_EXTENSIONS = new Set(['.mat', '.h5', '.hdf5', '.he5']);

/**
 * Loads a generic multichannel time series and windows it with {@link windowedDataset}
 * (dataset name `'timeseries'`).
 *
 * - `.csv`: a header row names the columns; `inputs` / `outputs` are header names.
 * - `.mat`, `.h5`, `.hdf5`: each variable is a matrix made time-major per `timeAxis`; a column is
 *   named `VAR:k` (k = 1-based channel of variable VAR, e.g. `U:1`), and a bare `VAR` expands to
 *   all its channels `VAR:1, VAR:2, ...` (also when it has only one). The dataset's feature names
 *   are these expanded names.
 *
 * Throws {@link DataError} for an unsupported extension, an unknown column or variable (listing
 * what is available), a channel index out of range, non-numeric / non-finite cells, columns of
 * different lengths, or a window longer than the data.
 *
 * @example
 * ```ts
 * const data = await loadTimeSeries('plant.csv', { inputs: ['u1', 'u2'], outputs: ['y'], window: 10 });
 * ```
 */
export async function loadTimeSeries(path: string, options: TimeSeriesFileOptions): Promise<SequenceDataset> {
  const { inputs, outputs, window, stride } = options;
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') {
    const table = await readCsvFile(path);
    const columns = numericColumns(table, [...new Set([...inputs, ...outputs])]);
    return windowedDataset(columns, { inputs, outputs, window, stride, source: path });
  }
  if (!MAT_EXTENSIONS.has(ext)) {
    throw new DataError(`${path}: unsupported file type "${ext}"; use .csv, .mat, .h5 or .hdf5`, { file: path });
  }
  const axis = options.timeAxis ?? 'auto';
  const matrices = new Map<string, NumericMatrix>();
  const load = async (variable: string): Promise<NumericMatrix> => {
    let m = matrices.get(variable);
    if (m === undefined) {
      m = orient(await readMatVariable(path, variable, { orientation: options.orientation }), axis, `${path}: variable "${variable}"`);
      matrices.set(variable, m);
    }
    return m;
  };
  const columns = new Map<string, Float64Array>();
  const expand = async (names: string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const name of names) {
      const match = /^(.*):(\d+)$/.exec(name);
      const variable = match ? match[1] : name;
      const m = await load(variable);
      const channels = match ? [Number(match[2])] : Array.from({ length: m.cols }, (_, i) => i + 1);
      for (const k of channels) {
        if (k < 1 || k > m.cols) {
          throw new DataError(
            `${path}: column "${name}": variable "${variable}" has ${m.cols} channel(s) (time-major ${m.rows}x${m.cols}); use ${variable}:1 .. ${variable}:${m.cols}`,
            { file: path, variable, column: k },
          );
        }
        const col = `${variable}:${k}`;
        if (!columns.has(col)) {
          const c = new Float64Array(m.rows);
          for (let r = 0; r < m.rows; r++) c[r] = m.data[r * m.cols + k - 1];
          columns.set(col, c);
        }
        out.push(col);
      }
    }
    return out;
  };
  const ins = await expand(inputs);
  const outs = await expand(outputs);
  return windowedDataset(columns, { inputs: ins, outputs: outs, window, stride, source: path });
}
