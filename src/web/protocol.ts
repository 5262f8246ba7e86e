/**
 * Messages between the page (main thread) and the computation worker. Requests carry an id and
 * get exactly one reply ({@link Reply}); long jobs also send {@link WorkerEvent}s while they run.
 * Only small, plot-ready arrays cross the boundary (the data set and the model stay in the worker).
 */
import type { CertificateReport } from '../certify/certify.ts';
import type { ModelFileJson } from '../io/model-format.ts';
import type { SweepResults } from '../train/sweep.ts';

export type ModelFamily = 'rnn' | 'lstm' | 'lrnn' | 'icrnn' | 'iclstm' | 'iclrnn' | 'gru';

export interface CstrSettings {
  /** Keep every k-th sample of the 12352 (1 = all). */
  every: number;
}

export interface FileColumns {
  name: string;
  kind: 'csv' | 'mat';
  /** Column names (CSV header, or `VAR:k` per channel of each readable MAT variable). */
  columns: string[];
  /** Rows of the longest column (time steps). */
  rows: number;
  /** Variables that cannot be used, with the reason (MAT). */
  skipped: string[];
}

export interface WindowSettings {
  inputs: string[];
  outputs: string[];
  window: number;
  stride: number;
}

/** What the Data view shows about the current data set. */
export interface DataSummary {
  name: string;
  source: string;
  count: number;
  steps: number;
  inputNames: string[];
  outputNames: string[];
  split: { train: number; validation: number; test: number };
  /** Preview: time axis and one series per feature (first sequences laid end to end). */
  preview: { t: number[]; series: { label: string; values: number[] }[] };
  /** CSTR only: initial states (x1, x2) of the kept samples, at most 800. */
  initialStates: [number, number][] | null;
  isCstr: boolean;
}

export interface TrainSettings {
  kind: ModelFamily;
  hidden: number;
  layers: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  noise: number;
  seed: number;
  /** Continue the current model (same data and family) instead of starting afresh. */
  resume: boolean;
}

export interface EpochEvent {
  type: 'epoch';
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number | null;
  seconds: number;
}

export interface TrainStart {
  type: 'train-start';
  /** Validation MSE (scaled) of the persistence baseline: every output stays at its last known value. */
  baseline: number;
  baselineNote: string;
  firstEpoch: number;
  epochs: number;
  isolated: boolean;
}

export interface TrainSummary {
  epochsRun: number;
  stopped: boolean;
  testMse: number;
  baseline: number;
  /** Test MSE (scaled) of the naive forecast on the test split (see train/metrics.ts); null: none. */
  testBaseline: number | null;
  /** Which naive forecast: 'persistence', 'last-value' or 'none'. */
  baselineKind: 'persistence' | 'last-value' | 'none';
  /** `testMse / testBaseline` (< 1: better than the naive forecast); null without one. */
  skill: number | null;
  /** Test MSE (scaled) of predicting the mean of the training targets. */
  meanPredictorMse: number;
  secondsPerEpoch: number;
  /** Which kernels trained the model (the WebAssembly SIMD path or plain JavaScript); null when no epoch ran. */
  kernels: { backend: 'wasm' | 'js'; precision: 'f32' | 'f64'; fma: boolean } | null;
  model: ModelInfo;
}

export interface ModelInfo {
  kind: string;
  inputSize: number;
  outputSize: number;
  units: number[];
  parameters: number;
  inputNames: string[];
  outputNames: string[];
  system: string | null;
  label: string;
}

export interface InspectResult {
  /** Predicted vs true on a few test sequences (physical units), per output. */
  samples: { index: number; t: number[]; outputs: { label: string; truth: number[]; predicted: number[] }[] }[];
  testMse: number | null;
  /** CSTR: true and chained predicted trajectories under u = 0 and one other input. */
  phase: { u: [number, number]; trajectories: { trueX1: number[]; trueX2: number[]; predX1: number[]; predX2: number[] }[] }[] | null;
}

export interface CertifyRequestOptions {
  /** Index (within the test split) of the centre of the local box, or null for none. */
  localIndex: number | null;
  radius: number;
}

export interface CertifyResult {
  report: CertificateReport;
  /** The centre used for the local bound (scaled, steps x inputSize), when one was asked for. */
  localCenter: number[] | null;
}

export interface TestPoints {
  /** One 2-D point per test sequence (first two scaled input features at step 0) for clicking. */
  points: [number, number][];
  labels: [string, string];
}

export interface MpcStepEvent {
  type: 'mpc-step';
  predictor: 'model' | 'first-principles';
  step: number;
  x: [number, number];
}

export interface MpcRunResult {
  predictor: 'model' | 'first-principles';
  t: number[];
  x1: number[];
  x2: number[];
  u1: number[];
  u2: number[];
  /** V(x) along the true (plant) trajectory. */
  v: number[];
  /** The largest V on the plant; at or above 372 the run left the stability region. */
  maxV: number;
  solveMs: number[];
  statuses: string[];
  converged: boolean;
  steps: number;
  infeasibleSteps: number;
  message: string | null;
}

export interface ImportResult {
  json: ModelFileJson;
  info: ModelInfo;
  warnings: string[];
}

export type Request =
  | { type: 'simulate'; settings: CstrSettings }
  | { type: 'open-file'; name: string; bytes: ArrayBuffer }
  | { type: 'window'; settings: WindowSettings }
  | { type: 'train'; settings: TrainSettings; stopFlag: SharedArrayBuffer | null }
  | { type: 'stop' }
  | { type: 'inspect' }
  | { type: 'test-points' }
  | { type: 'certify'; options: CertifyRequestOptions }
  | { type: 'mpc'; x0: [number, number]; predictors: ('model' | 'first-principles')[]; maxSteps: number }
  | { type: 'import-keras'; name: string; bytes: ArrayBuffer; scalers: unknown | null }
  | { type: 'load-model'; json: unknown; label: string }
  | { type: 'save-model' }
  | { type: 'predict'; x: number[][] }
  | { type: 'open-sweep'; text: string; name: string };

export type RequestType = Request['type'];

export interface ResultOf {
  simulate: DataSummary;
  'open-file': FileColumns;
  window: DataSummary;
  train: TrainSummary;
  stop: null;
  inspect: InspectResult;
  'test-points': TestPoints;
  certify: CertifyResult;
  mpc: MpcRunResult[];
  'import-keras': ImportResult;
  'load-model': ModelInfo;
  'save-model': ModelFileJson;
  predict: number[][];
  'open-sweep': SweepResults;
}

export type WorkerEvent = EpochEvent | TrainStart | MpcStepEvent | { type: 'ready'; isolated: boolean };

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string; userError: boolean };

export type FromWorker = { kind: 'reply'; reply: Reply } | { kind: 'event'; event: WorkerEvent };
