/**
 * Certificates for iclrnn models: structural convexity proofs with a numerical Jensen check, and
 * Lipschitz bounds (empirical, attack, certified global, certified on the domain and on local boxes)
 * for the map from the scaled, un-augmented input sequence to the scaled output sequence, l2 over
 * the whole sequence. Entry point: {@link certify}.
 */
export { certify, defaultSteps, enclosureNorm, CERTIFIED_NORM, CERTIFIED_SPACE } from './certify.ts';
export type { CertifyOptions, CertificateReport, BoundDetail } from './certify.ts';
export { formatCertificate } from './format.ts';
export { structuralConvexity, Curvature } from './convexity.ts';
export type { StructuralConvexity, ConvexityReason } from './convexity.ts';
export { referenceEstimate, lipschitzAttack, jensenCheck, pairRatios } from './empirical.ts';
export type { ReferenceEstimate, ReferenceEstimateOptions, AttackOptions, AttackResult, JensenOptions, JensenResult } from './empirical.ts';
export { propagateModel, boxAround, prepareMatrix, intervalProduct } from './propagate.ts';
export type { InputBox, PropagationResult, SiteStats, VBound, JBound, PreparedMatrix } from './propagate.ts';
export { productBound, foldAugmentation } from './product.ts';
export type { ProductBound, MatrixNorm } from './product.ts';
export { buildStepLfr, siteRanges, lfrFeasible, lfrBound, lfrCandidate, lfrForward, lfrAdjoint, layerStack, DEFAULT_KAPPAS, RECIPE_SETS } from './lfr.ts';
export type { StepLfr, LfrBound, LfrBoundOptions, LfrCandidate } from './lfr.ts';
export { spectralNormBound, nonNegativeSpectralNormBound, certifiedNorm, jacobiEigen } from '../core/spectral.ts';
export type { SpectralBound } from '../core/spectral.ts';
