/**
 * The restricted pickle reader on pickles written by scikit-learn (test/fixtures/pickles, made by
 * scripts/make-pickles.py with Debian's python3-sklearn), malicious pickles, and an imported
 * reference model that predicts in physical units with the pickled scalers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ModelFileError, ValidationError } from '../../src/io/errors.ts';
import { importKeras, kerasScalersFromPickles } from '../../src/io/keras.ts';
import { loadModel, saveModel } from '../../src/io/model-file.ts';
import { minMaxScalerFromPickle, readPickledMinMaxScaler, unpickleRestricted } from '../../src/io/pickle.ts';
import { predictPhysical } from '../../src/train/pipeline.ts';
import { KerasBuilder, writeKerasH5Legacy } from './keras-builder.ts';

const fx = fileURLToPath(new URL('../fixtures/pickles/', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iclrnn-pickle-test-'));
const expected = JSON.parse(readFileSync(join(fx, 'expected.json'), 'utf8'));
const NonNeg = { class_name: 'NonNeg', config: {} };

function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFileError, `expected a ModelFileError, got ${(e as Error)?.stack ?? e}`);
    assert.equal((e as Error).message.split('\n').length, 1);
    assert.match((e as Error).message, re);
    return true;
  });
}

test('sklearn MinMaxScaler pickles (protocol 4, as the reference; also 2, 5, float32) read exactly', () => {
  const x = readPickledMinMaxScaler(join(fx, 'iclrnn_scaler_X'));
  const y = readPickledMinMaxScaler(join(fx, 'iclrnn_scaler_y'));
  for (const [s, e] of [[x, expected.X], [y, expected.y]] as const) {
    assert.deepEqual(s.dataMin, e.data_min_);
    assert.deepEqual(s.dataMax, e.data_max_);
    assert.deepEqual(s.scale, e.scale_);
    assert.deepEqual(s.min, e.min_);
    assert.deepEqual(s.featureRange, [0, 1]);
    assert.equal(s.sklearnVersion, expected.sklearn);
  }
  assert.equal(x.nFeatures, 8);
  for (const f of ['scaler_X_protocol2', 'scaler_X_protocol5']) assert.deepEqual(readPickledMinMaxScaler(join(fx, f)), x, f);
  const f32 = readPickledMinMaxScaler(join(fx, 'scaler_y_float32'));
  assert.equal(f32.nFeatures, 2);
  for (let j = 0; j < 2; j++) assert.ok(Math.abs(f32.dataMin[j] - y.dataMin[j]) <= 1e-5 * Math.abs(y.dataMin[j]) + 1e-4);
  // [x, -x] columns are recognised, so the model will take the plain features
  const s = kerasScalersFromPickles(x, y);
  assert.equal(s.negate_input, true);
  assert.equal(kerasScalersFromPickles(y, y).negate_input, false);
});

test('malicious and foreign pickles are refused without executing anything', () => {
  const marker = '/tmp/iclrnn-pwned';
  refused(() => readPickledMinMaxScaler(join(fx, 'malicious_os_system')), /refuses the Python global '(posix|os)\.system'.*nothing was executed/);
  refused(() => readPickledMinMaxScaler(join(fx, 'malicious_eval')), /refuses the Python global 'builtins\.eval'/);
  refused(() => readPickledMinMaxScaler(join(fx, 'not_a_scaler')), /refuses the Python global 'sklearn\.preprocessing\._data\.StandardScaler'/);
  assert.ok(!existsSync(marker) || readFileSync(marker, 'utf8').indexOf('iclrnn-pickle-was-executed') < 0);
  const good = readFileSync(join(fx, 'iclrnn_scaler_X'));
  refused(() => minMaxScalerFromPickle(good.subarray(0, good.length - 20), 'cut.pkl'), /cut\.pkl: truncated pickle/);
  refused(() => unpickleRestricted(Uint8Array.from([0x80, 0x01, 0x4e, 0x2e]), 'p1'), /protocol 1 is not supported/);
  refused(() => unpickleRestricted(new TextEncoder().encode('(S"a"\np0\n.'), 'p0'), /unsupported pickle opcode/);
  refused(() => minMaxScalerFromPickle(Uint8Array.from([0x80, 0x04, 0x4b, 0x07, 0x2e]), 'int.pkl'), /does not hold a scikit-learn MinMaxScaler/);
  assert.throws(() => readPickledMinMaxScaler(join(dir, 'nope.pkl')), (e: unknown) => e instanceof ValidationError && /scaler file not found/.test((e as Error).message));
});

test('property: every global outside the allow-list is refused; mutated scaler pickles fail only with ModelFileError', () => {
  const enc = new TextEncoder();
  // GLOBAL 'module\nname\n' followed by STOP
  const globalPickle = (module: string, name: string) => Uint8Array.from([0x80, 0x02, 0x63, ...enc.encode(`${module}\n${name}\n`), 0x2e]);
  const ident = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.]{0,20}$/);
  fc.assert(
    fc.property(ident, ident, (m, n) => {
      if (`${m}.${n}` === 'numpy.ndarray' || `${m}.${n}` === 'numpy.dtype') return;
      assert.throws(() => unpickleRestricted(globalPickle(m, n)), (e: unknown) => e instanceof ModelFileError);
    }),
    { numRuns: 300, seed: 1 },
  );
  const good = readFileSync(join(fx, 'iclrnn_scaler_X'));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, v) => {
      const b = Uint8Array.from(good);
      b[i] = v;
      try {
        minMaxScalerFromPickle(b);
      } catch (e) {
        assert.ok(e instanceof ModelFileError, `byte ${i} = ${v}: ${(e as Error)?.stack}`);
      }
    }),
    { numRuns: 400, seed: 2 },
  );
});

/** The reference multi-block ICLSTM (8 scaled [x, -x] inputs, 2 outputs). */
function referenceModel(): KerasBuilder {
  const b = new KerasBuilder(8, 5, true, 'input_5');
  b.suffixBase = 4;
  b.weightScale = 1 / 8;
  return b
    .iclstm(64, { separate: true })
    .dense(8, 'relu', { positive: true, constraint: NonNeg })
    .addInput()
    .iclstm(64, { separate: true })
    .dense(8, 'relu', { positive: true, constraint: NonNeg })
    .addInput()
    .dense(2, 'linear', { positive: true, constraint: NonNeg });
}

