/**
 * The recurrent-structure bound: a finite-horizon dissipation certificate (LipSDP-style, without an
 * SDP solver) on a linear fractional representation (LFR) of one time step.
 *
 * **Representation.** Increments between two input sequences, `e_t = x'_t - x_t`, propagate exactly
 * through the secant Jacobian (propagate.ts): one step of the whole model (all layers and the head)
 * maps the previous state increment `s_{t-1}` and `e_t` to the new state increment `s_t` and the
 * output increment `dy_t` through linear maps and scalar *sites* `w_i = theta_i z_i`, where `z` is a
 * linear function of `(s_{t-1}, e_t, w_earlier)` and `theta_i` is a secant slope or a product of a
 * value and a secant slope, known to lie in `[alpha_i(t), beta_i(t)]` (the ranges computed by bound
 * propagation over the input set: all of R^d for the global bound, the box for the local one).
 * For a ReLU, `theta in [0, 1]` (or exactly 0 / 1 for sites proven inactive / active); for tanh,
 * `[0, 1]`; sigmoid `[0, 1/4]`; for the LSTM products the interval products of value and slope ranges.
 *
 * **Certificate.** Each site satisfies `(w_i - alpha_i z_i)(beta_i z_i - w_i) >= 0`. If symmetric
 * matrices `P_T = 0, P_{T-1}, ..., P_0` and multipliers `lambda_i(t) >= 0` satisfy, for every t,
 *
 *     s_t' P_t s_t + |dy_t|^2 - gamma^2 |e_t|^2 - s_{t-1}' P_{t-1} s_{t-1}
 *         + sum_i 2 lambda_i (w_i - alpha_i z_i)(beta_i z_i - w_i)  <=  0      for all (s_{t-1}, e_t, w),
 *
 * then summing over t (with `s_0 = 0`, `P_T = 0`) gives `sum_t |dy_t|^2 <= gamma^2 sum_t |e_t|^2`:
 * `||f(x') - f(x)||_2 <= gamma ||x' - x||_2` for all x, x' in the input set (l2 over the whole
 * sequence). The recursion runs backwards from `P_T = 0`: the site variables are eliminated one by one
 * (reverse topological order; each multiplier is the scalar optimum for the site's current
 * Schur-complement cost, inflated by a factor (1 + delta) plus kappa times its coupling to the sites
 * not yet eliminated, which keeps every pivot negative; per step the recipe giving the smallest
 * `P_{t-1}` is kept; several recipe sets are tried and the best certificate wins, see RECIPE_SETS), then `P_{t-1}` is the smallest matrix
 * (Loewner order) that satisfies the inequality, from the Schur complement in `e_t`. The smallest
 * feasible gamma is found by bisection. Every pivot and Cholesky factorisation is required to hold
 * with a relative slack of 1e-9, and every `P_{t-1}` is enlarged by the same relative amount, so that
 * floating-point rounding (relative 1e-13 here) cannot invalidate the inequality.
 *
 * The LFR itself is built in `lfr-build.ts`; this file holds the certificate and its search.
 *
 * Size (about 840 lines): one certificate (the candidate worst case, the feasibility search and the
 * backward step of the dissipation inequality on one LFR), whose parts share the packed sparse rows
 * and their scratch.
 */
import type { SequenceModel } from '../nn/model.ts';
import type { PropagationResult } from './propagate.ts';
import { buildStepLfr, siteRanges, type SRow, type StepLfr } from './lfr-build.ts';
export { buildStepLfr, siteRanges, type StepLfr } from './lfr-build.ts';
import { programStack } from '../nn/program-stack.ts';
import type { ProgramStack } from '../interp/bind.ts';

/** Scalar-optimal multiplier for a site with cost q and sector [a, b] (see module comment). */
function multiplier(q: number, a: number, b: number, scale: number): number {
  const s = a + b, p = a * b;
  const floor = 2 * SLACK * scale + 1e-300;
  if (!(q > 0)) return floor;
  if (s === 0) return 0.75 * q;
  // minimise g(l) = l^2 s^2 / (2 l - q) - 2 l p over l > q / 2
  const dg = (l: number) => (2 * l * s * s * (l - q)) / ((2 * l - q) ** 2) - 2 * p;
  let lo = 0.5 * q * (1 + 1e-6), hi = q;
  if (dg(hi) < 0) {
    while (dg(hi) < 0 && hi < 1e12 * q) hi *= 2;
    lo = hi / 2;
  }
  for (let it = 0; it < 60; it++) {
    const mid = 0.5 * (lo + hi);
    if (dg(mid) < 0) lo = mid;
    else hi = mid;
  }
  return Math.max(hi, 0.55 * q);
}

const SLACK = 1e-9;
/**
 * Multiplier recipes tried at every step, `[kappa, delta]`: `lambda` is the scalar optimum for the
 * cost `q (1 + delta) + kappa * coupling`; the one giving the smallest `P_{t-1}` is kept.
 */
export const DEFAULT_KAPPAS: [number, number][] = [[0, 0], [1, 0], [1, 1], [0.3, 0.3]];
/**
 * The recipe sets tried one after the other (each a full certificate; the smallest gamma wins). The
 * second set (strong coupling weights) suits state-space cells such as the Lipschitz RNN.
 */
