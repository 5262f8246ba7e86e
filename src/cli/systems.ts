/** Which data set a `--system` flag means, and how to rebuild it for `eval`. */
import { generateCstrDataset } from '../systems/cstr.ts';
import type { SequenceDataset } from '../systems/dataset.ts';
import { UsageError } from './util.ts';

export const SYSTEMS = ['cstr', 'energy', 'solar', 'timeseries'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** Data options recorded in the model file so `eval` can rebuild the same data. */
export interface DataOptions {
  system: SystemName;
  data?: string;
  inputs?: string[];
  outputs?: string[];
  window?: number;
  stride?: number;
  splitSeed: number;
}

type Loader = (o: DataOptions) => Promise<SequenceDataset>;
const loaders = new Map<SystemName, Loader>([['cstr', async () => generateCstrDataset()]]);

/** Registers the loader of a system (file-based systems live in io/). */
export function registerSystem(name: SystemName, loader: Loader): void {
  loaders.set(name, loader);
}

/** Loads the data set a set of data options describes. */
export async function loadSystem(o: DataOptions): Promise<SequenceDataset> {
  if (!SYSTEMS.includes(o.system)) throw new UsageError(`unknown system '${o.system}' (expected one of ${SYSTEMS.join(', ')})`);
  const loader = loaders.get(o.system);
  if (!loader) throw new UsageError(`system '${o.system}' is not available in this build`);
  return loader(o);
}
