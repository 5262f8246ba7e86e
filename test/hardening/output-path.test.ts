// Unit tests of io/output-path.ts and the atomic writer (issue 9 items 1, 2, 7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '../../src/core/errors.ts';
import { writeFileAtomic } from '../../src/io/atomic.ts';
import { checkOutputDirectory, checkOutputPath, ensureDirectory, isIclrnnFileOfKind } from '../../src/io/output-path.ts';
import { tempDir } from './cli-helpers.ts';

const dir = tempDir('iclrnn-output-path-');

function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

test('bad output paths are refused with the flag named', () => {
  rejects(() => checkOutputPath('/proc/nope/o.json', { flag: '--out', kind: 'model' }), /^--out \/proc\/nope\/o.json: /, /does not exist/);
  rejects(() => checkOutputPath('/proc/o.json', { flag: '--out', kind: 'model' }), /--out/, /cannot write into directory \/proc/);
  rejects(() => checkOutputPath('/sys/o.json', { flag: '--report', kind: 'report' }), /^--report/);
  rejects(() => checkOutputPath(dir, { flag: '--out', kind: 'model' }), /is a directory/);
  rejects(() => checkOutputPath(join(dir, 'sub') + '/', { flag: '--out', kind: 'model' }), /names a directory/);
  rejects(() => checkOutputPath('', { flag: '--out', kind: 'model' }), /--out needs a file name/);
  rejects(() => checkOutputPath('/dev/null', { flag: '--out', kind: 'model' }), /not a regular file/);
  const file = join(dir, 'plain.txt');
  writeFileSync(file, 'hello');
  rejects(() => checkOutputPath(join(file, 'o.json'), { flag: '--out', kind: 'model' }), /not a directory/);
  rejects(() => checkOutputDirectory(file, { flag: '--out-dir' }), /--out-dir/, /not a directory/);
  rejects(() => checkOutputDirectory('/proc/demo/sub', { flag: '--out-dir' }), /--out-dir/, /cannot write/);
});

test('symlinks: a loop is reported, a dangling link is written through to its target', () => {
  const a = join(dir, 'loop-a'), b = join(dir, 'loop-b');
  symlinkSync(b, a);
  symlinkSync(a, b);
  rejects(() => checkOutputPath(a, { flag: '--out', kind: 'model' }), /symlink loop/);
  const dangling = join(dir, 'dangling.json');
  symlinkSync('target/new.json', dangling);
  rejects(() => checkOutputPath(dangling, { flag: '--out', kind: 'model' }), /does not exist/);
  mkdirSync(join(dir, 'target'));
  const checked = checkOutputPath(dangling, { flag: '--out', kind: 'model' });
  assert.equal(checked.target, join(dir, 'target/new.json'));
  assert.equal(checked.exists, false);
  writeFileAtomic(dangling, '{"format":"iclrnn-model"}');
  assert.ok(lstatSync(dangling).isSymbolicLink());
  assert.equal(readlinkSync(dangling), 'target/new.json');
  assert.equal(readFileSync(join(dir, 'target/new.json'), 'utf8'), '{"format":"iclrnn-model"}');
});

test('foreign files are refused unless forced; iclrnn files of the same kind and empty files are replaced', () => {
  const readme = join(dir, 'README.md');
  writeFileSync(readme, '# a project\n');
  rejects(() => checkOutputPath(readme, { flag: '--out', kind: 'model' }), /refusing to overwrite/, /--force/);
  rejects(() => checkOutputPath(readme, { flag: '--report', kind: 'report', forceFlag: null }), /choose another path/);
  assert.equal(checkOutputPath(readme, { flag: '--out', kind: 'model', force: true }).exists, true);
  const model = join(dir, 'm.json');
  writeFileSync(model, '{"format":"iclrnn-model","version":1}');
  assert.ok(isIclrnnFileOfKind(model, 'model'));
  assert.ok(!isIclrnnFileOfKind(model, 'sweep-results'));
  assert.doesNotThrow(() => checkOutputPath(model, { flag: '--out', kind: 'model' }));
  rejects(() => checkOutputPath(model, { flag: '--out', kind: 'sweep-results' }), /not an iclrnn sweep results file/);
  const empty = join(dir, 'empty.json');
  writeFileSync(empty, '');
  assert.doesNotThrow(() => checkOutputPath(empty, { flag: '--out', kind: 'model' }));
  const ro = join(dir, 'ro.json');
  writeFileSync(ro, '{"format":"iclrnn-model"}');
  chmodSync(ro, 0o444);
  rejects(() => checkOutputPath(ro, { flag: '--out', kind: 'model' }), /read-only/);
});

test('atomic writes keep the mode of the file they replace', () => {
  const f = join(dir, 'mode.json');
  writeFileSync(f, 'old');
  chmodSync(f, 0o600);
  writeFileAtomic(f, 'new');
  assert.equal(statSync(f).mode & 0o777, 0o600);
  assert.equal(readFileSync(f, 'utf8'), 'new');
  chmodSync(f, 0o640);
  writeFileAtomic(f, 'newer');
  assert.equal(statSync(f).mode & 0o777, 0o640);
});

test('ensureDirectory creates missing levels and fails (without hanging) under /proc', () => {
  const deep = join(dir, 'a', 'b', 'c');
  ensureDirectory(deep);
  assert.ok(statSync(deep).isDirectory());
  rejects(() => ensureDirectory('/proc/nope/deeper'), /cannot create directory \/proc\/nope/);
  rejects(() => writeFileAtomic('/proc/nope/x.json', '{}'), /cannot create directory/);
});
