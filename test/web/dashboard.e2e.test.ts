// End to end in Debian's Chromium: `iclrnn dashboard` serves a fresh build of the app; the test
// simulates the CSTR, trains 3 epochs watching the loss curve grow, inspects, certifies, runs the
// LMPC from a clicked state to the target, imports the shared Keras fixture through the file input
// and checks one prediction against expected.json, reloads and finds the model still there.
// Throughout: no console errors, no main-thread task over 50 ms while training (Long Tasks API),
// no serious/critical axe-core violations, non-blank full-page screenshots of every view
// (artifacts/web/, copied to docs/screenshots/ when ICLRNN_UPDATE_SCREENSHOTS=1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { readMatVariable } from '../../src/io/mat.ts';
import { artifacts, haveChromium, launchChromium, PIXEL_STATS_SCRIPT, root, startDashboard } from './browser.ts';

const fixture = join(root, '..', 'shared', 'fixtures', 'keras', 'icrnn_energy');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface LongTask {
  start: number;
  duration: number;
}

async function axeScan(page: Page, where: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] })`)) as {
    violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`),
    [],
    `axe-core violations in ${where}`,
  );
}

async function screenshot(page: Page, name: string, shots: Map<string, string>): Promise<void> {
  const file = join(artifacts(), `${name}.png`);
  const png = await page.screenshot({ path: file, fullPage: true });
  const stats = (await page.evaluate(`(${PIXEL_STATS_SCRIPT})(${JSON.stringify(png.toString('base64'))})`)) as { width: number; height: number; colors: number; nonWhiteFraction: number };
  assert.ok(stats.width >= 800 && stats.height >= 400, `${name}: screenshot ${stats.width}x${stats.height}`);
  assert.ok(stats.colors >= 12 && stats.nonWhiteFraction > 0.05, `${name}: screenshot looks blank (${JSON.stringify(stats)})`);
  shots.set(name, file);
}

async function openView(page: Page, id: string): Promise<void> {
  await page.click(`#tab-${id}`);
  await page.waitForSelector(`#panel-${id}:not([hidden])`);
}

/** Clicks the phase plane at the state (x, y) using the plot geometry the SVG exposes. */
async function clickPlane(page: Page, testId: string, x: number, y: number): Promise<void> {
  const svg = page.locator(`[data-testid="${testId}"] svg[role="img"]`);
  const box = (await svg.boundingBox())!;
  const g = (await svg.evaluate((el) => ({ ...(el as SVGElement).dataset }))) as Record<string, string>;
  const [x0, x1] = g.xRange.split(',').map(Number), [y0, y1] = g.yRange.split(',').map(Number);
  const vw = Number(g.viewWidth), vh = Number(g.viewHeight);
  const px = Number(g.plotLeft) + ((x - x0) / (x1 - x0)) * (Number(g.plotRight) - Number(g.plotLeft));
  const py = Number(g.plotTop) + (1 - (y - y0) / (y1 - y0)) * (Number(g.plotBottom) - Number(g.plotTop));
  await page.mouse.click(box.x + (px / vw) * box.width, box.y + (py / vh) * box.height);
}

