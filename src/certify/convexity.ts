/**
 * Structural convexity certificate: proves that each output of each step is a convex function of
 * the (un-augmented, scaled) input sequence, or says why it cannot. The proof is the cell-program
 * convexity interpreter's (`interp/convexity.ts`: one composition rule of convex analysis per
 * primitive, curvature classes `constant < affine < convex | concave < unknown`), so every family,
 * registered or future, and every layer graph (the multi-block ICLSTM) is covered by the same rules;
 * this module states the verdict in the certificate's terms.
 *
 * - A weight may have any sign where it multiplies a constant or affine quantity (this is why the
 *   augmentation `[x, offset - x]` is *allowed* but not *needed* for convexity: it is affine in x;
 *   it is needed for expressiveness and is reported). A negative weight on a convex quantity makes
 *   it concave; where a concave quantity then breaks the proof, the weight is named (layer,
 *   parameter, first entry, number of such entries).
 * - `relu` and `linear` are convex and non-decreasing; `tanh` and `sigmoid` are not convex and are
 *   named when they meet a non-constant argument.
 * - Products (the LSTM and ICLSTM gates) are convex only when both factors are non-negative convex
 *   functions, monotone in the same direction, of one and the same scalar: true for the ICLSTM at
 *   the first step of a layer only, so ICLSTM sequences of more than one step are not certified
 *   convex, and the product is named.
 *
 * Sound (`convex: true` is a proof for the weights the model holds, on all of R^d) and conservative
 * (`false` means "not proven"; {@link jensenCheck} then looks for an actual violation).
 */
import type { SequenceModel } from '../nn/model.ts';
import { ValidationError } from '../core/errors.ts';
import { programConvexity } from './programs.ts';
import { Curv } from '../interp/convexity.ts';

/** Curvature classes of the convexity interpreter (`constant < affine < convex | concave < unknown`). */
export const Curvature = Curv;

/** Why convexity could not be proven. */
export type ConvexityReason =
  | {
      kind: 'negative-weight';
      /** Layer path, e.g. `cells.1` or `head.0`. */
      layer: string;
      /** Parameter path, e.g. `cells.1.recurrentKernel`. */
      parameter: string;
      /** Row and column of the first (row-major) offending entry, and its flat index. */
      index: [number, number];
      flatIndex: number;
      value: number;
      /** Offending entries of this parameter (each multiplies a convex or concave, non-affine quantity with the wrong sign). */
      count: number;
      message: string;
    }
  | { kind: 'activation'; layer: string; activation: string; message: string }
  | { kind: 'product'; layer: string; operation: string; step: number; unit: number; message: string }
  | { kind: 'unsupported'; layer: string; message: string };

/** Result of {@link structuralConvexity}. */
export interface StructuralConvexity {
  /** True when every output (all steps, all features) is proven convex in the input sequence. */
  convex: boolean;
  /** Per output feature: proven convex at every step. */
  outputs: boolean[];
  /** Root causes, one per parameter / activation / product site (empty when convex). */
  reasons: ConvexityReason[];
  /** Whether the model feeds `[x, offset - x]` (informational: not required for convexity). */
  augmentation: boolean;
  steps: number;
  notes: string[];
}

/**
 * The structural convexity certificate of `model` over sequences of `steps` steps (module comment).
 *
 * @throws ValidationError when steps is not a positive integer
 */
export function structuralConvexity(model: SequenceModel, steps: number): StructuralConvexity {
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`structuralConvexity: steps must be a positive integer, got ${steps}`);
  return programConvexity(model, steps);
}
