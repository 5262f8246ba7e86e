import { ValidationError } from '../core/errors.ts';

/**
 * A set of equally long input/target sequences, the unit every system produces and every trainer
 * consumes. Layout is batch-major: sample i, step t, feature f sits at `(i * steps + t) * features + f`.
 */
export interface SequenceDataset {
  /** Name of the system that produced it (e.g. 'cstr', 'energy'). */
  name: string;
  /** Number of sequences. */
  count: number;
  /** Time steps per sequence. */
  steps: number;
  /** Input features per step (plain, before any [x, -x] augmentation). */
  inputSize: number;
  /** Target features per step. */
  outputSize: number;
  /** count * steps * inputSize values, physical units. */
  inputs: Float64Array;
  /** count * steps * outputSize values, physical units. */
  targets: Float64Array;
  /** Feature names, for reports and error messages. */
  inputNames: string[];
  outputNames: string[];
  /** 1-based row of the source data (file) that step `step` of sequence `sequence` comes from, where known (for messages). */
  rowOf?: (sequence: number, step: number) => number;
}

/** Index sets of a train / validation / test split. */
export interface DatasetSplit {
  train: Int32Array;
  validation: Int32Array;
  test: Int32Array;
}

/** Throws a ValidationError naming the first non-finite value of a dataset (sample, step, feature). */
export function assertFiniteDataset(d: SequenceDataset): void {
  const check = (arr: Float64Array, width: number, names: string[], what: string): void => {
    for (let i = 0; i < arr.length; i++) {
      if (!Number.isFinite(arr[i])) {
        const f = i % width;
        const t = Math.floor(i / width) % d.steps;
        const s = Math.floor(i / (width * d.steps));
        throw new ValidationError(
          `${d.name}: ${what} value ${arr[i]} at sample ${s}, step ${t}, feature ${names[f] ?? f} is not a finite number`,
        );
      }
    }
  };
  if (d.inputs.length !== d.count * d.steps * d.inputSize)
    throw new ValidationError(`${d.name}: inputs hold ${d.inputs.length} values, expected count*steps*inputSize = ${d.count * d.steps * d.inputSize}`);
  if (d.targets.length !== d.count * d.steps * d.outputSize)
    throw new ValidationError(`${d.name}: targets hold ${d.targets.length} values, expected count*steps*outputSize = ${d.count * d.steps * d.outputSize}`);
  check(d.inputs, d.inputSize, d.inputNames, 'input');
  check(d.targets, d.outputSize, d.outputNames, 'target');
}
