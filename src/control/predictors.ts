/**
 * Predictors for model predictive control: one sampling period of a plant model with exact
 * derivatives of its predicted samples w.r.t. the state and the input, in reverse mode (adjoint,
 * vector-Jacobian products) and, where cheap, forward mode (the full Jacobian).
 *
 * - {@link ModelPredictor}: any trained iclrnn {@link SequenceModel} with its min-max scalers. One
 *   period is one model call on `steps` identical rows built from (state, input). Reverse mode
 *   chains the output scaler, the model's input gradient (which folds the `[x, offset - x]`
 *   augmentation of the input-convex families) and the input scaler. Forward mode carries the
 *   values and the derivatives along every state and input direction in one pass: the f64 wasm
 *   kernels ({@link WasmTangentEngine}) for stacks of simple cells (ICLRNN, RNN) where wasm runs,
 *   the hand-fused {@link TangentEngine} for RNN, LSTM, ICRNN, ICLSTM and ICLRNN stacks otherwise,
 *   the generic program interpreter (`nn/program-stack.ts`) for every other family (LRNN, GRU) and
 *   multi-block model. The prediction and the adjoint run in the wasm kernels too where they cover
 *   the model ({@link WasmPredictor}), else in the JS model.
 * - {@link OdePredictor}: a first-principles ODE integrated by explicit Euler (as the reference), with
 *   the discrete adjoint and the forward sensitivities of the Euler recursion (exact derivatives of
 *   the discretised prediction).
 *
 * The MPC unrolls a predictor over its horizon: period k runs in slot k, and each slot keeps what
 * its adjoint needs, so the whole horizon is differentiated by one reverse sweep. Browser-safe: no
 * Node APIs. Nothing here allocates per call once {@link Predictor.reserve} has run (the model's own
 * forward/backward return views).
 *
 * Size (about 620 lines): the predictor interface and its two implementations (the learned model
 * with its scalers and engines, the first-principles plant), which share the horizon-slot layout
 * and the scaling; the forward-mode engines are in `tangent-engine.ts`.
 */
import { SequenceModel } from '../nn/model.ts';
import { TangentEngine, WasmTangentEngine } from './tangent-engine.ts';
import { ProgramTangentEngine } from '../nn/program-stack.ts';
import { WasmPredictor } from '../nn/wasm-predictor.ts';
import type { ScaledModel } from '../nn/scaled-model.ts';
import { ValidationError } from '../core/errors.ts';

export { TangentEngine, WasmTangentEngine } from './tangent-engine.ts';

/**
 * One sampling period of a plant model, differentiable. States and inputs are physical vectors
 * (`stateSize`, `inputSize`); a period yields `samplesPerPeriod` state samples (row-major
 * `samplesPerPeriod x stateSize`), the last one being the state at the end of the period, where the
 * next period starts.
 */
export interface Predictor {
  /** Short description, e.g. `iclrnn model` or `first-principles (Euler 1e-4)`. */
  readonly name: string;
  readonly stateSize: number;
  readonly inputSize: number;
  /** State samples per period; the last is the end of the period. */
  readonly samplesPerPeriod: number;
  /** Allocates the workspaces of `slots` periods (the horizon). Idempotent; may be called again to grow. */
  reserve(slots: number): void;
  /**
   * Predicts one period from state `x` under input `u` (held constant) into `out`
   * (`samplesPerPeriod * stateSize`), keeping what {@link adjoint} needs in slot `slot`.
   * `forAdjoint` false (default true) tells the predictor that no adjoint of this slot follows, so
   * it may take a cheaper path.
   */
  predict(slot: number, x: Float64Array, u: Float64Array, out: Float64Array, forAdjoint?: boolean): void;
  /**
   * Vector-Jacobian product of the last {@link predict} in slot `slot`: given `dOut` (gradient of a
   * scalar w.r.t. the samples, same layout as `out`), overwrites `dx` (`stateSize`) and `du`
   * (`inputSize`) with the gradient w.r.t. the state and the input. May be called several times per
   * prediction (it is linear in `dOut`); does not modify `dOut`.
   */
  adjoint(slot: number, dOut: Float64Array, dx: Float64Array, du: Float64Array): void;
  /**
   * Optional forward mode: predicts like {@link predict} (into `out`) and writes the full Jacobians
   * of the samples, `Jx = d out / d x` (`(samplesPerPeriod * stateSize) x stateSize`, row-major;
   * skipped when null, e.g. for the first period whose state is fixed) and `Ju = d out / d u`
   * (`(samplesPerPeriod * stateSize) x inputSize`). Does not prepare the slot for {@link adjoint}.
   * Predictors offer it when it is cheap (a few input directions through the model at once); the
   * MPC then builds exact gradients and a Gauss-Newton Hessian from it.
   */
  jacobian?(slot: number, x: Float64Array, u: Float64Array, out: Float64Array, Jx: Float64Array | null, Ju: Float64Array): void;
}

