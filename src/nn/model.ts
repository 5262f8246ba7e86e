/**
 * A sequence model: optional `[x, offset - x]` input augmentation, recurrent layers (return
 * sequences) and per-step dense layers (each optionally adding the model's augmented input after
 * its activation). By default every recurrent layer comes first and the dense layers form the
 * output head; {@link ModelSpec.layout} may place dense layers between recurrent layers, which
 * expresses the published multi-block ICLSTM
 * (`RNN -> Dense + input -> RNN -> Dense + input -> Dense`). One generic loop runs any cell.
 *
 * Batch-major layout at the public boundary (`[batch][step][feature]`), time-major inside
 * (`[step][batch][feature]`, so each step is one contiguous matrix for the kernels).
 */
import type { CellConfig, RecurrentCell } from './cell.ts';
import { Dense, type DenseConfig } from './dense.ts';
import { cellConstructor } from './cell-registry.ts';
import type { BuiltinModelKind } from './model-kinds.ts';
import type { Parameter } from './parameter.ts';
import { ValidationError } from '../core/errors.ts';

/** The model families iclrnn builds. `custom` is any other stack (e.g. an imported Keras model). */
export type ModelKind = BuiltinModelKind | 'custom';

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
  /** The recurrent layers, in evaluation order. */
  cells: CellConfig[];
  /** The dense layers, in evaluation order (the output head unless {@link layout} interleaves them). */
  head: DenseConfig[];
  /**
   * Evaluation order when dense layers sit between recurrent layers: every layer once, named
   * `cells.<i>` or `head.<k>` (the prefixes of their parameter paths), cells in index order and
   * dense layers in index order, e.g. `['cells.0', 'head.0', 'cells.1', 'head.1', 'head.2']` for
   * the two-block ICLSTM. Absent (or the default order): all cells, then all dense layers.
   */
  layout?: string[];
}

/** One step of a model's evaluation order: a recurrent layer or a dense layer, by index. */
export type LayerRef = { type: 'cell'; index: number } | { type: 'dense'; index: number };

/** The evaluation order of a spec (see {@link ModelSpec.layout}); validates the layout. */
export function layerOrder(spec: Pick<ModelSpec, 'cells' | 'head' | 'layout'>): LayerRef[] {
  if (spec.layout === undefined || spec.layout === null) {
    return [...spec.cells.map((_, index): LayerRef => ({ type: 'cell', index })), ...spec.head.map((_, index): LayerRef => ({ type: 'dense', index }))];
  }
  if (!Array.isArray(spec.layout)) throw new ValidationError('model: layout must be an array of layer names');
  const out: LayerRef[] = [];
  let nextCell = 0, nextDense = 0;
  spec.layout.forEach((name, i) => {
    const m = typeof name === 'string' ? /^(cells|head)\.(\d+)$/.exec(name) : null;
    if (!m) throw new ValidationError(`model: layout[${i}] is ${JSON.stringify(name)}; expected 'cells.<i>' or 'head.<k>'`);
    const index = Number(m[2]);
    if (m[1] === 'cells') {
      if (index !== nextCell) throw new ValidationError(`model: layout[${i}] is '${name}', expected 'cells.${nextCell}' next (recurrent layers run in index order)`);
      nextCell++;
      out.push({ type: 'cell', index });
    } else {
      if (index !== nextDense) throw new ValidationError(`model: layout[${i}] is '${name}', expected 'head.${nextDense}' next (dense layers run in index order)`);
      nextDense++;
      out.push({ type: 'dense', index });
    }
  });
  if (nextCell !== spec.cells.length || nextDense !== spec.head.length)
    throw new ValidationError(`model: layout names ${nextCell} of ${spec.cells.length} recurrent and ${nextDense} of ${spec.head.length} dense layers; every layer must appear once`);
  return out;
}

/** True when the order puts a dense layer before a recurrent layer (not the classic cells-then-head stack). */
function isInterleaved(order: LayerRef[]): boolean {
  let seenDense = false;
  for (const r of order) {
    if (r.type === 'dense') seenDense = true;
    else if (seenDense) return true;
  }
  return false;
}

/** Builds a cell from its config. */
export function createCell(c: CellConfig): RecurrentCell {
  const create = cellConstructor(c.type);
  if (!create) throw new ValidationError(`unknown cell type '${(c as { type: string }).type}'`);
  return create(c);
}

