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
import { MODEL_KINDS } from '../nn/models.ts';
import { FAMILIES, familyOfKerasClass, programOf } from '../graph/registry.ts';
import type { FamilyConfigBase } from '../graph/family.ts';
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

const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'RNN']);
/** Model kinds that are also registered families with a Keras layer class of their own (GRU). */
const KERAS_LAYER_KINDS: ReadonlySet<string> = new Set(MODEL_KINDS.filter((k) => (FAMILIES.get(k)?.keras?.layerClasses.length ?? 0) > 0));
/** The recurrent cell classes the importer maps (the built-in switch, then the registry's). */
const SUPPORTED_CELLS = ['SimpleRNNCell', 'LSTMCell', 'MyRNNCell', 'MyLRNNCell', 'MyICLSTMCell', ...[...FAMILIES.values()].flatMap((f) => f.keras?.cellClasses ?? [])]
  .filter((c, i, a) => a.indexOf(c) === i)
  .join(', ');
/** A recurrent Keras layer: the built-in ones, or the layer class of a registered recurrent family (one with a cell class: `GRU`). */
export const isRecurrentClass = (cls: string) => {
  const keras = familyOfKerasClass(cls)?.keras;
  return RECURRENT.has(cls) || (!!keras && keras.layerClasses.includes(cls) && keras.cellClasses.length > 0);
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
  if (layer.className === 'SimpleRNN') (cellClass = 'SimpleRNNCell'), (cc = c);
  else if (layer.className === 'LSTM') (cellClass = 'LSTMCell'), (cc = c);
  else if (layer.className !== 'RNN') (cellClass = familyOfKerasClass(layer.className)!.keras!.cellClasses[0] ?? layer.className), (cc = c);
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
  // the input size: from the previous layer, else from the first layer's kernel
  const kernelIndex = cellClass === 'MyLRNNCell' ? 2 : 0;
  const n = inSize ?? vars[kernelIndex]?.shape[0] ?? 0;
  const u = units;
  const values = new Map<string, Float64Array>();
  const returnSequences = c.return_sequences === true;
  let cell: CellConfig;
  switch (cellClass) {
    case 'SimpleRNNCell': {
      const activation = activationOf(label, layer, cc.activation ?? 'tanh', ['tanh', 'relu']) as 'tanh' | 'relu';
      const exp: Expected[] = [{ name: 'kernel', shape: [n, u] }, { name: 'recurrent_kernel', shape: [u, u] }];
      if (useBias) exp.push({ name: 'bias', shape: [u] });
      const w = checkVars(label, layer, what, vars, exp);
      values.set('kernel', w[0]).set('recurrentKernel', w[1]).set('bias', useBias ? w[2] : new Float64Array(u));
      const constraints = constraintsOf([
        ['kernel', constraintOf(label, layer, cc.kernel_constraint, 'kernel', warnings)],
        ['recurrentKernel', constraintOf(label, layer, cc.recurrent_constraint, 'recurrent_kernel', warnings)],
        ['bias', constraintOf(label, layer, cc.bias_constraint, 'bias', warnings)],
      ]);
      cell = { type: 'simple', inputSize: n, units: u, activation, ...(constraints ? { constraints } : {}) };
      break;
    }
    case 'LSTMCell': {
      activationOf(label, layer, cc.activation ?? 'tanh', ['tanh']);
      const ra = cc.recurrent_activation ?? 'sigmoid';
      if (ra !== 'sigmoid')
        throw new ModelFileError(`${L}: recurrent_activation ${JSON.stringify(ra)} is not supported (only 'sigmoid')`, { file: label, variable: layer.name });
      const exp: Expected[] = [{ name: 'kernel', shape: [n, 4 * u] }, { name: 'recurrent_kernel', shape: [u, 4 * u] }];
      if (useBias) exp.push({ name: 'bias', shape: [4 * u] });
      const w = checkVars(label, layer, what, vars, exp);
      values.set('kernel', w[0]).set('recurrentKernel', w[1]).set('bias', useBias ? w[2] : new Float64Array(4 * u));
      const constraints = constraintsOf([
        ['kernel', constraintOf(label, layer, cc.kernel_constraint, 'kernel', warnings)],
        ['recurrentKernel', constraintOf(label, layer, cc.recurrent_constraint, 'recurrent_kernel', warnings)],
        ['bias', constraintOf(label, layer, cc.bias_constraint, 'bias', warnings)],
      ]);
      cell = { type: 'lstm', inputSize: n, units: u, ...(constraints ? { constraints } : {}) };
      break;
    }
    case 'MyRNNCell': {
      const w = checkVars(label, layer, what, vars, [
        { name: 'K (kernel)', shape: [n, u] },
        { name: 'R (recurrent_kernel)', shape: [u, u] },
        { name: 'D1', shape: [u, u] },
        { name: 'D2', shape: [n, u] },
        { name: 'D3', shape: [n, u] },
        { name: 'V', shape: [u, u] },
      ]);
      ['kernel', 'recurrentKernel', 'D1', 'D2', 'D3', 'V'].forEach((k, i) => values.set(k, w[i]));
      const nn: ConstraintConfig = { type: 'nonNegative' };
      cell = { type: 'icrnn', inputSize: n, units: u, constraints: { kernel: nn, recurrentKernel: nn, D1: nn, D2: nn, D3: nn, V: nn } };
      break;
    }
    case 'MyLRNNCell': {
      const w = checkVars(label, layer, what, vars, [
        { name: 'C', shape: [u, u] },
        { name: 'B', shape: [u, u] },
        { name: 'U (kernel)', shape: [n, u] },
        { name: 'b (bias)', shape: [u] },
      ]);
      values.set('kernel', w[2]).set('B', w[1]).set('C', w[0]).set('bias', w[3]);
      cell = {
        type: 'lipschitz', inputSize: n, units: u,
        eps: finiteNumber(label, layer, cc.eps, 'eps', 0.01),
        gamma: finiteNumber(label, layer, cc.gamma, 'gamma', 0.01),
        beta: finiteNumber(label, layer, cc.beta, 'beta', 0.8),
        alpha: finiteNumber(label, layer, cc.alpha, 'alpha', 1),
      };
      break;
    }
    case 'MyICLSTMCell': {
      // Two layouts: the MPC reference (14 weights: Wi, Ui, then DW, DU, b per gate i, f, o, c) and
      // an older one (10 weights: Wi, Ui, then D, b per gate; one scaling for x W and h U).
      const separate = vars.length !== 10;
      const exp: Expected[] = [{ name: 'Wi (kernel)', shape: [n, u] }, { name: 'Ui (recurrent_kernel)', shape: [u, u] }];
      for (const g of ['i', 'f', 'o', 'c']) {
        if (separate) exp.push({ name: `DW${g}`, shape: [u] }, { name: `DU${g}`, shape: [u] }, { name: `b${g}`, shape: [u] });
        else exp.push({ name: `DW${g}`, shape: [u] }, { name: `b${g}`, shape: [u] });
      }
      const w = checkVars(label, layer, what, vars, exp);
      // stored gate order i, f, o, c -> iclrnn order i, f, c, o
      const k = separate ? 3 : 2;
      const at = (gate: number, slot: number) => w[2 + gate * k + slot];
      const DW = { i: at(0, 0), f: at(1, 0), o: at(2, 0), c: at(3, 0) };
      const DU = separate ? { i: at(0, 1), f: at(1, 1), o: at(2, 1), c: at(3, 1) } : DW;
      const B = { i: at(0, k - 1), f: at(1, k - 1), o: at(2, k - 1), c: at(3, k - 1) };
      const cat = (p: Record<'i' | 'f' | 'c' | 'o', Float64Array>) => {
        const out = new Float64Array(4 * u);
        (['i', 'f', 'c', 'o'] as const).forEach((g, j) => out.set(p[g], j * u));
        return out;
      };
      values.set('kernel', w[0]).set('recurrentKernel', w[1]).set('kernelScale', cat(DW)).set('recurrentScale', cat(DU)).set('bias', cat(B));
      const nn: ConstraintConfig = { type: 'nonNegative' };
      cell = { type: 'iclstm', inputSize: n, units: u, constraints: { kernel: nn, recurrentKernel: nn, kernelScale: nn, recurrentScale: nn } };
      break;
    }
    default: {
      // a registered cell family with a Keras mapping (the GRU): weights placed as it declares
      const family = familyOfKerasClass(cellClass);
      if (!family?.keras)
        throw new ModelFileError(
          `${label}: layer '${layer.name}' uses the unsupported recurrent cell class '${cellClass}' (supported: ${SUPPORTED_CELLS})`,
          { file: label, variable: layer.name },
        );
      const problem = family.keras.unsupported?.(cc) ?? null;
      if (problem) throw new ModelFileError(`${L}: ${problem}`, { file: label, variable: layer.name });
      const config: FamilyConfigBase = { type: family.name, inputSize: n, units: u };
      const expected = family.keras.weights(config, useBias);
      const w = checkVars(label, layer, what, vars, expected.map((e) => ({ name: e.name, shape: [...e.shape] })));
      for (const p of programOf(config).params) values.set(p.name, new Float64Array(p.rows * p.cols));
      expected.forEach((e, i) => {
        for (const pl of e.placements) values.get(pl.param)!.set(w[i].subarray(pl.from, pl.from + pl.length), pl.to);
      });
      cell = config as unknown as CellConfig;
      break;
    }
  }
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

/** The family whose structure (cells, head, constraints) an imported spec has, else 'custom'. */
export function familyOf(cells: CellConfig[], head: DenseConfig[], interleaved: boolean): ModelKind {
  const all = (p: (c: CellConfig) => boolean) => cells.every(p);
  if (interleaved) {
    // the published multi-block ICLSTM: (ICLSTM -> Dense + input) x N -> Dense
    const blocks = all((c) => c.type === 'iclstm') && head.length === cells.length + 1 && head.slice(0, -1).every((h) => h.residual) && !head[head.length - 1].residual;
    return blocks ? 'iclstm' : 'custom';
  }
  const oneHead = head.length === 1 && !head[0].residual;
  if (all((c) => c.type === 'simple' && c.activation === 'tanh') && oneHead) return 'rnn';
  if (all((c) => c.type === 'lstm') && oneHead) return 'lstm';
  if (all((c) => c.type === 'lipschitz') && oneHead) return 'lrnn';
  if (all((c) => c.type === 'icrnn') && oneHead) return 'icrnn';
  if (all((c) => c.type === 'simple' && c.activation === 'relu' && !!c.constraints?.kernel && !!c.constraints?.recurrentKernel) && oneHead && head[0].activation === 'relu')
    return 'iclrnn';
  if (all((c) => c.type === 'iclstm') && head.length === 2 && head[0].residual && !head[1].residual) return 'iclstm';
  // a registered family with its own Keras layer class whose name is a model kind (the GRU)
  if (cells.length > 0 && oneHead && all((c) => c.type === cells[0].type) && KERAS_LAYER_KINDS.has(cells[0].type)) return cells[0].type as ModelKind;
  return 'custom';
}
