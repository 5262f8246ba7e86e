/**
 * Runs one sweep cell from its job payload: loads (and caches) the data set, checks the data file's
 * SHA-256 for file-based systems, trains, evaluates (test MSE, empirical Lipschitz estimate,
 * certified bound) and returns the metrics and the model file's text. The one implementation used
 * by the in-process sweep and by queue workers, so both give bit-identical results for a seed.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { certify } from '../certify/certify.ts';
import { DataError } from '../core/errors.ts';
import { modelToJson } from '../io/model-format.ts';
import type { SequenceModel } from '../nn/model.ts';
import { MODEL_KINDS, type BuiltinModelKind } from '../nn/models.ts';
import type { SequenceDataset } from '../systems/dataset.ts';
import { cellSettingsOf, SWEEP_JOB_RESULT_FORMAT, SWEEP_JOB_VERSION, type SweepJobPayload, type SweepJobResult } from '../train/distributed/payload.ts';
import { fitModel } from '../train/pipeline.ts';
import { canonicalJson, empiricalLipschitz, type SweepCellMetrics, type SweepLipschitz } from '../train/sweep.ts';
import type { TrainingData } from '../train/trainer.ts';
import { loadSystem, SYSTEMS, type DataOptions } from './systems.ts';

/** Perturbation size of the reference Lipschitz protocol. */
export const LIPSCHITZ_EPS = 1e-4;

/** The file name of a cell's model inside the model folder. */
export function modelFileNameOf(cell: { model: string; noise: number; seed: number }): string {
  return `${cell.model}_noise${cell.noise}_seed${cell.seed}.json`;
}

/** A scaled model's certified Lipschitz upper bound; null with a reason when none is available. */
function certifiedUpperBound(model: SequenceModel, steps: number): { value: number | null; reason: string | null } {
  const report = certify(model, { steps, attack: false, jensen: false, domainBound: false, sampleCount: 1 });
  return { value: report.lipschitz.upperBound, reason: report.lipschitz.upperBoundReason };
}

/**
 * Empirical estimate (reference protocol: every entry of each sequence perturbed by a uniform draw
 * in [eps/4, eps], the largest output/input change ratio) on the given scaled inputs (`inputs`
 * names them: 'test' by default, 'train' for the reference's exact protocol), plus the certified bound.
 */
export function lipschitzOf(model: SequenceModel, data: TrainingData, samples: number, seed: number, inputs: 'train' | 'test' = 'test'): SweepLipschitz {
  const out: SweepLipschitz = { empirical: null, upperBound: null, method: 'reference-perturbation', eps: LIPSCHITZ_EPS, samples: 0, reason: null };
  if (inputs === 'train') out.inputs = 'train';
  const reasons: string[] = [];
  try {
    const n = samples > 0 ? Math.min(samples, data.count) : data.count;
    out.samples = n;
    const v = empiricalLipschitz(model, data.inputs, n, data.steps, seed, { eps: LIPSCHITZ_EPS });
    if (Number.isFinite(v)) out.empirical = v;
    else reasons.push(`empirical estimate is ${v}`);
  } catch (e) {
    reasons.push(`empirical estimate failed: ${(e as Error).message}`);
  }
  try {
    const b = certifiedUpperBound(model, data.steps);
    out.upperBound = b.value;
    if (b.reason) reasons.push(b.reason);
  } catch (e) {
    reasons.push(`upper bound failed: ${(e as Error).message}`);
  }
  out.reason = reasons.length ? reasons.join('; ') : null;
  return out;
}

/** SHA-256 (hex) of a file, cached by path, size and modification time. */
const hashCache = new Map<string, { size: number; mtimeMs: number; sha: string }>();
export function fileSha256(path: string): string {
  const st = statSync(path);
  const hit = hashCache.get(path);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha;
  const sha = createHash('sha256').update(readFileSync(path)).digest('hex');
  hashCache.set(path, { size: st.size, mtimeMs: st.mtimeMs, sha });
  return sha;
}

/**
 * Checks that the local data file is the one the sweep was planned with.
 * @throws DataError when it is missing or its SHA-256 differs
 */
