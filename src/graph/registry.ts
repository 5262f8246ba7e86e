/**
 * The open registry of cell families: name -> {@link CellFamily}. A new family is one file under
 * `cells/` plus one line in {@link FAMILIES}. Everything generic (the evaluate / reverse
 * interpreters, `ProgramCell`, the analyses) looks families up here instead of branching on them.
 */
import { ValidationError } from '../core/errors.ts';
import type { CellFamily, FamilyConfigBase } from './family.ts';
import type { CellProgram } from './program.ts';
import { denseFamily } from './cells/dense.ts';
import { gruFamily } from './cells/gru.ts';
import { iclstmFamily } from './cells/iclstm.ts';
import { icrnnFamily } from './cells/icrnn.ts';
import { lipschitzFamily } from './cells/lipschitz.ts';
import { lstmFamily } from './cells/lstm.ts';
import { simpleFamily } from './cells/simple.ts';

/** Every registered family, by name (one line per family). */
export const FAMILIES: ReadonlyMap<string, CellFamily> = new Map<string, CellFamily>([
  ['simple', simpleFamily as CellFamily],
  ['lstm', lstmFamily as CellFamily],
  ['lipschitz', lipschitzFamily as CellFamily],
  ['icrnn', icrnnFamily as CellFamily],
  ['iclstm', iclstmFamily as CellFamily],
  ['gru', gruFamily as CellFamily],
  ['dense', denseFamily as CellFamily],
]);

/** The family of a name; a {@link ValidationError} listing the known ones otherwise. */
export function cellFamily(name: string): CellFamily {
  const f = FAMILIES.get(name);
  if (!f) throw new ValidationError(`unknown cell family '${name}' (known: ${[...FAMILIES.keys()].join(', ')})`);
  return f;
}

/** The step program of a config (its `type` names the family). */
export function programOf(config: FamilyConfigBase): CellProgram {
  if (!Number.isInteger(config.inputSize) || config.inputSize < 1)
    throw new ValidationError(`${config.type}: inputSize must be a positive integer, got ${config.inputSize}`);
  if (!Number.isInteger(config.units) || config.units < 1) throw new ValidationError(`${config.type}: units must be a positive integer, got ${config.units}`);
  return cellFamily(config.type).program(config);
}

/** The family whose Keras mapping names a layer class (`GRU`) or a cell class (`GRUCell`), or null. */
export function familyOfKerasClass(className: string): CellFamily | null {
  for (const f of FAMILIES.values())
    if (f.keras && (f.keras.layerClasses.includes(className) || f.keras.cellClasses.includes(className))) return f;
  return null;
}
