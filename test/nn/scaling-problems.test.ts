// scalingProblems finds its percentiles by selection instead of a sort per feature: the findings
// equal those of the sort-based definition (written out below) on random data, outliers included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { scalingProblems, type ScalingProblem } from '../../src/nn/scaler.ts';

/** The definition with a full sort per feature (the previous implementation). */
function bySorting(data: Float64Array, width: number): ScalingProblem[] {
  const n = data.length / width, out: ScalingProblem[] = [];
  for (let j = 0; j < width; j++) {
    const col = Float64Array.from({ length: n }, (_, i) => data[i * width + j]);
    const sorted = Float64Array.from(col).sort();
    const min = sorted[0], max = sorted[n - 1];
    if (min === max) {
      out.push({ kind: 'constant', feature: j, min, max, outliers: [], outlierCount: 0, bulk: [min, max] });
      continue;
    }
    const q = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.round(p * (n - 1))))];
    const lo = q(0.01), hi = q(0.99), range = max - min, spread = hi - lo;
    if (!(spread < 1e-3 * range)) continue;
    const band = Math.max(10 * spread, 1e-3 * range);
    const outliers: { row: number; value: number }[] = [];
    let count = 0;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v < lo - band || v > hi + band) {
        count++;
        if (outliers.length < 5) outliers.push({ row: i, value: v });
      }
    }
    if (count > 0 && count <= Math.max(3, 0.001 * n)) out.push({ kind: 'outliers', feature: j, min, max, outliers, outlierCount: count, bulk: [lo, hi] });
  }
  return out;
}

test('scalingProblems equals the sort-based definition (constant, outlier-dominated and ordinary features, ties)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3000 }),
      fc.array(fc.constantFrom('constant', 'outliers', 'ordinary', 'ties'), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (n, kinds, seed) => {
        let s = seed;
        const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
        const width = kinds.length, data = new Float64Array(n * width);
        kinds.forEach((kind, j) => {
          for (let i = 0; i < n; i++) {
            const v = kind === 'constant' ? 2.5 : kind === 'ties' ? Math.floor(rnd() * 4) : kind === 'ordinary' ? rnd() * 10 - 5 : 1 + 1e-6 * rnd();
            data[i * width + j] = v;
          }
          if (kind === 'outliers') for (let k = 0; k < 1 + (seed % 3); k++) data[Math.floor(rnd() * n) * width + j] = 100 * (k + 1);
        });
        assert.deepEqual(scalingProblems(data, width), bySorting(data, width));
      },
    ),
    { numRuns: 150 },
  );
});

test('scalingProblems with kinds limits the findings to those kinds', () => {
  const data = Float64Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 3 : i === 1001 ? 50 : 1 + (i % 7) * 1e-7));
  assert.deepEqual(scalingProblems(data, 2).map((p) => p.kind), ['constant', 'outliers']);
  assert.deepEqual(scalingProblems(data, 2, undefined, 1, ['constant']).map((p) => p.kind), ['constant']);
  assert.deepEqual(scalingProblems(data, 2, undefined, 1, ['outliers']).map((p) => p.kind), ['outliers']);
});
