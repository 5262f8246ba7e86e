/**
 * The messages of a distributed sweep: the job a coordinator puts on the queue for one cell (the
 * whole cell configuration, so a worker needs nothing else) and the result a worker hands back.
 * Both are validated on receipt: a malformed or foreign job fails with a message naming what is
 * wrong, it never crashes a worker. Pure logic, no Node APIs.
 */
import { ValidationError } from '../../core/errors.ts';
import { canonicalJson, cellKey, skillFieldProblem, type SweepCellMetrics, type SweepConfig } from '../sweep.ts';

/** Identifies a sweep job payload. */
export const SWEEP_JOB_FORMAT = 'iclrnn-sweep-job';
/** Identifies a sweep job result. */
export const SWEEP_JOB_RESULT_FORMAT = 'iclrnn-sweep-result';
export const SWEEP_JOB_VERSION = 1;

/** One cell of a sweep, as a job. */
export interface SweepJobPayload {
  format: typeof SWEEP_JOB_FORMAT;
  version: typeof SWEEP_JOB_VERSION;
  /** Hash of the sweep configuration (see `sweepIdOf`); the job id is `<sweepId>/<cell key>`. */
  sweepId: string;
  /** The sweep configuration (system, data options, architecture, training, Lipschitz protocol). */
  config: SweepConfig;
  cell: { key: string; model: string; noise: number; seed: number };
  /** SHA-256 (hex) of the data file of file-based systems; null for simulated systems (cstr). */
  dataSha256: string | null;
  /** Whether the worker returns the trained model file's text. */
  saveModels: boolean;
}

/** What a worker returns for a finished cell. */
export interface SweepJobResult {
  format: typeof SWEEP_JOB_RESULT_FORMAT;
  version: typeof SWEEP_JOB_VERSION;
  key: string;
  metrics: SweepCellMetrics;
  /** The model file's text (JSON), or null when models are not saved. */
  modelText: string | null;
  /** Who ran it (host:pid), for the logs. */
  worker: string;
}

/** The settings a cell runner reads from a sweep configuration, validated. */
export interface SweepCellSettings {
  system: string;
  data: { system: string; data?: string; inputs?: string[]; outputs?: string[]; window?: number; stride?: number; splitSeed: number };
  hidden: number;
  layers: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  lipschitzSamples: number;
  /**
   * Which scaled inputs the empirical Lipschitz estimate perturbs: 'test' (the default, and what
   * configurations without `lipschitz.inputs` mean) or 'train' (the training part of the split: the
   * reference's exact protocol).
   */
  lipschitzInputs: 'train' | 'test';
  /** Early stopping on the validation loss (best weights restored), or null: every epoch runs. */
  earlyStopping: { patience: number; minDelta: number } | null;
}

