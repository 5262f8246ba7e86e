// The f32 kernels' tanh (biasAct with act = tanh: a rational approximation, four lanes at a time)
// against Math.tanh: relative error at most 5e-7 (about 4 ulp of f32) over the whole range, the
// saturation and the tails of a row (lengths that are not a multiple of four), NaN kept, +-Infinity
// to +-1; the f64 kernels keep their double-precision tanh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantiateKernels, WasmArena, WASM_ACT } from '../../src/core/wasm.ts';
import { enableWasmFma } from '../../src/core/wasm-node.ts';

const support = enableWasmFma();
const skip = support.simd ? false : 'WebAssembly SIMD is not available in this engine';

for (const fma of support.relaxedSimd ? [false, true] : [false]) {
  test(`f32 tanh${fma ? ' (FMA)' : ''}: within 5e-7 relative of Math.tanh, same value in the vector body and the tail`, { skip }, () => {
    const k = instantiateKernels('f32', fma)!;
    const ar = new WasmArena(k);
    const n = 200003; // not a multiple of four: the last three values take the scalar tail
    const X = ar.alloc(n), B = ar.alloc(n);
    const xs = new Float32Array(n);
    for (let i = 0; i < n; i++) xs[i] = (i - n / 2) * 1e-4 * (1 + (i % 13) * 0.01);
    xs[0] = 0;
    xs[1] = 1e-30;
    xs[2] = -12;
    xs[3] = 40;
    (ar.f as Float32Array).set(xs, X.offset);
    k.biasAct(1, n, ar.ptr(X), ar.ptr(B), WASM_ACT.tanh);
    const got = Float32Array.from(ar.tensor(X));
    let worst = 0, at = 0;
    for (let i = 0; i < n; i++) {
      const want = Math.tanh(xs[i]);
      const rel = Math.abs(got[i] - want) / Math.max(Math.abs(want), 1e-38);
      if (rel > worst) {
        worst = rel;
        at = xs[i];
      }
    }
    assert.ok(worst <= 5e-7, `relative error ${worst} at x = ${at}`);
    // the tail computes through the same formula: a value gives the same result wherever it sits
    const probe = xs.subarray(n - 3);
    const again = ar.alloc(8), zero = ar.alloc(8);
    (ar.f as Float32Array).set([...probe, ...probe, 0, 0], again.offset);
    k.biasAct(1, 8, ar.ptr(again), ar.ptr(zero), WASM_ACT.tanh);
    const v = ar.tensor(again);
    for (let j = 0; j < 3; j++) assert.equal(v[j], got[n - 3 + j]);
    // special values
    const S = ar.alloc(4), Z = ar.alloc(4);
    (ar.f as Float32Array).set([NaN, Infinity, -Infinity, 0], S.offset);
    k.biasAct(1, 4, ar.ptr(S), ar.ptr(Z), WASM_ACT.tanh);
    const sv = ar.tensor(S);
    assert.ok(Number.isNaN(sv[0]));
    assert.ok(Math.abs(sv[1] - 1) <= 5e-7 && Math.abs(sv[2] + 1) <= 5e-7, `${sv[1]} ${sv[2]}`);
    assert.equal(sv[3], 0);
  });
}

test('f64 tanh stays the double-precision routine (within 1e-15 of Math.tanh)', { skip }, () => {
  const k = instantiateKernels('f64', false)!;
  const ar = new WasmArena(k);
  const xs = Float64Array.from({ length: 1001 }, (_, i) => (i - 500) * 0.013);
  const X = ar.alloc(xs.length), B = ar.alloc(xs.length);
  (ar.f as Float64Array).set(xs, X.offset);
  k.biasAct(1, xs.length, ar.ptr(X), ar.ptr(B), WASM_ACT.tanh);
  const got = ar.tensor(X);
  for (let i = 0; i < xs.length; i++) assert.ok(Math.abs(got[i] - Math.tanh(xs[i])) <= 1e-15 * Math.abs(Math.tanh(xs[i])) + 1e-300, `${xs[i]}: ${got[i]}`);
});
