/**
 * Robustness of a learned-model Lyapunov MPC on the real plant.
 *
 * - {@link estimatePredictionError}: a bound on the predictor's one-period error in the Lyapunov
 *   P-norm, `max ‖x_plant_end(x, u) − x_pred_end(x, u)‖_P` over a grid of states and inputs (held-out
 *   points: the grid is not the training data), inflated by a safety factor. It is an estimate from
 *   samples, not a certificate; its assumption is that the grid's worst case times the factor bounds
 *   the error everywhere on the region (checked by the caller on a denser grid if it wants).
 * - {@link SafeLmpcController}: wraps a (tightened) learned-model LMPC with a fallback for infeasible
 *   steps (a backup controller such as the first-principles LMPC, or the previous feasible sequence)
 *   and a run-time monitor that checks every applied step against the measured next state: when the
 *   true V exceeds what the controller guaranteed (the error bound did not hold), it says so and, with
 *   a backup, hands over to it for the rest of the run.
 *
 * Browser-safe: no Node APIs.
 */
import type { ControlStep, Controller, Plant } from './closed-loop.ts';
import type { InputErrorBound, Mpc, MpcSolution } from './mpc.ts';
import type { Predictor } from './predictors.ts';
import { ValidationError } from '../core/errors.ts';

/** `sqrt(e' P e)` for a 2-D or n-D vector (P row-major n x n). */
export function pNorm(P: ArrayLike<number>, e: ArrayLike<number>): number {
  const n = e.length;
  let s = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let j = 0; j < n; j++) a += P[i * n + j] * e[j];
    s += e[i] * a;
  }
  return Math.sqrt(Math.max(0, s));
}

/** Options of {@link estimatePredictionError}. */
export interface PredictionErrorOptions {
  /** Lyapunov matrix P (row-major, stateSize x stateSize). */
  P: ArrayLike<number>;
  /** States to test (each of length stateSize). */
  states: readonly ArrayLike<number>[];
  /** Inputs to test (each of length inputSize); every state is tried with every input. */
  inputs: readonly ArrayLike<number>[];
  /**
   * Process-noise bounds of the plant (disturbance per component, see {@link Plant.step}): the error
   * is then also taken at the 2^stateSize corners of the noise box (the worst case of a disturbance
   * that acts almost linearly over one period). Omitted: no noise.
   */
  noise?: ArrayLike<number> | null;
  /** Safety factor applied to the largest error found (default 1.25). */
  inflation?: number;
}

/** Result of {@link estimatePredictionError}. */
export interface PredictionErrorEstimate {
  /** The bound to use: `inflation x maxObserved` (P-norm). */
  errorBound: number;
  inflation: number;
  /** Largest P-norm error found on the grid. */
  maxObserved: number;
  /** Mean and 99th percentile of the P-norm errors. */
  mean: number;
  p99: number;
  /** Largest absolute error per state component. */
  componentMax: number[];
  /** Number of (state, input[, noise corner]) points evaluated. */
  samples: number;
  /** Where the largest error occurred. */
  worst: { state: number[]; input: number[]; error: number[] };
  /** Largest P-norm error per input of `inputs` (over all states and noise corners), uninflated. */
  inputMax: number[];
}

/**
 * Largest one-period prediction error of `predictor` against `plant` in the P-norm over
 * `states x inputs` (x the corners of the noise box when given), and the inflated bound to use as
 * {@link LyapunovConstraint.errorBound}.
 * @throws ValidationError on empty grids or size mismatches
 */
