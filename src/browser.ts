/**
 * iclrnn for the browser (`import ... from 'iclrnn/browser'`): the root API without the file I/O.
 * Nothing here imports a Node API, so a bundler can ship it to a web page (test/browser.test.ts and
 * the packaging test bundle it and run it with no Node globals). Every name is listed explicitly:
 * what is not listed here is internal and may change without notice.
 *
 * @packageDocumentation
 */

// Models: build, inspect.
export { buildModel, MODEL_KINDS, isInputConvexKind, type BuiltinModelKind, type BuildOptions } from './nn/models.ts';
export type { SequenceModel, ModelSpec, ModelKind, NamedParameter } from './nn/model.ts';

// Training, evaluation and prediction.
export { fitModel, fitModelAsync, predictPhysical, testMseOf, type FitOptions, type FitResult, type FitWarning, type ScaledModel, type PreparedData } from './train/pipeline.ts';
export { TrainingDivergedError, type TrainHistory, type EpochInfo, type TrainingData, type DivergenceInfo } from './train/trainer.ts';
export type { LearningRateSchedule } from './train/optimizers.ts';
// Accuracy against naive forecasts (persistence / last value) and the mean predictor.
export { testBaselines, skillReport, type BaselineReport, type SkillReport } from './train/metrics.ts';

// The model-file format (pure JSON; saveModel / loadModel in the Node entry write and read files).
export { modelToJson, modelFromJson, MODEL_FORMAT_VERSION, type ModelFileJson, type ModelMetadata, type StoredModel } from './io/model-format.ts';

// Data sets: the CSTR simulator and the windowing of measured series (energy, solar, any time series).
export type { SequenceDataset } from './systems/dataset.ts';
export { generateCstrDataset, simulateCstr, type CstrDataset, type CstrDatasetOptions, type CstrSimulationOptions, type CstrTrajectory } from './systems/cstr.ts';
export { energyDataset, type EnergyOptions } from './systems/energy.ts';
export { solarDataset, type SolarDataset, type SolarOptions } from './systems/solar.ts';
export { windowedDataset, type WindowOptions, type NumericMatrix, type ColumnSource } from './systems/timeseries.ts';

// Certificates.
export { certify, type CertifyOptions, type CertificateReport, type BoundDetail } from './certify/certify.ts';
export { formatCertificate } from './certify/format.ts';

// Model predictive control.
export { Mpc, type MpcProblem, type MpcSolution, type MpcSolverOptions } from './control/mpc.ts';
export { closedLoop, summarizeClosedLoop, type Plant, type Controller, type ControlStep, type ClosedLoopOptions, type ClosedLoopResult, type ClosedLoopSummary } from './control/closed-loop.ts';
export { createCstrLmpc, runCstrClosedLoop, CSTR_LMPC, type CstrLmpcOptions, type CstrClosedLoopOptions, type CstrClosedLoopResult } from './apps/cstr-lmpc.ts';

// Robustness sweeps.
export { runSweep, type RunSweepOptions, type SweepOutcome, type SweepResults, type SweepCellSpec, type SweepCellResult } from './train/sweep.ts';

// Errors: every problem a user can fix is a ValidationError.
export { ValidationError, DataError, ModelFileError, isValidationError, type ErrorContext } from './core/errors.ts';
