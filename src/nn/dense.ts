/**
 * Per-step dense layer of the output head: `out = act(in W + b)` applied to every (step, sample) row,
 * optionally followed by a residual add of the model's (augmented) input, which is the ICLSTM
 * head form `z = relu(W_d h + b_d) + [x, -x]`.
 */
import { matmul, matmulTransA, matmulTransB } from '../core/kernels.ts';
import type { Activation } from './cell.ts';
import { addColumnSums } from './cell.ts';
import { constraintFromConfig, type ConstraintConfig } from './constraints.ts';
import { createParameter, type Parameter } from './parameter.ts';
import { sigmoid } from '../graph/activations.ts';

/** Serialisable dense-layer description. */
export interface DenseConfig {
  inputSize: number;
  units: number;
  activation: Activation;
  /** Add the model's augmented input after the activation (needs units == augmented input size). */
  residual?: boolean;
  constraints?: Record<string, ConstraintConfig>;
}

/** Applies an activation in place. */
export function activate(a: Activation, v: Float64Array, n: number): void {
  switch (a) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < n; i++) if (!(v[i] > 0)) v[i] = 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) v[i] = Math.tanh(v[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) v[i] = sigmoid(v[i]);
      return;
  }
}

/** Multiplies `g` in place by the activation derivative, expressed through the activation output. */
export function activationBackward(a: Activation, out: Float64Array, g: Float64Array, n: number): void {
  switch (a) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < n; i++) if (!(out[i] > 0)) g[i] = 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) g[i] *= 1 - out[i] * out[i];
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) g[i] *= out[i] * (1 - out[i]);
      return;
  }
}

/** A dense layer `y = act(x W + b)` with optional weight constraints (the head of every model). */
export class Dense {
  readonly kernel: Parameter;
  readonly bias: Parameter;
  readonly params: Parameter[];
  readonly inputSize: number;
  readonly units: number;
  readonly activation: Activation;
  readonly residual: boolean;
  readonly constraints: Record<string, ConstraintConfig>;

  constructor(config: DenseConfig) {
    this.inputSize = config.inputSize;
    this.units = config.units;
    this.activation = config.activation;
    this.residual = config.residual ?? false;
    this.constraints = config.constraints ?? {};
    const c = (name: string) => (this.constraints[name] ? constraintFromConfig(this.constraints[name]) : null);
    this.kernel = createParameter('kernel', this.inputSize, this.units, c('kernel'));
    this.bias = createParameter('bias', 1, this.units, c('bias'));
    this.params = [this.kernel, this.bias];
  }

  config(): DenseConfig {
    return { inputSize: this.inputSize, units: this.units, activation: this.activation, residual: this.residual, constraints: this.constraints };
  }

  /** rows x in -> act (rows x units, before the residual) and out (after it; may alias act when no residual). */
  forward(rows: number, input: Float64Array, act: Float64Array, out: Float64Array, residual: Float64Array | null): void {
    const u = this.units, n = rows * u, b = this.bias.value;
    matmul(rows, u, this.inputSize, input, 0, this.kernel.value, 0, act, 0);
    for (let i = 0, j = 0; i < n; i++) {
      act[i] += b[j];
      if (++j === u) j = 0;
    }
    activate(this.activation, act, n);
    if (this.residual) {
      if (!residual) throw new Error('residual dense layer needs the model input');
      for (let i = 0; i < n; i++) out[i] = act[i] + residual[i];
    } else if (out !== act) out.set(act.subarray(0, n));
  }

  /**
   * Adjoint. `dOut` (rows x units) is overwritten with the pre-activation gradient; `dIn`
   * (rows x in) receives the input gradient; `dResidual`, when given, accumulates dOut.
   */
  backward(rows: number, input: Float64Array, act: Float64Array, dOut: Float64Array, dIn: Float64Array | null, dResidual: Float64Array | null, paramGradients = true): void {
    const u = this.units, n = rows * u;
    if (this.residual && dResidual) for (let i = 0; i < n; i++) dResidual[i] += dOut[i];
    activationBackward(this.activation, act, dOut, n);
    if (paramGradients) {
      matmulTransA(this.inputSize, u, rows, input, 0, dOut, 0, this.kernel.grad, 0, true);
      addColumnSums(dOut, rows, u, this.bias.grad);
    }
    if (dIn) matmulTransB(rows, this.inputSize, u, dOut, 0, this.kernel.value, 0, dIn, 0);
  }
}
