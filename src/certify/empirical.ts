/**
 * Empirical Lipschitz estimates: *lower* bounds found by evaluating the model, never certificates.
 *
 * Space and norm (same as the certified bounds): the map from the model's scaled, un-augmented
 * input sequence (steps x inputSize) to its scaled output sequence (steps x outputSize), l2 norm
 * over the whole sequence.
 */
import { Rng } from '../core/rng.ts';
import { toBatchMajor, toTimeMajor, type SequenceModel } from '../nn/model.ts';
import { propagateModel } from './propagate.ts';
import { ValidationError } from '../core/errors.ts';

export { referenceEstimate, type ReferenceEstimate, type ReferenceEstimateOptions } from '../nn/reference-estimate.ts';
import type { ReferenceEstimate } from '../nn/reference-estimate.ts';

/** Options of {@link lipschitzAttack}. */
export interface AttackOptions {
  steps: number;
  /** Number of random starts (default 32). */
  starts?: number;
  /** Gradient-ascent iterations per start (default 80). */
  iterations?: number;
  seed?: number;
  /** Domain of the starting points (default [0, 1]). */
  low?: number;
  high?: number;
  /**
   * Keep both points of every pair inside this box (per-coordinate centre and radius): the local
   * attack. Default: unconstrained (the global constant), starting inside [low, high].
   */
  box?: { center: Float64Array; radius: Float64Array };
  /** Extra starting points (batch-major sequences), e.g. training inputs. */
  init?: Float64Array;
  /** Power-iteration refinements of the best points (default 8 points x 12 iterations). */
  refine?: number;
}

/** Result of {@link lipschitzAttack}: the best pair found. */
export interface AttackResult {
  /** `||f(x') - f(x)|| / ||x' - x||` of the best pair: a lower bound of the Lipschitz constant. */
  value: number;
  /** The pair (scaled input sequences, steps x inputSize each). */
  x: Float64Array;
  xPrime: Float64Array;
  /** Model evaluations (sequences) spent. */
  evaluations: number;
}

/**
 * `J^T dy` after `model.forward` on the same batch (batch-major in and out): the model's backward
 * pass with the input gradient only; the parameter gradients, which the estimates never read, are
 * neither computed nor touched (the same input gradient as `model.backward`, bit for bit).
 */
function inputGradient(model: SequenceModel, dy: Float64Array, batch: number, steps: number): Float64Array {
  const dyt = toTimeMajor(dy, batch, steps, model.outputSize);
  const dxt = model.backwardTimeMajor(dyt, true, false)!;
  return toBatchMajor(dxt, batch, steps, model.inputSize);
}

/**
 * Ratios `R_s = ||f(x'_s) - f(x_s)|| / ||x'_s - x_s||` of `count` pairs stacked as
 * `[x_0 .. x_{count-1}, x'_0 .. x'_{count-1}]` (batch-major sequences), and optionally the gradient
 * of `log R_s` w.r.t. every point (same layout): `d log R / d x' = J(x')^T df / |df|^2 - dx / |dx|^2`,
 * `d log R / d x = -J(x)^T df / |df|^2 + dx / |dx|^2` (the J^T products by the model's backward
 * pass, input gradient only).
 */
export function pairRatios(model: SequenceModel, X: Float64Array, count: number, steps: number, withGradient: boolean): { ratios: Float64Array; gradient: Float64Array | null } {
  const m = model.outputSize, d = steps * model.inputSize, w = steps * m;
  const y = model.forward(X, 2 * count, steps);
  const ratios = new Float64Array(count);
  const dy = withGradient ? new Float64Array(y.length) : null;
  const dens = new Float64Array(count);
  for (let s = 0; s < count; s++) {
    let num = 0, den = 0;
    for (let i = 0; i < w; i++) {
      const v = y[(count + s) * w + i] - y[s * w + i];
      num += v * v;
    }
    for (let p = 0; p < d; p++) {
      const v = X[(count + s) * d + p] - X[s * d + p];
      den += v * v;
    }
    dens[s] = den;
    ratios[s] = den > 0 ? Math.sqrt(num / den) : 0;
    if (dy && num > 0 && den > 0)
      for (let i = 0; i < w; i++) {
        const v = (y[(count + s) * w + i] - y[s * w + i]) / num;
        dy[(count + s) * w + i] = v;
        dy[s * w + i] = -v;
      }
  }
  if (!dy) return { ratios, gradient: null };
  const gx = inputGradient(model, dy, 2 * count, steps);
  for (let s = 0; s < count; s++) {
    if (!(dens[s] > 0)) continue;
    for (let p = 0; p < d; p++) {
      const v = (X[(count + s) * d + p] - X[s * d + p]) / dens[s];
      gx[(count + s) * d + p] -= v;
      gx[s * d + p] += v;
    }
  }
  return { ratios, gradient: gx };
}

