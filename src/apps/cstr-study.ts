/**
 * Closed-loop safety study of the CSTR LMPC on the real plant: a grid of initial states inside the
 * stability region `V < 372` (plus the four {@link CSTR_SAFETY_STATES}), every predictor (the
 * first-principles ODE and trained models) under every safety mode, with and without bounded
 * process noise. Per configuration: the fraction of runs whose TRUE state stays inside `V < 372`,
 * the largest V, steps to the target, solve times, fallbacks. Runs keep their trajectories for the
 * report's phase-plane picture.
 *
 * Browser-safe: no Node APIs (callers time nothing here beyond the closed loop's own solve timer).
 */
import { CSTR_STABILITY_LEVEL } from '../systems/cstr.ts';
import type { ScaledModel } from '../nn/scaled-model.ts';
import type { Controller } from '../control/closed-loop.ts';
import {
  CSTR_LMPC, CSTR_SAFETY_STATES, createCstrLmpc, createSafeCstrLmpc, cstrRegionGrid, estimateCstrPredictionError, runCstrClosedLoop,
  type CstrErrorBoundOptions, type CstrSafetyMode,
} from './cstr-lmpc.ts';
import type { PredictionErrorEstimate } from '../control/robust.ts';

/** One predictor of the study. */
export interface StudyPredictor {
  /** Label, e.g. `iclrnn (200 epochs)`. */
  label: string;
  /** Model kind, or `first-principles`. */
  kind: string;
  source: ScaledModel | 'first-principles';
}

/** Options of {@link runCstrStudy}. */
export interface CstrStudyOptions {
  /** Initial states (x1, x2); default {@link cstrStudyStates}(). */
  states?: readonly (readonly [number, number])[];
  /** Safety modes for the learned predictors (default ['nominal', 'tightened']); the first-principles predictor runs 'nominal' only. */
  modes?: readonly CstrSafetyMode[];
  /** Process-noise bounds (w1, w2) for the noisy runs; null: noise-free runs only (default {@link CSTR_STUDY_NOISE}). */
  noise?: readonly [number, number] | null;
  /** Noise seed of the first run (run i uses seed + i). Default 0. */
  seed?: number;
  /** Maximum closed-loop steps (default 40). */
  maxSteps?: number;
  /** Options of the error-bound estimate of 'tightened'. */
  errorBound?: CstrErrorBoundOptions;
  /** Called after each run (progress). */
  onRun?: (done: number, total: number) => void;
}

/**
 * The documented process-noise level of the study: uniform bounded disturbances on (dx1/dt, dx2/dt)
 * of (2 kmol/(m3 h), 200 K/h) per sampling period, i.e. about (0.01 kmol/m3, 1 K) per period.
 */
export const CSTR_STUDY_NOISE: readonly [number, number] = Object.freeze([2, 200]) as readonly [number, number];

/**
 * Initial states of the study: a 16 x 16 grid over the bounding box of the region, keeping the
 * states with V < 0.95 x 372 and outside the target (60 states), then the four
 * {@link CSTR_SAFETY_STATES}: 64 states.
 */
export function cstrStudyStates(n = 16): [number, number][] {
  const grid = cstrRegionGrid(n, n, 0.95 * CSTR_STABILITY_LEVEL).filter((x) => !(Math.abs(x[0]) < CSTR_LMPC.target.x1 && Math.abs(x[1]) < CSTR_LMPC.target.x2));
  return [...grid, ...CSTR_SAFETY_STATES.map((x) => [x[0], x[1]] as [number, number])];
}

/** One closed-loop run of the study. */
export interface StudyRun {
  predictor: string;
  kind: string;
  safety: CstrSafetyMode;
  noisy: boolean;
  x0: [number, number];
  converged: boolean;
  steps: number;
  maxV: number;
  /** Whether the true state left V < 372. */
  exited: boolean;
  /** Steps whose input came from a fallback. */
  fallbacks: number;
  /** Solve seconds per step. */
  solveSeconds: number[];
  x1: number[];
  x2: number[];
}

/** One configuration (predictor x safety x noise) of the study. */
export interface StudyRow {
  predictor: string;
  kind: string;
  safety: CstrSafetyMode;
  noisy: boolean;
  runs: number;
  /** Fraction of runs whose true state stayed inside V < 372. */
  insideFraction: number;
  maxV: number;
  /** Fraction of runs that reached the target. */
  convergedFraction: number;
  /** Mean steps to the target over the converged runs (null when none). */
  meanSteps: number | null;
  /** Mean over the runs converged by both of (steps / first-principles steps from the same state and noise); null without a first-principles row. */
  stepsRatio: number | null;
  /** Worst steps ratio. */
  maxStepsRatio: number | null;
  /** Solve time per step over all runs, ms. */
  solveMs: { median: number; p95: number; max: number };
  /** Fraction of steps with a fallback input. */
  fallbackFraction: number;
  /** P-norm error bound (tightened only). */
  errorBound: number | null;
}

