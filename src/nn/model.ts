/**
 * A sequence model: optional `[x, offset - x]` input augmentation, N stacked recurrent layers
 * (return sequences) and a per-step dense head. One generic loop runs any cell.
 *
 * Batch-major layout at the public boundary (`[batch][step][feature]`), time-major inside
 * (`[step][batch][feature]`, so each step is one contiguous matrix for the kernels).
 */
import type { CellConfig, RecurrentCell } from './cell.ts';
import { Dense, type DenseConfig } from './dense.ts';
import { IclstmCell } from './iclstm-cell.ts';
import { IcrnnCell } from './icrnn-cell.ts';
import { LipschitzCell } from './lipschitz-cell.ts';
import { LstmCell } from './lstm-cell.ts';
import type { Parameter } from './parameter.ts';
import { SimpleCell } from './simple-cell.ts';

/** The model families iclrnn builds. `custom` is any other stack (e.g. an imported Keras model). */
export type ModelKind = 'rnn' | 'lstm' | 'lrnn' | 'icrnn' | 'iclstm' | 'iclrnn' | 'custom';

/** Architecture of a model (serialisable; weights travel separately). */
export interface ModelSpec {
  kind: ModelKind;
  /** Plain input features per step (before augmentation). */
  inputSize: number;
  /**
   * Input-convex models see `[x, offset - x]` instead of x. The reference min-max scales the
   * augmented columns, so the scaled negation of a feature is `1 - s`: offset 1 reproduces it.
   */
  augmentation: { offset: number[] } | null;
  cells: CellConfig[];
  head: DenseConfig[];
}

/** Builds a cell from its config. */
export function createCell(c: CellConfig): RecurrentCell {
  switch (c.type) {
    case 'simple':
      return new SimpleCell(c.inputSize, c.units, c.activation, c.constraints);
    case 'lstm':
      return new LstmCell(c.inputSize, c.units, c.constraints);
    case 'lipschitz':
      return new LipschitzCell(c.inputSize, c.units, { eps: c.eps, gamma: c.gamma, beta: c.beta, alpha: c.alpha }, c.constraints);
    case 'icrnn':
      return new IcrnnCell(c.inputSize, c.units, c.constraints);
    case 'iclstm':
      return new IclstmCell(c.inputSize, c.units, c.constraints);
    default:
      throw new RangeError(`unknown cell type '${(c as { type: string }).type}'`);
  }
}

interface LayerBuffers {
  out: Float64Array; // T*B*out
  states: Float64Array; // (T+1)*B*state
  cache: Float64Array; // T*B*cache
  dOut: Float64Array; // T*B*out
  ds0: Float64Array; // B*state
  ds1: Float64Array; // B*state
}

/** A named parameter of a model, e.g. `cells.0.kernel`, `head.0.bias`. */
export interface NamedParameter {
  path: string;
  param: Parameter;
}

export class SequenceModel {
  readonly spec: ModelSpec;
  readonly cells: RecurrentCell[];
  readonly head: Dense[];
  /** Features the first layer sees (2 * inputSize when augmented). */
  readonly augmentedSize: number;
  readonly outputSize: number;
  private capacityRows = 0;
  private batch = 0;
  private steps = 0;
  private aug: Float64Array = new Float64Array(0);
  private dAug: Float64Array = new Float64Array(0);
  private layers: LayerBuffers[] = [];
  private headAct: Float64Array[] = [];
  private headOut: Float64Array[] = [];
  private headGrad: Float64Array[] = [];
  private headDIn: Float64Array = new Float64Array(0);

  constructor(spec: ModelSpec) {
    validateSpec(spec);
    this.spec = structuredClone(spec);
    this.cells = spec.cells.map(createCell);
    this.head = spec.head.map((h) => new Dense(h));
    this.augmentedSize = spec.augmentation ? 2 * spec.inputSize : spec.inputSize;
    this.outputSize = spec.head.length ? spec.head[spec.head.length - 1].units : spec.cells[spec.cells.length - 1].units;
  }

  get inputSize(): number {
    return this.spec.inputSize;
  }

