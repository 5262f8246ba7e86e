/**
 * `iclrnn mpc`: closed-loop Lyapunov MPC of the CSTR with a trained model or the first-principles
 * ODE as the predictor; and the demo's MPC stage (closed loop of its trained ICLRNN from (1.5, -70)).
 */
import type { Command } from 'commander';
import { summarizeClosedLoop, type Controller } from '../../control/closed-loop.ts';
import {
  CSTR_LMPC, CSTR_SAFETY_MODES, createCstrLmpc, createSafeCstrLmpc, runCstrClosedLoop, type CstrClosedLoopResult, type CstrSafetyMode, type SafeCstrLmpc,
} from '../../apps/cstr-lmpc.ts';
import { SafeLmpcController, type SafeFallback } from '../../control/robust.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { loadModel } from '../../io/model-file.ts';
import { checkOutputPath } from '../../io/output-path.ts';
import { renderReport } from '../../report/html.ts';
import { mpcRunFromResult } from '../../report/mpc-runs.ts';
import { emit, fmt, nonNegativeInt, numberList, numberOption, positiveInt, UsageError } from '../util.ts';
import type { DemoContext } from './demo.ts';

interface MpcFlags {
  system: string;
  model?: string;
  x0: string;
  horizon?: string;
  steps?: string;
  noise?: string;
  seed?: string;
  rateLimit?: string;
  lyapunov: boolean;
  maxIterations?: string;
  tolerance?: string;
  warmup: boolean;
  safety?: string;
  errorBound?: string;
  fallback?: string;
  report?: string;
  json?: boolean;
}

/** Safety fields of the JSON: V along the true trajectory against the stability level, and what the safe controller did. */
function safetyJson(r: CstrClosedLoopResult, made: SafeCstrLmpc | null): Record<string, unknown> {
  const c = made?.controller;
  return {
    V: r.lyapunov.V,
    maxV: r.lyapunov.maxV,
    stabilityLevel: r.lyapunov.level,
    stepsOutside: r.lyapunov.stepsOutside,
    leftStabilityRegion: r.lyapunov.exited,
    safety: made ? made.safety : 'nominal',
    errorBound: made ? made.errorBound : 0,
    levelFloor: made ? made.levelFloor : 0,
    errorEstimate: made?.estimate ? { maxObserved: made.estimate.maxObserved, inflation: made.estimate.inflation, p99: made.estimate.p99, componentMax: made.estimate.componentMax, samples: made.estimate.samples } : null,
    safetyStats: c instanceof SafeLmpcController ? c.stats : null,
  };
}

/** The JSON the `mpc` command prints (and the demo stage records). */
function report(r: CstrClosedLoopResult, extra: Record<string, unknown>, made: SafeCstrLmpc | null = null): Record<string, unknown> {
  const s = summarizeClosedLoop(r);
  return {
    ...extra,
    ...safetyJson(r, made),
    converged: s.converged,
    steps: s.steps,
    finalState: s.finalState,
    solveSeconds: s.solveSeconds,
    iterations: s.iterations,
    solverStatus: s.solverStatus,
    fallbacks: s.fallbacks,
    boundViolations: s.boundViolations,
    t: r.t,
    x: r.x,
    u: r.u,
    stepSeconds: r.solveSeconds,
    stepStatus: r.statuses,
    stepIterations: r.iterations,
    stepKktResidual: r.kktResiduals,
    stepFallback: r.fallbacks,
  };
}

const ms = (s: number) => `${fmt(s * 1e3, 3)} ms`;

/**
 * Untimed solves from x0 (up to 30, or 150 ms) so that the reported timings show the steady state
 * rather than the JIT compiling the solver and the model on the first calls.
 */
function warmUp(controller: Controller, x0: number[]): void {
  const t0 = Date.now();
  const x = Float64Array.from(x0);
  for (let i = 0; i < 30 && Date.now() - t0 < 150; i++) {
    controller.reset?.();
    controller.solve(x);
  }
  controller.reset?.();
}

