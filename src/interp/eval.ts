/**
 * The evaluate interpreter: runs a {@link CellProgram} over a batch of rows for one time step (or a
 * whole sequence), one rule per primitive, with the buffer layout of `RecurrentCell`
 * (batch-major rows `[batch][features]`; the state row is the program's slots side by side).
 *
 * A program is first planned ({@link planProgram}): every node's value gets a place, a column
 * range of one of six row buffers: the step input `x`, the previous state, the next state, the
 * output `y`, the per-step cache (values the reverse pass needs: activation outputs and the
 * operands of products, kept across steps like the hand-written cells' caches) or a workspace
 * reused every step. Inputs, state slots and slices are views (no copy). Nodes whose value nobody
 * needs after their single consumer are computed in place in that consumer's buffer, and a matrix
 * product feeding an `add` accumulates straight into the sum (`x K + h R` is two GEMMs into one
 * buffer, as in the hand-written cells). The hot path allocates nothing: workspaces grow with the
 * batch and are reused; derived matrices are computed once per pass in {@link ProgramEvaluator.prepare}.
 */
import { kernels } from '../core/kernels.ts';
import { applyActivation } from '../graph/activations.ts';
import type { CellProgram, Node, NodeId } from '../graph/program.ts';
import { evaluateDerived } from './bind.ts';

/** Row buffers a node's value (or adjoint) can live in. */
export const Buf = { X: 0, SPrev: 1, SNext: 2, Y: 3, Cache: 4, Work: 5 } as const;

/** Row buffers of adjoints in the reverse pass. */
export const AdjBuf = { DX: 0, DSPrev: 1, Adj: 2 } as const;

/** A value placement: buffer kind and first column (the row stride is the buffer's width). */
export interface Place {
  readonly buf: number;
  readonly col: number;
}

/** Where every node's value and adjoint live, and how the forward and reverse passes run. */
export interface StepPlan {
  readonly program: CellProgram;
  /** First column of each state slot in a state row. */
  readonly stateOffsets: readonly number[];
  readonly stateSize: number;
  /** Floats per sample per step kept for the reverse pass. */
  readonly cacheSize: number;
  /** Floats per sample of forward workspace. */
  readonly workSize: number;
  /** Row width of each forward buffer kind (indexed by {@link Buf}). */
  readonly widths: readonly number[];
  /** Value place of each node. */
  readonly value: readonly Place[];
  /** Matrix products that accumulate into their place (fused into the add that consumes them). */
  readonly accumulate: readonly boolean[];
  /**
   * Nodes whose rule is a no-op in the forward pass (in-place adds fed by an accumulating
   * product; biases fused into the activation that consumes them).
   */
  readonly skip: readonly boolean[];
  /** For an activation: the bias node fused into it (computed as `f(x + b)` in one pass), else -1. */
  readonly fusedBias: readonly number[];
  /** Copies after the step: node value -> place (next-state slots / output not computed in place). */
  readonly copies: readonly { readonly node: NodeId; readonly to: Place; readonly size: number }[];
  /** Adjoint place of each node (indexed by {@link AdjBuf}). */
  readonly adjoint: readonly Place[];
  /** Row width of each adjoint buffer kind. */
  readonly adjWidths: readonly number[];
  /** Floats per sample of adjoint workspace. */
  readonly adjSize: number;
  /** Nodes whose adjoint shares their single consumer's adjoint (the consumer's rule works in place). */
  readonly adjAlias: readonly boolean[];
  /** Nodes owning an adjoint workspace region. */
  readonly adjOwned: readonly NodeId[];
  /** Adjoint workspace column ranges zeroed before each reverse step (owned, not seeded). */
  readonly adjZero: readonly { readonly col: number; readonly size: number }[];
  /**
   * Seeds of the reverse step, in order: `slot` -1 is the output gradient dy, s >= 0 the
   * next-state slot s; `add` false overwrites (the first seed of an owned region).
   */
  readonly seeds: readonly { readonly node: NodeId; readonly slot: number; readonly add: boolean }[];
  /** Matrix products whose input adjoint they alone write (overwrite instead of accumulate). */
  readonly adjOverwrite: readonly boolean[];
  /** Whether dx / dsPrev must be zeroed before the step (false: products overwrite them). */
  readonly zeroDx: boolean;
  readonly zeroDsPrev: boolean;
  /** Consumers of every node. */
  readonly users: readonly (readonly NodeId[])[];
}

