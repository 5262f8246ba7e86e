/**
 * Rigorous spectral norms (largest singular values) for the certificates.
 *
 * A 10-step power iteration gives a *lower* estimate of `||A||_2`; a certificate needs an *upper*
 * bound. Two routes, both rigorous including floating-point rounding:
 *
 * - {@link spectralNormBound} (any sign): cyclic Jacobi on the smaller Gram matrix gives an
 *   approximate eigenvector basis `V`. Then `||A|| <= ||A V|| / sigma_min(V)`,
 *   `||A V||^2 = lambda_max((AV)^T (AV))` is bounded by Gershgorin's theorem on the computed (nearly
 *   diagonal) matrix `(AV)^T (AV)` and `sigma_min(V)^2 >= 1 - ||V^T V - I||` (Gershgorin again);
 *   every matrix product carries the standard rounding-error bound `|fl(AB) - AB| <= gamma_k |A||B|`
 *   (`gamma_k = k u / (1 - k u)`, `u = 2^-53`). The result exceeds the true value by a relative
 *   ~1e-13 at most for well-conditioned problems (it is a residual-based error bound: the
 *   off-diagonal residual of the Jacobi basis enters the Gershgorin radii).
 * - {@link nonNegativeSpectralNormBound} (entry-wise non-negative matrices): the Collatz-Wielandt
 *   bound `rho(A^T A) <= max_i (A^T A q)_i / q_i` for any positive `q`, with `q` the converged Perron
 *   vector (power iteration run to a relative gap of 1e-13, not 10 steps).
 *
 * Matrices are row-major Float64Array with explicit (rows, cols).
 */
import { ValidationError } from './errors.ts';
import { jacobiRotation } from './linalg.ts';

const U = 2 ** -53;

/** `gamma_k = k u / (1 - k u)`: the relative rounding bound of a k-term dot product. */
export function gamma(k: number): number {
  const ku = k * U;
  return ku / (1 - ku);
}

/** A certified spectral norm: `estimate <= ||A||_2 <= upper` (estimate is attained by a vector up to rounding). */
export interface SpectralBound {
  /** Lower estimate `||A v|| / ||v||` for the computed top right-singular vector. */
  estimate: number;
  /** Rigorous upper bound on `||A||_2`. */
  upper: number;
}

/**
 * Symmetric eigen-decomposition by cyclic Jacobi rotations. Returns the eigenvalues (unsorted, in
 * the order of the columns of `vectors`) and the row-major n x n matrix whose columns are the
 * approximate orthonormal eigenvectors. The input is not modified.
 */
export function jacobiEigen(a: Float64Array, n: number, maxSweeps = 60): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0, diag = 0;
    for (let i = 0; i < n; i++) {
      diag += m[i * n + i] * m[i * n + i];
      for (let j = i + 1; j < n; j++) off += m[i * n + j] * m[i * n + j];
    }
    if (off <= 1e-34 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p], aqq = m[q * n + q];
        // skip rotations that cannot change anything at this precision
        if (Math.abs(apq) < 1e-300 || Math.abs(apq) <= 1e-18 * Math.sqrt(Math.abs(app * aqq))) {
          m[p * n + q] = 0;
          m[q * n + p] = 0;
          continue;
        }
        jacobiRotation(m, n, p, q, v);
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i];
  return { values, vectors: v };
}

/** Transpose of a rows x cols matrix. */
export function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** C = A^T B for A [m x p], B [m x q] -> [p x q] (plain loops; small matrices). */
function atb(a: Float64Array, b: Float64Array, m: number, p: number, q: number): Float64Array {
  const c = new Float64Array(p * q);
  for (let r = 0; r < m; r++) {
    const ao = r * p, bo = r * q;
    for (let i = 0; i < p; i++) {
      const x = a[ao + i];
      if (x === 0) continue;
      const co = i * q;
      for (let j = 0; j < q; j++) c[co + j] += x * b[bo + j];
    }
  }
  return c;
}

/** C = A B for A [m x k], B [k x n]. */
function ab(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const co = i * n;
    for (let p = 0; p < k; p++) {
      const x = a[i * k + p];
      if (x === 0) continue;
      const bo = p * n;
      for (let j = 0; j < n; j++) c[co + j] += x * b[bo + j];
    }
  }
  return c;
}

function absArray(a: Float64Array): Float64Array {
  const r = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = Math.abs(a[i]);
  return r;
}

