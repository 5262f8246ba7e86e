// The Lipschitz RNN against an independent, deliberately naive implementation of the reference cell
// (REFERENCE.md section 3, the reference notebook's MyLRNNCell):
//   A = beta (B - B^T) + (1 - beta)(B + B^T) - gamma I,  W likewise from C,
//   h_t = h_{t-1} + eps*alpha*(h_{t-1} A) + eps*tanh(h_{t-1} W + x_t U + b),  h_0 = 0,
// two stacked layers returning sequences, then a linear Dense head.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/nn/models.ts';
import { LipschitzCell } from '../../src/nn/lipschitz-cell.ts';
import { Rng } from '../../src/core/rng.ts';
import type { SequenceModel } from '../../src/nn/model.ts';

type Matrix = number[][];
interface RefLayer { U: Matrix; B: Matrix; C: Matrix; b: number[] }
interface RefModel { layers: RefLayer[]; head: { W: Matrix; c: number[] }; eps: number; gamma: number; beta: number; alpha: number }

const transpose = (m: Matrix): Matrix => m[0].map((_, j) => m.map((row) => row[j]));
const rowTimes = (v: number[], m: Matrix): number[] => m[0].map((_, j) => v.reduce((s, vi, i) => s + vi * m[i][j], 0));

function compose(P: Matrix, beta: number, gamma: number): Matrix {
  const Pt = transpose(P);
  return P.map((row, i) => row.map((p, j) => beta * (p - Pt[i][j]) + (1 - beta) * (p + Pt[i][j]) - (i === j ? gamma : 0)));
}

/** Reference forward pass for one sequence (rows x_t), written from the equations only. */
function referenceForward(m: RefModel, xs: number[][]): number[][] {
  let seq = xs;
  for (const L of m.layers) {
    const A = compose(L.B, m.beta, m.gamma), W = compose(L.C, m.beta, m.gamma);
    let h = new Array(L.b.length).fill(0);
    const out: number[][] = [];
    for (const x of seq) {
      const hA = rowTimes(h, A), hW = rowTimes(h, W), xU = rowTimes(x, L.U);
      h = h.map((hi, j) => hi + m.eps * m.alpha * hA[j] + m.eps * Math.tanh(hW[j] + xU[j] + L.b[j]));
      out.push(h);
    }
    seq = out;
  }
  return seq.map((h) => rowTimes(h, m.head.W).map((v, j) => v + m.head.c[j]));
}

const toMatrix = (v: Float64Array, rows: number, cols: number): Matrix =>
  Array.from({ length: rows }, (_, r) => Array.from(v.subarray(r * cols, (r + 1) * cols)));

/** Reads the library model's weights into the reference structure (no shared code path). */
function referenceFrom(model: SequenceModel): RefModel {
  const cells = model.cells as LipschitzCell[];
  const o = cells[0].options;
  return {
    layers: cells.map((c) => ({
      U: toMatrix(c.kernel.value, c.inputSize, c.units),
      B: toMatrix(c.B.value, c.units, c.units),
      C: toMatrix(c.C.value, c.units, c.units),
      b: Array.from(c.bias.value),
    })),
    head: { W: toMatrix(model.head[0].kernel.value, model.head[0].kernel.rows, model.head[0].kernel.cols), c: Array.from(model.head[0].bias.value) },
    eps: o.eps, gamma: o.gamma, beta: o.beta, alpha: o.alpha,
  };
}

