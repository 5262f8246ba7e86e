/**
 * Norm-product gain interpreter: a certified upper bound on the Lipschitz constant (l2 over the
 * whole input sequence to l2 over the whole output sequence) of a {@link ProgramStack}, globally or
 * over a box of input sequences.
 *
 * Every node entry range `v[S]` at step t gets a non-negative row `g` over the input steps with
 * `||v'[S] - v[S]|| <= sum_tau g[tau] ||x'_tau - x_tau||` for any two inputs in the box (secant
 * form). One rule per primitive:
 * - input: `e_t` (`sqrt(2) e_t` when S holds both `x_i` and `offset_i - x_i`);
 * - `matmul`: `||W[:, S]||_2 g(x)` (a certified spectral norm of the columns used; on the model
 *   input the augmentation is folded in exactly, `W_top - W_bottom`, also through state slots that
 *   carry the input to later steps, as the ICRNN's `x_{t-1}`);
 * - `bias`: `g(x)`; `scale`: `max_S |d| g(x)`; `affine`: `|a| g(x)`; `add`: `g(a) + g(b)`;
 * - `mul`: `max_S |b| g(a) + max_S |a| g(b)` with the value bounds of the interval interpreter
 *   (a' b' - a b = (a' - a) b' + a (b' - b));
 * - `act`: the largest slope of f over the argument's range (the activation table) times `g(x)`;
 * - `slice`: the sub-range of its argument (so per-gate norms come out of one matrix); `concat`:
 *   the sum over the parts S touches; state: the previous step's next-state node.
 * The outputs give a lower-triangular T x T matrix G of non-negative entries with
 * `(||dy_t||)_t <= G (||dx_tau||)_tau`, hence `||dy|| <= ||G||_2 ||dx||` (certified norm).
 */
import type { NodeId } from '../graph/program.ts';
import { activationSlopeRange } from './activation-facts.ts';
import { augmentedSize, bindStack, type BoundProgram, type ProgramStack } from './bind.ts';
import { intervalBounds, type SequenceBox, type StackBounds } from './bounds.ts';
import { certifiedNorm } from '../core/spectral.ts';
import { ValidationError } from '../core/errors.ts';

/** Options of {@link gainBound}. */
export interface GainOptions {
  /** Restrict to a box of input sequences (default: all of R^d). */
  box?: SequenceBox;
  /** Precomputed interval bounds over that box. */
  bounds?: StackBounds;
  /** Certified upper bound of a matrix's spectral norm (default: the certificates' `certifiedNorm`). */
  norm?: (w: Float64Array, rows: number, cols: number) => number;
}

/** A matrix norm used by the bound (for reports). */
export interface GainNorm {
  layer: number;
  matrix: string;
  /** Rows of the matrix used (the plain input size when the augmentation was folded in). */
  rows: number;
  /** Columns used `[start, start + size)`; `folded` when the augmentation was folded in. */
  start: number;
  size: number;
  folded: boolean;
  /** Lower estimate of the largest singular value (NaN with a custom `norm`). */
  estimate: number;
  upper: number;
}

/** What {@link gainBound} returns. */
export interface GainResult {
  /** Certified bound, or null when a factor is unbounded (then `reason` says which). */
  value: number | null;
  reason: string | null;
  /** The T x T step-gain matrix (row t: output step t, column tau: input step tau). */
  G: Float64Array;
  norms: GainNorm[];
}

/**
 * Certified spectral norm; matrices of tiny (or zero) entries, where the certified route can
 * underflow, get the Frobenius bound `sqrt(rows cols) max |w|` instead.
 */
function safeNorm(w: Float64Array, rows: number, cols: number): { estimate: number; upper: number } {
  let m = 0;
  for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]));
  if (m === 0) return { estimate: 0, upper: 0 };
  const frob = Math.sqrt(rows * cols) * m * (1 + 1e-12);
  if (m < 1e-100) return { estimate: m, upper: frob }; // the largest entry is a lower bound of the norm
  const c = certifiedNorm(w, rows, cols);
  return { estimate: c.estimate, upper: Number.isFinite(c.upper) ? Math.min(c.upper, frob) : frob };
}

