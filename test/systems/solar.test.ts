import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';

import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { DataError } from '../../src/io/errors.ts';
import { csvColumn, numericColumns, readCsvFile } from '../../src/io/csv.ts';
import { loadSolarDataset } from '../../src/io/datasets.ts';
import { assertFiniteDataset } from '../../src/systems/dataset.ts';
import { SOLAR_COLUMNS, SOLAR_FEATURES, resampleSolar, solarDataset, solarWindows, type SolarSeries } from '../../src/systems/solar.ts';
import { haveData, throwsData } from '../helpers.ts';

const SOLAR = fileURLToPath(new URL('../../../shared/data/solar/SolarPrediction.csv', import.meta.url));



/** Synthetic record: one row per time, radiation = time / 300, other columns constant. */
function record(times: number[], extra: Partial<Record<string, number[]>> = {}): Record<string, Float64Array> {
  const n = times.length;
  const col = (name: string, f: (i: number) => number): Float64Array => Float64Array.from(extra[name] ?? Array.from({ length: n }, (_, i) => f(i)));
  return {
    [SOLAR_COLUMNS.time]: Float64Array.from(times),
    [SOLAR_COLUMNS.radiation]: col(SOLAR_COLUMNS.radiation, (i) => times[i] / 300),
    [SOLAR_COLUMNS.temperature]: col(SOLAR_COLUMNS.temperature, () => 50),
    [SOLAR_COLUMNS.pressure]: col(SOLAR_COLUMNS.pressure, () => 30.4),
    [SOLAR_COLUMNS.humidity]: col(SOLAR_COLUMNS.humidity, () => 80),
    [SOLAR_COLUMNS.windDirection]: col(SOLAR_COLUMNS.windDirection, () => 90),
    [SOLAR_COLUMNS.speed]: col(SOLAR_COLUMNS.speed, () => 5),
  };
}

/** Checks that every sequence of `d` covers consecutive grid steps of one segment, and its values. */
function checkWindows(series: SolarSeries, d: ReturnType<typeof solarWindows>): void {
  const F = SOLAR_FEATURES.length;
  const index = new Map<number, number>();
  series.times.forEach((t, i) => index.set(t, i));
  const segOf = new Int32Array(series.length);
  series.segments.forEach((s, k) => segOf.fill(k, s.start, s.end));
  for (let k = 0; k < d.count; k++) {
    const s = index.get(d.startTimes[k]);
    assert.ok(s !== undefined, 'start time is a grid step');
    const last = s + d.steps - 1 + d.lead;
    assert.ok(last < series.length);
    assert.equal(segOf[s], segOf[last], 'a sequence never crosses a gap');
    assert.equal(series.times[last] - series.times[s], (d.steps - 1 + d.lead) * series.stepSeconds, 'consecutive grid steps');
    for (let t = 0; t < d.steps; t++) {
      for (let f = 0; f < F; f++) assert.equal(d.inputs[(k * d.steps + t) * F + f], series.features[(s + t) * F + f]);
      assert.equal(d.targets[k * d.steps + t], series.features[(s + t + d.lead) * F]);
    }
  }
}

