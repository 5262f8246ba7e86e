/**
 * Keras layers to iclrnn layer configs: the recurrent layers and cells (the built-in ones and any
 * registered cell family's Keras mapping), Dense, their weights checked by name and shape, the
 * constraints kept, and the model family the layers add up to. Part of the Keras importer
 * (`keras.ts` reads the files and the graph).
 */
import type { Activation, CellConfig } from '../nn/cell.ts';
import type { ConstraintConfig } from '../nn/constraints.ts';
import type { DenseConfig } from '../nn/dense.ts';
import type { ModelKind } from '../nn/model.ts';
import { MODEL_KINDS, MODEL_KIND_TABLE } from '../nn/model-kinds.ts';
import { FAMILIES, familyOfKerasClass, programOf } from '../graph/registry.ts';
import type { KerasConfigReader } from '../graph/family.ts';
import { ModelFileError } from './errors.ts';

export type Obj = Record<string, unknown>;

export interface KVar {
  /** Stored name (legacy files) or `vars/<i>` (v3). */
  name: string;
  shape: number[];
  data: Float64Array;
}

export interface KLayer {
  name: string;
  className: string;
  config: Obj;
  /** Position in the config's layer list. */
  index: number;
  /** Names of the layers feeding it (functional models). */
  inbound: string[];
  /** Number of times the layer is called (functional models). */
  calls: number;
}

export interface WeightStore {
  /** Variables of a layer in creation order (its own, then its cell's). */
  vars(layer: KLayer): KVar[];
}

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// layers -> ModelSpec

/**
 * The recurrent cell classes the importer maps, for messages: the registry's (each family's file
 * declares its Keras classes), in the order the messages have always listed them.
 */
const SUPPORTED_CELLS = ['SimpleRNNCell', 'LSTMCell', 'MyRNNCell', 'MyLRNNCell', 'MyICLSTMCell', ...[...FAMILIES.values()].flatMap((f) => f.keras?.cellClasses ?? [])]
  .filter((c, i, a) => a.indexOf(c) === i && familyOfKerasClass(c) !== null)
  .join(', ');
