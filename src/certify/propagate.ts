/**
 * Bound propagation through a {@link SequenceModel} over a box of input sequences, for the local
 * and global Lipschitz certificates.
 *
 * Input set: `X = { x : |x_p - c_p| <= r_p }` in the model's scaled, *un-augmented* input space,
 * `x` the whole sequence flattened step-major (`p = t * inputSize + j`), `d = steps * inputSize`
 * coordinates. `r_p` may be `Infinity` (the global case: `X = R^d`).
 *
 * The propagation is an interpreter over the model's cell programs (`src/graph`), one transfer
 * function of `propagate-domain.ts` per primitive, so it covers every registered family and every
 * layer graph (recurrent layers, dense layers between them, residual adds of the input) with no
 * per-family code. Chains of linear primitives (matmul, bias, scale, affine, add, slice, concat)
 * whose intermediate values nothing else reads are fused into one linear map of the nodes they
 * start from, so e.g. `x K + h R + b` is one transfer (tighter than three: the interval sum is
 * formed once).
 *
 * Two things are propagated step by step through every layer:
 *
 * 1. **Value bounds** of every intermediate quantity over X: interval bound propagation (IBP)
 *    intersected, for bounded boxes, with forward *linear* bounds `a_l . x + c_l <= q(x) <= a_u . x + c_u`
 *    (CROWN-style relaxations: ReLU triangle / adaptive lower line, parallel lines with the minimal
 *    slope for tanh and sigmoid, McCormick envelopes for element-wise products such as gates) and with
 *    zonotopes (DeepZ relaxations, one fresh noise symbol per relaxed unit; they keep the
 *    cancellations of mixed-sign weights that the separate lower / upper forms lose) when the number
 *    of noise symbols stays below 4000.
 *    The augmentation `[x, offset - x]` is represented exactly (it is affine), so the first layer's
 *    pre-activations are exact affine functions of x.
 * 2. A **secant-Jacobian enclosure** `J in [Jc - Jr, Jc + Jr]` (Tm x d, midpoint-radius interval
 *    matrix): for any x, x' in X, `f(x') - f(x) = S (x' - x)` where S is obtained by the chain rule
 *    with every activation replaced by its secant slope `(s(z') - s(z)) / (z' - z)` and every product
 *    `a b` by `a' (b' - b) + b (a' - a)`. The secant slope of an activation lies in the range of
 *    its derivative over the pre-activation interval `[l, u]` (mean value theorem; for ReLU it is 1
 *    when `l >= 0`, 0 when `u <= 0`, in [0, 1] otherwise: the Clarke-Jacobian bounds of Shi et al.
 *    2022), and the product factors lie in their value intervals, so S lies in the enclosure.
 *    Hence `||f(x') - f(x)||_2 <= max_{J in enclosure} ||J||_2 ||x' - x||_2
 *    <= min(||Jc|| + ||Jr||, || |Jc| + Jr ||) ||x' - x||_2`.
 *
 * Rounding: IBP sums and Jacobian radii are widened by the standard dot-product error bound
 * `gamma_k * sum |terms|`, derivative ranges by a relative 1e-12.
 */
import type { SequenceModel } from '../nn/model.ts';
import { programStack } from '../nn/program-stack.ts';
import type { Node, NodeId } from '../graph/program.ts';
import { operands } from '../interp/eval.ts';
import { bindStack, stackOutputSize, type BoundProgram, type ProgramStack } from '../interp/bind.ts';
import type { Activation } from '../nn/cell.ts';
import { ValidationError } from '../core/errors.ts';
import { Ctx, prepareMatrix, linear, add, slice, concat, activation, multiply, zero, type PreparedMatrix } from './propagate-domain.ts';
export { intervalProduct, prepareMatrix, type PreparedMatrix } from './propagate-domain.ts';

/** Value bounds of a vector of k quantities, with optional linear forms in x (k x d). */
export interface VBound {
  k: number;
  l: Float64Array;
  u: Float64Array;
  loA: Float64Array | null;
  loC: Float64Array | null;
  hiA: Float64Array | null;
  hiC: Float64Array | null;
  /** Zonotope `q = zc + zG eps`, eps in [-1, 1]^E (E noise symbols: the d inputs, then one per relaxation). */
  zc: Float64Array | null;
  zG: Float64Array | null;
}

/** Midpoint-radius enclosure of the (secant) Jacobian of k quantities w.r.t. x: k x d. */
export interface JBound {
  k: number;
  C: Float64Array;
  R: Float64Array;
}

/** A box in the scaled, un-augmented input-sequence space. */
export interface InputBox {
  center: Float64Array;
  /** Per-coordinate l_inf radius (Infinity allowed). */
  radius: Float64Array;
}

