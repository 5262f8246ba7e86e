/**
 * Training of stacks of simple cells (RNN, ICLRNN: `h_t = act(x_t K + h_{t-1} R + b)`, the
 * equations of src/nn/simple-cell.ts), LSTM cells (src/nn/lstm-cell.ts: Keras gates i, f, c, o),
 * ICRNN cells (src/nn/icrnn-cell.ts) or GRU cells (src/graph/cells/gru.ts) with a dense head, entirely in a wasm arena: parameters, gradients, Adam state, activations and
 * the gathered minibatch live in linear memory and every step (gather, forward, MSE, BPTT, Adam,
 * the non-negative clip and the spectral normalisation) runs in the SIMD kernels of ./wasm.ts. The
 * spectral constraints' power-iteration vectors live in the arena too and go back to the model's
 * constraint objects with the weights ({@link WasmTrainer.pullWeights}). The f32 kernels compute
 * tanh and the sigmoid by a rational approximation (4e-7 relative); the f64 kernels by the scalar
 * routines. Which families this covers is `nn/cell-registry.ts`'s list for wasm training.
 *
 * Deterministic: same model, data, order and variant give bit-identical weights.
 */
import type { Parameter } from '../nn/parameter.ts';
import type { SequenceModel } from '../nn/model.ts';
import { hasWasmKernels } from '../nn/cell-registry.ts';
import type { OptimizerConfig } from './optimizers.ts';
import { ValidationError } from '../core/errors.ts';
import { instantiateKernels, WasmArena, WASM_ACT, type WasmFmaOption, type ArenaTensor, type WasmKernelExports, type WasmPrecision } from '../core/wasm.ts';

/** Scaled sequences, batch-major (the trainer's TrainingData). */
interface Sequences {
  inputs: Float64Array;
  targets: Float64Array;
  count: number;
  steps: number;
}

/** Options of {@link WasmTrainer.create}. */
export interface WasmTrainerOptions extends WasmFmaOption {
  precision: WasmPrecision;
  /** Largest minibatch (sequences). */
  batchCapacity: number;
  /** Steps per sequence. */
  steps: number;
  /** The optimiser (only Adam runs in wasm). */
  optimizer: OptimizerConfig;
}

interface CellStage {
  kind: 'cell';
  inSize: number;
  units: number;
  act: number;
  K: number; R: number; b: number; // parameter element offsets in the weight block
  S: ArenaTensor; // (T + 1) * B * units, states at t = 0..T (t = 0 zeros)
  DZ: ArenaTensor; // T * B * units
  dOut: ArenaTensor; // T * B * units, gradient w.r.t. the outputs
}

interface DenseStage {
  kind: 'dense';
  inSize: number;
  units: number;
  act: number;
  W: number; b: number;
  out: ArenaTensor; // T * B * units
  dOut: ArenaTensor;
}

/** An LSTM layer (Keras layout, gates i, f, c, o): src/nn/lstm-cell.ts's equations. */
interface LstmStage {
  kind: 'lstm';
  inSize: number;
  units: number;
  K: number; R: number; b: number; // parameter element offsets in the weight block
  H: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  C: ArenaTensor; // (T + 1) * B * units, c at t = 0..T
  G: ArenaTensor; // T * B * 4 units: pre-activations, then the gate activations
  TC: ArenaTensor; // T * B * units, tanh(c_t)
  DZ: ArenaTensor; // T * B * 4 units
  dOut: ArenaTensor; // T * B * units
  dc: ArenaTensor; // B * units, dL/dc through the recurrence
}

/**
 * An ICRNN layer (src/nn/icrnn-cell.ts): `h_t = relu(x_t K + h_{t-1} R + x_{t-1} D2)`,
 * `y_t = relu(h_t V + h_{t-1} D1 + x_t D3)`, no biases. Everything but the recurrence through R
 * runs as whole-sequence products.
 */
interface IcrnnStage {
  kind: 'icrnn';
  inSize: number;
  units: number;
  K: number; R: number; D1: number; D2: number; D3: number; V: number; // parameter element offsets
  S: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  Y: ArenaTensor; // T * B * units, the layer's outputs y
  DZ: ArenaTensor; // T * B * units, gradient w.r.t. h's pre-activations
  DH: ArenaTensor; // T * B * units, dL/dh_t through the outputs y_t and y_{t+1}
  dOut: ArenaTensor; // T * B * units, gradient w.r.t. the outputs y
}

