// The options the full published protocol needs (issue 15): early stopping as a second column
// (`--patience`) and the reference's exact Lipschitz protocol on the training inputs
// (`--lipschitz-inputs train`); both enter the sweep configuration only when set, so results files
// made without them keep resuming.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCstrDataset } from '../../src/systems/cstr.ts';
import { prepareData } from '../../src/train/pipeline.ts';
import { cellSettingsOf } from '../../src/train/distributed/payload.ts';
import { cellKey, parseSweepResults } from '../../src/train/sweep.ts';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const tiny = ['--system', 'cstr', '--models', 'rnn', '--noise', '0', '--hidden', '3', '--layers', '1', '--batch', '512', '--no-save-models'];
const sweep = (args: string[]) => spawnSync(process.execPath, [bin, 'sweep', ...tiny, ...args], { encoding: 'utf8' });

test('--patience stops a cell early on the validation loss and is part of the configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-es-'));
  const out = join(dir, 'es.json');
  // a learning rate far too large: the validation loss stops improving within a few epochs
  const r = sweep(['--epochs', '60', '--lr', '0.5', '--patience', '2', '--lipschitz-samples', '20', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const saved = parseSweepResults(JSON.parse(readFileSync(out, 'utf8')));
  assert.deepEqual(saved.config.earlyStopping, { patience: 2 });
  const c = saved.cells[cellKey('rnn', 0, 0)];
  assert.equal(c.stoppedEarly, true);
  assert.ok((c.epochsRun as number) < 60, `stopped after ${c.epochsRun} epochs`);
  assert.equal(c.epochsRun, (c.bestEpoch as number) + 2, 'stops `patience` epochs after the best one');
  // the same file without --patience is another configuration: refused, not mixed
  const other = sweep(['--epochs', '60', '--lr', '0.5', '--lipschitz-samples', '20', '--out', out]);
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /earlyStopping/);
});

test('--lipschitz-inputs train estimates on every training sequence (the reference protocol); the default stays test', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-lip-'));
  const train = join(dir, 'train.json'), plain = join(dir, 'plain.json');
  const a = sweep(['--epochs', '1', '--lipschitz-inputs', 'train', '--out', train]);
  assert.equal(a.status, 0, a.stderr);
  const b = sweep(['--epochs', '1', '--out', plain]);
  assert.equal(b.status, 0, b.stderr);
  const p = prepareData(generateCstrDataset(), { splitSeed: 0 });
  const ta = parseSweepResults(JSON.parse(readFileSync(train, 'utf8')));
  const tb = parseSweepResults(JSON.parse(readFileSync(plain, 'utf8')));
  assert.equal((ta.config.lipschitz as Record<string, unknown>).inputs, 'train');
  assert.equal('inputs' in (tb.config.lipschitz as Record<string, unknown>), false, 'the default adds nothing to the configuration');
  assert.equal('earlyStopping' in tb.config, false);
  const la = ta.cells[cellKey('rnn', 0, 0)].lipschitz!, lb = tb.cells[cellKey('rnn', 0, 0)].lipschitz!;
  assert.equal(la.inputs, 'train');
  assert.equal(la.samples, p.train.count);
  assert.equal(lb.samples, p.test.count);
  assert.notEqual(la.empirical, lb.empirical, 'another input set gives another estimate');
  // the same trained model: the test MSE does not depend on where the estimate looks
  assert.equal(ta.cells[cellKey('rnn', 0, 0)].testMse, tb.cells[cellKey('rnn', 0, 0)].testMse);
  const bad = sweep(['--epochs', '1', '--lipschitz-inputs', 'validation', '--out', join(dir, 'bad.json')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--lipschitz-inputs must be train or test/);
});

test('cellSettingsOf reads and validates earlyStopping and lipschitz.inputs', () => {
  const config = { system: 'cstr', data: { system: 'cstr', splitSeed: 0 }, hidden: 4, layers: 1, epochs: 2, batchSize: 64, learningRate: 1e-3, lipschitz: { samples: 0 } };
  const plain = cellSettingsOf(config, ['cstr']);
  assert.equal(plain.earlyStopping, null);
  assert.equal(plain.lipschitzInputs, 'test');
  const set = cellSettingsOf({ ...config, earlyStopping: { patience: 50 }, lipschitz: { samples: 0, inputs: 'train' } }, ['cstr']);
  assert.deepEqual(set.earlyStopping, { patience: 50, minDelta: 0 });
  assert.equal(set.lipschitzInputs, 'train');
  assert.throws(() => cellSettingsOf({ ...config, earlyStopping: { patience: 0 } }, ['cstr']), /earlyStopping.patience/);
  assert.throws(() => cellSettingsOf({ ...config, earlyStopping: { patience: 3, minDelta: -1 } }, ['cstr']), /minDelta/);
  assert.throws(() => cellSettingsOf({ ...config, lipschitz: { samples: 0, inputs: 'all' } }, ['cstr']), /lipschitz.inputs/);
});
