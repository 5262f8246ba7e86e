/**
 * Reading and writing MATLAB `.mat` files and plain HDF5 files as real 2-D matrices.
 *
 * Formats read:
 * - MATLAB v7.3 (an HDF5 file behind a 512-byte text header), read with `h5wasm`;
 * - plain HDF5 files (no MATLAB header), read with `h5wasm`;
 * - MATLAB v5 / v6 / v7 (`'MATLAB 5.0 MAT-file'` header, little- or big-endian), numeric
 *   matrices stored plainly or zlib-compressed (`miCOMPRESSED`, v7), parsed here (fflate inflates).
 * MATLAB v4 files (no text header) are rejected with a message asking to save with `-v7.3`.
 *
 * Readable variables: real numeric 2-D arrays of class double, single, int8 ... uint64 or logical
 * (converted to float64). Cells, structs, char arrays, sparse and complex matrices, objects,
 * N-D arrays (N > 2) are reported as unreadable with the reason.
 *
 * Orientation. MATLAB stores arrays column-major, so a MATLAB `m x n` matrix is an HDF5 dataset of
 * shape `[n, m]` (and a v5 element with dimensions `[m, n]` holding column-major data). Every
 * matrix returned here is row-major (`data[r * cols + c]`) with `rows x cols` chosen by
 * {@link MatOrientation}: `'matlab'` gives the matrix as MATLAB shows it; `'hdf5'` gives the
 * dimensions as stored in HDF5 (what h5py / numpy show: the transpose of MATLAB's view); `'auto'`
 * (default) means `'matlab'` for MAT-files (v5, or HDF5 with the `MATLAB 7.3 MAT-file` header)
 * and `'hdf5'` for plain HDF5 files. A 1-D dataset of length n is returned as an n x 1 column, a
 * scalar dataset as 1 x 1. Rows and columns in error messages are 1-based, in the returned
 * orientation.
 *
 * Note on the energy file of REFERENCE section 2: its HDF5 datasets have shape `[20001, 2]`, so in
 * MATLAB orientation `U` and `Y` are 2 x 20001 (time along columns); the reference Python code
 * (h5py) sees 20001 x 2. `loadEnergyDataset` orients them time-major either way.
 *
 * HDF5 goes through the shared wrapper `h5.ts` (h5wasm loaded on first use; every file closed
 * before the function returns, also on errors; HDF5 problems become {@link DataError}s instead
 * of diagnostics printed to stderr; files that failed part-way are re-read through a copy).
 *
 * Every problem with the input is thrown as a {@link DataError} naming the file (and variable,
 * row and column where relevant).
 *
 * Size (about 680 lines): one file format: the MATLAB v5 parser (tags, compression, classes, byte
 * order) and the HDF5 / v7.3 path share the matrix checks and the one-line error messages; the HDF5
 * wrapper is `h5.ts`.
 */
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { attrString, attrTruthy, createH5File, readNumericDataset, withH5File, type H5, type H5Dataset, type H5File, type H5Module } from './h5.ts';
import { unzlibSync } from 'fflate';
import { DataError } from './errors.ts';
import type { NumericMatrix } from '../systems/timeseries.ts';
import { ValidationError } from '../core/errors.ts';

/** A real matrix read from or written to a MAT / HDF5 file: row-major `rows x cols` float64. */
export type MatMatrix = NumericMatrix;

/** How the dimensions of stored arrays map to rows and columns (see the module documentation). */
export type MatOrientation = 'auto' | 'matlab' | 'hdf5';

/** The detected container format of a file. */
export type MatFormat = 'v7.3' | 'hdf5' | 'v5';

/** Options for reading. */
export interface MatReadOptions {
  /** Default `'auto'`: MATLAB orientation for MAT-files, HDF5 (C-order) orientation for plain HDF5. */
  orientation?: MatOrientation;
  /** Accept NaN / Inf values. Default false: the first non-finite value throws a DataError. */
  allowNonFinite?: boolean;
}

