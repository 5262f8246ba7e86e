/**
 * `iclrnn mpc`: closed-loop Lyapunov MPC of the CSTR with a trained model or the first-principles
 * ODE as the predictor; and the demo's MPC stage (closed loop of its trained ICLRNN from (1.5, -70)).
 */
import type { Command } from 'commander';
import { summarizeClosedLoop, type ClosedLoopResult } from '../../control/closed-loop.ts';
import { CSTR_LMPC, createCstrLmpc, runCstrClosedLoop } from '../../control/cstr-lmpc.ts';
import type { Mpc } from '../../control/mpc.ts';
import { loadModel } from '../../io/model-file.ts';
import { addCommands } from '../main.ts';
import { emit, fmt, nonNegativeInt, numberList, numberOption, positiveInt, UsageError } from '../util.ts';
import { addDemoStage } from './demo.ts';

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
  json?: boolean;
}

/** The JSON the `mpc` command prints (and the demo stage records). */
function report(r: ClosedLoopResult, extra: Record<string, unknown>): Record<string, unknown> {
  const s = summarizeClosedLoop(r);
  return {
    ...extra,
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
function warmUp(mpc: Mpc, x0: number[]): void {
  const t0 = Date.now();
  for (let i = 0; i < 30 && Date.now() - t0 < 150; i++) mpc.solve(x0, null);
  mpc.reset();
}

function humanReport(r: ClosedLoopResult, title: string): string {
  const s = summarizeClosedLoop(r);
  const [f1, f2] = s.finalState;
  const lines = [
    `${title}: ${s.converged ? `reached the target |x1| < ${CSTR_LMPC.target.x1}, |x2| < ${CSTR_LMPC.target.x2} in ${s.steps} steps` : `did not reach the target in ${s.steps} steps`}; final (x1, x2) = (${fmt(f1, 4)}, ${fmt(f2, 4)})`,
    `  solve time per step: median ${ms(s.solveSeconds.median)}, mean ${ms(s.solveSeconds.mean)}, max ${ms(s.solveSeconds.max)}; SQP iterations median ${fmt(s.iterations.median)}, max ${fmt(s.iterations.max)}`,
    `  solver status: ${Object.entries(s.solverStatus).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}${s.fallbacks ? ` (${s.fallbacks} steps used a fallback input)` : ''}`,
    `  step   t (h)      x1        x2        u1        u2         status          ms`,
  ];
  for (let k = 0; k < r.steps; k++) {
    lines.push(
      `  ${String(k + 1).padStart(4)}  ${r.t[k + 1].toFixed(3).padStart(6)}  ${fmt(r.x[k + 1][0], 3).padStart(8)}  ${fmt(r.x[k + 1][1], 3).padStart(8)}  ${fmt(r.u[k][0], 3).padStart(8)}  ${fmt(r.u[k][1], 3).padStart(9)}  ${r.statuses[k].padStart(14)}  ${fmt(r.solveSeconds[k] * 1e3, 3).padStart(7)}`,
    );
  }
  return lines.join('\n');
}

async function mpcCommand(f: MpcFlags): Promise<void> {
  if (f.system !== 'cstr') throw new UsageError(`mpc supports --system cstr only, got '${f.system}'`);
  if (!f.model) throw new UsageError("--model MODEL.json or --model first-principles is required");
  const x0 = numberList('--x0', f.x0, 2);
  const horizon = numberOption('--horizon', f.horizon, CSTR_LMPC.horizon, (x) => positiveInt(x) && x <= 50, 'an integer in 1..50');
  const maxSteps = numberOption('--steps', f.steps, CSTR_LMPC.maxSteps, nonNegativeInt, 'a non-negative integer');
  const seed = numberOption('--seed', f.seed, 0, Number.isInteger, 'an integer');
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
  let mpc: Mpc;
  let modelKind = 'first-principles';
  if (f.model === 'first-principles') {
    mpc = createCstrLmpc('first-principles', { horizon, rateLimits, lyapunov: f.lyapunov, solver: { maxIterations, tolerance } });
  } else {
    const stored = loadModel(f.model);
    if (stored.metadata.system !== undefined && stored.metadata.system !== 'cstr')
      throw new UsageError(`${f.model} was trained on '${stored.metadata.system}', not the CSTR`);
    modelKind = stored.model.spec.kind;
    mpc = createCstrLmpc(stored, { horizon, rateLimits, lyapunov: f.lyapunov, solver: { maxIterations, tolerance } });
  }
  if (f.warmup) warmUp(mpc, x0);
  const r = runCstrClosedLoop(mpc, x0, { maxSteps, noise, seed });
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
  });
  emit(!!f.json, j, () => humanReport(r, `mpc cstr (${mpc.predictor.name}, horizon ${horizon}) from (${x0[0]}, ${x0[1]})`));
}

addCommands((program: Command) => {
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
    .option('--json', 'print JSON')
    .action(mpcCommand);
});

addDemoStage(async (ctx) => {
  const x0: [number, number] = [CSTR_LMPC.initialStates[0][0], CSTR_LMPC.initialStates[0][1]];
  try {
    const mpc = createCstrLmpc(ctx.result);
    warmUp(mpc, x0);
    const r = runCstrClosedLoop(mpc, x0);
    const s = summarizeClosedLoop(r);
    const fp = runCstrClosedLoop(createCstrLmpc('first-principles'), x0);
    ctx.summary.mpc = {
      x0,
      horizon: CSTR_LMPC.horizon,
      predictor: mpc.predictor.name,
      derivatives: mpc.derivatives,
      hessian: mpc.hessian,
      converged: s.converged,
      steps: s.steps,
      finalState: s.finalState,
      solveSeconds: s.solveSeconds,
      iterations: s.iterations,
      solverStatus: s.solverStatus,
      fallbacks: s.fallbacks,
      boundViolations: s.boundViolations,
      t: r.t,
      x1: r.x.map((x) => x[0]),
      x2: r.x.map((x) => x[1]),
      u1: r.u.map((u) => u[0]),
      u2: r.u.map((u) => u[1]),
      firstPrinciples: { converged: fp.converged, steps: fp.steps, finalState: fp.finalState },
    };
    ctx.lines.push(
      `  LMPC with the ICLRNN from (${x0[0]}, ${x0[1]}): ${s.converged ? `target reached in ${s.steps} steps` : `target not reached in ${s.steps} steps`} (first-principles MPC: ${fp.converged ? `${fp.steps} steps` : 'not reached'}); ` +
        `solve time median ${ms(s.solveSeconds.median)}, max ${ms(s.solveSeconds.max)} per step (reference: 72 s)`,
    );
  } catch (e) {
    ctx.summary.mpc = { x0, error: (e as Error).message };
    ctx.lines.push(`  LMPC with the ICLRNN from (${x0[0]}, ${x0[1]}) failed: ${(e as Error).message}`);
  }
}, 20);
