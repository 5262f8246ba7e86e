/**
 * Closed-loop simulation: a plant (the "true" process, integrated accurately, with optional bounded
 * seeded process noise) driven by a controller (e.g. an {@link Mpc}), recording states, inputs,
 * solve times and solver statuses.
 *
 * Browser-safe: no Node APIs.
 */
import { Rng } from '../core/rng.ts';
import { ValidationError } from '../core/errors.ts';

/** The process being controlled. */
export interface Plant {
  readonly stateSize: number;
  readonly inputSize: number;
  /** Sampling period (time units of the plant), for the time axis. */
  readonly period: number;
  /**
   * Advances one sampling period from `x` under `u` (held) and writes the next state into `out`.
   * `disturbance` (length stateSize, or null) is the process noise drawn for this period; its
   * meaning is the plant's (the CSTR adds it to the state derivative).
   */
  step(x: Float64Array, u: Float64Array, disturbance: Float64Array | null, out: Float64Array): void;
}

/** What a controller reports for one step ({@link MpcSolution} satisfies it). */
export interface ControlStep {
  /** The input to apply (length inputSize). */
  input: ArrayLike<number>;
  status?: string;
  iterations?: number;
  evaluations?: number;
  kktResidual?: number;
  fallback?: string;
  message?: string | null;
}

/** A feedback law ({@link Mpc} satisfies it). */
export interface Controller {
  /** Computes the input for the current state. */
  solve(state: Float64Array): ControlStep;
  /** Forgets any memory (warm starts) before a new run. Optional. */
  reset?(): void;
  /** Bounds the applied input is checked (and, if ever needed, clipped) against. Optional. */
  readonly inputBounds?: { lower: ArrayLike<number>; upper: ArrayLike<number> };
}

/** Options of {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Initial state. */
  x0: ArrayLike<number>;
  /** Maximum number of control steps (default 20). */
  maxSteps?: number;
  /** Target region: the run stops (converged) when the state satisfies it. Default: never. */
  target?: (x: Float64Array) => boolean;
  /**
   * Bounded process noise: per sampling period, disturbance_i ~ Uniform(-bounds_i, bounds_i), from a
   * seeded generator (same seed, same noise). Omitted: none.
   */
  noise?: { bounds: ArrayLike<number>; seed?: number } | null;
  /** Called after every step (e.g. progress). */
  onStep?: (info: { step: number; state: Float64Array; input: Float64Array; seconds: number; status: string }) => void;
}

/** Recorded closed-loop run. Times in the plant's units, wall-clock times in seconds. */
export interface ClosedLoopResult {
  /** Time of every recorded state (steps + 1 entries). */
  t: number[];
  /** States, steps + 1 of them (the initial state first). */
  x: number[][];
  /** Applied inputs, one per step. */
  u: number[][];
  /** Disturbances drawn per step (empty arrays without noise). */
  disturbances: number[][];
  /** Wall-clock seconds of each controller call. */
  solveSeconds: number[];
  /** Solver status of each step ('unknown' when the controller does not report one). */
  statuses: string[];
  /** Solver iterations per step (0 when not reported). */
  iterations: number[];
  /** Model evaluations per step (0 when not reported). */
  evaluations: number[];
  /** KKT residual per step (NaN when not reported). */
  kktResiduals: number[];
  /** Fallback rule per step ('none' when not reported). */
  fallbacks: string[];
  /** Whether the target was reached. */
  converged: boolean;
  /** Control steps applied (the number of steps to reach the target when converged). */
  steps: number;
  /** Last state. */
  finalState: number[];
  /** Inputs the controller returned outside its bounds (clipped before reaching the plant). Should be 0. */
  boundViolations: number;
}

