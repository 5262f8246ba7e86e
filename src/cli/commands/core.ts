/** The foundation commands: simulate, train, eval, predict, demo. */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.ts';
import { DataError } from '../../io/errors.ts';
import { loadModel, saveModel } from '../../io/model-file.ts';
import { MODEL_KINDS, type BuiltinModelKind } from '../../nn/models.ts';
import { generateCstrDataset } from '../../systems/cstr.ts';
import { fitModel, predictPhysical, testMseOf } from '../../train/pipeline.ts';
import { loadSystem, SYSTEMS, type DataOptions, type SystemName } from '../systems.ts';
import { emit, fmt, nonNegative, nonNegativeInt, numberOption, positive, positiveInt, progressBar, UsageError } from '../util.ts';
import { runDemo } from './demo.ts';
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
  noise?: string;
  seed?: string;
  splitSeed?: string;
  spectralMode?: string;
  k?: string;
  optimizer?: string;
  patience?: string;
  out?: string;
  json?: boolean;
}

/** Data options from the shared data flags. */
export function dataOptionsFrom(f: { system: string; data?: string; inputs?: string; outputs?: string; window?: string; stride?: string; splitSeed?: string }): DataOptions {
  if (!SYSTEMS.includes(f.system as SystemName)) throw new UsageError(`--system must be one of ${SYSTEMS.join(', ')}, got '${f.system}'`);
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

async function trainCommand(f: TrainFlags): Promise<void> {
  if (!f.out) throw new UsageError('--out MODEL.json is required');
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
  const mode = f.spectralMode ?? 'projection';
  if (mode !== 'projection' && mode !== 'reference') throw new UsageError(`--spectral-mode must be 'projection' or 'reference', got '${mode}'`);
  const optimizer = f.optimizer ?? 'adam';
  if (optimizer !== 'adam' && optimizer !== 'sgd') throw new UsageError(`--optimizer must be 'adam' or 'sgd', got '${optimizer}'`);
  const patience = f.patience === undefined ? undefined : numberOption('--patience', f.patience, 0, positiveInt, 'a positive integer');
  const dataset = await loadSystem(dataOptions);
  const bar = progressBar(epochs, `train ${kind}`);
  const result = fitModel(dataset, {
    kind, hidden, layers, epochs, batchSize, learningRate, noise, seed, optimizer,
    splitSeed: dataOptions.splitSeed,
    spectral: { k, mode },
    earlyStopping: patience ? { patience } : undefined,
    onEpoch: (i) => bar.update(i.epoch, { info: `loss ${fmt(i.trainLoss)} val ${fmt(i.valLoss)}` }),
  });
  bar.stop();
  const h = result.history;
  const summary = {
    model: kind,
    system: dataOptions.system,
    epochs: h.epochsRun,
    trainLoss: h.trainLoss.at(-1) ?? null,
    valLoss: h.valLoss.at(-1) ?? null,
    testMse: result.testMse,
    secondsPerEpoch: h.secondsPerEpoch,
    noise,
    seed,
    hidden,
    layers,
    parameters: result.model.parameterCount(),
    spectralMode: kind === 'iclrnn' ? mode : null,
    stoppedEarly: h.stoppedEarly,
    out: f.out,
  };
  saveModel(f.out, {
    model: result.model,
    inputScaler: result.inputScaler,
    outputScaler: result.outputScaler,
    metadata: {
      system: dataOptions.system,
      data: { ...dataOptions },
      training: { epochs, batchSize, learningRate, optimizer, noise, spectralMode: mode, k, patience: patience ?? null, hidden, layers },
      seed,
      metrics: { trainLoss: summary.trainLoss, valLoss: summary.valLoss, testMse: result.testMse, secondsPerEpoch: h.secondsPerEpoch, epochs: h.epochsRun },
    },
  });
  emit(!!f.json, summary, () =>
    [
      `trained ${kind} on ${dataOptions.system}: ${h.epochsRun} epochs, ${fmt(h.secondsPerEpoch)} s/epoch`,
      `  train loss ${fmt(summary.trainLoss)}  validation loss ${fmt(summary.valLoss)}  test MSE ${fmt(result.testMse)}`,
      `  saved ${f.out}`,
    ].join('\n'),
  );
}

/** Registers simulate, train, eval, predict and demo. */
export function registerCore(program: Command): void {
  program
    .command('simulate')
    .description('generate a data set from a simulated plant (cstr)')
    .argument('<system>', 'system to simulate (cstr)')
    .option('--out <file>', 'write the data set (.csv or .json)')
    .option('--json', 'print a JSON summary')
    .action(async (system: string, f: { out?: string; json?: boolean }) => {
      if (system !== 'cstr') throw new UsageError(`simulate supports 'cstr' only, got '${system}'`);
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
      .option('--noise <sigma>', 'Gaussian noise on the scaled training targets', '0')
      .option('--seed <n>', 'seed of initialisation, noise and shuffling', '0')
      .option('--spectral-mode <mode>', "ICLRNN spectral constraint: 'projection' (only shrink) or 'reference' (always divide by sigma + eps)", 'projection')
      .option('--k <x>', 'Lipschitz coefficient of the spectral constraint', '1')
      .option('--optimizer <name>', 'adam or sgd', 'adam')
      .option('--patience <n>', 'early stopping patience (epochs)')
      .option('--out <file>', 'model file to write')
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
    emit(!!f.json, { model: stored.model.spec.kind, system: opts.system, testMse }, () => `${file}: test MSE ${fmt(testMse, 4)} on ${opts.system}`);
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
    .option('--json', 'print a JSON summary')
    .action(async (f: { outDir: string; seconds: string; json?: boolean }) => {
      await runDemo({ outDir: f.outDir, seconds: numberOption('--seconds', f.seconds, 60, positive, 'a positive number'), json: !!f.json });
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
    throw new DataError(`${path}: not valid JSON (${(e as Error).message})`, { file: path });
  }
}
