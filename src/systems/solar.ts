/**
 * Solar irradiance forecasting from a weather-station record (REFERENCE section 2: the HI-SEAS
 * `SolarPrediction.csv`, Hawaii, Sept to Dec 2016, about 5-minute samples, unsorted, with gaps).
 *
 * Pure functions over arrays (no Node APIs): usable in a browser. The file loader is
 * `loadSolarDataset` in `src/io/datasets.ts`.
 *
 * Task definition (with the defaults; each number is an option of {@link solarDataset}):
 *
 * 1. Rows are sorted by `UNIXTime`; rows repeating an earlier timestamp are dropped (the first in
 *    file order is kept).
 * 2. Resampling to a regular 5-minute grid: bin k covers UNIX times `[300k, 300k + 300)` and is
 *    labelled by its start `300k`. Each quantity is averaged over the samples in the bin; wind
 *    direction is averaged as the components `sin(dir)`, `cos(dir)` (not as an angle).
 * 3. Gaps: a run of at most 2 empty bins (at most 10 minutes) between two non-empty bins is filled
 *    by linear interpolation in time. A longer run of empty bins is a gap: it splits the record
 *    into segments and nothing is interpolated across it. No sequence crosses a gap.
 * 4. Input features at grid step t (9, physical units): radiation (W/m^2), temperature (deg F),
 *    pressure (inHg), humidity (%), sin and cos of the wind direction, wind speed (mph), sin and
 *    cos of the local time of day at the bin start, `2*pi*((t_unix - 10*3600) mod 86400) / 86400`
 *    (Hawaii standard time, UTC-10, no daylight saving).
 * 5. Target at grid step t (1): radiation at step t + 3, i.e. 15 minutes ahead. The models are
 *    sequence-to-sequence with one output row per input row, so each input row gets the
 *    radiation `lead` steps after it.
 * 6. Sequences: 12 steps (1 hour). Within each segment, starts are s = first step, then every 12
 *    steps (non-overlapping inputs); a sequence starting at s has inputs at steps s .. s+11 and
 *    targets from steps s+3 .. s+14, all of which must lie in the same segment.
 *
 * In short: `x_t = features(t)`, `y_t = radiation(t + lead)`, for t = s .. s + window - 1.
 */
import { DataError } from '../core/errors.ts';
import type { SequenceDataset } from './dataset.ts';
import { type ColumnSource, checkInteger } from './timeseries.ts';

/** Column names of `SolarPrediction.csv` that the dataset uses. */
export const SOLAR_COLUMNS = {
  time: 'UNIXTime',
  radiation: 'Radiation',
  temperature: 'Temperature',
  pressure: 'Pressure',
  humidity: 'Humidity',
  windDirection: 'WindDirection(Degrees)',
  speed: 'Speed',
} as const;

/** Names of the 9 input features, in order. */
export const SOLAR_FEATURES = [
  'radiation',
  'temperature',
  'pressure',
  'humidity',
  'wind_dir_sin',
  'wind_dir_cos',
  'speed',
  'time_of_day_sin',
  'time_of_day_cos',
] as const;

/** Options of {@link resampleSolar}. */
export interface SolarResampleOptions {
  /** Grid step in seconds. Default 300 (5 minutes). */
  stepSeconds?: number;
  /** Longest run of empty bins that is filled by interpolation; longer runs split segments. Default 2. */
  maxFillSteps?: number;
  /** Local time offset from UTC in hours, for the time-of-day features. Default -10 (Hawaii). */
  utcOffsetHours?: number;
  /** Label of the data source (e.g. the file path), used in error messages. */
  source?: string;
}

/** Options of {@link solarDataset}. */
export interface SolarOptions extends SolarResampleOptions {
  /** Steps per sequence. Default 12 (1 hour). */
  window?: number;
  /** Steps between the target and its input row. Default 3 (15 minutes ahead). */
  lead?: number;
  /** Steps between sequence starts within a segment. Default: `window`. */
  stride?: number;
}

/** The record on its regular grid: only steps inside segments are stored. */
export interface SolarSeries {
  /** Grid step in seconds. */
  stepSeconds: number;
  /** Number of stored grid steps. */
  length: number;
  /** UNIX time (s) of each stored step's bin start; consecutive within a segment (+stepSeconds). */
  times: Float64Array;
  /** length x 9 features, row-major, in the order of {@link SOLAR_FEATURES}. */
  features: Float64Array;
  /** 1 where the bin held at least one sample, 0 where it was filled by interpolation. */
  observed: Uint8Array;
  /** Segments as half-open index ranges `[start, end)` into the stored steps. */
  segments: Array<{ start: number; end: number }>;
  /** Input rows read. */
  rowsRead: number;
  /** Rows dropped because their timestamp repeats an earlier row. */
  duplicatesDropped: number;
  /** Number of bins filled by interpolation. */
  filledSteps: number;
  /** Number of gaps (runs of empty bins longer than maxFillSteps). */
  gaps: number;
}

