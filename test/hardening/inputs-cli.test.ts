// Issue 9 items 11, 12 and 13 (mpc) through the real command: hand-edited model files, input files
// of the wrong type, and mpc flags that would do nothing give one line and exit 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertUserError, runCli, tempDir, TINY_TRAIN } from './cli-helpers.ts';

const dir = tempDir('iclrnn-inputs-cli-');
const model = join(dir, 'm.json');
const x = join(dir, 'x.json');

test('setup: a tiny model and an input', () => {
  const r = runCli([...TINY_TRAIN, '--out', model, '--json']);
  assert.equal(r.code, 0, r.stderr);
  writeFileSync(x, JSON.stringify({ X: [[-50, 0.5, 1e5, 1]] }));
});

test('item 11: a hand-edited model file (kind transformer, sigmoid head) is refused naming the field', () => {
  const j = JSON.parse(readFileSync(model, 'utf8'));
  const edited = join(dir, 'transformer.json');
  writeFileSync(edited, JSON.stringify({ ...j, spec: { ...j.spec, kind: 'transformer' } }));
  assertUserError(runCli(['predict', edited, '--input', x]), /spec\.kind/, /transformer/);
  const sigmoid = join(dir, 'sigmoid.json');
  writeFileSync(sigmoid, JSON.stringify({ ...j, spec: { ...j.spec, head: j.spec.head.map((h: object) => ({ ...h, activation: 'sigmoid' })) } }));
  assertUserError(runCli(['predict', sigmoid, '--input', x]), /spec\.head\[0\]\.activation/);
});

test('item 12: --input of the wrong type: one printable line naming the supported types', () => {
  const csv = join(dir, 'plant.csv');
  writeFileSync(csv, 'u1,u2,u3,u4\n1,2,3,4\n');
  const r = runCli(['predict', model, '--input', csv]);
  assertUserError(r, /--input takes \.json .* or \.mat/);
  const h5 = join(dir, 'weights.h5');
  writeFileSync(h5, Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256))]));
  const b = runCli(['predict', model, '--input', h5]);
  assertUserError(b, /HDF5/, /\.json .* or \.mat/);
  assert.match(b.stderr, /^[\x20-\x7e\n]*$/, 'no binary junk on stderr');
  const binJson = join(dir, 'junk.json');
  writeFileSync(binJson, Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 91 + 7) % 256)));
  const j = runCli(['predict', model, '--input', binJson]);
  assertUserError(j, /junk\.json/);
  assert.match(j.stderr, /^[\x20-\x7e\n]*$/, 'no binary junk on stderr');
});

test('item 13 (same kind): certify --scaled without --local-input is a usage error', () => {
  assertUserError(runCli(['certify', model, '--scaled']), /--scaled applies to --local-input only/);
});

test('item 13: mpc --steps 0 and --seed -1 are usage errors naming the flag', () => {
  assertUserError(runCli(['mpc', '--model', 'first-principles', '--steps', '0']), /--steps/);
  assertUserError(runCli(['mpc', '--model', 'first-principles', '--seed', '-1']), /--seed/);
});
