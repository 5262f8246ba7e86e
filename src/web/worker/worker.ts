/**
 * The dashboard's computation worker: every data set, model, certificate and MPC run lives here and
 * is computed with the iclrnn library (its browser entry); the page only draws what this sends.
 * File import (CSV, MAT, Keras) loads a separate chunk with the library's readers on an in-memory
 * file system (./files.ts), on first use.
 */
// The library's modules directly (the public entry src/browser.ts exports a curated subset only).
import { buildModel } from '../../nn/models.ts';
import type { SequenceModel } from '../../nn/model.ts';
import { certify } from '../../certify/certify.ts';
import { createCstrLmpc, createSafeCstrLmpc, runCstrClosedLoop } from '../../apps/cstr-lmpc.ts';
import { SafeLmpcController } from '../../control/robust.ts';
import { cstrPhasePortraits } from '../../report/phase.ts';
import { CSTR_INPUT_NAMES, CSTR_OUTPUT_NAMES, generateCstrDataset, lyapunovValue } from '../../systems/cstr.ts';
import type { SequenceDataset } from '../../systems/dataset.ts';
import { splitIndices } from '../../systems/split.ts';
import { evaluateMse, train } from '../../train/trainer.ts';
import { modelFromJson, modelToJson, type StoredModel } from '../../io/model-format.ts';
import { parseSweepResults } from '../../train/sweep.ts';
import { evaluateBaselines, skillRatio } from '../../train/metrics.ts';
import { predictPhysical, prepareData, type PreparedData } from '../../train/pipeline.ts';
import { ValidationError } from '../../core/errors.ts';
import type {
  CertifyResult,
  DataSummary,
  FromWorker,
  ImportResult,
  InspectResult,
  ModelInfo,
  MpcRunResult,
  Reply,
  Request,
  TestPoints,
  TrainSettings,
  TrainSummary,
  WorkerEvent,
} from '../protocol.ts';

