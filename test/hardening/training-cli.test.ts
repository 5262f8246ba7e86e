// Issue 9 items 6, 8 (train) and 13 (train) through the real command: divergence stops training
// with a message and no model, degenerate models and scaling are warned about (naming what),
// progress is printed without a terminal, SIGINT says what happened, flags that do nothing are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertUserError, bin, repoRoot, runCli, tempDir } from './cli-helpers.ts';

const dir = tempDir('iclrnn-training-cli-');
const SMALL = ['--system', 'cstr', '--hidden', '8', '--layers', '1'];

test('item 6: an exploding loss (--lr 1e9) stops training, says so, exits non-zero, keeps no model', () => {
  const out = join(dir, 'diverged.json');
  const r = runCli(['train', ...SMALL, '--model', 'rnn', '--epochs', '3', '--lr', '1e9', '--out', out]);
  assert.notEqual(r.code, 0, `exit code ${r.code}; stdout ${r.stdout}`);
  assert.match(r.stderr, /diverged/);
  assert.match(r.stderr, /--lr|learning rate/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.ok(!existsSync(out), 'no model kept');
  const kept = runCli(['train', ...SMALL, '--model', 'rnn', '--epochs', '3', '--lr', '1e9', '--keep-diverged', '--out', out]);
  assert.notEqual(kept.code, 0);
  assert.ok(existsSync(out), '--keep-diverged keeps the model');
  const m = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(m.metadata.training.diverged, true);
});

test('item 6: all-zero kernels are warned about, naming the parameters', () => {
  const out = join(dir, 'zero.json');
  const r = runCli(['train', ...SMALL, '--model', 'iclrnn', '--epochs', '2', '--spectral-mode', 'reference', '--k', '2', '--optimizer', 'sgd', '--lr', '0.01', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*all zero/);
  assert.match(r.stderr, /cells\.0\.kernel/);
  const j = JSON.parse(r.stdout);
  assert.ok(Array.isArray(j.warnings) && j.warnings.some((w: string) => /all zero/.test(w)), 'warnings in the JSON summary');
});

test('item 6: degenerate scaling (an outlier dominating a column, a constant column) is warned about, naming column and rows', () => {
  const csv = join(dir, 'plant.csv');
  const lines = ['u,c,y'];
  for (let i = 0; i < 400; i++) {
    const u = i === 137 ? 1e308 : Math.sin(i / 7);
    lines.push(`${u},5,${Math.cos(i / 9)}`);
  }
  writeFileSync(csv, lines.join('\n') + '\n');
  const out = join(dir, 'ts.json');
  const r = runCli(['train', '--system', 'timeseries', '--data', csv, '--inputs', 'u,c', '--outputs', 'y', '--window', '5', '--model', 'rnn', '--hidden', '4', '--layers', '1', '--epochs', '1', '--split-seed', '0', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*'u'.*outlier/);
  assert.match(r.stderr, /row 138\b/, 'the 1-based data row of the outlier (the header not counted)');
  assert.match(r.stderr, /warning: .*'c'.*constant/);
});

test('item 13: train --system cstr with --inputs/--outputs/--data/--window refuses the flag', () => {
  assertUserError(runCli(['train', '--system', 'cstr', '--model', 'rnn', '--inputs', 'u1', '--out', join(dir, 'a.json')]), /--inputs/);
  assertUserError(runCli(['train', '--system', 'cstr', '--model', 'rnn', '--data', 'x.csv', '--out', join(dir, 'a.json')]), /--data/);
  assertUserError(runCli(['train', '--system', 'cstr', '--model', 'rnn', '--window', '5', '--out', join(dir, 'a.json')]), /--window/);
});

test('item 13 (same kind): --k and --spectral-mode for a model without the spectral constraint are refused', () => {
  assertUserError(runCli(['train', ...SMALL, '--model', 'rnn', '--epochs', '0', '--k', '2', '--out', join(dir, 'k.json')]), /--k applies to --model iclrnn only/);
  assertUserError(runCli(['train', ...SMALL, '--model', 'lstm', '--epochs', '0', '--spectral-mode', 'reference', '--out', join(dir, 'k.json')]), /--spectral-mode/);
});

test('item 8: without a terminal, train prints epoch lines to stderr; SIGINT says nothing was saved', async () => {
  const out = join(dir, 'progress.json');
  const r = runCli(['train', ...SMALL, '--model', 'iclrnn', '--epochs', '3', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const epochLines = r.stderr.split('\n').filter((l) => /epoch \d+\/3/.test(l));
  assert.ok(epochLines.length >= 1 && epochLines.length <= 3, `epoch lines on stderr: ${r.stderr}`);
  assert.ok(/epoch 3\/3/.test(r.stderr), 'the last epoch is reported');
  JSON.parse(r.stdout); // stdout stays pure JSON

  const out2 = join(dir, 'interrupted.json');
  const child = spawn(process.execPath, [bin, 'train', ...SMALL, '--model', 'iclrnn', '--epochs', '100000', '--out', out2], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const done = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (/epoch \d+\/100000/.test(stderr) && !child.killed) child.kill('SIGINT');
  });
  const res = await done;
  clearTimeout(killer);
  assert.equal(res.code, 130, `exit ${res.code} signal ${res.signal}; stderr ${stderr}`);
  assert.match(stderr, /interrupted at epoch \d+/);
  assert.match(stderr, /nothing (was )?saved|not written/);
  assert.ok(!existsSync(out2));
});
