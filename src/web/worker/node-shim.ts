/**
 * A minimal stand-in for the `node:fs`, `node:fs/promises`, `node:os` and `node:path` functions the
 * library's file readers (Keras, MAT, CSV) use, backed by h5wasm's in-memory Emscripten file system.
 * scripts/build-web.mjs maps those imports here for the worker bundle only, so the page imports
 * dropped files with exactly the library code the CLI runs. {@link ready} must resolve before use.
 */
import * as h5 from 'h5wasm';

/** The subset of the Emscripten FS API used here. */
interface EmFs {
  readFile(path: string, opts?: { encoding?: 'binary' | 'utf8' }): Uint8Array | string;
  writeFile(path: string, data: Uint8Array | string): void;
  mkdir(path: string): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  readdir(path: string): string[];
  stat(path: string): { size: number; mode: number; mtime: Date };
  isDir(mode: number): boolean;
  analyzePath(path: string): { exists: boolean };
}

/** Resolves when the in-memory file system is usable. */
export const ready: Promise<unknown> = h5.ready;

function fs(): EmFs {
  const f = (h5 as unknown as { FS: EmFs | null }).FS;
  if (!f) throw new Error('the in-memory file system is not ready (await ready first)');
  return f;
}

function enoent(path: string, op: string): Error {
  const e = new Error(`ENOENT: no such file or directory, ${op} '${path}'`) as Error & { code: string; path: string };
  e.code = 'ENOENT';
  e.path = path;
  return e;
}

function need(path: string, op: string): string {
  const p = String(path);
  if (!fs().analyzePath(p).exists) throw enoent(p, op);
  return p;
}

type Encoding = 'utf8' | 'utf-8' | { encoding?: string | null } | null | undefined;
const wantsText = (enc: Encoding) => (typeof enc === 'string' ? /^utf-?8$/i.test(enc) : !!enc?.encoding && /^utf-?8$/i.test(enc.encoding));

// ---------------------------------------------------------------------------------------------
// node:path (POSIX)

function normalize(p: string): string {
  const abs = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return (abs ? '/' : '') + out.join('/') || (abs ? '/' : '.');
}
export const sep = '/';
export function join(...parts: string[]): string {
  return normalize(parts.filter((s) => s !== '').join('/'));
}
export function resolve(...parts: string[]): string {
  let p = '';
  for (const s of parts) p = s.startsWith('/') ? s : p ? `${p}/${s}` : s;
  return normalize(p.startsWith('/') ? p : `/${p}`);
}
export function basename(p: string, ext?: string): string {
  const b = p.replace(/\/+$/, '').split('/').pop() ?? '';
  return ext && b.endsWith(ext) ? b.slice(0, -ext.length) : b;
}
export function dirname(p: string): string {
  const i = p.replace(/\/+$/, '').lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}
export function extname(p: string): string {
  const b = basename(p);
  const i = b.lastIndexOf('.');
  return i <= 0 ? '' : b.slice(i);
}
export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}
export function relative(from: string, to: string): string {
  return to.startsWith(from + '/') ? to.slice(from.length + 1) : to;
}

// ---------------------------------------------------------------------------------------------
// node:os

export function tmpdir(): string {
  return '/tmp';
}

// ---------------------------------------------------------------------------------------------
// node:fs (sync)