/** A GRU layer (Keras reset_after, gates z, r, h): src/graph/cells/gru.ts's equations. */
interface GruStage {
  kind: 'gru';
  inSize: number;
  units: number;
  K: number; R: number; bIn: number; bRec: number; // parameter element offsets
  H: ArenaTensor; // (T + 1) * B * units, h at t = 0..T (t = 0 zeros)
  G: ArenaTensor; // T * B * 3 units: x K, then the activations z, r, hh
  A: ArenaTensor; // T * B * units: the candidate's recurrent term h_{t-1} R_h + bRec_h
  HZ: ArenaTensor; // B * 3 units, h_{t-1} R of the current step
  DX: ArenaTensor; // T * B * 3 units, gradient w.r.t. x K + bIn
  DHZ: ArenaTensor; // T * B * 3 units, gradient w.r.t. h_{t-1} R + bRec
  dOut: ArenaTensor; // T * B * units
}

type Stage = CellStage | LstmStage | IcrnnStage | GruStage | DenseStage;

/** Why a model cannot train in wasm, or null when it can. */
export function wasmTrainableReason(model: SequenceModel, optimizer: OptimizerConfig): string | null {
  if (optimizer.type !== 'adam') return 'the wasm trainer runs Adam only';
  if (model.interleaved) return 'dense layers between recurrent layers';
  for (const c of model.cells) if (!hasWasmKernels(c.config().type, 'train')) return `cell type '${c.config().type}'`;
  for (const d of model.head) {
    if (d.residual) return 'residual dense layers';
    if (!(d.activation in WASM_ACT)) return `dense activation '${d.activation}'`;
  }
  return null;
}

/** A model's training state in a wasm arena (see the module comment). */
export class WasmTrainer {
  readonly precision: WasmPrecision;
  readonly fma: boolean;
  private readonly k: WasmKernelExports;
  private readonly ar: WasmArena;
  private readonly params: Parameter[];
  private readonly paramOffsets: number[] = [];
  private readonly W: ArenaTensor; // all weights, in model.parameters() order
  private readonly G: ArenaTensor;
  private readonly M: ArenaTensor;
  private readonly V: ArenaTensor;
  private readonly X: ArenaTensor; // T * B * augmented inputs
  private readonly Y: ArenaTensor; // T * B * outputs (targets)
  private readonly dsA: ArenaTensor;
  private readonly dsB: ArenaTensor;
  private readonly stages: Stage[] = [];
  private readonly nin: number;
  private readonly na: number;
  private readonly nout: number;
  private readonly offset: number[] | null;
  private readonly capacity: number;
  /** Steps per sequence this trainer was sized for. */
  readonly steps: number;
  private readonly adamConfig: Extract<OptimizerConfig, { type: 'adam' }>;
  private t = 0;
  /** Multiplies the configured learning rate in the following {@link update}s (a schedule sets it per epoch). */
  learningRateFactor = 1;
  private scratch = new Float64Array(0);
  /** Per spectrally normalised parameter (index in params): its power-iteration vector in the arena. */
  private readonly spectralU = new Map<number, ArenaTensor>();
  private spectralV: ArenaTensor | null = null;
  private spectralU2: ArenaTensor | null = null;
  /** Zeros, the bias of the ICRNN's bias-free ReLU steps. */
  private readonly zeroBias: ArenaTensor;
  private lastBatch = 0;

  /** A trainer for `model`, or null when wasm SIMD is unavailable or the model is not covered ({@link wasmTrainableReason}). */
  static create(model: SequenceModel, options: WasmTrainerOptions): WasmTrainer | null {
    if (wasmTrainableReason(model, options.optimizer) !== null) return null;
    const k = instantiateKernels(options.precision, options.fma ?? 'auto');
    return k ? new WasmTrainer(model, k, options) : null;
  }

