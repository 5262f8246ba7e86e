#!/usr/bin/env node
// Regenerates the README's protocol tables (between <!-- protocol-tables:start --> and
// <!-- protocol-tables:end -->) from the protocol results files that exist in results/
// (scripts/protocol.sh writes them): one table per system and column, by scripts/sweep-table.mjs.
// Usage: node scripts/protocol-readme.mjs [--check]   (--check: exit 1 when the README is not up to date)
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const readmePath = `${root}README.md`;
const START = '<!-- protocol-tables:start -->', END = '<!-- protocol-tables:end -->';
const parts = [
  ['cstr', 'full', 'CSTR, `full` (the published 1000 epochs)'],
  ['cstr', 'es', 'CSTR, `es` (early stopping on the validation loss: patience 50, best weights restored, at most 1000 epochs)'],
  ['energy', 'full', 'Energy (waste-heat recovery), `full`'],
  ['energy', 'es', 'Energy, `es`'],
];
const blocks = [
  'Protocol results (regenerate with `node scripts/protocol-readme.mjs`; mean [range, seeds] (skill);',
  'Lipschitz: the reference estimate on the training inputs (≤ certified bound); a dash: not run yet; trained on: kernels and precision the cells of the row trained with; not recorded: cells from before the sweep recorded it).',
];
for (const [system, column, title] of parts) {
  const file = `results/protocol-${system}-${column}.json`;
  if (!existsSync(`${root}${file}`)) continue;
  const table = execFileSync(process.execPath, [`${root}scripts/sweep-table.mjs`, `${root}${file}`], { encoding: 'utf8' }).trim();
  blocks.push('', `**${title}** (\`${file}\`):`, '', table);
}
const readme = readFileSync(readmePath, 'utf8');
const i = readme.indexOf(START), j = readme.indexOf(END);
if (i < 0 || j < i) {
  console.error(`README.md has no ${START} ... ${END} block`);
  process.exit(2);
}
const next = `${readme.slice(0, i + START.length)}\n${blocks.join('\n')}\n${readme.slice(j)}`;
if (process.argv.includes('--check')) process.exit(next === readme ? 0 : 1);
if (next !== readme) {
  writeFileSync(`${readmePath}.tmp`, next);
  renameSync(`${readmePath}.tmp`, readmePath);
}
console.log(next === readme ? 'README protocol tables up to date' : 'README protocol tables regenerated');
