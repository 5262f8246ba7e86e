/**
 * Structural convexity certificate: proves, by walking the model, that each output of each step is
 * a convex function of the (un-augmented, scaled) input sequence, or says exactly why it cannot.
 *
 * Every intermediate quantity (each unit, each step) gets a class in the lattice
 * `constant < affine < convex < unknown` and the rules are the composition rules of convex analysis:
 *
 * - `sum_i w_i q_i + b`: a weight multiplying a constant or affine quantity may have any sign; a
 *   weight multiplying a convex (non-affine) quantity must be >= 0, otherwise the result is
 *   `unknown` and the weight is reported (layer, parameter, row/column of the first such entry).
 *   This is why the augmentation `[x, offset - x]` is *allowed* but not *needed* for convexity: it is
 *   affine in x. It is needed for expressiveness (monotone in neither direction), and is reported.
 * - `relu` and `linear` are convex and non-decreasing: they keep convexity (relu of affine is convex).
 *   `tanh` and `sigmoid` are not convex: applied to a non-constant argument they give `unknown`
 *   and are reported as offending activations.
 * - Products (LSTM and ICLSTM gates, `c = f c + i c~`, `h = o g(c)`): a product of two non-negative
 *   convex functions is convex when one factor is constant, or when both are monotone in the same
 *   direction functions of the *same* scalar (which must be non-decreasing if that scalar is convex
 *   but not affine). Otherwise (e.g. `relu(x1) relu(x2) = x1 x2`) convexity fails in general: the
 *   product is reported. For ICLSTM this holds at the first step of a layer only, so ICLSTM
 *   sequences of more than one step are not certified convex.
 *
 * The certificate is sound (`convex: true` is a proof for every weight value the model holds, on
 * all of R^d) and conservative (`false` means "not proven"; {@link jensenCheck} then looks for an
 * actual violation).
 */
import type { SequenceModel } from '../nn/model.ts';
import { SimpleCell } from '../nn/simple-cell.ts';
import { LstmCell } from '../nn/lstm-cell.ts';
import { LipschitzCell } from '../nn/lipschitz-cell.ts';
import { IcrnnCell } from '../nn/icrnn-cell.ts';
import { IclstmCell } from '../nn/iclstm-cell.ts';
import { ValidationError } from '../core/errors.ts';

/** Curvature class of a quantity. */
export const Curvature = { Constant: 0, Affine: 1, Convex: 2, Unknown: 3 } as const;

/** Why convexity could not be proven. */
export type ConvexityReason =
  | {
      kind: 'negative-weight';
      /** Layer path, e.g. `cells.1` or `head.0`. */
      layer: string;
      /** Parameter path, e.g. `cells.1.recurrentKernel`. */
      parameter: string;
      /** Row and column of the first (row-major) offending entry, and its flat index. */
      index: [number, number];
      flatIndex: number;
      value: number;
      /** Offending entries of this parameter (each multiplies a convex, non-affine quantity). */
      count: number;
      message: string;
    }
  | { kind: 'activation'; layer: string; activation: string; message: string }
  | { kind: 'product'; layer: string; operation: string; step: number; unit: number; message: string }
  | { kind: 'unsupported'; layer: string; message: string };

/** Result of {@link structuralConvexity}. */
export interface StructuralConvexity {
  /** True when every output (all steps, all features) is proven convex in the input sequence. */
  convex: boolean;
  /** Per output feature: proven convex at every step. */
  outputs: boolean[];
  /** Root causes, one per parameter / activation / product site (empty when convex). */
  reasons: ConvexityReason[];
  /** Whether the model feeds `[x, offset - x]` (informational: not required for convexity). */
  augmentation: boolean;
  steps: number;
  notes: string[];
}

type Dep = null | 'multi' | { id: string; dir: 1 | -1 };

class Walker {
  reasons = new Map<string, ConvexityReason>();
  negIdx = new Map<string, Set<number>>();

  linear(out: Uint8Array, terms: { cls: Uint8Array; w: Float64Array; rows: number; cols: number; path: string; layer: string }[]): void {
    out.fill(Curvature.Constant);
    for (const { cls, w, rows, cols, path, layer } of terms) {
      for (let i = 0; i < rows; i++) {
        const c = cls[i];
        if (c === Curvature.Constant) continue;
        for (let j = 0; j < cols; j++) {
          const x = w[i * cols + j];
          if (x === 0) continue;
          let r: number = c;
          if (c === Curvature.Convex && x < 0) {
            r = Curvature.Unknown;
            this.negative(path, layer, i, j, cols, x);
          }
          if (r > out[j]) out[j] = r;
        }
      }
    }
  }

