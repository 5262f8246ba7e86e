/**
 * Building the linear fractional representation (LFR) of one time step of a model, the object the
 * recurrent dissipation bound of `lfr.ts` works on (its module comment has the maths): the sparse
 * linear maps between the state and input increments, the sites and the outputs, and each site's
 * gain range at a step from the bound propagation.
 *
 * The builder is an interpreter over the model's cell programs with one rule per primitive, on
 * increments (rows over the LFR's variables): linear primitives map rows linearly; an activation's
 * increment is a site `w = theta dz` with theta its secant slope; a product's increment is
 * `a' db + b da` (a', b the factors' values at the two points), two sites whose gains are the
 * factors' value ranges. When a factor is itself an activation, `a' (theta_b dz_b)` is one site on
 * `dz_b` with the interval product of a's values and b's slopes as its range (the LSTM gate terms).
 */
import { kernels } from '../core/kernels.ts';
import type { SequenceModel } from '../nn/model.ts';
import { programStack } from '../nn/program-stack.ts';
import type { NodeId } from '../graph/program.ts';
import { bindStack, type ProgramStack } from '../interp/bind.ts';
import { operands } from '../interp/eval.ts';
import { intervalProduct, type PropagationResult } from './propagate.ts';

/** Sparse row: column indices and values. */
export interface SRow {
  idx: Int32Array;
  val: Float64Array;
}

/** The LFR of one time step of a model. */
export interface StepLfr {
  /** State, input and site counts; `N = ns + n + nw`. */
  ns: number;
  n: number;
  nw: number;
  N: number;
  /** New state (ns rows), output (m rows) and site inputs (nw rows), as sparse rows over (s, e, w). */
  S: SRow[];
  Y: SRow[];
  Z: SRow[];
  /** Site groups in topological order, each the entries of one program node (see {@link LfrSiteGroup}). */
  groups: LfrSiteGroup[];
}

/**
 * A group of sites (one per entry of a node) and where its gain range comes from, at each step:
 * `slope`: the secant slope range of activation `act`; `value`: the value range of node `factor`;
 * `product`: the interval product of both.
 */
export interface LfrSiteGroup {
  /** Stack layer of the nodes. */
  layer: number;
  kind: 'slope' | 'value' | 'product';
  act: NodeId | null;
  factor: NodeId | null;
  offset: number;
  count: number;
}

export function sparse(rows: Float64Array, k: number, N: number): SRow[] {
  const out: SRow[] = [];
  for (let r = 0; r < k; r++) {
    const idx: number[] = [], val: number[] = [];
    for (let c = 0; c < N; c++) {
      const v = rows[r * N + c];
      if (v !== 0) {
        idx.push(c);
        val.push(v);
      }
    }
    out.push({ idx: Int32Array.from(idx), val: Float64Array.from(val) });
  }
  return out;
}