interface Ctx {
  postMessage(m: unknown): void;
  onmessage: ((e: MessageEvent) => void) | null;
}
const ctx = self as unknown as Ctx;
const isolated = typeof SharedArrayBuffer !== 'undefined' && (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

const post = (m: FromWorker) => ctx.postMessage(m);
const emit = (event: WorkerEvent) => post({ kind: 'event', event });

// ---------------------------------------------------------------------------------------------
// state

let dataset: SequenceDataset | null = null;
let dataSource = '';
/** Prepared (split, scaled) data for the current data set and noise level. */
let prepared: { data: PreparedData; noise: number; seed: number } | null = null;
let current: (StoredModel & { label: string }) | null = null;
/** Training state that `resume` continues. */
let session: { settings: TrainSettings; epochsDone: number; dataset: SequenceDataset } | null = null;
/** Set by a 'stop' message when shared memory is not available (checked between epochs). */
let stopRequested = false;

const isCstr = (d: SequenceDataset | null) => !!d && d.name === 'cstr';

function needData(): SequenceDataset {
  if (!dataset) throw new ValidationError('no data yet: simulate the CSTR or open a file in the Data view first');
  return dataset;
}

function needModel(): StoredModel & { label: string } {
  if (!current) throw new ValidationError('no model yet: train one (Train view) or import / load one (Models view)');
  return current;
}

function modelInfo(m: StoredModel & { label: string }): ModelInfo {
  const spec = m.model.spec;
  const ins = m.metadata.system === 'cstr' ? [...CSTR_INPUT_NAMES] : ((m.metadata.data?.inputNames as string[] | undefined) ?? Array.from({ length: m.model.inputSize }, (_, i) => `in${i + 1}`));
  const outs = m.metadata.system === 'cstr' ? [...CSTR_OUTPUT_NAMES] : ((m.metadata.data?.outputNames as string[] | undefined) ?? Array.from({ length: m.model.outputSize }, (_, i) => `out${i + 1}`));
  return {
    kind: spec.kind,
    inputSize: m.model.inputSize,
    outputSize: m.model.outputSize,
    units: spec.cells.map((c) => c.units),
    parameters: m.model.parameterCount(),
    inputNames: ins,
    outputNames: outs,
    system: m.metadata.system ?? null,
    label: m.label,
  };
}

function prepare(noise: number, seed: number): PreparedData {
  const d = needData();
  if (!prepared || prepared.noise !== noise || prepared.seed !== seed) prepared = { data: prepareData(d, { splitSeed: 0, noise, noiseSeed: seed + 1 }), noise, seed };
  return prepared.data;
}

function summarize(d: SequenceDataset, source: string): DataSummary {
  const split = splitIndices(d.count, 0);
  const { steps, inputSize: ni, outputSize: no } = d;
  // preview: the first sequences laid end to end (at most 600 steps)
  const seqs = Math.max(1, Math.min(d.count, Math.floor(600 / steps)));
  const t: number[] = [];
  const series = [...d.inputNames.map((label) => ({ label: `in ${label}`, values: [] as number[] })), ...d.outputNames.map((label) => ({ label: `out ${label}`, values: [] as number[] }))];
  for (let s = 0; s < seqs; s++)
    for (let k = 0; k < steps; k++) {
      t.push(s * steps + k);
      for (let j = 0; j < ni; j++) series[j].values.push(d.inputs[(s * steps + k) * ni + j]);
      for (let j = 0; j < no; j++) series[ni + j].values.push(d.targets[(s * steps + k) * no + j]);
    }
  let initialStates: [number, number][] | null = null;
  if (isCstr(d)) {
    initialStates = [];
    const every = Math.max(1, Math.ceil(d.count / 800));
    for (let s = 0; s < d.count; s += every) initialStates.push([d.inputs[s * steps * 4 + 1], d.inputs[s * steps * 4]]);
  }
  return {
    name: d.name,
    source,
    count: d.count,
    steps,
    inputNames: d.inputNames,
    outputNames: d.outputNames,
    split: { train: split.train.length, validation: split.validation.length, test: split.test.length },
    preview: { t, series },
    initialStates,
    isCstr: isCstr(d),
  };
}

function setDataset(d: SequenceDataset, source: string): DataSummary {
  dataset = d;
  dataSource = source;
  prepared = null;
  session = null;
  return summarize(d, source);
}

// ---------------------------------------------------------------------------------------------
// persistence baseline

/**
 * Validation MSE (scaled output space) of the persistence baseline: each output holds its value at
 * the start of the window for the whole window. For an output that is also an input (the CSTR
 * state) that value is the input at step 0 (the initial state); otherwise the first target.
 */
function persistenceBaseline(d: SequenceDataset, p: PreparedData): { mse: number; note: string } {
  const { steps, inputSize: ni, outputSize: no } = d;
  const cfg = p.outputScaler.config();
  const fromInput = d.outputNames.map((n) => d.inputNames.indexOf(n));
  const scale = (v: number, j: number) => {
    const r = cfg.max[j] - cfg.min[j];
    return r > 0 ? (v - cfg.min[j]) / r : v - cfg.min[j];
  };
  const v = p.validation;
  let sum = 0;
  for (let i = 0; i < v.count; i++) {
    const src = p.split.validation[i];
    for (let j = 0; j < no; j++) {
      const hold = fromInput[j] >= 0 ? scale(d.inputs[src * steps * ni + fromInput[j]], j) : v.targets[i * steps * no + j];
      for (let t = 0; t < steps; t++) {
        const e = v.targets[(i * steps + t) * no + j] - hold;
        sum += e * e;
      }
    }
  }
  const note = fromInput.every((k) => k >= 0) ? 'state stays at its initial value' : 'each output holds its first value of the window';
  return { mse: sum / Math.max(1, v.count * steps * no), note };
}

// ---------------------------------------------------------------------------------------------
// jobs

async function trainJob(settings: TrainSettings, stopFlag: SharedArrayBuffer | null): Promise<TrainSummary> {
  const d = needData();
  const flag = stopFlag ? new Int32Array(stopFlag) : null;
  stopRequested = false;
  const p = prepare(settings.noise, settings.seed);
  const canResume =
    settings.resume && session && current && session.dataset === d && session.settings.kind === settings.kind && session.settings.hidden === settings.hidden && session.settings.layers === settings.layers;
  let model: SequenceModel;
  let first = 0;
  if (canResume) {
    model = current!.model;
    first = session!.epochsDone;
  } else {
    model = buildModel(settings.kind, { inputSize: d.inputSize, outputSize: d.outputSize, hidden: settings.hidden, layers: settings.layers, seed: settings.seed });
    session = { settings, epochsDone: 0, dataset: d };
    current = {
      model,
      inputScaler: p.inputScaler,
      outputScaler: p.outputScaler,
      metadata: {},
      label: `${settings.kind} ${settings.layers}x${settings.hidden} (trained here)`,
    };
  }
  const base = persistenceBaseline(d, p);
  const total = settings.epochs;
  emit({ type: 'train-start', baseline: base.mse, baselineNote: base.note, firstEpoch: first, epochs: total, isolated: !!flag });
  let done = first;
  let stopped = false;
  const t0 = performance.now();
  const shouldStop = () => (flag ? Atomics.load(flag, 0) === 1 : stopRequested);
  const options = (epochs: number) => ({
    epochs,
    batchSize: settings.batchSize,
    optimizer: { type: 'adam' as const, learningRate: settings.learningRate },
    seed: settings.seed + 2 + done,
    now: () => performance.now() / 1000,
    onEpoch: (info: { trainLoss: number; valLoss: number | null; seconds: number }) => {
      done++;
      session!.epochsDone = done;
      emit({ type: 'epoch', epoch: done, epochs: total, trainLoss: info.trainLoss, valLoss: info.valLoss, seconds: info.seconds });
      if (shouldStop()) {
        stopped = true;
        return false;
      }
      return true;
    },
  });
  let kernels: TrainSummary['kernels'] = null;
  if (flag) {
    // shared memory: one training run; the stop flag is read after every epoch
    if (done < total) kernels = train(model, p.train, p.validation, options(total - done)).kernels ?? null;
  } else {
    // no shared memory (a static host without COOP/COEP): one epoch per call, yielding in between
    // so that a 'stop' message gets through (the optimiser state restarts every epoch then)
    while (done < total && !stopped) {
      kernels = train(model, p.train, p.validation, options(1)).kernels ?? null;
      await new Promise((r) => setTimeout(r, 0));
      if (stopRequested) stopped = true;
    }
  }
  const epochsRun = done - first;
  const testMse = evaluateMse(model, p.test);
  const tb = evaluateBaselines(d, p.split, p.outputScaler); // the test split's naive forecast, as `iclrnn train` reports it
  const cstr = isCstr(d);
  current!.metadata = {
    system: cstr ? 'cstr' : 'timeseries',
    data: cstr ? { system: 'cstr', splitSeed: 0 } : { system: 'timeseries', source: dataSource, window: d.steps, inputNames: d.inputNames, outputNames: d.outputNames, splitSeed: 0 },
    training: { epochs: done, batchSize: settings.batchSize, learningRate: settings.learningRate, noise: settings.noise, optimizer: 'adam', where: 'browser dashboard' },
    seed: settings.seed,
    metrics: { testMse, persistenceBaseline: base.mse },
  };
  return {
    epochsRun: done,
    stopped,
    testMse,
    baseline: base.mse,
    testBaseline: tb.baselineMse,
    baselineKind: tb.kind,
    skill: skillRatio(testMse, tb.baselineMse),
    meanPredictorMse: tb.meanMse,
    secondsPerEpoch: epochsRun > 0 ? (performance.now() - t0) / 1000 / epochsRun : 0,
    kernels,
    model: modelInfo(current!),
  };
}

function inspectJob(): InspectResult {
  const m = needModel();
  const d = dataset;
  const samples: InspectResult['samples'] = [];
  let testMse: number | null = null;
  const usable = d && d.inputSize === m.model.inputSize && d.outputSize === m.model.outputSize;
  if (d && usable) {
    const split = splitIndices(d.count, 0);
    const { steps, inputSize: ni, outputSize: no } = d;
    const picks = [0, 1, 2, 3].map((k) => split.test[Math.floor((k * split.test.length) / 4)]);
    for (const s of picks) {
      const x = d.inputs.slice(s * steps * ni, (s + 1) * steps * ni);
      const y = predictPhysical(m, x, 1, steps);
      samples.push({
        index: s,
        t: Array.from({ length: steps }, (_, k) => k),
        outputs: d.outputNames.map((label, j) => ({
          label,
          truth: Array.from({ length: steps }, (_, k) => d.targets[(s * steps + k) * no + j]),
          predicted: Array.from({ length: steps }, (_, k) => y[k * no + j]),
        })),
      });
    }
    if (prepared && current && prepared.data.inputScaler === current.inputScaler) testMse = evaluateMse(m.model, prepared.data.test);
  }
  let phase: InspectResult['phase'] = null;
  if (m.model.inputSize === 4 && m.model.outputSize === 2 && (m.metadata.system === 'cstr' || isCstr(d)))
    phase = cstrPhasePortraits(m, { inputs: [[0, 0], [3.5 / 3, 5e5 / 3]] }).map((p) => ({ u: p.u, trajectories: p.trajectories.map(({ trueX1, trueX2, predX1, predX2 }) => ({ trueX1, trueX2, predX1, predX2 })) }));
  if (!usable && !phase) throw new ValidationError(`the model (${m.model.inputSize} inputs, ${m.model.outputSize} outputs) does not fit the current data set; load matching data first`);
  return { samples, testMse, phase };
}

/** Scaled test inputs of the current data set for the current model. */
function testInputs(): { x: Float64Array; count: number; steps: number; ni: number; indices: Int32Array } {
  const m = needModel();
  const d = needData();
  if (d.inputSize !== m.model.inputSize) throw new ValidationError(`the model takes ${m.model.inputSize} inputs but the data set has ${d.inputSize}`);
  const split = splitIndices(d.count, 0);
  const { steps, inputSize: ni } = d;
  const n = Math.min(split.test.length, 400);
  const x = new Float64Array(n * steps * ni);
  for (let i = 0; i < n; i++) x.set(d.inputs.subarray(split.test[i] * steps * ni, (split.test[i] + 1) * steps * ni), i * steps * ni);
  if (m.inputScaler) m.inputScaler.transform(x, x);
  return { x, count: n, steps, ni, indices: split.test.subarray(0, n) };
}

function testPointsJob(): TestPoints {
  const { x, count, steps, ni } = testInputs();
  const d = needData();
  const cstr = isCstr(d);
  const points: [number, number][] = [];
  const raw = splitIndices(d.count, 0).test;
  for (let i = 0; i < count; i++) {
    const r = raw[i] * steps * ni;
    if (cstr) points.push([d.inputs[r + 1], d.inputs[r]]);
    else points.push([x[i * steps * ni], ni > 1 ? x[i * steps * ni + 1] : 0]);
  }
  return { points, labels: cstr ? ['x1', 'x2'] : [d.inputNames[0] + ' (scaled)', ni > 1 ? d.inputNames[1] + ' (scaled)' : '-'] };
}

function certifyJob(localIndex: number | null, radius: number): CertifyResult {
  const m = needModel();
  const steps = dataset && dataset.inputSize === m.model.inputSize ? dataset.steps : m.metadata.system === 'energy' ? 5 : 10;
  let local: { center: Float64Array; radius: number } | null = null;
  let samples: Float64Array | undefined;
  if (dataset && dataset.inputSize === m.model.inputSize) {
    const t = testInputs();
    samples = t.x.slice(0, Math.min(t.count, 200) * t.steps * t.ni);
    if (localIndex !== null) {
      if (!(localIndex >= 0 && localIndex < t.count)) throw new ValidationError(`test input ${localIndex} does not exist (0..${t.count - 1})`);
      local = { center: t.x.slice(localIndex * t.steps * t.ni, (localIndex + 1) * t.steps * t.ni), radius };
    }
  } else if (localIndex !== null) throw new ValidationError('a local bound needs test inputs: load data that fits the model first');
  if (!(radius > 0 && Number.isFinite(radius))) throw new ValidationError(`radius must be a positive number, got ${radius}`);
  const report = certify(m.model, {
    steps,
    seed: 0,
    samples,
    samplesSource: samples ? 'test inputs' : undefined,
    attack: { starts: 8, iterations: 40 },
    jensen: { segments: 300 },
    local,
    lfrMaxSize: { global: 200, domain: 200, local: 200 },
  });
  return { report, localCenter: local ? Array.from(local.center) : null };
}

function mpcJob(x0: [number, number], predictors: ('model' | 'first-principles')[], maxSteps: number): MpcRunResult[] {
  if (!x0.every(Number.isFinite)) throw new ValidationError('the initial state must be two finite numbers');
  return predictors.map((which) => {
    const empty: MpcRunResult = { predictor: which, t: [], x1: [], x2: [], u1: [], u2: [], v: [], maxV: 0, solveMs: [], statuses: [], converged: false, steps: 0, infeasibleSteps: 0, message: null };
    let mpc;
    try {
      // A learned model drives the plant through the robust ('tightened') LMPC, the CLI's default:
      // its Lyapunov constraint is tightened by the model's estimated one-period error, and a step
      // it cannot solve is handed to the first-principles LMPC.
      if (which === 'model') mpc = createSafeCstrLmpc(needModel()).controller;
      else mpc = createCstrLmpc('first-principles');
    } catch (e) {
      return { ...empty, message: (e as Error).message };
    }
    const r = runCstrClosedLoop(mpc, x0, {
      maxSteps,
      onStep: (info) => emit({ type: 'mpc-step', predictor: which, step: info.step, x: [info.state[0], info.state[1]] }),
    });
    const infeasible = r.statuses.filter((s) => s === 'infeasible').length;
    const backupSteps = mpc instanceof SafeLmpcController ? mpc.stats.fallbacks.backup : 0;
    return {
      predictor: which,
      t: r.t,
      x1: r.x.map((x) => x[0]),
      x2: r.x.map((x) => x[1]),
      u1: r.u.map((u) => u[0]),
      u2: r.u.map((u) => u[1]),
      v: r.x.map((x) => lyapunovValue(x[0], x[1])),
      solveMs: r.solveSeconds.map((s) => s * 1000),
      statuses: r.statuses,
      converged: r.converged,
      steps: r.steps,
      infeasibleSteps: infeasible,
      maxV: Math.max(...r.x.map((x) => lyapunovValue(x[0], x[1]))),
      message: backupSteps > 0
        ? `the learned-model LMPC could not guarantee ${backupSteps} step(s) on the plant; the first-principles LMPC acted on those`
        : infeasible > 0 ? `${infeasible} step(s) could not meet the Lyapunov constraint; the input minimising the violation was applied` : r.converged ? null : `target not reached in ${maxSteps} steps`,
    };
  });
}

function toModel(stored: StoredModel, label: string): ModelInfo {
  current = { ...stored, label };
  session = null;
  return modelInfo(current);
}

function predictJob(rows: number[][]): number[][] {
  const m = needModel();
  if (!Array.isArray(rows) || rows.length === 0) throw new ValidationError('X must be a non-empty array of rows (steps x inputs)');
  const ni = m.model.inputSize;
  const x = new Float64Array(rows.length * ni);
  rows.forEach((r, t) => {
    if (!Array.isArray(r) || r.length !== ni) throw new ValidationError(`X row ${t + 1} must hold ${ni} numbers (the model's inputs)`);
    r.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`X row ${t + 1}, column ${j + 1} is not a finite number`);
      x[t * ni + j] = v;
    });
  });
  const y = predictPhysical(m, x, 1, rows.length);
  const no = m.model.outputSize;
  return Array.from({ length: rows.length }, (_, t) => Array.from(y.subarray(t * no, (t + 1) * no)));
}

