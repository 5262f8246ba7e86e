// `iclrnn certify`: JSON contract, human table, local box, training samples, user errors (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../../src/nn/models.ts';
import { saveModel } from '../../src/io/model-file.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';
import { main } from '../../src/cli/main.ts';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iclrnn-certify-'));
/** A real process (end to end through bin/iclrnn.mjs). */
const spawn = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
/** In-process run of the CLI's main() with stderr captured (fast; for the error paths). */
async function runErr(...args: string[]): Promise<{ code: number; stderr: string }> {
  const err: string[] = [];
  const w2 = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => (err.push(String(s)), true);
  try {
    const code = await main(args);
    return { code, stderr: err.join('') };
  } finally {
    process.stderr.write = w2;
  }
}

const model = join(dir, 'm.json');
saveModel(model, {
  model: buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 2 }),
  inputScaler: new MinMaxScaler({ min: [-200, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] }),
  outputScaler: new MinMaxScaler({ min: [-200, -2], max: [200, 4] }),
  metadata: { system: 'cstr', data: { system: 'cstr', splitSeed: 0 } },
});
const fast = ['--starts', '4', '--iterations', '10', '--segments', '200', '--sample-count', '50'];

test('certify --json (real process): the contract fields, 10 steps from the CSTR metadata, local null without a box', () => {
  const r = spawn('certify', model, '--json', ...fast);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(typeof j.convex, 'boolean');
  assert.equal(j.convex, true);
  assert.ok(j.convexity.structural && j.convexity.numerical);
  for (const k of ['empirical', 'attack', 'upperBound', 'local']) assert.ok(k in j.lipschitz, k);
  assert.equal(j.lipschitz.local, null);
  assert.equal(j.steps, 10);
  assert.ok(j.lipschitz.empirical <= j.lipschitz.upperBound && j.lipschitz.attack <= j.lipschitz.upperBound);
  assert.match(j.norm, /l2/);
});

test('certify with a local box (physical units) and training samples; human table', () => {
  const x = join(dir, 'x.json');
  writeFileSync(x, JSON.stringify({ X: Array.from({ length: 3 }, () => [-50, 0.5, 1e5, 1]) }));
  const r = spawn('certify', model, '--local-input', x, '--radius', '0.05', '--samples', 'random', '--json', ...fast);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.steps, 3, 'the local input sets the sequence length');
  assert.ok(j.lipschitz.local !== null && j.lipschitz.local <= j.lipschitz.upperBound * (1 + 1e-9));
  const d = spawn('certify', model, '--samples', 'data', '--json', ...fast);
  assert.equal(d.code, 0, d.stderr);
  assert.match(JSON.parse(d.stdout).lipschitz.details.reference.source, /training inputs of cstr/);
  const h = spawn('certify', model, ...fast);
  assert.equal(h.code, 0, h.stderr);
  assert.match(h.stdout, /convexity \(structural proof\)\s+PROVEN/);
  assert.match(h.stdout, /upper bound \(certified, global\)/);
  assert.match(h.stdout, /l2 over the whole sequence/);
});

test('certify user errors: one line, exit 2', async () => {
  const x = join(dir, 'bad.json');
  writeFileSync(x, JSON.stringify({ X: [[1, 2, 3]] }));
  const cases: [string[], RegExp][] = [
    [[join(dir, 'missing.json')], /not found/],
    [[model, '--radius', '0.1'], /go together/],
    [[model, '--local-input', x, '--radius', '0.1'], /3 values but the model takes 4/],
    [[model, '--local-input', join(dir, 'nope.json'), '--radius', '0.1'], /not found/],
    [[model, '--local-input', x, '--radius', '-1'], /--radius must be/],
    [[model, '--samples', 'everything'], /--samples must be/],
    [[model, '--steps', '0'], /--steps must be a positive integer/],
  ];
  for (const [args, re] of cases) {
    const r = await runErr('certify', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
