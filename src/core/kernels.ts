/**
 * Hot numerical kernels behind one small interface, so a faster backend (WASM SIMD, worker threads)
 * can replace them without touching the models: every model and solver calls `kernels.gemm`.
 *
 * All matrices are dense, row-major Float64Array slices described by an offset and strides.
 */
import { jsKernels } from './js-kernels.ts';
import { wasmGemmKernels } from './wasm-gemm.ts';
export interface Kernels {
  /**
   * General strided matrix product: `C[i, j] (+)= sum_p A(i, p) * B(p, j)` for i < m, j < n, p < k, where
   * `A(i, p) = a[aOff + i * aRow + p * aCol]`, `B(p, j) = b[bOff + p * bRow + j * bCol]` and
   * `C[i, j] = c[cOff + i * ldc + j]`. With `accumulate` false, C is overwritten.
   * Transposed operands are expressed through the strides (see {@link matmul} and friends).
   */
  gemm(
    m: number, n: number, k: number,
    a: Float64Array, aOff: number, aRow: number, aCol: number,
    b: Float64Array, bOff: number, bRow: number, bCol: number,
    c: Float64Array, cOff: number, ldc: number,
    accumulate: boolean,
  ): void;
}

export { jsKernels } from './js-kernels.ts';

let active: Kernels | null = null;

/**
 * The default backend, chosen on first use: the f64 WebAssembly SIMD GEMM for the larger products
 * (`./wasm-gemm.ts`; the plain-JS kernels below its size threshold) where the engine has wasm SIMD,
 * else the plain-JS kernels. `setKernels(jsKernels)` pins the plain-JS ones.
 */
function current(): Kernels {
  return (active ??= wasmGemmKernels() ?? jsKernels);
}


/** The kernels every model uses. */
export function kernels(): Kernels {
  return current();
}

/** Swap the kernel backend (e.g. for a WASM SIMD implementation). Returns the previous one. */
export function setKernels(k: Kernels): Kernels {
  const prev = current();
  active = k;
  return prev;
}

/** `C[m x n] (+)= A[m x k] B[k x n]` on dense row-major arrays with offsets. */
export function matmul(
  m: number, n: number, k: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number, c: Float64Array, cOff: number,
  accumulate = false,
): void {
  current().gemm(m, n, k, a, aOff, k, 1, b, bOff, n, 1, c, cOff, n, accumulate);
}

/** `C[m x n] (+)= A^T B` with A stored as [k x m] and B as [k x n] (weight gradients). */
export function matmulTransA(
  m: number, n: number, k: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number, c: Float64Array, cOff: number,
  accumulate = false,
): void {
  current().gemm(m, n, k, a, aOff, 1, m, b, bOff, n, 1, c, cOff, n, accumulate);
}

/** `C[m x n] (+)= A B^T` with A stored as [m x k] and B as [n x k] (input gradients). */
export function matmulTransB(
  m: number, n: number, k: number,
  a: Float64Array, aOff: number, b: Float64Array, bOff: number, c: Float64Array, cOff: number,
  accumulate = false,
): void {
  current().gemm(m, n, k, a, aOff, k, 1, b, bOff, 1, k, c, cOff, n, accumulate);
}