/** Rounds a non-negative bound up by a few ulps to cover the last scalar operations. */
function up(x: number, ops = 8): number {
  return x * (1 + ops * U) + Number.MIN_VALUE;
}

/** Upper bound on `lambda_max` of a symmetric matrix `g` known up to an entry-wise error `e` (Gershgorin). */
function gershgorinMax(g: Float64Array, e: Float64Array | null, n: number): number {
  let best = -Infinity;
  for (let i = 0; i < n; i++) {
    let s = g[i * n + i];
    let r = 0;
    for (let j = 0; j < n; j++) {
      if (j !== i) r += Math.abs(g[i * n + j]);
      if (e) r += e[i * n + j];
    }
    const v = s + up(r, 2 * n + 4);
    if (v > best) best = v;
  }
  return best;
}

/**
 * Certified `||A||_2` of a matrix of any sign (see the module comment for the proof). Exact zero
 * matrices give 0. Cost: one Jacobi eigen-solve of size min(rows, cols).
 */
export function spectralNormBound(a: Float64Array, rows: number, cols: number): SpectralBound {
  if (rows === 0 || cols === 0) return { estimate: 0, upper: 0 };
  let allZero = true;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) return { estimate: Infinity, upper: Infinity };
    if (a[i] !== 0) allZero = false;
  }
  if (allZero) return { estimate: 0, upper: 0 };
  // work with the orientation whose Gram matrix is the smaller one: ||A|| = ||A^T||
  let m = rows, k = cols, A = a;
  if (cols > rows) {
    A = transpose(a, rows, cols);
    m = cols;
    k = rows;
  }
  // scale to avoid overflow / underflow in the Gram matrix (exact: power of two)
  let amax = 0;
  for (let i = 0; i < A.length; i++) amax = Math.max(amax, Math.abs(A[i]));
  const e2 = Math.floor(Math.log2(amax));
  const sc = 2 ** -e2;
  const As = new Float64Array(A.length);
  for (let i = 0; i < A.length; i++) As[i] = A[i] * sc;
  const S = atb(As, As, m, k, k);
  const { vectors: V } = jacobiEigen(S, k);
  // W = fl(A V); |AV - W| <= gamma_k |A||V|
  const W = ab(As, V, m, k, k);
  const absA = absArray(As), absV = absArray(V);
  const E1 = ab(absA, absV, m, k, k);
  let e1f = 0;
  for (let i = 0; i < E1.length; i++) e1f += E1[i] * E1[i];
  const e1 = up(gamma(k + 2) * Math.sqrt(e1f), 2 * m * k + 8);
  // M = fl(W^T W); |W^T W - M| <= gamma_m |W|^T |W|
  const M = atb(W, W, m, k, k);
  const absW = absArray(W);
  const E2 = atb(absW, absW, m, k, k);
  const g2 = gamma(m + 2) * (1 + gamma(m + 2));
  for (let i = 0; i < E2.length; i++) E2[i] = up(E2[i] * g2, 4);
  const lamW = Math.max(0, gershgorinMax(M, E2, k));
  // sigma_min(V)^2 = lambda_min(V^T V) >= 1 - max_i sum_j |V^T V - I|_ij
  const G = atb(V, V, k, k, k);
  const EG = atb(absV, absV, k, k, k);
  let dev = 0;
  for (let i = 0; i < k; i++) {
    let r = 0;
    for (let j = 0; j < k; j++) r += Math.abs(G[i * k + j] - (i === j ? 1 : 0)) + gamma(k + 2) * (1 + gamma(k + 2)) * EG[i * k + j];
    dev = Math.max(dev, up(r, 2 * k + 4));
  }
  // estimate: the best column of W = A V (||A v_j|| for a unit-ish v_j)
  let best = 0;
  for (let j = 0; j < k; j++) {
    let s = 0, nv = 0;
    for (let i = 0; i < m; i++) s += W[i * k + j] * W[i * k + j];
    for (let i = 0; i < k; i++) nv += V[i * k + j] * V[i * k + j];
    if (nv > 0) best = Math.max(best, Math.sqrt(s / nv));
  }
  const estimate = best / sc;
  if (!(dev < 0.5)) {
    // the Jacobi basis is unusable (should not happen): fall back to the Frobenius norm
    let f = 0;
    for (let i = 0; i < A.length; i++) f += A[i] * A[i];
    return { estimate, upper: up(Math.sqrt(f) * (1 + gamma(A.length + 2)), 4) };
  }
  const upper = up((up(Math.sqrt(lamW), 4) + e1) / Math.sqrt(1 - dev), 8) / sc;
  return { estimate: Math.min(estimate, upper), upper };
}

