// WebAssembly kernels of iclrnn (AssemblyScript source; excluded from the project's tsc, see
// tsconfig.json). scripts/build-wasm.mjs prepends prelude-f32.ts or prelude-f64.ts (which define
// the element type T, the lane count LANES and the vector helpers) and compiles each precision
// with and without relaxed SIMD (FMA) into src/core/wasm-binaries.ts.
//
// Every pointer is a byte address in linear memory; every stride and size counts elements. Nothing
// here allocates: the caller (src/core/wasm.ts) manages the tensor arena above heapBase().
//
// Size (about 750 lines): AssemblyScript compiles one module per precision and FMA variant from this
// one source (plus a prelude), so every kernel of the trainer, the predictor and the GEMM backend
// lives here.

// @ts-ignore: decorator
@inline const ES: usize = sizeof<T>();

/** First free byte after the module's static data (the arena starts here, rounded up). */
export function heapBase(): usize {
  return __heap_base;
}

/** 1 for the f64 build, 0 for the f32 build. */
export function isF64(): i32 {
  return sizeof<T>() == 8 ? 1 : 0;
}

/** 1 when built with relaxed SIMD (fused multiply-add). */
export function hasFma(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * Strided GEMM `C[i, j] (+)= sum_p A(i, p) B(p, j)`, A(i, p) = a[i * aRow + p * aCol],
 * B(p, j) = b[p * bRow + j * bCol], C[i, j] = c[i * ldc + j]; `acc` 0 overwrites C.
 * Rows of B contiguous (bCol 1: C = A B and C = A^T B) use the 2 x 4-vector register block;
 * contiguous dot products (aCol 1, bRow 1: C = A B^T) use 2 x 4 vector accumulators over p.
 */
export function gemm(m: i32, n: i32, k: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, acc: i32): void {
  if (m <= 0 || n <= 0) return;
  if (bCol == 1) gemmRowsB(m, n, k, a, aRow, aCol, b, bRow, c, ldc, acc);
  else if (aCol == 1 && bRow == 1) gemmDot(m, n, k, a, aRow, b, bCol, c, ldc, acc);
  else gemmScalar(m, n, k, a, aRow, aCol, b, bRow, bCol, c, ldc, acc);
}

// @ts-ignore: decorator
@inline function storeVec(p: usize, s: v128, acc: i32): void {
  v128.store(p, acc ? vadd(v128.load(p), s) : s);
}

// @ts-ignore: decorator
@inline function storeScalar(p: usize, s: T, acc: i32): void {
  store<T>(p, acc ? load<T>(p) + s : s);
}

function gemmRowsB(m: i32, n: i32, k: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, c: usize, ldc: i32, acc: i32): void {
  const W = LANES;
  const NB = 4 * W;
  const sa = <usize>aCol * ES, ra = <usize>aRow * ES, sb = <usize>bRow * ES, rc = <usize>ldc * ES;
  const zero = vsplat(<T>0);
  let i = 0;
  for (; i + 2 <= m; i += 2) {
    const a0 = a + <usize>i * ra, a1 = a0 + ra;
    const c0 = c + <usize>i * rc, c1 = c0 + rc;
    let j = 0;
    for (; j + NB <= n; j += NB) {
      let s00 = zero, s01 = zero, s02 = zero, s03 = zero, s10 = zero, s11 = zero, s12 = zero, s13 = zero;
      let pa0 = a0, pa1 = a1, pb = b + <usize>j * ES;
      for (let p = 0; p < k; p++) {
        const x0 = vsplat(load<T>(pa0)), x1 = vsplat(load<T>(pa1));
        const b0 = v128.load(pb), b1 = v128.load(pb, 16), b2 = v128.load(pb, 32), b3 = v128.load(pb, 48);
        s00 = vmadd(x0, b0, s00); s01 = vmadd(x0, b1, s01); s02 = vmadd(x0, b2, s02); s03 = vmadd(x0, b3, s03);
        s10 = vmadd(x1, b0, s10); s11 = vmadd(x1, b1, s11); s12 = vmadd(x1, b2, s12); s13 = vmadd(x1, b3, s13);
        pa0 += sa; pa1 += sa; pb += sb;
      }
      const q0 = c0 + <usize>j * ES, q1 = c1 + <usize>j * ES;
      storeVec(q0, s00, acc); storeVec(q0 + 16, s01, acc); storeVec(q0 + 32, s02, acc); storeVec(q0 + 48, s03, acc);
      storeVec(q1, s10, acc); storeVec(q1 + 16, s11, acc); storeVec(q1 + 32, s12, acc); storeVec(q1 + 48, s13, acc);
    }
    for (; j + W <= n; j += W) {
      let s0 = zero, s1 = zero;
      let pa0 = a0, pa1 = a1, pb = b + <usize>j * ES;
      for (let p = 0; p < k; p++) {
        const bv = v128.load(pb);
        s0 = vmadd(vsplat(load<T>(pa0)), bv, s0);
        s1 = vmadd(vsplat(load<T>(pa1)), bv, s1);
        pa0 += sa; pa1 += sa; pb += sb;
      }
      storeVec(c0 + <usize>j * ES, s0, acc);
      storeVec(c1 + <usize>j * ES, s1, acc);
    }
    for (; j < n; j++) {
      let s0: T = 0, s1: T = 0;
      let pa0 = a0, pa1 = a1, pb = b + <usize>j * ES;
      for (let p = 0; p < k; p++) {
        const bv = load<T>(pb);
        s0 += load<T>(pa0) * bv;
        s1 += load<T>(pa1) * bv;
        pa0 += sa; pa1 += sa; pb += sb;
      }
      storeScalar(c0 + <usize>j * ES, s0, acc);
      storeScalar(c1 + <usize>j * ES, s1, acc);
    }
  }
  if (i < m) {
    const a0 = a + <usize>i * ra;
    const c0 = c + <usize>i * rc;
    let j = 0;
    for (; j + NB <= n; j += NB) {
      let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
      let pa0 = a0, pb = b + <usize>j * ES;
      for (let p = 0; p < k; p++) {
        const x0 = vsplat(load<T>(pa0));
        s0 = vmadd(x0, v128.load(pb), s0); s1 = vmadd(x0, v128.load(pb, 16), s1);
        s2 = vmadd(x0, v128.load(pb, 32), s2); s3 = vmadd(x0, v128.load(pb, 48), s3);
        pa0 += sa; pb += sb;
      }
      const q0 = c0 + <usize>j * ES;
      storeVec(q0, s0, acc); storeVec(q0 + 16, s1, acc); storeVec(q0 + 32, s2, acc); storeVec(q0 + 48, s3, acc);
    }
    for (; j + W <= n; j += W) {
      let s0 = zero;
      let pa0 = a0, pb = b + <usize>j * ES;
      for (let p = 0; p < k; p++) {
        s0 = vmadd(vsplat(load<T>(pa0)), v128.load(pb), s0);
        pa0 += sa; pb += sb;
      }
      storeVec(c0 + <usize>j * ES, s0, acc);
    }
    for (; j < n; j++) {
      let s0: T = 0;
      let pa0 = a0, pb = b + <usize>j * ES;
      for (let p = 0; p < k; p++) {
        s0 += load<T>(pa0) * load<T>(pb);
        pa0 += sa; pb += sb;
      }
      storeScalar(c0 + <usize>j * ES, s0, acc);
    }
  }
}

function gemmDot(m: i32, n: i32, k: i32, a: usize, aRow: i32, b: usize, bCol: i32, c: usize, ldc: i32, acc: i32): void {
  const W = LANES;
  const kv = k - (k % W);
  const ra = <usize>aRow * ES, rb = <usize>bCol * ES, rc = <usize>ldc * ES;
  const zero = vsplat(<T>0);
  let i = 0;
  for (; i < m; i += 2) {
    const two = i + 1 < m;
    const a0 = a + <usize>i * ra, a1 = two ? a0 + ra : a0;
    const c0 = c + <usize>i * rc, c1 = c0 + rc;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const b0 = b + <usize>j * rb, b1 = b0 + rb, b2 = b1 + rb, b3 = b2 + rb;
      let s00 = zero, s01 = zero, s02 = zero, s03 = zero, s10 = zero, s11 = zero, s12 = zero, s13 = zero;
      let p = 0;
      for (; p < kv; p += W) {
        const o = <usize>p * ES;
        const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
        const y0 = v128.load(b0 + o), y1 = v128.load(b1 + o), y2 = v128.load(b2 + o), y3 = v128.load(b3 + o);
        s00 = vmadd(x0, y0, s00); s01 = vmadd(x0, y1, s01); s02 = vmadd(x0, y2, s02); s03 = vmadd(x0, y3, s03);
        s10 = vmadd(x1, y0, s10); s11 = vmadd(x1, y1, s11); s12 = vmadd(x1, y2, s12); s13 = vmadd(x1, y3, s13);
      }
      let t00 = vhsum(s00), t01 = vhsum(s01), t02 = vhsum(s02), t03 = vhsum(s03);
      let t10 = vhsum(s10), t11 = vhsum(s11), t12 = vhsum(s12), t13 = vhsum(s13);
      for (; p < k; p++) {
        const o = <usize>p * ES;
        const x0 = load<T>(a0 + o), x1 = load<T>(a1 + o);
        const y0 = load<T>(b0 + o), y1 = load<T>(b1 + o), y2 = load<T>(b2 + o), y3 = load<T>(b3 + o);
        t00 += x0 * y0; t01 += x0 * y1; t02 += x0 * y2; t03 += x0 * y3;
        t10 += x1 * y0; t11 += x1 * y1; t12 += x1 * y2; t13 += x1 * y3;
      }
      const q0 = c0 + <usize>j * ES;
      storeScalar(q0, t00, acc); storeScalar(q0 + ES, t01, acc); storeScalar(q0 + 2 * ES, t02, acc); storeScalar(q0 + 3 * ES, t03, acc);
      if (two) {
        const q1 = c1 + <usize>j * ES;
        storeScalar(q1, t10, acc); storeScalar(q1 + ES, t11, acc); storeScalar(q1 + 2 * ES, t12, acc); storeScalar(q1 + 3 * ES, t13, acc);
      }
    }
    for (; j < n; j++) {
      const b0 = b + <usize>j * rb;
      let s0 = zero, s1 = zero;
      let p = 0;
      for (; p < kv; p += W) {
        const o = <usize>p * ES;
        const y0 = v128.load(b0 + o);
        s0 = vmadd(v128.load(a0 + o), y0, s0);
        s1 = vmadd(v128.load(a1 + o), y0, s1);
      }
      let t0 = vhsum(s0), t1 = vhsum(s1);
      for (; p < k; p++) {
        const o = <usize>p * ES;
        const y0 = load<T>(b0 + o);
        t0 += load<T>(a0 + o) * y0;
        t1 += load<T>(a1 + o) * y0;
      }
      storeScalar(c0 + <usize>j * ES, t0, acc);
      if (two) storeScalar(c1 + <usize>j * ES, t1, acc);
    }
  }
}

