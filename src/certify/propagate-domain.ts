/**
 * The abstract domain of bound propagation (see `propagate.ts` for what is propagated and why):
 * value bounds with optional linear forms in the input, and the midpoint-radius enclosure of the
 * secant Jacobian, with one transfer function per operation (linear maps, sums, slices, row
 * scalings, concatenation, activations, products), each rounded outwards. `propagate.ts` drives it
 * through a model's cell programs, one rule per primitive.
 *
 * Size (about 620 lines): one abstract domain, one transfer function per operation, all built on
 * the same outward-rounding helpers; the driver over a model is `propagate.ts`.
 */
import { kernels } from '../core/kernels.ts';
import type { Activation } from '../nn/cell.ts';
import { gamma } from '../core/spectral.ts';
import { ValidationError } from '../core/errors.ts';
import { sigmoid } from '../graph/activations.ts';
import type { InputBox, JBound, SiteStats, VBound } from './propagate.ts';

const g = () => kernels().gemm;

function safeMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : a * b;
}

const NO_ROWS = new Float64Array(0);

/**
 * Propagation context: the input box, whether linear forms are tracked and whether the Jacobian
 * enclosure is (without it every JBound is empty: value bounds only).
 */
export class Ctx {
  readonly d: number;
  readonly forms: boolean;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  stats: SiteStats = { reluActive: 0, reluInactive: 0, reluUnstable: 0, smooth: 0 };
  /**
   * Zonotope width (noise symbols) or 0 when zonotopes are off, and the next free symbol: every
   * zonotope row is zero from column `nextNoise` on (symbols are handed out in order and a quantity
   * only uses those that existed when it was formed), so the loops and products stop there.
   */
  E = 0;
  nextNoise = 0;
  constructor(readonly box: InputBox, zonotopeSymbols = 0, readonly jac = true) {
    this.d = box.center.length;
    let finite = true;
    for (let p = 0; p < this.d; p++) if (!Number.isFinite(box.radius[p])) finite = false;
    this.forms = finite;
    if (finite && zonotopeSymbols > 0) {
      this.E = this.d + zonotopeSymbols;
      this.nextNoise = this.d;
    }
    this.lo = new Float64Array(this.d);
    this.hi = new Float64Array(this.d);
    for (let p = 0; p < this.d; p++) {
      this.lo[p] = box.center[p] - box.radius[p];
      this.hi[p] = box.center[p] + box.radius[p];
    }
  }

  /** Concretises lower/upper forms into bounds, intersecting with the IBP bounds in place. */
  tighten(b: VBound): void {
    if (b.zc) {
      const E = this.E, used = this.nextNoise;
      for (let j = 0; j < b.k; j++) {
        let r = 0;
        const o = j * E;
        for (let e = 0; e < used; e++) r += Math.abs(b.zG![o + e]);
        const c = b.zc[j];
        const w = (r + Math.abs(c)) * 1e-12;
        if (c - r - w > b.l[j]) b.l[j] = c - r - w;
        if (c + r + w < b.u[j]) b.u[j] = c + r + w;
      }
    }
    if (!this.forms || !b.loA) {
      for (let j = 0; j < b.k; j++) if (b.l[j] > b.u[j]) b.l[j] = b.u[j] = 0.5 * (b.l[j] + b.u[j]);
      return;
    }
    const d = this.d, lo = this.lo, hi = this.hi;
    for (let j = 0; j < b.k; j++) {
      let sl = b.loC![j], su = b.hiC![j], al = Math.abs(sl), au = Math.abs(su);
      const o = j * d;
      for (let p = 0; p < d; p++) {
        const a = b.loA[o + p];
        if (a !== 0) {
          const v = a > 0 ? a * lo[p] : a * hi[p];
          sl += v;
          al += Math.abs(v);
        }
        const c = b.hiA![o + p];
        if (c !== 0) {
          const v = c > 0 ? c * hi[p] : c * lo[p];
          su += v;
          au += Math.abs(v);
        }
      }
      const gl = gamma(d + 2);
      sl -= gl * al;
      su += gl * au;
      if (sl > b.l[j]) b.l[j] = sl;
      if (su < b.u[j]) b.u[j] = su;
      if (b.l[j] > b.u[j]) {
        // rounding can cross them by a hair: keep a valid interval
        const m = 0.5 * (b.l[j] + b.u[j]);
        b.l[j] = m;
        b.u[j] = m;
      }
    }
  }

