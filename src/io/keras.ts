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
 * - legacy `.h5` (Keras 2 HDF5, as `model.save('x.h5')` writes it with h5py): root attribute
 *   `model_config` (JSON); one group per layer under `model_weights`, each with a `weight_names`
 *   attribute listing its weights in order, stored at `model_weights/<layer>/<weight name>`
 *   (e.g. `model_weights/rnn_4/rnn_4/my_iclstm_cell_4/Wi:0`). Layers without weights (InputLayer,
 *   Add) and the extra group `top_level_model_weights` carry an empty `weight_names` of any dtype
 *   (h5py writes an empty float64 array); groups of layers outside the graph, and
 *   `optimizer_weights`, are not read.
 *
 * Layers: `InputLayer`; `SimpleRNN` (tanh | relu), `LSTM` (tanh / sigmoid), and `RNN` wrapping
 * `SimpleRNNCell`, `LSTMCell` or the reference's custom cells `MyRNNCell` (ICRNN), `MyLRNNCell` (LRNN)
 * and `MyICLSTMCell` (ICLSTM); `Dense` (linear | relu | tanh | sigmoid); `Activation` right after a
 * linear Dense (folded into it); `Add` of a Dense output and the model input (the ICLSTM residual
 * `z = g(W_d h + b_d) + [x, -x]`); `Dropout`-like layers (identity at inference). Sequential and
 * functional (single input, single output; the graph is followed through `inbound_nodes`) models.
 * The graph must be a chain of recurrent and Dense layers starting with a recurrent layer, each
 * Dense optionally followed by an `Add` of the model input; Dense layers may sit between recurrent
 * layers (the published multi-block ICLSTM: `(RNN(MyICLSTMCell) -> Dense -> Add(input)) x 2 ->
 * Dense`), which becomes a model with a `layout`. Anything else (an unknown layer or cell class, a
 * Lambda, a custom activation, a shape mismatch) is a one-line {@link ModelFileError} naming the
 * layer, its class and what is missing.
 *
 * Custom-cell variable orders (from the reference code, checked against the fixtures):
 * - `MyRNNCell`: K [in,u], R [u,u], D1 [u,u], D2 [in,u], D3 [in,u], V [u,u] (no biases),
 *   `h = relu(x K + h' R + x' D2)`, `y = relu(h V + h' D1 + x D3)`.
 * - `MyLRNNCell`: C [u,u], B [u,u], U [in,u], b [u] (A is built from B, W from C).
 * - `MyICLSTMCell` (MPC reference, 14 weights): Wi [in,u], Ui [u,u], then DW [u], DU [u], b [u]
 *   for the gates i, f, o, c: `gate = relu(DW * (x Wi) + DU * (h Ui) + b)` (kernelScale =
 *   [DWi, DWf, DWc, DWo], recurrentScale = [DUi, DUf, DUc, DUo]). The older 10-weight layout
 *   (Wi, Ui, then D, b per gate; one scaling for both products) is read too.
 *
 * Scalers (`scalers.json`: x_min, x_max, y_min, y_max, negate_input): with `negate_input` the
 * x_min/x_max cover the 2n augmented columns `[x, -x]`; the iclrnn model takes the n plain
 * features with augmentation `[s, offset - s]`, which equals the scaled negation exactly when the
 * two columns have the same range: offset_j = (-x_min[j] - x_min[n+j]) / range_j (= 1 when
 * x_min[n+j] = -x_max[j] and x_max[n+j] = -x_min[j], as in the reference). The reference's pickled
 * scikit-learn MinMaxScalers (`scalerX`/`scalerY`) give the same numbers (read by the restricted
 * unpickler of `pickle.ts`); negate_input is then inferred from the mirrored columns. Without
 * scalers the model takes the Keras input columns as they are (for input-convex models the scaled
 * `[x, -x]`), or, with `plainInputs`, the plain scaled x.
 *
 * Node only (reads files). HDF5 goes through `h5.ts`, which loads h5wasm only when an HDF5 file is read.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { unzipSync } from 'fflate';