/** The nodes a node reads. */
export function operands(n: Node): NodeId[] {
  switch (n.op) {
    case 'input':
    case 'state':
      return [];
    case 'matmul':
    case 'bias':
    case 'scale':
    case 'affine':
    case 'act':
    case 'slice':
      return [n.x];
    case 'add':
    case 'mul':
      return [n.a, n.b];
    case 'concat':
      return [...n.xs];
  }
}

const isView = (n: Node): boolean => n.op === 'input' || n.op === 'state' || n.op === 'slice';

/** Plans a program (see the module comment). Pure: the plan depends on the program only. */
export function planProgram(program: CellProgram): StepPlan {
  const nodes = program.nodes, N = nodes.length;
  const users: NodeId[][] = nodes.map(() => []);
  nodes.forEach((n, id) => {
    for (const o of operands(n)) users[o].push(id);
  });
  const stateOffsets: number[] = [];
  let stateSize = 0;
  for (const s of program.state) {
    stateOffsets.push(stateSize);
    stateSize += s.size;
  }
  // external roles: next-state slots and the output
  const external = new Array<boolean>(N).fill(false);
  program.next.forEach((id) => (external[id] = true));
  external[program.output] = true;

  // values the reverse pass reads: activation outputs, operands of products and scales
  const needed = new Array<boolean>(N).fill(false);
  nodes.forEach((n, id) => {
    if (n.op === 'act') needed[id] = true;
    else if (n.op === 'matmul' || n.op === 'scale') needed[n.x] = true;
    else if (n.op === 'mul') needed[n.a] = needed[n.b] = true;
  });
  for (let id = N - 1; id >= 0; id--) {
    const n = nodes[id];
    if (needed[id] && n.op === 'slice') needed[n.x] = true;
  }

  // ---- forward places ----
  const value: (Place | null)[] = new Array(N).fill(null);
  const accumulate = new Array<boolean>(N).fill(false);
  const skip = new Array<boolean>(N).fill(false);
  const copies: { node: NodeId; to: Place; size: number }[] = [];
  let cacheSize = 0, workSize = 0;
  // next-state slots and the output: computed in place when possible, else copied
  program.next.forEach((id, s) => {
    const to = { buf: Buf.SNext, col: stateOffsets[s] };
    if (!isView(nodes[id]) && value[id] === null) value[id] = to;
    else copies.push({ node: id, to, size: nodes[id].size });
  });
  {
    const id = program.output;
    const to = { buf: Buf.Y, col: 0 };
    if (!isView(nodes[id]) && value[id] === null) value[id] = to;
    else copies.push({ node: id, to, size: nodes[id].size });
  }
  // single-use, not needed, not external: may be computed in its consumer's place
  const inPlaceCandidate = (id: NodeId): boolean => !isView(nodes[id]) && !needed[id] && !external[id] && users[id].length === 1;
  for (let id = N - 1; id >= 0; id--) {
    const n = nodes[id];
    if (isView(n)) continue;
    if (value[id] === null) {
      if (needed[id]) {
        value[id] = { buf: Buf.Cache, col: cacheSize };
        cacheSize += n.size;
      } else {
        value[id] = { buf: Buf.Work, col: workSize };
        workSize += n.size;
      }
    }
    const here = value[id]!;
    switch (n.op) {
      case 'bias':
      case 'act':
      case 'affine':
      case 'scale':
        if (inPlaceCandidate(n.x)) value[n.x] = here;
        break;
      case 'add': {
        if (n.a === n.b) break;
        const [first, second] = n.a < n.b ? [n.a, n.b] : [n.b, n.a];
        if (inPlaceCandidate(first)) {
          value[first] = here;
          if (inPlaceCandidate(second) && nodes[second].op === 'matmul') {
            value[second] = here;
            accumulate[second] = true;
            skip[id] = true;
          }
        } else if (inPlaceCandidate(second)) value[second] = here;
        break;
      }
      default:
        break;
    }
  }
  // an in-place bias feeding an activation: one pass `f(x + b)`
  const fusedBias = new Array<number>(N).fill(-1);
  nodes.forEach((n, id) => {
    if (n.op !== 'act') return;
    const bn = nodes[n.x];
    if (bn.op !== 'bias' || value[n.x] !== value[id] || isView(nodes[bn.x])) return;
    fusedBias[id] = n.x;
    skip[n.x] = true;
  });
  // views
  nodes.forEach((n, id) => {
    if (n.op === 'input') value[id] = { buf: Buf.X, col: 0 };
    else if (n.op === 'state') value[id] = { buf: Buf.SPrev, col: stateOffsets[n.slot] };
    else if (n.op === 'slice') value[id] = { buf: value[n.x]!.buf, col: value[n.x]!.col + n.start };
  });

  // ---- adjoint places ----
  const seeded = external;
  const adjoint: (Place | null)[] = new Array(N).fill(null);
  const adjAlias = new Array<boolean>(N).fill(false);
  const adjOwned: NodeId[] = [];
  let adjSize = 0;
  const aliasable = (id: NodeId): boolean => !isView(nodes[id]) && !seeded[id] && users[id].length === 1;
  for (let id = N - 1; id >= 0; id--) {
    const n = nodes[id];
    if (n.op === 'input') {
      adjoint[id] = { buf: AdjBuf.DX, col: 0 };
      continue;
    }
    if (n.op === 'state') {
      adjoint[id] = { buf: AdjBuf.DSPrev, col: stateOffsets[n.slot] };
      continue;
    }
    if (n.op === 'slice') continue;
    if (adjoint[id] === null) {
      adjoint[id] = { buf: AdjBuf.Adj, col: adjSize };
      adjSize += n.size;
      adjOwned.push(id);
    }
    const here = adjoint[id]!;
    switch (n.op) {
      case 'bias':
      case 'act':
      case 'affine':
      case 'scale':
        if (aliasable(n.x)) {
          adjoint[n.x] = here;
          adjAlias[n.x] = true;
        }
        break;
      case 'add': {
        if (n.a === n.b) break;
        // products only read their adjoint, so they may always share it when processed first;
        // at most one other operand shares it (its rule may rewrite the buffer in place)
        const ops = [n.a, n.b].filter(aliasable);
        const other = ops.filter((o) => nodes[o].op !== 'matmul');
        const products = ops.filter((o) => nodes[o].op === 'matmul');
        const primary = other.length > 0 ? other[0] : null;
        if (primary !== null) {
          adjoint[primary] = here;
          adjAlias[primary] = true;
        }
        for (const p of products)
          if (primary === null || p > primary) {
            adjoint[p] = here;
            adjAlias[p] = true;
          }
        break;
      }
      default:
        break;
    }
  }
  for (let id = 0; id < N; id++) {
    const n = nodes[id];
    if (n.op === 'slice') adjoint[id] = { buf: adjoint[n.x]!.buf, col: adjoint[n.x]!.col + n.start };
  }
  // seeds: owned regions take their first seed by overwriting (no zeroing), the rest accumulate
  const seedList: { node: NodeId; slot: number }[] = [{ node: program.output, slot: -1 }, ...program.next.map((node, slot) => ({ node, slot }))];
  const owned = new Set(adjOwned);
  const firstSeeded = new Set<NodeId>();
  const seeds: { node: NodeId; slot: number; add: boolean }[] = [];
  for (const sd of seedList)
    if (owned.has(sd.node) && !firstSeeded.has(sd.node)) {
      firstSeeded.add(sd.node);
      seeds.push({ ...sd, add: false });
    }
  const firstOf = new Set(seeds.map((s) => `${s.node}:${s.slot}`));
  for (const sd of seedList) if (!firstOf.has(`${sd.node}:${sd.slot}`)) seeds.push({ ...sd, add: true });
  const adjZero = adjOwned.filter((id) => !firstSeeded.has(id)).map((id) => ({ col: adjoint[id]!.col, size: nodes[id].size }));
  // an input or state slot read by exactly one product (and nothing else, no seed) gets its
  // adjoint written by that product alone
  const adjOverwrite = new Array<boolean>(N).fill(false);
  let zeroDx = true;
  const slotCovered = program.state.map(() => false);
  nodes.forEach((n, id) => {
    if ((n.op !== 'input' && n.op !== 'state') || seeded[id] || users[id].length !== 1) return;
    const u = users[id][0];
    if (nodes[u].op !== 'matmul') return;
    adjOverwrite[u] = true;
    if (n.op === 'input') zeroDx = false;
    else slotCovered[n.slot] = true;
  });
  // a slot read by no node keeps a zero gradient: it needs the zeroing
  const zeroDsPrev = !slotCovered.every(Boolean);

  return {
    program,
    stateOffsets,
    stateSize,
    cacheSize,
    workSize,
    widths: [program.inputSize, stateSize, stateSize, program.outputSize, cacheSize, workSize],
    value: value as Place[],
    accumulate,
    skip,
    fusedBias,
    copies,
    adjoint: adjoint as Place[],
    adjWidths: [program.inputSize, stateSize, adjSize],
    adjSize,
    adjAlias,
    adjOwned,
    adjZero,
    seeds,
    adjOverwrite,
    zeroDx,
    zeroDsPrev,
    users,
  };
}

