/**
 * `iclrnn study`: the closed-loop safety study of the CSTR LMPC on the real plant (see
 * `runCstrStudy`): a grid of initial states inside V < 372 plus the four safety states, the
 * first-principles predictor and trained models under each safety mode, with and without bounded
 * process noise. Models come from `--model KIND=FILE` or a cache folder (trained there for
 * `--epochs` when missing).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CSTR_SAFETY_MODES, type CstrSafetyMode } from '../../apps/cstr-lmpc.ts';
import { CSTR_STUDY_NOISE, cstrStudyStates, runCstrStudy, type StudyPredictor, type StudyResult } from '../../apps/cstr-study.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { loadModel, saveModel } from '../../io/model-file.ts';
import { checkOutputPath, ensureDirectory } from '../../io/output-path.ts';
import { MODEL_KINDS, type BuiltinModelKind } from '../../nn/models.ts';
import { renderReport } from '../../report/html.ts';
import { generateCstrDataset } from '../../systems/cstr.ts';
import { fitModel } from '../../train/pipeline.ts';
import { emit, fmt, numberList, numberOption, positiveInt, UsageError } from '../util.ts';

interface StudyFlags {
  kinds: string;
  model?: string[];
  modelsDir: string;
  epochs: string;
  modes: string;
  noise: string | boolean;
  grid: string;
  maxSteps: string;
  seed: string;
  out?: string;
  report?: string;
  json?: boolean;
}

export const STUDY_DEFAULT_KINDS: readonly BuiltinModelKind[] = ['iclrnn', 'icrnn', 'iclstm', 'rnn', 'lstm'];

/** Loads `--model KIND=FILE` entries and the cached / freshly trained models of the other kinds. */
function studyPredictors(f: StudyFlags, kinds: BuiltinModelKind[], epochs: number, log: (s: string) => void): StudyPredictor[] {
  const given = new Map<string, string>();
  for (const entry of f.model ?? []) {
    const m = /^([a-z]+)=(.+)$/.exec(entry);
    if (!m || !(MODEL_KINDS as readonly string[]).includes(m[1])) throw new UsageError(`--model must be KIND=FILE with KIND one of ${MODEL_KINDS.join(', ')}, got '${entry}'`);
    given.set(m[1], m[2]);
  }
  const out: StudyPredictor[] = [{ label: 'first-principles', kind: 'first-principles', source: 'first-principles' }];
  let data: ReturnType<typeof generateCstrDataset> | null = null;
  for (const kind of kinds) {
    const file = given.get(kind);
    if (file) {
      const m = loadModel(file);
      if (m.model.spec.kind !== kind) throw new UsageError(`--model ${kind}=${file}: the file holds a '${m.model.spec.kind}' model`);
      if (m.metadata.system !== undefined && m.metadata.system !== 'cstr') throw new UsageError(`--model ${kind}=${file} was trained on '${m.metadata.system}', not the CSTR`);
      const ep = m.metadata.training?.epochs;
      out.push({ label: `${kind}${typeof ep === 'number' ? ` (${ep} epochs)` : ''}`, kind, source: m });
      continue;
    }
    const path = join(f.modelsDir, `${kind}-e${epochs}.json`);
    if (existsSync(path)) {
      out.push({ label: `${kind} (${epochs} epochs)`, kind, source: loadModel(path) });
      continue;
    }
    data ??= generateCstrDataset();
    log(`study: training ${kind} for ${epochs} epochs (cached in ${path})`);
    const r = fitModel(data, { kind, hidden: 64, layers: 2, epochs, learningRate: 1e-3, seed: 0 });
    ensureDirectory(f.modelsDir, '--models-dir'); // not mkdirSync recursive: it spins forever under /proc (Node 20)
    saveModel(path, {
      model: r.model, inputScaler: r.inputScaler, outputScaler: r.outputScaler,
      metadata: {
        system: 'cstr', data: { system: 'cstr', splitSeed: 0 },
        training: { epochs, batchSize: 256, learningRate: 1e-3, optimizer: 'adam', noise: 0, spectralMode: 'projection', k: 1, hidden: 64, layers: 2 },
        seed: 0, metrics: { testMse: r.testMse, trainLoss: r.history.trainLoss.at(-1) ?? null, valLoss: r.history.valLoss.at(-1) ?? null },
      },
    });
    out.push({ label: `${kind} (${epochs} epochs)`, kind, source: r });
  }
  return out;
}

/** The study's table as text. */
export function studyTable(s: StudyResult): string {
  const lines = [
    `closed-loop safety study: ${s.config.states} initial states inside V < ${s.config.level}, at most ${s.config.maxSteps} steps${s.config.noise ? `, noise |w| <= (${s.config.noise.join(', ')})` : ''}`,
    `  ${'predictor'.padEnd(24)} ${'safety'.padEnd(11)} ${'noise'.padEnd(5)} ${'inside'.padStart(7)} ${'max V'.padStart(8)} ${'target'.padStart(7)} ${'steps'.padStart(6)} ${'vs FP'.padStart(6)} ${'ms med'.padStart(7)} ${'ms p95'.padStart(7)} ${'fallbk'.padStart(7)} ${'eta'.padStart(6)}`,
  ];
  const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
  for (const r of s.rows)
    lines.push(
      `  ${r.predictor.padEnd(24)} ${r.safety.padEnd(11)} ${(r.noisy ? 'yes' : 'no').padEnd(5)} ${pct(r.insideFraction).padStart(7)} ${fmt(r.maxV, 4).padStart(8)} ${pct(r.convergedFraction).padStart(7)} ${(r.meanSteps === null ? '-' : r.meanSteps.toFixed(1)).padStart(6)} ${(r.stepsRatio === null ? '-' : r.stepsRatio.toFixed(2)).padStart(6)} ${fmt(r.solveMs.median, 3).padStart(7)} ${fmt(r.solveMs.p95, 3).padStart(7)} ${pct(r.fallbackFraction).padStart(7)} ${(r.errorBound === null ? '-' : r.errorBound.toFixed(2)).padStart(6)}`,
    );
  return lines.join('\n');
}