/** Builds the one-step LFR of a model or program stack (weights as they are now). */
export function buildStepLfr(model: SequenceModel | ProgramStack): StepLfr {
  const stack = 'layers' in model ? model : programStack(model);
  const bound = bindStack(stack);
  const n = stack.inputSize;
  // sizes: states, and sites (static: a plain site per activation read by anything but a product,
  // two sites per product entry)
  let ns = 0, nw = 0;
  for (const b of bound) {
    const p = b.program;
    for (const s of p.state) ns += s.size;
    const external = new Set([...p.next, p.output]);
    p.nodes.forEach((node, id) => {
      if (node.op === 'mul') nw += 2 * node.size;
      if (node.op === 'act') {
        const readByOther = external.has(id) || p.nodes.some((r) => r.op !== 'mul' && operands(r).includes(id));
        if (readByOther) nw += node.size;
      }
    });
  }
  const N = ns + n + nw;
  const gemm = kernels().gemm;
  const eOff = ns, wOff = ns + n;
  const Zd: Float64Array[] = [];
  const groups: LfrSiteGroup[] = [];
  let wNext = 0;
  const rowsOf = (k: number) => new Float64Array(k * N);
  const unit = (off: number, k: number) => {
    const r = rowsOf(k);
    for (let i = 0; i < k; i++) r[i * N + off + i] = 1;
    return r;
  };
  /** W^T X for W [kin x kout], X [kin x N]. */
  const lin = (w: Float64Array, kin: number, kout: number, X: Float64Array) => {
    const out = rowsOf(kout);
    gemm(kout, N, kin, w, 0, 1, kout, X, 0, N, 1, out, 0, N, false);
    return out;
  };
  const sum = (a: Float64Array, b: Float64Array) => {
    const out = Float64Array.from(a);
    for (let i = 0; i < out.length; i++) out[i] += b[i];
    return out;
  };
  const site = (z: Float64Array, k: number, g: Omit<LfrSiteGroup, 'offset' | 'count'>) => {
    groups.push({ ...g, offset: wNext, count: k });
    Zd.push(z);
    const r = unit(wOff + wNext, k);
    wNext += k;
    return r;
  };
  const diagScale = (X: Float64Array, s: ArrayLike<number>) => {
    const out = Float64Array.from(X);
    for (let r = 0; r < s.length; r++) for (let c = 0; c < N; c++) out[r * N + c] *= s[r];
    return out;
  };
  // the model input increment: e (n) or [e, -e]
  let X: Float64Array;
  if (stack.augmentation) {
    X = rowsOf(2 * n);
    for (let i = 0; i < n; i++) {
      X[i * N + eOff + i] = 1;
      X[(n + i) * N + eOff + i] = -1;
    }
  } else X = unit(eOff, n);
  const augX = X;
  const Sd = rowsOf(ns);
  let sOff = 0;
  bound.forEach((b, li) => {
    const p = b.program;
    const slotOff: number[] = [];
    for (const s of p.state) {
      slotOff.push(sOff);
      sOff += s.size;
    }
    // rows[id]: the node's increment; pending[id]: an activation's input rows (its plain site is
    // made on first use by a reader other than a product)
    const rows: (Float64Array | undefined)[] = new Array(p.nodes.length);
    const pending: (Float64Array | undefined)[] = new Array(p.nodes.length);
    const plain = (id: NodeId): Float64Array => {
      const r = rows[id];
      if (r) return r;
      const made = site(pending[id]!, p.nodes[id].size, { layer: li, kind: 'slope', act: id, factor: null });
      rows[id] = made;
      return made;
    };
    // one product term: (value range of `factor`) times the increment of `x`
    const term = (factor: NodeId, x: NodeId, k: number) => {
      const px = pending[x];
      return px ? site(px, k, { layer: li, kind: 'product', act: x, factor }) : site(rows[x]!, k, { layer: li, kind: 'value', act: null, factor });
    };
    p.nodes.forEach((node, id) => {
      switch (node.op) {
        case 'input':
          rows[id] = X;
          return;
        case 'state':
          rows[id] = unit(slotOff[node.slot], node.size);
          return;
        case 'matmul': {
          const [r, c] = b.shape(node.matrix);
          rows[id] = lin(b.mat(node.matrix), r, c, plain(node.x));
          return;
        }
        case 'bias':
          rows[id] = plain(node.x);
          return;
        case 'scale':
          rows[id] = diagScale(plain(node.x), b.mat(node.param));
          return;
        case 'affine':
          rows[id] = plain(node.x).map((v) => node.a * v);
          return;
        case 'add':
          rows[id] = sum(plain(node.a), plain(node.b));
          return;
        case 'slice':
          rows[id] = plain(node.x).slice(node.start * N, (node.start + node.size) * N);
          return;
        case 'concat': {
          const out = rowsOf(node.size);
          let at = 0;
          for (const x of node.xs) {
            out.set(plain(x), at * N);
            at += p.nodes[x].size;
          }
          rows[id] = out;
          return;
        }
        case 'act':
          pending[id] = plain(node.x);
          return;
        case 'mul':
          // a' db + b da
          rows[id] = sum(term(node.a, node.b, node.size), term(node.b, node.a, node.size));
          return;
      }
    });
    p.next.forEach((id, s) => Sd.set(plain(id), slotOff[s] * N));
    let out = plain(p.output);
    if (stack.layers[li].residual) out = sum(out, augX);
    X = out;
  });
  if (wNext !== nw) throw new Error(`lfr: internal error: ${wNext} sites made, ${nw} counted`);
  const Zrows: SRow[] = [];
  groups.forEach((g, i) => Zrows.push(...sparse(Zd[i], g.count, N)));
  const m = stack.layers[stack.layers.length - 1].program.outputSize;
  return { ns, n, nw, N, S: sparse(Sd, ns, N), Y: sparse(X, m, N), Z: Zrows, groups };
}

/**
 * Site ranges [alpha, beta] at step t from a propagation result. `layerOffset`: the stack layer of
 * the propagation that the LFR's layer 0 is (an LFR of one layer of a larger model).
 */
export function siteRanges(lfr: StepLfr, prop: PropagationResult, t: number, layerOffset = 0): { alpha: Float64Array; beta: Float64Array } {
  const alpha = new Float64Array(lfr.nw), beta = new Float64Array(lfr.nw);
  for (const g of lfr.groups) {
    const layer = g.layer + layerOffset;
    const s = g.act !== null ? prop.slope(layer, t, g.act) : null;
    const v = g.factor !== null ? prop.node(layer, t, g.factor) : null;
    if ((g.act !== null && !s) || (g.factor !== null && !v)) throw new RangeError(`lfr: no range for the sites of layer ${layer}, node ${g.act ?? g.factor}, at step ${t}`);
    const r = g.kind === 'slope' ? s! : g.kind === 'value' ? { lo: v!.l, hi: v!.u } : intervalProduct(v!.l, v!.u, s!.lo, s!.hi);
    alpha.set(r.lo, g.offset);
    beta.set(r.hi, g.offset);
  }
  return { alpha, beta };
}
