// Helpers of the hardening tests: run the real `iclrnn` command (whatever bin/iclrnn.mjs is) in a
// child process, with a time limit, and check the one-line user-error contract.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const bin = join(repoRoot, 'bin', 'iclrnn.mjs');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `node bin/iclrnn.mjs ...args`; kills it after `timeoutMs` (then `timedOut` is true). */
export function runCli(args: string[], o: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    cwd: o.cwd ?? repoRoot,
    timeout: o.timeoutMs ?? 240_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, NO_COLOR: '1', ...o.env },
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut };
}

/** Asserts the user-error contract: exit 2, one line on stderr matching every pattern, no stack. */
export function assertUserError(r: CliResult, ...patterns: RegExp[]): void {
  assert.equal(r.timedOut, false, `the command did not exit in time (stderr: ${r.stderr.slice(0, 500)})`);
  assert.equal(r.code, 2, `exit code ${r.code} (signal ${r.signal}); stderr: ${r.stderr.slice(0, 1500)}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const lines = r.stderr.trim().split('\n').filter((l) => !/^iclrnn: warning:/.test(l));
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  for (const re of patterns) assert.match(r.stderr, re);
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'iclrnn-hardening-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Flags of a tiny, fast `train` run (no epochs: only the data set, the model and the save). */
export const TINY_TRAIN = ['train', '--system', 'cstr', '--model', 'iclrnn', '--hidden', '2', '--layers', '1', '--epochs', '0'];