/**
 * Where the plant's state and input sit in a model's rows. The model is fed `steps` identical rows
 * per period; row features are the state components at `stateColumns` and the inputs at
 * `inputColumns` (together they must cover every model input column exactly once). Output row s
 * gives the state after s + 1 of the `steps` sub-intervals, component i at `outputColumns[i]`.
 *
 * The CSTR models take rows `[x2, x1, u2, u1]` and output `[x2, x1]`; with state (x1, x2) and input
 * (u1, u2) that is `stateColumns [1, 0]`, `inputColumns [3, 2]`, `outputColumns [1, 0]`, `steps 10`.
 */
export interface ModelLayout {
  stateColumns: readonly number[];
  inputColumns: readonly number[];
  outputColumns: readonly number[];
  steps: number;
}

/**
 * A trained sequence model (physical units through its scalers) as an MPC predictor.
 *
 * Where the f64 wasm kernels cover the model ({@link WasmPredictor}: ICLRNN, RNN), one wasm copy of
 * the network serves every slot: a prediction is one wasm forward, an adjoint one wasm forward +
 * reverse sweep on the slot's rows. Otherwise each slot runs on its own JS copy of the network
 * (same weights), so the forward caches of all periods survive until the reverse sweep: one
 * forward and one input-gradient backward (batch 1, the model's fast path) per period and adjoint
 * direction. The copies are taken at construction; call {@link syncWeights} after changing the
 * source model's weights.
 */
export class ModelPredictor implements Predictor {
  readonly name: string;
  readonly stateSize: number;
  readonly inputSize: number;
  readonly samplesPerPeriod: number;
  /** The source model (weights are copied from it). */
  readonly source: ScaledModel;
  private readonly steps: number;
  private readonly nin: number;
  private readonly nout: number;
  private readonly sc: Int32Array;
  private readonly ic: Int32Array;
  private readonly oc: Int32Array;
  /** Scaled = (physical - min) * scale, per model input column. */
  private readonly inMin: Float64Array;
  private readonly inScale: Float64Array;
  /** Physical = scaled / scale + min, per state component (at its output column). */
  private readonly outMin: Float64Array;
  private readonly outScale: Float64Array;
  /** The JS network copies, one per slot (only without the wasm path). */
  private readonly copies: SequenceModel[] = [];
  /** The f64 wasm copy of the network (predict, adjoint, forward mode), or null: the JS path. */
  private readonly wasm: WasmPredictor | null;
  private readonly yBuf: Float64Array;
  private readonly gBuf: Float64Array;
  private readonly rows: Float64Array[] = [];
  private readonly dy: Float64Array[] = [];
  /** Whether slot k's network copy holds the forward pass of rows[k] (needed by the adjoint). */
  private readonly ready: boolean[] = [];
  /**
   * Forward-mode engine: the wasm one ({@link WasmTangentEngine}) where wasm covers the model, the
   * hand-fused {@link TangentEngine} where it covers the architecture,
   * else the generic forward-mode interpreter over the cell programs (the Lipschitz RNN, the GRU,
   * multi-block models); null only when forward mode is switched off.
   */
  private readonly engine: WasmTangentEngine | TangentEngine | ProgramTangentEngine | null;
  private readonly lanesIn: Float64Array;
  private readonly lanesOut: Float64Array;
  private readonly na: number;
  private readonly offset: Float64Array | null;
  /** Reuse a slot's Jacobian when the activation pattern is unchanged (piecewise-linear networks). */
  private readonly reuse: boolean;
  private readonly patScratch: Uint8Array;
  private readonly jPat: Uint8Array[] = [];
  private readonly jJx: Float64Array[] = [];
  private readonly jJu: Float64Array[] = [];
  private readonly jValid: boolean[] = [];
  private readonly jState: boolean[] = [];
  /** Forward-mode Jacobians computed and reused (activation pattern unchanged) since construction. */
  readonly stats = { computed: 0, reused: 0 };