  newV(k: number): VBound {
    const f = this.forms;
    return {
      k,
      l: new Float64Array(k),
      u: new Float64Array(k),
      loA: f ? new Float64Array(k * this.d) : null,
      loC: f ? new Float64Array(k) : null,
      hiA: f ? new Float64Array(k * this.d) : null,
      hiC: f ? new Float64Array(k) : null,
      zc: this.E ? new Float64Array(k) : null,
      zG: this.E ? new Float64Array(k * this.E) : null,
    };
  }

  /** Allocates k fresh noise symbols; returns the first index. */
  noise(k: number): number {
    const first = this.nextNoise;
    this.nextNoise += k;
    if (this.nextNoise > this.E) throw new RangeError('propagate: zonotope noise symbols exhausted');
    return first;
  }

  newJ(k: number): JBound {
    if (!this.jac) return { k, C: NO_ROWS, R: NO_ROWS };
    return { k, C: new Float64Array(k * this.d), R: new Float64Array(k * this.d) };
  }

  zeroV(k: number): VBound {
    return this.newV(k);
  }

  /** The plain input row x_t (n features). */
  input(t: number, n: number): { v: VBound; j: JBound } {
    const v = this.newV(n), j = this.newJ(n), d = this.d;
    for (let i = 0; i < n; i++) {
      const p = t * n + i;
      v.l[i] = this.lo[p];
      v.u[i] = this.hi[p];
      if (v.loA) {
        v.loA[i * d + p] = 1;
        v.hiA![i * d + p] = 1;
      }
      if (v.zc) {
        v.zc[i] = this.box.center[p];
        v.zG![i * this.E + p] = this.box.radius[p];
      }
      if (this.jac) j.C[i * d + p] = 1;
    }
    return { v, j };
  }

  /** `[x, offset - x]` (exact affine map). */
  augment(x: { v: VBound; j: JBound }, offset: number[]): { v: VBound; j: JBound } {
    const n = x.v.k, d = this.d;
    const v = this.newV(2 * n), j = this.newJ(2 * n);
    for (let i = 0; i < n; i++) {
      v.l[i] = x.v.l[i];
      v.u[i] = x.v.u[i];
      v.l[n + i] = offset[i] - x.v.u[i];
      v.u[n + i] = offset[i] - x.v.l[i];
      if (this.jac) for (let p = 0; p < d; p++) {
        j.C[i * d + p] = x.j.C[i * d + p];
        j.C[(n + i) * d + p] = -x.j.C[i * d + p];
        j.R[i * d + p] = x.j.R[i * d + p];
        j.R[(n + i) * d + p] = x.j.R[i * d + p];
      }
      if (v.loA) {
        for (let p = 0; p < d; p++) {
          v.loA[i * d + p] = x.v.loA![i * d + p];
          v.hiA![i * d + p] = x.v.hiA![i * d + p];
          v.loA[(n + i) * d + p] = -x.v.hiA![i * d + p];
          v.hiA![(n + i) * d + p] = -x.v.loA![i * d + p];
        }
        v.loC![i] = x.v.loC![i];
        v.hiC![i] = x.v.hiC![i];
        v.loC![n + i] = offset[i] - x.v.hiC![i];
        v.hiC![n + i] = offset[i] - x.v.loC![i];
      }
      if (v.zc) {
        const E = this.E;
        v.zc[i] = x.v.zc![i];
        v.zc[n + i] = offset[i] - x.v.zc![i];
        for (let e = 0; e < E; e++) {
          v.zG![i * E + e] = x.v.zG![i * E + e];
          v.zG![(n + i) * E + e] = -x.v.zG![i * E + e];
        }
      }
    }
    return { v, j };
  }
}

/** A weight matrix prepared for propagation: W [rows x cols], its positive / negative parts and |W|. */
export interface PreparedMatrix {
  rows: number;
  cols: number;
  w: Float64Array;
  pos: Float64Array;
  neg: Float64Array;
  abs: Float64Array;
}

/** Splits a matrix into its positive and negative parts. */
export function prepareMatrix(w: Float64Array, rows: number, cols: number): PreparedMatrix {
  const pos = new Float64Array(w.length), neg = new Float64Array(w.length), abs = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const x = w[i];
    if (x > 0) pos[i] = x;
    else if (x < 0) neg[i] = x;
    abs[i] = Math.abs(x);
  }
  return { rows, cols, w, pos, neg, abs };
}