export const RECIPE_SETS: [number, number][][] = [DEFAULT_KAPPAS, [[10, 3], [3, 0], [10, 0], [3, 3], [0, 10]]];

/**
 * Scratch of {@link backwardStep} for one LFR size (reused between steps and recipes: a step
 * allocates only the P it returns).
 */
interface StepScratch {
  N: number;
  K: Float64Array;
  row: Float64Array;
  active: Uint8Array;
  nzIdx: Int32Array;
  nzVal: Float64Array;
  rIdx: Int32Array;
  rVal: Float64Array;
  kr: Float64Array;
  av: Float64Array;
  posZ: Int32Array;
}
const scratches = new WeakMap<StepLfr, StepScratch>();
function scratchOf(lfr: StepLfr): StepScratch {
  let s = scratches.get(lfr);
  if (!s) {
    const N = lfr.N;
    s = {
      N, K: new Float64Array(N * N), row: new Float64Array(N), active: new Uint8Array(N),
      nzIdx: new Int32Array(N), nzVal: new Float64Array(N), rIdx: new Int32Array(N), rVal: new Float64Array(N),
      kr: new Float64Array(N), av: new Float64Array(N), posZ: new Int32Array(N).fill(-1),
    };
    scratches.set(lfr, s);
  }
  return s;
}

/** K = S' P S + Y' Y over (s_{t-1}, e_t, w_t) (into the zeroed scratch K). */
function stepQuadratic(lfr: StepLfr, Pt: Float64Array, sc: StepScratch): void {
  const { ns, N } = lfr, K = sc.K, row = sc.row;
  K.fill(0);
  // S' P S, one row of P S at a time
  for (let k = 0; k < ns; k++) {
    row.fill(0);
    for (let l = 0; l < ns; l++) {
      const p = Pt[k * ns + l];
      if (p === 0) continue;
      const S = lfr.S[l];
      for (let q = 0; q < S.idx.length; q++) row[S.idx[q]] += p * S.val[q];
    }
    const S = lfr.S[k];
    for (let q = 0; q < S.idx.length; q++) {
      const c = S.idx[q], v = S.val[q];
      const o = c * N;
      for (let j = 0; j < N; j++) K[o + j] += v * row[j];
    }
  }
  // Y' Y
  for (const Y of lfr.Y)
    for (let a = 0; a < Y.idx.length; a++) {
      const o = Y.idx[a] * N, va = Y.val[a];
      for (let b = 0; b < Y.idx.length; b++) K[o + Y.idx[b]] += va * Y.val[b];
    }
}

/**
 * Exact gain a of site w_i (column wi): K <- T' K T for T: w_i -> a z_i. Every entry receives the
 * same additions in the same order as in the plain sweep over z_i's inputs c (column c of every
 * row coupled to w_i, then row c: coupling terms, then the q term), so the same numbers; applied
 * row by row (each row's entries in that order) for memory locality.
 */
function substituteExact(sc: StepScratch, wi: number, a: number, q: number, Zi: SRow): void {
  const { N, K, active, rIdx, rVal, kr, av, posZ } = sc;
  const zIdx = Zi.idx, zVal = Zi.val, nz = zIdx.length, ow = wi * N;
  let nr = 0;
  for (let c = 0; c < N; c++) {
    if (!active[c]) continue;
    const kv = K[ow + c];
    if (kv !== 0) {
      rIdx[nr] = c;
      rVal[nr] = kv;
      kr[c] = kv;
      nr++;
    }
  }
  for (let x = 0; x < nz; x++) {
    av[x] = a * zVal[x];
    posZ[zIdx[x]] = x;
  }
  // rows coupled to w_i that are not inputs of z_i: column updates only
  for (let k = 0; k < nr; k++) {
    const r = rIdx[k];
    if (posZ[r] >= 0) continue;
    const kv = rVal[k], o = r * N;
    for (let x = 0; x < nz; x++) K[o + zIdx[x]] += kv * av[x];
  }
  // rows of the inputs of z_i: earlier columns, then the row's own terms, then later columns
  for (let xp = 0; xp < nz; xp++) {
    const c = zIdx[xp], o = c * N, kv = kr[c], v = av[xp];
    if (kv !== 0) for (let x = 0; x <= xp; x++) K[o + zIdx[x]] += kv * av[x];
    for (let k = 0; k < nr; k++) K[o + rIdx[k]] += rVal[k] * v;
    const vq = v * a * q;
    for (let y = 0; y < nz; y++) K[o + zIdx[y]] += vq * zVal[y];
    if (kv !== 0) for (let x = xp + 1; x < nz; x++) K[o + zIdx[x]] += kv * av[x];
  }
  for (let k = 0; k < nr; k++) kr[rIdx[k]] = 0;
  for (let x = 0; x < nz; x++) posZ[zIdx[x]] = -1;
}

/** The multiplier terms of site w_i: `2 lam (w_i - a z_i)(b z_i - w_i)` added to K. */
function addSiteTerms(sc: StepScratch, wi: number, Zi: SRow, lam: number, a: number, b: number): void {
  const { N, K } = sc;
  const s = lam * (a + b), p = 2 * lam * a * b;
  for (let k = 0; k < Zi.idx.length; k++) {
    const c = Zi.idx[k], v = s * Zi.val[k];
    K[wi * N + c] += v;
    K[c * N + wi] += v;
  }
  K[wi * N + wi] -= 2 * lam;
  if (p !== 0)
    for (let x = 0; x < Zi.idx.length; x++) {
      const o = Zi.idx[x] * N, vx = p * Zi.val[x];
      for (let y = 0; y < Zi.idx.length; y++) K[o + Zi.idx[y]] -= vx * Zi.val[y];
    }
}

