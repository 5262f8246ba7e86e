// Hand-built cell programs (the equations of src/nn/*-cell.ts written with ProgramBuilder) and an
// adapter from a SequenceModel to a ProgramStack, for the interpreter tests of forward, bounds,
// convexity and gain. They mirror the existing cells so the interpreters can be compared with the
// per-family code (TangentEngine, propagate, structuralConvexity, productBound).
import { ProgramBuilder, type ActivationName, type CellProgram } from '../../src/graph/program.ts';
import type { ProgramStack } from '../../src/interp/bind.ts';
import type { CellConfig } from '../../src/nn/cell.ts';
import type { SequenceModel } from '../../src/nn/model.ts';
import { Rng } from '../../src/core/rng.ts';
import { buildModel, isInputConvexKind, type BuiltinModelKind } from '../../src/nn/models.ts';
import assert from 'node:assert/strict';
import { sequenceBox, type StackBounds } from '../../src/interp/bounds.ts';
import { ForwardEngine, sequenceJacobian } from '../../src/interp/forward.ts';
import { programStack } from '../../src/nn/program-stack.ts';
import { programOf } from '../../src/graph/registry.ts';
import type { FamilyConfigBase } from '../../src/graph/family.ts';

const zeros = { type: 'zeros' } as const;
const glorot = { type: 'glorotUniform' } as const;

export function simpleProgram(nin: number, u: number, act: ActivationName, role: 'free' | 'convexSpectral' = 'free'): CellProgram {
  const b = new ProgramBuilder('simple', nin);
  b.param('kernel', nin, u, glorot, role);
  b.param('recurrentKernel', u, u, glorot, role);
  b.param('bias', 1, u, zeros);
  const x = b.input(), h = b.state('h', u);
  const z = b.bias(b.add(b.matmul(x, 'kernel'), b.matmul(h, 'recurrentKernel')), 'bias');
  const hn = b.act(z, act);
  return b.build([hn], hn);
}

export function lstmProgram(nin: number, u: number): CellProgram {
  const b = new ProgramBuilder('lstm', nin);
  b.param('kernel', nin, 4 * u, glorot);
  b.param('recurrentKernel', u, 4 * u, glorot);
  b.param('bias', 1, 4 * u, zeros);
  const x = b.input(), h = b.state('h', u), c = b.state('c', u);
  const z = b.bias(b.add(b.matmul(x, 'kernel'), b.matmul(h, 'recurrentKernel')), 'bias');
  const i = b.act(b.slice(z, 0, u), 'sigmoid'), f = b.act(b.slice(z, u, u), 'sigmoid');
  const g = b.act(b.slice(z, 2 * u, u), 'tanh'), o = b.act(b.slice(z, 3 * u, u), 'sigmoid');
  const cn = b.add(b.mul(f, c), b.mul(i, g));
  const hn = b.mul(o, b.act(cn, 'tanh'));
  return b.build([hn, cn], hn);
}

export function lrnnProgram(nin: number, u: number, o: { eps: number; gamma: number; beta: number; alpha: number }): CellProgram {
  const b = new ProgramBuilder('lipschitz', nin);
  b.param('kernel', nin, u, glorot);
  b.param('B', u, u, glorot);
  b.param('C', u, u, glorot);
  b.param('bias', 1, u, zeros);
  const ea = o.eps * o.alpha, s = 1 - 2 * o.beta;
  b.derive({ name: 'M', rows: u, cols: u, terms: [{ param: 'B', coef: ea, transpose: false }, { param: 'B', coef: ea * s, transpose: true }], identity: 1 - ea * o.gamma });
  b.derive({ name: 'W', rows: u, cols: u, terms: [{ param: 'C', coef: 1, transpose: false }, { param: 'C', coef: s, transpose: true }], identity: -o.gamma });
  const x = b.input(), h = b.state('h', u);
  const z = b.bias(b.add(b.matmul(h, 'W'), b.matmul(x, 'kernel')), 'bias');
  const hn = b.add(b.matmul(h, 'M'), b.affine(b.act(z, 'tanh'), o.eps));
  return b.build([hn], hn);
}