/** What a file holds under one name. */
export interface MatVariableInfo {
  /** Variable name (top-level name in the file). */
  name: string;
  /** MATLAB class (`'double'`, `'cell'`, `'struct'`, `'char'`, ...), or a description of the HDF5 type for plain HDF5 files. */
  class: string;
  /** Dimensions in the requested orientation (rows, cols for 2-D). */
  dims: number[];
  /** Whether {@link readMatVariable} can return it as a real 2-D matrix. */
  readable: boolean;
  /** Why it is not readable (when `readable` is false). */
  reason?: string;
}

/** Options for {@link writeMatFile}. */
export interface MatWriteOptions {
  /**
   * `'v7.3'` (default): MATLAB v7.3 layout: 512-byte MATLAB header, each matrix stored as MATLAB
   * does (HDF5 shape `[cols, rows]`, column-major), `MATLAB_class` attribute `'double'`.
   * `'hdf5'`: a plain HDF5 file, each matrix stored as an HDF5 dataset of shape `[rows, cols]`.
   * Either way, reading back with the default `'auto'` orientation returns the same matrices.
   */
  format?: 'v7.3' | 'hdf5';
}

type H5Entity = ReturnType<H5File['get']>;

// ---------------------------------------------------------------------------------------------
// format detection

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

interface Detected {
  format: MatFormat;
  size: number;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < Math.min(end, bytes.length); i++) s += String.fromCharCode(bytes[i]);
  return s;
}

async function detect(path: string): Promise<Detected> {
  let size: number;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new DataError(`${path}: cannot read file: ${(e as Error).message}`, { file: path, cause: e });
  }
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new DataError(`${path}: cannot open file: ${(e as Error).message}`, { file: path, cause: e });
  }
  try {
    const head = new Uint8Array(Math.min(size, 128));
    await fh.read(head, 0, head.length, 0);
    const sig = new Uint8Array(8);
    for (let off = 0; off + 8 <= size; off = off === 0 ? 512 : off * 2) {
      await fh.read(sig, 0, 8, off);
      if (HDF5_SIGNATURE.every((b, i) => sig[i] === b)) {
        const isMat = ascii(head, 0, 19) === 'MATLAB 7.3 MAT-file' || (off > 0 && ascii(head, 0, 7) === 'MATLAB ');
        return { format: isMat ? 'v7.3' : 'hdf5', size };
      }
    }
    const text = ascii(head, 0, 19);
    if (text === 'MATLAB 7.3 MAT-file') {
      throw new DataError(`${path}: has a MATLAB 7.3 header but no HDF5 superblock: the file is truncated or corrupt`, { file: path });
    }
    if (text === 'MATLAB 5.0 MAT-file' || (head.length === 128 && ascii(head, 0, 7) === 'MATLAB ' && /IM|MI/.test(ascii(head, 126, 128)))) {
      if (size < 128) throw new DataError(`${path}: MAT-file header is truncated (${size} bytes)`, { file: path });
      return { format: 'v5', size };
    }
    throw new DataError(
      `${path}: not a MATLAB MAT-file (v5/v7/v7.3) or HDF5 file: no 'MATLAB 5.0 MAT-file' header and no HDF5 signature` +
        ` (${size} bytes; MATLAB v4 files are not supported: save with save(..., '-v7.3'))`,
      { file: path },
    );
  } finally {
    await fh.close();
  }
}

/** Detects the container format of a file (`'v7.3'`, `'hdf5'` or `'v5'`); throws {@link DataError} otherwise. */
export async function matFileFormat(path: string): Promise<MatFormat> {
  return (await detect(path)).format;
}

// ---------------------------------------------------------------------------------------------
// common: stored array -> oriented matrix

/** An array as stored: C-order shape and data (for MAT-files, the reverse of MATLAB's dims). */
interface Stored {
  shape: number[];
  data: Float64Array;
}

