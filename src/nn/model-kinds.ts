/**
 * The model kinds (`buildModel(kind)`, `--model`): one entry per kind holding everything the
 * builders, the model-file check, the Keras importer and the CLI know about it (its cell family,
 * input convexity, constraints, initialisers, head, alternative forms, which options apply, how an
 * imported stack is recognised). Together with the cell families (`graph/cells/`, `graph/registry.ts`)
 * and the hand-cell registry (`cell-registry.ts`) this is the only place that names a kind or a
 * family; everything else reads these tables. A new kind is one entry here.
 */
import type { Initializer } from '../graph/program.ts';
import type { CellConfig } from './cell.ts';
import type { ConstraintConfig } from './constraints.ts';
import type { DenseConfig } from './dense.ts';
import type { BuildOptions } from './models.ts';

/** The built-in kinds, in the order of help texts and listings. */
export const MODEL_KINDS = ['rnn', 'lstm', 'lrnn', 'icrnn', 'iclstm', 'iclrnn', 'gru'] as const;
/** A built-in model kind: one of {@link MODEL_KINDS}. */
export type BuiltinModelKind = (typeof MODEL_KINDS)[number];

/** The constraints of one build (one spectral config per build, from the build options). */
export interface KindConstraints {
  readonly nonNeg: ConstraintConfig;
  readonly spectral: ConstraintConfig;
}

/**
 * How the builder initialises one parameter of a hand-written cell: an initialiser, optionally
 * followed by a constant over a range of entries (Keras' unit forget bias); null leaves it as built.
 */
export type ParamInit = { readonly init: Initializer; readonly fill?: { readonly from: number; readonly to: number; readonly value: number } } | null;

/** What {@link ParamInit} rules see of a parameter. */
export interface ParamShape {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
}

/** An alternative architecture of a kind (`BuildOptions.iclstmForm`), replacing the head. */
export interface KindForm {
  /**
   * Rewires the recurrent layers (mutating their input sizes) and returns the dense layers and the
   * evaluation order (`ModelSpec.layout`).
   */
  build(cells: CellConfig[], hidden: number, augmentedSize: number, outputSize: number, k: KindConstraints): { head: DenseConfig[]; layout: string[] };
  /** True when an imported interleaved stack (dense layers between recurrent layers) is this form. */
  recognise(cells: readonly CellConfig[], head: readonly DenseConfig[]): boolean;
}

/** One model kind. */
export interface ModelKindInfo {
  /** The cell family (registry name) of every recurrent layer. */
  readonly cellType: string;
  /** The activation of every recurrent layer, where the family takes one. */
  readonly cellActivation?: string;
  /** Convex in the inputs by construction (the model sees `[x, offset - x]`). */
  readonly inputConvex: boolean;
  /** The spectral constraint (and so its options `spectral`, `--k`, `--spectral-mode`) applies. */
  readonly spectral: boolean;
  /** Config of one recurrent layer. */
  cell(inputSize: number, units: number, o: BuildOptions, k: KindConstraints): CellConfig;
  /** The dense layers after the recurrent stack (the default form). */
  head(size: number, augmentedSize: number, outputSize: number, k: KindConstraints): DenseConfig[];
  /** The initialiser of a parameter of a hand-written cell; absent: the cell program's own. */
  init?(p: ParamShape, units: number): ParamInit;
  /** Alternative architectures by name (`BuildOptions.iclstmForm`); the default form is `stacked`. */
  readonly forms?: Readonly<Record<string, KindForm>>;
  /** True when an imported stack (recurrent layers, then the head) has this kind's structure. */
  recognise(cells: readonly CellConfig[], head: readonly DenseConfig[]): boolean;
}

const linearHead = (size: number, _na: number, out: number): DenseConfig[] => [{ inputSize: size, units: out, activation: 'linear' }];
const oneHead = (head: readonly DenseConfig[]) => head.length === 1 && !head[0].residual;
const allOf = (cells: readonly CellConfig[], type: string) => cells.every((c) => c.type === type);

/** Keras defaults (RNN, LSTM baselines): Glorot-uniform kernel, orthogonal recurrent kernel, zero bias (optionally the forget block at 1). */
function kerasInit(forgetBias: boolean) {
  return (p: ParamShape, units: number): ParamInit => {
    if (p.name === 'kernel') return { init: { type: 'glorotUniform' } };
    if (p.name === 'recurrentKernel') return { init: { type: 'orthogonal', gain: 1 } };
    if (p.name === 'bias') return { init: { type: 'zeros' }, ...(forgetBias ? { fill: { from: units, to: 2 * units, value: 1 } } : {}) };
    return null;
  };
}

/**
 * The reference's initialisers (input-convex families): biases 0, ICLSTM gate scales 1, square
 * [u x u] matrices other than the kernel orthogonal with gain 0.1, everything else N(0, 0.01^2).
 */
function referenceInit(p: ParamShape, units: number): ParamInit {
  const recurrent = p.rows === units && p.name !== 'kernel' && p.rows === p.cols;
  if (p.name === 'bias') return { init: { type: 'zeros' } };
  if (p.name === 'kernelScale' || p.name === 'recurrentScale') return { init: { type: 'ones' } };
  if (recurrent) return { init: { type: 'orthogonal', gain: 0.1 } };
  return { init: { type: 'normal', std: 0.01 } };
}

