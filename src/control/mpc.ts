/**
 * Model predictive control over any {@link Predictor}: a quadratic stage cost on the predicted state
 * samples and the inputs, input bounds, an optional Lyapunov contraction constraint and optional
 * rate limits, solved every sampling period by the dense SQP solver of `nlp.ts` with exact gradients
 * (one reverse sweep over the unrolled horizon).
 *
 * Browser-safe: no Node APIs; the library never prints.
 *
 * Size (about 1000 lines): one class, the transcription of the problem (variables, cost, Lyapunov
 * and rate constraints, their exact derivatives through the predictor's horizon slots, warm start,
 * fallbacks), whose parts share the slot buffers; the solver itself is `nlp.ts` / `qp.ts`.
 */
import { SqpSolver, type NlpProblem, type SqpOptions, type SqpResult, type SqpStatus } from './nlp.ts';
import type { Predictor } from './predictors.ts';
import { ValidationError } from '../core/errors.ts';

/** Quadratic stage cost, summed over the horizon. */
export interface QuadraticCost {
  /** Diagonal weights Q on every predicted state sample (length stateSize). */
  stateWeights: ArrayLike<number>;
  /** Diagonal weights R on the inputs of every period (length inputSize). */
  inputWeights: ArrayLike<number>;
  /** State set-point (default 0, the origin of deviation variables). */
  stateReference?: ArrayLike<number>;
  /** Input set-point (default 0). */
  inputReference?: ArrayLike<number>;
  /** Overall factor (the CSTR LMPC uses 1/100). Default 1. */
  scale?: number;
  /**
   * Which samples of each period enter the state cost: `'all'` (default; every intra-period sample,
   * as the reference) or `'end'` (the end-of-period state only).
   */
  samples?: 'all' | 'end';
}

/**
 * Lyapunov-based stability constraint with `V(x) = (x - r)' P (x - r)` (r: the state reference).
 * For every constrained period k (0-based): `V(x_pred_end_k) <= decay^(k+1) * V(x_now)`.
 * `decay = 1` is the reference's `V(x_pred_end_k) - V(x_now) <= 0`; `decay < 1` demands a contraction.
 */
export interface LyapunovConstraint {
  /** P, stateSize x stateSize: row-major flat array or nested rows. Symmetric positive definite. */
  P: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** `'each'` (default): the end state of every period; `'first'`: the first period only. */
  periods?: 'each' | 'first';
  /** Contraction factor per period in (0, 1]; default 1. */
  decay?: number;
  /**
   * The constraint is normalised by `max(scaleFloor, V(x_now))` before it reaches the solver (the
   * solver's tolerances are absolute); default 1 (V units).
   */
  scaleFloor?: number;
  /**
   * Robustness margin eta >= 0 (default 0): an assumed bound on the predictor's one-period error in
   * the P-norm, `‖x_true_end − x_pred_end‖_P <= eta`. Since `V(x) <= (sqrt(V(x̂)) + ‖x − x̂‖_P)^2`
   * (Cauchy-Schwarz in the P inner product), each constrained period is tightened to
   * `V(x_pred_end_k) <= (sqrt(b_k) − eta)_+^2` with `b_k = max(decay^(k+1) V(x_now), levelFloor)`:
   * whenever the bound holds and the solve is feasible, the TRUE state at the end of the first
   * period has `V <= b_0`. With eta = 0 and levelFloor = 0 the constraint is the nominal one.
   */
  errorBound?: number;
  /**
   * Optional input-dependent error bound for the FIRST period (the applied one): its margin is then
   * `inputErrorBound.value(u_0)` instead of `errorBound` (which still serves the later periods and
   * the quick feasibility test, and should be the bound's maximum). The constraint's gradient
   * includes the bound's own gradient.
   */
  inputErrorBound?: InputErrorBound | null;
  /**
   * Level floor >= 0 (default 0): the right-hand side `b_k` never drops below it, so near the
   * set-point the controller only has to keep V inside `V <= levelFloor` (an inner level set that
   * the error bound allows it to hold), rather than decrease V below what its model can resolve.
   */
  levelFloor?: number;
}

/** An error bound that depends on the input of the period (see {@link LyapunovConstraint.inputErrorBound}). */
export interface InputErrorBound {
  /** The bound (>= 0) at the physical input `u`; writes its gradient w.r.t. u into `grad` when given. */
  value(u: ArrayLike<number>, grad: Float64Array | null): number;
  /** A lower bound of `value` over the input box (for quick feasibility tests). */
  readonly minimum: number;
}

/** Options of the solver behind {@link Mpc}. */
export interface MpcSolverOptions extends SqpOptions {
  /**
   * The objective is divided by this before it reaches the solver, so that its tolerance is
   * relative. `'auto'` (default): `max(1, cost of holding the current state over the horizon)`.
   */
  objectiveScale?: 'auto' | number;
  /**
   * When a solve from the warm start ends 'infeasible' or 'max-iterations', solve again from the
   * centre of the input box and keep the better result (default true).
   */
  retry?: boolean;
  /**
   * With the Gauss-Newton Hessian: continue a solve that Gauss-Newton did not finish with BFGS
   * (default true; it finds the minimum-violation point of an infeasible problem). A caller that
   * has its own fallback for non-optimal solves (see `SafeLmpcController`) turns it off to fail fast.
   */
  bfgsContinuation?: boolean;
  /**
   * How exact derivatives are computed (default `'auto'`: `'forward'` when the predictor has a
   * {@link Predictor.jacobian}, else `'adjoint'`):
   * - `'adjoint'`: one reverse sweep over the unrolled horizon (vector-Jacobian products of the
   *   predictor; per period one for the objective and at most stateSize for the Lyapunov rows);
   *   the solver's Hessian is BFGS.
   * - `'forward'`: the predictor's per-period Jacobians chained over the horizon (sensitivities of
   *   every predicted sample w.r.t. every input), which also give the Gauss-Newton Hessian of the
   *   least-squares objective (exact for piecewise-linear models such as the ICLRNN, up to the
   *   kinks) unless `hessian: 'bfgs'`.
   */
  derivatives?: 'auto' | 'adjoint' | 'forward';
  /** Hessian of the SQP subproblems: `'auto'` (default; Gauss-Newton in forward mode, else BFGS), `'gauss-newton'` or `'bfgs'`. */
  hessian?: 'auto' | 'gauss-newton' | 'bfgs';
}

