/** The foundation commands: simulate, train, eval, predict, demo. */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { checkOutputDirectory, checkOutputPath } from '../../io/output-path.ts';
import { DataError, ValidationError } from '../../io/errors.ts';
import { loadModel, saveModel } from '../../io/model-file.ts';
import type { BuildOptions } from '../../nn/models.ts';
import { kindsWhere, MODEL_KIND_TABLE } from '../../nn/model-kinds.ts';
import { buildModel, MODEL_KINDS, type BuiltinModelKind } from '../../nn/models.ts';
import { wasmTrainableReason } from '../../train/wasm-trainer.ts';
import { checkLearningRateSchedule, createOptimizer, type LearningRateSchedule } from '../../train/optimizers.ts';
import { jsKernels, setKernels } from '../../core/kernels.ts';
import { generateCstrDataset } from '../../systems/cstr.ts';
import { fitModelAsync, predictPhysical, testMseOf } from '../../train/pipeline.ts';
import { nodeTrainingThreads } from '../../train/distributed/training-threads.ts';
import { skillReport, testBaselines } from '../../train/metrics.ts';
import { loadSystem, SYSTEMS, type DataOptions, type SystemName } from '../systems.ts';
import { emit, epochLines, fmt, nonNegative, nonNegativeInt, numberOption, onInterrupt, positive, positiveInt, progressBar, restoreTerminal, UsageError, kernelLabel } from '../util.ts';
import { demoStages, runDemo } from './demo.ts';
import { readPredictInput } from './predict-input.ts';

interface TrainFlags {
  system: string;
  model: string;
  data?: string;
  inputs?: string;
  outputs?: string;
  window?: string;
  stride?: string;
  hidden?: string;
  layers?: string;
  epochs?: string;
  batch?: string;
  lr?: string;
  lrSchedule?: string;
  noise?: string;
  seed?: string;
  splitSeed?: string;
  spectralMode?: string;
  k?: string;
  optimizer?: string;
  patience?: string;
  precision?: string;
  kernels?: string;
  threads?: string;
  iclstmForm?: string;
  out?: string;
  force?: boolean;
  keepDiverged?: boolean;
  json?: boolean;
}

/** Data options from the shared data flags. */
export function dataOptionsFrom(f: { system: string; data?: string; inputs?: string; outputs?: string; window?: string; stride?: string; splitSeed?: string }): DataOptions {
  if (!SYSTEMS.includes(f.system as SystemName)) throw new UsageError(`--system must be one of ${SYSTEMS.join(', ')}, got '${f.system}'`);
  // Flags that would do nothing for this system are refused (issue 9 item 13).
  const unused: [string, unknown][] =
    f.system === 'cstr'
      ? [['--data', f.data], ['--inputs', f.inputs], ['--outputs', f.outputs], ['--window', f.window], ['--stride', f.stride]]
      : f.system === 'timeseries'
        ? []
        : [['--inputs', f.inputs], ['--outputs', f.outputs]];
  for (const [flag, v] of unused)
    if (v !== undefined)
      throw new UsageError(`${flag} does not apply to --system ${f.system} (${f.system === 'cstr' ? 'the CSTR data are simulated with the reference protocol' : `the ${f.system} data set has fixed columns`}); remove it`, { flag });
  const list = (v?: string) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
  return {
    system: f.system as SystemName,
    data: f.data,
    inputs: list(f.inputs),
    outputs: list(f.outputs),
    window: f.window === undefined ? undefined : numberOption('--window', f.window, 0, positiveInt, 'a positive integer'),
    stride: f.stride === undefined ? undefined : numberOption('--stride', f.stride, 0, positiveInt, 'a positive integer'),
    splitSeed: numberOption('--split-seed', f.splitSeed, 0, Number.isInteger, 'an integer'),
  };
}

/** Adds the shared data flags (--data, --inputs, --outputs, --window, --stride, --split-seed). */
export function addDataFlags(c: Command): Command {
  return c
    .option('--data <file>', 'data file (.mat or .csv) for energy, solar and timeseries')
    .option('--inputs <cols>', 'timeseries: comma-separated input columns')
    .option('--outputs <cols>', 'timeseries: comma-separated output columns')
    .option('--window <n>', 'timeseries/solar: steps per sequence')
    .option('--stride <n>', 'timeseries: steps between window starts')
    .option('--split-seed <n>', 'seed of the train/validation/test split', '0');
}