const NUMERIC_CLASSES = new Set(['double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'logical']);

function resolveOrientation(o: MatOrientation | undefined, format: MatFormat): 'matlab' | 'hdf5' {
  if (o === undefined || o === 'auto') return format === 'hdf5' ? 'hdf5' : 'matlab';
  if (o !== 'matlab' && o !== 'hdf5') throw new ValidationError(`orientation must be 'auto', 'matlab' or 'hdf5', got ${String(o)}`);
  return o;
}

/** Dimensions as the caller will see them (MATLAB orientation reverses the stored shape). */
function orientedDims(shape: number[], orientation: 'matlab' | 'hdf5'): number[] {
  if (shape.length === 0) return [1, 1];
  if (shape.length === 1) return [shape[0], 1];
  return orientation === 'matlab' ? [...shape].reverse() : [...shape];
}

function dimsText(dims: number[]): string {
  return dims.join('x');
}

function toMatrix(stored: Stored, orientation: 'matlab' | 'hdf5', file: string, name: string, allowNonFinite: boolean): MatMatrix {
  const { shape, data } = stored;
  let m: MatMatrix;
  if (shape.length <= 1) {
    m = { rows: shape.length === 0 ? 1 : shape[0], cols: 1, data };
  } else if (shape.length === 2) {
    const [a, b] = shape;
    if (orientation === 'hdf5') {
      m = { rows: a, cols: b, data };
    } else {
      const out = new Float64Array(a * b);
      for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = data[i * b + j];
      m = { rows: b, cols: a, data: out };
    }
  } else {
    const dims = orientedDims(shape, orientation);
    throw new DataError(`${file}: variable "${name}" is ${dimsText(dims)} (${dims.length}-D); only 2-D matrices are supported`, {
      file,
      variable: name,
    });
  }
  if (m.data.length !== m.rows * m.cols) {
    throw new DataError(`${file}: variable "${name}" holds ${m.data.length} values but its dimensions are ${m.rows}x${m.cols} (corrupt file)`, {
      file,
      variable: name,
    });
  }
  if (!allowNonFinite) {
    for (let k = 0; k < m.data.length; k++) {
      if (!Number.isFinite(m.data[k])) {
        const row = Math.floor(k / m.cols) + 1;
        const col = (k % m.cols) + 1;
        throw new DataError(
          `${file}: variable "${name}" (${m.rows}x${m.cols}, ${orientation === 'matlab' ? 'MATLAB' : 'HDF5'} orientation), ` +
            `row ${row}, column ${col}: value ${m.data[k]} is not a finite number`,
          { file, variable: name, row, column: col },
        );
      }
    }
  }
  return m;
}

function missing(file: string, name: string, infos: MatVariableInfo[]): DataError {
  const names = infos.map((v) => `"${v.name}"`).join(', ');
  return new DataError(`${file}: no variable "${name}"; available: ${names === '' ? '(none)' : names}`, { file, variable: name });
}

function unreadable(file: string, info: MatVariableInfo): DataError {
  return new DataError(`${file}: variable "${info.name}" cannot be read as a real matrix: ${info.reason ?? 'unsupported'}`, {
    file,
    variable: info.name,
  });
}

// ---------------------------------------------------------------------------------------------
// HDF5 (v7.3 and plain)

interface H5Classified {
  info: MatVariableInfo;
  dataset?: H5Dataset;
  empty?: boolean;
}

function classifyH5(lib: H5, mod: H5Module, entity: H5Entity, name: string, orientation: 'matlab' | 'hdf5'): H5Classified {
  const T = mod.H5T_class_t;
  const bad = (cls: string, reason: string, dims: number[] = []): H5Classified => ({ info: { name, class: cls, dims, readable: false, reason } });
  if (entity === null) return bad('unknown', 'the name does not resolve to an object (broken link?)');
  if (entity instanceof lib.Group) {
    const cls = attrString(entity, 'MATLAB_class');
    if (attrTruthy(entity, 'MATLAB_sparse')) return bad(cls ?? 'sparse', `sparse matrices are not supported (convert with full())`);
    if (cls !== undefined) return bad(cls, `MATLAB class "${cls}" is not a numeric matrix`);
    return bad('group', 'it is an HDF5 group, not a dataset');
  }
  if (!(entity instanceof lib.Dataset)) return bad(String((entity as { type?: unknown }).type ?? 'object'), 'it is not a dataset');
  const meta = entity.metadata;
  const shape = meta.shape ?? [];
  const dims = orientedDims(shape, orientation);
  const cls = attrString(entity, 'MATLAB_class');
  if (cls !== undefined && !NUMERIC_CLASSES.has(cls)) return bad(cls, `MATLAB class "${cls}" is not a numeric matrix`, dims);
  if (attrTruthy(entity, 'MATLAB_empty')) return { info: { name, class: cls ?? 'double', dims: [0, 0], readable: true }, empty: true };
  let typeName: string;
  if (meta.type === T.H5T_FLOAT.value) typeName = `float${meta.size * 8}`;
  else if (meta.type === T.H5T_INTEGER.value) typeName = `${meta.signed ? 'int' : 'uint'}${meta.size * 8}`;
  else if (meta.type === T.H5T_COMPOUND.value) {
    const members = meta.compound_type?.members.map((m) => m.name) ?? [];
    const complex = members.includes('real') && members.includes('imag');
    return bad(cls ?? 'compound', complex ? 'complex data are not supported' : 'compound (record) data are not supported', dims);
  } else if (meta.type === T.H5T_STRING.value) return bad(cls ?? 'string', 'string data are not numeric', dims);
  else if (meta.type === T.H5T_REFERENCE.value) return bad(cls ?? 'reference', 'object references (e.g. a cell array) are not numeric', dims);
  else return bad(cls ?? `HDF5 type class ${meta.type}`, `HDF5 type class ${meta.type} is not numeric`, dims);
  const klass = cls ?? typeName;
  if (meta.type === T.H5T_FLOAT.value && meta.size !== 4 && meta.size !== 8) return bad(klass, `${meta.size * 8}-bit floats are not supported`, dims);
  if (![1, 2, 4, 8].includes(meta.size)) return bad(klass, `${meta.size}-byte integers are not supported`, dims);
  if (meta.size > 1 && !meta.littleEndian) return bad(klass, 'big-endian datasets are not supported', dims);
  if (shape.length > 2) return bad(klass, `it is ${dimsText(dims)} (${shape.length}-D); only 2-D matrices are supported`, dims);
  return { info: { name, class: klass, dims, readable: true }, dataset: entity };
}

function readH5Stored(c: H5Classified, file: string, fileSize: number): Stored {
  return readNumericDataset(c.dataset!, { label: file, fileSize }, c.info.name);
}

/** Runs `body` on an open HDF5 file through the shared wrapper (closed afterwards; failures become DataErrors). */
function withH5<T>(path: string, body: (f: H5File, lib: H5, mod: H5Module) => T): Promise<T> {
  return withH5File(path, (f, ctx) => body(f, ctx.lib, ctx.mod));
}

function h5TopNames(f: H5File): string[] {
  return f.keys().filter((k) => !k.startsWith('#'));
}

function h5Infos(f: H5File, lib: H5, mod: H5Module, orientation: 'matlab' | 'hdf5'): H5Classified[] {
  return h5TopNames(f).map((k) => classifyH5(lib, mod, f.get(k), k, orientation));
}

// ---------------------------------------------------------------------------------------------
// MAT v5

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18,
} as const;

const MI_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };

