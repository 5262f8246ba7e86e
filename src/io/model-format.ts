/**
 * The iclrnn model file: versioned JSON holding the architecture, every weight, the constraint
 * settings and state, the scalers, the training configuration, seeds and metrics. JSON numbers
 * written by JavaScript round-trip doubles exactly, so save -> load gives a bit-identical model.
 *
 * This module is pure (no Node APIs); `model-file.ts` does the atomic file I/O.
 */
import type { ModelSpec } from '../nn/model.ts';
import { SequenceModel } from '../nn/model.ts';
import { MODEL_KINDS } from '../nn/models.ts';
import { modelKindInfo } from '../nn/model-kinds.ts';
import { FAMILIES } from '../graph/registry.ts';
import { MinMaxScaler, type MinMaxScalerConfig } from '../nn/scaler.ts';
import type { ScaledModel } from '../nn/scaled-model.ts';
import { DataError } from './errors.ts';

/**
 * Current file format version. Version 2 added `spec.layout` (dense layers between recurrent
 * layers, e.g. the multi-block ICLSTM); a model without one is still written as version 1, which
 * older readers understand, and version 1 files read as before (no layout: cells, then head).
 */
export const MODEL_FORMAT_VERSION = 2;
export const MODEL_FORMAT_NAME = 'iclrnn-model';

export type { ModelMetadata } from '../nn/scaled-model.ts';
import type { ModelMetadata } from '../nn/scaled-model.ts';

/** The JSON object of a model file (`format: "iclrnn-model"`): architecture, weights, constraint settings, scalers and metadata. */
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

/**
 * Serialises a model to the JSON object of the file format.
 *
 * @example
 * ```ts
 * const json = modelToJson({ ...fit, metadata: { system: 'cstr' } });
 * const text = JSON.stringify(json);
 * ```
 */
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
    version: m.model.spec.layout ? MODEL_FORMAT_VERSION : 1,
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
  const min = v.min as number[], max = v.max as number[];
  for (let j = 0; j < width; j++) {
    // iclrnn stores a constant feature as max = min + 1, so min >= max is never written by it.
    if (!(max[j] > min[j])) fail(file, `${field}.max[${j}]`, `is ${max[j]}, not above min[${j}] = ${min[j]} (a zero or negative range cannot scale)`);
    if (!Number.isFinite(max[j] - min[j])) fail(file, `${field}.max[${j}]`, `is ${max[j]}: the range max - min overflows`);
  }
  return v as unknown as MinMaxScalerConfig;
}

const ACTIVATIONS = new Set(['linear', 'relu', 'tanh', 'sigmoid']);
/** Activations that keep an input-convex network convex (convex and non-decreasing). */
const CONVEX_ACTIVATIONS = new Set(['linear', 'relu']);
/**
 * Checks that a spec is one of the families it claims to be (a hand-edited `kind`, a foreign
 * activation in an input-convex model, a cell of another family), before any layer is built.
 */
function checkSpecFamily(file: string, spec: Record<string, unknown>): void {
  const kinds = [...MODEL_KINDS, 'custom'];
  const kind = spec.kind;
  if (typeof kind !== 'string' || !kinds.includes(kind)) fail(file, 'spec.kind', `is ${JSON.stringify(kind)}; expected one of ${kinds.join(', ')}`);
  if (!Array.isArray(spec.cells)) fail(file, 'spec.cells', 'must be an array of recurrent layers');
  if (!Array.isArray(spec.head)) fail(file, 'spec.head', 'must be an array of dense layers');
  const cells = spec.cells as unknown[], head = spec.head as unknown[];
  head.forEach((h, i) => {
    if (!isObject(h)) fail(file, `spec.head[${i}]`, 'must be an object');
    if (typeof h.activation !== 'string' || !ACTIVATIONS.has(h.activation))
      fail(file, `spec.head[${i}].activation`, `is ${JSON.stringify(h.activation)}; expected one of ${[...ACTIVATIONS].join(', ')}`);
  });
  cells.forEach((c, i) => {
    if (!isObject(c)) fail(file, `spec.cells[${i}]`, 'must be an object');
    const activations = typeof c.type === 'string' ? FAMILIES.get(c.type)?.activations : undefined;
    if (activations && !activations.includes(c.activation as string))
      fail(file, `spec.cells[${i}].activation`, `is ${JSON.stringify(c.activation)}; a ${c.type} recurrent layer takes ${activations.map((a) => `'${a}'`).join(' or ')}`);
  });
  // the recurrent cell each built-in kind is made of (absent: 'custom', any stack)
  const info = modelKindInfo(kind);
  if (!info) return;
  const want = { type: info.cellType, activation: info.cellActivation };
  cells.forEach((c, i) => {
    const cell = c as Record<string, unknown>;
    if (cell.type !== want.type || (want.activation !== undefined && cell.activation !== want.activation))
      fail(file, `spec.cells[${i}]`, `is a ${String(cell.type)}${cell.activation ? ` (${String(cell.activation)})` : ''} layer, but an ${kind} is made of ${want.type}${want.activation ? ` (${want.activation})` : ''} layers; use kind 'custom' for other stacks`);
  });
  if (info.inputConvex) {
    head.forEach((h, i) => {
      const a = (h as Record<string, unknown>).activation as string;
      if (!CONVEX_ACTIVATIONS.has(a))
        fail(file, `spec.head[${i}].activation`, `is '${a}', but an ${kind} (input-convex) takes only convex non-decreasing activations (${[...CONVEX_ACTIVATIONS].join(', ')})`);
    });
    if (!isObject(spec.augmentation)) fail(file, 'spec.augmentation', `is missing, but an ${kind} (input-convex) sees [x, offset - x]`);
  }
}

