/**
 * Checks of output paths, made before any work starts so that a command that would fail to write
 * its result fails at once, with one line naming the flag, instead of after an hour of training.
 *
 * The rules (every command's output flag goes through {@link checkOutputPath} or
 * {@link checkOutputDirectory}):
 * - the directory the file goes into exists, is a directory and accepts a new file (checked by
 *   creating and removing a probe file: `access()` says yes to root on /proc and /sys);
 * - the target is not a directory, a device or anything but a regular file;
 * - a symlink is followed to its final target (also when that target does not exist yet), and the
 *   write goes to the target, not over the link; a symlink into a missing directory or a loop is
 *   reported;
 * - an existing file is replaced only when it is an iclrnn file of the same kind (or empty), or
 *   when the user passed `--force`;
 * - no `mkdirSync(..., { recursive: true })` on unchecked paths (it spins forever under /proc on
 *   Node 20): missing directories are created one level at a time below an existing, checked one.
 *
 * Every problem is a {@link ValidationError} naming the flag.
 */
import { closeSync, constants, lstatSync, mkdirSync, openSync, readlinkSync, readSync, rmSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ValidationError } from './errors.ts';

/** What an output file holds; decides which existing files may be replaced without `--force`. */
export type OutputKind = 'model' | 'dataset' | 'sweep-results' | 'report' | 'mpc-result';

const KIND_NAMES: Record<OutputKind, string> = {
  model: 'iclrnn model file',
  dataset: 'iclrnn data set',
  'sweep-results': 'iclrnn sweep results file',
  report: 'iclrnn HTML report',
  'mpc-result': 'iclrnn MPC result file',
};

/** Options of {@link checkOutputPath}. */
export interface OutputPathOptions {
  /** The flag that named the path, e.g. `'--out'` (used in every message). */
  flag: string;
  /** What the file will hold. */
  kind: OutputKind;
  /** Replace an existing file even when it is not an iclrnn file of this kind. */
  force?: boolean;
  /** The flag that allows replacing (named in the refusal); null when the command has none. Default `--force`. */
  forceFlag?: string | null;
}

/** Result of {@link checkOutputPath}. */
export interface CheckedOutput {
  /** The path as given. */
  path: string;
  /** Where the data will be written: the path itself, or the final target of a symlink. */
  target: string;
  /** True when the target exists (and will be replaced). */
  exists: boolean;
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? 'EUNKNOWN';
}

function fail(flag: string, path: string, problem: string, cause?: unknown): never {
  throw new ValidationError(`${flag} ${path}: ${problem}`, { flag, file: path, cause });
}

function lstatOrNull(p: string, flag: string, shown: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (e) {
    const c = code(e);
    if (c === 'ENOENT') return null;
    if (c === 'ENOTDIR') fail(flag, shown, `a part of the path (${dirname(p)}) is not a directory`, e);
    if (c === 'EACCES' || c === 'EPERM') fail(flag, shown, `cannot look at ${p} (permission denied)`, e);
    if (c === 'ENAMETOOLONG') fail(flag, shown, 'the path is too long', e);
    fail(flag, shown, `cannot look at ${p} (${c})`, e);
  }
}

/**
 * Follows a chain of symlinks to its final target, which need not exist (a dangling link is
 * resolved to the path it points at). Throws on a loop. Returns `path` itself when it is no link.
 */
export function resolveSymlinkTarget(path: string, flag = 'path'): string {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    const st = lstatOrNull(p, flag, path);
    if (!st || !st.isSymbolicLink()) return p;
    let link: string;
    try {
      link = readlinkSync(p);
    } catch (e) {
      fail(flag, path, `cannot read the symlink ${p} (${code(e)})`, e);
    }
    p = isAbsolute(link) ? link : join(dirname(p), link);
  }
  fail(flag, path, 'too many levels of symlinks (a symlink loop?)');
}

/** Creates and removes a probe file in `dir`; returns the error code when that is refused. */
function probeWritable(dir: string): string | null {
  const probe = join(dir, `.iclrnn-probe-${process.pid}-${Math.random().toString(36).slice(2)}`);
  let fd: number;
  try {
    fd = openSync(probe, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
  } catch (e) {
    return code(e);
  }
  closeSync(fd);
  rmSync(probe, { force: true });
  return null;
}

function describeWriteError(c: string): string {
  if (c === 'EACCES' || c === 'EPERM') return 'permission denied';
  if (c === 'EROFS') return 'read-only file system';
  if (c === 'ENOSPC') return 'no space left on the device';
  if (c === 'EDQUOT') return 'disk quota exceeded';
  return `files cannot be created there (${c})`;
}

/** Checks that `dir` is an existing directory that accepts new files. */
function checkDirectoryWritable(dir: string, flag: string, shown: string): void {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    const c = code(e);
    if (c === 'ENOENT') {
      const l = lstatOrNull(dir, flag, shown);
      if (l?.isSymbolicLink()) fail(flag, shown, `directory ${dir} is a dangling symlink (to ${resolveSymlinkTarget(dir, flag)})`, e);
      fail(flag, shown, `directory ${dir} does not exist`, e);
    }
    if (c === 'ENOTDIR') fail(flag, shown, `${dir} is not a directory`, e);
    if (c === 'ELOOP') fail(flag, shown, `too many levels of symlinks in ${dir}`, e);
    fail(flag, shown, `cannot look at directory ${dir} (${describeWriteError(c)})`, e);
  }
  if (!st.isDirectory()) fail(flag, shown, `${dir} is not a directory`);
  const c = probeWritable(dir);
  if (c !== null) fail(flag, shown, `cannot write into directory ${dir} (${describeWriteError(c)})`);
}

