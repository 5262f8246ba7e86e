/**
 * The input convex RNN cell (Chen, Shi & Zhang, ICLR 2019; the reference `MyRNNCell`):
 * `h_t = relu(x_t K + h_{t-1} R + x_{t-1} D2)`, `y_t = relu(h_t V + h_{t-1} D1 + x_t D3)`, all six
 * matrices non-negative. State: [h, x_prev]; output y. Parameters (model-file and Keras order):
 * kernel = K [in x u], recurrentKernel = R [u x u], D1 [u x u], D2 [in x u], D3 [in x u], V [u x u].
 */
import { ProgramBuilder, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase } from '../family.ts';

/** Config of the ICRNN cell. */
export interface IcrnnConfig extends FamilyConfigBase {
  readonly type: 'icrnn';
}

/** The step program. */
export function icrnnProgram(c: IcrnnConfig): CellProgram {
  const u = c.units, n = c.inputSize;
  const b = new ProgramBuilder('icrnn', n);
  const small = { type: 'normal', std: 0.01 } as const;
  const orth = { type: 'orthogonal', gain: 0.1 } as const;
  const K = b.param('kernel', n, u, small, roleOf(c, 'kernel'));
  const R = b.param('recurrentKernel', u, u, orth, roleOf(c, 'recurrentKernel'));
  const D1 = b.param('D1', u, u, orth, roleOf(c, 'D1'));
  const D2 = b.param('D2', n, u, small, roleOf(c, 'D2'));
  const D3 = b.param('D3', n, u, small, roleOf(c, 'D3'));
  const V = b.param('V', u, u, orth, roleOf(c, 'V'));
  const x = b.input();
  const h = b.state('h', u);
  const xPrev = b.state('xPrev', n);
  const hNext = b.act(b.add(b.add(b.matmul(x, K), b.matmul(h, R)), b.matmul(xPrev, D2)), 'relu');
  const y = b.act(b.add(b.add(b.matmul(hNext, V), b.matmul(h, D1)), b.matmul(x, D3)), 'relu');
  return b.build([hNext, x], y);
}

/** The ICRNN family (the reference's `MyRNNCell`). */
export const icrnnFamily: CellFamily<IcrnnConfig> = {
  name: 'icrnn',
  description: 'input convex RNN cell relu(x K + h R + x_prev D2), output relu(h V + h_prev D1 + x D3)',
  inputConvex: true,
  program: icrnnProgram,
  keras: {
    layerClasses: [],
    cellClasses: ['MyRNNCell'],
    nonNegative: ['kernel', 'recurrentKernel', 'D1', 'D2', 'D3', 'V'],
    weights(c) {
      const n = c.inputSize, u = c.units;
      return [
        { name: 'K (kernel)', shape: [n, u], placements: whole('kernel', n * u) },
        { name: 'R (recurrent_kernel)', shape: [u, u], placements: whole('recurrentKernel', u * u) },
        { name: 'D1', shape: [u, u], placements: whole('D1', u * u) },
        { name: 'D2', shape: [n, u], placements: whole('D2', n * u) },
        { name: 'D3', shape: [n, u], placements: whole('D3', n * u) },
        { name: 'V', shape: [u, u], placements: whole('V', u * u) },
      ];
    },
  },
};