export function icrnnProgram(nin: number, u: number): CellProgram {
  const b = new ProgramBuilder('icrnn', nin);
  for (const [n, r, c] of [['kernel', nin, u], ['recurrentKernel', u, u], ['D1', u, u], ['D2', nin, u], ['D3', nin, u], ['V', u, u]] as const) b.param(n, r, c, glorot, 'nonNegative');
  const x = b.input(), h = b.state('h', u), xp = b.state('x', nin);
  const hn = b.act(b.add(b.add(b.matmul(x, 'kernel'), b.matmul(h, 'recurrentKernel')), b.matmul(xp, 'D2')), 'relu');
  const y = b.act(b.add(b.add(b.matmul(hn, 'V'), b.matmul(h, 'D1')), b.matmul(x, 'D3')), 'relu');
  return b.build([hn, x], y);
}

export function iclstmProgram(nin: number, u: number): CellProgram {
  const b = new ProgramBuilder('iclstm', nin);
  b.param('kernel', nin, u, glorot, 'nonNegative');
  b.param('recurrentKernel', u, u, glorot, 'nonNegative');
  b.param('kernelScale', 1, 4 * u, { type: 'ones' }, 'nonNegative');
  b.param('recurrentScale', 1, 4 * u, { type: 'ones' }, 'nonNegative');
  b.param('bias', 1, 4 * u, zeros);
  const x = b.input(), h = b.state('h', u), c = b.state('c', u);
  const xw = b.matmul(x, 'kernel'), hw = b.matmul(h, 'recurrentKernel');
  const z = b.bias(b.add(b.scale(b.concat([xw, xw, xw, xw]), 'kernelScale'), b.scale(b.concat([hw, hw, hw, hw]), 'recurrentScale')), 'bias');
  const gate = (k: number) => b.act(b.slice(z, k * u, u), 'relu');
  const i = gate(0), f = gate(1), g = gate(2), o = gate(3);
  const cn = b.add(b.mul(f, c), b.mul(i, g));
  const hn = b.mul(o, b.act(cn, 'relu'));
  return b.build([hn, cn], hn);
}

/** A GRU (Keras reset_after form): z, r gates, candidate tanh(x Wh + r .* (h Uh + bh) + b), h = z h + (1 - z) hh. */
export function gruProgram(nin: number, u: number): CellProgram {
  const b = new ProgramBuilder('gru', nin);
  b.param('kernel', nin, 3 * u, glorot);
  b.param('recurrentKernel', u, 3 * u, glorot);
  b.param('bias', 1, 3 * u, zeros);
  b.param('recurrentBias', 1, 3 * u, zeros);
  const x = b.input(), h = b.state('h', u);
  const xz = b.bias(b.matmul(x, 'kernel'), 'bias'), hz = b.bias(b.matmul(h, 'recurrentKernel'), 'recurrentBias');
  const z = b.act(b.add(b.slice(xz, 0, u), b.slice(hz, 0, u)), 'sigmoid');
  const r = b.act(b.add(b.slice(xz, u, u), b.slice(hz, u, u)), 'sigmoid');
  const hh = b.act(b.add(b.slice(xz, 2 * u, u), b.mul(r, b.slice(hz, 2 * u, u))), 'tanh');
  const hn = b.add(b.mul(z, h), b.mul(b.affine(z, -1, 1), hh));
  return b.build([hn], hn);
}

export function denseProgram(nin: number, u: number, act: ActivationName, role: 'free' | 'nonNegative' = 'free'): CellProgram {
  const b = new ProgramBuilder('dense', nin);
  b.param('kernel', nin, u, glorot, role);
  b.param('bias', 1, u, zeros);
  const y = b.act(b.bias(b.matmul(b.input(), 'kernel'), 'bias'), act);
  return b.build([], y);
}

export function cellProgram(c: CellConfig): CellProgram {
  switch (c.type) {
    case 'simple': return simpleProgram(c.inputSize, c.units, c.activation);
    case 'lstm': return lstmProgram(c.inputSize, c.units);
    case 'lipschitz': return lrnnProgram(c.inputSize, c.units, c);
    case 'icrnn': return icrnnProgram(c.inputSize, c.units);
    case 'iclstm': return iclstmProgram(c.inputSize, c.units);
    default: return programOf(c as unknown as FamilyConfigBase);
  }
}

/**
 * The model's layers as programs over its parameter buffers (live: a weight change shows after
 * sync). `source` 'registry' (default) takes the cell families' programs (src/graph/cells), 'hand'
 * the hand-built ones above.
 */
