/**
 * Building the linear fractional representation (LFR) of one time step of a model, the object the
 * recurrent dissipation bound of `lfr.ts` works on (its module comment has the maths): the sparse
 * linear maps between the state and input increments, the sites and the outputs, cell by cell,
 * and each site's gain range at a step from the bound propagation.
 */
import { kernels } from '../core/kernels.ts';
import type { SequenceModel } from '../nn/model.ts';
import { SimpleCell } from '../nn/simple-cell.ts';
import { LstmCell } from '../nn/lstm-cell.ts';
import { LipschitzCell } from '../nn/lipschitz-cell.ts';
import { IcrnnCell } from '../nn/icrnn-cell.ts';
import { IclstmCell } from '../nn/iclstm-cell.ts';
import type { PropagationResult } from './propagate.ts';

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
  /** Site groups in topological order: key `layer:name`, first site index, count. */
  groups: { key: string; offset: number; count: number }[];
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

/** Builds the one-step LFR of a model (weights as they are now). Throws for unsupported cells. */
export function buildStepLfr(model: SequenceModel): StepLfr {
  model.requireStacked('buildStepLfr');
  const n = model.inputSize;
  let ns = 0, nw = 0;
  model.cells.forEach((cell, li) => {
    if (cell instanceof SimpleCell || cell instanceof LipschitzCell) {
      ns += cell.units;
      nw += cell.units;
    } else if (cell instanceof IcrnnCell) {
      ns += cell.units + (li === 0 ? n : cell.inputSize);
      nw += 2 * cell.units;
    } else if (cell instanceof LstmCell || cell instanceof IclstmCell) {
      ns += 2 * cell.units;
      nw += 6 * cell.units;
    } else throw new RangeError(`lfr: unsupported cell type ${(cell as object).constructor.name}`);
  });
  for (const h of model.head) if (h.activation !== 'linear') nw += h.units;
  const N = ns + n + nw;
  const gemm = kernels().gemm;
  const eOff = ns, wOff = ns + n;
  const Zd: Float64Array[] = [];
  const groups: StepLfr['groups'] = [];
  let wNext = 0;
  const rowsOf = (k: number) => new Float64Array(k * N);
  const unit = (off: number, k: number) => {
    const r = rowsOf(k);
    for (let i = 0; i < k; i++) r[i * N + off + i] = 1;
    return r;
  };
  /** W^T X for W [kin x kout], X [kin x N]. */
  const lin = (w: Float64Array, kin: number, kout: number, X: Float64Array, acc?: Float64Array) => {
    const out = acc ?? rowsOf(kout);
    gemm(kout, N, kin, w, 0, 1, kout, X, 0, N, 1, out, 0, N, true);
    return out;
  };
  const addTo = (a: Float64Array, b: Float64Array) => {
    for (let i = 0; i < a.length; i++) a[i] += b[i];
    return a;
  };
  const site = (z: Float64Array, k: number, key: string) => {
    groups.push({ key, offset: wNext, count: k });
    Zd.push(z);
    const r = unit(wOff + wNext, k);
    wNext += k;
    return r;
  };
  const sliceRows = (X: Float64Array, from: number, to: number) => X.slice(from * N, to * N);
  const diagScale = (X: Float64Array, s: ArrayLike<number>) => {
    const out = Float64Array.from(X);
    for (let r = 0; r < s.length; r++) for (let c = 0; c < N; c++) out[r * N + c] *= s[r];
    return out;
  };
  // layer-1 input: e (n) or [e, -e]
  const eRows = unit(eOff, n);
  let X: Float64Array;
  let xSize: number;
  if (model.spec.augmentation) {
    X = rowsOf(2 * n);
    for (let i = 0; i < n; i++) {
      X[i * N + eOff + i] = 1;
      X[(n + i) * N + eOff + i] = -1;
    }
    xSize = 2 * n;
  } else {
    X = eRows;
    xSize = n;
  }
  const augX = X;
  const Sd = rowsOf(ns);
  let sOff = 0;
  const setState = (off: number, rows: Float64Array, k: number) => Sd.set(rows.subarray(0, k * N), off * N);
  model.cells.forEach((cell, li) => {
    cell.prepare();
    const layer = `cells.${li}`;
    if (cell instanceof SimpleCell) {
      const u = cell.units;
      const H = unit(sOff, u);
      const z = lin(cell.kernel.value, xSize, u, X);
      lin(cell.recurrentKernel.value, u, u, H, z);
      const w = site(z, u, `${layer}:act`);
      setState(sOff, w, u);
      sOff += u;
      X = w;
      xSize = u;
    } else if (cell instanceof LipschitzCell) {
      const u = cell.units, { eps, alpha } = cell.options;
      const H = unit(sOff, u);
      const z = lin(cell.W, u, u, H);
      lin(cell.kernel.value, xSize, u, X, z);
      const w = site(z, u, `${layer}:tanh`);
      const M = new Float64Array(u * u);
      for (let i = 0; i < u; i++) for (let j = 0; j < u; j++) M[i * u + j] = (i === j ? 1 : 0) + eps * alpha * cell.A[i * u + j];
      const hn = lin(M, u, u, H);
      for (let i = 0; i < hn.length; i++) hn[i] += eps * w[i];
      setState(sOff, hn, u);
      sOff += u;
      X = hn;
      xSize = u;
    } else if (cell instanceof IcrnnCell) {
      const u = cell.units;
      const H = unit(sOff, u);
      const xpStored = li === 0 ? n : cell.inputSize;
      let Xp = unit(sOff + u, xpStored);
      if (li === 0 && model.spec.augmentation) {
        const a = rowsOf(2 * n);
        for (let i = 0; i < n; i++) {
          a[i * N + sOff + u + i] = 1;
          a[(n + i) * N + sOff + u + i] = -1;
        }
        Xp = a;
      }
      const zh = lin(cell.kernel.value, xSize, u, X);
      lin(cell.recurrentKernel.value, u, u, H, zh);
      lin(cell.D2.value, xSize, u, Xp, zh);
      const wh = site(zh, u, `${layer}:relu_h`);
      const zy = lin(cell.V.value, u, u, wh);
      lin(cell.D1.value, u, u, H, zy);
      lin(cell.D3.value, xSize, u, X, zy);
      const wy = site(zy, u, `${layer}:relu_y`);
      setState(sOff, wh, u);
      setState(sOff + u, li === 0 ? eRows : X, xpStored);
      sOff += u + xpStored;
      X = wy;
      xSize = u;
    } else if (cell instanceof LstmCell || cell instanceof IclstmCell) {
      const u = cell.units;
      const H = unit(sOff, u), Cp = unit(sOff + u, u);
      let zi: Float64Array, zf: Float64Array, zc: Float64Array, zo: Float64Array;
      if (cell instanceof LstmCell) {
        const z = lin(cell.kernel.value, xSize, 4 * u, X);
        lin(cell.recurrentKernel.value, u, 4 * u, H, z);
        [zi, zf, zc, zo] = [0, 1, 2, 3].map((g) => sliceRows(z, g * u, (g + 1) * u));
      } else {
        const xw = lin(cell.kernel.value, xSize, u, X);
        const hw = lin(cell.recurrentKernel.value, u, u, H);
        const dw = cell.kernelScale.value, du = cell.recurrentScale.value;
        [zi, zf, zc, zo] = [0, 1, 2, 3].map((g) => addTo(diagScale(xw, dw.subarray(g * u, (g + 1) * u)), diagScale(hw, du.subarray(g * u, (g + 1) * u))));
      }
      const sF = site(zf, u, `${layer}:sF`);
      const sC = site(Cp, u, `${layer}:sC`);
      const sG = site(zc, u, `${layer}:sG`);
      const sI = site(zi, u, `${layer}:sI`);
      const dc = addTo(addTo(addTo(Float64Array.from(sF), sC), sG), sI);
      const sH = site(dc, u, `${layer}:sH`);
      const sO = site(zo, u, `${layer}:sO`);
      const dh = addTo(Float64Array.from(sH), sO);
      setState(sOff, dh, u);
      setState(sOff + u, dc, u);
      sOff += 2 * u;
      X = dh;
      xSize = u;
    }
  });
  model.head.forEach((h, k) => {
    let z = lin(h.kernel.value, h.inputSize, h.units, X);
    if (h.activation !== 'linear') z = site(z, h.units, `head.${k}:act`);
    if (h.residual) addTo(z, augX);
    X = z;
    xSize = h.units;
  });
  const Zrows: SRow[] = [];
  groups.forEach((g, i) => Zrows.push(...sparse(Zd[i], g.count, N)));
  return { ns, n, nw, N, S: sparse(Sd, ns, N), Y: sparse(X, xSize, N), Z: Zrows, groups };
}

/** Site ranges [alpha, beta] at step t from a propagation result. */
export function siteRanges(lfr: StepLfr, prop: PropagationResult, t: number, key: (k: string) => string = (k) => k): { alpha: Float64Array; beta: Float64Array } {
  const alpha = new Float64Array(lfr.nw), beta = new Float64Array(lfr.nw);
  for (const g of lfr.groups) {
    const r = prop.sites[t].get(key(g.key));
    if (!r) throw new RangeError(`lfr: no range for site ${g.key} at step ${t}`);
    alpha.set(r.lo, g.offset);
    beta.set(r.hi, g.offset);
  }
  return { alpha, beta };
}