/**
 * Eliminates w_i (already marked inactive) by its pivot: false when the pivot is not negative
 * enough (the inequality fails).
 */
function eliminateSite(sc: StepScratch, wi: number, scale: number): boolean {
  const { N, K, active, nzIdx, nzVal } = sc;
  const piv = K[wi * N + wi];
  // gather the non-zeros of the pivot row among active indices
  let nnz = 0;
  const prow = wi * N;
  for (let c = 0; c < N; c++) {
    const v = K[prow + c];
    if (v !== 0 && active[c]) {
      nzIdx[nnz] = c;
      nzVal[nnz] = v;
      nnz++;
    }
  }
  if (nnz === 0) return !(piv > 0);
  if (!(piv < -SLACK * scale)) return false;
  const inv = 1 / piv;
  // Rank-one update of the rows and columns of the non-zeros. Over their column span it runs on a
  // dense copy of the pivot row (zeros elsewhere): an entry off the pattern gets `-= f * 0`, which
  // leaves it as it is (K never holds -0: it is built by sums from +0), and the others get exactly
  // the sparse update; the contiguous inner loop is much faster. Non-finite values take the
  // sparse loop (f * 0 would be NaN there).
  const lo = nzIdx[0], hi = nzIdx[nnz - 1];
  let finite = Number.isFinite(inv);
  for (let x = 0; x < nnz && finite; x++) if (!Number.isFinite(nzVal[x])) finite = false;
  if (finite && hi - lo + 1 <= 3 * nnz) {
    const row = sc.row;
    row.fill(0, lo, hi + 1);
    for (let x = 0; x < nnz; x++) row[nzIdx[x]] = nzVal[x];
    for (let x = 0; x < nnz; x++) {
      const f = nzVal[x] * inv;
      const o = nzIdx[x] * N;
      for (let c = lo; c <= hi; c++) K[o + c] -= f * row[c];
    }
    return true;
  }
  for (let x = 0; x < nnz; x++) {
    const f = nzVal[x] * inv;
    const o = nzIdx[x] * N;
    for (let y = 0; y < nnz; y++) K[o + nzIdx[y]] -= f * nzVal[y];
  }
  return true;
}

/** Largest |K_jj| (with g2) : the scale of the problem, for the slack. */
function problemScale(sc: StepScratch, g2: number): number {
  const { N, K } = sc;
  let scale = 0;
  for (let i = 0; i < N; i++) scale = Math.max(scale, Math.abs(K[i * N + i]));
  return Math.max(scale, g2, 1e-300);
}

/**
 * Eliminates the sites `nw - 1 .. 0` (columns `wOff + i` of the scratch, site inputs `Z[i]` in its
 * index space), each with its exact gain or multiplier terms first; false when a pivot fails.
 */
function eliminateSites(
  sc: StepScratch, Z: SRow[], wOff: number, nw: number, alpha: Float64Array, beta: Float64Array, kappa: [number, number], scale: number,
): boolean {
  const { N, K, active } = sc;
  active.fill(1);
  for (let i = nw - 1; i >= 0; i--) {
    const wi = wOff + i;
    const a = alpha[i], b = beta[i];
    const Zi = Z[i];
    const q = K[wi * N + wi];
    if (a === b) {
      // exact gain: substitute w_i = a z_i (no multiplier needed)
      active[wi] = 0;
      if (a !== 0) substituteExact(sc, wi, a, q, Zi);
      continue;
    }
    // Gershgorin / Collatz-Wielandt style cost: the site's own cost plus kappa times its coupling to
    // the sites not yet eliminated (keeps densely coupled sites from compounding pivots)
    let cross = 0;
    const o = wi * N;
    for (let c = wOff; c < N; c++) if (c !== wi && active[c] && K[o + c] !== 0) cross += Math.abs(K[o + c]);
    let lam = multiplier(q * (1 + kappa[1]) + kappa[0] * cross, a, b, scale);
    lam = Math.max(lam, 0.5 * (q + 4 * SLACK * scale));
    if (lam > 0) addSiteTerms(sc, wi, Zi, lam, a, b);
    active[wi] = 0;
    if (!eliminateSite(sc, wi, scale)) return false;
  }
  return true;
}

/**
 * The (e, w) block of a step problem: its own scratch (N' = n + nw, e first) and the site inputs
 * without their state coefficients.
 */
const reducedScratches = new WeakMap<StepLfr, { sc: StepScratch; Z: SRow[] }>();
function reducedOf(lfr: StepLfr): { sc: StepScratch; Z: SRow[] } {
  let r = reducedScratches.get(lfr);
  if (!r) {
    const { ns, n, nw } = lfr, N = n + nw;
    const sc: StepScratch = {
      N, K: new Float64Array(N * N), row: new Float64Array(N), active: new Uint8Array(N),
      nzIdx: new Int32Array(N), nzVal: new Float64Array(N), rIdx: new Int32Array(N), rVal: new Float64Array(N),
      kr: new Float64Array(N), av: new Float64Array(N), posZ: new Int32Array(N).fill(-1),
    };
    const Z = lfr.Z.map((z) => {
      const keep: number[] = [];
      for (let k = 0; k < z.idx.length; k++) if (z.idx[k] >= ns) keep.push(k);
      return { idx: Int32Array.from(keep, (k) => z.idx[k] - ns), val: Float64Array.from(keep, (k) => z.val[k]) };
    });
    r = { sc, Z };
    reducedScratches.set(lfr, r);
  }
  return r;
}

