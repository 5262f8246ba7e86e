/**
 * File import inside the worker, with the library's own readers: dropped bytes are written to an
 * in-memory file system (./node-shim.ts) and read there by `loadTimeSeries` (CSV, MAT v5/v7.3,
 * HDF5), `listMatVariables` and `importKeras`. Loaded lazily (a separate chunk: it carries the
 * HDF5 wasm binary).
 */
import { importKeras, parseKerasScalers } from '../../io/keras.ts';
import { listMatVariables } from '../../io/mat.ts';
import { parseCsv } from '../../io/csv.ts';
import { loadTimeSeries } from '../../io/datasets.ts';
import { ValidationError } from '../../core/errors.ts';
import type { SequenceDataset } from '../../systems/dataset.ts';
import type { FileColumns, WindowSettings } from '../protocol.ts';
import { existsSync, mkdirSync, ready, rmSync, writeFileSync } from './node-shim.ts';

const DIR = '/uploads';
let opened: { path: string; name: string } | null = null;

function safeName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'file';
  return base.replace(/[^\w.\-]+/g, '_') || 'file';
}

async function store(name: string, bytes: Uint8Array): Promise<string> {
  await ready;
  if (!existsSync(DIR)) mkdirSync(DIR, { recursive: true });
  const path = `${DIR}/${safeName(name)}`;
  rmSync(path, { force: true });
  writeFileSync(path, bytes);
  return path;
}

/** Stores a CSV or MAT file and lists its columns. */
export async function openFile(name: string, bytes: Uint8Array): Promise<FileColumns> {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) {
    const path = await store(name, bytes);
    const table = parseCsv(new TextDecoder().decode(bytes), { path: safeName(name) });
    opened = { path, name };
    return { name, kind: 'csv', columns: table.header, rows: table.rowCount, skipped: [] };
  }
  if (/\.(mat|h5|hdf5|he5)$/.test(lower)) {
    const path = await store(name, bytes);
    const vars = await listMatVariables(path);
    const columns: string[] = [];
    const skipped: string[] = [];
    let rows = 0;
    for (const v of vars) {
      if (!v.readable || v.dims.length !== 2) {
        skipped.push(`${v.name} (${v.reason ?? `${v.class}, ${v.dims.join('x')}`})`);
        continue;
      }
      const [r, c] = v.dims;
      const time = Math.max(r, c), channels = Math.min(r, c);
      rows = Math.max(rows, time);
      for (let k = 1; k <= channels; k++) columns.push(`${v.name}:${k}`);
    }
    opened = { path, name };
    return { name, kind: 'mat', columns, rows, skipped };
  }
  throw new ValidationError(`${name}: unsupported file type; drop a .csv, .mat, .h5 or .hdf5 file (Keras models go to the Models view)`);
}

/** Windows the opened file into a data set. */
export async function windowFile(s: WindowSettings): Promise<{ dataset: SequenceDataset; source: string }> {
  if (!opened) throw new ValidationError('open a CSV or MAT file first');
  if (s.inputs.length === 0) throw new ValidationError('pick at least one input column');
  if (s.outputs.length === 0) throw new ValidationError('pick at least one output column');
  const dataset = await loadTimeSeries(opened.path, { inputs: s.inputs, outputs: s.outputs, window: s.window, stride: s.stride });
  return { dataset, source: `${opened.name}: window ${s.window}, stride ${s.stride}` };
}

/** Imports a Keras model (.keras or .h5) from its bytes, with optional scalers. */
export async function importKerasBytes(name: string, bytes: Uint8Array, scalers: unknown | null) {
  const path = await store(name, bytes);
  try {
    const r = await importKeras(path, { scalers: scalers === null ? null : parseKerasScalers(scalers, 'scalers.json') });
    return { model: r, warnings: r.warnings };
  } finally {
    rmSync(path, { force: true });
  }
}