const MX_CLASS: Record<number, string> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
  16: 'function_handle',
  17: 'opaque',
};

interface V5Var {
  info: MatVariableInfo;
  stored?: Stored;
}

interface Element {
  type: number;
  nbytes: number;
  dataPos: number;
  next: number;
}

class V5Reader {
  constructor(
    readonly view: DataView,
    readonly le: boolean,
    readonly file: string,
    readonly where: string,
  ) {}

  corrupt(msg: string): DataError {
    return new DataError(`${this.file}: corrupt or truncated MAT-file (${this.where}): ${msg}`, { file: this.file });
  }

  u32(p: number): number {
    return this.view.getUint32(p, this.le);
  }

  /** Reads the data element tag at `pos` (end: limit of the enclosing block). */
  element(pos: number, end: number, what: string): Element {
    if (pos + 8 > end) throw this.corrupt(`${what}: element tag at byte ${pos} runs past the end (${end})`);
    const first = this.u32(pos);
    if (first >>> 16 !== 0) {
      const nbytes = first >>> 16;
      if (nbytes > 4) throw this.corrupt(`${what}: small data element of ${nbytes} bytes at byte ${pos}`);
      return { type: first & 0xffff, nbytes, dataPos: pos + 4, next: pos + 8 };
    }
    const nbytes = this.u32(pos + 4);
    const dataPos = pos + 8;
    if (dataPos + nbytes > end) {
      throw this.corrupt(`${what}: element at byte ${pos} claims ${nbytes} bytes but only ${end - dataPos} remain`);
    }
    const padded = first === MI.COMPRESSED ? nbytes : Math.ceil(nbytes / 8) * 8;
    return { type: first, nbytes, dataPos, next: Math.min(dataPos + padded, end) };
  }