function gemmScalar(m: i32, n: i32, k: i32, a: usize, aRow: i32, aCol: i32, b: usize, bRow: i32, bCol: i32, c: usize, ldc: i32, acc: i32): void {
  const sa = <usize>aCol * ES, sb = <usize>bRow * ES;
  for (let i = 0; i < m; i++) {
    const a0 = a + <usize>i * <usize>aRow * ES;
    const c0 = c + <usize>i * <usize>ldc * ES;
    for (let j = 0; j < n; j++) {
      let s: T = 0;
      let pa = a0, pb = b + <usize>j * <usize>bCol * ES;
      for (let p = 0; p < k; p++) {
        s += load<T>(pa) * load<T>(pb);
        pa += sa; pb += sb;
      }
      storeScalar(c0 + <usize>j * ES, s, acc);
    }
  }
}

/** Activation codes shared with src/core/wasm.ts. */
// @ts-ignore: decorator
@inline const ACT_LINEAR: i32 = 0;
// @ts-ignore: decorator
@inline const ACT_RELU: i32 = 1;
// @ts-ignore: decorator
@inline const ACT_TANH: i32 = 2;

// @ts-ignore: decorator
@inline function tanhT(v: T): T {
  return <T>Math.tanh(<f64>v);
}

/**
 * tanh of four f32 lanes: the odd rational minimax approximation p(x) / q(x) (degrees 13 and 6 in
 * x, on x clamped to +-7.9053111, where it reaches 1 in f32) that Eigen and XLA use for float. Max
 * relative error about 4e-7 (3 ulp of f32; test/wasm/tanh.test.ts). The f32 build's training
 * forward pass uses it because the scalar software Math.tanh took 55 % of an RNN training epoch.
 */