describe('solar dataset (SolarPrediction.csv)', () => {
  it('parses, sorts and windows the record without crossing gaps', async (t) => {
    if (!haveData(t, SOLAR)) return;
    const table = await readCsvFile(SOLAR);
    assert.equal(table.rowCount, 32686);
    const cols = numericColumns(table, Object.values(SOLAR_COLUMNS));
    // the rows are not sorted in the file
    const time = cols.get(SOLAR_COLUMNS.time)!;
    assert.ok(time.some((x, i) => i > 0 && x < time[i - 1]));
    // time of day in UTC-10 matches the local Time column for every row
    const clock = csvColumn(table, 'Time');
    for (let i = 0; i < table.rowCount; i++) {
      const s = (((time[i] - 36000) % 86400) + 86400) % 86400;
      const hms = `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
      assert.equal(hms, clock[i], `row ${i + 1}`);
    }
    const series = resampleSolar(cols);
    assert.equal(series.rowsRead, 32686);
    assert.equal(series.duplicatesDropped, 0);
    for (let i = 1; i < series.length; i++) assert.ok(series.times[i] > series.times[i - 1], 'sorted');
    for (const { start, end } of series.segments) {
      for (let i = start + 1; i < end; i++) assert.equal(series.times[i] - series.times[i - 1], 300);
    }
    for (let k = 1; k < series.segments.length; k++) {
      const gap = series.times[series.segments[k].start] - series.times[series.segments[k - 1].end - 1];
      assert.ok(gap > 3 * 300, 'segments are separated by more than 2 empty bins');
    }
    assert.equal(series.gaps, series.segments.length - 1);
    const observed = series.observed.reduce((a, b) => a + b, 0);
    assert.equal(observed + series.filledSteps, series.length);
    assert.ok(observed > 32000 && observed <= 32686);

    const d = await loadSolarDataset(SOLAR);
    assert.equal(d.name, 'solar');
    assert.deepEqual([d.steps, d.inputSize, d.outputSize, d.lead, d.stepSeconds], [12, 9, 1, 3, 300]);
    assert.deepEqual(d.inputNames, [...SOLAR_FEATURES]);
    assert.deepEqual(d.outputNames, ['radiation(t+3)']);
    assert.ok(d.count > 2500, `count ${d.count}`);
    assertFiniteDataset(d);
    checkWindows(series, d);
    // radiation is physical: between ~1 and ~1700 W/m^2
    for (const x of d.targets) assert.ok(x >= 0 && x < 2000);
  });
});

describe('resampleSolar / solarWindows (synthetic)', () => {
  it('sorts, drops repeated timestamps and averages within 5-minute bins', () => {
    const times = [600, 0, 310, 300, 300, 900];
    const s = resampleSolar(record(times, { Radiation: [6, 0, 4, 2, 99, 8] }));
    assert.equal(s.duplicatesDropped, 1);
    assert.deepEqual([...s.times], [0, 300, 600, 900]);
    const rad = [0, 1, 2, 3].map((i) => s.features[i * 9]);
    assert.deepEqual(rad, [0, 3, 6, 8]); // bin 300 averages 2 and 4; the repeated 300 (99) is dropped
    assert.deepEqual([...s.observed], [1, 1, 1, 1]);
  });

  it('fills at most 2 missing bins by interpolation and splits at longer gaps', () => {
    // bins 0,1 | missing 2 | 3,4 | missing 5,6,7 | 8,9
    const times = [0, 1, 3, 4, 8, 9].map((b) => b * 300 + 17);
    const s = resampleSolar(record(times, { Radiation: [0, 1, 3, 4, 8, 9] }), { maxFillSteps: 2 });
    assert.equal(s.filledSteps, 1);
    assert.equal(s.gaps, 1);
    assert.deepEqual(s.segments, [
      { start: 0, end: 5 },
      { start: 5, end: 7 },
    ]);
    assert.deepEqual([...s.observed], [1, 1, 0, 1, 1, 1, 1]);
    assert.equal(s.features[2 * 9], 2); // interpolated radiation
    const strict = resampleSolar(record(times), { maxFillSteps: 0 });
    assert.equal(strict.segments.length, 3);
    assert.equal(strict.filledSteps, 0);
  });

  it('derives wind direction and Hawaii time-of-day features', () => {
    const midnightHst = 10 * 3600; // 00:00 HST = 10:00 UTC on day 0
    const s = resampleSolar(record([midnightHst, midnightHst + 300, midnightHst + 6 * 3600], { 'WindDirection(Degrees)': [90, 180, 0] }));
    const f = (i: number, name: (typeof SOLAR_FEATURES)[number]): number => s.features[i * 9 + SOLAR_FEATURES.indexOf(name)];
    assert.ok(Math.abs(f(0, 'time_of_day_sin')) < 1e-12);
    assert.ok(Math.abs(f(0, 'time_of_day_cos') - 1) < 1e-12);
    assert.ok(Math.abs(f(0, 'wind_dir_sin') - 1) < 1e-12);
    assert.ok(Math.abs(f(1, 'wind_dir_cos') + 1) < 1e-12);
    const i6 = s.times.indexOf(midnightHst + 6 * 3600);
    assert.ok(Math.abs(f(i6, 'time_of_day_sin') - 1) < 1e-12, '06:00 local is a quarter day');
  });

  it('targets are radiation lead steps ahead; windows stay inside segments (property)', () => {
    const arb = fc.record({
      bins: fc.uniqueArray(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
      window: fc.integer({ min: 1, max: 10 }),
      lead: fc.integer({ min: 0, max: 5 }),
      stride: fc.integer({ min: 1, max: 6 }),
      maxFillSteps: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(arb, ({ bins, window, lead, stride, maxFillSteps }) => {
        const times = bins.map((b) => 1_475_000_100 + b * 300 + (b % 7) * 11);
        const series = resampleSolar(record(times), { maxFillSteps });
        let d;
        try {
          d = solarWindows(series, { window, lead, stride });
        } catch (e) {
          assert.ok(e instanceof DataError);
          assert.ok(series.segments.every((s) => s.end - s.start < window + lead));
          return;
        }
        checkWindows(series, d);
        const expected = series.segments.reduce((a, s) => a + Math.max(0, Math.floor((s.end - s.start - window - lead) / stride) + 1), 0);
        assert.equal(d.count, expected);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects missing columns, non-finite values and windows longer than any segment', () => {
    const r = record([0, 300, 600]);
    const partial: Record<string, Float64Array> = { ...r };
    delete partial['Speed'];
    throwsData(() => solarDataset(partial, { source: 's.csv' }), /s\.csv/, /missing column "Speed"; available: /);
    throwsData(() => solarDataset(record([0, 300, 600], { Humidity: [1, Number.NaN, 3] })), /column "Humidity", row 2/);
    throwsData(() => solarDataset(record([0, 300, 600]), { window: 2, lead: 2 }), /longer than every gap-free segment/);
    throwsData(() => solarDataset(record([0, 300, 600]), { window: 0 }), /window must be an integer >= 1/);
    const d = solarDataset(record([0, 300, 600, 900]), { window: 2, lead: 1, stride: 1 });
    assert.deepEqual([d.count, [...d.targets]], [2, [1, 2, 2, 3]]);
  });
});
