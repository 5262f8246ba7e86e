/**
 * Forward-mode interpreter: runs a {@link ProgramStack} on one sequence and carries, beside every
 * value, its derivatives along k directions (of the input and, optionally, of the initial states)
 * in the same pass: lane 0 holds the values, lanes 1..k the tangents. One rule per primitive:
 *
 * - `matmul`: every lane times the matrix (rows that are zero in a lane are skipped);
 * - `bias`, `affine`: the constant goes to lane 0 only; `scale`: every lane;
 * - `add`, `slice`, `concat`: lane-wise;
 * - `mul`: value `a b`, tangent `da b + a db`;
 * - `act`: value `f(z)`, tangent `f'(z) dz` (the activation table).
 *
 * This is what the MPC needs for exact Jacobians of a prediction w.r.t. the state and the input
 * (every family, the Lipschitz RNN and the GRU included). All buffers are allocated by the
 * constructor; a step allocates nothing.
 */
import type { Node } from '../graph/program.ts';
import { activationSlope, activationValue } from './activation-facts.ts';
import { augmentedSize, BoundProgram, bindStack, stackOutputSize, type ProgramStack } from './bind.ts';
import { ValidationError } from '../core/errors.ts';

/** Per-layer lane buffers. */
interface LayerLanes {
  bound: BoundProgram;
  /** One buffer per node (lanes x size, lane-major); state nodes hold the previous state. */
  vals: Float64Array[];
  /** State node id of each slot. */
  stateNode: Int32Array;
  /** Layer output after the residual add (aliases the output node's buffer without one). */
  out: Float64Array;
  residual: boolean;
}

/**
 * Forward mode over a program stack (module comment). Lanes: `1 + k`, k at most
 * `maxDirections`. Inputs are plain (un-augmented) feature rows; the augmentation
 * `[x, offset - x]` is applied to the values and `[dx, -dx]` to the tangents.
 */
export class ForwardEngine {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly maxDirections: number;
  private readonly na: number;
  private readonly layers: LayerLanes[];
  private readonly aug: Float64Array;
  private readonly offset: Float64Array | null;
  private lanes = 1;

  /**
   * @param stack the layers (parameters are read from their sources; call {@link sync} after a change)
   * @param maxDirections the largest number of directions k of a run
   */
  constructor(stack: ProgramStack, maxDirections: number) {
    if (!Number.isInteger(maxDirections) || maxDirections < 0) throw new ValidationError(`ForwardEngine: maxDirections must be a non-negative integer, got ${maxDirections}`);
    const bound = bindStack(stack);
    this.inputSize = stack.inputSize;
    this.outputSize = stackOutputSize(stack);
    this.maxDirections = maxDirections;
    this.na = augmentedSize(stack);
    this.offset = stack.augmentation ? Float64Array.from(stack.augmentation) : null;
    const L = maxDirections + 1;
    this.aug = new Float64Array(L * this.na);
    let input = this.aug;
    this.layers = bound.map((b, li) => {
      const p = b.program;
      const vals = p.nodes.map((n) => (n.op === 'input' ? input : new Float64Array(L * n.size)));
      const stateNode = new Int32Array(p.state.length).fill(-1);
      p.nodes.forEach((n, id) => {
        if (n.op === 'state') stateNode[n.slot] = id;
      });
      const residual = stack.layers[li].residual ?? false;
      const out = residual ? new Float64Array(L * p.outputSize) : vals[p.output];
      input = out;
      return { bound: b, vals, stateNode, out, residual };
    });
  }

  /** Re-reads the parameters (and recomputes derived matrices) after the weights changed. */
  sync(): void {
    for (const l of this.layers) l.bound.sync();
  }

  /** Number of layers. */
  get layerCount(): number {
    return this.layers.length;
  }

  /** Zeros every state and its tangents (the start of a sequence). */
  reset(): void {
    for (const l of this.layers) for (const id of l.stateNode) if (id >= 0) l.vals[id].fill(0);
  }

  /**
   * Sets state slot `slot` of layer `layer` (the state the next step reads) and its tangents:
   * `tangents` is `k x size` (direction-major) or null for zero tangents.
   */
  setState(layer: number, slot: number, value: ArrayLike<number>, tangents: ArrayLike<number> | null, k: number): void {
    const l = this.layers[layer], id = l.stateNode[slot];
    if (id < 0) return; // a slot nobody reads
    const n = l.bound.size(id), v = l.vals[id];
    for (let i = 0; i < n; i++) v[i] = value[i];
    for (let d = 0; d < k; d++) for (let i = 0; i < n; i++) v[(1 + d) * n + i] = tangents ? tangents[d * n + i] : 0;
  }

