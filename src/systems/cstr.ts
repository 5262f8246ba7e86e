/**
 * The continuous stirred tank reactor (CSTR) benchmark: a second-order exothermic reaction A -> B.
 *
 * Absolute variables: concentration `CA` (kmol/m3) and temperature `T` (K); manipulated inputs: inlet
 * concentration `CA0` (kmol/m3) and heat input `Q` (kJ/h). Time is in hours.
 *
 *     dCA/dt = F/V (CA0 - CA) - k0 exp(-E/(R T)) CA^2
 *     dT/dt  = F/V (T0 - T) - dH/(rho Cp) k0 exp(-E/(R T)) CA^2 + Q/(rho Cp V)
 *
 * Everything public is in deviation variables: `x1 = CA - CAs`, `x2 = T - Ts`, `u1 = CA0 - CA0s`,
 * `u2 = Q - Qs`. Internally the integrators advance the absolute variables (as the reference code
 * does) and subtract the steady state when recording, so results match the reference to rounding.
 *
 * Browser-safe: no Node APIs, no printing.
 *
 * Size (about 590 lines): the plant in one place, as the cell-program issue asks: the ODE and its
 * Jacobians, the integrators, the reference data protocol and the Lyapunov function.
 */
import type { SequenceDataset } from './dataset.ts';
import { ValidationError } from '../core/errors.ts';

/** Physical constants of the CSTR (reference table) and its steady state. Frozen. */
export const CSTR_PARAMETERS = Object.freeze({
  /** Feed flow rate (m3/h). */
  F: 5,
  /** Reactor volume (m3). */
  V: 1,
  /** Pre-exponential factor (m3/(kmol h)). */
  k0: 8.46e6,
  /** Activation energy (kJ/kmol). */
  E: 5e4,
  /** Gas constant (kJ/(kmol K)). */
  R: 8.314,
  /** Feed temperature (K). */
  T0: 300,
  /** Enthalpy of reaction (kJ/kmol). */
  dH: -1.15e4,
  /** Liquid density (kg/m3). */
  rho: 1000,
  /** Heat capacity (kJ/(kg K)). */
  Cp: 0.231,
  /** Steady-state inlet concentration (kmol/m3). */
  CA0s: 4,
  /** Steady-state heat input (kJ/h). */
  Qs: 0,
  /** Steady-state concentration (kmol/m3). */
  CAs: 1.9537,
  /** Steady-state temperature (K). */
  Ts: 401.8727,
});

/** Closed interval `[min, max]`. */
export interface Interval {
  readonly min: number;
  readonly max: number;
}

/** Bounds of the deviation inputs: `u1 = CA0 - CA0s` in [-3.5, 3.5], `u2 = Q - Qs` in [-5e5, 5e5]. Frozen. */
export const CSTR_INPUT_BOUNDS: Readonly<{ u1: Interval; u2: Interval }> = Object.freeze({
  u1: Object.freeze({ min: -3.5, max: 3.5 }),
  u2: Object.freeze({ min: -5e5, max: 5e5 }),
});

/** Lyapunov matrix `P` on `(x1, x2)`: `V(x) = x^T P x`. Frozen. */
export const CSTR_LYAPUNOV_P: readonly [readonly [number, number], readonly [number, number]] = Object.freeze([
  Object.freeze([1060, 22] as const),
  Object.freeze([22, 0.52] as const),
] as const);

/** Level of the stability region `{x : V(x) < 372}`. */
export const CSTR_STABILITY_LEVEL = 372;

/** Sampling period of the MPC and of one dataset sample (h). */
export const CSTR_SAMPLING_PERIOD = 0.005;

/** Explicit Euler step of the reference (h). */
export const CSTR_EULER_STEP = 1e-4;

/** Input feature names of the dataset rows `[x2, x1, u2, u1]`. */
export const CSTR_INPUT_NAMES: readonly string[] = Object.freeze(['x2', 'x1', 'u2', 'u1']);

/** Target feature names of the dataset rows `[x2, x1]`. */
export const CSTR_OUTPUT_NAMES: readonly string[] = Object.freeze(['x2', 'x1']);

// Constants folded in the reference's evaluation order.
const P = CSTR_PARAMETERS;
const FV = P.F / P.V;
const NEG_E = -P.E;
const HEAT = (P.dH / (P.rho * P.Cp)) * P.k0; // dH/(rho Cp) * k0
const RHO_CP_V = P.rho * P.Cp * P.V;

