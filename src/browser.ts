/**
 * The browser-safe public API of iclrnn: models, training, certificates, MPC, systems, reports and
 * the (pure) model-file format. Nothing here imports a Node API, so a bundler can ship it to a web
 * page (test/browser.test.ts bundles it for the browser and runs it without Node globals).
 * @packageDocumentation
 */
export { Rng } from './core/rng.ts';
export { kernels, setKernels, jsKernels, matmul, matmulTransA, matmulTransB, type Kernels } from './core/kernels.ts';
export { largestSingularValue, powerIteration, symmetricEigenvalues, orthogonal, gram, norm2 } from './core/linalg.ts';
export type { Parameter } from './nn/parameter.ts';
export { NonNegative, SpectralNormalize, constraintFromConfig, type Constraint, type ConstraintConfig, type SpectralMode } from './nn/constraints.ts';
export type { Activation, CellConfig, RecurrentCell } from './nn/cell.ts';
export { SimpleCell } from './nn/simple-cell.ts';
export { LstmCell } from './nn/lstm-cell.ts';
export { LipschitzCell } from './nn/lipschitz-cell.ts';
export { IcrnnCell } from './nn/icrnn-cell.ts';
export { IclstmCell } from './nn/iclstm-cell.ts';
export { Dense, type DenseConfig } from './nn/dense.ts';
export { SequenceModel, createCell, toTimeMajor, toBatchMajor, validateSpec, type ModelKind, type ModelSpec, type NamedParameter } from './nn/model.ts';
export { buildModel, modelSpec, isInputConvexKind, MODEL_KINDS, type BuiltinModelKind, type BuildOptions } from './nn/models.ts';
export { MinMaxScaler, type MinMaxScalerConfig } from './train/scaler.ts';
export { Adam, Sgd, createOptimizer, type Optimizer, type OptimizerConfig } from './train/optimizers.ts';
export { train, evaluateMse, gatherTimeMajor, type TrainOptions, type TrainHistory, type TrainingData, type EpochInfo } from './train/trainer.ts';
export { prepareData, fitModel, testMseOf, predictPhysical, type ScaledModel, type PreparedData, type FitOptions, type FitResult } from './train/pipeline.ts';
export * from './systems/dataset.ts';
export * from './systems/split.ts';
export * from './systems/cstr.ts';
export { modelToJson, modelFromJson, MODEL_FORMAT_VERSION, type ModelFileJson, type ModelMetadata, type StoredModel } from './io/model-format.ts';
export { DataError } from './io/errors.ts';
export * from './report/index.ts';
export * from './train/sweep.ts';
export * from './control/index.ts';
export * from './systems/energy.ts';
export * from './systems/solar.ts';
export { windowedDataset, type NumericMatrix } from './systems/timeseries.ts';
export * from './certify/index.ts';