  private constructor(private readonly model: SequenceModel, k: WasmKernelExports, options: WasmTrainerOptions) {
    if (!Number.isInteger(options.batchCapacity) || options.batchCapacity < 1) throw new ValidationError(`batch capacity must be a positive integer, got ${options.batchCapacity}`);
    this.k = k;
    this.ar = new WasmArena(k);
    this.precision = this.ar.precision;
    this.fma = k.hasFma() === 1;
    this.adamConfig = options.optimizer as Extract<OptimizerConfig, { type: 'adam' }>;
    this.capacity = options.batchCapacity;
    this.steps = options.steps;
    this.params = model.parameters();
    let total = 0;
    for (const p of this.params) {
      this.paramOffsets.push(total);
      total += Math.ceil(p.value.length / 2) * 2; // keep every matrix 16-byte aligned in f64 too
    }
    const ar = this.ar;
    this.W = ar.alloc(total);
    this.G = ar.alloc(total);
    this.M = ar.alloc(total);
    this.V = ar.alloc(total);
    this.nin = model.inputSize;
    this.na = model.augmentedSize;
    this.nout = model.outputSize;
    this.offset = model.spec.augmentation ? model.spec.augmentation.offset.slice() : null;
    const rows = this.capacity * this.steps, B = this.capacity;
    this.X = ar.alloc(rows * this.na);
    this.Y = ar.alloc(rows * this.nout);
    let maxUnits = 1;
    let pi = 0;
    let size = this.na;
    for (const c of model.cells) {
      const u = c.units;
      maxUnits = Math.max(maxUnits, u);
      if (c.config().type === 'lstm') {
        this.stages.push({
          kind: 'lstm', inSize: size, units: u,
          K: this.paramOffsets[pi], R: this.paramOffsets[pi + 1], b: this.paramOffsets[pi + 2],
          H: ar.alloc((rows + B) * u), C: ar.alloc((rows + B) * u), G: ar.alloc(rows * 4 * u), TC: ar.alloc(rows * u),
          DZ: ar.alloc(rows * 4 * u), dOut: ar.alloc(rows * u), dc: ar.alloc(B * u),
        });
        pi += 3;
        size = u;
        continue;
      }
      if (c.config().type === 'gru') {
        const u3 = 3 * u; // kernel, recurrentKernel, bias, recurrentBias (the program's parameter order)
        this.stages.push({
          kind: 'gru', inSize: size, units: u,
          K: this.paramOffsets[pi], R: this.paramOffsets[pi + 1], bIn: this.paramOffsets[pi + 2], bRec: this.paramOffsets[pi + 3],
          H: ar.alloc((rows + B) * u), G: ar.alloc(rows * u3), A: ar.alloc(rows * u), HZ: ar.alloc(B * u3),
          DX: ar.alloc(rows * u3), DHZ: ar.alloc(rows * u3), dOut: ar.alloc(rows * u),
        });
        pi += 4;
        size = u;
        continue;
      }
      if (c.config().type === 'icrnn') {
        const o = (j: number) => this.paramOffsets[pi + j]; // K, R, D1, D2, D3, V (IcrnnCell.params order)
        this.stages.push({
          kind: 'icrnn', inSize: size, units: u, K: o(0), R: o(1), D1: o(2), D2: o(3), D3: o(4), V: o(5),
          S: ar.alloc((rows + B) * u), Y: ar.alloc(rows * u), DZ: ar.alloc(rows * u), DH: ar.alloc(rows * u), dOut: ar.alloc(rows * u),
        });
        pi += 6;
        size = u;
        continue;
      }
      const cfg = c.config() as Extract<ReturnType<typeof c.config>, { type: 'simple' }>;
      this.stages.push({
        kind: 'cell', inSize: size, units: u, act: WASM_ACT[cfg.activation],
        K: this.paramOffsets[pi], R: this.paramOffsets[pi + 1], b: this.paramOffsets[pi + 2],
        S: ar.alloc((rows + B) * u), DZ: ar.alloc(rows * u), dOut: ar.alloc(rows * u),
      });
      pi += 3;
      size = u;
    }
    for (const d of model.head) {
      this.stages.push({
        kind: 'dense', inSize: size, units: d.units, act: WASM_ACT[d.activation as keyof typeof WASM_ACT],
        W: this.paramOffsets[pi], b: this.paramOffsets[pi + 1],
        out: ar.alloc(rows * d.units), dOut: ar.alloc(rows * d.units),
      });
      pi += 2;
      size = d.units;
    }
    this.dsA = ar.alloc(B * maxUnits);
    this.dsB = ar.alloc(B * maxUnits);
    this.zeroBias = ar.alloc(maxUnits);
    // spectral normalisation runs in wasm: each constrained matrix keeps its power-iteration vector
    // here, started from the constraint's own state (and handed back by pullWeights)
    let maxRows = 0, maxCols = 0;
    this.params.forEach((p, i) => {
      if (p.constraint?.config.type !== 'spectral') return;
      this.spectralU.set(i, ar.alloc(p.cols));
      maxRows = Math.max(maxRows, p.rows);
      maxCols = Math.max(maxCols, p.cols);
    });
    if (this.spectralU.size) {
      this.spectralV = ar.alloc(maxRows);
      this.spectralU2 = ar.alloc(maxCols);
    }
    this.pushWeights();
    this.pushSpectralState();
  }