/**
 * Whether the step can succeed, from the (e, w) block alone. Eliminating a site and substituting
 * an exact gain change the (e, w) entries through (e, w) entries only (the state rows and columns
 * never feed back into them; the multipliers use the site couplings only), so this block evolves
 * exactly, operation for operation, as inside the full step, at about a quarter of the cost: a
 * pivot or the final Cholesky of `g2 I - G_ee` that fails here fails there (a pivot whose row
 * has non-zeros only among the states is the one case the full step may reject where this one
 * goes on; a pass here only means the full step has to be run).
 */
function reducedStepFails(lfr: StepLfr, full: StepScratch, alpha: Float64Array, beta: Float64Array, g2: number, kappa: [number, number], scale: number): boolean {
  const { ns, n, nw, N } = lfr;
  const { sc, Z } = reducedOf(lfr);
  const Nr = sc.N, Kr = sc.K, K = full.K;
  for (let r = 0; r < Nr; r++) for (let c = 0; c < Nr; c++) Kr[r * Nr + c] = K[(ns + r) * N + ns + c];
  if (!eliminateSites(sc, Z, n, nw, alpha, beta, kappa, scale)) return true;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = (i === j ? g2 * (1 - SLACK) : 0) - Kr[i * Nr + j];
  return cholesky(A, n) === null;
}

/**
 * One backward step: given P_t, site ranges and gamma^2, returns P_{t-1} (ns x ns) or null when the
 * inequality cannot be satisfied (gamma too small). With `precheck`, the (e, w) block is tried
 * alone first (see {@link reducedStepFails}): the same answer, much less work when it is null.
 */
function backwardStep(
  lfr: StepLfr, Pt: Float64Array, alpha: Float64Array, beta: Float64Array, g2: number, kappa: [number, number] = [1, 0], precheck = false,
): Float64Array | null {
  const { ns, n, nw } = lfr;
  const sc = scratchOf(lfr);
  stepQuadratic(lfr, Pt, sc);
  const scale = problemScale(sc, g2);
  if (precheck && reducedStepFails(lfr, sc, alpha, beta, g2, kappa, scale)) return null;
  // eliminate sites in reverse order, adding each site's multiplier terms just before
  if (!eliminateSites(sc, lfr.Z, ns + n, nw, alpha, beta, kappa, scale)) return null;
  return stepResult(lfr, sc, g2, scale);
}

/**
 * After the sites: G over (s, e). Needs g2 I - G_ee > 0; returns P_{t-1} = G_ss + G_se (g2 I - G_ee)^{-1} G_es
 * (enlarged by the slack), or null.
 */
function stepResult(lfr: StepLfr, sc: StepScratch, g2: number, scale: number): Float64Array | null {
  const { ns, n, N } = lfr, K = sc.K;
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = (i === j ? g2 * (1 - SLACK) : 0) - K[(ns + i) * N + ns + j];
  const L = cholesky(A, n);
  if (!L) return null;
  // Bm = L^{-1} G_es  (n x ns)
  const Bm = new Float64Array(n * ns);
  for (let c = 0; c < ns; c++) {
    for (let i = 0; i < n; i++) {
      let s = K[(ns + i) * N + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * Bm[k * ns + c];
      Bm[i * ns + c] = s / L[i * n + i];
    }
  }
  const P = new Float64Array(ns * ns);
  let pmax = 0;
  for (let r = 0; r < ns; r++)
    for (let c = r; c < ns; c++) {
      let s = 0.5 * (K[r * N + c] + K[c * N + r]);
      for (let k = 0; k < n; k++) s += Bm[k * ns + r] * Bm[k * ns + c];
      P[r * ns + c] = s;
      P[c * ns + r] = s;
      if (r === c) pmax = Math.max(pmax, Math.abs(s));
    }
  for (let r = 0; r < ns; r++) P[r * ns + r] += SLACK * (pmax + scale * 1e-3);
  for (let i = 0; i < P.length; i++) if (!Number.isFinite(P[i])) return null;
  return P;
}

/** Cholesky factor (lower, row-major) or null when not positive definite. */
function cholesky(a: Float64Array, n: number): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i === j) {
        if (!(s > 0)) return null;
        L[i * n + i] = Math.sqrt(s);
      } else L[i * n + j] = s / L[j * n + j];
    }
  }
  return L;
}


/** A candidate worst case for the multipliers: per-step gains, the input direction and its trajectory. */
export interface LfrCandidate {
  theta: Float64Array[];
  /** Input increments per step (n each). */
  e: Float64Array[];
  /** Per step: xi = (s_{t-1}, e_t, w_t), length N. */
  xi: Float64Array[];
  /** Gain ||dy|| / ||e|| of the candidate (a lower bound of the relaxed problem, not of L). */
  gain: number;
}