/**
 * Norm-product bound of the whole stack over `steps` steps (module comment).
 */
export function gainBound(stack: ProgramStack, steps: number, options: GainOptions = {}): GainResult {
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`gainBound: steps must be a positive integer, got ${steps}`);
  const T = steps;
  const bound = bindStack(stack);
  const n = stack.inputSize, na = augmentedSize(stack), d = T * n;
  const box = options.box ?? { lo: new Float64Array(d).fill(-Infinity), hi: new Float64Array(d).fill(Infinity) };
  const bounds = options.bounds ?? intervalBounds(stack, T, box);
  const custom = options.norm;
  const normOf = (w: Float64Array, rows: number, cols: number) => (custom ? { estimate: NaN, upper: custom(w, rows, cols) } : safeNorm(w, rows, cols));
  const aug = stack.augmentation !== null;
  const norms: GainNorm[] = [];
  const normCache = new Map<string, number>();
  let reason: string | null = null;
  const memo: Map<string, Float64Array>[][] = bound.map(() => Array.from({ length: T }, () => new Map()));
  const outMemo: Map<string, Float64Array>[][] = bound.map(() => Array.from({ length: T }, () => new Map()));

  const zero = () => new Float64Array(T);
  const scaledRow = (g: Float64Array, s: number) => {
    const o = zero();
    for (let i = 0; i < T; i++) o[i] = g[i] === 0 ? 0 : s * g[i];
    return o;
  };
  const addRows = (a: Float64Array, b: Float64Array) => {
    const o = zero();
    for (let i = 0; i < T; i++) o[i] = a[i] + b[i];
    return o;
  };

  /** Gain of the augmented model input at step t, entries [s, s + k). */
  function inputGain(t: number, s: number, k: number): Float64Array {
    const o = zero();
    let both = false;
    if (aug) for (let i = 0; i < n; i++) if (i >= s && i < s + k && n + i >= s && n + i < s + k) both = true;
    o[t] = both ? Math.SQRT2 : 1;
    return o;
  }

  /** The input step whose augmented row node `id` of layer 0 holds at step t exactly, or -1. */
  function inputAlias(li: number, t: number, id: NodeId): number {
    if (li !== 0) return -1;
    const node = bound[0].program.nodes[id];
    if (node.op === 'input') return t;
    if (node.op === 'state') return t > 0 ? inputAlias(0, t - 1, bound[0].program.next[node.slot]) : -1;
    return -1;
  }

  /** Certified norm of columns [s, s + k) of a matrix, optionally with the augmentation folded in. */
  function matNorm(li: number, b: BoundProgram, name: string, s: number, k: number, folded: boolean): number {
    const key = `${li}:${name}:${s}:${k}:${folded}`;
    const hit = normCache.get(key);
    if (hit !== undefined) return hit;
    const W = b.mat(name), [rows, cols] = b.shape(name);
    const r = folded ? n : rows;
    const sub = new Float64Array(r * k);
    for (let i = 0; i < r; i++)
      for (let j = 0; j < k; j++) sub[i * k + j] = folded ? W[i * cols + s + j] - W[(n + i) * cols + s + j] : W[i * cols + s + j];
    const { estimate, upper: v } = normOf(sub, r, k);
    normCache.set(key, v);
    norms.push({ layer: li, matrix: name, rows: r, start: s, size: k, folded, estimate, upper: v });
    return v;
  }

  /** Largest |value| of node id's entries [s, s + k) at step t. */
  function maxAbs(li: number, t: number, id: NodeId, s: number, k: number): number {
    const iv = bounds.node(li, t, id);
    let m = 0;
    for (let j = s; j < s + k; j++) m = Math.max(m, Math.abs(iv.l[j]), Math.abs(iv.u[j]));
    return m;
  }

  /** Gain of layer li's output (after its residual add) at step t, entries [s, s + k). */
  function layerOut(li: number, t: number, s: number, k: number): Float64Array {
    const key = `${s}:${k}`, hit = outMemo[li][t].get(key);
    if (hit) return hit;
    const p = bound[li].program;
    let g = gain(li, t, p.output, s, k);
    if (stack.layers[li].residual) g = addRows(g, inputGain(t, s, k));
    outMemo[li][t].set(key, g);
    return g;
  }

  function gain(li: number, t: number, id: NodeId, s: number, k: number): Float64Array {
    const key = `${id}:${s}:${k}`, hit = memo[li][t].get(key);
    if (hit) return hit;
    const g = rule(li, t, id, s, k);
    for (let i = 0; i < T; i++) if (Number.isNaN(g[i])) g[i] = Infinity;
    memo[li][t].set(key, g);
    return g;
  }

  function rule(li: number, t: number, id: NodeId, s: number, k: number): Float64Array {
    const b = bound[li], node = b.program.nodes[id];
    switch (node.op) {
      case 'input':
        return li === 0 ? inputGain(t, s, k) : layerOut(li - 1, t, s, k);
      case 'state':
        return t > 0 ? gain(li, t - 1, b.program.next[node.slot], s, k) : zero();
      case 'matmul': {
        const xs = b.size(node.x), alias = aug ? inputAlias(li, t, node.x) : -1;
        if (alias >= 0) {
          const o = zero();
          o[alias] = matNorm(li, b, node.matrix, s, k, true);
          return o;
        }
        const gx = gain(li, t, node.x, 0, xs);
        if (gx.every((v) => v === 0)) return zero();
        return scaledRow(gx, matNorm(li, b, node.matrix, s, k, false));
      }
      case 'bias':
        return gain(li, t, node.x, s, k);
      case 'scale': {
        const dv = b.mat(node.param);
        let m = 0;
        for (let j = s; j < s + k; j++) m = Math.max(m, Math.abs(dv[j]));
        return scaledRow(gain(li, t, node.x, s, k), m);
      }
      case 'affine':
        return scaledRow(gain(li, t, node.x, s, k), Math.abs(node.a));
      case 'add':
        return addRows(gain(li, t, node.a, s, k), gain(li, t, node.b, s, k));
      case 'mul': {
        const ga = gain(li, t, node.a, s, k), gb = gain(li, t, node.b, s, k);
        const ma = maxAbs(li, t, node.a, s, k), mb = maxAbs(li, t, node.b, s, k);
        const o = addRows(scaledRow(ga, mb), scaledRow(gb, ma));
        if (o.some((v) => !Number.isFinite(v)) && reason === null)
          reason = `layer ${li} (${b.program.family}): the product node ${id} multiplies a factor with unbounded values (in [${-Math.max(ma, mb)}, ${Math.max(ma, mb)}]), so the map is not globally Lipschitz on R^d (such a product grows quadratically); use the local or domain bound`;
        return o;
      }
      case 'act': {
        const iv = bounds.node(li, t, node.x);
        let m = 0;
        for (let j = s; j < s + k; j++) m = Math.max(m, activationSlopeRange(node.fn, iv.l[j], iv.u[j])[1]);
        return m === 0 ? zero() : scaledRow(gain(li, t, node.x, s, k), m);
      }
      case 'slice':
        return gain(li, t, node.x, node.start + s, k);
      case 'concat': {
        let off = 0, o = zero();
        for (const q of node.xs) {
          const size = b.size(q), lo = Math.max(s, off), hi = Math.min(s + k, off + size);
          if (lo < hi) o = addRows(o, gain(li, t, q, lo - off, hi - lo));
          off += size;
        }
        return o;
      }
    }
  }

  const last = bound.length - 1, m = bound[last].program.outputSize;
  const G = new Float64Array(T * T);
  for (let t = 0; t < T; t++) {
    const g = layerOut(last, t, 0, m);
    for (let tau = 0; tau < T; tau++) G[t * T + tau] = g[tau];
  }
  void na;
  for (let i = 0; i < G.length; i++)
    if (!Number.isFinite(G[i])) return { value: null, reason: reason ?? 'a factor of the product is unbounded', G, norms };
  // the sums and products of non-negative terms above carry a relative rounding error far below 1e-12
  const value = normOf(G, T, T).upper * (1 + 1e-12);
  return { value, reason: null, G, norms };
}