  numbers(el: Element, what: string): Float64Array {
    const size = MI_SIZE[el.type];
    if (size === undefined) throw this.corrupt(`${what}: data type ${el.type} is not numeric`);
    if (el.nbytes % size !== 0) throw this.corrupt(`${what}: ${el.nbytes} bytes is not a multiple of the element size ${size}`);
    const n = el.nbytes / size;
    const out = new Float64Array(n);
    const v = this.view;
    const le = this.le;
    let p = el.dataPos;
    switch (el.type) {
      case MI.INT8: for (let i = 0; i < n; i++, p += 1) out[i] = v.getInt8(p); break;
      case MI.UINT8: for (let i = 0; i < n; i++, p += 1) out[i] = v.getUint8(p); break;
      case MI.INT16: for (let i = 0; i < n; i++, p += 2) out[i] = v.getInt16(p, le); break;
      case MI.UINT16: for (let i = 0; i < n; i++, p += 2) out[i] = v.getUint16(p, le); break;
      case MI.INT32: for (let i = 0; i < n; i++, p += 4) out[i] = v.getInt32(p, le); break;
      case MI.UINT32: for (let i = 0; i < n; i++, p += 4) out[i] = v.getUint32(p, le); break;
      case MI.SINGLE: for (let i = 0; i < n; i++, p += 4) out[i] = v.getFloat32(p, le); break;
      case MI.DOUBLE: for (let i = 0; i < n; i++, p += 8) out[i] = v.getFloat64(p, le); break;
      case MI.INT64: for (let i = 0; i < n; i++, p += 8) out[i] = Number(v.getBigInt64(p, le)); break;
      case MI.UINT64: for (let i = 0; i < n; i++, p += 8) out[i] = Number(v.getBigUint64(p, le)); break;
    }
    return out;
  }