  /**
   * @param model the network and its scalers (null scalers: the model works in physical units)
   * @param layout where state and input enter the rows and where the state comes out
   * @param name description (default: `<kind> model`)
   * @param options `forwardMode` (default true): offer {@link jacobian} when the architecture has a
   *   forward-mode rule; `reuseJacobians` (default true): reuse Jacobians across equal activation
   *   patterns of piecewise-linear networks; `wasm` (default true): run in the f64 wasm kernels
   *   where they cover the model and wasm is available (false: always the JS path)
   * @throws ValidationError when the layout does not fit the model
   */
  constructor(model: ScaledModel, layout: ModelLayout, name?: string, options: { forwardMode?: boolean; reuseJacobians?: boolean; wasm?: boolean } = {}) {
    const m = model.model;
    const nin = m.inputSize, nout = m.outputSize;
    const nx = layout.stateColumns.length, nu = layout.inputColumns.length;
    if (nx < 1) throw new ValidationError('ModelPredictor: layout.stateColumns must not be empty');
    if (layout.outputColumns.length !== nx)
      throw new ValidationError(`ModelPredictor: layout.outputColumns has ${layout.outputColumns.length} entries, expected one per state component (${nx})`);
    if (!Number.isInteger(layout.steps) || layout.steps < 1) throw new ValidationError(`ModelPredictor: layout.steps must be a positive integer, got ${layout.steps}`);
    if (nx + nu !== nin) throw new ValidationError(`ModelPredictor: the model takes ${nin} input features but the layout places ${nx} states + ${nu} inputs`);
    const seen = new Set<number>();
    for (const c of [...layout.stateColumns, ...layout.inputColumns]) {
      if (!Number.isInteger(c) || c < 0 || c >= nin) throw new ValidationError(`ModelPredictor: input column ${c} is outside 0..${nin - 1}`);
      if (seen.has(c)) throw new ValidationError(`ModelPredictor: input column ${c} is used twice`);
      seen.add(c);
    }
    const outSeen = new Set<number>();
    for (const c of layout.outputColumns) {
      if (!Number.isInteger(c) || c < 0 || c >= nout) throw new ValidationError(`ModelPredictor: output column ${c} is outside 0..${nout - 1}`);
      if (outSeen.has(c)) throw new ValidationError(`ModelPredictor: output column ${c} is used twice`);
      outSeen.add(c);
    }
    if (model.inputScaler && model.inputScaler.features !== nin)
      throw new ValidationError(`ModelPredictor: the input scaler has ${model.inputScaler.features} features, the model ${nin}`);
    if (model.outputScaler && model.outputScaler.features !== nout)
      throw new ValidationError(`ModelPredictor: the output scaler has ${model.outputScaler.features} features, the model ${nout}`);
    this.source = model;
    this.name = name ?? `${m.spec.kind} model`;
    this.stateSize = nx;
    this.inputSize = nu;
    this.samplesPerPeriod = layout.steps;
    this.steps = layout.steps;
    this.nin = nin;
    this.nout = nout;
    this.sc = Int32Array.from(layout.stateColumns);
    this.ic = Int32Array.from(layout.inputColumns);
    this.oc = Int32Array.from(layout.outputColumns);
    this.inMin = new Float64Array(nin);
    this.inScale = new Float64Array(nin).fill(1);
    if (model.inputScaler) {
      for (let j = 0; j < nin; j++) {
        this.inMin[j] = model.inputScaler.min[j];
        this.inScale[j] = model.inputScaler.factor(j);
      }
    }
    this.outMin = new Float64Array(nx);
    this.outScale = new Float64Array(nx).fill(1);
    if (model.outputScaler) {
      for (let i = 0; i < nx; i++) {
        this.outMin[i] = model.outputScaler.min[this.oc[i]];
        this.outScale[i] = model.outputScaler.factor(this.oc[i]);
      }
    }
    const lanes = 1 + nx + nu;
    this.na = m.augmentedSize;
    this.offset = m.spec.augmentation ? Float64Array.from(m.spec.augmentation.offset) : null;
    this.wasm = (options.wasm ?? true) ? WasmPredictor.create(m) : null;
    this.wasm?.reserve(lanes, layout.steps); // every call here fits: 1 sequence or `lanes` lanes
    this.yBuf = new Float64Array(layout.steps * nout);
    this.gBuf = new Float64Array(layout.steps * nin);
    this.engine = (options.forwardMode ?? true) ? forwardEngine(m, lanes, this.wasm) : null;
    this.lanesIn = new Float64Array(lanes * this.na);
    this.lanesOut = new Float64Array(layout.steps * lanes * nout);
    this.reuse = options.reuseJacobians ?? true;
    this.patScratch = new Uint8Array(this.engine ? this.engine.patternSize(layout.steps) : 0);
    // without a forward-mode rule, hide the optional method so that users fall back to the adjoint
    if (!this.engine) Object.defineProperty(this, 'jacobian', { value: undefined, configurable: true });
  }

