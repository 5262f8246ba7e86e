/**
 * Test helpers for the Keras importer: an independent, straightforward implementation of the Keras
 * layers (REFERENCE.md section 3) that builds a model description, its weights and the reference
 * forward pass at once, and writers of `.keras` (v3) and legacy `.h5` files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { Rng } from '../../src/core/rng.ts';
import { ValidationError } from '../../src/io/errors.ts';
import { importKeras, kerasSnakeCase } from '../../src/io/keras.ts';

const dir = mkdtempSync(join(tmpdir(), 'iclrnn-keras-builder-'));

// ---------------------------------------------------------------------------------------------
// an independent, straightforward implementation of the Keras layers (REFERENCE.md section 3)

export type Vec = number[];
export type Act = 'linear' | 'relu' | 'tanh' | 'sigmoid';
export interface W {
  shape: number[];
  data: number[];
}
export const actf = (a: Act, v: number): number => (a === 'relu' ? Math.max(0, v) : a === 'tanh' ? Math.tanh(v) : a === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : v);
export const sig = (v: number) => 1 / (1 + Math.exp(-v));
export const relu = (v: number) => Math.max(0, v);
/** x [r] times W [r, c]. */
export function vm(x: Vec, w: W): Vec {
  const [r, c] = w.shape;
  assert.equal(x.length, r);
  const y = new Array(c).fill(0);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) y[j] += x[i] * w.data[i * c + j];
  return y;
}
export const plus = (...vs: Vec[]): Vec => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0));
export const zeros = (n: number): Vec => new Array(n).fill(0);

export interface GenLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Variables in Keras creation order. */
  vars: (W & { name: string })[];
  recurrent: boolean;
  cellName?: string;
  inputs: string[];
}

export type Forward = (seq: Vec[], input: Vec[]) => Vec[];

/** Builds a Keras model description, its weights and the reference forward pass at once. */
export class KerasBuilder {
  readonly layers: GenLayer[] = [];
  private readonly steps: Forward[] = [];
  private readonly counts = new Map<string, number>();
  private cur: string;
  private size: number;
  private readonly rng: Rng;
  returnsSequences = true;

  constructor(readonly width: number, seed: number, readonly float32 = true, readonly inputName = 'input_1') {
    this.rng = new Rng(seed);
    this.cur = inputName;
    this.size = width;
  }

  /** When >= 0, layer names are `<type>_<k + suffixBase>` as in a Keras session that built other models before (`rnn_4`, `dense_6`). */
  suffixBase = -1;
  /** Multiplies every generated weight (keeps 64-unit layers in a sane range). */
  weightScale = 1;

  private name(snake: string): string {
    const k = this.counts.get(snake) ?? 0;
    this.counts.set(snake, k + 1);
    if (this.suffixBase >= 0) return `${snake}_${k + this.suffixBase}`;
    return k === 0 ? snake : `${snake}_${k}`;
  }