/** Counts of activation sites by what the bounds prove about them. */
export interface SiteStats {
  /** ReLU sites proven active (slope 1) / inactive (slope 0) / undecided. */
  reluActive: number;
  reluInactive: number;
  reluUnstable: number;
  /** tanh / sigmoid sites. */
  smooth: number;
}

/** What {@link propagateModel} returns. */
export interface PropagationResult {
  steps: number;
  inputSize: number;
  outputSize: number;
  /** Enclosure of the Jacobian of the whole output sequence (Tm x d, step-major rows). */
  jacobian: JBound;
  /** Bounds of every output (Tm). */
  outputs: { l: Float64Array; u: Float64Array };
  stats: SiteStats;
  /**
   * Value bounds of node `id` of stack layer `layer` at step t (state nodes: the state read at t),
   * or null for a node whose value was fused into a linear map and never formed.
   */
  node(layer: number, t: number, id: NodeId): { l: Float64Array; u: Float64Array } | null;
  /** Range of the secant slope of activation node `id` of stack layer `layer` at step t (null for other nodes). */
  slope(layer: number, t: number, id: NodeId): { lo: Float64Array; hi: Float64Array } | null;
}

type Q = { v: VBound; j: JBound };

/** Primitives that are linear maps of their operands (fusable into one transfer). */
const LINEAR_OPS: ReadonlySet<Node['op']> = new Set(['matmul', 'bias', 'scale', 'affine', 'add', 'slice', 'concat']);

/** `sum_k leaf_k W_k + c`: a fused chain of linear primitives as a map of the formed nodes it starts from. */
interface LinearForm {
  size: number;
  /** `w` is `size(leaf) x size`, row-major. */
  terms: { leaf: NodeId; w: Float64Array }[];
  c: Float64Array | null;
}

/** How one layer's program is run: which nodes are formed, and the fused linear map of each formed linear node. */
interface LayerPlan {
  bound: BoundProgram;
  /** Nodes whose value is formed each step (the others live on only inside a fused map). */
  formed: boolean[];
  /** For formed linear nodes that are not a plain copy / sum of formed nodes: the fused map, matrices prepared. */
  maps: ({ terms: { leaf: NodeId; m: PreparedMatrix }[]; c: Float64Array | null } | null)[];
}

/**
 * Which nodes of a program are formed: every non-linear node, the next-state and output nodes, and
 * every linear node read by anything other than exactly one linear node.
 */
function formedNodes(nodes: readonly Node[], next: readonly NodeId[], output: NodeId): boolean[] {
  const readers: NodeId[][] = nodes.map(() => []);
  nodes.forEach((n, id) => {
    for (const x of new Set(operands(n))) readers[x].push(id); // a node reading x twice is one reader
  });
  const external = new Set([...next, output]);
  return nodes.map((n, id) => {
    if (!LINEAR_OPS.has(n.op) || external.has(id)) return true;
    const r = readers[id];
    return !(r.length === 1 && LINEAR_OPS.has(nodes[r[0]].op));
  });
}