// @ts-ignore: decorator
@inline function tanhF32x4(v: v128): v128 {
  const c = f32x4.splat(<f32>7.90531110763549805);
  const x = f32x4.min(f32x4.max(v, f32x4.neg(c)), c);
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(<f32>-2.76076847742355e-16);
  p = vmadd(p, x2, f32x4.splat(<f32>2.00018790482477e-13));
  p = vmadd(p, x2, f32x4.splat(<f32>-8.60467152213735e-11));
  p = vmadd(p, x2, f32x4.splat(<f32>5.12229709037114e-8));
  p = vmadd(p, x2, f32x4.splat(<f32>1.48572235717979e-5));
  p = vmadd(p, x2, f32x4.splat(<f32>6.37261928875436e-4));
  p = vmadd(p, x2, f32x4.splat(<f32>4.89352455891786e-3));
  p = f32x4.mul(p, x);
  let q = f32x4.splat(<f32>1.19825839466702e-6);
  q = vmadd(q, x2, f32x4.splat(<f32>1.18534705686654e-4));
  q = vmadd(q, x2, f32x4.splat(<f32>2.268434632439e-3));
  q = vmadd(q, x2, f32x4.splat(<f32>4.89352518554385e-3));
  return f32x4.div(p, q);
}

/** x[r, c] = act(x[r, c] + bias[c]) for a rows x cols row-major block (relu maps NaN to 0, like the JS kernels). */
export function biasAct(rows: i32, cols: i32, x: usize, bias: usize, act: i32): void {
  const W = LANES;
  const cv = cols - (cols % W);
  const zero = vsplat(<T>0);
  for (let r = 0; r < rows; r++) {
    const row = x + <usize>r * <usize>cols * ES;
    if (act == ACT_TANH) {
      if (sizeof<T>() == 4) {
        // f32: four lanes of the rational tanh; the tail through the same formula (same value for the same input)
        let c = 0;
        for (; c < cv; c += W) {
          const p = row + <usize>c * ES;
          v128.store(p, tanhF32x4(vadd(v128.load(p), v128.load(bias + <usize>c * ES))));
        }
        for (; c < cols; c++) {
          const p = row + <usize>c * ES;
          store<T>(p, <T>f32x4.extract_lane(tanhF32x4(f32x4.splat(<f32>(load<T>(p) + load<T>(bias + <usize>c * ES)))), 0));
        }
      } else {
        for (let c = 0; c < cols; c++) {
          const p = row + <usize>c * ES;
          store<T>(p, tanhT(load<T>(p) + load<T>(bias + <usize>c * ES)));
        }
      }
      continue;
    }
    let c = 0;
    for (; c < cv; c += W) {
      const p = row + <usize>c * ES;
      let v = vadd(v128.load(p), v128.load(bias + <usize>c * ES));
      if (act == ACT_RELU) v = v128.and(v, vgt(v, zero));
      v128.store(p, v);
    }
    for (; c < cols; c++) {
      const p = row + <usize>c * ES;
      const v = load<T>(p) + load<T>(bias + <usize>c * ES);
      store<T>(p, act == ACT_RELU ? (v > 0 ? v : <T>0) : v);
    }
  }
}

/** g[i] *= act'(.) expressed through the activation output `out` (relu: out > 0; tanh: 1 - out^2). */
export function actBackward(n: i32, out: usize, g: usize, act: i32): void {
  if (act == ACT_LINEAR) return;
  for (let i = 0; i < n; i++) {
    const o = load<T>(out + <usize>i * ES);
    const p = g + <usize>i * ES;
    if (act == ACT_RELU) {
      if (!(o > 0)) store<T>(p, 0);
    } else store<T>(p, load<T>(p) * (<T>1 - o * o));
  }
}

/**
 * Pre-activation gradient of a simple cell step: dz = (dy + ds) * act'(h), h the step's output.
 * `ds` 0 means no gradient from later steps.
 */
export function cellGrad(n: i32, h: usize, dy: usize, ds: usize, dz: usize, act: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i * ES;
    const hv = load<T>(h + o);
    const g = ds ? load<T>(dy + o) + load<T>(ds + o) : load<T>(dy + o);
    let v: T;
    if (act == ACT_RELU) v = hv > 0 ? g : <T>0;
    else if (act == ACT_TANH) v = g * (<T>1 - hv * hv);
    else v = g;
    store<T>(dz + o, v);
  }
}

/** acc[c] += sum over rows of g[r, c] (rows added in order, like the JS addColumnSums). */
export function colSumsAdd(rows: i32, cols: i32, g: usize, acc: usize): void {
  const W = LANES;
  const cv = cols - (cols % W);
  for (let r = 0; r < rows; r++) {
    const row = g + <usize>r * <usize>cols * ES;
    let c = 0;
    for (; c < cv; c += W) {
      const p = acc + <usize>c * ES;
      v128.store(p, vadd(v128.load(p), v128.load(row + <usize>c * ES)));
    }
    for (; c < cols; c++) {
      const p = acc + <usize>c * ES;
      store<T>(p, load<T>(p) + load<T>(row + <usize>c * ES));
    }
  }
}

/** Squared-error loss: returns sum (y - t)^2 (accumulated in f64) and writes dy = 2 (y - t) / count. */
export function mseGrad(n: i32, y: usize, t: usize, dy: usize, count: f64): f64 {
  let sum: f64 = 0;
  const cnt = <T>count;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * ES;
    const e = load<T>(y + o) - load<T>(t + o);
    sum += <f64>e * <f64>e;
    store<T>(dy + o, (<T>2 * e) / cnt);
  }
  return sum;
}

/** Sum of squared differences (accumulated in f64). */
export function sse(n: i32, y: usize, t: usize): f64 {
  let sum: f64 = 0;
  for (let i = 0; i < n; i++) {
    const o = <usize>i * ES;
    const e = load<T>(y + o) - load<T>(t + o);
    sum += <f64>e * <f64>e;
  }
  return sum;
}

