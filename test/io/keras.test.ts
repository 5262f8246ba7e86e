import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import h5wasm from 'h5wasm/node';
import { Rng } from '../../src/core/rng.ts';
import { DataError } from '../../src/io/errors.ts';
import { importKeras, kerasScalersToModel, kerasSnakeCase, parseKerasScalers, type KerasScalers } from '../../src/io/keras.ts';
import { loadModel, saveModel } from '../../src/io/model-file.ts';
import { predictPhysical } from '../../src/train/pipeline.ts';

const dir = mkdtempSync(join(tmpdir(), 'iclrnn-keras-test-'));
const fixturesDir = fileURLToPath(new URL('../../../shared/fixtures/keras/', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));

// ---------------------------------------------------------------------------------------------
// an independent, straightforward implementation of the Keras layers (REFERENCE.md section 3)

type Vec = number[];
type Act = 'linear' | 'relu' | 'tanh' | 'sigmoid';
interface W {
  shape: number[];
  data: number[];
}
const actf = (a: Act, v: number): number => (a === 'relu' ? Math.max(0, v) : a === 'tanh' ? Math.tanh(v) : a === 'sigmoid' ? 1 / (1 + Math.exp(-v)) : v);
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const relu = (v: number) => Math.max(0, v);
/** x [r] times W [r, c]. */
function vm(x: Vec, w: W): Vec {
  const [r, c] = w.shape;
  assert.equal(x.length, r);
  const y = new Array(c).fill(0);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) y[j] += x[i] * w.data[i * c + j];
  return y;
}
const plus = (...vs: Vec[]): Vec => vs[0].map((_, i) => vs.reduce((s, v) => s + v[i], 0));
const zeros = (n: number): Vec => new Array(n).fill(0);

interface GenLayer {
  name: string;
  className: string;
  config: Record<string, unknown>;
  /** Variables in Keras creation order. */
  vars: (W & { name: string })[];
  recurrent: boolean;
  cellName?: string;
  inputs: string[];
}

type Forward = (seq: Vec[], input: Vec[]) => Vec[];

/** Builds a Keras model description, its weights and the reference forward pass at once. */
class KerasBuilder {
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

  private name(snake: string): string {
    const k = this.counts.get(snake) ?? 0;
    this.counts.set(snake, k + 1);
    return k === 0 ? snake : `${snake}_${k}`;
  }

