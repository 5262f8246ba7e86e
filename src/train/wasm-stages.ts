/**
 * The layers of the wasm trainer (./wasm-trainer.ts), one class per layer family: where each keeps
 * its activations in the arena, and its forward pass and backward pass (BPTT, parameter gradients
 * accumulated into the gradient block, the gradient w.r.t. its input) as calls of the SIMD kernels
 * of src/wasm/. Every sequence is time-major: step t of row r is row t * b + r. A family added to
 * `nn/cell-registry.ts`'s list for wasm training needs a class here and a line in
 * {@link createCellStage}.
 */
import type { CellConfig } from '../nn/cell.ts';
import type { DenseConfig } from '../nn/dense.ts';
import { WASM_ACT, type ArenaTensor, type WasmArena, type WasmKernelExports } from '../core/wasm.ts';

/** What the stages' passes share: kernels, arena, steps, the weight and gradient blocks, scratch. */
export interface StageContext {
  readonly k: WasmKernelExports;
  readonly ar: WasmArena;
  /** Steps per sequence. */
  readonly steps: number;
  /** Byte address of element `offset` of the weight block. */
  w(offset: number): number;
  /** Byte address of element `offset` of the gradient block. */
  g(offset: number): number;
  /** Two B x (widest layer) tensors for the gradients carried between steps. */
  readonly carryA: ArenaTensor;
  readonly carryB: ArenaTensor;
  /** (widest layer) zeros: the bias of bias-free activations. */
  readonly zeros: ArenaTensor;
}

/** One layer of the trainer. */
export interface WasmStage {
  readonly inSize: number;
  readonly units: number;
  /** Gradient w.r.t. the outputs (T * B * units), written by the next stage or the loss. */
  readonly dOut: ArenaTensor;
  /** Byte address of the outputs of a batch of b sequences (T * b rows). */
  out(b: number): number;
  /** Forward over b sequences reading `input` (byte address, T * b rows of inSize). */
  forward(c: StageContext, b: number, input: number): void;
  /** Backward over b sequences: parameter gradients accumulate; dIn (0: none) is overwritten with dL/dinput. */
  backward(c: StageContext, b: number, input: number, dIn: number): void;
}

/** Sizes of one trainer: sequences per batch (B) and steps (T). */
interface Sizes {
  readonly batch: number;
  readonly steps: number;
}

/**
 * BPTT through `h_t = act(... + h_{t-1} R)`: S holds h at t = 0..T, dOut dL/dh_t from outside the
 * recurrence; writes the pre-activation gradients DZ (T * b * u) of every step.
 */
function recurrenceBackward(c: StageContext, b: number, u: number, S: number, dOut: number, DZ: number, R: number, act: number): void {
  const k = c.k, T = c.steps, bu = b * u, es = c.ar.bytes;
  let dsNext = 0, dsPrev = c.ar.ptr(c.carryA), spare = c.ar.ptr(c.carryB);
  for (let t = T - 1; t >= 0; t--) {
    const dz = DZ + t * bu * es;
    k.cellGrad(bu, S + (t + 1) * bu * es, dOut + t * bu * es, dsNext, dz, act);
    if (t > 0) {
      k.gemm(b, u, u, dz, u, 1, c.w(R), 1, u, dsPrev, u, 0);
      dsNext = dsPrev;
      const tmp = spare;
      spare = dsPrev;
      dsPrev = tmp;
    }
  }
}