/** A diagonal matrix as a prepared matrix. */
export function diagMatrix(s: ArrayLike<number>): PreparedMatrix {
  const n = s.length, w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = s[i];
  return prepareMatrix(w, n, n);
}

type Term = { q: { v: VBound; j: JBound }; m: PreparedMatrix };

/** `out = sum_k q_k W_k + b` for value bounds and Jacobian enclosure. */
export function linear(ctx: Ctx, terms: Term[], bias: ArrayLike<number> | null, k: number): { v: VBound; j: JBound } {
  const v = ctx.newV(k), jb = ctx.newJ(k), d = ctx.d, gemm = g();
  // IBP with rounding widening
  const absSumL = new Float64Array(k), absSumU = new Float64Array(k);
  if (bias) for (let c = 0; c < k; c++) {
    v.l[c] = bias[c];
    v.u[c] = bias[c];
    absSumL[c] = Math.abs(bias[c]);
    absSumU[c] = Math.abs(bias[c]);
    if (v.loC) {
      v.loC[c] = bias[c];
      v.hiC![c] = bias[c];
    }
  }
  if (v.zc && bias) for (let c = 0; c < k; c++) v.zc[c] = bias[c];
  let kin = 1;
  // the first term's products overwrite the fresh (zero) outputs: C = 0 + A B is A B (up to the
  // sign of a zero), without the accumulating GEMM's copy of C
  let acc = false;
  for (const { q, m } of terms) {
    kin += m.rows;
    const w = m.w, rows = m.rows, cols = m.cols;
    if (cols !== k) throw new RangeError(`propagate: matrix has ${cols} columns, expected ${k}`);
    if (q.v.k !== rows) throw new RangeError(`propagate: input has ${q.v.k} entries, matrix ${rows} rows`);
    for (let i = 0; i < rows; i++) {
      const li = q.v.l[i], ui = q.v.u[i];
      const lc = q.v.loC ? q.v.loC[i] : 0, hc = q.v.hiC ? q.v.hiC[i] : 0;
      const o = i * cols;
      for (let c = 0; c < cols; c++) {
        const x = w[o + c];
        if (x === 0) continue;
        if (x > 0) {
          const a = safeMul(x, li), b = safeMul(x, ui);
          v.l[c] += a;
          v.u[c] += b;
          absSumL[c] += Math.abs(a);
          absSumU[c] += Math.abs(b);
          if (v.loC) {
            v.loC[c] += x * lc;
            v.hiC![c] += x * hc;
          }
        } else {
          const a = safeMul(x, ui), b = safeMul(x, li);
          v.l[c] += a;
          v.u[c] += b;
          absSumL[c] += Math.abs(a);
          absSumU[c] += Math.abs(b);
          if (v.loC) {
            v.loC[c] += x * hc;
            v.hiC![c] += x * lc;
          }
        }
      }
    }
    // linear forms: loA_out = Wpos^T loA + Wneg^T hiA ; hiA_out = Wpos^T hiA + Wneg^T loA
    if (v.loA) {
      gemm(k, d, rows, m.pos, 0, 1, cols, q.v.loA!, 0, d, 1, v.loA, 0, d, acc);
      gemm(k, d, rows, m.neg, 0, 1, cols, q.v.hiA!, 0, d, 1, v.loA, 0, d, true);
      gemm(k, d, rows, m.pos, 0, 1, cols, q.v.hiA!, 0, d, 1, v.hiA!, 0, d, acc);
      gemm(k, d, rows, m.neg, 0, 1, cols, q.v.loA!, 0, d, 1, v.hiA!, 0, d, true);
    }
    if (v.zc) {
      const E = ctx.E;
      gemm(k, ctx.nextNoise, rows, w, 0, 1, cols, q.v.zG!, 0, E, 1, v.zG!, 0, E, acc);
      for (let i = 0; i < rows; i++) {
        const ci = q.v.zc![i];
        if (ci === 0) continue;
        for (let c = 0; c < cols; c++) v.zc[c] += w[i * cols + c] * ci;
      }
    }
    // Jacobian: C_out += W^T C ; R_out += |W|^T (R + gamma |C|)
    if (ctx.jac) {
      gemm(k, d, rows, w, 0, 1, cols, q.j.C, 0, d, 1, jb.C, 0, d, acc);
      const gr = gamma(rows + 2);
      const tmp = new Float64Array(rows * d);
      for (let i = 0; i < tmp.length; i++) tmp[i] = q.j.R[i] + gr * Math.abs(q.j.C[i]);
      gemm(k, d, rows, m.abs, 0, 1, cols, tmp, 0, d, 1, jb.R, 0, d, acc);
    }
    acc = true;
  }
  const gk = gamma(kin + 2);
  for (let c = 0; c < k; c++) {
    v.l[c] -= gk * absSumL[c];
    v.u[c] += gk * absSumU[c];
  }
  // the forms' constants also carry rounding: widen them by the same amount
  if (v.loC) for (let c = 0; c < k; c++) {
    v.loC[c] -= gk * (Math.abs(v.loC[c]) + absSumL[c]);
    v.hiC![c] += gk * (Math.abs(v.hiC![c]) + absSumU[c]);
  }
  ctx.tighten(v);
  return { v, j: jb };
}