/**
 * One Adam update over n weights with the bias-corrected step size `lr` computed by the caller:
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; w -= lr m / (sqrt(v) + eps). Arithmetic in f64.
 */
export function adam(n: i32, w: usize, g: usize, m: usize, v: usize, lr: f64, b1: f64, b2: f64, eps: f64): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i * ES;
    const gi = <f64>load<T>(g + o);
    const mi = b1 * <f64>load<T>(m + o) + (1 - b1) * gi;
    const vi = b2 * <f64>load<T>(v + o) + (1 - b2) * gi * gi;
    store<T>(m + o, <T>mi);
    store<T>(v + o, <T>vi);
    const mr = <f64><T>mi, vr = <f64><T>vi;
    store<T>(w + o, <T>(<f64>load<T>(w + o) - (lr * mr) / (Math.sqrt(vr) + eps)));
  }
}

/** w = w < 0 ? 0 : w (NaN and -0 stay, as the JS NonNegative constraint). */
export function clipNonNeg(n: i32, w: usize): void {
  const W = LANES;
  const nv = n - (n % W);
  const zero = vsplat(<T>0);
  let i = 0;
  for (; i < nv; i += W) {
    const p = w + <usize>i * ES;
    const v = v128.load(p);
    v128.store(p, v128.bitselect(zero, v, vlt(v, zero)));
  }
  for (; i < n; i++) {
    const p = w + <usize>i * ES;
    if (load<T>(p) < 0) store<T>(p, 0);
  }
}

