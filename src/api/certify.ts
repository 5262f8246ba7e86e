/**
 * `iclrnn/certify`: the pieces of `certify` for advanced use: the structural convexity proof,
 * the empirical Lipschitz estimate of the reference, the gradient-ascent attack, the numerical
 * Jensen check, bound propagation on input boxes and the certified spectral-norm bounds.
 * Browser-safe.
 *
 * @example
 * ```js
 * import { structuralConvexity, lipschitzAttack } from 'iclrnn/certify';
 * import { buildModel } from 'iclrnn';
 *
 * const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 8, layers: 1, seed: 0 });
 * console.log(structuralConvexity(model, 10).convex);                                     // true
 * console.log(lipschitzAttack(model, { steps: 10, starts: 2, iterations: 10 }).value); // a lower bound
 * ```
 *
 * @packageDocumentation
 */
export { certify, defaultSteps, CERTIFIED_NORM, CERTIFIED_SPACE, type CertifyOptions, type CertificateReport, type BoundDetail } from '../certify/certify.ts';
export { formatCertificate } from '../certify/format.ts';
export { structuralConvexity, Curvature, type StructuralConvexity, type ConvexityReason } from '../certify/convexity.ts';
export {
  referenceEstimate,
  lipschitzAttack,
  jensenCheck,
  type ReferenceEstimate,
  type ReferenceEstimateOptions,
  type AttackOptions,
  type AttackResult,
  type JensenOptions,
  type JensenResult,
} from '../certify/empirical.ts';
export { propagateModel, boxAround, type InputBox, type PropagationResult } from '../certify/propagate.ts';
export { productBound, type ProductBound, type MatrixNorm } from '../certify/product.ts';
export { spectralNormBound, nonNegativeSpectralNormBound, certifiedNorm, type SpectralBound } from '../core/spectral.ts';
