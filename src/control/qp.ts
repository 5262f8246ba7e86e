/**
 * Dense strictly convex quadratic programming by the Goldfarb-Idnani dual active-set method.
 *
 *   minimise   0.5 x'Hx + g'x
 *   subject to A x <= b            (m general inequality rows)
 *              lower <= x <= upper (simple bounds; +-Infinity allowed)
 *
 * H must be symmetric positive definite. The solver is meant for the small dense QPs of an SQP
 * iteration (a handful to a few hundred variables) and for real-time use: all workspaces are
 * allocated once in {@link QpSolver}'s constructor and `solve` allocates nothing.
 *
 * Why not an npm package: `quadprog` (the JS port of Goldfarb-Idnani) uses 1-based plain arrays,
 * takes the constraints as a dense column matrix (so every bound becomes a full column), allocates
 * its workspaces on every call and has no typed arrays; for a QP with 4 variables solved hundreds
 * of times per millisecond budget, that overhead dominates. This implementation follows the same
 * algorithm (as in eiquadprog) with bounds handled as unit-normal constraints at O(n) cost.
 *
 * No Node APIs: runs in a browser.
 */
import { ValidationError } from '../core/errors.ts';

/** Outcome of a QP solve. */
export type QpStatus = 'optimal' | 'infeasible' | 'max-iterations' | 'not-convex';

/**
 * A dense QP `min 0.5 x'Hx + g'x  s.t.  A x <= b, lower <= x <= upper`.
 * Matrices are row-major Float64Array. Only the lower triangle of H is read.
 */
export interface QpProblem {
  /** Number of variables. */
  n: number;
  /** Number of general inequality rows. */
  m: number;
  /** Hessian, n x n row-major, symmetric positive definite (lower triangle read). */
  H: Float64Array;
  /** Linear term, length n. */
  g: Float64Array;
  /** Constraint matrix, m x n row-major (may be empty when m = 0). */
  A: Float64Array;
  /** Right-hand side, length m. */
  b: Float64Array;
  /** Lower bounds, length n (-Infinity for none). Omitted: all -Infinity. */
  lower?: Float64Array;
  /** Upper bounds, length n (+Infinity for none). Omitted: all +Infinity. */
  upper?: Float64Array;
}

/**
 * Result of {@link QpSolver.solve}. The object and its arrays belong to the solver and are
 * overwritten by its next `solve`; copy what you need to keep.
 */
export interface QpResult {
  /** 'optimal'; 'infeasible' when no x satisfies the constraints (detected by the dual method);
   * 'max-iterations' when the active-set iteration limit was hit; 'not-convex' when H is not
   * numerically positive definite (Cholesky failed). */
  status: QpStatus;
  /** Solution (length n); always within [lower, upper] exactly. Meaningful for 'optimal'. */
  x: Float64Array;
  /** Objective 0.5 x'Hx + g'x at x. */
  objective: number;
  /** Multipliers of the rows of A (>= 0), length m. */
  multipliers: Float64Array;
  /**
   * Signed bound multipliers, length n: positive for an active upper bound, negative for an active
   * lower bound, so that `H x + g + A' multipliers + boundMultipliers = 0` at the optimum.
   */
  boundMultipliers: Float64Array;
  /** Number of active-set changes (constraint additions and deletions). */
  iterations: number;
}

/** Options of {@link QpSolver}. */
export interface QpOptions {
  /** Limit on active-set changes; default 50 + 10 (n + m). */
  maxIterations?: number;
  /** Relative tolerance on constraint violation (scaled by 1 + |rhs| + sum |a_j x_j|); default 1e-10. */
  feasibilityTolerance?: number;
}

/**
 * Reusable Goldfarb-Idnani dual active-set QP solver for problems of a fixed size (n variables,
 * m general rows).
 *
 * Algorithm: Cholesky H = L L', J = L^-T; start from the unconstrained minimiser -H^-1 g; then
 * repeatedly pick the most violated constraint (relative tolerance), compute the primal step
 * direction in the null space of the active normals and the dual step direction, take the largest
 * step that keeps dual feasibility (dropping a constraint whose multiplier reaches zero, a partial
 * step) or that satisfies the picked constraint (a full step, which adds it to the active set);
 * J and the triangular factor R of the active normals are updated by Givens rotations. When the
 * picked constraint is linearly dependent on the active ones and no multiplier can be dropped, the
 * QP is infeasible. Terminates when no constraint is violated beyond tolerance.
 */