async function studyCommand(f: StudyFlags): Promise<void> {
  if (f.out) checkOutputPath(f.out, { flag: '--out', kind: 'mpc-result', forceFlag: null });
  if (f.report) checkOutputPath(f.report, { flag: '--report', kind: 'report', forceFlag: null });
  const kinds = f.kinds.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of kinds) if (!(MODEL_KINDS as readonly string[]).includes(k)) throw new UsageError(`--kinds: unknown model '${k}' (${MODEL_KINDS.join(', ')})`);
  const modes = f.modes.split(',').map((s) => s.trim()).filter(Boolean);
  if (!modes.length) throw new UsageError('--modes must name at least one safety mode');
  for (const m of modes) if (!CSTR_SAFETY_MODES.includes(m as CstrSafetyMode)) throw new UsageError(`--modes: unknown safety mode '${m}' (${CSTR_SAFETY_MODES.join(', ')})`);
  const epochs = numberOption('--epochs', f.epochs, 30, positiveInt, 'a positive integer');
  const grid = numberOption('--grid', f.grid, 16, (x) => positiveInt(x) && x >= 4 && x <= 60, 'an integer in 4..60');
  const maxSteps = numberOption('--max-steps', f.maxSteps, 40, (x) => positiveInt(x) && x <= 500, 'an integer in 1..500');
  const seed = numberOption('--seed', f.seed, 0, (x) => Number.isInteger(x) && x >= 0, 'a non-negative integer');
  let noise: [number, number] | null;
  if (f.noise === false) noise = null;
  else if (f.noise === true || f.noise === undefined) noise = [CSTR_STUDY_NOISE[0], CSTR_STUDY_NOISE[1]];
  else {
    const b = numberList('--noise', f.noise, 2);
    if (b.some((v) => !(v >= 0))) throw new UsageError(`--noise bounds must be >= 0, got '${f.noise}'`);
    noise = [b[0], b[1]];
  }
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const predictors = studyPredictors(f, kinds as BuiltinModelKind[], epochs, log);
  const states = cstrStudyStates(grid);
  let last = 0;
  const result = runCstrStudy(predictors, {
    states, modes: modes as CstrSafetyMode[], noise, maxSteps, seed,
    onRun: (done, total) => {
      const now = Date.now();
      if (!f.json && process.stderr.isTTY && (now - last > 500 || done === total)) {
        last = now;
        process.stderr.write(`\rstudy: ${done}/${total} closed loops`);
        if (done === total) process.stderr.write('\n');
      }
    },
  });
  if (f.out) writeFileAtomic(f.out, JSON.stringify({ format: 'iclrnn-mpc', kind: 'study', ...result }));
  if (f.report) {
    const html = renderReport({
      title: 'iclrnn study: closed-loop safety of the CSTR LMPC',
      subtitle: 'Does the true plant stay inside the stability region V < 372 when the LMPC predicts with a learned model?',
      system: 'cstr',
      generatedAt: new Date().toISOString(),
      config: { ...result.config, predictors: predictors.map((p) => p.label).join(', ') },
      showPublished: false,
      study: result,
      requireSections: ['study'],
    });
    writeFileAtomic(f.report, html);
  }
  const summary = { config: result.config, errorBounds: Object.fromEntries(Object.entries(result.errorBounds).map(([k, e]) => [k, { errorBound: e.errorBound, maxObserved: e.maxObserved, p99: e.p99, componentMax: e.componentMax, samples: e.samples }])), rows: result.rows, out: f.out ?? null, report: f.report ?? null };
  emit(!!f.json, summary, () => studyTable(result) + (f.out ? `\n  results: ${f.out}` : '') + (f.report ? `\n  report: ${f.report}` : ''));
}

/** Registers `iclrnn study`. */
export function registerStudy(program: Command): void {
  program
    .command('study')
    .description('closed-loop safety study of the CSTR LMPC on the real plant: many initial states, learned predictors, safety modes, noise')
    .option('--kinds <list>', 'trained models to include', STUDY_DEFAULT_KINDS.join(','))
    .option('--model <kind=file...>', 'use this model file for a kind (repeatable), e.g. iclrnn=iclrnn-200.json')
    .option('--models-dir <dir>', 'cache of trained study models (<kind>-e<epochs>.json; trained when missing)', '.cache/iclrnn-study')
    .option('--epochs <n>', 'epochs of the models trained for the study', '30')
    .option('--modes <list>', `safety modes of the learned predictors (${CSTR_SAFETY_MODES.join(', ')})`, 'nominal,tightened')
    .option('--noise <w1,w2>', `bounds of the process noise of the noisy runs (default ${CSTR_STUDY_NOISE.join(',')})`)
    .option('--no-noise', 'noise-free runs only')
    .option('--grid <n>', 'n x n grid over the region for the initial states', '16')
    .option('--max-steps <n>', 'closed-loop steps per run', '40')
    .option('--seed <n>', 'noise seed of the first run', '0')
    .option('--out <file>', 'write the whole study (every run) as JSON')
    .option('--report <file>', 'write the HTML report (table and phase-plane picture of all runs)')
    .option('--json', 'print the summary as JSON')
    .action(studyCommand);
}
