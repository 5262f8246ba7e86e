/** Atomic file writes: write a temporary file beside the target, then rename it over the target. */
import { chmodSync, chownSync, closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ValidationError } from './errors.ts';
import { ensureDirectory, resolveSymlinkTarget } from './output-path.ts';

/**
 * Writes `data` to `path` so that readers see either the old file or the complete new one, never
 * a half-written file. When `path` is a symlink the link's final target is replaced (the link stays
 * a link); an existing file keeps its permission bits (and, for root, its owner). Missing parent
 * directories are created one level at a time (see `ensureDirectory`).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const target = resolveSymlinkTarget(path, 'output');
  const dir = dirname(target);
  ensureDirectory(dir, 'output');
  let mode: number | null = null, owner: { uid: number; gid: number } | null = null;
  try {
    const st = statSync(target);
    if (st.isFile()) {
      mode = st.mode & 0o7777;
      owner = { uid: st.uid, gid: st.gid };
    }
  } catch {
    // a new file: the default mode (0666 less the umask)
  }
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode ?? 0o666);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (mode !== null) chmodSync(tmp, mode); // openSync's mode is masked by the umask
    if (owner && typeof process.getuid === 'function' && process.getuid() === 0) {
      try {
        chownSync(tmp, owner.uid, owner.gid);
      } catch {
        // keep root's ownership when the file system refuses
      }
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    const c = (e as NodeJS.ErrnoException).code;
    if (typeof c === 'string') throw new ValidationError(`cannot write ${path}${target === path ? '' : ` (symlink to ${target})`}: ${c} (${(e as Error).message})`, { file: path, cause: e });
    throw e;
  }
}