import type { Activation, CellConfig } from '../nn/cell.ts';
import type { ConstraintConfig } from '../nn/constraints.ts';
import type { DenseConfig } from '../nn/dense.ts';
import { SequenceModel, type ModelKind, type ModelSpec } from '../nn/model.ts';
import { MinMaxScaler } from '../nn/scaler.ts';
import { DataError, ModelFileError } from './errors.ts';
import { attrStrings, readNumericDataset, withH5Bytes, withH5File, type H5Context, type H5File, type H5Group } from './h5.ts';
import type { StoredModel } from './model-format.ts';
import { readPickledMinMaxScaler, type PickledMinMaxScaler } from './pickle.ts';
import { ValidationError } from '../core/errors.ts';
import { FAMILIES, familyOfKerasClass, programOf } from '../graph/registry.ts';
import { MODEL_KINDS } from '../nn/models.ts';
import type { FamilyConfigBase } from '../graph/family.ts';

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

/** Options of {@link importKeras}: the scalers (object or scalers.json path) that map physical units to the scaled space of the Keras model, and how plain inputs are augmented. */
export interface KerasImportOptions {
  /**
   * Scalers as an object or a path to `scalers.json`. Without them the imported model works in
   * the Keras model's own (scaled) space and takes the Keras input columns as they are.
   */
  scalers?: KerasScalers | string | null;
  /**
   * Without scalers the imported model takes the Keras input columns as they are: for the
   * reference's input-convex models these are the augmented columns `[s, s_neg]` (2n of them).
   * When the augmentation is known, the model can take the n plain (scaled) features `s` and
   * build `[s, offset - s]` itself: `true` means the reference convention (min-max scaler fitted
   * on `[x, -x]`, so `s_neg = 1 - s`, offset 1); `{ offset }` sets it. Ignored when scalers are
   * given (their `negate_input` decides).
   */
  plainInputs?: boolean | { offset: number } | null;
  /**
   * The reference's pickled scikit-learn MinMaxScalers (`iclrnn_scaler_X`, `iclrnn_scaler_y`), as
   * paths or already read (see `io/pickle.ts`; a restricted reader that executes nothing). Give
   * both or neither, and not together with `scalers`. When the X scaler covers `[x, -x]` (its
   * columns n+j have min -max_j and max -min_j), the model takes the n plain features.
   */
  scalerX?: string | PickledMinMaxScaler | null;
  scalerY?: string | PickledMinMaxScaler | null;
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
// HDF5 (through the shared wrapper h5.ts; h5wasm is loaded only when an HDF5 file is read)

function readDataset(d: Parameters<typeof readNumericDataset>[0], ctx: H5Context, where: string): KVar {
  const { shape, data } = readNumericDataset(d, ctx, where);
  return { name: where, shape, data };
}

// ---------------------------------------------------------------------------------------------
// weight stores

/** Keras' `to_snake_case` (class name -> weight-group name). */
export function kerasSnakeCase(name: string): string {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s.startsWith('_') ? 'private' + s : s;
}

/** Reads every `.../vars/<i>` group of a v3 weights file (paths normalised to '/'). */
function readV3Groups(f: H5File, ctx: H5Context): { vars: Map<string, KVar[]>; groups: Set<string> } {
  const label = ctx.label;
  const vars = new Map<string, KVar[]>();
  const groups = new Set<string>();
  const walk = (g: H5Group, raw: string, depth: number): void => {
    if (depth > 32) return;
    for (const k of g.keys()) {
      const rawChild = raw ? `${raw}/${k}` : k;
      const norm = rawChild.replace(/\\/g, '/');
      if (depth === 0 && /^(optimizer|metrics)(\/|$)/.test(norm)) continue;
      const child = g.get(k);
      if (!(child instanceof ctx.lib.Group)) continue;
      if (k === 'vars') {
        const names = child.keys();
        const list: KVar[] = [];
        for (let i = 0; i < names.length; i++) {
          const d = child.get(String(i));
          if (!(d instanceof ctx.lib.Dataset))
            throw new ModelFileError(`${label}: weight group '${norm}' has no dataset '${i}' (found ${names.join(', ')})`, { file: label, variable: norm });
          list.push(readDataset(d, ctx, `${norm}/${i}`));
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
      throw new ModelFileError(
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
      throw new ModelFileError(`${this.label}: weights of layer '${layer.name}' (${layer.className}) not found: no group 'model_weights/${layer.name}'`, {
        file: this.label,
        variable: layer.name,
      });
    return v;
  }
}

/**
 * Reads the weights of every layer group under `/model_weights` as Keras 2 writes them: each group
 * lists its weights in a `weight_names` attribute (a string array; for a layer without weights,
 * such as InputLayer and Add, and for the extra `top_level_model_weights` group, h5py stores the
 * empty list as an empty float64 array, which reads as no weights), and each weight sits at
 * `/model_weights/<layer>/<weight name>` (nested groups: `rnn_4/my_iclstm_cell_4/Wi:0`).
 * Only the layers in `wanted` are read (weights of other groups are not needed).
 */
function readLegacyWeights(f: H5File, ctx: H5Context, wanted: Set<string>, warnings: string[]): Map<string, KVar[]> {
  const label = ctx.label;
  const out = new Map<string, KVar[]>();
  const mw = f.get('model_weights');
  if (!(mw instanceof ctx.lib.Group)) throw new ModelFileError(`${label}: no 'model_weights' group (not a full Keras model file)`, { file: label });
  for (const name of mw.keys()) {
    const g = mw.get(name);
    if (!(g instanceof ctx.lib.Group)) continue;
    const names = (attrStrings(g, 'weight_names') ?? []).filter((n) => n !== '');
    if (!wanted.has(name)) {
      if (name === 'top_level_model_weights' && names.length > 0)
        warnings.push(`the file holds ${names.length} model-level weights outside any layer (top_level_model_weights); they were ignored`);
      continue;
    }
    out.set(
      name,
      names.map((wn) => {
        const d = (g as H5Group).get(wn);
        if (!(d instanceof ctx.lib.Dataset))
          throw new ModelFileError(`${label}: weight 'model_weights/${name}/${wn}' listed in weight_names is missing`, { file: label, variable: `${name}/${wn}` });
        return readDataset(d, ctx, `model_weights/${name}/${wn}`);
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
    throw new ModelFileError(`${label}: config.json layer ${index} has no class_name`, { file: label });
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
  if (!isObj(cfg) || typeof cfg.class_name !== 'string') throw new ModelFileError(`${label}: config.json is not a Keras model config (no class_name)`, { file: label });
  const cls = cfg.class_name;
  const inner = cfg.config;
  let layers: KLayer[];
  let chain: KLayer[];
  if (cls === 'Sequential') {
    const list = Array.isArray(inner) ? inner : isObj(inner) && Array.isArray(inner.layers) ? inner.layers : null;
    if (!list) throw new ModelFileError(`${label}: Sequential model config has no layer list`, { file: label });
    layers = list.map((l, i) => parseLayer(l, i, label));
    chain = layers.filter((l, i) => !(l.className === 'InputLayer' && i === 0));
  } else if (cls === 'Functional' || cls === 'Model') {
    if (!isObj(inner) || !Array.isArray(inner.layers)) throw new ModelFileError(`${label}: functional model config has no layer list`, { file: label });
    layers = inner.layers.map((l, i) => parseLayer(l, i, label));
    const byName = new Map(layers.map((l) => [l.name, l]));
    const ends = (v: unknown): string[] => {
      const out: string[] = [];
      collectRefs(v, out);
      return out;
    };
    const ins = ends(inner.input_layers), outs = ends(inner.output_layers);
    if (ins.length !== 1) throw new ModelFileError(`${label}: the model has ${ins.length} inputs; only single-input models can be imported`, { file: label });
    if (outs.length !== 1) throw new ModelFileError(`${label}: the model has ${outs.length} outputs; only single-output models can be imported`, { file: label });
    const input = ins[0];
    chain = [];
    let cur = outs[0];
    const seen = new Set<string>();
    while (cur !== input) {
      const l = byName.get(cur);
      if (!l) throw new ModelFileError(`${label}: the graph refers to an unknown layer '${cur}'`, { file: label, variable: cur });
      if (seen.has(cur)) throw new ModelFileError(`${label}: the graph has a cycle at layer '${cur}'`, { file: label, variable: cur });
      seen.add(cur);
      if (l.calls > 1)
        throw new ModelFileError(`${label}: layer '${l.name}' (${l.className}) is called ${l.calls} times (shared weights); iclrnn cannot express that`, { file: label, variable: l.name });
      chain.unshift(l);
      if (l.className === 'Add') {
        const others = l.inbound.filter((n) => n !== input);
        if (l.inbound.length !== 2 || others.length !== 1)
          throw new ModelFileError(
            `${label}: layer '${l.name}' (Add) adds [${l.inbound.join(', ')}]; iclrnn supports only adding the model input '${input}' to one Dense output (the residual [x, -x] of the ICLSTM head)`,
            { file: label, variable: l.name },
          );
        cur = others[0];
      } else {
        if (l.inbound.length !== 1)
          throw new ModelFileError(`${label}: layer '${l.name}' (${l.className}) has ${l.inbound.length} inputs; expected 1`, { file: label, variable: l.name });
        cur = l.inbound[0];
      }
    }
    const inputLayer = byName.get(input);
    if (inputLayer && inputLayer.className !== 'InputLayer')
      throw new ModelFileError(`${label}: the model input '${input}' is a ${inputLayer.className}, not an InputLayer`, { file: label, variable: input });
  } else {
    throw new ModelFileError(`${label}: model class '${cls}' is not supported (only Sequential and Functional models can be imported)`, { file: label });
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
/** Model kinds that are also registered families with a Keras layer class of their own (GRU). */
const KERAS_LAYER_KINDS: ReadonlySet<string> = new Set(MODEL_KINDS.filter((k) => (FAMILIES.get(k)?.keras?.layerClasses.length ?? 0) > 0));
/** The recurrent cell classes the importer maps (the built-in switch, then the registry's). */
const SUPPORTED_CELLS = ['SimpleRNNCell', 'LSTMCell', 'MyRNNCell', 'MyLRNNCell', 'MyICLSTMCell', ...[...FAMILIES.values()].flatMap((f) => f.keras?.cellClasses ?? [])]
  .filter((c, i, a) => a.indexOf(c) === i)
  .join(', ');
/** A recurrent Keras layer: the built-in ones, or the layer class of a registered recurrent family (one with a cell class: `GRU`). */
const isRecurrentClass = (cls: string) => {
  const keras = familyOfKerasClass(cls)?.keras;
  return RECURRENT.has(cls) || (!!keras && keras.layerClasses.includes(cls) && keras.cellClasses.length > 0);
};
const IDENTITY = new Set(['Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization']);
const SUPPORTED =
  'InputLayer, SimpleRNN, LSTM, GRU, RNN(SimpleRNNCell | LSTMCell | GRUCell | MyRNNCell | MyLRNNCell | MyICLSTMCell), Dense, Activation, Add (model input), Dropout';

interface Expected {
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

function activationOf(label: string, layer: KLayer, v: unknown, allowed: readonly Activation[]): Activation {
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
function familyOf(cells: CellConfig[], head: DenseConfig[], interleaved: boolean): ModelKind {
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
    throw new ModelFileError(`${label}: ${what} is not valid JSON (${(e as Error).message})`, { file: label, cause: e });
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
  earlyWarnings: string[] = [],
  plainInputs: KerasImportOptions['plainInputs'] = null,
): KerasImportResult {
  const warnings: string[] = [...earlyWarnings];
  const graph = parseGraph(config, label);
  const store = makeStore(graph.layers);
  const cells: CellConfig[] = [];
  const head: DenseConfig[] = [];
  const layout: string[] = [];
  const cellValues: Map<string, Float64Array>[] = [];
  const headValues: Map<string, Float64Array>[] = [];
  const seqFlags: { layer: KLayer; returnSequences: boolean }[] = [];
  let width: number | null = graph.declaredWidth;
  let size: number | null = width;
  let last: 'recurrent' | 'dense' | 'add' | 'activation' | null = null;
  for (const layer of graph.chain) {
    const cls = layer.className;
    const where = `${label}: layer '${layer.name}' (${cls})`;
    if (isRecurrentClass(cls)) {
      const r = buildRecurrent(label, layer, store, size, warnings);
      if (width === null) width = r.cell.inputSize;
      layout.push(`cells.${cells.length}`);
      cells.push(r.cell);
      cellValues.push(r.values);
      seqFlags.push({ layer, returnSequences: r.returnSequences });
      size = r.cell.units;
      last = 'recurrent';
    } else if (cls === 'Dense') {
      if (cells.length === 0)
        throw new ModelFileError(`${where} comes before any recurrent layer; iclrnn models start with a recurrent layer`, { file: label, variable: layer.name });
      const d = buildDense(label, layer, store, size!, warnings);
      layout.push(`head.${head.length}`);
      head.push(d.config);
      headValues.push(d.values);
      size = d.config.units;
      last = 'dense';
    } else if (cls === 'Add') {
      const h = head[head.length - 1];
      if (!h || (last !== 'dense' && last !== 'activation') || h.residual)
        throw new ModelFileError(`${where}: iclrnn can add the model input only right after a Dense layer (missing: a Dense layer before this Add)`, { file: label, variable: layer.name });
      if (width !== null && h.units !== width)
        throw new ModelFileError(`${where}: adds the model input (${width} columns) to a Dense output of ${h.units} units; the shapes do not match`, { file: label, variable: layer.name });
      h.residual = true;
      last = 'add';
    } else if (cls === 'Activation') {
      const h = head[head.length - 1];
      if (!h || last !== 'dense' || h.activation !== 'linear')
        throw new ModelFileError(`${where}: an Activation layer is supported only right after a Dense layer with linear activation`, { file: label, variable: layer.name });
      h.activation = activationOf(label, layer, layer.config.activation, ['linear', 'relu', 'tanh', 'sigmoid']);
      last = 'activation';
    } else if (IDENTITY.has(cls)) {
      // identity at inference
    } else {
      const why = cls === 'Lambda' ? ' (a Lambda layer holds Python code, which cannot be imported)' : '';
      throw new ModelFileError(`${label}: layer '${layer.name}' has the unsupported class '${cls}'${why} (supported: ${SUPPORTED})`, { file: label, variable: layer.name });
    }
  }
  if (cells.length === 0) throw new ModelFileError(`${label}: the model has no recurrent layer (SimpleRNN, LSTM or RNN)`, { file: label });
  seqFlags.forEach((f, i) => {
    if (!f.returnSequences && i < seqFlags.length - 1)
      throw new ModelFileError(`${label}: layer '${f.layer.name}' returns only its last step (return_sequences=false) but another recurrent layer follows it`, {
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
  const outputSize = size!;
  let mapping: { inputSize: number; augmentation: { offset: number[] } | null } | null = scalers ? kerasScalersToModel(scalers, kerasWidth, outputSize, scalersFile ?? '<scalers>') : null;
  if (!mapping && plainInputs) {
    if (kerasWidth % 2 !== 0)
      throw new ModelFileError(`${label}: plain inputs need a Keras model fed [x, -x], but it takes an odd number (${kerasWidth}) of input columns`, { file: label });
    const off = typeof plainInputs === 'object' ? plainInputs.offset : 1;
    if (!Number.isFinite(off)) throw new ValidationError(`plainInputs.offset must be a finite number, got ${off}`);
    mapping = { inputSize: kerasWidth / 2, augmentation: { offset: new Array(kerasWidth / 2).fill(off) } };
  }
  const interleavedLayout = layout.some((n, i) => n.startsWith('cells.') && layout.slice(0, i).some((m) => m.startsWith('head.')));
  const kind = familyOf(cells, head, interleavedLayout);
  const spec: ModelSpec = {
    kind,
    inputSize: mapping ? mapping.inputSize : kerasWidth,
    augmentation: mapping ? mapping.augmentation : null,
    cells,
    head,
    ...(interleavedLayout ? { layout } : {}),
  };
  let model: SequenceModel;
  try {
    model = new SequenceModel(spec);
  } catch (e) {
    throw new ModelFileError(`${label}: the imported layers do not fit together: ${(e as Error).message}`, { file: label, cause: e });
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
    negateInput: scalers ? scalers.negate_input : mapping ? true : null,
    returnSequences: lastReturnsSequences,
    ...extra,
    warnings,
  };
  return {
    model,
    inputScaler: scalers ? (mapping as KerasScalerMapping).inputScaler : null,
    outputScaler: scalers ? (mapping as KerasScalerMapping).outputScaler : null,
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
 *
 * @example
 * ```ts
 * const imported = await importKeras('model.keras', { scalers: 'scalers.json' });
 * saveModel('imported.json', imported);
 * ```
 */
export async function importKeras(path: string, options: KerasImportOptions = {}): Promise<KerasImportResult> {
  let scalersFile = typeof options.scalers === 'string' ? options.scalers : null;
  let scalers = typeof options.scalers === 'string' ? readKerasScalers(options.scalers) : options.scalers ? parseKerasScalers(options.scalers) : null;
  const px = options.scalerX ?? null, py = options.scalerY ?? null;
  if (px !== null || py !== null) {
    if (px === null || py === null) throw new ModelFileError(`${path}: give both pickled scalers (X and y) or neither`, { file: path, variable: px === null ? 'scalerX' : 'scalerY' });
    if (scalers) throw new ModelFileError(`${path}: give either the scalers JSON or the pickled scalers, not both`, { file: path, variable: 'scalers' });
    const sx = typeof px === 'string' ? readPickledMinMaxScaler(px) : px;
    const sy = typeof py === 'string' ? readPickledMinMaxScaler(py) : py;
    const names = { x: typeof px === 'string' ? px : undefined, y: typeof py === 'string' ? py : undefined };
    scalers = kerasScalersFromPickles(sx, sy, names);
    scalersFile = names.x && names.y ? `${names.x} + ${names.y}` : 'pickled scalers';
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code ?? (e as Error).message})`, { file: path, cause: e });
  }
  const plain = options.plainInputs ?? null;
  if (isZip(bytes)) {
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(bytes);
    } catch (e) {
      throw new ModelFileError(`${path}: not a valid zip archive (${(e as Error).message}); is it a .keras file?`, { file: path, cause: e });
    }
    const find = (name: string) => entries[name] ?? Object.entries(entries).find(([k]) => k.replace(/^\.?\//, '') === name)?.[1];
    const cfgBytes = find('config.json');
    if (!cfgBytes) throw new ModelFileError(`${path}: the archive has no config.json (found: ${Object.keys(entries).join(', ') || 'nothing'}); not a Keras v3 .keras file`, { file: path });
    const config = parseJson(new TextDecoder().decode(cfgBytes), path, 'config.json');
    const metaBytes = find('metadata.json');
    const meta = metaBytes ? parseJson(new TextDecoder().decode(metaBytes), path, 'metadata.json') : null;
    const weights = find('model.weights.h5');
    if (!weights) {
      parseGraph(config, path); // an unusable config says so first
      throw new ModelFileError(`${path}: the archive has no model.weights.h5`, { file: path });
    }
    const data = await withH5Bytes(weights, `${path}:model.weights.h5`, (f, ctx) => readV3Groups(f, ctx));
    const extra: Obj = isObj(meta) && typeof meta.keras_version === 'string' ? { kerasVersion: meta.keras_version } : {};
    return buildFromKeras(config, (layers) => new V3Store(path, data, layers), path, 'keras-v3', scalers, scalersFile, extra, [], plain);
  }
  if (isHdf5(bytes)) {
    const warnings: string[] = [];
    const { config, weights, kerasVersion } = await withH5File(
      resolve(path),
      (f, ctx) => {
        const cfgText = attrStrings(f, 'model_config');
        if (!cfgText || cfgText.length === 0)
          throw new ModelFileError(
            `${path}: HDF5 file without a 'model_config' attribute: not a full Keras model (a weights-only file? import the .keras archive or a model saved with model.save('x.h5'))`,
            { file: path },
          );
        const version = attrStrings(f, 'keras_version')?.[0];
        const cfg = parseJson(cfgText[0], path, "the 'model_config' attribute");
        const wanted = new Set(parseGraph(cfg, path).chain.map((l) => l.name));
        return { config: cfg, weights: readLegacyWeights(f, ctx, wanted, warnings), kerasVersion: version };
      },
      path,
    );
    return buildFromKeras(config, () => new LegacyStore(path, weights), path, 'keras-h5', scalers, scalersFile, kerasVersion ? { kerasVersion } : {}, warnings, plain);
  }
  throw new ModelFileError(`${path}: not a Keras model file: neither a .keras zip archive nor an HDF5 (.h5) file`, { file: path });
}
