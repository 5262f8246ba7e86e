/**
 * The one table of activation facts. Every interpreter (evaluate, reverse, forward mode, bounds,
 * convexity, gain, LFR) asks this table about an activation instead of knowing its formula, and
 * the code base has one sigmoid ({@link sigmoid}, numerically stable for large |x|).
 *
 * All four activations are monotone non-decreasing, so the value range over `[l, u]` is
 * `[f(l), f(u)]`. Their curvature is described by side of 0: ReLU is convex (piecewise linear),
 * tanh and the sigmoid are convex for x <= 0 and concave for x >= 0. With that, the slope range
 * over an interval (what interval / secant relaxations and the gain bound need) is exact:
 * for tanh and the sigmoid the slope peaks at 0 and decreases with |x|.
 */
import type { ActivationName } from './program.ts';

/** The logistic function `1 / (1 + e^-x)`, without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Curvature of an activation on one side of 0. */
export type Curvature = 'linear' | 'convex' | 'concave';

/** Facts about one element-wise activation. */
export interface ActivationFacts {
  readonly name: ActivationName;
  /** `f(x)`. */
  value(x: number): number;
  /** `f'(x)` (ReLU: 0 at x = 0, the convention of the hand-written cells and Keras). */
  slope(x: number): number;
  /** `f'(x)` from the output `y = f(x)` (cheaper: no transcendental), as the reverse pass uses it. */
  slopeFromOutput(y: number): number;
  /** `[min, max]` of `f'` over `[l, u]` (l <= u). */
  slopeRange(l: number, u: number): [number, number];
  /** `[min, max]` of `f` over `[l, u]` (monotone: `[f(l), f(u)]`). */
  valueRange(l: number, u: number): [number, number];
  /** Non-decreasing everywhere (all four are). */
  readonly monotone: boolean;
  /** Curvature for x <= 0 and for x >= 0. */
  readonly curvature: { readonly negative: Curvature; readonly positive: Curvature };
  /** Global bounds of the slope (for gain bounds): `[inf f', sup f']`. */
  readonly slopeBounds: readonly [number, number];
  /** `f(0)`. */
  readonly atZero: number;
}

/** Slope range of a function whose slope peaks at 0 and decreases with |x| (tanh, sigmoid). */
function bellSlopeRange(slope: (x: number) => number, l: number, u: number): [number, number] {
  const max = l <= 0 && u >= 0 ? slope(0) : slope(Math.abs(l) < Math.abs(u) ? l : u);
  const min = Math.min(slope(l), slope(u));
  return [min, max];
}

const linear: ActivationFacts = {
  name: 'linear',
  value: (x) => x,
  slope: () => 1,
  slopeFromOutput: () => 1,
  slopeRange: () => [1, 1],
  valueRange: (l, u) => [l, u],
  monotone: true,
  curvature: { negative: 'linear', positive: 'linear' },
  slopeBounds: [1, 1],
  atZero: 0,
};

const relu: ActivationFacts = {
  name: 'relu',
  value: (x) => (x > 0 ? x : 0),
  slope: (x) => (x > 0 ? 1 : 0),
  slopeFromOutput: (y) => (y > 0 ? 1 : 0),
  slopeRange: (l, u) => [l > 0 ? 1 : 0, u > 0 ? 1 : 0],
  valueRange: (l, u) => [l > 0 ? l : 0, u > 0 ? u : 0],
  monotone: true,
  curvature: { negative: 'linear', positive: 'linear' },
  slopeBounds: [0, 1],
  atZero: 0,
};
// ReLU is convex as a whole (linear on each side, kink at 0): interpreters that need the global
// statement use isConvex('relu').

const tanhSlope = (x: number): number => {
  const t = Math.tanh(x);
  return 1 - t * t;
};

const tanh: ActivationFacts = {
  name: 'tanh',
  value: Math.tanh,
  slope: tanhSlope,
  slopeFromOutput: (y) => 1 - y * y,
  slopeRange: (l, u) => bellSlopeRange(tanhSlope, l, u),
  valueRange: (l, u) => [Math.tanh(l), Math.tanh(u)],
  monotone: true,
  curvature: { negative: 'convex', positive: 'concave' },
  slopeBounds: [0, 1],
  atZero: 0,
};

const sigmoidSlope = (x: number): number => {
  const s = sigmoid(x);
  return s * (1 - s);
};

const sigmoidFacts: ActivationFacts = {
  name: 'sigmoid',
  value: sigmoid,
  slope: sigmoidSlope,
  slopeFromOutput: (y) => y * (1 - y),
  slopeRange: (l, u) => bellSlopeRange(sigmoidSlope, l, u),
  valueRange: (l, u) => [sigmoid(l), sigmoid(u)],
  monotone: true,
  curvature: { negative: 'convex', positive: 'concave' },
  slopeBounds: [0, 0.25],
  atZero: 0.5,
};

/** The table: facts by activation name. */
export const ACTIVATIONS: Readonly<Record<ActivationName, ActivationFacts>> = { linear, relu, tanh, sigmoid: sigmoidFacts };

