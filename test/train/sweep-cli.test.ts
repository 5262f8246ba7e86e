// CLI behaviour of `iclrnn sweep` found by the fault audit (issue 9): concurrent runs on one results
// file lose nothing (item 5), progress lines without a terminal and a message on SIGINT (item 8), and
// `--portrait-noise` at a level that is not swept is a usage error (item 13). Each spawns the real bin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cellKey, parseSweepResults } from '../../src/train/sweep.ts';

const bin = fileURLToPath(new URL('../../bin/iclrnn.mjs', import.meta.url));
const tiny = ['--system', 'cstr', '--hidden', '3', '--layers', '1', '--batch', '512', '--lipschitz-samples', '20', '--no-save-models'];

function sweepAsync(args: string[]): Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const p = spawn(process.execPath, [bin, 'sweep', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status, signal) => resolveRun({ status, signal, stdout, stderr }));
  });
}

test('item 5: two concurrent sweeps into one results file (different --models) keep every cell', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-conc-'));
  const out = join(dir, 'same.json');
  const [a, b] = await Promise.all([
    sweepAsync([...tiny, '--models', 'iclrnn', '--noise', '0,0.3,0.6', '--epochs', '2', '--out', out, '--json']),
    sweepAsync([...tiny, '--models', 'rnn', '--noise', '0,0.3,0.6', '--epochs', '2', '--out', out, '--json']),
  ]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const saved = parseSweepResults(JSON.parse(readFileSync(out, 'utf8')));
  const keys = Object.keys(saved.cells).sort();
  const expected = ['iclrnn', 'rnn'].flatMap((m) => [0, 0.3, 0.6].map((n) => cellKey(m, n, 0))).sort();
  assert.deepEqual(keys, expected, 'both runs\' cells are in the file');
  assert.ok(Object.values(saved.cells).every((c) => c.status === 'done'));
  assert.deepEqual([...saved.models].sort(), ['iclrnn', 'rnn']);
});

test('item 8: without a terminal, one line per finished cell on stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-log-'));
  const out = join(dir, 'r.json');
  const r = spawnSync(process.execPath, [bin, 'sweep', ...tiny, '--models', 'iclrnn,rnn', '--noise', '0', '--epochs', '1', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => /cell \d+\/2/.test(l));
  assert.equal(lines.length, 2, `one line per cell on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /cell 1\/2.*iclrnn.*σ=0.*seed 0.*test MSE/);
  assert.match(lines[1], /cell 2\/2.*rnn/);
  // a rerun says the cells were already done
  const again = spawnSync(process.execPath, [bin, 'sweep', ...tiny, '--models', 'iclrnn,rnn', '--noise', '0', '--epochs', '1', '--out', out], { encoding: 'utf8' });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /2 of 2 cells already done/);
});

test('item 8: SIGINT says what was saved and how to resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-int-'));
  const out = join(dir, 'r.json');
  const p = spawn(process.execPath, [bin, 'sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.1,0.2,0.3,0.4,0.5', '--epochs', '30', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const status = await new Promise<number | null>((resolveRun) => {
    let sent = false;
    p.stderr.on('data', (d) => {
      stderr += d;
      if (!sent && /cell 1\/6/.test(stderr)) {
        sent = true;
        p.kill('SIGINT');
      }
    });
    p.on('close', (code) => resolveRun(code));
  });
  assert.equal(status, 130, stderr);
  assert.match(stderr, /interrupted/);
  const saved = parseSweepResults(JSON.parse(readFileSync(out, 'utf8')));
  const done = Object.values(saved.cells).filter((c) => c.status === 'done').length;
  assert.ok(done >= 1 && done < 6, `some cells saved (${done})`);
  assert.match(stderr, new RegExp(`${done} of 6 cells .*saved in ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(stderr, /rerun the same command to resume/);
});

test('item 13: --portrait-noise at a level that is not swept is a usage error naming the flag, before any work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-sweep-pn-'));
  const out = join(dir, 'r.json');
  const r = spawnSync(process.execPath, [bin, 'sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.9', '--epochs', '1', '--out', out, '--report', join(dir, 'r.html'), '--portrait-noise', '0.5'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--portrait-noise/);
  assert.match(r.stderr, /0\.5/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(out), 'nothing was trained or written');
  // without --report the flag does nothing: also a usage error
  const n = spawnSync(process.execPath, [bin, 'sweep', ...tiny, '--models', 'iclrnn', '--noise', '0,0.9', '--epochs', '1', '--out', out, '--portrait-noise', '0.9'], { encoding: 'utf8' });
  assert.equal(n.status, 2, n.stderr);
  assert.match(n.stderr, /--portrait-noise.*--report/);
});