/** Parameter buffers aligned with `program.params` (a `Parameter` fits). */
export interface ParamBuffers {
  readonly value: Float64Array;
  readonly grad: Float64Array;
}

/** Copies `rows x cols` between strided row buffers (`dst += src` with `add`). */
export function copyRows(rows: number, cols: number, src: Float64Array, so: number, lds: number, dst: Float64Array, d0: number, ldd: number, add = false): void {
  for (let r = 0; r < rows; r++) {
    const s = so + r * lds, d = d0 + r * ldd;
    if (add) for (let j = 0; j < cols; j++) dst[d + j] += src[s + j];
    else for (let j = 0; j < cols; j++) dst[d + j] = src[s + j];
  }
}

/**
 * Evaluates a program step by step over batches (see the module comment). Parameters are read
 * from the given buffers at every step, derived matrices are refreshed by {@link prepare}.
 *
 * @example
 * ```ts
 * const ev = new ProgramEvaluator(programOf({ type: 'gru', inputSize: 2, units: 4 }), params);
 * ev.prepare();
 * ev.step(batch, x, sPrev, sNext, y, cache);
 * ```
 */
export class ProgramEvaluator {
  readonly plan: StepPlan;
  /** Matrix by name: parameter value buffers and derived matrices. */
  readonly mats = new Map<string, Float64Array>();
  /** Index of each parameter in {@link params} by name. */
  readonly paramIndex = new Map<string, number>();
  /** Derived matrices by name (owned). */
  readonly derived = new Map<string, Float64Array>();
  private work = new Float64Array(0);
  private readonly bufs: Float64Array[] = [];
  private readonly matOf: (Float64Array | null)[];
  private seqCache = new Float64Array(0);
  private seqStates = new Float64Array(0);

