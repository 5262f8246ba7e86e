/**
 * The Lipschitz RNN cell (Erichson et al., ICLR 2021; the reference `MyLRNNCell`):
 * `A = beta (B - B^T) + (1 - beta)(B + B^T) - gamma I`, `W` likewise from `C`,
 * `h_t = h_{t-1} + eps alpha (h_{t-1} A) + eps tanh(h_{t-1} W + x_t U + b)`.
 * As a program: `h_t = h_{t-1} M + eps tanh(x U + h_{t-1} W + b)` with the derived matrices
 * `M = I + eps alpha A` and `W`, both linear in the parameters B and C.
 * Parameters (model-file order): kernel = U [in x u], B, C [u x u], bias [u].
 */
import { ProgramBuilder, type CellProgram } from '../program.ts';
import { roleOf, whole, type CellFamily, type FamilyConfigBase } from '../family.ts';

/** Config of the LRNN cell. */
export interface LipschitzConfig extends FamilyConfigBase {
  readonly type: 'lipschitz';
  readonly eps: number;
  readonly gamma: number;
  readonly beta: number;
  readonly alpha: number;
}

/** The step program. */
export function lipschitzProgram(c: LipschitzConfig): CellProgram {
  const u = c.units, { eps, gamma, beta, alpha } = c;
  const b = new ProgramBuilder('lipschitz', c.inputSize);
  const U = b.param('kernel', c.inputSize, u, { type: 'glorotUniform' }, roleOf(c, 'kernel'));
  const B = b.param('B', u, u, { type: 'normal', std: 1 / Math.sqrt(u) }, roleOf(c, 'B'));
  const C = b.param('C', u, u, { type: 'normal', std: 1 / Math.sqrt(u) }, roleOf(c, 'C'));
  const bias = b.param('bias', 1, u, { type: 'zeros' }, roleOf(c, 'bias'));
  // beta (P - P^T) + (1 - beta)(P + P^T) = P + (1 - 2 beta) P^T
  const ea = eps * alpha;
  const M = b.derive({
    name: 'M', rows: u, cols: u,
    terms: [{ param: B, coef: ea, transpose: false }, { param: B, coef: ea * (1 - 2 * beta), transpose: true }],
    identity: 1 - ea * gamma,
  });
  const W = b.derive({
    name: 'W', rows: u, cols: u,
    terms: [{ param: C, coef: 1, transpose: false }, { param: C, coef: 1 - 2 * beta, transpose: true }],
    identity: -gamma,
  });
  const x = b.input();
  const h = b.state('h', u);
  const t = b.act(b.bias(b.add(b.matmul(x, U), b.matmul(h, W)), bias), 'tanh');
  const hNext = b.add(b.matmul(h, M), b.affine(t, eps));
  return b.build([hNext], hNext);
}

/** The LRNN family (the reference's `MyLRNNCell`: weights C, B, U, b). */
export const lipschitzFamily: CellFamily<LipschitzConfig> = {
  name: 'lipschitz',
  description: 'Lipschitz RNN cell h + eps alpha h A + eps tanh(h W + x U + b)',
  inputConvex: false,
  program: lipschitzProgram,
  keras: {
    layerClasses: [],
    cellClasses: ['MyLRNNCell'],
    config: (read) => ({ eps: read.number('eps', 0.01), gamma: read.number('gamma', 0.01), beta: read.number('beta', 0.8), alpha: read.number('alpha', 1) }),
    weights(c) {
      const n = c.inputSize, u = c.units;
      return [
        { name: 'C', shape: [u, u], placements: whole('C', u * u) },
        { name: 'B', shape: [u, u], placements: whole('B', u * u) },
        { name: 'U (kernel)', shape: [n, u], placements: whole('kernel', n * u) },
        { name: 'b (bias)', shape: [u], placements: whole('bias', u) },
      ];
    },
  },
};
