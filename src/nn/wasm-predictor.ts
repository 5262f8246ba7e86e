/**
 * Inference of a {@link SequenceModel} in the f64 WebAssembly kernels: the forward pass, the input
 * gradient (forward + reverse sweep to the input, parameters untouched) and forward mode (a value
 * lane plus direction lanes, what the MPC's Jacobians need), with the weights copied into a kernel
 * instance's linear memory. Made for small batches, above all batch 1: a recurrent layer runs its
 * whole sequence in one wasm call (`cellSeq`: the input projection of all steps as one GEMM, then
 * `h_t = act(p_t + h_{t-1} R + b)` step by step, skipping rows of R whose inputs are zero in every
 * row, i.e. inactive ReLU units), so a 10-step forward of a two-layer model is about six calls.
 *
 * Covers what the model's hand-written simple cell computes: stacks of simple cells
 * (`h_t = act(x_t K + h_{t-1} R + b)`, tanh or ReLU: the RNN and the ICLRNN) followed by dense
 * layers (linear, ReLU, tanh; residual heads too), with or without the `[x, offset - x]`
 * augmentation. Not covered ({@link wasmPredictorReason} says why): other cells, dense layers
 * between recurrent layers, sigmoid dense layers. Callers keep the JS path for those and where
 * wasm SIMD is missing or disabled ({@link WasmPredictor.create} returns null).
 *
 * Results equal the JS model's to rounding (the SIMD sums and the FMA variant's fused products
 * round differently: about 1e-15 relative). Pure: the outputs depend only on the inputs and the
 * weights copied at construction or by the last {@link WasmPredictor.sync}; the buffers in the
 * arena are scratch.
 */
import type { SequenceModel } from './model.ts';
import { hasWasmKernels } from './cell-registry.ts';
import type { Parameter } from './parameter.ts';
import { ValidationError } from '../core/errors.ts';
import { instantiateKernels, WasmArena, WASM_ACT, type WasmFmaOption, type ArenaTensor, type WasmKernelExports } from '../core/wasm.ts';

/** Why `model` is not covered by {@link WasmPredictor}, or null when it is. */
export function wasmPredictorReason(model: SequenceModel): string | null {
  if (model.interleaved) return 'dense layers between recurrent layers';
  for (const c of model.cells) {
    const cfg = c.config();
    if (!hasWasmKernels(cfg.type, 'predict')) return `cell type '${cfg.type}'`;
  }
  for (const d of model.head) if (!(d.activation in WASM_ACT)) return `dense activation '${d.activation}'`;
  return null;
}

/** Options of {@link WasmPredictor.create}. */
export type WasmPredictorOptions = WasmFmaOption;

interface CellStage {
  kind: 'cell';
  inSize: number;
  units: number;
  act: number;
  relu: boolean;
  /** Element offsets of K, R, R^T and b in the weight block. */
  K: number; R: number; RT: number; b: number;
  S: ArenaTensor; // (rows + blocks) * units: block 0 (unused, zero), then h_1..h_T
  D: ArenaTensor; // rows * units: output gradients, then pre-activation gradients
  XIN: ArenaTensor; // blocks * units: the constant input's projection (forward mode, first layer)
}

interface DenseStage {
  kind: 'dense';
  inSize: number;
  units: number;
  act: number;
  relu: boolean;
  residual: boolean;
  W: number; b: number;
  ACT: ArenaTensor; // rows * units, after the activation, before the residual add
  OUT: ArenaTensor; // rows * units, after the residual add (aliases ACT without residual)
  D: ArenaTensor; // rows * units
}

type Stage = CellStage | DenseStage;

/**
 * A model's weights in an f64 wasm arena with small-batch forward, input-gradient and forward-mode
 * passes (see the module comment). Inputs and outputs are time-major (`[step][batch][feature]`),
 * like {@link SequenceModel.forwardTimeMajor}; inputs are the plain features (the augmentation is
 * applied here).
 */
