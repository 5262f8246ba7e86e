/**
 * The product / recurrence bound: per-step norm inequalities chained through time and layers.
 *
 * For every layer, with `a_t = ||dx_t||` (its input increment at step t) and `e_t` the increment of
 * its output, inequalities like `e_t <= s (||K|| a_t + ||R|| e_{t-1})` (s the slope bound of the
 * activation) give `e <= G a` entry-wise for a non-negative lower-triangular T x T matrix G (its
 * impulse response). Composing layers and head, `(||dy_t||)_t <= G (||dx_t||)_t`, hence
 * `||dy||_2 <= ||G||_2 ||dx||_2` over the whole sequence. All spectral norms are certified upper
 * bounds ({@link certifiedNorm}). The augmentation `[x, offset - x]` is folded exactly into the first
 * layer: its input matrices become `K_eff = K_top - K_bottom` (not `sqrt(2) ||K||`).
 */
import type { SequenceModel } from '../nn/model.ts';
import { SimpleCell } from '../nn/simple-cell.ts';
import { LstmCell } from '../nn/lstm-cell.ts';
import { LipschitzCell } from '../nn/lipschitz-cell.ts';
import { IcrnnCell } from '../nn/icrnn-cell.ts';
import { IclstmCell } from '../nn/iclstm-cell.ts';
import { certifiedNorm, type SpectralBound } from '../core/spectral.ts';
import type { PropagationResult } from './propagate.ts';
import { sigmoid } from '../graph/activations.ts';

