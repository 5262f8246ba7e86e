/**
 * `iclrnn/control`: the MPC toolbox behind `createCstrLmpc`: the dense QP and SQP solvers,
 * predictors with exact gradients (a trained model or an ODE), the MPC, the closed loop, the CSTR
 * Lyapunov MPC and its safety-filtered (robust) variant. Browser-safe.
 *
 * @example
 * ```js
 * import { createCstrLmpc, runCstrClosedLoop, summarizeClosedLoop } from 'iclrnn/control';
 *
 * const mpc = createCstrLmpc('first-principles');
 * const run = runCstrClosedLoop(mpc, [1.5, -70]);
 * console.log(summarizeClosedLoop(run).converged);
 * ```
 *
 * @packageDocumentation
 */
export { solveQp, QpSolver, type QpProblem, type QpResult, type QpOptions, type QpStatus } from '../control/qp.ts';
export { solveNlp, SqpSolver, type NlpProblem, type SqpOptions, type SqpResult, type SqpStatus } from '../control/nlp.ts';
export { ModelPredictor, OdePredictor, type Predictor, type ModelLayout, type OdeModel, type OdePredictorOptions } from '../control/predictors.ts';
export {
  Mpc,
  type MpcProblem,
  type MpcSolution,
  type MpcSolverOptions,
  type MpcEvaluation,
  type MpcFallback,
  type QuadraticCost,
  type LyapunovConstraint,
} from '../control/mpc.ts';
export {
  closedLoop,
  summarizeClosedLoop,
  type Plant,
  type Controller,
  type ControlStep,
  type ClosedLoopOptions,
  type ClosedLoopResult,
  type ClosedLoopSummary,
} from '../control/closed-loop.ts';
export {
  createCstrLmpc,
  createSafeCstrLmpc,
  cstrLmpcProblem,
  cstrPlant,
  cstrFirstPrinciplesPredictor,
  cstrModelPredictor,
  runCstrClosedLoop,
  estimateCstrPredictionError,
  CSTR_LMPC,
  CSTR_SAFETY_MODES,
  type CstrLmpcOptions,
  type CstrClosedLoopOptions,
  type CstrClosedLoopResult,
  type CstrErrorBoundOptions,
  type CstrSafetyMode,
  type SafeCstrLmpcOptions,
  type SafeCstrLmpc,
} from '../apps/cstr-lmpc.ts';
export {
  estimatePredictionError,
  SafeLmpcController,
  type PredictionErrorOptions,
  type PredictionErrorEstimate,
  type SafeFallback,
  type SafeLmpcOptions,
  type SafeLmpcStats,
} from '../control/robust.ts';