/** Forward pass of the LFR with fixed gains: returns the xi per step and the outputs. */
export function lfrForward(lfr: StepLfr, theta: Float64Array[], e: Float64Array[]): { xi: Float64Array[]; y: Float64Array[] } {
  const { ns, n, nw, N } = lfr;
  let s = new Float64Array(ns);
  const xis: Float64Array[] = [], ys: Float64Array[] = [];
  for (let t = 0; t < theta.length; t++) {
    const xi = new Float64Array(N);
    xi.set(s, 0);
    xi.set(e[t], ns);
    for (let i = 0; i < nw; i++) {
      const Z = lfr.Z[i];
      let z = 0;
      for (let k = 0; k < Z.idx.length; k++) z += Z.val[k] * xi[Z.idx[k]];
      xi[ns + n + i] = theta[t][i] * z;
    }
    const sn = new Float64Array(ns);
    for (let r = 0; r < ns; r++) {
      const S = lfr.S[r];
      let v = 0;
      for (let k = 0; k < S.idx.length; k++) v += S.val[k] * xi[S.idx[k]];
      sn[r] = v;
    }
    const y = new Float64Array(lfr.Y.length);
    lfr.Y.forEach((Y, r) => {
      let v = 0;
      for (let k = 0; k < Y.idx.length; k++) v += Y.val[k] * xi[Y.idx[k]];
      y[r] = v;
    });
    xis.push(xi);
    ys.push(y);
    s = sn;
  }
  return { xi: xis, y: ys };
}

/**
 * Adjoint of {@link lfrForward}: given output weights dy per step, returns the gradient w.r.t. the
 * inputs e (per step) and w.r.t. each site's gain, `d/dtheta_i(t) = g_w_i * z_i`.
 */
export function lfrAdjoint(lfr: StepLfr, theta: Float64Array[], xi: Float64Array[], dy: Float64Array[]): { de: Float64Array[]; dtheta: Float64Array[] } {
  const { ns, n, nw, N } = lfr;
  const T = theta.length;
  let gs = new Float64Array(ns); // gradient w.r.t. s_t (next state)
  const de: Float64Array[] = new Array(T), dth: Float64Array[] = new Array(T);
  for (let t = T - 1; t >= 0; t--) {
    const g = new Float64Array(N);
    lfr.Y.forEach((Y, r) => {
      for (let k = 0; k < Y.idx.length; k++) g[Y.idx[k]] += Y.val[k] * dy[t][r];
    });
    for (let r = 0; r < ns; r++) {
      const S = lfr.S[r];
      for (let k = 0; k < S.idx.length; k++) g[S.idx[k]] += S.val[k] * gs[r];
    }
    const dt = new Float64Array(nw);
    for (let i = nw - 1; i >= 0; i--) {
      const gw = g[ns + n + i];
      const Z = lfr.Z[i];
      let z = 0;
      for (let k = 0; k < Z.idx.length; k++) z += Z.val[k] * xi[t][Z.idx[k]];
      dt[i] = gw * z;
      const gz = gw * theta[t][i];
      if (gz !== 0) for (let k = 0; k < Z.idx.length; k++) g[Z.idx[k]] += Z.val[k] * gz;
    }
    de[t] = g.slice(ns, ns + n);
    dth[t] = dt;
    gs = g.slice(0, ns);
  }
  return { de, dtheta: dth };
}

/** Rows of a sparse map packed contiguously (CSR): row r holds `idx/val[ptr[r] .. ptr[r + 1])`. */
interface Csr {
  ptr: Int32Array;
  idx: Int32Array;
  val: Float64Array;
}

function csr(rows: SRow[]): Csr {
  const ptr = new Int32Array(rows.length + 1);
  for (let r = 0; r < rows.length; r++) ptr[r + 1] = ptr[r] + rows[r].idx.length;
  const idx = new Int32Array(ptr[rows.length]), val = new Float64Array(ptr[rows.length]);
  for (let r = 0; r < rows.length; r++) {
    idx.set(rows[r].idx, ptr[r]);
    val.set(rows[r].val, ptr[r]);
  }
  return { ptr, idx, val };
}

const packedLfrs = new WeakMap<StepLfr, { Z: Csr; S: Csr; Y: Csr }>();
function packed(lfr: StepLfr): { Z: Csr; S: Csr; Y: Csr } {
  let p = packedLfrs.get(lfr);
  if (!p) {
    p = { Z: csr(lfr.Z), S: csr(lfr.S), Y: csr(lfr.Y) };
    packedLfrs.set(lfr, p);
  }
  return p;
}

/**
 * Finds a candidate worst case of the relaxed problem (gains free in their ranges): alternates power
 * iteration for the top input direction with moving every gain to the end of its range that
 * increases the output norm to first order, starting from the upper ends.
 *
 * The same arithmetic as {@link lfrForward} / {@link lfrAdjoint} (every sum in the same order, so
 * the same numbers) on flat preallocated buffers: the power iterations skip the gain gradients they
 * do not use, and a site with gain 0 contributes an exact 0 without its input being formed.
 */
