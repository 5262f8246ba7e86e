/**
 * `iclrnn sweep`: trains every model x noise x seed cell, records test MSE, the empirical
 * Lipschitz estimate (and a certified bound when available) and the training time, writes the
 * results file atomically after every cell (so Ctrl-C / kill never loses finished cells), resumes
 * by skipping finished cells of the same configuration, and optionally writes the HTML report.
 * Also exports the demo's report step (`reportDemoStage`).
 *
 * Size (about 590 lines): one command with its flag checks, the in-process and queue modes,
 * progress output and the report step (library logic is in `train/sweep.ts`).
 */
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors.ts';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { checkOutputPath } from '../../io/output-path.ts';
import { loadModel } from '../../io/model-file.ts';
import { MODEL_KINDS, type BuiltinModelKind } from '../../nn/models.ts';
import { renderReport, reportRowsFromSweep, type MpcRun, type ReportRow } from '../../report/html.ts';
import { cstrPhasePortraits, type PhasePortraitGroup } from '../../report/phase.ts';
import { cstrMpcRuns } from '../../report/mpc-runs.ts';
import type { ScaledModel } from '../../train/pipeline.ts';
import {
  doneCellResult,
  failedCellResult,
  initSweepResults,
  recordCell,
  runSweep,
  sweepCells,
  SweepConfigMismatchError,
  SweepFormatError,
  parseSweepResults,
  cellSkill,
  type SweepCellMetrics,
  type SweepCellResult,
  type SweepOutcome,
  type SweepConfig,
  type SweepResults,
} from '../../train/sweep.ts';
import { SYSTEMS } from '../systems.ts';
import { emit, fmt, nonNegativeInt, numberList, numberOption, positive, positiveInt, UsageError } from '../util.ts';
import { addDataFlags, dataOptionsFrom, readJsonFile } from './core.ts';
import type { DemoContext } from './demo.ts';
import { CellRunner, CellRunnerStopped } from '../sweep-cell-runner.ts';
import { fileSha256, LIPSCHITZ_EPS, lipschitzOf, modelFileNameOf } from '../sweep-cell.ts';
import { readSweepFile, saveSweepResults } from '../sweep-store.ts';
import { jobIdOf, SWEEP_JOB_FORMAT, SWEEP_JOB_VERSION, type SweepJobPayload, type SweepJobResult } from '../../train/distributed/payload.ts';
import { sweepIdOf } from '../../train/distributed/sweep-id.ts';
import { sweepProgress } from '../sweep-progress.ts';

/** Default model order of the sweep (the issue's). */
export const SWEEP_DEFAULT_MODELS: readonly BuiltinModelKind[] = ['iclrnn', 'icrnn', 'lrnn', 'rnn', 'lstm', 'iclstm'];
export const SWEEP_DEFAULT_NOISE: readonly number[] = [0, 0.3, 0.6, 0.9];

interface SweepFlags {
  system?: string;
  queue?: string | true;
  queueName?: string;
  attempts?: string;
  retryDelay?: string;
  models?: string;
  noise?: string;
  epochs?: string;
  seeds?: string;
  seed?: string;
  hidden?: string;
  layers?: string;
  batch?: string;
  lr?: string;
  lipschitzSamples?: string;
  lipschitzInputs?: string;
  patience?: string;
  portraitNoise?: string;
  saveModels?: boolean;
  out?: string;
  report?: string;
  data?: string;
  inputs?: string;
  outputs?: string;
  window?: string;
  stride?: string;
  splitSeed?: string;
  json?: boolean;
}


export { lipschitzOf };

function parseModels(v: string | undefined): BuiltinModelKind[] {
  if (v === undefined) return [...SWEEP_DEFAULT_MODELS];
  const xs = v.split(',').map((s) => s.trim().toLowerCase());
  if (xs.some((x) => x === '')) throw new UsageError(`--models must be a comma-separated list of ${MODEL_KINDS.join(', ')}, got '${v}'`);
  for (const x of xs) if (!MODEL_KINDS.includes(x as BuiltinModelKind)) throw new UsageError(`--models: unknown model '${x}' (expected ${MODEL_KINDS.join(', ')})`);
  const dup = xs.find((x, i) => xs.indexOf(x) !== i);
  if (dup) throw new UsageError(`--models lists '${dup}' twice`);
  return xs as BuiltinModelKind[];
}