  private w(name: string, shape: number[], gen: () => number): W & { name: string } {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: n }, () => (this.float32 ? Math.fround(gen()) : gen()));
    return { name, shape, data };
  }
  private normal = (s: number) => () => s * this.rng.normal();
  private pos = (s: number) => () => s * this.rng.uniform();

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

  /** The reference MyICLSTMCell: Wi, Ui, then (DW, b) for i, f, o, c; one scaling per gate. */
  iclstm(units: number): this {
    const n = this.size, u = units;
    const Wx = this.w('Wi', [n, u], this.pos(0.5)), Uh = this.w('Ui', [u, u], this.pos(0.3));
    const gates = ['i', 'f', 'o', 'c'] as const;
    const D: Record<string, W & { name: string }> = {}, Bs: Record<string, W & { name: string }> = {};
    const vars = [Wx, Uh];
    for (const g of gates) {
      D[g] = this.w(`DW${g}`, [u], this.pos(1));
      Bs[g] = this.w(`b${g}`, [u], this.normal(0.2));
      vars.push(D[g], Bs[g]);
    }
    const name = this.name('rnn');
    this.size = u;
    return this.push(
      { name, className: 'RNN', config: this.rnnConfig(name, true, { cell: { class_name: 'MyICLSTMCell', config: { name: 'my_iclstm_cell', units: u } } }), vars, recurrent: true, cellName: 'my_iclstm_cell' },
      (seq) => {
        let h = zeros(u), c = zeros(u);
        return seq.map((x) => {
          const xw = vm(x, Wx), hu = vm(h, Uh);
          const gate = (g: string) => xw.map((_, j) => relu(D[g].data[j] * xw[j] + D[g].data[j] * hu[j] + Bs[g].data[j]));
          const i = gate('i'), f = gate('f'), o = gate('o'), cc = gate('c');
          c = c.map((cv, j) => f[j] * cv + i[j] * cc[j]);
          return (h = c.map((cv, j) => o[j] * relu(cv)));
        });
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
const h5 = async () => {
  h5Ready ??= h5wasm.ready.then((m) => m.activate_throwing_error_handler());
  await h5Ready;
};

type H5Group = InstanceType<typeof h5wasm.Group>;
function ensureGroup(root: H5Group, path: string): H5Group {
  let g = root;
  for (const part of path.split('/').filter(Boolean)) {
    const next = g.get(part);
    g = next instanceof h5wasm.Group ? next : g.create_group(part);
  }
  return g;
}

function writeVars(g: H5Group, vars: W[], float32: boolean): void {
  const v = g.create_group('vars');
  vars.forEach((w, i) => v.create_dataset({ name: String(i), data: float32 ? Float32Array.from(w.data) : Float64Array.from(w.data), shape: w.shape }));
}

interface V3Options {
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

async function writeKerasV3(path: string, b: KerasBuilder, o: V3Options = {}): Promise<string> {
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
async function writeKerasH5(path: string, b: KerasBuilder, o: { functional?: boolean; skipWeightsOf?: string; noConfig?: boolean } = {}): Promise<string> {
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

function randomSeq(rng: Rng, steps: number, width: number, lo = -1, hi = 1): Vec[] {
  return Array.from({ length: steps }, () => Array.from({ length: width }, () => lo + (hi - lo) * rng.uniform()));
}

function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12));
  return e;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-10, what = ''): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++)
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])), `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

/** Imports and checks the model-space outputs against the builder's reference on a few sequences. */
async function checkImport(path: string, b: KerasBuilder, kind: string, seed = 1): Promise<Awaited<ReturnType<typeof importKeras>>> {
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

async function rejects(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${(e as Error)?.stack ?? e}`);
    assert.match((e as Error).message, re);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// the reference fixtures

const fixtureNames = existsSync(fixturesDir) ? readdirSync(fixturesDir).filter((n) => existsSync(join(fixturesDir, n, 'model.keras'))).sort() : [];

function fixturesAvailable(): boolean {
  if (fixtureNames.length > 0) return true;
  if (process.env.CI === 'true') assert.fail(`Keras fixtures missing in ${fixturesDir}`);
  console.log(`# notice: Keras fixtures not found in ${fixturesDir}; fixture tests skipped`);
  return false;
}

async function readSampleU(file: string): Promise<{ x: Float64Array; steps: number; width: number }> {
  // The reference reads U with h5py (HDF5 orientation): steps x features.
  const { readMatVariable } = await import('../../src/io/mat.ts');
  const u = await readMatVariable(file, 'U', { orientation: 'hdf5' });
  return { x: Float64Array.from(u.data), steps: u.rows, width: u.cols };
}

