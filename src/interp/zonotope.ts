/**
 * Zonotope bound propagation (DeepZ), intersected node by node with the interval rules of
 * bounds.ts: for a bounded box of input sequences, every node entry is represented as
 * `c + G eps +- err` with eps in [-1, 1]^E (the d input coordinates, then one fresh symbol per
 * relaxed activation or product entry) and an absolute rounding-error bound err. Zonotopes keep
 * the correlations that intervals lose (mixed-sign weights cancelling, the same input reaching a
 * sum twice), which is what makes local bounds tight. One rule per primitive:
 * - `matmul`, `bias`, `scale`, `affine`, `add`, `slice`, `concat`: exact (affine) maps;
 * - `act`: the parallel-line relaxation with the minimal slope on the argument's range
 *   (`lambda z + mu +- beta`, one new symbol; ReLU: the DeepZ line `u / (u - l)`);
 * - `mul`: `a b = ca cb + ca Gb eps + cb Ga eps + (Ga eps)(Gb eps)`, the last term bounded by
 *   `ra rb` (one new symbol).
 * Every rule also bounds its own floating-point error (err), so the result is sound for the
 * exact evaluation. Memory is step-major: only the current step's zonotopes and the states are kept.
 */
import type { Node, NodeId } from '../graph/program.ts';
import { activationSlopeRange, activationValue } from './activation-facts.ts';
import { augmentedSize, bindStack, stackOutputSize, type BoundProgram, type ProgramStack } from './bind.ts';
import { gammaK, intervalBounds, intervalRule, type Interval, type SequenceBox, type StackBounds } from './bounds.ts';
import { ValidationError } from '../core/errors.ts';

const EPS = Number.EPSILON;

/** One node's zonotope at one step: `size` entries, each with E generator coefficients. */
interface Zono {
  c: Float64Array;
  G: Float64Array;
  err: Float64Array;
}

/** Options of {@link zonotopeBounds}. */
export interface ZonotopeOptions {
  /** Fall back to intervals above this many noise symbols (default 4000, as propagate.ts). */
  maxSymbols?: number;
}

