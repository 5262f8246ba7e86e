/**
 * Reverse mode over a {@link CellProgram}: the adjoint of one step, one rule per primitive, walking
 * the nodes backwards. Given the step's forward buffers (x, previous and next state, output, the
 * cache the evaluator filled), the gradient of the loss w.r.t. the step output (`dy`) and w.r.t. the
 * next state (`dsNext`, from later steps), it writes `dx` and `dsPrev` and accumulates parameter
 * gradients (unless {@link ProgramAdjoint.paramGradients} is false: input gradients only, for MPC
 * and certificates).
 *
 * Gradients of derived matrices (the LRNN's `M` and `W`) accumulate in their own buffers over the
 * steps of a pass and are folded back into the parameters once, linearly, by
 * {@link ProgramAdjoint.finish}: a derived matrix is `sum_t coef_t P_t (or P_t^T) + c I`, so
 * `dP_t += coef_t dM (or dM^T)` with no per-family code.
 *
 * Adjoint places come from the plan (see eval.ts): an adjoint workspace zeroed each step, with nodes
 * that feed a single element-wise consumer sharing that consumer's adjoint (the consumer's rule then
 * works in place, e.g. `dz = dh .* (1 - h^2)` over the same buffer), and slices as views.
 */
import { kernels } from '../core/kernels.ts';
import { activationAdjoint } from '../graph/activations.ts';
import { AdjBuf, Buf, copyRows, type ProgramEvaluator } from './eval.ts';

/** The adjoint of a program's step, sharing the evaluator's plan, parameters and derived matrices. */
export class ProgramAdjoint {
  /** When false, {@link step} skips the parameter gradients. */
  paramGradients = true;
  /** Gradients of the derived matrices, accumulated over a pass. */
  readonly derivedGrad = new Map<string, Float64Array>();
  private adj = new Float64Array(0);
  private readonly bufs: Float64Array[] = [];
  private readonly abufs: Float64Array[] = [];
  private readonly gradOf: (Float64Array | null)[];
  private touched = false;

  constructor(readonly evaluator: ProgramEvaluator) {
    const program = evaluator.program;
    for (const d of program.derived) this.derivedGrad.set(d.name, new Float64Array(d.rows * d.cols));
    this.gradOf = program.nodes.map((n) => {
      const name = n.op === 'matmul' ? n.matrix : n.op === 'bias' || n.op === 'scale' ? n.param : null;
      if (name === null) return null;
      const dg = this.derivedGrad.get(name);
      if (dg) return dg;
      return evaluator.params[evaluator.paramIndex.get(name)!].grad;
    });
    this.bufs[Buf.Work] = new Float64Array(0);
  }