export function existsSync(path: string): boolean {
  return fs().analyzePath(String(path)).exists;
}
export function readFileSync(path: string, enc?: Encoding): Uint8Array | string {
  const p = need(path, 'open');
  const bytes = fs().readFile(p, { encoding: 'binary' }) as Uint8Array;
  return wantsText(enc) ? new TextDecoder().decode(bytes) : bytes;
}
export function writeFileSync(path: string, data: Uint8Array | string): void {
  fs().writeFile(String(path), data);
}
export function mkdirSync(path: string, opts?: { recursive?: boolean }): void {
  const p = normalize(String(path));
  if (opts?.recursive) {
    let cur = '';
    for (const part of p.split('/').filter(Boolean)) {
      cur += '/' + part;
      if (!fs().analyzePath(cur).exists) fs().mkdir(cur);
    }
  } else fs().mkdir(p);
}
let tempCounter = 0;
export function mkdtempSync(prefix: string): string {
  for (;;) {
    const p = `${prefix}${(++tempCounter).toString(36).padStart(6, '0')}`;
    if (!fs().analyzePath(p).exists) {
      mkdirSync(dirname(p), { recursive: true });
      fs().mkdir(p);
      return p;
    }
  }
}
export function rmSync(path: string, opts?: { recursive?: boolean; force?: boolean }): void {
  const p = String(path);
  if (!fs().analyzePath(p).exists) {
    if (opts?.force) return;
    throw enoent(p, 'rm');
  }
  const st = fs().stat(p);
  if (fs().isDir(st.mode)) {
    for (const name of fs().readdir(p)) if (name !== '.' && name !== '..') rmSync(join(p, name), { recursive: true, force: true });
    fs().rmdir(p);
  } else fs().unlink(p);
}
export function unlinkSync(path: string): void {
  fs().unlink(need(path, 'unlink'));
}
export function renameSync(from: string, to: string): void {
  fs().rename(need(from, 'rename'), String(to));
}
export function copyFileSync(from: string, to: string): void {
  fs().writeFile(String(to), readFileSync(from) as Uint8Array);
}
export function statSync(path: string) {
  const st = fs().stat(need(path, 'stat'));
  const dir = fs().isDir(st.mode);
  return { size: st.size, mtime: st.mtime, mtimeMs: +st.mtime, isDirectory: () => dir, isFile: () => !dir };
}
export function readdirSync(path: string): string[] {
  return fs().readdir(need(path, 'scandir')).filter((n) => n !== '.' && n !== '..');
}

// ---------------------------------------------------------------------------------------------
// node:fs/promises

/** The part of a `FileHandle` the readers use. */
class FileHandle {
  constructor(private readonly path: string) {}
  async read(
    a: Uint8Array | { buffer?: Uint8Array; offset?: number; length?: number; position?: number | null },
    offset?: number,
    length?: number,
    position?: number | null,
  ): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    const o = a instanceof Uint8Array ? { buffer: a, offset, length, position } : a;
    const buffer = o.buffer ?? new Uint8Array(16384);
    const off = o.offset ?? 0;
    const len = o.length ?? buffer.length - off;
    const pos = o.position ?? 0;
    const bytes = fs().readFile(this.path, { encoding: 'binary' }) as Uint8Array;
    const chunk = bytes.subarray(pos, Math.min(bytes.length, pos + len));
    buffer.set(chunk, off);
    return { bytesRead: chunk.length, buffer };
  }
  async readFile(enc?: Encoding): Promise<Uint8Array | string> {
    return readFileSync(this.path, enc);
  }
  async stat() {
    return statSync(this.path);
  }
  async close(): Promise<void> {}
}

export async function open(path: string, flags: string = 'r'): Promise<FileHandle> {
  const p = String(path);
  if (flags.startsWith('r')) need(p, 'open');
  else if (!existsSync(p)) writeFileSync(p, new Uint8Array(0));
  return new FileHandle(p);
}
export async function readFile(path: string, enc?: Encoding): Promise<Uint8Array | string> {
  return readFileSync(path, enc);
}
export async function writeFile(path: string, data: Uint8Array | string): Promise<void> {
  writeFileSync(path, data);
}
export async function stat(path: string) {
  return statSync(path);
}
export async function copyFile(from: string, to: string): Promise<void> {
  copyFileSync(from, to);
}
export async function rename(from: string, to: string): Promise<void> {
  renameSync(from, to);
}
export async function unlink(path: string): Promise<void> {
  unlinkSync(path);
}
export async function mkdir(path: string, opts?: { recursive?: boolean }): Promise<void> {
  mkdirSync(path, opts);
}
export async function mkdtemp(prefix: string): Promise<string> {
  return mkdtempSync(prefix);
}
export async function rm(path: string, opts?: { recursive?: boolean; force?: boolean }): Promise<void> {
  rmSync(path, opts);
}
export async function readdir(path: string): Promise<string[]> {
  return readdirSync(path);
}

export const promises = { open, readFile, writeFile, stat, copyFile, rename, unlink, mkdir, mkdtemp, rm, readdir };
export default { existsSync, readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, renameSync, copyFileSync, statSync, readdirSync, promises, tmpdir, join, resolve, basename, dirname, extname };