test('reference fixtures: import + predict on sample.mat matches expected.json (1e-5 relative)', async (t) => {
  if (!fixturesAvailable()) return t.skip('fixtures missing');
  const kinds: Record<string, string> = { icrnn_energy: 'icrnn', lrnn_energy: 'lrnn', iclrnn_energy: 'iclrnn' };
  for (const name of fixtureNames) {
    const d = join(fixturesDir, name);
    const m = await importKeras(join(d, 'model.keras'), { scalers: join(d, 'scalers.json') });
    if (kinds[name]) assert.equal(m.model.spec.kind, kinds[name], name);
    assert.deepEqual(m.warnings, [], name);
    const { x, steps, width } = await readSampleU(join(d, 'sample.mat'));
    assert.equal(width, m.model.inputSize, name);
    const expected = (JSON.parse(readFileSync(join(d, 'expected.json'), 'utf8')).Y as number[][]).flat();
    const y = predictPhysical(m, x, 1, steps);
    const err = maxRelErr(y, expected);
    console.log(`# ${name}: kind ${m.model.spec.kind}, max relative error ${err.toExponential(2)}`);
    assert.ok(err < 1e-5, `${name}: max relative error ${err}`);
    // save -> load keeps the predictions bit for bit
    const file = join(dir, `${name}.json`);
    saveModel(file, m);
    const back = loadModel(file);
    assert.deepEqual(Array.from(predictPhysical(back, x, 1, steps)), Array.from(y), name);
    assert.equal((back.metadata.source as { format: string }).format, 'keras-v3');
    assert.equal((back.metadata.source as { layers: unknown[] }).layers.length, 3);
    // without scalers the model works in the Keras (scaled) space on the Keras input columns
    const raw = await importKeras(join(d, 'model.keras'));
    const s = parseKerasScalers(JSON.parse(readFileSync(join(d, 'scalers.json'), 'utf8')));
    assert.equal(raw.model.inputSize, s.x_min.length);
    assert.equal(raw.model.spec.augmentation, null);
    const n = width, W = s.x_min.length;
    const xs = new Float64Array(steps * W);
    for (let t2 = 0; t2 < steps; t2++)
      for (let j = 0; j < W; j++) {
        const v = j < n ? x[t2 * n + j] : -x[t2 * n + j - n];
        xs[t2 * W + j] = (v - s.x_min[j]) / (s.x_max[j] - s.x_min[j]);
      }
    const ys = raw.model.predictSequence(xs, steps).map((v, i) => v * (s.y_max[i % 2] - s.y_min[i % 2]) + s.y_min[i % 2]);
    assert.ok(maxRelErr(ys, expected) < 1e-5, `${name} (no scalers)`);
  }
});

