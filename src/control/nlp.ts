/**
 * Dense SQP solver for small smooth NLPs with simple bounds and inequality constraints, sized for
 * real-time MPC (2-100 variables):
 *
 *   minimise f(z)  subject to  lower <= z <= upper,  c_i(z) <= 0  (i < m).
 *
 * No Node APIs: runs in a browser. The library never prints.
 *
 * Size (about 700 lines): one algorithm (SQP with line search, Hessian updates and the retry and
 * continuation strategies the MPC's status codes report); the QP subproblem is `qp.ts`.
 */
import { QpSolver, type QpProblem, type QpResult } from './qp.ts';
import { ValidationError } from '../core/errors.ts';

/**
 * A smooth NLP. One callback returns f(z) and fills the gradient, the constraint values and the
 * constraint Jacobian (exact derivatives, e.g. from adjoints). The solver zeroes `grad`, `cons` and
 * `jac` before each call, so only non-zeros need writing.
 */
export interface NlpProblem {
  /** Number of variables. */
  n: number;
  /** Number of inequality constraints c_i(z) <= 0. */
  m: number;
  /** Lower bounds, length n (-Infinity for none). */
  lower: Float64Array;
  /** Upper bounds, length n (+Infinity for none). */
  upper: Float64Array;
  /**
   * Evaluates the problem at z (always within the bounds): returns f(z), fills `grad` (n) with
   * grad f, `cons` (m) with c(z) and `jac` (m x n, row-major) with dc/dz. Must not keep references
   * to the arrays, which belong to the solver.
   */
  evaluate(z: Float64Array, grad: Float64Array, cons: Float64Array, jac: Float64Array): number;
  /**
   * Optional Hessian approximation (e.g. Gauss-Newton J_r'J_r of a least-squares objective) at z,
   * written into H (n x n row-major). When present it replaces the BFGS approximation; it is
   * symmetrised and regularised (a small multiple of the identity, raised until Cholesky succeeds)
   * so that the QP subproblem is strictly convex. Called once per accepted iterate, after `evaluate`.
   */
  hessian?(z: Float64Array, H: Float64Array): void;
}

/** Options of {@link SqpSolver}. */
export interface SqpOptions {
  /** Maximum number of SQP iterations (accepted steps); default 100. */
  maxIterations?: number;
  /** Tolerance on the KKT residual and on the constraint violation (absolute); default 1e-6. */
  tolerance?: number;
  /**
   * Start each solve from the BFGS matrix left by the previous solve of this solver (useful in
   * receding-horizon MPC where consecutive problems are similar); default false (identity).
   */
  warmStartHessian?: boolean;
  /** Try a second-order correction step when the full step is rejected (Maratos effect); default true. */
  secondOrderCorrection?: boolean;
}

/** Outcome of an SQP solve. */
export type SqpStatus = 'optimal' | 'max-iterations' | 'infeasible';

/** Result of {@link SqpSolver.solve}. All arrays are fresh copies owned by the caller. */
export interface SqpResult {
  /** Final point; always within [lower, upper] exactly. */
  z: Float64Array;
  /** f(z). */
  f: number;
  /**
   * 'optimal': KKT residual and constraint violation both <= tolerance.
   * 'infeasible': the constraints could not be satisfied; z is (approximately, locally) a point of
   * the box minimising the l1 constraint violation sum_i max(0, c_i(z)) — a stationary point of
   * that violation — and `multipliers` / `kktResidual` refer to that feasibility problem.
   * 'max-iterations': the iteration limit was reached, or the line search stalled (no decrease of
   * the merit function possible even after resetting the Hessian approximation); z is the last iterate.
   */
  status: SqpStatus;
  /** Number of SQP iterations (accepted steps). 0 when the initial point already satisfies the KKT test. */
  iterations: number;
  /**
   * KKT residual at z: max of the projected-gradient stationarity
   * ||z - P_box(z - (grad f + J' lambda))||_inf and the complementarity max_i lambda_i max(0, -c_i).
   */
  kktResidual: number;
  /** max(0, max_i c_i(z)). */
  constraintViolation: number;
  /** Number of `evaluate` calls. */
  evaluations: number;
  /** Constraint multipliers lambda (>= 0), length m. */
  multipliers: Float64Array;
  /** Signed bound multipliers (positive: upper bound active, negative: lower bound active), length n. */
  boundMultipliers: Float64Array;
}

