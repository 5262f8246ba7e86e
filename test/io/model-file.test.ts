import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, MODEL_KINDS } from '../../src/nn/models.ts';
import { saveModel, loadModel } from '../../src/io/model-file.ts';
import { DataError } from '../../src/io/errors.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import { Rng } from '../../src/core/rng.ts';

const dir = mkdtempSync(join(tmpdir(), 'iclrnn-model-'));

test('save -> load round-trips every model kind exactly (weights, outputs, scalers, constraint state)', () => {
  for (const kind of MODEL_KINDS) {
    const model = buildModel(kind, { inputSize: 3, outputSize: 2, hidden: 5, layers: 2, seed: 9 });
    const rng = new Rng(4);
    for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] += 1e-3 * rng.normal() / 3;
    const inputScaler = new MinMaxScaler({ min: [0, -1, 2], max: [1, 1, 5.5] });
    const outputScaler = new MinMaxScaler({ min: [-3, 0.1], max: [3, 0.7] });
    const path = join(dir, `${kind}.json`);
    saveModel(path, { model, inputScaler, outputScaler, metadata: { system: 'cstr', seed: 9, metrics: { testMse: 0.1 } } });
    const back = loadModel(path);
    assert.deepEqual(back.model.spec, model.spec);
    model.namedParameters().forEach(({ path: p, param }, i) => {
      assert.deepEqual(Array.from(back.model.namedParameters()[i].param.value), Array.from(param.value), p);
      assert.deepEqual(back.model.namedParameters()[i].param.constraint?.state() ?? null, param.constraint?.state() ?? null);
    });
    const x = new Float64Array(2 * 4 * 3).map(() => rng.uniform());
    assert.deepEqual(Array.from(back.model.forward(x, 2, 4)), Array.from(model.forward(x, 2, 4)));
    assert.deepEqual(back.inputScaler!.config(), inputScaler.config());
    assert.deepEqual(back.metadata, { system: 'cstr', seed: 9, metrics: { testMse: 0.1 } });
  }
  // atomic write leaves no temp files behind
  assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')));
});

