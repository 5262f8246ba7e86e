/**
 * Importing Keras models (REFERENCE.md section 4) as ordinary iclrnn models.
 *
 * Formats:
 * - `.keras` (Keras 2.13+ / Keras 3 "v3" format): a zip holding `config.json` (the model graph),
 *   `metadata.json` and `model.weights.h5`. Each layer's variables sit in a group
 *   `<container>/<snake_type>[_k]/vars/<i>` (container `_layer_checkpoint_dependencies` in Keras 2.13,
 *   `layers` in Keras 3; a recurrent layer's cell one level deeper, `.../cell/vars`), in creation
 *   order. Files saved on Windows name the groups with backslashes (`a\b\cell`, one flat group name);
 *   both spellings are read. The k-th layer of a type (in config order) takes the k-th group of that
 *   type sorted by suffix, so either numbering (`_1, _2, ...` or `_2, _3, ...`) works. Optimizer and
 *   metric variables are ignored.
 * - legacy `.h5` (Keras 2 HDF5): root attribute `model_config` (JSON); weights under
 *   `model_weights/<layer name>/<weight name>` in the order of the layer's `weight_names` attribute.
 *
 * Layers: `InputLayer`; `SimpleRNN` (tanh | relu), `LSTM` (tanh / sigmoid), and `RNN` wrapping
 * `SimpleRNNCell`, `LSTMCell` or the reference's custom cells `MyRNNCell` (ICRNN), `MyLRNNCell` (LRNN)
 * and `MyICLSTMCell` (ICLSTM); `Dense` (linear | relu | tanh | sigmoid); `Activation` right after a
 * linear Dense (folded into it); `Add` of a Dense output and the model input (the ICLSTM residual
 * `z = g(W_d h + b_d) + [x, -x]`); `Dropout`-like layers (identity at inference). Sequential and
 * functional (single input, single output) models. The graph must have the iclrnn shape: recurrent
 * layers first, then Dense layers (each optionally followed by an `Add` of the model input).
 * Anything else is a {@link DataError} naming the layer.
 *
 * Custom-cell variable orders (from the reference code, checked against the fixtures):
 * - `MyRNNCell`: K [in,u], R [u,u], D1 [u,u], D2 [in,u], D3 [in,u], V [u,u] (no biases),
 *   `h = relu(x K + h' R + x' D2)`, `y = relu(h V + h' D1 + x D3)`.
 * - `MyLRNNCell`: C [u,u], B [u,u], U [in,u], b [u] (A is built from B, W from C).
 * - `MyICLSTMCell`: W [in,u], U [u,u], then (D [u], b [u]) for the gates i, f, o, c; one scaling
 *   vector per gate multiplies both `x W` and `h U` (so the iclrnn cell gets kernelScale =
 *   recurrentScale = [D_i, D_f, D_c, D_o]).
 *
 * Scalers (`scalers.json`: x_min, x_max, y_min, y_max, negate_input): with `negate_input` the
 * x_min/x_max cover the 2n augmented columns `[x, -x]`; the iclrnn model takes the n plain
 * features with augmentation `[s, offset - s]`, which equals the scaled negation exactly when the
 * two columns have the same range: offset_j = (-x_min[j] - x_min[n+j]) / range_j (= 1 when
 * x_min[n+j] = -x_max[j] and x_max[n+j] = -x_min[j], as in the reference).
 *
 * Node only (reads files; h5wasm's Node build reads real paths).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import type { Activation, CellConfig } from '../nn/cell.ts';
import type { ConstraintConfig } from '../nn/constraints.ts';
import type { DenseConfig } from '../nn/dense.ts';
import { SequenceModel, type ModelKind, type ModelSpec } from '../nn/model.ts';
import { MinMaxScaler } from '../train/scaler.ts';
import { DataError } from './errors.ts';
import type { StoredModel } from './model-format.ts';

/** Which Keras file layout a model came from. */
export type KerasFormat = 'keras-v3' | 'keras-h5';

/** The reference's scaler file (`scalers.json`). */
export interface KerasScalers {
  x_min: number[];
  x_max: number[];
  y_min: number[];
  y_max: number[];
  /** The Keras model was trained on `[x, -x]`, scaled column by column (x_min/x_max cover 2n columns). */
  negate_input: boolean;
}

export interface KerasImportOptions {
  /**
   * Scalers as an object or a path to `scalers.json`. Without them the imported model works in
   * the Keras model's own (scaled) space and takes the Keras input columns as they are.
   */
  scalers?: KerasScalers | string | null;
}

/** An imported model, ready for {@link saveModel}, plus what the import noticed. */
export interface KerasImportResult extends StoredModel {
  format: KerasFormat;
  /** Things that do not stop the import but deserve a note (dropped constraints, last-step-only output, ...). */
  warnings: string[];
}

/** The scaler part of an imported model. */
export interface KerasScalerMapping {
  inputSize: number;
  augmentation: { offset: number[] } | null;
  inputScaler: MinMaxScaler;
  outputScaler: MinMaxScaler;
}

