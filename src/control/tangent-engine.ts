/**
 * The hand-fused forward-mode engine of the MPC predictors: primal and directional derivatives of
 * one batch-1 sequence, all lanes in one pass, for the simple (tanh / ReLU), LSTM, ICRNN and ICLSTM
 * cells and dense heads (with the ICLSTM residual). Other families (the Lipschitz RNN, the GRU,
 * multi-block models) get forward mode from the generic program interpreter
 * (`nn/program-stack.ts`); the tests hold the two equal. Kept hand-fused because the ICLRNN LMPC
 * step is dominated by it (bench/mpc.ts). Where the f64 wasm kernels run and cover the model
 * (stacks of simple cells: the ICLRNN and the RNN), {@link WasmTangentEngine} does the same work in
 * wasm; this JS engine is the fallback and the tests' oracle.
 */
import type { Activation } from '../nn/cell.ts';
import { IclstmCell } from '../nn/iclstm-cell.ts';
import { IcrnnCell } from '../nn/icrnn-cell.ts';
import { LstmCell } from '../nn/lstm-cell.ts';
import type { SequenceModel } from '../nn/model.ts';
import { SimpleCell } from '../nn/simple-cell.ts';
import { WasmPredictor } from '../nn/wasm-predictor.ts';
import { sigmoid } from '../graph/activations.ts';


type CellOp =
  | { type: 'simple'; nin: number; u: number; K: Float64Array; R: Float64Array; b: Float64Array; relu: boolean }
  | { type: 'lstm'; nin: number; u: number; K: Float64Array; R: Float64Array; b: Float64Array }
  | { type: 'icrnn'; nin: number; u: number; K: Float64Array; R: Float64Array; D1: Float64Array; D2: Float64Array; D3: Float64Array; V: Float64Array }
  | { type: 'iclstm'; nin: number; u: number; K: Float64Array; R: Float64Array; dw: Float64Array; du: Float64Array; b: Float64Array };

interface HeadOp {
  nin: number;
  u: number;
  W: Float64Array;
  b: Float64Array;
  act: Activation;
  residual: boolean;
}

/** Per-layer lane buffers. */
interface LayerState {
  /** Recurrent state, previous and next (lanes x stateWidth each). */
  s0: Float64Array;
  s1: Float64Array;
  /** Pre-activation / projection scratch (lanes x width). */
  z: Float64Array;
  z2: Float64Array;
  /** Projection of the (constant) first-layer input, computed at t = 0 (lanes x width). */
  xin: Float64Array;
  xin2: Float64Array;
  /** Layer output for this step (lanes x u). */
  y: Float64Array;
}

/**
 * Forward-mode differentiation of a {@link SequenceModel} on one sequence of identical rows: lane 0
 * carries the values, lanes 1..D the directional derivatives along D input directions, propagated
 * through the same layers (the chain rule of each cell, written out). Lanes share every weight
 * load, and rows of a weight matrix whose input entries are zero in every lane (inactive ReLU units)
 * are skipped. Supports simple (tanh / ReLU), LSTM, ICRNN and ICLSTM cells and dense heads (with
 * the ICLSTM residual); {@link TangentEngine.supports} says whether a model qualifies.
 */
export class TangentEngine {
  private readonly cells: CellOp[];
  private readonly heads: HeadOp[];
  private readonly layers: LayerState[];
  private readonly maxLanes: number;
  private readonly na: number;
  private readonly idx: Int32Array;
  private readonly headBuf: Float64Array[];
  private readonly source: SequenceModel;
  /** Where {@link run} records the ReLU decisions of lane 0 (null: not recorded), and the write position. */
  private pat: Uint8Array | null = null;
  private pi = 0;
  /**
   * True when every nonlinearity is a ReLU (simple ReLU and ICRNN cells, linear / ReLU heads): the
   * network is then piecewise linear in its input, and its Jacobian is the same wherever the ReLU
   * decisions are (the activation pattern, see {@link patternSize}).
   */
  readonly piecewiseLinear: boolean;

