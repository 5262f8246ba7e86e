/**
 * What one cell family declares (one file per family under `cells/`, one line per family in
 * `registry.ts`): its config, its step program (parameters with initialisers and roles, state
 * layout, equations; see program.ts) and its Keras names and weight order.
 */
import type { CellProgram, ParameterRole } from './program.ts';

/** Serialisable constraint description, as in model files (`nonNegative` or `spectral`). */
export interface ConstraintLike {
  readonly type: string;
  readonly nonNegative?: boolean;
}

/** The fields every family config has (the `type` is the registry name). */
export interface FamilyConfigBase {
  readonly type: string;
  readonly inputSize: number;
  readonly units: number;
  /** Constraint per parameter name (model files keep them; the builder sets them). */
  readonly constraints?: Readonly<Record<string, ConstraintLike>>;
}

/**
 * Where a contiguous run of a Keras weight array lands: `length` entries starting at `from` in
 * the Keras array (flattened row-major) are copied to `param` starting at `to`.
 */
export interface KerasPlacement {
  readonly param: string;
  readonly from: number;
  readonly to: number;
  readonly length: number;
}

/** One Keras weight array, in the order Keras stores a layer's (or cell's) weights. */
export interface KerasWeight {
  /** Keras' name for it (for messages): `kernel`, `recurrent_kernel`, `Wi`, ... */
  readonly name: string;
  readonly shape: readonly number[];
  readonly placements: readonly KerasPlacement[];
}

/**
 * Reads fields of a Keras layer / cell config for a family's config; the importer implements it
 * and its errors name the file and layer.
 */
export interface KerasConfigReader {
  /** The activation under `key` (`def` when absent); one of `allowed`, an error otherwise. */
  activation(key: string, def: string, allowed: readonly string[]): string;
  /** The finite number under `key` (`def` when absent); an error otherwise. */
  number(key: string, def: number): number;
}

/** A family's Keras mapping. */
export interface KerasMapping {
  /** Keras layer classes that hold this cell directly (`SimpleRNN`, `LSTM`, `GRU`). */
  readonly layerClasses: readonly string[];
  /** Keras cell classes wrapped by an `RNN` layer (`SimpleRNNCell`, `MyICLSTMCell`, ...). */
  readonly cellClasses: readonly string[];
  /**
   * The weight arrays in Keras order for a config; `useBias` false drops the bias arrays. `stored`,
   * the number of arrays the file holds, selects between layouts of a class that has several (the
   * older 10-weight ICLSTM); the input kernel is the array placed into the parameter `kernel`.
   */
  weights(config: FamilyConfigBase, useBias: boolean, stored?: number): readonly KerasWeight[];
  /**
   * The fields of the family's config (besides type, inputSize, units, constraints) read from the
   * Keras config, in config order (the simple cell's activation, the LRNN constants); absent: none.
   * It may also just check a field (the LSTM's activation); it runs before {@link unsupported}.
   */
  config?(read: KerasConfigReader): Readonly<Record<string, unknown>>;
  /**
   * Parameters the Keras class keeps non-negative by definition (the reference's input-convex
   * cells): they get a non-negative constraint, in this order.
   */
  readonly nonNegative?: readonly string[];
  /**
   * Parameters whose Keras constraint is read from the config: [parameter, Keras config key,
   * Keras weight name for messages] (`NonNeg` and `SpectralConstraint` are kept, others dropped
   * with a warning).
   */
  readonly constraintKeys?: readonly (readonly [string, string, string])[];
  /**
   * What in a Keras layer / cell config this family cannot represent (one phrase, e.g.
   * "reset_after=false is not supported"), or null when it can; absent: everything is accepted.
   */
  unsupported?(kerasConfig: Readonly<Record<string, unknown>>): string | null;
}

/** One cell family. */
export interface CellFamily<C extends FamilyConfigBase = FamilyConfigBase> {
  /** Registry name, equal to the config's `type`. */
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** True when the output is convex and non-decreasing in the input for every admissible weight. */
  readonly inputConvex: boolean;
  /**
   * The values the config's `activation` field may take, for families whose config has one (model
   * files are checked against it); absent: the config has no activation.
   */
  readonly activations?: readonly string[];
  /** The step program of a config. */
  program(config: C): CellProgram;
  /** The Keras mapping, or null when Keras has no such layer. */
  readonly keras: KerasMapping | null;
}

/** The role of a parameter from the constraint a config puts on it. */
export function roleOf(config: FamilyConfigBase, name: string): ParameterRole {
  const c = config.constraints?.[name];
  if (!c) return 'free';
  if (c.type === 'nonNegative') return 'nonNegative';
  if (c.type === 'spectral' && c.nonNegative) return 'convexSpectral';
  return 'free';
}

/** A placement copying a whole array into a parameter. */
export function whole(param: string, length: number): KerasPlacement[] {
  return [{ param, from: 0, to: 0, length }];
}