/** Trains 3 epochs; checks the loss curve grows point by point; returns the long tasks seen while training (or null). */
async function trainThreeEpochs(page: Page): Promise<string | null> {
  // every value the chart's point count takes, recorded in the page as it changes
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="loss-chart"]')!;
    const w = window as unknown as { __lossPoints: string[]; __lossTimes: number[]; __lossObserver?: MutationObserver };
    w.__lossObserver?.disconnect();
    w.__lossPoints = [];
    w.__lossTimes = [];
    w.__lossObserver = new MutationObserver(() => {
      w.__lossPoints.push(el.getAttribute('data-points') ?? '');
      w.__lossTimes.push(performance.now());
    });
    w.__lossObserver.observe(el, { attributes: true, attributeFilter: ['data-points'] });
  });
  const trainStart = (await page.evaluate(() => performance.now())) as number;
  await page.click('[data-testid="train-start"]');
  await page.waitForSelector('[data-testid="train-summary"]', { timeout: 60_000 });
  const chart = page.locator('[data-testid="loss-chart"]');
  const seen = (await page.evaluate(() => (window as unknown as { __lossPoints: string[] }).__lossPoints)) as string[];
  const trainEnd = (await page.evaluate(() => performance.now())) as number;
  assert.equal(await chart.getAttribute('data-points'), '3');
  const counts = seen.map(Number).filter((n) => n > 0);
  // the chart updates at most every 50 ms, so fast epochs may arrive together: the point count
  // only grows, and ends at 3
  const distinct = [...new Set(counts)];
  assert.ok(distinct.length >= 1 && distinct.every((c, i) => i === 0 || c > distinct[i - 1]) && distinct.at(-1) === 3, `the loss curve grew epoch by epoch (point counts seen: ${seen.join(', ')})`);
  assert.match((await page.textContent('[data-testid="train-summary"]'))!, /Finished after 3 epochs: test MSE/);
  // the CSTR's test-split persistence baseline (about 5.5e-4) and skill = test MSE / baseline
  const skillEl = page.locator('[data-testid="train-skill"]');
  assert.equal(await skillEl.getAttribute('data-baseline-kind'), 'persistence');
  const base = Number(await skillEl.getAttribute('data-baseline')), skill = Number(await skillEl.getAttribute('data-skill'));
  assert.ok(base > 4e-4 && base < 7e-4, `persistence baseline ${base}`);
  assert.ok(skill > 0 && Number.isFinite(skill), `skill ${skill}`);
  assert.match((await skillEl.textContent())!, /skill \d/);
  // the ICLRNN trains in the WebAssembly SIMD kernels in the page's worker too (Chromium has relaxed SIMD: FMA)
  const kern = page.locator('[data-testid="train-kernels"]');
  assert.equal(await kern.getAttribute('data-backend'), 'wasm', (await kern.textContent()) ?? '');
  assert.equal(await kern.getAttribute('data-precision'), 'f32');
  // while training: from the click to the chart update of the last epoch (saving the model comes after)
  const times = (await page.evaluate(() => (window as unknown as { __lossTimes: number[] }).__lossTimes)) as number[];
  const lastEpochAt = times[times.length - 1] ?? trainEnd;
  const longTasks = ((await page.evaluate(() => (window as unknown as { __longTasks: LongTask[] }).__longTasks)) as LongTask[]).filter(
    (x) => x.start + x.duration >= trainStart && x.start <= lastEpochAt,
  );
  const long = longTasks.filter((x) => x.duration > 50).map((x) => `${Math.round(x.duration)} ms at ${Math.round(x.start - trainStart)} ms`);
  if (long.length === 0) return null;
  return `main-thread tasks over 50 ms while training: ${long.join(', ')} (chart updates at ${times.map((x) => Math.round(x - trainStart)).join(', ')} ms after the click)`;
}