  /**
   * Adjoint of one step (see the module comment). Overwrites `dsPrev` [B x state] and
   * `dx` [B x in]; accumulates parameter (and derived-matrix) gradients.
   */
  step(
    batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void {
    const ev = this.evaluator, plan = ev.plan, program = ev.program, nodes = program.nodes;
    const W = plan.widths, AW = plan.adjWidths;
    const na = batch * plan.adjSize;
    if (this.adj.length < na) this.adj = new Float64Array(na);
    const adj = this.adj, aw = plan.adjSize;
    for (const z of plan.adjZero) {
      if (z.size === aw) adj.fill(0, 0, na);
      else for (let r = 0; r < batch; r++) adj.fill(0, r * aw + z.col, r * aw + z.col + z.size);
    }
    if (plan.zeroDx) dx.fill(0, 0, batch * program.inputSize);
    if (plan.zeroDsPrev) dsPrev.fill(0, 0, batch * plan.stateSize);
    const bufs = this.bufs, abufs = this.abufs;
    bufs[Buf.X] = x;
    bufs[Buf.SPrev] = sPrev;
    bufs[Buf.SNext] = sNext;
    bufs[Buf.Y] = y;
    bufs[Buf.Cache] = cache;
    abufs[AdjBuf.DX] = dx;
    abufs[AdjBuf.DSPrev] = dsPrev;
    abufs[AdjBuf.Adj] = adj;
    // seeds: the output and the next-state slots
    for (const sd of plan.seeds) {
      const o = plan.adjoint[sd.node];
      if (sd.slot < 0) copyRows(batch, program.outputSize, dy, 0, program.outputSize, abufs[o.buf], o.col, AW[o.buf], sd.add);
      else copyRows(batch, nodes[sd.node].size, dsNext, plan.stateOffsets[sd.slot], plan.stateSize, abufs[o.buf], o.col, AW[o.buf], sd.add);
    }
    const pg = this.paramGradients;
    const gemm = kernels().gemm;
    for (let id = nodes.length - 1; id >= 0; id--) {
      const n = nodes[id];
      const g = plan.adjoint[id];
      const gb = abufs[g.buf], gc = g.col, gl = AW[g.buf];
      switch (n.op) {
        case 'input':
        case 'state':
        case 'slice':
          break;
        case 'matmul': {
          const xv = plan.value[n.x], xa = plan.adjoint[n.x];
          const rows = nodes[n.x].size, cols = n.size;
          if (pg) {
            gemm(rows, cols, batch, bufs[xv.buf], xv.col, 1, W[xv.buf], gb, gc, gl, 1, this.gradOf[id]!, 0, cols, true);
            this.touched = true;
          }
          gemm(batch, rows, cols, gb, gc, gl, 1, ev.matrixOf(id), 0, 1, cols, abufs[xa.buf], xa.col, AW[xa.buf], !plan.adjOverwrite[id]);
          break;
        }
        case 'bias': {
          const s = n.size;
          if (pg) {
            const gr = this.gradOf[id]!;
            for (let r = 0; r < batch; r++) {
              const gi = gc + r * gl;
              for (let j = 0; j < s; j++) gr[j] += gb[gi + j];
            }
          }
          if (!plan.adjAlias[n.x]) {
            const xa = plan.adjoint[n.x];
            copyRows(batch, s, gb, gc, gl, abufs[xa.buf], xa.col, AW[xa.buf], true);
          }
          break;
        }
        case 'scale': {
          const s = n.size, p = ev.matrixOf(id);
          const xv = plan.value[n.x], xb = bufs[xv.buf], xl = W[xv.buf];
          if (pg) {
            const gr = this.gradOf[id]!;
            for (let r = 0; r < batch; r++) {
              const gi = gc + r * gl, xi = xv.col + r * xl;
              for (let j = 0; j < s; j++) gr[j] += gb[gi + j] * xb[xi + j];
            }
          }
          const xa = plan.adjoint[n.x], db = abufs[xa.buf], dl = AW[xa.buf];
          const inPlace = plan.adjAlias[n.x];
          for (let r = 0; r < batch; r++) {
            const gi = gc + r * gl, di = xa.col + r * dl;
            if (inPlace) for (let j = 0; j < s; j++) db[di + j] = gb[gi + j] * p[j];
            else for (let j = 0; j < s; j++) db[di + j] += gb[gi + j] * p[j];
          }
          break;
        }
        case 'affine': {
          const s = n.size, a = n.a;
          const xa = plan.adjoint[n.x], db = abufs[xa.buf], dl = AW[xa.buf];
          const inPlace = plan.adjAlias[n.x];
          if (inPlace && a === 1) break;
          for (let r = 0; r < batch; r++) {
            const gi = gc + r * gl, di = xa.col + r * dl;
            if (inPlace) for (let j = 0; j < s; j++) db[di + j] = a * gb[gi + j];
            else for (let j = 0; j < s; j++) db[di + j] += a * gb[gi + j];
          }
          break;
        }
        case 'add': {
          if (!plan.adjAlias[n.a]) {
            const oa = plan.adjoint[n.a];
            copyRows(batch, n.size, gb, gc, gl, abufs[oa.buf], oa.col, AW[oa.buf], true);
          }
          if (!plan.adjAlias[n.b]) {
            const ob = plan.adjoint[n.b];
            copyRows(batch, n.size, gb, gc, gl, abufs[ob.buf], ob.col, AW[ob.buf], true);
          }
          break;
        }
        case 'mul': {
          const s = n.size;
          const av = plan.value[n.a], bv = plan.value[n.b];
          const ab = bufs[av.buf], al = W[av.buf], bb = bufs[bv.buf], bl = W[bv.buf];
          const aa = plan.adjoint[n.a], ba = plan.adjoint[n.b];
          const dab = abufs[aa.buf], dal = AW[aa.buf], dbb = abufs[ba.buf], dbl = AW[ba.buf];
          for (let r = 0; r < batch; r++) {
            const gi = gc + r * gl, ai = av.col + r * al, bi = bv.col + r * bl, dai = aa.col + r * dal, dbi = ba.col + r * dbl;
            for (let j = 0; j < s; j++) {
              const gv = gb[gi + j];
              dab[dai + j] += gv * bb[bi + j];
              dbb[dbi + j] += gv * ab[ai + j];
            }
          }
          break;
        }
        case 'act': {
          const yv = plan.value[id], xa = plan.adjoint[n.x];
          activationAdjoint(n.fn, batch, n.size, bufs[yv.buf], yv.col, W[yv.buf], gb, gc, gl, abufs[xa.buf], xa.col, AW[xa.buf], !plan.adjAlias[n.x]);
          break;
        }
        case 'concat': {
          let off = 0;
          for (const part of n.xs) {
            const pa = plan.adjoint[part], s = nodes[part].size;
            copyRows(batch, s, gb, gc + off, gl, abufs[pa.buf], pa.col, AW[pa.buf], true);
            off += s;
          }
          break;
        }
      }
    }
  }

  /** Folds the derived-matrix gradients into the parameters and clears them (once per pass). */
  finish(): void {
    if (!this.touched) return;
    this.touched = false;
    const ev = this.evaluator;
    for (const d of ev.program.derived) {
      const dM = this.derivedGrad.get(d.name)!;
      const R = d.rows, C = d.cols;
      for (const t of d.terms) {
        const gr = ev.params[ev.paramIndex.get(t.param)!].grad, c = t.coef;
        if (t.transpose) {
          // M += c P^T (P is C x R): dP[j][i] += c dM[i][j]
          for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) gr[j * R + i] += c * dM[i * C + j];
        } else for (let i = 0; i < R * C; i++) gr[i] += c * dM[i];
      }
      dM.fill(0);
    }
  }
}