export function checkDataFile(path: string, expectedSha256: string): void {
  let sha: string;
  try {
    sha = fileSha256(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`${path}: data file ${code === 'ENOENT' ? 'not found' : `unreadable (${code ?? (e as Error).message})`} on this worker (${hostname()}); the sweep needs the same file at this path (SHA-256 ${expectedSha256})`, { file: path, cause: e });
  }
  if (sha !== expectedSha256)
    throw new DataError(`${path}: this worker's data file differs from the coordinator's (SHA-256 ${sha.slice(0, 16)}... here, ${expectedSha256.slice(0, 16)}... expected); copy the same file to this machine`, { file: path });
}

/** Data sets loaded by this thread, by data options and file hash. */
const dataCache = new Map<string, SequenceDataset>();

async function datasetFor(job: SweepJobPayload): Promise<SequenceDataset> {
  const settings = cellSettingsOf(job.config, SYSTEMS);
  if (settings.data.data !== undefined) checkDataFile(settings.data.data, job.dataSha256 ?? '');
  const key = `${canonicalJson(settings.data)}#${job.dataSha256 ?? ''}`;
  let d = dataCache.get(key);
  if (!d) {
    d = await loadSystem(settings.data as DataOptions);
    dataCache.clear(); // one data set at a time
    dataCache.set(key, d);
  }
  return d;
}

/** Progress of a running cell. */
export interface CellEpoch {
  epoch: number;
  epochs: number;
  valLoss: number | null;
}

/**
 * Trains and evaluates one cell. Deterministic: the same payload gives the same metrics and model
 * (except the wall-clock fields trainSeconds and secondsPerEpoch).
 */
export async function runSweepCell(job: SweepJobPayload, onEpoch?: (e: CellEpoch) => void): Promise<SweepJobResult> {
  const s = cellSettingsOf(job.config, SYSTEMS);
  const dataset = await datasetFor(job);
  const kind = job.cell.model as BuiltinModelKind;
  if (!MODEL_KINDS.includes(kind)) throw new DataError(`unknown model '${kind}'`);
  const t0 = performance.now();
  const r = fitModel(dataset, {
    kind, hidden: s.hidden, layers: s.layers, epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate,
    noise: job.cell.noise, seed: job.cell.seed,
    splitSeed: s.data.splitSeed,
    spectral: { k: 1, mode: 'projection' },
    earlyStopping: s.earlyStopping ?? undefined,
    onEpoch: onEpoch ? (i) => onEpoch({ epoch: i.epoch, epochs: i.epochs, valLoss: i.valLoss }) : undefined,
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  const lipschitz = lipschitzOf(r.model, s.lipschitzInputs === 'train' ? r.data.train : r.data.test, s.lipschitzSamples, job.cell.seed + 7, s.lipschitzInputs);
  const h = r.history;
  let modelText: string | null = null;
  if (job.saveModels) {
    modelText = JSON.stringify(
      modelToJson({
        model: r.model,
        inputScaler: r.inputScaler,
        outputScaler: r.outputScaler,
        metadata: {
          system: s.system,
          data: { ...s.data },
          training: { epochs: s.epochs, batchSize: s.batchSize, learningRate: s.learningRate, optimizer: 'adam', noise: job.cell.noise, spectralMode: 'projection', k: 1, patience: s.earlyStopping?.patience ?? null, hidden: s.hidden, layers: s.layers },
          seed: job.cell.seed,
          metrics: { trainLoss: h.trainLoss.at(-1) ?? null, valLoss: h.valLoss.at(-1) ?? null, testMse: r.testMse, secondsPerEpoch: h.secondsPerEpoch, epochs: h.epochsRun },
        },
      }),
    );
  }
  const metrics: SweepCellMetrics = {
    testMse: r.testMse,
    lipschitz,
    trainSeconds,
    secondsPerEpoch: h.secondsPerEpoch,
    kernels: h.kernels ?? null,
    epochsRun: h.epochsRun,
    bestEpoch: h.bestEpoch,
    stoppedEarly: h.stoppedEarly,
    trainLoss: h.trainLoss.at(-1) ?? null,
    valLoss: h.valLoss.at(-1) ?? null,
    parameters: r.model.parameterCount(),
    modelFile: null,
    baselineMse: r.baselineMse,
    skill: r.skill,
    meanPredictorMse: r.baselines.meanMse,
    baselineKind: r.baselines.kind,
  };
  return { format: SWEEP_JOB_RESULT_FORMAT, version: SWEEP_JOB_VERSION, key: job.cell.key, metrics, modelText, worker: `${hostname()}:${process.pid}` };
}