test('dashboard end to end in Chromium: data, train, inspect, certify, control, Keras import, persistence', { timeout: 240_000 }, async (t) => {
  if (!haveChromium(t)) return;
  if (!existsSync(join(fixture, 'model.keras'))) {
    if (process.env.CI === 'true') assert.fail(`Keras fixture missing: ${fixture}`);
    return t.skip(`Keras fixture not found at ${fixture}`);
  }
  const t0 = Date.now();
  let tStep = t0;
  const timings: string[] = [];
  const step = (name: string) => {
    timings.push(`${name} ${((Date.now() - tStep) / 1000).toFixed(1)} s`);
    tStep = Date.now();
  };
  // a fresh build of the current sources (dist/web may be stale or rebuilt meanwhile)
  const out = mkdtempSync(join(tmpdir(), 'iclrnn-web-'));
  const { buildWeb } = (await import(join(root, 'scripts', 'build-web.mjs'))) as { buildWeb: (o: { outdir: string; quiet: boolean }) => Promise<string> };
  await buildWeb({ outdir: out, quiet: true });
  const problems: string[] = [];
  const shots = new Map<string, string>();
  let server: Awaited<ReturnType<typeof startDashboard>> | null = null;
  let chrome: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    server = await startDashboard(out);
    chrome = await launchChromium();
    const page = await chrome.context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });

    // --- open from the server, check the isolation headers
    const response = await page.goto(`${server.url}#view=data`);
    assert.equal(response?.headers()['cross-origin-embedder-policy'], 'require-corp');
    assert.equal(await page.evaluate(() => crossOriginIsolated), true, 'the page is cross-origin isolated');
    await page.waitForSelector('[data-testid="simulate"]');

    // --- Data: simulate the CSTR (every 8th sample: 1544 sequences)
    await page.fill('#cstr-every', '8');
    await page.click('[data-testid="simulate"]');
    await page.waitForSelector('[data-testid="data-count"]', { timeout: 30_000 });
    assert.equal(await page.textContent('[data-testid="data-count"]'), '1544');
    const split = (await page.textContent('[data-testid="split-sizes"]'))!.split('/').map((s) => Number(s.trim()));
    assert.equal(split.reduce((a, b) => a + b, 0), 1544);
    assert.ok(split.every((n) => n > 0));
    step('start + simulate');
    await screenshot(page, 'data', shots);
    await axeScan(page, 'Data view');

    // --- Train: 3 epochs, the loss curve grows epoch by epoch; no long main-thread task meanwhile
    await openView(page, 'train');
    assert.match(page.url(), /view=train/);
    await page.fill('#train-epochs', '3');
    await page.fill('#train-hidden', '12');
    // The Long Tasks check is about wall-clock time on a machine shared with other jobs: a run with
    // a long task is repeated (at most 3 runs); computing on the main thread would fail every run
    // (one epoch here takes a few hundred ms).
    const attempts: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const problem = await trainThreeEpochs(page);
      if (problem === null) break;
      attempts.push(`run ${attempt}: ${problem}`);
      console.log(`# notice: ${problem}; training again`);
    }
    const chart = page.locator('[data-testid="loss-chart"]');
    assert.ok(attempts.length < 3, `no main-thread task over 50 ms while training, in 3 runs:\n${attempts.join('\n')}`);
    // stop and resume: stop after the first epoch of a run far longer than the test (the wasm
    // kernels train this small model in a few ms per epoch), then continue to 2 more epochs
    await page.fill('#train-epochs', '1000000');
    await page.click('[data-testid="train-start"]');
    await page.waitForFunction(() => /^\d+ \/ 1000000$/.test(document.querySelector('[data-testid="train-epoch"]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.click('[data-testid="train-stop"]', { timeout: 20_000 });
    await page.waitForSelector('[data-testid="train-summary"]', { timeout: 60_000 });
    const stoppedAt = Number(/Stopped after (\d+) epochs/.exec((await page.textContent('[data-testid="train-summary"]'))!)?.[1]);
    assert.ok(stoppedAt >= 1 && stoppedAt < 1000000, `training stopped early (after ${stoppedAt} epochs)`);
    await page.fill('#train-epochs', String(stoppedAt + 2));
    await page.click('[data-testid="train-resume"]');
    await page.waitForSelector('[data-testid="train-summary"]', { timeout: 60_000 });
    assert.match((await page.textContent('[data-testid="train-summary"]'))!, new RegExp(`Finished after ${stoppedAt + 2} epochs`));
    assert.equal(await chart.getAttribute('data-points'), String(stoppedAt + 2), 'the resumed run extends the same loss curve');
    step('train');
    await screenshot(page, 'train', shots);
    await axeScan(page, 'Train view');

    // --- Inspect
    await openView(page, 'inspect');
    await page.click('[data-testid="inspect-run"]');
    await page.waitForSelector('[data-testid="inspect-phase"]', { timeout: 30_000 });
    assert.equal(await page.locator('[data-testid="inspect-sample"]').count(), 4);
    step('inspect');
    await screenshot(page, 'inspect', shots);
    await axeScan(page, 'Inspect view');

    // --- Certify: convexity proven, ladder empirical <= attack <= certified, local bound around a clicked test input
    await openView(page, 'certify');
    await page.click('text=Show test inputs');
    await page.waitForSelector('[data-testid="certify-plane"]');
    await clickPlane(page, 'certify-plane', 0.5, -20);
    assert.notEqual(await page.inputValue('#cert-local'), '-1', 'a click picks a test input');
    assert.match(page.url(), /local=\d+/);
    await page.click('[data-testid="certify-run"]');
    await page.waitForSelector('[data-testid="certificate"]', { timeout: 60_000 });
    assert.match((await page.textContent('[data-testid="convexity"]'))!, /PROVEN/);
    const rung = async (name: string) => Number(await page.textContent(`[data-testid="ladder-${name}"]`));
    const [emp, att, cert, local] = [await rung('empirical'), await rung('attack'), await rung('certified'), await rung('local')];
    assert.ok(emp > 0 && emp <= att * (1 + 1e-3) && att <= cert * (1 + 1e-3), `ladder ${emp} <= ${att} <= ${cert}`);
    assert.ok(local > 0 && local <= cert * (1 + 1e-3), `local bound ${local} <= certified ${cert}`);
    step('certify');
    await screenshot(page, 'certify', shots);
    await axeScan(page, 'Certify view');

    // --- Control: click an initial state, run the LMPC (model and first-principles predictors)
    await openView(page, 'control');
    await clickPlane(page, 'control-plane', 1.2, -50);
    const x1 = Number(await page.inputValue('#x0-1')), x2 = Number(await page.inputValue('#x0-2'));
    assert.ok(Math.abs(x1 - 1.2) < 0.05 && Math.abs(x2 + 50) < 2, `clicked state (${x1}, ${x2})`);
    assert.match(page.url(), /x0=/);
    await page.click('[data-testid="mpc-run"]');
    await page.waitForSelector('[data-testid="mpc-results"]', { timeout: 60_000 });
    assert.equal(await page.getAttribute('[data-testid="mpc-result-first-principles"]', 'data-converged'), 'true');
    assert.match((await page.textContent('[data-testid="mpc-result-first-principles"]'))!, /target reached in \d+ steps/);
    assert.equal(await page.locator('[data-testid="mpc-result-model"]').count(), 1, 'the trained model ran as predictor too');
    for (const id of ['mpc-u1', 'mpc-u2', 'mpc-v', 'mpc-hist']) assert.equal(await page.locator(`[data-testid="${id}"]`).count(), 1, id);
    step('control');
    await screenshot(page, 'control', shots);
    await axeScan(page, 'Control view');

    // --- Models: import the Keras fixture with its scalers through the file input, predict sample.mat's U
    await openView(page, 'models');
    await page.setInputFiles('#model-file-input', [join(fixture, 'model.keras'), join(fixture, 'scalers.json')]);
    await page.waitForSelector('[data-testid="models-note"], #panel-models [data-testid="error"]', { timeout: 60_000 });
    assert.equal(await page.locator('#panel-models [data-testid="error"]').count(), 0, `import error: ${await page.locator('#panel-models [data-testid="error"]').allTextContents()}`);
    assert.match((await page.textContent('[data-testid="models-note"]'))!, /Imported model\.keras \+ scalers/);
    const u = await readMatVariable(join(fixture, 'sample.mat'), 'U', { orientation: 'hdf5' });
    const X = Array.from({ length: u.rows }, (_, k) => Array.from(u.data.subarray(k * u.cols, (k + 1) * u.cols)));
    const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8')).Y as number[][];
    await page.fill('#predict-input', JSON.stringify({ X }));
    await page.click('[data-testid="predict-run"]');
    await page.waitForSelector('[data-testid="predict-output"]');
    const Y = JSON.parse((await page.textContent('[data-testid="predict-output"]'))!).Y as number[][];
    assert.equal(Y.length, expected.length);
    const rel = Math.max(...Y.flat().map((v, i) => Math.abs(v - expected.flat()[i]) / Math.max(1e-12, Math.abs(expected.flat()[i]))));
    assert.ok(rel < 1e-6, `prediction of the imported Keras model vs expected.json: max relative error ${rel}`);
    // sweep results file: table and plots
    const sweepFile = join(root, 'results', 'cstr-sweep.json');
    if (existsSync(sweepFile)) {
      await page.setInputFiles('#sweep-file-input', sweepFile);
      await page.waitForSelector('[data-testid="sweep-table"]');
      assert.ok((await page.locator('[data-testid="sweep-table"] tbody tr').count()) > 0);
      // the committed CSTR sweep records persistence (5.51e-4): a skill column and the baseline line
      assert.ok(Math.abs(Number(await page.getAttribute('[data-testid="sweep-baseline"]', 'data-baseline')) - 5.51e-4) < 1e-5);
      assert.ok((await page.locator('[data-testid="sweep-table"] thead th', { hasText: 'skill' }).count()) === 1);
    }
    // --- an error shows in the view that caused it (a file that is no model)
    const bogus = join(out, 'not-a-model.keras');
    writeFileSync(bogus, 'hello');
    await page.setInputFiles('#model-file-input', bogus);
    const importError = '#panel-models > .view-body > [data-testid="error"]';
    await page.waitForSelector(importError, { timeout: 30_000 });
    assert.match((await page.textContent(importError))!, /not-a-model\.keras: not a Keras model file/);
    await page.click(`${importError} button`);
    step('models');
    await screenshot(page, 'models', shots);
    await axeScan(page, 'Models view');

    // --- Data from files: a small CSV, then the shared energy .mat (columns picked, window, stride)
    await openView(page, 'data');
    const csv = join(out, 'plant.csv');
    writeFileSync(csv, 'u,w,y\n' + Array.from({ length: 200 }, (_, i) => `${Math.sin(i / 7)},${i % 5},${Math.cos(i / 9)}`).join('\n') + '\n');
    await page.setInputFiles('#data-file-input', csv);
    await page.waitForSelector('#file-window');
    await page.fill('#file-window', '10');
    await page.fill('#file-stride', '5');
    await page.click('text=Make data set');
    await page.waitForFunction(() => document.querySelector('[data-testid="data-count"]')?.textContent === '39', null, { timeout: 30_000 });
    const energy = join(root, '..', 'shared', 'data', 'energy', 'test_collected_data.mat');
    if (existsSync(energy)) {
      await page.setInputFiles('#data-file-input', energy);
      await page.waitForSelector('text=Y:2', { timeout: 30_000 });
      await page.locator('fieldset', { hasText: 'Inputs' }).getByLabel('Y:1').uncheck();
      await page.locator('fieldset', { hasText: 'Outputs' }).getByLabel('Y:1').check();
      await page.fill('#file-window', '5');
      await page.fill('#file-stride', '5');
      await page.click('text=Make data set');
      await page.waitForFunction(() => document.querySelector('[data-testid="data-count"]')?.textContent === '4000', null, { timeout: 30_000 });
      assert.match((await page.textContent('[data-testid="data-summary"]'))!, /U:1, U:2.*Y:1, Y:2/s);
    } else if (process.env.CI === 'true') assert.fail(`shared data missing: ${energy}`);
    await openView(page, 'models');
    step('data files');

    // --- reload: the same view, the imported model still there (IndexedDB) and in use
    await page.reload();
    await page.waitForSelector('#panel-models:not([hidden])');
    await page.waitForFunction(() => /model\.keras/.test(document.querySelector('[data-testid="current-model"]')?.textContent ?? ''), null, { timeout: 30_000 });
    const rows = await page.locator('[data-testid="saved-models"] tbody tr').allTextContents();
    assert.ok(rows.some((r) => /model\.keras/.test(r)), 'the imported model is listed after the reload');
    assert.ok(rows.some((r) => /iclrnn 1x12, 3 epochs/.test(r)), 'the trained model is listed after the reload');

    assert.deepEqual(problems, [], 'no console errors');
    step('reload');
    console.log(`# dashboard e2e: ${((Date.now() - t0) / 1000).toFixed(1)} s (${timings.join(', ')}; screenshots and axe scans included)`);
  } finally {
    await chrome?.close();
    await server?.stop();
    rmSync(out, { recursive: true, force: true });
  }
  if (process.env.ICLRNN_UPDATE_SCREENSHOTS === '1') {
    const docs = join(root, 'docs', 'screenshots');
    mkdirSync(docs, { recursive: true });
    for (const [name, file] of shots) copyFileSync(file, join(docs, `${name}.png`));
  }
});
