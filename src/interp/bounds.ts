/**
 * Bound-propagation interpreter: sound interval bounds of every node of every layer at every step
 * of a {@link ProgramStack}, over a box of input sequences (bounds may be infinite: the global
 * case). Sites are node ids: `bounds.node(layer, t, id)`.
 *
 * One rule per primitive (interval arithmetic, rounded outwards):
 * - `matmul`: centre/radius form `c W +- r |W|` (rows with an infinite bound: endpoint form);
 * - `bias`, `affine`, `scale`, `add`: exact interval maps;
 * - `mul`: the interval product (min / max of the four endpoint products);
 * - `act`: the image of the interval under the (non-decreasing) activation, `[f(l), f(u)]`;
 * - `slice`, `concat`: copies.
 *
 * Rounding: every dot product is widened by the standard bound `gamma_{k+2} sum |terms|`, every
 * other operation by a few ulps, so the bounds hold for the exact real-number evaluation and for
 * the floating-point one alike.
 */
import type { NodeId, Node } from '../graph/program.ts';
import { activationValue } from './activation-facts.ts';
import { augmentedSize, bindStack, stackOutputSize, type BoundProgram, type ProgramStack } from './bind.ts';
import { ValidationError } from '../core/errors.ts';

/** Lower and upper bounds of a vector. */
export interface Interval {
  readonly l: Float64Array;
  readonly u: Float64Array;
}

/** A box of input sequences: `lo <= x <= hi` entry-wise, `steps x inputSize` time-major (plain features). */
export interface SequenceBox {
  lo: Float64Array;
  hi: Float64Array;
}

/** What {@link intervalBounds} returns. */
export interface StackBounds {
  readonly steps: number;
  /** Bounds of node `id` of layer `layer` at step t (its value at step t; state nodes: the state read at t). */
  node(layer: number, t: number, id: NodeId): Interval;
  /** Bounds of each layer's output at step t (after its residual add). */
  layerOutput(layer: number, t: number): Interval;
  /** Bounds of the stack outputs, `steps x outputSize` time-major. */
  readonly outputs: Interval;
}

const EPS = Number.EPSILON;
const U = 2 ** -53;
/** `gamma_k = k u / (1 - k u)`: the relative rounding bound of a k-term dot product. */
export function gammaK(k: number): number {
  return (k * U) / (1 - k * U);
}

const safeMul = (a: number, b: number) => (a === 0 || b === 0 ? 0 : a * b);
const down = (x: number) => x - 2 * EPS * Math.abs(x) - Number.MIN_VALUE;
const up = (x: number) => x + 2 * EPS * Math.abs(x) + Number.MIN_VALUE;

/** Range of an activation's values (clips the rounding widening). */
function actRange(fn: string): [number, number] {
  return fn === 'tanh' ? [-1, 1] : fn === 'sigmoid' ? [0, 1] : fn === 'relu' ? [0, Infinity] : [-Infinity, Infinity];
}

