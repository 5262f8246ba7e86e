/** Reads the `--input` of `iclrnn predict`: JSON X (one sequence or a batch) or a .mat variable U. */
import { closeSync, openSync, readSync } from 'node:fs';
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

/** What `--input` accepts, for messages. */
export const PREDICT_INPUT_TYPES = '.json ({"X": [[...], ...]} one sequence, or {"X": [[[...]]]} a batch) or .mat (variable U, time x features)';

/** The kind of a file from its first bytes: 'json' (text starting with '{' or '['), a known binary format, or null. */
function sniff(file: string): { kind: 'json' | 'hdf5' | 'mat5' | 'zip' | 'binary' | 'text'; what: string } {
  let head: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(512);
      head = head.subarray(0, readSync(fd, head, 0, 512, 0));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file });
  }
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))) return { kind: 'hdf5', what: 'an HDF5 file' };
  if (head.subarray(0, 6).toString('latin1') === 'MATLAB') {
    // v7.3 MAT files are HDF5 with a 512-byte MATLAB header; v5 ones start with the same text.
    return { kind: 'mat5', what: 'a MATLAB file' };
  }
  if (head.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) return { kind: 'zip', what: 'a zip archive (a .keras model?)' };
  if (head.includes(0)) return { kind: 'binary', what: 'a binary file' };
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{') || text.startsWith('[')) return { kind: 'json', what: 'JSON' };
  return { kind: 'text', what: 'a text file that is not JSON' };
}

/**
 * Parses a predict input file into batch-major sequences. `.mat` files are read as MAT (variable
 * U); `.json` (or a file without extension that holds JSON) as {"X": ...}; anything else is
 * refused with one line naming the supported types (`flag` names the option in the message).
 */
export async function readPredictInput(file: string, features: number, flag = '--input'): Promise<PredictInput> {
  const ext = extname(file).toLowerCase();
  const found = sniff(file);
  const refuse = (why: string): never => {
    throw new DataError(`${file}: ${why}; ${flag} takes ${PREDICT_INPUT_TYPES}`, { file, flag });
  };
  if (ext === '.mat') {
    if (found.kind !== 'hdf5' && found.kind !== 'mat5') refuse(`has the extension .mat but is ${found.what}`);
  } else if (ext === '.json' || ext === '') {
    if (found.kind !== 'json') refuse(ext === '' ? `is ${found.what}` : `has the extension .json but is ${found.what}`);
  } else refuse(`unsupported input type '${ext}' (${found.what})`);
  if (ext === '.mat') {
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