  /** Parses an miMATRIX body [start, end). Returns null for an unnamed or empty element. */
  matrix(start: number, end: number, orientation: 'matlab' | 'hdf5'): V5Var | null {
    if (end - start === 0) return null;
    const flagsEl = this.element(start, end, 'array flags');
    if (flagsEl.type !== MI.UINT32 || flagsEl.nbytes !== 8) throw this.corrupt(`array flags element has type ${flagsEl.type}, ${flagsEl.nbytes} bytes`);
    const flags = this.u32(flagsEl.dataPos);
    const classCode = flags & 0xff;
    const complex = (flags & 0x800) !== 0;
    const logical = (flags & 0x200) !== 0;
    let cls = MX_CLASS[classCode];
    if (cls === undefined) throw this.corrupt(`unknown array class ${classCode}`);
    if (logical) cls = 'logical';
    const dimsEl = this.element(flagsEl.next, end, 'dimensions');
    if (dimsEl.type !== MI.INT32 || dimsEl.nbytes % 4 !== 0 || dimsEl.nbytes < 8) {
      throw this.corrupt(`dimensions element has type ${dimsEl.type}, ${dimsEl.nbytes} bytes`);
    }
    const mdims: number[] = [];
    for (let p = dimsEl.dataPos; p < dimsEl.dataPos + dimsEl.nbytes; p += 4) {
      const d = this.view.getInt32(p, this.le);
      if (d < 0) throw this.corrupt(`negative dimension ${d}`);
      mdims.push(d);
    }
    const nameEl = this.element(dimsEl.next, end, 'array name');
    if (nameEl.type !== MI.INT8 && nameEl.type !== MI.UINT8) throw this.corrupt(`array name element has type ${nameEl.type}`);
    let name = '';
    for (let p = nameEl.dataPos; p < nameEl.dataPos + nameEl.nbytes; p++) name += String.fromCharCode(this.view.getUint8(p));
    if (name === '') return null;
    const shape = [...mdims].reverse(); // C-order shape of the column-major data
    const dims = orientedDims(shape, orientation);
    const bad = (reason: string): V5Var => ({ info: { name, class: cls, dims, readable: false, reason } });
    if (!NUMERIC_CLASSES.has(cls)) {
      if (cls === 'sparse') return bad('sparse matrices are not supported (convert with full())');
      return bad(`MATLAB class "${cls}" is not a numeric matrix`);
    }
    if (complex) return bad('complex data are not supported');
    const realEl = this.element(nameEl.next, end, `real part of "${name}"`);
    const values = this.numbers(realEl, `real part of "${name}"`);
    const total = mdims.reduce((a, b) => a * b, 1);
    if (values.length !== total) throw this.corrupt(`variable "${name}" is ${dimsText(mdims)} but holds ${values.length} values`);
    if (mdims.length > 2) return bad(`it is ${dimsText(dims)} (${mdims.length}-D); only 2-D matrices are supported`);
    return { info: { name, class: cls, dims, readable: true }, stored: { shape, data: values } };
  }
}

function parseV5(bytes: Uint8Array, file: string, orientation: 'matlab' | 'hdf5'): V5Var[] {
  if (bytes.length < 128) throw new DataError(`${file}: MAT-file header is truncated (${bytes.length} bytes)`, { file });
  const ind = ascii(bytes, 126, 128);
  if (ind !== 'IM' && ind !== 'MI') {
    throw new DataError(`${file}: corrupt MAT-file header: endian indicator is ${JSON.stringify(ind)}, expected "IM" or "MI"`, { file });
  }
  const le = ind === 'IM';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const top = new V5Reader(view, le, file, 'top level');
  const vars: V5Var[] = [];
  let pos = 128;
  while (pos < bytes.length) {
    const el = top.element(pos, bytes.length, 'variable');
    if (el.next <= pos) throw top.corrupt(`element at byte ${pos} does not advance`);
    if (el.type === MI.COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = unzlibSync(bytes.subarray(el.dataPos, el.dataPos + el.nbytes));
      } catch (e) {
        throw new DataError(`${file}: corrupt MAT-file: compressed element at byte ${pos} does not inflate: ${(e as Error).message}`, {
          file,
          cause: e,
        });
      }
      const r = new V5Reader(new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), le, file, `compressed element at byte ${pos}`);
      const inner = r.element(0, inflated.length, 'variable');
      if (inner.type === MI.MATRIX) {
        const v = r.matrix(inner.dataPos, inner.dataPos + inner.nbytes, orientation);
        if (v) vars.push(v);
      }
    } else if (el.type === MI.MATRIX) {
      const v = top.matrix(el.dataPos, el.dataPos + el.nbytes, orientation);
      if (v) vars.push(v);
    }
    pos = el.next;
  }
  return vars;
}

async function loadV5(path: string, orientation: 'matlab' | 'hdf5'): Promise<V5Var[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read file: ${(e as Error).message}`, { file: path, cause: e });
  }
  try {
    return parseV5(bytes, path, orientation);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: corrupt MAT-file: ${(e as Error).message}`, { file: path, cause: e });
  }
}