const ARMIJO = 1e-4;
const MIN_STEP = 1e-12;
const STEERING = 0.1;
const PROBE = 1e-3;
const PROBE_SIGN_VECTORS = 4;

/** Entry i (+-1) of the k-th probing sign vector: all ones, alternating, then two hashed patterns. */
function probeSign(k: number, i: number): number {
  if (k === 0) return 1;
  if (k === 1) return i % 2 === 0 ? 1 : -1;
  const h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(k, 0x85ebca6b);
  return (h >>> 13) & 1 ? 1 : -1;
}

/**
 * Reusable SQP solver for problems with n variables and m inequality constraints; all workspaces
 * are allocated in the constructor and an iteration allocates nothing (a solve allocates only its
 * result).
 *
 * Algorithm (line-search SQP with an l1 exact-penalty merit function, as in Powell / Han and
 * Fletcher's Sl1QP elastic mode):
 * 1. At the iterate z (always inside the box) solve the QP subproblem
 *    min 0.5 d'Bd + g'd  s.t.  c + J d <= 0,  lower - z <= d <= upper - z
 *    with the dense Goldfarb-Idnani solver of `qp.ts` ({@link QpSolver}). B is a damped BFGS
 *    approximation of the Hessian of the Lagrangian (Powell's damping keeps it positive definite;
 *    first update Shanno-Phua scaled; reset to the identity if the line search fails), or the
 *    user's regularised Gauss-Newton matrix from `problem.hessian`.
 * 2. If the linearised constraints are inconsistent with the bounds (QP infeasible), switch to
 *    elastic mode: first solve the feasibility QP min 0.5 d'Bd + max(1, nu) sum t, c + J d <= t,
 *    t >= 0 (with the bounds), which measures how far the linearised violation can be reduced and
 *    tests whether z is a stationary point of the violation; then solve the elastic QP
 *    min 0.5 d'Bd + g'd + nu sum t (+ a 1e-8 nu ridge on t), raising the penalty nu tenfold until the
 *    step achieves at least 10% of the attainable linearised violation reduction (steering rule).
 * 3. Termination (tested at every iterate with the fresh QP multipliers): 'optimal' when the KKT
 *    residual (projected-gradient stationarity of the Lagrangian and complementarity) and the max
 *    constraint violation are both <= tolerance. 'infeasible' when z violates the constraints by more
 *    than the tolerance while the feasibility QP shows it stationary for the l1 violation (residual
 *    and attainable reduction <= tolerance) and probing steps of 1e-3 max(1, |z_i|) along +-e_i and
 *    along four +-1 sign vectors (all ones, alternating, two hashed) find no lower violation (this
 *    rejects maximisers and most saddles of the violation, e.g. where its gradient vanishes; a
 *    probe that lowers it becomes the next iterate): the returned z then (locally) minimises the
 *    violation over the box and is flagged 'infeasible' (never returned as a solution).
 *    'max-iterations' when the iteration limit is reached, or when the solver stalls: the line
 *    search fails or the step is negligible (||d|| <= 1e-12 (1 + ||z||)) although the tests fail,
 *    even after resetting B to the identity.
 * 4. Penalty nu >= 2 max lambda (monotone), backtracking Armijo line search on
 *    phi(z) = f(z) + nu sum max(0, c_i(z)) with the predicted decrease g'd + nu (h_lin(d) - h(z)),
 *    quadratic interpolation, and one second-order-correction step when the full step is rejected.
 * 5. Damped BFGS update with s = z+ - z, y = grad L(z+, lambda) - grad L(z, lambda).
 * Trial points are clipped into the box, so every evaluation and the returned z lie within the
 * bounds exactly.
 */
export class SqpSolver {
  /** Number of variables. */
  readonly n: number;
  /** Number of inequality constraints. */
  readonly m: number;
  private readonly maxIterations: number;
  private readonly tolerance: number;
  private readonly warmStartHessian: boolean;
  private readonly soc: boolean;
  private hasHessian = false;