async function handle(req: Request): Promise<unknown> {
  switch (req.type) {
    case 'simulate': {
      const every = Math.max(1, Math.floor(req.settings.every));
      const full = generateCstrDataset();
      let d: SequenceDataset = full;
      if (every > 1) {
        const keep = Math.floor(full.count / every), s = full.steps;
        const inputs = new Float64Array(keep * s * 4), targets = new Float64Array(keep * s * 2);
        for (let i = 0; i < keep; i++) {
          inputs.set(full.inputs.subarray(i * every * s * 4, (i * every + 1) * s * 4), i * s * 4);
          targets.set(full.targets.subarray(i * every * s * 2, (i * every + 1) * s * 2), i * s * 2);
        }
        d = { name: 'cstr', count: keep, steps: s, inputSize: 4, outputSize: 2, inputs, targets, inputNames: full.inputNames, outputNames: full.outputNames };
      }
      return setDataset(d, every > 1 ? `CSTR simulation (every ${every}th of ${full.count} samples)` : `CSTR simulation (${full.count} samples)`);
    }
    case 'open-file': {
      const files = await import('./files.ts');
      return files.openFile(req.name, new Uint8Array(req.bytes));
    }
    case 'window': {
      const files = await import('./files.ts');
      const { dataset: d, source } = await files.windowFile(req.settings);
      return setDataset(d, source);
    }
    case 'train':
      return trainJob(req.settings, req.stopFlag);
    case 'stop':
      stopRequested = true;
      return null;
    case 'inspect':
      return inspectJob();
    case 'test-points':
      return testPointsJob();
    case 'certify':
      return certifyJob(req.options.localIndex, req.options.radius);
    case 'mpc':
      return mpcJob(req.x0, req.predictors, req.maxSteps);
    case 'import-keras': {
      const files = await import('./files.ts');
      const r = await files.importKerasBytes(req.name, new Uint8Array(req.bytes), req.scalers);
      const info = toModel(r.model, `${req.name} (Keras import)`);
      return { json: modelToJson(current!), info, warnings: r.warnings } satisfies ImportResult;
    }
    case 'load-model':
      return toModel(modelFromJson(req.json, req.label), req.label);
    case 'save-model':
      return modelToJson(needModel());
    case 'predict':
      return predictJob(req.x);
    case 'open-sweep': {
      let json: unknown;
      try {
        json = JSON.parse(req.text);
      } catch (e) {
        throw new ValidationError(`${req.name}: not JSON (${(e as Error).message})`);
      }
      try {
        return parseSweepResults(json);
      } catch (e) {
        throw new ValidationError(`${req.name}: ${(e as Error).message}`);
      }
    }
  }
}

/** Messages are handled one after another (a job finishes before the next starts), except 'stop'. */
let queue: Promise<void> = Promise.resolve();
ctx.onmessage = (e: MessageEvent) => {
  const { id, request } = e.data as { id: number; request: Request };
  const run = async () => {
    let reply: Reply;
    try {
      reply = { id, ok: true, result: await handle(request) };
    } catch (err) {
      const userError = err instanceof ValidationError || (err as Error)?.name === 'DataError' || (err as Error)?.name === 'ModelFileError';
      const message = err instanceof Error ? err.message : String(err);
      reply = { id, ok: false, error: message.replace(/\/uploads\//g, ''), userError };
    }
    post({ kind: 'reply', reply });
  };
  if (request.type === 'stop') void run();
  else queue = queue.then(run);
};

emit({ type: 'ready', isolated });