function randomise(model: SequenceModel, rng: Rng, scale: number): void {
  for (const p of model.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = scale * rng.normal();
}

const batch = 3, steps = 6, inputSize = 4, outputSize = 2, hidden = 5;

function referenceBatch(ref: RefModel, x: Float64Array): Float64Array {
  const y = new Float64Array(batch * steps * outputSize);
  for (let s = 0; s < batch; s++) {
    const rows = Array.from({ length: steps }, (_, t) => Array.from(x.subarray((s * steps + t) * inputSize, (s * steps + t + 1) * inputSize)));
    referenceForward(ref, rows).forEach((r, t) => r.forEach((v, j) => (y[(s * steps + t) * outputSize + j] = v)));
  }
  return y;
}

test('LRNN: A and W are built as beta(P - P^T) + (1 - beta)(P + P^T) - gamma I (hand-computed 2x2)', () => {
  const cell = new LipschitzCell(1, 2, { eps: 0.01, gamma: 0.01, beta: 0.8, alpha: 1 });
  cell.B.value.set([1, 2, 3, 4]);
  cell.C.value.set([0, 1, 0, 0]);
  cell.prepare();
  // B - B^T = [[0,-1],[1,0]], B + B^T = [[2,5],[5,8]] -> A = [[0.4-0.01, -0.8+1.0], [0.8+1.0, 1.6-0.01]]
  const A = Array.from(cell.A), W = Array.from(cell.W);
  [0.39, 0.2, 1.8, 1.59].forEach((v, i) => assert.ok(Math.abs(A[i] - v) < 1e-15, `A[${i}] = ${A[i]}, expected ${v}`));
  // C - C^T = [[0,1],[-1,0]], C + C^T = [[0,1],[1,0]] -> W = [[-0.01, 0.8+0.2], [-0.8+0.2, -0.01]]
  [-0.01, 1.0, -0.6, -0.01].forEach((v, i) => assert.ok(Math.abs(W[i] - v) < 1e-15, `W[${i}] = ${W[i]}, expected ${v}`));
});

test('LRNN: one step by hand (eps 0.1, alpha 2, 1 unit)', () => {
  // u = 1: A = -gamma, W = 2(1-beta)C - gamma. h1 = 0 + 0 + eps tanh(x U + b); h2 = h1 + eps alpha h1 A + eps tanh(h1 W + x U + b)
  const eps = 0.1, gamma = 0.5, beta = 0.8, alpha = 2;
  const model = buildModel('lrnn', { inputSize: 1, outputSize: 1, hidden: 1, layers: 1, lipschitz: { eps, gamma, beta, alpha } });
  const cell = model.cells[0] as LipschitzCell;
  cell.kernel.value[0] = 0.7; cell.B.value[0] = 3; cell.C.value[0] = 0.25; cell.bias.value[0] = -0.1;
  model.head[0].kernel.value[0] = 1; model.head[0].bias.value[0] = 0;
  const x = 0.5;
  const A = 2 * (1 - beta) * 3 - gamma, W = 2 * (1 - beta) * 0.25 - gamma;
  const h1 = eps * Math.tanh(x * 0.7 - 0.1);
  const h2 = h1 + eps * alpha * h1 * A + eps * Math.tanh(h1 * W + x * 0.7 - 0.1);
  const y = model.forward(Float64Array.of(x, x), 1, 2);
  assert.ok(Math.abs(y[0] - h1) < 1e-15 && Math.abs(y[1] - h2) < 1e-15, `got ${Array.from(y)}, expected ${h1}, ${h2}`);
});

test('LRNN: same weights -> same outputs as an independent reference implementation (default and other constants)', () => {
  for (const [seed, lipschitz, scale] of [
    [1, undefined, 0.5],
    [2, { eps: 0.2, gamma: 0.05, beta: 0.6, alpha: 1.5 }, 0.8],
  ] as const) {
    const rng = new Rng(seed);
    const model = buildModel('lrnn', { inputSize, outputSize, hidden, layers: 2, seed, lipschitz });
    randomise(model, rng, scale);
    const x = new Float64Array(batch * steps * inputSize).map(() => rng.uniformIn(-1, 1));
    const y = model.forward(x, batch, steps);
    const yr = referenceBatch(referenceFrom(model), x);
    for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - yr[i]) <= 1e-12 * (1 + Math.abs(yr[i])), `seed ${seed}: output ${i}: ${y[i]} vs reference ${yr[i]}`);
  }
});

test('LRNN: default constants and initialiser scale follow the reference (eps 0.01, gamma 0.01, beta 0.8, alpha 1)', () => {
  const model = buildModel('lrnn', { inputSize, outputSize, hidden: 64, layers: 2, seed: 0 });
  for (const c of model.cells as LipschitzCell[]) {
    assert.deepEqual({ ...c.options }, { eps: 0.01, gamma: 0.01, beta: 0.8, alpha: 1 });
    assert.ok(c.bias.value.every((v) => v === 0), 'bias starts at 0');
  }
});

test('LRNN: analytic gradients equal central differences of the independent reference implementation', () => {
  const rng = new Rng(7);
  const model = buildModel('lrnn', { inputSize, outputSize, hidden, layers: 2, seed: 3 });
  randomise(model, rng, 0.7);
  const x = new Float64Array(batch * steps * inputSize).map(() => rng.uniformIn(-1, 1));
  const w = new Float64Array(batch * steps * outputSize).map(() => rng.normal());
  const refLoss = (): number => {
    const y = referenceBatch(referenceFrom(model), x);
    return y.reduce((s, v, i) => s + w[i] * v, 0);
  };
  model.zeroGrad();
  model.forward(x, batch, steps);
  model.backward(w, batch, steps);
  const h = 1e-6;
  let checked = 0;
  for (const { path, param } of model.namedParameters()) {
    const g = Float64Array.from(param.grad);
    for (let k = 0; k < 4; k++) {
      const i = rng.int(param.value.length);
      const v = param.value[i];
      param.value[i] = v + h;
      const lp = refLoss();
      param.value[i] = v - h;
      const lm = refLoss();
      param.value[i] = v;
      const fd = (lp - lm) / (2 * h);
      const err = Math.abs(g[i] - fd) / Math.max(1e-4, Math.abs(g[i]) + Math.abs(fd)); // absolute floor 1e-9: the rounding of the difference quotient
      assert.ok(err < 1e-5, `${path}[${i}]: analytic ${g[i]} vs reference finite difference ${fd}`);
      checked++;
    }
  }
  assert.ok(checked >= 4 * 9, 'every parameter of both layers and the head was checked');
});
