/**
 * Adds the naive baseline and the skill to the cells of sweep results files written before sweeps
 * recorded them (issue 15), and refreshes their HTML reports.
 *
 *   npx tsx scripts/add-baselines.ts results/cstr-sweep.json[=results/cstr-report.html] ...
 *
 * For each results file: rebuilds the data set from the file's own configuration (system, data
 * file, window, split seed), fits the output scaler on the training part of that split exactly as
 * `fitModel` does (the baseline needs no model), computes the naive forecast's test MSE and the
 * mean predictor's (src/train/metrics.ts), and sets on every finished cell `baselineMse`,
 * `skill = testMse / baselineMse`, `meanPredictorMse` and `baselineKind`. The file is rewritten
 * atomically under its lock (the sweep's own lock, so a running sweep on the same file loses
 * nothing). Nothing else in a cell changes. Cells that already hold a different baseline are an
 * error (a different data set or split), not overwritten.
 *
 * With `=REPORT`, the report's test-MSE, Lipschitz, timing and cell sections are rendered again from
 * the updated results and replaced in place; the other sections (phase portraits, MPC runs, drawn
 * from model files that are not in the repository) are kept as they are. Without an existing
 * report a full one is written (as `iclrnn sweep --report`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadSystem, SYSTEMS, type DataOptions } from '../src/cli/systems.ts';
import { readSweepFile, withSweepFileLock } from '../src/cli/sweep-store.ts';
import { writeSweepReport } from '../src/cli/commands/sweep.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { renderCellsTable, renderLipschitzSection, renderMseSection, renderTimingSection, reportRowsFromSweep } from '../src/report/html.ts';
import { cellSettingsOf } from '../src/train/distributed/payload.ts';
import { evaluateBaselines, skillRatio, type BaselineReport } from '../src/train/metrics.ts';
import { prepareData } from '../src/train/pipeline.ts';
import { parseSweepResults, type SweepResults } from '../src/train/sweep.ts';

/** The baselines of a results file's data set and split. */
async function baselinesOf(results: SweepResults): Promise<BaselineReport> {
  const settings = cellSettingsOf(results.config, SYSTEMS);
  const dataset = await loadSystem(settings.data as DataOptions);
  const prepared = prepareData(dataset, { splitSeed: settings.data.splitSeed });
  return evaluateBaselines(dataset, prepared.split, prepared.outputScaler);
}

/** Sets the baseline fields of every finished cell; returns how many cells changed. */
function addBaselines(results: SweepResults, b: BaselineReport): number {
  let changed = 0;
  for (const c of Object.values(results.cells)) {
    if (c.status !== 'done') continue;
    if (typeof c.baselineMse === 'number' && c.baselineMse !== b.baselineMse)
      throw new Error(`cell ${c.key} already holds baselineMse ${c.baselineMse}, not ${b.baselineMse}: another data set or split?`);
    const skill = typeof c.testMse === 'number' ? skillRatio(c.testMse, b.baselineMse) : null;
    if (c.baselineMse === b.baselineMse && c.skill === skill && c.meanPredictorMse === b.meanMse && c.baselineKind === b.kind) continue;
    c.baselineMse = b.baselineMse;
    c.skill = skill;
    c.meanPredictorMse = b.meanMse;
    c.baselineKind = b.kind;
    changed++;
  }
  return changed;
}

/** Replaces `<section id="ID">...</section>` (one section, no nesting) in a report with `html`. */
function replaceSection(report: string, id: string, html: string): string {
  const start = report.indexOf(`<section id="${id}">`);
  if (start < 0) throw new Error(`the report has no section '${id}'`);
  const end = report.indexOf('</section>', start);
  if (end < 0) throw new Error(`section '${id}' of the report is not closed`);
  return report.slice(0, start) + html + report.slice(end + '</section>'.length);
}

function refreshReport(results: SweepResults, resultsPath: string, reportPath: string): string {
  if (!existsSync(reportPath)) {
    writeSweepReport(results, resultsPath, reportPath);
    return 'written';
  }
  const system = typeof results.config.system === 'string' ? results.config.system : undefined;
  const rows = reportRowsFromSweep(results);
  let html = readFileSync(reportPath, 'utf8');
  html = replaceSection(html, 'mse', renderMseSection(rows, system));
  html = replaceSection(html, 'lipschitz', renderLipschitzSection(rows, system));
  html = replaceSection(html, 'timing', renderTimingSection(rows));
  html = replaceSection(html, 'cells', renderCellsTable(rows));
  writeFileAtomic(reportPath, html);
  return 'sections mse, lipschitz, timing and cells re-rendered';
}

async function main(): Promise<void> {
  const specs = process.argv.slice(2);
  if (!specs.length) {
    console.error('usage: npx tsx scripts/add-baselines.ts RESULTS.json[=REPORT.html] ...');
    process.exit(2);
  }
  for (const spec of specs) {
    const [resultsPath, reportPath] = spec.split('=');
    const first = readSweepFile(resultsPath);
    if (first === null) throw new Error(`${resultsPath}: not found`);
    const b = await baselinesOf(parseSweepResults(first));
    const updated = await withSweepFileLock(resultsPath, () => {
      const results = parseSweepResults(readSweepFile(resultsPath));
      const changed = addBaselines(results, b);
      if (changed) writeFileAtomic(resultsPath, JSON.stringify(results, null, 1) + '\n');
      return { results, changed };
    });
    const fmt = (x: number | null) => (x === null ? 'none' : x.toExponential(3));
    console.log(`${resultsPath}: ${b.kind} baseline ${fmt(b.baselineMse)}, mean predictor ${fmt(b.meanMse)} (${b.testCount} test sequences); ${updated.changed} cell(s) updated`);
    if (reportPath) console.log(`  ${reportPath}: ${refreshReport(updated.results, resultsPath, reportPath)}`);
  }
}

await main();
