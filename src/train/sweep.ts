/**
 * Parameter sweeps: every model x training-noise x seed cell trained and evaluated once, the
 * results kept in one JSON-serialisable object that is saved after every cell, so a sweep can be
 * interrupted at any time and resumed without recomputing or losing finished cells.
 *
 * Pure logic: the caller supplies `runCell` (train + evaluate one cell) and `save` (persist the
 * results object, e.g. an atomic file write). No Node APIs here.
 */
import type { SequenceModel } from '../nn/model.ts';
import type { BaselineKind } from './metrics.ts';
import { referenceEstimate } from '../nn/reference-estimate.ts';
import { ValidationError } from '../core/errors.ts';

/** Identifies a results object written by {@link runSweep}. */
export const SWEEP_FORMAT = 'iclrnn-sweep';
export const SWEEP_VERSION = 1;

/**
 * Settings shared by every cell of a sweep (system, data options, architecture, epochs, ...).
 * Any JSON-serialisable object; two sweeps may share a results object only when their
 * configurations are equal (compared as canonical JSON: key order and `undefined` do not matter).
 */
export type SweepConfig = Record<string, unknown>;

/** One cell to run. */
export interface SweepCellSpec {
  /** Stable key of the cell in {@link SweepResults.cells}, see {@link cellKey}. */
  key: string;
  model: string;
  noise: number;
  seed: number;
  /** Position in the plan (0-based). */
  index: number;
}

/** Lipschitz figures of one trained model. */
export interface SweepLipschitz {
  /** Empirical lower estimate (reference protocol), or null when it could not be computed. */
  empirical: number | null;
  /** Certified upper bound, or null when none is available. */
  upperBound: number | null;
  /** How the numbers were obtained (e.g. 'reference-perturbation'). */
  method?: string;
  /** Why a number is null, when it is. */
  reason?: string | null;
  [extra: string]: unknown;
}

/** What `runCell` reports for a finished cell. Extra fields are kept (they must be JSON-serialisable). */
export interface SweepCellMetrics {
  testMse: number | null;
  lipschitz?: SweepLipschitz | null;
  /** Wall-clock seconds of the training (and evaluation) of the cell. */
  trainSeconds?: number | null;
  secondsPerEpoch?: number | null;
  /** Which kernels trained the cell's model (see `TrainHistory.kernels`); absent in older files. */
  kernels?: { backend: 'wasm' | 'js'; precision: 'f32' | 'f64'; fma: boolean } | null;
  epochsRun?: number | null;
  trainLoss?: number | null;
  valLoss?: number | null;
  parameters?: number | null;
  /** Where the trained model was saved (relative to the results file), if it was. */
  modelFile?: string | null;
  /**
   * MSE of the naive forecast (persistence / last-value, see `train/metrics.ts`) on the same test
   * split and scaled space as `testMse`; null when the data set has none. Absent in results files
   * written before skill was recorded.
   */
  baselineMse?: number | null;
  /** `testMse / baselineMse` (< 1: better than the naive forecast); null without a baseline. */
  skill?: number | null;
  /** MSE of predicting the mean of the training targets on the test split (scaled). */
  meanPredictorMse?: number | null;
  /** Which naive forecast `baselineMse` is. */
  baselineKind?: BaselineKind | null;
  [extra: string]: unknown;
}

/** A recorded cell. Only cells with status 'done' are skipped when a sweep resumes. */
export interface SweepCellResult extends SweepCellMetrics {
  key: string;
  model: string;
  noise: number;
  seed: number;
  status: 'done' | 'failed';
  /** Error message of a failed cell. */
  error?: string;
  /** ISO time the cell finished. */
  finishedAt: string | null;
}

/** The results object (and file). */
export interface SweepResults {
  format: typeof SWEEP_FORMAT;
  version: typeof SWEEP_VERSION;
  config: SweepConfig;
  /** Models, noise levels and seeds planned so far (union over runs, first-seen order). */
  models: string[];
  noise: number[];
  seeds: number[];
  cells: Record<string, SweepCellResult>;
  createdAt: string | null;
  updatedAt: string | null;
}