// ---------------------------------------------------------------------------------------------
// public reading API

/**
 * Lists the top-level variables of a MAT / HDF5 file (HDF5 names starting with `#`, MATLAB's
 * internal groups, are left out), readable or not, with class, dimensions and, for unreadable
 * ones, the reason. Throws {@link DataError} for unreadable, truncated or corrupt files.
 */
export async function listMatVariables(path: string, options: Pick<MatReadOptions, 'orientation'> = {}): Promise<MatVariableInfo[]> {
  const { format } = await detect(path);
  const orientation = resolveOrientation(options.orientation, format);
  if (format === 'v5') return (await loadV5(path, orientation)).map((v) => v.info);
  return withH5(path, (f, lib, mod) => h5Infos(f, lib, mod, orientation).map((c) => c.info));
}

/**
 * Reads one variable as a real 2-D matrix (row-major float64, orientation per
 * {@link MatReadOptions.orientation}). For HDF5 files `name` may also be a path into groups
 * (`'group/dataset'`).
 *
 * Throws {@link DataError} naming the file and variable when: the file is missing, truncated,
 * corrupt or not a MAT / HDF5 file (v4 files: save with `-v7.3`); the variable does not exist
 * (the message lists the available ones); it is not numeric (cell, struct, char, sparse, complex,
 * ...); it has more than 2 dimensions; it holds a NaN or infinite value (row and column, 1-based,
 * unless `allowNonFinite`).
 */
export async function readMatVariable(path: string, name: string, options: MatReadOptions = {}): Promise<MatMatrix> {
  const { format, size } = await detect(path);
  const orientation = resolveOrientation(options.orientation, format);
  const allowNonFinite = options.allowNonFinite ?? false;
  if (format === 'v5') {
    const vars = await loadV5(path, orientation);
    const v = vars.find((x) => x.info.name === name);
    if (v === undefined) throw missing(path, name, vars.map((x) => x.info));
    if (!v.info.readable || v.stored === undefined) throw unreadable(path, v.info);
    return toMatrix(v.stored, orientation, path, name, allowNonFinite);
  }
  return withH5(path, (f, lib, mod) => {
    const clean = name.replace(/^\/+/, '');
    const top = h5TopNames(f);
    let entity: H5Entity = null;
    if (clean !== '' && !clean.startsWith('#')) {
      if (clean.includes('/')) {
        try {
          entity = f.get(clean);
        } catch {
          entity = null;
        }
      } else if (top.includes(clean)) {
        entity = f.get(clean);
      }
    }
    if (entity === null) throw missing(path, name, h5Infos(f, lib, mod, orientation).map((c) => c.info));
    const c = classifyH5(lib, mod, entity, name, orientation);
    if (!c.info.readable) throw unreadable(path, c.info);
    if (c.empty) return { rows: 0, cols: 0, data: new Float64Array(0) };
    return toMatrix(readH5Stored(c, path, size), orientation, path, name, allowNonFinite);
  });
}

/**
 * Reads every readable top-level variable of a MAT / HDF5 file into a map name -> matrix.
 * Variables that are not real 2-D numeric matrices (cells, structs, char, N-D, ...) are left out
 * (see {@link listMatVariables} for what was skipped and why). Non-finite values throw as in
 * {@link readMatVariable}.
 */
