// The activation table: values, slopes (against finite differences and from the output), slope
// and value ranges over intervals (against dense sampling), curvature signs, the stable sigmoid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ACTIVATIONS, activationAdjoint, applyActivation, isConvex, sigmoid } from '../../src/graph/activations.ts';

const names = ['linear', 'relu', 'tanh', 'sigmoid'] as const;

test('sigmoid is stable for large |x| and symmetric', () => {
  assert.equal(sigmoid(1000), 1);
  assert.equal(sigmoid(-1000), 0);
  assert.ok(Number.isFinite(sigmoid(-800)) && sigmoid(-800) >= 0);
  assert.ok(Math.abs(sigmoid(-30) - Math.exp(-30) / (1 + Math.exp(-30))) < 1e-28);
  for (const x of [-5, -1, 0, 0.3, 7]) assert.ok(Math.abs(sigmoid(x) + sigmoid(-x) - 1) < 1e-15);
});

test('slopes match finite differences and the output form', () => {
  for (const n of names) {
    const f = ACTIVATIONS[n];
    for (const x of [-3, -0.7, -0.1, 0.2, 1.1, 4]) {
      const h = 1e-6, fd = (f.value(x + h) - f.value(x - h)) / (2 * h);
      assert.ok(Math.abs(f.slope(x) - fd) < 1e-8, `${n}'(${x})`);
      assert.ok(Math.abs(f.slopeFromOutput(f.value(x)) - f.slope(x)) < 1e-12, `${n}' from output at ${x}`);
    }
    assert.equal(f.value(0), f.atZero);
  }
});

test('property: slope and value ranges enclose (and are attained by) sampled values', () => {
  fc.assert(
    fc.property(fc.constantFrom(...names), fc.double({ min: -6, max: 6, noNaN: true }), fc.double({ min: 0, max: 6, noNaN: true }), (n, l, w) => {
      const f = ACTIVATIONS[n], u = l + w;
      const [smin, smax] = f.slopeRange(l, u), [vmin, vmax] = f.valueRange(l, u);
      let lo = Infinity, hi = -Infinity;
      for (let k = 0; k <= 200; k++) {
        const x = l + (w * k) / 200;
        const s = f.slope(x), v = f.value(x);
        assert.ok(s >= smin - 1e-12 && s <= smax + 1e-12, `${n} slope at ${x} outside [${smin}, ${smax}]`);
        assert.ok(v >= vmin - 1e-12 && v <= vmax + 1e-12);
        lo = Math.min(lo, s);
        hi = Math.max(hi, s);
      }
      if (n !== 'relu') {
        // tight: the endpoints and 0 are among the samples when inside
        if (!(l < 0 && u > 0)) assert.ok(Math.abs(hi - smax) < 1e-9 && Math.abs(lo - smin) < 1e-9, `${n} range [${l}, ${u}] not tight`);
        else assert.ok(Math.abs(lo - smin) < 1e-9);
      }
      assert.ok(f.slopeBounds[0] <= smin && smax <= f.slopeBounds[1]);
    }),
    { numRuns: 200 },
  );
});

test('curvature signs agree with second differences; monotone', () => {
  for (const n of names) {
    const f = ACTIVATIONS[n];
    assert.equal(f.monotone, true);
    for (const [side, xs] of [['negative', [-3, -1, -0.2]], ['positive', [0.2, 1, 3]]] as const) {
      for (const x of xs) {
        const h = 1e-3, d2 = f.value(x + h) - 2 * f.value(x) + f.value(x - h);
        const c = f.curvature[side];
        if (c === 'convex') assert.ok(d2 > 0, `${n} convex at ${x}`);
        else if (c === 'concave') assert.ok(d2 < 0, `${n} concave at ${x}`);
        else assert.ok(Math.abs(d2) < 1e-12, `${n} linear at ${x}`);
      }
    }
  }
  assert.ok(isConvex('relu') && isConvex('linear') && !isConvex('tanh') && !isConvex('sigmoid'));
});

test('strided apply and adjoint match the table (also in place)', () => {
  for (const n of names) {
    const f = ACTIVATIONS[n];
    const rows = 3, cols = 4, ld = 6;
    const x = Float64Array.from({ length: rows * ld }, (_, i) => Math.sin(i) * 3);
    const out = new Float64Array(rows * ld);
    applyActivation(n, rows, cols, x, 1, ld, out, 2, ld);
    const g = Float64Array.from({ length: rows * ld }, (_, i) => Math.cos(i));
    const dx = new Float64Array(rows * ld).fill(0.5);
    activationAdjoint(n, rows, cols, out, 2, ld, g, 1, ld, dx, 0, ld, true);
    for (let r = 0; r < rows; r++)
      for (let j = 0; j < cols; j++) {
        const v = x[1 + r * ld + j];
        assert.ok(Math.abs(out[2 + r * ld + j] - f.value(v)) < 1e-15);
        assert.ok(Math.abs(dx[r * ld + j] - (0.5 + g[1 + r * ld + j] * f.slope(v))) < 1e-12, `${n} adjoint`);
      }
    const y = Float64Array.from(x);
    applyActivation(n, rows, ld, y, 0, ld, y, 0, ld);
    for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - f.value(x[i])) < 1e-15, `${n} in place`);
  }
});
