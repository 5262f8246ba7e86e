/**
 * A restricted reader for the Python pickles the reference ships as its scalers
 * (`iclrnn_scaler_X`, `iclrnn_scaler_y`: scikit-learn `MinMaxScaler`s holding numpy arrays,
 * pickle protocol 4; protocols 2 to 5 are read).
 *
 * Safety: nothing in the file is ever executed. The reader is a small pickle virtual machine
 * whose only "globals" are data constructors interpreted here:
 * `sklearn.preprocessing._data.MinMaxScaler` (an object whose state dict is recorded),
 * numpy's array reconstruction (`numpy.core.multiarray._reconstruct` + `numpy.ndarray`,
 * `numpy.dtype`, `numpy.core.multiarray.scalar`, and protocol 5's `numpy.core.numeric._frombuffer`;
 * numpy 2's `numpy._core` spellings too). Any other global (e.g. `os.system`, `builtins.eval`)
 * is refused with a {@link ModelFileError} before anything else happens, as are the opcodes
 * that reach outside the file (persistent ids, extension registry, out-of-band buffers).
 *
 * Why not an npm package: `pickleparser` (one release, Dec 2024) and `jpickle` (protocols 0-3,
 * no protocol 4 framing) parse general pickles and map unknown globals to placeholder objects; we
 * need the opposite (refuse every global outside a short allow-list, and rebuild numpy arrays),
 * which is shorter to write and audit here than to bolt onto either.
 *
 * Module layering: pure (no Node APIs) except {@link readPickledMinMaxScaler}, which reads a file.
 */
import { readFileSync } from 'node:fs';
import { DataError, ModelFileError } from './errors.ts';

/** A numpy array rebuilt from a pickle (values as float64; object arrays of strings as text). */
export interface PickledArray {
  readonly kind: 'ndarray';
  shape: number[];
  dtype: string;
  data: Float64Array | string[];
}

/** The fitted state of a scikit-learn MinMaxScaler read from a pickle. */
export interface PickledMinMaxScaler {
  featureRange: [number, number];
  dataMin: number[];
  dataMax: number[];
  /** `scale_` and `min_` as sklearn stored them (transform: `x * scale + min`). */
  scale: number[];
  min: number[];
  nFeatures: number;
  /** The scikit-learn version that wrote it (`_sklearn_version`), if recorded. */
  sklearnVersion: string | null;
}

const NUMPY_CORE = ['numpy.core', 'numpy._core'];
const ALLOWED = new Set<string>([
  'sklearn.preprocessing._data.MinMaxScaler',
  ...NUMPY_CORE.flatMap((c) => [`${c}.multiarray._reconstruct`, `${c}.multiarray.scalar`, `${c}.numeric._frombuffer`]),
  'numpy.ndarray',
  'numpy.dtype',
  // protocol 2 written by Python 3 stores bytes as _codecs.encode(text, 'latin1')
  '_codecs.encode',
]);

/** A reference to an allowed global (never a callable: interpreted by name). */
class Global {
  constructor(readonly name: string) {}
}
class Dtype {
  byteorder = '=';
  constructor(readonly code: string) {}
}
class PyObject {
  state: Record<string, unknown> = {};
  constructor(readonly cls: string) {}
}
class Mark {}
const MARK = new Mark();

function shortName(g: string): string {
  return g.split('.').pop()!;
}

