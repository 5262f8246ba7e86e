/**
 * WebAssembly SIMD kernels (built from src/wasm/ by scripts/build-wasm.mjs) and the tensor arena in
 * their linear memory. No Node API is used here, so the browser bundle gets the same kernels; the
 * relaxed-SIMD (FMA) variants are picked when `WebAssembly.validate` accepts a tiny relaxed-SIMD
 * module (Chromium by default; Node 20 after `enableWasmFma()` from `./wasm-node.ts`), otherwise
 * the plain SIMD variants, otherwise none (callers keep the plain-JS kernels).
 *
 * Modules compile synchronously (about 6 KB each), so training and prediction stay synchronous.
 */
import { WASM_BINARIES } from './wasm-binaries.ts';

/** Element precision of a kernel module and its arena. */
export type WasmPrecision = 'f32' | 'f64';

/** The kernel-variant option of the wasm trainer and predictor. */
export interface WasmFmaOption {
  /** Use the relaxed-SIMD (FMA) variant when the engine has it (default 'auto'). */
  fma?: boolean | 'auto';
}

/** Activation codes understood by the kernels. */
export const WASM_ACT = { linear: 0, relu: 1, tanh: 2 } as const;

/** The raw exports of a kernel module (pointers are byte addresses, sizes and strides elements). */
export interface WasmKernelExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  isF64(): number;
  hasFma(): number;
  gemm(m: number, n: number, k: number, a: number, aRow: number, aCol: number, b: number, bRow: number, bCol: number, c: number, ldc: number, acc: number): void;
  biasAct(rows: number, cols: number, x: number, bias: number, act: number): void;
  actBackward(n: number, out: number, g: number, act: number): void;
  cellGrad(n: number, h: number, dy: number, ds: number, dz: number, act: number): void;
  colSumsAdd(rows: number, cols: number, g: number, acc: number): void;
  mseGrad(n: number, y: number, t: number, dy: number, count: number): number;
  sse(n: number, y: number, t: number): number;
  adam(n: number, w: number, g: number, m: number, v: number, lr: number, b1: number, b2: number, eps: number): void;
  clipNonNeg(n: number, w: number): void;
  addInto(n: number, x: number, y: number): void;
  scale(n: number, x: number, s: number): void;
  zero(n: number, x: number): void;
  sparseMM(rows: number, n: number, k: number, x: number, ldx: number, w: number, y: number, ldy: number, idx: number): void;
  cellSeq(steps: number, rows: number, u: number, p: number, pStride: number, s: number, r: number, bias: number, act: number, tangent: number, idx: number): void;
  cellSeqBack(steps: number, rows: number, u: number, s: number, dz: number, rt: number, act: number, idx: number): void;
  tangentBiasAct(steps: number, lanes: number, cols: number, z: number, bias: number, act: number): void;
  reluPattern(steps: number, n: number, src: number, srcStride: number, dst: number, dstStride: number): void;
  lstmForward(b: number, u: number, z: number, bias: number, cPrev: number, cNext: number, hNext: number, tc: number): void;
  lstmBackward(b: number, u: number, gates: number, tc: number, cPrev: number, dy: number, dh: number, dc: number, dz: number): void;
  gruForward(b: number, u: number, g: number, bIn: number, hz: number, bRec: number, hPrev: number, hNext: number, a: number): void;
  gruBackward(b: number, u: number, gates: number, a: number, hPrev: number, dy: number, dh: number, dxz: number, dhz: number, dhPrev: number): void;
  spectralNormalize(rows: number, cols: number, w: number, u: number, v: number, u2: number, iterations: number, tolerance: number, k: number, eps: number, mode: number, nonNeg: number): number;
}

// (module (func (result v128) v128.const 0)): validates where SIMD is supported.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b,
]);
// The same with f32x4.relaxed_madd over three constants: validates where relaxed SIMD is on.
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  0xfd, 0x0c, ...new Array<number>(16).fill(0),
  0xfd, 0x0c, ...new Array<number>(16).fill(0),
  0xfd, 0x0c, ...new Array<number>(16).fill(0),
  0xfd, 0x85, 0x02, 0x0b,
]);

/** What this JavaScript engine supports, as far as the kernels care. */
export interface WasmSupport {
  simd: boolean;
  relaxedSimd: boolean;
}

let support: WasmSupport | null = null;
let disabled = false;
const modules = new Map<string, WebAssembly.Module>();

