/**
 * The iclrnn model file: versioned JSON holding the architecture, every weight, the constraint
 * settings and state, the scalers, the training configuration, seeds and metrics. JSON numbers
 * written by JavaScript round-trip doubles exactly, so save -> load gives a bit-identical model.
 *
 * This module is pure (no Node APIs); `model-file.ts` does the atomic file I/O.
 */
import type { ModelSpec } from '../nn/model.ts';
import { SequenceModel } from '../nn/model.ts';
import { MinMaxScaler, type MinMaxScalerConfig } from '../train/scaler.ts';
import type { ScaledModel } from '../train/pipeline.ts';
import { DataError } from './errors.ts';

/** Current file format version. */
export const MODEL_FORMAT_VERSION = 1;
export const MODEL_FORMAT_NAME = 'iclrnn-model';

/** Everything a model file carries besides the weights. */
export interface ModelMetadata {
  /** The system / data set it was trained on (e.g. 'cstr', 'energy'), if any. */
  system?: string;
  /** Data options needed to rebuild the same split (e.g. the data path, window, split seed). */
  data?: Record<string, unknown>;
  /** Training configuration (epochs, batch, learning rate, noise, spectral mode, ...). */
  training?: Record<string, unknown>;
  seed?: number;
  metrics?: Record<string, number | null>;
  /** Free-form provenance (e.g. imported from a Keras file). */
  source?: Record<string, unknown>;
}

export interface ModelFileJson {
  format: typeof MODEL_FORMAT_NAME;
  version: number;
  spec: ModelSpec;
  weights: Record<string, { shape: [number, number]; data: number[] }>;
  constraintState: Record<string, number[]>;
  scalers: { input: MinMaxScalerConfig | null; output: MinMaxScalerConfig | null };
  metadata: ModelMetadata;
}

/** A model as stored: the scaled model plus its metadata. */
export interface StoredModel extends ScaledModel {
  metadata: ModelMetadata;
}

/** Serialises a model to the JSON object of the file format. */
export function modelToJson(m: StoredModel): ModelFileJson {
  const weights: ModelFileJson['weights'] = {};
  const constraintState: Record<string, number[]> = {};
  for (const { path, param } of m.model.namedParameters()) {
    weights[path] = { shape: [param.rows, param.cols], data: Array.from(param.value) };
    const s = param.constraint?.state();
    if (s) constraintState[path] = s;
  }
  return {
    format: MODEL_FORMAT_NAME,
    version: MODEL_FORMAT_VERSION,
    spec: m.model.spec,
    weights,
    constraintState,
    scalers: { input: m.inputScaler?.config() ?? null, output: m.outputScaler?.config() ?? null },
    metadata: m.metadata,
  };
}

function fail(file: string, field: string, problem: string): never {
  throw new DataError(`${file}: field '${field}' ${problem}`, { file, variable: field });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkScaler(file: string, field: string, v: unknown, width: number): MinMaxScalerConfig | null {
  if (v === null || v === undefined) return null;
  if (!isObject(v)) fail(file, field, 'must be an object with min and max arrays or null');
  for (const k of ['min', 'max'] as const) {
    const a = v[k];
    if (!Array.isArray(a) || a.length !== width || a.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      fail(file, `${field}.${k}`, `must be an array of ${width} finite numbers`);
  }
  return v as unknown as MinMaxScalerConfig;
}

/**
 * Rebuilds a model from a parsed file. Throws a {@link DataError} naming the field for a wrong or
 * unknown format/version, missing fields, unknown layers and wrong weight shapes.
 */
export function modelFromJson(json: unknown, file = '<model>'): StoredModel {
  if (!isObject(json)) fail(file, '(root)', 'must be a JSON object');
  if (json.format !== MODEL_FORMAT_NAME) fail(file, 'format', `must be '${MODEL_FORMAT_NAME}' (got ${JSON.stringify(json.format)}); is this an iclrnn model file?`);
  if (typeof json.version !== 'number') fail(file, 'version', 'is missing');
  if (json.version !== MODEL_FORMAT_VERSION)
    fail(file, 'version', `is ${json.version}, but this iclrnn reads version ${MODEL_FORMAT_VERSION} only`);
  if (!isObject(json.spec)) fail(file, 'spec', 'is missing');
  if (!isObject(json.weights)) fail(file, 'weights', 'is missing');
  if (!isObject(json.scalers)) fail(file, 'scalers', 'is missing');
  let model: SequenceModel;
  try {
    model = new SequenceModel(json.spec as unknown as ModelSpec);
  } catch (e) {
    fail(file, 'spec', `is invalid: ${(e as Error).message}`);
  }
  const weights = json.weights as Record<string, unknown>;
  const known = new Set<string>();
  for (const { path, param } of model.namedParameters()) {
    known.add(path);
    const w = weights[path];
    if (!isObject(w)) fail(file, `weights.${path}`, 'is missing');
    const shape = w.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || shape[0] !== param.rows || shape[1] !== param.cols)
      fail(file, `weights.${path}.shape`, `is ${JSON.stringify(shape)}, expected [${param.rows}, ${param.cols}]`);
    const data = w.data;
    if (!Array.isArray(data) || data.length !== param.value.length)
      fail(file, `weights.${path}.data`, `must hold ${param.value.length} numbers`);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(file, `weights.${path}.data[${i}]`, `is ${JSON.stringify(v)}, not a finite number`);
      param.value[i] = v;
    }
    const cs = isObject(json.constraintState) ? json.constraintState[path] : undefined;
    if (param.constraint && Array.isArray(cs)) param.constraint.restoreState(cs as number[]);
  }
  for (const k of Object.keys(weights)) if (!known.has(k)) fail(file, `weights.${k}`, 'does not belong to any layer of the spec');
  const scalers = json.scalers as Record<string, unknown>;
  const inCfg = checkScaler(file, 'scalers.input', scalers.input, model.inputSize);
  const outCfg = checkScaler(file, 'scalers.output', scalers.output, model.outputSize);
  const metadata = isObject(json.metadata) ? (json.metadata as ModelMetadata) : {};
  return {
    model,
    inputScaler: inCfg ? new MinMaxScaler(inCfg) : null,
    outputScaler: outCfg ? new MinMaxScaler(outCfg) : null,
    metadata,
  };
}