/** Buffers of one step of the evaluation order (time-major rows). */
interface StageBuffers {
  out: Float64Array; // T*B*out (a dense layer: after the residual add)
  dOut: Float64Array; // T*B*out
  // recurrent layers
  states: Float64Array; // (T+1)*B*state
  cache: Float64Array; // T*B*cache
  ds0: Float64Array; // B*state
  ds1: Float64Array; // B*state
  // dense layers: activation before the residual add (aliases out without residual)
  act: Float64Array;
}

interface Stage {
  ref: LayerRef;
  cell: RecurrentCell | null;
  dense: Dense | null;
  inSize: number;
  outSize: number;
}

/** A named parameter of a model, e.g. `cells.0.kernel`, `head.0.bias`. */
export interface NamedParameter {
  path: string;
  param: Parameter;
}

/**
 * A sequence model: stacked recurrent cells and a dense head, with hand-derived forward and backward
 * passes (outputs, parameter gradients and input gradients). Build one with {@link buildModel}.
 *
 * @example
 * ```ts
 * const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 16, layers: 1, seed: 0 });
 * const y = model.forward(new Float64Array(3 * 10 * 4), 3, 10); // 3 sequences x 10 steps -> 3 x 10 x 2
 * ```
 */
export class SequenceModel {
  readonly spec: ModelSpec;
  readonly cells: RecurrentCell[];
  /** The dense layers (the output head, or interleaved with the cells: see {@link interleaved}). */
  readonly head: Dense[];
  /** Features the first layer sees (2 * inputSize when augmented). */
  readonly augmentedSize: number;
  readonly outputSize: number;
  /** The evaluation order of the layers (cells then head, unless the spec's layout says otherwise). */
  readonly order: readonly LayerRef[];
  /**
   * True when a dense layer runs before a recurrent layer (e.g. the multi-block ICLSTM). Code that
   * assumes the classic "all cells, then the dense head" shape must check this.
   */
  readonly interleaved: boolean;
  private readonly stages: Stage[];
  private capacityRows = 0;
  private capacityBatch = 0;
  private batch = 0;
  private steps = 0;
  private aug: Float64Array = new Float64Array(0);
  private dAug: Float64Array = new Float64Array(0);
  private bufs: StageBuffers[] = [];

  constructor(spec: ModelSpec) {
    validateSpec(spec);
    const order = layerOrder(spec);
    const interleaved = isInterleaved(order);
    const copy = structuredClone(spec);
    if (!interleaved) delete copy.layout; // the default order needs no layout (files stay version 1)
    this.spec = copy;
    this.order = order;
    this.interleaved = interleaved;
    this.cells = spec.cells.map(createCell);
    this.head = spec.head.map((h) => new Dense(h));
    this.augmentedSize = spec.augmentation ? 2 * spec.inputSize : spec.inputSize;
    let size = this.augmentedSize;
    this.stages = order.map((ref) => {
      const cell = ref.type === 'cell' ? this.cells[ref.index] : null;
      const dense = ref.type === 'dense' ? this.head[ref.index] : null;
      const outSize = cell ? cell.outputSize : dense!.units;
      const st: Stage = { ref, cell, dense, inSize: size, outSize };
      size = outSize;
      return st;
    });
    this.outputSize = size;
  }

  get inputSize(): number {
    return this.spec.inputSize;
  }

  /**
   * Throws a {@link ValidationError} naming `what` when dense layers sit between recurrent layers
   * ({@link interleaved}): for code that handles only recurrent layers followed by a dense head
   * (the structural certificates), so it refuses clearly instead of answering wrongly.
   */
  requireStacked(what: string): void {
    if (this.interleaved)
      throw new ValidationError(
        `${what}: the model has dense layers between recurrent layers (layout ${this.spec.layout!.join(', ')}, e.g. the multi-block ICLSTM); ` +
          `${what} handles only recurrent layers followed by a dense head so far (predict, train, the empirical estimates and MPC do handle it)`,
      );
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
    if (this.bufs.length > 0 && rows <= this.capacityRows && batch <= this.capacityBatch) return;
    const capRows = Math.max(rows, this.capacityRows);
    const capB = Math.max(batch, this.capacityBatch);
    this.capacityRows = capRows;
    this.capacityBatch = capB;
    this.aug = new Float64Array(capRows * this.augmentedSize);
    this.dAug = new Float64Array(capRows * this.augmentedSize);
    const none = new Float64Array(0);
    this.bufs = this.stages.map((st) => {
      const out = new Float64Array(capRows * st.outSize);
      const dOut = new Float64Array(capRows * st.outSize);
      if (st.cell) {
        const c = st.cell;
        return {
          out, dOut,
          states: new Float64Array((capRows + capB) * c.stateSize),
          cache: new Float64Array(capRows * c.cacheSize),
          ds0: new Float64Array(capB * c.stateSize),
          ds1: new Float64Array(capB * c.stateSize),
          act: none,
        };
      }
      return { out, dOut, states: none, cache: none, ds0: none, ds1: none, act: st.dense!.residual ? new Float64Array(capRows * st.outSize) : out };
    });
  }