/** Element-wise sum of two quantities of the same size. */
export function add(ctx: Ctx, a: { v: VBound; j: JBound }, b: { v: VBound; j: JBound }): { v: VBound; j: JBound } {
  const k = a.v.k, d = ctx.d;
  const v = ctx.newV(k), j = ctx.newJ(k);
  for (let c = 0; c < k; c++) {
    const l = a.v.l[c] + b.v.l[c], u = a.v.u[c] + b.v.u[c];
    v.l[c] = l - Number.EPSILON * Math.abs(l);
    v.u[c] = u + Number.EPSILON * Math.abs(u);
    if (v.loC) {
      v.loC[c] = a.v.loC![c] + b.v.loC![c];
      v.hiC![c] = a.v.hiC![c] + b.v.hiC![c];
    }
  }
  if (ctx.jac)
    for (let i = 0; i < k * d; i++) {
      j.C[i] = a.j.C[i] + b.j.C[i];
      j.R[i] = (a.j.R[i] + b.j.R[i]) * (1 + Number.EPSILON) + Number.EPSILON * Math.abs(j.C[i]);
    }
  if (v.loA)
    for (let i = 0; i < k * d; i++) {
      v.loA[i] = a.v.loA![i] + b.v.loA![i];
      v.hiA![i] = a.v.hiA![i] + b.v.hiA![i];
    }
  if (v.zc) {
    for (let c = 0; c < k; c++) v.zc[c] = a.v.zc![c] + b.v.zc![c];
    for (let i = 0; i < v.zG!.length; i++) v.zG![i] = a.v.zG![i] + b.v.zG![i];
  }
  ctx.tighten(v);
  return { v, j };
}

/** Rows [from, to) of a quantity. */
export function slice(ctx: Ctx, a: { v: VBound; j: JBound }, from: number, to: number): { v: VBound; j: JBound } {
  const d = ctx.d, k = to - from;
  const v: VBound = {
    k,
    l: a.v.l.slice(from, to),
    u: a.v.u.slice(from, to),
    loA: a.v.loA ? a.v.loA.slice(from * d, to * d) : null,
    loC: a.v.loC ? a.v.loC.slice(from, to) : null,
    hiA: a.v.hiA ? a.v.hiA.slice(from * d, to * d) : null,
    hiC: a.v.hiC ? a.v.hiC.slice(from, to) : null,
    zc: a.v.zc ? a.v.zc.slice(from, to) : null,
    zG: a.v.zG ? a.v.zG.slice(from * ctx.E, to * ctx.E) : null,
  };
  return { v, j: { k, C: a.j.C.slice(from * d, to * d), R: a.j.R.slice(from * d, to * d) } };
}

/** The quantities side by side, in order (exact copies). */
export function concat(ctx: Ctx, parts: { v: VBound; j: JBound }[]): { v: VBound; j: JBound } {
  const d = ctx.d, E = ctx.E;
  const k = parts.reduce((s, p) => s + p.v.k, 0);
  const v = ctx.newV(k), j = ctx.newJ(k);
  let o = 0;
  for (const p of parts) {
    v.l.set(p.v.l, o);
    v.u.set(p.v.u, o);
    if (v.loA) {
      v.loA.set(p.v.loA!, o * d);
      v.hiA!.set(p.v.hiA!, o * d);
      v.loC!.set(p.v.loC!, o);
      v.hiC!.set(p.v.hiC!, o);
    }
    if (v.zc) {
      v.zc.set(p.v.zc!, o);
      v.zG!.set(p.v.zG!, o * E);
    }
    if (ctx.jac) {
      j.C.set(p.j.C, o * d);
      j.R.set(p.j.R, o * d);
    }
    o += p.v.k;
  }
  return { v, j };
}