/** y[i] += x[i]. */
export function addInto(n: i32, x: usize, y: usize): void {
  const W = LANES;
  const nv = n - (n % W);
  let i = 0;
  for (; i < nv; i += W) {
    const o = <usize>i * ES;
    v128.store(y + o, vadd(v128.load(y + o), v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i * ES;
    store<T>(y + o, load<T>(y + o) + load<T>(x + o));
  }
}

/** x[i] *= s. */
export function scale(n: i32, x: usize, s: f64): void {
  const W = LANES;
  const nv = n - (n % W);
  const sv = vsplat(<T>s);
  let i = 0;
  for (; i < nv; i += W) {
    const o = <usize>i * ES;
    v128.store(x + o, vmul(v128.load(x + o), sv));
  }
  for (; i < n; i++) {
    const o = <usize>i * ES;
    store<T>(x + o, load<T>(x + o) * <T>s);
  }
}

/** x[0..n) = 0. */
export function zero(n: i32, x: usize): void {
  memory.fill(x, 0, <usize>n * ES);
}

// ---------------------------------------------------------------------------------------------
// Small-batch kernels for inference and forward mode (src/nn/wasm-predictor.ts): a batch-1
// sequence, or the value lane plus a few direction lanes of the MPC's forward-mode Jacobians. A
// whole recurrent layer runs in one call, so a 10-step forward is a handful of JS -> wasm calls.

/**
 * Y[l, j] += sum_i X[l, i] W[i, j] for l < rows, j < n, i < k (W row-major, n columns), skipping
 * the rows i of W whose X entries are zero in every row l (inactive ReLU units): exact, as
 * 0 * w adds nothing for finite w. Each sum starts at 0 and is added to Y at the end (the order of
 * the JS kernels: Y = (x K) + (h R)). `idx` is scratch for k i32 indices. Made for few rows.
 */
export function sparseMM(rows: i32, n: i32, k: i32, x: usize, ldx: i32, w: usize, y: usize, ldy: i32, idx: usize): void {
  mmSkip(rows, n, k, x, ldx, w, y, ldy, idx);
}

function mmSkip(rows: i32, n: i32, k: i32, x: usize, ldx: i32, w: usize, y: usize, ldy: i32, idx: usize): void {
  const W = LANES;
  const rx = <usize>ldx * ES, ry = <usize>ldy * ES, rw = <usize>n * ES;
  let cnt = 0;
  for (let i = 0; i < k; i++) {
    const o = <usize>i * ES;
    for (let l = 0; l < rows; l++) {
      if (load<T>(x + <usize>l * rx + o) != 0) {
        store<i32>(idx + (<usize>cnt << 2), i);
        cnt++;
        break;
      }
    }
  }
  if (cnt == 0) return;
  if (cnt * 8 >= k * 7) {
    // (nearly) every row active: the blocked dense product without the index indirection
    gemmRowsB(rows, n, k, x, ldx, 1, w, n, y, ldy, 1);
    return;
  }
  const zero = vsplat(<T>0);
  let l = 0;
  for (; l + 2 <= rows; l += 2) {
    const x0 = x + <usize>l * rx, x1 = x0 + rx, y0 = y + <usize>l * ry, y1 = y0 + ry;
    let j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
      let s00 = zero, s01 = zero, s02 = zero, s03 = zero, s10 = zero, s11 = zero, s12 = zero, s13 = zero;
      const wj = w + <usize>j * ES;
      for (let q = 0; q < cnt; q++) {
        const i = <usize>load<i32>(idx + (<usize>q << 2));
        const a0 = vsplat(load<T>(x0 + i * ES)), a1 = vsplat(load<T>(x1 + i * ES));
        const pw = wj + i * rw;
        const b0 = v128.load(pw), b1 = v128.load(pw, 16), b2 = v128.load(pw, 32), b3 = v128.load(pw, 48);
        s00 = vmadd(a0, b0, s00); s01 = vmadd(a0, b1, s01); s02 = vmadd(a0, b2, s02); s03 = vmadd(a0, b3, s03);
        s10 = vmadd(a1, b0, s10); s11 = vmadd(a1, b1, s11); s12 = vmadd(a1, b2, s12); s13 = vmadd(a1, b3, s13);
      }
      const q0 = y0 + <usize>j * ES, q1 = y1 + <usize>j * ES;
      storeVec(q0, s00, 1); storeVec(q0 + 16, s01, 1); storeVec(q0 + 32, s02, 1); storeVec(q0 + 48, s03, 1);
      storeVec(q1, s10, 1); storeVec(q1 + 16, s11, 1); storeVec(q1 + 32, s12, 1); storeVec(q1 + 48, s13, 1);
    }
    for (; j + W <= n; j += W) {
      let s0 = zero, s1 = zero;
      const wj = w + <usize>j * ES;
      for (let q = 0; q < cnt; q++) {
        const i = <usize>load<i32>(idx + (<usize>q << 2));
        const bv = v128.load(wj + i * rw);
        s0 = vmadd(vsplat(load<T>(x0 + i * ES)), bv, s0);
        s1 = vmadd(vsplat(load<T>(x1 + i * ES)), bv, s1);
      }
      storeVec(y0 + <usize>j * ES, s0, 1);
      storeVec(y1 + <usize>j * ES, s1, 1);
    }
    for (; j < n; j++) {
      let s0: T = 0, s1: T = 0;
      const wj = w + <usize>j * ES;
      for (let q = 0; q < cnt; q++) {
        const i = <usize>load<i32>(idx + (<usize>q << 2));
        const bv = load<T>(wj + i * rw);
        s0 += load<T>(x0 + i * ES) * bv;
        s1 += load<T>(x1 + i * ES) * bv;
      }
      storeScalar(y0 + <usize>j * ES, s0, 1);
      storeScalar(y1 + <usize>j * ES, s1, 1);
    }
  }
  if (l < rows) {
    const x0 = x + <usize>l * rx, y0 = y + <usize>l * ry;
    let j = 0;
    for (; j + 4 * W <= n; j += 4 * W) {
      let s0 = zero, s1 = zero, s2 = zero, s3 = zero;
      const wj = w + <usize>j * ES;
      for (let q = 0; q < cnt; q++) {
        const i = <usize>load<i32>(idx + (<usize>q << 2));
        const a0 = vsplat(load<T>(x0 + i * ES));
        const pw = wj + i * rw;
        s0 = vmadd(a0, v128.load(pw), s0); s1 = vmadd(a0, v128.load(pw, 16), s1);
        s2 = vmadd(a0, v128.load(pw, 32), s2); s3 = vmadd(a0, v128.load(pw, 48), s3);
      }
      const q0 = y0 + <usize>j * ES;
      storeVec(q0, s0, 1); storeVec(q0 + 16, s1, 1); storeVec(q0 + 32, s2, 1); storeVec(q0 + 48, s3, 1);
    }
    for (; j + W <= n; j += W) {
      let s0 = zero;
      const wj = w + <usize>j * ES;
      for (let q = 0; q < cnt; q++) {
        const i = <usize>load<i32>(idx + (<usize>q << 2));
        s0 = vmadd(vsplat(load<T>(x0 + i * ES)), v128.load(wj + i * rw), s0);
      }
      storeVec(y0 + <usize>j * ES, s0, 1);
    }
    for (; j < n; j++) {
      let s0: T = 0;
      const wj = w + <usize>j * ES;
      for (let q = 0; q < cnt; q++) {
        const i = <usize>load<i32>(idx + (<usize>q << 2));
        s0 += load<T>(x0 + i * ES) * load<T>(wj + i * rw);
      }
      storeScalar(y0 + <usize>j * ES, s0, 1);
    }
  }
}

/**
 * Forward mode through an activation, for `lanes` rows of `cols` (row 0 the values, rows 1.. the
 * directional derivatives): row 0 becomes act(z0 + bias), rows 1.. are multiplied by act'(z0 + bias)
 * (no bias: a derivative). ReLU: the derivative is 1 where z0 + bias > 0, else 0 (NaN: 0).
 */
function tangentActRows(lanes: i32, cols: i32, z: usize, bias: usize, act: i32): void {
  const W = LANES;
  const rz = <usize>cols * ES;
  if (act == ACT_RELU) {
    const cv = cols - (cols % W);
    const zero = vsplat(<T>0);
    let c = 0;
    for (; c < cv; c += W) {
      const o = <usize>c * ES;
      const v = vadd(v128.load(z + o), v128.load(bias + o));
      const m = vgt(v, zero);
      v128.store(z + o, v128.and(v, m));
      for (let l = 1; l < lanes; l++) {
        const p = z + <usize>l * rz + o;
        v128.store(p, v128.and(v128.load(p), m));
      }
    }
    for (; c < cols; c++) {
      const o = <usize>c * ES;
      const v = load<T>(z + o) + load<T>(bias + o);
      const on = v > 0;
      store<T>(z + o, on ? v : <T>0);
      if (!on) for (let l = 1; l < lanes; l++) store<T>(z + <usize>l * rz + o, 0);
    }
  } else if (act == ACT_TANH) {
    for (let c = 0; c < cols; c++) {
      const o = <usize>c * ES;
      const h = tanhT(load<T>(z + o) + load<T>(bias + o));
      const g = <T>1 - h * h;
      store<T>(z + o, h);
      for (let l = 1; l < lanes; l++) {
        const p = z + <usize>l * rz + o;
        store<T>(p, load<T>(p) * g);
      }
    }
  } else {
    biasAct(1, cols, z, bias, ACT_LINEAR);
  }
}

/**
 * A simple recurrent layer `h_t = act(p_t + h_{t-1} R + b)` over `steps` steps for `rows` rows
 * (a batch, or forward-mode lanes when `tangent` is 1: see tangentActRows; the bias then enters
 * row 0 only). `s` holds (steps + 1) blocks of rows x u; block t + 1 receives h_t and block 0
 * is not read (the initial state is 0, as in the models: step 0 has no recurrent term). The input projections p_t (rows x u each, `x_t K`) are read from
 * `p + t * pStride` (pStride 0: the same projection every step, a constant input); when they
 * already sit in block t + 1 of s (p = block 1, pStride = rows * u) they are used in place.
 * `idx`: scratch for u i32.
 */
export function cellSeq(steps: i32, rows: i32, u: i32, p: usize, pStride: i32, s: usize, r: usize, bias: usize, act: i32, tangent: i32, idx: usize): void {
  const bu = <usize>rows * <usize>u * ES;
  for (let t = 0; t < steps; t++) {
    const prev = s + <usize>t * bu, next = prev + bu;
    const src = p + <usize>t * <usize>pStride * ES;
    if (src != next) memory.copy(next, src, bu);
    if (t > 0) mmSkip(rows, u, u, prev, u, r, next, u, idx);
    if (tangent) tangentActRows(rows, u, next, bias, act);
    else biasAct(rows, u, next, bias, act);
  }
}

/**
 * Reverse sweep of {@link cellSeq} (tangent 0) for the pre-activation gradients: `dz` holds the
 * gradients w.r.t. the layer's outputs h_1..h_steps on entry (steps blocks of rows x u) and
 * dz_t = (dh_t + dz_{t+1} R^T) * act'(h_t) on return. `rt` is R transposed (u x u row-major),
 * `s` the states of the forward call. `idx`: scratch for u i32.
 */
export function cellSeqBack(steps: i32, rows: i32, u: i32, s: usize, dz: usize, rt: usize, act: i32, idx: usize): void {
  const n = rows * u;
  const bu = <usize>n * ES;
  for (let t = steps - 1; t >= 0; t--) {
    const d = dz + <usize>t * bu;
    if (t < steps - 1) mmSkip(rows, u, u, d + bu, u, rt, d, u, idx);
    actBackward(n, s + <usize>(t + 1) * bu, d, act);
  }
}

/** tangentActRows on each of `steps` blocks of lanes x cols (a dense layer in forward mode). */
export function tangentBiasAct(steps: i32, lanes: i32, cols: i32, z: usize, bias: usize, act: i32): void {
  const blk = <usize>lanes * <usize>cols * ES;
  for (let t = 0; t < steps; t++) tangentActRows(lanes, cols, z + <usize>t * blk, bias, act);
}

/**
 * Activation pattern bytes: dst[t * dstStride + j] = src[t * srcStride + j] > 0 ? 1 : 0 for t < steps,
 * j < n (a ReLU layer's outputs: on exactly where the pre-activation was > 0). Strides in elements
 * of src (T) and bytes of dst.
 */
export function reluPattern(steps: i32, n: i32, src: usize, srcStride: i32, dst: usize, dstStride: i32): void {
  for (let t = 0; t < steps; t++) {
    const s = src + <usize>t * <usize>srcStride * ES, d = dst + <usize>t * <usize>dstStride;
    for (let j = 0; j < n; j++) store<u8>(d + <usize>j, load<T>(s + <usize>j * ES) > 0 ? 1 : 0);
  }
}

/** Sum of squares of x[0..n), accumulated in f64. */
function sumSquares(n: i32, x: usize): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<T>(x + <usize>i * ES);
    s += v * v;
  }
  return s;
}