export function stackOfModel(model: SequenceModel, source: 'registry' | 'hand' = 'registry'): ProgramStack {
  if (source === 'registry') return programStack(model);
  const values = (params: { name: string; value: Float64Array }[]) => Object.fromEntries(params.map((p) => [p.name, p.value]));
  return {
    inputSize: model.inputSize,
    augmentation: model.spec.augmentation ? model.spec.augmentation.offset : null,
    layers: model.order.map((ref) => {
      if (ref.type === 'cell') {
        const cell = model.cells[ref.index];
        return { program: cellProgram(cell.config()), params: values(cell.params) };
      }
      const h = model.head[ref.index];
      return { program: denseProgram(h.inputSize, h.units, h.activation), params: values(h.params), residual: h.residual };
    }),
  };
}

/** Random values for every parameter of a program (uniform in [-scale, scale], or [0, scale] for non-negative roles). */
export function randomParams(p: CellProgram, rng: Rng, scale = 0.6): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const q of p.params) {
    const v = new Float64Array(q.rows * q.cols);
    for (let i = 0; i < v.length; i++) v[i] = q.role === 'free' ? (2 * rng.uniform() - 1) * scale : rng.uniform() * scale;
    out[q.name] = v;
  }
  return out;
}

/**
 * A random well-formed program (input, one state slot, a dozen random primitives of every kind)
 * with random parameters: the input of the soundness properties. `nonNegative` draws every matrix
 * and scale with role nonNegative (and values >= 0).
 */
export function randomProgram(rng: Rng, options: { nin?: number; u?: number; ops?: number; acts?: ActivationName[]; ops2?: string[] } = {}): { program: CellProgram; params: Record<string, Float64Array> } {
  const nin = options.nin ?? 2 + rng.int(2), u = options.u ?? 2 + rng.int(3), nOps = options.ops ?? 8 + rng.int(8);
  const acts = options.acts ?? ['relu', 'tanh', 'sigmoid'];
  const kinds = options.ops2 ?? ['matmul', 'matmul', 'bias', 'scale', 'affine', 'add', 'mul', 'act', 'act', 'slice', 'concat'];
  const b = new ProgramBuilder('random', nin);
  const values: Record<string, Float64Array> = {};
  let np = 0;
  const param = (rows: number, cols: number, scale: number) => {
    const name = `p${np++}`;
    b.param(name, rows, cols, { type: 'zeros' });
    values[name] = Float64Array.from({ length: rows * cols }, () => (2 * rng.uniform() - 1) * scale);
    return name;
  };
  const pool = [b.input(), b.state('h', u)];
  const pick = () => pool[rng.int(pool.length)];
  for (let k = 0; k < nOps; k++) {
    const op = kinds[rng.int(kinds.length)];
    const x = pick(), sx = b.size(x);
    let id: number | null = null;
    switch (op) {
      case 'matmul': id = b.matmul(x, param(sx, [u, nin, 2 * u][rng.int(3)], 1.2)); break;
      case 'bias': id = b.bias(x, param(1, sx, 1)); break;
      case 'scale': id = b.scale(x, param(1, sx, 1.5)); break;
      case 'affine': id = b.affine(x, 3 * rng.uniform() - 1.5, rng.uniform() - 0.5); break;
      case 'add':
      case 'mul': {
        const same = pool.filter((q) => b.size(q) === sx);
        const y = same[rng.int(same.length)];
        id = op === 'add' ? b.add(x, y) : b.mul(x, y);
        break;
      }
      case 'act': id = b.act(x, acts[rng.int(acts.length)]); break;
      case 'slice': {
        const size = 1 + rng.int(sx), start = rng.int(sx - size + 1);
        id = b.slice(x, start, size);
        break;
      }
      case 'concat': id = b.concat([x, pick()]); break;
    }
    if (id !== null) pool.push(id);
  }
  let last = pool[pool.length - 1];
  const hs = pool.filter((q) => b.size(q) === u && q > 1);
  const next = hs.length ? hs[hs.length - 1] : b.matmul(last, param(b.size(last), u, 1));
  if (b.size(last) > 4) last = b.slice(last, 0, 4);
  return { program: b.build([next], last), params: values };
}

