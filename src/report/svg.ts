/**
 * Small, dependency-free SVG line plots for the HTML report: axes, ticks, grid, legend, optional
 * log scales, gaps at missing values. Pure string building (no DOM, no Node APIs), so it runs
 * anywhere and the output is deterministic for deterministic input.
 */
import { formatNumber as formatCore, trimZeros } from '../core/format.ts';

/** Escapes text for HTML and SVG text nodes and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A colour-blind friendly palette (Okabe-Ito, then a few extras). */
export const PALETTE: readonly string[] = Object.freeze([
  '#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442', '#7F3C8D', '#8C564B',
]);

/** The i-th palette colour (wraps around). */
export function paletteColor(i: number): string {
  return PALETTE[((i % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

export type MarkerShape = 'circle' | 'square' | 'diamond' | 'triangle';

/** One line (and/or markers) of a plot. Missing values (null, undefined, NaN, +-Infinity) are skipped. */
export interface PlotSeries {
  name: string;
  x: ArrayLike<number | null | undefined>;
  y: ArrayLike<number | null | undefined>;
  color?: string;
  /** SVG stroke-dasharray, e.g. '6 4'. */
  dash?: string;
  /** Stroke width in px (default 1.8). */
  width?: number;
  /** Draw the connecting line (default true). A missing value breaks the line. */
  line?: boolean;
  /** Draw markers at the points (default false). */
  marker?: MarkerShape | boolean;
  /** Marker radius in px (default 3.2). */
  markerSize?: number;
  /** Show in the legend (default true). */
  legend?: boolean;
  opacity?: number;
}

/** A legend-only entry (e.g. to explain line styles shared by many series). */
export interface LegendItem {
  name: string;
  color?: string;
  dash?: string;
  line?: boolean;
  marker?: MarkerShape | boolean;
}

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Outer width in px (default 520). */
  width?: number;
  /** Outer height in px (default 320; grows when the legend needs more room). */
  height?: number;
  xLog?: boolean;
  yLog?: boolean;
  /** Fixed axis ranges (data units). Points outside are clipped. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Legend on the right of the plot area (default when any series has a legend entry), or none. */
  legend?: boolean;
  /** Extra legend entries, shown after the series'. */
  legendItems?: LegendItem[];
  /** Unique id prefix for the clip path (default: derived from a counter). */
  id?: string;
  /** Tick values to use on the x axis (linear axes only). */
  xTicks?: number[];
}

interface Scale {
  log: boolean;
  lo: number; // in transformed units (log10 for log scales)
  hi: number;
  ticks: { value: number; label: string; major: boolean }[];
}

let plotCounter = 0;

/** Formats a number for tick labels and tables: short, no trailing zeros. */
export function formatNumber(v: number | null | undefined, digits = 3): string {
  return formatCore(v, { digits, trim: true, missing: '–', infinity: ['∞', '−∞'] });
}

function valid(v: number | null | undefined, log: boolean): v is number {
  return typeof v === 'number' && Number.isFinite(v) && (!log || v > 0);
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

function linearTickLabel(v: number, step: number): string {
  if (Math.abs(v) < step * 1e-9) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return formatNumber(v, 3);
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  return trimZeros(v.toFixed(decimals));
}

function linearScale(min: number, max: number, fixed: boolean, count: number, forced?: number[]): Scale {
  if (min === max) {
    const d = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= d;
    max += d;
  }
  const step = niceStep(max - min, count);
  const lo = fixed ? min : Math.floor(min / step + 1e-9) * step;
  const hi = fixed ? max : Math.ceil(max / step - 1e-9) * step;
  const ticks: Scale['ticks'] = [];
  if (forced) {
    for (const v of forced) if (Number.isFinite(v) && v >= lo - 1e-12 && v <= hi + 1e-12) ticks.push({ value: v, label: formatNumber(v, 4), major: true });
  } else {
    for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) {
      const v = k * step;
      ticks.push({ value: v, label: linearTickLabel(v, step), major: true });
    }
  }
  return { log: false, lo, hi, ticks };
}

function logScale(min: number, max: number, fixed: boolean): Scale {
  let lo = Math.log10(min), hi = Math.log10(max);
  if (!fixed) {
    lo = Math.floor(lo + 1e-9);
    hi = Math.ceil(hi - 1e-9);
  }
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const ticks: Scale['ticks'] = [];
  const first = Math.ceil(lo - 1e-9), last = Math.floor(hi + 1e-9);
  const decades = last - first + 1;
  const every = Math.max(1, Math.ceil(decades / 8));
  for (let e = first; e <= last; e++) {
    if ((e - first) % every === 0) ticks.push({ value: e, label: `10^${e}`, major: true });
  }
  // Few decades: add 2 and 5 (labelled) so the axis stays readable.
  if (hi - lo <= 2.5) {
    for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi); e++)
      for (const m of [2, 5]) {
        const v = e + Math.log10(m);
        if (v >= lo - 1e-9 && v <= hi + 1e-9) ticks.push({ value: v, label: formatNumber(m * Math.pow(10, e), 2), major: false });
      }
    ticks.sort((a, b) => a.value - b.value);
  }
  return { log: true, lo, hi, ticks };
}

function makeScale(values: number[], log: boolean, domain: [number, number] | undefined, count: number, forced?: number[]): Scale {
  if (domain && valid(domain[0], log) && valid(domain[1], log) && domain[1] > domain[0])
    return log ? logScale(domain[0], domain[1], true) : linearScale(domain[0], domain[1], true, count, forced);
  if (values.length === 0) return log ? logScale(1, 10, false) : linearScale(0, 1, false, count, forced);
  let min = Infinity, max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return log ? logScale(min, max, false) : linearScale(min, max, false, count, forced);
}

/** Renders a tick label; log-scale major labels `10^k` become 10 with a superscript. */
function tickText(label: string, x: number, y: number, anchor: string): string {
  const m = /^10\^(-?\d+)$/.exec(label);
  if (m) {
    return `<text x="${f1(x)}" y="${f1(y)}" text-anchor="${anchor}">10<tspan dy="-5" font-size="8">${escapeHtml(m[1])}</tspan></text>`;
  }
  return `<text x="${f1(x)}" y="${f1(y)}" text-anchor="${anchor}">${escapeHtml(label)}</text>`;
}

function f1(v: number): string {
  // Clamp so absurd values (diverged predictions) cannot produce gigantic coordinates.
  const c = Math.max(-1e5, Math.min(1e5, v));
  return (Math.round(c * 10) / 10).toString();
}

function markerSvg(shape: MarkerShape, x: number, y: number, r: number, color: string): string {
  switch (shape) {
    case 'square':
      return `<rect x="${f1(x - r)}" y="${f1(y - r)}" width="${f1(2 * r)}" height="${f1(2 * r)}" fill="${color}"/>`;
    case 'diamond':
      return `<path d="M${f1(x)} ${f1(y - r * 1.3)}L${f1(x + r * 1.3)} ${f1(y)}L${f1(x)} ${f1(y + r * 1.3)}L${f1(x - r * 1.3)} ${f1(y)}Z" fill="${color}"/>`;
    case 'triangle':
      return `<path d="M${f1(x)} ${f1(y - r * 1.3)}L${f1(x + r * 1.2)} ${f1(y + r)}L${f1(x - r * 1.2)} ${f1(y + r)}Z" fill="${color}"/>`;
    default:
      return `<circle cx="${f1(x)}" cy="${f1(y)}" r="${f1(r)}" fill="${color}"/>`;
  }
}

function markerShape(m: MarkerShape | boolean | undefined): MarkerShape | null {
  if (m === true) return 'circle';
  if (!m) return null;
  return m;
}

/** Sanitises a colour or dash value so it is safe inside an attribute. */
function attr(v: string | undefined, fallback: string): string {
  return v && /^[#a-zA-Z0-9 .,()%-]+$/.test(v) ? v : fallback;
}

/**
 * A line plot as a standalone `<svg>` element (with the SVG xmlns, so it also works as a file).
 * Missing values (null, NaN, +-Infinity, or <= 0 on a log axis) are skipped and break the line.
 */
export function linePlot(series: PlotSeries[], options: PlotOptions = {}): string {
  const id = options.id ? options.id.replace(/[^A-Za-z0-9_-]/g, '_') : `plot${++plotCounter}`;
  const xLog = !!options.xLog, yLog = !!options.yLog;
  const xs: number[] = [], ys: number[] = [];
  for (const s of series) {
    const n = Math.min(s.x.length, s.y.length);
    for (let i = 0; i < n; i++) {
      const x = s.x[i], y = s.y[i];
      if (valid(x, xLog) && valid(y, yLog)) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  const legendEntries: LegendItem[] = [
    ...series
      .map((s, i) => ({ s, entry: { name: s.name, color: attr(s.color, paletteColor(i)), dash: s.dash, line: s.line, marker: s.marker } as LegendItem }))
      .filter((e) => e.s.legend !== false)
      .map((e) => e.entry),
    ...(options.legendItems ?? []),
  ];
  const showLegend = options.legend !== false && legendEntries.length > 0;
  const legendWidth = showLegend ? Math.min(220, 34 + 6.2 * Math.max(...legendEntries.map((e) => e.name.length))) : 0;
  const width = options.width ?? 520;
  const margin = { left: 62, right: 14 + legendWidth, top: options.title ? 30 : 12, bottom: options.xLabel ? 46 : 30 };
  const legendHeight = showLegend ? legendEntries.length * 17 + 10 : 0;
  const height = Math.max(options.height ?? 320, margin.top + legendHeight + margin.bottom);
  const pw = Math.max(40, width - margin.left - margin.right), ph = Math.max(40, height - margin.top - margin.bottom);

  const sx = makeScale(xs, xLog, options.xDomain, Math.max(2, Math.round(pw / 80)), xLog ? undefined : options.xTicks);
  const sy = makeScale(ys, yLog, options.yDomain, Math.max(2, Math.round(ph / 50)));
  const px = (v: number) => margin.left + ((( xLog ? Math.log10(v) : v) - sx.lo) / (sx.hi - sx.lo)) * pw;
  const py = (v: number) => margin.top + ph - (((yLog ? Math.log10(v) : v) - sy.lo) / (sy.hi - sy.lo)) * ph;
  const tx = (t: number) => margin.left + ((t - sx.lo) / (sx.hi - sx.lo)) * pw;
  const ty = (t: number) => margin.top + ph - ((t - sy.lo) / (sy.hi - sy.lo)) * ph;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="11">`,
  );
  if (options.title) out.push(`<title>${escapeHtml(options.title)}</title>`);
  out.push(`<defs><clipPath id="${id}-clip"><rect x="${margin.left}" y="${margin.top}" width="${f1(pw)}" height="${f1(ph)}"/></clipPath></defs>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (options.title) out.push(`<text x="${f1(margin.left + pw / 2)}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeHtml(options.title)}</text>`);
  // grid and ticks
  const grid: string[] = [], labels: string[] = [];
  for (const t of sx.ticks) {
    const x = tx(t.value);
    grid.push(`<line x1="${f1(x)}" y1="${margin.top}" x2="${f1(x)}" y2="${f1(margin.top + ph)}" stroke="${t.major ? '#e3e3e3' : '#f1f1f1'}"/>`);
    grid.push(`<line x1="${f1(x)}" y1="${f1(margin.top + ph)}" x2="${f1(x)}" y2="${f1(margin.top + ph + (t.major ? 5 : 3))}" stroke="#444"/>`);
    labels.push(tickText(t.label, x, margin.top + ph + 17, 'middle'));
  }
  for (const t of sy.ticks) {
    const y = ty(t.value);
    grid.push(`<line x1="${margin.left}" y1="${f1(y)}" x2="${f1(margin.left + pw)}" y2="${f1(y)}" stroke="${t.major ? '#e3e3e3' : '#f1f1f1'}"/>`);
    grid.push(`<line x1="${margin.left - (t.major ? 5 : 3)}" y1="${f1(y)}" x2="${margin.left}" y2="${f1(y)}" stroke="#444"/>`);
    labels.push(tickText(t.label, margin.left - 8, y + 4, 'end'));
  }
  out.push(`<g class="grid">${grid.join('')}</g>`);
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${f1(pw)}" height="${f1(ph)}" fill="none" stroke="#444"/>`);
  out.push(`<g class="ticks" fill="#333">${labels.join('')}</g>`);
  if (options.xLabel) out.push(`<text x="${f1(margin.left + pw / 2)}" y="${height - 8}" text-anchor="middle" fill="#222">${escapeHtml(options.xLabel)}</text>`);
  if (options.yLabel)
    out.push(`<text transform="translate(14 ${f1(margin.top + ph / 2)}) rotate(-90)" text-anchor="middle" fill="#222">${escapeHtml(options.yLabel)}</text>`);

  // data
  out.push(`<g clip-path="url(#${id}-clip)">`);
  series.forEach((s, i) => {
    const color = attr(s.color, paletteColor(i));
    const n = Math.min(s.x.length, s.y.length);
    const pts: ([number, number] | null)[] = [];
    for (let k = 0; k < n; k++) {
      const x = s.x[k], y = s.y[k];
      pts.push(valid(x, xLog) && valid(y, yLog) ? [px(x), py(y)] : null);
    }
    const opacity = s.opacity !== undefined && Number.isFinite(s.opacity) ? ` opacity="${Math.max(0, Math.min(1, s.opacity))}"` : '';
    if (s.line !== false) {
      let d = '', pen = false;
      for (const p of pts) {
        if (!p) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${f1(p[0])} ${f1(p[1])}`;
        pen = true;
      }
      if (d) {
        const dash = s.dash ? ` stroke-dasharray="${attr(s.dash, '4 3')}"` : '';
        out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="${s.width ?? 1.8}" stroke-linejoin="round" stroke-linecap="round"${dash}${opacity}><title>${escapeHtml(s.name)}</title></path>`);
      }
    }
    const shape = markerShape(s.marker);
    if (shape) {
      const r = s.markerSize ?? 3.2;
      const ms = pts.filter((p): p is [number, number] => p !== null).map((p) => markerSvg(shape, p[0], p[1], r, color));
      if (ms.length) out.push(`<g${opacity}>${ms.join('')}</g>`);
    }
  });
  out.push('</g>');

  // legend
  if (showLegend) {
    const lx = margin.left + pw + 12;
    let ly = margin.top + 6;
    const items: string[] = [];
    legendEntries.forEach((e) => {
      const color = attr(e.color, '#222');
      if (e.line !== false) {
        const dash = e.dash ? ` stroke-dasharray="${attr(e.dash, '4 3')}"` : '';
        items.push(`<line x1="${lx}" y1="${ly + 6}" x2="${lx + 22}" y2="${ly + 6}" stroke="${color}" stroke-width="2"${dash}/>`);
      }
      const shape = markerShape(e.marker);
      if (shape) items.push(markerSvg(shape, lx + 11, ly + 6, 3.2, color));
      const name = e.name.length > 30 ? e.name.slice(0, 29) + '…' : e.name;
      items.push(`<text x="${lx + 28}" y="${ly + 10}" fill="#222">${escapeHtml(name)}</text>`);
      ly += 17;
    });
    out.push(`<g class="legend">${items.join('')}</g>`);
  }
  out.push('</svg>');
  return out.join('');
}
