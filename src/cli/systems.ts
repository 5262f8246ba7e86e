/** Which data set a `--system` flag means, and how to rebuild it for `eval`. */
import { existsSync } from 'node:fs';
import { loadEnergyDataset, loadSolarDataset, loadTimeSeries } from '../io/datasets.ts';
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
function dataPath(o: DataOptions): string {
  if (!o.data) throw new UsageError(`--system ${o.system} needs --data FILE (${o.system === 'energy' ? 'the .mat file with U and Y' : o.system === 'solar' ? 'SolarPrediction.csv' : 'a .csv or .mat file'})`);
  if (!existsSync(o.data)) throw new UsageError(`${o.data}: data file not found`);
  return o.data;
}

const loaders = new Map<SystemName, Loader>([
  ['cstr', async () => generateCstrDataset()],
  ['energy', async (o) => loadEnergyDataset(dataPath(o), { window: o.window, stride: o.stride })],
  ['solar', async (o) => loadSolarDataset(dataPath(o), { window: o.window, stride: o.stride })],
  [
    'timeseries',
    async (o) => {
      const path = dataPath(o);
      if (!o.inputs?.length || !o.outputs?.length) throw new UsageError('--system timeseries needs --inputs COLS and --outputs COLS');
      if (!o.window) throw new UsageError('--system timeseries needs --window W');
      return loadTimeSeries(path, { inputs: o.inputs, outputs: o.outputs, window: o.window, stride: o.stride });
    },
  ],
]);

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