/** A certified norm of one weight matrix, for the report. */
export interface MatrixNorm {
  /** Parameter path, e.g. `cells.0.kernel` (`(eff)` when the augmentation is folded in). */
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

/** Columns [c0, c1) of a rows x cols matrix. */
export function columns(w: Float64Array, rows: number, cols: number, c0: number, c1: number): Float64Array {
  const k = c1 - c0, out = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = w[i * cols + c0 + j];
  return out;
}

type Mat = { value: Float64Array; rows: number; cols: number };

/** T x T lower-triangular product. */
function mulT(a: Float64Array, b: Float64Array, T: number): Float64Array {
  const c = new Float64Array(T * T);
  for (let i = 0; i < T; i++) for (let k = 0; k <= i; k++) {
    const x = a[i * T + k];
    if (x === 0) continue;
    for (let j = 0; j <= k; j++) c[i * T + j] += x * b[k * T + j];
  }
  return c;
}

/**
 * Certified product/recurrence bound of the whole model over `steps` steps (module comment).
 * `globalBounds` (the propagation over R^d) supplies the value ranges the LSTM recurrence needs.
 */
export function productBound(model: SequenceModel, steps: number, globalBounds: PropagationResult): ProductBound {
  model.requireStacked('productBound');
  const T = steps, n = model.inputSize;
  const norms: MatrixNorm[] = [];
  const aug = model.spec.augmentation !== null;
  const norm = (path: string, m: Mat, first: boolean): number => {
    let w = m.value, rows = m.rows;
    let p = path;
    if (first && aug) {
      w = foldAugmentation(m.value, n, m.cols);
      rows = n;
      p = `${path} (eff)`;
    }
    const b: SpectralBound = certifiedNorm(w, rows, m.cols);
    norms.push({ path: p, rows, cols: m.cols, estimate: b.estimate, upper: b.upper });
    return b.upper;
  };
  const colNorm = (path: string, m: Mat, c0: number, c1: number, first: boolean): number =>
    norm(path, { value: columns(m.value, m.rows, m.cols, c0, c1), rows: m.rows, cols: c1 - c0 }, first);
  let G: Float64Array | null = null; // accumulated T x T
  const compose = (Gl: Float64Array) => {
    G = G ? mulT(Gl, G, T) : Gl;
  };
  const impulse = (run: (a: Float64Array) => Float64Array): Float64Array => {
    const Gl = new Float64Array(T * T);
    for (let tau = 0; tau < T; tau++) {
      const a = new Float64Array(T);
      a[tau] = 1;
      const e = run(a);
      for (let t = 0; t < T; t++) Gl[t * T + tau] = e[t];
    }
    return Gl;
  };
  const pre = globalBounds.preactivations;
  const boundsOf = (layer: string, t: number, name: string) => pre.find((p) => p.layer === layer && p.t === t && p.name === name) ?? null;
  for (let li = 0; li < model.cells.length; li++) {
    const cell = model.cells[li];
    cell.prepare();
    const first = li === 0;
    const path = `cells.${li}`;
    if (cell instanceof SimpleCell) {
      const kK = norm(`${path}.kernel`, cell.kernel, first), kR = norm(`${path}.recurrentKernel`, cell.recurrentKernel, false);
      compose(impulse((a) => {
        const e = new Float64Array(T);
        let prev = 0;
        for (let t = 0; t < T; t++) prev = e[t] = kK * a[t] + kR * prev;
        return e;
      }));
    } else if (cell instanceof LipschitzCell) {
      const u = cell.units, { eps, alpha } = cell.options;
      const M = new Float64Array(u * u);
      for (let i = 0; i < u; i++) for (let j = 0; j < u; j++) M[i * u + j] = (i === j ? 1 : 0) + eps * alpha * cell.A[i * u + j];
      const kM = norm(`${path}.(I + eps alpha A)`, { value: M, rows: u, cols: u }, false);
      const kW = norm(`${path}.(W from C)`, { value: cell.W, rows: u, cols: u }, false);
      const kU = norm(`${path}.kernel`, cell.kernel, first);
      compose(impulse((a) => {
        const e = new Float64Array(T);
        let prev = 0;
        for (let t = 0; t < T; t++) prev = e[t] = (kM + eps * kW) * prev + eps * kU * a[t];
        return e;
      }));
    } else if (cell instanceof IcrnnCell) {
      const kK = norm(`${path}.kernel`, cell.kernel, first), kR = norm(`${path}.recurrentKernel`, cell.recurrentKernel, false);
      const kD1 = norm(`${path}.D1`, cell.D1, false), kD2 = norm(`${path}.D2`, cell.D2, first), kD3 = norm(`${path}.D3`, cell.D3, first);
      const kV = norm(`${path}.V`, cell.V, false);
      compose(impulse((a) => {
        const e = new Float64Array(T);
        let hPrev = 0;
        for (let t = 0; t < T; t++) {
          const h = kK * a[t] + kR * hPrev + kD2 * (t > 0 ? a[t - 1] : 0);
          e[t] = kV * h + kD1 * hPrev + kD3 * a[t];
          hPrev = h;
        }
        return e;
      }));
    } else if (cell instanceof LstmCell) {
      const u = cell.units;
      const kK = [0, 1, 2, 3].map((g) => colNorm(`${path}.kernel[gate ${'ifco'[g]}]`, cell.kernel, g * u, (g + 1) * u, first));
      const kR = [0, 1, 2, 3].map((g) => colNorm(`${path}.recurrentKernel[gate ${'ifco'[g]}]`, cell.recurrentKernel, g * u, (g + 1) * u, false));
      const sigD = (l: number, h: number) => (l <= 0 && h >= 0 ? 0.25 : Math.max(sigmoid(l) * (1 - sigmoid(l)), sigmoid(h) * (1 - sigmoid(h))));
      const tanD = (l: number, h: number) => (l <= 0 && h >= 0 ? 1 : Math.max(1 - Math.tanh(l) ** 2, 1 - Math.tanh(h) ** 2));
      // per-step scalar coefficients from the global value bounds
      const coef: { F: number; Cp: number; sf: number; I: number; sc: number; Gm: number; si: number; O: number; stc: number; TC: number; so: number }[] = [];
      for (let t = 0; t < T; t++) {
        const z = boundsOf(path, t, 'z');
        const c = boundsOf(path, t, 'c');
        const cPrev = t > 0 ? boundsOf(path, t - 1, 'c') : null;
        if (!z || !c) return { value: null, reason: `missing bounds of ${path} at step ${t}`, norms };
        let F = 0, Cp = 0, sf = 0, I = 0, sc = 0, Gm = 0, si = 0, O = 0, stc = 0, TC = 0, so = 0;
        for (let j = 0; j < u; j++) {
          const r = (g: number) => [z.l[g * u + j], z.u[g * u + j]] as const;
          const [il, ih] = r(0), [fl, fh] = r(1), [cl, ch] = r(2), [ol, oh] = r(3);
          I = Math.max(I, sigmoid(ih));
          F = Math.max(F, sigmoid(fh));
          Gm = Math.max(Gm, Math.abs(Math.tanh(cl)), Math.abs(Math.tanh(ch)));
          O = Math.max(O, sigmoid(oh));
          si = Math.max(si, sigD(il, ih));
          sf = Math.max(sf, sigD(fl, fh));
          sc = Math.max(sc, tanD(cl, ch));
          so = Math.max(so, sigD(ol, oh));
          if (cPrev) Cp = Math.max(Cp, Math.abs(cPrev.l[j]), Math.abs(cPrev.u[j]));
          TC = Math.max(TC, Math.abs(Math.tanh(c.l[j])), Math.abs(Math.tanh(c.u[j])));
          stc = Math.max(stc, tanD(c.l[j], c.u[j]));
        }
        coef.push({ F, Cp, sf, I, sc, Gm, si, O, stc, TC, so });
      }
      if (coef.some((c) => Object.values(c).some((v) => !Number.isFinite(v)))) return { value: null, reason: `${path}: unbounded LSTM state`, norms };
      const slack = 1 + 1e-12;
      compose(impulse((a) => {
        const e = new Float64Array(T);
        let hPrev = 0, cPrev = 0;
        for (let t = 0; t < T; t++) {
          const k = coef[t];
          const dz = (g: number) => kK[g] * a[t] + kR[g] * hPrev;
          const dc = k.F * cPrev + k.Cp * k.sf * dz(1) + k.I * k.sc * dz(2) + k.Gm * k.si * dz(0);
          const dh = k.O * k.stc * dc + k.TC * k.so * dz(3);
          e[t] = dh * slack;
          hPrev = e[t];
          cPrev = dc * slack;
        }
        return e;
      }));
    } else if (cell instanceof IclstmCell) {
      return {
        value: null,
        reason: `${path} is an ICLSTM cell: its gates are unbounded ReLUs multiplied together (c = f c + i c~, h = o relu(c)), so the map is not globally Lipschitz on R^d (it grows quadratically); use the local or domain bound`,
        norms,
      };
    } else {
      return { value: null, reason: `${path}: unsupported cell type`, norms };
    }
  }
  for (let k = 0; k < model.head.length; k++) {
    const h = model.head[k];
    const slope = h.activation === 'sigmoid' ? 0.25 : 1;
    const kW = norm(`head.${k}.kernel`, h.kernel, false);
    const Gl = new Float64Array(T * T);
    for (let t = 0; t < T; t++) Gl[t * T + t] = slope * kW;
    compose(Gl);
    if (h.residual) {
      // z = act(...) + [x, offset - x]: the augmentation adds sqrt(2) ||dx_t|| per step; that needs
      // the input norms, not the previous layer's, so the chain form cannot express it exactly.
      return { value: null, reason: `head.${k} has a residual input connection; the product bound does not cover it`, norms };
    }
  }
  const Gm = G as Float64Array | null;
  if (!Gm) return { value: null, reason: 'empty model', norms };
  for (let i = 0; i < Gm.length; i++) if (!Number.isFinite(Gm[i])) return { value: null, reason: 'a factor of the product is unbounded', norms };
  const b = certifiedNorm(Gm, T, T);
  return { value: b.upper * (1 + 1e-12), reason: null, norms };
}
