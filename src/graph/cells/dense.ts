/**
 * The dense layer `y = act(x W + b)` as a stateless program (one step, no state slots). The
 * residual add of the model input (the ICLSTM head form) is a model-level connection, not part of
 * the layer. Parameters: kernel [in x units], bias [units].
 */
import { ProgramBuilder, type ActivationName, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase } from '../family.ts';

/** Config of a dense layer (`units` outputs). */
export interface DenseLayerConfig extends FamilyConfigBase {
  readonly type: 'dense';
  readonly activation: ActivationName;
}

/** The layer program. */
export function denseProgram(c: DenseLayerConfig): CellProgram {
  const b = new ProgramBuilder('dense', c.inputSize);
  const W = b.param('kernel', c.inputSize, c.units, { type: 'glorotUniform' }, roleOf(c, 'kernel'));
  const bias = b.param('bias', 1, c.units, { type: 'zeros' }, roleOf(c, 'bias'));
  const y = b.act(b.bias(b.matmul(b.input(), W), bias), c.activation);
  return b.build([], y);
}

/** The dense family (Keras Dense). */
export const denseFamily: CellFamily<DenseLayerConfig> = {
  name: 'dense',
  description: 'dense layer act(x W + b)',
  inputConvex: false,
  program: denseProgram,
  keras: {
    layerClasses: ['Dense'],
    cellClasses: [],
    weights(c, useBias) {
      const n = c.inputSize, u = c.units;
      return [
        { name: 'kernel', shape: [n, u], placements: whole('kernel', n * u) },
        ...(useBias ? [{ name: 'bias', shape: [u], placements: whole('bias', u) }] : []),
      ];
    },
  },
};
