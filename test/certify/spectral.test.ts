// Certified spectral norms: the upper bound is a true upper bound (also above an independent
// high-accuracy value) and tight; the estimate is below it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spectralNormBound, nonNegativeSpectralNormBound, certifiedNorm, jacobiEigen } from '../../src/core/spectral.ts';
import { powerIteration } from '../../src/core/linalg.ts';
import { Rng } from '../../src/core/rng.ts';
import { ValidationError } from '../../src/core/errors.ts';

/** Independent reference: Jacobi on the Gram matrix in a different orientation (W W^T), with eigenvalue sort. */
function reference(a: Float64Array, rows: number, cols: number): number {
  const g = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < rows; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += a[i * cols + k] * a[j * cols + k];
      g[i * rows + j] = s;
    }
  const { values } = jacobiEigen(g, rows);
  return Math.sqrt(Math.max(0, ...values));
}

function randomMatrix(rng: Rng, rows: number, cols: number, scale: number, zeros: number, nonNeg: boolean): Float64Array {
  const a = new Float64Array(rows * cols);
  for (let i = 0; i < a.length; i++) {
    if (rng.uniform() < zeros) continue;
    const v = scale * rng.normal();
    a[i] = nonNeg ? Math.abs(v) : v;
  }
  return a;
}

test('spectralNormBound: upper >= exact >= estimate, and tight (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 14 }), fc.integer({ min: -6, max: 6 }), fc.integer({ min: 0, max: 1e6 }), fc.boolean(), (r, c, e, seed, sparse) => {
      const rng = new Rng(seed);
      const a = randomMatrix(rng, r, c, 10 ** e, sparse ? 0.6 : 0, false);
      const b = spectralNormBound(a, r, c);
      const ref = reference(a, r, c);
      assert.ok(b.upper >= ref * (1 - 1e-13), `upper ${b.upper} < reference ${ref}`);
      assert.ok(b.estimate <= b.upper);
      if (ref > 0) {
        assert.ok(b.upper <= ref * (1 + 1e-10), `upper ${b.upper} not tight vs ${ref}`);
        assert.ok(b.estimate >= ref * (1 - 1e-10));
      } else assert.equal(b.upper, 0);
    }),
    { numRuns: 150 },
  );
});

test('nonNegativeSpectralNormBound: Collatz-Wielandt bound above the exact value and tight (property)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 1, max: 14 }), fc.integer({ min: -4, max: 4 }), fc.integer({ min: 0, max: 1e6 }), fc.boolean(), (r, c, e, seed, sparse) => {
      const rng = new Rng(seed);
      const a = randomMatrix(rng, r, c, 10 ** e, sparse ? 0.7 : 0, true);
      const b = nonNegativeSpectralNormBound(a, r, c);
      const ref = reference(a, r, c);
      assert.ok(b.upper >= ref * (1 - 1e-13), `upper ${b.upper} < reference ${ref}`);
      if (ref > 0) assert.ok(b.upper <= ref * (1 + 1e-9), `upper ${b.upper} vs ${ref}`);
      assert.ok(b.estimate <= b.upper);
    }),
    { numRuns: 150 },
  );
});

test('exact cases: diagonal, rank one, zero, non-finite', () => {
  const d = Float64Array.from([3, 0, 0, 0, -2, 0, 0, 0, 1]);
  const b = spectralNormBound(d, 3, 3);
  assert.ok(b.upper >= 3 && b.upper <= 3 * (1 + 1e-12), `${b.upper}`);
  // rank one u v^T: ||.|| = |u| |v|
  const u = [1, 2, 2], v = [3, 4];
  const r1 = new Float64Array(6);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) r1[i * 2 + j] = u[i] * v[j];
  const b1 = certifiedNorm(r1, 3, 2);
  assert.ok(b1.upper >= 15 && b1.upper <= 15 * (1 + 1e-12), `${b1.upper}`);
  assert.equal(spectralNormBound(new Float64Array(4), 2, 2).upper, 0);
  assert.equal(spectralNormBound(Float64Array.from([Infinity]), 1, 1).upper, Infinity);
  assert.throws(() => nonNegativeSpectralNormBound(Float64Array.from([-1]), 1, 1), ValidationError);
});

test('a 10-step power iteration underestimates; the certified bound does not', () => {
  const rng = new Rng(7);
  // two close top singular values slow the power iteration down
  const n = 32;
  const a = randomMatrix(rng, n, n, 1, 0, false);
  const est = powerIteration(a, n, n, new Float64Array(n).fill(1), 10, 1e-3);
  const b = spectralNormBound(a, n, n);
  const ref = reference(a, n, n);
  assert.ok(est <= ref + 1e-12);
  assert.ok(b.upper >= ref);
  assert.ok(b.upper - ref <= 1e-10 * ref);
});