  /** Whether every layer of `model` has a forward-mode rule here. */
  static supports(model: SequenceModel): boolean {
    // dense layers between recurrent layers (multi-block ICLSTM): the adjoint path handles them
    if (model.interleaved) return false;
    return model.cells.every((c) => c instanceof SimpleCell || c instanceof LstmCell || c instanceof IcrnnCell || c instanceof IclstmCell);
  }

  /**
   * @param model the network (its weights are copied; see {@link sync})
   * @param maxLanes 1 + the largest number of directions
   */
  constructor(model: SequenceModel, maxLanes: number) {
    if (!TangentEngine.supports(model)) throw new RangeError(`TangentEngine: unsupported cell in a '${model.spec.kind}' model`);
    this.source = model;
    this.maxLanes = maxLanes;
    this.na = model.augmentedSize;
    this.cells = model.cells.map((c): CellOp => {
      if (c instanceof SimpleCell)
        return { type: 'simple', nin: c.inputSize, u: c.units, K: c.kernel.value.slice(), R: c.recurrentKernel.value.slice(), b: c.bias.value.slice(), relu: c.activation === 'relu' };
      if (c instanceof LstmCell)
        return { type: 'lstm', nin: c.inputSize, u: c.units, K: c.kernel.value.slice(), R: c.recurrentKernel.value.slice(), b: c.bias.value.slice() };
      if (c instanceof IcrnnCell)
        return {
          type: 'icrnn', nin: c.inputSize, u: c.units, K: c.kernel.value.slice(), R: c.recurrentKernel.value.slice(),
          D1: c.D1.value.slice(), D2: c.D2.value.slice(), D3: c.D3.value.slice(), V: c.V.value.slice(),
        };
      const k = c as IclstmCell;
      return {
        type: 'iclstm', nin: k.inputSize, u: k.units, K: k.kernel.value.slice(), R: k.recurrentKernel.value.slice(),
        dw: k.kernelScale.value.slice(), du: k.recurrentScale.value.slice(), b: k.bias.value.slice(),
      };
    });
    this.heads = model.head.map((h) => ({ nin: h.inputSize, u: h.units, W: h.kernel.value.slice(), b: h.bias.value.slice(), act: h.activation, residual: h.residual }));
    const L = maxLanes;
    let maxIn = this.na;
    this.layers = this.cells.map((c) => {
      maxIn = Math.max(maxIn, c.nin, c.u);
      const sw = c.type === 'simple' ? c.u : c.type === 'icrnn' ? c.u + c.nin : 2 * c.u;
      const zw = c.type === 'lstm' ? 4 * c.u : c.u;
      return {
        s0: new Float64Array(L * sw), s1: new Float64Array(L * sw),
        z: new Float64Array(L * zw), z2: new Float64Array(L * zw),
        xin: new Float64Array(L * zw), xin2: new Float64Array(L * zw),
        y: new Float64Array(L * c.u),
      };
    });
    this.headBuf = this.heads.map((h) => {
      maxIn = Math.max(maxIn, h.nin, h.u);
      return new Float64Array(L * h.u);
    });
    this.idx = new Int32Array(maxIn * 4);
    this.piecewiseLinear =
      this.cells.every((c) => (c.type === 'simple' && c.relu) || c.type === 'icrnn') &&
      this.heads.every((h) => (h.act === 'relu' || h.act === 'linear') && !h.residual);
  }

  /** Length of the activation pattern of a run of `steps` steps (ReLU decisions of lane 0). */
  patternSize(steps: number): number {
    let n = 0;
    for (const c of this.cells) n += c.type === 'icrnn' ? 2 * c.u : c.u;
    for (const h of this.heads) if (h.act === 'relu') n += h.u;
    return n * steps;
  }