  /** Bytes of wasm memory in use. */
  get memoryBytes(): number {
    return this.ar.used;
  }

  /** Copies the model's weights into the arena (rounded to f32 in the f32 trainer). */
  pushWeights(): void {
    const f = this.ar.f;
    this.params.forEach((p, i) => f.set(p.value, this.W.offset + this.paramOffsets[i]));
  }

  /** Copies the arena's weights into the model's parameters (exact: f32 values are f64 values), and the power-iteration vectors into their constraints. */
  pullWeights(): void {
    const f = this.ar.f;
    this.params.forEach((p, i) => {
      const o = this.W.offset + this.paramOffsets[i];
      p.value.set(f.subarray(o, o + p.value.length));
    });
    for (const [i, u] of this.spectralU) this.params[i].constraint!.restoreState?.(Array.from(this.ar.tensor(u)));
  }

  /** Copies the spectral constraints' power-iteration vectors into the arena (zeros: the kernel starts from the unit vector, as the JS constraint). */
  private pushSpectralState(): void {
    for (const [i, u] of this.spectralU) {
      const state = this.params[i].constraint!.state?.() ?? null;
      const view = this.ar.tensor(u);
      if (state && state.length === view.length) view.set(state);
      else view.fill(0);
    }
  }

  /** The gradients of the last {@link computeGradients}, per parameter (model.parameters() order), as f64 copies. */
  gradients(): Float64Array[] {
    const f = this.ar.f;
    return this.params.map((p, i) => {
      const o = this.G.offset + this.paramOffsets[i];
      return Float64Array.from(f.subarray(o, o + p.value.length));
    });
  }

  private ptrW(off: number): number {
    return (this.W.offset + off) * this.ar.bytes;
  }

  private ptrG(off: number): number {
    return (this.G.offset + off) * this.ar.bytes;
  }

  /** Gathers samples idx[from..to) time-major into X (augmented) and Y. */
  private gather(data: Sequences, idx: ArrayLike<number>, from: number, to: number): void {
    const f = this.ar.f;
    const b = to - from, steps = this.steps, nin = this.nin, na = this.na, nout = this.nout, off = this.offset;
    const xs = data.inputs, ys = data.targets;
    for (let k = 0; k < b; k++) {
      const s = idx[from + k];
      for (let t = 0; t < steps; t++) {
        const so = (s * steps + t) * nin, dO = this.X.offset + (t * b + k) * na;
        if (off) {
          for (let j = 0; j < nin; j++) {
            const v = xs[so + j];
            f[dO + j] = v;
            f[dO + nin + j] = off[j] - v;
          }
        } else for (let j = 0; j < nin; j++) f[dO + j] = xs[so + j];
        const yo = (s * steps + t) * nout, dy = this.Y.offset + (t * b + k) * nout;
        for (let j = 0; j < nout; j++) f[dy + j] = ys[yo + j];
      }
    }
  }

  /** Byte address of a stage's output (time-major T * b rows). */
  private outPtr(st: Stage, b: number): number {
    const ar = this.ar;
    switch (st.kind) {
      case 'cell': return ar.ptr(st.S, b * st.units);
      case 'lstm':
      case 'gru': return ar.ptr(st.H, b * st.units);
      case 'icrnn': return ar.ptr(st.Y);
      case 'dense': return ar.ptr(st.out);
    }
  }