export class WasmPredictor {
  /** True when the FMA (relaxed SIMD) kernels run. */
  readonly fma: boolean;
  /** True when every nonlinearity is a ReLU (and no residual head): the network is piecewise linear. */
  readonly piecewiseLinear: boolean;
  private readonly k: WasmKernelExports;
  private readonly ar: WasmArena;
  private readonly params: Parameter[];
  private readonly paramOffsets: number[] = [];
  private readonly transposed: { from: number; to: number; n: number }[] = [];
  private readonly Wt: ArenaTensor;
  private readonly stages: Stage[] = [];
  private readonly nin: number;
  private readonly na: number;
  private readonly nout: number;
  private readonly offset: Float64Array | null;
  private readonly maxWidth: number;
  private A: ArenaTensor = { offset: 0, length: 0 }; // rows * na: the augmented input (forward mode: lanes * na)
  private DA: ArenaTensor = { offset: 0, length: 0 }; // rows * na: gradient w.r.t. the augmented input
  private IDX: ArenaTensor = { offset: 0, length: 0 }; // i32 scratch of the sparse products
  private PAT: ArenaTensor = { offset: 0, length: 0 }; // bytes: the activation pattern of a forward-mode run
  private patView = new Uint8Array(0);
  private capRows = 0;
  private capBlocks = 0;

  /** Whether the wasm path covers `model` (it still needs wasm SIMD at run time: {@link create}). */
  static supports(model: SequenceModel): boolean {
    return wasmPredictorReason(model) === null;
  }

  /** A predictor for `model`, or null when wasm SIMD is unavailable (or disabled) or the model is not covered. */
  static create(model: SequenceModel, options: WasmPredictorOptions = {}): WasmPredictor | null {
    if (!WasmPredictor.supports(model)) return null;
    const k = instantiateKernels('f64', options.fma ?? 'auto');
    return k ? new WasmPredictor(model, k) : null;
  }

  private constructor(private readonly model: SequenceModel, k: WasmKernelExports) {
    this.k = k;
    this.ar = new WasmArena(k);
    this.fma = k.hasFma() === 1;
    this.params = model.parameters();
    this.nin = model.inputSize;
    this.na = model.augmentedSize;
    this.nout = model.outputSize;
    this.offset = model.spec.augmentation ? Float64Array.from(model.spec.augmentation.offset) : null;
    let total = 0;
    const place = (n: number) => {
      const o = total;
      total += Math.ceil(n / 2) * 2; // every matrix 16-byte aligned
      return o;
    };
    for (const p of this.params) this.paramOffsets.push(place(p.value.length));
    let pi = 0, size = this.na, maxWidth = this.na;
    for (const c of model.cells) {
      const cfg = c.config() as Extract<ReturnType<typeof c.config>, { type: 'simple' }>;
      const u = c.units;
      const RT = place(u * u);
      this.transposed.push({ from: this.paramOffsets[pi + 1], to: RT, n: u });
      this.stages.push({
        kind: 'cell', inSize: size, units: u, act: WASM_ACT[cfg.activation], relu: cfg.activation === 'relu',
        K: this.paramOffsets[pi], R: this.paramOffsets[pi + 1], RT, b: this.paramOffsets[pi + 2],
        S: EMPTY, D: EMPTY, XIN: EMPTY,
      });
      pi += 3;
      size = u;
      maxWidth = Math.max(maxWidth, u);
    }
    for (const d of model.head) {
      this.stages.push({
        kind: 'dense', inSize: size, units: d.units, act: WASM_ACT[d.activation as keyof typeof WASM_ACT], relu: d.activation === 'relu',
        residual: d.residual, W: this.paramOffsets[pi], b: this.paramOffsets[pi + 1], ACT: EMPTY, OUT: EMPTY, D: EMPTY,
      });
      pi += 2;
      size = d.units;
      maxWidth = Math.max(maxWidth, d.units);
    }
    this.maxWidth = maxWidth;
    this.piecewiseLinear = this.stages.every((s) => (s.kind === 'cell' ? s.relu : !s.residual && (s.relu || s.act === WASM_ACT.linear)));
    this.ar.reserve(total * 8);
    this.Wt = this.ar.alloc(total);
    this.sync();
    this.ensure(16, 8);
  }

  /** Bytes of wasm memory in use. */
  get memoryBytes(): number {
    return this.ar.used;
  }

  /** Copies the source model's current weights into the arena (after training or any change). */
  sync(): void {
    const f = this.ar.f;
    const base = this.Wt.offset;
    this.params.forEach((p, i) => f.set(p.value, base + this.paramOffsets[i]));
    for (const { from, to, n } of this.transposed) {
      const a = base + from, b = base + to;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f[b + j * n + i] = f[a + i * n + j];
    }
  }

