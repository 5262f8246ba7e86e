/**
 * Data for the CSTR phase portraits: true trajectories of the plant against a model's chained
 * one-period predictions in the (x1, x2) plane, and the boundary of the stability region.
 * Pure computation (no Node APIs).
 */
import {
  CSTR_LYAPUNOV_P,
  CSTR_STABILITY_LEVEL,
  simulateCstr,
} from '../systems/cstr.ts';
import { predictPhysical, type ScaledModel } from '../train/pipeline.ts';
import { ValidationError } from '../core/errors.ts';

/** One initial state's true and predicted trajectories (deviation variables; x0 first). */
export interface PhaseTrajectory {
  x0: [number, number];
  trueX1: number[];
  trueX2: number[];
  predX1: number[];
  predX2: number[];
}

/** All trajectories under one constant input `u = [u1, u2]`. */
export interface PhasePanel {
  u: [number, number];
  trajectories: PhaseTrajectory[];
}

/** A labelled set of panels (e.g. one model). */
export interface PhasePortraitGroup {
  label: string;
  panels: PhasePanel[];
  note?: string;
}

export interface PhasePortraitOptions {
  /** Initial states `[x1, x2]` (default: 4 points on the level set V = 0.55 * 372). */
  initialStates?: [number, number][];
  /** Constant inputs `[u1, u2]` (default: (0, 0) and +-(3.5/3, 5e5/3)). */
  inputs?: [number, number][];
  /** Sampling periods to chain (default 8). */
  periods?: number;
  /** Model steps per period (default 10, the data set's). */
  steps?: number;
  /** Euler steps of 1e-4 h per period (default 50: one 0.005 h period). */
  eulerSteps?: number;
}

/**
 * Points on the ellipse `x^T P x = level` (P of the CSTR Lyapunov function), as `[x1[], x2[]]`,
 * closed (the first point repeated at the end).
 */
export function stabilityEllipse(level = CSTR_STABILITY_LEVEL, points = 181): { x1: number[]; x2: number[] } {
  const [[a, b], [, c]] = CSTR_LYAPUNOV_P;
  // P = L L^T (Cholesky); x = sqrt(level) L^{-T} z for unit z.
  const l11 = Math.sqrt(a), l21 = b / l11, l22 = Math.sqrt(c - l21 * l21);
  const r = Math.sqrt(level);
  const x1: number[] = [], x2: number[] = [];
  for (let i = 0; i < points; i++) {
    const th = (2 * Math.PI * i) / (points - 1);
    const z1 = Math.cos(th), z2 = Math.sin(th);
    const w2 = z2 / l22;
    const w1 = (z1 - l21 * w2) / l11;
    x1.push(r * w1);
    x2.push(r * w2);
  }
  return { x1, x2 };
}

/** Default initial states: four points on V = 0.55 * 372 (inside the stability region). */
export function defaultPhaseInitialStates(): [number, number][] {
  const e = stabilityEllipse(0.55 * CSTR_STABILITY_LEVEL, 9);
  // angles 0, 90, 180, 270 degrees of the whitened circle
  return [0, 2, 4, 6].map((i) => [Math.round(e.x1[i] * 1000) / 1000, Math.round(e.x2[i] * 10) / 10] as [number, number]);
}

/** Default constant inputs. */
export function defaultPhaseInputs(): [number, number][] {
  return [
    [0, 0],
    [3.5 / 3, 5e5 / 3],
    [-3.5 / 3, -5e5 / 3],
  ];
}

/**
 * True vs predicted CSTR trajectories. True: explicit Euler (the data set's integrator) from each
 * initial state under each constant input for `periods` sampling periods, recorded `steps` times a
 * period. Predicted: the model's `steps`-step prediction of one period from `[x2, x1, u2, u1]`
 * rows, chained: the last predicted state of a period is the next period's initial state.
 * A diverging plant or model truncates (true) or yields NaN (predicted), which the plots skip.
 */
export function cstrPhasePortraits(m: ScaledModel, options: PhasePortraitOptions = {}): PhasePanel[] {
  const states = options.initialStates ?? defaultPhaseInitialStates();
  const inputs = options.inputs ?? defaultPhaseInputs();
  const periods = options.periods ?? 8;
  const steps = options.steps ?? 10;
  const euler = options.eulerSteps ?? 50;
  if (!Number.isInteger(periods) || periods < 1) throw new ValidationError(`periods must be a positive integer, got ${periods}`);
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`steps must be a positive integer, got ${steps}`);
  if (!Number.isInteger(euler) || euler < steps || euler % steps !== 0)
    throw new ValidationError(`eulerSteps must be a positive multiple of steps, got ${euler}`);
  if (m.model.inputSize !== 4 || m.model.outputSize !== 2)
    throw new ValidationError(`phase portraits need a CSTR model (4 inputs [x2, x1, u2, u1], 2 outputs [x2, x1]); this one has ${m.model.inputSize} inputs and ${m.model.outputSize} outputs`);
  return inputs.map(([u1, u2]) => {
    const n = states.length;
    const trajectories: PhaseTrajectory[] = states.map(([a, b]) => ({ x0: [a, b], trueX1: [a], trueX2: [b], predX1: [a], predX2: [b] }));
    // true plant
    for (const tr of trajectories) {
      try {
        const sim = simulateCstr(tr.x0, [u1, u2], { steps: euler * periods, recordEvery: euler / steps });
        tr.trueX1.push(...sim.x1);
        tr.trueX2.push(...sim.x2);
      } catch {
        // diverged: keep the initial state only
      }
    }
    // chained model predictions, all initial states in one batch per period
    const cur = states.map(([a, b]) => [a, b]);
    const x = new Float64Array(n * steps * 4);
    for (let p = 0; p < periods; p++) {
      for (let k = 0; k < n; k++)
        for (let t = 0; t < steps; t++) {
          const r = (k * steps + t) * 4;
          x[r] = cur[k][1];
          x[r + 1] = cur[k][0];
          x[r + 2] = u2;
          x[r + 3] = u1;
        }
      let y: Float64Array;
      try {
        y = predictPhysical(m, x, n, steps);
      } catch {
        y = new Float64Array(n * steps * 2).fill(NaN);
      }
      for (let k = 0; k < n; k++) {
        for (let t = 0; t < steps; t++) {
          const r = (k * steps + t) * 2;
          trajectories[k].predX2.push(y[r]);
          trajectories[k].predX1.push(y[r + 1]);
        }
        const last = (k * steps + steps - 1) * 2;
        // a non-finite prediction stays non-finite (the plot skips it)
        cur[k] = [Number.isFinite(y[last + 1]) ? y[last + 1] : NaN, Number.isFinite(y[last]) ? y[last] : NaN];
      }
    }
    return { u: [u1, u2], trajectories };
  });
}