/** A {@link SequenceDataset} named `'solar'` plus where each sequence came from. */
export interface SolarDataset extends SequenceDataset {
  /** Grid step in seconds. */
  stepSeconds: number;
  /** Target lead in steps. */
  lead: number;
  /** UNIX time (s) of the first input step of each sequence (`count` values). */
  startTimes: Float64Array;
}

function getColumn(columns: ColumnSource, name: string): ArrayLike<number> | undefined {
  if (columns instanceof Map) return columns.get(name);
  return Object.prototype.hasOwnProperty.call(columns, name) ? (columns as Record<string, ArrayLike<number>>)[name] : undefined;
}

function columnNames(columns: ColumnSource): string[] {
  return columns instanceof Map ? [...columns.keys()] : Object.keys(columns);
}

/**
 * Sorts, de-duplicates and resamples the weather record to a regular grid (steps 1 to 3 of the
 * task definition in the module documentation) and computes the 9 input features.
 *
 * @param columns numeric columns named as in {@link SOLAR_COLUMNS} (other columns are ignored)
 * Throws {@link DataError} for a missing column (listing the available ones), columns of unequal
 * length, a non-finite value (1-based row and column name), an empty record or bad options.
 */
export function resampleSolar(columns: ColumnSource, options: SolarResampleOptions = {}): SolarSeries {
  const { stepSeconds = 300, maxFillSteps = 2, utcOffsetHours = -10, source } = options;
  const where = source === undefined ? '' : `${source}: `;
  if (!(stepSeconds > 0) || !Number.isFinite(stepSeconds)) throw new DataError(`${where}stepSeconds must be a positive number, got ${stepSeconds}`);
  checkInteger(maxFillSteps, `${where}maxFillSteps`, 0);
  if (!Number.isFinite(utcOffsetHours)) throw new DataError(`${where}utcOffsetHours must be finite, got ${utcOffsetHours}`);

  const names = Object.values(SOLAR_COLUMNS);
  const cols = names.map((name) => {
    const c = getColumn(columns, name);
    if (c === undefined) {
      throw new DataError(
        `${where}missing column "${name}"; available: ${columnNames(columns).map((a) => `"${a}"`).join(', ')}`,
        { file: source, variable: name },
      );
    }
    return c;
  });
  const n = cols[0].length;
  cols.forEach((c, j) => {
    if (c.length !== n) {
      throw new DataError(`${where}column "${names[j]}" has ${c.length} rows but "${names[0]}" has ${n}`, { file: source, variable: names[j] });
    }
    for (let r = 0; r < n; r++) {
      if (!Number.isFinite(c[r])) {
        throw new DataError(`${where}column "${names[j]}", row ${r + 1}: value ${c[r]} is not a finite number`, {
          file: source,
          variable: names[j],
          row: r + 1,
          column: names[j],
        });
      }
    }
  });
  if (n === 0) throw new DataError(`${where}the record has no rows`, { file: source });
  const [time, rad, temp, pres, hum, wdir, speed] = cols;

  // 1. sort by time (stable), drop repeated timestamps
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a] - time[b] || a - b);
  const kept: number[] = [];
  let duplicatesDropped = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && time[order[i]] === time[order[i - 1]]) duplicatesDropped++;
    else kept.push(order[i]);
  }

  // 2. bins: sums of 7 raw quantities (radiation, temp, pressure, humidity, sin, cos, speed)
  const RAW = 7;
  const k0 = Math.floor(time[kept[0]] / stepSeconds);
  const k1 = Math.floor(time[kept[kept.length - 1]] / stepSeconds);
  const span = k1 - k0 + 1;
  const sums = new Float64Array(span * RAW);
  const counts = new Int32Array(span);
  for (const r of kept) {
    const b = Math.floor(time[r] / stepSeconds) - k0;
    const a = (wdir[r] * Math.PI) / 180;
    const o = b * RAW;
    sums[o] += rad[r];
    sums[o + 1] += temp[r];
    sums[o + 2] += pres[r];
    sums[o + 3] += hum[r];
    sums[o + 4] += Math.sin(a);
    sums[o + 5] += Math.cos(a);
    sums[o + 6] += speed[r];
    counts[b]++;
  }
  for (let b = 0; b < span; b++) if (counts[b] > 0) for (let q = 0; q < RAW; q++) sums[b * RAW + q] /= counts[b];

  // 3. fill short runs of empty bins; longer runs become gaps
  const keep = new Uint8Array(span); // 1 observed, 2 filled
  let filledSteps = 0;
  let gaps = 0;
  let prev = -1;
  for (let b = 0; b < span; b++) {
    if (counts[b] === 0) continue;
    keep[b] = 1;
    if (prev >= 0 && b - prev > 1) {
      const run = b - prev - 1;
      if (run <= maxFillSteps) {
        for (let m = prev + 1; m < b; m++) {
          const w = (m - prev) / (b - prev);
          for (let q = 0; q < RAW; q++) sums[m * RAW + q] = (1 - w) * sums[prev * RAW + q] + w * sums[b * RAW + q];
          keep[m] = 2;
          filledSteps++;
        }
      } else {
        gaps++;
      }
    }
    prev = b;
  }

  // 4. store kept steps with features
  let length = 0;
  for (let b = 0; b < span; b++) if (keep[b]) length++;
  const F = SOLAR_FEATURES.length;
  const times = new Float64Array(length);
  const features = new Float64Array(length * F);
  const observed = new Uint8Array(length);
  const segments: Array<{ start: number; end: number }> = [];
  const offset = utcOffsetHours * 3600;
  let idx = 0;
  let lastBin = -2;
  for (let b = 0; b < span; b++) {
    if (!keep[b]) continue;
    if (b !== lastBin + 1) {
      if (segments.length > 0) segments[segments.length - 1].end = idx;
      segments.push({ start: idx, end: idx });
    }
    lastBin = b;
    const t = (k0 + b) * stepSeconds;
    times[idx] = t;
    observed[idx] = keep[b] === 1 ? 1 : 0;
    const day = (((t + offset) % 86400) + 86400) % 86400;
    const phase = (2 * Math.PI * day) / 86400;
    const o = idx * F;
    for (let q = 0; q < RAW; q++) features[o + q] = sums[b * RAW + q];
    features[o + 7] = Math.sin(phase);
    features[o + 8] = Math.cos(phase);
    idx++;
  }
  segments[segments.length - 1].end = idx;
  return { stepSeconds, length, times, features, observed, segments, rowsRead: n, duplicatesDropped, filledSteps, gaps };
}