/** v = W u (W: rows x cols, row-major). */
function matVec(rows: i32, cols: i32, w: usize, u: usize, v: usize): void {
  const W = LANES;
  const nv = cols - (cols % W);
  for (let i = 0; i < rows; i++) {
    const row = w + <usize>i * <usize>cols * ES;
    let acc = vsplat(<T>0);
    let j = 0;
    for (; j < nv; j += W) acc = vmadd(v128.load(row + <usize>j * ES), v128.load(u + <usize>j * ES), acc);
    let s: T = vhsum(acc);
    for (; j < cols; j++) s += load<T>(row + <usize>j * ES) * load<T>(u + <usize>j * ES);
    store<T>(v + <usize>i * ES, s);
  }
}

/** u2 = W^T v (W: rows x cols, row-major). */
function matTVec(rows: i32, cols: i32, w: usize, v: usize, u2: usize): void {
  const W = LANES;
  const nv = cols - (cols % W);
  memory.fill(u2, 0, <usize>cols * ES);
  for (let i = 0; i < rows; i++) {
    const row = w + <usize>i * <usize>cols * ES;
    const vi = load<T>(v + <usize>i * ES);
    const vs = vsplat(vi);
    let j = 0;
    for (; j < nv; j += W) {
      const p = u2 + <usize>j * ES;
      v128.store(p, vmadd(vs, v128.load(row + <usize>j * ES), v128.load(p)));
    }
    for (; j < cols; j++) {
      const p = u2 + <usize>j * ES;
      store<T>(p, load<T>(p) + vi * load<T>(row + <usize>j * ES));
    }
  }
}

/**
 * The training-time spectral normalisation of a weight matrix W (rows x cols, row-major, in place),
 * as the JavaScript `SpectralNormalize.apply` computes it: the non-negative clip when `nonNeg`, up to
 * `iterations` power iterations on W^T W from the unit vector u (u: cols elements, kept across calls),
 * stopping when two estimates agree to `tolerance` (relative), sigma = ||W u|| for the final u, then
 * W *= k / (sigma + eps) (`mode` 1, the reference rule) or W /= max(1, (sigma + eps) / k) (`mode` 0,
 * projection). v (rows) and u2 (cols) are scratch. Returns sigma.
 */
export function spectralNormalize(rows: i32, cols: i32, w: usize, u: usize, v: usize, u2: usize, iterations: i32, tolerance: f64, k: f64, eps: f64, mode: i32, nonNeg: i32): f64 {
  if (nonNeg) clipNonNeg(rows * cols, w);
  const nu = Math.sqrt(sumSquares(cols, u));
  if (!(nu > 0) || !isFinite(nu)) {
    const unit = <T>(1 / Math.sqrt(<f64>cols));
    for (let j = 0; j < cols; j++) store<T>(u + <usize>j * ES, unit);
  } else for (let j = 0; j < cols; j++) store<T>(u + <usize>j * ES, <T>(<f64>load<T>(u + <usize>j * ES) / nu));
  let sigma: f64 = 0;
  let zero = false;
  for (let it = 0; it < iterations; it++) {
    matVec(rows, cols, w, u, v);
    const nvv = Math.sqrt(sumSquares(rows, v));
    if (nvv == 0) {
      zero = true;
      break;
    }
    matTVec(rows, cols, w, v, u2);
    const nu2 = Math.sqrt(sumSquares(cols, u2));
    const next = nu2 / nvv;
    for (let j = 0; j < cols; j++) store<T>(u + <usize>j * ES, <T>(<f64>load<T>(u2 + <usize>j * ES) / nu2));
    const done = Math.abs(next - sigma) <= tolerance * Math.max(next, 1e-300);
    sigma = next;
    if (done) break;
  }
  if (zero) sigma = 0;
  else {
    matVec(rows, cols, w, u, v);
    sigma = Math.sqrt(sumSquares(rows, v));
  }
  const scale: f64 = mode == 1 ? k / (sigma + eps) : 1 / Math.max(1, (sigma + eps) / k);
  if (scale != 1) {
    const n = rows * cols;
    for (let i = 0; i < n; i++) {
      const p = w + <usize>i * ES;
      store<T>(p, <T>(<f64>load<T>(p) * scale));
    }
  }
  return sigma;
}