function validate(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Probes (once) whether wasm SIMD and relaxed SIMD validate here. */
export function wasmSupport(): WasmSupport {
  if (support === null) {
    const simd = validate(SIMD_PROBE);
    support = { simd, relaxedSimd: simd && validate(RELAXED_PROBE) };
  }
  return support;
}

/** Forgets the probe result and compiled modules (after an engine flag changed). */
export function resetWasmDetection(): void {
  support = null;
  modules.clear();
}

/**
 * Turns the wasm kernels off (true) or back on (false) for this process, e.g. to measure or test
 * the plain-JS path; returns the previous setting.
 */
export function setWasmDisabled(off: boolean): boolean {
  const prev = disabled;
  disabled = off;
  return prev;
}

/** True when wasm kernels can run here (SIMD validates and they are not disabled). */
export function wasmAvailable(): boolean {
  return !disabled && wasmSupport().simd;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Decodes standard base64 (no atob: some embeddings, e.g. a bare vm context, lack it). */
function decodeBase64(s: string): Uint8Array {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) table[B64.charCodeAt(i)] = i;
  let len = s.length;
  while (len > 0 && s[len - 1] === '=') len--;
  const out = new Uint8Array((len * 3) >> 2);
  let acc = 0, bits = 0, o = 0;
  for (let i = 0; i < len; i++) {
    const v = table[s.charCodeAt(i)];
    if (v < 0) throw new Error(`wasm: bad base64 character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** Which variant a precision uses here, or null when wasm SIMD is unavailable. */
export function wasmVariant(precision: WasmPrecision, fma: boolean | 'auto' = 'auto'): keyof typeof WASM_BINARIES | null {
  if (!wasmAvailable()) return null;
  const useFma = fma === 'auto' ? wasmSupport().relaxedSimd : fma && wasmSupport().relaxedSimd;
  return `${precision}${useFma ? 'fma' : ''}` as keyof typeof WASM_BINARIES;
}

/**
 * A fresh instance of the kernel module (its own memory) for a precision, or null when wasm SIMD
 * is unavailable. `fma: false` forces the variant without relaxed SIMD.
 */
export function instantiateKernels(precision: WasmPrecision, fma: boolean | 'auto' = 'auto'): WasmKernelExports | null {
  const variant = wasmVariant(precision, fma);
  if (variant === null) return null;
  let mod = modules.get(variant);
  if (!mod) {
    mod = new WebAssembly.Module(decodeBase64(WASM_BINARIES[variant].base64) as Uint8Array<ArrayBuffer>);
    modules.set(variant, mod);
  }
  const inst = new WebAssembly.Instance(mod, {});
  return inst.exports as unknown as WasmKernelExports;
}

/** A tensor in the arena: element offset and length. */
export interface ArenaTensor {
  /** Offset in elements from the start of memory (byte address / element size). */
  readonly offset: number;
  readonly length: number;
}

/**
 * Bump allocator over a kernel instance's linear memory. Tensors are 16-byte aligned. The typed
 * view {@link f} is re-created after `memory.grow` (which detaches the old buffer), so read it
 * again after any allocation instead of keeping it.
 */
export class WasmArena {
  readonly precision: WasmPrecision;
  /** Bytes per element (4 or 8). */
  readonly bytes: number;
  private top: number;
  private buffer: ArrayBuffer | null = null;
  private view: Float32Array | Float64Array = new Float64Array(0);
  private byteBuffer: ArrayBuffer | null = null;
  private u8: Uint8Array = new Uint8Array(0);

  constructor(readonly k: WasmKernelExports) {
    this.precision = k.isF64() ? 'f64' : 'f32';
    this.bytes = this.precision === 'f64' ? 8 : 4;
    this.top = Math.ceil(k.heapBase() / 64) * 64;
  }

  /** Allocates n zeroed elements (memory grows as needed). */
  alloc(n: number): ArenaTensor {
    const start = this.top;
    const end = start + Math.ceil((n * this.bytes) / 16) * 16;
    const have = this.k.memory.buffer.byteLength;
    if (end > have) this.k.memory.grow(Math.ceil((end - have) / 65536));
    this.top = end;
    this.f.fill(0, start / this.bytes, start / this.bytes + n);
    return { offset: start / this.bytes, length: n };
  }

  /** Bytes allocated so far (from address 0). */
  get used(): number {
    return this.top;
  }

  /** Byte address of a tensor (plus an element offset), as the kernels take it. */
  ptr(t: ArenaTensor, elementOffset = 0): number {
    return (t.offset + elementOffset) * this.bytes;
  }

  /** The typed view of the whole memory, in elements (re-created after growth). */
  get f(): Float32Array | Float64Array {
    const buf = this.k.memory.buffer;
    if (buf !== this.buffer) {
      this.buffer = buf;
      this.view = this.precision === 'f64' ? new Float64Array(buf) : new Float32Array(buf);
    }
    return this.view;
  }

  /** A byte view of the whole memory (re-created after growth). */
  get bytesView(): Uint8Array {
    const buf = this.k.memory.buffer;
    if (buf !== this.byteBuffer) {
      this.byteBuffer = buf;
      this.u8 = new Uint8Array(buf);
    }
    return this.u8;
  }

  /**
   * Grows the memory once so that `bytes` more bytes can be allocated without further growth
   * (each `memory.grow` may copy the whole memory).
   */
  reserve(bytes: number): void {
    const end = this.top + Math.ceil(bytes / 16) * 16;
    const have = this.k.memory.buffer.byteLength;
    if (end > have) this.k.memory.grow(Math.ceil((end - have) / 65536));
  }

  /** A view of one tensor (valid until the memory grows). */
  tensor(t: ArenaTensor): Float32Array | Float64Array {
    return this.f.subarray(t.offset, t.offset + t.length);
  }
}