/** The results hold a sweep whose configuration differs from the requested one. */
export class SweepConfigMismatchError extends ValidationError {
  readonly differences: string[];
  constructor(differences: string[]) {
    super(`the results hold a sweep with a different configuration (${differences.slice(0, 4).join('; ')}${differences.length > 4 ? `; ${differences.length - 4} more` : ''})`);
    this.name = 'SweepConfigMismatchError';
    this.differences = differences;
  }
}

/** A results object that is not a sweep results object (or is malformed). */
export class SweepFormatError extends ValidationError {
  constructor(message: string) {
    super(message);
    this.name = 'SweepFormatError';
  }
}

/** Key of a cell: `model/noise=<n>/seed=<s>`. */
export function cellKey(model: string, noise: number, seed: number): string {
  return `${model}/noise=${String(noise)}/seed=${String(seed)}`;
}

/** The cells of a plan, model-major (model, then noise, then seed). Validates the lists. */
export function sweepCells(models: readonly string[], noise: readonly number[], seeds: readonly number[]): SweepCellSpec[] {
  if (models.length === 0) throw new ValidationError('a sweep needs at least one model');
  if (noise.length === 0) throw new ValidationError('a sweep needs at least one noise level');
  if (seeds.length === 0) throw new ValidationError('a sweep needs at least one seed');
  for (const m of models) if (typeof m !== 'string' || m === '') throw new ValidationError(`bad model name '${String(m)}'`);
  for (const n of noise) if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) throw new ValidationError(`noise levels must be finite numbers >= 0, got ${n}`);
  for (const s of seeds) if (!Number.isInteger(s)) throw new ValidationError(`seeds must be integers, got ${s}`);
  const dup = <T>(xs: readonly T[]) => xs.find((x, i) => xs.indexOf(x) !== i);
  const dm = dup(models), dn = dup(noise.map((n) => (Object.is(n, -0) ? 0 : n))), ds = dup(seeds);
  if (dm !== undefined) throw new ValidationError(`model '${dm}' is listed twice`);
  if (dn !== undefined) throw new ValidationError(`noise level ${dn} is listed twice`);
  if (ds !== undefined) throw new ValidationError(`seed ${ds} is listed twice`);
  const cells: SweepCellSpec[] = [];
  for (const model of models)
    for (const n of noise)
      for (const seed of seeds) {
        const nz = Object.is(n, -0) ? 0 : n;
        cells.push({ key: cellKey(model, nz, seed), model, noise: nz, seed, index: cells.length });
      }
  return cells;
}