/** The simple cell `h_t = act(x_t K + h_{t-1} R + b)` (RNN, ICLRNN; src/nn/simple-cell.ts). Parameters K, R, b. */
class SimpleStage implements WasmStage {
  private readonly S: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  private readonly DZ: ArenaTensor; // T * B * units
  readonly dOut: ArenaTensor;
  constructor(readonly inSize: number, readonly units: number, private readonly act: number, private readonly p: readonly number[], private readonly ar: WasmArena, z: Sizes) {
    const rows = z.batch * z.steps;
    this.S = ar.alloc((rows + z.batch) * units);
    this.DZ = ar.alloc(rows * units);
    this.dOut = ar.alloc(rows * units);
  }
  out(b: number): number {
    return this.ar.ptr(this.S, b * this.units);
  }
  forward(c: StageContext, b: number, input: number): void {
    const k = c.k, T = c.steps, rows = T * b, u = this.units, bu = b * u, es = c.ar.bytes, S = c.ar.ptr(this.S);
    const [K, R, bias] = this.p;
    k.zero(bu, S);
    k.gemm(rows, u, this.inSize, input, this.inSize, 1, c.w(K), u, 1, S + bu * es, u, 0);
    for (let t = 0; t < T; t++) {
      const next = S + (t + 1) * bu * es;
      if (t > 0) k.gemm(b, u, u, S + t * bu * es, u, 1, c.w(R), u, 1, next, u, 1);
      k.biasAct(b, u, next, c.w(bias), this.act);
    }
  }
  backward(c: StageContext, b: number, input: number, dIn: number): void {
    const k = c.k, rows = c.steps * b, n = this.inSize, u = this.units, S = c.ar.ptr(this.S), DZ = c.ar.ptr(this.DZ);
    const [K, R, bias] = this.p;
    recurrenceBackward(c, b, u, S, c.ar.ptr(this.dOut), DZ, R, this.act);
    k.gemm(n, u, rows, input, 1, n, DZ, u, 1, c.g(K), u, 1);
    k.gemm(u, u, rows, S, 1, u, DZ, u, 1, c.g(R), u, 1);
    k.colSumsAdd(rows, u, DZ, c.g(bias));
    if (dIn) k.gemm(rows, n, u, DZ, u, 1, c.w(K), 1, u, dIn, n, 0);
  }
}

/** An LSTM layer (Keras layout, gates i, f, c, o; src/nn/lstm-cell.ts). Parameters K, R, b. */
class LstmStage implements WasmStage {
  private readonly H: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  private readonly C: ArenaTensor; // (T + 1) * B * units, c at t = 0..T
  private readonly G: ArenaTensor; // T * B * 4 units: pre-activations, then the gate activations
  private readonly TC: ArenaTensor; // T * B * units, tanh(c_t)
  private readonly DZ: ArenaTensor; // T * B * 4 units
  private readonly dc: ArenaTensor; // B * units, dL/dc through the recurrence
  readonly dOut: ArenaTensor;
  constructor(readonly inSize: number, readonly units: number, private readonly p: readonly number[], private readonly ar: WasmArena, z: Sizes) {
    const rows = z.batch * z.steps, u = units;
    this.H = ar.alloc((rows + z.batch) * u);
    this.C = ar.alloc((rows + z.batch) * u);
    this.G = ar.alloc(rows * 4 * u);
    this.TC = ar.alloc(rows * u);
    this.DZ = ar.alloc(rows * 4 * u);
    this.dOut = ar.alloc(rows * u);
    this.dc = ar.alloc(z.batch * u);
  }
  out(b: number): number {
    return this.ar.ptr(this.H, b * this.units);
  }
  forward(c: StageContext, b: number, input: number): void {
    const k = c.k, ar = c.ar, T = c.steps, rows = T * b, u = this.units, u4 = 4 * u, bu = b * u, es = ar.bytes;
    const H = ar.ptr(this.H), C = ar.ptr(this.C), G = ar.ptr(this.G), TC = ar.ptr(this.TC);
    const [K, R, bias] = this.p;
    k.zero(bu, H);
    k.zero(bu, C);
    k.gemm(rows, u4, this.inSize, input, this.inSize, 1, c.w(K), u4, 1, G, u4, 0);
    for (let t = 0; t < T; t++) {
      const g = G + t * b * u4 * es;
      if (t > 0) k.gemm(b, u4, u, H + t * bu * es, u, 1, c.w(R), u4, 1, g, u4, 1);
      k.lstmForward(b, u, g, c.w(bias), C + t * bu * es, C + (t + 1) * bu * es, H + (t + 1) * bu * es, TC + t * bu * es);
    }
  }
  backward(c: StageContext, b: number, input: number, dIn: number): void {
    const k = c.k, ar = c.ar, T = c.steps, rows = T * b, n = this.inSize, u = this.units, u4 = 4 * u, bu = b * u, es = ar.bytes;
    const H = ar.ptr(this.H), C = ar.ptr(this.C), G = ar.ptr(this.G), TC = ar.ptr(this.TC), DZ = ar.ptr(this.DZ), dOut = ar.ptr(this.dOut);
    const dh = ar.ptr(c.carryA), dc = ar.ptr(this.dc);
    const [K, R, bias] = this.p;
    k.zero(bu, dc);
    for (let t = T - 1; t >= 0; t--) {
      const dz = DZ + t * b * u4 * es;
      k.lstmBackward(b, u, G + t * b * u4 * es, TC + t * bu * es, C + t * bu * es, dOut + t * bu * es, t < T - 1 ? dh : 0, dc, dz);
      // dL/dh_{t-1} = dz R^T (overwrites dh after this step consumed it)
      if (t > 0) k.gemm(b, u, u4, dz, u4, 1, c.w(R), 1, u4, dh, u, 0);
    }
    k.gemm(n, u4, rows, input, 1, n, DZ, u4, 1, c.g(K), u4, 1);
    k.gemm(u, u4, rows, H, 1, u, DZ, u4, 1, c.g(R), u4, 1);
    k.colSumsAdd(rows, u4, DZ, c.g(bias));
    if (dIn) k.gemm(rows, n, u4, DZ, u4, 1, c.w(K), 1, u4, dIn, n, 0);
  }
}