  /** Re-copies the weights of the source model. */
  sync(): void {
    const m = this.source;
    m.cells.forEach((c, i) => {
      const op = this.cells[i];
      if (op.type === 'simple' && c instanceof SimpleCell) { op.K.set(c.kernel.value); op.R.set(c.recurrentKernel.value); op.b.set(c.bias.value); }
      else if (op.type === 'lstm' && c instanceof LstmCell) { op.K.set(c.kernel.value); op.R.set(c.recurrentKernel.value); op.b.set(c.bias.value); }
      else if (op.type === 'icrnn' && c instanceof IcrnnCell) { op.K.set(c.kernel.value); op.R.set(c.recurrentKernel.value); op.D1.set(c.D1.value); op.D2.set(c.D2.value); op.D3.set(c.D3.value); op.V.set(c.V.value); }
      else if (op.type === 'iclstm' && c instanceof IclstmCell) { op.K.set(c.kernel.value); op.R.set(c.recurrentKernel.value); op.dw.set(c.kernelScale.value); op.du.set(c.recurrentScale.value); op.b.set(c.bias.value); }
    });
    m.head.forEach((h, i) => { this.heads[i].W.set(h.kernel.value); this.heads[i].b.set(h.bias.value); });
  }

  /**
   * Runs `steps` steps on the constant augmented input `a` (lanes x augmentedSize: lane 0 the
   * values, lanes 1.. the input directions) and writes the outputs into `out`
   * (steps x lanes x outputSize: lane 0 the outputs, lane d their derivative along direction d).
   */
  run(a: Float64Array, lanes: number, steps: number, out: Float64Array, pattern: Uint8Array | null = null): void {
    if (lanes > this.maxLanes) throw new RangeError(`TangentEngine: ${lanes} lanes, built for ${this.maxLanes}`);
    this.pat = pattern;
    this.pi = 0;
    const nl = this.cells.length;
    for (let l = 0; l < nl; l++) {
      const st = this.layers[l];
      st.s0.fill(0);
      st.s1.fill(0);
    }
    const nh = this.heads.length;
    const lastCell = this.cells[nl - 1];
    const nout = nh ? this.heads[nh - 1].u : lastCell.u;
    for (let t = 0; t < steps; t++) {
      let x = a, ldx = this.na;
      for (let l = 0; l < nl; l++) {
        const op = this.cells[l], st = this.layers[l];
        const first = l === 0;
        switch (op.type) {
          case 'simple': this.simple(op, st, x, ldx, lanes, t, first); break;
          case 'lstm': this.lstm(op, st, x, ldx, lanes, t, first); break;
          case 'icrnn': this.icrnn(op, st, x, ldx, lanes, t, first); break;
          case 'iclstm': this.iclstm(op, st, x, ldx, lanes, t, first); break;
        }
        // swap states
        const tmp = st.s0;
        st.s0 = st.s1;
        st.s1 = tmp;
        x = st.y;
        ldx = op.u;
      }
      for (let k = 0; k < nh; k++) {
        const h = this.heads[k];
        const o = k === nh - 1 ? out : this.headBuf[k];
        const oOff = k === nh - 1 ? t * lanes * nout : 0;
        const u = h.u;
        this.mv(lanes, u, h.nin, x, 0, ldx, h.W, o, oOff, u, false);
        for (let j = 0; j < u; j++) o[oOff + j] += h.b[j];
        // activation (lane 0 value, tangents scaled by its derivative)
        if (h.act !== 'linear') {
          for (let j = 0; j < u; j++) {
            const v = o[oOff + j];
            let y: number, d: number;
            if (h.act === 'relu') {
              y = v > 0 ? v : 0;
              d = v > 0 ? 1 : 0;
              if (this.pat) this.pat[this.pi++] = d;
            }
            else if (h.act === 'tanh') { y = Math.tanh(v); d = 1 - y * y; }
            else { y = sigmoid(v); d = y * (1 - y); }
            o[oOff + j] = y;
            for (let l = 1; l < lanes; l++) o[oOff + l * u + j] *= d;
          }
        }
        if (h.residual) for (let l = 0; l < lanes; l++) for (let j = 0; j < u; j++) o[oOff + l * u + j] += a[l * this.na + j];
        if (k < nh - 1) {
          x = o;
          ldx = u;
        }
      }
      if (nh === 0) {
        const y = this.layers[nl - 1].y;
        for (let i = 0; i < lanes * nout; i++) out[t * lanes * nout + i] = y[i];
      }
    }
  }