/** JSON round trip: drops undefined, turns NaN/Infinity into null, copies. */
function jsonCopy<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Canonical JSON (object keys sorted, undefined dropped), for configuration comparison. */
export function canonicalJson(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x as object).sort()) o[k] = norm((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(norm(jsonCopy(v)));
}

/** Differences between two configurations, as `path: <old> vs <new>` lines (empty when equal). */
export function configDifferences(stored: SweepConfig, requested: SweepConfig): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    const ao = a && typeof a === 'object' && !Array.isArray(a), bo = b && typeof b === 'object' && !Array.isArray(b);
    if (ao && bo) {
      const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
      for (const k of keys) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    if (canonicalJson(a) !== canonicalJson(b)) out.push(`${path || '(root)'}: ${show(a)} in the results, ${show(b)} requested`);
  };
  const show = (x: unknown) => (x === undefined ? 'unset' : canonicalJson(x));
  walk(jsonCopy(stored), jsonCopy(requested), '');
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Names of the known baseline kinds (see `train/metrics.ts`). */
export const BASELINE_KINDS: readonly BaselineKind[] = ['persistence', 'last-value', 'none'];

/**
 * What is wrong with the optional skill fields of a cell's metrics (baselineMse, skill,
 * meanPredictorMse: number or null; baselineKind: a known kind or null), or null when nothing is.
 * Absent fields are fine (results written before skill was recorded).
 */
export function skillFieldProblem(m: Record<string, unknown>): string | null {
  for (const k of ['baselineMse', 'skill', 'meanPredictorMse'] as const) {
    const v = m[k];
    if (v !== undefined && v !== null && typeof v !== 'number') return `has a non-numeric ${k} (${JSON.stringify(v)})`;
  }
  const kind = m.baselineKind;
  if (kind !== undefined && kind !== null && !BASELINE_KINDS.includes(kind as BaselineKind)) return `has an unknown baselineKind ${JSON.stringify(kind)} (expected ${BASELINE_KINDS.join(', ')} or null)`;
  return null;
}

/**
 * The skill of a recorded cell: its `skill` when recorded, else `testMse / baselineMse` when both
 * are recorded (finite, baseline > 0), else null (old results files, data sets without a naive
 * forecast, failed cells).
 */
export function cellSkill(c: Pick<SweepCellMetrics, 'testMse' | 'baselineMse' | 'skill'>): number | null {
  if (typeof c.skill === 'number' && Number.isFinite(c.skill)) return c.skill;
  const t = c.testMse, b = c.baselineMse;
  if (typeof t === 'number' && Number.isFinite(t) && typeof b === 'number' && Number.isFinite(b) && b > 0) return t / b;
  return null;
}

/** Mean, spread and skill over the seeds of one model x noise level of a sweep. */
export interface SweepAggregate {
  model: string;
  noise: number;
  /** Finished cells (seeds) with a test MSE. */
  n: number;
  /** Mean test MSE over those seeds (null: none). */
  testMse: number | null;
  /** Smallest and largest test MSE over the seeds. */
  testMseMin: number | null;
  testMseMax: number | null;
  /** Sample standard deviation of the test MSE over the seeds (null with fewer than 2). */
  testMseStd: number | null;
  /** The naive forecast's MSE (the same for every seed of a sweep: one split); null: not recorded / none. */
  baselineMse: number | null;
  baselineKind: BaselineKind | null;
  meanPredictorMse: number | null;
  /** Mean of the cells' skills (null when no cell has one). */
  skill: number | null;
  /** Mean empirical Lipschitz estimate and certified bound over the seeds. */
  lipschitz: number | null;
  upperBound: number | null;
}

/**
 * Aggregates a results object by model and noise level (finished cells only), in the order of
 * `results.models` x `results.noise` (combinations without a finished cell are left out).
 */
export function aggregateSweep(results: Pick<SweepResults, 'models' | 'noise' | 'cells'>): SweepAggregate[] {
  const fin = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const first = <T>(xs: (T | null | undefined)[]) => xs.find((x) => x !== null && x !== undefined) ?? null;
  const cells = Object.values(results.cells).filter((c) => c.status === 'done');
  const models = [...results.models, ...cells.map((c) => c.model)].filter((m, i, a) => a.indexOf(m) === i);
  const levels = [...results.noise, ...cells.map((c) => c.noise)].filter((n, i, a) => a.indexOf(n) === i);
  const out: SweepAggregate[] = [];
  for (const model of models)
    for (const noise of levels) {
      const g = cells.filter((c) => c.model === model && c.noise === noise && fin(c.testMse));
      if (!g.length) continue;
      const mses = g.map((c) => c.testMse as number);
      const m = mean(mses)!;
      const skills = g.map(cellSkill).filter(fin);
      out.push({
        model,
        noise,
        n: g.length,
        testMse: m,
        testMseMin: Math.min(...mses),
        testMseMax: Math.max(...mses),
        testMseStd: mses.length > 1 ? Math.sqrt(mses.reduce((a, x) => a + (x - m) ** 2, 0) / (mses.length - 1)) : null,
        baselineMse: first(g.map((c) => (fin(c.baselineMse) ? c.baselineMse : null))),
        baselineKind: first(g.map((c) => c.baselineKind ?? null)),
        meanPredictorMse: first(g.map((c) => (fin(c.meanPredictorMse) ? c.meanPredictorMse : null))),
        skill: mean(skills),
        lipschitz: mean(g.map((c) => c.lipschitz?.empirical).filter(fin)),
        upperBound: mean(g.map((c) => c.lipschitz?.upperBound).filter(fin)),
      });
    }
  return out;
}

/**
 * Validates a parsed results object (e.g. JSON read from a results file) and returns it typed.
 * @throws SweepFormatError naming what is wrong
 */
export function parseSweepResults(json: unknown): SweepResults {
  if (!isRecord(json)) throw new SweepFormatError('not a sweep results object (expected a JSON object)');
  if (json.format !== SWEEP_FORMAT) throw new SweepFormatError(`not a sweep results file (format is ${JSON.stringify(json.format ?? null)}, expected "${SWEEP_FORMAT}")`);
  if (json.version !== SWEEP_VERSION) throw new SweepFormatError(`unsupported sweep results version ${JSON.stringify(json.version ?? null)} (expected ${SWEEP_VERSION})`);
  if (!isRecord(json.config)) throw new SweepFormatError('sweep results: "config" must be an object');
  if (!isRecord(json.cells)) throw new SweepFormatError('sweep results: "cells" must be an object');
  const list = <T>(name: string, ok: (x: unknown) => boolean): T[] => {
    const v = json[name] ?? [];
    if (!Array.isArray(v) || !v.every(ok)) throw new SweepFormatError(`sweep results: "${name}" must be an array of ${name === 'models' ? 'strings' : 'numbers'}`);
    return v as T[];
  };
  const models = list<string>('models', (x) => typeof x === 'string');
  const noise = list<number>('noise', (x) => typeof x === 'number' && Number.isFinite(x));
  const seeds = list<number>('seeds', (x) => Number.isInteger(x));
  const cells: Record<string, SweepCellResult> = {};
  for (const [key, c] of Object.entries(json.cells)) {
    if (!isRecord(c)) throw new SweepFormatError(`sweep results: cell '${key}' must be an object`);
    if (typeof c.model !== 'string' || typeof c.noise !== 'number' || !Number.isInteger(c.seed))
      throw new SweepFormatError(`sweep results: cell '${key}' needs model (string), noise (number) and seed (integer)`);
    if (cellKey(c.model, c.noise, c.seed as number) !== key) throw new SweepFormatError(`sweep results: cell '${key}' does not match its model/noise/seed`);
    if (c.status !== 'done' && c.status !== 'failed') throw new SweepFormatError(`sweep results: cell '${key}' has status ${JSON.stringify(c.status ?? null)} (expected "done" or "failed")`);
    if (c.testMse !== null && c.testMse !== undefined && typeof c.testMse !== 'number') throw new SweepFormatError(`sweep results: cell '${key}' has a non-numeric testMse`);
    const skillProblem = skillFieldProblem(c);
    if (skillProblem) throw new SweepFormatError(`sweep results: cell '${key}' ${skillProblem}`);
    cells[key] = { ...(c as unknown as SweepCellResult), testMse: (c.testMse as number | null | undefined) ?? null };
  }
  return {
    format: SWEEP_FORMAT,
    version: SWEEP_VERSION,
    config: json.config,
    models,
    noise,
    seeds,
    cells,
    createdAt: typeof json.createdAt === 'string' ? json.createdAt : null,
    updatedAt: typeof json.updatedAt === 'string' ? json.updatedAt : null,
  };
}

/** An empty results object for a configuration. */
export function emptySweepResults(config: SweepConfig, now: string | null = null): SweepResults {
  return { format: SWEEP_FORMAT, version: SWEEP_VERSION, config: jsonCopy(config), models: [], noise: [], seeds: [], cells: {}, createdAt: now, updatedAt: now };
}

/**
 * The results object a sweep continues from: a copy of `existing` (validated) when its
 * configuration equals `config`, a fresh one when `existing` is null, with the plan's models,
 * noise levels and seeds merged in.
 * @throws SweepConfigMismatchError when the configurations differ; SweepFormatError when `existing` is malformed
 */
export function initSweepResults(
  existing: unknown,
  config: SweepConfig,
  plan?: { models?: readonly string[]; noise?: readonly number[]; seeds?: readonly number[] },
  now: string | null = null,
): SweepResults {
  let r: SweepResults;
  if (existing === null || existing === undefined) r = emptySweepResults(config, now);
  else {
    r = jsonCopy(parseSweepResults(existing));
    const diff = configDifferences(r.config, config);
    if (diff.length) throw new SweepConfigMismatchError(diff);
  }
  const merge = <T>(into: T[], from: readonly T[] | undefined) => {
    for (const x of from ?? []) if (!into.includes(x)) into.push(x);
  };
  merge(r.models, plan?.models);
  merge(r.noise, plan?.noise?.map((n) => (Object.is(n, -0) ? 0 : n)));
  merge(r.seeds, plan?.seeds);
  return r;
}

/** The recorded form of a finished cell (the same for in-process and queued runs). */
export function doneCellResult(cell: { key: string; model: string; noise: number; seed: number }, metrics: SweepCellMetrics | null | undefined, finishedAt: string | null): SweepCellResult {
  const m = jsonCopy(metrics) ?? { testMse: null };
  const id = { key: cell.key, model: cell.model, noise: cell.noise, seed: cell.seed, status: 'done' as const };
  // identity fields first (readable files) and last (they win over anything runCell returned)
  return Object.assign({}, id, m, id, { testMse: typeof m.testMse === 'number' ? m.testMse : null, finishedAt });
}

/** The recorded form of a failed cell (retried by the next run). */
export function failedCellResult(cell: { key: string; model: string; noise: number; seed: number }, error: string, finishedAt: string | null): SweepCellResult {
  return { key: cell.key, model: cell.model, noise: cell.noise, seed: cell.seed, status: 'failed', error, testMse: null, finishedAt };
}

/** Stores a cell result, keeping the insertion order of `cells` = finishing order. */
export function recordCell(results: SweepResults, result: SweepCellResult): void {
  delete results.cells[result.key];
  results.cells[result.key] = result;
}

/**
 * Merges two results objects of the same sweep configuration (e.g. the file on disk and a running
 * sweep's copy) so that nothing finished in either is lost: every cell of both; where both hold a
 * cell, a finished one wins over a failed one, and otherwise `mine` wins (the writer's latest view).
 * Models, noise levels and seeds are the union (first-seen order, `disk` first).
 * @throws SweepConfigMismatchError when the configurations differ
 */
export function mergeSweepResults(disk: SweepResults, mine: SweepResults): SweepResults {
  const diff = configDifferences(disk.config, mine.config);
  if (diff.length) throw new SweepConfigMismatchError(diff);
  const out: SweepResults = jsonCopy(disk);
  const union = <T>(a: T[], b: readonly T[]) => {
    for (const x of b) if (!a.includes(x)) a.push(x);
  };
  union(out.models, mine.models);
  union(out.noise, mine.noise);
  union(out.seeds, mine.seeds);
  for (const [key, cell] of Object.entries(mine.cells)) {
    const there = out.cells[key];
    if (there && there.status === 'done' && cell.status !== 'done') continue;
    if (there && canonicalJson(there) === canonicalJson(cell)) continue;
    recordCell(out, jsonCopy(cell));
  }
  if (mine.createdAt && (!out.createdAt || mine.createdAt < out.createdAt)) out.createdAt = mine.createdAt;
  if (mine.updatedAt && (!out.updatedAt || mine.updatedAt > out.updatedAt)) out.updatedAt = mine.updatedAt;
  return out;
}

/** Options of {@link runSweep}: the plan (models x noise levels x seeds), how to run one cell, where to save, and the results of an earlier run to resume. */
export interface RunSweepOptions {
  config: SweepConfig;
  models: readonly string[];
  noise: readonly number[];
  seeds: readonly number[];
  /** Results to continue from (a parsed results file), or null/undefined for a fresh sweep. */
  results?: unknown;
  /** Trains and evaluates one cell. */
  runCell: (cell: SweepCellSpec) => SweepCellMetrics | Promise<SweepCellMetrics>;
  /** Persists the results object; called once before the first cell and after every cell. */
  save: (results: SweepResults) => void | Promise<void>;
  /** Progress: called after each cell is skipped, finished or failed. */
  onCell?: (event: { cell: SweepCellSpec; outcome: 'skipped' | 'done' | 'failed'; result: SweepCellResult | null; done: number; total: number }) => void;
  /**
   * Decides what a throwing `runCell` means: 'record' stores the cell as failed (retried on the
   * next run) and goes on; 'throw' (the default) saves what is finished and rethrows.
   */
  onCellError?: (error: unknown, cell: SweepCellSpec) => 'record' | 'throw';
  /** ISO timestamp source (default: the system clock). */
  now?: () => string;
}

/** What {@link runSweep} returns: the full results and the counts of cells run, skipped (resumed) and failed. */
export interface SweepOutcome {
  results: SweepResults;
  /** This plan's cells in plan order (finished, failed, or null when not run). */
  cells: (SweepCellResult | null)[];
  ran: number;
  skipped: number;
  failed: number;
  total: number;
}

/**
 * Runs (or resumes) a sweep: every model x noise x seed cell not already finished in `results`
 * with the same configuration. The results object is saved before the first cell and after every
 * cell, so at any moment the saved copy holds every finished cell.
 * @throws SweepConfigMismatchError / SweepFormatError before anything runs; whatever `runCell`
 *   throws (after saving) unless `onCellError` says 'record'
 *
 * @example
 * ```ts
 * const outcome = await runSweep({
 *   config: { system: 'cstr', epochs: 5 }, models: ['iclrnn', 'rnn'], noise: [0, 0.3], seeds: [0],
 *   runCell: (c) => ({ testMse: fitModel(data, { kind: c.model, hidden: 8, layers: 1, epochs: 5, seed: c.seed, noise: c.noise }).testMse }),
 *   save: (results) => writeFileSync('sweep.json', JSON.stringify(results)),
 * });
 * console.log(outcome.ran, outcome.failed);
 * ```
 */
export async function runSweep(o: RunSweepOptions): Promise<SweepOutcome> {
  const now = o.now ?? (() => new Date().toISOString());
  const plan = sweepCells(o.models, o.noise, o.seeds);
  const results = initSweepResults(o.results ?? null, o.config, { models: o.models, noise: o.noise, seeds: o.seeds }, now());
  results.updatedAt = now();
  await o.save(results);
  const out: SweepOutcome = { results, cells: plan.map(() => null), ran: 0, skipped: 0, failed: 0, total: plan.length };
  let done = 0;
  for (const cell of plan) {
    const prev = results.cells[cell.key];
    if (prev && prev.status === 'done') {
      out.cells[cell.index] = prev;
      out.skipped++;
      done++;
      o.onCell?.({ cell, outcome: 'skipped', result: prev, done, total: plan.length });
      continue;
    }
    let result: SweepCellResult;
    try {
      result = doneCellResult(cell, await o.runCell(cell), now());
      out.ran++;
    } catch (e) {
      const action = o.onCellError?.(e, cell) ?? 'throw';
      if (action !== 'record') {
        results.updatedAt = now();
        await o.save(results);
        throw e;
      }
      result = failedCellResult(cell, e instanceof Error ? e.message : String(e), now());
      out.failed++;
    }
    recordCell(results, result);
    results.updatedAt = now();
    await o.save(results);
    out.cells[cell.index] = result;
    done++;
    o.onCell?.({ cell, outcome: result.status === 'done' ? 'done' : 'failed', result, done, total: plan.length });
  }
  return out;
}

/** Options of {@link empiricalLipschitz}. */
export interface EmpiricalLipschitzOptions {
  /** Perturbation size: each entry moves by a uniform draw in [eps/4, eps] (default 1e-4). */
  eps?: number;
  /** Samples per forward pass (default 512). */
  batchSize?: number;
}

/**
 * Empirical Lipschitz estimate of the reference protocol (REFERENCE.md, end of section 3): for
 * each input sequence x (scaled, batch-major `count x steps x inputSize`), perturb every entry by
 * a uniform draw in [eps/4, eps] (eps = 1e-4) and take the largest ||f(x') - f(x)|| / ||x' - x||
 * over the set (norms over the whole sequence). A lower estimate of the Lipschitz constant, not a
 * certificate. Deterministic for a given seed.
 * @returns the estimate (0 for an empty set)
 */
export function empiricalLipschitz(model: SequenceModel, inputs: Float64Array, count: number, steps: number, seed = 0, options: EmpiricalLipschitzOptions = {}): number {
  const nin = model.inputSize;
  const eps = options.eps ?? 1e-4;
  const bs = Math.max(1, Math.floor(options.batchSize ?? 512));
  if (!Number.isInteger(count) || count < 0) throw new ValidationError(`count must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`steps must be a positive integer, got ${steps}`);
  if (!(eps > 0) || !Number.isFinite(eps)) throw new ValidationError(`eps must be a finite number > 0, got ${eps}`);
  if (inputs.length < count * steps * nin) throw new ValidationError(`inputs hold ${inputs.length} values, expected count*steps*inputSize = ${count}*${steps}*${nin}`);
  if (count === 0) return 0;
  // One implementation of the protocol: the certificate module's.
  return referenceEstimate(model, { steps, samples: inputs.subarray(0, count * steps * nin), eps, seed, batch: bs }).value;
}