/** A GRU layer (Keras reset_after, gates z, r, h; src/graph/cells/gru.ts). Parameters K, R, bias, recurrentBias. */
class GruStage implements WasmStage {
  private readonly H: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  private readonly G: ArenaTensor; // T * B * 3 units: x K, then the activations z, r, hh
  private readonly A: ArenaTensor; // T * B * units: the candidate's recurrent term h_{t-1} R_h + bRec_h
  private readonly HZ: ArenaTensor; // B * 3 units, h_{t-1} R of the current step
  private readonly DX: ArenaTensor; // T * B * 3 units, gradient w.r.t. x K + bIn
  private readonly DHZ: ArenaTensor; // T * B * 3 units, gradient w.r.t. h_{t-1} R + bRec
  readonly dOut: ArenaTensor;
  constructor(readonly inSize: number, readonly units: number, private readonly p: readonly number[], private readonly ar: WasmArena, z: Sizes) {
    const rows = z.batch * z.steps, u = units, u3 = 3 * u;
    this.H = ar.alloc((rows + z.batch) * u);
    this.G = ar.alloc(rows * u3);
    this.A = ar.alloc(rows * u);
    this.HZ = ar.alloc(z.batch * u3);
    this.DX = ar.alloc(rows * u3);
    this.DHZ = ar.alloc(rows * u3);
    this.dOut = ar.alloc(rows * u);
  }
  out(b: number): number {
    return this.ar.ptr(this.H, b * this.units);
  }
  forward(c: StageContext, b: number, input: number): void {
    const k = c.k, ar = c.ar, T = c.steps, rows = T * b, u = this.units, u3 = 3 * u, bu = b * u, es = ar.bytes;
    const H = ar.ptr(this.H), G = ar.ptr(this.G), A = ar.ptr(this.A), HZ = ar.ptr(this.HZ);
    const [K, R, bIn, bRec] = this.p;
    k.zero(bu, H);
    k.zero(b * u3, HZ); // h_{-1} = 0
    k.gemm(rows, u3, this.inSize, input, this.inSize, 1, c.w(K), u3, 1, G, u3, 0);
    for (let t = 0; t < T; t++) {
      if (t > 0) k.gemm(b, u3, u, H + t * bu * es, u, 1, c.w(R), u3, 1, HZ, u3, 0);
      k.gruForward(b, u, G + t * b * u3 * es, c.w(bIn), HZ, c.w(bRec), H + t * bu * es, H + (t + 1) * bu * es, A + t * bu * es);
    }
  }
  backward(c: StageContext, b: number, input: number, dIn: number): void {
    const k = c.k, ar = c.ar, T = c.steps, rows = T * b, n = this.inSize, u = this.units, u3 = 3 * u, bu = b * u, es = ar.bytes;
    const H = ar.ptr(this.H), G = ar.ptr(this.G), A = ar.ptr(this.A), DX = ar.ptr(this.DX), DHZ = ar.ptr(this.DHZ), dOut = ar.ptr(this.dOut);
    const [K, R, bIn, bRec] = this.p;
    let dh = ar.ptr(c.carryA), dhPrev = ar.ptr(c.carryB);
    for (let t = T - 1; t >= 0; t--) {
      const dx = DX + t * b * u3 * es, dhz = DHZ + t * b * u3 * es;
      k.gruBackward(b, u, G + t * b * u3 * es, A + t * bu * es, H + t * bu * es, dOut + t * bu * es, t < T - 1 ? dh : 0, dx, dhz, dhPrev);
      if (t > 0) {
        k.gemm(b, u, u3, dhz, u3, 1, c.w(R), 1, u3, dhPrev, u, 1); // dL/dh_{t-1} += dhz R^T
        const tmp = dh;
        dh = dhPrev;
        dhPrev = tmp;
      }
    }
    k.gemm(n, u3, rows, input, 1, n, DX, u3, 1, c.g(K), u3, 1);
    k.gemm(u, u3, rows, H, 1, u, DHZ, u3, 1, c.g(R), u3, 1);
    k.colSumsAdd(rows, u3, DX, c.g(bIn));
    k.colSumsAdd(rows, u3, DHZ, c.g(bRec));
    if (dIn) k.gemm(rows, n, u3, DX, u3, 1, c.w(K), 1, u3, dIn, n, 0);
  }
}