/**
 * Lyapunov function `V(x) = x^T P x` with `P = [[1060, 22], [22, 0.52]]`, evaluated as `(x^T P) x`
 * (the reference's `x @ P @ x`).
 * @param x1 CA - CAs (kmol/m3)
 * @param x2 T - Ts (K)
 * @throws ValidationError on a non-finite argument
 */
export function lyapunovValue(x1: number, x2: number): number {
  finite('lyapunovValue', 'x1', x1);
  finite('lyapunovValue', 'x2', x2);
  const a = x1 * 1060 + x2 * 22;
  const b = x1 * 22 + x2 * 0.52;
  return a * x1 + b * x2;
}

/** Whether `(x1, x2)` lies in the stability region `V(x) < 372` (strict, as the reference). */
export function inStabilityRegion(x1: number, x2: number): boolean {
  return lyapunovValue(x1, x2) < CSTR_STABILITY_LEVEL;
}

/**
 * Time derivative of the deviation state, `[dx1/dt, dx2/dt]` (per hour). Equal to the derivative of
 * the absolute state evaluated at `CA = x1 + CAs`, `T = x2 + Ts`, `CA0 = u1 + CA0s`, `Q = u2 + Qs`.
 *
 * Allocation-free when `out` is given (it is filled and returned), so it can sit in hot loops.
 * @param x1 CA - CAs (kmol/m3)
 * @param x2 T - Ts (K)
 * @param u1 CA0 - CA0s (kmol/m3)
 * @param u2 Q - Qs (kJ/h)
 * @param out optional array of length >= 2 that receives the result
 * @throws ValidationError on a non-finite argument or an `out` shorter than 2
 */
export function cstrDerivative(x1: number, x2: number, u1: number, u2: number, out?: Float64Array): Float64Array {
  finite('cstrDerivative', 'x1', x1);
  finite('cstrDerivative', 'x2', x2);
  finite('cstrDerivative', 'u1', u1);
  finite('cstrDerivative', 'u2', u2);
  if (out !== undefined && out.length < 2)
    throw new ValidationError(`cstrDerivative: out must have length >= 2, got ${out.length}`);
  const res = out ?? new Float64Array(2);
  rates(x1 + P.CAs, x2 + P.Ts, u1 + P.CA0s, u2 + P.Qs, 0, 0, res);
  return res;
}

/** Integration scheme: explicit Euler (the reference) or classical 4th-order Runge-Kutta. */
export type CstrIntegrator = 'euler' | 'rk4';

/**
 * Where records fall inside each block of `recordEvery` steps.
 * - `'end'` (default): after steps `r, 2r, ...` (the state at the end of each block; the last
 *   record of a 50-step run is the end of the sampling period).
 * - `'reference'`: after steps `1, r+1, 2r+1, ...`, what the reference code's `if i % 5 == 0`
 *   placed after the Euler update produces.
 */
export type CstrRecordAlignment = 'end' | 'reference';

/**
 * Bounded process noise, applied as a constant additive disturbance rate over the integrated
 * interval: `dx1/dt = f1(x, u) + x1`, `dx2/dt = f2(x, u) + x2` (units kmol/(m3 h) and K/h). Over one
 * sampling period `Δ` it shifts the state by about `Δ * noise`. Draw a new value per sampling period
 * for a piecewise-constant disturbance.
 */
export interface CstrDisturbance {
  /** Disturbance rate on dx1/dt (kmol/(m3 h)). */
  x1: number;
  /** Disturbance rate on dx2/dt (K/h). */
  x2: number;
}

/** Integration settings shared by {@link simulateCstr}, {@link stepCstr} and {@link generateCstrDataset}. */
export interface CstrIntegrationOptions {
  /** Step length (h). Default 1e-4 (the reference). */
  dt?: number;
  /** Scheme. Default `'euler'` (the reference). */
  integrator?: CstrIntegrator;
  /** Each step is split into this many equal sub-steps of the scheme (accuracy knob). Default 1. */
  substeps?: number;
}

/**
 * Accurate settings for the closed-loop "true plant": RK4 with step 1e-5 h (1e-4 split in 10).
 * Its error against the exact flow is far below the Euler reference's over one sampling period.
 */
export const CSTR_ACCURATE_PLANT: Readonly<Required<CstrIntegrationOptions>> = Object.freeze({
  dt: 1e-4,
  integrator: 'rk4',
  substeps: 10,
});