  constructor(readonly program: CellProgram, readonly params: readonly ParamBuffers[], plan?: StepPlan) {
    if (params.length !== program.params.length) throw new RangeError(`${program.family}: ${params.length} parameter buffers for ${program.params.length} parameters`);
    program.params.forEach((p, i) => {
      if (params[i].value.length !== p.rows * p.cols) throw new RangeError(`${program.family}: parameter '${p.name}' has ${params[i].value.length} values, expected ${p.rows * p.cols}`);
      this.paramIndex.set(p.name, i);
    });
    for (const d of program.derived) this.derived.set(d.name, new Float64Array(d.rows * d.cols));
    this.plan = plan ?? planProgram(program);
    this.matOf = program.nodes.map(() => null);
    this.prepare();
  }

  /** Re-reads the parameter buffers and recomputes the derived matrices (before each pass). */
  prepare(): void {
    this.program.params.forEach((p, i) => this.mats.set(p.name, this.params[i].value));
    for (const d of this.program.derived) {
      const out = this.derived.get(d.name)!;
      evaluateDerived(d, this.mats, out);
      this.mats.set(d.name, out);
    }
    this.program.nodes.forEach((n, id) => {
      if (n.op === 'matmul') this.matOf[id] = this.mats.get(n.matrix)!;
      else if (n.op === 'bias' || n.op === 'scale') this.matOf[id] = this.mats.get(n.param)!;
    });
  }

  /** The matrix or vector a node reads (after {@link prepare}). */
  matrixOf(id: NodeId): Float64Array {
    return this.matOf[id]!;
  }