  /** y[l*ldy + j] (+)= sum_i x[l*ldx + i] W[i*n + j] for lanes l, columns j < n, rows i < k; skips rows that are zero in every lane. */
  private mv(lanes: number, n: number, k: number, x: Float64Array, xOff: number, ldx: number, W: Float64Array, y: Float64Array, yOff: number, ldy: number, accumulate: boolean): void {
    const idx = this.idx;
    let cnt = 0;
    for (let i = 0; i < k; i++) {
      for (let l = 0; l < lanes; l++) {
        if (x[xOff + l * ldx + i] !== 0) {
          idx[cnt++] = i;
          break;
        }
      }
    }
    if (!accumulate) y.fill(0, yOff, yOff + (lanes - 1) * ldy + n);
    if (cnt * 8 >= k * 7) {
      // (nearly) dense: stream all rows without the index indirection
      this.mvDense(lanes, n, k, x, xOff, ldx, W, y, yOff, ldy);
      return;
    }
    const n4 = n - (n % 4);
    let l = 0;
    for (; l + 1 < lanes; l += 2) {
      const x0 = xOff + l * ldx, x1 = x0 + ldx, y0 = yOff + l * ldy, y1 = y0 + ldy;
      let j = 0;
      for (; j < n4; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        for (let q = 0; q < cnt; q++) {
          const i = idx[q];
          const a0 = x[x0 + i], a1 = x[x1 + i];
          const p = i * n + j;
          const w0 = W[p], w1 = W[p + 1], w2 = W[p + 2], w3 = W[p + 3];
          s00 += a0 * w0; s01 += a0 * w1; s02 += a0 * w2; s03 += a0 * w3;
          s10 += a1 * w0; s11 += a1 * w1; s12 += a1 * w2; s13 += a1 * w3;
        }
        y[y0 + j] += s00; y[y0 + j + 1] += s01; y[y0 + j + 2] += s02; y[y0 + j + 3] += s03;
        y[y1 + j] += s10; y[y1 + j + 1] += s11; y[y1 + j + 2] += s12; y[y1 + j + 3] += s13;
      }
      for (; j < n; j++) {
        let s0 = 0, s1 = 0;
        for (let q = 0; q < cnt; q++) {
          const i = idx[q];
          const w = W[i * n + j];
          s0 += x[x0 + i] * w;
          s1 += x[x1 + i] * w;
        }
        y[y0 + j] += s0;
        y[y1 + j] += s1;
      }
    }
    if (l < lanes) {
      const x0 = xOff + l * ldx, y0 = yOff + l * ldy;
      const n8 = n - (n % 8);
      let j = 0;
      for (; j < n8; j += 8) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (let q = 0; q < cnt; q++) {
          const i = idx[q];
          const a0 = x[x0 + i];
          const p = i * n + j;
          s0 += a0 * W[p]; s1 += a0 * W[p + 1]; s2 += a0 * W[p + 2]; s3 += a0 * W[p + 3];
          s4 += a0 * W[p + 4]; s5 += a0 * W[p + 5]; s6 += a0 * W[p + 6]; s7 += a0 * W[p + 7];
        }
        y[y0 + j] += s0; y[y0 + j + 1] += s1; y[y0 + j + 2] += s2; y[y0 + j + 3] += s3;
        y[y0 + j + 4] += s4; y[y0 + j + 5] += s5; y[y0 + j + 6] += s6; y[y0 + j + 7] += s7;
      }
      for (; j < n; j++) {
        let s = 0;
        for (let q = 0; q < cnt; q++) {
          const i = idx[q];
          s += x[x0 + i] * W[i * n + j];
        }
        y[y0 + j] += s;
      }
    }
  }

  /** {@link mv} over every row, accumulating. */
  private mvDense(lanes: number, n: number, k: number, x: Float64Array, xOff: number, ldx: number, W: Float64Array, y: Float64Array, yOff: number, ldy: number): void {
    const n4 = n - (n % 4);
    let l = 0;
    for (; l + 1 < lanes; l += 2) {
      const x0 = xOff + l * ldx, x1 = x0 + ldx, y0 = yOff + l * ldy, y1 = y0 + ldy;
      let j = 0;
      for (; j < n4; j += 4) {
        let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        let p = j;
        for (let i = 0; i < k; i++, p += n) {
          const a0 = x[x0 + i], a1 = x[x1 + i];
          const w0 = W[p], w1 = W[p + 1], w2 = W[p + 2], w3 = W[p + 3];
          s00 += a0 * w0; s01 += a0 * w1; s02 += a0 * w2; s03 += a0 * w3;
          s10 += a1 * w0; s11 += a1 * w1; s12 += a1 * w2; s13 += a1 * w3;
        }
        y[y0 + j] += s00; y[y0 + j + 1] += s01; y[y0 + j + 2] += s02; y[y0 + j + 3] += s03;
        y[y1 + j] += s10; y[y1 + j + 1] += s11; y[y1 + j + 2] += s12; y[y1 + j + 3] += s13;
      }
      for (; j < n; j++) {
        let s0 = 0, s1 = 0;
        for (let i = 0, p = j; i < k; i++, p += n) {
          const w = W[p];
          s0 += x[x0 + i] * w;
          s1 += x[x1 + i] * w;
        }
        y[y0 + j] += s0;
        y[y1 + j] += s1;
      }
    }
    if (l < lanes) {
      const x0 = xOff + l * ldx, y0 = yOff + l * ldy;
      const n8 = n - (n % 8);
      let j = 0;
      for (; j < n8; j += 8) {
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        let p = j;
        for (let i = 0; i < k; i++, p += n) {
          const a0 = x[x0 + i];
          s0 += a0 * W[p]; s1 += a0 * W[p + 1]; s2 += a0 * W[p + 2]; s3 += a0 * W[p + 3];
          s4 += a0 * W[p + 4]; s5 += a0 * W[p + 5]; s6 += a0 * W[p + 6]; s7 += a0 * W[p + 7];
        }
        y[y0 + j] += s0; y[y0 + j + 1] += s1; y[y0 + j + 2] += s2; y[y0 + j + 3] += s3;
        y[y0 + j + 4] += s4; y[y0 + j + 5] += s5; y[y0 + j + 6] += s6; y[y0 + j + 7] += s7;
      }
      for (; j < n; j++) {
        let s = 0;
        for (let i = 0, p = j; i < k; i++, p += n) s += x[x0 + i] * W[p];
        y[y0 + j] += s;
      }
    }
  }

  /** h = act(x K + h_prev R + b). */
  private simple(op: Extract<CellOp, { type: 'simple' }>, st: LayerState, x: Float64Array, ldx: number, lanes: number, t: number, constInput: boolean): void {
    const u = op.u, z = st.z, hPrev = st.s0, hNext = st.s1, y = st.y;
    if (!constInput || t === 0) this.mv(lanes, u, op.nin, x, 0, ldx, op.K, st.xin, 0, u, false);
    copy(st.xin, z, lanes * u);
    if (t > 0) this.mv(lanes, u, u, hPrev, 0, u, op.R, z, 0, u, true);
    const b = op.b;
    if (op.relu) {
      const pat = this.pat;
      for (let j = 0; j < u; j++) {
        const v = z[j] + b[j];
        const on = v > 0;
        if (pat) pat[this.pi++] = on ? 1 : 0;
        const h = on ? v : 0;
        hNext[j] = h;
        y[j] = h;
        for (let l = 1; l < lanes; l++) {
          const d = on ? z[l * u + j] : 0;
          hNext[l * u + j] = d;
          y[l * u + j] = d;
        }
      }
    } else {
      for (let j = 0; j < u; j++) {
        const h = Math.tanh(z[j] + b[j]);
        const g = 1 - h * h;
        hNext[j] = h;
        y[j] = h;
        for (let l = 1; l < lanes; l++) {
          const d = g * z[l * u + j];
          hNext[l * u + j] = d;
          y[l * u + j] = d;
        }
      }
    }
  }

  /** LSTM: z = x K + h R + b; i, f, o = sigmoid, g = tanh; c = f c_prev + i g; h = o tanh(c). State [h | c]. */
  private lstm(op: Extract<CellOp, { type: 'lstm' }>, st: LayerState, x: Float64Array, ldx: number, lanes: number, t: number, constInput: boolean): void {
    const u = op.u, u4 = 4 * u, z = st.z, sPrev = st.s0, sNext = st.s1, y = st.y;
    if (!constInput || t === 0) this.mv(lanes, u4, op.nin, x, 0, ldx, op.K, st.xin, 0, u4, false);
    copy(st.xin, z, lanes * u4);
    // h_prev lanes live in sPrev[l*2u .. l*2u+u): stride 2u
    if (t > 0) this.mv(lanes, u4, u, sPrev, 0, 2 * u, op.R, z, 0, u4, true);
    const b = op.b;
    for (let j = 0; j < u; j++) {
      const gi = sigmoid(z[j] + b[j]);
      const gf = sigmoid(z[u + j] + b[u + j]);
      const gg = Math.tanh(z[2 * u + j] + b[2 * u + j]);
      const go = sigmoid(z[3 * u + j] + b[3 * u + j]);
      const cPrev = sPrev[u + j];
      const c = gf * cPrev + gi * gg;
      const tc = Math.tanh(c);
      const h = go * tc;
      sNext[j] = h;
      sNext[u + j] = c;
      y[j] = h;
      const di = gi * (1 - gi), df = gf * (1 - gf), dg = 1 - gg * gg, dO = go * (1 - go), dt = 1 - tc * tc;
      for (let l = 1; l < lanes; l++) {
        const zo = l * u4, so = l * 2 * u;
        const dgi = di * z[zo + j], dgf = df * z[zo + u + j], dgg = dg * z[zo + 2 * u + j], dgo = dO * z[zo + 3 * u + j];
        const dc = dgf * cPrev + gf * sPrev[so + u + j] + dgi * gg + gi * dgg;
        const dh = dgo * tc + go * dt * dc;
        sNext[so + j] = dh;
        sNext[so + u + j] = dc;
        y[l * u + j] = dh;
      }
    }
  }

  /** ICRNN: h = relu(x K + h_prev R + x_prev D2); y = relu(h V + h_prev D1 + x D3). State [h | x]. */
  private icrnn(op: Extract<CellOp, { type: 'icrnn' }>, st: LayerState, x: Float64Array, ldx: number, lanes: number, t: number, constInput: boolean): void {
    const u = op.u, nin = op.nin, ls = u + nin, z = st.z, z2 = st.z2, sPrev = st.s0, sNext = st.s1, y = st.y;
    if (!constInput || t === 0) {
      this.mv(lanes, u, nin, x, 0, ldx, op.K, st.xin, 0, u, false);
      this.mv(lanes, u, nin, x, 0, ldx, op.D3, st.xin2, 0, u, false);
    }
    copy(st.xin, z, lanes * u);
    if (t > 0) {
      this.mv(lanes, u, u, sPrev, 0, ls, op.R, z, 0, u, true);
      this.mv(lanes, u, nin, sPrev, u, ls, op.D2, z, 0, u, true);
    }
    const pat = this.pat;
    for (let j = 0; j < u; j++) {
      const on = z[j] > 0;
      if (pat) pat[this.pi++] = on ? 1 : 0;
      for (let l = 0; l < lanes; l++) sNext[l * ls + j] = on ? z[l * u + j] : 0;
    }
    for (let l = 0; l < lanes; l++) for (let i = 0; i < nin; i++) sNext[l * ls + u + i] = x[l * ldx + i];
    // y
    this.mv(lanes, u, u, sNext, 0, ls, op.V, z2, 0, u, false);
    if (t > 0) this.mv(lanes, u, u, sPrev, 0, ls, op.D1, z2, 0, u, true);
    const c = st.xin2;
    for (let j = 0; j < u; j++) {
      const on = z2[j] + c[j] > 0;
      if (pat) pat[this.pi++] = on ? 1 : 0;
      for (let l = 0; l < lanes; l++) y[l * u + j] = on ? z2[l * u + j] + c[l * u + j] : 0;
    }
  }

  /** ICLSTM: gates relu(dw * xK + du * hR + b); c = f c_prev + i g; h = c > 0 ? o c : 0. State [h | c]. */
  private iclstm(op: Extract<CellOp, { type: 'iclstm' }>, st: LayerState, x: Float64Array, ldx: number, lanes: number, t: number, constInput: boolean): void {
    const u = op.u, sPrev = st.s0, sNext = st.s1, y = st.y, hw = st.z;
    if (!constInput || t === 0) this.mv(lanes, u, op.nin, x, 0, ldx, op.K, st.xin, 0, u, false);
    const xw = st.xin;
    if (t > 0) this.mv(lanes, u, u, sPrev, 0, 2 * u, op.R, hw, 0, u, false);
    else hw.fill(0, 0, lanes * u);
    const dw = op.dw, du = op.du, b = op.b;
    for (let j = 0; j < u; j++) {
      const a0 = xw[j], r0 = hw[j];
      const vi = dw[j] * a0 + du[j] * r0 + b[j];
      const vf = dw[u + j] * a0 + du[u + j] * r0 + b[u + j];
      const vg = dw[2 * u + j] * a0 + du[2 * u + j] * r0 + b[2 * u + j];
      const vo = dw[3 * u + j] * a0 + du[3 * u + j] * r0 + b[3 * u + j];
      const gi = vi > 0 ? vi : 0, gf = vf > 0 ? vf : 0, gg = vg > 0 ? vg : 0, go = vo > 0 ? vo : 0;
      const cPrev = sPrev[u + j];
      const c = gf * cPrev + gi * gg;
      const on = c > 0;
      sNext[j] = on ? go * c : 0;
      sNext[u + j] = c;
      y[j] = sNext[j];
      for (let l = 1; l < lanes; l++) {
        const a = xw[l * u + j], r = hw[l * u + j], so = l * 2 * u;
        const dgi = vi > 0 ? dw[j] * a + du[j] * r : 0;
        const dgf = vf > 0 ? dw[u + j] * a + du[u + j] * r : 0;
        const dgg = vg > 0 ? dw[2 * u + j] * a + du[2 * u + j] * r : 0;
        const dgo = vo > 0 ? dw[3 * u + j] * a + du[3 * u + j] * r : 0;
        const dc = dgf * cPrev + gf * sPrev[so + u + j] + dgi * gg + gi * dgg;
        const dh = on ? dgo * c + go * dc : 0;
        sNext[so + j] = dh;
        sNext[so + u + j] = dc;
        y[l * u + j] = dh;
      }
    }
  }
}

