/**
 * The Keras LSTM cell (gates i, f, c, o in one [in x 4u] kernel, one [u x 4u] recurrent kernel and
 * a [4u] bias): `z = x K + h R + b`, `i, f, o = sigmoid(z_i, z_f, z_o)`, `g = tanh(z_c)`,
 * `c_t = f c_{t-1} + i g`, `h_t = o tanh(c_t)`. State: [h, c].
 */
import { ProgramBuilder, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase } from '../family.ts';

/** Config of the LSTM cell. */
export interface LstmConfig extends FamilyConfigBase {
  readonly type: 'lstm';
}

/** The step program. */
export function lstmProgram(c: LstmConfig): CellProgram {
  const u = c.units;
  const b = new ProgramBuilder('lstm', c.inputSize);
  const K = b.param('kernel', c.inputSize, 4 * u, { type: 'glorotUniform' }, roleOf(c, 'kernel'));
  const R = b.param('recurrentKernel', u, 4 * u, { type: 'orthogonal', gain: 1 }, roleOf(c, 'recurrentKernel'));
  // Keras' unit_forget_bias: zeros with the forget block at 1 (the builder applies it)
  const bias = b.param('bias', 1, 4 * u, { type: 'zeros' }, roleOf(c, 'bias'));
  const x = b.input();
  const h = b.state('h', u);
  const cPrev = b.state('c', u);
  const z = b.bias(b.add(b.matmul(x, K), b.matmul(h, R)), bias);
  const i = b.act(b.slice(z, 0, u), 'sigmoid');
  const f = b.act(b.slice(z, u, u), 'sigmoid');
  const g = b.act(b.slice(z, 2 * u, u), 'tanh');
  const o = b.act(b.slice(z, 3 * u, u), 'sigmoid');
  const cNext = b.add(b.mul(f, cPrev), b.mul(i, g));
  const hNext = b.mul(o, b.act(cNext, 'tanh'));
  return b.build([hNext, cNext], hNext);
}

/** The LSTM family (Keras LSTM / LSTMCell). */
export const lstmFamily: CellFamily<LstmConfig> = {
  name: 'lstm',
  description: 'Keras LSTM cell (gates i, f, c, o)',
  inputConvex: false,
  program: lstmProgram,
  keras: {
    layerClasses: ['LSTM'],
    cellClasses: ['LSTMCell'],
    config(read) {
      read.activation('activation', 'tanh', ['tanh']);
      return {};
    },
    unsupported(k) {
      const ra = k.recurrent_activation ?? 'sigmoid';
      return ra === 'sigmoid' ? null : `recurrent_activation ${JSON.stringify(ra)} is not supported (only 'sigmoid')`;
    },
    constraintKeys: [
      ['kernel', 'kernel_constraint', 'kernel'],
      ['recurrentKernel', 'recurrent_constraint', 'recurrent_kernel'],
      ['bias', 'bias_constraint', 'bias'],
    ],
    weights(c, useBias) {
      const n = c.inputSize, u = c.units;
      return [
        { name: 'kernel', shape: [n, 4 * u], placements: whole('kernel', 4 * n * u) },
        { name: 'recurrent_kernel', shape: [u, 4 * u], placements: whole('recurrentKernel', 4 * u * u) },
        ...(useBias ? [{ name: 'bias', shape: [4 * u], placements: whole('bias', 4 * u) }] : []),
      ];
    },
  },
};