/** Decodes raw numpy bytes of a given dtype into float64 values. */
function decodeArray(file: string, raw: Uint8Array, dt: Dtype, shape: number[]): Float64Array {
  const m = /^([<>=|]?)([fiub])(\d+)$/.exec(dt.code) ?? /^([fiub])(\d+)$/.exec(dt.code);
  const kind = m ? (m.length === 4 ? m[2] : m[1]) : '';
  const size = m ? Number(m.length === 4 ? m[3] : m[2]) : 0;
  const order = m && m.length === 4 && m[1] ? m[1] : dt.byteorder;
  const little = order !== '>';
  const n = shape.reduce((a, b) => a * b, 1);
  if (!m || !['f4', 'f8', 'i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'b1'].includes(`${kind}${size}`))
    throw new ModelFileError(`${file}: numpy array of dtype '${dt.code}' is not supported (float, integer or bool arrays only)`, { file });
  if (raw.length !== n * size) throw new ModelFileError(`${file}: numpy array of shape [${shape}] holds ${raw.length} bytes, expected ${n * size} (corrupt pickle)`, { file });
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (`${kind}${size}`) {
      case 'f8': out[i] = dv.getFloat64(o, little); break;
      case 'f4': out[i] = dv.getFloat32(o, little); break;
      case 'i8': out[i] = Number(dv.getBigInt64(o, little)); break;
      case 'u8': out[i] = Number(dv.getBigUint64(o, little)); break;
      case 'i4': out[i] = dv.getInt32(o, little); break;
      case 'u4': out[i] = dv.getUint32(o, little); break;
      case 'i2': out[i] = dv.getInt16(o, little); break;
      case 'u2': out[i] = dv.getUint16(o, little); break;
      case 'i1': out[i] = dv.getInt8(o); break;
      default: out[i] = dv.getUint8(o); break; // u1, b1
    }
  }
  return out;
}

function isArrayState(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

/**
 * Unpickles `bytes` with the restricted machine described in the module documentation. Returns
 * the top object: {@link PickledArray}s for numpy arrays, plain objects `{ __class__, ...state }`
 * for the allowed classes, numbers, strings, booleans, null, arrays (lists and tuples) and objects
 * (dicts with string keys). Throws a {@link ModelFileError} naming `file` for a refused global or
 * opcode and for a truncated or malformed pickle.
 */
export function unpickleRestricted(bytes: Uint8Array, file = '<pickle>'): unknown {
  const fail = (msg: string): never => {
    throw new ModelFileError(`${file}: ${msg}`, { file });
  };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: false });
  let pos = 0;
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) fail('truncated pickle (unexpected end of data)');
    const p = pos;
    pos += n;
    return p;
  };
  const u8 = () => bytes[need(1)];
  const u16 = () => dv.getUint16(need(2), true);
  const u32 = () => dv.getUint32(need(4), true);
  const u64 = () => {
    const v = dv.getBigUint64(need(8), true);
    if (v > BigInt(bytes.length)) fail('truncated pickle (a length exceeds the file)');
    return Number(v);
  };
  const slice = (n: number) => bytes.subarray(need(n), pos);
  const line = () => {
    const start = pos;
    while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    if (pos >= bytes.length) fail('truncated pickle (unterminated line)');
    const s = text.decode(bytes.subarray(start, pos));
    pos++;
    return s;
  };
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) fail('malformed pickle (stack underflow)');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('malformed pickle (empty stack)');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('malformed pickle (no mark)');
    return stack.splice(m!);
  };
  const global = (module: string, name: string): Global => {
    const full = `${module}.${name}`;
    if (!ALLOWED.has(full))
      fail(`refuses the Python global '${full}': only scikit-learn's MinMaxScaler and numpy arrays may appear in a scaler pickle (nothing was executed)`);
    return new Global(full);
  };
  const key = (k: unknown): string => {
    if (typeof k === 'string') return k;
    if (typeof k === 'number') return String(k);
    return fail('dict keys other than strings and numbers are not supported');
  };
  const setItem = (d: unknown, k: unknown, v: unknown) => {
    if (typeof d !== 'object' || d === null || Array.isArray(d) || d instanceof PyObject || d instanceof Global) fail('malformed pickle (SETITEM on a non-dict)');
    (d as Record<string, unknown>)[key(k)] = v;
  };
  const reduce = (f: unknown, args: unknown): unknown => {
    if (!(f instanceof Global)) return fail('malformed pickle (REDUCE on a non-global)');
    if (!Array.isArray(args)) return fail('malformed pickle (REDUCE arguments are not a tuple)');
    const n = shortName(f.name);
    if (n === '_reconstruct') {
      const cls = args[0];
      if (!(cls instanceof Global) || cls.name !== 'numpy.ndarray') fail(`numpy _reconstruct of a class other than numpy.ndarray is refused`);
      return { kind: 'ndarray', shape: [], dtype: '', data: new Float64Array(0) } satisfies PickledArray;
    }
    if (n === 'dtype') {
      if (typeof args[0] !== 'string') fail('malformed numpy dtype');
      return new Dtype(args[0] as string);
    }
    if (n === 'scalar') {
      const [dt, raw] = args;
      if (!(dt instanceof Dtype) || !(raw instanceof Uint8Array)) return fail('malformed numpy scalar');
      return decodeArray(file, raw as Uint8Array, dt as Dtype, [1])[0];
    }
    if (n === '_frombuffer') {
      const [buf, dt, shape] = args;
      if (!(buf instanceof Uint8Array) || !(dt instanceof Dtype) || !Array.isArray(shape)) return fail('malformed numpy _frombuffer');
      const sh = (shape as unknown[]).map(Number);
      return { kind: 'ndarray', shape: sh, dtype: (dt as Dtype).code, data: decodeArray(file, buf as Uint8Array, dt as Dtype, sh) } satisfies PickledArray;
    }
    if (f.name === '_codecs.encode') {
      const [t, enc] = args;
      if (typeof t !== 'string' || enc !== 'latin1') return fail("_codecs.encode is accepted only as protocol 2's latin-1 bytes");
      const b = new Uint8Array((t as string).length);
      for (let i = 0; i < b.length; i++) b[i] = (t as string).charCodeAt(i) & 0xff;
      return b;
    }
    return fail(`calling '${f.name}' is refused`);
  };
  const build = (obj: unknown, state: unknown): void => {
    if (obj instanceof PyObject) {
      if (typeof state !== 'object' || state === null || Array.isArray(state)) fail(`malformed ${obj.cls} state`);
      Object.assign(obj.state, state as Record<string, unknown>);
    } else if (obj instanceof Dtype) {
      if (isArrayState(state) && typeof state[1] === 'string') obj.byteorder = state[1];
    } else if (typeof obj === 'object' && obj !== null && (obj as PickledArray).kind === 'ndarray') {
      const a = obj as PickledArray;
      if (!isArrayState(state) || state.length < 5) return void fail('malformed numpy array state');
      const [, shape, dt, fortran, raw] = state as [unknown, unknown, unknown, unknown, unknown];
      if (!Array.isArray(shape) || !(dt instanceof Dtype)) return void fail('malformed numpy array state');
      a.shape = (shape as unknown[]).map(Number);
      a.dtype = dt.code;
      if (fortran === true && a.shape.length > 1) fail('Fortran-ordered numpy arrays are not supported');
      if (Array.isArray(raw)) {
        if (raw.some((v) => typeof v !== 'string')) fail('numpy object arrays are supported only when they hold strings');
        a.data = raw as string[];
      } else if (raw instanceof Uint8Array) {
        a.data = decodeArray(file, raw, dt, a.shape);
      } else if (typeof raw === 'string') {
        // protocol 2 writes the raw bytes as a latin-1 str
        const b = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i++) b[i] = raw.charCodeAt(i) & 0xff;
        a.data = decodeArray(file, b, dt, a.shape);
      } else fail('malformed numpy array data');
    } else fail('malformed pickle (BUILD on an unsupported object)');
  };

  while (true) {
    if (pos >= bytes.length) fail('truncated pickle (no STOP opcode)');
    const op = bytes[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v < 2 || v > 5) fail(`pickle protocol ${v} is not supported (2 to 5 are)`);
        break;
      }
      case 0x95: u64(); break; // FRAME (length only; frames are contiguous)
      case 0x2e: { // STOP
        const v = pop();
        return finish(v);
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x7d: stack.push({}); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x8f: stack.push([]); break; // EMPTY_SET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(), a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(), b = pop(), a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x61: { const v = pop(); const l = top(); if (!Array.isArray(l)) fail('malformed pickle (APPEND)'); (l as unknown[]).push(v); break; } // APPEND
      case 0x65: case 0x90: { const items = popMark(); const l = top(); if (!Array.isArray(l)) fail('malformed pickle (APPENDS)'); (l as unknown[]).push(...items); break; } // APPENDS, ADDITEMS
      case 0x73: { const v = pop(), k = pop(); setItem(top(), k, v); break; } // SETITEM
      case 0x75: { const items = popMark(); if (items.length % 2) fail('malformed pickle (SETITEMS)'); const d = top(); for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]); break; } // SETITEMS
      case 0x4a: stack.push(dv.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        const b = slice(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(dv.getFloat64(need(8), false)); break; // BINFLOAT (big-endian)
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x8c: stack.push(text.decode(slice(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(text.decode(slice(u32()))); break; // BINUNICODE
      case 0x8d: stack.push(text.decode(slice(u64()))); break; // BINUNICODE8
      case 0x55: { const b = slice(u8()); stack.push(String.fromCharCode(...b)); break; } // SHORT_BINSTRING (latin-1)
      case 0x54: { const b = slice(u32()); let s = ''; for (const c of b) s += String.fromCharCode(c); stack.push(s); break; } // BINSTRING
      case 0x43: stack.push(slice(u8()).slice()); break; // SHORT_BINBYTES
      case 0x42: stack.push(slice(u32()).slice()); break; // BINBYTES
      case 0x8e: case 0x96: stack.push(slice(u64()).slice()); break; // BINBYTES8, BYTEARRAY8
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`malformed pickle (memo entry ${i} missing)`);
        stack.push(memo.get(i));
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push(global(module, name)); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('malformed pickle (STACK_GLOBAL)');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x52: { const args = pop(); const f = pop(); stack.push(reduce(f, args)); break; } // REDUCE
      case 0x81: case 0x92: { // NEWOBJ, NEWOBJ_EX
        if (op === 0x92) pop(); // kwargs
        pop(); // args
        const cls = pop();
        if (!(cls instanceof Global) || cls.name !== 'sklearn.preprocessing._data.MinMaxScaler') fail(`creating an object of '${cls instanceof Global ? cls.name : typeof cls}' is refused`);
        stack.push(new PyObject(shortName((cls as Global).name)));
        break;
      }
      case 0x62: { const state = pop(); build(top(), state); break; } // BUILD
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x50: case 0x51: fail('persistent ids (PERSID) are refused'); break;
      case 0x82: case 0x83: case 0x84: fail('the extension registry (EXT opcodes) is refused'); break;
      case 0x69: case 0x6f: fail('INST/OBJ opcodes (old-style object creation) are refused'); break;
      case 0x97: case 0x98: fail('out-of-band buffers (protocol 5 NEXT_BUFFER) are not supported'); break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} (protocols 2 to 5 written by Python 3 are read; protocol 0/1 text pickles are not)`);
    }
  }

  function finish(v: unknown): unknown {
    if (v instanceof PyObject) return { __class__: v.cls, ...v.state };
    if (v instanceof Global || v instanceof Dtype) fail('the pickle holds a bare class or dtype, not a scaler');
    return v;
  }
}

function vector(file: string, state: Record<string, unknown>, name: string): number[] {
  const v = state[name];
  if (typeof v === 'object' && v !== null && (v as PickledArray).kind === 'ndarray') {
    const a = v as PickledArray;
    if (a.shape.length !== 1 || !(a.data instanceof Float64Array)) throw new ModelFileError(`${file}: MinMaxScaler.${name} must be a 1-D numeric array, got shape [${a.shape}]`, { file, variable: name });
    const out = Array.from(a.data);
    const bad = out.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new ModelFileError(`${file}: MinMaxScaler.${name}[${bad}] is ${out[bad]}, not finite`, { file, variable: name });
    return out;
  }
  throw new ModelFileError(`${file}: MinMaxScaler has no fitted '${name}' array (was it fitted before pickling?)`, { file, variable: name });
}

/** Interprets unpickled content as a fitted scikit-learn MinMaxScaler. */
export function minMaxScalerFromPickle(bytes: Uint8Array, file = '<pickle>'): PickledMinMaxScaler {
  const obj = unpickleRestricted(bytes, file);
  if (typeof obj !== 'object' || obj === null || (obj as { __class__?: unknown }).__class__ !== 'MinMaxScaler')
    throw new ModelFileError(`${file}: the pickle does not hold a scikit-learn MinMaxScaler`, { file });
  const st = obj as Record<string, unknown>;
  const dataMin = vector(file, st, 'data_min_');
  const dataMax = vector(file, st, 'data_max_');
  const scale = vector(file, st, 'scale_');
  const min = vector(file, st, 'min_');
  const n = dataMin.length;
  for (const [name, v] of [['data_max_', dataMax], ['scale_', scale], ['min_', min]] as const)
    if (v.length !== n) throw new ModelFileError(`${file}: MinMaxScaler.${name} has ${v.length} entries but data_min_ has ${n}`, { file, variable: name });
  const fr = st.feature_range;
  const featureRange: [number, number] = Array.isArray(fr) && fr.length === 2 && fr.every((x) => typeof x === 'number') ? [fr[0], fr[1]] : [0, 1];
  return { featureRange, dataMin, dataMax, scale, min, nFeatures: n, sklearnVersion: typeof st._sklearn_version === 'string' ? st._sklearn_version : null };
}

/**
 * Reads a pickled scikit-learn MinMaxScaler file (restricted: see the module documentation).
 *
 * @example
 * ```ts
 * const sx = readPickledMinMaxScaler('scaler_X.pkl');   // sklearn MinMaxScaler, read without executing anything
 * console.log(sx.nFeatures, sx.dataMin, sx.dataMax);
 * ```
 */
export function readPickledMinMaxScaler(path: string): PickledMinMaxScaler {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${path}: scaler file not found` : `${path}: cannot read scaler file (${code ?? (e as Error).message})`, { file: path, cause: e });
  }
  return minMaxScalerFromPickle(bytes, path);
}