/** Multiplies each row of a Jacobian enclosure by the scalar interval [lo, hi] (row-wise). */
function scaleRows(ctx: Ctx, j: JBound, lo: Float64Array, hi: Float64Array): JBound {
  const d = ctx.d, out = ctx.newJ(j.k);
  if (!ctx.jac) return out;
  for (let r = 0; r < j.k; r++) {
    const l = lo[r], h = hi[r];
    if (l === 0 && h === 0) continue;
    if (!Number.isFinite(l) || !Number.isFinite(h)) {
      const o = r * d;
      for (let p = 0; p < d; p++) out.R[o + p] = j.C[o + p] !== 0 || j.R[o + p] !== 0 ? Infinity : 0;
      continue;
    }
    const mid = 0.5 * l + 0.5 * h, rad = 0.5 * h - 0.5 * l;
    const amid = Math.abs(mid);
    const o = r * d;
    for (let p = 0; p < d; p++) {
      const c = j.C[o + p], R = j.R[o + p];
      const cc = safeMul(mid, c);
      out.C[o + p] = cc;
      // [mid +- rad] * [c +- R] within mid c +- (|mid| R + rad |c| + rad R), plus rounding of mid*c
      out.R[o + p] = (safeMul(amid, R) + safeMul(rad, Math.abs(c)) + safeMul(rad, R)) * (1 + 4 * Number.EPSILON) + Number.EPSILON * Math.abs(cc);
    }
  }
  return out;
}

const tanhD = (z: number) => {
  if (!Number.isFinite(z)) return 0;
  const t = Math.tanh(z);
  return 1 - t * t;
};
const sigm = sigmoid;
const sigD = (z: number) => {
  if (!Number.isFinite(z)) return 0;
  const s = sigm(z);
  return s * (1 - s);
};
const tanhF = (z: number) => (z === Infinity ? 1 : z === -Infinity ? -1 : Math.tanh(z));

