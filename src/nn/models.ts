/**
 * Builders for the seven model families (the six of the reference plus the Keras GRU), with the reference's architectures, constraints and
 * initialisers (REFERENCE.md section 3).
 */
import { orthogonal } from '../core/linalg.ts';
import { Rng } from '../core/rng.ts';
import type { CellConfig } from './cell.ts';
import type { ConstraintConfig, SpectralMode } from './constraints.ts';
import type { DenseConfig } from './dense.ts';
import { SequenceModel, type ModelKind, type ModelSpec } from './model.ts';
import type { Parameter } from './parameter.ts';
import { ProgramCell } from './program-cell.ts';
import { ValidationError } from '../core/errors.ts';

/** The built-in families. */
export const MODEL_KINDS = ['rnn', 'lstm', 'lrnn', 'icrnn', 'iclstm', 'iclrnn', 'gru'] as const;
/** A built-in model family: one of {@link MODEL_KINDS}. */
export type BuiltinModelKind = (typeof MODEL_KINDS)[number];

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
  return kind === 'icrnn' || kind === 'iclstm' || kind === 'iclrnn';
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
  const convex = isInputConvexKind(kind);
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
  const cells: CellConfig[] = [];
  let size = na;
  for (let l = 0; l < layers; l++) {
    switch (kind) {
      case 'rnn':
        cells.push({ type: 'simple', inputSize: size, units: hidden, activation: 'tanh' });
        break;
      case 'lstm':
        cells.push({ type: 'lstm', inputSize: size, units: hidden });
        break;
      case 'lrnn':
        cells.push({
          type: 'lipschitz', inputSize: size, units: hidden,
          eps: o.lipschitz?.eps ?? 0.01, gamma: o.lipschitz?.gamma ?? 0.01, beta: o.lipschitz?.beta ?? 0.8, alpha: o.lipschitz?.alpha ?? 1,
        });
        break;
      case 'icrnn':
        cells.push({
          type: 'icrnn', inputSize: size, units: hidden,
          constraints: { kernel: nonNeg, recurrentKernel: nonNeg, D1: nonNeg, D2: nonNeg, D3: nonNeg, V: nonNeg },
        });
        break;
      case 'iclstm':
        cells.push({
          type: 'iclstm', inputSize: size, units: hidden,
          constraints: { kernel: nonNeg, recurrentKernel: nonNeg, kernelScale: nonNeg, recurrentScale: nonNeg },
        });
        break;
      case 'iclrnn':
        cells.push({ type: 'simple', inputSize: size, units: hidden, activation: 'relu', constraints: { kernel: spectral, recurrentKernel: spectral } });
        break;
      case 'gru':
        cells.push({ type: 'gru', inputSize: size, units: hidden });
        break;
      default:
        throw new ValidationError(`unknown model kind '${kind}' (expected one of ${MODEL_KINDS.join(', ')})`);
    }
    size = hidden;
  }
  let head: DenseConfig[];
  switch (kind) {
    case 'icrnn':
      head = [{ inputSize: size, units: o.outputSize, activation: 'relu', constraints: { kernel: nonNeg } }];
      break;
    case 'iclrnn':
      head = [{ inputSize: size, units: o.outputSize, activation: 'relu', constraints: { kernel: spectral } }];
      break;
    case 'iclstm':
      head = [
        { inputSize: size, units: na, activation: 'relu', residual: true, constraints: { kernel: nonNeg } },
        { inputSize: na, units: o.outputSize, activation: 'relu', constraints: { kernel: nonNeg } },
      ];
      break;
    default:
      head = [{ inputSize: size, units: o.outputSize, activation: 'linear' }];
  }
  let layout: string[] | undefined;
  if (kind === 'iclstm' && o.iclstmForm === 'blocks') {
    // every block reads the model input plus the previous block's residual dense output (2n wide)
    for (const c of cells) c.inputSize = na;
    head = cells.map((): DenseConfig => ({ inputSize: hidden, units: na, activation: 'relu', residual: true, constraints: { kernel: nonNeg } }));
    head.push({ inputSize: na, units: o.outputSize, activation: 'linear', constraints: { kernel: nonNeg } });
    layout = [...cells.flatMap((_, i) => [`cells.${i}`, `head.${i}`]), `head.${cells.length}`];
  } else if (o.iclstmForm !== undefined && o.iclstmForm !== 'stacked' && kind === 'iclstm') {
    throw new ValidationError(`iclstmForm must be 'stacked' or 'blocks', got ${JSON.stringify(o.iclstmForm)}`);
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
  return buildModel('iclstm', { ...o, iclstmForm: 'blocks' });
}

function fillNormal(p: Parameter, rng: Rng, std: number): void {
  for (let i = 0; i < p.value.length; i++) p.value[i] = std * rng.normal();
}

function fillGlorotUniform(p: Parameter, rng: Rng, fanIn = p.rows, fanOut = p.cols): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let i = 0; i < p.value.length; i++) p.value[i] = rng.uniformIn(-limit, limit);
}

function fillOrthogonal(p: Parameter, rng: Rng, gain: number, blocks = 1): void {
  // Keras' LSTM recurrent initialiser is one orthogonal [u x 4u] matrix.
  void blocks;
  p.value.set(orthogonal(p.rows, p.cols, rng, gain));
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
  for (const cell of model.cells) {
    if (cell instanceof ProgramCell) {
      // families defined only as programs carry their initialisers (Keras defaults for the GRU)
      cell.initialize(rng);
      continue;
    }
    for (const p of cell.params) {
      const recurrent = p.rows === cell.units && p.name !== 'kernel' && p.rows === p.cols;
      switch (kind) {
        case 'rnn':
        case 'lstm':
          if (p.name === 'kernel') fillGlorotUniform(p, rng);
          else if (p.name === 'recurrentKernel') fillOrthogonal(p, rng, 1);
          else if (p.name === 'bias') {
            p.value.fill(0);
            if (kind === 'lstm') p.value.fill(1, cell.units, 2 * cell.units);
          }
          break;
        case 'lrnn':
          if (p.name === 'kernel') fillGlorotUniform(p, rng);
          else if (p.name === 'B' || p.name === 'C') fillNormal(p, rng, 1 / Math.sqrt(cell.units));
          else p.value.fill(0);
          break;
        default:
          if (p.name === 'bias') p.value.fill(0);
          else if (p.name === 'kernelScale' || p.name === 'recurrentScale') p.value.fill(1);
          else if (recurrent) fillOrthogonal(p, rng, 0.1);
          else fillNormal(p, rng, 0.01);
      }
    }
  }
  for (const d of model.head) {
    fillGlorotUniform(d.kernel, rng);
    d.bias.value.fill(0);
  }
  model.applyConstraints();
  return model;
}