/** The interval image of one primitive (exported for the tests and the other interpreters). */
export function intervalRule(node: Node, b: BoundProgram, arg: (id: NodeId) => Interval, out: Interval): void {
  const m = node.size, L = out.l, H = out.u;
  switch (node.op) {
    case 'input':
    case 'state':
      return;
    case 'matmul': {
      const x = arg(node.x), W = b.mat(node.matrix), k = b.size(node.x);
      const c = new Float64Array(m), r = new Float64Array(m), s = new Float64Array(m);
      const infLo = new Float64Array(m), infHi = new Float64Array(m);
      for (let i = 0; i < k; i++) {
        const l = x.l[i], u = x.u[i];
        const wo = i * m;
        if (Number.isFinite(l) && Number.isFinite(u)) {
          const ci = 0.5 * l + 0.5 * u;
          const ri = Math.max(u - ci, ci - l) * (1 + 2 * EPS);
          for (let j = 0; j < m; j++) {
            const w = W[wo + j];
            if (w === 0) continue;
            const aw = Math.abs(w);
            c[j] += ci * w;
            r[j] += ri * aw;
            s[j] += (Math.abs(ci) + ri) * aw;
          }
        } else {
          for (let j = 0; j < m; j++) {
            const w = W[wo + j];
            if (w === 0) continue;
            const a = w > 0 ? safeMul(w, l) : safeMul(w, u), bb = w > 0 ? safeMul(w, u) : safeMul(w, l);
            if (Number.isFinite(a)) {
              c[j] += 0.5 * a;
              r[j] -= 0.5 * a;
              s[j] += Math.abs(a);
            } else infLo[j] = -Infinity;
            if (Number.isFinite(bb)) {
              c[j] += 0.5 * bb;
              r[j] += 0.5 * bb;
              s[j] += Math.abs(bb);
            } else infHi[j] = Infinity;
          }
        }
      }
      const g = gammaK(k + 3);
      for (let j = 0; j < m; j++) {
        const w = g * (s[j] + Math.abs(c[j]) + Math.abs(r[j])) + Number.MIN_VALUE;
        L[j] = infLo[j] === -Infinity ? -Infinity : c[j] - r[j] - w;
        H[j] = infHi[j] === Infinity ? Infinity : c[j] + r[j] + w;
      }
      return;
    }
    case 'bias': {
      const x = arg(node.x), p = b.mat(node.param);
      for (let j = 0; j < m; j++) {
        L[j] = down(x.l[j] + p[j]);
        H[j] = up(x.u[j] + p[j]);
      }
      return;
    }
    case 'scale': {
      const x = arg(node.x), d = b.mat(node.param);
      for (let j = 0; j < m; j++) {
        const s = d[j], a = safeMul(s, x.l[j]), c = safeMul(s, x.u[j]);
        L[j] = down(Math.min(a, c));
        H[j] = up(Math.max(a, c));
      }
      return;
    }
    case 'affine': {
      const x = arg(node.x), a = node.a;
      for (let j = 0; j < m; j++) {
        const p = safeMul(a, x.l[j]) + node.b, q = safeMul(a, x.u[j]) + node.b;
        L[j] = down(down(Math.min(p, q)));
        H[j] = up(up(Math.max(p, q)));
      }
      return;
    }
    case 'add': {
      const x = arg(node.a), y = arg(node.b);
      for (let j = 0; j < m; j++) {
        L[j] = down(x.l[j] + y.l[j]);
        H[j] = up(x.u[j] + y.u[j]);
      }
      return;
    }
    case 'mul': {
      const x = arg(node.a), y = arg(node.b);
      for (let j = 0; j < m; j++) {
        const p1 = safeMul(x.l[j], y.l[j]), p2 = safeMul(x.l[j], y.u[j]), p3 = safeMul(x.u[j], y.l[j]), p4 = safeMul(x.u[j], y.u[j]);
        let lo = Math.min(p1, p2, p3, p4), hi = Math.max(p1, p2, p3, p4);
        if (Number.isNaN(lo) || Number.isNaN(hi)) {
          lo = -Infinity;
          hi = Infinity;
        }
        L[j] = down(lo);
        H[j] = up(hi);
      }
      return;
    }
    case 'act': {
      const x = arg(node.x), fn = node.fn;
      const [rl, rh] = actRange(fn);
      const tol = fn === 'tanh' || fn === 'sigmoid' ? 4 * EPS : 0;
      for (let j = 0; j < m; j++) {
        const a = activationValue(fn, x.l[j]), c = activationValue(fn, x.u[j]);
        L[j] = tol === 0 ? a : Math.max(rl, a - tol * (1 + Math.abs(a)));
        H[j] = tol === 0 ? c : Math.min(rh, c + tol * (1 + Math.abs(c)));
      }
      return;
    }
    case 'slice': {
      const x = arg(node.x);
      for (let j = 0; j < m; j++) {
        L[j] = x.l[node.start + j];
        H[j] = x.u[node.start + j];
      }
      return;
    }
    case 'concat': {
      let off = 0;
      for (const id of node.xs) {
        const x = arg(id), k = b.size(id);
        for (let j = 0; j < k; j++) {
          L[off + j] = x.l[j];
          H[off + j] = x.u[j];
        }
        off += k;
      }
      return;
    }
  }
}

