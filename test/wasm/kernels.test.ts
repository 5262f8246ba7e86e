import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { jsKernels } from '../../src/core/kernels.ts';
import { Rng } from '../../src/core/rng.ts';
import { instantiateKernels, WasmArena, WASM_ACT, wasmSupport, type WasmKernelExports, type WasmPrecision } from '../../src/core/wasm.ts';
import { enableWasmFma } from '../../src/core/wasm-node.ts';

const support = enableWasmFma();
const variants: { precision: WasmPrecision; fma: boolean }[] = [];
if (support.simd) {
  for (const precision of ['f32', 'f64'] as const) {
    variants.push({ precision, fma: false });
    if (support.relaxedSimd) variants.push({ precision, fma: true });
  }
}
const skip = support.simd ? false : 'WebAssembly SIMD is not available in this engine';
/** Relative tolerance per precision, against the magnitude sum of the products (norm-wise). */
const tol = { f32: 1e-5, f64: 1e-12 };

function setup(precision: WasmPrecision, fma: boolean): { k: WasmKernelExports; ar: WasmArena } {
  const k = instantiateKernels(precision, fma)!;
  assert.equal(k.hasFma(), fma ? 1 : 0);
  assert.equal(k.isF64(), precision === 'f64' ? 1 : 0);
  return { k, ar: new WasmArena(k) };
}

/** Rounds to the arena precision (so the JS oracle sees the same inputs). */
function rounded(precision: WasmPrecision, x: Float64Array): Float64Array {
  return precision === 'f32' ? Float64Array.from(Float32Array.from(x)) : x;
}

test('the SIMD probe validates here and the FMA probe after enableWasmFma (Node 20)', { skip }, () => {
  assert.equal(wasmSupport().simd, true);
  assert.equal(wasmSupport().relaxedSimd, true);
});

