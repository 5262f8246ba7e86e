/**
 * Weight constraints, applied after each optimiser step (as Keras/tfjs constraints). Each is a small
 * object with `apply(w)` and a serialisable `config`; the spectral one keeps its power-iteration
 * vector between calls (like the reference `SpectralConstraint`).
 */
import { largestSingularValue, powerIteration } from '../core/linalg.ts';
import { ValidationError } from '../core/errors.ts';

/** How the spectral constraint rescales a matrix. */
export type SpectralMode = 'reference' | 'projection';

/** Serialisable description of a constraint. */
export type ConstraintConfig =
  | { type: 'nonNegative' }
  | {
      type: 'spectral';
      /** Target bound on the largest singular value (Lipschitz coefficient). */
      k: number;
      /** Added to the power-iteration estimate (reference: 1e-3). */
      eps: number;
      /**
       * `reference`: W <- k W / (sigma + eps) always (as the published code; also scales small weights
       * up to norm k). `projection`: W <- W / max(1, (sigma + eps) / k), i.e. only shrinks.
       */
      mode: SpectralMode;
      /** Clip to >= 0 before normalising (the ICLRNN constraint). */
      nonNegative: boolean;
      /** Power-iteration steps per call (reference 10) and relative tolerance (reference 1e-3). */
      iterations: number;
      tolerance: number;
    };

/** A constraint that keeps a parameter feasible. */
export interface Constraint {
  readonly config: ConstraintConfig;
  /** Projects `w` (rows x cols, row-major) in place. */
  apply(w: Float64Array, rows: number, cols: number): void;
  /**
   * Makes the guarantee exact after training: for the spectral constraint, recomputes the largest
   * singular value accurately (not by a few power-iteration steps) and shrinks if it exceeds k.
   */
  finalize(w: Float64Array, rows: number, cols: number): void;
  /** Internal state worth saving (the power-iteration vector), or null. */
  state(): number[] | null;
  restoreState(s: number[] | null): void;
}

/** Element-wise clip to >= 0. */
export class NonNegative implements Constraint {
  readonly config = { type: 'nonNegative' } as const;
  apply(w: Float64Array): void {
    for (let i = 0; i < w.length; i++) if (w[i] < 0) w[i] = 0;
  }
  finalize(w: Float64Array): void {
    this.apply(w);
  }
  state(): null {
    return null;
  }
  restoreState(): void {}
}

/** Spectral normalisation by warm-started power iteration, optionally with a non-negative clip. */
export class SpectralNormalize implements Constraint {
  readonly config: Extract<ConstraintConfig, { type: 'spectral' }>;
  private u: Float64Array | null = null;
  private work: { v: Float64Array; u2: Float64Array } | null = null;

  constructor(options: Partial<Omit<Extract<ConstraintConfig, { type: 'spectral' }>, 'type'>> = {}) {
    this.config = {
      type: 'spectral',
      k: options.k ?? 1,
      eps: options.eps ?? 1e-3,
      mode: options.mode ?? 'projection',
      nonNegative: options.nonNegative ?? true,
      iterations: options.iterations ?? 10,
      tolerance: options.tolerance ?? 1e-3,
    };
    if (!(this.config.k > 0)) throw new ValidationError(`spectral constraint: k must be > 0, got ${this.config.k}`);
  }

  apply(w: Float64Array, rows: number, cols: number): void {
    const c = this.config;
    if (c.nonNegative) for (let i = 0; i < w.length; i++) if (w[i] < 0) w[i] = 0;
    if (this.u === null || this.u.length !== cols) this.u = new Float64Array(cols).fill(1 / Math.sqrt(cols));
    if (this.work === null || this.work.v.length !== rows || this.work.u2.length !== cols)
      this.work = { v: new Float64Array(rows), u2: new Float64Array(cols) };
    const sigma = powerIteration(w, rows, cols, this.u, c.iterations, c.tolerance, this.work!);
    const scale = c.mode === 'reference' ? c.k / (sigma + c.eps) : 1 / Math.max(1, (sigma + c.eps) / c.k);
    if (scale !== 1) for (let i = 0; i < w.length; i++) w[i] *= scale;
  }

  finalize(w: Float64Array, rows: number, cols: number): void {
    if (this.config.nonNegative) for (let i = 0; i < w.length; i++) if (w[i] < 0) w[i] = 0;
    const sigma = largestSingularValue(w, rows, cols);
    // Leave a relative margin of 1e-9 for the rounding of the Jacobi eigenvalues.
    const limit = this.config.k * (1 - 1e-9);
    if (sigma > limit) {
      const scale = limit / sigma;
      for (let i = 0; i < w.length; i++) w[i] *= scale;
    }
  }

  state(): number[] | null {
    return this.u ? Array.from(this.u) : null;
  }

  restoreState(s: number[] | null): void {
    this.u = s ? Float64Array.from(s) : null;
    this.work = null;
  }
}

/** Builds a constraint from its config. */
export function constraintFromConfig(c: ConstraintConfig): Constraint {
  switch (c.type) {
    case 'nonNegative':
      return new NonNegative();
    case 'spectral':
      return new SpectralNormalize(c);
    default:
      throw new ValidationError(`unknown constraint type '${(c as { type: string }).type}'`);
  }
}