function humanReport(r: CstrClosedLoopResult, title: string, made: SafeCstrLmpc | null): string {
  const s = summarizeClosedLoop(r);
  const [f1, f2] = s.finalState;
  const L = r.lyapunov;
  const c = made?.controller;
  const lines = [
    `${title}: ${s.converged ? `reached the target |x1| < ${CSTR_LMPC.target.x1}, |x2| < ${CSTR_LMPC.target.x2} in ${s.steps} steps` : `did not reach the target in ${s.steps} steps`}; final (x1, x2) = (${fmt(f1, 4)}, ${fmt(f2, 4)})`,
    L.exited
      ? `  WARNING: the true state LEFT the stability region V < ${L.level}: max V ${fmt(L.maxV, 4)}, V >= ${L.level} at step${L.stepsOutside.length === 1 ? '' : 's'} ${L.stepsOutside.join(', ')}`
      : `  V on the true trajectory stayed below the stability level ${L.level}: max V ${fmt(L.maxV, 4)} (V0 ${fmt(L.V[0], 4)}; ${L.rises} step${L.rises === 1 ? '' : 's'} where V rose)`,
    made && made.safety !== 'nominal'
      ? `  safety: ${made.safety}${made.safety === 'tightened' ? ` (model error bound eta ${fmt(made.errorBound, 3)} in the P-norm${made.estimate ? `, ${made.estimate.inflation} x the largest of ${made.estimate.samples} grid errors` : ''}; level floor ${fmt(made.levelFloor, 3)})` : ''}` +
        (c instanceof SafeLmpcController ? `; fallback steps ${c.stats.fallbacks.backup + c.stats.fallbacks.previous + c.stats.fallbacks['min-violation']}, model-error bound violations seen ${c.stats.assumptionViolations}` : '')
      : `  safety: nominal (the Lyapunov constraint holds for the predictor's prediction only)`,
    `  solve time per step: median ${ms(s.solveSeconds.median)}, mean ${ms(s.solveSeconds.mean)}, max ${ms(s.solveSeconds.max)}; SQP iterations median ${fmt(s.iterations.median)}, max ${fmt(s.iterations.max)}`,
    `  solver status: ${Object.entries(s.solverStatus).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}${s.fallbacks ? ` (${s.fallbacks} steps used a fallback input)` : ''}`,
    `  step   t (h)      x1        x2        u1        u2          V         status          ms`,
  ];
  for (let k = 0; k < r.steps; k++) {
    const v = L.V[k + 1];
    lines.push(
      `  ${String(k + 1).padStart(4)}  ${r.t[k + 1].toFixed(3).padStart(6)}  ${fmt(r.x[k + 1][0], 3).padStart(8)}  ${fmt(r.x[k + 1][1], 3).padStart(8)}  ${fmt(r.u[k][0], 3).padStart(8)}  ${fmt(r.u[k][1], 3).padStart(9)}  ${fmt(v, 4).padStart(9)}${v >= L.level ? '!' : ' '}  ${r.statuses[k].padStart(14)}  ${fmt(r.solveSeconds[k] * 1e3, 3).padStart(7)}`,
    );
  }
  if (L.exited) lines.push(`  (! marks V >= ${L.level}: outside the stability region)`);
  return lines.join('\n');
}

