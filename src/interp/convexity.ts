/**
 * Curvature / monotonicity interpreter: for every node of every layer at every step of a
 * {@link ProgramStack}, the curvature class of each entry as a function of the (plain, scaled)
 * input sequence, `constant < affine < convex | concave < unknown`, and its monotonicity in each
 * input coordinate (`0` independent, `+1` non-decreasing, `-1` non-increasing, `2` unknown).
 * A `convex: true` verdict is a proof (on all of R^d, or on the given box) for the weights the
 * stack holds (or, with `basis: 'roles'`, for every weight its parameter roles admit).
 *
 * One rule per primitive (the composition rules of convex analysis):
 * - `matmul`, `scale`, `affine`: a non-negative factor keeps the class, a negative one swaps
 *   convex and concave, a factor of unknown sign keeps only constant / affine; monotonicity
 *   follows the factor's sign. Weight signs come from the actual values, or from the roles
 *   `nonNegative` / `convexSpectral` (>= 0; other parameters: unknown sign);
 * - `add`: the join (convex + concave is unknown);
 * - `act`: f non-decreasing and convex (concave, affine) on the argument's value range (from the
 *   interval interpreter) composes with a convex (concave, any) argument; ReLU on a range where it
 *   is off is the constant 0;
 * - `mul`: a constant factor of known sign scales; two non-constant factors give a convex product
 *   only when both are non-negative convex functions, monotone in the same direction, of one and
 *   the same scalar `s` (tracked per entry: the "dependency"), and `s` is affine, or convex with
 *   both non-decreasing (the ICLSTM gates at its first step). Anything else is `unknown`, with a
 *   reason naming the node;
 * - `slice`, `concat`: copies.
 */
import type { Node, NodeId } from '../graph/program.ts';
import { activationCurvature, activationSlopeRange } from './activation-facts.ts';
import { augmentedSize, bindStack, type BoundProgram, type ProgramStack } from './bind.ts';
import { intervalBounds, type SequenceBox, type StackBounds } from './bounds.ts';
import { ValidationError } from '../core/errors.ts';

/** Curvature classes. */
export const Curv = { Constant: 0, Affine: 1, Convex: 2, Concave: 3, Unknown: 4 } as const;
/** Names of the curvature classes, by value. */
export const CURVATURE_NAMES = ['constant', 'affine', 'convex', 'concave', 'unknown'] as const;

/** Why convexity was not proven at a node (the first occurrence per layer, node and kind). */
export interface ConvexityIssue {
  kind: 'sign' | 'activation' | 'product' | 'sum';
  layer: number;
  node: NodeId;
  step: number;
  /** Entry of the node where it happened. */
  entry: number;
  /** `sign`: the matrix / parameter whose entry of the wrong (or unknown) sign meets a curved argument. */
  matrix?: string;
  /** `sign`: row and column of that entry; its value. */
  index?: [number, number];
  value?: number;
  message: string;
}

/** Classes of one node at one step. */
export interface NodeShape {
  /** Curvature class per entry ({@link Curv}). */
  cls: Uint8Array;
  /** Monotonicity per entry and input coordinate (`size x d`, d = steps * inputSize). */
  mono: Int8Array;
  /** Per entry: the scalar it is a function of (-1: constant), its direction and its curvature in that scalar. */
  dep: Int32Array;
  dir: Int8Array;
  depCls: Uint8Array;
}

/** What {@link convexityOf} returns. */
export interface ConvexityResult {
  /** Every output entry at every step is constant, affine or convex. */
  convex: boolean;
  /** Per output feature: convex (or affine / constant) at every step. */
  outputs: boolean[];
  /** Output classes, `steps x outputSize`. */
  outputClasses: Uint8Array;
  /** Output monotonicity, `(steps x outputSize) x d` (empty with `monotonicity: false`). */
  monotone: Int8Array;
  issues: ConvexityIssue[];
  /** Classes of a node (layer, step, node id). */
  node(layer: number, t: number, id: NodeId): NodeShape;
}

/** Options of {@link convexityOf}. */
export interface ConvexityOptions {
  /** `weights` (default): signs of the actual values; `roles`: parameter roles only. */
  basis?: 'weights' | 'roles';
  /** Restrict to a box of input sequences (default: all of R^d). */
  box?: SequenceBox;
  /** Precomputed interval bounds over that box (computed when absent). */
  bounds?: StackBounds;
  /** false: skip the monotonicity analysis (`monotone` is then empty); the curvature verdict is the same. */
  monotonicity?: boolean;
}

