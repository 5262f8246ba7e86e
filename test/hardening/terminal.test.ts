// Issue 9 item 4: Ctrl-C during `train` on a terminal must leave the terminal as it found it (the
// progress bar hides the cursor and turns line wrapping off while it draws). Runs the real command
// on a pseudo-terminal (python3's pty module) and checks the escape sequences it wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bin, repoRoot, tempDir } from './cli-helpers.ts';

const script = fileURLToPath(new URL('./pty-run.py', import.meta.url));
const HIDE_CURSOR = '\x1b[?25l', SHOW_CURSOR = '\x1b[?25h', WRAP_OFF = '\x1b[?7l', WRAP_ON = '\x1b[?7h';

function python(): boolean {
  return spawnSync('python3', ['-c', 'import pty'], { encoding: 'utf8' }).status === 0;
}

/** True when every `off` in the output is followed later by an `on`. */
function restored(out: string, off: string, on: string): boolean {
  const lastOff = out.lastIndexOf(off);
  return lastOff < 0 || out.indexOf(on, lastOff) > lastOff;
}

test('Ctrl-C during train on a terminal: cursor and line wrap restored, exit 130, a message, no model', (t) => {
  if (!python()) {
    if (process.env.CI === 'true') assert.fail('python3 with the pty module is needed for this test');
    t.skip('python3 with the pty module not available');
    return;
  }
  const out = join(tempDir(), 'm.json');
  const r = spawnSync(
    'python3',
    [script, '240', '/100000', '--', process.execPath, bin, 'train', '--system', 'cstr', '--model', 'iclrnn', '--hidden', '8', '--layers', '1', '--epochs', '100000', '--out', out],
    { encoding: 'utf8', cwd: repoRoot, timeout: 300_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { sentInterrupt: boolean; timedOut: boolean; exitCode: number | null; signal: number | null; output: string };
  assert.ok(res.sentInterrupt, `the progress bar never appeared: ${JSON.stringify(res.output.slice(0, 400))}`);
  assert.equal(res.timedOut, false, 'train did not exit after Ctrl-C');
  assert.ok(res.output.includes(HIDE_CURSOR), 'the bar hid the cursor (the situation under test)');
  assert.ok(restored(res.output, HIDE_CURSOR, SHOW_CURSOR), `cursor left hidden: ${JSON.stringify(res.output.slice(-300))}`);
  assert.ok(restored(res.output, WRAP_OFF, WRAP_ON), `line wrap left off: ${JSON.stringify(res.output.slice(-300))}`);
  assert.equal(res.exitCode, 130, `exit code ${res.exitCode}, signal ${res.signal}`);
  assert.match(res.output, /interrupted/);
  assert.ok(!existsSync(out), 'no model written');
});