export function estimatePredictionError(predictor: Predictor, plant: Plant, o: PredictionErrorOptions): PredictionErrorEstimate {
  const nx = predictor.stateSize, nu = predictor.inputSize, S = predictor.samplesPerPeriod;
  if (plant.stateSize !== nx || plant.inputSize !== nu) throw new ValidationError('estimatePredictionError: the plant and the predictor differ in state or input size');
  if (!o.states.length || !o.inputs.length) throw new ValidationError('estimatePredictionError: states and inputs must not be empty');
  if (o.P.length !== nx * nx) throw new ValidationError(`estimatePredictionError: P must have ${nx * nx} entries`);
  const inflation = o.inflation ?? 1.25;
  if (!(inflation >= 1) || !Number.isFinite(inflation)) throw new ValidationError(`estimatePredictionError: inflation must be a finite number >= 1, got ${inflation}`);
  const corners: (Float64Array | null)[] = [];
  if (o.noise) {
    if (o.noise.length !== nx) throw new ValidationError(`estimatePredictionError: noise must have ${nx} entries`);
    for (let c = 0; c < 1 << nx; c++) {
      const w = new Float64Array(nx);
      for (let i = 0; i < nx; i++) w[i] = (c >> i) & 1 ? o.noise[i] : -o.noise[i];
      corners.push(w);
    }
  } else corners.push(null);
  predictor.reserve(1);
  const x = new Float64Array(nx), u = new Float64Array(nu), out = new Float64Array(S * nx), next = new Float64Array(nx), e = new Float64Array(nx);
  const errors: number[] = [];
  const componentMax = new Array<number>(nx).fill(0);
  let worst = { state: [] as number[], input: [] as number[], error: [] as number[] };
  let max = -1;
  const inputMax = new Array<number>(o.inputs.length).fill(0);
  for (const s of o.states) {
    if (s.length !== nx) throw new ValidationError(`estimatePredictionError: a state has ${s.length} entries, expected ${nx}`);
    for (let i = 0; i < nx; i++) x[i] = s[i];
    for (let vi = 0; vi < o.inputs.length; vi++) {
      const v = o.inputs[vi];
      if (v.length !== nu) throw new ValidationError(`estimatePredictionError: an input has ${v.length} entries, expected ${nu}`);
      for (let j = 0; j < nu; j++) u[j] = v[j];
      predictor.predict(0, x, u, out, false);
      for (const w of corners) {
        plant.step(x, u, w, next);
        for (let i = 0; i < nx; i++) {
          e[i] = next[i] - out[(S - 1) * nx + i];
          if (Math.abs(e[i]) > componentMax[i]) componentMax[i] = Math.abs(e[i]);
        }
        const d = pNorm(o.P, e);
        errors.push(d);
        if (d > inputMax[vi]) inputMax[vi] = d;
        if (d > max) {
          max = d;
          worst = { state: Array.from(x), input: Array.from(u), error: Array.from(e) };
        }
      }
    }
  }
  const sorted = [...errors].sort((a, b) => a - b);
  return {
    errorBound: inflation * max,
    inflation,
    maxObserved: max,
    mean: errors.reduce((a, b) => a + b, 0) / errors.length,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))],
    componentMax,
    samples: errors.length,
    worst,
    inputMax,
  };
}

/**
 * An input-dependent error bound over a 2-D input box (see {@link InputErrorBound}): bilinear
 * interpolation of node values on an `n1 x n2` grid, where each node holds the inflated largest
 * error found at the grid inputs of its 3 x 3 neighbourhood. So at any input u the value is at least
 * the inflated largest error at the four grid inputs around u (assumption: the error at u is no larger
 * than at those grid inputs, times the inflation).
 */
export class InputErrorTable implements InputErrorBound {
  readonly n1: number;
  readonly n2: number;
  readonly lower: [number, number];
  readonly upper: [number, number];
  /** Node values, n1 x n2 (row-major in u1). */
  readonly nodes: Float64Array;
  readonly minimum: number;
  readonly maximum: number;

  /**
   * @param errors largest (uninflated) error per grid input, n1 x n2 row-major in u1 (the order of {@link cstrInputGrid})
   * @throws RangeError on sizes or non-finite values
   */
  constructor(lower: [number, number], upper: [number, number], n1: number, n2: number, errors: ArrayLike<number>, inflation: number) {
    if (!(n1 >= 2 && n2 >= 2) || errors.length !== n1 * n2) throw new RangeError(`InputErrorTable: need ${n1} x ${n2} >= 2 x 2 errors, got ${errors.length}`);
    if (!(upper[0] > lower[0] && upper[1] > lower[1])) throw new RangeError('InputErrorTable: empty input box');
    this.n1 = n1;
    this.n2 = n2;
    this.lower = lower;
    this.upper = upper;
    this.nodes = new Float64Array(n1 * n2);
    for (let a = 0; a < n1; a++)
      for (let b = 0; b < n2; b++) {
        let m = 0;
        for (let da = -1; da <= 1; da++)
          for (let db = -1; db <= 1; db++) {
            const i = a + da, j = b + db;
            if (i < 0 || j < 0 || i >= n1 || j >= n2) continue;
            const e = errors[i * n2 + j];
            if (!Number.isFinite(e) || e < 0) throw new RangeError('InputErrorTable: errors must be finite and >= 0');
            if (e > m) m = e;
          }
        this.nodes[a * n2 + b] = inflation * m;
      }
    let lo = Infinity, hi = 0;
    for (const v of this.nodes) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.minimum = lo;
    this.maximum = hi;
  }

