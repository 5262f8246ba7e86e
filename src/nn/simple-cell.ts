/**
 * Simple recurrent cell: `h_t = act(x_t K + h_{t-1} R + b)`, act = tanh (the RNN baseline) or ReLU
 * (the ICLRNN layer, with K and R constrained non-negative and spectrally normalised).
 */
import { matmul, matmulTransA, matmulTransB } from '../core/kernels.ts';
import type { CellConfig, RecurrentCell } from './cell.ts';
import { addColumnSums, scratch } from './cell.ts';
import { constraintFromConfig, type ConstraintConfig } from './constraints.ts';
import { createParameter, type Parameter } from './parameter.ts';

/** The simple RNN cell `act(x K + h R + b)`; with ReLU and non-negative, spectrally normalised weights it is the ICLRNN cell. */
export class SimpleCell implements RecurrentCell {
  readonly outputSize: number;
  readonly stateSize: number;
  readonly cacheSize = 0;
  readonly params: Parameter[];
  paramGradients = true;
  readonly kernel: Parameter;
  readonly recurrentKernel: Parameter;
  readonly bias: Parameter;
  private dz: Float64Array = new Float64Array(0);

  constructor(
    readonly inputSize: number,
    readonly units: number,
    readonly activation: 'tanh' | 'relu',
    readonly constraints: Record<string, ConstraintConfig> = {},
  ) {
    const c = (name: string) => (constraints[name] ? constraintFromConfig(constraints[name]) : null);
    this.kernel = createParameter('kernel', inputSize, units, c('kernel'));
    this.recurrentKernel = createParameter('recurrentKernel', units, units, c('recurrentKernel'));
    this.bias = createParameter('bias', 1, units, c('bias'));
    this.params = [this.kernel, this.recurrentKernel, this.bias];
    this.outputSize = units;
    this.stateSize = units;
  }

  config(): CellConfig {
    return { type: 'simple', inputSize: this.inputSize, units: this.units, activation: this.activation, constraints: this.constraints };
  }

  prepare(): void {}

  forward(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array): void {
    const u = this.units;
    matmul(batch, u, this.inputSize, x, 0, this.kernel.value, 0, sNext, 0);
    matmul(batch, u, u, sPrev, 0, this.recurrentKernel.value, 0, sNext, 0, true);
    const b = this.bias.value;
    const n = batch * u;
    if (this.activation === 'relu') {
      for (let i = 0, j = 0; i < n; i++) {
        const v = sNext[i] + b[j];
        const h = v > 0 ? v : 0;
        sNext[i] = h;
        y[i] = h;
        if (++j === u) j = 0;
      }
    } else {
      for (let i = 0, j = 0; i < n; i++) {
        const h = Math.tanh(sNext[i] + b[j]);
        sNext[i] = h;
        y[i] = h;
        if (++j === u) j = 0;
      }
    }
  }

  backward(
    batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, _y: Float64Array, _cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void {
    const u = this.units;
    const n = batch * u;
    const dz = (this.dz = scratch(this.dz, n));
    if (this.activation === 'relu') {
      for (let i = 0; i < n; i++) dz[i] = sNext[i] > 0 ? dy[i] + dsNext[i] : 0;
    } else {
      for (let i = 0; i < n; i++) {
        const h = sNext[i];
        dz[i] = (dy[i] + dsNext[i]) * (1 - h * h);
      }
    }
    if (this.paramGradients) {
      matmulTransA(this.inputSize, u, batch, x, 0, dz, 0, this.kernel.grad, 0, true);
      matmulTransA(u, u, batch, sPrev, 0, dz, 0, this.recurrentKernel.grad, 0, true);
      addColumnSums(dz, batch, u, this.bias.grad);
    }
    matmulTransB(batch, this.inputSize, u, dz, 0, this.kernel.value, 0, dx, 0);
    matmulTransB(batch, u, u, dz, 0, this.recurrentKernel.value, 0, dsPrev, 0);
  }

  finishBackward(): void {}
}