/** The published multi-block ICLSTM: `layers` blocks of `ICLSTM -> Dense(2n, relu, >= 0) + [x, -x]`, then `Dense(outputs, linear, >= 0)`. */
const iclstmBlocks: KindForm = {
  build(cells, hidden, na, out, { nonNeg }) {
    // every block reads the model input plus the previous block's residual dense output (2n wide)
    for (const c of cells) c.inputSize = na;
    const head = cells.map((): DenseConfig => ({ inputSize: hidden, units: na, activation: 'relu', residual: true, constraints: { kernel: nonNeg } }));
    head.push({ inputSize: na, units: out, activation: 'linear', constraints: { kernel: nonNeg } });
    return { head, layout: [...cells.flatMap((_, i) => [`cells.${i}`, `head.${i}`]), `head.${cells.length}`] };
  },
  recognise: (cells, head) =>
    allOf(cells, 'iclstm') && head.length === cells.length + 1 && head.slice(0, -1).every((h) => h.residual) && !head[head.length - 1].residual,
};

/** Every built-in kind (one entry per kind). */
export const MODEL_KIND_TABLE: Readonly<Record<BuiltinModelKind, ModelKindInfo>> = {
  rnn: {
    cellType: 'simple',
    cellActivation: 'tanh',
    inputConvex: false,
    spectral: false,
    cell: (inputSize, units) => ({ type: 'simple', inputSize, units, activation: 'tanh' }),
    head: linearHead,
    init: kerasInit(false),
    recognise: (cells, head) => cells.every((c) => c.type === 'simple' && c.activation === 'tanh') && oneHead(head),
  },
  lstm: {
    cellType: 'lstm',
    inputConvex: false,
    spectral: false,
    cell: (inputSize, units) => ({ type: 'lstm', inputSize, units }),
    head: linearHead,
    init: kerasInit(true),
    recognise: (cells, head) => allOf(cells, 'lstm') && oneHead(head),
  },
  lrnn: {
    cellType: 'lipschitz',
    inputConvex: false,
    spectral: false,
    cell: (inputSize, units, o) => ({
      type: 'lipschitz', inputSize, units,
      eps: o.lipschitz?.eps ?? 0.01, gamma: o.lipschitz?.gamma ?? 0.01, beta: o.lipschitz?.beta ?? 0.8, alpha: o.lipschitz?.alpha ?? 1,
    }),
    head: linearHead,
    init: (p, units) => {
      if (p.name === 'kernel') return { init: { type: 'glorotUniform' } };
      if (p.name === 'B' || p.name === 'C') return { init: { type: 'normal', std: 1 / Math.sqrt(units) } };
      return { init: { type: 'zeros' } };
    },
    recognise: (cells, head) => allOf(cells, 'lipschitz') && oneHead(head),
  },
  icrnn: {
    cellType: 'icrnn',
    inputConvex: true,
    spectral: false,
    cell: (inputSize, units, _o, { nonNeg }) => ({
      type: 'icrnn', inputSize, units,
      constraints: { kernel: nonNeg, recurrentKernel: nonNeg, D1: nonNeg, D2: nonNeg, D3: nonNeg, V: nonNeg },
    }),
    head: (size, _na, out, { nonNeg }) => [{ inputSize: size, units: out, activation: 'relu', constraints: { kernel: nonNeg } }],
    init: referenceInit,
    recognise: (cells, head) => allOf(cells, 'icrnn') && oneHead(head),
  },
  iclstm: {
    cellType: 'iclstm',
    inputConvex: true,
    spectral: false,
    cell: (inputSize, units, _o, { nonNeg }) => ({
      type: 'iclstm', inputSize, units,
      constraints: { kernel: nonNeg, recurrentKernel: nonNeg, kernelScale: nonNeg, recurrentScale: nonNeg },
    }),
    head: (size, na, out, { nonNeg }) => [
      { inputSize: size, units: na, activation: 'relu', residual: true, constraints: { kernel: nonNeg } },
      { inputSize: na, units: out, activation: 'relu', constraints: { kernel: nonNeg } },
    ],
    init: referenceInit,
    forms: { blocks: iclstmBlocks },
    recognise: (cells, head) => allOf(cells, 'iclstm') && head.length === 2 && !!head[0].residual && !head[1].residual,
  },
  iclrnn: {
    cellType: 'simple',
    cellActivation: 'relu',
    inputConvex: true,
    spectral: true,
    cell: (inputSize, units, _o, { spectral }) => ({ type: 'simple', inputSize, units, activation: 'relu', constraints: { kernel: spectral, recurrentKernel: spectral } }),
    head: (size, _na, out, { spectral }) => [{ inputSize: size, units: out, activation: 'relu', constraints: { kernel: spectral } }],
    init: referenceInit,
    recognise: (cells, head) =>
      cells.every((c) => c.type === 'simple' && c.activation === 'relu' && !!c.constraints?.kernel && !!c.constraints?.recurrentKernel) && oneHead(head) && head[0].activation === 'relu',
  },
  gru: {
    cellType: 'gru',
    inputConvex: false,
    spectral: false,
    cell: (inputSize, units) => ({ type: 'gru', inputSize, units }),
    head: linearHead,
    recognise: (cells, head) => cells.length > 0 && allOf(cells, 'gru') && oneHead(head),
  },
};

/** The entry of a built-in kind, or undefined for any other string (`custom`, a typo). */
export function modelKindInfo(kind: string): ModelKindInfo | undefined {
  return Object.hasOwn(MODEL_KIND_TABLE, kind) ? MODEL_KIND_TABLE[kind as BuiltinModelKind] : undefined;
}

/** The kinds whose entry has a property (e.g. the kinds the spectral options apply to). */
export function kindsWhere(p: (info: ModelKindInfo) => boolean): BuiltinModelKind[] {
  return MODEL_KINDS.filter((k) => p(MODEL_KIND_TABLE[k]));
}