// ---------- LSTM (Keras layout: gates i, f, c, o side by side in a 4u-wide row) ----------

/** sigmoid of four f32 lanes through the rational tanh: 0.5 (1 + tanh(x / 2)). */
// @ts-ignore: decorator
@inline function sigmoidF32x4(v: v128): v128 {
  const half = f32x4.splat(<f32>0.5);
  return f32x4.mul(half, f32x4.add(f32x4.splat(<f32>1), tanhF32x4(f32x4.mul(half, v))));
}

// @ts-ignore: decorator
@inline function sigmoidT(x: T): T {
  if (x >= 0) return <T>(1 / (1 + Math.exp(-<f64>x)));
  const e = Math.exp(<f64>x);
  return <T>(e / (1 + e));
}

/**
 * One LSTM step over b rows: z (b x 4u, pre-activations without bias) becomes the gate activations
 * in place (i, f, g = tanh, o); c = f cPrev + i g, tc = tanh(c), h = o tc. f32: four lanes of the
 * rational tanh (the sigmoid through it); f64: the scalar routines (as the JS cell).
 */
export function lstmForward(b: i32, u: i32, z: usize, bias: usize, cPrev: usize, cNext: usize, hNext: usize, tc: usize): void {
  const u4 = 4 * u;
  for (let r = 0; r < b; r++) {
    const zr = z + <usize>(r * u4) * ES, cr = <usize>(r * u) * ES;
    let j = 0;
    if (sizeof<T>() == 4) {
      for (; j + 4 <= u; j += 4) {
        const o = <usize>j * ES, uo = <usize>u * ES;
        const gi = sigmoidF32x4(vadd(v128.load(zr + o), v128.load(bias + o)));
        const gf = sigmoidF32x4(vadd(v128.load(zr + uo + o), v128.load(bias + uo + o)));
        const gg = tanhF32x4(vadd(v128.load(zr + 2 * uo + o), v128.load(bias + 2 * uo + o)));
        const go = sigmoidF32x4(vadd(v128.load(zr + 3 * uo + o), v128.load(bias + 3 * uo + o)));
        const c = vadd(vmul(gf, v128.load(cPrev + cr + o)), vmul(gi, gg));
        const t = tanhF32x4(c);
        v128.store(zr + o, gi);
        v128.store(zr + uo + o, gf);
        v128.store(zr + 2 * uo + o, gg);
        v128.store(zr + 3 * uo + o, go);
        v128.store(cNext + cr + o, c);
        v128.store(tc + cr + o, t);
        v128.store(hNext + cr + o, vmul(go, t));
      }
    }
    for (; j < u; j++) {
      const o = <usize>j * ES, uo = <usize>u * ES;
      let gi: T, gf: T, gg: T, go: T, c: T, t: T;
      if (sizeof<T>() == 4) {
        gi = <T>f32x4.extract_lane(sigmoidF32x4(f32x4.splat(<f32>(load<T>(zr + o) + load<T>(bias + o)))), 0);
        gf = <T>f32x4.extract_lane(sigmoidF32x4(f32x4.splat(<f32>(load<T>(zr + uo + o) + load<T>(bias + uo + o)))), 0);
        gg = <T>f32x4.extract_lane(tanhF32x4(f32x4.splat(<f32>(load<T>(zr + 2 * uo + o) + load<T>(bias + 2 * uo + o)))), 0);
        go = <T>f32x4.extract_lane(sigmoidF32x4(f32x4.splat(<f32>(load<T>(zr + 3 * uo + o) + load<T>(bias + 3 * uo + o)))), 0);
        c = gf * load<T>(cPrev + cr + o) + gi * gg;
        t = <T>f32x4.extract_lane(tanhF32x4(f32x4.splat(<f32>c)), 0);
      } else {
        gi = sigmoidT(load<T>(zr + o) + load<T>(bias + o));
        gf = sigmoidT(load<T>(zr + uo + o) + load<T>(bias + uo + o));
        gg = tanhT(load<T>(zr + 2 * uo + o) + load<T>(bias + 2 * uo + o));
        go = sigmoidT(load<T>(zr + 3 * uo + o) + load<T>(bias + 3 * uo + o));
        c = gf * load<T>(cPrev + cr + o) + gi * gg;
        t = tanhT(c);
      }
      store<T>(zr + o, gi);
      store<T>(zr + uo + o, gf);
      store<T>(zr + 2 * uo + o, gg);
      store<T>(zr + 3 * uo + o, go);
      store<T>(cNext + cr + o, c);
      store<T>(tc + cr + o, t);
      store<T>(hNext + cr + o, go * t);
    }
  }
}

/**
 * One LSTM step backwards over b rows: gates (b x 4u, as lstmForward left them), tc = tanh(c_t),
 * cPrev = c_{t-1}, dy = dL/dh_t from the layer above, dh = dL/dh_t through the recurrence (0: none),
 * dc (in: dL/dc_t from step t + 1, out: dL/dc_{t-1}); writes dz (b x 4u, pre-activation gradients).
 * The formulas of the JS cell (src/nn/lstm-cell.ts).
 */
export function lstmBackward(b: i32, u: i32, gates: usize, tc: usize, cPrev: usize, dy: usize, dh: usize, dc: usize, dz: usize): void {
  const u4 = 4 * u;
  for (let r = 0; r < b; r++) {
    const gr = gates + <usize>(r * u4) * ES, zr = dz + <usize>(r * u4) * ES, cr = <usize>(r * u) * ES;
    for (let j = 0; j < u; j++) {
      const o = <usize>j * ES, uo = <usize>u * ES;
      const gi = load<T>(gr + o), gf = load<T>(gr + uo + o), gg = load<T>(gr + 2 * uo + o), go = load<T>(gr + 3 * uo + o);
      const t = load<T>(tc + cr + o);
      const h = dh ? load<T>(dy + cr + o) + load<T>(dh + cr + o) : load<T>(dy + cr + o);
      const c = load<T>(dc + cr + o) + h * go * (<T>1 - t * t);
      store<T>(zr + o, c * gg * gi * (<T>1 - gi));
      store<T>(zr + uo + o, c * load<T>(cPrev + cr + o) * gf * (<T>1 - gf));
      store<T>(zr + 2 * uo + o, c * gi * (<T>1 - gg * gg));
      store<T>(zr + 3 * uo + o, h * t * go * (<T>1 - go));
      store<T>(dc + cr + o, c * gf);
    }
  }
}

