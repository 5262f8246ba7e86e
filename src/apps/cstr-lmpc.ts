/**
 * The built-in CSTR Lyapunov-based MPC of the reference (REFERENCE.md section 1): state (x1, x2) =
 * (CA - CAs, T - Ts), input (u1, u2) = (CA0 - CA0s, Q - Qs), sampling period 0.005 h, horizon 2,
 * objective `(1/100) [sum over periods and the 10 intra-period samples of x2^2 + 1000 x1^2 + sum over
 * periods of 3e-10 u2^2 + u1^2]`, constraint `V(x_pred_end_k) - V(x_now) <= 0` per period with
 * `P = [[1060, 22], [22, 0.52]]`, bounds u1 in [-3.5, 3.5], u2 in [-5e5, 5e5]; closed loop from
 * (1.5, -70) and (-1.5, 70) until |x1| < 0.02 and |x2| < 3, at most 20 steps.
 *
 * Predictors: a trained model ({@link cstrModelPredictor}, rows `[x2, x1, u2, u1]` -> `[x2, x1]`, 10
 * rows per period) or the first-principles ODE ({@link cstrFirstPrinciplesPredictor}, explicit Euler
 * 1e-4 h like the reference). The plant ({@link cstrPlant}) integrates accurately (RK4, 1e-5 h).
 *
 * Browser-safe: no Node APIs.
 */
import {
  CSTR_ACCURATE_PLANT, CSTR_EULER_STEP, CSTR_INPUT_BOUNDS, CSTR_LYAPUNOV_P, CSTR_SAMPLING_PERIOD,
  CSTR_STABILITY_LEVEL, cstrRatesWithJacobians, stepCstr, type CstrIntegrationOptions,
} from '../systems/cstr.ts';
import type { ScaledModel } from '../nn/scaled-model.ts';
import { closedLoop, type ClosedLoopResult, type Controller, type Plant } from '../control/closed-loop.ts';
import { estimatePredictionError, InputErrorTable, SafeLmpcController, type PredictionErrorEstimate, type SafeFallback } from '../control/robust.ts';
import { Mpc, type LyapunovConstraint, type MpcProblem, type MpcSolverOptions, type QuadraticCost } from '../control/mpc.ts';
import { ModelPredictor, OdePredictor, type ModelLayout, type OdeModel, type Predictor } from '../control/predictors.ts';
import { ValidationError } from '../core/errors.ts';

/** The published LMPC settings, in the library's (x1, x2) / (u1, u2) order. Frozen. */
export const CSTR_LMPC = Object.freeze({
  horizon: 2,
  /** Weights on (x1, x2) at every intra-period sample. */
  stateWeights: Object.freeze([1000, 1]) as readonly number[],
  /** Weights on (u1, u2) per period. */
  inputWeights: Object.freeze([1, 3e-10]) as readonly number[],
  /** Overall factor 1/100. */
  scale: 0.01,
  samplesPerPeriod: 10,
  period: CSTR_SAMPLING_PERIOD,
  lower: Object.freeze([CSTR_INPUT_BOUNDS.u1.min, CSTR_INPUT_BOUNDS.u2.min]) as readonly number[],
  upper: Object.freeze([CSTR_INPUT_BOUNDS.u1.max, CSTR_INPUT_BOUNDS.u2.max]) as readonly number[],
  /** Target region |x1| < 0.02, |x2| < 3. */
  target: Object.freeze({ x1: 0.02, x2: 3 }),
  /** The two published initial states (x1, x2). */
  initialStates: Object.freeze([Object.freeze([1.5, -70]), Object.freeze([-1.5, 70])]) as readonly (readonly [number, number])[],
  maxSteps: 20,
});

/** Model rows `[x2, x1, u2, u1]`, outputs `[x2, x1]`, 10 rows per period. */
export const CSTR_MODEL_LAYOUT: ModelLayout = Object.freeze({
  stateColumns: Object.freeze([1, 0]) as readonly number[],
  inputColumns: Object.freeze([3, 2]) as readonly number[],
  outputColumns: Object.freeze([1, 0]) as readonly number[],
  steps: 10,
});