  /** Whether {@link jacobian} (forward mode) is available for this architecture. */
  get hasForwardMode(): boolean {
    return this.engine !== null;
  }

  /** Whether the network runs in the f64 wasm kernels (else in the JS model). */
  get usesWasm(): boolean {
    return this.wasm !== null;
  }

  reserve(slots: number): void {
    const m = this.source.model;
    while (this.rows.length < slots) {
      if (!this.wasm) {
        const copy = new SequenceModel(m.spec);
        copyWeights(m, copy);
        this.copies.push(copy);
      }
      this.rows.push(new Float64Array(this.steps * this.nin));
      this.dy.push(new Float64Array(this.steps * this.nout));
      this.ready.push(false);
      this.jPat.push(new Uint8Array(this.patScratch.length));
      this.jJx.push(new Float64Array(this.steps * this.stateSize * this.stateSize));
      this.jJu.push(new Float64Array(this.steps * this.stateSize * this.inputSize));
      this.jValid.push(false);
      this.jState.push(false);
    }
  }

  /** Copies the source model's current weights into every slot's network (and the forward-mode engine). */
  syncWeights(): void {
    for (const c of this.copies) copyWeights(this.source.model, c);
    this.wasm?.sync();
    // a wasm engine shares the predictor's weights, synced above
    if (!(this.engine instanceof WasmTangentEngine)) this.engine?.sync();
    this.ready.fill(false);
    this.jValid.fill(false);
  }

  /** Writes the scaled row of (x, u) into rows[slot] (all steps). */
  private fillRows(slot: number, x: Float64Array, u: Float64Array): Float64Array {
    if (slot >= this.rows.length) this.reserve(slot + 1);
    const nin = this.nin, nx = this.stateSize, nu = this.inputSize, steps = this.steps;
    const rows = this.rows[slot];
    const sc = this.sc, ic = this.ic, mn = this.inMin, sk = this.inScale;
    for (let i = 0; i < nx; i++) {
      const c = sc[i];
      rows[c] = (x[i] - mn[c]) * sk[c];
    }
    for (let j = 0; j < nu; j++) {
      const c = ic[j];
      rows[c] = (u[j] - mn[c]) * sk[c];
    }
    for (let s = 1; s < steps; s++) rows.copyWithin(s * nin, 0, nin);
    return rows;
  }

