/**
 * `iclrnn/nn`: the building blocks under `buildModel` and `fitModel`, for custom
 * architectures and training loops: the sequence model, its recurrent cells and dense head, weight
 * constraints, optimizers, the minibatch trainer, scalers and data preparation. Browser-safe.
 *
 * @example
 * ```js
 * import { buildModel, train, prepareData } from 'iclrnn/nn';
 * import { generateCstrDataset } from 'iclrnn';
 *
 * const prepared = prepareData(generateCstrDataset(), { splitSeed: 0 });
 * const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 16, layers: 1, seed: 0 });
 * const history = train(model, prepared.train, prepared.validation, { epochs: 2, batchSize: 256, seed: 0 });
 * ```
 *
 * @packageDocumentation
 */
export { buildModel, buildMultiBlockIclstm, modelSpec, isInputConvexKind, MODEL_KINDS, type BuiltinModelKind, type BuildOptions } from '../nn/models.ts';
export { SequenceModel, createCell, layerOrder, toTimeMajor, toBatchMajor, validateSpec, type LayerRef, type ModelKind, type ModelSpec, type NamedParameter } from '../nn/model.ts';
export type { Activation, CellConfig, RecurrentCell } from '../nn/cell.ts';
export type { Parameter } from '../nn/parameter.ts';
export { SimpleCell } from '../nn/simple-cell.ts';
export { LstmCell } from '../nn/lstm-cell.ts';
export { LipschitzCell } from '../nn/lipschitz-cell.ts';
export { IcrnnCell } from '../nn/icrnn-cell.ts';
export { IclstmCell } from '../nn/iclstm-cell.ts';
export { Dense, type DenseConfig } from '../nn/dense.ts';
export { NonNegative, SpectralNormalize, constraintFromConfig, type Constraint, type ConstraintConfig, type SpectralMode } from '../nn/constraints.ts';
export { Adam, Sgd, createOptimizer, type Optimizer, type OptimizerConfig } from '../train/optimizers.ts';
export { train, evaluateMse, WASM_FORWARD_MIN_ROWS, type TrainOptions, type TrainHistory, type TrainingData, type EpochInfo } from '../train/trainer.ts';
export { MinMaxScaler, type MinMaxScalerConfig } from '../nn/scaler.ts';
export { WasmPredictor, wasmPredictorReason, type WasmPredictorOptions } from '../nn/wasm-predictor.ts';
export { prepareData, type PreparedData, type ScaledModel } from '../train/pipeline.ts';
export { splitIndices, type SplitOptions } from '../systems/split.ts';
export type { DatasetSplit, SequenceDataset } from '../systems/dataset.ts';
