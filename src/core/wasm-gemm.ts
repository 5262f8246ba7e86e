/**
 * A {@link Kernels} backend for plain `Float64Array` operands that runs the larger products in the
 * f64 WebAssembly SIMD GEMM: the operands are packed (contiguous, row-major) into a scratch region
 * of a kernel instance's memory, multiplied there, and C is copied back. Packing costs
 * O(mk + kn + mn) against the product's O(mnk), so only products of at least `minWork`
 * multiply-adds with every side at least `minSide` go to wasm; smaller or thin ones (batch-1 steps,
 * the MPC's vector-matrix products, whose weight matrix alone costs as much to pack as to multiply)
 * stay with the plain-JS kernels, which have no copy to pay.
 *
 * Used by the code that still computes on JS arrays in f64 (the hand-written cells when they train
 * in f64, batched evaluation in certificates and sweeps): `setKernels(wasmGemmKernels())`. Any
 * summation order (and FMA) keeps the rounding-error bounds the certificates use.
 */
import { jsKernels } from './js-kernels.ts';
import type { Kernels } from './kernels.ts';
import { instantiateKernels, WasmArena, type ArenaTensor } from './wasm.ts';

/** Options of {@link wasmGemmKernels}. */
export interface WasmGemmOptions {
  /** Smallest m * n * k sent to wasm (default 16384). */
  minWork?: number;
  /**
   * Smallest m, n and k sent to wasm (default 8): a product with a thinner side (a batch-1
   * vector-matrix product, a few MPC lanes) is about as cheap as packing its larger operand.
   */
  minSide?: number;
  /** Use the FMA variant when the engine has it (default 'auto'). */
  fma?: boolean | 'auto';
}

/** The wasm-backed kernels, or null where wasm SIMD is unavailable. */
export function wasmGemmKernels(options: WasmGemmOptions = {}): Kernels | null {
  const k = instantiateKernels('f64', options.fma ?? 'auto');
  if (!k) return null;
  const arena = new WasmArena(k);
  const minWork = options.minWork ?? 16384;
  const minSide = options.minSide ?? 8;
  let A: ArenaTensor = arena.alloc(0), B: ArenaTensor = arena.alloc(0), C: ArenaTensor = arena.alloc(0);
  const ensure = (t: ArenaTensor, n: number) => (t.length >= n ? t : arena.alloc(Math.max(n, 2 * t.length)));
  return {
    gemm(m, n, kk, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, accumulate) {
      if (m * n * kk < minWork || m < minSide || n < minSide || kk < minSide) {
        jsKernels.gemm(m, n, kk, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, accumulate);
        return;
      }
      // A: its strides do not change the kernel's summation order, so a dense operand (row-major or
      // transposed) is copied as one block with its own strides; a sparse view is packed.
      const spanA = (m - 1) * aRow + (kk - 1) * aCol + 1;
      const rawA = aRow >= 0 && aCol >= 0 && spanA <= m * kk;
      // B: row-major rows (bCol 1) are copied as one block with their row stride; other layouts are
      // packed row-major, so the product always runs the same (register-blocked) kernel
      const spanB = (kk - 1) * bRow + n;
      const rawB = bCol === 1 && bRow >= n && spanB <= 2 * kk * n;
      A = ensure(A, rawA ? spanA : m * kk);
      B = ensure(B, rawB ? spanB : kk * n);
      C = ensure(C, m * n);
      const f = arena.f as Float64Array; // after any growth
      if (rawA) f.set(a.subarray(aOff, aOff + spanA), A.offset);
      else {
        let o = A.offset;
        for (let i = 0; i < m; i++) {
          let p = aOff + i * aRow;
          for (let q = 0; q < kk; q++, p += aCol) f[o++] = a[p];
        }
      }
      if (rawB) f.set(b.subarray(bOff, bOff + spanB), B.offset);
      else {
        let o = B.offset;
        for (let q = 0; q < kk; q++) {
          let p = bOff + q * bRow;
          for (let j = 0; j < n; j++, p += bCol) f[o++] = b[p];
        }
      }
      if (accumulate) for (let i = 0; i < m; i++) f.set(c.subarray(cOff + i * ldc, cOff + i * ldc + n), C.offset + i * n);
      k.gemm(m, n, kk, arena.ptr(A), rawA ? aRow : kk, rawA ? aCol : 1, arena.ptr(B), rawB ? bRow : n, 1, arena.ptr(C), n, accumulate ? 1 : 0);
      for (let i = 0; i < m; i++) c.set(f.subarray(C.offset + i * n, C.offset + (i + 1) * n), cOff + i * ldc);
    },
  };
}
