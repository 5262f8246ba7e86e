/**
 * iclrnn: Input Convex Lipschitz RNNs for process modelling, certification and real-time MPC.
 *
 * The Node entry point (`import ... from 'iclrnn'`): everything of `iclrnn/browser` plus the file
 * I/O (model files, Keras import, data-set loaders for MAT/HDF5 and CSV files). Advanced pieces
 * live in the documented subpaths `iclrnn/nn`, `iclrnn/certify` and `iclrnn/control`. Every name is
 * listed explicitly: what is not listed is internal and may change without notice.
 *
 * @example
 * ```js
 * import { generateCstrDataset, fitModel, saveModel, predictPhysical } from 'iclrnn';
 *
 * const data = generateCstrDataset();
 * const fit = fitModel(data, { kind: 'iclrnn', hidden: 16, layers: 1, epochs: 5, seed: 0 });
 * saveModel('iclrnn.json', { ...fit, metadata: { system: 'cstr' } });
 * const y = predictPhysical(fit, data.inputs.subarray(0, 40), 1, 10);
 * ```
 *
 * @packageDocumentation
 */

export {
  buildModel,
  MODEL_KINDS,
  isInputConvexKind,
  type BuiltinModelKind,
  type BuildOptions,
  type SequenceModel,
  type ModelSpec,
  type ModelKind,
  type NamedParameter,
  fitModel,
  fitModelAsync,
  TrainingDivergedError,
  testBaselines,
  skillReport,
  type BaselineReport,
  type SkillReport,
  type FitWarning,
  type DivergenceInfo,
  predictPhysical,
  testMseOf,
  type FitOptions,
  type FitResult,
  type ScaledModel,
  type PreparedData,
  type TrainHistory,
  type LearningRateSchedule,
  type EpochInfo,
  type TrainingData,
  modelToJson,
  modelFromJson,
  MODEL_FORMAT_VERSION,
  type ModelFileJson,
  type ModelMetadata,
  type StoredModel,
  type SequenceDataset,
  generateCstrDataset,
  simulateCstr,
  type CstrDataset,
  type CstrDatasetOptions,
  type CstrSimulationOptions,
  type CstrTrajectory,
  energyDataset,
  type EnergyOptions,
  solarDataset,
  type SolarDataset,
  type SolarOptions,
  windowedDataset,
  type WindowOptions,
  type NumericMatrix,
  type ColumnSource,
  certify,
  type CertifyOptions,
  type CertificateReport,
  type BoundDetail,
  formatCertificate,
  Mpc,
  type MpcProblem,
  type MpcSolution,
  type MpcSolverOptions,
  closedLoop,
  summarizeClosedLoop,
  type Plant,
  type Controller,
  type ControlStep,
  type ClosedLoopOptions,
  type ClosedLoopResult,
  type ClosedLoopSummary,
  createCstrLmpc,
  runCstrClosedLoop,
  CSTR_LMPC,
  type CstrLmpcOptions,
  type CstrClosedLoopOptions,
  type CstrClosedLoopResult,
  runSweep,
  type RunSweepOptions,
  type SweepOutcome,
  type SweepResults,
  type SweepCellSpec,
  type SweepCellResult,
  ValidationError,
  DataError,
  ModelFileError,
  isValidationError,
  type ErrorContext,
} from './browser.ts';

// File I/O (Node only).
export { saveModel, loadModel } from './io/model-file.ts';
export { importKeras, kerasScalersFromPickles, type KerasImportOptions, type KerasImportResult, type KerasFormat, type KerasScalers } from './io/keras.ts';
export { readPickledMinMaxScaler, type PickledMinMaxScaler } from './io/pickle.ts';
export { loadEnergyDataset, loadSolarDataset, loadTimeSeries, type TimeSeriesFileOptions } from './io/datasets.ts';
// Data-parallel training threads (Node worker_threads) for `fitModel({ threads })` / `train`.
export { nodeTrainingThreads } from './train/distributed/training-threads.ts';
// The FMA (relaxed SIMD) kernel variants on Node 20: a process-wide V8 flag, so opt-in.
export { enableWasmFma } from './core/wasm-node.ts';
export type { WasmSupport } from './core/wasm.ts';
export type { TrainingThreads } from './train/data-parallel.ts';
