/** `iclrnn import MODEL.keras|MODEL.h5 [--scalers SCALERS.json] --out MODEL.json [--json]`. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { importKeras } from '../../io/keras.ts';
import { saveModel } from '../../io/model-file.ts';
import { addCommands } from '../main.ts';
import { emit, UsageError } from '../util.ts';

interface ImportFlags {
  scalers?: string;
  out?: string;
  json?: boolean;
}

async function importCommand(file: string, f: ImportFlags): Promise<void> {
  if (!f.out) throw new UsageError('--out MODEL.json is required');
  if (!existsSync(file)) throw new UsageError(`${file}: Keras model file not found`);
  if (f.scalers !== undefined && !existsSync(f.scalers)) throw new UsageError(`${f.scalers}: scalers file not found`);
  const m = await importKeras(file, { scalers: f.scalers ?? null });
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
      m.inputScaler ? `  predicts in physical units (scalers from ${f.scalers})` : '  no scalers: inputs and outputs are in the Keras model space',
      `  saved ${f.out}`,
    ].join('\n'),
  );
}

addCommands((program: Command) => {
  program
    .command('import')
    .description('import a Keras model (.keras v3 zip or legacy Keras 2 .h5) as an iclrnn model file')
    .argument('<model>', 'Keras model file (.keras or .h5)')
    .option('--scalers <file>', 'scalers.json (x_min, x_max, y_min, y_max, negate_input) so the model predicts in physical units')
    .option('--out <file>', 'iclrnn model file to write')
    .option('--json', 'print a JSON summary')
    .action(importCommand);
});