  /** Every parameter with a stable path name. */
  namedParameters(): NamedParameter[] {
    const out: NamedParameter[] = [];
    this.cells.forEach((c, i) => c.params.forEach((p) => out.push({ path: `cells.${i}.${p.name}`, param: p })));
    this.head.forEach((h, i) => h.params.forEach((p) => out.push({ path: `head.${i}.${p.name}`, param: p })));
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map((n) => n.param);
  }

  /** Total number of scalar weights. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.value.length, 0);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad.fill(0);
  }

  /** Applies every parameter's constraint (after an optimiser step). */
  applyConstraints(): void {
    for (const p of this.parameters()) p.constraint?.apply(p.value, p.rows, p.cols);
  }

  /** Makes the constraints exact (accurate spectral norms), e.g. at the end of training. */
  finalizeConstraints(): void {
    for (const p of this.parameters()) p.constraint?.finalize(p.value, p.rows, p.cols);
  }

  private ensure(batch: number, steps: number): void {
    this.batch = batch;
    this.steps = steps;
    const rows = batch * steps;
    const needRealloc = rows > this.capacityRows || this.layers.length === 0 || this.layers[0].ds0.length < batch * this.cells[0].stateSize;
    if (!needRealloc && this.layers[0].states.length >= (steps + 1) * batch * this.cells[0].stateSize) return;
    const capRows = Math.max(rows, this.capacityRows);
    const capB = Math.max(batch, this.capacityRows > 0 ? Math.ceil(this.capacityRows / Math.max(1, steps)) : batch);
    this.capacityRows = capRows;
    this.aug = new Float64Array(capRows * this.augmentedSize);
    this.dAug = new Float64Array(capRows * this.augmentedSize);
    this.layers = this.cells.map((c) => ({
      out: new Float64Array(capRows * c.outputSize),
      states: new Float64Array((capRows + capB) * c.stateSize),
      cache: new Float64Array(capRows * c.cacheSize),
      dOut: new Float64Array(capRows * c.outputSize),
      ds0: new Float64Array(capB * c.stateSize),
      ds1: new Float64Array(capB * c.stateSize),
    }));
    this.headAct = this.head.map((h) => new Float64Array(capRows * h.units));
    this.headOut = this.head.map((h, i) => (h.residual ? new Float64Array(capRows * h.units) : this.headAct[i]));
    this.headGrad = this.head.map((h) => new Float64Array(capRows * h.units));
    this.headDIn = new Float64Array(capRows * Math.max(0, ...this.head.map((h) => h.inputSize)));
  }

