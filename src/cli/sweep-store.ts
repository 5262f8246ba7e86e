/**
 * The results file of a sweep on disk: every save takes an exclusive lock on the file
 * (proper-lockfile: a `<file>.lock` directory, refreshed while held, taken over when stale), reads
 * what is there, merges this run's cells in (nothing finished by another run is lost) and replaces
 * the file atomically. Two sweeps writing the same file (in-process runs, queue coordinators, or a
 * mix) therefore both keep their cells.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { DataError } from '../core/errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { ensureDirectory } from '../io/output-path.ts';
import { mergeSweepResults, parseSweepResults, type SweepResults } from '../train/sweep.ts';

/** A lock older than this (ms without refresh) belongs to a dead process and is taken over. */
const STALE_MS = 5000;

/** Reads a results file as parsed JSON (null when it does not exist). */
export function readSweepFile(path: string): unknown {
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read the results file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path, cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${(e as Error).message}); the results file is corrupt`, { file: path, cause: e });
  }
}

/** Runs `fn` holding the results file's lock (waits up to ~30 s for another holder). */
export async function withSweepFileLock<T>(path: string, fn: () => T | Promise<T>): Promise<T> {
  let release: () => Promise<void>;
  ensureDirectory(dirname(path), '--out');
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: STALE_MS,
      retries: { retries: 60, factor: 1.2, minTimeout: 20, maxTimeout: 500 },
      onCompromised: () => {
        // The lock was taken over (this process stalled longer than STALE_MS); the write below is
        // still a merge of what is on disk, so nothing is lost.
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw new DataError(`${path}: cannot lock the results file (${(e as Error).message})`, { file: path, cause: e });
    throw new DataError(`${path}: the results file is locked by another sweep (${path}.lock) and was not released in time; if no other sweep runs, remove ${path}.lock`, { file: path, cause: e });
  }
  try {
    return await fn();
  } finally {
    await release().catch(() => {});
  }
}

/**
 * Saves a sweep's results: under the lock, merges them with the file's current content (same
 * configuration required) and writes the merged object atomically. Returns what was written.
 * @throws SweepConfigMismatchError when the file now holds another configuration
 */
export async function saveSweepResults(path: string, mine: SweepResults): Promise<SweepResults> {
  return withSweepFileLock(path, () => {
    const onDisk = readSweepFile(path);
    const merged = onDisk === null ? mine : mergeSweepResults(parseSweepResults(onDisk), mine);
    writeFileAtomic(path, JSON.stringify(merged, null, 1) + '\n');
    return merged;
  });
}