for (const { precision, fma } of variants) {
  const name = `${precision}${fma ? ' + FMA' : ''}`;

  test(`wasm gemm (${name}) equals the JS kernel for A B, A^T B, A B^T, strided and general layouts`, () => {
    const { k, ar } = setup(precision, fma);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 37 }), fc.integer({ min: 1, max: 41 }), fc.integer({ min: 0, max: 35 }),
        fc.constantFrom('nn', 'tn', 'nt', 'tt'), fc.boolean(), fc.integer({ min: 0, max: 3 }), fc.integer(),
        (m, n, kk, layout, acc, pad, seed) => {
          const rng = new Rng(seed);
          const ta = layout[0] === 't', tb = layout[1] === 't';
          const lda = (ta ? m : kk) + pad, ldb = (tb ? kk : n) + pad;
          const a = rounded(precision, new Float64Array((ta ? kk : m) * lda).map(() => rng.normal()));
          const b = rounded(precision, new Float64Array((tb ? n : kk) * ldb).map(() => rng.normal()));
          const [aRow, aCol] = ta ? [1, lda] : [lda, 1];
          const [bRow, bCol] = tb ? [1, ldb] : [ldb, 1];
          const ldc = n + pad;
          const c0 = rounded(precision, new Float64Array(m * ldc).map(() => rng.normal()));
          const ta_ = ar.alloc(a.length), tb_ = ar.alloc(b.length), tc = ar.alloc(c0.length);
          ar.tensor(ta_).set(a); ar.tensor(tb_).set(b); ar.tensor(tc).set(c0);
          k.gemm(m, n, kk, ar.ptr(ta_), aRow, aCol, ar.ptr(tb_), bRow, bCol, ar.ptr(tc), ldc, acc ? 1 : 0);
          const want = Float64Array.from(c0);
          jsKernels.gemm(m, n, kk, a, 0, aRow, aCol, b, 0, bRow, bCol, want, 0, ldc, acc);
          const got = ar.tensor(tc);
          for (let i = 0; i < m; i++)
            for (let j = 0; j < ldc; j++) {
              const idx = i * ldc + j;
              if (j >= n) { assert.equal(got[idx], c0[idx], 'padding untouched'); continue; }
              let mag = acc ? Math.abs(c0[idx]) : 0;
              for (let p = 0; p < kk; p++) mag += Math.abs(a[i * aRow + p * aCol] * b[p * bRow + j * bCol]);
              const err = Math.abs(got[idx] - want[idx]);
              assert.ok(err <= tol[precision] * mag + 1e-300, `C[${i},${j}] ${got[idx]} vs ${want[idx]} (m=${m} n=${n} k=${kk} ${layout})`);
            }
          ar.f.fill(NaN, ta_.offset, tc.offset + tc.length); // later cases must not rely on old contents
        },
      ),
      { numRuns: 60 },
    );
  });

  test(`wasm elementwise kernels (${name}) equal their JS counterparts`, () => {
    const { k, ar } = setup(precision, fma);
    const close = (x: number, y: number, what: string) =>
      assert.ok(Math.abs(x - y) <= tol[precision] * Math.max(1, Math.abs(y)), `${what}: ${x} vs ${y}`);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 19 }), fc.constantFrom('linear', 'relu', 'tanh'), fc.integer(), (rows, cols, act, seed) => {
        const rng = new Rng(seed);
        const n = rows * cols;
        const x = rounded(precision, new Float64Array(n).map(() => rng.normal()));
        const bias = rounded(precision, new Float64Array(cols).map(() => rng.normal()));
        const g = rounded(precision, new Float64Array(n).map(() => rng.normal()));
        const ds = rounded(precision, new Float64Array(n).map(() => rng.normal()));
        const tx = ar.alloc(n), tb = ar.alloc(cols), tg = ar.alloc(n), tds = ar.alloc(n), tdz = ar.alloc(n), tacc = ar.alloc(cols);
        ar.tensor(tx).set(x); ar.tensor(tb).set(bias); ar.tensor(tg).set(g); ar.tensor(tds).set(ds);
        // bias + activation
        k.biasAct(rows, cols, ar.ptr(tx), ar.ptr(tb), WASM_ACT[act]);
        const h = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const v = x[i] + bias[i % cols];
          h[i] = act === 'relu' ? (v > 0 ? v : 0) : act === 'tanh' ? Math.tanh(v) : v;
          close(ar.f[tx.offset + i], h[i], `biasAct ${act}`);
        }
        const hw = Float64Array.from(ar.tensor(tx));
        // cell gradient: dz = (dy + ds) act'(h)
        k.cellGrad(n, ar.ptr(tx), ar.ptr(tg), ar.ptr(tds), ar.ptr(tdz), WASM_ACT[act]);
        for (let i = 0; i < n; i++) {
          const s = g[i] + ds[i];
          const want = act === 'relu' ? (hw[i] > 0 ? s : 0) : act === 'tanh' ? s * (1 - hw[i] * hw[i]) : s;
          close(ar.f[tdz.offset + i], want, 'cellGrad');
        }
        // activation backward in place
        k.actBackward(n, ar.ptr(tx), ar.ptr(tg), WASM_ACT[act]);
        for (let i = 0; i < n; i++) {
          const want = act === 'relu' ? (hw[i] > 0 ? g[i] : 0) : act === 'tanh' ? g[i] * (1 - hw[i] * hw[i]) : g[i];
          close(ar.f[tg.offset + i], want, 'actBackward');
        }
        // column sums, clip, add, scale, zero, losses
        const gNow = Float64Array.from(ar.tensor(tg));
        k.colSumsAdd(rows, cols, ar.ptr(tg), ar.ptr(tacc));
        const sums = new Float64Array(cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) sums[c] += gNow[r * cols + c];
        for (let c = 0; c < cols; c++) close(ar.f[tacc.offset + c], sums[c], 'colSumsAdd');
        k.clipNonNeg(n, ar.ptr(tds));
        for (let i = 0; i < n; i++) assert.equal(ar.f[tds.offset + i], ds[i] < 0 ? 0 : ds[i], 'clipNonNeg');
        k.addInto(n, ar.ptr(tg), ar.ptr(tds));
        for (let i = 0; i < n; i++) close(ar.f[tds.offset + i], (ds[i] < 0 ? 0 : ds[i]) + gNow[i], 'addInto');
        k.scale(n, ar.ptr(tds), -0.5);
        for (let i = 0; i < n; i++) close(ar.f[tds.offset + i], -0.5 * ((ds[i] < 0 ? 0 : ds[i]) + gNow[i]), 'scale');
        const yv = Float64Array.from(ar.tensor(tds));
        let want = 0;
        for (let i = 0; i < n; i++) want += (yv[i] - x[i]) ** 2;
        ar.tensor(tx).set(x);
        close(k.sse(n, ar.ptr(tds), ar.ptr(tx)), want, 'sse');
        close(k.mseGrad(n, ar.ptr(tds), ar.ptr(tx), ar.ptr(tg), n), want, 'mseGrad sum');
        for (let i = 0; i < n; i++) close(ar.f[tg.offset + i], (2 * (yv[i] - x[i])) / n, 'mseGrad dy');
        k.zero(n, ar.ptr(tg));
        assert.ok(ar.tensor(tg).every((v) => v === 0), 'zero');
      }),
      { numRuns: 40 },
    );
  });

  test(`wasm Adam step (${name}) equals the JS Adam formula`, () => {
    const { k, ar } = setup(precision, fma);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (n, steps, seed) => {
        const rng = new Rng(seed);
        const w = rounded(precision, new Float64Array(n).map(() => rng.normal()));
        const m = new Float64Array(n), v = new Float64Array(n);
        const tw = ar.alloc(n), tg = ar.alloc(n), tm = ar.alloc(n), tv = ar.alloc(n);
        ar.tensor(tw).set(w);
        const b1 = 0.9, b2 = 0.999, eps = 1e-7;
        for (let t = 1; t <= steps; t++) {
          const g = rounded(precision, new Float64Array(n).map(() => rng.normal()));
          ar.tensor(tg).set(g);
          const lr = (1e-3 * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
          k.adam(n, ar.ptr(tw), ar.ptr(tg), ar.ptr(tm), ar.ptr(tv), lr, b1, b2, eps);
          for (let i = 0; i < n; i++) {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            w[i] -= (lr * m[i]) / (Math.sqrt(v[i]) + eps);
          }
        }
        for (let i = 0; i < n; i++) {
          const got = ar.f[tw.offset + i];
          if (precision === 'f64') assert.equal(got, w[i], 'f64 Adam is the same arithmetic as the JS optimiser');
          else assert.ok(Math.abs(got - w[i]) <= 1e-5 * Math.max(1, Math.abs(w[i])), `w[${i}] ${got} vs ${w[i]}`);
        }
      }),
      { numRuns: 30 },
    );
  });
}

test('the arena keeps tensors aligned and its view valid after memory.grow', { skip }, () => {
  const k = instantiateKernels('f32', false)!;
  const ar = new WasmArena(k);
  const a = ar.alloc(3);
  ar.tensor(a).set([1, 2, 3]);
  const before = ar.f.buffer;
  const big = ar.alloc(200_000); // 800 KB: grows the memory
  assert.notEqual(ar.f.buffer, before, 'grow re-creates the view');
  assert.deepEqual(Array.from(ar.tensor(a)), [1, 2, 3]);
  assert.equal(ar.ptr(big) % 16, 0);
  assert.ok(ar.tensor(big).every((v) => v === 0));
});
