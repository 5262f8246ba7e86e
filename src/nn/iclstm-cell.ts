/**
 * Input convex LSTM cell (Wang, Yu & Wu, Applied Energy 2025): shared non-negative `W_x` [in x u]
 * (`kernel`) and `W_h` [u x u] (`recurrentKernel`), per-gate non-negative scaling vectors
 * `D_W`, `D_U` and biases (each [4u], gates in the order i, f, c, o):
 * `gate = relu(D_W . (x_t W_x) + D_U . (h_{t-1} W_h) + b)`, `c_t = f c_{t-1} + i c~`, `h_t = o relu(c_t)`.
 * State per sample: [h, c]. Cache per step: x W_x, h W_h and the four gates.
 */
import { kernels } from '../core/kernels.ts';
import type { CellConfig, RecurrentCell } from './cell.ts';
import { scratch } from './cell.ts';
import { constraintFromConfig, type ConstraintConfig } from './constraints.ts';
import { createParameter, type Parameter } from './parameter.ts';

/** The input convex LSTM cell (ICLSTM): LSTM gates with ReLU, non-negative weights and gate scales. */
export class IclstmCell implements RecurrentCell {
  readonly outputSize: number;
  readonly stateSize: number;
  readonly cacheSize: number;
  readonly params: Parameter[];
  paramGradients = true;
  readonly kernel: Parameter;
  readonly recurrentKernel: Parameter;
  readonly kernelScale: Parameter;
  readonly recurrentScale: Parameter;
  readonly bias: Parameter;
  private buf: Float64Array = new Float64Array(0);

  constructor(readonly inputSize: number, readonly units: number, readonly constraints: Record<string, ConstraintConfig> = {}) {
    const c = (name: string) => (constraints[name] ? constraintFromConfig(constraints[name]) : null);
    this.kernel = createParameter('kernel', inputSize, units, c('kernel'));
    this.recurrentKernel = createParameter('recurrentKernel', units, units, c('recurrentKernel'));
    this.kernelScale = createParameter('kernelScale', 1, 4 * units, c('kernelScale'));
    this.recurrentScale = createParameter('recurrentScale', 1, 4 * units, c('recurrentScale'));
    this.bias = createParameter('bias', 1, 4 * units, c('bias'));
    this.params = [this.kernel, this.recurrentKernel, this.kernelScale, this.recurrentScale, this.bias];
    this.outputSize = units;
    this.stateSize = 2 * units;
    this.cacheSize = 6 * units;
  }

  config(): CellConfig {
    return { type: 'iclstm', inputSize: this.inputSize, units: this.units, constraints: this.constraints };
  }

  prepare(): void {}

  forward(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array): void {
    const g = kernels().gemm;
    const u = this.units, nin = this.inputSize, cs = 6 * u, ss = 2 * u;
    g(batch, u, nin, x, 0, nin, 1, this.kernel.value, 0, u, 1, cache, 0, cs, false);
    g(batch, u, u, sPrev, 0, ss, 1, this.recurrentKernel.value, 0, u, 1, cache, u, cs, false);
    const dw = this.kernelScale.value, du = this.recurrentScale.value, b = this.bias.value;
    for (let r = 0; r < batch; r++) {
      const co = r * cs, so = r * ss;
      for (let j = 0; j < u; j++) {
        const xw = cache[co + j], hw = cache[co + u + j];
        let gi = dw[j] * xw + du[j] * hw + b[j];
        let gf = dw[u + j] * xw + du[u + j] * hw + b[u + j];
        let gc = dw[2 * u + j] * xw + du[2 * u + j] * hw + b[2 * u + j];
        let go = dw[3 * u + j] * xw + du[3 * u + j] * hw + b[3 * u + j];
        if (!(gi > 0)) gi = 0;
        if (!(gf > 0)) gf = 0;
        if (!(gc > 0)) gc = 0;
        if (!(go > 0)) go = 0;
        cache[co + 2 * u + j] = gi;
        cache[co + 3 * u + j] = gf;
        cache[co + 4 * u + j] = gc;
        cache[co + 5 * u + j] = go;
        const c = gf * sPrev[so + u + j] + gi * gc;
        const h = c > 0 ? go * c : 0;
        sNext[so + j] = h;
        sNext[so + u + j] = c;
        y[r * u + j] = h;
      }
    }
  }

  backward(
    batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, _y: Float64Array, cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void {
    const g = kernels().gemm;
    const u = this.units, nin = this.inputSize, cs = 6 * u, ss = 2 * u, n = batch * u;
    const buf = (this.buf = scratch(this.buf, 2 * n));
    const dxw = buf.subarray(0, n), dhw = buf.subarray(n, 2 * n);
    const dw = this.kernelScale.value, du = this.recurrentScale.value;
    const pg = this.paramGradients;
    const gdw = this.kernelScale.grad, gdu = this.recurrentScale.grad, gb = this.bias.grad;
    for (let r = 0; r < batch; r++) {
      const co = r * cs, so = r * ss;
      for (let j = 0; j < u; j++) {
        const xw = cache[co + j], hw = cache[co + u + j];
        const gi = cache[co + 2 * u + j], gf = cache[co + 3 * u + j], gc = cache[co + 4 * u + j], go = cache[co + 5 * u + j];
        const c = sNext[so + u + j];
        const dh = dy[r * u + j] + dsNext[so + j];
        const dc = dsNext[so + u + j] + (c > 0 ? dh * go : 0);
        const dzi = gi > 0 ? dc * gc : 0;
        const dzf = gf > 0 ? dc * sPrev[so + u + j] : 0;
        const dzc = gc > 0 ? dc * gi : 0;
        const dzo = go > 0 ? dh * (c > 0 ? c : 0) : 0;
        dsPrev[so + u + j] = dc * gf;
        if (pg) {
        gdw[j] += dzi * xw; gdw[u + j] += dzf * xw; gdw[2 * u + j] += dzc * xw; gdw[3 * u + j] += dzo * xw;
        gdu[j] += dzi * hw; gdu[u + j] += dzf * hw; gdu[2 * u + j] += dzc * hw; gdu[3 * u + j] += dzo * hw;
        gb[j] += dzi; gb[u + j] += dzf; gb[2 * u + j] += dzc; gb[3 * u + j] += dzo;
        }
        dxw[r * u + j] = dzi * dw[j] + dzf * dw[u + j] + dzc * dw[2 * u + j] + dzo * dw[3 * u + j];
        dhw[r * u + j] = dzi * du[j] + dzf * du[u + j] + dzc * du[2 * u + j] + dzo * du[3 * u + j];
      }
    }
    if (pg) {
      g(nin, u, batch, x, 0, 1, nin, dxw, 0, u, 1, this.kernel.grad, 0, u, true);
      g(u, u, batch, sPrev, 0, 1, ss, dhw, 0, u, 1, this.recurrentKernel.grad, 0, u, true);
    }
    g(batch, nin, u, dxw, 0, u, 1, this.kernel.value, 0, 1, u, dx, 0, nin, false);
    g(batch, u, u, dhw, 0, u, 1, this.recurrentKernel.value, 0, 1, u, dsPrev, 0, ss, false);
  }

  finishBackward(): void {}
}