/**
 * The CSTR ODE in deviation variables, state (x1, x2), input (u1, u2), with its exact Jacobians
 * (`cstrRatesWithJacobians` of the plant's module: one copy of the equations).
 */
export const CSTR_ODE: OdeModel = Object.freeze({
  stateSize: 2,
  inputSize: 2,
  evaluate(x: Float64Array, u: Float64Array, f: Float64Array, fx: Float64Array | null, fu: Float64Array | null): void {
    cstrRatesWithJacobians(x, u, f, fx, fu);
  },
});

/**
 * First-principles predictor of the CSTR: explicit Euler with step `dt` (default 1e-4 h, the
 * reference) over the 0.005 h period, sampled 10 times per period (every 5 Euler steps), exact
 * discrete adjoint.
 */
export function cstrFirstPrinciplesPredictor(options: { dt?: number } = {}): OdePredictor {
  const dt = options.dt ?? CSTR_EULER_STEP;
  return new OdePredictor(CSTR_ODE, { period: CSTR_SAMPLING_PERIOD, dt, samplesPerPeriod: CSTR_LMPC.samplesPerPeriod, name: `first-principles (Euler ${dt} h)` });
}

/**
 * A trained CSTR model (rows `[x2, x1, u2, u1]`, 10 steps, outputs `[x2, x1]`, physical units
 * through its scalers) as a predictor.
 * @throws ValidationError when the model does not take 4 inputs and give 2 outputs
 */
export function cstrModelPredictor(model: ScaledModel, options: { forwardMode?: boolean; reuseJacobians?: boolean } = {}): ModelPredictor {
  if (model.model.inputSize !== 4 || model.model.outputSize !== 2)
    throw new ValidationError(`a CSTR model takes 4 inputs [x2, x1, u2, u1] and predicts 2 outputs [x2, x1]; this one takes ${model.model.inputSize} and predicts ${model.model.outputSize}`);
  return new ModelPredictor(model, CSTR_MODEL_LAYOUT, undefined, options);
}

/** Options of {@link cstrLmpcProblem} / {@link createCstrLmpc}; defaults are the published ones. */
export interface CstrLmpcOptions {
  /** Horizon in sampling periods (default 2). */
  horizon?: number;
  /** Lyapunov constraint: true (default, the published form), false (none), or overrides. */
  lyapunov?: boolean | Partial<LyapunovConstraint>;
  /** Optional rate limits on (u1, u2) per period. */
  rateLimits?: [number, number] | null;
  /** Cost overrides. */
  cost?: Partial<QuadraticCost>;
  solver?: MpcSolverOptions;
  /** Options of the model predictor (when the source is a model), see {@link ModelPredictor}. */
  predictor?: { forwardMode?: boolean; reuseJacobians?: boolean };
}

/** The published CSTR LMPC as an {@link MpcProblem} over `predictor`. */
export function cstrLmpcProblem(predictor: Predictor, options: CstrLmpcOptions = {}): MpcProblem {
  if (predictor.stateSize !== 2 || predictor.inputSize !== 2) throw new ValidationError('the CSTR LMPC needs a predictor with state (x1, x2) and input (u1, u2)');
  const L = options.lyapunov ?? true;
  const lyapunov: LyapunovConstraint | null =
    L === false ? null : { P: CSTR_LYAPUNOV_P, periods: 'each', decay: 1, scaleFloor: 1, ...(L === true ? {} : L) };
  return {
    predictor,
    horizon: options.horizon ?? CSTR_LMPC.horizon,
    inputBounds: { lower: CSTR_LMPC.lower, upper: CSTR_LMPC.upper },
    cost: { stateWeights: CSTR_LMPC.stateWeights, inputWeights: CSTR_LMPC.inputWeights, scale: CSTR_LMPC.scale, samples: 'all', ...options.cost },
    lyapunov,
    rateLimits: options.rateLimits ?? null,
    solver: options.solver,
  };
}

/**
 * The CSTR LMPC controller over a trained model, the first-principles ODE (`'first-principles'`),
 * or any predictor with the CSTR's state and input.
 *
 * @example
 * ```ts
 * const mpc = createCstrLmpc(loadModel('iclrnn.json'));   // or createCstrLmpc('first-principles')
 * const step = mpc.solve([1.5, -70]);                        // state (x1, x2) in deviation variables
 * console.log(step.status, step.input);                       // first input move (u1, u2)
 * ```
 */