/** Facts of an activation (throws on an unknown name, e.g. from a hand-edited file). */
export function activationFacts(name: ActivationName): ActivationFacts {
  const f = ACTIVATIONS[name];
  if (!f) throw new Error(`unknown activation '${String(name)}'`);
  return f;
}

/** True when the activation is convex on the whole line (linear, ReLU). */
export function isConvex(name: ActivationName): boolean {
  return name === 'linear' || name === 'relu';
}

/**
 * Applies an activation to `n` entries: `out[o + r * ldo + j] = f(x[i + r * ldx + j])` for
 * r < rows, j < cols (strided rows; `out` may alias `x` with the same offsets and strides).
 * One loop per activation, so the hot path has no per-element dispatch. With `bias`, computes
 * `f(x + bias)` (bias indexed by column) in the same pass.
 */
export function applyActivation(
  name: ActivationName, rows: number, cols: number,
  x: Float64Array, xOff: number, ldx: number, out: Float64Array, oOff: number, ldo: number,
  bias: Float64Array | null = null,
): void {
  if (bias !== null) {
    applyBiasActivation(name, rows, cols, x, xOff, ldx, out, oOff, ldo, bias);
    return;
  }
  for (let r = 0; r < rows; r++) {
    const xi = xOff + r * ldx, oi = oOff + r * ldo;
    switch (name) {
      case 'linear':
        if (out !== x || xi !== oi) for (let j = 0; j < cols; j++) out[oi + j] = x[xi + j];
        break;
      case 'relu':
        for (let j = 0; j < cols; j++) {
          const v = x[xi + j];
          out[oi + j] = v > 0 ? v : 0;
        }
        break;
      case 'tanh':
        for (let j = 0; j < cols; j++) out[oi + j] = Math.tanh(x[xi + j]);
        break;
      case 'sigmoid':
        for (let j = 0; j < cols; j++) out[oi + j] = sigmoid(x[xi + j]);
        break;
      default:
        throw new Error(`unknown activation '${String(name)}'`);
    }
  }
}

/** `out = f(x + bias)` row by row (the fused bias + activation of {@link applyActivation}). */
function applyBiasActivation(
  name: ActivationName, rows: number, cols: number,
  x: Float64Array, xOff: number, ldx: number, out: Float64Array, oOff: number, ldo: number, b: Float64Array,
): void {
  for (let r = 0; r < rows; r++) {
    const xi = xOff + r * ldx, oi = oOff + r * ldo;
    switch (name) {
      case 'linear':
        for (let j = 0; j < cols; j++) out[oi + j] = x[xi + j] + b[j];
        break;
      case 'relu':
        for (let j = 0; j < cols; j++) {
          const v = x[xi + j] + b[j];
          out[oi + j] = v > 0 ? v : 0;
        }
        break;
      case 'tanh':
        for (let j = 0; j < cols; j++) out[oi + j] = Math.tanh(x[xi + j] + b[j]);
        break;
      case 'sigmoid':
        for (let j = 0; j < cols; j++) out[oi + j] = sigmoid(x[xi + j] + b[j]);
        break;
      default:
        throw new Error(`unknown activation '${String(name)}'`);
    }
  }
}

/**
 * Reverse rule: `dx[...] (+)= g[...] * f'(y[...])` with the slope taken from the output y
 * (strided rows). With `accumulate` false dx is overwritten; dx may alias g.
 */
export function activationAdjoint(
  name: ActivationName, rows: number, cols: number,
  y: Float64Array, yOff: number, ldy: number,
  g: Float64Array, gOff: number, ldg: number,
  dx: Float64Array, dOff: number, ldd: number,
  accumulate: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    const yi = yOff + r * ldy, gi = gOff + r * ldg, di = dOff + r * ldd;
    switch (name) {
      case 'linear':
        if (accumulate) for (let j = 0; j < cols; j++) dx[di + j] += g[gi + j];
        else if (dx !== g || di !== gi) for (let j = 0; j < cols; j++) dx[di + j] = g[gi + j];
        break;
      case 'relu':
        if (accumulate) {
          for (let j = 0; j < cols; j++) if (y[yi + j] > 0) dx[di + j] += g[gi + j];
        } else for (let j = 0; j < cols; j++) dx[di + j] = y[yi + j] > 0 ? g[gi + j] : 0;
        break;
      case 'tanh':
        if (accumulate)
          for (let j = 0; j < cols; j++) {
            const v = y[yi + j];
            dx[di + j] += g[gi + j] * (1 - v * v);
          }
        else
          for (let j = 0; j < cols; j++) {
            const v = y[yi + j];
            dx[di + j] = g[gi + j] * (1 - v * v);
          }
        break;
      case 'sigmoid':
        if (accumulate)
          for (let j = 0; j < cols; j++) {
            const v = y[yi + j];
            dx[di + j] += g[gi + j] * v * (1 - v);
          }
        else
          for (let j = 0; j < cols; j++) {
            const v = y[yi + j];
            dx[di + j] = g[gi + j] * v * (1 - v);
          }
        break;
      default:
        throw new Error(`unknown activation '${String(name)}'`);
    }
  }
}