export function lfrCandidate(lfr: StepLfr, ranges: { alpha: Float64Array; beta: Float64Array }[], seedE?: Float64Array[]): LfrCandidate {
  const T = ranges.length, { ns, n, nw, N } = lfr, m = lfr.Y.length, wOff = ns + n;
  const { Z, S, Y } = packed(lfr);
  const zp = Z.ptr, zi = Z.idx, zv = Z.val, sp = S.ptr, si = S.idx, sv = S.val, yp = Y.ptr, yi = Y.idx, yv = Y.val;
  let theta = ranges.map((r) => Float64Array.from(r.beta));
  const e = new Float64Array(T * n);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < n; j++) e[t * n + j] = seedE ? seedE[t][j] : 1 + 0.1 * Math.sin(1 + t * n + j);
  const xi = new Float64Array(T * N), y = new Float64Array(T * m);
  const g = new Float64Array(N), gs = new Float64Array(ns);
  const dth = Array.from({ length: T }, () => new Float64Array(nw));
  const normalise = () => {
    let s = 0;
    for (let i = 0; i < e.length; i++) s += e[i] * e[i];
    s = Math.sqrt(s) || 1;
    for (let i = 0; i < e.length; i++) e[i] /= s;
  };
  const forward = () => {
    for (let t = 0; t < T; t++) {
      const b = t * N;
      if (t === 0) xi.fill(0, 0, ns);
      else
        for (let r = 0; r < ns; r++) {
          // new state of step t - 1
          let v = 0;
          for (let k = sp[r], ke = sp[r + 1]; k < ke; k++) v += sv[k] * xi[b - N + si[k]];
          xi[b + r] = v;
        }
      for (let j = 0; j < n; j++) xi[b + ns + j] = e[t * n + j];
      const th = theta[t];
      for (let i = 0; i < nw; i++) {
        const a = th[i];
        if (a === 0) {
          xi[b + wOff + i] = 0;
          continue;
        }
        let z = 0;
        for (let k = zp[i], ke = zp[i + 1]; k < ke; k++) z += zv[k] * xi[b + zi[k]];
        xi[b + wOff + i] = a * z;
      }
      for (let r = 0; r < m; r++) {
        let v = 0;
        for (let k = yp[r], ke = yp[r + 1]; k < ke; k++) v += yv[k] * xi[b + yi[k]];
        y[t * m + r] = v;
      }
    }
  };
  // adjoint: writes the input gradient into e (and the gain gradients into dth when asked)
  const adjoint = (withGains: boolean) => {
    gs.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const b = t * N, th = theta[t];
      g.fill(0);
      for (let r = 0; r < m; r++) {
        const d = y[t * m + r];
        for (let k = yp[r], ke = yp[r + 1]; k < ke; k++) g[yi[k]] += yv[k] * d;
      }
      for (let r = 0; r < ns; r++) {
        const d = gs[r];
        for (let k = sp[r], ke = sp[r + 1]; k < ke; k++) g[si[k]] += sv[k] * d;
      }
      const dt = dth[t];
      for (let i = nw - 1; i >= 0; i--) {
        const gw = g[wOff + i];
        const k0 = zp[i], k1 = zp[i + 1];
        if (withGains) {
          let z = 0;
          for (let k = k0; k < k1; k++) z += zv[k] * xi[b + zi[k]];
          dt[i] = gw * z;
        }
        const gz = gw * th[i];
        if (gz !== 0) for (let k = k0; k < k1; k++) g[zi[k]] += zv[k] * gz;
      }
      for (let j = 0; j < n; j++) e[t * n + j] = g[ns + j];
      for (let r = 0; r < ns; r++) gs[r] = g[r];
    }
  };
  const outputNorm = () => {
    let ny = 0;
    for (let i = 0; i < y.length; i++) ny += y[i] * y[i];
    return Math.sqrt(ny);
  };
  normalise();
  const e0 = Float64Array.from(e);
  for (let outer = 0; outer < 12; outer++) {
    forward();
    for (let it = 0; it < 30; it++) {
      adjoint(false);
      normalise();
      forward();
    }
    // the gain gradients at (theta, e); the adjoint overwrites e, which is kept
    e0.set(e);
    adjoint(true);
    e.set(e0);
    let changed = 0;
    const next = theta.map((th, t) => {
      const out = Float64Array.from(th);
      for (let i = 0; i < th.length; i++) {
        const v = dth[t][i] > 0 ? ranges[t].beta[i] : dth[t][i] < 0 ? ranges[t].alpha[i] : th[i];
        if (v !== th[i]) changed++;
        out[i] = v;
      }
      return out;
    });
    theta = next;
    if (changed === 0) break;
  }
  forward();
  const gain = outputNorm();
  return {
    theta,
    e: Array.from({ length: T }, (_, t) => e.slice(t * n, (t + 1) * n)),
    xi: Array.from({ length: T }, (_, t) => xi.slice(t * N, (t + 1) * N)),
    gain,
  };
}

/**
 * Whether the dissipation inequality holds over `steps` steps with this gamma (backward recursion
 * from `P_T = 0`, every multiplier recipe of `kappas` tried per step). `memo` remembers the recipe
 * chosen per step between calls (it is tried alone first).
 */