  value(u: ArrayLike<number>, grad: Float64Array | null): number {
    const h1 = (this.upper[0] - this.lower[0]) / (this.n1 - 1), h2 = (this.upper[1] - this.lower[1]) / (this.n2 - 1);
    const p = Math.min(this.n1 - 1, Math.max(0, (u[0] - this.lower[0]) / h1));
    const q = Math.min(this.n2 - 1, Math.max(0, (u[1] - this.lower[1]) / h2));
    const a = Math.min(this.n1 - 2, Math.floor(p)), b = Math.min(this.n2 - 2, Math.floor(q));
    const s = p - a, t = q - b;
    const N = this.nodes, n2 = this.n2;
    const v00 = N[a * n2 + b], v01 = N[a * n2 + b + 1], v10 = N[(a + 1) * n2 + b], v11 = N[(a + 1) * n2 + b + 1];
    if (grad) {
      grad[0] = ((1 - t) * (v10 - v00) + t * (v11 - v01)) / h1;
      grad[1] = ((1 - s) * (v01 - v00) + s * (v11 - v10)) / h2;
    }
    return (1 - s) * (1 - t) * v00 + (1 - s) * t * v01 + s * (1 - t) * v10 + s * t * v11;
  }
}

/** What {@link SafeLmpcController} does when the learned-model solve is not optimal. */
export type SafeFallback =
  /** Apply the solver's own fallback (the minimum-violation input; no guarantee). */
  | 'min-violation'
  /** Apply the next input of the last feasible sequence (once), else the solver's fallback. */
  | 'previous'
  /** Ask the backup controller (e.g. the first-principles LMPC). */
  | 'backup';

/** Options of {@link SafeLmpcController}. */
export interface SafeLmpcOptions {
  /** The Lyapunov function of the constraint (for the run-time monitor). */
  V: (x: ArrayLike<number>) => number;
  /** Backup controller (e.g. the first-principles LMPC); required by `fallback: 'backup'`. */
  backup?: Controller | null;
  /** Fallback of non-optimal solves (default 'backup' with a backup, else 'min-violation'). */
  fallback?: SafeFallback;
  /**
   * Run-time monitor (default true): at every step, check the measured state against the bound the
   * previous feasible step guaranteed (`V(x_now) <= bound[0]` of that solve); a violation means the
   * error bound did not hold. It is counted, and with a backup the backup takes over for the rest
   * of the run.
   */
  monitor?: boolean;
  /** Relative tolerance of the monitor (default 1e-9). */
  monitorTolerance?: number;
}

/** Counters of a {@link SafeLmpcController} run (since the last reset). */
export interface SafeLmpcStats {
  /** Steps solved by the learned-model LMPC to optimality and applied. */
  primary: number;
  /** Steps where a fallback input was applied, by kind. */
  fallbacks: { 'min-violation': number; previous: number; backup: number };
  /** Steps whose measured V exceeded the bound guaranteed by the previous step (error bound violated). */
  assumptionViolations: number;
  /** Whether the backup took over for good after an assumption violation. */
  handedOver: boolean;
}

/**
 * A learned-model LMPC ({@link Mpc}, typically with a tightened Lyapunov constraint, see
 * {@link LyapunovConstraint.errorBound}) made safe on the real plant: feasible optimal solves are
 * applied (their guarantee: with the error bound holding, the true V at the next sample is at most
 * the bound of the solve); otherwise the fallback applies; a monitor checks each step's guarantee
 * against the measured next state.
 */