  /**
   * Forward pass on time-major input (`steps * batch * inputSize`, plain features). Returns a view of
   * the time-major output (`steps * batch * outputSize`) that stays valid until the next call, and
   * keeps what the backward pass needs.
   */
  forwardTimeMajor(x: Float64Array, batch: number, steps: number): Float64Array {
    const nin = this.spec.inputSize;
    if (x.length < batch * steps * nin) throw new RangeError(`input holds ${x.length} values, expected ${batch * steps * nin}`);
    this.ensure(batch, steps);
    const rows = batch * steps;
    const na = this.augmentedSize;
    let input: Float64Array;
    if (this.spec.augmentation) {
      const off = this.spec.augmentation.offset;
      const a = this.aug;
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < nin; j++) {
          const v = x[r * nin + j];
          a[r * na + j] = v;
          a[r * na + nin + j] = off[j] - v;
        }
    } else {
      this.aug.set(x.subarray(0, rows * nin));
    }
    // the first layer always reads this.aug, which the backward pass needs again
    input = this.aug;
    let inSize = na;
    for (let l = 0; l < this.cells.length; l++) {
      const cell = this.cells[l], buf = this.layers[l];
      const ss = batch * cell.stateSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize, is = batch * inSize;
      cell.prepare();
      buf.states.fill(0, 0, ss);
      for (let t = 0; t < steps; t++) {
        cell.forward(
          batch,
          input.subarray(t * is, (t + 1) * is),
          buf.states.subarray(t * ss, (t + 1) * ss),
          buf.states.subarray((t + 1) * ss, (t + 2) * ss),
          buf.out.subarray(t * os, (t + 1) * os),
          buf.cache.subarray(t * cs, (t + 1) * cs),
        );
      }
      input = buf.out;
      inSize = cell.outputSize;
    }
    for (let k = 0; k < this.head.length; k++) {
      this.head[k].forward(rows, input, this.headAct[k], this.headOut[k], this.aug);
      input = this.headOut[k];
    }
    return input.subarray(0, rows * this.outputSize);
  }

  /**
   * Backward pass after {@link forwardTimeMajor}: `dy` is the time-major gradient of the loss w.r.t.
   * the outputs. Accumulates parameter gradients unless `parameterGradients` is false (input
   * gradients only, as the MPC and the certificates need). Returns the time-major gradient w.r.t. the plain
   * input (a view valid until the next call) when `inputGradient` is true, else null.
   */
  backwardTimeMajor(dy: Float64Array, inputGradient = false, parameterGradients = true): Float64Array | null {
    for (const c of this.cells) c.paramGradients = parameterGradients;
    const batch = this.batch, steps = this.steps, rows = batch * steps;
    const nin = this.spec.inputSize, na = this.augmentedSize;
    const residualGrad = this.spec.augmentation ? this.dAug : null;
    this.dAug.fill(0, 0, rows * na);
    // head
    let dCur: Float64Array = dy;
    const lastCell = this.layers.length - 1;
    for (let k = this.head.length - 1; k >= 0; k--) {
      const h = this.head[k];
      const g = this.headGrad[k];
      g.set(dCur.subarray(0, rows * h.units));
      const input = k > 0 ? this.headOut[k - 1] : lastCell >= 0 ? this.layers[lastCell].out : this.aug;
      const dIn = k > 0 ? this.headDIn : this.layers[lastCell].dOut;
      h.backward(rows, input, this.headAct[k], g, dIn, residualGrad, parameterGradients);
      if (k > 0) {
        // copy so headDIn can be reused by the next (earlier) layer
        const next = this.headGrad[k - 1];
        next.set(dIn.subarray(0, rows * this.head[k - 1].units));
        dCur = next;
      }
    }
    if (this.head.length === 0) this.layers[lastCell].dOut.set(dy.subarray(0, rows * this.outputSize));
    // recurrent layers, last to first
    for (let l = this.cells.length - 1; l >= 0; l--) {
      const cell = this.cells[l], buf = this.layers[l];
      const inSize = l === 0 ? na : this.cells[l - 1].outputSize;
      const inputArr = l === 0 ? this.aug : this.layers[l - 1].out;
      const dIn = l === 0 ? this.dInFirst(rows * na) : this.layers[l - 1].dOut;
      const ss = batch * cell.stateSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize, is = batch * inSize;
      let dsNext = buf.ds0, dsPrev = buf.ds1;
      dsNext.fill(0, 0, ss);
      for (let t = steps - 1; t >= 0; t--) {
        cell.backward(
          batch,
          inputArr.subarray(t * is, (t + 1) * is),
          buf.states.subarray(t * ss, (t + 1) * ss),
          buf.states.subarray((t + 1) * ss, (t + 2) * ss),
          buf.out.subarray(t * os, (t + 1) * os),
          buf.cache.subarray(t * cs, (t + 1) * cs),
          buf.dOut.subarray(t * os, (t + 1) * os),
          dsNext.subarray(0, ss),
          dsPrev.subarray(0, ss),
          dIn.subarray(t * is, (t + 1) * is),
        );
        const tmp = dsNext;
        dsNext = dsPrev;
        dsPrev = tmp;
      }
      cell.finishBackward();
    }
    if (!inputGradient) return null;
    // gradient w.r.t. the first layer input (+ residual head terms), folded through the augmentation
    const dFirst = this.firstInputGrad;
    const dx = this.dxOut.length >= rows * nin ? this.dxOut : (this.dxOut = new Float64Array(rows * nin));
    if (this.spec.augmentation) {
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < nin; j++) {
          const gp = dFirst[r * na + j] + this.dAug[r * na + j];
          const gn = dFirst[r * na + nin + j] + this.dAug[r * na + nin + j];
          dx[r * nin + j] = gp - gn;
        }
    } else {
      for (let i = 0; i < rows * nin; i++) dx[i] = dFirst[i];
    }
    return dx.subarray(0, rows * nin);
  }

  private firstInputGrad: Float64Array = new Float64Array(0);
  private dxOut: Float64Array = new Float64Array(0);
  private dInFirst(n: number): Float64Array {
    if (this.firstInputGrad.length < n) this.firstInputGrad = new Float64Array(n);
    return this.firstInputGrad;
  }

  /** Forward pass keeping what backward needs; batch-major in and out (fresh arrays). */
  forward(x: Float64Array, batch: number, steps: number): Float64Array {
    const xt = toTimeMajor(x, batch, steps, this.spec.inputSize);
    const yt = this.forwardTimeMajor(xt, batch, steps);
    return toBatchMajor(yt, batch, steps, this.outputSize);
  }

  /**
   * Vector-Jacobian product after {@link forward}: given dL/dy (batch-major), accumulates parameter
   * gradients and returns dL/dx (batch-major, plain input features).
   */
  backward(dy: Float64Array, batch: number, steps: number): Float64Array {
    if (batch !== this.batch || steps !== this.steps) throw new RangeError('backward called with a different shape than the last forward');
    const dyt = toTimeMajor(dy, batch, steps, this.outputSize);
    const dxt = this.backwardTimeMajor(dyt, true)!;
    return toBatchMajor(dxt, batch, steps, this.spec.inputSize);
  }

  /** Prediction for one sequence (steps x inputSize rows) -> steps x outputSize. */
  predictSequence(x: Float64Array, steps: number): Float64Array {
    return Float64Array.from(this.forwardTimeMajor(x, 1, steps));
  }
}

