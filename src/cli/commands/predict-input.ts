/** Reads the `--input` of `iclrnn predict`: JSON X (one sequence or a batch) or a .mat variable U. */
import { extname } from 'node:path';
import { DataError } from '../../io/errors.ts';
import { readJsonFile } from './core.ts';

export interface PredictInput {
  x: Float64Array;
  batch: number;
  steps: number;
  /** True when the input was a batch (3-D), so the output is one too. */
  batched: boolean;
}

function rowsToArray(file: string, rows: unknown, features: number, path: string, out: number[]): number {
  if (!Array.isArray(rows) || rows.length === 0) throw new DataError(`${file}: ${path} must be a non-empty array of rows`, { file, variable: path });
  rows.forEach((row, t) => {
    if (!Array.isArray(row)) throw new DataError(`${file}: ${path}[${t}] must be an array of ${features} numbers`, { file, variable: path, row: t + 1 });
    if (row.length !== features)
      throw new DataError(`${file}: ${path}[${t}] has ${row.length} values but the model takes ${features} input features`, { file, variable: path, row: t + 1 });
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new DataError(`${file}: ${path}[${t}][${j}] is ${JSON.stringify(v)}, not a finite number`, { file, variable: path, row: t + 1, column: j + 1 });
      out.push(v);
    });
  });
  return rows.length;
}

/** Parses a predict input file into batch-major sequences. */
export async function readPredictInput(file: string, features: number): Promise<PredictInput> {
  if (extname(file).toLowerCase() === '.mat') {
    const { readMatVariable } = await import('../../io/mat.ts');
    const u = await readMatVariable(file, 'U');
    if (u.cols === features) return { x: Float64Array.from(u.data), batch: 1, steps: u.rows, batched: false };
    // Files written by h5py (as the reference's) store U as time x features in HDF5 order, which
    // MATLAB's column-major reading shows transposed: accept that orientation when it is the one that fits.
    if (u.rows === features) {
      const x = new Float64Array(u.data.length);
      for (let r = 0; r < u.rows; r++) for (let c = 0; c < u.cols; c++) x[c * u.rows + r] = u.data[r * u.cols + c];
      return { x, batch: 1, steps: u.cols, batched: false };
    }
    throw new DataError(`${file}: variable U is ${u.rows} x ${u.cols} but the model takes ${features} input features per time step`, { file, variable: 'U' });
  }
  const json = readJsonFile(file) as { X?: unknown };
  if (typeof json !== 'object' || json === null || !('X' in json)) throw new DataError(`${file}: expected a JSON object with field "X"`, { file, variable: 'X' });
  const X = json.X;
  if (!Array.isArray(X) || X.length === 0) throw new DataError(`${file}: field X must be a non-empty array`, { file, variable: 'X' });
  const values: number[] = [];
  if (Array.isArray(X[0]) && Array.isArray((X[0] as unknown[])[0])) {
    let steps = -1;
    X.forEach((seq, b) => {
      const s = rowsToArray(file, seq, features, `X[${b}]`, values);
      if (steps >= 0 && s !== steps) throw new DataError(`${file}: X[${b}] has ${s} steps but X[0] has ${steps}; all sequences of a batch need the same length`, { file, variable: 'X' });
      steps = s;
    });
    return { x: Float64Array.from(values), batch: X.length, steps, batched: true };
  }
  const steps = rowsToArray(file, X, features, 'X', values);
  return { x: Float64Array.from(values), batch: 1, steps, batched: false };
}