/** A recurrent Keras layer: `RNN` (wrapping a cell), or the layer class of a registered recurrent family (one with a cell class: `SimpleRNN`, `LSTM`, `GRU`). */
export const isRecurrentClass = (cls: string) => {
  const keras = familyOfKerasClass(cls)?.keras;
  return cls === 'RNN' || (!!keras && keras.layerClasses.includes(cls) && keras.cellClasses.length > 0);
};
export const IDENTITY = new Set(['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);
export const SUPPORTED =
  'InputLayer, SimpleRNN, LSTM, GRU, RNN(SimpleRNNCell | LSTMCell | GRUCell | MyRNNCell | MyLRNNCell | MyICLSTMCell), Dense, Activation, Add (model input), Dropout';

export interface Expected {
  name: string;
  shape: number[];
}

function checkVars(label: string, layer: KLayer, what: string, vars: KVar[], expected: Expected[]): Float64Array[] {
  const list = expected.map((e) => `${e.name} [${e.shape.join(', ')}]`).join(', ');
  if (vars.length !== expected.length)
    throw new ModelFileError(`${label}: layer '${layer.name}' (${what}) has ${vars.length} weight arrays, expected ${expected.length}: ${list}`, {
      file: label,
      variable: layer.name,
    });
  return expected.map((e, i) => {
    const v = vars[i];
    if (v.shape.length !== e.shape.length || v.shape.some((s, j) => s !== e.shape[j]))
      throw new ModelFileError(
        `${label}: layer '${layer.name}' (${what}): weight ${i} (${e.name}, stored as '${v.name}') has shape [${v.shape.join(', ')}], expected [${e.shape.join(', ')}]`,
        { file: label, variable: layer.name },
      );
    const bad = v.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new ModelFileError(`${label}: layer '${layer.name}' (${what}): weight ${e.name} has a non-finite value at index ${bad}`, { file: label, variable: layer.name });
    return v.data;
  });
}

export function activationOf(label: string, layer: KLayer, v: unknown, allowed: readonly Activation[]): Activation {
  const a = v === undefined || v === null ? 'linear' : v;
  if (typeof a !== 'string' || !(allowed as readonly string[]).includes(a))
    throw new ModelFileError(`${label}: layer '${layer.name}' (${layer.className}) uses activation ${JSON.stringify(a)}; supported: ${allowed.join(', ')}`, {
      file: label,
      variable: layer.name,
    });
  return a as Activation;
}

function positiveInt(label: string, layer: KLayer, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new ModelFileError(`${label}: layer '${layer.name}' (${layer.className}): ${what} must be a positive integer, got ${JSON.stringify(v)}`, { file: label, variable: layer.name });
  return v;
}

function finiteNumber(label: string, layer: KLayer, v: unknown, what: string, def: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelFileError(`${label}: layer '${layer.name}': ${what} must be a finite number, got ${JSON.stringify(v)}`, { file: label, variable: layer.name });
  return v;
}

function constraintOf(label: string, layer: KLayer, v: unknown, where: string, warnings: string[]): ConstraintConfig | undefined {
  if (v === undefined || v === null) return undefined;
  const cls = typeof v === 'string' ? v : isObj(v) && typeof v.class_name === 'string' ? v.class_name : null;
  const cfg = isObj(v) && isObj(v.config) ? v.config : {};
  if (cls === 'NonNeg' || cls === 'non_neg') return { type: 'nonNegative' };
  if (cls === 'SpectralConstraint') {
    const k = finiteNumber(label, layer, cfg.k_coef_lip, 'SpectralConstraint k_coef_lip', 1);
    const eps = finiteNumber(label, layer, cfg.eps_spectral, 'SpectralConstraint eps_spectral', 1e-3);
    if (!(k > 0)) throw new ModelFileError(`${label}: layer '${layer.name}': SpectralConstraint k_coef_lip must be > 0, got ${k}`, { file: label, variable: layer.name });
    return { type: 'spectral', k, eps, mode: 'reference', nonNegative: true, iterations: 10, tolerance: 1e-3 };
  }
  warnings.push(`layer '${layer.name}': constraint ${JSON.stringify(cls ?? v)} on ${where} has no iclrnn equivalent and was dropped (the weights are imported as stored)`);
  return undefined;
}

function constraintsOf(entries: [string, ConstraintConfig | undefined][]): Record<string, ConstraintConfig> | undefined {
  const out: Record<string, ConstraintConfig> = {};
  for (const [k, c] of entries) if (c) out[k] = c;
  return Object.keys(out).length ? out : undefined;
}

export interface BuiltLayer {
  values: Map<string, Float64Array>;
}

export interface RecurrentResult extends BuiltLayer {
  cell: CellConfig;
  cellClass: string;
  returnSequences: boolean;
}

export function buildRecurrent(label: string, layer: KLayer, store: WeightStore, inSize: number | null, warnings: string[]): RecurrentResult {
  const c = layer.config;
  const L = `${label}: layer '${layer.name}' (${layer.className})`;
  if (c.go_backwards === true) throw new ModelFileError(`${L}: go_backwards=true is not supported`, { file: label, variable: layer.name });
  if (c.return_state === true) throw new ModelFileError(`${L}: return_state=true is not supported`, { file: label, variable: layer.name });
  if (c.time_major === true) throw new ModelFileError(`${L}: time_major=true is not supported`, { file: label, variable: layer.name });
  if (c.stateful === true) warnings.push(`layer '${layer.name}' is stateful in Keras; the imported model starts every sequence from a zero state`);
  let cellClass: string;
  let cc: Obj;
  if (layer.className !== 'RNN') (cellClass = familyOfKerasClass(layer.className)!.keras!.cellClasses[0] ?? layer.className), (cc = c);
  else {
    const cell = c.cell;
    if (Array.isArray(cell)) throw new ModelFileError(`${L}: a list of cells (stacked cells in one RNN layer) is not supported`, { file: label, variable: layer.name });
    if (!isObj(cell) || typeof cell.class_name !== 'string') throw new ModelFileError(`${L}: the RNN layer has no cell class_name`, { file: label, variable: layer.name });
    cellClass = cell.class_name;
    cc = isObj(cell.config) ? cell.config : {};
  }
  const what = layer.className === 'RNN' ? `RNN(${cellClass})` : layer.className;
  const units = positiveInt(label, layer, cc.units, 'units');
  const vars = store.vars(layer);
  const useBias = cc.use_bias !== false;
  const returnSequences = c.return_sequences === true;
  // the registered cell family with this Keras class: its weights placed as it declares
  const family = familyOfKerasClass(cellClass);
  const keras = family?.keras;
  if (!family || !keras)
    throw new ModelFileError(
      `${label}: layer '${layer.name}' uses the unsupported recurrent cell class '${cellClass}' (supported: ${SUPPORTED_CELLS})`,
      { file: label, variable: layer.name },
    );
  // the fields of the family's config the Keras config holds (activation, constants), checked
  const reader: KerasConfigReader = {
    activation: (key, def, allowed) => activationOf(label, layer, cc[key] ?? def, allowed as Activation[]),
    number: (key, def) => finiteNumber(label, layer, cc[key], key, def),
  };
  const fields = keras.config?.(reader) ?? {};
  const problem = keras.unsupported?.(cc) ?? null;
  if (problem) throw new ModelFileError(`${L}: ${problem}`, { file: label, variable: layer.name });
  // the input size: from the previous layer, else from the first layer's input kernel
  const u = units;
  const probe = keras.weights({ type: family.name, inputSize: 1, units: u, ...fields }, useBias, vars.length);
  const kernelIndex = Math.max(0, probe.findIndex((e) => e.placements.some((pl) => pl.param === 'kernel')));
  const n = inSize ?? vars[kernelIndex]?.shape[0] ?? 0;
  const base = { type: family.name, inputSize: n, units: u, ...fields };
  const expected = keras.weights(base, useBias, vars.length);
  const w = checkVars(label, layer, what, vars, expected.map((e) => ({ name: e.name, shape: [...e.shape] })));
  const values = new Map<string, Float64Array>();
  for (const p of programOf(base).params) values.set(p.name, new Float64Array(p.rows * p.cols));
  expected.forEach((e, i) => {
    for (const pl of e.placements) values.get(pl.param)!.set(w[i].subarray(pl.from, pl.from + pl.length), pl.to);
  });
  // constraints: the ones the Keras class has by definition, then the ones its config names
  const nonNeg: ConstraintConfig = { type: 'nonNegative' };
  const constraints = constraintsOf([
    ...(keras.nonNegative ?? []).map((param): [string, ConstraintConfig] => [param, nonNeg]),
    ...(keras.constraintKeys ?? []).map(([param, key, where]): [string, ConstraintConfig | undefined] => [param, constraintOf(label, layer, cc[key], where, warnings)]),
  ]);
  const cell = { ...base, ...(constraints ? { constraints } : {}) } as unknown as CellConfig;
  return { cell, cellClass, values, returnSequences };
}

export function buildDense(label: string, layer: KLayer, store: WeightStore, inSize: number, warnings: string[]): BuiltLayer & { config: DenseConfig } {
  const c = layer.config;
  const units = positiveInt(label, layer, c.units, 'units');
  const activation = activationOf(label, layer, c.activation, ['linear', 'relu', 'tanh', 'sigmoid']);
  const useBias = c.use_bias !== false;
  const exp: Expected[] = [{ name: 'kernel', shape: [inSize, units] }];
  if (useBias) exp.push({ name: 'bias', shape: [units] });
  const w = checkVars(label, layer, 'Dense', store.vars(layer), exp);
  const constraints = constraintsOf([
    ['kernel', constraintOf(label, layer, c.kernel_constraint, 'kernel', warnings)],
    ['bias', constraintOf(label, layer, c.bias_constraint, 'bias', warnings)],
  ]);
  return {
    config: { inputSize: inSize, units, activation, ...(constraints ? { constraints } : {}) },
    values: new Map([['kernel', w[0]], ['bias', useBias ? w[1] : new Float64Array(units)]]),
  };
}

/** The model kind whose structure (cells, head, constraints) an imported spec has, else 'custom' (the model-kind table recognises them). */
export function familyOf(cells: CellConfig[], head: DenseConfig[], interleaved: boolean): ModelKind {
  // dense layers between recurrent layers: an alternative form of a kind (the published multi-block ICLSTM)
  if (interleaved) return MODEL_KINDS.find((k) => Object.values(MODEL_KIND_TABLE[k].forms ?? {}).some((f) => f.recognise(cells, head))) ?? 'custom';
  return MODEL_KINDS.find((k) => MODEL_KIND_TABLE[k].recognise(cells, head)) ?? 'custom';
}
