/**
 * Builders for the seven model families (the six of the reference plus the Keras GRU), with the reference's architectures, constraints and
 * initialisers (REFERENCE.md section 3).
 */
import { Rng } from '../core/rng.ts';
import type { CellConfig } from './cell.ts';
import type { ConstraintConfig, SpectralMode } from './constraints.ts';
import type { DenseConfig } from './dense.ts';
import { SequenceModel, type ModelKind, type ModelSpec } from './model.ts';
import { MODEL_KINDS, MODEL_KIND_TABLE, modelKindInfo, type BuiltinModelKind, type KindConstraints } from './model-kinds.ts';
import { initializeParameter, ProgramCell } from './program-cell.ts';
import { ValidationError } from '../core/errors.ts';

export { MODEL_KINDS, type BuiltinModelKind } from './model-kinds.ts';

/**
 * True for the families whose outputs are convex in the inputs by construction.
 *
 * @example
 * ```ts
 * isInputConvexKind('iclrnn'); // true
 * isInputConvexKind('lstm');   // false
 * ```
 */
export function isInputConvexKind(kind: ModelKind): boolean {
  return modelKindInfo(kind)?.inputConvex ?? false;
}

/** Options of {@link buildModel}. */
export interface BuildOptions {
  inputSize: number;
  outputSize: number;
  /** Units per recurrent layer (default 64). */
  hidden?: number;
  /** Number of stacked recurrent layers (default 2). */
  layers?: number;
  /** Seed of the initialisers (default 0). */
  seed?: number;
  /** ICLRNN spectral constraint: Lipschitz coefficient k (default 1) and mode (default 'projection'). */
  spectral?: { k?: number; mode?: SpectralMode; eps?: number; iterations?: number; tolerance?: number };
  /** LRNN cell constants (defaults eps 0.01, gamma 0.01, beta 0.8, alpha 1). */
  lipschitz?: { eps?: number; gamma?: number; beta?: number; alpha?: number };
  /** Augmentation offset per input (default 1: the scaled negation 1 - s of the reference). */
  augmentationOffset?: number;
  /**
   * ICLSTM only. `'stacked'` (default): all recurrent layers, then the head
   * `relu(W_d h + b_d) + [x, -x] -> relu dense`. `'blocks'`: the published multi-block ICLSTM,
   * `layers` blocks of `ICLSTM -> Dense(2n, relu, >= 0) + [x, -x]`, then `Dense(outputs, linear, >= 0)`.
   */
  iclstmForm?: 'stacked' | 'blocks';
}

/** Builds the architecture (no weights) of a model family. */
export function modelSpec(kind: BuiltinModelKind, o: BuildOptions): ModelSpec {
  const hidden = o.hidden ?? 64, layers = o.layers ?? 2;
  if (!Number.isInteger(hidden) || hidden < 1) throw new ValidationError(`hidden must be a positive integer, got ${hidden}`);
  if (!Number.isInteger(layers) || layers < 1) throw new ValidationError(`layers must be a positive integer, got ${layers}`);
  const info = modelKindInfo(kind);
  if (!info) throw new ValidationError(`unknown model kind '${kind}' (expected one of ${MODEL_KINDS.join(', ')})`);
  const convex = info.inputConvex;
  const na = convex ? 2 * o.inputSize : o.inputSize;
  const nonNeg: ConstraintConfig = { type: 'nonNegative' };
  const spectral: ConstraintConfig = {
    type: 'spectral',
    k: o.spectral?.k ?? 1,
    eps: o.spectral?.eps ?? 1e-3,
    mode: o.spectral?.mode ?? 'projection',
    nonNegative: true,
    iterations: o.spectral?.iterations ?? 10,
    tolerance: o.spectral?.tolerance ?? 1e-3,
  };
  const k: KindConstraints = { nonNeg, spectral };
  const cells: CellConfig[] = [];
  let size = na;
  for (let l = 0; l < layers; l++) {
    cells.push(info.cell(size, hidden, o, k));
    size = hidden;
  }
  let head: DenseConfig[] = info.head(size, na, o.outputSize, k);
  let layout: string[] | undefined;
  // an alternative form of the kind (the multi-block ICLSTM); the default form is 'stacked'
  if (info.forms && o.iclstmForm !== undefined && o.iclstmForm !== 'stacked') {
    const form = Object.hasOwn(info.forms, o.iclstmForm) ? info.forms[o.iclstmForm] : undefined;
    if (!form) throw new ValidationError(`iclstmForm must be ${['stacked', ...Object.keys(info.forms)].map((n) => `'${n}'`).join(' or ')}, got ${JSON.stringify(o.iclstmForm)}`);
    ({ head, layout } = form.build(cells, hidden, na, o.outputSize, k));
  }
  const off = o.augmentationOffset ?? 1;
  return {
    kind,
    inputSize: o.inputSize,
    augmentation: convex ? { offset: new Array(o.inputSize).fill(off) } : null,
    cells,
    head,
    ...(layout ? { layout } : {}),
  };
}

/** The published multi-block ICLSTM (see {@link BuildOptions.iclstmForm}), built and initialised. */
export function buildMultiBlockIclstm(o: Omit<BuildOptions, 'iclstmForm'>): SequenceModel {
  const kind = MODEL_KINDS.find((k) => MODEL_KIND_TABLE[k].forms?.blocks)!;
  return buildModel(kind, { ...o, iclstmForm: 'blocks' });
}

/**
 * Builds and initialises a model of a family. Initialisers: the reference's for the input-convex
 * and Lipschitz families (input kernels N(0, 0.01^2), recurrent kernels orthogonal with gain 0.1,
 * biases 0; ICLSTM gate scales 1), Keras defaults for the RNN and LSTM baselines (Glorot-uniform
 * kernels, orthogonal recurrent kernels, zero biases, LSTM forget bias 1), Glorot-uniform heads.
 * Constraints are applied once after initialisation so a fresh model already satisfies them.
 *
 * @example
 * ```ts
 * const model = buildModel('iclrnn', { inputSize: 4, outputSize: 2, hidden: 16, layers: 2, seed: 0 });
 * const y = model.forward(new Float64Array(10 * 4), 1, 10); // one sequence of 10 steps -> 10 x 2 outputs
 * ```
 */
export function buildModel(kind: BuiltinModelKind, o: BuildOptions): SequenceModel {
  const model = new SequenceModel(modelSpec(kind, o));
  const rng = new Rng(o.seed ?? 0);
  const info = modelKindInfo(kind)!; // modelSpec checked the kind
  for (const cell of model.cells) {
    if (cell instanceof ProgramCell) {
      // families defined only as programs carry their initialisers (Keras defaults for the GRU)
      cell.initialize(rng);
      continue;
    }
    if (!info.init) throw new ValidationError(`model kind '${kind}' declares no initialisers for its hand-written cell '${cell.config().type}'`);
    for (const p of cell.params) {
      const rule = info.init(p, cell.units);
      if (!rule) continue;
      initializeParameter(p, rule.init, rng);
      if (rule.fill) p.value.fill(rule.fill.value, rule.fill.from, rule.fill.to);
    }
  }
  for (const d of model.head) {
    initializeParameter(d.kernel, { type: 'glorotUniform' }, rng);
    d.bias.value.fill(0);
  }
  model.applyConstraints();
  return model;
}
