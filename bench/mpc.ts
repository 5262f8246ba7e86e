/**
 * MPC benchmark: seconds per closed-loop LMPC step on the CSTR for the first-principles predictor
 * and trained RNN, LSTM, ICRNN, ICLSTM and ICLRNN predictors (2 x 64), horizons 2, 5 and 10, from
 * both published initial states; closed-loop steps to reach the target; SQP iterations and model
 * evaluations. Every configuration runs its closed loop twice and times the second run (the first
 * warms up the JIT; `--warmup N` runs N untimed loops first, for the steady state of a controller
 * that has been running a while); the plant is RK4 with 1e-5 h steps. Also: horizon 2 with the BFGS Hessian
 * (same exact gradients; iterations compare the model families without Gauss-Newton) and with
 * reverse-mode (adjoint) gradients, and Gauss-Newton without Jacobian reuse. And (issue 16) the safe
 * learned-model LMPC ('tightened': Lyapunov constraint tightened by the estimated model error bound,
 * first-principles backup, run-time monitor) at horizon 2 from the four safety states, with V on the
 * true trajectory (`--safety off` skips it).
 *
 * Models: DIR/<kind>.json from `--models-dir DIR`, or a path pattern with `{kind}` from
 * `--models PATTERN` (e.g. /tmp/runs/acc-{kind}-0.json); kinds without a file are trained here for
 * `--epochs` epochs (default 5 to keep the default run short, Adam lr 3e-3, seed 0; 200 for the published setting, which takes
 * long). `--horizons 2,5,10` and `--kinds rnn,lstm,...` restrict the grid.
 *
 * The model predictors run in the f64 wasm kernels where those cover the model (ICLRNN, RNN: issue 11;
 * FMA after enableWasmFma, as the CLI) and in JS otherwise; `--wasm off` runs everything on the JS
 * path (the comparison in the same conditions), and the 'gauss-newton-js' variant (horizon 2) does
 * so for one configuration inside a normal run.
 *
 * Usage: node --import tsx bench/mpc.ts [--models-dir DIR | --models PATTERN] [--epochs N] [--wasm off] [--warmup 1]
 * Prints JSON and writes bench/results/mpc.json.
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { summarizeClosedLoop } from '../src/control/closed-loop.ts';
import {
  CSTR_LMPC, CSTR_SAFETY_STATES, createCstrLmpc, createSafeCstrLmpc, estimateCstrPredictionError, runCstrClosedLoop, type CstrLmpcOptions,
} from '../src/apps/cstr-lmpc.ts';
import type { ModelPredictor } from '../src/control/predictors.ts';
import { loadModel } from '../src/io/model-file.ts';
import type { BuiltinModelKind } from '../src/nn/models.ts';
import { generateCstrDataset } from '../src/systems/cstr.ts';
import { fitModel, type ScaledModel } from '../src/train/pipeline.ts';
import { setWasmDisabled, wasmSupport } from '../src/core/wasm.ts';
import { enableWasmFma } from '../src/core/wasm-node.ts';
import { WasmPredictor } from '../src/nn/wasm-predictor.ts';
import { arg, median, writeResult } from './util.ts';

const KINDS: BuiltinModelKind[] = ['rnn', 'lstm', 'icrnn', 'iclstm', 'iclrnn'];

interface RunRecord {
  predictor: string;
  variant: string;
  horizon: number;
  x0: number[];
  converged: boolean;
  steps: number;
  finalState: number[];
  /** Per-step wall-clock milliseconds of the timed run. */
  ms: number[];
  iterations: number[];
  evaluations: number[];
  statuses: Record<string, number>;
  jacobians?: { computed: number; reused: number };
  /** Safety variants: V on the true trajectory. */
  maxV?: number;
  leftStabilityRegion?: boolean;
  fallbackSteps?: number;
}

function stats(xs: number[]): { median: number; mean: number; max: number } {
  return { median: median(xs), mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), max: Math.max(...xs) };
}