export function createCstrLmpc(source: ScaledModel | Predictor | 'first-principles', options: CstrLmpcOptions = {}): Mpc {
  const predictor: Predictor =
    source === 'first-principles' ? cstrFirstPrinciplesPredictor() : 'predict' in source ? source : cstrModelPredictor(source, options.predictor);
  return new Mpc(cstrLmpcProblem(predictor, options));
}

/** Whether (x1, x2) is in the target region |x1| < 0.02, |x2| < 3. */
export function cstrInTarget(x: ArrayLike<number>): boolean {
  return Math.abs(x[0]) < CSTR_LMPC.target.x1 && Math.abs(x[1]) < CSTR_LMPC.target.x2;
}

/**
 * The CSTR as the true plant: one sampling period of `stepCstr` with accurate integration (default
 * {@link CSTR_ACCURATE_PLANT}: RK4, 1e-5 h). A disturbance (w1, w2) is added to (dx1/dt, dx2/dt)
 * over the period (kmol/(m3 h), K/h).
 */
export function cstrPlant(integration: CstrIntegrationOptions = CSTR_ACCURATE_PLANT): Plant {
  return {
    stateSize: 2,
    inputSize: 2,
    period: CSTR_SAMPLING_PERIOD,
    step(x, u, w, out) {
      const r = stepCstr([x[0], x[1]], [u[0], u[1]], CSTR_SAMPLING_PERIOD, integration, w ? { x1: w[0], x2: w[1] } : undefined);
      out[0] = r.x1;
      out[1] = r.x2;
    },
  };
}

/** Options of {@link runCstrClosedLoop}. */
export interface CstrClosedLoopOptions {
  /** Maximum steps (default 20). */
  maxSteps?: number;
  /** Bounds of the uniform process noise on (dx1/dt, dx2/dt) per period; omitted: none. */
  noise?: [number, number] | null;
  /** Noise seed (default 0). */
  seed?: number;
  /** Plant integration (default {@link CSTR_ACCURATE_PLANT}). */
  integration?: CstrIntegrationOptions;
  onStep?: Parameters<typeof closedLoop>[2]['onStep'];
}

/** A CSTR closed-loop run with the Lyapunov function along the TRUE (plant) trajectory. */
export interface CstrClosedLoopResult extends ClosedLoopResult {
  lyapunov: CstrLyapunovTrace;
}

/**
 * Closed loop of the CSTR plant under `controller` (an LMPC) from `x0` = (x1, x2), stopping in the target region.
 *
 * @example
 * ```ts
 * const run = runCstrClosedLoop(createCstrLmpc('first-principles'), [1.5, -70]);
 * console.log(run.converged, run.steps);
 * ```
 */
export function runCstrClosedLoop(controller: Controller, x0: ArrayLike<number>, options: CstrClosedLoopOptions = {}): CstrClosedLoopResult {
  const r = closedLoop(cstrPlant(options.integration), controller, {
    x0,
    maxSteps: options.maxSteps ?? CSTR_LMPC.maxSteps,
    target: cstrInTarget,
    noise: options.noise ? { bounds: options.noise, seed: options.seed ?? 0 } : null,
    onStep: options.onStep,
  });
  return Object.assign(r, { lyapunov: cstrLyapunovTrace(r.x) });
}

// ---------------------------------------------------------------------------------------------------
// Safety on the real plant: V along the true trajectory, error bounds, the robust (safe) LMPC.

/** P of the CSTR Lyapunov function, row-major. */
export const CSTR_P_FLAT: readonly number[] = Object.freeze([CSTR_LYAPUNOV_P[0][0], CSTR_LYAPUNOV_P[0][1], CSTR_LYAPUNOV_P[1][0], CSTR_LYAPUNOV_P[1][1]]);

/**
 * The four initial states of the safety test (x1, x2): the two published ones, (1.2, -60) and its
 * mirror image (-1.2, 60) (V = 313, 313, 230, 230).
 */