export function lfrFeasible(
  lfr: StepLfr, ranges: { alpha: Float64Array; beta: Float64Array }[], gamma: number, kappas: [number, number][] = DEFAULT_KAPPAS,
  memo?: (number | undefined)[],
): boolean {
  let P: Float64Array = new Float64Array(lfr.ns * lfr.ns);
  const g2 = gamma * gamma;
  const proxy = (M: Float64Array) => {
    let best = 0;
    const ns = lfr.ns;
    for (let i = 0; i < ns; i++) {
      let r = 0;
      for (let j = 0; j < ns; j++) r += Math.abs(M[i * ns + j]);
      best = Math.max(best, r);
    }
    return best;
  };
  for (let t = ranges.length - 1; t >= 0; t--) {
    let next: Float64Array | null = null, score = Infinity, chosen = -1;
    // the recipe that won at this step before (bisection on gamma) is tried alone first
    const pref = memo?.[t];
    // at the last step (P_T = 0) a gamma that is too small usually fails already: check the (e, w)
    // block first there
    const precheck = t === ranges.length - 1;
    if (pref !== undefined) next = backwardStep(lfr, P, ranges[t].alpha, ranges[t].beta, g2, kappas[pref], precheck);
    if (!next)
      for (let r = 0; r < kappas.length; r++) {
        const cand = backwardStep(lfr, P, ranges[t].alpha, ranges[t].beta, g2, kappas[r], precheck);
        if (!cand) continue;
        const sc = t === 0 ? 0 : proxy(cand);
        if (sc < score) {
          score = sc;
          next = cand;
          chosen = r;
        }
        if (t === 0) break;
      }
    if (!next) return false;
    if (memo && chosen >= 0) memo[t] = chosen;
    P = next;
  }
  return true;
}

/** Result of {@link lfrBound}. */
export interface LfrBound {
  /** Certified gamma (null when no feasible gamma was found below `hi`). */
  value: number | null;
  reason: string | null;
  /** Sizes of the per-step problem and bisection steps used. */
  states: number;
  sites: number;
  iterations: number;
}

/** Bisection of {@link lfrBound} on one LFR. */
function lfrBoundOf(lfr: StepLfr, ranges: { alpha: Float64Array; beta: Float64Array }[], o: LfrBoundOptions): LfrBound {
  const sets = o.kappas ? [o.kappas] : lfr.N > 300 ? RECIPE_SETS.map((r) => r.slice(0, 2)) : RECIPE_SETS;
  // the candidate worst case depends on the LFR and the ranges only: one for every recipe set
  const shared: { candidate?: LfrCandidate } = {};
  let best: LfrBound = lfrBoundSet(lfr, ranges, { ...o, kappas: sets[0] }, shared);
  for (const kappas of sets.slice(1)) {
    // later sets only have to beat the best certificate so far
    const cap: number | undefined = best.value ?? o.maxGamma;
    const r = lfrBoundSet(lfr, ranges, { ...o, kappas, maxGamma: cap, hi: Math.min(o.hi, cap ?? Infinity) }, shared);
    const iterations = best.iterations + r.iterations;
    best = r.value !== null && (best.value === null || r.value < best.value) ? { ...r, iterations } : { ...best, iterations };
  }
  return best;
}

/** Bisection with one set of multiplier recipes. */
function lfrBoundSet(lfr: StepLfr, ranges: { alpha: Float64Array; beta: Float64Array }[], o: LfrBoundOptions, shared: { candidate?: LfrCandidate } = {}): LfrBound {
  for (const r of ranges)
    for (let i = 0; i < lfr.nw; i++)
      if (!Number.isFinite(r.alpha[i]) || !Number.isFinite(r.beta[i]))
        return { value: null, reason: 'a gain range is unbounded (e.g. a product of unbounded ReLU gates)', states: lfr.ns, sites: lfr.nw, iterations: 0 };
  const tol = o.tolerance ?? 1e-2;
  const maxGamma = o.maxGamma ?? 1e12;
  let lo = Math.max(o.lo, 1e-300), hi = Math.max(o.hi, lo * (1 + tol));
  let it = 0;
  const maxIt = o.maxIterations ?? 60;
  // cost per bisection step grows like nw * N^2 * steps * recipes: cap it
  const maxSize = o.maxSize ?? 520;
  if (lfr.N > maxSize)
    return { value: null, reason: `skipped: the step LFR has ${lfr.N} variables (> ${maxSize}); raise maxSize to run it`, states: lfr.ns, sites: lfr.nw, iterations: 0 };
  const kappas = o.kappas ?? (lfr.N > 300 ? DEFAULT_KAPPAS.slice(0, 2) : DEFAULT_KAPPAS);
  // gamma can only be feasible above the gain of any configuration the ranges allow
  const cand: LfrCandidate | null = o.candidate === false ? null : (shared.candidate ??= lfrCandidate(lfr, ranges));

  const memo: (number | undefined)[] = [];
  // memoised recipes first; a failure is confirmed with the full search
  // (with an empty memo the first search is already the full one: nothing to confirm)
  const feasible = (g: number) => {
    const memoised = memo.length > 0;
    return lfrFeasible(lfr, ranges, g, kappas, memo) || (memoised && lfrFeasible(lfr, ranges, g, kappas, []));
  };
  lo = Math.max(lo, cand ? cand.gain * (1 - 1e-9) : 0);
  if (lo >= maxGamma)
    return { value: null, reason: `the slope ranges admit a gain of ${lo} >= ${maxGamma}: no better certificate possible`, states: lfr.ns, sites: lfr.nw, iterations: 0 };
  hi = Math.max(hi, lo * (1 + tol));
  while (!feasible(hi)) {
    it++;
    lo = hi;
    hi *= 4;
    if (hi > maxGamma || it > maxIt) return { value: null, reason: `no certificate found below gamma = ${maxGamma}`, states: lfr.ns, sites: lfr.nw, iterations: it };
  }
  // a probe just above the lower end first: local certificates are often that tight
  const probe = lo * (1 + 4 * tol);
  if (probe < hi) {
    it++;
    if (feasible(probe)) hi = probe;
    else lo = probe;
  }
  while (hi / lo > 1 + tol && it < maxIt) {
    it++;
    const mid = Math.sqrt(lo * hi);
    if (feasible(mid)) hi = mid;
    else lo = mid;
  }
  return { value: hi, reason: null, states: lfr.ns, sites: lfr.nw, iterations: it };
}

