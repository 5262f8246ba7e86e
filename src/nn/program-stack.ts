/**
 * A {@link SequenceModel} as a {@link ProgramStack}: its layers in evaluation order as the cell
 * families' step programs (src/graph/registry.ts) over the model's own parameter buffers, so the
 * analysis interpreters (forward mode, bounds, convexity, gain in src/interp) run on any model
 * whose families are registered. Plus {@link ProgramTangentEngine}: the forward-mode interpreter
 * behind the MPC predictor's interface for models the hand-written TangentEngine does not cover
 * (the Lipschitz RNN, the GRU, any new family).
 */
import type { FamilyConfigBase } from '../graph/family.ts';
import { programOf } from '../graph/registry.ts';
import type { ProgramStack } from '../interp/bind.ts';
import { ForwardEngine } from '../interp/forward.ts';
import type { SequenceModel } from './model.ts';
import { ValidationError } from '../core/errors.ts';

/**
 * The model's layers as programs over its parameter buffers. The stack reads the buffers live:
 * interpreters that copy derived matrices (the Lipschitz RNN's M and W) need their `sync()` after
 * a weight change.
 */
export function programStack(model: SequenceModel): ProgramStack {
  const values = (params: readonly { name: string; value: Float64Array }[]) => Object.fromEntries(params.map((p) => [p.name, p.value]));
  return {
    inputSize: model.inputSize,
    augmentation: model.spec.augmentation ? [...model.spec.augmentation.offset] : null,
    layers: model.order.map((ref) => {
      if (ref.type === 'cell') {
        const cell = model.cells[ref.index];
        return { program: programOf(cell.config() as unknown as FamilyConfigBase), params: values(cell.params) };
      }
      const h = model.head[ref.index];
      const c = h.config();
      return { program: programOf({ type: 'dense', ...c } as unknown as FamilyConfigBase), params: values(h.params), residual: c.residual ?? false };
    }),
  };
}

/**
 * Forward mode of a whole model on one sequence of identical (augmented) rows, with the
 * TangentEngine's calling convention, run by the generic forward-mode interpreter: lane 0 the
 * values, lanes 1.. the derivatives along the given input directions.
 */
export class ProgramTangentEngine {
  /** Smooth or not, the generic engine never reuses Jacobians across activation patterns. */
  readonly piecewiseLinear = false;
  private readonly engine: ForwardEngine;
  private readonly na: number;
  private dirs: Float64Array;

  /**
   * @param model the network (its parameter buffers are read live; call {@link sync} after a change)
   * @param maxLanes 1 + the largest number of directions
   */
  constructor(model: SequenceModel, readonly maxLanes: number) {
    const stack = programStack(model);
    // the lanes arrive augmented: the engine sees the augmented row as its (plain) input, and the
    // residual adds of the augmented input read exactly that row
    this.na = model.augmentedSize;
    this.engine = new ForwardEngine({ ...stack, inputSize: this.na, augmentation: null }, maxLanes - 1);
    this.dirs = new Float64Array((maxLanes - 1) * this.na);
  }

  /** Pattern length (no activation patterns are recorded: 0). */
  patternSize(_steps: number): number {
    return 0;
  }

  /** Re-reads the weights (recomputes derived matrices). */
  sync(): void {
    this.engine.sync();
  }

  /**
   * Runs `steps` steps on the constant augmented input `a` (lanes x augmentedSize: lane 0 the
   * values, lanes 1.. the input directions) into `out` (steps x lanes x outputSize).
   */
  run(a: Float64Array, lanes: number, steps: number, out: Float64Array, _pattern: Uint8Array | null = null): void {
    if (lanes > this.maxLanes) throw new ValidationError(`ProgramTangentEngine: ${lanes} lanes, built for ${this.maxLanes}`);
    const na = this.na, k = lanes - 1;
    for (let i = 0; i < k * na; i++) this.dirs[i] = a[na + i];
    this.engine.sequence(a, this.dirs, k, steps, out, true);
  }
}
