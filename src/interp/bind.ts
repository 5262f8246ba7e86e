/**
 * Binding cell programs to numbers, shared by the analysis interpreters (forward mode, bounds,
 * convexity, gain): a program's matrices (parameters and derived matrices) resolved to row-major
 * buffers, and a {@link ProgramStack}: the layers of a sequence model as programs, run one after the
 * other over a whole sequence (recurrent layers carry state across steps; stateless programs such
 * as dense layers act per step), with the optional `[x, offset - x]` input augmentation and
 * residual adds of the augmented model input.
 *
 * Interpreters take a stack so that they can be tested on hand-built programs and run on any model
 * whose layers have programs (the adapter from a trained model lives above this layer).
 */
import type { CellProgram, DerivedMatrix, NodeId } from '../graph/program.ts';
import { ValidationError } from '../core/errors.ts';

/** Where a program's parameter values come from: a name -> row-major buffer map, or a lookup. */
export type ParamSource = Readonly<Record<string, Float64Array>> | ((name: string) => Float64Array);

/** One layer of a {@link ProgramStack}. */
export interface ProgramLayer {
  readonly program: CellProgram;
  readonly params: ParamSource;
  /** Add the model's augmented input to this layer's output (the ICLSTM block form). */
  readonly residual?: boolean;
}

/** A sequence model as programs (see the module comment). */
export interface ProgramStack {
  /** Plain input features per step. */
  readonly inputSize: number;
  /** `[x, offset - x]` augmentation of the model input (offset per plain feature), or null. */
  readonly augmentation: readonly number[] | null;
  readonly layers: readonly ProgramLayer[];
}

/** Features the first layer sees. */
export function augmentedSize(stack: ProgramStack): number {
  return stack.augmentation ? 2 * stack.inputSize : stack.inputSize;
}

/** Output features of the stack. */
export function stackOutputSize(stack: ProgramStack): number {
  return stack.layers[stack.layers.length - 1].program.outputSize;
}

/** Checks that consecutive layer sizes fit and residual layers match the augmented input. */
export function validateStack(stack: ProgramStack): void {
  if (stack.layers.length === 0) throw new ValidationError('program stack: no layers');
  if (stack.augmentation && stack.augmentation.length !== stack.inputSize)
    throw new ValidationError(`program stack: augmentation has ${stack.augmentation.length} offsets, expected ${stack.inputSize}`);
  const na = augmentedSize(stack);
  let size = na;
  stack.layers.forEach((l, i) => {
    if (l.program.inputSize !== size) throw new ValidationError(`program stack: layer ${i} (${l.program.family}) takes ${l.program.inputSize} features, expected ${size}`);
    size = l.program.outputSize;
    if (l.residual && size !== na) throw new ValidationError(`program stack: residual layer ${i} has ${size} outputs, the augmented input ${na}`);
  });
}

/** A program with its matrices (parameters and derived) resolved to row-major buffers. */
export class BoundProgram {
  /** Matrix / vector by name (parameters alias the source buffers; derived matrices are owned). */
  readonly mats = new Map<string, Float64Array>();
  /** `[rows, cols]` by name. */
  readonly shapes = new Map<string, readonly [number, number]>();
  /** Number of entries of each node's value. */
  readonly sizes: Int32Array;

  constructor(readonly program: CellProgram, private readonly source: ParamSource) {
    for (const p of program.params) this.shapes.set(p.name, [p.rows, p.cols]);
    for (const d of program.derived) this.shapes.set(d.name, [d.rows, d.cols]);
    this.sizes = Int32Array.from(program.nodes.map((n) => n.size));
    for (const d of program.derived) this.mats.set(d.name, new Float64Array(d.rows * d.cols));
    this.sync();
  }

  /** Re-reads the parameter buffers and recomputes the derived matrices (after a weight change). */
  sync(): void {
    for (const p of this.program.params) {
      const v = typeof this.source === 'function' ? this.source(p.name) : this.source[p.name];
      if (!v) throw new ValidationError(`${this.program.family}: no value for parameter '${p.name}'`);
      if (v.length !== p.rows * p.cols) throw new ValidationError(`${this.program.family}: parameter '${p.name}' has ${v.length} values, expected ${p.rows}x${p.cols}`);
      this.mats.set(p.name, v);
    }
    for (const d of this.program.derived) evaluateDerived(d, this.mats, this.mats.get(d.name)!);
  }

  /** The buffer of a parameter or derived matrix. */
  mat(name: string): Float64Array {
    const m = this.mats.get(name);
    if (!m) throw new ValidationError(`${this.program.family}: unknown matrix '${name}'`);
    return m;
  }

  shape(name: string): readonly [number, number] {
    return this.shapes.get(name)!;
  }

  /** Role of a parameter (`free` for derived matrices). */
  role(name: string): string {
    return this.program.params.find((p) => p.name === name)?.role ?? 'free';
  }

  size(id: NodeId): number {
    return this.sizes[id];
  }
}

/** `out = sum_t coef_t P_t (or P_t^T) + identity I` (a derived matrix, linear in the parameters). */
export function evaluateDerived(d: DerivedMatrix, mats: ReadonlyMap<string, Float64Array>, out: Float64Array): void {
  const R = d.rows, C = d.cols;
  out.fill(0);
  for (const t of d.terms) {
    const p = mats.get(t.param)!;
    for (let i = 0; i < R; i++)
      for (let j = 0; j < C; j++) out[i * C + j] += t.coef * (t.transpose ? p[j * R + i] : p[i * C + j]);
  }
  if (d.identity !== 0) for (let i = 0; i < R; i++) out[i * C + i] += d.identity;
}

/** Binds every layer of a stack (validating it first). */
export function bindStack(stack: ProgramStack): BoundProgram[] {
  validateStack(stack);
  return stack.layers.map((l) => new BoundProgram(l.program, l.params));
}