/** Options of {@link simulateCstr}. */
export interface CstrSimulationOptions extends CstrIntegrationOptions {
  /** Number of steps of length `dt`. Default 50 (0.005 h at the default dt). */
  steps?: number;
  /** Record the state every this many steps. Default 5. */
  recordEvery?: number;
  /** Where records fall in each block. Default `'end'`. */
  recordAlignment?: CstrRecordAlignment;
  /** Optional constant disturbance rate (see {@link CstrDisturbance}). */
  noise?: CstrDisturbance;
}

/** Recorded trajectory, deviation variables. */
export interface CstrTrajectory {
  /** x1 = CA - CAs at each record. */
  x1: Float64Array;
  /** x2 = T - Ts at each record. */
  x2: Float64Array;
  /** Time (h) since the start at each record. */
  times: Float64Array;
  /** State after the last step, `[x1, x2]`. */
  final: [number, number];
}

/**
 * Simulate the CSTR from `x0` under a constant input `u`, recording the state every `recordEvery`
 * steps. Records: `floor(steps / recordEvery)` with `'end'` alignment, `ceil(steps / recordEvery)`
 * with `'reference'`.
 * @param x0 initial deviation state `[x1, x2]`
 * @param u constant deviation input `[u1, u2]` (not clamped to {@link CSTR_INPUT_BOUNDS})
 * @param options dt (1e-4), steps (50), recordEvery (5), integrator ('euler'), substeps (1),
 *   recordAlignment ('end'), noise (none)
 * @throws ValidationError on non-finite state/input/noise, bad options, or a diverging simulation
 *
 * @example
 * ```ts
 * const tr = simulateCstr([1.5, -70], [0, 0]);  // one sampling period from (x1, x2) = (1.5, -70) with u = 0
 * console.log(tr.final);                          // state at the end of the period
 * ```
 */
export function simulateCstr(
  x0: readonly [number, number],
  u: readonly [number, number],
  options: CstrSimulationOptions = {},
): CstrTrajectory {
  const fn = 'simulateCstr';
  checkPair(fn, 'x0', x0, 'x1', 'x2');
  checkPair(fn, 'u', u, 'u1', 'u2');
  const o = resolveSimulation(fn, options);
  const nRec = recordCount(o.steps, o.recordEvery, o.recordAlignment);
  const traj: CstrTrajectory = {
    x1: new Float64Array(nRec),
    x2: new Float64Array(nRec),
    times: new Float64Array(nRec),
    final: [0, 0],
  };
  integrate(fn, x0[0], x0[1], u[0], u[1], o, traj.x1, traj.x2, traj.times, 0, 1, SCRATCH_END);
  traj.final = [SCRATCH_END[0], SCRATCH_END[1]];
  return traj;
}

/** Options of {@link stepCstr}. */
export interface CstrStepOptions extends CstrIntegrationOptions {
  /** Also return the intermediate records. Default false. */
  record?: boolean;
  /** Record every this many steps when `record` is set. Default 5. */
  recordEvery?: number;
  /** Where records fall in each block. Default `'end'`. */
  recordAlignment?: CstrRecordAlignment;
}

/** End state of {@link stepCstr}, with the records when asked for. */
export interface CstrStepResult {
  /** x1 = CA - CAs at the end of the period. */
  x1: number;
  /** x2 = T - Ts at the end of the period. */
  x2: number;
  /** Intermediate records (only with `options.record`). */
  records?: CstrTrajectory;
}

/**
 * Advance the plant by one sampling period under a constant input (zero-order hold). The period is
 * covered by `ceil(period / dt)` equal steps (exactly 50 steps of 1e-4 h for the defaults).
 * @param x deviation state `[x1, x2]`
 * @param u deviation input `[u1, u2]` held over the period
 * @param period length of the period (h), default 0.005
 * @param options dt (1e-4), integrator ('euler'), substeps (1), record (false), recordEvery (5),
 *   recordAlignment ('end'); see {@link CSTR_ACCURATE_PLANT} for an accurate plant
 * @param noise optional bounded process noise, a constant disturbance rate added to the state
 *   derivative over the whole period (see {@link CstrDisturbance})
 * @throws ValidationError on non-finite arguments, bad options or a diverging simulation
 */