const SNIFF_BYTES = 64 * 1024;

function head(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const n = readSync(fd, buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** True when the file's beginning shows it is an iclrnn file of this kind. */
export function isIclrnnFileOfKind(path: string, kind: OutputKind): boolean {
  const h = head(path);
  switch (kind) {
    case 'model':
      return /^\s*\{\s*"format"\s*:\s*"iclrnn-model"/.test(h);
    case 'sweep-results':
      return /^\s*\{\s*"format"\s*:\s*"iclrnn-sweep"/.test(h);
    case 'dataset':
      // simulate's CSV (header sample,step,...) or JSON ({"name": ..., "count": ..., "inputNames": ...}).
      return /^sample,step,/.test(h) || (/^\s*\{\s*"name"\s*:/.test(h) && /"inputNames"\s*:/.test(h));
    case 'report':
      return /^\s*<!DOCTYPE html>/i.test(h) && /iclrnn/.test(h);
    case 'mpc-result':
      return /^\s*\{/.test(h) && (/"format"\s*:\s*"iclrnn-mpc"/.test(h) || /"solveSeconds"\s*:/.test(h));
  }
}

function forceHint(o: OutputPathOptions): string {
  const f = o.forceFlag === undefined ? '--force' : o.forceFlag;
  return f ? `pass ${f} to replace it` : 'choose another path or remove it first';
}

/**
 * Checks an output file path before any work starts (see the module comment for the rules).
 * Returns where the data will be written. Throws a {@link ValidationError} naming `flag`.
 */
export function checkOutputPath(path: string, o: OutputPathOptions): CheckedOutput {
  const { flag } = o;
  if (typeof path !== 'string' || path.trim() === '') throw new ValidationError(`${flag} needs a file name`, { flag });
  if (path.includes('\0')) fail(flag, JSON.stringify(path), 'the path contains a NUL character');
  if (path.endsWith('/') || path.endsWith(sep)) fail(flag, path, 'names a directory; give a file name');
  const target = resolveSymlinkTarget(path, flag);
  const st = lstatOrNull(target, flag, path);
  const via = target === path ? '' : ` (symlink to ${target})`;
  if (st) {
    if (st.isDirectory()) fail(flag, path, `is a directory${via}; give a file name`);
    if (!st.isFile()) fail(flag, path, `is not a regular file${via}`);
    if (st.size > 0 && !o.force && !isIclrnnFileOfKind(target, o.kind))
      fail(flag, path, `exists${via} and is not an ${KIND_NAMES[o.kind]}; refusing to overwrite it (${forceHint(o)})`);
  }
  const dir = dirname(target);
  checkDirectoryWritable(dir, flag, path + via);
  // rename() over a read-only file succeeds in a writable directory; honour the file's mode.
  if (st && (st.mode & 0o222) === 0 && !o.force) fail(flag, path, `exists${via} and is read-only (${forceHint(o)})`);
  return { path, target, exists: st !== null };
}

/**
 * Checks an output directory (e.g. `demo --out-dir`) before any work starts: either an existing,
 * writable directory, or a path whose nearest existing ancestor is a writable directory (the
 * missing levels are created later by {@link ensureDirectory}).
 */
export function checkOutputDirectory(dir: string, o: { flag: string }): void {
  const { flag } = o;
  if (typeof dir !== 'string' || dir.trim() === '') throw new ValidationError(`${flag} needs a directory name`, { flag });
  let p = resolve(dir);
  for (;;) {
    const target = resolveSymlinkTarget(p, flag);
    const st = lstatOrNull(target, flag, dir);
    if (st) {
      if (!st.isDirectory()) fail(flag, dir, p === resolve(dir) ? 'exists and is not a directory' : `${p} is not a directory`);
      checkDirectoryWritable(target, flag, dir);
      return;
    }
    const parent = dirname(p);
    if (parent === p) fail(flag, dir, 'no existing directory on the path');
    p = parent;
  }
}

/**
 * Makes sure `dir` exists, creating the missing levels one at a time (never the recursive
 * `mkdirSync`, which spins forever under /proc on Node 20). Throws a {@link ValidationError}.
 */
export function ensureDirectory(dir: string, flag = 'output directory'): void {
  const missing: string[] = [];
  let p = resolve(dir);
  for (;;) {
    let st: Stats | null = null;
    try {
      st = statSync(p);
    } catch (e) {
      const c = code(e);
      if (c !== 'ENOENT') fail(flag, dir, `cannot look at ${p} (${c})`, e);
    }
    if (st) {
      if (!st.isDirectory()) fail(flag, dir, `${p} is not a directory`);
      break;
    }
    if (lstatOrNull(p, flag, dir)?.isSymbolicLink()) {
      // A dangling link to a directory: create the directory it points at.
      missing.push(resolveSymlinkTarget(p, flag));
      const parent = dirname(missing.at(-1)!);
      p = parent;
      continue;
    }
    missing.push(p);
    const parent = dirname(p);
    if (parent === p) fail(flag, dir, 'no existing directory on the path');
    p = parent;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]);
    } catch (e) {
      const c = code(e);
      if (c === 'EEXIST') continue;
      fail(flag, dir, `cannot create directory ${missing[i]} (${describeWriteError(c)})`, e);
    }
  }
}
