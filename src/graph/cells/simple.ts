/**
 * The simple recurrent cell `h_t = act(x_t K + h_{t-1} R + b)`: act = tanh is Keras' SimpleRNN
 * (the RNN baseline); act = ReLU with K and R non-negative and spectrally normalised is the
 * ICLRNN layer. State: h. Parameters (model-file order): kernel [in x u], recurrentKernel [u x u],
 * bias [u].
 */
import { ProgramBuilder, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase } from '../family.ts';

/** Config of the simple cell. */
export interface SimpleConfig extends FamilyConfigBase {
  readonly type: 'simple';
  readonly activation: 'tanh' | 'relu';
}

/** The step program. */
export function simpleProgram(c: SimpleConfig): CellProgram {
  const u = c.units;
  const b = new ProgramBuilder('simple', c.inputSize);
  const relu = c.activation === 'relu';
  // Keras defaults for the tanh baseline; the reference's initialisers for the ReLU (ICLRNN) cell
  const K = b.param('kernel', c.inputSize, u, relu ? { type: 'normal', std: 0.01 } : { type: 'glorotUniform' }, roleOf(c, 'kernel'));
  const R = b.param('recurrentKernel', u, u, { type: 'orthogonal', gain: relu ? 0.1 : 1 }, roleOf(c, 'recurrentKernel'));
  const bias = b.param('bias', 1, u, { type: 'zeros' }, roleOf(c, 'bias'));
  const x = b.input();
  const h = b.state('h', u);
  const z = b.bias(b.add(b.matmul(x, K), b.matmul(h, R)), bias);
  const hNext = b.act(z, c.activation);
  return b.build([hNext], hNext);
}

/** The simple cell family (Keras SimpleRNN / SimpleRNNCell). */
export const simpleFamily: CellFamily<SimpleConfig> = {
  name: 'simple',
  description: 'simple RNN cell act(x K + h R + b), tanh (RNN) or ReLU (ICLRNN)',
  inputConvex: false,
  activations: ['tanh', 'relu'],
  program: simpleProgram,
  keras: {
    layerClasses: ['SimpleRNN'],
    cellClasses: ['SimpleRNNCell'],
    config: (read) => ({ activation: read.activation('activation', 'tanh', ['tanh', 'relu']) }),
    constraintKeys: [
      ['kernel', 'kernel_constraint', 'kernel'],
      ['recurrentKernel', 'recurrent_constraint', 'recurrent_kernel'],
      ['bias', 'bias_constraint', 'bias'],
    ],
    weights(c, useBias) {
      const n = c.inputSize, u = c.units;
      return [
        { name: 'kernel', shape: [n, u], placements: whole('kernel', n * u) },
        { name: 'recurrent_kernel', shape: [u, u], placements: whole('recurrentKernel', u * u) },
        ...(useBias ? [{ name: 'bias', shape: [u], placements: whole('bias', u) }] : []),
      ];
    },
  },
};
