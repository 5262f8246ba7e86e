import type { Kernels } from './kernels.ts';

/**
 * Plain-JavaScript kernels. V8 does not vectorise typed-array loops, so the product keeps a 2 x 4
 * block of C in local variables and streams the shared dimension (about 4x faster than i-k-j loops
 * on the reference machine, see shared/docs/PERFORMANCE.md). Written by hand because no npm package
 * offers a float64 GEMM that beats this on small (<= 256 x 64) matrices under Node.
 */
export const jsKernels: Kernels = {
  gemm(m, n, k, a, aOff, aRow, aCol, b, bOff, bRow, bCol, c, cOff, ldc, accumulate) {
    if (m === 1 && bCol === 1) {
      // Vector-matrix product with contiguous rows of B (batch-1 inference, the MPC's hot path):
      // keep 8 outputs in registers and stream the rows of B.
      const n8 = n - (n % 8);
      let j = 0;
      for (; j < n8; j += 8) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        let pa = aOff, pb = bOff + j;
        for (let p = 0; p < k; p++) {
          const av = a[pa];
          s0 += av * b[pb]; s1 += av * b[pb + 1]; s2 += av * b[pb + 2]; s3 += av * b[pb + 3];
          s4 += av * b[pb + 4]; s5 += av * b[pb + 5]; s6 += av * b[pb + 6]; s7 += av * b[pb + 7];
          pa += aCol;
          pb += bRow;
        }
        const o = cOff + j;
        if (accumulate) {
          c[o] += s0; c[o + 1] += s1; c[o + 2] += s2; c[o + 3] += s3; c[o + 4] += s4; c[o + 5] += s5; c[o + 6] += s6; c[o + 7] += s7;
        } else {
          c[o] = s0; c[o + 1] = s1; c[o + 2] = s2; c[o + 3] = s3; c[o + 4] = s4; c[o + 5] = s5; c[o + 6] = s6; c[o + 7] = s7;
        }
      }
      for (; j < n; j++) {
        let s = 0, pa = aOff, pb = bOff + j;
        for (let p = 0; p < k; p++) { s += a[pa] * b[pb]; pa += aCol; pb += bRow; }
        if (accumulate) c[cOff + j] += s; else c[cOff + j] = s;
      }
      return;
    }
    if (m === 1 && bRow === 1) {
      // Vector times a transposed matrix (batch-1 input gradients): 4 dot products at once over
      // contiguous rows of the stored matrix, sharing each load of the vector.
      const n4 = n - (n % 4);
      let j = 0;
      for (; j < n4; j += 4) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let pa = aOff;
        const p0 = bOff + j * bCol, p1 = p0 + bCol, p2 = p1 + bCol, p3 = p2 + bCol;
        for (let p = 0; p < k; p++) {
          const av = a[pa];
          s0 += av * b[p0 + p]; s1 += av * b[p1 + p]; s2 += av * b[p2 + p]; s3 += av * b[p3 + p];
          pa += aCol;
        }
        const o = cOff + j;
        if (accumulate) { c[o] += s0; c[o + 1] += s1; c[o + 2] += s2; c[o + 3] += s3; }
        else { c[o] = s0; c[o + 1] = s1; c[o + 2] = s2; c[o + 3] = s3; }
      }
      for (; j < n; j++) {
        let s = 0, pa = aOff, pb = bOff + j * bCol;
        for (let p = 0; p < k; p++) { s += a[pa] * b[pb + p]; pa += aCol; }
        if (accumulate) c[cOff + j] += s; else c[cOff + j] = s;
      }
      return;
    }
    const m2 = m - (m % 2);
    const n4 = n - (n % 4);
    let i = 0;
    for (; i < m2; i += 2) {
      const a0base = aOff + i * aRow;
      const a1base = a0base + aRow;
      const c0 = cOff + i * ldc;
      const c1 = c0 + ldc;
      let j = 0;
      for (; j < n4; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let pa0 = a0base, pa1 = a1base;
        let pb = bOff + j * bCol;
        for (let p = 0; p < k; p++) {
          const x0 = a[pa0], x1 = a[pa1];
          const b0 = b[pb], b1 = b[pb + bCol], b2 = b[pb + 2 * bCol], b3 = b[pb + 3 * bCol];
          s00 += x0 * b0; s01 += x0 * b1; s02 += x0 * b2; s03 += x0 * b3;
          s10 += x1 * b0; s11 += x1 * b1; s12 += x1 * b2; s13 += x1 * b3;
          pa0 += aCol; pa1 += aCol; pb += bRow;
        }
        if (accumulate) {
          c[c0 + j] += s00; c[c0 + j + 1] += s01; c[c0 + j + 2] += s02; c[c0 + j + 3] += s03;
          c[c1 + j] += s10; c[c1 + j + 1] += s11; c[c1 + j + 2] += s12; c[c1 + j + 3] += s13;
        } else {
          c[c0 + j] = s00; c[c0 + j + 1] = s01; c[c0 + j + 2] = s02; c[c0 + j + 3] = s03;
          c[c1 + j] = s10; c[c1 + j + 1] = s11; c[c1 + j + 2] = s12; c[c1 + j + 3] = s13;
        }
      }
      for (; j < n; j++) {
        let s0 = 0, s1 = 0;
        let pa0 = a0base, pa1 = a1base;
        let pb = bOff + j * bCol;
        for (let p = 0; p < k; p++) {
          const bv = b[pb];
          s0 += a[pa0] * bv; s1 += a[pa1] * bv;
          pa0 += aCol; pa1 += aCol; pb += bRow;
        }
        if (accumulate) { c[c0 + j] += s0; c[c1 + j] += s1; } else { c[c0 + j] = s0; c[c1 + j] = s1; }
      }
    }
    for (; i < m; i++) {
      const abase = aOff + i * aRow;
      const c0 = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        let s = 0;
        let pa = abase;
        let pb = bOff + j * bCol;
        for (let p = 0; p < k; p++) { s += a[pa] * b[pb]; pa += aCol; pb += bRow; }
        if (accumulate) c[c0 + j] += s; else c[c0 + j] = s;
      }
    }
  },
};
