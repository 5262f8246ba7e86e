/**
 * The few dense linear-algebra pieces the models, constraints and certificates need.
 * Matrices are row-major Float64Array with explicit (rows, cols).
 */
import { matmul, matmulTransA } from './kernels.ts';
import { Rng } from './rng.ts';

/** `W^T W` (cols x cols) of a rows x cols matrix. */
export function gram(w: Float64Array, rows: number, cols: number): Float64Array {
  const g = new Float64Array(cols * cols);
  matmulTransA(cols, cols, rows, w, 0, w, 0, g, 0);
  return g;
}

/** Euclidean norm of a vector. */
export function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Power iteration for the largest singular value of W (rows x cols), warm-started from `u`
 * (length cols, updated in place so the next call starts where this one stopped, as in
 * spectral normalisation). Runs at most `iterations` steps, stopping early when the estimate changes
 * by less than `tolerance` (relative). Returns the estimate, a lower bound of the true value.
 */
export function powerIteration(
  w: Float64Array, rows: number, cols: number, u: Float64Array, iterations = 10, tolerance = 1e-3,
  work?: { v: Float64Array; u2: Float64Array },
): number {
  const v = work?.v ?? new Float64Array(rows);
  const u2 = work?.u2 ?? new Float64Array(cols);
  let nu = norm2(u);
  if (!(nu > 0) || !Number.isFinite(nu)) {
    for (let i = 0; i < cols; i++) u[i] = 1 / Math.sqrt(cols);
    nu = 1;
  } else for (let i = 0; i < cols; i++) u[i] /= nu;
  let sigma = 0;
  for (let it = 0; it < iterations; it++) {
    // v = W u ; u2 = W^T v
    matmul(rows, 1, cols, w, 0, u, 0, v, 0);
    const nv = norm2(v);
    if (nv === 0) return 0;
    matmulTransA(cols, 1, rows, w, 0, v, 0, u2, 0);
    const nu2 = norm2(u2);
    const next = nu2 / nv; // Rayleigh-type estimate ||W^T W u|| / ||W u|| >= ||W u||
    for (let i = 0; i < cols; i++) u[i] = u2[i] / nu2;
    const done = Math.abs(next - sigma) <= tolerance * Math.max(next, 1e-300);
    sigma = next;
    if (done) break;
  }
  // Report ||W u|| for the final unit u: a guaranteed lower bound of sigma_max.
  matmul(rows, 1, cols, w, 0, u, 0, v, 0);
  return Math.max(norm2(v), 0);
}

/**
 * One Jacobi rotation of the symmetric n x n matrix `m` (row-major, in place) that zeroes
 * `m[p][q]` (which must be non-zero), accumulated into the eigenvector matrix `v` when given. The one
 * rotation both Jacobi eigen-solvers use ({@link symmetricEigenvalues}, `spectral.ts`'s `jacobiEigen`).
 */
export function jacobiRotation(m: Float64Array, n: number, p: number, q: number, v: Float64Array | null): void {
  const apq = m[p * n + q], app = m[p * n + p], aqq = m[q * n + q];
  const theta = (aqq - app) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    const akp = m[k * n + p], akq = m[k * n + q];
    m[k * n + p] = c * akp - s * akq;
    m[k * n + q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = m[p * n + k], aqk = m[q * n + k];
    m[p * n + k] = c * apk - s * aqk;
    m[q * n + k] = s * apk + c * aqk;
  }
  if (v)
    for (let k = 0; k < n; k++) {
      const vkp = v[k * n + p], vkq = v[k * n + q];
      v[k * n + p] = c * vkp - s * vkq;
      v[k * n + q] = s * vkp + c * vkq;
    }
}

/**
 * Eigenvalues of a symmetric n x n matrix by the cyclic Jacobi method (accurate to a few ulps of
 * the largest eigenvalue; fine for the n <= a few hundred matrices used here). Returns them sorted
 * in decreasing order. The input is not modified.
 */
export function symmetricEigenvalues(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] * m[i * n + i];
      for (let j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        if (m[p * n + q] === 0) continue;
        jacobiRotation(m, n, p, q, null);
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = m[i * n + i];
  ev.sort();
  ev.reverse();
  return ev;
}

/**
 * Largest singular value of W computed accurately: the largest eigenvalue of the smaller Gram
 * matrix (W^T W or W W^T) by Jacobi. Relative accuracy about 1e-14; use the certificate module
 * for a rigorous upper bound.
 */
export function largestSingularValue(w: Float64Array, rows: number, cols: number): number {
  if (rows === 0 || cols === 0) return 0;
  let g: Float64Array;
  let n: number;
  if (cols <= rows) {
    g = gram(w, rows, cols);
    n = cols;
  } else {
    g = new Float64Array(rows * rows);
    // W W^T
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < rows; j++) {
        let s = 0;
        for (let k = 0; k < cols; k++) s += w[i * cols + k] * w[j * cols + k];
        g[i * rows + j] = s;
      }
    n = rows;
  }
  const ev = symmetricEigenvalues(g, n);
  return Math.sqrt(Math.max(ev[0], 0));
}

/**
 * A random matrix with orthonormal rows or columns (whichever fits), scaled by `gain`, like Keras'
 * `Orthogonal` initialiser: QR (modified Gram-Schmidt) of a Gaussian matrix with the sign fix that
 * makes the distribution uniform.
 */
export function orthogonal(rows: number, cols: number, rng: Rng, gain = 1): Float64Array {
  const tall = rows >= cols;
  const r = tall ? rows : cols; // length of the vectors
  const c = tall ? cols : rows; // number of orthonormal vectors
  const q = new Float64Array(c * r);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < i; j++) {
      let d = 0;
      for (let k = 0; k < r; k++) d += q[i * r + k] * q[j * r + k];
      for (let k = 0; k < r; k++) q[i * r + k] -= d * q[j * r + k];
    }
    const nrm = Math.sqrt(q.subarray(i * r, (i + 1) * r).reduce((s, x) => s + x * x, 0)) || 1;
    for (let k = 0; k < r; k++) q[i * r + k] /= nrm;
  }
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (tall ? q[j * r + i] : q[i * r + j]);
  return out;
}