  private forward(b: number): void {
    const k = this.k, ar = this.ar, T = this.steps, rows = T * b;
    let input = ar.ptr(this.X);
    for (const st of this.stages) {
      if (st.kind === 'lstm') {
        const u = st.units, u4 = 4 * u, bu = b * u, es = ar.bytes, H = ar.ptr(st.H), C = ar.ptr(st.C), G = ar.ptr(st.G), TC = ar.ptr(st.TC);
        k.zero(bu, H);
        k.zero(bu, C);
        k.gemm(rows, u4, st.inSize, input, st.inSize, 1, this.ptrW(st.K), u4, 1, G, u4, 0);
        for (let t = 0; t < T; t++) {
          const g = G + t * b * u4 * es;
          if (t > 0) k.gemm(b, u4, u, H + t * bu * es, u, 1, this.ptrW(st.R), u4, 1, g, u4, 1);
          k.lstmForward(b, u, g, this.ptrW(st.b), C + t * bu * es, C + (t + 1) * bu * es, H + (t + 1) * bu * es, TC + t * bu * es);
        }
        input = this.outPtr(st, b);
        continue;
      }
      if (st.kind === 'gru') {
        const u = st.units, u3 = 3 * u, bu = b * u, es = ar.bytes, H = ar.ptr(st.H), G = ar.ptr(st.G), A = ar.ptr(st.A), HZ = ar.ptr(st.HZ);
        k.zero(bu, H);
        k.zero(b * u3, HZ); // h_{-1} = 0
        k.gemm(rows, u3, st.inSize, input, st.inSize, 1, this.ptrW(st.K), u3, 1, G, u3, 0);
        for (let t = 0; t < T; t++) {
          if (t > 0) k.gemm(b, u3, u, H + t * bu * es, u, 1, this.ptrW(st.R), u3, 1, HZ, u3, 0);
          k.gruForward(b, u, G + t * b * u3 * es, this.ptrW(st.bIn), HZ, this.ptrW(st.bRec), H + t * bu * es, H + (t + 1) * bu * es, A + t * bu * es);
        }
        input = this.outPtr(st, b);
        continue;
      }
      if (st.kind === 'icrnn') {
        const u = st.units, n = st.inSize, bu = b * u, es = ar.bytes, S = ar.ptr(st.S), Y = ar.ptr(st.Y), relu = WASM_ACT.relu, zb = ar.ptr(this.zeroBias);
        k.zero(bu, S);
        // h pre-activations x_t K (+ x_{t-1} D2 from t = 1 on) for the whole sequence, then the recurrence
        k.gemm(rows, u, n, input, n, 1, this.ptrW(st.K), u, 1, S + bu * es, u, 0);
        if (T > 1) k.gemm(rows - b, u, n, input, n, 1, this.ptrW(st.D2), u, 1, S + 2 * bu * es, u, 1);
        for (let t = 0; t < T; t++) {
          const next = S + (t + 1) * bu * es;
          if (t > 0) k.gemm(b, u, u, S + t * bu * es, u, 1, this.ptrW(st.R), u, 1, next, u, 1);
          k.biasAct(b, u, next, zb, relu);
        }
        // y_t = relu(h_t V + h_{t-1} D1 + x_t D3)
        k.gemm(rows, u, u, S + bu * es, u, 1, this.ptrW(st.V), u, 1, Y, u, 0);
        k.gemm(rows, u, u, S, u, 1, this.ptrW(st.D1), u, 1, Y, u, 1);
        k.gemm(rows, u, n, input, n, 1, this.ptrW(st.D3), u, 1, Y, u, 1);
        k.biasAct(rows, u, Y, zb, relu);
        input = this.outPtr(st, b);
        continue;
      }
      if (st.kind === 'cell') {
        const u = st.units, bu = b * u, S = ar.ptr(st.S), es = ar.bytes;
        k.zero(bu, S);
        k.gemm(rows, u, st.inSize, input, st.inSize, 1, this.ptrW(st.K), u, 1, S + bu * es, u, 0);
        for (let t = 0; t < T; t++) {
          const next = S + (t + 1) * bu * es;
          if (t > 0) k.gemm(b, u, u, S + t * bu * es, u, 1, this.ptrW(st.R), u, 1, next, u, 1);
          k.biasAct(b, u, next, this.ptrW(st.b), st.act);
        }
      } else {
        const out = ar.ptr(st.out);
        k.gemm(rows, st.units, st.inSize, input, st.inSize, 1, this.ptrW(st.W), st.units, 1, out, st.units, 0);
        k.biasAct(rows, st.units, out, this.ptrW(st.b), st.act);
      }
      input = this.outPtr(st, b);
    }
  }