/**
 * An ICRNN layer (src/nn/icrnn-cell.ts): `h_t = relu(x_t K + h_{t-1} R + x_{t-1} D2)`,
 * `y_t = relu(h_t V + h_{t-1} D1 + x_t D3)`, no biases; parameters K, R, D1, D2, D3, V. Everything
 * but the recurrence through R runs as whole-sequence products.
 */
class IcrnnStage implements WasmStage {
  private readonly S: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  private readonly Y: ArenaTensor; // T * B * units, the layer's outputs y
  private readonly DZ: ArenaTensor; // T * B * units, gradient w.r.t. h's pre-activations
  private readonly DH: ArenaTensor; // T * B * units, dL/dh_t through the outputs y_t and y_{t+1}
  readonly dOut: ArenaTensor;
  constructor(readonly inSize: number, readonly units: number, private readonly p: readonly number[], private readonly ar: WasmArena, z: Sizes) {
    const rows = z.batch * z.steps;
    this.S = ar.alloc((rows + z.batch) * units);
    this.Y = ar.alloc(rows * units);
    this.DZ = ar.alloc(rows * units);
    this.DH = ar.alloc(rows * units);
    this.dOut = ar.alloc(rows * units);
  }
  out(): number {
    return this.ar.ptr(this.Y);
  }
  forward(c: StageContext, b: number, input: number): void {
    const k = c.k, ar = c.ar, T = c.steps, rows = T * b, u = this.units, n = this.inSize, bu = b * u, es = ar.bytes;
    const S = ar.ptr(this.S), Y = ar.ptr(this.Y), relu = WASM_ACT.relu, zb = ar.ptr(c.zeros);
    const [K, R, D1, D2, D3, V] = this.p;
    k.zero(bu, S);
    // h pre-activations x_t K (+ x_{t-1} D2 from t = 1 on) for the whole sequence, then the recurrence
    k.gemm(rows, u, n, input, n, 1, c.w(K), u, 1, S + bu * es, u, 0);
    if (T > 1) k.gemm(rows - b, u, n, input, n, 1, c.w(D2), u, 1, S + 2 * bu * es, u, 1);
    for (let t = 0; t < T; t++) {
      const next = S + (t + 1) * bu * es;
      if (t > 0) k.gemm(b, u, u, S + t * bu * es, u, 1, c.w(R), u, 1, next, u, 1);
      k.biasAct(b, u, next, zb, relu);
    }
    // y_t = relu(h_t V + h_{t-1} D1 + x_t D3)
    k.gemm(rows, u, u, S + bu * es, u, 1, c.w(V), u, 1, Y, u, 0);
    k.gemm(rows, u, u, S, u, 1, c.w(D1), u, 1, Y, u, 1);
    k.gemm(rows, u, n, input, n, 1, c.w(D3), u, 1, Y, u, 1);
    k.biasAct(rows, u, Y, zb, relu);
  }
  backward(c: StageContext, b: number, input: number, dIn: number): void {
    const k = c.k, ar = c.ar, T = c.steps, rows = T * b, n = this.inSize, u = this.units, bu = b * u, es = ar.bytes;
    const S = ar.ptr(this.S), Y = ar.ptr(this.Y), DZ = ar.ptr(this.DZ), DH = ar.ptr(this.DH), dY = ar.ptr(this.dOut);
    const [K, R, D1, D2, D3, V] = this.p;
    k.actBackward(rows * u, Y, dY, WASM_ACT.relu); // dY becomes the gradient of y's pre-activations
    k.gemm(u, u, rows, S + bu * es, 1, u, dY, u, 1, c.g(V), u, 1);
    k.gemm(u, u, rows, S, 1, u, dY, u, 1, c.g(D1), u, 1);
    k.gemm(n, u, rows, input, 1, n, dY, u, 1, c.g(D3), u, 1);
    // dL/dh_t through y_t (V) and y_{t+1} (D1), then back through the recurrence
    k.gemm(rows, u, u, dY, u, 1, c.w(V), 1, u, DH, u, 0);
    if (T > 1) k.gemm(rows - b, u, u, dY + bu * es, u, 1, c.w(D1), 1, u, DH, u, 1);
    recurrenceBackward(c, b, u, S, DH, DZ, R, WASM_ACT.relu);
    k.gemm(n, u, rows, input, 1, n, DZ, u, 1, c.g(K), u, 1);
    k.gemm(u, u, rows, S, 1, u, DZ, u, 1, c.g(R), u, 1);
    if (T > 1) k.gemm(n, u, rows - b, input, 1, n, DZ + bu * es, u, 1, c.g(D2), u, 1);
    if (dIn) {
      k.gemm(rows, n, u, DZ, u, 1, c.w(K), 1, u, dIn, n, 0);
      k.gemm(rows, n, u, dY, u, 1, c.w(D3), 1, u, dIn, n, 1);
      if (T > 1) k.gemm(rows - b, n, u, DZ + bu * es, u, 1, c.w(D2), 1, u, dIn, n, 1);
    }
  }
}

