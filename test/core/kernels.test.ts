import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsKernels } from '../../src/core/kernels.ts';
import { Rng } from '../../src/core/rng.ts';

/** Naive strided reference product. */
function naive(m: number, n: number, k: number, a: Float64Array, aOff: number, aRow: number, aCol: number, b: Float64Array, bOff: number, bRow: number, bCol: number, c: Float64Array, cOff: number, ldc: number, acc: boolean): void {
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[aOff + i * aRow + p * aCol] * b[bOff + p * bRow + j * bCol];
      c[cOff + i * ldc + j] = (acc ? c[cOff + i * ldc + j] : 0) + s;
    }
}

test('gemm matches a naive product for every layout (plain, transposed A, transposed B, strided, batch 1)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 0, max: 9 }),
      fc.constantFrom('nn', 'tn', 'nt', 'tt'), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer(),
      (m, n, k, layout, acc, pad, seed) => {
        const rng = new Rng(seed);
        const ta = layout[0] === 't', tb = layout[1] === 't';
        const lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad;
        const a = new Float64Array(pad + (ta ? k : m) * lda).map(() => rng.normal());
        const b = new Float64Array(pad + (tb ? n : k) * ldb).map(() => rng.normal());
        const [aRow, aCol] = ta ? [1, lda] : [lda, 1];
        const [bRow, bCol] = tb ? [1, ldb] : [ldb, 1];
        const ldc = n + pad;
        const c1 = new Float64Array(pad + m * ldc).map(() => rng.normal());
        const c2 = Float64Array.from(c1);
        jsKernels.gemm(m, n, k, a, pad, aRow, aCol, b, pad, bRow, bCol, c1, pad, ldc, acc);
        naive(m, n, k, a, pad, aRow, aCol, b, pad, bRow, bCol, c2, pad, ldc, acc);
        for (let i = 0; i < c1.length; i++) assert.ok(Math.abs(c1[i] - c2[i]) <= 1e-12 * (1 + Math.abs(c2[i])), `entry ${i}: ${c1[i]} vs ${c2[i]}`);
      },
    ),
    { numRuns: 400 },
  );
});