  predict(slot: number, x: Float64Array, u: Float64Array, out: Float64Array, forAdjoint = true): void {
    const rows = this.fillRows(slot, x, u);
    const nout = this.nout, nx = this.stateSize, steps = this.steps;
    const oc = this.oc, om = this.outMin, os = this.outScale;
    if (!forAdjoint && this.engine) {
      this.runEngine(rows, 1, null);
      const y = this.lanesOut;
      for (let s = 0; s < steps; s++) {
        const yo = s * nout, oo = s * nx;
        for (let i = 0; i < nx; i++) out[oo + i] = y[yo + oc[i]] / os[i] + om[i];
      }
      this.ready[slot] = false;
      return;
    }
    const y = this.wasm ? this.wasm.forward(rows, 1, steps, this.yBuf) : this.copies[slot].forwardTimeMajor(rows, 1, steps);
    this.ready[slot] = true;
    for (let s = 0; s < steps; s++) {
      const yo = s * nout, oo = s * nx;
      for (let i = 0; i < nx; i++) out[oo + i] = y[yo + oc[i]] / os[i] + om[i];
    }
  }

  /**
   * Forward mode (only for architectures with a forward-mode rule, see {@link hasForwardMode}): one
   * pass carries the prediction and its derivatives along every state (when `Jx` is given) and input
   * direction through the network, sharing each weight load; ReLU units that are off in every lane
   * are skipped.
   *
   * Piecewise-linear networks (ReLU only: ICLRNN, ICRNN, ReLU RNNs) are affine on each activation
   * region, so their Jacobian depends only on the activation pattern: when a value-only pass finds
   * the same pattern as this slot's last Jacobian, that Jacobian is reused (exactly, not as an
   * approximation) and the directional lanes are skipped.
   */
  jacobian(slot: number, x: Float64Array, u: Float64Array, out: Float64Array, Jx: Float64Array | null, Ju: Float64Array): void {
    const engine = this.engine;
    if (!engine) throw new ValidationError(`${this.name}: no forward mode for this architecture; use adjoint()`);
    const rows = this.fillRows(slot, x, u);
    this.ready[slot] = false;
    const nx = this.stateSize, nu = this.inputSize, nout = this.nout, steps = this.steps;
    const y = this.lanesOut, oc = this.oc, om = this.outMin, os = this.outScale;
    const withState = Jx !== null;
    const pl = engine.piecewiseLinear && this.reuse;
    if (pl && this.jValid[slot] && this.jState[slot] === withState) {
      const pat = this.patScratch;
      this.runEngine(rows, 1, null, pat);
      const ref = this.jPat[slot];
      let same = true;
      for (let i = 0; i < pat.length; i++) {
        if (pat[i] !== ref[i]) {
          same = false;
          break;
        }
      }
      if (same) {
        for (let s = 0; s < steps; s++) {
          const yo = s * nout, oo = s * nx;
          for (let i = 0; i < nx; i++) out[oo + i] = y[yo + oc[i]] / os[i] + om[i];
        }
        if (Jx) Jx.set(this.jJx[slot]);
        Ju.set(this.jJu[slot]);
        this.stats.reused++;
        return;
      }
    }
    this.stats.computed++;
    const lanes = 1 + (withState ? nx : 0) + nu;
    this.runEngine(rows, lanes, Jx, pl ? this.jPat[slot] : null);
    for (let s = 0; s < steps; s++) {
      const yo = s * lanes * nout, oo = s * nx;
      for (let i = 0; i < nx; i++) {
        const c = oc[i], inv = 1 / os[i];
        out[oo + i] = y[yo + c] / os[i] + om[i];
        let l = 1;
        if (Jx) for (let d = 0; d < nx; d++, l++) Jx[(oo + i) * nx + d] = y[yo + l * nout + c] * inv;
        for (let j = 0; j < nu; j++, l++) Ju[(oo + i) * nu + j] = y[yo + l * nout + c] * inv;
      }
    }
    if (pl) {
      if (Jx) this.jJx[slot].set(Jx);
      this.jJu[slot].set(Ju);
      this.jValid[slot] = true;
      this.jState[slot] = withState;
    }
  }