/** Bounds of every node over the box: intervals tightened by zonotopes (see the module comment). */
export function zonotopeBounds(stack: ProgramStack, steps: number, box: SequenceBox, options: ZonotopeOptions = {}): StackBounds & { symbols: number } {
  const bound = bindStack(stack);
  const n = stack.inputSize, na = augmentedSize(stack), d = steps * n;
  if (box.lo.length !== d || box.hi.length !== d) throw new ValidationError(`zonotopeBounds: the box has ${box.lo.length} coordinates, expected ${d}`);
  let perStep = 0;
  for (const b of bound) for (const node of b.program.nodes) if (node.op === 'act' || node.op === 'mul') perStep += node.size;
  const E = d + steps * perStep;
  let finite = true;
  for (let p = 0; p < d; p++) if (!Number.isFinite(box.lo[p]) || !Number.isFinite(box.hi[p])) finite = false;
  if (!finite || E > (options.maxSymbols ?? 4000)) return { ...intervalBounds(stack, steps, box), symbols: 0 };
  // the plain interval pass: every node's zonotope interval is intersected with it, so these bounds
  // are never looser than intervals, not even by a rounding (the interval rule applied to the
  // zonotope's tighter argument ranges rounds from other centres)
  const plain = intervalBounds(stack, steps, box);
  const clamp = (iv: Interval, q: Interval) => {
    for (let j = 0; j < iv.l.length; j++) {
      if (q.l[j] > iv.l[j]) iv.l[j] = q.l[j];
      if (q.u[j] < iv.u[j]) iv.u[j] = q.u[j];
    }
  };
  let used = d; // symbols in use so far
  const newZ = (k: number): Zono => ({ c: new Float64Array(k), G: new Float64Array(k * E), err: new Float64Array(k) });
  const newI = (k: number): Interval => ({ l: new Float64Array(k), u: new Float64Array(k) });

  /** Intersects iv with the concretisation of z (in place). */
  const tighten = (z: Zono, iv: Interval) => {
    const k = z.c.length;
    for (let j = 0; j < k; j++) {
      let r = 0;
      const o = j * E;
      for (let e = 0; e < used; e++) r += Math.abs(z.G[o + e]);
      const c = z.c[j], w = r * (1 + gammaK(used + 2)) + z.err[j] + gammaK(4) * (Math.abs(c) + r) + Number.MIN_VALUE;
      if (c - w > iv.l[j]) iv.l[j] = c - w;
      if (c + w < iv.u[j]) iv.u[j] = c + w;
      if (iv.l[j] > iv.u[j]) iv.l[j] = iv.u[j] = 0.5 * (iv.l[j] + iv.u[j]);
    }
  };
  const radius = (z: Zono, j: number) => {
    let r = 0;
    for (let e = 0; e < used; e++) r += Math.abs(z.G[j * E + e]);
    return r * (1 + gammaK(used + 2));
  };

  const ivs: Interval[][][] = bound.map(() => []);
  const outIvs: Interval[][] = bound.map(() => []);
  let prevZ: Zono[][] = bound.map(() => []);
  const off = stack.augmentation;
  for (let t = 0; t < steps; t++) {
    // the augmented input row
    const az = newZ(na), ai = newI(na);
    for (let i = 0; i < n; i++) {
      const p = t * n + i, lo = box.lo[p], hi = box.hi[p];
      const c = 0.5 * lo + 0.5 * hi, r = Math.max(hi - c, c - lo) * (1 + 2 * EPS);
      az.c[i] = c;
      az.G[i * E + p] = r;
      ai.l[i] = lo;
      ai.u[i] = hi;
      if (off) {
        az.c[n + i] = off[i] - c;
        az.G[(n + i) * E + p] = -r;
        az.err[n + i] = EPS * Math.abs(off[i] - c);
        ai.l[n + i] = off[i] - hi - 2 * EPS * Math.abs(off[i] - hi);
        ai.u[n + i] = off[i] - lo + 2 * EPS * Math.abs(off[i] - lo);
      }
    }
    let inZ = az, inI = ai;
    const curZ: Zono[][] = [];
    bound.forEach((b, li) => {
      const p = b.program;
      const zs: Zono[] = new Array(p.nodes.length), is: Interval[] = new Array(p.nodes.length);
      p.nodes.forEach((node, id) => {
        if (node.op === 'input') {
          zs[id] = inZ;
          is[id] = inI;
        } else if (node.op === 'state') {
          const nx = p.next[node.slot];
          zs[id] = t > 0 ? prevZ[li][nx] : newZ(node.size);
          is[id] = t > 0 ? ivs[li][t - 1][nx] : newI(node.size);
        } else {
          const iv = newI(node.size);
          intervalRule(node, b, (q) => is[q], iv);
          clamp(iv, plain.node(li, t, id));
          const z = newZ(node.size);
          zRule(node, b, zs, is, z);
          tighten(z, iv);
          zs[id] = z;
          is[id] = iv;
        }
      });
      ivs[li].push(is);
      curZ.push(zs);
      let oz = zs[p.output], oi = is[p.output];
      if (stack.layers[li].residual) {
        const k = p.outputSize, z = newZ(k), iv = newI(k);
        for (let j = 0; j < k; j++) {
          z.c[j] = oz.c[j] + az.c[j];
          for (let e = 0; e < used; e++) z.G[j * E + e] = oz.G[j * E + e] + az.G[j * E + e];
          z.err[j] = oz.err[j] + az.err[j] + 2 * EPS * (Math.abs(z.c[j]) + radius(z, j));
          iv.l[j] = oi.l[j] + ai.l[j] - 2 * EPS * Math.abs(oi.l[j] + ai.l[j]) - Number.MIN_VALUE;
          iv.u[j] = oi.u[j] + ai.u[j] + 2 * EPS * Math.abs(oi.u[j] + ai.u[j]) + Number.MIN_VALUE;
        }
        clamp(iv, plain.layerOutput(li, t));
        tighten(z, iv);
        oz = z;
        oi = iv;
      }
      outIvs[li].push(oi);
      inZ = oz;
      inI = oi;
    });
    prevZ = curZ;
  }

  /** The zonotope of one primitive from its operands' zonotopes and (tightened) intervals. */
  function zRule(node: Node, b: BoundProgram, zs: Zono[], is: Interval[], z: Zono): void {
    const m = node.size;
    switch (node.op) {
      case 'matmul': {
        const x = zs[node.x], W = b.mat(node.matrix), k = b.size(node.x);
        const xr = new Float64Array(k);
        for (let i = 0; i < k; i++) xr[i] = radius(x, i);
        const g = gammaK(k + 2);
        for (let i = 0; i < k; i++) {
          const ci = x.c[i], ei = x.err[i], xo = i * E;
          for (let j = 0; j < m; j++) {
            const w = W[i * m + j];
            if (w === 0) continue;
            const aw = Math.abs(w);
            z.c[j] += ci * w;
            z.err[j] += aw * ei + g * aw * (Math.abs(ci) + xr[i]);
            const zo = j * E;
            for (let e = 0; e < used; e++) z.G[zo + e] += w * x.G[xo + e];
          }
        }
        return;
      }
      case 'bias':
      case 'scale':
      case 'affine': {
        const x = zs[node.x];
        const pv = node.op === 'affine' ? null : b.mat(node.param);
        for (let j = 0; j < m; j++) {
          const a = node.op === 'scale' ? pv![j] : node.op === 'affine' ? node.a : 1;
          const c0 = node.op === 'bias' ? pv![j] : node.op === 'affine' ? node.b : 0;
          z.c[j] = a * x.c[j] + c0;
          for (let e = 0; e < used; e++) z.G[j * E + e] = a * x.G[j * E + e];
          z.err[j] = Math.abs(a) * x.err[j] + 3 * EPS * (Math.abs(z.c[j]) + Math.abs(c0) + radius(z, j));
        }
        return;
      }
      case 'add': {
        const x = zs[node.a], y = zs[node.b];
        for (let j = 0; j < m; j++) {
          z.c[j] = x.c[j] + y.c[j];
          for (let e = 0; e < used; e++) z.G[j * E + e] = x.G[j * E + e] + y.G[j * E + e];
          z.err[j] = x.err[j] + y.err[j] + 2 * EPS * (Math.abs(z.c[j]) + radius(z, j));
        }
        return;
      }
      case 'slice':
      case 'concat': {
        const parts = node.op === 'slice' ? [{ id: node.x, from: node.start, size: m }] : node.xs.map((q) => ({ id: q, from: 0, size: b.size(q) }));
        let o = 0;
        for (const { id, from, size } of parts) {
          const x = zs[id];
          for (let j = 0; j < size; j++) {
            z.c[o + j] = x.c[from + j];
            z.err[o + j] = x.err[from + j];
            z.G.set(x.G.subarray((from + j) * E, (from + j) * E + used), (o + j) * E);
          }
          o += size;
        }
        return;
      }
      case 'act': {
        const x = zs[node.x], iv = is[node.x], fn = node.fn, first = used;
        used += m;
        for (let j = 0; j < m; j++) {
          const l = iv.l[j], u = iv.u[j];
          let lam: number, mu: number, beta: number;
          if (fn === 'relu') {
            if (u <= 0) continue;
            if (l >= 0) [lam, mu, beta] = [1, 0, 0];
            else {
              lam = u / (u - l);
              mu = -0.5 * lam * l;
              beta = mu;
            }
          } else if (fn === 'linear') [lam, mu, beta] = [1, 0, 0];
          else {
            lam = activationSlopeRange(fn, l, u)[0];
            const fl = activationValue(fn, l), fu = activationValue(fn, u);
            mu = 0.5 * (fu + fl - lam * (u + l));
            beta = 0.5 * (fu - fl - lam * (u - l));
          }
          z.c[j] = lam * x.c[j] + mu;
          for (let e = 0; e < first; e++) z.G[j * E + e] = lam * x.G[j * E + e];
          // the relaxation's own rounding (f, lambda, mu, beta) goes into the new symbol
          z.G[j * E + first + j] = Math.abs(beta) * (1 + 1e-12) + 8 * EPS * (Math.abs(mu) + Math.abs(lam * l) + Math.abs(lam * u) + 1);
          z.err[j] = lam * x.err[j] + 3 * EPS * (Math.abs(z.c[j]) + radius(z, j));
        }
        return;
      }
      case 'mul': {
        const x = zs[node.a], y = zs[node.b], first = used;
        used += m;
        for (let j = 0; j < m; j++) {
          const ca = x.c[j], cb = y.c[j], ra = radius(x, j), rb = radius(y, j), ea = x.err[j], eb = y.err[j];
          z.c[j] = ca * cb;
          for (let e = 0; e < first; e++) z.G[j * E + e] = ca * y.G[j * E + e] + cb * x.G[j * E + e];
          z.G[j * E + first + j] = ra * rb * (1 + 4 * EPS);
          z.err[j] = (Math.abs(ca) + ra) * eb + (Math.abs(cb) + rb) * ea + ea * eb + 4 * EPS * (Math.abs(ca * cb) + Math.abs(ca) * rb + Math.abs(cb) * ra) + Number.MIN_VALUE;
        }
        return;
      }
      case 'input':
      case 'state':
        return;
    }
  }

  const m = stackOutputSize(stack), last = bound.length - 1;
  const outputs = newI(steps * m);
  for (let t = 0; t < steps; t++) {
    outputs.l.set(outIvs[last][t].l, t * m);
    outputs.u.set(outIvs[last][t].u, t * m);
  }
  return {
    steps,
    symbols: E,
    node: (layer: number, t: number, id: NodeId) => ivs[layer][t][id],
    layerOutput: (layer: number, t: number) => outIvs[layer][t],
    outputs,
  };
}