/**
 * One GRU step (Keras reset_after, src/graph/cells/gru.ts) over b rows: g (b x 3u) holds x K
 * without bias and becomes the activations z, r, hh in place; hz (b x 3u) holds h_{t-1} R without
 * bias (zeros at t = 0). z = sigmoid((g_z + bIn_z) + (hz_z + bRec_z)), r likewise,
 * a = hz_h + bRec_h (kept in `a`, b x u, for the backward pass), hh = tanh((g_h + bIn_h) + r a),
 * hNext = z hPrev + (1 - z) hh. f32: four lanes of the rational tanh (the sigmoid through it).
 */
export function gruForward(b: i32, u: i32, g: usize, bIn: usize, hz: usize, bRec: usize, hPrev: usize, hNext: usize, a: usize): void {
  const u3 = 3 * u;
  const uo = <usize>u * ES;
  for (let r = 0; r < b; r++) {
    const gr = g + <usize>(r * u3) * ES, zr = hz + <usize>(r * u3) * ES, hr = <usize>(r * u) * ES;
    let j = 0;
    if (sizeof<T>() == 4) {
      const one = f32x4.splat(<f32>1);
      for (; j + 4 <= u; j += 4) {
        const o = <usize>j * ES;
        const gz = sigmoidF32x4(vadd(vadd(v128.load(gr + o), v128.load(bIn + o)), vadd(v128.load(zr + o), v128.load(bRec + o))));
        const gq = sigmoidF32x4(vadd(vadd(v128.load(gr + uo + o), v128.load(bIn + uo + o)), vadd(v128.load(zr + uo + o), v128.load(bRec + uo + o))));
        const av = vadd(v128.load(zr + 2 * uo + o), v128.load(bRec + 2 * uo + o));
        const hh = tanhF32x4(vadd(vadd(v128.load(gr + 2 * uo + o), v128.load(bIn + 2 * uo + o)), vmul(gq, av)));
        v128.store(gr + o, gz);
        v128.store(gr + uo + o, gq);
        v128.store(gr + 2 * uo + o, hh);
        v128.store(a + hr + o, av);
        v128.store(hNext + hr + o, vadd(vmul(gz, v128.load(hPrev + hr + o)), vmul(vsub(one, gz), hh)));
      }
    }
    for (; j < u; j++) {
      const o = <usize>j * ES;
      const pz = (load<T>(gr + o) + load<T>(bIn + o)) + (load<T>(zr + o) + load<T>(bRec + o));
      const pr = (load<T>(gr + uo + o) + load<T>(bIn + uo + o)) + (load<T>(zr + uo + o) + load<T>(bRec + uo + o));
      const av = load<T>(zr + 2 * uo + o) + load<T>(bRec + 2 * uo + o);
      let gz: T, gq: T, hh: T;
      if (sizeof<T>() == 4) {
        gz = <T>f32x4.extract_lane(sigmoidF32x4(f32x4.splat(<f32>pz)), 0);
        gq = <T>f32x4.extract_lane(sigmoidF32x4(f32x4.splat(<f32>pr)), 0);
        hh = <T>f32x4.extract_lane(tanhF32x4(f32x4.splat(<f32>((load<T>(gr + 2 * uo + o) + load<T>(bIn + 2 * uo + o)) + gq * av))), 0);
      } else {
        gz = sigmoidT(pz);
        gq = sigmoidT(pr);
        hh = tanhT((load<T>(gr + 2 * uo + o) + load<T>(bIn + 2 * uo + o)) + gq * av);
      }
      store<T>(gr + o, gz);
      store<T>(gr + uo + o, gq);
      store<T>(gr + 2 * uo + o, hh);
      store<T>(a + hr + o, av);
      store<T>(hNext + hr + o, gz * load<T>(hPrev + hr + o) + (<T>1 - gz) * hh);
    }
  }
}

/**
 * One GRU step backwards over b rows: gates (z, r, hh as gruForward left them), a, hPrev = h_{t-1},
 * dy = dL/dh_t from the layer above, dh = dL/dh_t through the recurrence (0: none). Writes dxz
 * (b x 3u, gradient w.r.t. x K + bIn), dhz (b x 3u, w.r.t. h_{t-1} R + bRec) and dhPrev = dL/dh_{t-1}
 * through the direct path z hPrev only (the caller adds dhz R^T).
 */
export function gruBackward(b: i32, u: i32, gates: usize, a: usize, hPrev: usize, dy: usize, dh: usize, dxz: usize, dhz: usize, dhPrev: usize): void {
  const u3 = 3 * u;
  const uo = <usize>u * ES;
  for (let r = 0; r < b; r++) {
    const gr = gates + <usize>(r * u3) * ES, xr = dxz + <usize>(r * u3) * ES, zr = dhz + <usize>(r * u3) * ES, hr = <usize>(r * u) * ES;
    for (let j = 0; j < u; j++) {
      const o = <usize>j * ES;
      const gz = load<T>(gr + o), gq = load<T>(gr + uo + o), hh = load<T>(gr + 2 * uo + o);
      const d = dh ? load<T>(dy + hr + o) + load<T>(dh + hr + o) : load<T>(dy + hr + o);
      const hp = load<T>(hPrev + hr + o);
      const dz = d * (hp - hh) * gz * (<T>1 - gz);
      const dhh = d * (<T>1 - gz) * (<T>1 - hh * hh);
      const dr = dhh * load<T>(a + hr + o) * gq * (<T>1 - gq);
      store<T>(xr + o, dz);
      store<T>(xr + uo + o, dr);
      store<T>(xr + 2 * uo + o, dhh);
      store<T>(zr + o, dz);
      store<T>(zr + uo + o, dr);
      store<T>(zr + 2 * uo + o, dhh * gq);
      store<T>(dhPrev + hr + o, d * gz);
    }
  }
}