/** An MPC problem over a predictor. */
export interface MpcProblem {
  predictor: Predictor;
  /** Number of sampling periods predicted; one input vector per period (move blocking: none). */
  horizon: number;
  /** Input bounds (physical), length inputSize each; must be finite. */
  inputBounds: { lower: ArrayLike<number>; upper: ArrayLike<number> };
  cost: QuadraticCost;
  /** Optional Lyapunov constraint (null / omitted: none). */
  lyapunov?: LyapunovConstraint | null;
  /**
   * Optional rate limits: `|u_k,j - u_(k-1),j| <= rateLimits[j]` for every period, where u_(-1) is
   * the input applied last (see {@link Mpc.solve}); omitted or null: none.
   */
  rateLimits?: ArrayLike<number> | null;
  solver?: MpcSolverOptions;
}

/** What the MPC does when the solver cannot deliver an optimal feasible solution. */
export type MpcFallback =
  /** Optimal: nothing to fall back from. */
  | 'none'
  /**
   * The constraints are infeasible from this state: the applied sequence is the solver's point of
   * the input box that (locally) minimises the l1 constraint violation.
   */
  | 'min-violation'
  /** The iteration limit was reached: the last iterate (within the bounds) is applied. */
  | 'last-iterate';

/** Result of {@link Mpc.solve}. Arrays are fresh copies owned by the caller. */
export interface MpcSolution {
  /** The input to apply now (physical), within the bounds. */
  input: Float64Array;
  /** The whole optimised input sequence, horizon x inputSize (physical), within the bounds. */
  inputs: Float64Array;
  /** Predicted state at the end of each period, horizon x stateSize. */
  states: Float64Array;
  /** Objective (physical units, unnormalised) of `inputs`. */
  cost: number;
  status: SqpStatus;
  fallback: MpcFallback;
  /** Human-readable note when `fallback` is not 'none'. */
  message: string | null;
  /** SQP iterations (summed over the retry, if any). */
  iterations: number;
  /** Model evaluations (objective + constraints + gradients), summed over the retry. */
  evaluations: number;
  /** KKT residual of the normalised problem (see {@link MpcSolverOptions.objectiveScale}). */
  kktResidual: number;
  /** Max constraint violation of the normalised constraints (0 when feasible). */
  constraintViolation: number;
  /**
   * V(x_now), the predicted V at the end of each constrained-or-not period, and the right-hand
   * side `bound[k]` each constrained period had to meet (before tightening by the error bound:
   * with a valid error bound and a feasible solve, the true V at the end of period 0 is <=
   * bound[0]); null without a Lyapunov constraint.
   */
  lyapunov: { now: number; predicted: number[]; bound: number[] } | null;
  /** Whether the solve started from a warm start (shifted previous solution or given). */
  warmStarted: boolean;
  /** Whether the solve was repeated from the centre of the box. */
  retried: boolean;
  /** Wall-clock seconds of the solve. */
  seconds: number;
  /** Derivative mode and Hessian used. */
  derivatives: 'adjoint' | 'forward';
  hessian: 'gauss-newton' | 'bfgs';
}

/** Value and exact derivatives of the MPC functions at an input sequence, physical units. */
export interface MpcEvaluation {
  /** Objective. */
  cost: number;
  /** Gradient of the objective w.r.t. the inputs (horizon x inputSize). */
  gradient: Float64Array;
  /**
   * Constraint values c(u) <= 0, unnormalised: Lyapunov rows `V(x_end_k) - decay^(k+1) V(x_now)`
   *   (tightened as described at {@link LyapunovConstraint.errorBound}),
   * then rate-limit rows `(u_k - u_(k-1)) / limit - 1` and `(u_(k-1) - u_k) / limit - 1`.
   */
  constraints: Float64Array;
  /** Constraint Jacobian, rows x (horizon * inputSize), row-major. */
  jacobian: Float64Array;
  /** Predicted samples, horizon x samplesPerPeriod x stateSize. */
  samples: Float64Array;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

function toArray(name: string, v: ArrayLike<number> | undefined, n: number, def: number): Float64Array {
  if (v === undefined) return new Float64Array(n).fill(def);
  if (v.length !== n) throw new ValidationError(`MPC: ${name} has ${v.length} entries, expected ${n}`);
  const a = Float64Array.from(v);
  for (let i = 0; i < n; i++) if (!Number.isFinite(a[i])) throw new ValidationError(`MPC: ${name}[${i}] is not finite`);
  return a;
}

function matrix(name: string, P: ArrayLike<number> | ArrayLike<ArrayLike<number>>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  if (P.length === n * n && typeof P[0] === 'number') {
    for (let i = 0; i < n * n; i++) out[i] = (P as ArrayLike<number>)[i];
  } else if (P.length === n) {
    for (let i = 0; i < n; i++) {
      const row = (P as ArrayLike<ArrayLike<number>>)[i];
      if (!row || typeof row !== 'object' || row.length !== n) throw new ValidationError(`MPC: ${name} must be ${n} x ${n}`);
      for (let j = 0; j < n; j++) out[i * n + j] = row[j];
    }
  } else throw new ValidationError(`MPC: ${name} must be ${n} x ${n} (nested rows or ${n * n} numbers)`);
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(out[i])) throw new ValidationError(`MPC: ${name} has a non-finite entry`);
  return out;
}

