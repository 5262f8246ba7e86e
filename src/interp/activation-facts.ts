/**
 * The activation facts the analysis interpreters use, read from the one activation table
 * (`src/graph/activations.ts`): value, derivative, value range and slope range on an interval
 * (widened for rounding where a certificate needs it), curvature on an interval and the largest
 * slope. Thin adapters only; no activation formula lives here.
 */
import { activationFacts, isConvex } from '../graph/activations.ts';
import type { ActivationName } from '../graph/program.ts';

/** `f(z)` (also at z = +-Infinity). */
export function activationValue(fn: ActivationName, z: number): number {
  return activationFacts(fn).value(z);
}

/** `f'(z)` (ReLU: 0 at 0, as the cells). */
export function activationSlope(fn: ActivationName, z: number): number {
  return activationFacts(fn).slope(z);
}

/**
 * Range of f' over `[l, u]` (every secant slope of f on `[l, u]` lies in it), widened by a relative
 * 1e-12 for the rounding of the transcendental functions and clipped to the global slope bounds.
 */
export function activationSlopeRange(fn: ActivationName, l: number, u: number): [number, number] {
  const f = activationFacts(fn);
  if (fn === 'linear' || fn === 'relu') return f.slopeRange(l, u);
  let [lo, hi] = f.slopeRange(l, u);
  if (Number.isNaN(lo)) lo = 0;
  if (Number.isNaN(hi)) hi = f.slopeBounds[1];
  return [Math.max(f.slopeBounds[0], lo * (1 - 1e-12) - 1e-300), Math.min(f.slopeBounds[1], hi * (1 + 1e-12))];
}

/** Largest slope of f on R. */
export function activationMaxSlope(fn: ActivationName): number {
  return activationFacts(fn).slopeBounds[1];
}

/** Curvature of f on `[l, u]`: `affine`, `convex`, `concave` or `none` (neither). */
export function activationCurvature(fn: ActivationName, l: number, u: number): 'affine' | 'convex' | 'concave' | 'none' {
  const c = activationFacts(fn).curvature;
  const side = u <= 0 ? c.negative : l >= 0 ? c.positive : null;
  if (side !== null) return side === 'linear' ? 'affine' : side;
  if (c.negative === 'linear' && c.positive === 'linear') return isConvex(fn) ? (fn === 'linear' ? 'affine' : 'convex') : 'none';
  return 'none';
}