  /** Runs the engine on the row (lane 0) and the unit directions of the state (if withState) and inputs. */
  private runEngine(rows: Float64Array, lanes: number, withState: Float64Array | null, pattern: Uint8Array | null = null): void {
    const nin = this.nin, na = this.na, a = this.lanesIn, off = this.offset;
    a.fill(0, 0, lanes * na);
    for (let c = 0; c < nin; c++) {
      a[c] = rows[c];
      if (off) a[nin + c] = off[c] - rows[c];
    }
    if (lanes > 1) {
      // direction l: the scaled input column of a state component (when withState) or an input
      const ns = withState ? this.stateSize : 0;
      for (let l = 1; l < lanes; l++) {
        const c = l - 1 < ns ? this.sc[l - 1] : this.ic[l - 1 - ns];
        const v = this.inScale[c];
        a[l * na + c] = v;
        if (off) a[l * na + nin + c] = -v;
      }
    }
    this.engine!.run(a, lanes, this.steps, this.lanesOut, pattern);
  }

  adjoint(slot: number, dOut: Float64Array, dx: Float64Array, du: Float64Array): void {
    const nin = this.nin, nout = this.nout, nx = this.stateSize, nu = this.inputSize, steps = this.steps;
    if (!this.wasm && !this.ready[slot]) {
      this.copies[slot].forwardTimeMajor(this.rows[slot], 1, steps);
      this.ready[slot] = true;
    }
    const dy = this.dy[slot];
    if (nout !== nx) dy.fill(0);
    const oc = this.oc, os = this.outScale;
    for (let s = 0; s < steps; s++) {
      const yo = s * nout, oo = s * nx;
      for (let i = 0; i < nx; i++) dy[yo + oc[i]] = dOut[oo + i] / os[i];
    }
    // wasm: forward and reverse sweep in one call (the arena keeps no per-slot forward caches)
    const g = this.wasm ? this.wasm.inputGradient(this.rows[slot], dy, 1, steps, this.gBuf) : this.copies[slot].backwardTimeMajor(dy, true, false)!;
    const sc = this.sc, ic = this.ic, sk = this.inScale;
    for (let i = 0; i < nx; i++) {
      const c = sc[i];
      let a = 0;
      for (let s = 0; s < steps; s++) a += g[s * nin + c];
      dx[i] = a * sk[c];
    }
    for (let j = 0; j < nu; j++) {
      const c = ic[j];
      let a = 0;
      for (let s = 0; s < steps; s++) a += g[s * nin + c];
      du[j] = a * sk[c];
    }
  }
}

function copyWeights(from: SequenceModel, to: SequenceModel): void {
  const a = from.parameters(), b = to.parameters();
  if (a.length !== b.length) throw new RangeError('ModelPredictor: model copies disagree on their parameters');
  for (let i = 0; i < a.length; i++) b[i].value.set(a[i].value);
}

/**
 * A first-principles model `dx/dt = f(x, u)` with its Jacobians, for {@link OdePredictor}.
 */
export interface OdeModel {
  readonly stateSize: number;
  readonly inputSize: number;
  /**
   * Writes `f(x, u)` into `f` (stateSize) and, when given, `df/dx` into `fx` (stateSize x stateSize,
   * row-major) and `df/du` into `fu` (stateSize x inputSize). Must not allocate.
   */
  evaluate(x: Float64Array, u: Float64Array, f: Float64Array, fx: Float64Array | null, fu: Float64Array | null): void;
}

/** Options of {@link OdePredictor}. */
export interface OdePredictorOptions {
  /** Length of a sampling period (time units of the model). */
  period: number;
  /** Explicit Euler step; `period / dt` must be (close to) an integer. */
  dt: number;
  /** Samples per period (default 1: the end state only); must divide the number of Euler steps. */
  samplesPerPeriod?: number;
  /** Description (default `first-principles (Euler <dt>)`). */
  name?: string;
}

