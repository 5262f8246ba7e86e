/**
 * The recurrent cells by family (the config's `type`): one line per family. Families with a
 * hand-written cell (fused forward and backward passes, each tested equal to its program) map to
 * it; families that exist only as programs (`graph/cells/`) map to the program-backed cell.
 * `createCell` looks a config up here instead of branching on its family.
 */
import type { CellConfig, RecurrentCell } from './cell.ts';
import { IclstmCell } from './iclstm-cell.ts';
import { IcrnnCell } from './icrnn-cell.ts';
import { LipschitzCell } from './lipschitz-cell.ts';
import { LstmCell } from './lstm-cell.ts';
import { ProgramCell } from './program-cell.ts';
import { SimpleCell } from './simple-cell.ts';

type ConfigOf<T extends CellConfig['type']> = Extract<CellConfig, { type: T }>;
type Constructors = { readonly [T in CellConfig['type']]: (c: ConfigOf<T>) => RecurrentCell };

/** Cell constructor per family. */
const CONSTRUCTORS: Constructors = {
  simple: (c) => new SimpleCell(c.inputSize, c.units, c.activation, c.constraints),
  lstm: (c) => new LstmCell(c.inputSize, c.units, c.constraints),
  lipschitz: (c) => new LipschitzCell(c.inputSize, c.units, { eps: c.eps, gamma: c.gamma, beta: c.beta, alpha: c.alpha }, c.constraints),
  icrnn: (c) => new IcrnnCell(c.inputSize, c.units, c.constraints),
  iclstm: (c) => new IclstmCell(c.inputSize, c.units, c.constraints),
  gru: (c) => new ProgramCell(c),
};

/** The constructor of a config's family, or null for a type no cell is registered for. */
export function cellConstructor(type: string): ((c: CellConfig) => RecurrentCell) | null {
  return Object.hasOwn(CONSTRUCTORS, type) ? (CONSTRUCTORS[type as CellConfig['type']] as (c: CellConfig) => RecurrentCell) : null;
}

/**
 * Families the WebAssembly kernels implement (`src/wasm/`), per use: the simple cell
 * `h_t = act(x_t K + h_{t-1} R + b)` for training, prediction and forward mode; the LSTM, the
 * ICRNN and the GRU for training. The wasm trainer and predictor decide what they cover from this. A family added here
 * needs its kernels.
 */
const WASM_FAMILIES: { readonly [use in 'train' | 'predict']: ReadonlySet<string> } = {
  train: new Set<CellConfig['type']>(['simple', 'lstm', 'icrnn', 'gru']),
  predict: new Set<CellConfig['type']>(['simple']),
};

/** Whether the wasm kernels implement the cell family `type` for `use` (see {@link WASM_FAMILIES}). */
export function hasWasmKernels(type: string, use: 'train' | 'predict'): boolean {
  return WASM_FAMILIES[use].has(type);
}
