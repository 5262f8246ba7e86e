/**
 * Bound propagation through a {@link SequenceModel} over a box of input sequences, for the local
 * and global Lipschitz certificates.
 *
 * Input set: `X = { x : |x_p - c_p| <= r_p }` in the model's scaled, *un-augmented* input space,
 * `x` the whole sequence flattened step-major (`p = t * inputSize + j`), `d = steps * inputSize`
 * coordinates. `r_p` may be `Infinity` (the global case: `X = R^d`).
 *
 * Two things are propagated step by step through every layer and the head:
 *
 * 1. **Value bounds** of every intermediate quantity over X: interval bound propagation (IBP)
 *    intersected, for bounded boxes, with forward *linear* bounds `a_l . x + c_l <= q(x) <= a_u . x + c_u`
 *    (CROWN-style relaxations: ReLU triangle / adaptive lower line, parallel lines with the minimal
 *    slope for tanh and sigmoid, McCormick envelopes for the gate products of LSTM cells) and with
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
import { SimpleCell } from '../nn/simple-cell.ts';
import { LstmCell } from '../nn/lstm-cell.ts';
import { LipschitzCell } from '../nn/lipschitz-cell.ts';
import { IcrnnCell } from '../nn/icrnn-cell.ts';
import { IclstmCell } from '../nn/iclstm-cell.ts';
import { ValidationError } from '../core/errors.ts';
import { Ctx, prepareMatrix, diagMatrix, linear, add, slice, activation, intervalProduct, multiply, zero } from './propagate-domain.ts';
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
  /** Pre-activation (and cell-state) bounds, by layer path, step and name. */
  preactivations: { layer: string; t: number; name: string; l: Float64Array; u: Float64Array }[];
  /**
   * Gain ranges per step (index t) of every scalar "site" of the secant Jacobian, keyed
   * `layer:name` (see lfr.ts): an activation's secant slope, or a product factor times a slope.
   */
  sites: Map<string, { lo: Float64Array; hi: Float64Array }>[];
}

type Q = { v: VBound; j: JBound };

/**
 * Propagates value bounds and the secant-Jacobian enclosure through the whole model over the box
 * (module comment). Works for every cell type of the package. `jacobian: false` skips the Jacobian
 * enclosure (the result's `jacobian` then holds no rows): the same value bounds, site ranges and
 * statistics for less work (the attack's point enclosures).
 */