/** Runs the stack on x and checks every node of every layer at every step against the bounds. */
export function checkInside(stack: ProgramStack, bounds: StackBounds, x: Float64Array, steps: number): void {
  const e = new ForwardEngine(stack, 0);
  const n = stack.inputSize, out = new Float64Array(e.outputSize);
  e.reset();
  for (let t = 0; t < steps; t++) {
    e.step(x.subarray(t * n, (t + 1) * n), null, 0, out);
    stack.layers.forEach((layer, li) => {
      layer.program.nodes.forEach((node, id) => {
        if (node.op === 'state') return; // holds the next state after the step; checked as its next node
        const v = e.node(li, id), b = bounds.node(li, t, id);
        for (let j = 0; j < node.size; j++)
          assert.ok(b.l[j] <= v[j] && v[j] <= b.u[j], `layer ${li} node ${id} (${node.op}) step ${t} [${j}]: ${v[j]} outside [${b.l[j]}, ${b.u[j]}]`);
      });
    });
    const m = e.outputSize;
    for (let j = 0; j < m; j++) assert.ok(bounds.outputs.l[t * m + j] <= out[j] && out[j] <= bounds.outputs.u[t * m + j], `output ${t}:${j}`);
  }
}

/** Projected sign-gradient ascent (dir +1) or descent (-1) of output (t, j) inside the box; returns the final value. */
export function attack(stack: ProgramStack, lo: Float64Array, hi: Float64Array, steps: number, t: number, j: number, dir: number, rng: Rng): { x: Float64Array; value: number } {
  const d = lo.length, x = Float64Array.from({ length: d }, (_, p) => Math.min(hi[p], lo[p] + (hi[p] - lo[p]) * rng.uniform()));
  const m = stack.layers[stack.layers.length - 1].program.outputSize;
  let best = { x: Float64Array.from(x), value: -Infinity };
  for (let it = 0; it < 15; it++) {
    const { y, J } = sequenceJacobian(stack, x, steps);
    const v = dir * y[t * m + j];
    if (v > best.value) best = { x: Float64Array.from(x), value: v };
    const eta = 0.3 * Math.pow(0.8, it);
    for (let p = 0; p < d; p++) {
      const g = dir * J[(t * m + j) * d + p];
      x[p] = Math.min(hi[p], Math.max(lo[p], x[p] + eta * (hi[p] - lo[p]) * Math.sign(g)));
    }
  }
  return { x: best.x, value: dir * best.value };
}

/**
 * A small model of a family with random weights (non-negative where the family is input-convex,
 * biases free): 2 layers, `inputSize` 2, 2 outputs, `hidden` 4 by default; the weights drawn from
 * `new Rng(seed + seedOffset)` (default 3), scaled by `scale` (default 0.6) for the free ones.
 */
export function randomModel(kind: BuiltinModelKind, seed: number, form?: 'blocks', o: { inputSize?: number; hidden?: number; seedOffset?: number; scale?: number } = {}): SequenceModel {
  const m = buildModel(kind, { inputSize: o.inputSize ?? 2, outputSize: 2, hidden: o.hidden ?? 4, layers: 2, seed, iclstmForm: form });
  const rng = new Rng(seed + (o.seedOffset ?? 3));
  const convex = isInputConvexKind(kind), scale = o.scale ?? 0.6;
  for (const p of m.parameters()) for (let i = 0; i < p.value.length; i++) p.value[i] = convex && p.name !== 'bias' ? 0.5 * rng.uniform() : scale * rng.normal();
  return m;
}

/**
 * One case of the bound-soundness properties: a random program (half the time on an augmented
 * input) as a one-layer stack, and the box of radius `radius` around a random centre in [-1, 1].
 * Returns the generator too, so the property draws its sample points from the same stream.
 */
export function randomProgramCase(seed: number, steps: number, radius: number) {
  const rng = new Rng(seed);
  const augmented = rng.uniform() < 0.5, n = 1 + rng.int(3);
  const { program, params } = randomProgram(rng, { nin: augmented ? 2 * n : n });
  const stack: ProgramStack = { inputSize: n, augmentation: augmented ? Array.from({ length: n }, () => 1) : null, layers: [{ program, params }] };
  const d = steps * n;
  const center = Float64Array.from({ length: d }, () => 2 * rng.uniform() - 1);
  return { rng, stack, program, d, box: sequenceBox(center, radius) };
}
