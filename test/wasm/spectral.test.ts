// The wasm spectral normalisation kernel (training constraint of the ICLRNN, run by the wasm
// trainer) against the JavaScript SpectralNormalize it replaces: same weights after the step, same
// power-iteration vector, in both modes, with and without the non-negative clip, over several calls
// (the vector carries over), f64 to 1e-12 and f32 to 1e-5 relative; zero and tiny matrices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/core/rng.ts';
import { instantiateKernels, WasmArena, wasmSupport } from '../../src/core/wasm.ts';
import { SpectralNormalize } from '../../src/nn/constraints.ts';

const skip = wasmSupport().simd ? false : 'WebAssembly SIMD is not available in this engine';

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

for (const precision of ['f64', 'f32'] as const) {
  const tol = precision === 'f64' ? 1e-12 : 1e-5;
  test(`spectralNormalize (${precision}) equals SpectralNormalize.apply over repeated calls (property)`, { skip }, () => {
    const k = instantiateKernels(precision, false)!;
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 0, max: 1e6 }),
        fc.constantFrom('projection', 'reference'), fc.boolean(), fc.constantFrom(0.5, 1, 2), fc.constantFrom(0, 0.3, 1.5),
        (rows, cols, seed, mode, nonNegative, kk, scaleUp) => {
          const rng = new Rng(seed);
          const js = new SpectralNormalize({ k: kk, mode: mode as 'projection' | 'reference', nonNegative });
          const ar = new WasmArena(k);
          const W = ar.alloc(rows * cols), U = ar.alloc(cols), V = ar.alloc(rows), U2 = ar.alloc(cols);
          const w = new Float64Array(rows * cols);
          for (let call = 0; call < 3; call++) {
            // a training step moves the weights: perturb, then both constrain
            for (let i = 0; i < w.length; i++) w[i] = scaleUp * w[i] + (rng.uniform() - 0.4);
            const f = ar.f;
            f.set(w, W.offset);
            const mine = Float64Array.from(f.subarray(W.offset, W.offset + w.length)); // rounded like the arena (f32)
            js.apply(mine, rows, cols);
            const sc = js.config;
            k.spectralNormalize(rows, cols, ar.ptr(W), ar.ptr(U), ar.ptr(V), ar.ptr(U2), sc.iterations, sc.tolerance, sc.k, sc.eps, mode === 'reference' ? 1 : 0, nonNegative ? 1 : 0);
            const got = ar.f.subarray(W.offset, W.offset + w.length);
            assert.ok(relErr(got, mine) <= tol, `weights: relative error ${relErr(got, mine)} (${rows}x${cols}, ${mode}, call ${call})`);
            assert.ok(relErr(ar.f.subarray(U.offset, U.offset + cols), js.state()!) <= 100 * tol, 'power-iteration vector');
            w.set(mine);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
}

test('spectralNormalize: a zero matrix stays zero (sigma 0, no division), projection leaves small matrices alone', { skip }, () => {
  const k = instantiateKernels('f64', false)!;
  const ar = new WasmArena(k);
  const W = ar.alloc(12), U = ar.alloc(4), V = ar.alloc(3), U2 = ar.alloc(4);
  assert.equal(k.spectralNormalize(3, 4, ar.ptr(W), ar.ptr(U), ar.ptr(V), ar.ptr(U2), 10, 1e-3, 1, 1e-3, 0, 1), 0);
  assert.deepEqual(Array.from(ar.tensor(W)), new Array(12).fill(0));
  const f = ar.f;
  const small = [0.1, 0, 0, 0, 0, 0.2, 0, 0, 0, 0, 0.05, 0];
  f.set(small, W.offset);
  const sigma = k.spectralNormalize(3, 4, ar.ptr(W), ar.ptr(U), ar.ptr(V), ar.ptr(U2), 10, 1e-3, 1, 1e-3, 0, 1);
  assert.ok(Math.abs(sigma - 0.2) < 1e-3, `sigma ${sigma}`);
  assert.deepEqual(Array.from(ar.tensor(W)), small);
});