/**
 * Cuts a resampled series into sequences (steps 4 to 6 of the task definition):
 * `x_t = features(t)`, `y_t = radiation(t + lead)` for `t = s .. s + window - 1`, with starts `s`
 * every `stride` steps from each segment's first step and `s + window - 1 + lead` inside the same
 * segment. Throws {@link DataError} for bad options or when no sequence fits in any segment.
 */
export function solarWindows(series: SolarSeries, options: Pick<SolarOptions, 'window' | 'lead' | 'stride' | 'source'> = {}): SolarDataset {
  const { window = 12, lead = 3, source } = options;
  const stride = options.stride ?? window;
  const where = source === undefined ? '' : `${source}: `;
  checkInteger(window, `${where}window`, 1);
  checkInteger(lead, `${where}lead`, 0);
  checkInteger(stride, `${where}stride`, 1);
  const starts: number[] = [];
  let longest = 0;
  for (const { start, end } of series.segments) {
    longest = Math.max(longest, end - start);
    for (let s = start; s + window + lead <= end; s += stride) starts.push(s);
  }
  if (starts.length === 0) {
    throw new DataError(
      `${where}window of ${window} steps plus lead ${lead} is longer than every gap-free segment of the data (longest: ${longest} steps of ${series.stepSeconds} s)`,
      { file: source },
    );
  }
  const F = SOLAR_FEATURES.length;
  const count = starts.length;
  const inputs = new Float64Array(count * window * F);
  const targets = new Float64Array(count * window);
  const startTimes = new Float64Array(count);
  starts.forEach((s, k) => {
    startTimes[k] = series.times[s];
    inputs.set(series.features.subarray(s * F, (s + window) * F), k * window * F);
    for (let t = 0; t < window; t++) targets[k * window + t] = series.features[(s + t + lead) * F]; // radiation is feature 0
  });
  return {
    name: 'solar',
    count,
    steps: window,
    inputSize: F,
    outputSize: 1,
    inputs,
    targets,
    inputNames: [...SOLAR_FEATURES],
    outputNames: [`radiation(t+${lead})`],
    stepSeconds: series.stepSeconds,
    lead,
    startTimes,
  };
}

/**
 * The solar forecasting dataset (see the module documentation for the exact definition):
 * {@link resampleSolar} then {@link solarWindows}. Returns a SequenceDataset named `'solar'`
 * (9 inputs, 1 target) with the start time of every sequence.
 *
 * @param columns numeric columns named as in {@link SOLAR_COLUMNS}
 *
 * @example
 * ```ts
 * const data = solarDataset(columns, { window: 12 }); // columns named as in SOLAR_COLUMNS
 * ```
 */
export function solarDataset(columns: ColumnSource, options: SolarOptions = {}): SolarDataset {
  return solarWindows(resampleSolar(columns, options), options);
}
