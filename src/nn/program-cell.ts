/**
 * A recurrent cell that runs any family's step program (src/graph/cells) through the generic
 * evaluate and reverse interpreters (src/interp). Any family registered in src/graph/registry.ts
 * is thereby usable wherever a {@link RecurrentCell} is (training, prediction, the empirical
 * estimates); the GRU is the first family that exists only this way.
 */
import type { CellProgram, Initializer } from '../graph/program.ts';
import { programOf } from '../graph/registry.ts';
import type { FamilyConfigBase } from '../graph/family.ts';
import { ProgramEvaluator } from '../interp/eval.ts';
import { ProgramAdjoint } from '../interp/reverse.ts';
import { orthogonal } from '../core/linalg.ts';
import type { Rng } from '../core/rng.ts';
import type { CellConfig, RecurrentCell } from './cell.ts';
import { constraintFromConfig, type ConstraintConfig } from './constraints.ts';
import { createParameter, type Parameter } from './parameter.ts';

/** A {@link RecurrentCell} running a cell program (see the module comment). */
export class ProgramCell implements RecurrentCell {
  readonly program: CellProgram;
  readonly inputSize: number;
  readonly units: number;
  readonly outputSize: number;
  readonly stateSize: number;
  readonly cacheSize: number;
  readonly params: Parameter[];
  paramGradients = true;
  readonly evaluator: ProgramEvaluator;
  readonly adjoint: ProgramAdjoint;
  private readonly cellConfig: CellConfig;

  /** Builds the cell of a config (its `type` names a registered family). */
  constructor(config: CellConfig) {
    this.cellConfig = structuredClone(config);
    this.program = programOf(config as FamilyConfigBase);
    const constraints: Record<string, ConstraintConfig> = config.constraints ?? {};
    this.params = this.program.params.map((p) =>
      createParameter(p.name, p.rows, p.cols, constraints[p.name] ? constraintFromConfig(constraints[p.name]) : null),
    );
    this.evaluator = new ProgramEvaluator(this.program, this.params);
    this.adjoint = new ProgramAdjoint(this.evaluator);
    this.inputSize = config.inputSize;
    this.units = config.units;
    this.outputSize = this.program.outputSize;
    this.stateSize = this.evaluator.plan.stateSize;
    this.cacheSize = this.evaluator.plan.cacheSize;
  }

  config(): CellConfig {
    return structuredClone(this.cellConfig);
  }

  /** The parameter of a name (throws when the family has none of that name). */
  param(name: string): Parameter {
    const p = this.params.find((q) => q.name === name);
    if (!p) throw new RangeError(`${this.program.family}: no parameter '${name}'`);
    return p;
  }

  prepare(): void {
    this.evaluator.prepare();
  }

  forward(batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array): void {
    this.evaluator.step(batch, x, sPrev, sNext, y, cache);
  }

  backward(
    batch: number, x: Float64Array, sPrev: Float64Array, sNext: Float64Array, y: Float64Array, cache: Float64Array,
    dy: Float64Array, dsNext: Float64Array, dsPrev: Float64Array, dx: Float64Array,
  ): void {
    this.adjoint.paramGradients = this.paramGradients;
    this.adjoint.step(batch, x, sPrev, sNext, y, cache, dy, dsNext, dsPrev, dx);
  }

  finishBackward(): void {
    this.adjoint.finish();
  }

  /** Fills every parameter from its family's initialiser (Keras semantics), drawing from `rng`. */
  initialize(rng: Rng): void {
    this.program.params.forEach((spec, i) => initializeParameter(this.params[i], spec.init, rng));
  }
}

/** Fills a parameter from an initialiser (Glorot-uniform uses the matrix's rows / cols as fans). */
export function initializeParameter(p: Parameter, init: Initializer, rng: Rng): void {
  const v = p.value;
  switch (init.type) {
    case 'zeros':
      v.fill(0);
      return;
    case 'ones':
      v.fill(1);
      return;
    case 'constant':
      v.fill(init.value);
      return;
    case 'uniform':
      for (let i = 0; i < v.length; i++) v[i] = rng.uniformIn(init.min, init.max);
      return;
    case 'normal':
      for (let i = 0; i < v.length; i++) v[i] = init.std * rng.normal();
      return;
    case 'glorotUniform': {
      const limit = Math.sqrt(6 / (p.rows + p.cols));
      for (let i = 0; i < v.length; i++) v[i] = rng.uniformIn(-limit, limit);
      return;
    }
    case 'orthogonal':
      v.set(orthogonal(p.rows, p.cols, rng, init.gain ?? 1));
      return;
  }
}