/** [B][T][F] -> [T][B][F] */
export function toTimeMajor(x: Float64Array, batch: number, steps: number, f: number, out?: Float64Array): Float64Array {
  const y = out ?? new Float64Array(batch * steps * f);
  for (let b = 0; b < batch; b++)
    for (let t = 0; t < steps; t++) {
      const src = (b * steps + t) * f, dst = (t * batch + b) * f;
      for (let j = 0; j < f; j++) y[dst + j] = x[src + j];
    }
  return y;
}

/** [T][B][F] -> [B][T][F] */
export function toBatchMajor(x: Float64Array, batch: number, steps: number, f: number, out?: Float64Array): Float64Array {
  const y = out ?? new Float64Array(batch * steps * f);
  for (let t = 0; t < steps; t++)
    for (let b = 0; b < batch; b++) {
      const src = (t * batch + b) * f, dst = (b * steps + t) * f;
      for (let j = 0; j < f; j++) y[dst + j] = x[src + j];
    }
  return y;
}

/** Checks that consecutive layer sizes fit; throws a RangeError naming the layer. */
export function validateSpec(spec: ModelSpec): void {
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) throw new RangeError(`model: inputSize must be a positive integer, got ${spec.inputSize}`);
  if (spec.cells.length === 0) throw new RangeError('model: at least one recurrent layer is required');
  const na = spec.augmentation ? 2 * spec.inputSize : spec.inputSize;
  if (spec.augmentation && spec.augmentation.offset.length !== spec.inputSize)
    throw new RangeError(`model: augmentation.offset has ${spec.augmentation.offset.length} entries, expected ${spec.inputSize}`);
  let size = na;
  spec.cells.forEach((c, i) => {
    if (c.inputSize !== size) throw new RangeError(`model: cells[${i}].inputSize is ${c.inputSize}, expected ${size}`);
    if (!Number.isInteger(c.units) || c.units < 1) throw new RangeError(`model: cells[${i}].units must be a positive integer`);
    size = c.units;
  });
  spec.head.forEach((h, i) => {
    if (h.inputSize !== size) throw new RangeError(`model: head[${i}].inputSize is ${h.inputSize}, expected ${size}`);
    if (h.residual && h.units !== na) throw new RangeError(`model: head[${i}] is residual so units must equal the augmented input size ${na}`);
    size = h.units;
  });
}
