/**
 * The reference's scalers for imported Keras models: `scalers.json`, the pickled scikit-learn
 * MinMaxScalers, and their mapping onto an iclrnn model's input / output scalers (with the
 * `[x, -x]` augmentation). Part of the Keras importer (`keras.ts`).
 */
import { readFileSync } from 'node:fs';
import { MinMaxScaler } from '../nn/scaler.ts';
import { DataError, ModelFileError } from './errors.ts';
import type { PickledMinMaxScaler } from './pickle.ts';
import { isObj, type Obj } from './keras-layers.ts';

/** The reference's scaler file (`scalers.json`). */
export interface KerasScalers {
  x_min: number[];
  x_max: number[];
  y_min: number[];
  y_max: number[];
  /** The Keras model was trained on `[x, -x]`, scaled column by column (x_min/x_max cover 2n columns). */
  negate_input: boolean;
}

/** The scaler part of an imported model. */
export interface KerasScalerMapping {
  inputSize: number;
  augmentation: { offset: number[] } | null;
  inputScaler: MinMaxScaler;
  outputScaler: MinMaxScaler;
}

/**
 * Turns the reference's two pickled MinMaxScalers into the scalers form: `negate_input` is true
 * when the X scaler's columns are `[x, -x]` (column n+j spans [-max_j, -min_j]).
 *
 * @example
 * ```ts
 * const scalers = kerasScalersFromPickles(readPickledMinMaxScaler('scaler_X.pkl'), readPickledMinMaxScaler('scaler_Y.pkl'));
 * const imported = await importKeras('model.h5', { scalers });
 * ```
 */
export function kerasScalersFromPickles(x: PickledMinMaxScaler, y: PickledMinMaxScaler, files: { x?: string; y?: string } = {}): KerasScalers {
  for (const [s, f] of [[x, files.x ?? '<scaler X>'], [y, files.y ?? '<scaler y>']] as const)
    if (s.featureRange[0] !== 0 || s.featureRange[1] !== 1)
      throw new ModelFileError(`${f}: MinMaxScaler feature_range is (${s.featureRange.join(', ')}); only (0, 1) is supported`, { file: f, variable: 'feature_range' });
  const W = x.nFeatures, n = W / 2;
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(a), Math.abs(b));
  let mirrored = W % 2 === 0;
  for (let j = 0; mirrored && j < n; j++) mirrored = same(x.dataMin[n + j], -x.dataMax[j]) && same(x.dataMax[n + j], -x.dataMin[j]);
  return { x_min: x.dataMin, x_max: x.dataMax, y_min: y.dataMin, y_max: y.dataMax, negate_input: mirrored };
}

// ---------------------------------------------------------------------------------------------
// scalers

function numberArray(file: string, json: Obj, key: string): number[] {
  const v = json[key];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    throw new ModelFileError(`${file}: field '${key}' must be a non-empty array of finite numbers`, { file, variable: key });
  return v as number[];
}

/** Validates a parsed `scalers.json` object. */
export function parseKerasScalers(json: unknown, file = '<scalers>'): KerasScalers {
  if (!isObj(json)) throw new ModelFileError(`${file}: expected a JSON object with x_min, x_max, y_min, y_max, negate_input`, { file });
  const s: KerasScalers = {
    x_min: numberArray(file, json, 'x_min'),
    x_max: numberArray(file, json, 'x_max'),
    y_min: numberArray(file, json, 'y_min'),
    y_max: numberArray(file, json, 'y_max'),
    negate_input: false,
  };
  if (json.negate_input !== undefined && typeof json.negate_input !== 'boolean')
    throw new ModelFileError(`${file}: field 'negate_input' must be true or false`, { file, variable: 'negate_input' });
  s.negate_input = json.negate_input === true;
  if (s.x_min.length !== s.x_max.length) throw new ModelFileError(`${file}: x_min has ${s.x_min.length} entries but x_max has ${s.x_max.length}`, { file, variable: 'x_max' });
  if (s.y_min.length !== s.y_max.length) throw new ModelFileError(`${file}: y_min has ${s.y_min.length} entries but y_max has ${s.y_max.length}`, { file, variable: 'y_max' });
  return s;
}

/** Reads and validates a `scalers.json` file. */
export function readKerasScalers(path: string): KerasScalers {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read scalers file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`${path}: not valid JSON (${(e as Error).message})`, { file: path, cause: e });
  }
  return parseKerasScalers(json, path);
}

/**
 * Maps reference scalers onto an iclrnn model whose Keras counterpart takes `kerasInputWidth`
 * columns and predicts `outputSize` outputs. With `negate_input`, the plain input scaler is the
 * first n columns and the augmentation offsets reproduce the scaled negated columns (see the
 * module documentation); a pair of columns with different ranges cannot be expressed and throws.
 */
export function kerasScalersToModel(s: KerasScalers, kerasInputWidth: number, outputSize: number, file = '<scalers>'): KerasScalerMapping {
  const W = kerasInputWidth;
  if (s.y_min.length !== outputSize)
    throw new ModelFileError(`${file}: y_min/y_max have ${s.y_min.length} entries but the model predicts ${outputSize} outputs`, { file, variable: 'y_min' });
  const outputScaler = new MinMaxScaler({ min: s.y_min, max: s.y_max });
  if (s.x_min.length !== W)
    throw new ModelFileError(
      `${file}: x_min/x_max have ${s.x_min.length} entries but the Keras model takes ${W} input columns` +
        (s.negate_input ? ' (with negate_input they must cover the augmented columns [x, -x])' : ''),
      { file, variable: 'x_min' },
    );
  if (!s.negate_input) return { inputSize: W, augmentation: null, inputScaler: new MinMaxScaler({ min: s.x_min, max: s.x_max }), outputScaler };
  if (W % 2 !== 0)
    throw new ModelFileError(`${file}: negate_input is true but the Keras model takes an odd number (${W}) of input columns, so they cannot be [x, -x]`, { file, variable: 'negate_input' });
  const n = W / 2;
  const range = (j: number) => (s.x_max[j] - s.x_min[j] > 0 ? s.x_max[j] - s.x_min[j] : 1);
  const offset: number[] = [];
  for (let j = 0; j < n; j++) {
    const r = range(j), rn = range(n + j);
    if (Math.abs(r - rn) > 1e-9 * Math.max(Math.abs(r), Math.abs(rn)))
      throw new ModelFileError(
        `${file}: negate_input is true but column ${n + j + 1} (-x${j + 1}) is scaled over [${s.x_min[n + j]}, ${s.x_max[n + j]}] and column ${j + 1} over ` +
          `[${s.x_min[j]}, ${s.x_max[j]}]: the ranges differ, so the scaled negation is not offset - scaled(x) ` +
          `(expected x_min[${n + j + 1}] = -x_max[${j + 1}] and x_max[${n + j + 1}] = -x_min[${j + 1}])`,
        { file, variable: 'x_min' },
      );
    offset.push((-s.x_min[j] - s.x_min[n + j]) / r);
  }
  return { inputSize: n, augmentation: { offset }, inputScaler: new MinMaxScaler({ min: s.x_min.slice(0, n), max: s.x_max.slice(0, n) }), outputScaler };
}