test('reference fixture through the CLI: import --scalers, predict (JSON and sample.mat inputs), errors', async (t) => {
  if (!fixturesAvailable()) return t.skip('fixtures missing');
  // one fixture only: every CLI call is a fresh process (the library path covers all fixtures above)
  const name = fixtureNames.includes('icrnn_energy') ? 'icrnn_energy' : fixtureNames[0];
  const d = join(fixturesDir, name);
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const out = join(dir, `cli-${name}.json`);
  const r = cli('import', join(d, 'model.keras'), '--scalers', join(d, 'scalers.json'), '--out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.out, out);
  assert.equal(summary.format, 'keras-v3');
  assert.equal(summary.scaled, true);
  const expected = (JSON.parse(readFileSync(join(d, 'expected.json'), 'utf8')).Y as number[][]).flat();
  // JSON input: X = the sample as the reference reads it (steps x features)
  const { x, steps, width } = await readSampleU(join(d, 'sample.mat'));
  const xin = join(dir, `x-${name}.json`);
  writeFileSync(xin, JSON.stringify({ X: Array.from({ length: steps }, (_, k) => Array.from(x.subarray(k * width, (k + 1) * width))) }));
  const p = cli('predict', out, '--input', xin, '--json');
  assert.equal(p.status, 0, p.stderr);
  const errJson = maxRelErr((JSON.parse(p.stdout).Y as number[][]).flat(), expected);
  assert.ok(errJson < 1e-5, `${name}: ${errJson}`);
  // a file that is not a Keras model: one line, exit 2
  const bad = cli('import', join(d, 'scalers.json'), '--out', join(dir, 'bad.json'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /not a Keras model file/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  // .mat input (predict reads variable U with src/io/mat.ts)
  const m = cli('predict', out, '--input', join(d, 'sample.mat'), '--json');
  assert.equal(m.status, 0, m.stderr);
  assert.ok(maxRelErr((JSON.parse(m.stdout).Y as number[][]).flat(), expected) < 1e-5, `${name} (.mat input)`);
});

// ---------------------------------------------------------------------------------------------
// synthetic Keras files, checked against the reference equations

test('v3 Sequential SimpleRNN(tanh) x2 + Dense: rnn, Windows-style group names', async () => {
  const b = new KerasBuilder(3, 11).simpleRNN(4, 'tanh').simpleRNN(5, 'tanh').dense(2, 'linear');
  const m = await checkImport(await writeKerasV3(join(dir, 'rnn.keras'), b), b, 'rnn');
  assert.equal(m.format, 'keras-v3');
  assert.deepEqual(m.model.spec.cells.map((c) => [c.inputSize, c.units]), [[3, 4], [4, 5]]);
});

test('v3 LSTM + RNN(LSTMCell) + Dense: lstm, nested groups, Keras 3 container and numbering', async () => {
  const b = new KerasBuilder(2, 12).lstm(3).lstm(4, { wrap: true }).dense(3, 'linear');
  await checkImport(await writeKerasV3(join(dir, 'lstm.keras'), b, { style: 'posix', container: 'layers', secondSuffix: 1 }), b, 'lstm');
});

test('v3 three MyRNNCell layers of different sizes + Dense(relu): icrnn with NonNeg constraints recorded', async () => {
  const b = new KerasBuilder(4, 13).icrnn(5).icrnn(3).icrnn(6).dense(2, 'relu', { positive: true, constraint: { class_name: 'NonNeg', config: {} } });
  const m = await checkImport(await writeKerasV3(join(dir, 'icrnn.keras'), b), b, 'icrnn');
  assert.deepEqual(m.model.spec.cells[0].constraints?.D2, { type: 'nonNegative' });
  assert.deepEqual(m.model.spec.head[0].constraints, { kernel: { type: 'nonNegative' } });
});

test('v3 MyLRNNCell with non-default constants: lrnn', async () => {
  const c = { eps: 0.05, gamma: 0.02, beta: 0.7, alpha: 0.9 };
  const b = new KerasBuilder(3, 14).lrnn(6, c).lrnn(4, c).dense(2, 'linear');
  const m = await checkImport(await writeKerasV3(join(dir, 'lrnn.keras'), b), b, 'lrnn');
  const cell = m.model.spec.cells[0];
  assert.ok(cell.type === 'lipschitz' && cell.eps === 0.05 && cell.gamma === 0.02 && cell.beta === 0.7 && cell.alpha === 0.9);
});

test('v3 functional ICLSTM L-form (RNN x2, Dense + Add(input), Dense), Keras 3 node format: iclstm', async () => {
  const b = new KerasBuilder(4, 15).iclstm(5).iclstm(3).dense(4, 'relu', { positive: true }).addInput().dense(2, 'relu', { positive: true });
  const m = await checkImport(await writeKerasV3(join(dir, 'iclstm.keras'), b, { keras3Nodes: true, style: 'posix', container: 'layers', secondSuffix: 1 }), b, 'iclstm');
  assert.equal(m.model.spec.head[0].residual, true);
  assert.equal(m.model.spec.head[1].residual ?? false, false);
});

test('v3 mixed stack (relu SimpleRNN without bias, RNN(SimpleRNNCell), Dropout, Dense, Dense + Activation): custom', async () => {
  const b = new KerasBuilder(3, 16).simpleRNN(4, 'relu', { bias: false }).simpleRNN(3, 'tanh', { wrap: true }).dropout().dense(5, 'tanh').dense(2, 'linear').activation('sigmoid');
  const m = await checkImport(await writeKerasV3(join(dir, 'custom.keras'), b, { functional: true }), b, 'custom');
  assert.equal(m.model.spec.head[1].activation, 'sigmoid');
});

test('legacy .h5 Sequential: relu SimpleRNN x2 + Dense(relu) with SpectralConstraint -> iclrnn with spectral configs', async () => {
  const spectral = { class_name: 'SpectralConstraint', config: { k_coef_lip: 0.9, eps_spectral: 0.001, u: null } };
  const b = new KerasBuilder(4, 17, false).simpleRNN(5, 'relu', { constraint: spectral, positive: true }).simpleRNN(5, 'relu', { constraint: spectral, positive: true }).dense(2, 'relu', { constraint: spectral, positive: true });
  const m = await checkImport(await writeKerasH5(join(dir, 'iclrnn.h5'), b), b, 'iclrnn');
  assert.equal(m.format, 'keras-h5');
  const want = { type: 'spectral', k: 0.9, eps: 0.001, mode: 'reference', nonNegative: true, iterations: 10, tolerance: 1e-3 };
  assert.deepEqual(m.model.spec.cells[1].constraints, { kernel: want, recurrentKernel: want });
  assert.deepEqual(m.model.spec.head[0].constraints, { kernel: want });
  assert.equal((m.metadata.source as { format: string }).format, 'keras-h5');
});

test('legacy .h5 functional ICLSTM and LSTM', async () => {
  const b = new KerasBuilder(2, 18, false).iclstm(4).dense(2, 'relu', { positive: true }).addInput().dense(1, 'linear', { positive: true });
  await checkImport(await writeKerasH5(join(dir, 'iclstm.h5'), b, { functional: true }), b, 'iclstm');
  const l = new KerasBuilder(3, 19, false).lstm(4).dense(2, 'linear');
  await checkImport(await writeKerasH5(join(dir, 'lstm.h5'), l), l, 'lstm');
});

test('return_sequences=false on the last recurrent layer: imported with a warning, last step equals the Keras output', async () => {
  const b = new KerasBuilder(3, 20).simpleRNN(4, 'tanh').simpleRNN(3, 'tanh', { returnSequences: false }).dense(2, 'linear');
  const m = await checkImport(await writeKerasV3(join(dir, 'last.keras'), b), b, 'rnn');
  assert.ok(m.warnings.some((w) => /return_sequences=false/.test(w)));
  assert.equal((m.metadata.source as { returnSequences: boolean }).returnSequences, false);
  const c = new KerasBuilder(3, 21).simpleRNN(4, 'tanh', { returnSequences: false }).simpleRNN(3, 'tanh').dense(2, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'mid.keras'), c)), /'simple_rnn' returns only its last step/);
});

