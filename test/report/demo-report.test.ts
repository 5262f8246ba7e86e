// Issue 9 item 3: the MPC section of the demo and sweep reports was empty (the demo stored its run as
// summary.mpc, the report read mpcRuns; the sweep passed mpcRuns: null). These tests fail on that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSweepReport } from '../../src/cli/commands/sweep.ts';
import { saveModel } from '../../src/io/model-file.ts';
import { buildModel } from '../../src/nn/models.ts';
import type { SweepResults } from '../../src/train/sweep.ts';
import { MinMaxScaler } from '../../src/nn/scaler.ts';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iclrnn-report-'));

/** The MPC section of a report page, which must hold drawn closed loops, not the placeholder. */
function mpcSection(html: string): string {
  const m = /<section id="mpc"[^>]*>[\s\S]*?<\/section>/.exec(html);
  assert.ok(m, 'the report has an MPC section');
  return m[0];
}

test('demo: the report shows the closed loops the demo ran (states, inputs with bounds, V against 372, solve times)', () => {
  const out = join(dir, 'demo');
  const r = spawnSync(process.execPath, [bin, 'demo', '--seconds', '1', '--out-dir', out, '--json'], { encoding: 'utf8', env: { ...process.env, ICLRNN_FROM_SOURCE: '1' } });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.mpc.runs.length, 2);
  assert.equal(j.mpc.stabilityLevel, 372);
  assert.equal(j.mpc.V.length, j.mpc.runs[0].x1.length);
  const s = mpcSection(readFileSync(join(out, 'report.html'), 'utf8'));
  assert.doesNotMatch(s, /data-empty|No MPC closed-loop runs/);
  assert.match(s, /ICLRNN LMPC/);
  assert.match(s, /first-principles LMPC/);
  assert.match(s, /V\(x\) on the true trajectory/);
  assert.match(s, /u2\(t\) and its bounds/);
  assert.match(s, /Solve time per step/);
});

test('sweep: the CSTR report runs the LMPC with the saved models', () => {
  const model = join(dir, 'iclrnn.json');
  saveModel(model, {
    model: buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 4, layers: 1, seed: 1 }),
    inputScaler: new MinMaxScaler({ min: [-100, -2, -5e5, -3.5], max: [200, 4, 5e5, 3.5] }),
    outputScaler: new MinMaxScaler({ min: [-100, -2], max: [200, 4] }),
    metadata: { system: 'cstr' },
  });
  const results = {
    format: 'iclrnn-sweep', version: 1, config: { system: 'cstr', epochs: 1 }, models: ['iclrnn'], noise: [0], seeds: [0], createdAt: null, updatedAt: null,
    cells: {
      'iclrnn/noise=0/seed=0': { key: 'iclrnn/noise=0/seed=0', model: 'iclrnn', noise: 0, seed: 0, status: 'done', testMse: 0.01, lipschitz: { empirical: 1, upperBound: null }, trainSeconds: 1, finishedAt: null, modelFile: 'iclrnn.json' },
    },
  } as unknown as SweepResults;
  const report = join(dir, 'sweep.html');
  writeSweepReport(results, join(dir, 'sweep.json'), report);
  const s = mpcSection(readFileSync(report, 'utf8'));
  assert.doesNotMatch(s, /data-empty|No MPC closed-loop runs/);
  assert.match(s, /iclrnn \(σ = 0\) tightened/);
  assert.match(s, /first-principles LMPC/);
  assert.match(s, /V\(x\) on the true trajectory/);
});
