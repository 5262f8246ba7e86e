/**
 * LSTM cell in Keras' layout: one [in x 4u] kernel, one [u x 4u] recurrent kernel and a [4u] bias,
 * gates in the order i, f, c, o. `c_t = f c_{t-1} + i tanh(z_c)`, `h_t = o tanh(c_t)`.
 * State per sample: [h (u), c (u)]. Cache per step: the four gate activations and tanh(c_t).
 */
import { matmul, matmulTransA, matmulTransB } from '../core/kernels.ts';
import type { CellConfig, RecurrentCell } from './cell.ts';
import { addColumnSums, scratch } from './cell.ts';
import { constraintFromConfig, type ConstraintConfig } from './constraints.ts';
import { createParameter, type Parameter } from './parameter.ts';
import { sigmoid } from '../graph/activations.ts';

/** The Keras LSTM cell (gates i, f, c, o). */
export class LstmCell implements RecurrentCell {
  readonly outputSize: number;
  readonly stateSize: number;
  readonly cacheSize: number;
  readonly params: Parameter[];
  paramGradients = true;
  readonly kernel: Parameter;
  readonly recurrentKernel: Parameter;
  readonly bias: Parameter;
  private z: Float64Array = new Float64Array(0);
  private hPrev: Float64Array = new Float64Array(0);
  private dh: Float64Array = new Float64Array(0);

  constructor(readonly inputSize: number, readonly units: number, readonly constraints: Record<string, ConstraintConfig> = {}) {
    const c = (name: string) => (constraints[name] ? constraintFromConfig(constraints[name]) : null);
    this.kernel = createParameter('kernel', inputSize, 4 * units, c('kernel'));
    this.recurrentKernel = createParameter('recurrentKernel', units, 4 * units, c('recurrentKernel'));
    this.bias = createParameter('bias', 1, 4 * units, c('bias'));
    this.params = [this.kernel, this.recurrentKernel, this.bias];
    this.outputSize = units;
    this.stateSize = 2 * units;
    this.cacheSize = 5 * units;
  }

  config(): CellConfig {
    return { type: 'lstm', inputSize: this.inputSize, units: this.units, constraints: this.constraints };
  }

  prepare(): void {}

  /** Copies the h part of a [B x 2u] state into a [B x u] buffer. */
  private hOf(batch: number, s: Float64Array): Float64Array {
    const u = this.units;
    const h = (this.hPrev = scratch(this.hPrev, batch * u));
    for (let r = 0; r < batch; r++) for (let j = 0; j < u; j++) h[r * u + j] = s[r * 2 * u + j];
    return h;
  }

  forward(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array): void {
    const u = this.units, u4 = 4 * u;
    const z = (this.z = scratch(this.z, batch * u4));
    matmul(batch, u4, this.inputSize, x, 0, this.kernel.value, 0, z, 0);
    matmul(batch, u4, u, this.hOf(batch, sPrev), 0, this.recurrentKernel.value, 0, z, 0, true);
    const b = this.bias.value;
    for (let r = 0; r < batch; r++) {
      const zo = r * u4, so = r * 2 * u, co = r * 5 * u, yo = r * u;
      for (let j = 0; j < u; j++) {
        const gi = sigmoid(z[zo + j] + b[j]);
        const gf = sigmoid(z[zo + u + j] + b[u + j]);
        const gc = Math.tanh(z[zo + 2 * u + j] + b[2 * u + j]);
        const go = sigmoid(z[zo + 3 * u + j] + b[3 * u + j]);
        const c = gf * sPrev[so + u + j] + gi * gc;
        const tc = Math.tanh(c);
        const h = go * tc;
        sNext[so + j] = h;
        sNext[so + u + j] = c;
        y[yo + j] = h;
        cache[co + j] = gi;
        cache[co + u + j] = gf;
        cache[co + 2 * u + j] = gc;
        cache[co + 3 * u + j] = go;
        cache[co + 4 * u + j] = tc;
      }
    }
  }

  backward(
    batch: number, x: Float64Array, sPrev: Float64Array, _sNext: Float64Array, _y: Float64Array, cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void {
    const u = this.units, u4 = 4 * u;
    const dz = (this.z = scratch(this.z, batch * u4));
    for (let r = 0; r < batch; r++) {
      const zo = r * u4, so = r * 2 * u, co = r * 5 * u, yo = r * u;
      for (let j = 0; j < u; j++) {
        const gi = cache[co + j], gf = cache[co + u + j], gc = cache[co + 2 * u + j], go = cache[co + 3 * u + j];
        const tc = cache[co + 4 * u + j];
        const dh = dy[yo + j] + dsNext[so + j];
        const dc = dsNext[so + u + j] + dh * go * (1 - tc * tc);
        dz[zo + j] = dc * gc * gi * (1 - gi);
        dz[zo + u + j] = dc * sPrev[so + u + j] * gf * (1 - gf);
        dz[zo + 2 * u + j] = dc * gi * (1 - gc * gc);
        dz[zo + 3 * u + j] = dh * tc * go * (1 - go);
        dsPrev[so + u + j] = dc * gf;
      }
    }
    if (this.paramGradients) {
      const hPrev = this.hOf(batch, sPrev);
      matmulTransA(this.inputSize, u4, batch, x, 0, dz, 0, this.kernel.grad, 0, true);
      matmulTransA(u, u4, batch, hPrev, 0, dz, 0, this.recurrentKernel.grad, 0, true);
      addColumnSums(dz, batch, u4, this.bias.grad);
    }
    matmulTransB(batch, this.inputSize, u4, dz, 0, this.kernel.value, 0, dx, 0);
    const dh = (this.dh = scratch(this.dh, batch * u));
    matmulTransB(batch, u, u4, dz, 0, this.recurrentKernel.value, 0, dh, 0);
    for (let r = 0; r < batch; r++) for (let j = 0; j < u; j++) dsPrev[r * 2 * u + j] = dh[r * u + j];
  }

  finishBackward(): void {}
}
