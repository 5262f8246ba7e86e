/**
 * MPC runs for the report: a recorded CSTR closed loop as a {@link MpcRun}, and the closed loops of
 * a list of trained CSTR models (the sweep report's MPC section). Pure (no Node APIs).
 */
import { CSTR_LMPC, createCstrLmpc, createSafeCstrLmpc, runCstrClosedLoop, type CstrClosedLoopResult, type CstrSafetyMode } from '../apps/cstr-lmpc.ts';
import type { ScaledModel } from '../train/pipeline.ts';
import type { MpcRun } from './html.ts';

/** The report's view of a CSTR closed-loop run (states, inputs with bounds, V on the true trajectory, solve times). */
export function mpcRunFromResult(label: string, r: CstrClosedLoopResult): MpcRun {
  return {
    label,
    t: r.t,
    x1: r.x.map((x) => x[0]),
    x2: r.x.map((x) => x[1]),
    u1: r.u.map((u) => u[0]),
    u2: r.u.map((u) => u[1]),
    V: r.lyapunov.V,
    level: r.lyapunov.level,
    solveSeconds: r.solveSeconds,
    inputBounds: { u1: [CSTR_LMPC.lower[0], CSTR_LMPC.upper[0]], u2: [CSTR_LMPC.lower[1], CSTR_LMPC.upper[1]] },
  };
}

/**
 * Closed loops of trained CSTR models (and the first-principles LMPC for comparison) from `x0`
 * (default (1.5, -70)) with the given safety mode (default 'tightened'). A model whose controller
 * cannot be built or run is reported in `errors` instead.
 */
export function cstrMpcRuns(
  models: readonly { label: string; model: ScaledModel }[],
  options: { x0?: readonly [number, number]; safety?: CstrSafetyMode; firstPrinciples?: boolean } = {},
): { runs: MpcRun[]; errors: string[] } {
  const x0 = options.x0 ?? [CSTR_LMPC.initialStates[0][0], CSTR_LMPC.initialStates[0][1]];
  const runs: MpcRun[] = [];
  const errors: string[] = [];
  const safety = options.safety ?? 'tightened';
  for (const m of models) {
    try {
      const made = createSafeCstrLmpc(m.model, { safety });
      runs.push(mpcRunFromResult(`${m.label} ${safety}`, runCstrClosedLoop(made.controller, x0)));
    } catch (e) {
      errors.push(`MPC with ${m.label} skipped: ${(e as Error).message}`);
    }
  }
  if (options.firstPrinciples ?? true) runs.push(mpcRunFromResult('first-principles LMPC', runCstrClosedLoop(createCstrLmpc('first-principles'), x0)));
  return { runs, errors };
}