/** A dense layer `act(x W + b)` of the head (no residual add). Parameters W, b. */
class DenseStage implements WasmStage {
  private readonly OUT: ArenaTensor; // T * B * units
  readonly dOut: ArenaTensor;
  constructor(readonly inSize: number, readonly units: number, private readonly act: number, private readonly p: readonly number[], private readonly ar: WasmArena, z: Sizes) {
    this.OUT = ar.alloc(z.batch * z.steps * units);
    this.dOut = ar.alloc(z.batch * z.steps * units);
  }
  out(): number {
    return this.ar.ptr(this.OUT);
  }
  forward(c: StageContext, b: number, input: number): void {
    const k = c.k, rows = c.steps * b, out = c.ar.ptr(this.OUT);
    const [W, bias] = this.p;
    k.gemm(rows, this.units, this.inSize, input, this.inSize, 1, c.w(W), this.units, 1, out, this.units, 0);
    k.biasAct(rows, this.units, out, c.w(bias), this.act);
  }
  backward(c: StageContext, b: number, input: number, dIn: number): void {
    const k = c.k, rows = c.steps * b, n = this.inSize, u = this.units, out = c.ar.ptr(this.OUT), dOut = c.ar.ptr(this.dOut);
    const [W, bias] = this.p;
    k.actBackward(rows * u, out, dOut, this.act);
    k.gemm(n, u, rows, input, 1, n, dOut, u, 1, c.g(W), u, 1);
    k.colSumsAdd(rows, u, dOut, c.g(bias));
    if (dIn) k.gemm(rows, n, u, dOut, u, 1, c.w(W), 1, u, dIn, n, 0);
  }
}

/**
 * The stage of a recurrent layer of config `cell` reading `inSize` inputs, with its parameters at
 * element offsets `p` of the weight block (in the cell's parameter order).
 */
export function createCellStage(cell: CellConfig, inSize: number, p: readonly number[], ar: WasmArena, sizes: Sizes): WasmStage {
  switch (cell.type) {
    case 'simple': return new SimpleStage(inSize, cell.units, WASM_ACT[cell.activation as keyof typeof WASM_ACT], p, ar, sizes);
    case 'lstm': return new LstmStage(inSize, cell.units, p, ar, sizes);
    case 'gru': return new GruStage(inSize, cell.units, p, ar, sizes);
    case 'icrnn': return new IcrnnStage(inSize, cell.units, p, ar, sizes);
    default: throw new Error(`wasm trainer: no stage for cell type '${cell.type}'`);
  }
}

/** The stage of a (non-residual) dense layer with its parameters W, b at offsets `p`. */
export function createDenseStage(d: DenseConfig, inSize: number, p: readonly number[], ar: WasmArena, sizes: Sizes): WasmStage {
  return new DenseStage(inSize, d.units, WASM_ACT[d.activation as keyof typeof WASM_ACT], p, ar, sizes);
}