  /**
   * Sizes the buffers for `batch` sequences (or forward-mode lanes) of `steps` steps up front, so
   * that the first call of that size does not grow the memory (calls of other sizes grow it as
   * needed).
   */
  reserve(batch: number, steps: number): void {
    this.ensure(batch * steps, batch);
  }

  /** Makes the buffers hold `rows` rows (steps x batch or steps x lanes) in blocks of `blocks`. */
  private ensure(rows: number, blocks: number): void {
    if (rows <= this.capRows && blocks <= this.capBlocks) return;
    const R = Math.max(rows, this.capRows), B = Math.max(blocks, this.capBlocks);
    const ar = this.ar;
    // a bump allocator: buffers outgrown here stay unused in the arena (capacities only grow)
    const sizes: number[] = [];
    for (const st of this.stages) sizes.push(...(st.kind === 'cell' ? [(R + B) * st.units, R * st.units, B * st.units] : [R * st.units, st.residual ? R * st.units : 0, R * st.units]));
    const patBytes = R * this.patternSize(1);
    sizes.push(R * this.na, R * this.na, Math.ceil(this.maxWidth / 2) + 2, Math.ceil(patBytes / 8));
    ar.reserve(sizes.reduce((a, n) => a + Math.ceil(n / 2) * 16, 0)); // one memory.grow for all
    for (const st of this.stages) {
      if (st.kind === 'cell') {
        st.S = ar.alloc((R + B) * st.units);
        st.D = ar.alloc(R * st.units);
        st.XIN = ar.alloc(B * st.units);
      } else {
        st.ACT = ar.alloc(R * st.units);
        st.OUT = st.residual ? ar.alloc(R * st.units) : st.ACT;
        st.D = ar.alloc(R * st.units);
      }
    }
    this.A = ar.alloc(R * this.na);
    this.DA = ar.alloc(R * this.na);
    this.IDX = ar.alloc(Math.ceil(this.maxWidth / 2) + 2);
    this.PAT = ar.alloc(Math.ceil(patBytes / 8));
    this.capRows = R;
    this.capBlocks = B;
  }