/**
 * A first-principles predictor: explicit Euler over the period (the reference's scheme), sampled
 * every `steps / samplesPerPeriod` Euler steps. The adjoint is the exact discrete adjoint of the
 * Euler recursion `x_{n+1} = x_n + dt f(x_n, u)`:
 * `lambda_n = lambda_{n+1} + dt fx(x_n)' lambda_{n+1}`, `du += dt fu(x_n)' lambda_{n+1}`, with the
 * sample gradients injected where the samples are taken. The Jacobians are stored during the
 * forward pass, so an adjoint costs no model evaluations.
 */
export class OdePredictor implements Predictor {
  readonly name: string;
  readonly stateSize: number;
  readonly inputSize: number;
  readonly samplesPerPeriod: number;
  readonly model: OdeModel;
  /** Euler steps per period. */
  readonly steps: number;
  readonly dt: number;
  private readonly every: number;
  /** Per slot, per Euler step: views of the stored Jacobians (created once in reserve). */
  private readonly fx: Float64Array[][] = [];
  private readonly fu: Float64Array[][] = [];
  private readonly xs: Float64Array;
  private readonly f: Float64Array;
  private readonly lam: Float64Array;
  private readonly lamNext: Float64Array;
  /** Forward sensitivities d x_n / d(x, u), stateSize x (stateSize + inputSize), and scratch. */
  private readonly phi: Float64Array;
  private readonly phiNext: Float64Array;

  constructor(model: OdeModel, options: OdePredictorOptions) {
    const { period, dt } = options;
    if (!(period > 0) || !Number.isFinite(period)) throw new ValidationError(`OdePredictor: period must be a finite number > 0, got ${period}`);
    if (!(dt > 0) || !Number.isFinite(dt)) throw new ValidationError(`OdePredictor: dt must be a finite number > 0, got ${dt}`);
    const steps = Math.round(period / dt);
    if (steps < 1 || Math.abs(steps * dt - period) > 1e-9 * period)
      throw new ValidationError(`OdePredictor: period (${period}) must be a whole number of Euler steps (dt ${dt})`);
    const samples = options.samplesPerPeriod ?? 1;
    if (!Number.isInteger(samples) || samples < 1 || steps % samples !== 0)
      throw new ValidationError(`OdePredictor: samplesPerPeriod (${samples}) must divide the ${steps} Euler steps of a period`);
    this.model = model;
    this.name = options.name ?? `first-principles (Euler ${dt})`;
    this.stateSize = model.stateSize;
    this.inputSize = model.inputSize;
    this.samplesPerPeriod = samples;
    this.steps = steps;
    this.dt = period / steps;
    this.every = steps / samples;
    this.xs = new Float64Array(model.stateSize);
    this.f = new Float64Array(model.stateSize);
    this.lam = new Float64Array(model.stateSize);
    this.lamNext = new Float64Array(model.stateSize);
    this.phi = new Float64Array(model.stateSize * (model.stateSize + model.inputSize));
    this.phiNext = new Float64Array(model.stateSize * (model.stateSize + model.inputSize));
  }

  reserve(slots: number): void {
    const nx = this.stateSize, nu = this.inputSize;
    while (this.fx.length < slots) {
      const FX = new Float64Array(this.steps * nx * nx), FU = new Float64Array(this.steps * nx * nu);
      const vx: Float64Array[] = [], vu: Float64Array[] = [];
      for (let n = 0; n < this.steps; n++) {
        vx.push(FX.subarray(n * nx * nx, (n + 1) * nx * nx));
        vu.push(FU.subarray(n * nx * nu, (n + 1) * nx * nu));
      }
      this.fx.push(vx);
      this.fu.push(vu);
    }
  }

  predict(slot: number, x: Float64Array, u: Float64Array, out: Float64Array, _forAdjoint = true): void {
    if (slot >= this.fx.length) this.reserve(slot + 1);
    const nx = this.stateSize, nu = this.inputSize, h = this.dt, every = this.every;
    const xs = this.xs, f = this.f, FX = this.fx[slot], FU = this.fu[slot];
    for (let i = 0; i < nx; i++) xs[i] = x[i];
    let sample = 0;
    for (let n = 0; n < this.steps; n++) {
      this.model.evaluate(xs, u, f, FX[n], FU[n]);
      for (let i = 0; i < nx; i++) xs[i] += h * f[i];
      if ((n + 1) % every === 0) {
        const o = sample * nx;
        for (let i = 0; i < nx; i++) {
          if (!Number.isFinite(xs[i])) throw new RangeError(`${this.name}: prediction diverged (non-finite state)`);
          out[o + i] = xs[i];
        }
        sample++;
      }
    }
  }