export class QpSolver {
  /** Number of variables this solver was built for. */
  readonly n: number;
  /** Number of general constraint rows this solver was built for. */
  readonly m: number;
  /** The (reused) result of the last solve. */
  readonly result: QpResult;
  private readonly maxIterations: number;
  private readonly feasTol: number;
  private readonly L: Float64Array; // Cholesky factor (lower), n x n
  private readonly J: Float64Array; // L^-T Q, n x n
  private readonly R: Float64Array; // upper triangular, n x n
  private readonly d: Float64Array;
  private readonly zdir: Float64Array;
  private readonly rdir: Float64Array;
  private readonly u: Float64Array; // multipliers of active constraints (+ tentative), n + 1
  private readonly active: Int32Array; // active constraint indices (+ tentative), n + 1
  private readonly slack: Float64Array; // m + 2n
  private readonly tol: Float64Array; // per-constraint violation tolerance, m + 2n
  private readonly isActive: Uint8Array; // m + 2n
  private readonly excluded: Uint8Array; // m + 2n: dependent constraints violated only by round-off
  private readonly An: Float64Array; // rows of A scaled to unit norm, m x n
  private readonly bn: Float64Array; // b scaled likewise
  private readonly rowScale: Float64Array; // 1 / ||a_k||
  private readonly noLower: Float64Array;
  private readonly noUpper: Float64Array;
  private q = 0;