  negative(path: string, layer: string, i: number, j: number, cols: number, x: number): void {
    const flat = i * cols + j;
    let set = this.negIdx.get(path);
    if (!set) this.negIdx.set(path, (set = new Set()));
    set.add(flat);
    const prev = this.reasons.get(path);
    if (!prev || (prev.kind === 'negative-weight' && flat < prev.flatIndex))
      this.reasons.set(path, {
        kind: 'negative-weight', layer, parameter: path, index: [i, j], flatIndex: flat, value: x, count: 0,
        message: `${path}[${i}][${j}] = ${x} < 0 multiplies a convex (non-affine) quantity`,
      });
  }

  activation(cls: Uint8Array, act: string, layer: string): void {
    if (act === 'relu') {
      for (let i = 0; i < cls.length; i++) if (cls[i] === Curvature.Affine) cls[i] = Curvature.Convex;
    } else if (act === 'tanh' || act === 'sigmoid') {
      let hit = false;
      for (let i = 0; i < cls.length; i++)
        if (cls[i] !== Curvature.Constant) {
          if (cls[i] !== Curvature.Unknown) hit = true;
          cls[i] = Curvature.Unknown;
        }
      const key = `${layer}:${act}`;
      if (hit && !this.reasons.has(key))
        this.reasons.set(key, { kind: 'activation', layer, activation: act, message: `${layer} applies ${act}, which is not convex, to a non-constant argument` });
    }
  }

  product(layer: string, op: string, t: number, j: number): void {
    const key = `${layer}:${op}`;
    if (!this.reasons.has(key))
      this.reasons.set(key, {
        kind: 'product', layer, operation: op, step: t, unit: j,
        message: `${layer}: the product ${op} (step ${t}, unit ${j}) multiplies two convex functions of different arguments, which is not convex in general`,
      });
  }

  result(): ConvexityReason[] {
    const out: ConvexityReason[] = [];
    for (const [k, r] of this.reasons) {
      if (r.kind === 'negative-weight') r.count = this.negIdx.get(k)!.size;
      out.push(r);
    }
    return out;
  }
}

const max = (a: number, b: number) => (a > b ? a : b);