function newInterval(n: number): Interval {
  return { l: new Float64Array(n), u: new Float64Array(n) };
}

/**
 * Interval bounds of every node of the stack over `steps` steps, for input sequences in `box`
 * (states start at zero). Throws a ValidationError when the box does not fit.
 */
export function intervalBounds(stack: ProgramStack, steps: number, box: SequenceBox): StackBounds {
  const bound = bindStack(stack);
  const n = stack.inputSize, na = augmentedSize(stack);
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`intervalBounds: steps must be a positive integer, got ${steps}`);
  if (box.lo.length !== steps * n || box.hi.length !== steps * n)
    throw new ValidationError(`intervalBounds: the box has ${box.lo.length} / ${box.hi.length} coordinates, expected steps * inputSize = ${steps * n}`);
  for (let p = 0; p < steps * n; p++)
    if (!(box.lo[p] <= box.hi[p])) throw new ValidationError(`intervalBounds: box coordinate ${p} has lo ${box.lo[p]} > hi ${box.hi[p]}`);
  // per step: the augmented input
  const aug: Interval[] = [];
  const off = stack.augmentation;
  for (let t = 0; t < steps; t++) {
    const a = newInterval(na);
    for (let i = 0; i < n; i++) {
      const l = box.lo[t * n + i], u = box.hi[t * n + i];
      a.l[i] = l;
      a.u[i] = u;
      if (off) {
        a.l[n + i] = down(off[i] - u);
        a.u[n + i] = up(off[i] - l);
      }
    }
    aug.push(a);
  }
  // all[layer][t][node]
  const all: Interval[][][] = [];
  const outs: Interval[][] = [];
  let inputs = aug;
  bound.forEach((b, li) => {
    const p = b.program;
    const perStep: Interval[][] = [];
    const layerOut: Interval[] = [];
    let prev: Interval[] | null = null;
    for (let t = 0; t < steps; t++) {
      const vals: Interval[] = new Array(p.nodes.length);
      p.nodes.forEach((node, id) => {
        if (node.op === 'input') vals[id] = inputs[t];
        else if (node.op === 'state') vals[id] = prev ? prev[p.next[node.slot]] : newInterval(node.size);
        else {
          const o = newInterval(node.size);
          intervalRule(node, b, (q) => vals[q], o);
          vals[id] = o;
        }
      });
      perStep.push(vals);
      prev = vals;
      let o = vals[p.output];
      if (stack.layers[li].residual) {
        const r = newInterval(p.outputSize);
        for (let j = 0; j < p.outputSize; j++) {
          r.l[j] = down(o.l[j] + aug[t].l[j]);
          r.u[j] = up(o.u[j] + aug[t].u[j]);
        }
        o = r;
      }
      layerOut.push(o);
    }
    all.push(perStep);
    outs.push(layerOut);
    inputs = layerOut;
  });
  const m = stackOutputSize(stack);
  const outputs = newInterval(steps * m);
  for (let t = 0; t < steps; t++) {
    outputs.l.set(inputs[t].l, t * m);
    outputs.u.set(inputs[t].u, t * m);
  }
  return {
    steps,
    node: (layer, t, id) => all[layer][t][id],
    layerOutput: (layer, t) => outs[layer][t],
    outputs,
  };
}

/** The box `[c - r, c + r]` around a sequence (r may be Infinity: the global box). */
export function sequenceBox(center: ArrayLike<number>, radius: number): SequenceBox {
  const lo = Float64Array.from(center, (c) => c - radius), hi = Float64Array.from(center, (c) => c + radius);
  return { lo, hi };
}