async function trainCommand(f: TrainFlags, cmd?: Command): Promise<void> {
  if (!f.out) throw new UsageError('--out MODEL.json is required', { flag: '--out' });
  checkOutputPath(f.out, { flag: '--out', kind: 'model', force: f.force });
  if (!MODEL_KINDS.includes(f.model as BuiltinModelKind)) throw new UsageError(`--model must be one of ${MODEL_KINDS.join(', ')}, got '${f.model}'`);
  const kind = f.model as BuiltinModelKind;
  const dataOptions = dataOptionsFrom(f);
  const hidden = numberOption('--hidden', f.hidden, 64, positiveInt, 'a positive integer');
  const layers = numberOption('--layers', f.layers, 2, positiveInt, 'a positive integer');
  const epochs = numberOption('--epochs', f.epochs, 200, nonNegativeInt, 'a non-negative integer');
  const batchSize = numberOption('--batch', f.batch, 256, positiveInt, 'a positive integer');
  const learningRate = numberOption('--lr', f.lr, 1e-3, positive, 'a positive number');
  const noise = numberOption('--noise', f.noise, 0, nonNegative, 'a number >= 0');
  const seed = numberOption('--seed', f.seed, 0, Number.isInteger, 'an integer');
  const k = numberOption('--k', f.k, 1, positive, 'a positive number');
  // The spectral constraint exists in some kinds only (the ICLRNN): its flags would do nothing for another model.
  const spectralKinds: readonly string[] = kindsWhere((info) => info.spectral);
  if (!spectralKinds.includes(kind))
    for (const [key, flag] of [['k', '--k'], ['spectralMode', '--spectral-mode']] as const)
      if (cmd?.getOptionValueSource(key) === 'cli') throw new UsageError(`${flag} applies to --model ${spectralKinds.join(', ')} only (the spectral constraint); remove it for --model ${kind}`, { flag });
  const mode = f.spectralMode ?? 'projection';
  if (mode !== 'projection' && mode !== 'reference') throw new UsageError(`--spectral-mode must be 'projection' or 'reference', got '${mode}'`);
  const optimizer = f.optimizer ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new UsageError(`--optimizer must be 'adam' or 'sgd', got '${optimizer}'`);
  const patience = f.patience === undefined ? undefined : numberOption('--patience', f.patience, 0, positiveInt, 'a positive integer');
  const lrSchedule = parseLearningRateSchedule(f.lrSchedule);
  const precision = f.precision ?? 'f32';
  if (precision !== 'f32' && precision !== 'f64') throw new UsageError(`--precision must be 'f32' or 'f64', got '${precision}'`, { flag: '--precision' });
  // Alternative architectures (the multi-block ICLSTM) exist for the kinds that declare forms.
  const formKinds: readonly string[] = kindsWhere((info) => info.forms !== undefined);
  const forms = ['stacked', ...new Set(formKinds.flatMap((k) => Object.keys(MODEL_KIND_TABLE[k as BuiltinModelKind].forms ?? {})))];
  const iclstmForm = (f.iclstmForm ?? 'stacked') as NonNullable<BuildOptions['iclstmForm']>;
  if (!forms.includes(iclstmForm)) throw new UsageError(`--iclstm-form must be ${forms.map((n) => `'${n}'`).join(' or ')}, got '${iclstmForm}'`, { flag: '--iclstm-form' });
  if (!formKinds.includes(kind) && cmd?.getOptionValueSource('iclstmForm') === 'cli') throw new UsageError(`--iclstm-form applies to --model ${formKinds.join(', ')} only; remove it for --model ${kind}`, { flag: '--iclstm-form' });
  const kernels = f.kernels ?? 'auto';
  if (kernels !== 'auto' && kernels !== 'js') throw new UsageError(`--kernels must be 'auto' or 'js', got '${kernels}'`, { flag: '--kernels' });
  // plain-JS f64 everywhere: also the GEMM of the code outside the wasm training path
  if (kernels === 'js') setKernels(jsKernels);
  const threads = numberOption('--threads', f.threads ?? '1', 1, positiveInt, 'a positive integer');
  if (threads > 1 && kernels === 'js') throw new UsageError('--threads applies to the WebAssembly training path; remove it or drop --kernels js', { flag: '--threads' });
  const dataset = await loadSystem(dataOptions);
  if (threads > 1) {
    const why = wasmTrainableReason(buildModel(kind, { inputSize: dataset.inputSize, outputSize: dataset.outputSize, hidden, layers, seed }), createOptimizer({ type: optimizer }).config());
    if (why) throw new UsageError(`--threads applies to the WebAssembly training path, which does not cover this model (${why}); remove --threads`, { flag: '--threads' });
  }
  const bar = progressBar(epochs, `train ${kind}`);
  const lines = epochLines(`train ${kind}`, epochs);
  // Ctrl-C / SIGTERM: stop after the running minibatch (training yields to the event loop), say so.
  const abort = new AbortController();
  let signal: 'SIGINT' | 'SIGTERM' | null = null;
  const release = onInterrupt((s) => {
    signal = s;
    abort.abort();
  });
  let result: Awaited<ReturnType<typeof fitModelAsync>>;
  try {
    result = await fitModelAsync(dataset, {
      kind, hidden, layers, epochs, batchSize, learningRate, noise, seed, optimizer,
      learningRateSchedule: lrSchedule,
      splitSeed: dataOptions.splitSeed,
      spectral: { k, mode },
      earlyStopping: patience ? { patience } : undefined,
      divergence: { action: 'stop' },
      signal: abort.signal,
      precision,
      wasm: kernels !== 'js',
      threads: threads > 1 ? nodeTrainingThreads(threads) : undefined,
      ...(formKinds.includes(kind) ? { iclstmForm } : {}),
      onEpoch: (i) => {
        const info = `loss ${fmt(i.trainLoss)} val ${fmt(i.valLoss)}`;
        bar.update(i.epoch, { info });
        lines(i.epoch, info);
      },
    });
  } finally {
    release();
    bar.stop();
  }
  const h = result.history;
  if (signal !== null) {
    restoreTerminal();
    process.stderr.write(`iclrnn: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'} at epoch ${h.epochsRun + 1} of ${epochs}; nothing was saved (${f.out} not written); rerun the command to train again\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
  for (const w of result.warnings) process.stderr.write(`iclrnn: warning: ${w.message}\n`);
  const diverged = h.diverged;
  if (diverged && !f.keepDiverged)
    throw new ValidationError(`training diverged at epoch ${diverged.epoch}: ${diverged.reason}; lower --lr (now ${learningRate}); no model saved (--keep-diverged keeps the last sound weights)`, { flag: '--lr' });
  const summary = {
    model: kind,
    system: dataOptions.system,
    epochs: h.epochsRun,
    trainLoss: h.trainLoss.at(-1) ?? null,
    valLoss: h.valLoss.at(-1) ?? null,
    testMse: result.testMse,
    baseline: result.baselines.kind,
    baselineMse: result.baselineMse,
    skill: result.skill,
    meanPredictorMse: result.baselines.meanMse,
    secondsPerEpoch: h.secondsPerEpoch,
    kernels: h.kernels ?? null,
    noise,
    seed,
    hidden,
    layers,
    parameters: result.model.parameterCount(),
    spectralMode: spectralKinds.includes(kind) ? mode : null,
    stoppedEarly: h.stoppedEarly,
    diverged: diverged !== null,
    warnings: result.warnings.map((w) => w.message),
    out: f.out,
  };
  saveModel(f.out, {
    model: result.model,
    inputScaler: result.inputScaler,
    outputScaler: result.outputScaler,
    metadata: {
      system: dataOptions.system,
      data: { ...dataOptions },
      training: { epochs, batchSize, learningRate, ...(lrSchedule.type !== 'constant' ? { learningRateSchedule: lrSchedule } : {}), optimizer, noise, spectralMode: mode, k, patience: patience ?? null, hidden, layers, kernels: h.kernels ?? null, ...(formKinds.includes(kind) ? { iclstmForm } : {}), ...(diverged ? { diverged: true, divergedAtEpoch: diverged.epoch } : {}) },
      seed,
      metrics: { trainLoss: summary.trainLoss, valLoss: summary.valLoss, testMse: result.testMse, baselineMse: result.baselineMse, skill: result.skill, secondsPerEpoch: h.secondsPerEpoch, epochs: h.epochsRun },
    },
  });
  emit(!!f.json, summary, () =>
    [
      `trained ${kind} on ${dataOptions.system}: ${h.epochsRun} epochs, ${fmt(h.secondsPerEpoch)} s/epoch (${kernelLabel(h.kernels)})`,
      `  train loss ${fmt(summary.trainLoss)}  validation loss ${fmt(summary.valLoss)}  test MSE ${fmt(result.testMse)}`,
      `  ${skillLine(result.baselines.kind, result.baselineMse, result.skill, result.baselines.meanMse)}`,
      `  saved ${f.out}`,
    ].join('\n'),
  );
  if (diverged)
    throw new ValidationError(`training diverged at epoch ${diverged.epoch}: ${diverged.reason}; lower --lr (now ${learningRate}); the weights of epoch ${diverged.epoch - 1} were saved to ${f.out} (--keep-diverged)`, { flag: '--lr' });
}

/** One line putting the test MSE beside the naive forecast (skill < 1: better than it) and the mean predictor. */
function skillLine(kind: string, baselineMse: number | null, skill: number | null, meanMse: number): string {
  const naive = baselineMse === null ? 'no naive baseline (no target is among the inputs)' : `${kind} baseline MSE ${fmt(baselineMse)}, skill (test / baseline) ${fmt(skill)}`;
  return `${naive}; mean predictor MSE ${fmt(meanMse)}`;
}

/** Registers simulate, train, eval, predict and demo. */
export function registerCore(program: Command): void {
  program
    .command('simulate')
    .description('generate a data set from a simulated plant (cstr)')
    .argument('<system>', 'system to simulate (cstr)')
    .option('--out <file>', 'write the data set (.csv or .json)')
    .option('--force', 'replace --out even when it is not an iclrnn data set')
    .option('--json', 'print a JSON summary')
    .action(async (system: string, f: { out?: string; force?: boolean; json?: boolean }) => {
      if (system !== 'cstr') throw new UsageError(`simulate supports 'cstr' only, got '${system}'`);
      if (f.out) {
        const ext = extname(f.out).toLowerCase();
        if (ext !== '.json' && ext !== '.csv') throw new UsageError(`--out must end in .csv or .json, got '${f.out}'`, { flag: '--out' });
        checkOutputPath(f.out, { flag: '--out', kind: 'dataset', force: f.force });
      }
      const d = generateCstrDataset();
      if (f.out) {
        const ext = extname(f.out).toLowerCase();
        if (ext === '.json') {
          writeFileAtomic(f.out, JSON.stringify({ name: d.name, count: d.count, steps: d.steps, inputNames: d.inputNames, outputNames: d.outputNames, inputs: Array.from(d.inputs), targets: Array.from(d.targets) }));
        } else if (ext === '.csv') {
          const lines = [['sample', 'step', ...d.inputNames, ...d.outputNames.map((n) => `next_${n}`)].join(',')];
          for (let s = 0; s < d.count; s++)
            for (let t = 0; t < d.steps; t++) {
              const r = s * d.steps + t;
              lines.push([s, t, ...d.inputs.subarray(r * d.inputSize, (r + 1) * d.inputSize), ...d.targets.subarray(r * d.outputSize, (r + 1) * d.outputSize)].join(','));
            }
          writeFileAtomic(f.out, lines.join('\n') + '\n');
        } else throw new UsageError(`--out must end in .csv or .json, got '${f.out}'`);
      }
      const summary = { system: 'cstr', samples: d.count, initialStates: d.initialStateCount, steps: d.steps, inputs: d.inputNames, outputs: d.outputNames, out: f.out ?? null };
      emit(!!f.json, summary, () => `cstr: ${d.count} samples from ${d.initialStateCount} initial states x 16 input pairs, ${d.steps} steps each${f.out ? `; wrote ${f.out}` : ''}`);
    });

  addDataFlags(
    program
      .command('train')
      .description('train a model on a system')
      .requiredOption('--system <name>', `system: ${SYSTEMS.join(', ')}`)
      .requiredOption('--model <kind>', `model: ${MODEL_KINDS.join(', ')}`)
      .option('--hidden <n>', 'units per layer', '64')
      .option('--layers <n>', 'recurrent layers', '2')
      .option('--epochs <n>', 'epochs', '200')
      .option('--batch <n>', 'batch size', '256')
      .option('--lr <x>', 'learning rate', '0.001')
      .option('--lr-schedule <s>', "learning rate over the epochs: 'constant', 'cosine[:MIN]' (cosine decay from --lr to MIN x --lr at the last epoch; MIN default 0.01) or 'step:EVERY:FACTOR' (times FACTOR every EVERY epochs)", 'constant')
      .option('--noise <sigma>', 'Gaussian noise on the scaled training targets', '0')
      .option('--seed <n>', 'seed of initialisation, noise and shuffling', '0')
      .option('--spectral-mode <mode>', "ICLRNN spectral constraint: 'projection' (only shrink) or 'reference' (always divide by sigma + eps)", 'projection')
      .option('--k <x>', 'Lipschitz coefficient of the spectral constraint', '1')
      .option('--optimizer <name>', 'adam or sgd', 'adam')
      .option('--patience <n>', 'early stopping patience (epochs)')
      .option('--precision <p>', "training arithmetic of the WebAssembly kernels: 'f32' or 'f64' (certificates and MPC always compute in f64)", 'f32')
      .option('--iclstm-form <form>', "ICLSTM architecture: 'stacked' (recurrent layers, then the residual dense head) or 'blocks' (the published multi-block ICLSTM: --layers blocks of ICLSTM -> Dense + [x, -x])", 'stacked')
      .option('--kernels <k>', "'auto' (WebAssembly SIMD where the model and engine allow it) or 'js' (plain-JavaScript f64)", 'auto')
      .option('--threads <n>', 'threads that share each minibatch of the WebAssembly training path (RNN, ICLRNN, LSTM, GRU, ICRNN); same n and seed give bit-identical models', '1')
      .option('--out <file>', 'model file to write')
      .option('--force', 'replace --out even when it is not an iclrnn model file')
      .option('--keep-diverged', 'save the model even when training diverged (the weights of the last sound epoch; the exit status stays 2)')
      .option('--json', 'print a JSON summary'),
  ).action(trainCommand);

  addDataFlags(
    program
      .command('eval')
      .description('test MSE of a model on the test split of its system')
      .argument('<model>', 'model file')
      .option('--system <name>', 'system (default: the one the model was trained on)')
      .option('--json', 'print JSON'),
  ).action(async (file: string, f: { system?: string; data?: string; inputs?: string; outputs?: string; window?: string; stride?: string; splitSeed?: string; json?: boolean }) => {
    const stored = loadModel(file);
    const saved = (stored.metadata.data ?? {}) as Partial<DataOptions>;
    const system = f.system ?? stored.metadata.system;
    if (!system) throw new UsageError(`${file} does not record its system; pass --system`);
    const opts = dataOptionsFrom({
      system,
      data: f.data ?? saved.data,
      inputs: f.inputs ?? saved.inputs?.join(','),
      outputs: f.outputs ?? saved.outputs?.join(','),
      window: f.window ?? (saved.window !== undefined ? String(saved.window) : undefined),
      stride: f.stride ?? (saved.stride !== undefined ? String(saved.stride) : undefined),
      splitSeed: f.splitSeed !== '0' && f.splitSeed !== undefined ? f.splitSeed : String(saved.splitSeed ?? 0),
    });
    const dataset = await loadSystem(opts);
    const testMse = testMseOf(stored, dataset, opts.splitSeed);
    const sk = skillReport(testMse, testBaselines(dataset, opts.splitSeed, stored.outputScaler));
    emit(
      !!f.json,
      { model: stored.model.spec.kind, system: opts.system, testMse, baseline: sk.kind, baselineMse: sk.baselineMse, skill: sk.skill, meanPredictorMse: sk.meanMse },
      () => `${file}: test MSE ${fmt(testMse, 4)} on ${opts.system}\n  ${skillLine(sk.kind, sk.baselineMse, sk.skill, sk.meanMse)}`,
    );
  });

  program
    .command('predict')
    .description('predict output sequences for input sequences')
    .argument('<model>', 'model file')
    .requiredOption('--input <file>', 'JSON {"X": [[...]]} (one sequence) or {"X": [[[...]]]} (batch), or .mat with variable U')
    .option('--scaled', 'X and Y are in the model scaled space (no scalers applied)')
    .option('--json', 'print JSON')
    .action(async (file: string, f: { input: string; scaled?: boolean; json?: boolean }) => {
      const stored = loadModel(file);
      if (!existsSync(f.input)) throw new UsageError(`${f.input}: input file not found`);
      const inp = await readPredictInput(f.input, stored.model.inputSize);
      const m = f.scaled ? { ...stored, inputScaler: null, outputScaler: null } : stored;
      const y = predictPhysical(m, inp.x, inp.batch, inp.steps);
      const no = stored.model.outputSize;
      const seq = (b: number) => Array.from({ length: inp.steps }, (_, t) => Array.from(y.subarray((b * inp.steps + t) * no, (b * inp.steps + t + 1) * no)));
      const Y = inp.batched ? Array.from({ length: inp.batch }, (_, b) => seq(b)) : seq(0);
      emit(!!f.json, { Y }, () => JSON.stringify({ Y }, null, 1));
    });

  program
    .command('demo')
    .description('generate CSTR data, train an ICLRNN for about a minute, evaluate and save it')
    .option('--out-dir <dir>', 'where to write the model and report', 'iclrnn-demo')
    .option('--seconds <s>', 'training time budget', '60')
    .option('--force', 'replace files in --out-dir that are not iclrnn files of the same kind')
    .option('--json', 'print a JSON summary')
    .action(async (f: { outDir: string; seconds: string; force?: boolean; json?: boolean }) => {
      const seconds = numberOption('--seconds', f.seconds, 60, positive, 'a positive number');
      // Where the demo writes, checked before any work (issue 9 items 1 and 2).
      checkOutputDirectory(f.outDir, { flag: '--out-dir' });
      if (existsSync(f.outDir)) {
        checkOutputPath(join(f.outDir, 'model.json'), { flag: '--out-dir', kind: 'model', force: f.force });
        checkOutputPath(join(f.outDir, 'report.html'), { flag: '--out-dir', kind: 'report', force: f.force });
      }
      await runDemo({ outDir: f.outDir, seconds, json: !!f.json }, await demoStages());
    });
}

/** Reads a JSON file, naming it in errors. */
export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new DataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { file: path });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // JSON.parse quotes the text around the error: keep the message printable and short.
    const why = (e as Error).message.replace(/[^\x20-\x7e]/g, '?').slice(0, 160);
    throw new DataError(`${path}: not valid JSON (${why})`, { file: path });
  }
}

/** `--lr-schedule`: constant, cosine[:MIN] or step:EVERY:FACTOR (a usage error naming the flag otherwise). */
export function parseLearningRateSchedule(text: string | undefined): LearningRateSchedule {
  const t = (text ?? 'constant').trim();
  const bad = (why: string) => new UsageError(`--lr-schedule ${JSON.stringify(t)}: ${why}`, { flag: '--lr-schedule' });
  const parts = t.split(':');
  const num = (s: string) => (/^\s*[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?\s*$/i.test(s) ? Number(s) : NaN);
  let schedule: LearningRateSchedule;
  if (parts[0] === 'constant' && parts.length === 1) schedule = { type: 'constant' };
  else if (parts[0] === 'cosine' && parts.length <= 2) schedule = parts.length === 2 ? { type: 'cosine', minFactor: num(parts[1]) } : { type: 'cosine' };
  else if (parts[0] === 'step' && parts.length === 3) schedule = { type: 'step', every: num(parts[1]), factor: num(parts[2]) };
  else throw bad("expected 'constant', 'cosine', 'cosine:MIN' or 'step:EVERY:FACTOR'");
  try {
    checkLearningRateSchedule(schedule);
  } catch (e) {
    if (e instanceof ValidationError) throw bad(e.message);
    throw e;
  }
  return schedule;
}