  private backward(b: number): void {
    const k = this.k, ar = this.ar, T = this.steps, rows = T * b, es = ar.bytes;
    for (let s = this.stages.length - 1; s >= 0; s--) {
      const st = this.stages[s];
      const input = s === 0 ? ar.ptr(this.X) : this.outPtr(this.stages[s - 1], b);
      const dIn = s === 0 ? 0 : ar.ptr(this.stages[s - 1].dOut);
      const n = st.inSize, u = st.units;
      if (st.kind === 'lstm') {
        const u4 = 4 * u, bu = b * u, H = ar.ptr(st.H), C = ar.ptr(st.C), G = ar.ptr(st.G), TC = ar.ptr(st.TC), DZ = ar.ptr(st.DZ), dOut = ar.ptr(st.dOut);
        const dh = ar.ptr(this.dsA), dc = ar.ptr(st.dc);
        k.zero(bu, dc);
        for (let t = T - 1; t >= 0; t--) {
          const dz = DZ + t * b * u4 * es;
          k.lstmBackward(b, u, G + t * b * u4 * es, TC + t * bu * es, C + t * bu * es, dOut + t * bu * es, t < T - 1 ? dh : 0, dc, dz);
          // dL/dh_{t-1} = dz R^T (overwrites dh after this step consumed it)
          if (t > 0) k.gemm(b, u, u4, dz, u4, 1, this.ptrW(st.R), 1, u4, dh, u, 0);
        }
        k.gemm(n, u4, rows, input, 1, n, DZ, u4, 1, this.ptrG(st.K), u4, 1);
        k.gemm(u, u4, rows, H, 1, u, DZ, u4, 1, this.ptrG(st.R), u4, 1);
        k.colSumsAdd(rows, u4, DZ, this.ptrG(st.b));
        if (dIn) k.gemm(rows, n, u4, DZ, u4, 1, this.ptrW(st.K), 1, u4, dIn, n, 0);
        continue;
      }
      if (st.kind === 'gru') {
        const u3 = 3 * u, bu = b * u, H = ar.ptr(st.H), G = ar.ptr(st.G), A = ar.ptr(st.A), DX = ar.ptr(st.DX), DHZ = ar.ptr(st.DHZ), dOut = ar.ptr(st.dOut);
        let dh = ar.ptr(this.dsA), dhPrev = ar.ptr(this.dsB);
        for (let t = T - 1; t >= 0; t--) {
          const dx = DX + t * b * u3 * es, dhz = DHZ + t * b * u3 * es;
          k.gruBackward(b, u, G + t * b * u3 * es, A + t * bu * es, H + t * bu * es, dOut + t * bu * es, t < T - 1 ? dh : 0, dx, dhz, dhPrev);
          if (t > 0) {
            k.gemm(b, u, u3, dhz, u3, 1, this.ptrW(st.R), 1, u3, dhPrev, u, 1); // dL/dh_{t-1} += dhz R^T
            const tmp = dh;
            dh = dhPrev;
            dhPrev = tmp;
          }
        }
        k.gemm(n, u3, rows, input, 1, n, DX, u3, 1, this.ptrG(st.K), u3, 1);
        k.gemm(u, u3, rows, H, 1, u, DHZ, u3, 1, this.ptrG(st.R), u3, 1);
        k.colSumsAdd(rows, u3, DX, this.ptrG(st.bIn));
        k.colSumsAdd(rows, u3, DHZ, this.ptrG(st.bRec));
        if (dIn) k.gemm(rows, n, u3, DX, u3, 1, this.ptrW(st.K), 1, u3, dIn, n, 0);
        continue;
      }
      if (st.kind === 'icrnn') {
        const bu = b * u, S = ar.ptr(st.S), Y = ar.ptr(st.Y), DZ = ar.ptr(st.DZ), DH = ar.ptr(st.DH), dY = ar.ptr(st.dOut);
        k.actBackward(rows * u, Y, dY, WASM_ACT.relu); // dY becomes the gradient of y's pre-activations
        k.gemm(u, u, rows, S + bu * es, 1, u, dY, u, 1, this.ptrG(st.V), u, 1);
        k.gemm(u, u, rows, S, 1, u, dY, u, 1, this.ptrG(st.D1), u, 1);
        k.gemm(n, u, rows, input, 1, n, dY, u, 1, this.ptrG(st.D3), u, 1);
        // dL/dh_t through y_t (V) and y_{t+1} (D1), then back through the recurrence
        k.gemm(rows, u, u, dY, u, 1, this.ptrW(st.V), 1, u, DH, u, 0);
        if (T > 1) k.gemm(rows - b, u, u, dY + bu * es, u, 1, this.ptrW(st.D1), 1, u, DH, u, 1);
        this.recurrenceBackward(b, u, S, DH, DZ, st.R, WASM_ACT.relu);
        k.gemm(n, u, rows, input, 1, n, DZ, u, 1, this.ptrG(st.K), u, 1);
        k.gemm(u, u, rows, S, 1, u, DZ, u, 1, this.ptrG(st.R), u, 1);
        if (T > 1) k.gemm(n, u, rows - b, input, 1, n, DZ + bu * es, u, 1, this.ptrG(st.D2), u, 1);
        if (dIn) {
          k.gemm(rows, n, u, DZ, u, 1, this.ptrW(st.K), 1, u, dIn, n, 0);
          k.gemm(rows, n, u, dY, u, 1, this.ptrW(st.D3), 1, u, dIn, n, 1);
          if (T > 1) k.gemm(rows - b, n, u, DZ + bu * es, u, 1, this.ptrW(st.D2), 1, u, dIn, n, 1);
        }
        continue;
      }
      if (st.kind === 'dense') {
        const out = ar.ptr(st.out), dOut = ar.ptr(st.dOut);
        k.actBackward(rows * u, out, dOut, st.act);
        k.gemm(n, u, rows, input, 1, n, dOut, u, 1, this.ptrG(st.W), u, 1);
        k.colSumsAdd(rows, u, dOut, this.ptrG(st.b));
        if (dIn) k.gemm(rows, n, u, dOut, u, 1, this.ptrW(st.W), 1, u, dIn, n, 0);
        continue;
      }
      const S = ar.ptr(st.S), DZ = ar.ptr(st.DZ);
      this.recurrenceBackward(b, u, S, ar.ptr(st.dOut), DZ, st.R, st.act);
      k.gemm(n, u, rows, input, 1, n, DZ, u, 1, this.ptrG(st.K), u, 1);
      k.gemm(u, u, rows, S, 1, u, DZ, u, 1, this.ptrG(st.R), u, 1);
      k.colSumsAdd(rows, u, DZ, this.ptrG(st.b));
      if (dIn) k.gemm(rows, n, u, DZ, u, 1, this.ptrW(st.K), 1, u, dIn, n, 0);
    }
  }