  private z: Float64Array; private zT: Float64Array;
  private g: Float64Array; private gT: Float64Array;
  private c: Float64Array; private cT: Float64Array;
  private J: Float64Array; private JT: Float64Array;
  private readonly B: Float64Array;
  private readonly Hgn: Float64Array;
  private readonly d: Float64Array;
  private readonly lam: Float64Array;
  private readonly bmul: Float64Array;
  private readonly sv: Float64Array;
  private readonly yv: Float64Array;
  private readonly Bs: Float64Array;
  private readonly zero: Float64Array;

  private readonly qp: QpSolver;
  private readonly qpProblem: QpProblem;
  private readonly qpEl: QpSolver | null;
  private readonly elProblem: QpProblem | null;

  /**
   * @param n number of variables (>= 1)
   * @param m number of inequality constraints (>= 0)
   * @param options iteration limit, tolerance, Hessian warm start, second-order correction
   */
  constructor(n: number, m: number, options: SqpOptions = {}) {
    if (!Number.isInteger(n) || n < 1) throw new ValidationError(`SqpSolver: n must be a positive integer, got ${n}`);
    if (!Number.isInteger(m) || m < 0) throw new ValidationError(`SqpSolver: m must be a non-negative integer, got ${m}`);
    this.n = n;
    this.m = m;
    this.maxIterations = options.maxIterations ?? 100;
    this.tolerance = options.tolerance ?? 1e-6;
    this.warmStartHessian = options.warmStartHessian ?? false;
    this.soc = options.secondOrderCorrection ?? true;
    const f = (k: number) => new Float64Array(k);
    this.z = f(n); this.zT = f(n);
    this.g = f(n); this.gT = f(n);
    this.c = f(m); this.cT = f(m);
    this.J = f(m * n); this.JT = f(m * n);
    this.B = f(n * n);
    this.Hgn = f(n * n);
    this.d = f(n);
    this.lam = f(m);
    this.bmul = f(n);
    this.sv = f(n);
    this.yv = f(n);
    this.Bs = f(n);
    this.zero = f(n);
    this.qp = new QpSolver(n, m);
    this.qpProblem = { n, m, H: f(n * n), g: this.g, A: this.J, b: f(m), lower: f(n), upper: f(n) };
    if (m > 0) {
      const N = n + m;
      this.qpEl = new QpSolver(N, m);
      const A = f(m * N);
      for (let i = 0; i < m; i++) A[i * N + n + i] = -1;
      const upper = f(N).fill(Infinity);
      this.elProblem = { n: N, m, H: f(N * N), g: f(N), A, b: f(m), lower: f(N), upper };
    } else {
      this.qpEl = null;
      this.elProblem = null;
    }
  }