export const CSTR_SAFETY_STATES: readonly (readonly [number, number])[] = Object.freeze([
  Object.freeze([1.5, -70] as [number, number]), Object.freeze([-1.5, 70] as [number, number]),
  Object.freeze([1.2, -60] as [number, number]), Object.freeze([-1.2, 60] as [number, number]),
]);

/** `V(x) = x' P x` of the CSTR (same evaluation order as `lyapunovValue`; NaN for non-finite input). */
export function cstrV(x: ArrayLike<number>): number {
  const x1 = x[0], x2 = x[1];
  const a = x1 * 1060 + x2 * 22;
  const b = x1 * 22 + x2 * 0.52;
  return a * x1 + b * x2;
}

/** V along a trajectory against the stability level 372. */
export interface CstrLyapunovTrace {
  /** V at every recorded state (the initial state first). */
  V: number[];
  maxV: number;
  /** The stability level (372). */
  level: number;
  /** Indices (0 = initial state) of the recorded states with V >= level. */
  stepsOutside: number[];
  /** Whether any state after the initial one left the region V < level. */
  exited: boolean;
  /** Steps where V rose (V[k+1] > V[k]). */
  rises: number;
}

/** {@link CstrLyapunovTrace} of a list of states (x1, x2). */
export function cstrLyapunovTrace(states: readonly ArrayLike<number>[], level: number = CSTR_STABILITY_LEVEL): CstrLyapunovTrace {
  const V = states.map((x) => cstrV(x));
  const stepsOutside: number[] = [];
  let rises = 0;
  V.forEach((v, i) => {
    if (!(v < level)) stepsOutside.push(i);
    if (i > 0 && v > V[i - 1]) rises++;
  });
  return { V, maxV: Math.max(...V), level, stepsOutside, exited: stepsOutside.some((i) => i > 0), rises };
}

/**
 * States (x1, x2) on a `n1 x n2` grid over the bounding box of `V <= level` (default 372), keeping
 * those with `V <= level`, row by row (x2 outer).
 */
export function cstrRegionGrid(n1: number, n2: number, level: number = CSTR_STABILITY_LEVEL): [number, number][] {
  if (!(Number.isInteger(n1) && n1 >= 2 && Number.isInteger(n2) && n2 >= 2)) throw new ValidationError('cstrRegionGrid: n1 and n2 must be integers >= 2');
  const [[p11, p12], [, p22]] = CSTR_LYAPUNOV_P;
  const det = p11 * p22 - p12 * p12;
  const h1 = Math.sqrt((level * p22) / det), h2 = Math.sqrt((level * p11) / det);
  const out: [number, number][] = [];
  for (let j = 0; j < n2; j++) {
    const x2 = -h2 + (2 * h2 * j) / (n2 - 1);
    for (let i = 0; i < n1; i++) {
      const x1 = -h1 + (2 * h1 * i) / (n1 - 1);
      if (cstrV([x1, x2]) <= level) out.push([x1, x2]);
    }
  }
  return out;
}

/** Inputs (u1, u2) on an `n x n` grid over the input box (corners included). */
export function cstrInputGrid(n: number): [number, number][] {
  if (!(Number.isInteger(n) && n >= 2)) throw new ValidationError('cstrInputGrid: n must be an integer >= 2');
  const out: [number, number][] = [];
  for (let a = 0; a < n; a++)
    for (let b = 0; b < n; b++)
      out.push([CSTR_LMPC.lower[0] + ((CSTR_LMPC.upper[0] - CSTR_LMPC.lower[0]) * a) / (n - 1), CSTR_LMPC.lower[1] + ((CSTR_LMPC.upper[1] - CSTR_LMPC.lower[1]) * b) / (n - 1)]);
  return out;
}

/** Options of {@link estimateCstrPredictionError}. */
export interface CstrErrorBoundOptions {
  /** State grid `n x n` over the region (default 21; about 25 % of the points fall inside). */
  stateGrid?: number;
  /** Input grid `n x n` over the input box (default 7). */
  inputGrid?: number;
  /** Level of the region the grid covers (default 1.1 x 372, a little beyond the stability region). */
  level?: number;
  /** Process-noise bounds (w1, w2) to include (see {@link estimatePredictionError}). */
  noise?: [number, number] | null;
  /** Safety factor (default 1.25). */
  inflation?: number;
}

