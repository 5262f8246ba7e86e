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
  CSTR_ACCURATE_PLANT, CSTR_EULER_STEP, CSTR_INPUT_BOUNDS, CSTR_LYAPUNOV_P, CSTR_PARAMETERS, CSTR_SAMPLING_PERIOD,
  stepCstr, type CstrIntegrationOptions,
} from '../systems/cstr.ts';
import type { ScaledModel } from '../train/pipeline.ts';
import { closedLoop, type ClosedLoopResult, type Plant } from './closed-loop.ts';
import { Mpc, type LyapunovConstraint, type MpcProblem, type MpcSolverOptions, type QuadraticCost } from './mpc.ts';
import { ModelPredictor, OdePredictor, type ModelLayout, type OdeModel, type Predictor } from './predictors.ts';

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

const P = CSTR_PARAMETERS;
const FV = P.F / P.V;
const NEG_E = -P.E;
const E_R = P.E / P.R;
const HEAT = (P.dH / (P.rho * P.Cp)) * P.k0;
const RHO_CP_V = P.rho * P.Cp * P.V;

/**
 * The CSTR ODE in deviation variables, state (x1, x2), input (u1, u2), with its exact Jacobians.
 * Same expressions and evaluation order as `cstrDerivative`.
 */
export const CSTR_ODE: OdeModel = Object.freeze({
  stateSize: 2,
  inputSize: 2,
  evaluate(x: Float64Array, u: Float64Array, f: Float64Array, fx: Float64Array | null, fu: Float64Array | null): void {
    const ca = x[0] + P.CAs, t = x[1] + P.Ts, ca0 = u[0] + P.CA0s, q = u[1] + P.Qs;
    const r = Math.exp(NEG_E / (P.R * t));
    const ca2 = ca * ca;
    f[0] = FV * (ca0 - ca) - P.k0 * r * ca2;
    f[1] = FV * (P.T0 - t) - HEAT * r * ca2 + q / RHO_CP_V;
    if (fx) {
      const drdt = (r * E_R) / (t * t);
      fx[0] = -FV - 2 * P.k0 * r * ca;
      fx[1] = -P.k0 * ca2 * drdt;
      fx[2] = -2 * HEAT * r * ca;
      fx[3] = -FV - HEAT * ca2 * drdt;
    }
    if (fu) {
      fu[0] = FV;
      fu[1] = 0;
      fu[2] = 0;
      fu[3] = 1 / RHO_CP_V;
    }
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
 * @throws RangeError when the model does not take 4 inputs and give 2 outputs
 */
export function cstrModelPredictor(model: ScaledModel, options: { forwardMode?: boolean; reuseJacobians?: boolean } = {}): ModelPredictor {
  if (model.model.inputSize !== 4 || model.model.outputSize !== 2)
    throw new RangeError(`a CSTR model takes 4 inputs [x2, x1, u2, u1] and predicts 2 outputs [x2, x1]; this one takes ${model.model.inputSize} and predicts ${model.model.outputSize}`);
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
  if (predictor.stateSize !== 2 || predictor.inputSize !== 2) throw new RangeError('the CSTR LMPC needs a predictor with state (x1, x2) and input (u1, u2)');
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

/** Closed loop of the CSTR plant under `mpc` from `x0` = (x1, x2), stopping in the target region. */
export function runCstrClosedLoop(mpc: Mpc, x0: ArrayLike<number>, options: CstrClosedLoopOptions = {}): ClosedLoopResult {
  return closedLoop(cstrPlant(options.integration), mpc, {
    x0,
    maxSteps: options.maxSteps ?? CSTR_LMPC.maxSteps,
    target: cstrInTarget,
    noise: options.noise ? { bounds: options.noise, seed: options.seed ?? 0 } : null,
    onStep: options.onStep,
  });
}