async function mpcCommand(f: MpcFlags): Promise<void> {
  if (f.system !== 'cstr') throw new UsageError(`mpc supports --system cstr only, got '${f.system}'`);
  if (f.report) checkOutputPath(f.report, { flag: '--report', kind: 'report', forceFlag: null });
  if (!f.model) throw new UsageError("--model MODEL.json or --model first-principles is required");
  const x0 = numberList('--x0', f.x0, 2);
  const horizon = numberOption('--horizon', f.horizon, CSTR_LMPC.horizon, (x) => positiveInt(x) && x <= 50, 'an integer in 1..50');
  const maxSteps = numberOption('--steps', f.steps, CSTR_LMPC.maxSteps, (x) => Number.isInteger(x) && x > 0, 'a positive integer (closed-loop steps)');
  const seed = numberOption('--seed', f.seed, 0, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  let noise: [number, number] | null = null;
  if (f.noise !== undefined) {
    const b = numberList('--noise', f.noise, 2);
    if (b.some((v) => v < 0)) throw new UsageError(`--noise bounds must be >= 0, got '${f.noise}'`);
    noise = [b[0], b[1]];
  }
  let rateLimits: [number, number] | null = null;
  if (f.rateLimit !== undefined) {
    const b = numberList('--rate-limit', f.rateLimit, 2);
    if (b.some((v) => !(v > 0))) throw new UsageError(`--rate-limit values must be > 0, got '${f.rateLimit}'`);
    rateLimits = [b[0], b[1]];
  }
  const maxIterations = numberOption('--max-iterations', f.maxIterations, 100, positiveInt, 'a positive integer');
  const tolerance = numberOption('--tolerance', f.tolerance, 1e-6, (x) => x > 0, 'a positive number');
  const safetyFlag = f.safety ?? (f.model === 'first-principles' || !f.lyapunov ? 'nominal' : 'tightened');
  if (!CSTR_SAFETY_MODES.includes(safetyFlag as CstrSafetyMode)) throw new UsageError(`--safety must be one of ${CSTR_SAFETY_MODES.join(', ')}, got '${safetyFlag}'`);
  const safety = safetyFlag as CstrSafetyMode;
  if (!f.lyapunov && safety !== 'nominal') throw new UsageError(`--safety ${safety} needs the Lyapunov constraint (drop --no-lyapunov)`);
  const errorBound = f.errorBound === undefined ? undefined : numberOption('--error-bound', f.errorBound, 0, (x) => x >= 0, 'a number >= 0');
  if (errorBound !== undefined && safety !== 'tightened') throw new UsageError(`--error-bound applies to --safety tightened only`);
  const fallbacks: SafeFallback[] = ['backup', 'previous', 'min-violation'];
  if (f.fallback !== undefined && !fallbacks.includes(f.fallback as SafeFallback)) throw new UsageError(`--fallback must be one of ${fallbacks.join(', ')}, got '${f.fallback}'`);
  if (f.fallback !== undefined && safety !== 'tightened' && safety !== 'monitor') throw new UsageError(`--fallback applies to --safety tightened or monitor only`);
  const options = { horizon, rateLimits, lyapunov: f.lyapunov, solver: { maxIterations, tolerance }, safety, errorBound, fallback: f.fallback as SafeFallback | undefined };
  let made: SafeCstrLmpc;
  let modelKind = 'first-principles';
  if (f.model === 'first-principles') {
    made = createSafeCstrLmpc('first-principles', options);
  } else {
    const stored = loadModel(f.model);
    if (stored.metadata.system !== undefined && stored.metadata.system !== 'cstr')
      throw new UsageError(`${f.model} was trained on '${stored.metadata.system}', not the CSTR`);
    modelKind = stored.model.spec.kind;
    made = createSafeCstrLmpc(stored, options);
  }
  const mpc = made.mpc;
  if (f.warmup) warmUp(made.controller, x0);
  const r = runCstrClosedLoop(made.controller, x0, { maxSteps, noise, seed });
  const title = `mpc cstr (${mpc.predictor.name}, horizon ${horizon}, safety ${made.safety}) from (${x0[0]}, ${x0[1]})`;
  if (f.report) {
    const html = renderReport({
      title: 'iclrnn mpc: CSTR closed loop',
      subtitle: title,
      system: 'cstr',
      generatedAt: new Date().toISOString(),
      config: { model: f.model, predictor: mpc.predictor.name, horizon, x0, maxSteps, noise, seed, safety: made.safety, errorBound: made.errorBound, levelFloor: made.levelFloor },
      showPublished: false,
      mpcRuns: [mpcRunFromResult(`${mpc.predictor.name} (${made.safety})`, r)],
      requireSections: ['mpc'],
    });
    writeFileAtomic(f.report, html);
  }
  const j = report(r, {
    system: 'cstr',
    model: f.model,
    predictor: mpc.predictor.name,
    modelKind,
    horizon,
    x0,
    maxSteps,
    noise,
    seed,
    rateLimits,
    lyapunov: f.lyapunov,
    derivatives: mpc.derivatives,
    hessian: mpc.hessian,
    warmup: f.warmup,
    report: f.report ?? null,
  }, made);
  emit(!!f.json, j, () => humanReport(r, title, made) + (f.report ? `\n  report written to ${f.report}` : ''));
}

/** Registers `iclrnn mpc` (listed in commands/index.ts, loaded when it runs). */
export function registerMpc(program: Command): void {
  program
    .command('mpc')
    .description('closed-loop Lyapunov MPC of the CSTR with a trained model or the first-principles ODE as predictor')
    .option('--system <name>', 'system (cstr)', 'cstr')
    .option('--model <file>', "model file, or 'first-principles'")
    .option('--x0 <x1,x2>', 'initial deviation state', '1.5,-70')
    .option('--horizon <n>', 'prediction horizon in sampling periods', String(CSTR_LMPC.horizon))
    .option('--steps <n>', 'maximum closed-loop steps', String(CSTR_LMPC.maxSteps))
    .option('--noise <w1,w2>', 'bounds of uniform process noise on dx1/dt (kmol/m3/h) and dx2/dt (K/h), drawn per period')
    .option('--seed <n>', 'seed of the process noise', '0')
    .option('--rate-limit <d1,d2>', 'max change of u1 and u2 per period')
    .option('--no-lyapunov', 'drop the Lyapunov constraint')
    .option('--max-iterations <n>', 'SQP iteration limit per step', '100')
    .option('--tolerance <x>', 'SQP tolerance (normalised KKT residual)', '1e-6')
    .option('--no-warmup', 'skip the untimed warm-up solve (JIT) before the closed loop')
    .option('--safety <mode>', `safety on the real plant with a learned model: ${CSTR_SAFETY_MODES.join(', ')} (default: tightened for a model, nominal for first-principles)`)
    .option('--error-bound <eta>', 'model error bound (P-norm) for --safety tightened (default: estimated on a grid of the region)')
    .option('--fallback <kind>', 'input when the safe solve is infeasible: backup (first-principles LMPC), previous, min-violation (default backup)')
    .option('--report <file>', 'also write an HTML report of the closed loop')
    .option('--json', 'print JSON')
    .action(mpcCommand);
}

/** The demo's closed loop: the safe LMPC with the trained ICLRNN from the first published state. */
export async function mpcDemoStage(ctx: DemoContext): Promise<void> {
  const x0: [number, number] = [CSTR_LMPC.initialStates[0][0], CSTR_LMPC.initialStates[0][1]];
  try {
    const made = createSafeCstrLmpc(ctx.result);
    const mpc = made.mpc;
    warmUp(made.controller, x0);
    const r = runCstrClosedLoop(made.controller, x0);
    const s = summarizeClosedLoop(r);
    const fpMpc = createCstrLmpc('first-principles');
    warmUp(fpMpc, x0);
    const fp = runCstrClosedLoop(fpMpc, x0);
    ctx.summary.mpc = {
      x0,
      horizon: CSTR_LMPC.horizon,
      predictor: mpc.predictor.name,
      derivatives: mpc.derivatives,
      hessian: mpc.hessian,
      ...safetyJson(r, made),
      converged: s.converged,
      steps: s.steps,
      finalState: s.finalState,
      solveSeconds: s.solveSeconds,
      iterations: s.iterations,
      solverStatus: s.solverStatus,
      fallbacks: s.fallbacks,
      boundViolations: s.boundViolations,
      firstPrinciples: { converged: fp.converged, steps: fp.steps, finalState: fp.finalState, maxV: fp.lyapunov.maxV, leftStabilityRegion: fp.lyapunov.exited },
      // the closed loops as the report draws them (the report stage reads summary.mpc.runs)
      runs: [mpcRunFromResult(`ICLRNN LMPC (${made.safety})`, r), mpcRunFromResult('first-principles LMPC', fp)],
    };
    ctx.lines.push(
      `  LMPC with the ICLRNN from (${x0[0]}, ${x0[1]}), safety ${made.safety}: ${s.converged ? `target reached in ${s.steps} steps` : `target not reached in ${s.steps} steps`} (first-principles MPC: ${fp.converged ? `${fp.steps} steps` : 'not reached'}); ` +
        `max V on the plant ${fmt(r.lyapunov.maxV, 4)} ${r.lyapunov.exited ? `LEFT the stability region V < ${r.lyapunov.level}` : `(< ${r.lyapunov.level})`}; ` +
        `solve time median ${ms(s.solveSeconds.median)}, max ${ms(s.solveSeconds.max)} per step (reference: 72 s)`,
    );
  } catch (e) {
    ctx.summary.mpc = { x0, error: (e as Error).message };
    ctx.lines.push(`  LMPC with the ICLRNN from (${x0[0]}, ${x0[1]}) failed: ${(e as Error).message}`);
  }
}
