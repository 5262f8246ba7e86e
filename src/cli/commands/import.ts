/** `iclrnn import MODEL.keras|MODEL.h5 [--scalers SCALERS.json] --out MODEL.json [--json]`. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { importKeras } from '../../io/keras.ts';
import { saveModel } from '../../io/model-file.ts';
import { checkOutputPath } from '../../io/output-path.ts';
import { emit, UsageError } from '../util.ts';

interface ImportFlags {
  scalers?: string;
  scalerX?: string;
  scalerY?: string;
  plainInputs?: boolean;
  out?: string;
  force?: boolean;
  json?: boolean;
}

async function importCommand(file: string, f: ImportFlags): Promise<void> {
  if (!f.out) throw new UsageError('--out MODEL.json is required', { flag: '--out' });
  checkOutputPath(f.out, { flag: '--out', kind: 'model', force: f.force });
  if (!existsSync(file)) throw new UsageError(`${file}: Keras model file not found`);
  if (f.scalers !== undefined && !existsSync(f.scalers)) throw new UsageError(`${f.scalers}: scalers file not found`, { flag: '--scalers' });
  for (const [flag, v] of [['--scaler-x', f.scalerX], ['--scaler-y', f.scalerY]] as const)
    if (v !== undefined && !existsSync(v)) throw new UsageError(`${v}: scaler file not found`, { flag });
  if ((f.scalerX === undefined) !== (f.scalerY === undefined))
    throw new UsageError(`${f.scalerX === undefined ? '--scaler-x' : '--scaler-y'} is missing: give both pickled scalers or neither`, { flag: f.scalerX === undefined ? '--scaler-x' : '--scaler-y' });
  if (f.scalers !== undefined && f.scalerX !== undefined) throw new UsageError('give either --scalers or --scaler-x/--scaler-y, not both', { flag: '--scalers' });
  const m = await importKeras(file, { scalers: f.scalers ?? null, scalerX: f.scalerX ?? null, scalerY: f.scalerY ?? null, plainInputs: f.plainInputs ?? null });
  saveModel(f.out, m);
  const spec = m.model.spec;
  const summary = {
    model: spec.kind,
    format: m.format,
    inputSize: m.model.inputSize,
    outputSize: m.model.outputSize,
    augmentation: spec.augmentation,
    scaled: m.inputScaler !== null,
    layers: spec.cells.length + spec.head.length,
    parameters: m.model.parameterCount(),
    warnings: m.warnings,
    out: f.out,
  };
  if (!f.json) for (const w of m.warnings) process.stderr.write(`iclrnn: warning: ${w}\n`);
  emit(!!f.json, summary, () =>
    [
      `imported ${file} (${m.format}) as ${spec.kind}: ${spec.cells.length} recurrent + ${spec.head.length} dense layers, ` +
        `${summary.inputSize} inputs${spec.augmentation ? ' (augmented [x, offset - x])' : ''} -> ${summary.outputSize} outputs, ${summary.parameters} weights`,
      m.inputScaler
        ? `  predicts in physical units (scalers from ${f.scalers ?? `${f.scalerX} + ${f.scalerY}`})`
        : `  no scalers: inputs and outputs are in the Keras model space (${spec.augmentation ? 'plain scaled x; the model builds [x, 1 - x]' : 'every Keras input column, e.g. the scaled [x, -x] of an input-convex model'})`,
      `  saved ${f.out}`,
    ].join('\n'),
  );
}

/** Registers `iclrnn import` (listed in commands/index.ts, loaded when it runs). */
export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import a Keras model (.keras v3 zip or legacy Keras 2 .h5) as an iclrnn model file')
    .argument('<model>', 'Keras model file (.keras or .h5)')
    .option('--scalers <file>', 'scalers.json (x_min, x_max, y_min, y_max, negate_input) so the model predicts in physical units')
    .option('--scaler-x <file>', "the reference's pickled scikit-learn MinMaxScaler of the inputs (iclrnn_scaler_X; read without executing anything)")
    .option('--scaler-y <file>', "the reference's pickled scikit-learn MinMaxScaler of the outputs (iclrnn_scaler_y)")
    .option('--plain-inputs', 'without scalers: the Keras model takes min-max scaled [x, -x]; make the imported model take the plain scaled x and build [x, 1 - x] itself')
    .option('--out <file>', 'iclrnn model file to write')
    .option('--force', 'replace --out even when it is not an iclrnn model file')
    .option('--json', 'print a JSON summary')
    .action(importCommand);
}