  /**
   * Forward pass on time-major input (`steps * batch * inputSize`, plain features). Returns a view of
   * the time-major output (`steps * batch * outputSize`) that stays valid until the next call, and
   * keeps what the backward pass needs.
   */
  forwardTimeMajor(x: Float64Array, batch: number, steps: number): Float64Array {
    const nin = this.spec.inputSize;
    if (x.length < batch * steps * nin) throw new ValidationError(`input holds ${x.length} values, expected ${batch * steps * nin}`);
    this.ensure(batch, steps);
    const rows = batch * steps;
    const na = this.augmentedSize;
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
    // the first layer always reads this.aug, which the backward pass (and residual adds) need again
    let input: Float64Array = this.aug;
    for (let s = 0; s < this.stages.length; s++) {
      const st = this.stages[s], buf = this.bufs[s];
      if (st.dense) {
        st.dense.forward(rows, input, buf.act, buf.out, this.aug);
      } else {
        const cell = st.cell!;
        const ss = batch * cell.stateSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize, is = batch * st.inSize;
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
      }
      input = buf.out;
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
    // gradient w.r.t. the (augmented) model input through the residual adds
    this.dAug.fill(0, 0, rows * na);
    const last = this.stages.length - 1;
    this.bufs[last].dOut.set(dy.subarray(0, rows * this.outputSize));
    for (let s = last; s >= 0; s--) {
      const st = this.stages[s], buf = this.bufs[s];
      const inputArr = s === 0 ? this.aug : this.bufs[s - 1].out;
      const dIn = s === 0 ? this.dInFirst(rows * na) : this.bufs[s - 1].dOut;
      if (st.dense) {
        // dOut is overwritten with the pre-activation gradient (it is this stage's own buffer)
        st.dense.backward(rows, inputArr, buf.act, buf.dOut, dIn, this.dAug, parameterGradients);
        continue;
      }
      const cell = st.cell!;
      const ss = batch * cell.stateSize, os = batch * cell.outputSize, cs = batch * cell.cacheSize, is = batch * st.inSize;
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
    // gradient w.r.t. the first layer input plus the residual terms, folded through the augmentation
    const dFirst = this.firstInputGrad;
    const dA = this.dAug;
    const dx = this.dxOut.length >= rows * nin ? this.dxOut : (this.dxOut = new Float64Array(rows * nin));
    if (this.spec.augmentation) {
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < nin; j++) {
          const gp = dFirst[r * na + j] + dA[r * na + j];
          const gn = dFirst[r * na + nin + j] + dA[r * na + nin + j];
          dx[r * nin + j] = gp - gn;
        }
    } else {
      for (let i = 0; i < rows * nin; i++) dx[i] = dFirst[i] + dA[i];
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

/** Checks that consecutive layer sizes fit; throws a ValidationError naming the layer. */
export function validateSpec(spec: ModelSpec): void {
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) throw new ValidationError(`model: inputSize must be a positive integer, got ${spec.inputSize}`);
  if (spec.cells.length === 0) throw new ValidationError('model: at least one recurrent layer is required');
  const na = spec.augmentation ? 2 * spec.inputSize : spec.inputSize;
  if (spec.augmentation && spec.augmentation.offset.length !== spec.inputSize)
    throw new ValidationError(`model: augmentation.offset has ${spec.augmentation.offset.length} entries, expected ${spec.inputSize}`);
  const order = layerOrder(spec);
  let size = na;
  for (const ref of order) {
    if (ref.type === 'cell') {
      const i = ref.index, c = spec.cells[i];
      if (c.inputSize !== size) throw new ValidationError(`model: cells[${i}].inputSize is ${c.inputSize}, expected ${size}`);
      if (!Number.isInteger(c.units) || c.units < 1) throw new ValidationError(`model: cells[${i}].units must be a positive integer`);
      size = c.units;
    } else {
      const i = ref.index, h = spec.head[i];
      if (h.inputSize !== size) throw new ValidationError(`model: head[${i}].inputSize is ${h.inputSize}, expected ${size}`);
      if (!Number.isInteger(h.units) || h.units < 1) throw new ValidationError(`model: head[${i}].units must be a positive integer`);
      if (h.residual && h.units !== na) throw new ValidationError(`model: head[${i}] is residual so units must equal the augmented input size ${na}`);
      size = h.units;
    }
  }
}