export class SafeLmpcController implements Controller {
  readonly primary: Mpc;
  readonly backup: Controller | null;
  readonly fallback: SafeFallback;
  readonly monitor: boolean;
  readonly inputBounds: { lower: ArrayLike<number>; upper: ArrayLike<number> };
  private readonly V: (x: ArrayLike<number>) => number;
  private readonly tol: number;
  private expected: number | null = null;
  private previous: Float64Array | null = null;
  private previousUsed = false;
  private latched = false;
  stats: SafeLmpcStats = SafeLmpcController.emptyStats();
  /** The last learned-model solution (for diagnostics). */
  lastSolution: MpcSolution | null = null;

  /** @throws ValidationError when `fallback: 'backup'` has no backup */
  constructor(primary: Mpc, o: SafeLmpcOptions) {
    this.primary = primary;
    this.backup = o.backup ?? null;
    this.fallback = o.fallback ?? (this.backup ? 'backup' : 'min-violation');
    if (this.fallback === 'backup' && !this.backup) throw new ValidationError("SafeLmpcController: fallback 'backup' needs a backup controller");
    this.monitor = o.monitor ?? true;
    this.V = o.V;
    this.tol = o.monitorTolerance ?? 1e-9;
    this.inputBounds = primary.inputBounds;
  }

  private static emptyStats(): SafeLmpcStats {
    return { primary: 0, fallbacks: { 'min-violation': 0, previous: 0, backup: 0 }, assumptionViolations: 0, handedOver: false };
  }

  /** The predictor's name (like {@link Mpc.predictor}). */
  get predictor(): Mpc['predictor'] {
    return this.primary.predictor;
  }

  reset(): void {
    this.primary.reset();
    this.backup?.reset?.();
    this.expected = null;
    this.previous = null;
    this.previousUsed = false;
    this.latched = false;
    this.lastSolution = null;
    this.stats = SafeLmpcController.emptyStats();
  }

  private useBackup(state: Float64Array, status: string, message: string): ControlStep {
    const b = this.backup!.solve(state);
    this.stats.fallbacks.backup++;
    this.expected = null;
    return { ...b, input: b.input, status, fallback: 'backup', message: `${message}; applied the backup controller's input (its status: ${b.status ?? 'unknown'})` };
  }

  solve(state: Float64Array): ControlStep {
    if (this.monitor && this.expected !== null) {
      const v = this.V(state);
      if (v > this.expected * (1 + this.tol) + this.tol) {
        this.stats.assumptionViolations++;
        if (this.backup && !this.latched) {
          this.latched = true;
          this.stats.handedOver = true;
        }
      }
    }
    this.expected = null;
    if (this.latched) return this.useBackup(state, 'handed-over', 'the measured V exceeded the bound a previous step guaranteed (model error above its bound)');
    if (this.backup && this.fallback === 'backup' && this.primary.lyapunovErrorBound > 0 && this.primary.lyapunovRightHandSides(state)[0] === 0)
      return this.useBackup(state, 'infeasible', 'the model error bound leaves no room for the tightened Lyapunov constraint here (sqrt(V bound) <= error bound)');
    const s = this.primary.solve(state);
    this.lastSolution = s;
    if (s.status === 'optimal') {
      this.stats.primary++;
      this.expected = s.lyapunov ? s.lyapunov.bound[0] ?? null : null;
      const nu = this.primary.inputSize;
      this.previous = s.inputs.length > nu ? s.inputs.slice(nu, 2 * nu) : null;
      this.previousUsed = false;
      return s;
    }
    const why = s.message ?? `solver status ${s.status}`;
    if (this.fallback === 'backup') return this.useBackup(state, s.status, why);
    if (this.fallback === 'previous' && this.previous && !this.previousUsed) {
      this.previousUsed = true;
      this.stats.fallbacks.previous++;
      return { input: this.previous, status: s.status, iterations: s.iterations, evaluations: s.evaluations, kktResidual: s.kktResidual, fallback: 'previous', message: `${why}; applied the next input of the last feasible sequence` };
    }
    this.stats.fallbacks['min-violation']++;
    return s;
  }
}
