/**
 * Predictors for model predictive control: one sampling period of a plant model with exact
 * derivatives of its predicted samples w.r.t. the state and the input, in reverse mode (adjoint,
 * vector-Jacobian products) and, where cheap, forward mode (the full Jacobian).
 *
 * - {@link ModelPredictor}: any trained iclrnn {@link SequenceModel} with its min-max scalers. One
 *   period is one model call on `steps` identical rows built from (state, input). Reverse mode
 *   chains the output scaler, the model's input gradient (which folds the `[x, offset - x]`
 *   augmentation of the input-convex families) and the input scaler. Forward mode runs the
 *   {@link TangentEngine}: the values and the derivatives along every state and input direction in
 *   one pass (RNN, LSTM, ICRNN, ICLSTM, ICLRNN; not LRNN).
 * - {@link OdePredictor}: a first-principles ODE integrated by explicit Euler (as the reference), with
 *   the discrete adjoint and the forward sensitivities of the Euler recursion (exact derivatives of
 *   the discretised prediction).
 *
 * The MPC unrolls a predictor over its horizon: period k runs in slot k, and each slot keeps what
 * its adjoint needs, so the whole horizon is differentiated by one reverse sweep. Browser-safe: no
 * Node APIs. Nothing here allocates per call once {@link Predictor.reserve} has run (the model's own
 * forward/backward return views).
 */
import type { Activation } from '../nn/cell.ts';
import { IclstmCell } from '../nn/iclstm-cell.ts';
import { IcrnnCell } from '../nn/icrnn-cell.ts';
import { LstmCell } from '../nn/lstm-cell.ts';
import { SequenceModel } from '../nn/model.ts';
import { SimpleCell } from '../nn/simple-cell.ts';
import { ProgramTangentEngine } from '../nn/program-stack.ts';
import type { ScaledModel } from '../nn/scaled-model.ts';
import { ValidationError } from '../core/errors.ts';

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
 * Each slot runs on its own copy of the network (same weights), so the forward caches of all
 * periods survive until the reverse sweep: one forward and one input-gradient backward (batch 1,
 * the model's fast path) per period and adjoint direction. The copies are taken at construction;
 * call {@link syncWeights} after changing the source model's weights.
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
  private readonly copies: SequenceModel[] = [];
  private readonly rows: Float64Array[] = [];
  private readonly dy: Float64Array[] = [];
  /** Whether slot k's network copy holds the forward pass of rows[k] (needed by the adjoint). */
  private readonly ready: boolean[] = [];
  /**
   * Forward-mode engine: the hand-fused {@link TangentEngine} where it covers the architecture,
   * else the generic forward-mode interpreter over the cell programs (the Lipschitz RNN, the GRU,
   * multi-block models); null only when forward mode is switched off.
   */
  private readonly engine: TangentEngine | ProgramTangentEngine | null;
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
   *   patterns of piecewise-linear networks
   * @throws ValidationError when the layout does not fit the model
   */
  constructor(model: ScaledModel, layout: ModelLayout, name?: string, options: { forwardMode?: boolean; reuseJacobians?: boolean } = {}) {
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
    this.engine = (options.forwardMode ?? true) ? forwardEngine(m, lanes) : null;
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

  reserve(slots: number): void {
    const m = this.source.model;
    while (this.copies.length < slots) {
      const copy = new SequenceModel(m.spec);
      copyWeights(m, copy);
      this.copies.push(copy);
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
    this.engine?.sync();
    this.ready.fill(false);
    this.jValid.fill(false);
  }

  /** Writes the scaled row of (x, u) into rows[slot] (all steps). */
  private fillRows(slot: number, x: Float64Array, u: Float64Array): Float64Array {
    if (slot >= this.copies.length) this.reserve(slot + 1);
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
    const y = this.copies[slot].forwardTimeMajor(rows, 1, steps);
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
    if (!this.ready[slot]) {
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
    const g = this.copies[slot].backwardTimeMajor(dy, true, false)!;
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

// ---------------------------------------------------------------------------------------------
// Tangent (forward-mode) engine: primal + directional derivatives of one batch-1 sequence

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

/** The hand-fused engine where it applies, else the program interpreter; null for layers without a registered program. */
function forwardEngine(m: SequenceModel, lanes: number): TangentEngine | ProgramTangentEngine | null {
  if (TangentEngine.supports(m)) return new TangentEngine(m, lanes);
  try {
    return new ProgramTangentEngine(m, lanes);
  } catch (e) {
    if (e instanceof ValidationError) return null;
    throw e;
  }
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
            else { y = 1 / (1 + Math.exp(-v)); d = y * (1 - y); }
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
      const gi = sig(z[j] + b[j]);
      const gf = sig(z[u + j] + b[u + j]);
      const gg = Math.tanh(z[2 * u + j] + b[2 * u + j]);
      const go = sig(z[3 * u + j] + b[3 * u + j]);
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

function sig(v: number): number {
  return 1 / (1 + Math.exp(-v));
}