/** Applies an activation: value relaxation + Jacobian scaling by the derivative range. */
export function activation(ctx: Ctx, z: { v: VBound; j: JBound }, act: Activation): { v: VBound; j: JBound; dlo: Float64Array; dhi: Float64Array } {
  if (act === 'linear') return { ...z, dlo: new Float64Array(z.v.k).fill(1), dhi: new Float64Array(z.v.k).fill(1) };
  const k = z.v.k, d = ctx.d;
  const v = ctx.newV(k);
  const dlo = new Float64Array(k), dhi = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    const l = z.v.l[c], u = z.v.u[c];
    if (act === 'relu') {
      if (u <= 0) {
        ctx.stats.reluInactive++;
        // zero, forms zero
      } else if (l >= 0) {
        ctx.stats.reluActive++;
        dlo[c] = 1;
        dhi[c] = 1;
        v.l[c] = l;
        v.u[c] = u;
        if (v.loA) {
          v.loA.set(z.v.loA!.subarray(c * d, (c + 1) * d), c * d);
          v.hiA!.set(z.v.hiA!.subarray(c * d, (c + 1) * d), c * d);
          v.loC![c] = z.v.loC![c];
          v.hiC![c] = z.v.hiC![c];
        }
      } else {
        ctx.stats.reluUnstable++;
        dhi[c] = 1;
        v.l[c] = 0;
        v.u[c] = u;
        if (v.loA) {
          // upper: y <= s (z - l), s = u / (u - l); lower: y >= alpha z, alpha in {0, 1}
          const s = u / (u - l);
          const o = c * d;
          for (let p = 0; p < d; p++) v.hiA![o + p] = s * z.v.hiA![o + p];
          { const hv = s * (z.v.hiC![c] - l); v.hiC![c] = hv + 4 * Number.EPSILON * Math.abs(hv) + Number.MIN_VALUE; }
          if (u > -l) {
            for (let p = 0; p < d; p++) v.loA[o + p] = z.v.loA![o + p];
            v.loC![c] = z.v.loC![c];
          }
        }
      }
    } else {
      ctx.stats.smooth++;
      const F = act === 'tanh' ? tanhF : sigm;
      const D = act === 'tanh' ? tanhD : sigD;
      const peak = act === 'tanh' ? 1 : 0.25;
      const dl = D(l), du = D(u);
      const kmin = Math.min(dl, du);
      const kmax = l <= 0 && u >= 0 ? peak : Math.max(dl, du);
      dlo[c] = Math.max(0, kmin * (1 - 1e-12) - 1e-300);
      dhi[c] = Math.min(peak, kmax * (1 + 1e-12));
      const fl = F(l), fu = F(u);
      const tol = 4 * Number.EPSILON;
      v.l[c] = fl - tol;
      v.u[c] = fu + tol;
      if (v.loA) {
        // parallel lines of slope kmin (the minimum derivative on [l, u]):
        // F(z) >= F(l) + kmin (z - l), F(z) <= F(u) + kmin (z - u)
        const s = dlo[c];
        const o = c * d;
        for (let p = 0; p < d; p++) {
          v.loA[o + p] = s * z.v.loA![o + p];
          v.hiA![o + p] = s * z.v.hiA![o + p];
        }
        const w = tol * (1 + Math.abs(s * l) + Math.abs(s * u));
        v.loC![c] = s * z.v.loC![c] + fl - s * l - w;
        v.hiC![c] = s * z.v.hiC![c] + fu - s * u + w;
      }
    }
  }
  if (v.zc) {
    // DeepZ relaxation: y = lambda z + mu + beta eps_new, lambda the minimal slope on [l, u]
    const E = ctx.E, first = ctx.noise(k);
    for (let c = 0; c < k; c++) {
      const l = z.v.l[c], u = z.v.u[c];
      let lam: number, mu: number, beta: number;
      if (act === 'relu') {
        if (u <= 0) continue;
        if (l >= 0) {
          lam = 1;
          mu = 0;
          beta = 0;
        } else {
          lam = u / (u - l);
          mu = -0.5 * lam * l;
          beta = -0.5 * lam * l;
        }
      } else {
        const F = act === 'tanh' ? tanhF : sigm;
        lam = dlo[c];
        const fl = F(l), fu = F(u);
        mu = 0.5 * (fu + fl - lam * (u + l));
        beta = 0.5 * (fu - fl - lam * (u - l));
      }
      const o = c * E;
      v.zc[c] = lam * z.v.zc![c] + mu;
      if (lam !== 0) for (let e = 0; e < first; e++) v.zG![o + e] = lam * z.v.zG![o + e];
      v.zG![o + first + c] = Math.abs(beta) * (1 + 1e-12) + 4 * Number.EPSILON * (Math.abs(mu) + Math.abs(v.zc[c]));
    }
  }
  ctx.tighten(v);
  return { v, j: scaleRows(ctx, z.j, dlo, dhi), dlo, dhi };
}

/** Interval product [l1, u1] x [l2, u2] element-wise, rounded outwards. */
export function intervalProduct(l1: Float64Array, u1: Float64Array, l2: Float64Array, u2: Float64Array): { lo: Float64Array; hi: Float64Array } {
  const k = l1.length, lo = new Float64Array(k), hi = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const ps = [safeMul(l1[i], l2[i]), safeMul(l1[i], u2[i]), safeMul(u1[i], l2[i]), safeMul(u1[i], u2[i])];
    let a = Math.min(...ps), b = Math.max(...ps);
    if (Number.isNaN(a) || Number.isNaN(b)) {
      a = -Infinity;
      b = Infinity;
    }
    lo[i] = a - 2 * Number.EPSILON * Math.abs(a);
    hi[i] = b + 2 * Number.EPSILON * Math.abs(b);
  }
  return { lo, hi };
}