const { Constant: C0, Affine: AF, Convex: CV, Concave: CC, Unknown: UN } = Curv;

/** The class of `s q` for a factor of sign s (1, -1, 0, or NaN: unknown sign). */
function scaled(c: number, s: number): number {
  if (s === 0 || c === C0) return C0;
  if (c === AF) return AF;
  if (Number.isNaN(s)) return UN;
  if (s > 0) return c;
  return c === CV ? CC : c === CC ? CV : UN;
}

/** The class of a sum. */
function join(a: number, b: number): number {
  if (a === C0) return b;
  if (b === C0 || a === b) return a;
  if (a === UN || b === UN) return UN;
  if (a === AF) return b;
  if (b === AF) return a;
  return UN; // convex + concave
}

const monoScaled = (m: number, s: number) => (m === 0 || s === 0 ? 0 : Number.isNaN(s) || m === 2 ? 2 : s > 0 ? m : -m);
const monoAdd = (a: number, b: number) => (a === 0 ? b : b === 0 || a === b ? a : 2);
/** Composition class: f with curvature fc (affine / convex / concave / none), non-decreasing, of an argument of class c. */
function compose(fc: string, c: number): number {
  if (c === C0) return C0;
  if (fc === 'affine') return c;
  if (fc === 'convex') return c === AF || c === CV ? CV : UN;
  if (fc === 'concave') return c === AF || c === CC ? CC : UN;
  return UN;
}

function shape(size: number, d: number): NodeShape {
  return { cls: new Uint8Array(size), mono: new Int8Array(size * d), dep: new Int32Array(size).fill(-1), dir: new Int8Array(size), depCls: new Uint8Array(size) };
}

/**
 * Proves (or fails to prove, with reasons) convexity of every output of the stack over `steps`
 * steps (module comment).
 */
