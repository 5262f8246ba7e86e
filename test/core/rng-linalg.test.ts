import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/core/rng.ts';
import { largestSingularValue, orthogonal, powerIteration, symmetricEigenvalues } from '../../src/core/linalg.ts';

test('Rng: same seed same stream, different seeds differ, sane moments', () => {
  const a = new Rng(42), b = new Rng(42), c = new Rng(43);
  const xs = Array.from({ length: 20000 }, () => a.uniform());
  assert.deepEqual(xs.slice(0, 50), Array.from({ length: 50 }, () => b.uniform()));
  assert.notDeepEqual(xs.slice(0, 50), Array.from({ length: 50 }, () => c.uniform()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `uniform mean ${mean}`);
  const r = new Rng(7);
  const ns = Array.from({ length: 20000 }, () => r.normal());
  const m = ns.reduce((s, x) => s + x, 0) / ns.length;
  const v = ns.reduce((s, x) => s + (x - m) ** 2, 0) / ns.length;
  assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `normal mean ${m} var ${v}`);
  const p = new Rng(1).permutation(100);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
  assert.throws(() => new Rng(NaN), /seed must be a finite number/);
});

test('largest singular value: exact on known matrices, agrees with the eigenvalues of W^T W (property)', () => {
  // diag(3, -5) padded: sigma = 5; [[1, 1], [0, 1]]: sigma = golden ratio
  assert.ok(Math.abs(largestSingularValue(Float64Array.from([3, 0, 0, -5, 0, 0]), 3, 2) - 5) < 1e-13);
  assert.ok(Math.abs(largestSingularValue(Float64Array.from([1, 1, 0, 1]), 2, 2) - (1 + Math.sqrt(5)) / 2) < 1e-13);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 }), fc.integer(), (r, c, seed) => {
      const rng = new Rng(seed);
      const w = new Float64Array(r * c).map(() => rng.normal());
      const s = largestSingularValue(w, r, c);
      // ||W v|| <= s ||v|| for random v, and power iteration (a lower bound) converges to s
      for (let k = 0; k < 5; k++) {
        const v = new Float64Array(c).map(() => rng.normal());
        let nv = 0, nw = 0;
        for (let j = 0; j < c; j++) nv += v[j] * v[j];
        for (let i = 0; i < r; i++) {
          let t = 0;
          for (let j = 0; j < c; j++) t += w[i * c + j] * v[j];
          nw += t * t;
        }
        assert.ok(Math.sqrt(nw) <= s * Math.sqrt(nv) * (1 + 1e-12));
      }
      const u = new Float64Array(c).map(() => rng.normal());
      const est = powerIteration(w, r, c, u, 3000, 0);
      assert.ok(est <= s * (1 + 1e-12), `power iteration ${est} above ${s}`);
      assert.ok(est >= s * (1 - 1e-3), `power iteration ${est} far below ${s}`);
    }),
    { numRuns: 150 },
  );
});

test('symmetric eigenvalues and orthogonal initialiser', () => {
  const ev = symmetricEigenvalues(Float64Array.from([2, 1, 0, 1, 2, 0, 0, 0, -1]), 3);
  assert.deepEqual(Array.from(ev).map((x) => Math.round(x * 1e12) / 1e12), [3, 1, -1]);
  const q = orthogonal(5, 3, new Rng(3), 0.1);
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let d = 0;
      for (let k = 0; k < 5; k++) d += q[k * 3 + i] * q[k * 3 + j];
      assert.ok(Math.abs(d - (i === j ? 0.01 : 0)) < 1e-12);
    }
});
