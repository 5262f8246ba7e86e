import type { Constraint } from './constraints.ts';

/**
 * A trainable matrix (rows x cols, row-major) with its gradient and an optional constraint that
 * the trainer applies after every optimiser step. Vectors are 1 x n.
 */
export interface Parameter {
  /** Name inside its layer, e.g. `kernel`, `recurrentKernel`, `bias`. */
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly value: Float64Array;
  readonly grad: Float64Array;
  constraint: Constraint | null;
}

/** Creates a zero parameter. */
export function createParameter(name: string, rows: number, cols: number, constraint: Constraint | null = null): Parameter {
  return { name, rows, cols, value: new Float64Array(rows * cols), grad: new Float64Array(rows * cols), constraint };
}