/** Summary statistics of a run's solve times and statuses. */
export interface ClosedLoopSummary {
  converged: boolean;
  steps: number;
  finalState: number[];
  solveSeconds: { median: number; mean: number; max: number };
  iterations: { median: number; mean: number; max: number };
  solverStatus: Record<string, number>;
  fallbacks: number;
  boundViolations: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs `plant` under `controller` from `options.x0`: at each step, stop if the state is in the target,
 * else ask the controller for an input (timed), check it against the bounds, draw the noise and advance
 * the plant one period. Stops at the target or after `maxSteps` steps.
 * @throws ValidationError on a bad x0, maxSteps or noise; whatever the controller or plant throws
 *
 * @example
 * ```ts
 * import { closedLoop, createCstrLmpc, cstrPlant } from 'iclrnn/control';
 * const run = closedLoop(cstrPlant(), createCstrLmpc('first-principles'), { x0: [1.5, -70], maxSteps: 30 });
 * console.log(run.x.length, summarizeClosedLoop(run).solveSeconds.median);
 * ```
 */
export function closedLoop(plant: Plant, controller: Controller, options: ClosedLoopOptions): ClosedLoopResult {
  const nx = plant.stateSize, nu = plant.inputSize;
  const x0 = options.x0;
  if (!x0 || x0.length !== nx) throw new ValidationError(`closedLoop: x0 must have ${nx} entries`);
  for (let i = 0; i < nx; i++) if (!Number.isFinite(x0[i])) throw new ValidationError(`closedLoop: x0[${i}] is not finite`);
  const maxSteps = options.maxSteps ?? 20;
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new ValidationError(`closedLoop: maxSteps must be a non-negative integer, got ${maxSteps}`);
  let noiseBounds: Float64Array | null = null;
  let rng: Rng | null = null;
  if (options.noise) {
    const b = options.noise.bounds;
    if (!b || b.length !== nx) throw new ValidationError(`closedLoop: noise.bounds must have ${nx} entries`);
    noiseBounds = Float64Array.from(b);
    for (let i = 0; i < nx; i++) if (!(noiseBounds[i] >= 0) || !Number.isFinite(noiseBounds[i])) throw new ValidationError('closedLoop: noise bounds must be finite and >= 0');
    rng = new Rng(options.noise.seed ?? 0);
  }
  const bounds = controller.inputBounds;
  controller.reset?.();
  const x = Float64Array.from(x0);
  const next = new Float64Array(nx);
  const u = new Float64Array(nu);
  const w = new Float64Array(nx);
  const res: ClosedLoopResult = {
    t: [0], x: [Array.from(x)], u: [], disturbances: [], solveSeconds: [], statuses: [], iterations: [], evaluations: [],
    kktResiduals: [], fallbacks: [], converged: false, steps: 0, finalState: Array.from(x), boundViolations: 0,
  };
  const target = options.target;
  for (let step = 0; ; step++) {
    if (target && target(x)) {
      res.converged = true;
      break;
    }
    if (step >= maxSteps) break;
    const t0 = now();
    const s = controller.solve(x);
    const seconds = (now() - t0) / 1000;
    if (!s || !s.input || s.input.length !== nu) throw new RangeError(`closedLoop: the controller returned an input of the wrong length (expected ${nu})`);
    for (let j = 0; j < nu; j++) {
      let v = s.input[j];
      if (!Number.isFinite(v)) throw new RangeError(`closedLoop: the controller returned a non-finite input at step ${step}`);
      if (bounds && (v < bounds.lower[j] || v > bounds.upper[j])) {
        res.boundViolations++;
        v = Math.min(bounds.upper[j], Math.max(bounds.lower[j], v));
      }
      u[j] = v;
    }
    if (noiseBounds && rng) for (let i = 0; i < nx; i++) w[i] = noiseBounds[i] * (2 * rng.uniform() - 1);
    plant.step(x, u, noiseBounds ? w : null, next);
    for (let i = 0; i < nx; i++) {
      if (!Number.isFinite(next[i])) throw new RangeError(`closedLoop: the plant state became non-finite at step ${step + 1}`);
      x[i] = next[i];
    }
    const status = s.status ?? 'unknown';
    res.u.push(Array.from(u));
    res.disturbances.push(noiseBounds ? Array.from(w) : []);
    res.x.push(Array.from(x));
    res.t.push((step + 1) * plant.period);
    res.solveSeconds.push(seconds);
    res.statuses.push(status);
    res.iterations.push(s.iterations ?? 0);
    res.evaluations.push(s.evaluations ?? 0);
    res.kktResiduals.push(s.kktResidual ?? NaN);
    res.fallbacks.push(s.fallback ?? 'none');
    res.steps = step + 1;
    options.onStep?.({ step: step + 1, state: x, input: u, seconds, status });
  }
  res.finalState = Array.from(x);
  return res;
}

function stats(xs: number[]): { median: number; mean: number; max: number } {
  if (xs.length === 0) return { median: NaN, mean: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return {
    median: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2,
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    max: s[s.length - 1],
  };
}

/**
 * Median / mean / max solve seconds and iterations, status counts.
 *
 * @example
 * ```ts
 * const s = summarizeClosedLoop(run);
 * console.log(s.converged, s.steps, s.solveSeconds.median);
 * ```
 */
export function summarizeClosedLoop(r: ClosedLoopResult): ClosedLoopSummary {
  const solverStatus: Record<string, number> = {};
  for (const s of r.statuses) solverStatus[s] = (solverStatus[s] ?? 0) + 1;
  return {
    converged: r.converged,
    steps: r.steps,
    finalState: r.finalState,
    solveSeconds: stats(r.solveSeconds),
    iterations: stats(r.iterations),
    solverStatus,
    fallbacks: r.fallbacks.filter((f) => f !== 'none').length,
    boundViolations: r.boundViolations,
  };
}
