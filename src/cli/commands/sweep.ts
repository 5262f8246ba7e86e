/**
 * `iclrnn sweep`: trains every model x noise x seed cell, records test MSE, the empirical
 * Lipschitz estimate (and a certified bound when available) and the training time, writes the
 * results file atomically after every cell (so Ctrl-C / kill never loses finished cells), resumes
 * by skipping finished cells of the same configuration, and optionally writes the HTML report.
 * Also adds the report stage to `iclrnn demo`.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { loadModel, saveModel } from '../../io/model-file.ts';
import type { SequenceModel } from '../../nn/model.ts';
import { MODEL_KINDS, type BuiltinModelKind } from '../../nn/models.ts';
import { renderReport, reportRowsFromSweep, type MpcRun, type ReportRow } from '../../report/html.ts';
import { cstrPhasePortraits, type PhasePortraitGroup } from '../../report/phase.ts';
import type { SequenceDataset } from '../../systems/dataset.ts';
import { fitModel, type ScaledModel } from '../../train/pipeline.ts';
import {
  cellKey,
  empiricalLipschitz,
  initSweepResults,
  runSweep,
  SweepConfigMismatchError,
  SweepFormatError,
  type SweepCellMetrics,
  type SweepConfig,
  type SweepLipschitz,
  type SweepResults,
} from '../../train/sweep.ts';
import type { TrainingData } from '../../train/trainer.ts';
import { addCommands } from '../main.ts';
import { loadSystem, SYSTEMS } from '../systems.ts';
import { emit, fmt, nonNegativeInt, numberList, numberOption, positive, positiveInt, progressBar, UsageError } from '../util.ts';
import { addDataFlags, dataOptionsFrom, readJsonFile } from './core.ts';
import { addDemoStage } from './demo.ts';
import { certify } from '../../certify/certify.ts';

/** Default model order of the sweep (the issue's). */
export const SWEEP_DEFAULT_MODELS: readonly BuiltinModelKind[] = ['iclrnn', 'icrnn', 'lrnn', 'rnn', 'lstm', 'iclstm'];
export const SWEEP_DEFAULT_NOISE: readonly number[] = [0, 0.3, 0.6, 0.9];
/** Perturbation size of the reference Lipschitz protocol. */
const LIPSCHITZ_EPS = 1e-4;

interface SweepFlags {
  system: string;
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


/** A scaled model's certified Lipschitz upper bound; null with a reason when none is available. */
function certifiedUpperBound(model: SequenceModel, steps: number): { value: number | null; reason: string | null } {
  const report = certify(model, { steps, attack: false, jensen: false, domainBound: false, sampleCount: 1 });
  return { value: report.lipschitz.upperBound, reason: report.lipschitz.upperBoundReason };
}

/** Empirical estimate (reference protocol) on the scaled test inputs, plus the certified bound. */
export function lipschitzOf(model: SequenceModel, test: TrainingData, samples: number, seed: number): SweepLipschitz {
  const out: SweepLipschitz = { empirical: null, upperBound: null, method: 'reference-perturbation', eps: LIPSCHITZ_EPS, samples: 0, reason: null };
  const reasons: string[] = [];
  try {
    const n = samples > 0 ? Math.min(samples, test.count) : test.count;
    out.samples = n;
    const v = empiricalLipschitz(model, test.inputs, n, test.steps, seed, { eps: LIPSCHITZ_EPS });
    if (Number.isFinite(v)) out.empirical = v;
    else reasons.push(`empirical estimate is ${v}`);
  } catch (e) {
    reasons.push(`empirical estimate failed: ${(e as Error).message}`);
  }
  try {
    const b = certifiedUpperBound(model, test.steps);
    out.upperBound = b.value;
    if (b.reason) reasons.push(b.reason);
  } catch (e) {
    reasons.push(`upper bound failed: ${(e as Error).message}`);
  }
  out.reason = reasons.length ? reasons.join('; ') : null;
  return out;
}

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
  if (!f.out) throw new UsageError('--out RESULTS.json is required');
  if (f.report !== undefined && resolve(f.report) === resolve(f.out)) throw new UsageError('--report and --out must be different files');
  const models = parseModels(f.models);
  const noise = parseNoise(f.noise);
  const dataOptions = dataOptionsFrom(f);
  const epochs = numberOption('--epochs', f.epochs, 200, nonNegativeInt, 'a non-negative integer');
  const nSeeds = numberOption('--seeds', f.seeds, 1, positiveInt, 'a positive integer');
  const firstSeed = numberOption('--seed', f.seed, 0, Number.isInteger, 'an integer');
  const hidden = numberOption('--hidden', f.hidden, 64, positiveInt, 'a positive integer');
  const layers = numberOption('--layers', f.layers, 2, positiveInt, 'a positive integer');
  const batchSize = numberOption('--batch', f.batch, 256, positiveInt, 'a positive integer');
  const learningRate = numberOption('--lr', f.lr, 1e-3, positive, 'a positive number');
  const lipschitzSamples = numberOption('--lipschitz-samples', f.lipschitzSamples, 0, nonNegativeInt, 'a non-negative integer (0: the whole test set)');
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
    lipschitz: { method: 'reference-perturbation', eps: LIPSCHITZ_EPS, samples: lipschitzSamples },
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
  const pending = models.flatMap((m) => noise.flatMap((n) => seeds.map((s) => ({ m, n, s })))).filter(
    ({ m, n, s }) => start.cells[cellKey(m, n, s)]?.status !== 'done',
  );
  const dataset: SequenceDataset | null = pending.length ? await loadSystem(dataOptions) : null;
  const modelsDir = modelsDirOf(f.out);
  const total = models.length * noise.length * seeds.length;
  const bar = progressBar(Math.max(1, total * Math.max(1, epochs)), `sweep ${dataOptions.system}`);
  let base = 0;