/**
 * A receding-horizon controller for one {@link MpcProblem}.
 *
 * Decision variables are the inputs of the `horizon` periods, scaled to the unit box
 * (`v = (u - centre) / halfRange`), so inputs of very different magnitudes (the CSTR's heat input
 * 1e5 and concentration 1) look alike to the solver. The objective and the Lyapunov constraints are
 * normalised (see {@link MpcSolverOptions.objectiveScale}, {@link LyapunovConstraint.scaleFloor}).
 *
 * Derivatives are exact (no finite differences): with a predictor that offers forward mode
 * ({@link Predictor.jacobian}: the CSTR ODE, and RNN, LSTM, ICRNN, ICLSTM, ICLRNN networks) the
 * per-period Jacobians are chained over the horizon, which gives the gradient, the constraint
 * Jacobian and a Gauss-Newton Hessian of the least-squares objective; otherwise one reverse
 * (adjoint) sweep over the unrolled horizon gives the gradient and the constraint Jacobian, and the
 * SQP uses BFGS. See {@link MpcSolverOptions.derivatives}.
 *
 * Each {@link solve} warm-starts from the previous solution shifted by one period (its last period
 * repeated) unless given a warm start, reuses all workspaces (an SQP iteration allocates nothing),
 * and never returns an input outside the bounds. When the constraints cannot be met it says so
 * (`status: 'infeasible'`, `fallback: 'min-violation'`) and applies the input sequence that
 * minimises the constraint violation over the box — for the Lyapunov constraint, the sequence that
 * brings V down as far as the model allows — never an unflagged infeasible point. When the iteration
 * limit stops the solver it applies the last iterate and says so (`fallback: 'last-iterate'`).
 * Either way it first retries from the centre of the box (see {@link MpcSolverOptions.retry}).
 *
 * @example
 * ```ts
 * const mpc = new Mpc(cstrLmpcProblem(cstrFirstPrinciplesPredictor()));  // see iclrnn/control
 * let sol = mpc.solve([1.5, -70]);
 * sol = mpc.solve([1.2, -55], sol.inputs);                               // warm start
 * ```
 */
export class Mpc {
  readonly problem: MpcProblem;
  readonly predictor: Predictor;
  readonly horizon: number;
  readonly stateSize: number;
  readonly inputSize: number;
  /** Number of decision variables (horizon x inputSize). */
  readonly n: number;
  /** Number of inequality constraints. */
  readonly m: number;
  /** Input bounds (physical). */
  readonly inputBounds: { lower: Float64Array; upper: Float64Array };
  private readonly S: number;
  private readonly samplesAll: boolean;
  private readonly Q: Float64Array;
  private readonly R: Float64Array;
  private readonly xr: Float64Array;
  private readonly ur: Float64Array;
  private readonly costScale: number;
  private readonly P: Float64Array | null;
  private readonly lyapCount: number;
  private readonly decay: number;
  private readonly vFloor: number;
  private readonly errorBound: number;
  private readonly levelFloor: number;
  /** Right-hand sides of the Lyapunov rows for the current state (tightened), and untightened. */
  private readonly lyapRhs: Float64Array;
  private readonly lyapBound: Float64Array;
  private readonly etaFn: InputErrorBound | null;
  private readonly etaGrad: Float64Array;
  private readonly rate: Float64Array | null;
  private readonly centre: Float64Array;
  private readonly half: Float64Array;
  private readonly objectiveScaleOption: 'auto' | number;
  private readonly retry: boolean;
  private readonly bfgsContinuation: boolean;
  private readonly tolerance: number;
  private readonly solver: SqpSolver;
  private readonly nlp: NlpProblem;
  /** With Gauss-Newton: the BFGS solver and problem that take over a solve GN does not finish. */
  private readonly bfgsSolver: SqpSolver | null;
  private readonly bfgsProblem: NlpProblem | null;
  /** Derivative mode and Hessian in use. */
  readonly derivatives: 'adjoint' | 'forward';
  readonly hessian: 'gauss-newton' | 'bfgs';

  // per-solve data
  private readonly x0: Float64Array;
  private v0 = 0; // V(x_now)
  private vScale = 1;
  private fScale = 1;
  private hasPrev = false;
  private readonly prevInput: Float64Array;
  private lastV: Float64Array | null = null;
  private lastApplied: Float64Array | null = null;

  // workspaces
  private readonly u: Float64Array;
  private readonly uk: Float64Array[];
  private readonly X: Float64Array;
  private readonly xk: Float64Array[];
  private readonly Y: Float64Array;
  private readonly yk: Float64Array[];
  private readonly dY: Float64Array;
  private readonly dx: Float64Array;
  private readonly du: Float64Array;
  private readonly dxB: Float64Array[];
  private readonly duB: Float64Array[];
  private readonly lamF: Float64Array;
  private readonly lamC: Float64Array;
  private readonly tmp: Float64Array;
  private readonly gU: Float64Array;
  private readonly jU: Float64Array;
  private readonly zStart: Float64Array;
  // forward mode
  private readonly Jx: Float64Array[] = [];
  private readonly Ju: Float64Array[] = [];
  /** d sample / d inputs, (horizon * S * stateSize) x n. */
  private readonly G: Float64Array;
  /** Gauss-Newton Hessian (physical inputs), n x n, and the scaled point it belongs to. */
  private readonly Hgn: Float64Array;
  private readonly zHgn: Float64Array;
  private hgnValid = false;
  /** The last scaled point the solver evaluated (X, Y and lastF belong to it while lastValid). */
  private readonly zLast: Float64Array;
  private lastValid = false;
  private lastF = 0;