export function stepCstr(
  x: readonly [number, number],
  u: readonly [number, number],
  period: number = CSTR_SAMPLING_PERIOD,
  options: CstrStepOptions = {},
  noise?: CstrDisturbance,
): CstrStepResult {
  const fn = 'stepCstr';
  if (typeof period !== 'number' || !Number.isFinite(period) || period <= 0)
    throw new ValidationError(`${fn}: period must be a finite number > 0 (h), got ${period}`);
  const dt = options.dt ?? CSTR_EULER_STEP;
  checkDt(fn, dt);
  const steps = Math.max(1, Math.ceil(period / dt - 1e-9));
  const simOptions: CstrSimulationOptions = {
    dt: period / steps,
    steps,
    integrator: options.integrator,
    substeps: options.substeps,
    noise,
    recordEvery: options.record ? (options.recordEvery ?? 5) : steps,
    recordAlignment: options.record ? options.recordAlignment : 'end',
  };
  if (options.record) {
    const records = simulateCstr(x, u, simOptions);
    return { x1: records.final[0], x2: records.final[1], records };
  }
  checkPair(fn, 'x', x, 'x1', 'x2');
  checkPair(fn, 'u', u, 'u1', 'u2');
  const o = resolveSimulation(fn, simOptions);
  integrate(fn, x[0], x[1], u[0], u[1], o, null, null, null, 0, 1, SCRATCH_END);
  return { x1: SCRATCH_END[0], x2: SCRATCH_END[1] };
}

/** Options of {@link generateCstrDataset}. Defaults reproduce the reference protocol. */
export interface CstrDatasetOptions extends CstrIntegrationOptions {
  /** Steps per sample. Default 50 (0.005 h at dt 1e-4). */
  steps?: number;
  /** Record every this many steps (one sequence step per record). Default 5 -> 10 steps. */
  recordEvery?: number;
  /** Where records fall in each block. Default `'end'`. */
  recordAlignment?: CstrRecordAlignment;
}

/** The CSTR modelling dataset plus what generated it. */
export interface CstrDataset extends SequenceDataset {
  /** Number of initial states in the stability region (772 for the reference grid). */
  initialStateCount: number;
  /** Initial states, pairs `[x1, x2]` (length 2 * initialStateCount), in generation order. */
  initialStates: Float64Array;
  /** The input grids: u1 (4 values) and u2 (4 values). */
  inputGrid: { u1: Float64Array; u2: Float64Array };
  /** Step length (h) of the records, i.e. dt * recordEvery. */
  recordInterval: number;
}

/**
 * Initial states of the reference dataset: `x2` in linspace(300, 600, 100) - Ts (outer loop),
 * `x1` in linspace(0, 6, 100) - CAs (inner loop), keeping pairs with `V(x) < 372` -> 772 states.
 * @returns pairs `[x1, x2]`, flattened
 */
export function cstrInitialStates(): Float64Array {
  const t = linspace(300, 600, 100);
  const c = linspace(0, 6, 100);
  const kept: number[] = [];
  for (let i = 0; i < t.length; i++) {
    const x2 = t[i] - P.Ts;
    for (let j = 0; j < c.length; j++) {
      const x1 = c[j] - P.CAs;
      if (lyapunovValue(x1, x2) < CSTR_STABILITY_LEVEL) kept.push(x1, x2);
    }
  }
  return Float64Array.from(kept);
}

/**
 * Generate the CSTR modelling dataset (name `'cstr'`) per the reference protocol: inputs
 * `u1` in linspace(-3.5, 3.5, 4) (outer), `u2` in linspace(-5e5, 5e5, 4) (middle), the 772
 * {@link cstrInitialStates} (inner) -> 12352 samples; each simulated by explicit Euler with step
 * 1e-4 h for 50 steps, recording every 5 steps -> 10 sequence steps.
 *
 * Sample `s` has 10 identical input rows `[x2, x1, u2, u1]` (its initial state and input) and target
 * rows `[x2, x1]` (the recorded states). Physical deviation units, no scaling.
 * @param options integrator / dt / substeps / steps / recordEvery / recordAlignment overrides
 * @throws ValidationError on bad options
 *
 * @example
 * ```ts
 * const data = generateCstrDataset();     // 12352 sequences x 10 steps
 * console.log(data.count, data.inputNames, data.outputNames); // 12352 ['x2','x1','u2','u1'] ['x2','x1']
 * ```
 */