/**
 * The one-period prediction error bound (P-norm) of a CSTR model against the accurate plant over
 * a held-out grid of the (slightly enlarged) stability region and the input box.
 */
export function estimateCstrPredictionError(source: ScaledModel | Predictor, options: CstrErrorBoundOptions = {}): CstrPredictionErrorEstimate {
  const predictor: Predictor = 'predict' in source ? source : cstrModelPredictor(source, { forwardMode: true });
  const n = options.stateGrid ?? 21, m = options.inputGrid ?? 7;
  const e = estimatePredictionError(predictor, cstrPlant(), {
    P: CSTR_P_FLAT,
    states: cstrRegionGrid(n, n, options.level ?? 1.1 * CSTR_STABILITY_LEVEL),
    inputs: cstrInputGrid(m),
    noise: options.noise ?? null,
    inflation: options.inflation,
  });
  const table = new InputErrorTable([CSTR_LMPC.lower[0], CSTR_LMPC.lower[1]], [CSTR_LMPC.upper[0], CSTR_LMPC.upper[1]], m, m, e.inputMax, e.inflation);
  return { ...e, inputTable: table };
}

/** {@link PredictionErrorEstimate} of the CSTR with the input-dependent bound built from it. */
export interface CstrPredictionErrorEstimate extends PredictionErrorEstimate {
  /** Input-dependent bound (bilinear over the input grid; see {@link InputErrorTable}). */
  inputTable: InputErrorTable;
}

/**
 * Safety mode of a learned-model CSTR LMPC on the real plant:
 * - `'nominal'`: the published constraint `V(x_pred) <= V(x_now)` on the model (guarantee for the
 *   model only);
 * - `'tightened'` (default): the constraint tightened by the model's error bound (see
 *   {@link LyapunovConstraint.errorBound}) with an inner level floor, a backup for infeasible steps and
 *   the run-time monitor;
 * - `'contractive'`: the nominal constraint with a contraction `V(x_pred_k) <= decay^(k+1) V(x_now)`
 *   (no margin; robust only when the contraction exceeds the model error);
 * - `'monitor'`: the nominal constraint, each applied step checked against the measured state, the
 *   backup taking over after the first rise of V.
 */
export type CstrSafetyMode = 'nominal' | 'tightened' | 'contractive' | 'monitor';
/** Every {@link CstrSafetyMode}, in order of increasing caution. */
export const CSTR_SAFETY_MODES: readonly CstrSafetyMode[] = Object.freeze(['nominal', 'tightened', 'contractive', 'monitor']);

/** Options of {@link createSafeCstrLmpc}. */
export interface SafeCstrLmpcOptions extends CstrLmpcOptions {
  /** Default 'tightened'. */
  safety?: CstrSafetyMode;
  /** The P-norm error bound (a number, or an estimate); default: {@link estimateCstrPredictionError} with its defaults. */
  errorBound?: number | PredictionErrorEstimate;
  /** Options of the default error-bound estimate. */
  errorBoundOptions?: CstrErrorBoundOptions;
  /**
   * Use the input-dependent bound of the estimate for the applied period (default true when the
   * estimate has one): the margin then depends on the input the controller picks, so gentle inputs
   * (where the model is more accurate) leave it more room.
   */
  inputDependent?: boolean;
  /** Level floor (default {@link CSTR_SAFE_LEVEL_FLOOR} = 0.85 x 372). */
  levelFloor?: number;
  /** Contraction factor of 'contractive' (default 0.8). */
  decay?: number;
  /** Fallback of non-optimal solves (default 'backup': the first-principles LMPC). */
  fallback?: SafeFallback;
}

/**
 * SQP iteration limit of the learned-model solve of the 'tightened' mode with a backup (Gauss-Newton
 * normally needs 1-5; a solve that needs more, or ends infeasible, is handed to the backup without
 * the BFGS continuation or the retry from the centre of the box).
 */
export const SAFE_PRIMARY_ITERATIONS = 6;

/**
 * Default level floor of the 'tightened' mode: 0.85 x 372. Below it the controller only has to keep
 * the TRUE V under the floor (robustly), which leaves a P-norm margin of sqrt(372) - sqrt(316) = 1.5
 * for disturbances the model-error bound does not cover; above it, V must not rise.
 */