/** The job id of a cell: `<sweepId>/<cell key>` (BullMQ ids may not contain ':'). */
export function jobIdOf(sweepId: string, key: string): string {
  return `${sweepId}/${key}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

const isInt = (x: unknown, min: number): x is number => typeof x === 'number' && Number.isInteger(x) && x >= min;
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * Validates the settings a cell needs in a sweep configuration.
 * @param systems the system names this build knows
 * @throws ValidationError naming the first bad field
 */
export function cellSettingsOf(config: unknown, systems: readonly string[]): SweepCellSettings {
  const bad = (what: string): never => {
    throw new ValidationError(`sweep configuration: ${what}`);
  };
  if (!isRecord(config)) return bad('not an object');
  const { system, data, hidden, layers, epochs, batchSize, learningRate, lipschitz, earlyStopping } = config;
  if (typeof system !== 'string' || !systems.includes(system)) bad(`unknown system ${JSON.stringify(system ?? null)} (expected one of ${systems.join(', ')})`);
  if (!isRecord(data) || data.system !== system) bad('"data" must be an object whose system equals "system"');
  const d = data as Record<string, unknown>;
  if (d.data !== undefined && d.data !== null && typeof d.data !== 'string') bad('"data.data" must be a file path');
  for (const k of ['inputs', 'outputs'] as const)
    if (d[k] !== undefined && d[k] !== null && !(Array.isArray(d[k]) && (d[k] as unknown[]).every((x) => typeof x === 'string'))) bad(`"data.${k}" must be an array of column names`);
  for (const k of ['window', 'stride'] as const) if (d[k] !== undefined && d[k] !== null && !isInt(d[k], 1)) bad(`"data.${k}" must be a positive integer`);
  if (!isInt(d.splitSeed, Number.MIN_SAFE_INTEGER)) bad('"data.splitSeed" must be an integer');
  if (!isInt(hidden, 1)) bad('"hidden" must be a positive integer');
  if (!isInt(layers, 1)) bad('"layers" must be a positive integer');
  if (!isInt(epochs, 0)) bad('"epochs" must be a non-negative integer');
  if (!isInt(batchSize, 1)) bad('"batchSize" must be a positive integer');
  if (!isFiniteNumber(learningRate) || learningRate <= 0) bad('"learningRate" must be a number > 0');
  if (!isRecord(lipschitz) || !isInt(lipschitz.samples, 0)) bad('"lipschitz.samples" must be a non-negative integer');
  const lip = lipschitz as Record<string, unknown>;
  if (lip.inputs !== undefined && lip.inputs !== 'train' && lip.inputs !== 'test') bad('"lipschitz.inputs" must be "train" or "test"');
  let stop: { patience: number; minDelta: number } | null = null;
  if (earlyStopping !== undefined && earlyStopping !== null) {
    if (!isRecord(earlyStopping) || !isInt(earlyStopping.patience, 1)) bad('"earlyStopping.patience" must be a positive integer');
    const es = earlyStopping as Record<string, unknown>;
    if (es.minDelta !== undefined && !(isFiniteNumber(es.minDelta) && es.minDelta >= 0)) bad('"earlyStopping.minDelta" must be a number >= 0');
    stop = { patience: es.patience as number, minDelta: (es.minDelta as number | undefined) ?? 0 };
  }
  const opt = (v: unknown) => (v === null ? undefined : v);
  return {
    system: system as string,
    data: {
      system: system as string,
      data: opt(d.data) as string | undefined,
      inputs: opt(d.inputs) as string[] | undefined,
      outputs: opt(d.outputs) as string[] | undefined,
      window: opt(d.window) as number | undefined,
      stride: opt(d.stride) as number | undefined,
      splitSeed: d.splitSeed as number,
    },
    hidden: hidden as number,
    layers: layers as number,
    epochs: epochs as number,
    batchSize: batchSize as number,
    learningRate: learningRate as number,
    lipschitzSamples: lip.samples as number,
    lipschitzInputs: lip.inputs === 'train' ? 'train' : 'test',
    earlyStopping: stop,
  };
}

/**
 * Validates a job payload received from the queue.
 * @param known the model kinds and systems this build can run
 * @param expectedSweepId when given, the payload's sweep id must equal it (a hash of its config)
 * @throws ValidationError naming what is wrong (the worker fails the job with this message)
 */
export function parseSweepJob(data: unknown, known: { models: readonly string[]; systems: readonly string[] }, expectedSweepId?: (config: SweepConfig) => string): SweepJobPayload {
  const bad = (what: string): never => {
    throw new ValidationError(`not a valid iclrnn sweep job: ${what}`);
  };
  if (!isRecord(data)) return bad('the payload is not an object');
  if (data.format !== SWEEP_JOB_FORMAT) bad(`format is ${JSON.stringify(data.format ?? null)}, expected "${SWEEP_JOB_FORMAT}"`);
  if (data.version !== SWEEP_JOB_VERSION) bad(`version ${JSON.stringify(data.version ?? null)} is not supported (expected ${SWEEP_JOB_VERSION}); run the same iclrnn version on the coordinator and the workers`);
  if (typeof data.sweepId !== 'string' || !/^[0-9a-f]{8,64}$/.test(data.sweepId)) bad('"sweepId" must be a hex string');
  if (!isRecord(data.config)) bad('"config" must be an object');
  const cell = data.cell;
  if (!isRecord(cell)) return bad('"cell" must be an object');
  if (typeof cell.model !== 'string' || !known.models.includes(cell.model)) bad(`unknown model ${JSON.stringify(cell.model ?? null)} (expected one of ${known.models.join(', ')})`);
  if (!isFiniteNumber(cell.noise) || cell.noise < 0) bad('"cell.noise" must be a finite number >= 0');
  if (!isInt(cell.seed, Number.MIN_SAFE_INTEGER)) bad('"cell.seed" must be an integer');
  if (cell.key !== cellKey(cell.model as string, cell.noise as number, cell.seed as number)) bad(`"cell.key" ${JSON.stringify(cell.key ?? null)} does not match its model, noise and seed`);
  if (data.dataSha256 !== null && (typeof data.dataSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(data.dataSha256))) bad('"dataSha256" must be null or a SHA-256 hex digest');
  if (typeof data.saveModels !== 'boolean') bad('"saveModels" must be true or false');
  try {
    cellSettingsOf(data.config, known.systems);
  } catch (e) {
    bad((e as Error).message);
  }
  const settings = cellSettingsOf(data.config, known.systems);
  if (settings.data.data !== undefined && data.dataSha256 === null) bad(`the data file ${settings.data.data} comes without its SHA-256`);
  if (expectedSweepId && expectedSweepId(data.config as SweepConfig) !== data.sweepId) bad('"sweepId" does not match the hash of "config"');
  return {
    format: SWEEP_JOB_FORMAT,
    version: SWEEP_JOB_VERSION,
    sweepId: data.sweepId as string,
    config: data.config as SweepConfig,
    cell: { key: cell.key as string, model: cell.model as string, noise: cell.noise as number, seed: cell.seed as number },
    dataSha256: data.dataSha256 as string | null,
    saveModels: data.saveModels as boolean,
  };
}

/**
 * Validates a worker's result for a cell.
 * @throws ValidationError naming what is wrong
 */
export function parseSweepJobResult(value: unknown, key: string): SweepJobResult {
  const bad = (what: string): never => {
    throw new ValidationError(`the result of ${key} is malformed: ${what}`);
  };
  if (!isRecord(value)) return bad('not an object');
  if (value.format !== SWEEP_JOB_RESULT_FORMAT || value.version !== SWEEP_JOB_VERSION) bad(`format ${JSON.stringify(value.format ?? null)} version ${JSON.stringify(value.version ?? null)}`);
  if (value.key !== key) bad(`it is for ${JSON.stringify(value.key ?? null)}`);
  if (!isRecord(value.metrics)) bad('"metrics" must be an object');
  const m = value.metrics as Record<string, unknown>;
  if (m.testMse !== null && typeof m.testMse !== 'number') bad('"metrics.testMse" must be a number or null');
  const skillProblem = skillFieldProblem(m);
  if (skillProblem) bad(`"metrics" ${skillProblem}`);
  if (value.modelText !== null && typeof value.modelText !== 'string') bad('"modelText" must be a string or null');
  return {
    format: SWEEP_JOB_RESULT_FORMAT,
    version: SWEEP_JOB_VERSION,
    key,
    metrics: m as SweepCellMetrics,
    modelText: value.modelText as string | null,
    worker: typeof value.worker === 'string' ? value.worker : 'unknown',
  };
}

/** The canonical text a sweep id is hashed from (configuration only; key order does not matter). */
export function sweepIdSource(config: SweepConfig): string {
  return `${SWEEP_JOB_FORMAT}/${SWEEP_JOB_VERSION}/${canonicalJson(config)}`;
}
