/**
 * The cell-program intermediate representation: one description of a recurrent cell's time step
 * (or a feed-forward layer) as a short straight-line program over a handful of primitives, which
 * every interpreter in `src/interp/` (evaluate, reverse mode, forward mode, bounds, convexity,
 * gain, LFR) walks with one rule per primitive, as JAX's interpreters walk jaxprs.
 *
 * Values are per-sample row vectors; an interpreter runs a program over a batch of rows at once.
 * A program is plain data (serialisable, no closures), so it can be inspected, printed and
 * checked; the numbers live in the parameter buffers it names.
 *
 * Conventions: a matrix parameter `W` is `rows x cols`, row-major, and `matmul` computes the row
 * vector `x W` (x has `rows` entries, the result `cols`), as Keras kernels do. Vector parameters
 * are `1 x n`.
 */

/** Index of a node in {@link CellProgram.nodes}; a node may only read nodes with smaller ids. */
export type NodeId = number;

/** Element-wise activation functions; their facts (value, slope, curvature...) live in one table. */
export type ActivationName = 'linear' | 'relu' | 'tanh' | 'sigmoid';

/** Where a parameter's initial values come from (the Keras initialiser it mirrors). */
export type Initializer =
  | { type: 'glorotUniform' }
  | { type: 'orthogonal'; gain?: number }
  | { type: 'zeros' }
  | { type: 'ones' }
  | { type: 'constant'; value: number }
  | { type: 'uniform'; min: number; max: number }
  | { type: 'normal'; std: number };

/**
 * The structural role of a parameter, which the model builder turns into a constraint: `free`
 * (none), `nonNegative` (clip at 0: ICRNN/ICLSTM weights), `convexSpectral` (non-negative and
 * spectrally normalised: ICLRNN kernels).
 */
export type ParameterRole = 'free' | 'nonNegative' | 'convexSpectral';

/** A trainable parameter a program reads. */
export interface ParameterSpec {
  /** Name inside the layer (`kernel`, `recurrentKernel`, `bias`, ...), also its model-file key. */
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly init: Initializer;
  readonly role: ParameterRole;
}

/**
 * A matrix computed from parameters before a pass, linear in them (so its gradient folds back
 * exactly, with no per-family code): `sum_t coef_t * P_t (or P_t^T) + identity * I`.
 * The LRNN's `M = I + eps alpha A`, `A = beta (B - B^T) + (1 - beta)(B + B^T) - gamma I`, is one.
 */
export interface DerivedMatrix {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly terms: readonly { readonly param: string; readonly coef: number; readonly transpose: boolean }[];
  /** Coefficient of the identity (square matrices only); 0 for none. */
  readonly identity: number;
}

/** One primitive. Every node produces a row vector of `size` entries (per sample). */
export type Node =
  /** The step's input `x_t` (size = program.inputSize). */
  | { readonly op: 'input'; readonly size: number }
  /** Recurrent state slot `slot` at t-1 (zeros at t = 0). */
  | { readonly op: 'state'; readonly slot: number; readonly size: number }
  /** `x W` with W a parameter or derived matrix (`rows` must equal size(x)). */
  | { readonly op: 'matmul'; readonly x: NodeId; readonly matrix: string; readonly size: number }
  /** `x + b` with b a `1 x size` parameter. */
  | { readonly op: 'bias'; readonly x: NodeId; readonly param: string; readonly size: number }
  /** `x .* d` with d a `1 x size` parameter (a diagonal matrix). */
  | { readonly op: 'scale'; readonly x: NodeId; readonly param: string; readonly size: number }
  /** `a x + b` with constants a, b (e.g. `1 - z` is a = -1, b = 1; eps * t is a = eps, b = 0). */
  | { readonly op: 'affine'; readonly x: NodeId; readonly a: number; readonly b: number; readonly size: number }
  /** `a + b`, same sizes. */
  | { readonly op: 'add'; readonly a: NodeId; readonly b: NodeId; readonly size: number }
  /** Element-wise product `a .* b`, same sizes. */
  | { readonly op: 'mul'; readonly a: NodeId; readonly b: NodeId; readonly size: number }
  /** Element-wise activation. */
  | { readonly op: 'act'; readonly x: NodeId; readonly fn: ActivationName; readonly size: number }
  /** Entries `[start, start + size)` of x. */
  | { readonly op: 'slice'; readonly x: NodeId; readonly start: number; readonly size: number }
  /** The inputs side by side, in order (size = sum of their sizes). */
  | { readonly op: 'concat'; readonly xs: readonly NodeId[]; readonly size: number };

/** The primitive names, for exhaustive rule tables. */
export type Op = Node['op'];

/**
 * One cell family's time step (or a feed-forward layer: no state slots, one step).
 * `next[s]` is the node holding state slot s at time t; `output` the node the layer emits.
 */
export interface CellProgram {
  /** Registry name of the family (`simple`, `lstm`, `lipschitz`, `icrnn`, `iclstm`, `gru`, `dense`). */
  readonly family: string;
  readonly inputSize: number;
  readonly outputSize: number;
  readonly params: readonly ParameterSpec[];
  readonly derived: readonly DerivedMatrix[];
  /** State slots (empty for feed-forward layers); each has a name and a size. */
  readonly state: readonly { readonly name: string; readonly size: number }[];
  readonly nodes: readonly Node[];
  /** Node producing each next-state slot, in slot order. */
  readonly next: readonly NodeId[];
  /** Node producing the layer output. */
  readonly output: NodeId;
}

/**
 * Builds a program node by node; each method appends a node and returns its id. Sizes are
 * checked as nodes are added, so a malformed cell fails when it is defined, not when it runs.
 */