export const CSTR_SAFE_LEVEL_FLOOR = 0.85 * CSTR_STABILITY_LEVEL;

/** A learned-model CSTR LMPC with the safety mode of `options.safety` and what it was built with. */
export interface SafeCstrLmpc {
  controller: SafeLmpcController | Mpc;
  mpc: Mpc;
  safety: CstrSafetyMode;
  /** The error bound used (0 unless 'tightened') and its estimate when one was made. */
  errorBound: number;
  estimate: PredictionErrorEstimate | null;
  levelFloor: number;
}

/**
 * The CSTR LMPC over a trained model (or any predictor), made safe on the real plant per
 * `options.safety` (default 'tightened').
 */
export function createSafeCstrLmpc(source: ScaledModel | Predictor | 'first-principles', options: SafeCstrLmpcOptions = {}): SafeCstrLmpc {
  const safety = options.safety ?? 'tightened';
  if (!CSTR_SAFETY_MODES.includes(safety)) throw new ValidationError(`createSafeCstrLmpc: unknown safety mode '${safety}' (${CSTR_SAFETY_MODES.join(', ')})`);
  const base: Partial<LyapunovConstraint> = typeof options.lyapunov === 'object' ? options.lyapunov : {};
  const backup = () => createCstrLmpc('first-principles', { horizon: options.horizon, rateLimits: options.rateLimits, solver: options.solver });
  const wrap = (mpc: Mpc, eta: number, estimate: PredictionErrorEstimate | null, floor: number, fallback: SafeFallback): SafeCstrLmpc => ({
    controller: new SafeLmpcController(mpc, { V: cstrV, backup: fallback === 'backup' ? backup() : null, fallback }),
    mpc, safety, errorBound: eta, estimate, levelFloor: floor,
  });
  if (safety === 'nominal' || options.lyapunov === false) {
    const mpc = createCstrLmpc(source, options);
    return { controller: mpc, mpc, safety, errorBound: 0, estimate: null, levelFloor: 0 };
  }
  if (safety === 'contractive') {
    const mpc = createCstrLmpc(source, { ...options, lyapunov: { ...base, decay: options.decay ?? 0.8 } });
    return { controller: mpc, mpc, safety, errorBound: 0, estimate: null, levelFloor: 0 };
  }
  if (safety === 'monitor') {
    const mpc = createCstrLmpc(source, options);
    return wrap(mpc, 0, null, 0, options.fallback ?? 'backup');
  }
  let estimate: PredictionErrorEstimate | null = null;
  let table: InputErrorTable | null = null;
  let eta: number;
  if (typeof options.errorBound === 'number') eta = options.errorBound;
  else if (options.errorBound) {
    estimate = options.errorBound;
    eta = estimate.errorBound;
  } else if (source === 'first-principles') eta = 0;
  else {
    estimate = estimateCstrPredictionError(source, options.errorBoundOptions);
    eta = estimate.errorBound;
  }
  if (!(eta >= 0) || !Number.isFinite(eta)) throw new ValidationError(`createSafeCstrLmpc: errorBound must be a finite number >= 0, got ${eta}`);
  if (estimate && 'inputTable' in estimate && (options.inputDependent ?? true)) table = (estimate as CstrPredictionErrorEstimate).inputTable;
  const floor = options.levelFloor ?? CSTR_SAFE_LEVEL_FLOOR;
  const fallback = options.fallback ?? 'backup';
  // The guarantee needs the applied (first) period only; with a backup, an infeasible solve is
  // handed over quickly instead of searching for the minimum-violation point (up to hundreds of
  // SQP iterations), which the backup makes unnecessary.
  const solver = fallback === 'backup' ? { maxIterations: SAFE_PRIMARY_ITERATIONS, retry: false, bfgsContinuation: false, ...options.solver } : options.solver;
  const mpc = createCstrLmpc(source, { ...options, solver, lyapunov: { periods: 'first', ...base, errorBound: table ? Math.max(eta, table.maximum) : eta, inputErrorBound: table, levelFloor: floor } });
  return wrap(mpc, eta, estimate, floor, fallback);
}