export function generateCstrDataset(options: CstrDatasetOptions = {}): CstrDataset {
  const fn = 'generateCstrDataset';
  const o = resolveSimulation(fn, { ...options, noise: undefined });
  const steps = recordCount(o.steps, o.recordEvery, o.recordAlignment);
  if (steps < 1) throw new ValidationError(`${fn}: steps / recordEvery gives no records`);
  const u1 = linspace(CSTR_INPUT_BOUNDS.u1.min, CSTR_INPUT_BOUNDS.u1.max, 4);
  const u2 = linspace(CSTR_INPUT_BOUNDS.u2.min, CSTR_INPUT_BOUNDS.u2.max, 4);
  const init = cstrInitialStates();
  const nInit = init.length / 2;
  const count = u1.length * u2.length * nInit;
  const inputs = new Float64Array(count * steps * 4);
  const targets = new Float64Array(count * steps * 2);
  let s = 0;
  for (let a = 0; a < u1.length; a++) {
    for (let b = 0; b < u2.length; b++) {
      for (let k = 0; k < nInit; k++, s++) {
        const x1 = init[2 * k];
        const x2 = init[2 * k + 1];
        const inBase = s * steps * 4;
        for (let t = 0; t < steps; t++) {
          const r = inBase + t * 4;
          inputs[r] = x2;
          inputs[r + 1] = x1;
          inputs[r + 2] = u2[b];
          inputs[r + 3] = u1[a];
        }
        // targets rows are [x2, x1]: x2 goes to offset 0, x1 to offset 1, stride 2
        integrate(fn, x1, x2, u1[a], u2[b], o, targets, targets, null, s * steps * 2, 2, SCRATCH_END, 1, 0);
      }
    }
  }
  return {
    name: 'cstr',
    count,
    steps,
    inputSize: 4,
    outputSize: 2,
    inputs,
    targets,
    inputNames: [...CSTR_INPUT_NAMES],
    outputNames: [...CSTR_OUTPUT_NAMES],
    initialStateCount: nInit,
    initialStates: init,
    inputGrid: { u1, u2 },
    recordInterval: o.dt * o.recordEvery,
  };
}

// ---------------------------------------------------------------------------------------------
// internals

interface ResolvedSimulation {
  dt: number;
  steps: number;
  recordEvery: number;
  integrator: CstrIntegrator;
  substeps: number;
  recordAlignment: CstrRecordAlignment;
  w1: number;
  w2: number;
}

const SCRATCH_END = new Float64Array(2);
const K = new Float64Array(2);

function finite(fn: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ValidationError(`${fn}: ${name} must be a finite number, got ${String(v)}`);
}

function checkPair(fn: string, name: string, p: readonly [number, number], n0: string, n1: string): void {
  if (p == null || typeof p !== 'object' || p.length !== 2)
    throw new ValidationError(`${fn}: ${name} must be a pair [${n0}, ${n1}]`);
  finite(fn, `${name}[0] (${n0})`, p[0]);
  finite(fn, `${name}[1] (${n1})`, p[1]);
}

function checkDt(fn: string, dt: number): void {
  if (typeof dt !== 'number' || !Number.isFinite(dt) || dt <= 0)
    throw new ValidationError(`${fn}: dt must be a finite number > 0 (h), got ${dt}`);
}

function positiveInt(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new ValidationError(`${fn}: ${name} must be an integer >= 1, got ${v}`);
}

function resolveSimulation(fn: string, o: CstrSimulationOptions): ResolvedSimulation {
  if (o == null || typeof o !== 'object') throw new ValidationError(`${fn}: options must be an object`);
  const dt = o.dt ?? CSTR_EULER_STEP;
  checkDt(fn, dt);
  const steps = o.steps ?? 50;
  positiveInt(fn, 'steps', steps);
  const recordEvery = o.recordEvery ?? 5;
  positiveInt(fn, 'recordEvery', recordEvery);
  if (recordEvery > steps)
    throw new ValidationError(`${fn}: recordEvery (${recordEvery}) must not exceed steps (${steps})`);
  const substeps = o.substeps ?? 1;
  positiveInt(fn, 'substeps', substeps);
  const integrator = o.integrator ?? 'euler';
  if (integrator !== 'euler' && integrator !== 'rk4')
    throw new ValidationError(`${fn}: integrator must be 'euler' or 'rk4', got ${String(integrator)}`);
  const recordAlignment = o.recordAlignment ?? 'end';
  if (recordAlignment !== 'end' && recordAlignment !== 'reference')
    throw new ValidationError(`${fn}: recordAlignment must be 'end' or 'reference', got ${String(recordAlignment)}`);
  let w1 = 0;
  let w2 = 0;
  if (o.noise !== undefined) {
    if (o.noise === null || typeof o.noise !== 'object') throw new ValidationError(`${fn}: noise must be {x1, x2}`);
    finite(fn, 'noise.x1', o.noise.x1);
    finite(fn, 'noise.x2', o.noise.x2);
    w1 = o.noise.x1;
    w2 = o.noise.x2;
  }
  return { dt, steps, recordEvery, integrator, substeps, recordAlignment, w1, w2 };
}