/** Outward-rounded enclosure of the outputs at one input sequence (interval arithmetic). */
function pointEnclosure(model: SequenceModel, x: Float64Array, steps: number): { l: Float64Array; u: Float64Array } {
  return propagateModel(model, steps, { center: x, radius: new Float64Array(x.length) }, { zonotope: false, jacobian: false }).outputs;
}


/**
 * A certified lower bound of `||f(x') - f(x)||_2 / ||x' - x||_2` for the real-arithmetic network
 * (the map every certified bound is about): f at each point is enclosed rigorously by bound
 * propagation on a zero-radius box (its sums widened by their rounding-error bounds), the output
 * difference is taken as the smallest magnitude in the difference of the enclosures, the numerator
 * is rounded down and the denominator up. 0 when the enclosures overlap.
 */
export function pairRatioLowerBound(model: SequenceModel, x: Float64Array, xPrime: Float64Array, steps: number): number {
  const d = steps * model.inputSize;
  if (x.length !== d || xPrime.length !== d) throw new ValidationError(`pairRatioLowerBound: points hold ${x.length} and ${xPrime.length} values, expected steps * inputSize = ${d}`);
  let den = 0;
  for (let p = 0; p < d; p++) {
    const v = Math.abs(xPrime[p] - x[p]) * (1 + 2 * Number.EPSILON);
    den += v * v;
  }
  if (!(den > 0) || !Number.isFinite(den)) return 0;
  const ya = pointEnclosure(model, x, steps), yb = pointEnclosure(model, xPrime, steps);
  let num = 0;
  for (let i = 0; i < ya.l.length; i++) {
    // f'(i) - f(i) lies in [lb - ua, ub - la] (each end widened by its own rounding)
    const lo = yb.l[i] - ya.u[i], hi = yb.u[i] - ya.l[i];
    const loD = lo - 2 * Number.EPSILON * Math.abs(lo), hiD = hi + 2 * Number.EPSILON * Math.abs(hi);
    const mag = loD > 0 ? loD : hiD < 0 ? -hiD : 0;
    num += mag * mag;
  }
  if (!(num > 0) || !Number.isFinite(num)) return 0;
  // sums of k non-negative terms: relative error below (k + 2) eps; sqrt and division: a few eps more
  const k = ya.l.length;
  const r = Math.sqrt((num * (1 - (k + 2) * Number.EPSILON)) / (den * (1 + (d + 2) * Number.EPSILON)));
  return r * (1 - 8 * Number.EPSILON);
}

function snapshotGrads(model: SequenceModel): Float64Array[] {
  return model.parameters().map((p) => Float64Array.from(p.grad));
}
function restoreGrads(model: SequenceModel, s: Float64Array[]): void {
  model.parameters().forEach((p, i) => p.grad.set(s[i]));
}

/**
 * Gradient ascent on the ratio `R(x, x') = ||f(x') - f(x)|| / ||x' - x||` from many seeded starts
 * (half in the domain, the others in 5x and 20x wider boxes unless a box is given; pairs at
 * distances log-uniform between 1e-3 and 1 times the domain diameter; Adam steps on
 * both points, step size decaying), then power iteration on `J(x)^T J(x)` at the best points
 * (J v by central differences, J^T w by the model's backward pass) and a final pair `x +- h v`.
 * The reported value is a certified lower bound of the Lipschitz constant of the real-arithmetic
 * network (on the box, when one is given): the ratio of an explicit pair, computed from rigorous
 * enclosures of f at both points (see {@link pairRatioLowerBound}), so it can be compared with the
 * certified upper bounds without rounding doubts.
 * Parameter gradients of the model are left as they were.
 */