/** Options of {@link lfrBound}. */
export interface LfrBoundOptions {
  /** Known lower bound (e.g. an attack) and upper bound or guess of gamma. */
  lo: number;
  hi: number;
  /** Relative precision of the bisection (default 1e-2). */
  tolerance?: number;
  /** Give up above this gamma (default 1e12). */
  maxGamma?: number;
  maxIterations?: number;
  /** Start the bisection at the gain of a candidate worst case of the ranges (default true). */
  candidate?: boolean;
  kappas?: [number, number][];
  /** Largest per-step problem (variables N = states + inputs + sites) solved (default 520). */
  maxSize?: number;
  /**
   * The model's step LFR when the caller already built it (`buildStepLfr(model)` with the weights
   * as they are now; certify shares one between its scopes).
   */
  stepLfr?: StepLfr;
}

/** The one-layer stack of stack layer `li` (same weights; the model's input augmentation only for the first layer). */
export function layerStack(stack: ProgramStack, li: number): ProgramStack {
  return {
    inputSize: li === 0 ? stack.inputSize : stack.layers[li - 1].program.outputSize,
    augmentation: li === 0 ? stack.augmentation : null,
    layers: [{ ...stack.layers[li], residual: false }],
  };
}

/**
 * Smallest gamma (to a relative `tolerance`) for which the dissipation inequality is certified, by
 * bisection on log gamma (starting from `lo`, the gain of a candidate worst case of the ranges, and
 * `hi`, grown until feasible up to `maxGamma`). When the whole-model step problem is larger than
 * `maxSize`, the layers are certified one by one (each from its input sequence to its output
 * sequence, with the site ranges of the whole-model propagation; dense layers too) and composed:
 * `gamma = prod_l gamma_l`.
 */
export function lfrBound(model: SequenceModel | ProgramStack, prop: PropagationResult, o: LfrBoundOptions): LfrBound {
  const stack = 'layers' in model ? model : programStack(model);
  let lfr: StepLfr;
  try {
    lfr = o.stepLfr ?? buildStepLfr(stack);
  } catch (e) {
    return { value: null, reason: (e as Error).message, states: 0, sites: 0, iterations: 0 };
  }
  const maxSize = o.maxSize ?? 520;
  const recurrent = stack.layers.filter((l) => l.program.state.length > 0).length;
  if (lfr.N <= maxSize || recurrent <= 1) {
    const ranges = Array.from({ length: prop.steps }, (_, t) => siteRanges(lfr, prop, t));
    return lfrBoundOf(lfr, ranges, o);
  }
  // layer by layer (each from its input sequence to its output sequence)
  const residual = stack.layers.findIndex((l, li) => l.residual && li > 0);
  if (residual >= 0)
    return { value: null, reason: `skipped: the step LFR has ${lfr.N} variables (> ${maxSize}) and layer ${residual} adds the model input, so the layers cannot be certified one by one`, states: lfr.ns, sites: lfr.nw, iterations: 0 };
  const subs = stack.layers.map((_, li) => buildStepLfr(layerStack(stack, li)));
  const biggest = Math.max(...subs.map((l) => l.N));
  if (biggest > maxSize)
    return { value: null, reason: `skipped: the step LFR has ${lfr.N} variables and its largest layer ${biggest} (> ${maxSize}); raise maxSize to run it`, states: lfr.ns, sites: lfr.nw, iterations: 0 };
  let gamma = 1, it = 0, states = 0, sites = 0;
  for (let li = 0; li < subs.length; li++) {
    const sub = subs[li];
    const ranges = Array.from({ length: prop.steps }, (_, t) => siteRanges(sub, prop, t, li));
    // a single layer above the overall cap makes the product useless (layers rarely contract)
    const r = lfrBoundOf(sub, ranges, { ...o, lo: 1e-300, hi: 1, maxGamma: o.maxGamma ?? 1e12, tolerance: o.tolerance ?? (sub.N > 400 ? 3e-2 : 1e-2) });
    it += r.iterations;
    states = Math.max(states, r.states);
    sites = Math.max(sites, r.sites);
    if (r.value === null) return { value: null, reason: `layer ${li}: ${r.reason}`, states, sites, iterations: it };
    gamma *= r.value;
  }
  gamma *= 1 + 1e-12;
  if (o.maxGamma !== undefined && gamma >= o.maxGamma)
    return { value: null, reason: `layer-by-layer certificate ${gamma} is not below ${o.maxGamma}`, states, sites, iterations: it };
  return { value: gamma, reason: null, states, sites, iterations: it };
}