  /**
   * Solves the problem from z0 (warm start; clipped into the bounds; default: the projection of the
   * origin onto the box). Throws a ValidationError on size mismatch, crossed bounds, a non-finite z0, or
   * a non-finite f or c at the initial point (later non-finite trial points are backtracked from).
   */
  solve(problem: NlpProblem, z0?: ArrayLike<number>): SqpResult {
    const n = this.n, m = this.m, tol = this.tolerance;
    if (problem.n !== n || problem.m !== m) {
      throw new ValidationError(`SqpSolver(${n}, ${m}) cannot solve a problem of size (${problem.n}, ${problem.m})`);
    }
    const lo = problem.lower, hi = problem.upper;
    if (lo.length !== n || hi.length !== n) throw new ValidationError('SqpSolver: bounds must have length n');
    for (let i = 0; i < n; i++) {
      if (!(lo[i] <= hi[i])) throw new ValidationError(`SqpSolver: lower[${i}] = ${lo[i]} > upper[${i}] = ${hi[i]}`);
    }
    if (z0 !== undefined) {
      if (z0.length !== n) throw new ValidationError('SqpSolver: z0 must have length n');
      for (let i = 0; i < n; i++) if (!Number.isFinite(z0[i])) throw new ValidationError(`SqpSolver: z0[${i}] is not finite`);
    }
    const gn = typeof problem.hessian === 'function';
    const B = this.B, d = this.d, lam = this.lam, bmul = this.bmul;
    const qpP = this.qpProblem;
    const qpH = qpP.H, qpB = qpP.b, qpLo = qpP.lower!, qpHi = qpP.upper!;

    let z = this.z, zT = this.zT, g = this.g, gT = this.gT, c = this.c, cT = this.cT, J = this.J, JT = this.JT;
    for (let i = 0; i < n; i++) z[i] = clip(z0 === undefined ? 0 : z0[i], lo[i], hi[i]);

    let evaluations = 0;
    const evaluate = (zz: Float64Array, gg: Float64Array, cc: Float64Array, jj: Float64Array): number => {
      gg.fill(0);
      cc.fill(0);
      jj.fill(0);
      evaluations++;
      return problem.evaluate(zz, gg, cc, jj);
    };
    let f = evaluate(z, g, c, J);
    if (!Number.isFinite(f) || !allFinite(c)) throw new RangeError('SqpSolver: f or c is not finite at the initial point');
    if (gn) problem.hessian!(z, this.Hgn);

    let fresh = true; // B is a (scaled) identity
    let firstUpdate = true;
    if (!this.warmStartHessian || !this.hasHessian) {
      setIdentity(B, n);
      this.hasHessian = true;
    } else {
      fresh = false;
      firstUpdate = false;
    }

    let nu = 0;
    let iterations = 0;
    let status: SqpStatus = 'max-iterations';
    let kkt = Infinity;

    for (;;) {
      // ---------- QP subproblem ----------
      const h = l1Violation(c, m);
      const viol = maxViolation(c, m);
      qpP.g = g;
      qpP.A = J;
      for (let i = 0; i < m; i++) qpB[i] = -c[i];
      for (let i = 0; i < n; i++) {
        qpLo[i] = lo[i] - z[i];
        qpHi[i] = hi[i] - z[i];
      }
      const res = this.solveRegularised(gn);
      let hLin = 0;
      let elastic = false;
      let infeasibleDetected = false;
      if (res.status === 'optimal') {
        d.set(res.x);
        lam.set(res.multipliers);
        bmul.set(res.boundMultipliers);
      } else if (res.status === 'not-convex' || m === 0) {
        // Cannot happen for BFGS unless B became numerically singular (nor, with bounds only, can
        // the QP fail): reset B and retry.
        if (!gn && !fresh) {
          setIdentity(B, n);
          fresh = true;
          firstUpdate = true;
          continue;
        }
        break;
      } else {
        // ---------- elastic mode ----------
        elastic = true;
        const elP = this.elProblem!;
        const qpEl = this.qpEl!;
        const N = n + m;
        const He = elP.H, ge = elP.g, Ae = elP.A, be = elP.b, leo = elP.lower!, ueo = elP.upper!;
        He.fill(0);
        for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) He[i * N + j] = qpH[i * n + j];
        for (let i = 0; i < m; i++) {
          be[i] = -c[i];
          for (let j = 0; j < n; j++) Ae[i * N + j] = J[i * n + j];
        }
        for (let i = 0; i < n; i++) {
          leo[i] = qpLo[i];
          ueo[i] = qpHi[i];
        }
        for (let i = n; i < N; i++) {
          leo[i] = 0;
          ueo[i] = Infinity;
        }
        // Feasibility QP: min 0.5 d'Bd + w sum t, with w = max(1, nu) because B models the
        // curvature of f + lambda'c with lambda up to nu.
        const wF = Math.max(1, nu);
        ge.fill(0, 0, n);
        ge.fill(wF, n, N);
        for (let i = n; i < N; i++) He[i * N + i] = 1e-8 * wF;
        const rf = qpEl.solve(elP);
        if (rf.status !== 'optimal') {
          if (!fresh && !gn) {
            setIdentity(B, n);
            fresh = true;
            firstUpdate = true;
            continue;
          }
          break;
        }
        const hLinF = linearisedViolation(c, J, rf.x, n, m);
        const reducible = h - hLinF;
        // Stationarity of the l1 violation at z, with the feasibility multipliers (scaled to [0, 1]).
        for (let k = 0; k < m; k++) lam[k] = rf.multipliers[k] / wF;
        const resF = kktResidual(z, this.zero, J, lam, c, lo, hi, n, m);
        if (viol > tol && resF <= tol && reducible <= tol) {
          for (let i = 0; i < n; i++) bmul[i] = rf.boundMultipliers[i] / wF;
          kkt = resF;
          infeasibleDetected = true;
        } else {
          // Elastic QP with steering of nu.
          if (nu <= 0) nu = 1;
          for (let i = 0; i < n; i++) ge[i] = g[i];
          let re: QpResult = rf;
          for (let tries = 0; ; tries++) {
            ge.fill(nu, n, N);
            const ridge = 1e-8 * Math.max(1, nu);
            for (let i = n; i < N; i++) He[i * N + i] = ridge;
            re = qpEl.solve(elP);
            if (re.status !== 'optimal') break;
            hLin = linearisedViolation(c, J, re.x, n, m);
            if (h - hLin >= STEERING * reducible || tries >= 8) break;
            nu *= 10;
          }
          if (re.status !== 'optimal') {
            if (!fresh && !gn) {
              setIdentity(B, n);
              fresh = true;
              firstUpdate = true;
              continue;
            }
            break;
          }
          for (let i = 0; i < n; i++) d[i] = re.x[i];
          lam.set(re.multipliers);
          for (let i = 0; i < n; i++) bmul[i] = re.boundMultipliers[i];
        }
      }
      if (infeasibleDetected) {
        // First-order stationarity of the violation also holds at its maximisers and saddles
        // (e.g. c = 1 - z^2 at z = 0, where the Jacobian vanishes). Probe +-delta along each
        // coordinate and a few sign vectors; if the violation drops, move there and carry on, else
        // z is taken as a local minimiser of the violation.
        let improved = false;
        let fP = NaN;
        const directions = n + (n > 1 ? PROBE_SIGN_VECTORS : 0);
        for (let dir = 0; dir < directions && !improved; dir++) {
          for (let sg = 1; sg >= -1 && !improved; sg -= 2) {
            let moved = false;
            for (let i = 0; i < n; i++) {
              const e = dir < n ? (i === dir ? 1 : 0) : probeSign(dir - n, i);
              const v = e === 0 ? z[i] : clip(z[i] + sg * e * PROBE * Math.max(1, Math.abs(z[i])), lo[i], hi[i]);
              if (v !== z[i]) moved = true;
              zT[i] = v;
            }
            if (!moved) continue;
            fP = evaluate(zT, gT, cT, JT);
            const hP = l1Violation(cT, m);
            improved = Number.isFinite(fP) && allFinite(cT) && hP < h - 1e-10 * Math.max(1, h);
          }
        }
        if (!improved || iterations >= this.maxIterations) {
          if (!improved) status = 'infeasible';
          break;
        }
        let t: Float64Array;
        t = z; z = zT; zT = t;
        t = g; g = gT; gT = t;
        t = c; c = cT; cT = t;
        t = J; J = JT; JT = t;
        f = fP;
        iterations++;
        if (gn) problem.hessian!(z, this.Hgn);
        continue;
      }

      // ---------- termination test at z ----------
      kkt = kktResidual(z, g, J, lam, c, lo, hi, n, m);
      if (kkt <= tol && viol <= tol) {
        status = 'optimal';
        break;
      }
      if (iterations >= this.maxIterations) break;

      // ---------- stalled: a negligible step although not converged ----------
      let dmax = 0, zmax = 0;
      for (let i = 0; i < n; i++) {
        dmax = Math.max(dmax, Math.abs(d[i]));
        zmax = Math.max(zmax, Math.abs(z[i]));
      }
      if (dmax <= 1e-12 * (1 + zmax)) {
        // The Hessian approximation has blown up (or z is KKT up to round-off): restart BFGS once.
        if (!fresh && !gn) {
          setIdentity(B, n);
          fresh = true;
          firstUpdate = true;
          continue;
        }
        break;
      }

      // ---------- penalty ----------
      if (!elastic) {
        let lmax = 0;
        for (let i = 0; i < m; i++) lmax = Math.max(lmax, lam[i]);
        if (nu < 1.1 * lmax) nu = 2 * lmax;
      }

      // ---------- line search on phi = f + nu h ----------
      const phi = f + nu * h;
      let D = nu * (hLin - h);
      for (let i = 0; i < n; i++) D += g[i] * d[i];
      if (D > 0) D = 0;
      const slackPhi = 100 * Number.EPSILON * Math.max(1, Math.abs(phi));
      let alpha = 1;
      let accepted = false;
      let fT = NaN;
      let triedSoc = !this.soc || elastic || m === 0;
      for (let ls = 0; ls < 60; ls++) {
        for (let i = 0; i < n; i++) zT[i] = clip(z[i] + alpha * d[i], lo[i], hi[i]);
        fT = evaluate(zT, gT, cT, JT);
        const hT = l1Violation(cT, m);
        const phiT = fT + nu * hT;
        if (Number.isFinite(phiT) && allFinite(cT) && phiT <= phi + ARMIJO * alpha * D + slackPhi) {
          accepted = true;
          break;
        }
        if (!triedSoc && alpha === 1 && Number.isFinite(phiT) && hT > 0) {
          triedSoc = true;
          // Second-order correction: c(z+d) + J (dhat - d) <= 0.
          for (let i = 0; i < m; i++) {
            let s = -cT[i];
            for (let j = 0; j < n; j++) s += J[i * n + j] * d[j];
            qpB[i] = s;
          }
          const rs = this.qp.solve(qpP); // same (regularised) Hessian still in qpH
          for (let i = 0; i < m; i++) qpB[i] = -c[i];
          if (rs.status === 'optimal') {
            for (let i = 0; i < n; i++) zT[i] = clip(z[i] + rs.x[i], lo[i], hi[i]);
            const fS = evaluate(zT, gT, cT, JT);
            const phiS = fS + nu * l1Violation(cT, m);
            if (Number.isFinite(phiS) && allFinite(cT) && phiS <= phi + ARMIJO * D + slackPhi) {
              fT = fS;
              accepted = true;
              break;
            }
          }
        }
        let next = 0.1;
        if (Number.isFinite(phiT)) {
          const denom = 2 * (phiT - phi - D * alpha);
          if (denom > 0) next = Math.min(0.5, Math.max(0.1, (-D * alpha) / denom));
        }
        alpha *= next;
        if (alpha < MIN_STEP) break;
      }
      if (!accepted) {
        if (!fresh && !gn) {
          setIdentity(B, n);
          fresh = true;
          firstUpdate = true;
          continue;
        }
        break;
      }

      // ---------- accept, update the Hessian approximation ----------
      const s = this.sv, yv = this.yv;
      for (let i = 0; i < n; i++) {
        s[i] = zT[i] - z[i];
        yv[i] = gT[i] - g[i];
      }
      for (let k = 0; k < m; k++) {
        const l = lam[k];
        if (l === 0) continue;
        const o = k * n;
        for (let i = 0; i < n; i++) yv[i] += l * (JT[o + i] - J[o + i]);
      }
      let t: Float64Array;
      t = z; z = zT; zT = t;
      t = g; g = gT; gT = t;
      t = c; c = cT; cT = t;
      t = J; J = JT; JT = t;
      f = fT;
      iterations++;
      if (gn) problem.hessian!(z, this.Hgn);
      else if (this.bfgsUpdate(s, yv, firstUpdate)) {
        firstUpdate = false;
        fresh = false;
      }
    }