export function lipschitzAttack(model: SequenceModel, o: AttackOptions): AttackResult {
  const steps = o.steps, n = model.inputSize, m = model.outputSize, d = steps * n;
  const S0 = o.starts ?? 32, iters = o.iterations ?? 80;
  const rng = new Rng(o.seed ?? 0);
  const low = o.box ? -Infinity : o.low ?? 0, high = o.box ? Infinity : o.high ?? 1;
  const lo = new Float64Array(d), hi = new Float64Array(d);
  for (let p = 0; p < d; p++) {
    lo[p] = o.box ? o.box.center[p] - o.box.radius[p] : low;
    hi[p] = o.box ? o.box.center[p] + o.box.radius[p] : high;
  }
  const clamp = (v: Float64Array) => {
    if (!o.box) return;
    for (let s = 0; s < v.length / d; s++)
      for (let p = 0; p < d; p++) {
        const i = s * d + p;
        if (v[i] < lo[p]) v[i] = lo[p];
        else if (v[i] > hi[p]) v[i] = hi[p];
      }
  };
  // scale of the domain (per coordinate) for step sizes
  const scale = new Float64Array(d);
  for (let p = 0; p < d; p++) scale[p] = Number.isFinite(hi[p] - lo[p]) && hi[p] > lo[p] ? hi[p] - lo[p] : 1;
  const initCount = o.init ? Math.floor(o.init.length / d) : 0;
  const S = S0 + initCount;
  const X = new Float64Array(2 * S * d); // rows 0..S-1: x ; S..2S-1: x'
  for (let s = 0; s < S; s++) {
    // unconstrained (global) attack: half the starts in the domain, a quarter in a 5x wider box and a
    // quarter in a 20x wider one (the largest slopes of a ReLU network can sit outside the domain)
    const widen = o.box || s < initCount ? 0 : s % 4 === 1 ? 2 : s % 4 === 3 ? 10 : 0;
    for (let p = 0; p < d; p++) {
      const w = hi[p] - lo[p];
      const base = s < initCount ? o.init![s * d + p] : lo[p] - widen * w + (w + 2 * widen * w) * rng.uniform();
      X[s * d + p] = Number.isFinite(base) ? base : rng.uniform();
    }
    const dir = new Float64Array(d);
    let nr = 0;
    for (let p = 0; p < d; p++) {
      dir[p] = rng.normal() * scale[p];
      nr += dir[p] * dir[p];
    }
    const rho = 10 ** rng.uniformIn(-3, 0) * 0.5 / Math.sqrt(nr);
    for (let p = 0; p < d; p++) X[(S + s) * d + p] = X[s * d + p] + rho * dir[p] * Math.sqrt(d);
  }
  clamp(X);
  const saved = snapshotGrads(model);
  let evaluations = 0;
  let best = 0;
  const bestX = new Float64Array(d), bestXp = new Float64Array(d);
  const ratios = new Float64Array(S);
  const evalRatios = (Xs: Float64Array, count: number, withGrad: boolean): Float64Array | null => {
    const r = pairRatios(model, Xs, count, steps, withGrad);
    evaluations += 2 * count;
    for (let s = 0; s < count; s++) {
      ratios[s] = r.ratios[s];
      if (r.ratios[s] > best && Number.isFinite(r.ratios[s])) {
        best = r.ratios[s];
        bestX.set(Xs.subarray(s * d, (s + 1) * d));
        bestXp.set(Xs.subarray((count + s) * d, (count + s + 1) * d));
      }
    }
    return r.gradient;
  };
  try {
    // Adam ascent on log R
    const mAdam = new Float64Array(X.length), vAdam = new Float64Array(X.length);
    const b1 = 0.9, b2 = 0.999;
    for (let it = 1; it <= iters; it++) {
      const gx = evalRatios(X, S, true)!;
      const lr = 0.02 * (1 - 0.95 * (it - 1) / Math.max(1, iters - 1));
      const c1 = 1 - b1 ** it, c2 = 1 - b2 ** it;
      for (let s = 0; s < 2 * S; s++)
        for (let p = 0; p < d; p++) {
          const i = s * d + p;
          const gi = gx[i];
          if (!Number.isFinite(gi)) continue;
          mAdam[i] = b1 * mAdam[i] + (1 - b1) * gi;
          vAdam[i] = b2 * vAdam[i] + (1 - b2) * gi * gi;
          const mh = mAdam[i] / c1, vh = vAdam[i] / c2;
          X[i] += lr * scale[p] * mh / (Math.sqrt(vh) + 1e-12);
        }
      clamp(X);
      // keep pairs from collapsing onto one point
      for (let s = 0; s < S; s++) {
        let den = 0;
        for (let p = 0; p < d; p++) den += (X[(S + s) * d + p] - X[s * d + p]) ** 2;
        if (den < 1e-16 * d) for (let p = 0; p < d; p++) X[(S + s) * d + p] = X[s * d + p] + 1e-6 * scale[p] * (rng.uniform() < 0.5 ? -1 : 1);
      }
      clamp(X);
    }
    evalRatios(X, S, false);
    // power-iteration refinement at the best few midpoints
    const R = o.refine ?? 8;
    const order = Array.from({ length: S }, (_, s) => s).sort((a, b) => ratios[b] - ratios[a]).slice(0, Math.min(R, S));
    const centres: Float64Array[] = order.map((s) => {
      const c = new Float64Array(d);
      for (let p = 0; p < d; p++) c[p] = 0.5 * (X[s * d + p] + X[(S + s) * d + p]);
      return c;
    });
    centres.push(Float64Array.from(bestX, (v, p) => 0.5 * (v + bestXp[p])));
    for (const c of centres) refineAt(c);
  } finally {
    restoreGrads(model, saved);
  }
  // The ratios above are floating-point evaluations: for a close pair, f(x') - f(x) cancels and its
  // rounding error can lift the ratio above the true one (by ~1e-10 relative for the refinement's
  // pairs, enough to exceed a tight certified bound). Report a *certified* lower bound instead: the
  // ratio of the best pair from rigorous enclosures of f at both points, also for the same
  // direction stretched about its midpoint (less cancellation), within the box.
  let value = 0, vx = bestX, vxp = bestXp;
  if (best > 0) {
    const mid = Float64Array.from(bestX, (v, p) => 0.5 * (v + bestXp[p]));
    for (const stretch of [1, 10, 100, 1000]) {
      const a = new Float64Array(d), b = new Float64Array(d);
      for (let p = 0; p < d; p++) {
        const half = 0.5 * (bestXp[p] - bestX[p]) * stretch;
        a[p] = mid[p] - half;
        b[p] = mid[p] + half;
      }
      if (stretch > 1) {
        if (o.box) {
          clamp(a);
          clamp(b);
        } else {
          let far = false;
          for (let p = 0; p < d; p++) if (Math.abs(b[p] - a[p]) > 10 * scale[p]) far = true;
          if (far) break;
        }
      }
      const r = pairRatioLowerBound(model, a, b, steps);
      evaluations += 2;
      if (r > value) {
        value = r;
        vx = a;
        vxp = b;
      }
    }
  }
  return { value, x: vx, xPrime: vxp, evaluations };

  function refineAt(c: Float64Array): void {
    let v = new Float64Array(d);
    for (let p = 0; p < d; p++) v[p] = rng.normal();
    const h0 = 1e-5;
    for (let it = 0; it < 12; it++) {
      let nv = 0;
      for (let p = 0; p < d; p++) nv += v[p] * v[p];
      nv = Math.sqrt(nv);
      for (let p = 0; p < d; p++) v[p] /= nv;
      // pair (c - h v, c + h v) inside the box
      const pair = new Float64Array(2 * d);
      for (let p = 0; p < d; p++) {
        pair[p] = c[p] - h0 * v[p];
        pair[d + p] = c[p] + h0 * v[p];
      }
      clamp(pair);
      // J v ~ (f(c + hv) - f(c - hv)) / 2h ; then J^T (J v) at c by backward
      const y = model.forward(pair, 2, steps);
      evaluations += 2;
      let num = 0, den = 0;
      const jv = new Float64Array(steps * m);
      for (let i = 0; i < steps * m; i++) {
        jv[i] = y[steps * m + i] - y[i];
        num += jv[i] * jv[i];
      }
      for (let p = 0; p < d; p++) den += (pair[d + p] - pair[p]) ** 2;
      const r = den > 0 ? Math.sqrt(num / den) : 0;
      if (!Number.isFinite(r)) return;
      if (r > best) {
        best = r;
        bestX.set(pair.subarray(0, d));
        bestXp.set(pair.subarray(d));
      }
      if (!(num > 0)) return;
      model.forward(c, 1, steps);
      const w = inputGradient(model, jv, 1, steps);
      evaluations += 1;
      v = Float64Array.from(w);
    }
  }
}