  /**
   * @throws ValidationError on an inconsistent problem (sizes, non-finite or crossed bounds, horizon < 1,
   *   non-positive rate limits, decay outside (0, 1])
   */
  constructor(problem: MpcProblem) {
    const p = problem.predictor;
    if (!p || typeof p.predict !== 'function' || typeof p.adjoint !== 'function') throw new ValidationError('MPC: problem.predictor must be a Predictor');
    const N = problem.horizon;
    if (!Number.isInteger(N) || N < 1) throw new ValidationError(`MPC: horizon must be a positive integer, got ${N}`);
    const nx = p.stateSize, nu = p.inputSize, S = p.samplesPerPeriod;
    this.problem = problem;
    this.predictor = p;
    this.horizon = N;
    this.stateSize = nx;
    this.inputSize = nu;
    this.S = S;
    this.n = N * nu;
    const lower = toArray('inputBounds.lower', problem.inputBounds?.lower, nu, 0);
    const upper = toArray('inputBounds.upper', problem.inputBounds?.upper, nu, 0);
    for (let j = 0; j < nu; j++) if (!(lower[j] < upper[j])) throw new ValidationError(`MPC: input ${j} has lower bound ${lower[j]} >= upper bound ${upper[j]}`);
    this.inputBounds = { lower, upper };
    this.centre = new Float64Array(nu);
    this.half = new Float64Array(nu);
    for (let j = 0; j < nu; j++) {
      this.centre[j] = 0.5 * (lower[j] + upper[j]);
      this.half[j] = 0.5 * (upper[j] - lower[j]);
    }
    const c = problem.cost;
    if (!c) throw new ValidationError('MPC: problem.cost is required');
    this.Q = toArray('cost.stateWeights', c.stateWeights, nx, 0);
    this.R = toArray('cost.inputWeights', c.inputWeights, nu, 0);
    for (let i = 0; i < nx; i++) if (this.Q[i] < 0) throw new ValidationError('MPC: cost.stateWeights must be >= 0');
    for (let j = 0; j < nu; j++) if (this.R[j] < 0) throw new ValidationError('MPC: cost.inputWeights must be >= 0');
    this.xr = toArray('cost.stateReference', c.stateReference, nx, 0);
    this.ur = toArray('cost.inputReference', c.inputReference, nu, 0);
    this.costScale = c.scale ?? 1;
    if (!(this.costScale > 0) || !Number.isFinite(this.costScale)) throw new ValidationError(`MPC: cost.scale must be a finite number > 0, got ${c.scale}`);
    if (c.samples !== undefined && c.samples !== 'all' && c.samples !== 'end') throw new ValidationError(`MPC: cost.samples must be 'all' or 'end'`);
    this.samplesAll = (c.samples ?? 'all') === 'all';
    const L = problem.lyapunov ?? null;
    if (L) {
      this.P = matrix('lyapunov.P', L.P, nx);
      const periods = L.periods ?? 'each';
      if (periods !== 'each' && periods !== 'first') throw new ValidationError(`MPC: lyapunov.periods must be 'each' or 'first'`);
      this.lyapCount = periods === 'each' ? N : 1;
      this.decay = L.decay ?? 1;
      if (!(this.decay > 0 && this.decay <= 1)) throw new ValidationError(`MPC: lyapunov.decay must be in (0, 1], got ${L.decay}`);
      this.vFloor = L.scaleFloor ?? 1;
      if (!(this.vFloor > 0) || !Number.isFinite(this.vFloor)) throw new ValidationError('MPC: lyapunov.scaleFloor must be a finite number > 0');
      this.errorBound = L.errorBound ?? 0;
      if (!(this.errorBound >= 0) || !Number.isFinite(this.errorBound)) throw new ValidationError(`MPC: lyapunov.errorBound must be a finite number >= 0, got ${L.errorBound}`);
      this.levelFloor = L.levelFloor ?? 0;
      if (!(this.levelFloor >= 0) || !Number.isFinite(this.levelFloor)) throw new ValidationError(`MPC: lyapunov.levelFloor must be a finite number >= 0, got ${L.levelFloor}`);
    } else {
      this.P = null;
      this.lyapCount = 0;
      this.decay = 1;
      this.vFloor = 1;
      this.errorBound = 0;
      this.levelFloor = 0;
    }
    this.lyapRhs = new Float64Array(this.lyapCount);
    this.etaFn = L && L.inputErrorBound ? L.inputErrorBound : null;
    if (this.etaFn && (typeof this.etaFn.value !== 'function' || !(this.etaFn.minimum >= 0))) throw new ValidationError('MPC: lyapunov.inputErrorBound must have value(u, grad) and a minimum >= 0');
    this.etaGrad = new Float64Array(nu);
    this.lyapBound = new Float64Array(this.lyapCount);
    if (problem.rateLimits) {
      this.rate = toArray('rateLimits', problem.rateLimits, nu, 0);
      for (let j = 0; j < nu; j++) if (!(this.rate[j] > 0)) throw new ValidationError('MPC: rateLimits must be > 0');
    } else this.rate = null;
    this.m = this.lyapCount + (this.rate ? 2 * N * nu : 0);
    const so = problem.solver ?? {};
    this.objectiveScaleOption = so.objectiveScale ?? 'auto';
    if (this.objectiveScaleOption !== 'auto' && !(this.objectiveScaleOption > 0)) throw new ValidationError('MPC: solver.objectiveScale must be > 0 or "auto"');
    this.retry = so.retry ?? true;
    this.bfgsContinuation = so.bfgsContinuation ?? true;
    this.tolerance = so.tolerance ?? 1e-6;
    const mode = so.derivatives ?? 'auto';
    if (mode !== 'auto' && mode !== 'adjoint' && mode !== 'forward') throw new ValidationError(`MPC: solver.derivatives must be 'auto', 'adjoint' or 'forward'`);
    const hasJac = typeof p.jacobian === 'function';
    if (mode === 'forward' && !hasJac) throw new ValidationError(`MPC: the predictor '${p.name}' has no forward mode (jacobian); use derivatives 'adjoint'`);
    this.derivatives = mode === 'auto' ? (hasJac ? 'forward' : 'adjoint') : mode;
    const hs = so.hessian ?? 'auto';
    if (hs !== 'auto' && hs !== 'gauss-newton' && hs !== 'bfgs') throw new ValidationError(`MPC: solver.hessian must be 'auto', 'gauss-newton' or 'bfgs'`);
    if (hs === 'gauss-newton' && this.derivatives !== 'forward') throw new ValidationError(`MPC: the Gauss-Newton Hessian needs derivatives 'forward'`);
    this.hessian = hs === 'auto' ? (this.derivatives === 'forward' ? 'gauss-newton' : 'bfgs') : hs;
    const maxIterations = so.maxIterations ?? 100;
    const sqp = (iterations: number) => new SqpSolver(this.n, this.m, {
      maxIterations: iterations,
      tolerance: this.tolerance,
      warmStartHessian: so.warmStartHessian ?? false,
      secondOrderCorrection: so.secondOrderCorrection,
    });
    const gn = this.hessian === 'gauss-newton';
    this.solver = sqp(gn ? Math.min(maxIterations, GAUSS_NEWTON_ITERATIONS) : maxIterations);
    this.bfgsSolver = gn ? sqp(maxIterations) : null;
    p.reserve(N);

    const f = (k: number) => new Float64Array(k);
    this.x0 = f(nx);
    this.prevInput = f(nu);
    this.u = f(N * nu);
    this.uk = [];
    for (let k = 0; k < N; k++) this.uk.push(this.u.subarray(k * nu, (k + 1) * nu));
    this.X = f((N + 1) * nx);
    this.xk = [];
    for (let k = 0; k <= N; k++) this.xk.push(this.X.subarray(k * nx, (k + 1) * nx));
    this.Y = f(N * S * nx);
    this.yk = [];
    for (let k = 0; k < N; k++) this.yk.push(this.Y.subarray(k * S * nx, (k + 1) * S * nx));
    this.dY = f(S * nx);
    this.dx = f(nx);
    this.du = f(nu);
    this.dxB = [];
    this.duB = [];
    for (let i = 0; i < nx; i++) {
      this.dxB.push(f(nx));
      this.duB.push(f(nu));
    }
    this.lamF = f(nx);
    this.lamC = f(Math.max(1, this.lyapCount) * nx);
    this.tmp = f(nx);
    this.gU = f(N * nu);
    this.jU = f(Math.max(1, this.m) * N * nu);
    this.zStart = f(N * nu);
    if (this.derivatives === 'forward') {
      for (let k = 0; k < N; k++) {
        this.Jx.push(f(S * nx * nx));
        this.Ju.push(f(S * nx * nu));
      }
      this.G = f(N * S * nx * this.n);
    } else this.G = f(0);
    this.Hgn = f(this.n * this.n);
    this.zHgn = f(this.n);
    this.zLast = f(this.n);
    const lo = f(this.n).fill(-1), hi = f(this.n).fill(1);
    this.nlp = {
      n: this.n,
      m: this.m,
      lower: lo,
      upper: hi,
      evaluate: (z, g, cons, J) => this.evaluateScaled(z, g, cons, J),
    };
    if (this.hessian === 'gauss-newton') {
      this.bfgsProblem = { ...this.nlp };
      this.nlp.hessian = (z, H) => this.hessianScaled(z, H);
    } else this.bfgsProblem = null;
  }