  /**
   * One step over `batch` rows: reads x [B x in] and sPrev [B x state]; writes sNext, y [B x out]
   * and cache [B x cacheSize] (what {@link ProgramAdjoint} needs for this step).
   */
  step(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array): void {
    const plan = this.plan, nodes = this.program.nodes, W = plan.widths;
    if (this.work.length < batch * plan.workSize) this.work = new Float64Array(batch * plan.workSize);
    const bufs = this.bufs;
    bufs[Buf.X] = x;
    bufs[Buf.SPrev] = sPrev;
    bufs[Buf.SNext] = sNext;
    bufs[Buf.Y] = y;
    bufs[Buf.Cache] = cache;
    bufs[Buf.Work] = this.work;
    const gemm = kernels().gemm;
    for (let id = 0; id < nodes.length; id++) {
      const n = nodes[id];
      if (plan.skip[id]) continue;
      const out = plan.value[id];
      const ob = bufs[out.buf], oc = out.col, ol = W[out.buf];
      switch (n.op) {
        case 'input':
        case 'state':
        case 'slice':
          break;
        case 'matmul': {
          const xp = plan.value[n.x];
          gemm(batch, n.size, nodes[n.x].size, bufs[xp.buf], xp.col, W[xp.buf], 1, this.matOf[id]!, 0, n.size, 1, ob, oc, ol, plan.accumulate[id]);
          break;
        }
        case 'bias':
        case 'scale': {
          const xp = plan.value[n.x], xb = bufs[xp.buf], xl = W[xp.buf], p = this.matOf[id]!, s = n.size;
          const mulp = n.op === 'scale';
          for (let r = 0; r < batch; r++) {
            const xi = xp.col + r * xl, oi = oc + r * ol;
            if (mulp) for (let j = 0; j < s; j++) ob[oi + j] = xb[xi + j] * p[j];
            else for (let j = 0; j < s; j++) ob[oi + j] = xb[xi + j] + p[j];
          }
          break;
        }
        case 'affine': {
          const xp = plan.value[n.x], xb = bufs[xp.buf], xl = W[xp.buf], s = n.size, a = n.a, c = n.b;
          for (let r = 0; r < batch; r++) {
            const xi = xp.col + r * xl, oi = oc + r * ol;
            for (let j = 0; j < s; j++) ob[oi + j] = a * xb[xi + j] + c;
          }
          break;
        }
        case 'add':
        case 'mul': {
          const ap = plan.value[n.a], bp = plan.value[n.b];
          const ab = bufs[ap.buf], al = W[ap.buf], bb = bufs[bp.buf], bl = W[bp.buf], s = n.size;
          const isMul = n.op === 'mul';
          for (let r = 0; r < batch; r++) {
            const ai = ap.col + r * al, bi = bp.col + r * bl, oi = oc + r * ol;
            if (isMul) for (let j = 0; j < s; j++) ob[oi + j] = ab[ai + j] * bb[bi + j];
            else for (let j = 0; j < s; j++) ob[oi + j] = ab[ai + j] + bb[bi + j];
          }
          break;
        }
        case 'act': {
          const fb = plan.fusedBias[id];
          if (fb >= 0) {
            // the bias node was computed in this place: read its input, add its vector here
            const bx = plan.value[(nodes[fb] as { x: NodeId }).x];
            applyActivation(n.fn, batch, n.size, bufs[bx.buf], bx.col, W[bx.buf], ob, oc, ol, this.matOf[fb]);
          } else {
            const xp = plan.value[n.x];
            applyActivation(n.fn, batch, n.size, bufs[xp.buf], xp.col, W[xp.buf], ob, oc, ol);
          }
          break;
        }
        case 'concat': {
          let off = 0;
          for (const part of n.xs) {
            const pp = plan.value[part];
            copyRows(batch, nodes[part].size, bufs[pp.buf], pp.col, W[pp.buf], ob, oc + off, ol);
            off += nodes[part].size;
          }
          break;
        }
      }
    }
    for (const c of plan.copies) {
      const from = plan.value[c.node];
      copyRows(batch, c.size, bufs[from.buf], from.col, W[from.buf], bufs[c.to.buf], c.to.col, W[c.to.buf]);
    }
  }

  /**
   * Runs a whole sequence from a zero state: `xs` time-major `[steps][batch][in]`, writes `ys`
   * `[steps][batch][out]`. `states` ((steps + 1) * batch * state) and `caches`
   * (steps * batch * cacheSize) receive what the reverse pass needs; when omitted, internal buffers
   * (reused between calls) hold them and the final state is returned as a view.
   */
  sequence(batch: number, steps: number, xs: Float64Array, ys: Float64Array, states?: Float64Array, caches?: Float64Array): Float64Array {
    const p = this.plan, ss = batch * p.stateSize, cs = batch * p.cacheSize, is = batch * this.program.inputSize, os = batch * this.program.outputSize;
    if (!states) states = this.seqStates = this.seqStates.length >= (steps + 1) * ss ? this.seqStates : new Float64Array((steps + 1) * ss);
    if (!caches) caches = this.seqCache = this.seqCache.length >= steps * cs ? this.seqCache : new Float64Array(steps * cs);
    this.prepare();
    states.fill(0, 0, ss);
    for (let t = 0; t < steps; t++)
      this.step(
        batch,
        xs.subarray(t * is, (t + 1) * is),
        states.subarray(t * ss, (t + 1) * ss),
        states.subarray((t + 1) * ss, (t + 2) * ss),
        ys.subarray(t * os, (t + 1) * os),
        caches.subarray(t * cs, (t + 1) * cs),
      );
    return states.subarray(steps * ss, (steps + 1) * ss);
  }
}