  /**
   * BPTT through `h_t = act(... + h_{t-1} R)`: S holds h at t = 0..T, dOut dL/dh_t from outside the
   * recurrence; writes the pre-activation gradients DZ (T * b * u) for every step.
   */
  private recurrenceBackward(b: number, u: number, S: number, dOut: number, DZ: number, R: number, act: number): void {
    const k = this.k, T = this.steps, bu = b * u, es = this.ar.bytes;
    let dsNext = 0, dsPrev = this.ar.ptr(this.dsA), spare = this.ar.ptr(this.dsB);
    for (let t = T - 1; t >= 0; t--) {
      const dz = DZ + t * bu * es;
      k.cellGrad(bu, S + (t + 1) * bu * es, dOut + t * bu * es, dsNext, dz, act);
      if (t > 0) {
        k.gemm(b, u, u, dz, u, 1, this.ptrW(R), 1, u, dsPrev, u, 0);
        dsNext = dsPrev;
        const tmp = spare;
        spare = dsPrev;
        dsPrev = tmp;
      }
    }
  }

  private checkBatch(data: Sequences, from: number, to: number): number {
    const b = to - from;
    if (!(b >= 1 && b <= this.capacity)) throw new RangeError(`wasm trainer: batch of ${b} outside 1..${this.capacity}`);
    if (data.steps !== this.steps) throw new RangeError(`wasm trainer: data has ${data.steps} steps, the trainer ${this.steps}`);
    return b;
  }

  /**
   * Zeroes the gradients, runs the minibatch idx[from..to) forward and backward (MSE loss, as the
   * JS trainer) and returns the sum of squared errors. Gradients stay in the arena ({@link gradients}).
   */
  computeGradients(data: Sequences, idx: ArrayLike<number>, from: number, to: number, valuesInLoss?: number): number {
    const b = this.checkBatch(data, from, to);
    this.lastBatch = b;
    this.zeroGradients();
    this.gather(data, idx, from, to);
    this.forward(b);
    const last = this.stages[this.stages.length - 1];
    const n = b * this.steps * this.nout;
    // valuesInLoss: the mean runs over a larger batch than this one (a data-parallel slice)
    const sum = this.k.mseGrad(n, this.outPtr(last, b), this.ar.ptr(this.Y), this.ar.ptr(last.dOut), valuesInLoss ?? n);
    this.backward(b);
    return sum;
  }

