/**
 * The recurrent-cell contract. A cell declares its sizes and implements one time step forward and
 * its hand-derived backward pass for a whole batch; one generic sequence loop
 * (`runSequence` / `backpropSequence` in sequence.ts) runs any cell, as in tfjs-layers' recurrent.ts.
 *
 * Why hand-derived backward passes instead of a tape-based autodiff: the models are a handful of
 * fixed cells whose adjoints are short; writing them out avoids a graph, per-op dispatch and
 * per-op allocation (the cost that makes TF.js slow on this workload, see PERFORMANCE.md), and each
 * one is verified against finite differences in test/nn.
 *
 * Layout of every buffer: batch-major rows, `[batch][features]`, contiguous.
 */
import type { Parameter } from './parameter.ts';
import type { ConstraintConfig } from './constraints.ts';

/** Activation functions the cells and heads use. */
export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid';

/** Serialisable cell description (architecture only; weights travel separately). */
export type CellConfig =
  | { type: 'simple'; inputSize: number; units: number; activation: 'tanh' | 'relu'; constraints?: Record<string, ConstraintConfig> }
  | { type: 'lstm'; inputSize: number; units: number; constraints?: Record<string, ConstraintConfig> }
  | {
      type: 'lipschitz';
      inputSize: number;
      units: number;
      eps: number;
      gamma: number;
      beta: number;
      alpha: number;
      constraints?: Record<string, ConstraintConfig>;
    }
  | { type: 'icrnn'; inputSize: number; units: number; constraints?: Record<string, ConstraintConfig> }
  | { type: 'iclstm'; inputSize: number; units: number; constraints?: Record<string, ConstraintConfig> }
  | { type: 'gru'; inputSize: number; units: number; constraints?: Record<string, ConstraintConfig> };

/** One recurrent cell: forward and backward for a single time step over a batch. */
export interface RecurrentCell {
  readonly inputSize: number;
  readonly units: number;
  /** Features of the per-step output fed to the next layer. */
  readonly outputSize: number;
  /** Floats of recurrent state per sample (zeros at t = 0). */
  readonly stateSize: number;
  /** Floats per sample per step the forward pass stores for the backward pass. */
  readonly cacheSize: number;
  readonly params: Parameter[];
  /** When false, backward skips the parameter gradients (input gradients only: MPC, certificates). */
  paramGradients: boolean;
  config(): CellConfig;
  /** Called before a forward pass over a sequence (computes derived weights, if any). */
  prepare(): void;
  /** One step: reads x [B x in] and sPrev [B x state]; writes sNext, y [B x out] and cache. */
  forward(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array): void;
  /**
   * Adjoint of one step. Inputs: the forward values of the step and the gradients of the loss w.r.t.
   * its output (`dy`) and its next state (`dsNext`, from later steps). Writes (overwrites) `dsPrev`
   * and `dx`; accumulates parameter gradients.
   */
  backward(
    batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void;
  /** Called once after the backward pass over all steps (folds derived-weight gradients). */
  finishBackward(): void;
}

/** Grows a scratch buffer to at least n entries (reuses it otherwise). */
export function scratch(buf: Float64Array, n: number): Float64Array {
  return buf.length >= n ? buf : new Float64Array(n);
}

/** Adds the column sums of g [rows x cols] to acc [cols]. */
export function addColumnSums(g: Float64Array, rows: number, cols: number, acc: Float64Array, accOff = 0): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) acc[accOff + c] += g[o + c];
  }
}