/** Result of {@link runCstrStudy}. */
export interface StudyResult {
  config: { states: number; modes: CstrSafetyMode[]; noise: [number, number] | null; maxSteps: number; level: number; seed: number };
  errorBounds: Record<string, PredictionErrorEstimate>;
  rows: StudyRow[];
  runs: StudyRun[];
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Runs the study: for every predictor and mode (first-principles: 'nominal'), from every state,
 * without noise and (when `noise` is set) with seeded bounded noise.
 */
export function runCstrStudy(predictors: readonly StudyPredictor[], o: CstrStudyOptions = {}): StudyResult {
  const states = o.states ?? cstrStudyStates();
  const modes = [...(o.modes ?? (['nominal', 'tightened'] as CstrSafetyMode[]))];
  const noise = o.noise === undefined ? CSTR_STUDY_NOISE : o.noise;
  const maxSteps = o.maxSteps ?? 40;
  const seed = o.seed ?? 0;
  const noiseCases: (readonly [number, number] | null)[] = noise ? [null, noise] : [null];
  const configs: { p: StudyPredictor; safety: CstrSafetyMode; controller: Controller; errorBound: number | null }[] = [];
  const errorBounds: Record<string, PredictionErrorEstimate> = {};
  for (const p of predictors) {
    if (p.source === 'first-principles') {
      configs.push({ p, safety: 'nominal', controller: createCstrLmpc('first-principles'), errorBound: null });
      continue;
    }
    for (const safety of modes) {
      let estimate: PredictionErrorEstimate | undefined;
      if (safety === 'tightened') {
        estimate = errorBounds[p.label] ??= estimateCstrPredictionError(p.source, { ...o.errorBound, noise: null });
      }
      const made = createSafeCstrLmpc(p.source, { safety, errorBound: estimate });
      configs.push({ p, safety, controller: made.controller, errorBound: safety === 'tightened' ? made.errorBound : null });
    }
  }
  const total = configs.length * noiseCases.length * states.length;
  const runs: StudyRun[] = [];
  const rows: StudyRow[] = [];
  let done = 0;
  // noise-free bounds are used for the noisy runs too: the noisy runs measure how much margin the
  // model-error bound leaves for disturbances it was not sized for
  for (const c of configs) {
    warm(c.controller, states[0]);
    for (const nz of noiseCases) {
      const mine: StudyRun[] = [];
      states.forEach((x0, i) => {
        const r = runCstrClosedLoop(c.controller, x0, { maxSteps, noise: nz ? [nz[0], nz[1]] : null, seed: seed + i });
        const run: StudyRun = {
          predictor: c.p.label, kind: c.p.kind, safety: c.safety, noisy: nz !== null, x0: [x0[0], x0[1]], converged: r.converged, steps: r.steps,
          maxV: r.lyapunov.maxV, exited: r.lyapunov.exited, fallbacks: r.fallbacks.filter((f) => f !== 'none').length, solveSeconds: r.solveSeconds,
          x1: r.x.map((x) => x[0]), x2: r.x.map((x) => x[1]),
        };
        mine.push(run);
        runs.push(run);
        o.onRun?.(++done, total);
      });
      const times = mine.flatMap((r) => r.solveSeconds.map((s) => s * 1e3)).sort((a, b) => a - b);
      const conv = mine.filter((r) => r.converged);
      const stepsTotal = mine.reduce((a, r) => a + r.steps, 0);
      rows.push({
        predictor: c.p.label, kind: c.p.kind, safety: c.safety, noisy: nz !== null, runs: mine.length,
        insideFraction: mine.filter((r) => !r.exited).length / mine.length,
        maxV: Math.max(...mine.map((r) => r.maxV)),
        convergedFraction: conv.length / mine.length,
        meanSteps: conv.length ? conv.reduce((a, r) => a + r.steps, 0) / conv.length : null,
        stepsRatio: null, maxStepsRatio: null,
        solveMs: { median: quantile(times, 0.5), p95: quantile(times, 0.95), max: times.length ? times[times.length - 1] : NaN },
        fallbackFraction: stepsTotal ? mine.reduce((a, r) => a + r.fallbacks, 0) / stepsTotal : 0,
        errorBound: c.errorBound,
      });
    }
  }
  // steps relative to the first-principles controller from the same state and noise
  const fp = predictors.find((p) => p.source === 'first-principles');
  if (fp) {
    const ref = new Map<string, number>();
    for (const r of runs) if (r.predictor === fp.label && r.converged) ref.set(`${r.noisy}|${r.x0}`, r.steps);
    for (const row of rows) {
      const ratios = runs
        .filter((r) => r.predictor === row.predictor && r.safety === row.safety && r.noisy === row.noisy && r.converged && ref.has(`${r.noisy}|${r.x0}`))
        .map((r) => r.steps / ref.get(`${r.noisy}|${r.x0}`)!);
      if (ratios.length) {
        row.stepsRatio = ratios.reduce((a, b) => a + b, 0) / ratios.length;
        row.maxStepsRatio = Math.max(...ratios);
      }
    }
  }
  return {
    config: { states: states.length, modes, noise: noise ? [noise[0], noise[1]] : null, maxSteps, level: CSTR_STABILITY_LEVEL, seed },
    errorBounds,
    rows,
    runs,
  };
}

/** A few untimed solves so the timings show the steady state, not the JIT. */
function warm(c: Controller, x0: readonly [number, number]): void {
  const x = Float64Array.from(x0);
  for (let i = 0; i < 5; i++) c.solve(x);
  c.reset?.();
}