  /** Forgets the warm start and the last applied input (e.g. before a new closed-loop run). */
  reset(): void {
    this.lastV = null;
    this.lastApplied = null;
  }

  /**
   * The right-hand sides `(sqrt(b_k) - errorBound)_+^2` the Lyapunov rows would have at `state`
   * (empty without a Lyapunov constraint); a 0 with a positive error bound means the tightened
   * constraint leaves no room (only x_pred = reference would satisfy it).
   */
  lyapunovRightHandSides(state: ArrayLike<number>): number[] {
    this.setState(state, null);
    const out = Array.from(this.lyapRhs);
    if (this.etaFn && out.length) {
      const r = Math.sqrt(this.lyapBound[0]) - this.etaFn.minimum;
      out[0] = r > 0 ? r * r : 0;
    }
    return out;
  }

  /** The error bound of the tightened Lyapunov constraint (0: nominal). */
  get lyapunovErrorBound(): number {
    return this.errorBound;
  }

  /** The input applied last (the first input of the last solution), or null. */
  get lastInput(): Float64Array | null {
    return this.lastApplied ? Float64Array.from(this.lastApplied) : null;
  }

  /**
   * Solves the MPC problem at `state`.
   * @param state current plant state (physical, length stateSize)
   * @param warmStart optional initial input sequence (physical, horizon x inputSize, clipped into the
   *   bounds); default: the previous solution shifted by one period, or the centre of the box on the
   *   first call; `null` forces the centre
   * @param options `previousInput`: u_(-1) for the rate limits (default: the first input of the
   *   previous solution, i.e. the input applied last; none on the first call)
   * @throws ValidationError on a state of the wrong length or with non-finite entries
   */
  solve(state: ArrayLike<number>, warmStart?: ArrayLike<number> | null, options: { previousInput?: ArrayLike<number> | null } = {}): MpcSolution {
    const t0 = now();
    const nx = this.stateSize, nu = this.inputSize, N = this.horizon, n = this.n;
    this.setState(state, options.previousInput);
    const z0 = this.zStart;
    let warmStarted = false;
    if (warmStart) {
      if (warmStart.length !== n) throw new ValidationError(`MPC: warmStart has ${warmStart.length} entries, expected ${n}`);
      for (let k = 0; k < N; k++)
        for (let j = 0; j < nu; j++) {
          const w = warmStart[k * nu + j];
          if (!Number.isFinite(w)) throw new ValidationError(`MPC: warmStart[${k * nu + j}] is not finite`);
          z0[k * nu + j] = clip((w - this.centre[j]) / this.half[j], -1, 1);
        }
      warmStarted = true;
    } else if (warmStart === undefined && this.lastV) {
      for (let k = 0; k < N; k++) {
        const src = Math.min(k + 1, N - 1);
        for (let j = 0; j < nu; j++) z0[k * nu + j] = this.lastV[src * nu + j];
      }
      warmStarted = true;
    } else z0.fill(0);

    let { r, iterations, evaluations } = this.attempt(z0);
    let retried = false;
    if (r.status !== 'optimal' && this.retry && warmStarted) {
      const b = this.attempt(new Float64Array(n));
      iterations += b.iterations;
      evaluations += b.evaluations;
      retried = true;
      r = better(r, b.r);
    }
    const v = r.z;
    // the solution arrays (clipped again: the solver's z is in the box, rounding of centre + half v is not)
    const inputs = new Float64Array(n);
    for (let k = 0; k < N; k++)
      for (let j = 0; j < nu; j++) {
        const val = this.centre[j] + this.half[j] * v[k * nu + j];
        inputs[k * nu + j] = clip(val, this.inputBounds.lower[j], this.inputBounds.upper[j]);
      }
    // predicted states of the solution: the solver's last evaluation is usually at it
    let same = this.lastValid;
    for (let i = 0; same && i < n; i++) if (this.zLast[i] !== v[i]) same = false;
    const cost = same ? this.lastF : this.forward(inputs);
    const states = new Float64Array(N * nx);
    for (let k = 0; k < N; k++) for (let i = 0; i < nx; i++) states[k * nx + i] = this.xk[k + 1][i];
    let lyapunov: MpcSolution['lyapunov'] = null;
    if (this.P) {
      const predicted: number[] = [];
      for (let k = 0; k < N; k++) predicted.push(this.V(this.xk[k + 1]));
      lyapunov = { now: this.v0, predicted, bound: Array.from(this.lyapBound) };
    }
    let fallback: MpcFallback = 'none';
    let message: string | null = null;
    if (r.status === 'infeasible') {
      fallback = 'min-violation';
      message = `constraints infeasible from this state (normalised violation ${r.constraintViolation.toExponential(2)}): applied the input sequence minimising the constraint violation`;
    } else if (r.status === 'max-iterations') {
      fallback = 'last-iterate';
      message = `solver stopped after ${r.iterations} iterations (KKT residual ${r.kktResidual.toExponential(2)}, violation ${r.constraintViolation.toExponential(2)}): applied the last iterate`;
    }
    this.lastV = Float64Array.from(v);
    this.lastApplied = inputs.slice(0, nu);
    return {
      input: inputs.slice(0, nu),
      inputs,
      states,
      cost,
      status: r.status,
      fallback,
      message,
      iterations,
      evaluations,
      kktResidual: r.kktResidual,
      constraintViolation: r.constraintViolation,
      lyapunov,
      warmStarted,
      retried,
      seconds: (now() - t0) / 1000,
      derivatives: this.derivatives,
      hessian: this.hessian,
    };
  }