type Obj = Record<string, unknown>;

interface KVar {
  /** Stored name (legacy files) or `vars/<i>` (v3). */
  name: string;
  shape: number[];
  data: Float64Array;
}

interface KLayer {
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

interface WeightStore {
  /** Variables of a layer in creation order (its own, then its cell's). */
  vars(layer: KLayer): KVar[];
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// h5wasm helpers

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;
type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

let h5Ready: Promise<unknown> | undefined;

/** Waits for h5wasm and switches it to throwing errors (no diagnostics on stderr). */
async function h5(): Promise<void> {
  h5Ready ??= h5wasm.ready.then((m) => {
    m.activate_throwing_error_handler();
    return m;
  });
  await h5Ready;
}

function h5Reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const reasons = msg
    .split('\n')
    .map((l) => /in [\w.]+\(\): (.*)$/.exec(l)?.[1]?.trim())
    .filter((s): s is string => !!s);
  if (reasons.length) return `HDF5: ${reasons[reasons.length - 1]}`;
  const first = msg.split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
  return first.length > 200 ? first.slice(0, 200) + '...' : first;
}

function withH5File<T>(path: string, label: string, body: (f: H5File) => T): T {
  let f: H5File;
  try {
    f = new h5wasm.File(path, 'r');
  } catch (e) {
    throw new DataError(`${label}: cannot open as HDF5 (truncated or corrupt?): ${h5Reason(e)}`, { file: label, cause: e });
  }
  try {
    return body(f);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${label}: cannot read HDF5 content (corrupt file?): ${h5Reason(e)}`, { file: label, cause: e });
  } finally {
    try {
      f.close();
    } catch {
      // nothing more to do
    }
  }
}

function readDataset(d: H5Dataset, label: string, where: string): KVar {
  const meta = d.metadata;
  if (meta.type !== 1 /* H5T_FLOAT */ && meta.type !== 0 /* H5T_INTEGER */)
    throw new DataError(`${label}: weight '${where}' is not numeric (HDF5 type class ${meta.type})`, { file: label, variable: where });
  const shape = d.shape ?? [];
  const v = d.value;
  if (v === null || !ArrayBuffer.isView(v)) throw new DataError(`${label}: weight '${where}' holds no numeric data`, { file: label, variable: where });
  const arr = v as unknown as ArrayLike<number | bigint>;
  const n = shape.reduce((a, b) => a * b, 1);
  if (arr.length !== n) throw new DataError(`${label}: weight '${where}' holds ${arr.length} values for shape [${shape}]`, { file: label, variable: where });
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = Number(arr[i]);
  return { name: where, shape, data };
}

function attrStrings(entity: { attrs: Record<string, { value: unknown }> }, name: string): string[] | undefined {
  if (!Object.prototype.hasOwnProperty.call(entity.attrs, name)) return undefined;
  const v = entity.attrs[name].value;
  const one = (x: unknown): string => (typeof x === 'string' ? x : x instanceof Uint8Array ? new TextDecoder().decode(x).replace(/\0+$/, '') : String(x));
  if (Array.isArray(v)) return v.map(one);
  if (v === null || v === undefined) return [];
  return [one(v)];
}

// ---------------------------------------------------------------------------------------------
// weight stores

/** Keras' `to_snake_case` (class name -> weight-group name). */
export function kerasSnakeCase(name: string): string {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s.startsWith('_') ? 'private' + s : s;
}

/** Reads every `.../vars/<i>` group of a v3 weights file (paths normalised to '/'). */
function readV3Groups(f: H5File, label: string): { vars: Map<string, KVar[]>; groups: Set<string> } {
  const vars = new Map<string, KVar[]>();
  const groups = new Set<string>();
  const walk = (g: H5Group, raw: string, depth: number): void => {
    if (depth > 32) return;
    for (const k of g.keys()) {
      const rawChild = raw ? `${raw}/${k}` : k;
      const norm = rawChild.replace(/\\/g, '/');
      if (depth === 0 && /^(optimizer|metrics)(\/|$)/.test(norm)) continue;
      const child = g.get(k);
      if (!(child instanceof h5wasm.Group)) continue;
      if (k === 'vars') {
        const names = child.keys();
        const list: KVar[] = [];
        for (let i = 0; i < names.length; i++) {
          const d = child.get(String(i));
          if (!(d instanceof h5wasm.Dataset))
            throw new DataError(`${label}: weight group '${norm}' has no dataset '${i}' (found ${names.join(', ')})`, { file: label, variable: norm });
          list.push(readDataset(d, label, `${norm}/${i}`));
        }
        vars.set(raw.replace(/\\/g, '/'), list);
      } else {
        groups.add(norm);
        walk(child, rawChild, depth + 1);
      }
    }
  };
  walk(f, '', 0);
  return { vars, groups };
}

class V3Store implements WeightStore {
  private readonly container: string;
  private readonly children: string[];

  constructor(
    private readonly label: string,
    private readonly data: { vars: Map<string, KVar[]>; groups: Set<string> },
    private readonly allLayers: KLayer[],
  ) {
    const tops = new Set([...data.groups].map((g) => g.split('/')[0]));
    this.container = ['_layer_checkpoint_dependencies', 'layers'].find((c) => tops.has(c)) ?? '_layer_checkpoint_dependencies';
    const kids = new Set<string>();
    for (const g of data.groups) {
      const parts = g.split('/');
      if (parts[0] === this.container && parts.length > 1) kids.add(parts[1]);
    }
    this.children = [...kids];
  }

  vars(layer: KLayer): KVar[] {
    const snake = kerasSnakeCase(layer.className);
    const ordinal = this.allLayers.filter((l) => l.index < layer.index && kerasSnakeCase(l.className) === snake).length;
    const re = new RegExp(`^${snake.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:_(\\d+))?$`);
    const candidates = this.children
      .map((n) => ({ n, m: re.exec(n) }))
      .filter((c) => c.m)
      .sort((a, b) => Number(a.m![1] ?? 0) - Number(b.m![1] ?? 0))
      .map((c) => c.n);
    const name = candidates[ordinal];
    if (name === undefined) {
      throw new DataError(
        `${this.label}: weights of layer '${layer.name}' (${layer.className}) not found: no weight group '${this.container}/${snake}...' ` +
          `for the ${ordinal + 1}. layer of that type (found ${candidates.length ? candidates.map((c) => `'${c}'`).join(', ') : 'none'})`,
        { file: this.label, variable: layer.name },
      );
    }
    const p = `${this.container}/${name}`;
    return [...(this.data.vars.get(p) ?? []), ...(this.data.vars.get(`${p}/cell`) ?? [])];
  }
}

class LegacyStore implements WeightStore {
  constructor(private readonly label: string, private readonly byLayer: Map<string, KVar[]>) {}

  vars(layer: KLayer): KVar[] {
    const v = this.byLayer.get(layer.name);
    if (!v)
      throw new DataError(`${this.label}: weights of layer '${layer.name}' (${layer.className}) not found: no group 'model_weights/${layer.name}'`, {
        file: this.label,
        variable: layer.name,
      });
    return v;
  }
}

function readLegacyWeights(f: H5File, label: string): Map<string, KVar[]> {
  const out = new Map<string, KVar[]>();
  const mw = f.get('model_weights');
  if (!(mw instanceof h5wasm.Group)) throw new DataError(`${label}: no 'model_weights' group (not a full Keras model file)`, { file: label });
  for (const name of mw.keys()) {
    const g = mw.get(name);
    if (!(g instanceof h5wasm.Group)) continue;
    const names = attrStrings(g, 'weight_names') ?? [];
    out.set(
      name,
      names.map((wn) => {
        const d = g.get(wn);
        if (!(d instanceof h5wasm.Dataset))
          throw new DataError(`${label}: weight 'model_weights/${name}/${wn}' listed in weight_names is missing`, { file: label, variable: `${name}/${wn}` });
        return readDataset(d, label, `${name}/${wn}`);
      }),
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the model graph

/** Collects the layer names a Keras inbound node refers to (Keras 2 `[name, node, tensor, kw]`, Keras 3 `keras_history`). */
function collectRefs(node: unknown, out: string[]): void {
  if (Array.isArray(node)) {
    if (node.length >= 3 && typeof node[0] === 'string' && typeof node[1] === 'number' && typeof node[2] === 'number') {
      out.push(node[0]);
      return;
    }
    for (const x of node) collectRefs(x, out);
  } else if (isObj(node)) {
    for (const v of Object.values(node)) collectRefs(v, out);
  }
}

function parseLayer(raw: unknown, index: number, label: string): KLayer {
  if (!isObj(raw) || typeof raw.class_name !== 'string')
    throw new DataError(`${label}: config.json layer ${index} has no class_name`, { file: label });
  const config = isObj(raw.config) ? raw.config : {};
  const name = typeof raw.name === 'string' ? raw.name : typeof config.name === 'string' ? config.name : `layer_${index}`;
  const nodes = Array.isArray(raw.inbound_nodes) ? raw.inbound_nodes : [];
  const inbound: string[] = [];
  if (nodes.length > 0) collectRefs(nodes[0], inbound);
  return { name, className: raw.class_name, config, index, inbound, calls: nodes.length };
}

function lastDim(v: unknown): number | null {
  return Array.isArray(v) && v.length > 0 && typeof v[v.length - 1] === 'number' ? (v[v.length - 1] as number) : null;
}

interface ParsedGraph {
  modelClass: string;
  layers: KLayer[];
  /** The layers from the input to the output, input layer excluded. */
  chain: KLayer[];
  /** Input width declared in the config, if any. */
  declaredWidth: number | null;
}

function parseGraph(cfg: unknown, label: string): ParsedGraph {
  if (!isObj(cfg) || typeof cfg.class_name !== 'string') throw new DataError(`${label}: config.json is not a Keras model config (no class_name)`, { file: label });
  const cls = cfg.class_name;
  const inner = cfg.config;
  let layers: KLayer[];
  let chain: KLayer[];
  if (cls === 'Sequential') {
    const list = Array.isArray(inner) ? inner : isObj(inner) && Array.isArray(inner.layers) ? inner.layers : null;
    if (!list) throw new DataError(`${label}: Sequential model config has no layer list`, { file: label });
    layers = list.map((l, i) => parseLayer(l, i, label));
    chain = layers.filter((l, i) => !(l.className === 'InputLayer' && i === 0));
  } else if (cls === 'Functional' || cls === 'Model') {
    if (!isObj(inner) || !Array.isArray(inner.layers)) throw new DataError(`${label}: functional model config has no layer list`, { file: label });
    layers = inner.layers.map((l, i) => parseLayer(l, i, label));
    const byName = new Map(layers.map((l) => [l.name, l]));
    const ends = (v: unknown): string[] => {
      const out: string[] = [];
      collectRefs(v, out);
      return out;
    };
    const ins = ends(inner.input_layers), outs = ends(inner.output_layers);
    if (ins.length !== 1) throw new DataError(`${label}: the model has ${ins.length} inputs; only single-input models can be imported`, { file: label });
    if (outs.length !== 1) throw new DataError(`${label}: the model has ${outs.length} outputs; only single-output models can be imported`, { file: label });
    const input = ins[0];
    chain = [];
    let cur = outs[0];
    const seen = new Set<string>();
    while (cur !== input) {
      const l = byName.get(cur);
      if (!l) throw new DataError(`${label}: the graph refers to an unknown layer '${cur}'`, { file: label, variable: cur });
      if (seen.has(cur)) throw new DataError(`${label}: the graph has a cycle at layer '${cur}'`, { file: label, variable: cur });
      seen.add(cur);
      if (l.calls > 1)
        throw new DataError(`${label}: layer '${l.name}' (${l.className}) is called ${l.calls} times (shared weights); iclrnn cannot express that`, { file: label, variable: l.name });
      chain.unshift(l);
      if (l.className === 'Add') {
        const others = l.inbound.filter((n) => n !== input);
        if (l.inbound.length !== 2 || others.length !== 1)
          throw new DataError(
            `${label}: layer '${l.name}' (Add) adds [${l.inbound.join(', ')}]; iclrnn supports only adding the model input '${input}' to one Dense output (the residual [x, -x] of the ICLSTM head)`,
            { file: label, variable: l.name },
          );
        cur = others[0];
      } else {
        if (l.inbound.length !== 1)
          throw new DataError(`${label}: layer '${l.name}' (${l.className}) has ${l.inbound.length} inputs; expected 1`, { file: label, variable: l.name });
        cur = l.inbound[0];
      }
    }
    const inputLayer = byName.get(input);
    if (inputLayer && inputLayer.className !== 'InputLayer')
      throw new DataError(`${label}: the model input '${input}' is a ${inputLayer.className}, not an InputLayer`, { file: label, variable: input });
  } else {
    throw new DataError(`${label}: model class '${cls}' is not supported (only Sequential and Functional models can be imported)`, { file: label });
  }
  let declaredWidth: number | null = null;
  const first = layers[0];
  if (first?.className === 'InputLayer') declaredWidth = lastDim(first.config.batch_input_shape) ?? lastDim(first.config.batch_shape) ?? lastDim(first.config.shape);
  const firstOp = chain[0];
  if (declaredWidth === null && firstOp) {
    const raw = firstOp.config;
    declaredWidth = lastDim(raw.batch_input_shape) ?? lastDim(raw.batch_shape);
  }
  if (declaredWidth === null && isObj(cfg.build_config)) declaredWidth = lastDim(cfg.build_config.input_shape);
  return { modelClass: cls, layers, chain, declaredWidth };
}

// ---------------------------------------------------------------------------------------------
// layers -> ModelSpec

const RECURRENT = new Set(['SimpleRNN', 'LSTM', 'RNN']);
const IDENTITY = new Set(['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);
const SUPPORTED =
  'InputLayer, SimpleRNN, LSTM, RNN(SimpleRNNCell | LSTMCell | MyRNNCell | MyLRNNCell | MyICLSTMCell), Dense, Activation, Add (model input), Dropout';

interface Expected {
  name: string;
  shape: number[];
}

function checkVars(label: string, layer: KLayer, what: string, vars: KVar[], expected: Expected[]): Float64Array[] {
  const list = expected.map((e) => `${e.name} [${e.shape.join(', ')}]`).join(', ');
  if (vars.length !== expected.length)
    throw new DataError(`${label}: layer '${layer.name}' (${what}) has ${vars.length} weight arrays, expected ${expected.length}: ${list}`, {
      file: label,
      variable: layer.name,
    });
  return expected.map((e, i) => {
    const v = vars[i];
    if (v.shape.length !== e.shape.length || v.shape.some((s, j) => s !== e.shape[j]))
      throw new DataError(
        `${label}: layer '${layer.name}' (${what}): weight ${i} (${e.name}, stored as '${v.name}') has shape [${v.shape.join(', ')}], expected [${e.shape.join(', ')}]`,
        { file: label, variable: layer.name },
      );
    const bad = v.data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new DataError(`${label}: layer '${layer.name}' (${what}): weight ${e.name} has a non-finite value at index ${bad}`, { file: label, variable: layer.name });
    return v.data;
  });
}

function activationOf(label: string, layer: KLayer, v: unknown, allowed: readonly Activation[]): Activation {
  const a = v === undefined || v === null ? 'linear' : v;
  if (typeof a !== 'string' || !(allowed as readonly string[]).includes(a))
    throw new DataError(`${label}: layer '${layer.name}' (${layer.className}) uses activation ${JSON.stringify(a)}; supported: ${allowed.join(', ')}`, {
      file: label,
      variable: layer.name,
    });
  return a as Activation;
}

function positiveInt(label: string, layer: KLayer, v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new DataError(`${label}: layer '${layer.name}' (${layer.className}): ${what} must be a positive integer, got ${JSON.stringify(v)}`, { file: label, variable: layer.name });
  return v;
}

function finiteNumber(label: string, layer: KLayer, v: unknown, what: string, def: number): number {
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new DataError(`${label}: layer '${layer.name}': ${what} must be a finite number, got ${JSON.stringify(v)}`, { file: label, variable: layer.name });
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
    if (!(k > 0)) throw new DataError(`${label}: layer '${layer.name}': SpectralConstraint k_coef_lip must be > 0, got ${k}`, { file: label, variable: layer.name });
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

interface BuiltLayer {
  values: Map<string, Float64Array>;
}

interface RecurrentResult extends BuiltLayer {
  cell: CellConfig;
  cellClass: string;
  returnSequences: boolean;
}

function buildRecurrent(label: string, layer: KLayer, store: WeightStore, inSize: number | null, warnings: string[]): RecurrentResult {
  const c = layer.config;
  const L = `${label}: layer '${layer.name}' (${layer.className})`;
  if (c.go_backwards === true) throw new DataError(`${L}: go_backwards=true is not supported`, { file: label, variable: layer.name });
  if (c.return_state === true) throw new DataError(`${L}: return_state=true is not supported`, { file: label, variable: layer.name });
  if (c.time_major === true) throw new DataError(`${L}: time_major=true is not supported`, { file: label, variable: layer.name });
  if (c.stateful === true) warnings.push(`layer '${layer.name}' is stateful in Keras; the imported model starts every sequence from a zero state`);
  let cellClass: string;
  let cc: Obj;
  if (layer.className === 'SimpleRNN') (cellClass = 'SimpleRNNCell'), (cc = c);
  else if (layer.className === 'LSTM') (cellClass = 'LSTMCell'), (cc = c);
  else {
    const cell = c.cell;
    if (Array.isArray(cell)) throw new DataError(`${L}: a list of cells (stacked cells in one RNN layer) is not supported`, { file: label, variable: layer.name });
    if (!isObj(cell) || typeof cell.class_name !== 'string') throw new DataError(`${L}: the RNN layer has no cell class_name`, { file: label, variable: layer.name });
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
        throw new DataError(`${L}: recurrent_activation ${JSON.stringify(ra)} is not supported (only 'sigmoid')`, { file: label, variable: layer.name });
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
      const exp: Expected[] = [{ name: 'Wi (kernel)', shape: [n, u] }, { name: 'Ui (recurrent_kernel)', shape: [u, u] }];
      for (const g of ['i', 'f', 'o', 'c']) exp.push({ name: `DW${g}`, shape: [u] }, { name: `b${g}`, shape: [u] });
      const w = checkVars(label, layer, what, vars, exp);
      // stored gate order i, f, o, c -> iclrnn order i, f, c, o
      const D = { i: w[2], f: w[4], o: w[6], c: w[8] }, B = { i: w[3], f: w[5], o: w[7], c: w[9] };
      const cat = (p: Record<'i' | 'f' | 'c' | 'o', Float64Array>) => {
        const out = new Float64Array(4 * u);
        (['i', 'f', 'c', 'o'] as const).forEach((g, k) => out.set(p[g], k * u));
        return out;
      };
      values.set('kernel', w[0]).set('recurrentKernel', w[1]).set('kernelScale', cat(D)).set('recurrentScale', cat(D)).set('bias', cat(B));
      const nn: ConstraintConfig = { type: 'nonNegative' };
      cell = { type: 'iclstm', inputSize: n, units: u, constraints: { kernel: nn, recurrentKernel: nn, kernelScale: nn, recurrentScale: nn } };
      break;
    }
    default:
      throw new DataError(
        `${label}: layer '${layer.name}' uses the unsupported recurrent cell class '${cellClass}' (supported: SimpleRNNCell, LSTMCell, MyRNNCell, MyLRNNCell, MyICLSTMCell)`,
        { file: label, variable: layer.name },
      );
  }
  return { cell, cellClass, values, returnSequences };
}

function buildDense(label: string, layer: KLayer, store: WeightStore, inSize: number, warnings: string[]): BuiltLayer & { config: DenseConfig } {
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
function familyOf(cells: CellConfig[], head: DenseConfig[]): ModelKind {
  const oneHead = head.length === 1 && !head[0].residual;
  const all = (p: (c: CellConfig) => boolean) => cells.every(p);
  if (all((c) => c.type === 'simple' && c.activation === 'tanh') && oneHead) return 'rnn';
  if (all((c) => c.type === 'lstm') && oneHead) return 'lstm';
  if (all((c) => c.type === 'lipschitz') && oneHead) return 'lrnn';
  if (all((c) => c.type === 'icrnn') && oneHead) return 'icrnn';
  if (all((c) => c.type === 'simple' && c.activation === 'relu' && !!c.constraints?.kernel && !!c.constraints?.recurrentKernel) && oneHead && head[0].activation === 'relu')
    return 'iclrnn';
  if (all((c) => c.type === 'iclstm') && head.length === 2 && head[0].residual && !head[1].residual) return 'iclstm';
  return 'custom';
}

// ---------------------------------------------------------------------------------------------
// scalers

function numberArray(file: string, json: Obj, key: string): number[] {
  const v = json[key];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
    throw new DataError(`${file}: field '${key}' must be a non-empty array of finite numbers`, { file, variable: key });
  return v as number[];
}

/** Validates a parsed `scalers.json` object. */
export function parseKerasScalers(json: unknown, file = '<scalers>'): KerasScalers {
  if (!isObj(json)) throw new DataError(`${file}: expected a JSON object with x_min, x_max, y_min, y_max, negate_input`, { file });
  const s: KerasScalers = {
    x_min: numberArray(file, json, 'x_min'),
    x_max: numberArray(file, json, 'x_max'),
    y_min: numberArray(file, json, 'y_min'),
    y_max: numberArray(file, json, 'y_max'),
    negate_input: false,
  };
  if (json.negate_input !== undefined && typeof json.negate_input !== 'boolean')
    throw new DataError(`${file}: field 'negate_input' must be true or false`, { file, variable: 'negate_input' });
  s.negate_input = json.negate_input === true;
  if (s.x_min.length !== s.x_max.length) throw new DataError(`${file}: x_min has ${s.x_min.length} entries but x_max has ${s.x_max.length}`, { file, variable: 'x_max' });
  if (s.y_min.length !== s.y_max.length) throw new DataError(`${file}: y_min has ${s.y_min.length} entries but y_max has ${s.y_max.length}`, { file, variable: 'y_max' });
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
    throw new DataError(`${path}: not valid JSON (${(e as Error).message})`, { file: path, cause: e });
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
    throw new DataError(`${file}: y_min/y_max have ${s.y_min.length} entries but the model predicts ${outputSize} outputs`, { file, variable: 'y_min' });
  const outputScaler = new MinMaxScaler({ min: s.y_min, max: s.y_max });
  if (s.x_min.length !== W)
    throw new DataError(
      `${file}: x_min/x_max have ${s.x_min.length} entries but the Keras model takes ${W} input columns` +
        (s.negate_input ? ' (with negate_input they must cover the augmented columns [x, -x])' : ''),
      { file, variable: 'x_min' },
    );
  if (!s.negate_input) return { inputSize: W, augmentation: null, inputScaler: new MinMaxScaler({ min: s.x_min, max: s.x_max }), outputScaler };
  if (W % 2 !== 0)
    throw new DataError(`${file}: negate_input is true but the Keras model takes an odd number (${W}) of input columns, so they cannot be [x, -x]`, { file, variable: 'negate_input' });
  const n = W / 2;
  const range = (j: number) => (s.x_max[j] - s.x_min[j] > 0 ? s.x_max[j] - s.x_min[j] : 1);
  const offset: number[] = [];
  for (let j = 0; j < n; j++) {
    const r = range(j), rn = range(n + j);
    if (Math.abs(r - rn) > 1e-9 * Math.max(Math.abs(r), Math.abs(rn)))
      throw new DataError(
        `${file}: negate_input is true but column ${n + j + 1} (-x${j + 1}) is scaled over [${s.x_min[n + j]}, ${s.x_max[n + j]}] and column ${j + 1} over ` +
          `[${s.x_min[j]}, ${s.x_max[j]}]: the ranges differ, so the scaled negation is not offset - scaled(x) ` +
          `(expected x_min[${n + j + 1}] = -x_max[${j + 1}] and x_max[${n + j + 1}] = -x_min[${j + 1}])`,
        { file, variable: 'x_min' },
      );
    offset.push((-s.x_min[j] - s.x_min[n + j]) / r);
  }
  return { inputSize: n, augmentation: { offset }, inputScaler: new MinMaxScaler({ min: s.x_min.slice(0, n), max: s.x_max.slice(0, n) }), outputScaler };
}

// ---------------------------------------------------------------------------------------------
// import

function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
function isHdf5(b: Uint8Array): boolean {
  for (let off = 0; off + 8 <= b.length; off = off === 0 ? 512 : off * 2) if (HDF5_SIGNATURE.every((x, i) => b[off + i] === x)) return true;
  return false;
}

function parseJson(text: string, label: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`${label}: ${what} is not valid JSON (${(e as Error).message})`, { file: label, cause: e });
  }
}

/** Builds the iclrnn model from a parsed Keras model config and a store of its weights. */
function buildFromKeras(
  config: unknown,
  makeStore: (layers: KLayer[]) => WeightStore,
  label: string,
  format: KerasFormat,
  scalers: KerasScalers | null,
  scalersFile: string | null,
  extra: Obj,
): KerasImportResult {
  const warnings: string[] = [];
  const graph = parseGraph(config, label);
  const store = makeStore(graph.layers);
  const cells: CellConfig[] = [];
  const head: DenseConfig[] = [];
  const cellValues: Map<string, Float64Array>[] = [];
  const headValues: Map<string, Float64Array>[] = [];
  const seqFlags: { layer: KLayer; returnSequences: boolean }[] = [];
  let width: number | null = graph.declaredWidth;
  let size: number | null = width;
  let last: 'recurrent' | 'dense' | 'add' | 'activation' | null = null;
  for (const layer of graph.chain) {
    const cls = layer.className;
    const where = `${label}: layer '${layer.name}' (${cls})`;
    if (RECURRENT.has(cls)) {
      if (head.length > 0)
        throw new DataError(
          `${where} follows a Dense/Add layer; iclrnn models stack all recurrent layers first and put the Dense layers in the output head, so this graph cannot be expressed`,
          { file: label, variable: layer.name },
        );
      const r = buildRecurrent(label, layer, store, size, warnings);
      if (width === null) width = r.cell.inputSize;
      cells.push(r.cell);
      cellValues.push(r.values);
      seqFlags.push({ layer, returnSequences: r.returnSequences });
      size = r.cell.units;
      last = 'recurrent';
    } else if (cls === 'Dense') {
      if (cells.length === 0)
        throw new DataError(`${where} comes before any recurrent layer; iclrnn models start with a recurrent layer`, { file: label, variable: layer.name });
      const d = buildDense(label, layer, store, size!, warnings);
      head.push(d.config);
      headValues.push(d.values);
      size = d.config.units;
      last = 'dense';
    } else if (cls === 'Add') {
      const h = head[head.length - 1];
      if (!h || (last !== 'dense' && last !== 'activation') || h.residual)
        throw new DataError(`${where}: iclrnn can add the model input only right after a Dense layer of the output head`, { file: label, variable: layer.name });
      h.residual = true;
      last = 'add';
    } else if (cls === 'Activation') {
      const h = head[head.length - 1];
      if (!h || last !== 'dense' || h.activation !== 'linear')
        throw new DataError(`${where}: an Activation layer is supported only right after a Dense layer with linear activation`, { file: label, variable: layer.name });
      h.activation = activationOf(label, layer, layer.config.activation, ['linear', 'relu', 'tanh', 'sigmoid']);
      last = 'activation';
    } else if (IDENTITY.has(cls)) {
      // identity at inference
    } else {
      throw new DataError(`${label}: layer '${layer.name}' has the unsupported class '${cls}' (supported: ${SUPPORTED})`, { file: label, variable: layer.name });
    }
  }
  if (cells.length === 0) throw new DataError(`${label}: the model has no recurrent layer (SimpleRNN, LSTM or RNN)`, { file: label });
  seqFlags.forEach((f, i) => {
    if (!f.returnSequences && i < seqFlags.length - 1)
      throw new DataError(`${label}: layer '${f.layer.name}' returns only its last step (return_sequences=false) but another recurrent layer follows it`, {
        file: label,
        variable: f.layer.name,
      });
  });
  const lastReturnsSequences = seqFlags[seqFlags.length - 1].returnSequences;
  if (!lastReturnsSequences)
    warnings.push(
      `layer '${seqFlags[seqFlags.length - 1].layer.name}' has return_sequences=false: the Keras model outputs the last step only; ` +
        'the imported model outputs every step, and its last step equals the Keras output',
    );
  const kerasWidth = width!;
  const outputSize = head.length ? head[head.length - 1].units : cells[cells.length - 1].units;
  const mapping = scalers ? kerasScalersToModel(scalers, kerasWidth, outputSize, scalersFile ?? '<scalers>') : null;
  const kind = familyOf(cells, head);
  const spec: ModelSpec = { kind, inputSize: mapping ? mapping.inputSize : kerasWidth, augmentation: mapping ? mapping.augmentation : null, cells, head };
  let model: SequenceModel;
  try {
    model = new SequenceModel(spec);
  } catch (e) {
    throw new DataError(`${label}: the imported layers do not fit together: ${(e as Error).message}`, { file: label, cause: e });
  }
  for (const { path, param } of model.namedParameters()) {
    const [part, idx, name] = path.split('.');
    const v = (part === 'cells' ? cellValues : headValues)[Number(idx)].get(name);
    if (!v || v.length !== param.value.length) throw new Error(`keras import: no value for ${path}`);
    param.value.set(v);
    const c = param.constraint?.config;
    if (c && (c.type === 'nonNegative' || c.nonNegative)) {
      let min = 0;
      for (const x of v) if (x < min) min = x;
      if (min < 0) warnings.push(`${path} has negative entries (min ${min}) although its constraint keeps it >= 0`);
    }
  }
  const source = {
    format,
    file: label,
    modelClass: graph.modelClass,
    layers: graph.chain.map((l) => {
      const cell = l.className === 'RNN' && isObj(l.config.cell) ? l.config.cell.class_name : undefined;
      return { name: l.name, class: l.className, ...(typeof cell === 'string' ? { cell } : {}) };
    }),
    inputColumns: kerasWidth,
    scalers: scalers ? (scalersFile ?? 'given') : null,
    negateInput: scalers ? scalers.negate_input : null,
    returnSequences: lastReturnsSequences,
    ...extra,
    warnings,
  };
  return {
    model,
    inputScaler: mapping ? mapping.inputScaler : null,
    outputScaler: mapping ? mapping.outputScaler : null,
    metadata: { source },
    format,
    warnings,
  };
}

/**
 * Imports a Keras model file (`.keras` v3 zip or legacy Keras 2 `.h5`; the format is detected
 * from the content) as an iclrnn model. Problems with the file (unreadable, not a Keras model,
 * unsupported layer, missing or mis-shaped weights, unusable scalers) throw a {@link DataError}
 * naming the file and the layer.
 */
export async function importKeras(path: string, options: KerasImportOptions = {}): Promise<KerasImportResult> {
  const scalersFile = typeof options.scalers === 'string' ? options.scalers : null;
  const scalers = typeof options.scalers === 'string' ? readKerasScalers(options.scalers) : options.scalers ? parseKerasScalers(options.scalers) : null;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code ?? (e as Error).message})`, { file: path, cause: e });
  }
  await h5();
  if (isZip(bytes)) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes);
    } catch (e) {
      throw new DataError(`${path}: not a valid zip archive (${(e as Error).message}); is it a .keras file?`, { file: path, cause: e });
    }
    const find = (name: string) => entries[name] ?? Object.entries(entries).find(([k]) => k.replace(/^\.?\//, '') === name)?.[1];
    const cfgBytes = find('config.json');
    if (!cfgBytes) throw new DataError(`${path}: the archive has no config.json (found: ${Object.keys(entries).join(', ') || 'nothing'}); not a Keras v3 .keras file`, { file: path });
    const config = parseJson(new TextDecoder().decode(cfgBytes), path, 'config.json');
    const metaBytes = find('metadata.json');
    const meta = metaBytes ? parseJson(new TextDecoder().decode(metaBytes), path, 'metadata.json') : null;
    const weights = find('model.weights.h5');
    if (!weights) {
      parseGraph(config, path); // an unusable config says so first
      throw new DataError(`${path}: the archive has no model.weights.h5`, { file: path });
    }
    const dir = mkdtempSync(join(tmpdir(), 'iclrnn-keras-'));
    try {
      const wpath = join(dir, 'model.weights.h5');
      writeFileSync(wpath, weights);
      const data = withH5File(wpath, `${path}:model.weights.h5`, (f) => readV3Groups(f, `${path}:model.weights.h5`));
      const extra: Obj = isObj(meta) && typeof meta.keras_version === 'string' ? { kerasVersion: meta.keras_version } : {};
      return buildFromKeras(config, (layers) => new V3Store(path, data, layers), path, 'keras-v3', scalers, scalersFile, extra);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (isHdf5(bytes)) {
    const { config, weights, kerasVersion } = withH5File(resolve(path), path, (f) => {
      const cfgText = attrStrings(f, 'model_config');
      if (!cfgText || cfgText.length === 0)
        throw new DataError(
          `${path}: HDF5 file without a 'model_config' attribute: not a full Keras model (a weights-only file? import the .keras archive or a model saved with model.save('x.h5'))`,
          { file: path },
        );
      const version = attrStrings(f, 'keras_version')?.[0];
      return { config: parseJson(cfgText[0], path, "the 'model_config' attribute"), weights: readLegacyWeights(f, path), kerasVersion: version };
    });
    return buildFromKeras(config, () => new LegacyStore(path, weights), path, 'keras-h5', scalers, scalersFile, kerasVersion ? { kerasVersion } : {});
  }
  throw new DataError(`${path}: not a Keras model file: neither a .keras zip archive nor an HDF5 (.h5) file`, { file: path });
}