/** Proves (or refutes the proof of) convexity of every output in the input sequence over `steps` steps. */
export function structuralConvexity(model: SequenceModel, steps: number): StructuralConvexity {
  model.requireStacked('structuralConvexity');
  if (!Number.isInteger(steps) || steps < 1) throw new ValidationError(`structuralConvexity: steps must be a positive integer, got ${steps}`);
  const W = new Walker();
  const n = model.inputSize;
  const aug = model.spec.augmentation !== null;
  const na = model.augmentedSize;
  const inputCls = new Uint8Array(na).fill(Curvature.Affine);
  let seq: Uint8Array[] = Array.from({ length: steps }, () => inputCls);
  const notes: string[] = [];
  if (aug) notes.push('the input is augmented as [x, offset - x] (affine in x)');
  else notes.push('no [x, -x] augmentation: a convex model is then also non-decreasing in x');
  const unsupported: ConvexityReason[] = [];
  model.cells.forEach((cell, li) => {
    const layer = `cells.${li}`;
    const P = (name: string, p: { value: Float64Array; rows: number; cols: number }) => ({ w: p.value, rows: p.rows, cols: p.cols, path: `${layer}.${name}`, layer });
    const out: Uint8Array[] = [];
    if (cell instanceof SimpleCell) {
      let h = new Uint8Array(cell.units);
      for (let t = 0; t < steps; t++) {
        const z = new Uint8Array(cell.units);
        W.linear(z, [{ cls: seq[t], ...P('kernel', cell.kernel) }, { cls: h, ...P('recurrentKernel', cell.recurrentKernel) }]);
        W.activation(z, cell.activation, layer);
        out.push(z);
        h = z;
      }
    } else if (cell instanceof LipschitzCell) {
      cell.prepare();
      const u = cell.units, { eps, alpha } = cell.options;
      const M = new Float64Array(u * u);
      for (let i = 0; i < u; i++) for (let j = 0; j < u; j++) M[i * u + j] = (i === j ? 1 : 0) + eps * alpha * cell.A[i * u + j];
      let h = new Uint8Array(u);
      for (let t = 0; t < steps; t++) {
        const z = new Uint8Array(u);
        W.linear(z, [{ cls: h, w: cell.W, rows: u, cols: u, path: `${layer}.C (W)`, layer }, { cls: seq[t], ...P('kernel', cell.kernel) }]);
        W.activation(z, 'tanh', layer);
        const hn = new Uint8Array(u);
        const eI = new Float64Array(u * u);
        for (let i = 0; i < u; i++) eI[i * u + i] = eps;
        W.linear(hn, [{ cls: h, w: M, rows: u, cols: u, path: `${layer}.B (I + eps alpha A)`, layer }, { cls: z, w: eI, rows: u, cols: u, path: `${layer}.eps`, layer }]);
        out.push(hn);
        h = hn;
      }
    } else if (cell instanceof IcrnnCell) {
      const u = cell.units;
      let h = new Uint8Array(u), xPrev: Uint8Array = new Uint8Array(cell.inputSize);
      for (let t = 0; t < steps; t++) {
        const zh = new Uint8Array(u);
        W.linear(zh, [{ cls: seq[t], ...P('kernel', cell.kernel) }, { cls: h, ...P('recurrentKernel', cell.recurrentKernel) }, { cls: xPrev, ...P('D2', cell.D2) }]);
        W.activation(zh, 'relu', layer);
        const zy = new Uint8Array(u);
        W.linear(zy, [{ cls: zh, ...P('V', cell.V) }, { cls: h, ...P('D1', cell.D1) }, { cls: seq[t], ...P('D3', cell.D3) }]);
        W.activation(zy, 'relu', layer);
        out.push(zy);
        h = zh;
        xPrev = seq[t];
      }
    } else if (cell instanceof LstmCell) {
      const u = cell.units;
      let h = new Uint8Array(u), c = new Uint8Array(u);
      for (let t = 0; t < steps; t++) {
        const z = new Uint8Array(4 * u);
        W.linear(z, [{ cls: seq[t], ...P('kernel', cell.kernel) }, { cls: h, ...P('recurrentKernel', cell.recurrentKernel) }]);
        const gate = (g: number, act: string) => {
          const a = z.slice(g * u, (g + 1) * u);
          W.activation(a, act, layer);
          return a;
        };
        const gi = gate(0, 'sigmoid'), gf = gate(1, 'sigmoid'), gc = gate(2, 'tanh'), go = gate(3, 'sigmoid');
        const cn = new Uint8Array(u), hn = new Uint8Array(u);
        for (let j = 0; j < u; j++) {
          const prod = (a: number, b: number) => (a === Curvature.Constant ? b : b === Curvature.Constant ? a : Curvature.Unknown);
          cn[j] = max(prod(gf[j], c[j]), prod(gi[j], gc[j]));
          const tc = cn[j] === Curvature.Constant ? Curvature.Constant : Curvature.Unknown;
          hn[j] = prod(go[j], tc);
        }
        out.push(hn);
        h = hn;
        c = cn;
      }
    } else if (cell instanceof IclstmCell) {
      const u = cell.units;
      const dw = cell.kernelScale.value, du = cell.recurrentScale.value;
      let h = new Uint8Array(u);
      let c: { cls: number; dep: Dep }[] = Array.from({ length: u }, () => ({ cls: Curvature.Constant, dep: null }));
      for (let t = 0; t < steps; t++) {
        const xs = new Uint8Array(u), hs = new Uint8Array(u);
        W.linear(xs, [{ cls: seq[t], ...P('kernel', cell.kernel) }]);
        W.linear(hs, [{ cls: h, ...P('recurrentKernel', cell.recurrentKernel) }]);
        const hn = new Uint8Array(u);
        const cn: typeof c = [];
        for (let j = 0; j < u; j++) {
          const gates: { cls: number; dep: Dep }[] = [];
          for (let g = 0; g < 4; g++) {
            const k = g * u + j;
            let cls: number = Curvature.Constant;
            let depS = false, depR = false;
            const term = (base: number, coef: number, param: string, isS: boolean) => {
              if (base === Curvature.Constant || coef === 0) return;
              let r = base;
              if (base === Curvature.Convex && coef < 0) {
                r = Curvature.Unknown;
                W.negative(`${layer}.${param}`, layer, 0, k, 4 * u, coef);
              }
              if (isS) depS = true;
              else depR = true;
              cls = max(cls, r);
            };
            term(xs[j], dw[k], 'kernelScale', true);
            term(hs[j], du[k], 'recurrentScale', false);
            if (cls === Curvature.Affine) cls = Curvature.Convex; // relu
            let dep: Dep = null;
            if (depS && depR) dep = 'multi';
            else if (depS) dep = { id: `s:${t}:${j}`, dir: dw[k] >= 0 ? 1 : -1 };
            else if (depR) dep = { id: `r:${t}:${j}`, dir: du[k] >= 0 ? 1 : -1 };
            gates.push({ cls, dep });
          }
          const scalarAffine = (id: string) => (id.startsWith('s:') ? xs[j] : hs[j]) <= Curvature.Affine;
          const mul = (a: { cls: number; dep: Dep }, b: { cls: number; dep: Dep }, op: string): { cls: number; dep: Dep } => {
            if (a.cls === Curvature.Constant) return b;
            if (b.cls === Curvature.Constant) return a;
            if (a.cls === Curvature.Unknown || b.cls === Curvature.Unknown) return { cls: Curvature.Unknown, dep: 'multi' };
            const da = a.dep, db = b.dep;
            if (da && db && da !== 'multi' && db !== 'multi' && da.id === db.id && da.dir === db.dir && (da.dir === 1 || scalarAffine(da.id)))
              return { cls: Curvature.Convex, dep: da };
            W.product(layer, op, t, j);
            return { cls: Curvature.Unknown, dep: 'multi' };
          };
          const add = (a: { cls: number; dep: Dep }, b: { cls: number; dep: Dep }): { cls: number; dep: Dep } => {
            const cls = max(a.cls, b.cls);
            let dep: Dep;
            if (a.cls === Curvature.Constant) dep = b.dep;
            else if (b.cls === Curvature.Constant) dep = a.dep;
            else if (a.dep && b.dep && a.dep !== 'multi' && b.dep !== 'multi' && a.dep.id === b.dep.id && a.dep.dir === b.dep.dir) dep = a.dep;
            else dep = 'multi';
            return { cls, dep };
          };
          // the previous cell state depends on earlier steps' scalars: never the same scalar as now
          const cPrev = c[j].cls === Curvature.Constant ? c[j] : { cls: c[j].cls, dep: 'multi' as Dep };
          const cj = add(mul(gates[1], cPrev, 'f * c_prev'), mul(gates[0], gates[2], 'i * c~'));
          cn.push(cj);
          const hj = mul(gates[3], cj, 'o * relu(c)');
          hn[j] = hj.cls;
        }
        out.push(hn);
        h = hn;
        c = cn;
      }
    } else {
      unsupported.push({ kind: 'unsupported', layer, message: `${layer}: unsupported cell type` });
      const u = (cell as { outputSize: number }).outputSize;
      for (let t = 0; t < steps; t++) out.push(new Uint8Array(u).fill(Curvature.Unknown));
    }
    seq = out;
  });
  const augCls = new Uint8Array(na).fill(Curvature.Affine);
  const finalCls: Uint8Array[] = [];
  for (let t = 0; t < steps; t++) {
    let q = seq[t];
    model.head.forEach((h, k) => {
      const layer = `head.${k}`;
      const z = new Uint8Array(h.units);
      W.linear(z, [{ cls: q, w: h.kernel.value, rows: h.inputSize, cols: h.units, path: `${layer}.kernel`, layer }]);
      W.activation(z, h.activation, layer);
      if (h.residual) for (let i = 0; i < z.length; i++) z[i] = max(z[i], augCls[i]);
      q = z;
    });
    finalCls.push(q);
  }
  const m = model.outputSize;
  const outputs = new Array(m).fill(true);
  for (let t = 0; t < steps; t++) for (let k = 0; k < m; k++) if (finalCls[t][k] > Curvature.Convex) outputs[k] = false;
  const convex = outputs.every(Boolean);
  void n;
  return { convex, outputs, reasons: convex ? [] : [...unsupported, ...W.result()], augmentation: aug, steps, notes };
}
