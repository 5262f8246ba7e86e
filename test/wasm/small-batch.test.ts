// The small-batch kernels of the wasm inference path (sparseMM, reluPattern) against plain loops,
// on both f64 variants: every row count the MPC uses (1 value lane + up to 4 directions), widths
// that exercise the vector blocks and the scalar tails, and densities on both sides of the switch
// between the index-skipping and the dense blocked product.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { instantiateKernels, WasmArena, wasmSupport } from '../../src/core/wasm.ts';
import { enableWasmFma } from '../../src/core/wasm-node.ts';

const support = enableWasmFma();
const skip = support.simd ? false : 'WebAssembly SIMD is not available in this engine';
const fmas = support.relaxedSimd ? [false, true] : [false];

for (const fma of fmas) {
  test(`sparseMM${fma ? ' (FMA)' : ''}: Y += X W skipping all-zero rows of W, equal to the plain product`, { skip }, () => {
    const k = instantiateKernels('f64', fma)!;
    const ar = new WasmArena(k);
    const rng = new Rng(3);
    for (const rows of [1, 2, 3, 5]) {
      for (const [n, kk] of [[1, 1], [3, 5], [8, 8], [17, 9], [64, 64], [66, 40]]) {
        for (const density of [0, 0.3, 0.9, 1]) {
          const X = ar.alloc(rows * kk), W = ar.alloc(kk * n), Y = ar.alloc(rows * n), idx = ar.alloc(kk);
          const f = ar.f as Float64Array;
          const active = Array.from({ length: kk }, () => rng.uniform() < density);
          for (let l = 0; l < rows; l++) for (let i = 0; i < kk; i++) f[X.offset + l * kk + i] = active[i] && (l === 0 || rng.uniform() < 0.7) ? 2 * rng.uniform() - 1 : 0;
          for (let i = 0; i < kk * n; i++) f[W.offset + i] = 2 * rng.uniform() - 1;
          for (let i = 0; i < rows * n; i++) f[Y.offset + i] = rng.uniform();
          const want = new Float64Array(rows * n);
          for (let l = 0; l < rows; l++)
            for (let j = 0; j < n; j++) {
              let s = 0;
              for (let i = 0; i < kk; i++) s += f[X.offset + l * kk + i] * f[W.offset + i * n + j];
              want[l * n + j] = f[Y.offset + l * n + j] + s;
            }
          k.sparseMM(rows, n, kk, ar.ptr(X), kk, ar.ptr(W), ar.ptr(Y), n, ar.ptr(idx));
          const got = ar.tensor(Y);
          for (let i = 0; i < rows * n; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-13 * (1 + Math.abs(want[i]) + kk), `rows ${rows}, ${kk}x${n}, density ${density}, element ${i}: ${got[i]} vs ${want[i]}`);
        }
      }
    }
  });
}

test('reluPattern writes one byte per unit: 1 where the value is > 0 (NaN, 0 and -0 give 0)', { skip }, () => {
  const k = instantiateKernels('f64')!;
  const ar = new WasmArena(k);
  const steps = 3, n = 5, stride = 7, dstStride = 6;
  const S = ar.alloc(steps * stride), D = ar.alloc(4);
  const vals = [1, 0, -0, NaN, -2, 3e-300, Infinity];
  const f = ar.f as Float64Array;
  for (let i = 0; i < steps * stride; i++) f[S.offset + i] = vals[i % vals.length];
  k.reluPattern(steps, n, ar.ptr(S), stride, ar.ptr(D), dstStride);
  const bytes = ar.bytesView;
  for (let t = 0; t < steps; t++)
    for (let j = 0; j < n; j++) assert.equal(bytes[ar.ptr(D) + t * dstStride + j], vals[(t * stride + j) % vals.length] > 0 ? 1 : 0, `step ${t}, unit ${j}`);
});