  /**
   * One solve from z0. With the Gauss-Newton Hessian (which models the objective's curvature only:
   * the solver's callback gets no multipliers), a solve that does not end 'optimal' within
   * {@link GAUSS_NEWTON_ITERATIONS} iterations — typically an infeasible Lyapunov constraint, whose
   * minimum-violation point needs the constraints' curvature — continues with BFGS from where it stopped.
   */
  private attempt(z0: Float64Array): { r: SqpResult; iterations: number; evaluations: number } {
    let r = this.solver.solve(this.nlp, z0);
    let iterations = r.iterations, evaluations = r.evaluations;
    if (r.status !== 'optimal' && this.bfgsContinuation && this.bfgsSolver && this.bfgsProblem) {
      const r2 = this.bfgsSolver.solve(this.bfgsProblem, r.z);
      iterations += r2.iterations;
      evaluations += r2.evaluations;
      r = better(r, r2);
    }
    return { r, iterations, evaluations };
  }

  /**
   * Objective, constraints and their exact gradients at an input sequence (physical units), from
   * `state`; what the solver sees, before normalisation. For tests and diagnostics.
   */
  evaluate(state: ArrayLike<number>, inputs: ArrayLike<number>, options: { previousInput?: ArrayLike<number> | null } = {}): MpcEvaluation {
    const n = this.n, m = this.m;
    this.setState(state, options.previousInput);
    if (inputs.length !== n) throw new ValidationError(`MPC: inputs has ${inputs.length} entries, expected ${n}`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(inputs[i])) throw new ValidationError(`MPC: inputs[${i}] is not finite`);
      this.u[i] = inputs[i];
    }
    const cons = new Float64Array(m);
    const cost = this.physical(cons, true);
    return {
      cost,
      gradient: Float64Array.from(this.gU),
      constraints: cons,
      jacobian: this.jU.slice(0, m * n),
      samples: Float64Array.from(this.Y),
    };
  }

  /** Predicted samples (horizon x samplesPerPeriod x stateSize) of an input sequence from `state`. */
  predict(state: ArrayLike<number>, inputs: ArrayLike<number>): Float64Array {
    this.setState(state, null);
    if (inputs.length !== this.n) throw new ValidationError(`MPC: inputs has ${inputs.length} entries, expected ${this.n}`);
    this.forward(Float64Array.from(inputs));
    return Float64Array.from(this.Y);
  }

  // ------------------------------------------------------------------------------------------------

  private setState(state: ArrayLike<number>, previousInput: ArrayLike<number> | null | undefined): void {
    const nx = this.stateSize, nu = this.inputSize;
    if (!state || state.length !== nx) throw new ValidationError(`MPC: state must have ${nx} entries, got ${state?.length}`);
    for (let i = 0; i < nx; i++) {
      if (!Number.isFinite(state[i])) throw new ValidationError(`MPC: state[${i}] is not finite`);
      this.x0[i] = state[i];
    }
    const prev = previousInput === undefined ? this.lastApplied : previousInput;
    if (prev) {
      if (prev.length !== nu) throw new ValidationError(`MPC: previousInput must have ${nu} entries`);
      for (let j = 0; j < nu; j++) this.prevInput[j] = prev[j];
      this.hasPrev = true;
    } else this.hasPrev = false;
    this.hgnValid = false;
    this.lastValid = false;
    this.v0 = this.P ? this.V(this.x0) : 0;
    this.vScale = Math.max(this.vFloor, this.v0);
    for (let l = 0; l < this.lyapCount; l++) {
      const nominal = Math.pow(this.decay, l + 1) * this.v0;
      const b = Math.max(nominal, this.levelFloor);
      this.lyapBound[l] = b;
      if (this.errorBound === 0) this.lyapRhs[l] = b;
      else {
        const r = Math.sqrt(b) - this.errorBound;
        this.lyapRhs[l] = r > 0 ? r * r : 0;
      }
    }
    if (this.objectiveScaleOption === 'auto') {
      let hold = 0;
      for (let i = 0; i < nx; i++) {
        const e = this.x0[i] - this.xr[i];
        hold += this.Q[i] * e * e;
      }
      hold *= this.costScale * this.horizon * (this.samplesAll ? this.S : 1);
      this.fScale = Math.max(1, hold);
    } else this.fScale = this.objectiveScaleOption;
  }

  private V(x: Float64Array): number {
    const nx = this.stateSize, P = this.P!, xr = this.xr;
    let v = 0;
    for (let i = 0; i < nx; i++) {
      const ei = x[i] - xr[i];
      let a = 0;
      for (let j = 0; j < nx; j++) a += P[i * nx + j] * (x[j] - xr[j]);
      v += ei * a;
    }
    return v;
  }

  /**
   * Predicts from x0 under this.u (or `inputs`): fills X, Y; returns the objective. `forAdjoint`:
   * an adjoint sweep follows.
   */
  private forward(inputs?: Float64Array, forAdjoint = false): number {
    const N = this.horizon, nx = this.stateSize, nu = this.inputSize, S = this.S;
    if (inputs) this.u.set(inputs);
    const X = this.X;
    for (let i = 0; i < nx; i++) X[i] = this.x0[i];
    const Q = this.Q, R = this.R, xr = this.xr, ur = this.ur;
    let f = 0;
    for (let k = 0; k < N; k++) {
      const y = this.yk[k];
      this.predictor.predict(k, this.xk[k], this.uk[k], y, forAdjoint);
      const end = (S - 1) * nx;
      for (let i = 0; i < nx; i++) X[(k + 1) * nx + i] = y[end + i];
      for (let s = this.samplesAll ? 0 : S - 1; s < S; s++)
        for (let i = 0; i < nx; i++) {
          const e = y[s * nx + i] - xr[i];
          f += Q[i] * e * e;
        }
      const u = this.uk[k];
      for (let j = 0; j < nu; j++) {
        const e = u[j] - ur[j];
        f += R[j] * e * e;
      }
    }
    return this.costScale * f;
  }

  /**
   * Objective (returned), constraints (unnormalised, into cons) and, when `gradients`, the gradient
   * gU and Jacobian jU w.r.t. the physical inputs, at this.u.
   */
  private physical(cons: Float64Array, gradients: boolean): number {
    if (gradients && this.derivatives === 'forward') return this.physicalForward(cons);
    const N = this.horizon, nx = this.stateSize, nu = this.inputSize, S = this.S, n = this.n;
    const f = this.forward(undefined, gradients);
    const nL = this.lyapCount;
    for (let l = 0; l < nL; l++) cons[l] = this.V(this.xk[l + 1]) - this.lyapRhs[l];
    this.rateValues(cons);
    if (!gradients) {
      this.inputMargin(cons, false);
      return f;
    }

    // ---------- reverse sweep over the horizon ----------
    const gU = this.gU, jU = this.jU, dY = this.dY, dx = this.dx, du = this.du;
    const lamF = this.lamF, lamC = this.lamC, P = this.P, xr = this.xr;
    const Q = this.Q, R = this.R, sc = this.costScale;
    jU.fill(0);
    lamF.fill(0);
    for (let k = N - 1; k >= 0; k--) {
      const y = this.yk[k];
      dY.fill(0);
      for (let s = this.samplesAll ? 0 : S - 1; s < S; s++)
        for (let i = 0; i < nx; i++) dY[s * nx + i] = 2 * sc * Q[i] * (y[s * nx + i] - xr[i]);
      const end = (S - 1) * nx;
      for (let i = 0; i < nx; i++) dY[end + i] += lamF[i];
      this.predictor.adjoint(k, dY, dx, du);
      const u = this.uk[k];
      for (let j = 0; j < nu; j++) gU[k * nu + j] = du[j] + 2 * sc * R[j] * (u[j] - this.ur[j]);
      for (let i = 0; i < nx; i++) lamF[i] = dx[i];
      if (nL === 0) continue;
      // Lyapunov constraint of period k enters here: adjoint (P + P') (x_end_k - r)
      if (k < nL) {
        const x = this.xk[k + 1];
        for (let i = 0; i < nx; i++) {
          let a = 0;
          for (let j = 0; j < nx; j++) a += (P![i * nx + j] + P![j * nx + i]) * (x[j] - xr[j]);
          lamC[k * nx + i] = a;
        }
      }
      // constraints l >= k depend on this period through x_end_k
      const first = k, last = nL - 1;
      const active = last - first + 1;
      if (active <= 0) continue;
      if (active <= nx) {
        for (let l = first; l <= last; l++) {
          dY.fill(0);
          for (let i = 0; i < nx; i++) dY[end + i] = lamC[l * nx + i];
          this.predictor.adjoint(k, dY, dx, du);
          for (let j = 0; j < nu; j++) jU[l * n + k * nu + j] = du[j];
          for (let i = 0; i < nx; i++) lamC[l * nx + i] = dx[i];
        }
      } else {
        // Jacobian of the end state w.r.t. (x_k, u_k) by nx basis adjoints, then combine
        for (let b = 0; b < nx; b++) {
          dY.fill(0);
          dY[end + b] = 1;
          this.predictor.adjoint(k, dY, this.dxB[b], this.duB[b]);
        }
        const tmp = this.tmp;
        for (let l = first; l <= last; l++) {
          for (let j = 0; j < nu; j++) {
            let a = 0;
            for (let b = 0; b < nx; b++) a += lamC[l * nx + b] * this.duB[b][j];
            jU[l * n + k * nu + j] = a;
          }
          for (let i = 0; i < nx; i++) {
            let a = 0;
            for (let b = 0; b < nx; b++) a += lamC[l * nx + b] * this.dxB[b][i];
            tmp[i] = a;
          }
          for (let i = 0; i < nx; i++) lamC[l * nx + i] = tmp[i];
        }
      }
    }
    this.inputMargin(cons, true);
    this.rateJacobian();
    return f;
  }

  /**
   * With an input-dependent error bound: replaces the first Lyapunov row by
   * `V(x_end_0) - (sqrt(b_0) - eta(u_0))_+^2` and adds the margin's gradient to its Jacobian row.
   */
  private inputMargin(cons: Float64Array, gradients: boolean): void {
    const fn = this.etaFn;
    if (!fn || this.lyapCount === 0) return;
    const g = this.etaGrad;
    const eta = fn.value(this.uk[0], gradients ? g : null);
    const r = Math.sqrt(this.lyapBound[0]) - eta;
    cons[0] = this.V(this.xk[1]) - (r > 0 ? r * r : 0);
    if (gradients && r > 0) for (let j = 0; j < this.inputSize; j++) this.jU[j] += 2 * r * g[j];
  }

  /** Rate-limit constraint values (into cons, after the Lyapunov rows). */
  private rateValues(cons: Float64Array): void {
    const rate = this.rate;
    if (!rate) return;
    const N = this.horizon, nu = this.inputSize;
    let r = this.lyapCount;
    for (let k = 0; k < N; k++)
      for (let j = 0; j < nu; j++, r += 2) {
        if (k === 0 && !this.hasPrev) {
          cons[r] = -1;
          cons[r + 1] = -1;
        } else {
          const prev = k === 0 ? this.prevInput[j] : this.u[(k - 1) * nu + j];
          const d = (this.u[k * nu + j] - prev) / rate[j];
          cons[r] = d - 1;
          cons[r + 1] = -d - 1;
        }
      }
  }

  /** Rate-limit rows of jU (constant). */
  private rateJacobian(): void {
    const rate = this.rate, N = this.horizon, nu = this.inputSize, n = this.n, jU = this.jU;
    if (rate) {
      let r = this.lyapCount;
      for (let k = 0; k < N; k++)
        for (let j = 0; j < nu; j++, r += 2) {
          if (k === 0 && !this.hasPrev) continue;
          const w = 1 / rate[j];
          jU[r * n + k * nu + j] = w;
          jU[(r + 1) * n + k * nu + j] = -w;
          if (k > 0) {
            jU[r * n + (k - 1) * nu + j] = -w;
            jU[(r + 1) * n + (k - 1) * nu + j] = w;
          }
        }
    }
  }

  /**
   * Forward mode: objective (returned), constraints, gradient gU, Jacobian jU and the Gauss-Newton
   * Hessian Hgn from the per-period Jacobians chained over the horizon.
   */
  private physicalForward(cons: Float64Array): number {
    const N = this.horizon, nx = this.stateSize, nu = this.inputSize, S = this.S, n = this.n;
    const X = this.X, G = this.G, Q = this.Q, R = this.R, xr = this.xr, ur = this.ur, sc = this.costScale;
    const gU = this.gU, H = this.Hgn, jU = this.jU;
    for (let i = 0; i < nx; i++) X[i] = this.x0[i];
    gU.fill(0);
    H.fill(0);
    let f = 0;
    const s0 = this.samplesAll ? 0 : S - 1;
    for (let k = 0; k < N; k++) {
      const y = this.yk[k], Jx = this.Jx[k], Ju = this.Ju[k];
      this.predictor.jacobian!(k, this.xk[k], this.uk[k], y, k === 0 ? null : Jx, Ju);
      const cols = (k + 1) * nu; // inputs after period k do not act yet
      const prevEnd = ((k - 1) * S + S - 1) * nx; // rows of d x_k / dU in G
      for (let s = 0; s < S; s++) {
        for (let i = 0; i < nx; i++) {
          const row = ((k * S + s) * nx + i) * n;
          const jr = (s * nx + i);
          // d y / dU = Jx dx_k/dU + Ju e_k
          for (let c = 0; c < cols; c++) {
            let a = 0;
            if (k > 0) for (let d = 0; d < nx; d++) a += Jx[jr * nx + d] * G[(prevEnd + d) * n + c];
            G[row + c] = a;
          }
          for (let j = 0; j < nu; j++) G[row + k * nu + j] += Ju[jr * nu + j];
          for (let c = cols; c < n; c++) G[row + c] = 0;
          if (s >= s0) {
            const e = y[s * nx + i] - xr[i];
            const w = sc * Q[i];
            f += w * e * e;
            if (w !== 0) {
              const ge = 2 * w * e, w2 = 2 * w;
              for (let a = 0; a < cols; a++) {
                const ga = G[row + a];
                if (ga === 0) continue;
                gU[a] += ge * ga;
                const ha = w2 * ga;
                for (let b = 0; b <= a; b++) H[a * n + b] += ha * G[row + b];
              }
            }
          }
        }
      }
      for (let i = 0; i < nx; i++) X[(k + 1) * nx + i] = y[(S - 1) * nx + i];
      const u = this.uk[k];
      for (let j = 0; j < nu; j++) {
        const e = u[j] - ur[j];
        f += sc * R[j] * e * e;
        gU[k * nu + j] += 2 * sc * R[j] * e;
        H[(k * nu + j) * n + k * nu + j] += 2 * sc * R[j];
      }
    }
    for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) H[a * n + b] = H[b * n + a];
    const nL = this.lyapCount, P = this.P;
    jU.fill(0);
    for (let l = 0; l < nL; l++) {
      const x = this.xk[l + 1];
      cons[l] = this.V(x) - this.lyapRhs[l];
      const endRow = (l * S + S - 1) * nx;
      for (let i = 0; i < nx; i++) {
        let a = 0;
        for (let j = 0; j < nx; j++) a += (P![i * nx + j] + P![j * nx + i]) * (x[j] - xr[j]);
        if (a === 0) continue;
        for (let c = 0; c < (l + 1) * nu; c++) jU[l * n + c] += a * G[(endRow + i) * n + c];
      }
    }
    this.rateValues(cons);
    this.inputMargin(cons, true);
    this.rateJacobian();
    return f;
  }

  /** The solver's callback: scaled variables, normalised functions. */
  private evaluateScaled(z: Float64Array, g: Float64Array, cons: Float64Array, J: Float64Array): number {
    const N = this.horizon, nu = this.inputSize, n = this.n, m = this.m, nL = this.lyapCount;
    const c = this.centre, h = this.half, u = this.u;
    for (let k = 0; k < N; k++)
      for (let j = 0; j < nu; j++) u[k * nu + j] = c[j] + h[j] * z[k * nu + j];
    const f = this.physical(cons, true);
    this.zLast.set(z);
    this.lastValid = true;
    this.lastF = f;
    if (this.hessian === 'gauss-newton') {
      this.zHgn.set(z);
      this.hgnValid = true;
    }
    const fs = 1 / this.fScale, vs = 1 / this.vScale;
    for (let k = 0; k < N; k++) for (let j = 0; j < nu; j++) g[k * nu + j] = this.gU[k * nu + j] * h[j] * fs;
    const jU = this.jU;
    for (let r = 0; r < m; r++) {
      const w = r < nL ? vs : 1;
      if (r < nL) cons[r] *= vs;
      for (let k = 0; k < N; k++) for (let j = 0; j < nu; j++) J[r * n + k * nu + j] = jU[r * n + k * nu + j] * h[j] * w;
    }
    return f * fs;
  }

  /** The solver's Hessian callback: the Gauss-Newton matrix at z, in scaled variables. */
  private hessianScaled(z: Float64Array, H: Float64Array): void {
    const n = this.n, nu = this.inputSize, h = this.half;
    let same = this.hgnValid;
    for (let i = 0; same && i < n; i++) if (this.zHgn[i] !== z[i]) same = false;
    if (!same) this.evaluateScaled(z, new Float64Array(n), new Float64Array(this.m), new Float64Array(this.m * n));
    const fs = 1 / this.fScale, Hg = this.Hgn;
    for (let a = 0; a < n; a++) {
      const ha = h[a % nu] * fs;
      for (let b = 0; b < n; b++) H[a * n + b] = Hg[a * n + b] * ha * h[b % nu];
    }
  }
}

/**
 * Iteration limit of a Gauss-Newton SQP solve before BFGS takes over (it normally needs 1-5; see
 * {@link Mpc}). The BFGS continuation has its own limit, `solver.maxIterations`.
 */
export const GAUSS_NEWTON_ITERATIONS = 20;

/** The better of two solver results: optimal first, then the smaller violation, then the smaller objective. */
function better(a: SqpResult, b: SqpResult): SqpResult {
  if (a.status === 'optimal') return a;
  if (b.status === 'optimal') return b;
  const tol = 1e-9;
  if (b.constraintViolation < a.constraintViolation - tol) return b;
  if (a.constraintViolation < b.constraintViolation - tol) return a;
  return b.f < a.f ? b : a;
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