    // Stopped early: report the residual with the latest multipliers (those of the last QP at z).
    if (status === 'max-iterations') kkt = kktResidual(z, g, J, lam, c, lo, hi, n, m);
    // Keep the buffer roles for the next solve.
    this.z = z; this.zT = zT; this.g = g; this.gT = gT; this.c = c; this.cT = cT; this.J = J; this.JT = JT;
    const zOut = new Float64Array(n);
    for (let i = 0; i < n; i++) zOut[i] = clip(z[i], lo[i], hi[i]);
    return {
      z: zOut,
      f,
      status,
      iterations,
      kktResidual: kkt,
      constraintViolation: maxViolation(c, m),
      evaluations,
      multipliers: Float64Array.from(lam),
      boundMultipliers: Float64Array.from(bmul),
    };
  }

  /**
   * Fills the QP Hessian (BFGS matrix, or symmetrised Gauss-Newton matrix plus a ridge) and solves
   * the regular QP subproblem; with Gauss-Newton, raises the ridge until the QP is strictly convex.
   */
  private solveRegularised(gn: boolean): QpResult {
    const n = this.n;
    const H = this.qpProblem.H;
    if (!gn) {
      H.set(this.B);
      return this.qp.solve(this.qpProblem);
    }
    const G = this.Hgn;
    let maxDiag = 0;
    for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(G[i * n + i]));
    const scale = Math.max(1, maxDiag);
    let ridge = 1e-10 * scale;
    let res: QpResult | null = null;
    for (let attempt = 0; attempt < 12; attempt++) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) H[i * n + j] = 0.5 * (G[i * n + j] + G[j * n + i]);
        H[i * n + i] += ridge;
      }
      res = this.qp.solve(this.qpProblem);
      if (res.status !== 'not-convex') return res;
      ridge = Math.max(ridge * 100, 1e-8 * scale);
    }
    return res!;
  }

  /** Powell-damped BFGS update of B with (s, y); returns false when skipped. */
  private bfgsUpdate(s: Float64Array, y: Float64Array, first: boolean): boolean {
    const n = this.n, B = this.B, Bs = this.Bs;
    let ss = 0, sy = 0, yy = 0;
    for (let i = 0; i < n; i++) {
      ss += s[i] * s[i];
      sy += s[i] * y[i];
      yy += y[i] * y[i];
    }
    if (!(ss > 0) || !Number.isFinite(sy) || !Number.isFinite(yy)) return false;
    if (first && sy > 0) {
      const gamma = Math.min(1e6, Math.max(1e-6, yy / sy));
      setIdentity(B, n, gamma);
    }
    let sBs = 0;
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let j = 0; j < n; j++) t += B[i * n + j] * s[j];
      Bs[i] = t;
      sBs += s[i] * t;
    }
    if (!(sBs > 1e-300)) return false;
    let theta = 1;
    if (sy < 0.2 * sBs) theta = (0.8 * sBs) / (sBs - sy);
    // r = theta y + (1 - theta) Bs, stored in y.
    for (let i = 0; i < n; i++) y[i] = theta * y[i] + (1 - theta) * Bs[i];
    const sr = theta * sy + (1 - theta) * sBs;
    if (!(sr > 0)) return false;
    for (let i = 0; i < n; i++) {
      const a = Bs[i] / sBs, b = y[i] / sr;
      for (let j = 0; j < n; j++) B[i * n + j] += y[j] * b - Bs[j] * a;
    }
    return true;
  }
}