  /**
   * Forward sensitivities through the Euler recursion: `Phi_{n+1} = Phi_n + dt (fx_n Phi_n + [0 fu_n])`
   * with `Phi_0 = [I 0]`, recorded at the samples (exact derivative of the discretised prediction).
   */
  jacobian(slot: number, x: Float64Array, u: Float64Array, out: Float64Array, Jx: Float64Array | null, Ju: Float64Array): void {
    this.predict(slot, x, u, out);
    const nx = this.stateSize, nu = this.inputSize, w = nx + nu, h = this.dt, every = this.every;
    const FX = this.fx[slot], FU = this.fu[slot];
    let phi = this.phi, nxt = this.phiNext;
    phi.fill(0);
    for (let i = 0; i < nx; i++) phi[i * w + i] = 1;
    let sample = 0;
    for (let n = 0; n < this.steps; n++) {
      const fxn = FX[n], fun = FU[n];
      for (let i = 0; i < nx; i++) {
        for (let c = 0; c < w; c++) {
          let a = c >= nx ? fun[i * nu + (c - nx)] : 0;
          for (let k = 0; k < nx; k++) a += fxn[i * nx + k] * phi[k * w + c];
          nxt[i * w + c] = phi[i * w + c] + h * a;
        }
      }
      const t = phi;
      phi = nxt;
      nxt = t;
      if ((n + 1) % every === 0) {
        const o = sample * nx;
        for (let i = 0; i < nx; i++) {
          if (Jx) for (let d = 0; d < nx; d++) Jx[(o + i) * nx + d] = phi[i * w + d];
          for (let j = 0; j < nu; j++) Ju[(o + i) * nu + j] = phi[i * w + nx + j];
        }
        sample++;
      }
    }
  }

  adjoint(slot: number, dOut: Float64Array, dx: Float64Array, du: Float64Array): void {
    const nx = this.stateSize, nu = this.inputSize, h = this.dt, every = this.every;
    const FX = this.fx[slot], FU = this.fu[slot];
    let lam = this.lam, nxt = this.lamNext;
    lam.fill(0);
    du.fill(0, 0, nu);
    for (let n = this.steps - 1; n >= 0; n--) {
      // lam: adjoint of x_{n+1}; inject the sample taken there
      if ((n + 1) % every === 0) {
        const o = ((n + 1) / every - 1) * nx;
        for (let i = 0; i < nx; i++) lam[i] += dOut[o + i];
      }
      const fxn = FX[n], fun = FU[n];
      for (let j = 0; j < nu; j++) {
        let a = 0;
        for (let i = 0; i < nx; i++) a += fun[i * nu + j] * lam[i];
        du[j] += h * a;
      }
      for (let j = 0; j < nx; j++) {
        let a = 0;
        for (let i = 0; i < nx; i++) a += fxn[i * nx + j] * lam[i];
        nxt[j] = lam[j] + h * a;
      }
      const t = lam;
      lam = nxt;
      nxt = t;
    }
    for (let i = 0; i < nx; i++) dx[i] = lam[i];
  }
}

/**
 * The wasm engine where the wasm predictor runs, else the hand-fused engine where it applies, else
 * the program interpreter; null for layers without a registered program.
 */
function forwardEngine(m: SequenceModel, lanes: number, wasm: WasmPredictor | null): WasmTangentEngine | TangentEngine | ProgramTangentEngine | null {
  if (wasm) return new WasmTangentEngine(wasm);
  if (TangentEngine.supports(m)) return new TangentEngine(m, lanes);
  try {
    return new ProgramTangentEngine(m, lanes);
  } catch (e) {
    if (e instanceof ValidationError) return null;
    throw e;
  }
}