export function convexityOf(stack: ProgramStack, steps: number, options: ConvexityOptions = {}): ConvexityResult {
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`convexityOf: steps must be a positive integer, got ${steps}`);
  const bound = bindStack(stack);
  const n = stack.inputSize, na = augmentedSize(stack), d = steps * n;
  // monotonicity is tracked per input coordinate (d of them per entry) unless turned off
  const dm = options.monotonicity === false ? 0 : d;
  const box = options.box ?? { lo: new Float64Array(d).fill(-Infinity), hi: new Float64Array(d).fill(Infinity) };
  const bounds = options.bounds ?? intervalBounds(stack, steps, box);
  const roles = options.basis === 'roles';
  const issues = new Map<string, ConvexityIssue>();
  const issue = (i: ConvexityIssue) => {
    const key = `${i.layer}:${i.node}:${i.kind}`;
    if (!issues.has(key)) issues.set(key, i);
  };
  // Weights of negative sign that turned a convex (concave) quantity concave (convex), one per
  // parameter entry: the root causes to name when a concave quantity later breaks the proof.
  const flips = new Map<string, ConvexityIssue>();
  let concaveInvolved = false;
  const flip = (li: number, id: NodeId, t: number, j: number, matrix: string, index: [number, number], value: number, from: number) => {
    const key = `${li}:${matrix}:${index[0]}:${index[1]}`;
    if (!flips.has(key))
      flips.set(key, { kind: 'sign', layer: li, node: id, step: t, entry: j, matrix, index, value,
        message: `layer ${li}: ${matrix}[${index[0]}][${index[1]}] = ${value} < 0 multiplies a ${CURVATURE_NAMES[from]} quantity (node ${id}), making it ${CURVATURE_NAMES[from === CV ? CC : CV]}` });
  };
  /** Curvature (in x) of each scalar a dependency can name. */
  const scalarCls: number[] = [];
  const fresh = (cls: number) => scalarCls.push(cls) - 1;
  // the augmented input rows
  const inputs: NodeShape[] = [];
  for (let t = 0; t < steps; t++) {
    const s = shape(na, dm);
    for (let i = 0; i < n; i++) {
      s.cls[i] = AF;
      if (dm) s.mono[i * dm + t * n + i] = 1;
      if (stack.augmentation) {
        s.cls[n + i] = AF;
        if (dm) s.mono[(n + i) * dm + t * n + i] = -1;
      }
    }
    for (let j = 0; j < na; j++) {
      s.dep[j] = fresh(AF);
      s.dir[j] = 1;
      s.depCls[j] = AF;
    }
    inputs.push(s);
  }
  const all: NodeShape[][][] = [];
  let seq = inputs;
  bound.forEach((b, li) => {
    const p = b.program, perStep: NodeShape[][] = [];
    const out: NodeShape[] = [];
    for (let t = 0; t < steps; t++) {
      const vals: NodeShape[] = new Array(p.nodes.length);
      p.nodes.forEach((node, id) => {
        if (node.op === 'input') vals[id] = seq[t];
        else if (node.op === 'state') vals[id] = t > 0 ? perStep[t - 1][p.next[node.slot]] : shape(node.size, dm);
        else {
          const o = shape(node.size, dm);
          rule(node, id, b, li, t, vals, o);
          vals[id] = o;
        }
      });
      perStep.push(vals);
      let o = vals[p.output];
      if (stack.layers[li].residual) o = addShapes(o, inputs[t]);
      out.push(o);
    }
    all.push(perStep);
    seq = out;
  });

  function addShapes(a: NodeShape, c: NodeShape): NodeShape {
    const k = a.cls.length, o = shape(k, dm);
    for (let j = 0; j < k; j++) addEntry(a, j, c, j, o, j);
    return o;
  }

  /** o[j] = a[ja] + c[jc] (class, monotonicity, dependency). */
  function addEntry(a: NodeShape, ja: number, c: NodeShape, jc: number, o: NodeShape, j: number): void {
    o.cls[j] = join(a.cls[ja], c.cls[jc]);
    for (let q = 0; q < dm; q++) o.mono[j * dm + q] = monoAdd(a.mono[ja * dm + q], c.mono[jc * dm + q]);
    if (a.cls[ja] === C0) copyDep(c, jc, o, j);
    else if (c.cls[jc] === C0) copyDep(a, ja, o, j);
    else if (a.dep[ja] === c.dep[jc] && a.dir[ja] === c.dir[jc]) {
      o.dep[j] = a.dep[ja];
      o.dir[j] = a.dir[ja];
      o.depCls[j] = join(a.depCls[ja], c.depCls[jc]);
    } else freshDep(o, j);
  }

  function copyDep(a: NodeShape, ja: number, o: NodeShape, j: number, sign = 1): void {
    if (a.dep[ja] < 0 || o.cls[j] === C0) return;
    if (Number.isNaN(sign)) return freshDep(o, j);
    o.dep[j] = a.dep[ja];
    o.dir[j] = sign < 0 ? -a.dir[ja] : a.dir[ja];
    o.depCls[j] = scaled(a.depCls[ja], sign);
  }

  function freshDep(o: NodeShape, j: number): void {
    if (o.cls[j] === C0) return;
    o.dep[j] = fresh(o.cls[j]);
    o.dir[j] = 1;
    o.depCls[j] = AF;
  }

  /** Sign of a weight: its value's, or (roles) + for non-negative roles and unknown (NaN) otherwise. */
  function weightSign(b: BoundProgram, name: string, v: number): number {
    if (v === 0) return 0;
    if (!roles) return v > 0 ? 1 : -1;
    const r = b.role(name);
    return r === 'nonNegative' || r === 'convexSpectral' ? 1 : NaN;
  }

  /** Sign of a node entry's value from its interval (NaN: unknown). */
  function valueSign(li: number, t: number, id: NodeId, j: number): number {
    const iv = bounds.node(li, t, id);
    const l = iv.l[j], u = iv.u[j];
    if (l === 0 && u === 0) return 0;
    if (l >= 0) return 1;
    if (u <= 0) return -1;
    return NaN;
  }

  function rule(node: Node, id: NodeId, b: BoundProgram, li: number, t: number, vals: NodeShape[], o: NodeShape): void {
    const m = node.size;
    switch (node.op) {
      case 'matmul': {
        const x = vals[node.x], W = b.mat(node.matrix), k = b.size(node.x);
        for (let j = 0; j < m; j++) {
          let cls: number = C0, only = -1, count = 0, onlySign = 1, flipAt = -1, anyUnknown = false;
          for (let i = 0; i < k; i++) {
            const w = W[i * m + j], c = x.cls[i];
            if (w === 0 || c === C0) continue;
            const s = weightSign(b, node.matrix, w);
            const r = scaled(c, s);
            if (c === UN) anyUnknown = true;
            if (r !== c && (c === CV || c === CC)) {
              if (flipAt < 0) flipAt = i;
              if (r === CC || r === CV) flip(li, id, t, j, node.matrix, [i, j], w, c);
            }
            cls = join(cls, r);
            for (let q = 0; q < dm; q++) o.mono[j * dm + q] = monoAdd(o.mono[j * dm + q], monoScaled(x.mono[i * dm + q], s));
            count++;
            only = i;
            onlySign = s;
          }
          o.cls[j] = cls;
          if (cls === UN && !anyUnknown && flipAt >= 0) {
            const w = W[flipAt * m + j];
            issue({ kind: 'sign', layer: li, node: id, step: t, entry: j, matrix: node.matrix, index: [flipAt, j], value: w,
              message: `layer ${li}: ${node.matrix}[${flipAt}][${j}] = ${w} multiplies a ${CURVATURE_NAMES[x.cls[flipAt]]} quantity (node ${node.x}) of another curvature than the rest of the sum` });
          }
          if (count === 1) copyDep(x, only, o, j, onlySign);
          else freshDep(o, j);
        }
        return;
      }
      case 'bias':
      case 'slice': {
        const x = vals[node.x], s0 = node.op === 'slice' ? node.start : 0;
        for (let j = 0; j < m; j++) copyEntry(x, s0 + j, o, j);
        return;
      }
      case 'concat': {
        let off = 0;
        for (const q of node.xs) {
          const x = vals[q], k = b.size(q);
          for (let j = 0; j < k; j++) copyEntry(x, j, o, off + j);
          off += k;
        }
        return;
      }
      case 'scale':
      case 'affine': {
        const x = vals[node.x], dv = node.op === 'scale' ? b.mat(node.param) : null;
        for (let j = 0; j < m; j++) {
          const w = dv ? dv[j] : (node as { a: number }).a;
          const s = dv ? weightSign(b, (node as { param: string }).param, w) : Math.sign(w);
          scaleEntry(x, j, o, j, s);
          if (dv && s < 0 && (x.cls[j] === CV || x.cls[j] === CC)) flip(li, id, t, j, (node as { param: string }).param, [0, j], w, x.cls[j]);
          if (o.cls[j] === UN && x.cls[j] !== UN && dv)
            issue({ kind: 'sign', layer: li, node: id, step: t, entry: j, matrix: (node as { param: string }).param, index: [0, j], value: w,
              message: `layer ${li}: ${(node as { param: string }).param}[${j}] = ${w} scales a ${CURVATURE_NAMES[x.cls[j]]} quantity` });
        }
        return;
      }
      case 'add': {
        const a = vals[node.a], c = vals[node.b];
        for (let j = 0; j < m; j++) {
          addEntry(a, j, c, j, o, j);
          if (o.cls[j] === UN && a.cls[j] !== UN && c.cls[j] !== UN) {
            if (a.cls[j] === CC || c.cls[j] === CC) concaveInvolved = true;
            issue({ kind: 'sum', layer: li, node: id, step: t, entry: j, message: `layer ${li}: node ${id} adds a ${CURVATURE_NAMES[a.cls[j]]} and a ${CURVATURE_NAMES[c.cls[j]]} quantity (step ${t}, entry ${j})` });
          }
        }
        return;
      }
      case 'act': {
        const x = vals[node.x], iv = bounds.node(li, t, node.x);
        for (let j = 0; j < m; j++) {
          const [slo, shi] = activationSlopeRange(node.fn, iv.l[j], iv.u[j]);
          if (x.cls[j] === C0 || shi === 0) {
            o.cls[j] = C0;
            continue;
          }
          const fc = slo === shi ? 'affine' : activationCurvature(node.fn, iv.l[j], iv.u[j]);
          o.cls[j] = compose(fc, x.cls[j]);
          if (o.cls[j] === UN && x.cls[j] === CC) concaveInvolved = true;
          if (o.cls[j] === UN && x.cls[j] !== UN)
            issue({ kind: 'activation', layer: li, node: id, step: t, entry: j, message: `layer ${li}: ${node.fn} (node ${id}) is ${fc === 'none' ? 'neither convex nor concave' : fc} on its argument's range and meets a ${CURVATURE_NAMES[x.cls[j]]} argument` });
          for (let q = 0; q < dm; q++) o.mono[j * dm + q] = x.mono[j * dm + q];
          if (x.dep[j] >= 0) {
            o.dep[j] = x.dep[j];
            o.dir[j] = x.dir[j];
            o.depCls[j] = compose(fc, x.depCls[j]);
          }
        }
        return;
      }
      case 'mul': {
        const a = vals[node.a], c = vals[node.b];
        for (let j = 0; j < m; j++) {
          const sa = valueSign(li, t, node.a, j), sc = valueSign(li, t, node.b, j);
          for (let q = 0; q < dm; q++) o.mono[j * dm + q] = monoAdd(monoScaled(a.mono[j * dm + q], sc), monoScaled(c.mono[j * dm + q], sa));
          const ca = a.cls[j], cc = c.cls[j];
          if (ca === C0 || cc === C0) {
            // a constant factor scales the other one
            if (ca === C0 && cc === C0) o.cls[j] = C0;
            else if (ca === C0) scaleEntry(c, j, o, j, sa, false);
            else scaleEntry(a, j, o, j, sc, false);
            continue;
          }
          const da = a.dep[j], dc = c.dep[j];
          const sameScalar = da >= 0 && da === dc && a.dir[j] === c.dir[j];
          const curvedOk = (k: number) => k === AF || k === CV;
          if (sameScalar && sa === 1 && sc === 1 && curvedOk(a.depCls[j]) && curvedOk(c.depCls[j])) {
            // phi(s) psi(s): non-negative, convex, monotone in the same direction -> convex in s, same direction
            const dir = a.dir[j], sCls = scalarCls[da];
            const ok = sCls === AF || (sCls === CV && dir === 1) || (sCls === CC && dir === -1);
            o.cls[j] = ok ? CV : UN;
            o.dep[j] = da;
            o.dir[j] = dir;
            o.depCls[j] = CV;
            if (ok) continue;
          } else o.cls[j] = UN;
          if (ca === CC || cc === CC) concaveInvolved = true;
          if (ca !== UN && cc !== UN)
            issue({ kind: 'product', layer: li, node: id, step: t, entry: j,
              message: `layer ${li}: the product node ${id} (step ${t}, entry ${j}) multiplies a ${CURVATURE_NAMES[ca]} and a ${CURVATURE_NAMES[cc]} quantity that are not non-negative convex functions of one scalar` });
          if (o.dep[j] < 0) freshDep(o, j);
        }
        return;
      }
      case 'input':
      case 'state':
        return;
    }
  }

  function copyEntry(x: NodeShape, jx: number, o: NodeShape, j: number): void {
    o.cls[j] = x.cls[jx];
    for (let q = 0; q < dm; q++) o.mono[j * dm + q] = x.mono[jx * dm + q];
    o.dep[j] = x.dep[jx];
    o.dir[j] = x.dir[jx];
    o.depCls[j] = x.depCls[jx];
  }

  function scaleEntry(x: NodeShape, jx: number, o: NodeShape, j: number, s: number, mono = true): void {
    o.cls[j] = scaled(x.cls[jx], s);
    if (mono) for (let q = 0; q < dm; q++) o.mono[j * dm + q] = monoScaled(x.mono[jx * dm + q], s);
    copyDep(x, jx, o, j, s);
  }

  const m = seq[0].cls.length;
  const outputClasses = new Uint8Array(steps * m), monotone = new Int8Array(steps * m * dm);
  const outputs = new Array<boolean>(m).fill(true);
  for (let t = 0; t < steps; t++)
    for (let j = 0; j < m; j++) {
      const c = seq[t].cls[j];
      outputClasses[t * m + j] = c;
      if (c !== C0 && c !== AF && c !== CV) outputs[j] = false;
      if (c === CC) concaveInvolved = true;
      if (dm) monotone.set(seq[t].mono.subarray(j * dm, (j + 1) * dm), (t * m + j) * dm);
    }
  const convex = outputs.every(Boolean);
  // where a concave quantity broke the proof, the negative weights that made quantities concave are root causes too
  const found = convex ? [] : [...issues.values(), ...(concaveInvolved ? flips.values() : [])];
  return { convex, outputs, outputClasses, monotone, issues: found, node: (layer, t, id) => all[layer][t][id] };
}