export function propagateModel(
  model: SequenceModel, steps: number, box: InputBox,
  options: { zonotope?: boolean; maxZonotopeSymbols?: number; jacobian?: boolean } = {},
): PropagationResult {
  model.requireStacked('propagateModel');
  const n = model.inputSize, m = model.outputSize;
  if (box.center.length !== steps * n || box.radius.length !== steps * n)
    throw new ValidationError(`propagate: box has ${box.center.length} coordinates, expected steps * inputSize = ${steps * n}`);
  // zonotopes when the box is bounded and the number of relaxations is moderate
  let symbols = 0;
  for (const cell of model.cells) {
    const u = cell.units;
    if (cell instanceof SimpleCell || cell instanceof LipschitzCell) symbols += u;
    else if (cell instanceof IcrnnCell) symbols += 2 * u;
    else if (cell instanceof LstmCell) symbols += 8 * u;
    else if (cell instanceof IclstmCell) symbols += 9 * u;
  }
  for (const h of model.head) symbols += h.units;
  symbols *= steps;
  const ctx = new Ctx(box, options.zonotope === false || symbols + box.center.length > (options.maxZonotopeSymbols ?? 4000) ? 0 : symbols, options.jacobian !== false);
  const pre: PropagationResult['preactivations'] = [];
  const record = (layer: string, t: number, name: string, q: Q) => pre.push({ layer, t, name, l: q.v.l, u: q.v.u });
  const sites: Map<string, { lo: Float64Array; hi: Float64Array }>[] = Array.from({ length: steps }, () => new Map());
  const site = (t: number, key: string, lo: Float64Array, hi: Float64Array) => sites[t].set(key, { lo, hi });
  // layer inputs per step
  const aug: Q[] = [];
  let seq: Q[] = [];
  for (let t = 0; t < steps; t++) {
    const x = ctx.input(t, n);
    const a = model.spec.augmentation ? ctx.augment(x, model.spec.augmentation.offset) : x;
    aug.push(a);
    seq.push(a);
  }
  type A = Q & { dlo: Float64Array; dhi: Float64Array };
  // LSTM-type secant sites: dc = f' dc_prev + (c_prev s_f) dz_f + (i' s_c) dz_c + (c~ s_i) dz_i
  const recordGateSites = (t: number, name: string, cPrev: Q, gi: A, gf: A, gc: A, go: A) => {
    void go;
    const p = (key: string, r: { lo: Float64Array; hi: Float64Array }) => site(t, `${name}:${key}`, r.lo, r.hi);
    p('sF', intervalProduct(cPrev.v.l, cPrev.v.u, gf.dlo, gf.dhi));
    site(t, `${name}:sC`, gf.v.l, gf.v.u);
    p('sG', intervalProduct(gi.v.l, gi.v.u, gc.dlo, gc.dhi));
    p('sI', intervalProduct(gc.v.l, gc.v.u, gi.dlo, gi.dhi));
  };
  // dh = (o' s_c(c)) dc + (g(c) s_o) dz_o
  const recordOutputSites = (t: number, name: string, tc: A, go: A) => {
    const p = (key: string, r: { lo: Float64Array; hi: Float64Array }) => site(t, `${name}:${key}`, r.lo, r.hi);
    p('sH', intervalProduct(go.v.l, go.v.u, tc.dlo, tc.dhi));
    p('sO', intervalProduct(tc.v.l, tc.v.u, go.dlo, go.dhi));
  };
  model.cells.forEach((cell, li) => {
    cell.prepare();
    const name = `cells.${li}`;
    const out: Q[] = [];
    if (cell instanceof SimpleCell) {
      const K = prepareMatrix(cell.kernel.value, cell.inputSize, cell.units);
      const R = prepareMatrix(cell.recurrentKernel.value, cell.units, cell.units);
      let h = zero(ctx, cell.units);
      for (let t = 0; t < steps; t++) {
        const z = linear(ctx, [{ q: seq[t], m: K }, { q: h, m: R }], cell.bias.value, cell.units);
        record(name, t, 'z', z);
        const a = activation(ctx, z, cell.activation);
        site(t, `${name}:act`, a.dlo, a.dhi);
        h = a;
        out.push(h);
      }
    } else if (cell instanceof LipschitzCell) {
      const u = cell.units, { eps, alpha } = cell.options;
      const Mw = new Float64Array(u * u);
      for (let i = 0; i < u; i++) for (let j = 0; j < u; j++) Mw[i * u + j] = (i === j ? 1 : 0) + eps * alpha * cell.A[i * u + j];
      const M = prepareMatrix(Mw, u, u);
      const W = prepareMatrix(cell.W, u, u);
      const Uk = prepareMatrix(cell.kernel.value, cell.inputSize, u);
      const E = diagMatrix(new Float64Array(u).fill(eps));
      let h = zero(ctx, u);
      for (let t = 0; t < steps; t++) {
        const z = linear(ctx, [{ q: h, m: W }, { q: seq[t], m: Uk }], cell.bias.value, u);
        record(name, t, 'pre', z);
        const th = activation(ctx, z, 'tanh');
        site(t, `${name}:tanh`, th.dlo, th.dhi);
        h = linear(ctx, [{ q: h, m: M }, { q: th, m: E }], null, u);
        out.push(h);
      }
    } else if (cell instanceof IcrnnCell) {
      const u = cell.units, nin = cell.inputSize;
      const P = (p: { value: Float64Array; rows: number; cols: number }) => prepareMatrix(p.value, p.rows, p.cols);
      const K = P(cell.kernel), R = P(cell.recurrentKernel), D1 = P(cell.D1), D2 = P(cell.D2), D3 = P(cell.D3), V = P(cell.V);
      let h = zero(ctx, u), xPrev = zero(ctx, nin);
      for (let t = 0; t < steps; t++) {
        const zh = linear(ctx, [{ q: seq[t], m: K }, { q: h, m: R }, { q: xPrev, m: D2 }], null, u);
        record(name, t, 'zh', zh);
        const hn = activation(ctx, zh, 'relu');
        site(t, `${name}:relu_h`, hn.dlo, hn.dhi);
        const zy = linear(ctx, [{ q: hn, m: V }, { q: h, m: D1 }, { q: seq[t], m: D3 }], null, u);
        record(name, t, 'zy', zy);
        const yo = activation(ctx, zy, 'relu');
        site(t, `${name}:relu_y`, yo.dlo, yo.dhi);
        out.push(yo);
        h = hn;
        xPrev = seq[t];
      }
    } else if (cell instanceof LstmCell) {
      const u = cell.units;
      const K = prepareMatrix(cell.kernel.value, cell.inputSize, 4 * u);
      const R = prepareMatrix(cell.recurrentKernel.value, u, 4 * u);
      let h = zero(ctx, u), c = zero(ctx, u);
      for (let t = 0; t < steps; t++) {
        const z = linear(ctx, [{ q: seq[t], m: K }, { q: h, m: R }], cell.bias.value, 4 * u);
        record(name, t, 'z', z);
        const gi = activation(ctx, slice(ctx, z, 0, u), 'sigmoid');
        const gf = activation(ctx, slice(ctx, z, u, 2 * u), 'sigmoid');
        const gc = activation(ctx, slice(ctx, z, 2 * u, 3 * u), 'tanh');
        const go = activation(ctx, slice(ctx, z, 3 * u, 4 * u), 'sigmoid');
        recordGateSites(t, name, c, gi, gf, gc, go);
        c = add(ctx, multiply(ctx, gf, c), multiply(ctx, gi, gc));
        record(name, t, 'c', c);
        const tc = activation(ctx, c, 'tanh');
        recordOutputSites(t, name, tc, go);
        h = multiply(ctx, go, tc);
        out.push(h);
      }
    } else if (cell instanceof IclstmCell) {
      const u = cell.units;
      const Wx = prepareMatrix(cell.kernel.value, cell.inputSize, u);
      const Wh = prepareMatrix(cell.recurrentKernel.value, u, u);
      const dw = cell.kernelScale.value, du = cell.recurrentScale.value, b = cell.bias.value;
      let h = zero(ctx, u), c = zero(ctx, u);
      for (let t = 0; t < steps; t++) {
        const xw = linear(ctx, [{ q: seq[t], m: Wx }], null, u);
        const hw = linear(ctx, [{ q: h, m: Wh }], null, u);
        const gate = (gi: number) => {
          const z = linear(ctx, [{ q: xw, m: diagMatrix(dw.subarray(gi * u, (gi + 1) * u)) }, { q: hw, m: diagMatrix(du.subarray(gi * u, (gi + 1) * u)) }], b.subarray(gi * u, (gi + 1) * u), u);
          record(name, t, `z${'ifco'[gi]}`, z);
          return activation(ctx, z, 'relu');
        };
        const gi = gate(0), gf = gate(1), gc = gate(2), go = gate(3);
        recordGateSites(t, name, c, gi, gf, gc, go);
        c = add(ctx, multiply(ctx, gf, c), multiply(ctx, gi, gc));
        record(name, t, 'c', c);
        const rc = activation(ctx, c, 'relu');
        recordOutputSites(t, name, rc, go);
        h = multiply(ctx, go, rc);
        out.push(h);
      }
    } else {
      throw new RangeError(`propagate: unsupported cell ${(cell as { constructor: { name: string } }).constructor.name}`);
    }
    seq = out;
  });
  // head, per step
  const J = ctx.newJ(steps * m);
  const ol = new Float64Array(steps * m), ou = new Float64Array(steps * m);
  for (let t = 0; t < steps; t++) {
    let q = seq[t];
    model.head.forEach((h, k) => {
      const z = linear(ctx, [{ q, m: prepareMatrix(h.kernel.value, h.inputSize, h.units) }], h.bias.value, h.units);
      record(`head.${k}`, t, 'z', z);
      const a = activation(ctx, z, h.activation);
      site(t, `head.${k}:act`, a.dlo, a.dhi);
      q = a;
      if (h.residual) q = add(ctx, q, aug[t]);
    });
    if (ctx.jac) {
      J.C.set(q.j.C, t * m * ctx.d);
      J.R.set(q.j.R, t * m * ctx.d);
    }
    ol.set(q.v.l, t * m);
    ou.set(q.v.u, t * m);
  }
  // Add a relative margin for the rounding in the (non-negative) radius sums themselves.
  for (let i = 0; i < J.R.length; i++) J.R[i] = J.R[i] * (1 + 1e-12) + 1e-14 * Math.abs(J.C[i]);
  return { steps, inputSize: n, outputSize: m, jacobian: J, outputs: { l: ol, u: ou }, stats: ctx.stats, preactivations: pre, sites };
}

/** The box `[c - r, c + r]` around a sequence with one radius (r may be Infinity). */
export function boxAround(center: Float64Array, radius: number): InputBox {
  return { center: Float64Array.from(center), radius: new Float64Array(center.length).fill(radius) };
}
