import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';
import { Rng } from '../../src/core/rng.ts';
import { importKeras, kerasScalersToModel, kerasSnakeCase, parseKerasScalers, type KerasScalers } from '../../src/io/keras.ts';
import { loadModel, saveModel } from '../../src/io/model-file.ts';
import { predictPhysical } from '../../src/train/pipeline.ts';
import { assertClose, checkImport, KerasBuilder, maxRelErr, randomSeq, rejects, writeKerasH5, writeKerasV3 } from './keras-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'iclrnn-keras-test-'));
const fixturesDir = fileURLToPath(new URL('../../../shared/fixtures/keras/', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));

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

test('v3 and h5 GRU + RNN(GRUCell) + Dense: gru, mapped through the cell registry, predicts as the Keras equations', async () => {
  const b = new KerasBuilder(3, 31).gru(4).gru(5, { wrap: true }).dense(2, 'linear');
  const m = await checkImport(await writeKerasV3(join(dir, 'gru.keras'), b), b, 'gru');
  assert.deepEqual(m.model.spec.cells.map((c) => [c.type, c.inputSize, c.units]), [['gru', 3, 4], ['gru', 4, 5]]);
  // the legacy .h5 layout too
  await checkImport(await writeKerasH5(join(dir, 'gru.h5'), b), b, 'gru');
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
  const g = new KerasBuilder(2, 27).other('ConvLSTM1D').dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'convlstm.keras'), g)), /unsupported class 'ConvLSTM1D'/);
  // a GRU of the Keras 1 / TF1 form (reset_after=false) is named, not mis-imported
  const g1 = new KerasBuilder(2, 30).gru(3, { resetAfter: false }).dense(1, 'linear');
  await rejects(importKeras(await writeKerasV3(join(dir, 'gru-v1.keras'), g1)), /layer 'gru' \(GRU\): reset_after=false .* not supported/);
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

test('dense layers between recurrent layers (layer graphs) import and predict exactly', async () => {
  const between = new KerasBuilder(3, 31).simpleRNN(4, 'tanh').dense(4, 'relu').simpleRNN(3, 'tanh').dense(1, 'linear');
  const m = await checkImport(await writeKerasV3(join(dir, 'between.keras'), between), between, 'custom');
  assert.deepEqual(m.model.spec.layout, ['cells.0', 'head.0', 'cells.1', 'head.1']);
  const interleaved = new KerasBuilder(4, 32).iclstm(3).dense(4, 'relu').addInput().iclstm(3).dense(1, 'linear');
  await checkImport(await writeKerasV3(join(dir, 'interleaved.keras'), interleaved), interleaved, 'custom');
});

test('errors: graphs iclrnn cannot express', async () => {
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

test('v3 .keras multi-block ICLSTM (14-weight cells, Dense + Add(input) between RNNs), both node formats', async () => {
  for (const k3 of [false, true]) {
    const b = new KerasBuilder(8, 40);
    b.weightScale = 1 / 8;
    b.iclstm(16, { separate: true }).dense(8, 'relu', { positive: true }).addInput().iclstm(16, { separate: true }).dense(8, 'relu', { positive: true }).addInput().dense(2, 'linear', { positive: true });
    const o = k3 ? { keras3Nodes: true, style: 'posix' as const, container: 'layers', secondSuffix: 1 as const } : {};
    const m = await checkImport(await writeKerasV3(join(dir, `blocks-${k3}.keras`), b, o), b, 'iclstm');
    assert.deepEqual(m.model.spec.layout, ['cells.0', 'head.0', 'cells.1', 'head.1', 'head.2']);
  }
});