export class ProgramBuilder {
  private readonly nodes: Node[] = [];
  private readonly params: ParameterSpec[] = [];
  private readonly derivedMatrices: DerivedMatrix[] = [];
  private readonly slots: { name: string; size: number }[] = [];

  constructor(readonly family: string, readonly inputSize: number) {}

  /** Declares a parameter; returns its name. */
  param(name: string, rows: number, cols: number, init: Initializer, role: ParameterRole = 'free'): string {
    if (this.params.some((p) => p.name === name) || this.derivedMatrices.some((d) => d.name === name))
      throw new Error(`${this.family}: parameter '${name}' declared twice`);
    this.params.push({ name, rows, cols, init, role });
    return name;
  }

  /** Declares a derived matrix (linear in parameters); returns its name. */
  derive(d: DerivedMatrix): string {
    for (const t of d.terms) {
      const p = this.paramSpec(t.param);
      const [r, c] = t.transpose ? [p.cols, p.rows] : [p.rows, p.cols];
      if (r !== d.rows || c !== d.cols) throw new Error(`${this.family}: derived '${d.name}' term '${t.param}' has shape ${r}x${c}`);
    }
    if (d.identity !== 0 && d.rows !== d.cols) throw new Error(`${this.family}: derived '${d.name}' adds I to a non-square matrix`);
    this.derivedMatrices.push(d);
    return d.name;
  }

  input(): NodeId {
    return this.push({ op: 'input', size: this.inputSize });
  }

  /** Declares state slot `name` of `size` floats and returns the node reading its previous value. */
  state(name: string, size: number): NodeId {
    const slot = this.slots.length;
    this.slots.push({ name, size });
    return this.push({ op: 'state', slot, size });
  }

  matmul(x: NodeId, matrix: string): NodeId {
    const [rows, cols] = this.matrixShape(matrix);
    if (this.size(x) !== rows) throw new Error(`${this.family}: matmul of size ${this.size(x)} by '${matrix}' (${rows}x${cols})`);
    return this.push({ op: 'matmul', x, matrix, size: cols });
  }

  bias(x: NodeId, param: string): NodeId {
    this.vector(param, this.size(x));
    return this.push({ op: 'bias', x, param, size: this.size(x) });
  }

  scale(x: NodeId, param: string): NodeId {
    this.vector(param, this.size(x));
    return this.push({ op: 'scale', x, param, size: this.size(x) });
  }

  affine(x: NodeId, a: number, b = 0): NodeId {
    return this.push({ op: 'affine', x, a, b, size: this.size(x) });
  }

  add(a: NodeId, b: NodeId): NodeId {
    this.same(a, b, 'add');
    return this.push({ op: 'add', a, b, size: this.size(a) });
  }

  mul(a: NodeId, b: NodeId): NodeId {
    this.same(a, b, 'mul');
    return this.push({ op: 'mul', a, b, size: this.size(a) });
  }

  act(x: NodeId, fn: ActivationName): NodeId {
    return fn === 'linear' ? x : this.push({ op: 'act', x, fn, size: this.size(x) });
  }

  slice(x: NodeId, start: number, size: number): NodeId {
    if (start < 0 || size <= 0 || start + size > this.size(x)) throw new Error(`${this.family}: slice [${start}, ${start + size}) of size ${this.size(x)}`);
    return this.push({ op: 'slice', x, start, size });
  }

  concat(xs: readonly NodeId[]): NodeId {
    return this.push({ op: 'concat', xs: [...xs], size: xs.reduce((s, id) => s + this.size(id), 0) });
  }

  /** Size of a node's value. */
  size(id: NodeId): number {
    const n = this.nodes[id];
    if (!n) throw new Error(`${this.family}: node ${id} does not exist`);
    return n.size;
  }

  /** Finishes the program: `next[s]` for each declared state slot, and the output node. */
  build(next: readonly NodeId[], output: NodeId): CellProgram {
    if (next.length !== this.slots.length) throw new Error(`${this.family}: ${this.slots.length} state slots but ${next.length} next-state nodes`);
    next.forEach((id, s) => {
      if (this.size(id) !== this.slots[s].size) throw new Error(`${this.family}: next state '${this.slots[s].name}' has size ${this.size(id)}, slot ${this.slots[s].size}`);
    });
    return {
      family: this.family,
      inputSize: this.inputSize,
      outputSize: this.size(output),
      params: [...this.params],
      derived: [...this.derivedMatrices],
      state: [...this.slots],
      nodes: [...this.nodes],
      next: [...next],
      output,
    };
  }

  private push(n: Node): NodeId {
    this.nodes.push(n);
    return this.nodes.length - 1;
  }

  private paramSpec(name: string): ParameterSpec {
    const p = this.params.find((q) => q.name === name);
    if (!p) throw new Error(`${this.family}: unknown parameter '${name}'`);
    return p;
  }

  private matrixShape(name: string): [number, number] {
    const d = this.derivedMatrices.find((q) => q.name === name);
    if (d) return [d.rows, d.cols];
    const p = this.paramSpec(name);
    return [p.rows, p.cols];
  }

  private vector(name: string, size: number): void {
    const p = this.paramSpec(name);
    if (p.rows !== 1 || p.cols !== size) throw new Error(`${this.family}: '${name}' is ${p.rows}x${p.cols}, expected 1x${size}`);
  }

  private same(a: NodeId, b: NodeId, op: string): void {
    if (this.size(a) !== this.size(b)) throw new Error(`${this.family}: ${op} of sizes ${this.size(a)} and ${this.size(b)}`);
  }
}
