/**
 * Legacy Keras 2 `.h5` files as `model.save('x.h5')` writes them (the four MPC models of the
 * IC-LSTM reference: a Functional multi-block ICLSTM, a Sequential ICRNN, LSTM and SimpleRNN), the
 * multi-block ICLSTM graph, and the one-line errors for what cannot be mapped.
 *
 * Before the fix, importing these files failed exactly as the real files did:
 * `weight 'model_weights/top_level_model_weights/' listed in weight_names is missing` (ICRNN, LSTM,
 * RNN) and `weight 'model_weights/add_4/' listed in weight_names is missing` (ICLSTM).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { Rng } from '../../src/core/rng.ts';
import { ModelFileError } from '../../src/io/errors.ts';
import { importKeras } from '../../src/io/keras.ts';
import { loadModel, saveModel } from '../../src/io/model-file.ts';
import { h5, KerasBuilder, randomSeq, writeKerasH5Legacy } from './keras-builder.ts';

const dir = mkdtempSync(join(tmpdir(), 'iclrnn-keras-h5-test-'));
const NonNeg = { class_name: 'NonNeg', config: {} };

function named(width: number, seed: number, scale = 1 / 8): KerasBuilder {
  const b = new KerasBuilder(width, seed, true, 'input_5');
  b.suffixBase = 4; // names as in the reference files: rnn_4, dense_6, add_4, ...
  b.weightScale = scale;
  return b;
}

/** The published multi-block ICLSTM: (RNN(MyICLSTMCell 64) -> Dense(8, relu, NonNeg) -> Add(input)) x 2 -> Dense(2, linear, NonNeg). */
function multiBlockIclstm(seed = 1): KerasBuilder {
  return named(8, seed)
    .iclstm(64, { separate: true })
    .dense(8, 'relu', { positive: true, constraint: NonNeg })
    .addInput()
    .iclstm(64, { separate: true })
    .dense(8, 'relu', { positive: true, constraint: NonNeg })
    .addInput()
    .dense(2, 'linear', { positive: true, constraint: NonNeg });
}

const models = () =>
  [
    { name: 'iclstm', kind: 'iclstm', version: '2.15.0', b: multiBlockIclstm() },
    { name: 'icrnn', kind: 'icrnn', version: '2.13.1', b: named(8, 2).icrnn(64).icrnn(64).dense(2, 'relu', { positive: true, constraint: NonNeg }) },
    { name: 'lstm', kind: 'lstm', version: '2.13.1', b: named(4, 3, 0.5).lstm(64).lstm(64).dense(2, 'linear') },
    { name: 'rnn', kind: 'rnn', version: '2.15.0', b: named(4, 4, 0.5).simpleRNN(64, 'tanh').simpleRNN(64, 'tanh').dense(2, 'linear') },
  ] as const;

/** Largest relative difference, each entry against max(|expected|, 1e-3 * largest |expected|). */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let e = 0;
  for (let i = 0; i < actual.length; i++) e = Math.max(e, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1e-3 * scale, 1e-300));
  return e;
}