// ---------------------------------------------------------------------------------------------
// scalers

test('scalers with negate_input: plain inputs, augmentation offsets, physical predictions', async () => {
  const b = new KerasBuilder(4, 22).icrnn(5).dense(2, 'relu', { positive: true });
  const path = await writeKerasV3(join(dir, 'scaled.keras'), b);
  const xmin = [1, -2], xmax = [3, 6];
  const cases: [string, KerasScalers][] = [
    // the reference relation: columns n+j scaled over [-max_j, -min_j] -> offset 1
    ['reference', { x_min: [...xmin, -xmax[0], -xmax[1]], x_max: [...xmax, -xmin[0], -xmin[1]], y_min: [0, 10], y_max: [2, 30], negate_input: true }],
    // same ranges, other positions -> general offsets
    ['shifted', { x_min: [...xmin, -2, -7], x_max: [...xmax, 0, 1], y_min: [0, 10], y_max: [2, 30], negate_input: true }],
  ];
  for (const [label, s] of cases) {
    const m = await importKeras(path, { scalers: s });
    assert.equal(m.model.inputSize, 2, label);
    const off = m.model.spec.augmentation!.offset;
    if (label === 'reference') assert.deepEqual(off, [1, 1]);
    const rng = new Rng(23);
    const x = randomSeq(rng, 6, 2, -3, 7);
    const y = predictPhysical(m, Float64Array.from(x.flat()), 1, 6);
    const scaled = x.map((r) => [...r, ...r.map((v) => -v)].map((v, j) => (v - s.x_min[j]) / (s.x_max[j] - s.x_min[j])));
    const ref = b.forward(scaled).map((r) => r.map((v, j) => v * (s.y_max[j] - s.y_min[j]) + s.y_min[j]));
    assertClose(y, ref.flat(), 1e-10, label);
  }
  // without negate_input the scaler covers the Keras input columns one to one
  const plain = await importKeras(path, { scalers: { x_min: [0, 0, 0, 0], x_max: [1, 2, 3, 4], y_min: [0, 0], y_max: [1, 1], negate_input: false } });
  assert.equal(plain.model.inputSize, 4);
  assert.equal(plain.model.spec.augmentation, null);
});

