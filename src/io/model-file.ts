/** Saving and loading model files (atomic writes, precise errors). */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.ts';
import { DataError } from './errors.ts';
import { modelFromJson, modelToJson, type StoredModel } from './model-format.ts';

/**
 * Saves a model atomically (temp file + rename).
 *
 * @example
 * ```ts
 * const fit = fitModel(generateCstrDataset(), { kind: 'iclrnn', hidden: 16, layers: 1, epochs: 5, seed: 0 });
 * saveModel('iclrnn.json', { ...fit, metadata: { system: 'cstr' } });
 * ```
 */
export function saveModel(path: string, m: StoredModel): void {
  writeFileAtomic(path, JSON.stringify(modelToJson(m)));
}

/**
 * Loads a model file; a missing, unreadable, non-JSON or invalid file gives a DataError naming it.
 *
 * @example
 * ```ts
 * const stored = loadModel('iclrnn.json');
 * const y = predictPhysical(stored, x, 1, 10);
 * ```
 */
export function loadModel(path: string): StoredModel {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? `${path}: model file not found` : `${path}: cannot read model file (${code ?? (e as Error).message})`, { file: path, cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${(e as Error).message}); the model file is corrupt or truncated`, { file: path, cause: e });
  }
  return modelFromJson(json, path);
}