/** Options of {@link jensenCheck}. */
export interface JensenOptions {
  steps: number;
  /** Number of random segments (default 2000). */
  segments?: number;
  seed?: number;
  /** Domain of the segment end points (default [0, 1]). */
  low?: number;
  high?: number;
  /** Absolute tolerance (default 1e-9 times (1 + max |f|)). */
  tolerance?: number;
}

/** Result of {@link jensenCheck}. */
export interface JensenResult {
  segments: number;
  /** Largest `f(l a + (1-l) b) - (l f(a) + (1-l) f(b))` over segments and outputs (> 0 is a violation). */
  worstViolation: number;
  /** Output step and feature of the worst violation (null if none is positive). */
  worstOutput: { step: number; feature: number } | null;
  /** Segments whose worst violation exceeds the tolerance. */
  violations: number;
  tolerance: number;
  /** True when no violation beyond the tolerance was found. */
  convex: boolean;
  /** Per output feature: largest violation over steps and segments. */
  perFeature: number[];
}

/**
 * Numerical convexity check: samples random segments [a, b] of input sequences in the domain
 * (end points uniform in [low, high]^d, lengths scaled by a random factor in {1, 0.3, 0.1}), a
 * random point on each (the midpoint for half of them) and tests Jensen's inequality
 * `f(l a + (1-l) b) <= l f(a) + (1-l) f(b)` on every output (each step and feature).
 */