function planLayer(bound: BoundProgram): LayerPlan {
  const p = bound.program;
  const formed = formedNodes(p.nodes, p.next, p.output);
  const forms = new Map<NodeId, LinearForm>();
  const identity = (k: number) => {
    const w = new Float64Array(k * k);
    for (let i = 0; i < k; i++) w[i * k + i] = 1;
    return w;
  };
  // an operand: a formed node is a leaf; an unformed linear node expands into its own map
  const operand = (id: NodeId): LinearForm => (formed[id] ? { size: p.nodes[id].size, terms: [{ leaf: id, w: identity(p.nodes[id].size) }], c: null } : expand(id));
  const mapTerms = (f: LinearForm, size: number, col: (w: Float64Array, rows: number) => Float64Array, c: Float64Array | null): LinearForm => ({
    size,
    terms: f.terms.map((t) => ({ leaf: t.leaf, w: col(t.w, p.nodes[t.leaf].size) })),
    c,
  });
  const merge = (size: number, parts: { f: LinearForm; at: number }[]): LinearForm => {
    const byLeaf = new Map<NodeId, Float64Array>();
    let c: Float64Array | null = null;
    for (const { f, at } of parts) {
      for (const t of f.terms) {
        const rows = p.nodes[t.leaf].size;
        let w = byLeaf.get(t.leaf);
        if (!w) byLeaf.set(t.leaf, (w = new Float64Array(rows * size)));
        for (let i = 0; i < rows; i++) for (let j = 0; j < f.size; j++) w[i * size + at + j] += t.w[i * f.size + j];
      }
      if (f.c) {
        c ??= new Float64Array(size);
        for (let j = 0; j < f.size; j++) c[at + j] += f.c[j];
      }
    }
    return { size, terms: [...byLeaf].map(([leaf, w]) => ({ leaf, w })), c };
  };
  function expand(id: NodeId): LinearForm {
    const hit = forms.get(id);
    if (hit) return hit;
    const n = p.nodes[id];
    let f: LinearForm;
    switch (n.op) {
      case 'matmul': {
        const x = operand(n.x), W = bound.mat(n.matrix), k = x.size, m = n.size;
        const times = (w: Float64Array, rows: number) => {
          const out = new Float64Array(rows * m);
          for (let i = 0; i < rows; i++)
            for (let q = 0; q < k; q++) {
              const a = w[i * k + q];
              if (a !== 0) for (let j = 0; j < m; j++) out[i * m + j] += a * W[q * m + j];
            }
          return out;
        };
        f = mapTerms(x, m, times, x.c ? times(x.c, 1) : null);
        break;
      }
      case 'bias': {
        const x = operand(n.x), b = bound.mat(n.param);
        const c = x.c ? Float64Array.from(x.c) : new Float64Array(n.size);
        for (let j = 0; j < n.size; j++) c[j] += b[j];
        f = { size: n.size, terms: x.terms, c };
        break;
      }
      case 'scale': {
        const x = operand(n.x), s = bound.mat(n.param), m = n.size;
        const cols = (w: Float64Array, rows: number) => {
          const out = new Float64Array(rows * m);
          for (let i = 0; i < rows; i++) for (let j = 0; j < m; j++) out[i * m + j] = w[i * m + j] * s[j];
          return out;
        };
        f = mapTerms(x, m, cols, x.c ? cols(x.c, 1) : null);
        break;
      }
      case 'affine': {
        const x = operand(n.x), a = n.a;
        const c = x.c ? x.c.map((v) => a * v + n.b) : n.b !== 0 ? new Float64Array(n.size).fill(n.b) : null;
        f = mapTerms(x, n.size, (w) => w.map((v) => a * v), c);
        break;
      }
      case 'add':
        f = merge(n.size, [{ f: operand(n.a), at: 0 }, { f: operand(n.b), at: 0 }]);
        break;
      case 'slice': {
        const x = operand(n.x), k = x.size, m = n.size, s0 = n.start;
        const cols = (w: Float64Array, rows: number) => {
          const out = new Float64Array(rows * m);
          for (let i = 0; i < rows; i++) for (let j = 0; j < m; j++) out[i * m + j] = w[i * k + s0 + j];
          return out;
        };
        f = mapTerms(x, m, cols, x.c ? cols(x.c, 1) : null);
        break;
      }
      case 'concat': {
        let at = 0;
        const parts = n.xs.map((x) => {
          const part = { f: operand(x), at };
          at += p.nodes[x].size;
          return part;
        });
        f = merge(n.size, parts);
        break;
      }
      default:
        throw new RangeError(`propagate: ${n.op} is not a linear primitive`);
    }
    forms.set(id, f);
    return f;
  }
  const maps: LayerPlan['maps'] = p.nodes.map((n, id) => {
    if (!formed[id] || !LINEAR_OPS.has(n.op) || plainCopy(n, formed)) return null;
    const f = expand(id);
    return { terms: f.terms.map((t) => ({ leaf: t.leaf, m: prepareMatrix(t.w, p.nodes[t.leaf].size, f.size) })), c: f.c };
  });
  return { bound, formed, maps };
}

/** A formed linear node that only copies or sums formed nodes (exact transfers, no fused map). */
function plainCopy(n: Node, formed: boolean[]): boolean {
  if (n.op === 'slice') return formed[n.x];
  if (n.op === 'concat') return n.xs.every((x) => formed[x]);
  if (n.op === 'add') return formed[n.a] && formed[n.b];
  return false;
}

/** Zonotope noise symbols one step of a program hands out (one per activation and product entry). */
function symbolsPerStep(bound: BoundProgram): number {
  let s = 0;
  for (const n of bound.program.nodes) if (n.op === 'act' || n.op === 'mul') s += n.size;
  return s;
}

/**
 * Propagates value bounds and the secant-Jacobian enclosure through the whole model over the box
 * (module comment). Works for every model whose layers have cell programs. `jacobian: false` skips
 * the Jacobian enclosure (the result's `jacobian` then holds no rows): the same value bounds, slope
 * ranges and statistics for less work (the attack's point enclosures).
 */
