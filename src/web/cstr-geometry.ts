/** CSTR geometry for the phase planes, from the library's constants (page side: cheap, no worker). */
import { CSTR_LYAPUNOV_P, CSTR_STABILITY_LEVEL } from '../systems/cstr.ts';

export const X1_RANGE: [number, number] = [-2, 2];
export const X2_RANGE: [number, number] = [-110, 110];

/** Points on `x^T P x = level` (closed). */
export function ellipse(level = CSTR_STABILITY_LEVEL, n = 181): { x: number[]; y: number[] } {
  const [[a, b], [, c]] = CSTR_LYAPUNOV_P;
  const l11 = Math.sqrt(a), l21 = b / l11, l22 = Math.sqrt(c - l21 * l21), r = Math.sqrt(level);
  const x: number[] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const th = (2 * Math.PI * i) / (n - 1);
    const w2 = Math.sin(th) / l22;
    const w1 = (Math.cos(th) - l21 * w2) / l11;
    x.push(r * w1);
    y.push(r * w2);
  }
  return { x, y };
}

/** Target region |x1| < 0.02, |x2| < 3 as a closed outline. */
export const TARGET_BOX = { x: [-0.02, 0.02, 0.02, -0.02, -0.02], y: [-3, -3, 3, 3, -3] };

export function lyapunov(x1: number, x2: number): number {
  const [[a, b], [, c]] = CSTR_LYAPUNOV_P;
  return a * x1 * x1 + 2 * b * x1 * x2 + c * x2 * x2;
}
