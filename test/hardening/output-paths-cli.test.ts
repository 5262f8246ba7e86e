// Issue 9 items 1, 2 and 7 through the real command: output paths are checked before any work
// starts (one line, exit 2, naming the flag), the command never hangs on /proc, and files that are
// not iclrnn files of the same kind are not clobbered; modes and symlinks are kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertUserError, bin, repoRoot, runCli, tempDir, TINY_TRAIN, type CliResult } from './cli-helpers.ts';
import { haveData, sharedPath } from '../helpers.ts';

const dir = tempDir();

test('item 1: train --out into /sys, onto a directory, under a dangling symlink: exit 2 before any work', () => {
  assertUserError(runCli([...TINY_TRAIN, '--out', '/sys/o.json']), /--out/, /\/sys/);
  const d = join(dir, 'adir');
  mkdirSync(d);
  assertUserError(runCli([...TINY_TRAIN, '--out', d]), /--out/, /is a directory/);
  const dangling = join(dir, 'dangling-dir');
  symlinkSync(join(dir, 'no-such-dir'), dangling);
  assertUserError(runCli([...TINY_TRAIN, '--out', join(dangling, 'o.json')]), /--out/, /dangling symlink|does not exist/);
  // Checked before the data is loaded: a missing data file is not what is reported.
  assertUserError(
    runCli(['train', '--system', 'timeseries', '--data', join(dir, 'missing.csv'), '--inputs', 'u', '--outputs', 'y', '--window', '2', '--model', 'rnn', '--out', '/proc/nope/o.json']),
    /--out/,
  );
});

test('item 2: train --out /proc/nope/o.json and demo --out-dir /proc/demo exit (no hang)', () => {
  const t = runCli([...TINY_TRAIN, '--out', '/proc/nope/o.json'], { timeoutMs: 120_000 });
  assertUserError(t, /--out/);
  const d = runCli(['demo', '--seconds', '1', '--out-dir', '/proc/demo'], { timeoutMs: 120_000 });
  assertUserError(d, /--out-dir/);
});

test('item 1: simulate and sweep outputs under /proc: exit 2 naming the flag', () => {
  assertUserError(runCli(['simulate', 'cstr', '--out', '/proc/x.csv']), /--out/);
  assertUserError(runCli(['sweep', '--system', 'cstr', '--models', 'rnn', '--noise', '0', '--epochs', '1', '--hidden', '2', '--layers', '1', '--out', '/proc/x.json']), /--out/);
  assertUserError(
    runCli(['sweep', '--system', 'cstr', '--models', 'rnn', '--noise', '0', '--epochs', '1', '--hidden', '2', '--layers', '1', '--out', join(dir, 'sw.json'), '--report', '/proc/r.html']),
    /--report/,
  );
  assert.ok(!existsSync(join(dir, 'sw.json')), 'no results written when the report path is bad');
});

test('item 1: import --out /proc/x: exit 2 naming the flag', (t) => {
  const keras = sharedPath('fixtures/keras/iclrnn_energy/model.keras');
  if (!haveData(t, keras)) return;
  assertUserError(runCli(['import', keras, '--out', '/proc/x']), /--out/);
});

test('item 7: README.md / package.json are not clobbered; --force replaces; mode and symlink kept', () => {
  const readme = join(dir, 'README.md');
  const text = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  writeFileSync(readme, text);
  assertUserError(runCli([...TINY_TRAIN, '--out', readme]), /--out/, /refusing to overwrite/, /--force/);
  assert.equal(readFileSync(readme, 'utf8'), text, 'README untouched');
  const pkg = join(dir, 'package.json');
  writeFileSync(pkg, readFileSync(join(repoRoot, 'package.json')));
  assertUserError(runCli(['simulate', 'cstr', '--out', pkg]), /--out/, /refusing to overwrite/);
  assert.equal(readFileSync(pkg, 'utf8'), readFileSync(join(repoRoot, 'package.json'), 'utf8'));

  // A model file with mode 0600 behind a symlink: retraining writes through the link, keeps the mode.
  const model = join(dir, 'model.json');
  const first = runCli([...TINY_TRAIN, '--out', model, '--json']);
  assert.equal(first.code, 0, first.stderr);
  chmodSync(model, 0o600);
  const link = join(dir, 'link.json');
  symlinkSync('model.json', link);
  const again = runCli([...TINY_TRAIN, '--seed', '5', '--out', link, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readlinkSync(link), 'model.json');
  assert.equal(statSync(model).mode & 0o777, 0o600, 'mode 0600 kept');
  assert.equal(JSON.parse(readFileSync(model, 'utf8')).metadata.seed, 5, 'the target was rewritten');

  // --force replaces a foreign file.
  const forced = runCli([...TINY_TRAIN, '--out', readme, '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(readFileSync(readme, 'utf8')).format, 'iclrnn-model');
});

test('item 1: train and demo in a read-only directory: exit 2 naming the flag, before any work', (t) => {
  const ro = join(dir, 'read-only');
  mkdirSync(ro);
  chmodSync(dir, 0o755);
  chmodSync(ro, 0o555);
  // root may write anywhere: run the command as an unprivileged user then
  const asUser = typeof process.getuid === 'function' && process.getuid() === 0 ? { uid: 65534, gid: 65534 } : {};
  const probe = spawnSync('node', ['-e', '0'], { ...asUser });
  if (probe.status !== 0) {
    t.skip('cannot run a process as an unprivileged user here');
    return;
  }
  const run = (args: string[], cwd: string): CliResult => {
    const r = spawnSync(process.execPath, [bin, ...args], { ...asUser, cwd, encoding: 'utf8', timeout: 240_000, killSignal: 'SIGKILL', env: { ...process.env, HOME: dir, NO_COLOR: '1' } });
    return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' };
  };
  assertUserError(run([...TINY_TRAIN, '--out', join(ro, 'm.json')], dir), /--out/, /permission denied/);
  assertUserError(run(['demo', '--seconds', '1'], ro), /--out-dir/, /permission denied/);
  assert.ok(!existsSync(join(ro, 'iclrnn-demo')));
});