  /** One training step on idx[from..to): gradients, Adam, constraints. Returns the batch's sum of squared errors. */
  step(data: Sequences, idx: ArrayLike<number>, from: number, to: number): number {
    const sum = this.computeGradients(data, idx, from, to);
    this.update();
    return sum;
  }

  /** Outputs per step of the model. */
  get outputSize(): number {
    return this.nout;
  }

  /** Zeroes the gradient block (a data-parallel step whose own slice is empty). */
  zeroGradients(): void {
    this.k.zero(this.G.length, this.ar.ptr(this.G));
  }

  /** Elements of the weight block (= of the gradient block): the length {@link readWeights} and friends take. */
  get blockLength(): number {
    return this.W.length;
  }

  /** Copies the arena's weight block into `out` (same precision as the arena). */
  readWeights(out: Float32Array | Float64Array): void {
    out.set(this.ar.tensor(this.W));
  }

  /** Overwrites the arena's weight block with `src` (as written by {@link readWeights}). */
  writeWeights(src: Float32Array | Float64Array): void {
    this.ar.f.set(src, this.W.offset);
  }

  /** Copies the gradient block of the last {@link computeGradients} into `out`. */
  readGradients(out: Float32Array | Float64Array): void {
    out.set(this.ar.tensor(this.G));
  }

  /** Adds `src` (a gradient block of another slice of the batch) to the arena's gradients, element by element. */
  addGradients(src: Float32Array | Float64Array): void {
    const f = this.ar.f, o = this.G.offset, n = this.G.length;
    for (let i = 0; i < n; i++) f[o + i] += src[i];
  }

  /** Adam on the arena's gradients, then the constraints (the second half of {@link step}). */
  update(): void {
    const { learningRate, beta1, beta2, epsilon } = this.adamConfig;
    this.t++;
    const lr = (learningRate * this.learningRateFactor * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const ar = this.ar;
    this.k.adam(this.W.length, ar.ptr(this.W), ar.ptr(this.G), ar.ptr(this.M), ar.ptr(this.V), lr, beta1, beta2, epsilon);
    this.applyConstraints();
  }

  /** Applies every parameter's constraint to the arena's weights (clip and spectral normalisation in wasm, any other in JS). */
  applyConstraints(): void {
    const f = this.ar.f;
    this.params.forEach((p, i) => {
      const c = p.constraint;
      if (!c) return;
      const o = this.W.offset + this.paramOffsets[i], len = p.value.length;
      const u = this.spectralU.get(i);
      if (c.config.type === 'nonNegative') {
        this.k.clipNonNeg(len, o * this.ar.bytes);
      } else if (u && c.config.type === 'spectral') {
        const sc = c.config, ar = this.ar;
        this.k.spectralNormalize(p.rows, p.cols, o * ar.bytes, ar.ptr(u), ar.ptr(this.spectralV!), ar.ptr(this.spectralU2!), sc.iterations, sc.tolerance, sc.k, sc.eps, sc.mode === 'reference' ? 1 : 0, sc.nonNegative ? 1 : 0);
      } else if (f instanceof Float64Array) {
        c.apply(f.subarray(o, o + len), p.rows, p.cols);
      } else {
        if (this.scratch.length < len) this.scratch = new Float64Array(len);
        const w = this.scratch.subarray(0, len);
        for (let j = 0; j < len; j++) w[j] = f[o + j];
        c.apply(w, p.rows, p.cols);
        f.set(w, o);
      }
    });
  }

  /** Mean squared error over a data set (forward only, in chunks of the batch capacity). */
  evaluate(data: Sequences): number {
    let sum = 0;
    const identity = new Int32Array(Math.min(this.capacity, data.count));
    for (let from = 0; from < data.count; from += this.capacity) {
      const to = Math.min(data.count, from + this.capacity), b = this.checkBatch(data, from, to);
      for (let i = 0; i < b; i++) identity[i] = from + i;
      this.gather(data, identity, 0, b);
      this.forward(b);
      const last = this.stages[this.stages.length - 1];
      sum += this.k.sse(b * this.steps * this.nout, this.outPtr(last, b), this.ar.ptr(this.Y));
    }
    return sum / (data.count * data.steps * this.nout);
  }

  /** Batch size of the last {@link computeGradients}. */
  get lastBatchSize(): number {
    return this.lastBatch;
  }
}