/** Element-wise product `a * b` (McCormick envelopes; Jacobian by the secant product rule). */
export function multiply(ctx: Ctx, a: { v: VBound; j: JBound }, b: { v: VBound; j: JBound }): { v: VBound; j: JBound } {
  const k = a.v.k, d = ctx.d;
  const v = ctx.newV(k);
  for (let c = 0; c < k; c++) {
    const la = a.v.l[c], ua = a.v.u[c], lb = b.v.l[c], ub = b.v.u[c];
    const ps = [safeMul(la, lb), safeMul(la, ub), safeMul(ua, lb), safeMul(ua, ub)];
    let lo = Math.min(...ps), hi = Math.max(...ps);
    if (Number.isNaN(lo) || Number.isNaN(hi)) {
      lo = -Infinity;
      hi = Infinity;
    }
    v.l[c] = lo - 2 * Number.EPSILON * Math.abs(lo);
    v.u[c] = hi + 2 * Number.EPSILON * Math.abs(hi);
    if (v.loA) {
      // candidate lower planes: (la, lb) and (ua, ub); upper: (ua, lb) and (la, ub)
      // p >= A*b + B*a - A*B with (A, B) = (la, lb) or (ua, ub)
      // p <= A*b + B*a - A*B with (A, B) = (ua, lb) or (la, ub)
      const o = c * d;
      const best = (pairs: [number, number][], lower: boolean) => {
        let bestVal = lower ? -Infinity : Infinity;
        let bestA: Float64Array | null = null, bestC = 0;
        for (const [A, B] of pairs) {
          const row = new Float64Array(d);
          let cst = -A * B;
          // A * b : for a lower bound use b's lower form when A >= 0, upper form otherwise
          const bUseLo = lower ? A >= 0 : A < 0;
          const aUseLo = lower ? B >= 0 : B < 0;
          const bA = bUseLo ? b.v.loA! : b.v.hiA!, bC = bUseLo ? b.v.loC![c] : b.v.hiC![c];
          const aA = aUseLo ? a.v.loA! : a.v.hiA!, aC = aUseLo ? a.v.loC![c] : a.v.hiC![c];
          for (let p = 0; p < d; p++) row[p] = A * bA[o + p] + B * aA[o + p];
          cst += A * bC + B * aC;
          // concretise
          let val = cst;
          for (let p = 0; p < d; p++) {
            const x = row[p];
            if (x !== 0) val += lower ? (x > 0 ? x * ctx.lo[p] : x * ctx.hi[p]) : x > 0 ? x * ctx.hi[p] : x * ctx.lo[p];
          }
          if (lower ? val > bestVal : val < bestVal) {
            bestVal = val;
            bestA = row;
            bestC = cst;
          }
        }
        // no finite plane (overflowing values): fall back to the constant interval bound
        if (!bestA || !Number.isFinite(bestVal)) return { A: new Float64Array(d), C: lower ? v.l[c] : v.u[c] };
        const w = 8 * Number.EPSILON * (Math.abs(bestC) + 1e-300);
        return { A: bestA, C: lower ? bestC - w : bestC + w };
      };
      const lb2 = best([[la, lb], [ua, ub]], true);
      const ub2 = best([[ua, lb], [la, ub]], false);
      v.loA.set(lb2.A, o);
      v.loC![c] = lb2.C;
      v.hiA!.set(ub2.A, o);
      v.hiC![c] = ub2.C;
    }
  }
  if (v.zc) {
    const E = ctx.E, first = ctx.noise(k);
    for (let c = 0; c < k; c++) {
      const o = c * E, ca = a.v.zc![c], cb = b.v.zc![c];
      let ra = 0, rb = 0;
      for (let e = 0; e < E; e++) {
        const ga = a.v.zG![o + e], gb = b.v.zG![o + e];
        v.zG![o + e] = ca * gb + cb * ga;
        ra += Math.abs(ga);
        rb += Math.abs(gb);
      }
      v.zc[c] = ca * cb;
      v.zG![o + first + c] += ra * rb * (1 + 1e-12) + 4 * Number.EPSILON * Math.abs(ca * cb);
    }
  }
  ctx.tighten(v);
  // d(ab) = a' db + b da with a' in [la, ua], b in [lb, ub]
  const ja = scaleRows(ctx, b.j, a.v.l, a.v.u);
  const jb = scaleRows(ctx, a.j, b.v.l, b.v.u);
  const j = ctx.newJ(k);
  if (ctx.jac) for (let i = 0; i < k * d; i++) {
    j.C[i] = ja.C[i] + jb.C[i];
    j.R[i] = (ja.R[i] + jb.R[i]) * (1 + Number.EPSILON) + Number.EPSILON * Math.abs(j.C[i]);
  }
  return { v, j };
}

/** Zero quantity (initial state). */
export function zero(ctx: Ctx, k: number): { v: VBound; j: JBound } {
  return { v: ctx.zeroV(k), j: ctx.newJ(k) };
}