/**
 * One-shot convenience wrapper: builds an {@link SqpSolver} for the problem's size and solves from
 * z0. Use the class directly in real-time loops to avoid re-allocating workspaces.
 */
export function solveNlp(problem: NlpProblem, z0?: ArrayLike<number>, options: SqpOptions = {}): SqpResult {
  return new SqpSolver(problem.n, problem.m, options).solve(problem, z0);
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function setIdentity(B: Float64Array, n: number, scale = 1): void {
  B.fill(0);
  for (let i = 0; i < n; i++) B[i * n + i] = scale;
}

function allFinite(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

function l1Violation(c: Float64Array, m: number): number {
  let h = 0;
  for (let i = 0; i < m; i++) if (c[i] > 0) h += c[i];
  return h;
}

function maxViolation(c: Float64Array, m: number): number {
  let v = 0;
  for (let i = 0; i < m; i++) if (c[i] > v) v = c[i];
  return v;
}

/** sum_i max(0, c_i + J_i d) for the first n entries of d. */
function linearisedViolation(c: Float64Array, J: Float64Array, d: Float64Array, n: number, m: number): number {
  let h = 0;
  for (let i = 0; i < m; i++) {
    let s = c[i];
    for (let j = 0; j < n; j++) s += J[i * n + j] * d[j];
    if (s > 0) h += s;
  }
  return h;
}

/**
 * max(||z - P(z - (g + J'lam))||_inf, max_i lam_i max(0, -c_i)): projected-gradient stationarity of
 * the Lagrangian over the box plus complementarity.
 */
function kktResidual(
  z: Float64Array, g: Float64Array, J: Float64Array, lam: Float64Array, c: Float64Array,
  lo: Float64Array, hi: Float64Array, n: number, m: number,
): number {
  let r = 0;
  for (let i = 0; i < n; i++) {
    let gi = g[i];
    for (let k = 0; k < m; k++) gi += J[k * n + i] * lam[k];
    const p = Math.abs(z[i] - clip(z[i] - gi, lo[i], hi[i]));
    if (!(p <= r)) r = p; // propagates NaN
  }
  for (let k = 0; k < m; k++) {
    const v = c[k] < 0 ? lam[k] * -c[k] : 0;
    if (v > r) r = v;
  }
  return r;
}