export function propagateModel(
  model: SequenceModel | ProgramStack, steps: number, box: InputBox,
  options: { zonotope?: boolean; maxZonotopeSymbols?: number; jacobian?: boolean } = {},
): PropagationResult {
  const stack = 'layers' in model ? model : programStack(model);
  const bound = bindStack(stack);
  const n = stack.inputSize, m = stackOutputSize(stack);
  if (box.center.length !== steps * n || box.radius.length !== steps * n)
    throw new ValidationError(`propagate: box has ${box.center.length} coordinates, expected steps * inputSize = ${steps * n}`);
  // zonotopes when the box is bounded and the number of relaxations is moderate
  const symbols = steps * bound.reduce((s, b) => s + symbolsPerStep(b), 0);
  const ctx = new Ctx(box, options.zonotope === false || symbols + box.center.length > (options.maxZonotopeSymbols ?? 4000) ? 0 : symbols, options.jacobian !== false);
  const plans = bound.map(planLayer);
  // values[layer][t][node], slopes[layer][t] by node
  const values: (Q | undefined)[][][] = [];
  const slopes: Map<NodeId, { lo: Float64Array; hi: Float64Array }>[][] = [];
  const aug: Q[] = [];
  let seq: Q[] = [];
  for (let t = 0; t < steps; t++) {
    const x = ctx.input(t, n);
    const a = stack.augmentation ? ctx.augment(x, [...stack.augmentation]) : x;
    aug.push(a);
    seq.push(a);
  }
  plans.forEach((plan, li) => {
    const p = plan.bound.program;
    const perStep: (Q | undefined)[][] = [];
    const slopeSteps: Map<NodeId, { lo: Float64Array; hi: Float64Array }>[] = [];
    const out: Q[] = [];
    let prev: (Q | undefined)[] | null = null;
    for (let t = 0; t < steps; t++) {
      const vals: (Q | undefined)[] = new Array(p.nodes.length);
      const sl = new Map<NodeId, { lo: Float64Array; hi: Float64Array }>();
      const q = (id: NodeId) => vals[id]!;
      p.nodes.forEach((node, id) => {
        if (!plan.formed[id]) return;
        switch (node.op) {
          case 'input':
            vals[id] = seq[t];
            return;
          case 'state':
            vals[id] = prev ? prev[p.next[node.slot]] : zero(ctx, node.size);
            return;
          case 'act': {
            const a = activation(ctx, q(node.x), node.fn as Activation);
            sl.set(id, { lo: a.dlo, hi: a.dhi });
            vals[id] = a;
            return;
          }
          case 'mul':
            vals[id] = multiply(ctx, q(node.a), q(node.b));
            return;
          case 'slice':
            if (!plan.maps[id]) {
              vals[id] = slice(ctx, q(node.x), node.start, node.start + node.size);
              return;
            }
            break;
          case 'concat':
            if (!plan.maps[id]) {
              vals[id] = concat(ctx, node.xs.map(q));
              return;
            }
            break;
          case 'add':
            if (!plan.maps[id]) {
              vals[id] = add(ctx, q(node.a), q(node.b));
              return;
            }
            break;
        }
        const map = plan.maps[id]!;
        vals[id] = linear(ctx, map.terms.map((term) => ({ q: q(term.leaf), m: term.m })), map.c, node.size);
      });
      perStep.push(vals);
      slopeSteps.push(sl);
      prev = vals;
      let o = q(p.output);
      if (stack.layers[li].residual) o = add(ctx, o, aug[t]);
      out.push(o);
    }
    values.push(perStep);
    slopes.push(slopeSteps);
    seq = out;
  });
  const J = ctx.newJ(steps * m);
  const ol = new Float64Array(steps * m), ou = new Float64Array(steps * m);
  for (let t = 0; t < steps; t++) {
    const q = seq[t];
    if (ctx.jac) {
      J.C.set(q.j.C, t * m * ctx.d);
      J.R.set(q.j.R, t * m * ctx.d);
    }
    ol.set(q.v.l, t * m);
    ou.set(q.v.u, t * m);
  }
  // Add a relative margin for the rounding in the (non-negative) radius sums themselves.
  for (let i = 0; i < J.R.length; i++) J.R[i] = J.R[i] * (1 + 1e-12) + 1e-14 * Math.abs(J.C[i]);
  return {
    steps,
    inputSize: n,
    outputSize: m,
    jacobian: J,
    outputs: { l: ol, u: ou },
    stats: ctx.stats,
    node: (layer, t, id) => {
      const v = values[layer]?.[t]?.[id];
      return v ? { l: v.v.l, u: v.v.u } : null;
    },
    slope: (layer, t, id) => slopes[layer]?.[t]?.get(id) ?? null,
  };
}

/** The box `[c - r, c + r]` around a sequence with one radius (r may be Infinity). */
export function boxAround(center: Float64Array, radius: number): InputBox {
  return { center: Float64Array.from(center), radius: new Float64Array(center.length).fill(radius) };
}
