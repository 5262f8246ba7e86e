/**
 * The Keras / TF2 default GRU cell (`reset_after=True`, activation tanh, recurrent activation
 * sigmoid, gates z, r, h): with `xz = x K + b_in` and `hz = h R + b_rec` (each [3u]),
 * `z = sigmoid(xz_z + hz_z)`, `r = sigmoid(xz_r + hz_r)`, `hh = tanh(xz_h + r .* hz_h)`,
 * `h_t = z .* h_{t-1} + (1 - z) .* hh`. State: h. Parameters: kernel [in x 3u],
 * recurrentKernel [u x 3u], bias (input bias) [3u], recurrentBias [3u]; Keras stores the two
 * biases as one [2 x 3u] array (input row first). Not input-convex.
 */
import { ProgramBuilder, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase } from '../family.ts';

/** Config of the GRU cell. */
export interface GruConfig extends FamilyConfigBase {
  readonly type: 'gru';
}

/** The step program. */
export function gruProgram(c: GruConfig): CellProgram {
  const u = c.units;
  const b = new ProgramBuilder('gru', c.inputSize);
  const K = b.param('kernel', c.inputSize, 3 * u, { type: 'glorotUniform' }, roleOf(c, 'kernel'));
  const R = b.param('recurrentKernel', u, 3 * u, { type: 'orthogonal', gain: 1 }, roleOf(c, 'recurrentKernel'));
  const bIn = b.param('bias', 1, 3 * u, { type: 'zeros' }, roleOf(c, 'bias'));
  const bRec = b.param('recurrentBias', 1, 3 * u, { type: 'zeros' }, roleOf(c, 'recurrentBias'));
  const x = b.input();
  const h = b.state('h', u);
  const xz = b.bias(b.matmul(x, K), bIn);
  const hz = b.bias(b.matmul(h, R), bRec);
  const z = b.act(b.add(b.slice(xz, 0, u), b.slice(hz, 0, u)), 'sigmoid');
  const r = b.act(b.add(b.slice(xz, u, u), b.slice(hz, u, u)), 'sigmoid');
  const hh = b.act(b.add(b.slice(xz, 2 * u, u), b.mul(r, b.slice(hz, 2 * u, u))), 'tanh');
  const hNext = b.add(b.mul(z, h), b.mul(b.affine(z, -1, 1), hh));
  return b.build([hNext], hNext);
}

/** The GRU family (Keras GRU / GRUCell with reset_after=True). */
export const gruFamily: CellFamily<GruConfig> = {
  name: 'gru',
  description: 'Keras GRU cell (reset_after, gates z, r, h)',
  inputConvex: false,
  program: gruProgram,
  keras: {
    layerClasses: ['GRU'],
    cellClasses: ['GRUCell'],
    unsupported(k) {
      if (k.reset_after === false) return 'reset_after=false (the Keras 1 / TF1 GRU) is not supported; only reset_after=true';
      if ((k.activation ?? 'tanh') !== 'tanh') return `activation ${JSON.stringify(k.activation)} is not supported (only 'tanh')`;
      if ((k.recurrent_activation ?? 'sigmoid') !== 'sigmoid') return `recurrent_activation ${JSON.stringify(k.recurrent_activation)} is not supported (only 'sigmoid')`;
      return null;
    },
    weights(c, useBias) {
      const n = c.inputSize, u = c.units;
      return [
        { name: 'kernel', shape: [n, 3 * u], placements: whole('kernel', 3 * n * u) },
        { name: 'recurrent_kernel', shape: [u, 3 * u], placements: whole('recurrentKernel', 3 * u * u) },
        ...(useBias
          ? [{
              name: 'bias', shape: [2, 3 * u],
              placements: [{ param: 'bias', from: 0, to: 0, length: 3 * u }, { param: 'recurrentBias', from: 3 * u, to: 0, length: 3 * u }],
            }]
          : []),
      ];
    },
  },
};