  /**
   * Lanes of node `id` of layer `layer` from the last step (lane-major `(1 + k) x size`; a view).
   * State nodes hold the state the next step reads.
   */
  node(layer: number, id: number): Float64Array {
    return this.layers[layer].vals[id];
  }

  /** Lanes of state slot `slot` of layer `layer` after the last step (lane-major `(1 + k) x size`; a view). */
  state(layer: number, slot: number): Float64Array {
    const l = this.layers[layer], id = l.stateNode[slot];
    if (id < 0) throw new ValidationError(`ForwardEngine: state slot ${slot} of layer ${layer} is never read`);
    return l.vals[id];
  }

  /**
   * One step on input row `x` (inputSize) with input tangents `dx` (`k x inputSize`, or null for
   * zero input tangents: derivatives along initial-state directions only). Writes `out`
   * (`(1 + k) x outputSize`: lane 0 the outputs, lane d their derivative along direction d).
   */
  step(x: ArrayLike<number>, dx: ArrayLike<number> | null, k: number, out: Float64Array): void {
    if (k > this.maxDirections) throw new ValidationError(`ForwardEngine: ${k} directions, built for ${this.maxDirections}`);
    const L = (this.lanes = k + 1);
    const n = this.inputSize, na = this.na, a = this.aug, off = this.offset;
    for (let l = 0; l < L; l++) {
      for (let i = 0; i < n; i++) {
        const v = l === 0 ? x[i] : dx ? dx[(l - 1) * n + i] : 0;
        a[l * na + i] = v;
        if (off) a[l * na + n + i] = l === 0 ? off[i] - v : -v;
      }
    }
    for (const layer of this.layers) this.runLayer(layer);
    const last = this.layers[this.layers.length - 1].out, m = this.outputSize;
    for (let i = 0; i < L * m; i++) out[i] = last[i];
  }

  /**
   * A whole sequence from zero states: `x` is `steps x inputSize` (time-major), `dx`
   * `k x steps x inputSize` (direction-major) or null; `out` receives `steps x (1 + k) x outputSize`.
   * With `constantInput`, `x` is one row (and `dx` `k x inputSize`) repeated at every step.
   */
  sequence(x: ArrayLike<number>, dx: ArrayLike<number> | null, k: number, steps: number, out: Float64Array, constantInput = false): void {
    this.reset();
    const n = this.inputSize, m = this.outputSize, L = k + 1;
    const row = this.rowBuf.length >= n ? this.rowBuf : (this.rowBuf = new Float64Array(n));
    const drow = this.dRowBuf.length >= k * n ? this.dRowBuf : (this.dRowBuf = new Float64Array(k * n));
    for (let t = 0; t < steps; t++) {
      if (constantInput) {
        this.stepInto(x, dx, k, out, t * L * m);
        continue;
      }
      for (let i = 0; i < n; i++) row[i] = x[t * n + i];
      if (dx) for (let d = 0; d < k; d++) for (let i = 0; i < n; i++) drow[d * n + i] = dx[(d * steps + t) * n + i];
      this.stepInto(row, dx ? drow : null, k, out, t * L * m);
    }
  }

  private rowBuf = new Float64Array(0);
  private dRowBuf = new Float64Array(0);

  private stepInto(x: ArrayLike<number>, dx: ArrayLike<number> | null, k: number, out: Float64Array, offset: number): void {
    this.step(x, dx, k, this.stepOut.length >= (k + 1) * this.outputSize ? this.stepOut : (this.stepOut = new Float64Array((this.maxDirections + 1) * this.outputSize)));
    const n = (k + 1) * this.outputSize;
    for (let i = 0; i < n; i++) out[offset + i] = this.stepOut[i];
  }

  private stepOut = new Float64Array(0);

  /** Runs one layer's program for one step, then moves the next states into the state nodes. */
  private runLayer(layer: LayerLanes): void {
    const L = this.lanes, b = layer.bound, p = b.program, vals = layer.vals;
    for (let id = 0; id < p.nodes.length; id++) {
      const node = p.nodes[id];
      if (node.op === 'input' || node.op === 'state') continue;
      this.rule(node, b, vals, vals[id], L);
    }
    if (layer.residual) {
      const y = vals[p.output], o = layer.out, a = this.aug, m = p.outputSize;
      for (let i = 0; i < L * m; i++) o[i] = y[i] + a[i];
    }
    // next states: copy after the whole step (a state node may be read after its next is computed)
    for (let s = 0; s < p.state.length; s++) {
      const sid = layer.stateNode[s];
      if (sid < 0) continue;
      const src = vals[p.next[s]], dst = vals[sid], n = L * p.state[s].size;
      for (let i = 0; i < n; i++) dst[i] = src[i];
    }
  }