function parseNoise(v: string | undefined): number[] {
  if (v === undefined) return [...SWEEP_DEFAULT_NOISE];
  const xs = numberList('--noise', v);
  if (xs.some((x) => x < 0)) throw new UsageError(`--noise levels must be >= 0, got '${v}'`);
  const norm = xs.map((x) => (Object.is(x, -0) ? 0 : x));
  const dup = norm.find((x, i) => norm.indexOf(x) !== i);
  if (dup !== undefined) throw new UsageError(`--noise lists ${dup} twice`);
  return norm;
}

/** Directory of the per-cell model files of a results file. */
function modelsDirOf(out: string): string {
  return join(dirname(out), `${basename(out).replace(/\.json$/i, '')}.models`);
}

function readResultsFile(out: string): unknown {
  if (!existsSync(out)) return null;
  const json = readJsonFile(out);
  return json;
}

async function sweepCommand(f: SweepFlags): Promise<void> {
  if (f.system === undefined) throw new UsageError("required option '--system <name>' not specified", { flag: '--system' });
  if (!f.out) throw new UsageError('--out RESULTS.json is required');
  if (f.report !== undefined && resolve(f.report) === resolve(f.out)) throw new UsageError('--report and --out must be different files');
  // Output paths checked before any work (issue 9 item 1); an existing --out is resumed (its format is checked below).
  checkOutputPath(f.out, { flag: '--out', kind: 'sweep-results', force: true });
  if (f.report !== undefined) checkOutputPath(f.report, { flag: '--report', kind: 'report', forceFlag: null });
  const models = parseModels(f.models);
  const noise = parseNoise(f.noise);
  const dataOptions = dataOptionsFrom({ ...f, system: f.system });
  const epochs = numberOption('--epochs', f.epochs, 200, nonNegativeInt, 'a non-negative integer');
  const nSeeds = numberOption('--seeds', f.seeds, 1, positiveInt, 'a positive integer');
  const firstSeed = numberOption('--seed', f.seed, 0, Number.isInteger, 'an integer');
  const hidden = numberOption('--hidden', f.hidden, 64, positiveInt, 'a positive integer');
  const layers = numberOption('--layers', f.layers, 2, positiveInt, 'a positive integer');
  const batchSize = numberOption('--batch', f.batch, 256, positiveInt, 'a positive integer');
  const learningRate = numberOption('--lr', f.lr, 1e-3, positive, 'a positive number');
  const lipschitzSamples = numberOption('--lipschitz-samples', f.lipschitzSamples, 0, nonNegativeInt, 'a non-negative integer (0: the whole test set)');
  const lipschitzInputs = f.lipschitzInputs === undefined ? 'test' : f.lipschitzInputs;
  if (lipschitzInputs !== 'train' && lipschitzInputs !== 'test') throw new UsageError(`--lipschitz-inputs must be train or test, got '${f.lipschitzInputs}'`, { flag: '--lipschitz-inputs' });
  const patience = f.patience === undefined ? undefined : numberOption('--patience', f.patience, 1, positiveInt, 'a positive integer');
  const portraitNoise = f.portraitNoise === undefined ? undefined : numberOption('--portrait-noise', f.portraitNoise, 0, (x) => x >= 0, 'a number >= 0');
  const saveModels = f.saveModels !== false;
  const seeds = Array.from({ length: nSeeds }, (_, i) => firstSeed + i);

  const config: SweepConfig = {
    system: dataOptions.system,
    data: { ...dataOptions },
    hidden,
    layers,
    epochs,
    batchSize,
    learningRate,
    optimizer: 'adam',
    spectralMode: 'projection',
    k: 1,
    // Options added later enter the configuration only when set, so older results files (made
    // without them) still resume with the same configuration.
    lipschitz: { method: 'reference-perturbation', eps: LIPSCHITZ_EPS, samples: lipschitzSamples, ...(lipschitzInputs === 'train' ? { inputs: 'train' } : {}) },
    ...(patience !== undefined ? { earlyStopping: { patience } } : {}),
  };

  // Validate the existing results (format, configuration) before any work.
  const existing = readResultsFile(f.out);
  let start: SweepResults;
  try {
    start = initSweepResults(existing, config, { models, noise, seeds });
  } catch (e) {
    if (e instanceof SweepConfigMismatchError)
      throw new UsageError(`${f.out}: ${e.message}; use another --out, or delete the file to start over`);
    if (e instanceof SweepFormatError) throw new UsageError(`${f.out}: ${e.message}`);
    throw e;
  }
  if (portraitNoise !== undefined) {
    const flag = { flag: '--portrait-noise' };
    if (f.report === undefined) throw new UsageError('--portrait-noise only chooses the models of the report\'s phase portraits: add --report FILE, or drop --portrait-noise', flag);
    if (dataOptions.system !== 'cstr') throw new UsageError(`--portrait-noise: phase portraits are drawn for --system cstr only, not ${dataOptions.system}`, flag);
    if (!start.noise.includes(portraitNoise)) throw new UsageError(`--portrait-noise ${portraitNoise} is not a noise level of this sweep (${start.noise.join(', ')})`, flag);
  }
  const queueUrl = f.queue === undefined ? undefined : f.queue === true ? process.env.ICLRNN_REDIS_URL || null : f.queue;
  if (queueUrl === null) throw new UsageError('--queue without a URL needs ICLRNN_REDIS_URL=redis://HOST:PORT[/DB] in the environment', { flag: '--queue' });
  const attempts = numberOption('--attempts', f.attempts, 3, positiveInt, 'a positive integer');
  const retryDelay = numberOption('--retry-delay', f.retryDelay, 2, (x) => x >= 0, 'a number of seconds >= 0');
  if (queueUrl === undefined && (f.attempts !== undefined || f.retryDelay !== undefined || f.queueName !== undefined))
    throw new UsageError(`${f.attempts !== undefined ? '--attempts' : f.retryDelay !== undefined ? '--retry-delay' : '--queue-name'} only applies with --queue`);

  // The data file of file-based systems: present here, and identified by its SHA-256 (workers check it).
  let dataSha256: string | null = null;
  if (dataOptions.data !== undefined) {
    if (!existsSync(dataOptions.data)) throw new UsageError(`${dataOptions.data}: data file not found`, { flag: '--data' });
    dataSha256 = fileSha256(dataOptions.data);
  }
  const out = f.out;
  const modelsDir = modelsDirOf(out);
  const sweepId = sweepIdOf(config);
  const jobOf = (cell: { key: string; model: string; noise: number; seed: number }): SweepJobPayload => ({
    format: SWEEP_JOB_FORMAT,
    version: SWEEP_JOB_VERSION,
    sweepId,
    config,
    cell: { key: cell.key, model: cell.model, noise: cell.noise, seed: cell.seed },
    dataSha256,
    saveModels,
  });
  /** Writes a finished cell's model file (atomically) and returns its metrics as recorded. */
  const recordModel = (cell: { model: string; noise: number; seed: number }, r: SweepJobResult): SweepCellMetrics => {
    const metrics: SweepCellMetrics = { ...r.metrics, modelFile: null };
    if (r.modelText !== null) {
      const path = join(modelsDir, modelFileNameOf(cell));
      writeFileAtomic(path, r.modelText);
      metrics.modelFile = relative(dirname(resolve(out)), resolve(path));
    }
    return metrics;
  };
  /** Saves under the results file's lock, merged with what other runs wrote meanwhile. */
  let saved: SweepResults = start;
  const save = async (r: SweepResults) => {
    try {
      saved = await saveSweepResults(out, r);
    } catch (e) {
      if (e instanceof SweepConfigMismatchError) throw new UsageError(`${out}: another sweep with a different configuration wrote this file meanwhile (${e.message})`);
      throw e;
    }
  };
  const plan = sweepCells(models, noise, seeds);
  const label = `sweep ${dataOptions.system}`;
  const doneAtStart = plan.filter((c) => start.cells[c.key]?.status === 'done').length;
  const progress = sweepProgress(label, plan.length, doneAtStart);

  // Ctrl-C / SIGTERM: stop at once; every finished cell is already in the results file.
  let stopping = false;
  const runner = new CellRunner();
  const abort = new AbortController();
  const onSignal = () => {
    if (stopping) return;
    stopping = true;
    abort.abort();
    void runner.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const interrupted = (): never => {
    progress.stop();
    const finished = plan.filter((c) => saved.cells[c.key]?.status === 'done').length;
    process.stderr.write(
      `iclrnn: interrupted: ${finished} of ${plan.length} cells of this sweep are finished and saved in ${out}${saveModels ? ` (models in ${modelsDir})` : ''}; ` +
        (queueUrl ? 'the queued cells stay on the queue for the workers; rerun the same command to collect them\n' : 'rerun the same command to resume\n'),
    );
    process.exit(130);
  };

  let outcome: SweepOutcome;
  try {
    if (queueUrl === undefined) {
      outcome = await runSweep({
        config,
        models,
        noise,
        seeds,
        results: existing,
        save,
        runCell: async (cell) => {
          const r = await runner.run(jobOf(cell), (e) => progress.running([{ key: cell.key, fraction: e.epochs ? e.epoch / e.epochs : 1 }]));
          return recordModel(cell, r);
        },
        onCellError: (e) => ((e instanceof ValidationError || e instanceof RangeError) && /diverged/.test(e.message) ? 'record' : 'throw'),
        onCell: (ev) => {
          if (ev.outcome !== 'skipped' && ev.result) progress.cell(ev.result, ev.done);
        },
      });
    } else {
      outcome = await coordinate(queueUrl, f.queue === true ? 'ICLRNN_REDIS_URL' : '--queue');
    }
  } catch (e) {
    if (stopping || e instanceof CellRunnerStopped) interrupted();
    throw e;
  } finally {
    progress.stop();
    await runner.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (stopping) interrupted();
  outcome.results = saved;

  /** The distributed sweep: enqueue the pending cells, record each result as it arrives. */
  async function coordinate(url: string, flag: string): Promise<SweepOutcome> {
    const { checkRedis, coordinateSweep, parseQueueUrl } = await import('../../train/distributed/queue.ts');
    const connection = parseQueueUrl(url, flag);
    await checkRedis(connection);
    const now = () => new Date().toISOString();
    const results = start;
    results.updatedAt = now();
    await save(results);
    const cells: (SweepCellResult | null)[] = plan.map((c) => (saved.cells[c.key]?.status === 'done' ? saved.cells[c.key] : null));
    const res: SweepOutcome = { results, cells, ran: 0, skipped: cells.filter((c) => c !== null).length, failed: 0, total: plan.length };
    const pending = plan.filter((c) => cells[c.index] === null);
    let done = res.skipped;
    progress.note(`${label}: ${pending.length} of ${plan.length} cells queued on ${connection.display} (sweep ${sweepId}, queue ${f.queueName ?? 'iclrnn-sweep'})`);
    const byKey = new Map(plan.map((c) => [c.key, c]));
    const put = async (result: SweepCellResult) => {
      recordCell(results, result);
      results.updatedAt = now();
      await save(results);
      const cell = byKey.get(result.key)!;
      res.cells[cell.index] = result;
      done++;
      progress.cell(result, done);
    };
    await coordinateSweep({
      connection,
      queueName: f.queueName,
      sweepId,
      jobs: pending.map(jobOf),
      attempts,
      backoffMs: retryDelay * 1000,
      onResult: async (job, r) => {
        res.ran++;
        await put(doneCellResult(job.cell, recordModel(job.cell, r), now()));
      },
      onFailed: async (job, message) => {
        res.failed++;
        await put(failedCellResult(job.cell, message, now()));
      },
      onProgress: (p) => progress.running(p.active),
      log: (line) => progress.note(`${label}: ${line}`),
      signal: abort.signal,
    });
    return res;
  }

  let reportPath: string | null = null;
  if (f.report) {
    writeSweepReport(outcome.results, f.out, f.report, portraitNoise);
    reportPath = f.report;
  }

  const cells = outcome.cells.filter((c) => c !== null).map((c) => ({
    model: c!.model,
    noise: c!.noise,
    seed: c!.seed,
    status: c!.status,
    testMse: c!.testMse,
    baselineMse: typeof c!.baselineMse === 'number' ? c!.baselineMse : null,
    baselineKind: c!.baselineKind ?? null,
    meanPredictorMse: typeof c!.meanPredictorMse === 'number' ? c!.meanPredictorMse : null,
    skill: c!.status === 'done' ? cellSkill(c!) : null,
    lipschitz: c!.lipschitz?.empirical ?? null,
    upperBound: c!.lipschitz?.upperBound ?? null,
    trainSeconds: c!.trainSeconds ?? null,
    error: c!.error ?? null,
  }));
  const summary = {
    system: dataOptions.system,
    out: f.out,
    report: reportPath,
    modelsDir: saveModels ? modelsDir : null,
    models,
    noise,
    seeds,
    epochs,
    total: outcome.total,
    ran: outcome.ran,
    skipped: outcome.skipped,
    failed: outcome.failed,
    baseline: baselineOf(cells),
    cells,
  };
  emit(!!f.json, summary, () => {
    const lines = [
      `sweep on ${dataOptions.system}: ${outcome.total} cells (${outcome.ran} trained, ${outcome.skipped} already done${outcome.failed ? `, ${outcome.failed} failed` : ''}), ${epochs} epochs each`,
      `  baseline: ${baselineLine(summary.baseline)}`,
      `  ${'model'.padEnd(7)} ${'noise'.padStart(5)} ${'seed'.padStart(4)} ${'test MSE'.padStart(10)} ${'skill'.padStart(7)} ${'Lipschitz'.padStart(10)} ${'time'.padStart(8)}`,
    ];
    for (const c of cells)
      lines.push(
        `  ${c.model.padEnd(7)} ${String(c.noise).padStart(5)} ${String(c.seed).padStart(4)} ${(c.status === 'failed' ? 'failed' : fmt(c.testMse)).padStart(10)} ${(c.skill === null ? 'n/a' : fmt(c.skill)).padStart(7)} ${fmt(c.lipschitz).padStart(10)} ${(c.trainSeconds === null ? '-' : `${fmt(c.trainSeconds)} s`).padStart(8)}`,
      );
    for (const c of cells) if (c.status === 'failed') lines.push(`  failed: ${c.model} σ=${c.noise} seed ${c.seed}: ${c.error ?? 'unknown error'}`);
    lines.push(`  results: ${f.out}${saveModels ? ` (models in ${modelsDir})` : ''}`);
    if (reportPath) lines.push(`  report: ${reportPath}`);
    return lines.join('\n');
  });
}

/** The baseline of a sweep's cells (one split: the same for every cell), from the first cell that recorded it. */
function baselineOf(cells: { baselineMse: number | null; baselineKind: string | null; meanPredictorMse: number | null }[]): { kind: string | null; mse: number | null; meanPredictorMse: number | null } {
  const c = cells.find((x) => x.baselineKind !== null || x.baselineMse !== null || x.meanPredictorMse !== null);
  return { kind: c?.baselineKind ?? null, mse: c?.baselineMse ?? null, meanPredictorMse: c?.meanPredictorMse ?? null };
}

/** One line naming the baseline and its test MSE (skill = test MSE / this). */
function baselineLine(b: { kind: string | null; mse: number | null; meanPredictorMse: number | null }): string {
  const mean = b.meanPredictorMse === null ? '' : `; mean predictor ${fmt(b.meanPredictorMse)}`;
  if (b.kind === null) return 'n/a (not recorded in these results; skill n/a)';
  if (b.kind === 'none' || b.mse === null) return `none (no target is an input: no naive forecast, skill n/a)${mean}`;
  const what = b.kind === 'persistence' ? 'persistence (the state stays at its initial value)' : 'last value (the latest observed value of the target)';
  return `${what}, test MSE ${fmt(b.mse)}${mean}; skill = test MSE / ${fmt(b.mse)} (< 1: better than ${b.kind})`;
}

/**
 * Writes the HTML report of a results object: MSE and Lipschitz figures for every recorded cell,
 * and, on the CSTR, phase portraits of each model at one noise level (default: the highest
 * recorded) from the saved model files.
 */
export function writeSweepReport(results: SweepResults, resultsPath: string, reportPath: string, portraitNoise?: number): void {
  const rows: ReportRow[] = reportRowsFromSweep(results);
  const system = typeof results.config.system === 'string' ? results.config.system : undefined;
  const notes: string[] = [];
  const groups: PhasePortraitGroup[] = [];
  const mpcModels: { label: string; model: ScaledModel }[] = [];
  if (system === 'cstr') {
    const done = Object.values(results.cells).filter((c) => c.status === 'done' && typeof c.modelFile === 'string');
    const levels = [...new Set(done.map((c) => c.noise))].sort((a, b) => a - b);
    const level = portraitNoise ?? levels.at(-1);
    if (level !== undefined) {
      const models = [...new Set([...results.models, ...done.map((c) => c.model)])];
      for (const m of models) {
        const cell = done.filter((c) => c.model === m && c.noise === level).sort((a, b) => a.seed - b.seed)[0];
        if (!cell) continue;
        try {
          const stored: ScaledModel = loadModel(resolve(dirname(resolve(resultsPath)), cell.modelFile as string));
          groups.push({ label: `${m} (σ = ${level}, seed ${cell.seed})`, panels: cstrPhasePortraits(stored) });
          mpcModels.push({ label: `${m} (σ = ${level})`, model: stored });
        } catch (e) {
          notes.push(`phase portrait of ${m} at σ = ${level} skipped: ${(e as Error).message}`);
        }
      }
      if (!groups.length && !notes.length) notes.push(`no saved models at σ = ${level} for phase portraits`);
    } else if (Object.keys(results.cells).length) notes.push('no saved model files: phase portraits skipped (run without --no-save-models)');
  }
  const mpc = mpcModels.length ? cstrMpcRuns(mpcModels) : null; // closed loops of the saved CSTR models (H1, issue 9 item 3)
  if (mpc) notes.push(...mpc.errors);
  const epochs = results.config.epochs;
  const html = renderReport({
    title: `iclrnn sweep: ${system ?? 'unknown system'}`,
    subtitle: `Every model × training noise × seed trained ${typeof epochs === 'number' ? `for ${epochs} epochs` : ''} and evaluated on the clean test split. Results: ${basename(resultsPath)}.`,
    system,
    generatedAt: new Date().toISOString(),
    config: results.config,
    rows,
    phasePortraits: groups,
    mpcRuns: mpc?.runs ?? null,
    requireSections: mpc ? ['mpc'] : [],
    notes,
  });
  writeFileAtomic(reportPath, html);
}

/** MPC runs from whatever an MPC demo stage left in the summary ({t, x1, x2, u1, u2} per run). */
function mpcRunsFromSummary(summary: Record<string, unknown>): MpcRun[] | null {
  const candidates = [summary.mpcRuns, (summary.mpc as Record<string, unknown> | undefined)?.runs];
  for (const c of candidates) {
    if (Array.isArray(c) && c.length && c.every((r) => r && typeof r === 'object' && 't' in r && 'x1' in r && 'x2' in r)) return c as MpcRun[];
  }
  return null;
}

/** The demo's HTML report (after the certificate and the closed loop, whose results it shows). */
export async function reportDemoStage(ctx: DemoContext): Promise<void> {
  const path = join(ctx.options.outDir, 'report.html');
  const r = ctx.result;
  const lipschitz = lipschitzOf(r.model, r.data.test, 1000, 7);
  // One empirical estimate per demo (issue 9 item 9): the certificate stage's, when it ran.
  const certEmpirical = (ctx.summary.certificate as { empirical?: unknown } | undefined)?.empirical;
  if (typeof certEmpirical === 'number') lipschitz.empirical = certEmpirical;
  const rows: ReportRow[] = [
    {
      model: 'iclrnn',
      noise: 0,
      seed: 0,
      testMse: r.testMse,
      lipschitz: lipschitz.empirical,
      upperBound: lipschitz.upperBound,
      trainSeconds: r.history.secondsPerEpoch * r.history.epochsRun,
      secondsPerEpoch: r.history.secondsPerEpoch,
      epochs: r.history.epochsRun,
      status: 'done',
      baselineMse: r.baselineMse,
      skill: r.skill,
      meanPredictorMse: r.baselines.meanMse,
      baselineKind: r.baselines.kind,
    },
  ];
  const notes: string[] = [];
  const groups: PhasePortraitGroup[] = [];
  try {
    groups.push({ label: `demo ICLRNN (${r.history.epochsRun} epochs, σ = 0)`, panels: cstrPhasePortraits(r) });
  } catch (e) {
    notes.push(`phase portraits skipped: ${(e as Error).message}`);
  }
  const html = renderReport({
    title: 'iclrnn demo report: CSTR',
    subtitle: `ICLRNN 2x64 trained ${r.history.epochsRun} epochs on the CSTR data set (no training noise); the published curves are after ${1000} epochs.`,
    system: 'cstr',
    generatedAt: new Date().toISOString(),
    config: { model: 'iclrnn', hidden: 64, layers: 2, epochs: r.history.epochsRun, learningRate: 3e-3, modelPath: ctx.modelPath },
    rows,
    phasePortraits: groups,
    mpcRuns: mpcRunsFromSummary(ctx.summary),
    notes,
  });
  writeFileAtomic(path, html);
  ctx.summary.report = path;
  ctx.summary.lipschitz = lipschitz.empirical;
  if (typeof certEmpirical !== 'number')
    ctx.lines.push(`  empirical Lipschitz estimate ${fmt(lipschitz.empirical)} (model trained at σ = 0; the published ~1.0 for the ICLRNN is for σ = 0.9)`);
  ctx.lines.push(`  report written to ${path}`);
}

/** Registers `iclrnn sweep` (listed in commands/index.ts, loaded when it runs). */
export function registerSweep(program: Command): void {
  const sweep = addDataFlags(
    program
      .command('sweep')
      .description('train every model x noise (x seed), record test MSE, Lipschitz estimates and timings; resumable')
      .option('--system <name>', `system: ${SYSTEMS.join(', ')} (required)`)
      .option('--models <list>', `comma-separated models (${MODEL_KINDS.join(', ')})`, SWEEP_DEFAULT_MODELS.join(','))
      .option('--noise <list>', 'comma-separated noise levels sigma', SWEEP_DEFAULT_NOISE.join(','))
      .option('--epochs <n>', 'epochs per cell', '200')
      .option('--seeds <k>', 'seeds per cell (seed, seed+1, ...)', '1')
      .option('--seed <n>', 'first seed', '0')
      .option('--hidden <n>', 'units per layer', '64')
      .option('--layers <n>', 'recurrent layers', '2')
      .option('--batch <n>', 'batch size', '256')
      .option('--lr <x>', 'learning rate', '0.001')
      .option('--lipschitz-samples <n>', 'sequences used by the Lipschitz estimate (0: all)', '0')
      .option('--lipschitz-inputs <set>', 'inputs the empirical Lipschitz estimate perturbs: test, or train (the reference\'s protocol)', 'test')
      .option('--patience <n>', 'early stopping: stop when the validation loss has not improved for n epochs (best weights restored); default: every epoch runs')
      .option('--portrait-noise <sigma>', 'noise level of the models in the CSTR phase portraits of --report (default: the highest)')
      .option('--no-save-models', 'do not keep the trained models next to the results file')
      .option('--out <file>', 'results file (JSON; resumed when it exists)')
      .option('--report <file>', 'also write the HTML report')
      .option('--queue [url]', 'run the cells on `iclrnn worker`s through Redis: redis://[:PASSWORD@]HOST:PORT[/DB] or rediss:// (TLS); without a URL, $ICLRNN_REDIS_URL')
      .option('--queue-name <name>', 'BullMQ queue name (default iclrnn-sweep; workers must use the same)')
      .option('--attempts <n>', 'with --queue: attempts per cell before it is marked failed (default 3)')
      .option('--retry-delay <s>', 'with --queue: seconds before the first retry of a failed cell, doubled each time (default 2)')
      .option('--json', 'print the final summary as one JSON object'),
  ).action(sweepCommand);
  sweep
    .command('status')
    .description('cells of a queued sweep: pending, active, done, failed (with the messages of the failed ones)')
    .option('--queue [url]', 'Redis URL (default $ICLRNN_REDIS_URL)')
    .option('--queue-name <name>', 'BullMQ queue name (default iclrnn-sweep)')
    .option('--out <file>', 'results file of the sweep: count its cells only (and those already in the file)')
    .option('--json', 'print the status as one JSON object')
    .action((_f: unknown, cmd: Command) => sweepStatusCommand(cmd.optsWithGlobals() as StatusFlags));
}

interface StatusFlags {
  queue?: string | true;
  queueName?: string;
  out?: string;
  json?: boolean;
}

/** `iclrnn sweep status`: the queue's view of a sweep (or of every job on the queue). */
async function sweepStatusCommand(f: StatusFlags): Promise<void> {
  const url = typeof f.queue === 'string' ? f.queue : process.env.ICLRNN_REDIS_URL;
  if (!url) throw new UsageError('sweep status needs --queue redis://HOST:PORT[/DB] (or ICLRNN_REDIS_URL)', { flag: '--queue' });
  const { checkRedis, parseQueueUrl, sweepQueueStatus } = await import('../../train/distributed/queue.ts');
  const connection = parseQueueUrl(url, typeof f.queue === 'string' ? '--queue' : 'ICLRNN_REDIS_URL');
  let ids: string[] | undefined;
  let inFile: { done: number; total: number; sweepId: string } | null = null;
  if (f.out !== undefined) {
    const json = readSweepFile(f.out);
    if (json === null) throw new UsageError(`${f.out}: results file not found`, { flag: '--out' });
    let results: SweepResults;
    try {
      results = parseSweepResults(json);
    } catch (e) {
      throw new UsageError(`${f.out}: ${(e as Error).message}`, { flag: '--out' });
    }
    const sweepId = sweepIdOf(results.config);
    const plan = sweepCells(results.models, results.noise, results.seeds);
    const notDone = plan.filter((c) => results.cells[c.key]?.status !== 'done');
    ids = notDone.map((c) => jobIdOf(sweepId, c.key));
    inFile = { done: plan.length - notDone.length, total: plan.length, sweepId };
  }
  await checkRedis(connection);
  const st = await sweepQueueStatus(connection, f.queueName, ids);
  if (inFile) st.counts.done += inFile.done;
  const summary = { queue: connection.display, queueName: st.queue, ...(inFile ? { out: f.out, sweepId: inFile.sweepId, total: inFile.total, notQueued: inFile.total - st.counts.done - st.counts.pending - st.counts.active - st.counts.failed } : {}), ...st.counts, failedCells: st.failed, activeCells: st.active };
  emit(!!f.json, summary, () => {
    const lines = [
      `sweep status on ${connection.display} (queue ${st.queue})${inFile ? `, ${f.out} (sweep ${inFile.sweepId}, ${inFile.total} cells)` : ''}:`,
      `  pending ${st.counts.pending}, active ${st.counts.active}, done ${st.counts.done}, failed ${st.counts.failed}${inFile && summary.notQueued ? `, not queued ${summary.notQueued}` : ''}`,
    ];
    for (const a of st.active) lines.push(`  active: ${a.key} (${Math.round(a.fraction * 100)}%)`);
    for (const x of st.failed) lines.push(`  failed: ${x.key} after ${x.attempts} attempt(s): ${x.message}`);
    return lines.join('\n');
  });
}