test('scalers that cannot be expressed are rejected clearly', async () => {
  const b = new KerasBuilder(4, 24).icrnn(3).dense(2, 'relu');
  const path = await writeKerasV3(join(dir, 'badscale.keras'), b);
  const base = { y_min: [0, 0], y_max: [1, 1], negate_input: true };
  await rejects(importKeras(path, { scalers: { ...base, x_min: [0, 0, -2, -1], x_max: [1, 1, 0, 0] } }), /ranges differ/);
  await rejects(importKeras(path, { scalers: { ...base, x_min: [0, 0], x_max: [1, 1] } }), /x_min\/x_max have 2 entries but the Keras model takes 4 input columns/);
  await rejects(importKeras(path, { scalers: { ...base, x_min: [0, 0, -1, -1], x_max: [1, 1, 0, 0], y_min: [0], y_max: [1] } }), /predicts 2 outputs/);
  assert.throws(() => parseKerasScalers({ x_min: [0], x_max: [1], y_min: [0], y_max: ['a'] }, 's.json'), /s\.json: field 'y_max'/);
  assert.throws(() => kerasScalersToModel({ x_min: [0, 0, 0], x_max: [1, 1, 1], y_min: [0], y_max: [1], negate_input: true }, 3, 1), /odd number/);
  const sf = join(dir, 'scalers.json');
  writeFileSync(sf, '{not json');
  await rejects(importKeras(path, { scalers: sf }), /scalers\.json: not valid JSON/);
});

// ---------------------------------------------------------------------------------------------
// errors

test('errors: not a zip, zip without config.json, weights-only h5', async () => {
  const txt = join(dir, 'notes.keras');
  writeFileSync(txt, 'just some text');
  await rejects(importKeras(txt), /not a Keras model file/);
  await rejects(importKeras(join(dir, 'missing.keras')), /file not found/);
  const z = join(dir, 'noconfig.keras');
  writeFileSync(z, zipSync({ 'metadata.json': strToU8('{}'), 'model.weights.h5': new Uint8Array(8) }));
  await rejects(importKeras(z), /no config\.json/);
  const zb = join(dir, 'badconfig.keras');
  writeFileSync(zb, zipSync({ 'config.json': strToU8('{oops') }));
  await rejects(importKeras(zb), /config\.json is not valid JSON/);
  const b = new KerasBuilder(2, 25).simpleRNN(3, 'tanh').dense(1, 'linear');
  await rejects(importKeras(await writeKerasH5(join(dir, 'weights-only.h5'), b, { noConfig: true })), /model_config/);
  const trunc = join(dir, 'trunc.keras');
  writeFileSync(trunc, readFileSync(await writeKerasV3(join(dir, 'full.keras'), b)).subarray(0, 200));
  await rejects(importKeras(trunc), /zip|config\.json/);
});

test('errors: unsupported layer classes name the layer and class', async () => {
  const b = new KerasBuilder(2, 26).simpleRNN(3, 'tanh').other('Conv1D', [{ shape: [3, 3], data: new Array(9).fill(0) }]).dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'conv.keras'), b)), /layer 'conv1d' has the unsupported class 'Conv1D'/);
  const g = new KerasBuilder(2, 27).other('GRU').dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'gru.keras'), g)), /unsupported class 'GRU'/);
  // an unknown custom cell inside RNN
  const c = new KerasBuilder(2, 28).simpleRNN(3, 'tanh', { wrap: true }).dense(1, 'linear');
  const cfg = c.config() as { config: { layers: { config: { cell: { class_name: string } } }[] } };
  cfg.config.layers[1].config.cell.class_name = 'MyGRUCell';
  await rejects(importKeras(await writeKerasV3(join(dir, 'cell.keras'), c, { config: cfg })), /unsupported recurrent cell class 'MyGRUCell'/);
  // SimpleRNN with an activation iclrnn does not have
  const s = new KerasBuilder(2, 29).simpleRNN(3, 'tanh').dense(1, 'linear');
  (s.layers[0].config as { activation: string }).activation = 'elu';
  await rejects(importKeras(await writeKerasV3(join(dir, 'elu.keras'), s)), /activation "elu"/);
});

