// Issue 9 item 9: the demo reports one empirical Lipschitz estimate (one definition), labelled with
// the noise level the model was trained at; the report and the certificate show the same number.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, tempDir } from './cli-helpers.ts';

test('demo --json: one empirical Lipschitz estimate, with its samples and training noise', () => {
  const out = join(tempDir('iclrnn-demo-'), 'demo');
  const r = runCli(['demo', '--seconds', '1', '--out-dir', out, '--json'], { timeoutMs: 400_000 });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(typeof j.certificate?.empirical, 'number', 'the certificate has an empirical estimate');
  if (j.lipschitz !== undefined) assert.equal(j.lipschitz, j.certificate.empirical, 'report and certificate show the same estimate');
  assert.equal(j.certificate.trainingNoise, 0, 'labelled with the training noise level');
  assert.match(j.certificate.empiricalSamples, /test sequences/);
});