  const outcome = await runSweep({
    config,
    models,
    noise,
    seeds,
    results: existing,
    save: (r) => writeFileAtomic(f.out!, JSON.stringify(r, null, 1) + '\n'),
    runCell: (cell) => {
      const kind = cell.model as BuiltinModelKind;
      const t0 = performance.now();
      const r = fitModel(dataset!, {
        kind, hidden, layers, epochs, batchSize, learningRate, noise: cell.noise, seed: cell.seed,
        splitSeed: dataOptions.splitSeed,
        spectral: { k: 1, mode: 'projection' },
        onEpoch: (i) => bar.update(base + i.epoch, { info: `${kind} σ=${cell.noise} seed ${cell.seed} epoch ${i.epoch}/${i.epochs} val ${fmt(i.valLoss)}` }),
      });
      const trainSeconds = (performance.now() - t0) / 1000;
      const lipschitz = lipschitzOf(r.model, r.data.test, lipschitzSamples, cell.seed + 7);
      const h = r.history;
      let modelFile: string | null = null;
      if (saveModels) {
        const path = join(modelsDir, `${kind}_noise${cell.noise}_seed${cell.seed}.json`);
        saveModel(path, {
          model: r.model,
          inputScaler: r.inputScaler,
          outputScaler: r.outputScaler,
          metadata: {
            system: dataOptions.system,
            data: { ...dataOptions },
            training: { epochs, batchSize, learningRate, optimizer: 'adam', noise: cell.noise, spectralMode: 'projection', k: 1, patience: null, hidden, layers },
            seed: cell.seed,
            metrics: { trainLoss: h.trainLoss.at(-1) ?? null, valLoss: h.valLoss.at(-1) ?? null, testMse: r.testMse, secondsPerEpoch: h.secondsPerEpoch, epochs: h.epochsRun },
          },
        });
        modelFile = relative(dirname(resolve(f.out!)), resolve(path));
      }
      const metrics: SweepCellMetrics = {
        testMse: r.testMse,
        lipschitz,
        trainSeconds,
        secondsPerEpoch: h.secondsPerEpoch,
        epochsRun: h.epochsRun,
        trainLoss: h.trainLoss.at(-1) ?? null,
        valLoss: h.valLoss.at(-1) ?? null,
        parameters: r.model.parameterCount(),
        modelFile,
      };
      return metrics;
    },
    onCellError: (e) => (e instanceof RangeError && /diverged/.test(e.message) ? 'record' : 'throw'),
    onCell: (ev) => {
      base = ev.done * Math.max(1, epochs);
      bar.update(base, { info: `${ev.cell.model} σ=${ev.cell.noise} seed ${ev.cell.seed} ${ev.outcome}` });
    },
  }).finally(() => bar.stop());

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
    cells,
  };
  emit(!!f.json, summary, () => {
    const lines = [
      `sweep on ${dataOptions.system}: ${outcome.total} cells (${outcome.ran} trained, ${outcome.skipped} already done${outcome.failed ? `, ${outcome.failed} failed` : ''}), ${epochs} epochs each`,
      `  ${'model'.padEnd(7)} ${'noise'.padStart(5)} ${'seed'.padStart(4)} ${'test MSE'.padStart(10)} ${'Lipschitz'.padStart(10)} ${'time'.padStart(8)}`,
    ];
    for (const c of cells)
      lines.push(
        `  ${c.model.padEnd(7)} ${String(c.noise).padStart(5)} ${String(c.seed).padStart(4)} ${(c.status === 'failed' ? 'failed' : fmt(c.testMse)).padStart(10)} ${fmt(c.lipschitz).padStart(10)} ${(c.trainSeconds === null ? '-' : `${fmt(c.trainSeconds)} s`).padStart(8)}`,
      );
    lines.push(`  results: ${f.out}${saveModels ? ` (models in ${modelsDir})` : ''}`);
    if (reportPath) lines.push(`  report: ${reportPath}`);
    return lines.join('\n');
  });
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
        } catch (e) {
          notes.push(`phase portrait of ${m} at σ = ${level} skipped: ${(e as Error).message}`);
        }
      }
      if (!groups.length && !notes.length) notes.push(`no saved models at σ = ${level} for phase portraits`);
    } else if (Object.keys(results.cells).length) notes.push('no saved model files: phase portraits skipped (run without --no-save-models)');
  }
  const epochs = results.config.epochs;
  const html = renderReport({
    title: `iclrnn sweep: ${system ?? 'unknown system'}`,
    subtitle: `Every model × training noise × seed trained ${typeof epochs === 'number' ? `for ${epochs} epochs` : ''} and evaluated on the clean test split. Results: ${basename(resultsPath)}.`,
    system,
    generatedAt: new Date().toISOString(),
    config: results.config,
    rows,
    phasePortraits: groups,
    mpcRuns: null,
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

addDemoStage(async (ctx) => {
  const path = join(ctx.options.outDir, 'report.html');
  const r = ctx.result;
  const lipschitz = lipschitzOf(r.model, r.data.test, 1000, 7);
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
  ctx.lines.push(`  empirical Lipschitz estimate ${fmt(lipschitz.empirical)} (published at σ = 0.9: ICLRNN ~1.0, RNN ~67, LSTM ~137)`);
  ctx.lines.push(`  report written to ${path}`);
}, 100);

addCommands((program: Command) => {
  addDataFlags(
    program
      .command('sweep')
      .description('train every model x noise (x seed), record test MSE, Lipschitz estimates and timings; resumable')
      .requiredOption('--system <name>', `system: ${SYSTEMS.join(', ')}`)
      .option('--models <list>', `comma-separated models (${MODEL_KINDS.join(', ')})`, SWEEP_DEFAULT_MODELS.join(','))
      .option('--noise <list>', 'comma-separated noise levels sigma', SWEEP_DEFAULT_NOISE.join(','))
      .option('--epochs <n>', 'epochs per cell', '200')
      .option('--seeds <k>', 'seeds per cell (seed, seed+1, ...)', '1')
      .option('--seed <n>', 'first seed', '0')
      .option('--hidden <n>', 'units per layer', '64')
      .option('--layers <n>', 'recurrent layers', '2')
      .option('--batch <n>', 'batch size', '256')
      .option('--lr <x>', 'learning rate', '0.001')
      .option('--lipschitz-samples <n>', 'test sequences used by the Lipschitz estimate (0: all)', '0')
      .option('--portrait-noise <sigma>', 'noise level of the models in the CSTR phase portraits (default: the highest)')
      .option('--no-save-models', 'do not keep the trained models next to the results file')
      .option('--out <file>', 'results file (JSON; resumed when it exists)')
      .option('--report <file>', 'also write the HTML report')
      .option('--json', 'print the final summary as one JSON object'),
  ).action(sweepCommand);
});