const round = (x: number, d = 4) => Number(x.toPrecision(d));

export async function run(): Promise<Record<string, unknown>> {
  const epochs = Number(arg('--epochs', '5'));
  const dir = arg('--models-dir', '');
  const pattern = arg('--models', dir ? join(dir, '{kind}.json') : '');
  const horizons = arg('--horizons', '2,5,10').split(',').map(Number);
  const kinds = arg('--kinds', KINDS.join(',')).split(',').filter(Boolean) as BuiltinModelKind[];
  const started = Date.now();
  enableWasmFma(); // as the CLI does
  const wasmOff = arg('--wasm', 'on') === 'off';
  const warmup = Math.max(1, Number(arg('--warmup', '1')));
  setWasmDisabled(wasmOff);

  // ---------- models ----------
  const models: Record<string, ScaledModel> = {};
  const modelInfo: Record<string, unknown> = {};
  let dataset: ReturnType<typeof generateCstrDataset> | null = null;
  for (const kind of kinds) {
    const file = pattern ? pattern.replace('{kind}', kind) : '';
    if (file && existsSync(file)) {
      const m = loadModel(file);
      models[kind] = m;
      modelInfo[kind] = { source: file, epochs: m.metadata.training?.epochs ?? null, testMse: m.metadata.metrics?.testMse ?? null, hidden: m.model.spec.cells[0].units, layers: m.model.spec.cells.length };
    } else {
      dataset ??= generateCstrDataset();
      const t0 = Date.now();
      const r = fitModel(dataset, { kind, hidden: 64, layers: 2, epochs, learningRate: 3e-3, seed: 0 });
      models[kind] = r;
      modelInfo[kind] = { source: 'trained here', epochs, learningRate: 3e-3, testMse: r.testMse, hidden: 64, layers: 2, trainSeconds: (Date.now() - t0) / 1000 };
    }
    process.stderr.write(`mpc bench: ${kind} model ready (${JSON.stringify(modelInfo[kind])})\n`);
  }

  // ---------- closed loops ----------
  const records: RunRecord[] = [];
  const runOne = (name: string, source: ScaledModel | 'first-principles', horizon: number, variant: string, options: CstrLmpcOptions, jsOnly = false) => {
    const prevDisabled = setWasmDisabled(wasmOff || jsOnly);
    for (const x0 of CSTR_LMPC.initialStates) {
      // JIT warm-up on a separate controller (untimed), so the timed run starts with empty caches
      for (let w = 0; w < warmup; w++) runCstrClosedLoop(createCstrLmpc(source, { ...options, horizon }), x0);
      const mpc = createCstrLmpc(source, { ...options, horizon });
      const p = mpc.predictor as Partial<ModelPredictor>;
      const before = p.stats ? { ...p.stats } : null;
      const r = runCstrClosedLoop(mpc, x0);
      const s = summarizeClosedLoop(r);
      records.push({
        predictor: name, variant, horizon, x0: [...x0], converged: r.converged, steps: r.steps, finalState: r.finalState.map((v) => round(v, 6)),
        ms: r.solveSeconds.map((v) => round(v * 1e3)), iterations: r.iterations, evaluations: r.evaluations, statuses: s.solverStatus,
        jacobians: before && p.stats ? { computed: p.stats.computed - before.computed, reused: p.stats.reused - before.reused } : undefined,
      });
    }
    setWasmDisabled(prevDisabled);
    const last = records.slice(-2);
    const ms = last.flatMap((r) => r.ms);
    process.stderr.write(`mpc bench: ${name} N=${horizon} ${variant}: median ${round(median(ms), 3)} ms, max ${round(Math.max(...ms), 3)} ms, steps ${last.map((r) => (r.converged ? r.steps : `>${r.steps}`)).join('/')}\n`);
  };
  /**
   * The safe (tightened) learned-model LMPC of issue 16, horizon 2, from the four safety states: the
   * error bound is estimated once per model (not timed); the timed controller gets it as a number.
   */
  const runSafe = (name: string, source: ScaledModel) => {
    const t0 = Date.now();
    const estimate = estimateCstrPredictionError(source);
    const estimateSeconds = (Date.now() - t0) / 1000;
    for (const x0 of CSTR_SAFETY_STATES) {
      for (let w = 0; w < warmup; w++) runCstrClosedLoop(createSafeCstrLmpc(source, { errorBound: estimate }).controller, x0);
      const made = createSafeCstrLmpc(source, { errorBound: estimate });
      const r = runCstrClosedLoop(made.controller, x0);
      const s = summarizeClosedLoop(r);
      records.push({
        predictor: name, variant: 'tightened', horizon: 2, x0: [...x0], converged: r.converged, steps: r.steps, finalState: r.finalState.map((v) => round(v, 6)),
        ms: r.solveSeconds.map((v) => round(v * 1e3)), iterations: r.iterations, evaluations: r.evaluations, statuses: s.solverStatus,
        maxV: round(r.lyapunov.maxV, 6), leftStabilityRegion: r.lyapunov.exited, fallbackSteps: s.fallbacks,
      });
    }
    const last = records.slice(-CSTR_SAFETY_STATES.length);
    const ms = last.flatMap((r) => r.ms);
    process.stderr.write(`mpc bench: ${name} N=2 tightened (eta ${round(estimate.errorBound, 4)}, estimated in ${estimateSeconds} s): median ${round(median(ms), 3)} ms, max ${round(Math.max(...ms), 3)} ms, max V ${last.map((r) => r.maxV).join('/')}, steps ${last.map((r) => (r.converged ? r.steps : `>${r.steps}`)).join('/')}\n`);
    safetyInfo[name] = { errorBound: estimate.errorBound, maxObserved: estimate.maxObserved, samples: estimate.samples, estimateSeconds };
  };
  const safetyInfo: Record<string, unknown> = {};
  const sources: [string, ScaledModel | 'first-principles'][] = [['first-principles', 'first-principles'], ...kinds.map((k) => [k, models[k]] as [string, ScaledModel])];
  for (const [name, src] of sources) {
    for (const N of horizons) runOne(name, src, N, 'gauss-newton', {});
    if (horizons.includes(2)) {
      runOne(name, src, 2, 'bfgs', { solver: { hessian: 'bfgs', derivatives: 'forward' } });
      runOne(name, src, 2, 'adjoint-bfgs', { solver: { derivatives: 'adjoint' } });
      if (name === 'iclrnn' || name === 'icrnn') runOne(name, src, 2, 'gauss-newton-no-reuse', { predictor: { reuseJacobians: false } });
      if (!wasmOff && src !== 'first-principles' && WasmPredictor.supports(src.model)) runOne(name, src, 2, 'gauss-newton-js', {}, true);
    }
    if (src !== 'first-principles' && arg('--safety', 'on') !== 'off') runSafe(name, src);
  }

  // ---------- summary ----------
  const table: Record<string, unknown>[] = [];
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = `${r.predictor}|${r.variant}|${r.horizon}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  for (const [key, rs] of groups) {
    const [predictor, variant, horizon] = key.split('|');
    const ms = rs.flatMap((r) => r.ms), it = rs.flatMap((r) => r.iterations), ev = rs.flatMap((r) => r.evaluations);
    const st = stats(ms);
    const statuses: Record<string, number> = {};
    for (const r of rs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    table.push({
      predictor, variant, horizon: Number(horizon),
      msPerStep: { median: round(st.median, 3), mean: round(st.mean, 3), max: round(st.max, 3) },
      stepsToTarget: rs.map((r) => (r.converged ? r.steps : null)),
      iterations: { median: median(it), mean: round(it.reduce((a, b) => a + b, 0) / it.length, 3), max: Math.max(...it) },
      evaluations: { median: median(ev), mean: round(ev.reduce((a, b) => a + b, 0) / ev.length, 3) },
      solverStatus: statuses,
      jacobianReuse: rs[0].jacobians ? rs.reduce((a, r) => ({ computed: a.computed + r.jacobians!.computed, reused: a.reused + r.jacobians!.reused }), { computed: 0, reused: 0 }) : null,
      ...(variant === 'tightened' ? { maxV: rs.map((r) => r.maxV), leftStabilityRegion: rs.some((r) => r.leftStabilityRegion), fallbackSteps: rs.reduce((a, r) => a + (r.fallbackSteps ?? 0), 0) } : {}),
    });
  }
  const iclrnn2 = table.find((t) => t.predictor === 'iclrnn' && t.variant === 'gauss-newton' && t.horizon === 2) as { msPerStep: { median: number } } | undefined;
  const iclrnn2Js = table.find((t) => t.predictor === 'iclrnn' && t.variant === 'gauss-newton-js' && t.horizon === 2) as { msPerStep: { median: number; max: number } } | undefined;
  const iclrnnSafe = table.find((t) => t.predictor === 'iclrnn' && t.variant === 'tightened') as { msPerStep: { median: number }; leftStabilityRegion: boolean } | undefined;
  const result = {
    benchmark: 'mpc',
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? null, loadAverageAtEnd: loadavg().map((v) => round(v, 3)) },
    wasm: { enabled: !wasmOff && wasmSupport().simd, fma: !wasmOff && wasmSupport().relaxedSimd },
    config: {
      system: 'cstr', lmpc: 'REFERENCE.md section 1 (weights, bounds, P, 0.005 h, Lyapunov constraint per period)', horizons, initialStates: CSTR_LMPC.initialStates,
      maxSteps: CSTR_LMPC.maxSteps, plant: 'RK4, 1e-5 h', models: modelInfo,
      timing: `wall clock per controller call; a fresh controller runs the closed loop after ${warmup} untimed identical run(s) on other controllers (JIT warm-up; no shared caches)`,
      warmupRuns: warmup,
      variants: {
        'gauss-newton': 'default: forward-mode Jacobians chained over the horizon, Gauss-Newton SQP (exact Jacobian reuse for piecewise-linear networks)',
        bfgs: 'same exact gradients, BFGS Hessian',
        'adjoint-bfgs': 'reverse-mode (adjoint) gradients through the SequenceModel, BFGS Hessian',
        'gauss-newton-no-reuse': 'Gauss-Newton without reusing Jacobians across equal activation patterns',
        'gauss-newton-js': 'the default on the JS path (SequenceModel copies and the hand-fused TangentEngine) instead of the f64 wasm kernels, for models the wasm path covers',
        tightened: 'issue 16: the safe learned-model LMPC (Lyapunov constraint tightened by the estimated model error bound, first-principles backup, monitor), horizon 2, from the four safety states (1.5,-70), (-1.5,70), (1.2,-60), (-1.2,60)',
      },
      safety: safetyInfo,
    },
    table,
    runs: records,
    targets: {
      iclrnnHorizon2MedianMs: { target: 0.2, measured: iclrnn2?.msPerStep.median ?? null, jsPath: iclrnn2Js?.msPerStep.median ?? null },
      iclrnnHorizon2MaxMs: { target: 1, measured: (iclrnn2 as { msPerStep: { max: number } } | undefined)?.msPerStep.max ?? null, jsPath: iclrnn2Js?.msPerStep.max ?? null },
      iclrnnTightenedHorizon2MedianMs: { target: 1, measured: iclrnnSafe?.msPerStep.median ?? null, leftStabilityRegion: iclrnnSafe?.leftStabilityRegion ?? null },
      peer: { slsqpFiniteDifferencePytorchMs: 25, slsqpFirstPrinciplesMs: 12, referenceIpoptKerasSeconds: 72, stepsToTarget: '12-15' },
      speedupVsPeerSlsqp: iclrnn2 ? round(25 / iclrnn2.msPerStep.median, 3) : null,
    },
    seconds: (Date.now() - started) / 1000,
  };
  writeResult('mpc', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(JSON.stringify(await run(), null, 1));