  /** One primitive over all lanes. */
  private rule(node: Node, b: BoundProgram, vals: Float64Array[], y: Float64Array, L: number): void {
    const m = node.size;
    switch (node.op) {
      case 'matmul': {
        const x = vals[node.x], W = b.mat(node.matrix), k = b.size(node.x);
        y.fill(0, 0, L * m);
        for (let l = 0; l < L; l++) {
          const xo = l * k, yo = l * m;
          for (let i = 0; i < k; i++) {
            const xi = x[xo + i];
            if (xi === 0) continue;
            const wo = i * m;
            for (let j = 0; j < m; j++) y[yo + j] += xi * W[wo + j];
          }
        }
        return;
      }
      case 'bias': {
        const x = vals[node.x], c = b.mat(node.param);
        for (let j = 0; j < m; j++) y[j] = x[j] + c[j];
        for (let i = m; i < L * m; i++) y[i] = x[i];
        return;
      }
      case 'scale': {
        const x = vals[node.x], d = b.mat(node.param);
        for (let l = 0; l < L; l++) for (let j = 0; j < m; j++) y[l * m + j] = x[l * m + j] * d[j];
        return;
      }
      case 'affine': {
        const x = vals[node.x], a = node.a;
        for (let j = 0; j < m; j++) y[j] = a * x[j] + node.b;
        for (let i = m; i < L * m; i++) y[i] = a * x[i];
        return;
      }
      case 'add': {
        const u = vals[node.a], v = vals[node.b];
        for (let i = 0; i < L * m; i++) y[i] = u[i] + v[i];
        return;
      }
      case 'mul': {
        const u = vals[node.a], v = vals[node.b];
        for (let j = 0; j < m; j++) {
          const a0 = u[j], b0 = v[j];
          y[j] = a0 * b0;
          for (let l = 1; l < L; l++) y[l * m + j] = u[l * m + j] * b0 + a0 * v[l * m + j];
        }
        return;
      }
      case 'act': {
        const x = vals[node.x], fn = node.fn;
        for (let j = 0; j < m; j++) {
          const z = x[j];
          y[j] = activationValue(fn, z);
          if (L > 1) {
            const s = activationSlope(fn, z);
            for (let l = 1; l < L; l++) y[l * m + j] = s * x[l * m + j];
          }
        }
        return;
      }
      case 'slice': {
        const x = vals[node.x], k = b.size(node.x), s = node.start;
        for (let l = 0; l < L; l++) for (let j = 0; j < m; j++) y[l * m + j] = x[l * k + s + j];
        return;
      }
      case 'concat': {
        let off = 0;
        for (const id of node.xs) {
          const x = vals[id], k = b.size(id);
          for (let l = 0; l < L; l++) for (let j = 0; j < k; j++) y[l * m + off + j] = x[l * k + j];
          off += k;
        }
        return;
      }
      case 'input':
      case 'state':
        return;
    }
  }
}

/**
 * The Jacobian of a whole sequence's outputs w.r.t. its inputs by forward mode, for tests and
 * small models: returns `(steps x outputSize) x (steps x inputSize)` row-major, and the outputs.
 */
export function sequenceJacobian(stack: ProgramStack, x: Float64Array, steps: number): { y: Float64Array; J: Float64Array } {
  const n = stack.inputSize, d = steps * n;
  const e = new ForwardEngine(stack, d);
  const m = e.outputSize, L = d + 1;
  const dx = new Float64Array(d * d);
  for (let p = 0; p < d; p++) dx[p * d + p] = 1; // direction p: coordinate p (t = p / n, i = p % n)
  const out = new Float64Array(steps * L * m);
  e.sequence(x, dx, d, steps, out);
  const y = new Float64Array(steps * m), J = new Float64Array(steps * m * d);
  for (let t = 0; t < steps; t++)
    for (let j = 0; j < m; j++) {
      y[t * m + j] = out[t * L * m + j];
      for (let p = 0; p < d; p++) J[(t * m + j) * d + p] = out[t * L * m + (1 + p) * m + j];
    }
  return { y, J };
}