/** What the reference computes: sklearn-scaled [x, -x] (from Python) -> Keras model -> sklearn inverse of y. */
function referencePhysical(b: KerasBuilder): number[] {
  const ys = b.forward(expected.sample_x_aug_scaled as number[][]);
  return ys.flatMap((r) => r.map((v, j) => (v - expected.y.min_[j]) / expected.y.scale_[j]));
}

test('an imported reference model with the pickled scalers predicts in physical units (library and CLI)', async () => {
  const b = referenceModel();
  const h5 = await writeKerasH5Legacy(join(dir, 'iclstm.h5'), b, { kerasVersion: '2.15.0' });
  const m = await importKeras(h5, { scalerX: join(fx, 'iclrnn_scaler_X'), scalerY: join(fx, 'iclrnn_scaler_y') });
  assert.equal(m.model.spec.kind, 'iclstm');
  assert.equal(m.model.inputSize, 4);
  assert.deepEqual(m.model.spec.augmentation, { offset: [1, 1, 1, 1] });
  const x = Float64Array.from((expected.sample_x as number[][]).flat());
  const want = referencePhysical(b);
  const y = predictPhysical(m, x, 1, 10);
  let err = 0;
  for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(y[i] - want[i]) / Math.max(Math.abs(want[i]), 1e-9));
  console.log(`# pickled scalers, physical units: max relative error ${err.toExponential(2)}`);
  assert.ok(err <= 1e-10, `${err}`);
  // through a saved model file, and the JSON scalers form gives the same model
  const file = join(dir, 'm.json');
  saveModel(file, m);
  assert.deepEqual(Array.from(predictPhysical(loadModel(file), x, 1, 10)), Array.from(y));
  const json = join(dir, 'scalers.json');
  writeFileSync(json, JSON.stringify({ x_min: expected.X.data_min_, x_max: expected.X.data_max_, y_min: expected.y.data_min_, y_max: expected.y.data_max_, negate_input: true }));
  const viaJson = await importKeras(h5, { scalers: json });
  assert.deepEqual(Array.from(predictPhysical(viaJson, x, 1, 10)), Array.from(y));
  // the CLI: import with --scaler-x/--scaler-y, predict; a malicious pickle is one line, exit 2
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  const out = join(dir, 'cli.json');
  const r = cli('import', h5, '--scaler-x', join(fx, 'iclrnn_scaler_X'), '--scaler-y', join(fx, 'iclrnn_scaler_y'), '--out', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).scaled, true);
  const xin = join(dir, 'x.json');
  writeFileSync(xin, JSON.stringify({ X: expected.sample_x }));
  const p = cli('predict', out, '--input', xin, '--json');
  assert.equal(p.status, 0, p.stderr);
  const yc = (JSON.parse(p.stdout).Y as number[][]).flat();
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(yc[i] - want[i]) <= 1e-9 * Math.max(1, Math.abs(want[i])), `CLI ${i}: ${yc[i]} vs ${want[i]}`);
  const bad = cli('import', h5, '--scaler-x', join(fx, 'malicious_os_system'), '--scaler-y', join(fx, 'iclrnn_scaler_y'), '--out', join(dir, 'bad.json'));
  assert.equal(bad.status, 2, bad.stderr);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /refuses the Python global/);
  const half = cli('import', h5, '--scaler-x', join(fx, 'iclrnn_scaler_X'), '--out', join(dir, 'half.json'));
  assert.equal(half.status, 2, half.stderr);
  assert.match(half.stderr, /--scaler-y is missing/);
});
