/**
 * The one HDF5 wrapper of iclrnn (MAT v7.3 / plain HDF5 in `mat.ts`, Keras weights in `keras.ts`),
 * around `h5wasm`'s Node build (which reads real paths directly, NODERAWFS).
 *
 * - **Lazy**: h5wasm (a few MB of wasm) is imported on the first HDF5 read or write, never at
 *   start-up; {@link loadH5} returns the library once it is ready.
 * - **Throwing**: on first use h5wasm is switched to its throwing error handler, so HDF5 problems
 *   become exceptions (turned into {@link DataError}s naming the file) instead of diagnostics on
 *   stderr; what the wasm runtime still prints itself (`warning: ...`, `HDF5-DIAG ...`) is muted
 *   while h5wasm runs on our behalf.
 * - **Closed**: every file {@link withH5File} opens is closed before it returns, also on errors.
 * - **Poisoned inodes**: HDF5 may keep a file that failed part-way open internally (h5wasm leaks
 *   object ids when an error is thrown), and HDF5 shares one open-file state between opens of the
 *   same inode, so a later open of the same (rewritten) file, or of a new file that reuses the
 *   inode number, could see stale metadata. Such files are read through a fresh temporary copy.
 * - **Bounded**: {@link readNumericDataset} refuses a dataset that claims more bytes than the
 *   file holds (uncompressed) or than {@link MAX_COMPRESSED_BYTES} (compressed), before reading it.
 */
import { copyFile, mkdtemp, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset, File, Group } from 'h5wasm/node';
import { DataError, ValidationError } from './errors.ts';

type H5Lib = (typeof import('h5wasm/node'))['default'];
/** The loaded h5wasm library (classes `File`, `Group`, `Dataset`, ...). */
export type H5 = H5Lib;
/** The h5wasm emscripten module (type-class constants, ...). */
export type H5Module = Awaited<H5Lib['ready']>;
export type H5File = File;
export type H5Group = Group;
export type H5Dataset = Dataset;
/** Anything with HDF5 attributes (file, group, dataset). */
export interface H5HasAttrs {
  attrs: Record<string, { value: unknown }>;
}

/** Largest decompressed dataset read from a compressed (filtered) dataset. */
export const MAX_COMPRESSED_BYTES = 2 ** 30;

let loading: Promise<{ lib: H5Lib; mod: H5Module }> | undefined;

/** Imports h5wasm on first use (and switches it to throwing errors); later calls reuse it. */
export async function loadH5(): Promise<{ lib: H5Lib; mod: H5Module }> {
  loading ??= import('h5wasm/node').then(async (ns) => {
    const lib = ns.default;
    const mod = await lib.ready;
    mod.activate_throwing_error_handler();
    return { lib, mod };
  });
  return loading;
}

/** Whether h5wasm has been loaded (by {@link loadH5}) in this process. */
export function isH5Loaded(): boolean {
  return loading !== undefined;
}

/** The most specific reason in an h5wasm error message (the innermost `in H5x(): reason`). */
export function h5Reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg.split('\n');
  const reasons: string[] = [];
  for (const l of lines) {
    const m = /in [\w.]+\(\): (.*)$/.exec(l);
    if (m) reasons.push(m[1].trim());
  }
  if (reasons.length > 0) return `HDF5: ${reasons[reasons.length - 1]}`;
  const first = lines.find((l) => l.trim() !== '') ?? 'unknown error';
  return first.length > 200 ? first.slice(0, 200) + '...' : first;
}

const poisoned = new Set<string>();
let tmpCounter = 0;

async function inodeKey(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * The wasm runtime reports some conditions (e.g. invalid UTF-8 in names of a corrupt file) with
 * `console.error`, bound at load time, so it cannot be redirected. While h5wasm runs
 * synchronously on our behalf, lines it writes to stderr that start with `warning: ` (emscripten)
 * or `HDF5-DIAG` are dropped; anything else passes through. Returns the function that restores
 * stderr.
 */
function muteWasmDiagnostics(): () => void {
  const stderr = process.stderr;
  const original = stderr.write;
  const filtered = function (this: unknown, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : '';
    if (text.startsWith('warning: ') || text.startsWith('HDF5-DIAG')) {
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) cb();
      return true;
    }
    return (original as (...a: unknown[]) => boolean).call(stderr, chunk, ...rest);
  };
  stderr.write = filtered as typeof stderr.write;
  return () => {
    stderr.write = original;
  };
}