  /**
   * @param n number of variables (>= 1)
   * @param m number of general inequality rows (>= 0)
   * @param options iteration limit and feasibility tolerance
   */
  constructor(n: number, m: number, options: QpOptions = {}) {
    if (!Number.isInteger(n) || n < 1) throw new ValidationError(`QpSolver: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(m) || m < 0) throw new ValidationError(`QpSolver: m must be a non-negative integer, got ${m}`);
    this.n = n;
    this.m = m;
    this.maxIterations = options.maxIterations ?? 50 + 10 * (n + m);
    this.feasTol = options.feasibilityTolerance ?? 1e-10;
    this.L = new Float64Array(n * n);
    this.J = new Float64Array(n * n);
    this.R = new Float64Array(n * n);
    this.d = new Float64Array(n);
    this.zdir = new Float64Array(n);
    this.rdir = new Float64Array(n + 1);
    this.u = new Float64Array(n + 1);
    this.active = new Int32Array(n + 1);
    const nc = m + 2 * n;
    this.slack = new Float64Array(nc);
    this.tol = new Float64Array(nc);
    this.isActive = new Uint8Array(nc);
    this.excluded = new Uint8Array(nc);
    this.An = new Float64Array(m * n);
    this.bn = new Float64Array(m);
    this.rowScale = new Float64Array(m);
    this.noLower = new Float64Array(n).fill(-Infinity);
    this.noUpper = new Float64Array(n).fill(Infinity);
    this.result = {
      status: 'optimal',
      x: new Float64Array(n),
      objective: 0,
      multipliers: new Float64Array(m),
      boundMultipliers: new Float64Array(n),
      iterations: 0,
    };
  }

  /**
   * Solves the QP. `p.n` and `p.m` must equal the solver's sizes. Allocation-free. Throws a
   * ValidationError on size mismatch or crossed bounds (lower > upper).
   */
  solve(p: QpProblem): QpResult {
    const n = this.n, m = this.m;
    if (p.n !== n || p.m !== m) throw new ValidationError(`QpSolver(${n}, ${m}) cannot solve a QP of size (${p.n}, ${p.m})`);
    const lo = p.lower ?? this.noLower, hi = p.upper ?? this.noUpper;
    const { H, g } = p;
    const { L, J, R, d, zdir, rdir, u, active, slack, tol, isActive, excluded } = this;
    const res = this.result;
    const x = res.x;
    res.multipliers.fill(0);
    res.boundMultipliers.fill(0);
    res.iterations = 0;
    res.objective = NaN;
    for (let i = 0; i < n; i++) {
      if (!(lo[i] <= hi[i])) throw new ValidationError(`QpSolver: lower[${i}] = ${lo[i]} > upper[${i}] = ${hi[i]}`);
    }

    // Cholesky H = L L' (lower triangle of H).
    let maxDiag = 0;
    for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(H[i * n + i]));
    const pivotTol = 1e-14 * Math.max(maxDiag, 1e-300);
    for (let j = 0; j < n; j++) {
      let s = H[j * n + j];
      for (let k = 0; k < j; k++) s -= L[j * n + k] * L[j * n + k];
      if (!(s > pivotTol)) {
        res.status = 'not-convex';
        x.fill(NaN);
        return res;
      }
      const ljj = Math.sqrt(s);
      L[j * n + j] = ljj;
      for (let i = j + 1; i < n; i++) {
        let t = H[i * n + j];
        for (let k = 0; k < j; k++) t -= L[i * n + k] * L[j * n + k];
        L[i * n + j] = t / ljj;
      }
      for (let i = 0; i < j; i++) L[i * n + j] = 0;
    }
    // J = L^-T: solve L W = I column by column (W = L^-1 lower), J[r][c] = W[c][r].
    J.fill(0);
    for (let c = 0; c < n; c++) {
      // column c of W: W[i][c] for i >= c
      for (let i = c; i < n; i++) {
        let s = i === c ? 1 : 0;
        for (let k = c; k < i; k++) s -= L[i * n + k] * J[c * n + k]; // W[k][c] = J[c][k]
        J[c * n + i] = s / L[i * n + i];
      }
    }
    // Unconstrained minimiser x = -H^-1 g = -J J' g.
    for (let c = 0; c < n; c++) {
      let s = 0;
      for (let r = 0; r <= c; r++) s += J[r * n + c] * g[r];
      d[c] = s;
    }
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let c = r; c < n; c++) s += J[r * n + c] * d[c];
      x[r] = -s;
    }

    // Rows scaled to unit norm: slacks become distances, consistent with the bounds' tolerances.
    const A = this.An, b = this.bn, rowScale = this.rowScale;
    for (let k = 0; k < m; k++) {
      let s2 = 0;
      for (let j = 0; j < n; j++) s2 += p.A[k * n + j] * p.A[k * n + j];
      const sc = s2 > 0 ? 1 / Math.sqrt(s2) : 1;
      rowScale[k] = sc;
      for (let j = 0; j < n; j++) A[k * n + j] = p.A[k * n + j] * sc;
      b[k] = p.b[k] * sc;
    }
    this.q = 0;
    isActive.fill(0);
    excluded.fill(0);
    const nc = m + 2 * n;
    const eps = this.feasTol;
    let iterations = 0;
    let status: QpStatus = 'optimal';

    outer: for (;;) {
      // Slacks s_k = n_k'x - b_k (>= 0 when satisfied) and their tolerances.
      let worst = 0;
      let p = -1;
      for (let k = 0; k < nc; k++) {
        const s = this.slackOf(k, A, b, lo, hi, x);
        slack[k] = s;
        if (isActive[k] || excluded[k] || !(s < 0)) continue;
        const v = s / tol[k];
        if (v < -1 && v < worst) {
          worst = v;
          p = k;
        }
      }
      if (p < 0) break;

      u[this.q] = 0;
      active[this.q] = p;
      for (;;) {
        if (++iterations > this.maxIterations) {
          status = 'max-iterations';
          break outer;
        }
        // d = J' n_p; z = J2 d2 (primal direction); r = R^-1 d1 (dual direction).
        this.normalTimesJ(p, A);
        const q = this.q;
        let dn2 = 0, d2n2 = 0;
        for (let i = 0; i < n; i++) dn2 += d[i] * d[i];
        for (let i = q; i < n; i++) d2n2 += d[i] * d[i];
        for (let r = 0; r < n; r++) {
          let s = 0;
          for (let c = q; c < n; c++) s += J[r * n + c] * d[c];
          zdir[r] = s;
        }
        for (let i = q - 1; i >= 0; i--) {
          let s = d[i];
          for (let j = i + 1; j < q; j++) s -= R[i * n + j] * rdir[j];
          rdir[i] = s / R[i * n + i];
        }
        // Partial step length t1 (dual feasibility) and full step length t2 (primal feasibility).
        let t1 = Infinity;
        let drop = -1;
        for (let j = 0; j < q; j++) {
          if (rdir[j] > 0) {
            const t = Math.max(0, u[j]) / rdir[j];
            if (t < t1) {
              t1 = t;
              drop = active[j];
            }
          }
        }
        const dependent = !(d2n2 > 1e-24 * dn2);
        const t2 = dependent ? Infinity : -slack[p] / d2n2; // z'n_p = ||d2||^2
        if (t1 === Infinity && t2 === Infinity) {
          // p depends on the active normals and no multiplier can be dropped: the QP is
          // infeasible, unless the violation is round-off (then skip p until the next addition).
          if (slack[p] >= -100 * tol[p]) {
            excluded[p] = 1;
            active[q] = -1;
            u[q] = 0;
            continue outer;
          }
          status = 'infeasible';
          break outer;
        }
        if (t2 === Infinity) {
          // Pure dual step, then drop the blocking constraint.
          for (let j = 0; j < q; j++) u[j] -= t1 * rdir[j];
          u[q] += t1;
          this.deleteConstraint(drop);
          continue;
        }
        const full = t2 <= t1;
        const t = full ? t2 : t1;
        for (let i = 0; i < n; i++) x[i] += t * zdir[i];
        for (let j = 0; j < q; j++) u[j] -= t * rdir[j];
        u[q] += t;
        if (full) {
          this.addConstraint(p);
          excluded.fill(0);
          // Snap an activated bound exactly.
          if (p >= m) {
            if (p < m + n) x[p - m] = lo[p - m];
            else x[p - m - n] = hi[p - m - n];
          }
          continue outer;
        }
        this.deleteConstraint(drop);
        slack[p] = this.slackOf(p, A, b, lo, hi, x);
      }
    }

    res.status = status;
    res.iterations = iterations;
    // Exact bound feasibility (removes round-off below the tolerance).
    for (let i = 0; i < n; i++) {
      if (x[i] < lo[i]) x[i] = lo[i];
      else if (x[i] > hi[i]) x[i] = hi[i];
    }
    for (let j = 0; j < this.q; j++) {
      const k = active[j];
      if (u[j] < 0) u[j] = 0; // round-off below zero
      if (k < m) res.multipliers[k] = u[j] * rowScale[k];
      else if (k < m + n) {
        res.boundMultipliers[k - m] -= u[j];
        x[k - m] = lo[k - m]; // active bounds hold exactly (steps move them by round-off only)
      } else {
        res.boundMultipliers[k - m - n] += u[j];
        x[k - m - n] = hi[k - m - n];
      }
    }
    let obj = 0;
    for (let i = 0; i < n; i++) {
      let s = 0.5 * H[i * n + i] * x[i];
      for (let j = 0; j < i; j++) s += H[i * n + j] * x[j];
      obj += x[i] * (s + g[i]);
    }
    res.objective = obj;
    return res;
  }

  /** Slack s_k of constraint k at x; also stores its violation tolerance in this.tol[k]. */
  private slackOf(k: number, A: Float64Array, b: Float64Array, lo: Float64Array, hi: Float64Array, x: Float64Array): number {
    const n = this.n, m = this.m;
    if (k < m) {
      let s = b[k];
      let scale = 1 + Math.abs(b[k]);
      const o = k * n;
      for (let j = 0; j < n; j++) {
        const t = A[o + j] * x[j];
        s -= t;
        scale += Math.abs(t);
      }
      this.tol[k] = this.feasTol * scale;
      return s;
    }
    if (k < m + n) {
      const i = k - m;
      const l = lo[i];
      if (l === -Infinity) {
        this.tol[k] = 1;
        return Infinity;
      }
      this.tol[k] = this.feasTol * (1 + Math.abs(l));
      return x[i] - l;
    }
    const i = k - m - n;
    const h = hi[i];
    if (h === Infinity) {
      this.tol[k] = 1;
      return Infinity;
    }
    this.tol[k] = this.feasTol * (1 + Math.abs(h));
    return h - x[i];
  }

  /** d = J' n_k with n_k the inward normal of constraint k (-a_k, e_i or -e_i). */
  private normalTimesJ(k: number, A: Float64Array): void {
    const n = this.n, m = this.m, J = this.J, d = this.d;
    if (k < m) {
      const o = k * n;
      for (let c = 0; c < n; c++) d[c] = 0;
      for (let r = 0; r < n; r++) {
        const a = A[o + r];
        if (a === 0) continue;
        const ro = r * n;
        for (let c = 0; c < n; c++) d[c] -= J[ro + c] * a;
      }
    } else if (k < m + n) {
      const ro = (k - m) * n;
      for (let c = 0; c < n; c++) d[c] = J[ro + c];
    } else {
      const ro = (k - m - n) * n;
      for (let c = 0; c < n; c++) d[c] = -J[ro + c];
    }
  }

  /** Adds the tentative constraint p (d = J'n_p) to the active set: Givens rotations on d and J. */
  private addConstraint(p: number): void {
    const n = this.n, J = this.J, R = this.R, d = this.d;
    const q = this.q;
    for (let j = n - 1; j >= q + 1; j--) {
      let cc = d[j - 1], ss = d[j];
      const h = hypot(cc, ss);
      if (h === 0) continue;
      d[j] = 0;
      ss /= h;
      cc /= h;
      if (cc < 0) {
        cc = -cc;
        ss = -ss;
        d[j - 1] = -h;
      } else d[j - 1] = h;
      const xny = ss / (1 + cc);
      for (let k = 0; k < n; k++) {
        const t1 = J[k * n + j - 1], t2 = J[k * n + j];
        const a = t1 * cc + t2 * ss;
        J[k * n + j - 1] = a;
        J[k * n + j] = xny * (t1 + a) - t2;
      }
    }
    for (let i = 0; i <= q; i++) R[i * n + q] = d[i];
    this.isActive[p] = 1;
    this.q = q + 1;
  }

  /** Removes constraint l from the active set, restoring R to triangular form by Givens rotations. */
  private deleteConstraint(l: number): void {
    const n = this.n, J = this.J, R = this.R, u = this.u, active = this.active;
    let q = this.q;
    let qq = -1;
    for (let i = 0; i < q; i++) {
      if (active[i] === l) {
        qq = i;
        break;
      }
    }
    if (qq < 0) return;
    this.isActive[l] = 0;
    for (let i = qq; i < q - 1; i++) {
      active[i] = active[i + 1];
      u[i] = u[i + 1];
      for (let j = 0; j < n; j++) R[j * n + i] = R[j * n + i + 1];
    }
    active[q - 1] = active[q];
    u[q - 1] = u[q];
    active[q] = -1;
    u[q] = 0;
    for (let j = 0; j < q; j++) R[j * n + q - 1] = 0;
    q--;
    this.q = q;
    for (let j = qq; j < q; j++) {
      let cc = R[j * n + j], ss = R[(j + 1) * n + j];
      const h = hypot(cc, ss);
      if (h === 0) continue;
      cc /= h;
      ss /= h;
      R[(j + 1) * n + j] = 0;
      if (cc < 0) {
        R[j * n + j] = -h;
        cc = -cc;
        ss = -ss;
      } else R[j * n + j] = h;
      const xny = ss / (1 + cc);
      for (let k = j + 1; k < q; k++) {
        const t1 = R[j * n + k], t2 = R[(j + 1) * n + k];
        const a = t1 * cc + t2 * ss;
        R[j * n + k] = a;
        R[(j + 1) * n + k] = xny * (t1 + a) - t2;
      }
      for (let k = 0; k < n; k++) {
        const t1 = J[k * n + j], t2 = J[k * n + j + 1];
        const a = t1 * cc + t2 * ss;
        J[k * n + j] = a;
        J[k * n + j + 1] = xny * (a + t1) - t2;
      }
    }
  }
}

/** sqrt(a^2 + b^2) without underflow (tiny entries would otherwise give non-orthogonal rotations). */
function hypot(a: number, b: number): number {
  const x = Math.abs(a), y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/**
 * Convenience one-shot QP solve (allocates a {@link QpSolver}; use the class in loops).
 * Returns a result that the caller owns.
 */
export function solveQp(p: QpProblem, options: QpOptions = {}): QpResult {
  return new QpSolver(p.n, p.m, options).solve(p);
}