export function jensenCheck(model: SequenceModel, o: JensenOptions): JensenResult {
  const steps = o.steps, n = model.inputSize, m = model.outputSize, d = steps * n;
  const N = o.segments ?? 2000;
  const rng = new Rng(o.seed ?? 0);
  const low = o.low ?? 0, high = o.high ?? 1;
  // segments per model evaluation (3 sequences each; the last batch takes the rest, B to 2B - 1).
  // Even, so the midpoint / random-point alternation (s % 2) and the seeded draws are those of any
  // other even batch. 64 rather than larger batches: the same work, but a cold process (the CLI)
  // spends about 100 ms less before the evaluation code is optimised.
  const B = 64;
  let worst = -Infinity, worstAt: { step: number; feature: number } | null = null, count = 0, ymax = 0;
  const perFeature = new Array(m).fill(-Infinity);
  const viol: number[] = [];
  for (let s0 = 0, b = 0; s0 < N; s0 += b) {
    b = N - s0 < 2 * B ? N - s0 : B;
    const X = new Float64Array(3 * b * d);
    const lam = new Float64Array(b);
    for (let s = 0; s < b; s++) {
      const shrink = [1, 0.3, 0.1][rng.int(3)];
      lam[s] = s % 2 === 0 ? 0.5 : rng.uniform();
      for (let p = 0; p < d; p++) {
        const a = rng.uniformIn(low, high);
        const c = rng.uniformIn(low, high);
        const e = a + shrink * (c - a);
        X[s * d + p] = a;
        X[(b + s) * d + p] = e;
        X[(2 * b + s) * d + p] = lam[s] * a + (1 - lam[s]) * e;
      }
    }
    const y = model.forward(X, 3 * b, steps);
    const w = steps * m;
    for (let s = 0; s < b; s++) {
      let sw = -Infinity;
      for (let i = 0; i < w; i++) {
        const fa = y[s * w + i], fb = y[(b + s) * w + i], fm = y[(2 * b + s) * w + i];
        ymax = Math.max(ymax, Math.abs(fa), Math.abs(fb), Math.abs(fm));
        const v = fm - (lam[s] * fa + (1 - lam[s]) * fb);
        const f = i % m;
        if (v > perFeature[f]) perFeature[f] = v;
        if (v > sw) sw = v;
        if (v > worst) {
          worst = v;
          worstAt = { step: Math.floor(i / m), feature: f };
        }
      }
      viol.push(sw);
    }
  }
  const tol = o.tolerance ?? 1e-9 * (1 + ymax);
  for (const v of viol) if (v > tol) count++;
  return {
    segments: N,
    worstViolation: worst,
    worstOutput: worst > 0 ? worstAt : null,
    violations: count,
    tolerance: tol,
    convex: count === 0,
    perFeature,
  };
}