/** Context handed to the body of {@link withH5File}. */
export interface H5Context {
  lib: H5Lib;
  mod: H5Module;
  /** Size of the file in bytes (bounds what a dataset may claim). */
  fileSize: number;
  /** The name used in error messages. */
  label: string;
}

/**
 * Runs `body` on the HDF5 file at `path` opened read-only, closing it afterwards. Failures to open
 * or read become {@link DataError}s naming `label` (default: the path); ValidationErrors thrown by
 * the body (DataError, ModelFileError) pass through unchanged.
 */
export async function withH5File<T>(path: string, body: (f: H5File, ctx: H5Context) => T, label = path): Promise<T> {
  const { lib, mod } = await loadH5();
  let openPath = path;
  let tmp: string | undefined;
  let fileSize = 0;
  try {
    fileSize = (await stat(path)).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${label}: file not found` : `${label}: cannot read file (${code ?? (e as Error).message})`, { file: label, cause: e });
  }
  const key = await inodeKey(path);
  if (key === undefined || poisoned.has(key)) {
    tmp = join(tmpdir(), `iclrnn-h5-${process.pid}-${++tmpCounter}-${Math.random().toString(36).slice(2)}.h5`);
    try {
      await copyFile(path, tmp);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw new DataError(`${label}: cannot read file: ${(e as Error).message}`, { file: label, cause: e });
    }
    openPath = tmp;
  }
  const poison = async (): Promise<void> => {
    if (key !== undefined) poisoned.add(key);
    if (tmp !== undefined) {
      const k = await inodeKey(tmp);
      if (k !== undefined) poisoned.add(k);
    }
  };
  try {
    let f: H5File;
    const restoreOpen = muteWasmDiagnostics();
    try {
      f = new lib.File(openPath, 'r');
    } catch (e) {
      restoreOpen();
      await poison();
      throw new DataError(`${label}: cannot open as HDF5 (truncated or corrupt file?): ${h5Reason(e)}`, { file: label, cause: e });
    }
    restoreOpen();
    let failure: unknown;
    let result: T | undefined;
    const restore = muteWasmDiagnostics();
    try {
      try {
        result = body(f, { lib, mod, fileSize, label });
      } catch (e) {
        failure = e;
      }
      try {
        f.close();
      } catch (e) {
        failure ??= e;
      }
    } finally {
      restore();
    }
    if (failure !== undefined) {
      if (failure instanceof ValidationError) throw failure;
      await poison();
      throw new DataError(`${label}: cannot read HDF5 content (corrupt file?): ${h5Reason(failure)}`, { file: label, cause: failure });
    }
    return result as T;
  } finally {
    if (tmp !== undefined) await unlink(tmp).catch(() => undefined);
  }
}

/** {@link withH5File} on HDF5 content held in memory (e.g. the weights inside a `.keras` zip). */
export async function withH5Bytes<T>(bytes: Uint8Array, label: string, body: (f: H5File, ctx: H5Context) => T): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'iclrnn-h5-'));
  try {
    const p = join(dir, 'content.h5');
    await writeFile(p, bytes);
    return await withH5File(p, body, label);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Creates (replaces) an HDF5 file at `path`, runs `body` on it and closes it. Write failures become
 * DataErrors naming `label`. Used by the MAT writer and by tests that build HDF5 files.
 */
export async function createH5File(path: string, body: (f: H5File, lib: H5Lib) => void, options: { libver?: [string, string]; label?: string } = {}): Promise<void> {
  const { lib } = await loadH5();
  const label = options.label ?? path;
  let f: H5File;
  try {
    f = options.libver
      ? new lib.File(path, 'w', { libver: options.libver as [never, never] })
      : new lib.File(path, 'w');
  } catch (e) {
    throw new DataError(`${label}: cannot create file: ${h5Reason(e)}`, { file: label, cause: e });
  }
  try {
    body(f, lib);
  } catch (e) {
    if (e instanceof ValidationError || e instanceof RangeError) throw e;
    throw new DataError(`${label}: cannot write HDF5 data: ${h5Reason(e)}`, { file: label, cause: e });
  } finally {
    f.close();
  }
}

/** True when `entity` has an attribute `name`. */
export function hasAttr(entity: H5HasAttrs, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(entity.attrs, name);
}

function attrText(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return new TextDecoder().decode(x).replace(/\0+$/, '');
  return String(x);
}

/**
 * An attribute read as a list of strings: a string array (variable- or fixed-length) gives its
 * entries, a scalar string one entry, and an **empty array of any type** (h5py writes
 * `np.array([])`, float64 of shape (0,), for an empty list) gives `[]`. Undefined when absent.
 * A non-empty numeric array gives its numbers as text.
 */
export function attrStrings(entity: H5HasAttrs, name: string): string[] | undefined {
  if (!hasAttr(entity, name)) return undefined;
  const v = entity.attrs[name].value;
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map(attrText);
  if (ArrayBuffer.isView(v)) {
    const arr = v as unknown as ArrayLike<unknown>;
    if (arr.length === 0) return [];
    if (v instanceof Uint8Array) return [attrText(v)];
    return Array.from(arr, (x) => String(x));
  }
  return [attrText(v)];
}

/** An attribute as one string (the first entry of a string array), undefined when absent. */
export function attrString(entity: H5HasAttrs, name: string): string | undefined {
  if (!hasAttr(entity, name)) return undefined;
  const v = entity.attrs[name].value;
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  if (v instanceof Uint8Array) return attrText(v);
  return String(v);
}

/** True when the attribute exists and is non-zero / non-empty. */
export function attrTruthy(entity: H5HasAttrs, name: string): boolean {
  if (!hasAttr(entity, name)) return false;
  const v = entity.attrs[name].value;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>).some((x) => Number(x) !== 0);
  return Boolean(v) && v !== 0;
}

/**
 * Reads a numeric (integer or float) dataset as float64, row-major in the stored shape. Throws a
 * DataError naming `label` and `variable` for non-numeric data, a size the file cannot hold
 * (corrupt or truncated file) or a value count that does not match the shape.
 */
export function readNumericDataset(d: H5Dataset, ctx: Pick<H5Context, 'fileSize' | 'label'>, variable: string): { shape: number[]; data: Float64Array } {
  const { label } = ctx;
  const meta = d.metadata;
  if (meta.type !== 1 /* H5T_FLOAT */ && meta.type !== 0 /* H5T_INTEGER */)
    throw new DataError(`${label}: '${variable}' is not numeric (HDF5 type class ${meta.type})`, { file: label, variable });
  const shape = meta.shape ?? [];
  const total = shape.reduce((a, b) => a * b, 1);
  const nbytes = total * meta.size;
  const filtered = d.filters.length > 0;
  const limit = filtered ? MAX_COMPRESSED_BYTES : ctx.fileSize;
  if (nbytes > limit)
    throw new DataError(
      `${label}: '${variable}' claims ${nbytes} bytes of data (shape [${shape.join(', ')}]), more than ` +
        (filtered ? `the supported limit of ${limit} bytes` : `the file holds (${ctx.fileSize} bytes): corrupt or truncated file`),
      { file: label, variable },
    );
  const v = d.value;
  if (v === null || typeof v !== 'object' || !ArrayBuffer.isView(v)) throw new DataError(`${label}: '${variable}': HDF5 returned no numeric data`, { file: label, variable });
  const arr = v as unknown as ArrayLike<number | bigint>;
  if (arr.length !== total)
    throw new DataError(`${label}: '${variable}': read ${arr.length} values, expected ${total} for shape [${shape.join(', ')}] (corrupt file)`, { file: label, variable });
  const data = new Float64Array(total);
  for (let i = 0; i < total; i++) data[i] = Number(arr[i]);
  return { shape, data };
}