/**
 * Certified `||A||_2` of an entry-wise non-negative matrix by the Collatz-Wielandt bound on
 * `A^T A` with a converged Perron vector. Throws a RangeError if A has a negative entry.
 * Falls back to {@link spectralNormBound} when the power iteration converges slowly (reducible
 * matrices) and returns the smaller of the two upper bounds.
 */
export function nonNegativeSpectralNormBound(a: Float64Array, rows: number, cols: number, maxIterations = 3000): SpectralBound {
  if (rows === 0 || cols === 0) return { estimate: 0, upper: 0 };
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] >= 0)) {
      if (Number.isNaN(a[i]) || a[i] < 0) throw new ValidationError(`nonNegativeSpectralNormBound: entry ${i} is ${a[i]}`);
    }
    if (a[i] === Infinity) return { estimate: Infinity, upper: Infinity };
  }
  let m = rows, k = cols, A = a;
  if (cols > rows) {
    A = transpose(a, rows, cols);
    m = cols;
    k = rows;
  }
  let amax = 0;
  for (let i = 0; i < A.length; i++) amax = Math.max(amax, A[i]);
  if (amax === 0) return { estimate: 0, upper: 0 };
  const sc = 2 ** -Math.floor(Math.log2(amax));
  const As = new Float64Array(A.length);
  for (let i = 0; i < A.length; i++) As[i] = A[i] * sc;
  // power iteration on G = As^T As (k x k) without forming it: q <- As^T (As q)
  const q = new Float64Array(k).fill(1);
  const w = new Float64Array(m);
  const g = new Float64Array(k);
  let lower = 0, upper = Infinity;
  const iterate = (): void => {
    w.fill(0);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < k; j++) s += As[i * k + j] * q[j];
      w[i] = s;
    }
    g.fill(0);
    for (let i = 0; i < m; i++) {
      const x = w[i];
      if (x === 0) continue;
      for (let j = 0; j < k; j++) g[j] += As[i * k + j] * x;
    }
  };
  let it = 0;
  for (; it < maxIterations; it++) {
    iterate();
    // Collatz-Wielandt: max_j g_j / q_j >= rho(G); lower: ||As q||^2 / ||q||^2
    let hi = 0, nq = 0, nw = 0, gmax = 0;
    for (let j = 0; j < k; j++) {
      hi = Math.max(hi, g[j] / q[j]);
      nq += q[j] * q[j];
      gmax = Math.max(gmax, g[j]);
    }
    for (let i = 0; i < m; i++) nw += w[i] * w[i];
    lower = Math.max(lower, nw / nq);
    upper = Math.min(upper, hi);
    if (gmax === 0) return { estimate: 0, upper: 0 };
    // next q: normalised, floored to stay strictly positive
    const floor = 1e-30;
    for (let j = 0; j < k; j++) q[j] = Math.max(g[j] / gmax, floor);
    if (upper - lower <= 1e-13 * upper) break;
  }
  // rounding: every sum has non-negative terms, relative error <= gamma(m) + gamma(k) (+ the divisions)
  const rel = (1 + gamma(m + 2)) * (1 + gamma(k + 2));
  let certified = up(Math.sqrt(up(upper * rel, 4)), 4) / sc;
  const estimate = Math.sqrt(lower) / sc;
  if (upper - lower > 1e-9 * upper) {
    const alt = spectralNormBound(a, rows, cols);
    certified = Math.min(certified, alt.upper);
    return { estimate: Math.max(estimate, alt.estimate), upper: certified };
  }
  return { estimate: Math.min(estimate, certified), upper: certified };
}

/** Certified spectral norm of any matrix, using the non-negative route when it applies. */
export function certifiedNorm(a: Float64Array, rows: number, cols: number): SpectralBound {
  let nonNeg = true;
  for (let i = 0; i < a.length; i++) if (a[i] < 0) { nonNeg = false; break; }
  return nonNeg ? nonNegativeSpectralNormBound(a, rows, cols) : spectralNormBound(a, rows, cols);
}
