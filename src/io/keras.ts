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
 * Layers: `InputLayer`; `SimpleRNN` (tanh | relu), `LSTM` (tanh / sigmoid), `GRU` (and any other
 * registered cell family's Keras classes), and `RNN` wrapping `SimpleRNNCell`, `LSTMCell`,
 * `GRUCell` or the reference's custom cells `MyRNNCell` (ICRNN), `MyLRNNCell` (LRNN)
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
 *
 * Files: this one reads the two file layouts and the model graph and assembles the model;
 * `keras-layers.ts` maps layers and cells (weights, constraints, the model family) and
 * `keras-scalers.ts` the scalers. Size (about 600 lines): the two storage layouts above.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { unzipSync } from 'fflate';
import type { Activation, CellConfig } from '../nn/cell.ts';
import type { DenseConfig } from '../nn/dense.ts';
import { SequenceModel, type ModelSpec } from '../nn/model.ts';
import { DataError, ModelFileError } from './errors.ts';
import { attrStrings, readNumericDataset, withH5Bytes, withH5File, type H5Context, type H5File, type H5Group } from './h5.ts';
import type { StoredModel } from './model-format.ts';
import { readPickledMinMaxScaler, type PickledMinMaxScaler } from './pickle.ts';
import { ValidationError } from '../core/errors.ts';

import { activationOf, buildDense, buildRecurrent, familyOf, IDENTITY, isObj, isRecurrentClass, SUPPORTED, type KLayer, type KVar, type Obj, type WeightStore } from './keras-layers.ts';
import { kerasScalersFromPickles, kerasScalersToModel, parseKerasScalers, readKerasScalers, type KerasScalerMapping, type KerasScalers } from './keras-scalers.ts';

export { kerasScalersFromPickles, kerasScalersToModel, parseKerasScalers, readKerasScalers, type KerasScalerMapping, type KerasScalers } from './keras-scalers.ts';

/** Which Keras file layout a model came from. */
export type KerasFormat = 'keras-v3' | 'keras-h5';


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


/** An imported model, ready for {@link saveModel}, plus what the import noticed. */
export interface KerasImportResult extends StoredModel {
  format: KerasFormat;
  /** Things that do not stop the import but deserve a note (dropped constraints, last-step-only output, ...). */
  warnings: string[];
}



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
