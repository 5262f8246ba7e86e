/**
 * The input convex LSTM cell (Wang, Yu & Wu, Applied Energy 2025): shared non-negative
 * `W_x` [in x u] (`kernel`) and `W_h` [u x u] (`recurrentKernel`), per-gate non-negative scales
 * `D_W` (`kernelScale`), `D_U` (`recurrentScale`) and biases, each [4u] in the gate order i, f, c, o:
 * `gate = relu(D_W .* (x W_x) + D_U .* (h W_h) + b)`, `c_t = f c_{t-1} + i c~`, `h_t = o relu(c_t)`.
 * State: [h, c]. As a program the shared products are repeated four times (concat) so that one
 * diagonal scale per product covers the four gates.
 */
import { ProgramBuilder, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase, type KerasWeight } from '../family.ts';

/** Config of the ICLSTM cell. */
export interface IclstmConfig extends FamilyConfigBase {
  readonly type: 'iclstm';
}

/** The step program. */
export function iclstmProgram(c: IclstmConfig): CellProgram {
  const u = c.units;
  const b = new ProgramBuilder('iclstm', c.inputSize);
  const K = b.param('kernel', c.inputSize, u, { type: 'normal', std: 0.01 }, roleOf(c, 'kernel'));
  const R = b.param('recurrentKernel', u, u, { type: 'orthogonal', gain: 0.1 }, roleOf(c, 'recurrentKernel'));
  const DW = b.param('kernelScale', 1, 4 * u, { type: 'ones' }, roleOf(c, 'kernelScale'));
  const DU = b.param('recurrentScale', 1, 4 * u, { type: 'ones' }, roleOf(c, 'recurrentScale'));
  const bias = b.param('bias', 1, 4 * u, { type: 'zeros' }, roleOf(c, 'bias'));
  const x = b.input();
  const h = b.state('h', u);
  const cPrev = b.state('c', u);
  const xw = b.matmul(x, K);
  const hw = b.matmul(h, R);
  const gates = b.act(b.bias(b.add(b.scale(b.concat([xw, xw, xw, xw]), DW), b.scale(b.concat([hw, hw, hw, hw]), DU)), bias), 'relu');
  const i = b.slice(gates, 0, u), f = b.slice(gates, u, u), g = b.slice(gates, 2 * u, u), o = b.slice(gates, 3 * u, u);
  const cNext = b.add(b.mul(f, cPrev), b.mul(i, g));
  const hNext = b.mul(o, b.act(cNext, 'relu'));
  return b.build([hNext, cNext], hNext);
}

/**
 * The ICLSTM family (the reference's `MyICLSTMCell`; gates stored i, f, o, c): the MPC reference's
 * 14-weight layout (`Wi, Ui`, then `DW, DU, b` per gate) or an older 10-weight one (`Wi, Ui`, then
 * `D, b` per gate: one scale for both `x W` and `h U`).
 */
export const iclstmFamily: CellFamily<IclstmConfig> = {
  name: 'iclstm',
  description: 'input convex LSTM cell (ReLU gates, non-negative weights and gate scales)',
  inputConvex: true,
  program: iclstmProgram,
  keras: {
    layerClasses: [],
    cellClasses: ['MyICLSTMCell'],
    nonNegative: ['kernel', 'recurrentKernel', 'kernelScale', 'recurrentScale'],
    weights(c, _useBias, stored) {
      const n = c.inputSize, u = c.units;
      const separate = stored !== 10;
      const out: KerasWeight[] = [
        { name: 'Wi (kernel)', shape: [n, u], placements: whole('kernel', n * u) },
        { name: 'Ui (recurrent_kernel)', shape: [u, u], placements: whole('recurrentKernel', u * u) },
      ];
      // Keras gate order i, f, o, c -> offsets of the gates i, f, c, o
      const gates = [['i', 0], ['f', u], ['o', 3 * u], ['c', 2 * u]] as const;
      for (const [g, to] of gates) {
        if (separate) {
          out.push({ name: `DW${g}`, shape: [u], placements: [{ param: 'kernelScale', from: 0, to, length: u }] });
          out.push({ name: `DU${g}`, shape: [u], placements: [{ param: 'recurrentScale', from: 0, to, length: u }] });
        } else {
          out.push({ name: `DW${g}`, shape: [u], placements: [{ param: 'kernelScale', from: 0, to, length: u }, { param: 'recurrentScale', from: 0, to, length: u }] });
        }
        out.push({ name: `b${g}`, shape: [u], placements: [{ param: 'bias', from: 0, to, length: u }] });
      }
      return out;
    },
  },
};