test('the written files hold every fact of real Keras 2 legacy files', async () => {
  await h5();
  const ic = await writeKerasH5Legacy(join(dir, 'facts-iclstm.h5'), multiBlockIclstm(), { kerasVersion: '2.15.0' });
  const seq = await writeKerasH5Legacy(join(dir, 'facts-lstm.h5'), named(4, 3).lstm(64).lstm(64).dense(2, 'linear'), { kerasVersion: '2.13.1' });
  const f = new h5wasm.File(ic, 'r');
  try {
    assert.equal(f.attrs.keras_version.value, '2.15.0');
    assert.equal(f.attrs.backend.value, 'tensorflow');
    assert.ok(typeof f.attrs.training_config.value === 'string');
    const cfg = JSON.parse(f.attrs.model_config.value as string);
    assert.equal(cfg.class_name, 'Functional');
    const layers = cfg.config.layers as { class_name: string; name: string; inbound_nodes: unknown[]; config: Record<string, unknown> }[];
    assert.deepEqual(layers.map((l) => l.class_name), ['InputLayer', 'RNN', 'Dense', 'Add', 'RNN', 'Dense', 'Add', 'Dense']);
    assert.deepEqual(layers[0].config.batch_input_shape, [null, 10, 8]);
    assert.equal((layers[1].config.cell as { class_name: string }).class_name, 'MyICLSTMCell');
    assert.equal(layers[1].config.return_sequences, true);
    assert.deepEqual(layers[3].inbound_nodes, [[['dense_4', 0, 0, {}], ['input_5', 0, 0, {}]]]);
    const mw = f.get('model_weights') as InstanceType<typeof h5wasm.Group>;
    assert.equal(mw.attrs.keras_version.value, '2.15.0');
    assert.equal(mw.attrs.backend.value, 'tensorflow');
    assert.deepEqual(mw.attrs.layer_names.value, ['input_5', 'rnn_4', 'dense_4', 'add_4', 'rnn_5', 'dense_5', 'add_5', 'dense_6']);
    for (const g of ['input_5', 'add_4', 'add_5', 'top_level_model_weights']) {
      const a = (mw.get(g) as InstanceType<typeof h5wasm.Group>).attrs.weight_names;
      assert.equal(a.metadata.type, 1, `${g}: float class`);
      assert.equal(a.metadata.size, 8, `${g}: float64`);
      assert.deepEqual(a.metadata.shape, [0], `${g}: shape (0,)`);
    }
    const rnn = (mw.get('rnn_4') as InstanceType<typeof h5wasm.Group>).attrs.weight_names;
    assert.equal(rnn.metadata.vlen, true);
    const order = ['Wi', 'Ui', 'DWi', 'DUi', 'bi', 'DWf', 'DUf', 'bf', 'DWo', 'DUo', 'bo', 'DWc', 'DUc', 'bc'];
    assert.deepEqual(rnn.value, order.map((w) => `rnn_4/my_iclstm_cell_4/${w}:0`));
    assert.ok(f.get('model_weights/rnn_4/rnn_4/my_iclstm_cell_4/Wi:0') instanceof h5wasm.Dataset);
    assert.deepEqual((mw.get('dense_6') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.value, ['dense_6/kernel:0', 'dense_6/bias:0']);
  } finally {
    f.close();
  }
  const g = new h5wasm.File(seq, 'r');
  try {
    assert.equal(JSON.parse(g.attrs.model_config.value as string).class_name, 'Sequential');
    const mw = g.get('model_weights') as InstanceType<typeof h5wasm.Group>;
    assert.deepEqual(mw.attrs.layer_names.value, ['lstm_4', 'lstm_5', 'dense_4']);
    assert.deepEqual((mw.get('lstm_4') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.value, ['lstm_4/lstm_cell_4/kernel:0', 'lstm_4/lstm_cell_4/recurrent_kernel:0', 'lstm_4/lstm_cell_4/bias:0']);
    assert.deepEqual((mw.get('top_level_model_weights') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.metadata.shape, [0]);
  } finally {
    g.close();
  }
  const icrnn = await writeKerasH5Legacy(join(dir, 'facts-icrnn.h5'), named(8, 2).icrnn(64).icrnn(64).dense(2, 'relu'));
  const h = new h5wasm.File(icrnn, 'r');
  try {
    assert.equal(((h.get('model_weights/rnn_4') as InstanceType<typeof h5wasm.Group>).attrs.weight_names.value as string[]).length, 6);
  } finally {
    h.close();
  }
});

test('the four reference MPC models (legacy .h5) import and predict as the equations say (1e-10 relative)', async () => {
  const rng = new Rng(7);
  for (const { name, kind, version, b } of models()) {
    const path = await writeKerasH5Legacy(join(dir, `${name}.h5`), b, { kerasVersion: version });
    const m = await importKeras(path);
    assert.equal(m.format, 'keras-h5', name);
    assert.equal(m.model.spec.kind, kind, name);
    assert.deepEqual(m.warnings, [], name);
    assert.equal(m.model.inputSize, b.width, name);
    assert.equal((m.metadata.source as { kerasVersion: string }).kerasVersion, version);
    let worst = 0;
    for (const steps of [10, 3]) {
      const x = randomSeq(rng, steps, b.width, 0, 1);
      const y = m.model.predictSequence(Float64Array.from(x.flat()), steps);
      worst = Math.max(worst, relErr(y, b.forward(x).flat()));
    }
    console.log(`# ${name} (${kind}, Keras ${version}): max relative error ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-10, `${name}: ${worst}`);
  }
});

test('the multi-block ICLSTM: structure, plain inputs, save/load (model file version 2)', async () => {
  const b = multiBlockIclstm(11);
  const path = await writeKerasH5Legacy(join(dir, 'blocks.h5'), b, { fixedLengthNames: true });
  const m = await importKeras(path);
  const spec = m.model.spec;
  assert.equal(spec.kind, 'iclstm');
  assert.deepEqual(spec.layout, ['cells.0', 'head.0', 'cells.1', 'head.1', 'head.2']);
  assert.deepEqual(spec.head.map((h) => [h.units, h.activation, !!h.residual]), [[8, 'relu', true], [8, 'relu', true], [2, 'linear', false]]);
  assert.deepEqual(spec.head.map((h) => h.constraints?.kernel), [{ type: 'nonNegative' }, { type: 'nonNegative' }, { type: 'nonNegative' }]);
  assert.ok(m.model.interleaved);
  // the separate gate scalings of the 14-weight cell land in kernelScale and recurrentScale
  const cell = m.model.cells[0] as unknown as { kernelScale: { value: Float64Array }; recurrentScale: { value: Float64Array } };
  assert.notDeepEqual(Array.from(cell.kernelScale.value), Array.from(cell.recurrentScale.value));
  // plain inputs: the model builds [s, 1 - s] itself (the reference's scaled [x, -x])
  const p = await importKeras(path, { plainInputs: true });
  assert.equal(p.model.inputSize, 4);
  assert.deepEqual(p.model.spec.augmentation, { offset: [1, 1, 1, 1] });
  const rng = new Rng(12);
  const s = randomSeq(rng, 10, 4, 0, 1);
  const aug = s.map((r) => [...r, ...r.map((v) => 1 - v)]);
  const want = b.forward(aug).flat();
  assert.ok(relErr(p.model.predictSequence(Float64Array.from(s.flat()), 10), want) <= 1e-10);
  assert.ok(relErr(m.model.predictSequence(Float64Array.from(aug.flat()), 10), want) <= 1e-10);
  // save -> load: a version-2 file (it has a layout) that predicts bit for bit the same
  const file = join(dir, 'blocks.json');
  saveModel(file, p);
  const { readFileSync } = await import('node:fs');
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 2);
  const back = loadModel(file);
  assert.deepEqual(back.model.spec.layout, spec.layout);
  const x = Float64Array.from(s.flat());
  assert.deepEqual(Array.from(back.model.predictSequence(x, 10)), Array.from(p.model.predictSequence(x, 10)));
});

async function refuses(b: KerasBuilder, file: string, re: RegExp, tamper?: (b: KerasBuilder) => void): Promise<void> {
  tamper?.(b);
  const path = await writeKerasH5Legacy(join(dir, file), b);
  await assert.rejects(importKeras(path), (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected a ModelFileError, got ${(e as Error)?.stack ?? e}`);
    assert.equal((e as Error).message.split('\n').length, 1, 'one line');
    assert.match((e as Error).message, re);
    return true;
  });
}

test('what cannot be mapped: one line naming the layer, its class and what is missing', async () => {
  await refuses(named(4, 20).lstm(8).other('Lambda').dense(2, 'linear'), 'lambda.h5', /layer 'lambda_4' has the unsupported class 'Lambda' \(a Lambda layer holds Python code/);
  await refuses(named(4, 21).lstm(8).other('Conv1D').dense(2, 'linear'), 'conv.h5', /layer 'conv1d_4' has the unsupported class 'Conv1D' \(supported: /);
  await refuses(named(4, 22).simpleRNN(8, 'tanh', { wrap: true }).dense(2, 'linear'), 'cell.h5', /layer 'rnn_4' uses the unsupported recurrent cell class 'MyGRUCell'/, (b) => {
    (b.layers[0].config.cell as { class_name: string }).class_name = 'MyGRUCell';
  });
  await refuses(named(4, 23).lstm(8).dense(2, 'linear'), 'act.h5', /layer 'dense_4' \(Dense\) uses activation "swish"; supported: linear, relu, tanh, sigmoid/, (b) => {
    (b.layers[1].config as { activation: unknown }).activation = 'swish';
  });
  await refuses(named(4, 24).lstm(8).dense(2, 'linear'), 'custom-act.h5', /layer 'dense_4' \(Dense\) uses activation \{"class_name":"MyAct"/, (b) => {
    (b.layers[1].config as { activation: unknown }).activation = { class_name: 'MyAct', config: {} };
  });
  await refuses(multiBlockIclstm(25), 'shape.h5', /layer 'rnn_5' \(RNN\(MyICLSTMCell\)\): weight 3 \(DUi.*has shape \[63\], expected \[64\]/, (b) => {
    b.layers[3].vars[3] = { name: 'DUi', shape: [63], data: new Array(63).fill(0.5) };
  });
  await refuses(multiBlockIclstm(26), 'count.h5', /layer 'rnn_4' \(RNN\(MyICLSTMCell\)\) has 13 weight arrays, expected 14/, (b) => {
    b.layers[0].vars.pop();
  });
  // an Add of the model input to a Dense output of another width
  const wrong = named(8, 27).iclstm(8, { separate: true }).dense(6, 'relu').addInput().dense(2, 'linear');
  await refuses(wrong, 'add-shape.h5', /layer 'add_4' \(Add\): adds the model input \(8 columns\) to a Dense output of 6 units/);
});
