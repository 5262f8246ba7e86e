// The HTML reports in Chromium: the committed ones (results/*.html, from the demo and the sweeps)
// and a fresh small one rendered here from the library (sweep rows, phase portraits of a tiny
// model, a first-principles LMPC run). No console errors; every requested section has content (a
// plot or a table with rows), none is a placeholder. Requested: all six for the fresh report and
// the CSTR reports (MSE, Lipschitz, timing, phase portraits, MPC, cells); the four data sections
// for the others (an energy sweep has no phase portraits or MPC).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { createCstrLmpc, runCstrClosedLoop } from '../../src/apps/cstr-lmpc.ts';
import { renderReport, reportRowsFromSweep } from '../../src/report/html.ts';
import { cstrPhasePortraits } from '../../src/report/phase.ts';
import { fitModel } from '../../src/train/pipeline.ts';
import { parseSweepResults } from '../../src/train/sweep.ts';
import { smallCstr } from '../helpers.ts';
import { haveChromium, launchChromium, root } from './browser.ts';

interface SectionFacts {
  id: string;
  title: string;
  empty: boolean;
  svgMarks: number;
  tableRows: number;
  notes: string[];
}

async function inspectReport(context: BrowserContext, file: string): Promise<{ errors: string[]; sections: SectionFacts[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  const sections = (await page.evaluate(() =>
    Array.from(document.querySelectorAll('section')).map((s) => ({
      id: s.id,
      title: s.querySelector('h2')?.textContent ?? '',
      empty: s.hasAttribute('data-empty'),
      // drawn marks: paths, polylines, circles, rects inside plots (the frame alone is not content)
      svgMarks: s.querySelectorAll('svg path, svg polyline, svg circle, svg line').length,
      tableRows: s.querySelectorAll('table tbody tr, table tr td').length,
      notes: Array.from(s.querySelectorAll('.note')).map((n) => n.textContent ?? ''),
    })),
  )) as SectionFacts[];
  await page.close();
  return { errors, sections };
}

function checkSections(name: string, facts: { errors: string[]; sections: SectionFacts[] }, required: string[]): void {
  assert.deepEqual(facts.errors, [], `${name}: console errors`);
  const ids = facts.sections.map((s) => s.id);
  for (const id of required) assert.ok(ids.includes(id), `${name}: section '${id}' is missing (has ${ids.join(', ')})`);
  // the requested sections must have content; others (e.g. MPC in an energy report) may hold a note
  for (const s of facts.sections.filter((x) => required.includes(x.id))) {
    const placeholder = s.empty || s.notes.some((n) => /^No .* (were|was) supplied|no data/i.test(n.trim()));
    assert.ok(!placeholder && (s.svgMarks > 2 || s.tableRows > 0), `${name}: section '${s.id}' (${s.title}) is empty: ${s.notes.join(' ') || 'no plot, no table rows'}`);
  }
}

test('HTML reports render in Chromium without console errors and with every section filled', { timeout: 180_000 }, async (t) => {
  if (!haveChromium(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'iclrnn-report-test-'));
  const chrome = await launchChromium({ width: 1200, height: 900 });
  const failures: string[] = [];
  try {
    // a fresh small report from the library
    const sweepFile = join(root, 'results', 'cstr-sweep.json');
    assert.ok(existsSync(sweepFile), `${sweepFile} is committed`);
    const rows = reportRowsFromSweep(parseSweepResults(JSON.parse(readFileSync(sweepFile, 'utf8'))));
    const fit = fitModel(smallCstr(16), { kind: 'iclrnn', hidden: 6, layers: 1, epochs: 2, seed: 1 });
    const run = runCstrClosedLoop(createCstrLmpc('first-principles'), [1.5, -70]);
    const html = renderReport({
      title: 'iclrnn test report',
      system: 'cstr',
      rows,
      phasePortraits: [{ label: 'ICLRNN 1x6, 2 epochs', panels: cstrPhasePortraits(fit, { periods: 3 }) }],
      mpcRuns: [{ label: 'first-principles', t: run.t, x1: run.x.map((x) => x[0]), x2: run.x.map((x) => x[1]), u1: run.u.map((u) => u[0]), u2: run.u.map((u) => u[1]), solveSeconds: run.solveSeconds }],
      requireSections: ['mse', 'lipschitz', 'timing', 'phase', 'mpc', 'cells'],
    });
    const fresh = join(dir, 'fresh-report.html');
    writeFileSync(fresh, html);
    checkSections('fresh report', await inspectReport(chrome.context, fresh), ['mse', 'lipschitz', 'timing', 'phase', 'mpc', 'cells']);

    // the committed reports (demo / sweeps); each problem is collected so all of them get reported
    const reports = readdirSync(join(root, 'results')).filter((f) => f.endsWith('.html')).sort();
    assert.ok(reports.length > 0, 'results/*.html exist');
    for (const f of reports) {
      const required = ['mse', 'lipschitz', 'timing', 'cells', ...(/cstr/.test(f) ? ['phase', 'mpc'] : [])];
      try {
        checkSections(`results/${f}`, await inspectReport(chrome.context, join(root, 'results', f)), required);
      } catch (e) {
        failures.push((e as Error).message.split('\n')[0]);
      }
    }
  } finally {
    await chrome.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(failures, [], 'committed reports');
});
