/**
 * Training of stacks of recurrent layers (simple cells for the RNN and ICLRNN, LSTM, GRU, ICRNN;
 * one class per family in ./wasm-stages.ts) with a dense head, entirely in a wasm arena:
 * parameters, gradients, Adam state, activations and the gathered minibatch live in linear memory
 * and every step (gather, forward, MSE, BPTT, Adam, the non-negative clip and the spectral
 * normalisation) runs in the SIMD kernels of src/wasm/. The
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
import { createCellStage, createDenseStage, type StageContext, type WasmStage } from './wasm-stages.ts';

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
  private readonly stages: WasmStage[] = [];
  /** What the stages' passes share (kernels, arena, weight and gradient addresses, scratch). */
  private readonly ctx: StageContext;
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
    const sizes = { batch: B, steps: this.steps };
    let maxUnits = 1;
    let pi = 0;
    let size = this.na;
    for (const c of model.cells) {
      maxUnits = Math.max(maxUnits, c.units);
      this.stages.push(createCellStage(c.config(), size, this.paramOffsets.slice(pi, pi + c.params.length), ar, sizes));
      pi += c.params.length;
      size = c.units;
    }
    for (const d of model.head) {
      this.stages.push(createDenseStage(d, size, this.paramOffsets.slice(pi, pi + 2), ar, sizes));
      pi += 2;
      size = d.units;
    }
    const W = this.W, G = this.G;
    this.ctx = {
      k: this.k, ar, steps: this.steps,
      w: (off) => (W.offset + off) * ar.bytes,
      g: (off) => (G.offset + off) * ar.bytes,
      carryA: ar.alloc(B * maxUnits), carryB: ar.alloc(B * maxUnits), zeros: ar.alloc(maxUnits),
    };
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

  private forward(b: number): void {
    let input = this.ar.ptr(this.X);
    for (const st of this.stages) {
      st.forward(this.ctx, b, input);
      input = st.out(b);
    }
  }

  private backward(b: number): void {
    for (let s = this.stages.length - 1; s >= 0; s--) {
      const input = s === 0 ? this.ar.ptr(this.X) : this.stages[s - 1].out(b);
      const dIn = s === 0 ? 0 : this.ar.ptr(this.stages[s - 1].dOut);
      this.stages[s].backward(this.ctx, b, input, dIn);
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
    const sum = this.k.mseGrad(n, last.out(b), this.ar.ptr(this.Y), this.ar.ptr(last.dOut), valuesInLoss ?? n);
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
      sum += this.k.sse(b * this.steps * this.nout, last.out(b), this.ar.ptr(this.Y));
    }
    return sum / (data.count * data.steps * this.nout);
  }

  /** Batch size of the last {@link computeGradients}. */
  get lastBatchSize(): number {
    return this.lastBatch;
  }
}