  private checkShape(what: string, x: Float64Array, batch: number, steps: number, width: number): void {
    if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(steps) || steps < 1)
      throw new ValidationError(`WasmPredictor.${what}: batch and steps must be positive integers, got ${batch} and ${steps}`);
    if (x.length < batch * steps * width) throw new ValidationError(`WasmPredictor.${what}: input holds ${x.length} values, expected ${batch * steps * width}`);
  }

  /** Writes the augmented time-major input of `rows` rows into A. */
  private loadInput(x: Float64Array, rows: number): void {
    const f = this.ar.f, nin = this.nin, na = this.na, off = this.offset;
    let o = this.A.offset;
    if (off) {
      for (let r = 0, p = 0; r < rows; r++, o += na, p += nin) {
        for (let j = 0; j < nin; j++) {
          const v = x[p + j];
          f[o + j] = v;
          f[o + nin + j] = off[j] - v;
        }
      }
    } else for (let i = 0, n = rows * nin; i < n; i++) f[o + i] = x[i];
  }

  private w(off: number): number {
    return (this.Wt.offset + off) * 8;
  }

  /** Byte address of a stage's output (time-major rows). */
  private outPtr(st: Stage, blocks: number): number {
    return st.kind === 'cell' ? this.ar.ptr(st.S, blocks * st.units) : this.ar.ptr(st.OUT);
  }

  /** Forward pass of `steps` blocks of `b` rows on A. */
  private run(b: number, steps: number): void {
    const k = this.k, ar = this.ar, rows = b * steps, idx = ar.ptr(this.IDX);
    let input = ar.ptr(this.A);
    for (const st of this.stages) {
      const n = st.inSize, u = st.units;
      if (st.kind === 'cell') {
        const p = ar.ptr(st.S, b * u);
        k.gemm(rows, u, n, input, n, 1, this.w(st.K), u, 1, p, u, 0);
        k.cellSeq(steps, b, u, p, b * u, ar.ptr(st.S), this.w(st.R), this.w(st.b), st.act, 0, idx);
      } else {
        const act = ar.ptr(st.ACT);
        k.gemm(rows, u, n, input, n, 1, this.w(st.W), u, 1, act, u, 0);
        k.biasAct(rows, u, act, this.w(st.b), st.act);
        if (st.residual) {
          const f = ar.f;
          f.copyWithin(st.OUT.offset, st.ACT.offset, st.ACT.offset + rows * u);
          k.addInto(rows * u, ar.ptr(this.A), ar.ptr(st.OUT));
        }
      }
      input = this.outPtr(st, b);
    }
  }

  /**
   * Forward pass on time-major plain input (`steps * batch * inputSize`); writes the time-major
   * output (`steps * batch * outputSize`) into `out` (a fresh array when omitted) and returns it.
   */
  forward(x: Float64Array, batch: number, steps: number, out?: Float64Array): Float64Array {
    this.checkShape('forward', x, batch, steps, this.nin);
    const rows = batch * steps;
    this.ensure(rows, batch);
    this.loadInput(x, rows);
    this.run(batch, steps);
    return this.copyOut(rows, batch, out);
  }

  private copyOut(rows: number, blocks: number, out: Float64Array | undefined): Float64Array {
    const n = rows * this.nout;
    const y = out ?? new Float64Array(n);
    if (y.length < n) throw new ValidationError(`WasmPredictor: output array holds ${y.length} values, expected ${n}`);
    const o = this.outPtr(this.stages[this.stages.length - 1], blocks) / 8;
    const f = this.ar.f;
    for (let i = 0; i < n; i++) y[i] = f[o + i];
    return y;
  }

  /**
   * Gradient of `sum(dy * y)` w.r.t. the plain input, y the forward output on `x` (all time-major:
   * x and the returned gradient `steps * batch * inputSize`, dy `steps * batch * outputSize`).
   * Writes it into `dx` (a fresh array when omitted) and returns it; the forward output goes into
   * `y` when given. The parameters and their gradients are not touched.
   */
  inputGradient(x: Float64Array, dy: Float64Array, batch: number, steps: number, dx?: Float64Array, y?: Float64Array): Float64Array {
    this.checkShape('inputGradient', x, batch, steps, this.nin);
    const rows = batch * steps, nin = this.nin, na = this.na;
    if (dy.length < rows * this.nout) throw new ValidationError(`WasmPredictor.inputGradient: dy holds ${dy.length} values, expected ${rows * this.nout}`);
    this.ensure(rows, batch);
    this.loadInput(x, rows);
    this.run(batch, steps);
    if (y) this.copyOut(rows, batch, y);
    const k = this.k, ar = this.ar, idx = ar.ptr(this.IDX);
    const last = this.stages.length - 1;
    {
      const f = ar.f, o = this.stages[last].D.offset;
      for (let i = 0, n = rows * this.nout; i < n; i++) f[o + i] = dy[i];
    }
    k.zero(rows * na, ar.ptr(this.DA));
    for (let s = last; s >= 0; s--) {
      const st = this.stages[s], n = st.inSize, u = st.units, D = ar.ptr(st.D);
      const dIn = s === 0 ? ar.ptr(this.DA) : ar.ptr(this.stages[s - 1].D);
      // the first layer's input gradient adds to the residual terms already in DA
      const acc = s === 0 ? 1 : 0;
      if (st.kind === 'dense') {
        if (st.residual) k.addInto(rows * u, D, ar.ptr(this.DA));
        k.actBackward(rows * u, ar.ptr(st.ACT), D, st.act);
        k.gemm(rows, n, u, D, u, 1, this.w(st.W), 1, u, dIn, n, acc);
      } else {
        k.cellSeqBack(steps, batch, u, ar.ptr(st.S), D, this.w(st.RT), st.act, idx);
        k.gemm(rows, n, u, D, u, 1, this.w(st.K), 1, u, dIn, n, acc);
      }
    }
    const g = dx ?? new Float64Array(rows * nin);
    if (g.length < rows * nin) throw new ValidationError(`WasmPredictor.inputGradient: dx holds ${g.length} values, expected ${rows * nin}`);
    const f = ar.f;
    const o = this.DA.offset;
    if (this.offset) {
      for (let r = 0; r < rows; r++) for (let j = 0; j < nin; j++) g[r * nin + j] = f[o + r * na + j] - f[o + r * na + nin + j];
    } else for (let i = 0, n = rows * nin; i < n; i++) g[i] = f[o + i];
    return g;
  }

  /** Length of the activation pattern of a {@link tangent} run of `steps` steps (ReLU decisions of lane 0). */
  patternSize(steps: number): number {
    let n = 0;
    for (const st of this.stages) if (st.relu) n += st.units;
    return n * steps;
  }

  /**
   * Forward mode on one sequence of identical rows (the contract of the MPC's TangentEngine.run):
   * `a` holds `lanes` rows of the augmented input (lane 0 the values, lanes 1.. input directions),
   * the same at every step; `out` receives `steps * lanes * outputSize` (lane 0 the outputs, lane d
   * their derivative along direction d). With `pattern`, the ReLU decisions of lane 0 are written
   * to it (per step: the units of each recurrent layer, then the ReLU dense layers; 1 on).
   */
  tangent(a: Float64Array, lanes: number, steps: number, out: Float64Array, pattern: Uint8Array | null = null): void {
    if (!Number.isInteger(lanes) || lanes < 1 || !Number.isInteger(steps) || steps < 1)
      throw new ValidationError(`WasmPredictor.tangent: lanes and steps must be positive integers, got ${lanes} and ${steps}`);
    const na = this.na, L = lanes, rows = L * steps;
    this.ensure(rows, L);
    const k = this.k, ar = this.ar, idx = ar.ptr(this.IDX);
    if (a.length < L * na) throw new ValidationError(`WasmPredictor.tangent: a holds ${a.length} values, expected ${L * na}`);
    const f = ar.f;
    for (let i = 0, o = this.A.offset; i < L * na; i++) f[o + i] = a[i];
    let input = ar.ptr(this.A);
    let first = true;
    for (const st of this.stages) {
      const n = st.inSize, u = st.units;
      if (st.kind === 'cell') {
        if (first) {
          // constant input: project it once
          const p = ar.ptr(st.XIN);
          k.gemm(L, u, n, input, n, 1, this.w(st.K), u, 1, p, u, 0);
          k.cellSeq(steps, L, u, p, 0, ar.ptr(st.S), this.w(st.R), this.w(st.b), st.act, 1, idx);
        } else {
          const p = ar.ptr(st.S, L * u);
          k.gemm(rows, u, n, input, n, 1, this.w(st.K), u, 1, p, u, 0);
          k.cellSeq(steps, L, u, p, L * u, ar.ptr(st.S), this.w(st.R), this.w(st.b), st.act, 1, idx);
        }
      } else {
        const act = ar.ptr(st.ACT);
        k.gemm(rows, u, n, input, n, 1, this.w(st.W), u, 1, act, u, 0);
        k.tangentBiasAct(steps, L, u, act, this.w(st.b), st.act);
        if (st.residual) {
          const A = this.A.offset, src = st.ACT.offset, dst = st.OUT.offset, blk = L * u;
          for (let t = 0; t < steps; t++) for (let i = 0; i < blk; i++) f[dst + t * blk + i] = f[src + t * blk + i] + f[A + i];
        }
      }
      first = false;
      input = this.outPtr(st, L);
    }
    const n = rows * this.nout;
    if (out.length < n) throw new ValidationError(`WasmPredictor.tangent: out holds ${out.length} values, expected ${n}`);
    const o = this.outPtr(this.stages[this.stages.length - 1], L) / 8;
    for (let i = 0; i < n; i++) out[i] = f[o + i];
    if (pattern) {
      const per = this.patternSize(1), dst = ar.ptr(this.PAT);
      let base = 0;
      for (const st of this.stages) {
        if (!st.relu) continue;
        // lane 0 of each step's block: h > 0 exactly when the pre-activation was > 0
        const u = st.units, src = st.kind === 'cell' ? ar.ptr(st.S, L * u) : ar.ptr(st.ACT);
        k.reluPattern(steps, u, src, L * u, dst + base, per);
        base += u;
      }
      const m = steps * per;
      if (pattern.length < m) throw new ValidationError(`WasmPredictor.tangent: pattern holds ${pattern.length} entries, expected ${m}`);
      // a cached view of the pattern bytes (re-made when the memory grows or the length changes)
      const buf = this.k.memory.buffer;
      if (this.patView.buffer !== buf || this.patView.byteOffset !== dst || this.patView.length !== m) this.patView = new Uint8Array(buf, dst, m);
      pattern.set(this.patView);
    }
  }
}

const EMPTY: ArenaTensor = { offset: 0, length: 0 };