function recordCount(steps: number, every: number, alignment: CstrRecordAlignment): number {
  return alignment === 'end' ? Math.floor(steps / every) : Math.ceil(steps / every);
}

/** Absolute-variable rates written to out[0] (dCA/dt), out[1] (dT/dt), in the reference's order. */
function rates(ca: number, t: number, ca0: number, q: number, w1: number, w2: number, out: Float64Array): void {
  const r = Math.exp(NEG_E / (P.R * t));
  const ca2 = ca * ca;
  out[0] = FV * (ca0 - ca) - P.k0 * r * ca2 + w1;
  out[1] = FV * (P.T0 - t) - HEAT * r * ca2 + q / RHO_CP_V + w2;
}

/**
 * The CSTR ODE in deviation variables, state `x = (x1, x2)`, input `u = (u1, u2)`: the rates into
 * `f` (the same expressions and evaluation order as {@link cstrDerivative}, unchecked, for hot
 * loops) and, when given, the exact Jacobians `fx = df/dx` and `fu = df/du` (row-major 2 x 2).
 */
export function cstrRatesWithJacobians(x: ArrayLike<number>, u: ArrayLike<number>, f: Float64Array, fx: Float64Array | null, fu: Float64Array | null): void {
  const ca = x[0] + P.CAs, t = x[1] + P.Ts, ca0 = u[0] + P.CA0s, q = u[1] + P.Qs;
  rates(ca, t, ca0, q, 0, 0, f);
  if (fx) {
    const r = Math.exp(NEG_E / (P.R * t)), ca2 = ca * ca;
    const drdt = (r * (P.E / P.R)) / (t * t);
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
}

/**
 * Integrate in absolute variables; record deviation states into out1[base + i*stride + off1] and
 * out2[base + i*stride + off2] (i = record index) when the arrays are given; end state into `end`.
 */
function integrate(
  fn: string,
  x1: number,
  x2: number,
  u1: number,
  u2: number,
  o: ResolvedSimulation,
  out1: Float64Array | null,
  out2: Float64Array | null,
  times: Float64Array | null,
  base: number,
  stride: number,
  end: Float64Array,
  off1 = 0,
  off2 = 0,
): void {
  let ca = x1 + P.CAs;
  let t = x2 + P.Ts;
  const ca0 = u1 + P.CA0s;
  const q = u2 + P.Qs;
  const { w1, w2, substeps, steps, recordEvery } = o;
  const h = o.dt / substeps;
  const rk4 = o.integrator === 'rk4';
  const phase = o.recordAlignment === 'end' ? recordEvery - 1 : 0;
  let rec = 0;
  for (let i = 0; i < steps; i++) {
    for (let s = 0; s < substeps; s++) {
      if (!rk4) {
        rates(ca, t, ca0, q, w1, w2, K);
        t += K[1] * h;
        ca += K[0] * h;
      } else {
        rates(ca, t, ca0, q, w1, w2, K);
        const a1 = K[0], b1 = K[1];
        rates(ca + 0.5 * h * a1, t + 0.5 * h * b1, ca0, q, w1, w2, K);
        const a2 = K[0], b2 = K[1];
        rates(ca + 0.5 * h * a2, t + 0.5 * h * b2, ca0, q, w1, w2, K);
        const a3 = K[0], b3 = K[1];
        rates(ca + h * a3, t + h * b3, ca0, q, w1, w2, K);
        ca += (h / 6) * (a1 + 2 * a2 + 2 * a3 + K[0]);
        t += (h / 6) * (b1 + 2 * b2 + 2 * b3 + K[1]);
      }
    }
    if (!Number.isFinite(ca) || !Number.isFinite(t))
      throw new ValidationError(
        `${fn}: simulation diverged (non-finite state) at step ${i + 1} of ${steps}; reduce dt or start closer to the steady state`,
      );
    if (i % recordEvery === phase) {
      if (out1 !== null && out2 !== null) {
        const at = base + rec * stride;
        out1[at + off1] = ca - P.CAs;
        out2[at + off2] = t - P.Ts;
      }
      if (times !== null) times[rec] = (i + 1) * o.dt;
      rec++;
    }
  }
  end[0] = ca - P.CAs;
  end[1] = t - P.Ts;
}

/** numpy.linspace(start, stop, num) with endpoint: start + i * step, last value exactly stop. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}