function copy(from: Float64Array, to: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) to[i] = from[i];
}

/**
 * The forward-mode engine of the MPC predictors in the f64 wasm kernels ({@link WasmPredictor}):
 * same contract as {@link TangentEngine} (`run`, `patternSize`, `piecewiseLinear`, `sync`), same
 * results to rounding (the tests hold them equal to 1e-12, activation patterns included), for the
 * models the wasm path covers (stacks of simple cells with dense heads: the ICLRNN, the RNN).
 * Value lanes and direction lanes are a small batch there; a recurrent layer runs its whole
 * sequence in one call.
 */
export class WasmTangentEngine {
  readonly piecewiseLinear: boolean;

  /** An engine for `model`, or null when wasm is unavailable or disabled or the model is not covered. */
  static create(model: SequenceModel, predictor: WasmPredictor | null = WasmPredictor.create(model)): WasmTangentEngine | null {
    return predictor ? new WasmTangentEngine(predictor) : null;
  }

  /** @param predictor the wasm copy of the network (may be shared with the predictor's adjoint path) */
  constructor(readonly predictor: WasmPredictor) {
    this.piecewiseLinear = predictor.piecewiseLinear;
  }

  /** Length of the activation pattern of a run of `steps` steps (ReLU decisions of lane 0). */
  patternSize(steps: number): number {
    return this.predictor.patternSize(steps);
  }

  /** Re-copies the weights of the source model. */
  sync(): void {
    this.predictor.sync();
  }

  /** As {@link TangentEngine.run}: `a` lanes x augmentedSize, `out` steps x lanes x outputSize. */
  run(a: Float64Array, lanes: number, steps: number, out: Float64Array, pattern: Uint8Array | null = null): void {
    this.predictor.tangent(a, lanes, steps, out, pattern);
  }
}