/**
 * Rebuilds a model from a parsed file. Throws a {@link DataError} naming the field for a wrong or
 * unknown format/version, missing fields, unknown layers and wrong weight shapes.
 *
 * @example
 * ```ts
 * const stored = modelFromJson(await (await fetch('/iclrnn.json')).json());
 * ```
 */
export function modelFromJson(json: unknown, file = '<model>'): StoredModel {
  if (!isObject(json)) fail(file, '(root)', 'must be a JSON object');
  if (json.format !== MODEL_FORMAT_NAME) fail(file, 'format', `must be '${MODEL_FORMAT_NAME}' (got ${JSON.stringify(json.format)}); is this an iclrnn model file?`);
  if (typeof json.version !== 'number') fail(file, 'version', 'is missing');
  if (json.version !== 1 && json.version !== MODEL_FORMAT_VERSION)
    fail(file, 'version', `is ${json.version}, but this iclrnn reads versions 1 and ${MODEL_FORMAT_VERSION} only`);
  if (json.version === 1 && isObject(json.spec) && json.spec.layout !== undefined) fail(file, 'spec.layout', 'needs version 2 (version 1 files have no layout)');
  if (!isObject(json.spec)) fail(file, 'spec', 'is missing');
  if (!isObject(json.weights)) fail(file, 'weights', 'is missing');
  if (!isObject(json.scalers)) fail(file, 'scalers', 'is missing');
  if (!isObject(json.constraintState)) fail(file, 'constraintState', 'must be an object (parameter path -> state array)');
  checkSpecFamily(file, json.spec);
  let model: SequenceModel;
  try {
    model = new SequenceModel(json.spec as unknown as ModelSpec);
  } catch (e) {
    fail(file, 'spec', `is invalid: ${(e as Error).message}`);
  }
  const weights = json.weights as Record<string, unknown>;
  const trained = isObject(json.metadata) && isObject(json.metadata.training);
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
    // The spectral constraint keeps a power-iteration vector (one number per column of its matrix).
    // A model trained by iclrnn always has it saved; an imported one may not (it was never applied).
    const stateful = param.constraint?.config.type === 'spectral';
    const cs = json.constraintState[path];
    if (stateful && cs === undefined && trained) fail(file, `constraintState.${path}`, `is missing (the spectral constraint of ${path} keeps a state of ${param.cols} numbers, saved with every trained model)`);
    if (cs !== undefined) {
      if (!stateful) fail(file, `constraintState.${path}`, 'is given but that parameter has no constraint with a state');
      if (!Array.isArray(cs)) fail(file, `constraintState.${path}`, `must be an array of ${param.cols} finite numbers`);
      if (cs.length !== param.cols) fail(file, `constraintState.${path}`, `holds ${cs.length} numbers, expected ${param.cols}`);
      for (let i = 0; i < cs.length; i++)
        if (typeof cs[i] !== 'number' || !Number.isFinite(cs[i])) fail(file, `constraintState.${path}[${i}]`, `is ${JSON.stringify(cs[i])}, not a finite number`);
      param.constraint!.restoreState(cs as number[]);
    }
  }
  for (const k of Object.keys(weights)) if (!known.has(k)) fail(file, `weights.${k}`, 'does not belong to any layer of the spec');
  for (const k of Object.keys(json.constraintState)) if (!known.has(k)) fail(file, `constraintState.${k}`, 'does not belong to any layer of the spec');
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