  private w(name: string, shape: number[], gen: () => number): W & { name: string } {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, () => (this.float32 ? Math.fround(gen()) : gen()));
    return { name, shape, data };
  }
  private normal = (s: number) => () => s * this.weightScale * this.rng.normal();
  private pos = (s: number) => () => s * this.weightScale * this.rng.uniform();

  private push(l: Omit<GenLayer, 'inputs'>, f: Forward, inputs = [this.cur]): this {
    this.layers.push({ ...l, inputs });
    this.steps.push(f);
    this.cur = l.name;
    return this;
  }

  private rnnConfig(name: string, returnSequences: boolean, extra: Record<string, unknown> = {}) {
    this.returnsSequences = returnSequences;
    return { name, trainable: true, dtype: 'float32', return_sequences: returnSequences, return_state: false, go_backwards: false, stateful: false, unroll: false, time_major: false, ...extra };
  }

  simpleRNN(units: number, activation: 'tanh' | 'relu', o: { wrap?: boolean; bias?: boolean; constraint?: unknown; returnSequences?: boolean; positive?: boolean } = {}): this {
    const n = this.size, u = units, bias = o.bias ?? true;
    const g = o.positive ? this.pos(0.4) : this.normal(0.5);
    const K = this.w('kernel', [n, u], g), R = this.w('recurrent_kernel', [u, u], o.positive ? this.pos(0.3) : this.normal(0.3));
    const b = bias ? this.w('bias', [u], this.normal(0.1)) : null;
    const cellCfg: Record<string, unknown> = { units: u, activation, use_bias: bias, kernel_constraint: o.constraint ?? null, recurrent_constraint: o.constraint ?? null, bias_constraint: null };
    const name = this.name(o.wrap ? 'rnn' : 'simple_rnn');
    const config = o.wrap
      ? this.rnnConfig(name, o.returnSequences ?? true, { cell: { module: 'keras.layers', class_name: 'SimpleRNNCell', config: { name: 'simple_rnn_cell', ...cellCfg } } })
      : this.rnnConfig(name, o.returnSequences ?? true, cellCfg);
    this.size = u;
    return this.push({ name, className: o.wrap ? 'RNN' : 'SimpleRNN', config, vars: b ? [K, R, b] : [K, R], recurrent: true, cellName: 'simple_rnn_cell' }, (seq) => {
      let h = zeros(u);
      return seq.map((x) => (h = plus(vm(x, K), vm(h, R), b ? b.data : zeros(u)).map((v) => actf(activation, v))));
    });
  }

  lstm(units: number, o: { wrap?: boolean; returnSequences?: boolean } = {}): this {
    const n = this.size, u = units;
    const K = this.w('kernel', [n, 4 * u], this.normal(0.5)), R = this.w('recurrent_kernel', [u, 4 * u], this.normal(0.3)), b = this.w('bias', [4 * u], this.normal(0.2));
    const cellCfg = { units: u, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, unit_forget_bias: true };
    const name = this.name(o.wrap ? 'rnn' : 'lstm');
    const config = o.wrap
      ? this.rnnConfig(name, o.returnSequences ?? true, { cell: { class_name: 'LSTMCell', config: { name: 'lstm_cell', ...cellCfg } } })
      : this.rnnConfig(name, o.returnSequences ?? true, cellCfg);
    this.size = u;
    return this.push({ name, className: o.wrap ? 'RNN' : 'LSTM', config, vars: [K, R, b], recurrent: true, cellName: 'lstm_cell' }, (seq) => {
      let h = zeros(u), c = zeros(u);
      return seq.map((x) => {
        const z = plus(vm(x, K), vm(h, R), b.data);
        const i = z.slice(0, u).map(sig), f = z.slice(u, 2 * u).map(sig), cc = z.slice(2 * u, 3 * u).map(Math.tanh), og = z.slice(3 * u).map(sig);
        c = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
        h = c.map((cv, j) => og[j] * Math.tanh(cv));
        return h;
      });
    });
  }

  /**
   * Keras' GRU (TF2 default reset_after=True): with xz = x K + b_in, hz = h R + b_rec (gates z, r, h),
   * z = sigmoid(xz_z + hz_z), r = sigmoid(xz_r + hz_r), hh = tanh(xz_h + r * hz_h),
   * h = z * h' + (1 - z) * hh. Keras stores the biases as one [2, 3u] array (input row first).
   */
  gru(units: number, o: { wrap?: boolean; returnSequences?: boolean; resetAfter?: boolean } = {}): this {
    const n = this.size, u = units;
    const K = this.w('kernel', [n, 3 * u], this.normal(0.5)), R = this.w('recurrent_kernel', [u, 3 * u], this.normal(0.3)), b = this.w('bias', [2, 3 * u], this.normal(0.2));
    const cellCfg = { units: u, activation: 'tanh', recurrent_activation: 'sigmoid', use_bias: true, reset_after: o.resetAfter ?? true };
    const name = this.name(o.wrap ? 'rnn' : 'gru');
    const config = o.wrap
      ? this.rnnConfig(name, o.returnSequences ?? true, { cell: { class_name: 'GRUCell', config: { name: 'gru_cell', ...cellCfg } } })
      : this.rnnConfig(name, o.returnSequences ?? true, cellCfg);
    this.size = u;
    const bIn = b.data.slice(0, 3 * u), bRec = b.data.slice(3 * u);
    return this.push({ name, className: o.wrap ? 'RNN' : 'GRU', config, vars: [K, R, b], recurrent: true, cellName: 'gru_cell' }, (seq) => {
      let h = zeros(u);
      return seq.map((x) => {
        const xz = plus(vm(x, K), bIn), hz = plus(vm(h, R), bRec);
        const z = xz.slice(0, u).map((v, j) => sig(v + hz[j]));
        const r = xz.slice(u, 2 * u).map((v, j) => sig(v + hz[u + j]));
        const hh = xz.slice(2 * u).map((v, j) => Math.tanh(v + r[j] * hz[2 * u + j]));
        h = h.map((hv, j) => z[j] * hv + (1 - z[j]) * hh[j]);
        return h;
      });
    });
  }

  /** The reference MyRNNCell: h = relu(x K + h' R + x' D2), y = relu(h V + h' D1 + x D3). */
  icrnn(units: number): this {
    const n = this.size, u = units, p = this.pos(0.3);
    const K = this.w('kernel', [n, u], p), R = this.w('recurrent_kernel', [u, u], p), D1 = this.w('D1', [u, u], p);
    const D2 = this.w('D2', [n, u], p), D3 = this.w('D3', [n, u], p), V = this.w('V', [u, u], p);
    const name = this.name('rnn');
    this.size = u;
    return this.push(
      { name, className: 'RNN', config: this.rnnConfig(name, true, { cell: { module: null, class_name: 'MyRNNCell', config: { name: 'my_rnn_cell', units: u, input_shape_custom: n }, registered_name: 'MyRNNCell' } }), vars: [K, R, D1, D2, D3, V], recurrent: true, cellName: 'my_rnn_cell' },
      (seq) => {
        let h = zeros(u), xp = zeros(n);
        return seq.map((x) => {
          const hn = plus(vm(x, K), vm(h, R), vm(xp, D2)).map(relu);
          const y = plus(vm(hn, V), vm(h, D1), vm(x, D3)).map(relu);
          h = hn;
          xp = x;
          return y;
        });
      },
    );
  }

  /** The reference MyLRNNCell (variables C, B, U, b). */
  lrnn(units: number, c: { eps: number; gamma: number; beta: number; alpha: number }): this {
    const n = this.size, u = units;
    const C = this.w('C', [u, u], this.normal(0.4)), B = this.w('B', [u, u], this.normal(0.4)), U = this.w('U', [n, u], this.normal(0.5)), b = this.w('b', [u], this.normal(0.1));
    const comp = (P: W): W => {
      const d = new Array(u * u).fill(0);
      for (let i = 0; i < u; i++)
        for (let j = 0; j < u; j++) d[i * u + j] = c.beta * (P.data[i * u + j] - P.data[j * u + i]) + (1 - c.beta) * (P.data[i * u + j] + P.data[j * u + i]) - (i === j ? c.gamma : 0);
      return { shape: [u, u], data: d };
    };
    const A = comp(B), Wm = comp(C);
    const name = this.name('rnn');
    this.size = u;
    return this.push(
      { name, className: 'RNN', config: this.rnnConfig(name, true, { cell: { class_name: 'MyLRNNCell', config: { name: 'my_lrnn_cell', units: u, ...c } } }), vars: [C, B, U, b], recurrent: true, cellName: 'my_lrnn_cell' },
      (seq) => {
        let h = zeros(u);
        return seq.map((x) => {
          const z = plus(vm(h, Wm), vm(x, U), b.data).map(Math.tanh);
          const hA = vm(h, A);
          return (h = h.map((hv, j) => hv + c.eps * c.alpha * hA[j] + c.eps * z[j]));
        });
      },
    );
  }

  /**
   * The reference MyICLSTMCell. `separate` (the MPC reference, 14 weights): Wi, Ui, then DW, DU, b
   * for the gates i, f, o, c, `gate = relu(DW * (x Wi) + DU * (h Ui) + b)`. Otherwise (10 weights):
   * Wi, Ui, then (DW, b) per gate, one scaling for both products.
   */
  iclstm(units: number, o: { separate?: boolean; returnSequences?: boolean } = {}): this {
    const n = this.size, u = units;
    const Wx = this.w('Wi', [n, u], this.pos(0.5)), Uh = this.w('Ui', [u, u], this.pos(0.3));
    const gates = ['i', 'f', 'o', 'c'] as const;
    const DW: Record<string, W & { name: string }> = {}, DU: Record<string, W & { name: string }> = {}, Bs: Record<string, W & { name: string }> = {};
    const vars = [Wx, Uh];
    for (const g of gates) {
      DW[g] = this.w(`DW${g}`, [u], this.pos(1 / this.weightScale));
      if (o.separate) DU[g] = this.w(`DU${g}`, [u], this.pos(1 / this.weightScale));
      Bs[g] = this.w(`b${g}`, [u], this.normal(0.2));
      vars.push(DW[g]);
      if (o.separate) vars.push(DU[g]);
      vars.push(Bs[g]);
    }
    const du = o.separate ? DU : DW;
    const name = this.name('rnn');
    const cellName = this.suffixBase >= 0 ? `my_iclstm_cell_${name.split('_').pop()}` : 'my_iclstm_cell';
    this.size = u;
    const cellCfg = { name: cellName, trainable: true, dtype: 'float32', units: u };
    return this.push(
      { name, className: 'RNN', config: this.rnnConfig(name, o.returnSequences ?? true, { cell: { module: null, class_name: 'MyICLSTMCell', config: cellCfg, registered_name: 'MyICLSTMCell' } }), vars, recurrent: true, cellName },
      (seq) => {
        let h = zeros(u), c = zeros(u);
        const out = seq.map((x) => {
          const xw = vm(x, Wx), hu = vm(h, Uh);
          const gate = (g: string) => xw.map((_, j) => relu(DW[g].data[j] * xw[j] + du[g].data[j] * hu[j] + Bs[g].data[j]));
          const i = gate('i'), f = gate('f'), og = gate('o'), cc = gate('c');
          c = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
          return (h = c.map((cv, j) => og[j] * relu(cv)));
        });
        return out;
      },
    );
  }

  dense(units: number, activation: Act, o: { bias?: boolean; constraint?: unknown; positive?: boolean } = {}): this {
    const n = this.size, bias = o.bias ?? true;
    const K = this.w('kernel', [n, units], o.positive ? this.pos(0.5) : this.normal(0.5));
    const b = bias ? this.w('bias', [units], this.normal(0.1)) : null;
    const name = this.name('dense');
    this.size = units;
    const config = { name, units, activation, use_bias: bias, kernel_constraint: o.constraint ?? null, bias_constraint: null };
    return this.push({ name, className: 'Dense', config, vars: b ? [K, b] : [K], recurrent: false }, (seq) => seq.map((h) => plus(vm(h, K), b ? b.data : zeros(units)).map((v) => actf(activation, v))));
  }

  /** Add(previous, model input). */
  addInput(): this {
    const name = this.name('add');
    return this.push({ name, className: 'Add', config: { name }, vars: [], recurrent: false }, (seq, input) => seq.map((v, t) => plus(v, input[t])), [this.cur, this.inputName]);
  }

  activation(a: Act): this {
    const name = this.name('activation');
    return this.push({ name, className: 'Activation', config: { name, activation: a }, vars: [], recurrent: false }, (seq) => seq.map((v) => v.map((x) => actf(a, x))));
  }

  dropout(): this {
    const name = this.name('dropout');
    return this.push({ name, className: 'Dropout', config: { name, rate: 0.5 }, vars: [], recurrent: false }, (seq) => seq);
  }

  /** Any other layer (for error tests). */
  other(className: string, vars: W[] = []): this {
    const name = this.name(kerasSnakeCase(className));
    return this.push({ name, className, config: { name, units: this.size }, vars: vars.map((v, i) => ({ ...v, name: `v${i}` })), recurrent: false }, (seq) => seq);
  }

  /** Reference output (steps x outputs) of one input sequence (steps x width); the last step only when the last RNN does not return sequences. */
  forward(x: Vec[]): Vec[] {
    let seq = x;
    for (const f of this.steps) seq = f(seq, x);
    return seq;
  }

  get outputName(): string {
    return this.cur;
  }

  /** The Keras config.json content. */
  config(o: { functional?: boolean; keras3Nodes?: boolean; steps?: number } = {}): Record<string, unknown> {
    const T = o.steps ?? 5;
    const functional = o.functional ?? this.layers.some((l) => l.className === 'Add');
    const inputLayer = { class_name: 'InputLayer', config: { batch_input_shape: [null, T, this.width], dtype: 'float32', name: this.inputName }, name: this.inputName, inbound_nodes: [] as unknown[] };
    if (!functional) return { class_name: 'Sequential', config: { name: 'sequential', layers: [inputLayer, ...this.layers.map((l) => ({ class_name: l.className, config: l.config }))] } };
    const ref = (n: string) =>
      o.keras3Nodes ? { class_name: '__keras_tensor__', config: { shape: [null, T, 3], dtype: 'float32', keras_history: [n, 0, 0] } } : [n, 0, 0, {}];
    const node = (ins: string[]) =>
      o.keras3Nodes ? { args: ins.length === 1 ? [ref(ins[0])] : [ins.map(ref)], kwargs: {} } : ins.map(ref);
    return {
      class_name: 'Functional',
      config: {
        name: 'model',
        layers: [inputLayer, ...this.layers.map((l) => ({ class_name: l.className, config: l.config, name: l.name, inbound_nodes: [node(l.inputs)] }))],
        input_layers: o.keras3Nodes ? [this.inputName, 0, 0] : [[this.inputName, 0, 0]],
        output_layers: o.keras3Nodes ? [this.cur, 0, 0] : [[this.cur, 0, 0]],
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// writers of Keras files

let h5Ready: Promise<unknown> | null = null;
export const h5 = async () => {
  h5Ready ??= h5wasm.ready.then((m) => m.activate_throwing_error_handler());
  await h5Ready;
};

export type H5Group = InstanceType<typeof h5wasm.Group>;
export function ensureGroup(root: H5Group, path: string): H5Group {
  let g = root;
  for (const part of path.split('/').filter(Boolean)) {
    const next = g.get(part);
    g = next instanceof h5wasm.Group ? next : g.create_group(part);
  }
  return g;
}

export function writeVars(g: H5Group, vars: W[], float32: boolean): void {
  const v = g.create_group('vars');
  vars.forEach((w, i) => v.create_dataset({ name: String(i), data: float32 ? Float32Array.from(w.data) : Float64Array.from(w.data), shape: w.shape }));
}

export interface V3Options {
  /** 'windows': flat group names with backslashes (as the fixtures); 'posix': nested groups. */
  style?: 'windows' | 'posix';
  container?: string;
  /** Suffix of the 2nd layer of a type: 2 (Keras 2.13) or 1. */
  secondSuffix?: 1 | 2;
  functional?: boolean;
  keras3Nodes?: boolean;
  /** Edits the weight list of layer i before writing (error tests). */
  tamper?: (layers: GenLayer[]) => void;
  config?: Record<string, unknown>;
}

export async function writeKerasV3(path: string, b: KerasBuilder, o: V3Options = {}): Promise<string> {
  await h5();
  const style = o.style ?? 'windows', container = o.container ?? '_layer_checkpoint_dependencies', second = o.secondSuffix ?? 2;
  const layers = structuredClone(b.layers);
  o.tamper?.(layers);
  const h5path = join(dir, `w-${Math.random().toString(36).slice(2)}.h5`);
  const f = new h5wasm.File(h5path, 'w');
  const counts = new Map<string, number>();
  const group = (p: string): H5Group => (style === 'windows' ? f.create_group(p.replace(/\//g, '\\')) : ensureGroup(f, p));
  for (const l of layers) {
    const snake = kerasSnakeCase(l.className);
    const k = counts.get(snake) ?? 0;
    counts.set(snake, k + 1);
    const p = `${container}/${k === 0 ? snake : `${snake}_${k - 1 + second}`}`;
    writeVars(group(p), l.recurrent ? [] : l.vars, b.float32);
    if (l.recurrent) writeVars(group(`${p}/cell`), l.vars, b.float32);
  }
  // optimizer and metric variables are stored too and must be ignored
  writeVars(group('optimizer'), [{ shape: [], data: [3] }], true);
  writeVars(group('metrics/mean'), [{ shape: [], data: [1] }, { shape: [], data: [2] }], true);
  f.close();
  const zip = zipSync({
    'config.json': strToU8(JSON.stringify(o.config ?? b.config({ functional: o.functional, keras3Nodes: o.keras3Nodes }))),
    'metadata.json': strToU8(JSON.stringify({ keras_version: '2.13.1' })),
    'model.weights.h5': new Uint8Array(readFileSync(h5path)),
  });
  writeFileSync(path, zip);
  return path;
}

/** Legacy Keras 2 HDF5: model_config attribute, model_weights/<layer>/<weight name>. */
export async function writeKerasH5(path: string, b: KerasBuilder, o: { functional?: boolean; skipWeightsOf?: string; noConfig?: boolean } = {}): Promise<string> {
  await h5();
  const f = new h5wasm.File(path, 'w');
  if (!o.noConfig) f.create_attribute('model_config', JSON.stringify(b.config({ functional: o.functional })));
  f.create_attribute('keras_version', '2.13.1');
  f.create_attribute('backend', 'tensorflow');
  const mw = f.create_group('model_weights');
  mw.create_attribute('layer_names', b.layers.map((l) => l.name));
  for (const l of b.layers) {
    if (l.name === o.skipWeightsOf) continue;
    const g = mw.create_group(l.name);
    if (l.vars.length === 0) continue;
    const prefix = l.recurrent ? `${l.name}/${l.cellName}` : l.name;
    const names = l.vars.map((v) => `${prefix}/${v.name}:0`);
    g.create_attribute('weight_names', names);
    l.vars.forEach((v, i) => {
      const parts = names[i].split('/');
      ensureGroup(g, parts.slice(0, -1).join('/')).create_dataset({ name: parts[parts.length - 1], data: Float64Array.from(v.data), shape: v.shape });
    });
  }
  f.close();
  return path;
}

// ---------------------------------------------------------------------------------------------
// helpers

export function randomSeq(rng: Rng, steps: number, width: number, lo = -1, hi = 1): Vec[] {
  return Array.from({ length: steps }, () => Array.from({ length: width }, () => lo + (hi - lo) * rng.uniform()));
}

export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12));
  return e;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-10, what = ''): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

/** Imports and checks the model-space outputs against the builder's reference on a few sequences. */
export async function checkImport(path: string, b: KerasBuilder, kind: string, seed = 1): Promise<Awaited<ReturnType<typeof importKeras>>> {
  const m = await importKeras(path);
  assert.equal(m.model.spec.kind, kind);
  assert.equal(m.model.inputSize, b.width);
  assert.equal(m.inputScaler, null);
  const rng = new Rng(seed);
  for (const steps of [1, 4, 7]) {
    const x = randomSeq(rng, steps, b.width);
    const y = m.model.predictSequence(Float64Array.from(x.flat()), steps);
    const ref = b.forward(x);
    if (b.returnsSequences) assertClose(y, ref.flat(), 1e-10, `${kind} T=${steps}`);
    else assertClose(y.subarray((steps - 1) * m.model.outputSize), ref[ref.length - 1], 1e-10, `${kind} last step T=${steps}`);
  }
  return m;
}

export async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${(e as Error)?.stack ?? e}`);
    assert.equal((e as Error).message.split('\n').length, 1, 'one line');
    assert.match((e as Error).message, re);
    return true;
  });
}


/** Options of {@link writeKerasH5Legacy}. */
export interface LegacyH5Options {
  /** Root and model_weights `keras_version` (the reference files: 2.13.1 and 2.15.0). */
  kerasVersion?: string;
  /** Sequential (default unless the builder has an Add) or Functional with `inbound_nodes`. */
  functional?: boolean;
  /** Sequence length of the declared input (default 10). */
  steps?: number;
  /** Store `weight_names` as fixed-length strings instead of variable-length (object) strings. */
  fixedLengthNames?: boolean;
}

/**
 * Legacy Keras 2 HDF5 exactly as `model.save('x.h5')` (Keras 2.13 / 2.15, h5py) writes it:
 * - root attributes `backend`, `keras_version`, `model_config` (JSON), `training_config` (JSON);
 * - `/model_weights` attributes `backend`, `keras_version`, `layer_names` (every layer of
 *   `model.layers`: the InputLayer too for a Functional model, and weightless layers such as Add);
 * - one group per layer (created in sorted name order) with a `weight_names` attribute: a
 *   variable-length string array, or, for a layer without weights, h5py's `np.array([])`: an
 *   **empty float64 array of shape (0,)**; plus the extra group `top_level_model_weights` with
 *   the same empty float64 `weight_names`;
 * - each weight (float32) at `/model_weights/<layer>/<weight name>`, e.g.
 *   `/model_weights/rnn_4/rnn_4/my_iclstm_cell_4/Wi:0`;
 * - an `optimizer_weights` group (a compiled model), which the importer must ignore.
 */
export async function writeKerasH5Legacy(path: string, b: KerasBuilder, o: LegacyH5Options = {}): Promise<string> {
  await h5();
  const version = o.kerasVersion ?? '2.13.1';
  const steps = o.steps ?? 10;
  const functional = o.functional ?? b.layers.some((l) => l.className === 'Add');
  const cfg = b.config({ functional, steps }) as { class_name: string; config: Record<string, unknown> };
  const modelConfig = { ...cfg, keras_version: version, backend: 'tensorflow' };
  const trainingConfig = { loss: 'mse', metrics: null, weighted_metrics: null, loss_weights: null, optimizer_config: { class_name: 'Custom>Adam', config: { name: 'Adam', learning_rate: 0.001 } } };
  const f = new h5wasm.File(path, 'w');
  const emptyNames = (g: H5Group) => g.create_attribute('weight_names', new Float64Array(0), [0], '<d');
  const names = (g: H5Group, list: string[]) => {
    if (o.fixedLengthNames) {
      const len = Math.max(...list.map((x) => x.length));
      g.create_attribute('weight_names', list, [list.length], `S${len}`);
    } else g.create_attribute('weight_names', list);
  };
  try {
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', version);
    f.create_attribute('model_config', JSON.stringify(modelConfig));
    f.create_attribute('training_config', JSON.stringify(trainingConfig));
    const mw = f.create_group('model_weights');
    mw.create_attribute('backend', 'tensorflow');
    mw.create_attribute('keras_version', version);
    const all = [...(functional ? [{ name: b.inputName, vars: [] as (W & { name: string })[], recurrent: false, cellName: undefined as string | undefined }] : []), ...b.layers];
    mw.create_attribute('layer_names', all.map((l) => l.name));
    for (const l of [...all].sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const g = mw.create_group(l.name);
      if (l.vars.length === 0) {
        emptyNames(g);
        continue;
      }
      const suffix = /_(\d+)$/.exec(l.name)?.[1];
      const cell = l.cellName && suffix && !/_\d+$/.test(l.cellName) ? `${l.cellName}_${suffix}` : l.cellName;
      const prefix = l.recurrent ? `${l.name}/${cell}` : l.name;
      const list = l.vars.map((v) => `${prefix}/${v.name}:0`);
      names(g, list);
      l.vars.forEach((v, i) => {
        const parts = list[i].split('/');
        ensureGroup(g, parts.slice(0, -1).join('/')).create_dataset({ name: parts[parts.length - 1], data: Float32Array.from(v.data), shape: v.shape });
      });
    }
    emptyNames(mw.create_group('top_level_model_weights'));
    const ow = f.create_group('optimizer_weights');
    ow.create_attribute('weight_names', ['Adam/iter:0']);
    ensureGroup(ow, 'Adam').create_dataset({ name: 'iter:0', data: new BigInt64Array([100n]), shape: [] });
  } finally {
    f.close();
  }
  return path;
}
