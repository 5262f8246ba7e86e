/**
 * The product / recurrence bound: per-step norm inequalities chained through time and layers.
 *
 * For every layer, with `a_t = ||dx_t||` (its input increment at step t) and `e_t` the increment of
 * its output, inequalities like `e_t <= s (||K|| a_t + ||R|| e_{t-1})` (s the slope bound of the
 * activation) give `e <= G a` entry-wise for a non-negative lower-triangular T x T matrix G (its
 * impulse response). Composing layers and head, `(||dy_t||)_t <= G (||dx_t||)_t`, hence
 * `||dy||_2 <= ||G||_2 ||dx||_2` over the whole sequence. All spectral norms are certified upper
 * bounds (`certifiedNorm`). The augmentation `[x, offset - x]` is folded exactly into the first
 * layer: its input matrices become `K_eff = K_top - K_bottom` (not `sqrt(2) ||K||`).
 *
 * Computed by the norm-product gain interpreter over the model's cell programs (`interp/gain.ts`,
 * one rule per primitive), so every family and layer graph gets it from the same rules; this module
 * states the result in the certificate's terms (matrix norms named by parameter path).
 */
import type { SequenceModel } from '../nn/model.ts';
import { programStack } from '../nn/program-stack.ts';
import { gainBound } from '../interp/gain.ts';
import { layerPath } from './programs.ts';
import type { PropagationResult } from './propagate.ts';

/** A certified norm of one weight matrix, for the report. */
export interface MatrixNorm {
  /** Parameter path, e.g. `cells.0.kernel` (`(eff)` when the augmentation is folded in; `[:, a:b]` for a block of columns). */
  path: string;
  rows: number;
  cols: number;
  /** Power-iteration style lower estimate and certified upper bound of the largest singular value. */
  estimate: number;
  upper: number;
}

/** Result of {@link productBound}. */
export interface ProductBound {
  /** Certified bound, or null when a factor is unbounded. */
  value: number | null;
  reason: string | null;
  norms: MatrixNorm[];
}

/** Folds the augmentation into a first-layer input matrix: `W_top - W_bottom` (rows n). */
export function foldAugmentation(w: Float64Array, n: number, cols: number): Float64Array {
  const out = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = w[i * cols + j] - w[(n + i) * cols + j];
  return out;
}

/**
 * Certified product/recurrence bound of the whole model over `steps` steps, on all of R^d (module
 * comment). `_globalBounds` is no longer needed (the interpreter bounds the values it needs itself)
 * and is accepted for compatibility.
 */
export function productBound(model: SequenceModel, steps: number, _globalBounds?: PropagationResult): ProductBound {
  const r = gainBound(programStack(model), steps);
  const layerOf = (li: number) => layerPath(model, li);
  const blocks = new Map<string, number>();
  for (const g of r.norms) blocks.set(`${g.layer}:${g.matrix}`, (blocks.get(`${g.layer}:${g.matrix}`) ?? 0) + 1);
  const named = model.namedParameters();
  const norms = r.norms.map((g): MatrixNorm => {
    // a parameter's norm, or a derived matrix's (the LRNN's M and W), whole unless cut into column blocks (gates)
    const p = named.find((q) => q.path === `${layerOf(g.layer)}.${g.matrix}`);
    const whole = g.start === 0 && (p ? g.size === p.param.cols : blocks.get(`${g.layer}:${g.matrix}`) === 1);
    const path = `${layerOf(g.layer)}.${g.matrix}${whole ? '' : `[:, ${g.start}:${g.start + g.size}]`}${g.folded ? ' (eff)' : ''}`;
    return { path, rows: g.rows, cols: g.size, estimate: g.estimate, upper: g.upper };
  });
  return { value: r.value, reason: r.reason, norms };
}