test('loading a bad model file names the problem', () => {
  const model = buildModel('iclrnn', { inputSize: 2, outputSize: 1, hidden: 3, layers: 1 });
  const path = join(dir, 'good.json');
  saveModel(path, { model, inputScaler: null, outputScaler: null, metadata: {} });
  const good = JSON.parse(readFileSync(path, 'utf8'));
  const variants: [string, (j: any) => void, RegExp][] = [
    ['version', (j) => (j.version = 99), /field 'version' is 99/],
    ['format', (j) => (j.format = 'keras'), /field 'format'/],
    ['missing weights', (j) => delete j.weights, /field 'weights' is missing/],
    ['missing one weight', (j) => delete j.weights['cells.0.kernel'], /weights\.cells\.0\.kernel' is missing/],
    ['wrong shape', (j) => (j.weights['cells.0.recurrentKernel'].shape = [3, 4]), /cells\.0\.recurrentKernel\.shape' is \[3,4\], expected \[3, 3\]/],
    ['NaN weight', (j) => (j.weights['head.0.bias'].data[0] = 'x'), /head\.0\.bias\.data\[0\]' is "x"/],
    ['bad spec', (j) => (j.spec.cells[0].inputSize = 7), /field 'spec' is invalid: .*cells\[0\]\.inputSize is 7/],
    ['extra weight', (j) => (j.weights['cells.5.kernel'] = { shape: [1, 1], data: [0] }), /cells\.5\.kernel' does not belong/],
    ['bad scaler', (j) => (j.scalers.input = { min: [0], max: [1, 2] }), /scalers\.input\.min' must be an array of 2 finite numbers/],
  ];
  for (const [name, mutate, re] of variants) {
    const j = structuredClone(good);
    mutate(j);
    const p = join(dir, `bad-${name.replace(/ /g, '-')}.json`);
    writeFileSync(p, JSON.stringify(j));
    assert.throws(() => loadModel(p), (e: unknown) => e instanceof DataError && re.test((e as Error).message) && (e as Error).message.includes(p), name);
  }
  writeFileSync(join(dir, 'trunc.json'), readFileSync(path, 'utf8').slice(0, 50));
  assert.throws(() => loadModel(join(dir, 'trunc.json')), /not valid JSON/);
  assert.throws(() => loadModel(join(dir, 'nope.json')), /model file not found/);
});

test('issue 9 item 11: hand-edited model files are validated (kind, activations, constraint state, scalers)', () => {
  const model = buildModel('iclrnn', { inputSize: 2, outputSize: 1, hidden: 3, layers: 1 });
  const path = join(dir, 'edited-good.json');
  saveModel(path, { model, inputScaler: new MinMaxScaler({ min: [0, 0], max: [1, 2] }), outputScaler: new MinMaxScaler({ min: [0], max: [1] }), metadata: { training: { epochs: 1 } } });
  const good = JSON.parse(readFileSync(path, 'utf8'));
  assert.doesNotThrow(() => loadModel(path));
  const variants: [string, (j: any) => void, RegExp][] = [
    ['unknown kind', (j) => (j.spec.kind = 'transformer'), /field 'spec\.kind' is "transformer"; expected one of rnn, lstm, lrnn, icrnn, iclstm, iclrnn, gru, custom/],
    ['sigmoid head in an iclrnn', (j) => (j.spec.head[0].activation = 'sigmoid'), /spec\.head\[0\]\.activation' is 'sigmoid', but an iclrnn \(input-convex\)/],
    ['unknown activation', (j) => (j.spec.head[0].activation = 'swish'), /spec\.head\[0\]\.activation' is "swish"/],
    ['cell of another family', (j) => (j.spec.cells[0].activation = 'tanh'), /spec\.cells\[0\]' is a simple \(tanh\) layer, but an iclrnn is made of simple \(relu\) layers/],
    ['no augmentation', (j) => (j.spec.augmentation = null), /spec\.augmentation' is missing/],
    ['empty constraint state of a trained model', (j) => (j.constraintState = {}), /constraintState\.cells\.0\.kernel' is missing/],
    ['no constraint state', (j) => delete j.constraintState, /field 'constraintState' must be an object/],
    ['short constraint state', (j) => j.constraintState['cells.0.kernel'].pop(), /constraintState\.cells\.0\.kernel' holds \d+ numbers, expected \d+/],
    ['foreign constraint state', (j) => (j.constraintState['cells.7.kernel'] = [1]), /constraintState\.cells\.7\.kernel' does not belong/],
    ['scaler with min == max', (j) => (j.scalers.input.max[1] = j.scalers.input.min[1]), /scalers\.input\.max\[1\]' is 0, not above min\[1\] = 0/],
    ['scaler with min > max', (j) => (j.scalers.output.min[0] = 5), /scalers\.output\.max\[0\]' is 1, not above min\[0\] = 5/],
  ];
  for (const [name, mutate, re] of variants) {
    const j = structuredClone(good);
    mutate(j);
    const p = join(dir, `edited-${name.replace(/ /g, '-')}.json`);
    writeFileSync(p, JSON.stringify(j));
    assert.throws(() => loadModel(p), (e: unknown) => e instanceof DataError && re.test((e as Error).message) && (e as Error).message.includes(p), `${name}: ${(() => { try { loadModel(p); return 'loaded'; } catch (e) { return (e as Error).message; } })()}`);
  }
  // A constant feature is stored as max = min + 1 (scale 1, sklearn's rule), so trained files load.
  const constant = MinMaxScaler.fit(Float64Array.from([3, 1, 3, 2]), 2);
  assert.deepEqual(constant.config(), { min: [3, 1], max: [4, 2] });
  const p = join(dir, 'constant-feature.json');
  saveModel(p, { model, inputScaler: constant, outputScaler: null, metadata: {} });
  assert.deepEqual(Array.from(loadModel(p).inputScaler!.transform(Float64Array.from([3, 1.5]))), [0, 0.5]);
  // An imported model (no training metadata) may come without the power-iteration state.
  const imported = structuredClone(good);
  imported.constraintState = {};
  imported.metadata = { source: { format: 'keras' } };
  writeFileSync(join(dir, 'imported.json'), JSON.stringify(imported));
  assert.doesNotThrow(() => loadModel(join(dir, 'imported.json')));
});