test('errors: weights shape mismatch, wrong count, missing weights group', async () => {
  const b = new KerasBuilder(3, 30).icrnn(4).dense(2, 'relu');
  const shape = await writeKerasV3(join(dir, 'shape.keras'), b, { tamper: (ls) => (ls[0].vars[2] = { name: 'D1', shape: [4, 3], data: new Array(12).fill(0.1) }) });
  await rejects(importKeras(shape), /layer 'rnn' \(RNN\(MyRNNCell\)\): weight 2 \(D1.*has shape \[4, 3\], expected \[4, 4\]/);
  const count = await writeKerasV3(join(dir, 'count.keras'), b, { tamper: (ls) => ls[1].vars.pop() });
  await rejects(importKeras(count), /layer 'dense' \(Dense\) has 1 weight arrays, expected 2/);
  const missing = await writeKerasV3(join(dir, 'missing-group.keras'), b, { tamper: (ls) => ls.splice(1, 1) });
  await rejects(importKeras(missing), /weights of layer 'dense' \(Dense\) not found/);
  const legacy = await writeKerasH5(join(dir, 'missing-group.h5'), b, { skipWeightsOf: 'rnn' });
  await rejects(importKeras(legacy), /weights of layer 'rnn' \(RNN\) not found: no group 'model_weights\/rnn'/);
  // the declared input width must match the stored kernels
  const cfg = b.config() as { config: { layers: { config: { batch_input_shape: (number | null)[] } }[] } };
  cfg.config.layers[0].config.batch_input_shape = [null, 5, 7];
  await rejects(importKeras(await writeKerasV3(join(dir, 'width.keras'), b, { config: cfg })), /has shape \[3, 4\], expected \[7, 4\]/);
});

test('errors: graphs iclrnn cannot express', async () => {
  const between = new KerasBuilder(3, 31).simpleRNN(4, 'tanh').dense(4, 'relu').simpleRNN(3, 'tanh').dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'between.keras'), between)), /layer 'simple_rnn_1' \(SimpleRNN\) follows a Dense\/Add layer/);
  const interleaved = new KerasBuilder(4, 32).iclstm(3).dense(4, 'relu').addInput().iclstm(3).dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'interleaved.keras'), interleaved)), /follows a Dense\/Add layer/);
  const addRnn = new KerasBuilder(3, 33).simpleRNN(3, 'tanh').addInput().dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'addrnn.keras'), addRnn)), /add the model input only right after a Dense/);
  // Add of two inner tensors
  const two = new KerasBuilder(3, 34).simpleRNN(3, 'tanh').dense(3, 'relu').addInput();
  two.layers[2].inputs = ['simple_rnn', 'dense'];
  await rejects(importKeras(await writeKerasV3(join(dir, 'addtwo.keras'), two)), /adds \[simple_rnn, dense\]/);
  const denseFirst = new KerasBuilder(3, 35).dense(3, 'relu').simpleRNN(3, 'tanh');
  await rejects(importKeras(await writeKerasV3(join(dir, 'densefirst.keras'), denseFirst)), /comes before any recurrent layer/);
  const sub = join(dir, 'subclassed.keras');
  writeFileSync(sub, zipSync({ 'config.json': strToU8(JSON.stringify({ class_name: 'MyModel', config: {} })) }));
  await rejects(importKeras(sub), /model class 'MyModel' is not supported/);
});
