/**
 * Input convex RNN cell (Chen, Shi & Zhang, ICLR 2019), the form of the reference `MyRNNCell`:
 * `h_t = relu(x_t K + h_{t-1} R + x_{t-1} D2)`, `y_t = relu(h_t V + h_{t-1} D1 + x_t D3)`.
 * All six matrices are kept >= 0 (NonNegative constraints set by the model builder). The state
 * carries (h_t, x_t); the layer outputs y_t. Weight creation order (for import): K, R, D1, D2, D3, V.
 */
import { kernels } from '../core/kernels.ts';
import type { CellConfig, RecurrentCell } from './cell.ts';
import { scratch } from './cell.ts';
import { constraintFromConfig, type ConstraintConfig } from './constraints.ts';
import { createParameter, type Parameter } from './parameter.ts';

/** The input convex RNN cell (ICRNN): `relu(x K + h R + x_prev D2)` with non-negative weights. */
export class IcrnnCell implements RecurrentCell {
  readonly outputSize: number;
  readonly stateSize: number;
  readonly cacheSize = 0;
  readonly params: Parameter[];
  paramGradients = true;
  readonly kernel: Parameter;
  readonly recurrentKernel: Parameter;
  readonly D1: Parameter;
  readonly D2: Parameter;
  readonly D3: Parameter;
  readonly V: Parameter;
  private buf: Float64Array = new Float64Array(0);

  constructor(readonly inputSize: number, readonly units: number, readonly constraints: Record<string, ConstraintConfig> = {}) {
    const c = (name: string) => (constraints[name] ? constraintFromConfig(constraints[name]) : null);
    this.kernel = createParameter('kernel', inputSize, units, c('kernel'));
    this.recurrentKernel = createParameter('recurrentKernel', units, units, c('recurrentKernel'));
    this.D1 = createParameter('D1', units, units, c('D1'));
    this.D2 = createParameter('D2', inputSize, units, c('D2'));
    this.D3 = createParameter('D3', inputSize, units, c('D3'));
    this.V = createParameter('V', units, units, c('V'));
    this.params = [this.kernel, this.recurrentKernel, this.D1, this.D2, this.D3, this.V];
    this.outputSize = units;
    this.stateSize = units + inputSize;
  }

  config(): CellConfig {
    return { type: 'icrnn', inputSize: this.inputSize, units: this.units, constraints: this.constraints };
  }

  prepare(): void {}

  forward(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array): void {
    const g = kernels().gemm;
    const u = this.units, nin = this.inputSize, ls = u + nin;
    // h (written into sNext[:, :u])
    g(batch, u, nin, x, 0, nin, 1, this.kernel.value, 0, u, 1, sNext, 0, ls, false);
    g(batch, u, u, sPrev, 0, ls, 1, this.recurrentKernel.value, 0, u, 1, sNext, 0, ls, true);
    g(batch, u, nin, sPrev, u, ls, 1, this.D2.value, 0, u, 1, sNext, 0, ls, true);
    for (let r = 0; r < batch; r++) {
      const o = r * ls;
      for (let j = 0; j < u; j++) if (!(sNext[o + j] > 0)) sNext[o + j] = 0;
      for (let j = 0; j < nin; j++) sNext[o + u + j] = x[r * nin + j];
    }
    // y
    g(batch, u, u, sNext, 0, ls, 1, this.V.value, 0, u, 1, y, 0, u, false);
    g(batch, u, u, sPrev, 0, ls, 1, this.D1.value, 0, u, 1, y, 0, u, true);
    g(batch, u, nin, x, 0, nin, 1, this.D3.value, 0, u, 1, y, 0, u, true);
    const n = batch * u;
    for (let i = 0; i < n; i++) if (!(y[i] > 0)) y[i] = 0;
  }

  backward(
    batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, _cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void {
    const g = kernels().gemm;
    const u = this.units, nin = this.inputSize, ls = u + nin, n = batch * u;
    const buf = (this.buf = scratch(this.buf, 2 * n));
    const dyz = buf.subarray(0, n);
    const dh = buf.subarray(n, 2 * n);
    for (let i = 0; i < n; i++) dyz[i] = y[i] > 0 ? dy[i] : 0;
    // parameter gradients of the output equation
    const pg = this.paramGradients;
    if (pg) {
      g(u, u, batch, sNext, 0, 1, ls, dyz, 0, u, 1, this.V.grad, 0, u, true);
      g(u, u, batch, sPrev, 0, 1, ls, dyz, 0, u, 1, this.D1.grad, 0, u, true);
      g(nin, u, batch, x, 0, 1, nin, dyz, 0, u, 1, this.D3.grad, 0, u, true);
    }
    // dh = dyz V^T + dsNext_h, then masked by h > 0
    g(batch, u, u, dyz, 0, u, 1, this.V.value, 0, 1, u, dh, 0, u, false);
    for (let r = 0; r < batch; r++)
      for (let j = 0; j < u; j++) {
        const i = r * u + j;
        dh[i] = sNext[r * ls + j] > 0 ? dh[i] + dsNext[r * ls + j] : 0;
      }
    // dx = dyz D3^T + dsNext_x + dh K^T
    g(batch, nin, u, dyz, 0, u, 1, this.D3.value, 0, 1, u, dx, 0, nin, false);
    g(batch, nin, u, dh, 0, u, 1, this.kernel.value, 0, 1, u, dx, 0, nin, true);
    for (let r = 0; r < batch; r++) for (let j = 0; j < nin; j++) dx[r * nin + j] += dsNext[r * ls + u + j];
    // parameter gradients of the state equation
    if (pg) {
      g(nin, u, batch, x, 0, 1, nin, dh, 0, u, 1, this.kernel.grad, 0, u, true);
      g(u, u, batch, sPrev, 0, 1, ls, dh, 0, u, 1, this.recurrentKernel.grad, 0, u, true);
      g(nin, u, batch, sPrev, u, 1, ls, dh, 0, u, 1, this.D2.grad, 0, u, true);
    }
    // dsPrev_h = dyz D1^T + dh R^T ; dsPrev_x = dh D2^T
    g(batch, u, u, dyz, 0, u, 1, this.D1.value, 0, 1, u, dsPrev, 0, ls, false);
    g(batch, u, u, dh, 0, u, 1, this.recurrentKernel.value, 0, 1, u, dsPrev, 0, ls, true);
    g(batch, nin, u, dh, 0, u, 1, this.D2.value, 0, 1, u, dsPrev, u, ls, false);
  }

  finishBackward(): void {}
}