export async function readMatFile(path: string, options: MatReadOptions = {}): Promise<Map<string, MatMatrix>> {
  const { format, size } = await detect(path);
  const orientation = resolveOrientation(options.orientation, format);
  const allowNonFinite = options.allowNonFinite ?? false;
  const out = new Map<string, MatMatrix>();
  if (format === 'v5') {
    for (const v of await loadV5(path, orientation)) {
      if (v.info.readable && v.stored) out.set(v.info.name, toMatrix(v.stored, orientation, path, v.info.name, allowNonFinite));
    }
    return out;
  }
  return withH5(path, (f, lib, mod) => {
    for (const c of h5Infos(f, lib, mod, orientation)) {
      if (!c.info.readable) continue;
      if (c.empty) out.set(c.info.name, { rows: 0, cols: 0, data: new Float64Array(0) });
      else out.set(c.info.name, toMatrix(readH5Stored(c, path, size), orientation, path, c.info.name, allowNonFinite));
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// writing

const PLATFORMS: Record<string, string> = { linux: 'GLNXA64', darwin: 'MACA64', win32: 'PCWIN64' };
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function matHeader(): Uint8Array {
  const d = new Date();
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const when = `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  const text = `MATLAB 7.3 MAT-file, Platform: ${PLATFORMS[process.platform] ?? 'GLNXA64'}, Created on: ${when} HDF5 schema 1.00 .`;
  const out = new Uint8Array(512);
  const padded = text.padEnd(116, ' ').slice(0, 116);
  for (let i = 0; i < 116; i++) out[i] = padded.charCodeAt(i);
  // bytes 116..123: subsystem data offset (none); 124..125: version 0x0200; 126..127: endian 'IM'
  out[124] = 0x00;
  out[125] = 0x02;
  out[126] = 0x49;
  out[127] = 0x4d;
  return out;
}

/**
 * Writes real matrices to a MAT v7.3 file (default) or a plain HDF5 file (see
 * {@link MatWriteOptions.format}); an existing file is replaced. Names must be MATLAB identifiers
 * (letter, then letters, digits, underscores; at most 63 characters). NaN and Inf are written as
 * they are. Throws RangeError for invalid names or inconsistent / empty matrices, DataError if the
 * file cannot be written.
 */
export async function writeMatFile(
  path: string,
  variables: ReadonlyMap<string, MatMatrix> | Readonly<Record<string, MatMatrix>>,
  options: MatWriteOptions = {},
): Promise<void> {
  const format = options.format ?? 'v7.3';
  if (format !== 'v7.3' && format !== 'hdf5') throw new ValidationError(`format must be 'v7.3' or 'hdf5', got ${String(format)}`);
  const entries = variables instanceof Map ? [...variables.entries()] : Object.entries(variables);
  for (const [name, m] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name)) throw new ValidationError(`invalid variable name ${JSON.stringify(name)} (must be a MATLAB identifier)`);
    if (!Number.isInteger(m.rows) || !Number.isInteger(m.cols) || m.rows < 1 || m.cols < 1) {
      throw new ValidationError(`variable "${name}": dimensions must be positive integers, got ${m.rows}x${m.cols}`);
    }
    if (m.data.length !== m.rows * m.cols) throw new ValidationError(`variable "${name}": ${m.data.length} values for ${m.rows}x${m.cols}`);
  }
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    // earliest..1.8 file format (version-0 superblock, as MATLAB writes), readable by HDF5 1.8+
    await createH5File(
      tmp,
      (f) => {
        for (const [name, m] of entries) {
          if (format === 'v7.3') {
            // MATLAB m x n, column-major == HDF5 [n, m], row-major
            const colMajor = new Float64Array(m.rows * m.cols);
            for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) colMajor[c * m.rows + r] = m.data[r * m.cols + c];
            const ds = f.create_dataset({ name, data: colMajor, shape: [m.cols, m.rows] });
            ds.create_attribute('MATLAB_class', 'double', null, 'A6');
          } else {
            f.create_dataset({ name, data: Float64Array.from(m.data), shape: [m.rows, m.cols] });
          }
        }
      },
      { libver: ['earliest', 'v108'], label: path },
    );
    try {
      if (format === 'v7.3') {
        const body = await readFile(tmp);
        const out = new Uint8Array(512 + body.length);
        out.set(matHeader(), 0);
        out.set(body, 512);
        await writeFile(path, out);
      } else {
        await rename(tmp, path);
      }
    } catch (e) {
      throw new DataError(`${path}: cannot write file: ${(e as Error).message}`, { file: path, cause: e });
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
