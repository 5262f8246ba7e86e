/** uPlot time-series charts and an SVG phase plane, with the colour-blind-safe Okabe-Ito palette. */
import { useEffect, useRef } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import uPlot from 'uplot';

/** Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies. */
export const COLORS = {
  blue: '#0072B2',
  orange: '#E69F00',
  green: '#009E73',
  vermillion: '#D55E00',
  purple: '#CC79A7',
  sky: '#56B4E9',
  black: '#000000',
  grey: '#6b6b6b',
};
export const SERIES_COLORS = [COLORS.blue, COLORS.vermillion, COLORS.green, COLORS.purple, COLORS.orange, COLORS.sky, COLORS.black];
/** Dash patterns that pair with the colours, so lines differ in more than hue. */
export const DASHES: (number[] | undefined)[] = [undefined, [6, 3], [2, 2], [8, 3, 2, 3], [1, 3], [10, 4]];

export interface SeriesSpec {
  label: string;
  color?: string;
  dash?: number[];
  width?: number;
  points?: boolean;
  bars?: boolean;
}

export interface ChartProps {
  /** Accessible name of the chart. */
  title: string;
  xLabel: string;
  yLabel: string;
  series: SeriesSpec[];
  /** [x, y1, y2, ...] (uPlot's column layout); null entries are gaps. */
  data: (number | null)[][];
  logY?: boolean;
  height?: number;
  testId?: string;
  /** Fixed y range. */
  yRange?: [number, number];
  xTime?: boolean;
  /** Integer ticks only on the x axis (epochs, steps). */
  xIntegers?: boolean;
}

/** A uPlot chart that updates its data in place (no re-creation per epoch). */
export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const key = `${p.series.map((s) => s.label).join('|')}|${p.logY}|${p.xIntegers}|${p.xLabel}|${p.yLabel}|${p.yRange?.join(',')}`;
  useEffect(() => {
    const el = box.current!;
    const width = Math.max(300, el.clientWidth || 600);
    const opts: uPlot.Options = {
      width,
      height: p.height ?? 260,
      scales: {
        x: { time: p.xTime ?? false },
        y: p.logY ? { distr: 3 } : p.yRange ? { range: p.yRange } : {},
      },
      axes: [
        { label: p.xLabel, stroke: '#222', grid: { stroke: '#e3e3e3' }, ...(p.xIntegers ? { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] } : {}) },
        {
          label: p.yLabel,
          stroke: '#222',
          grid: { stroke: '#e3e3e3' },
          size: 70,
          // log axes: powers of ten as 1e-4 (uPlot's fixed-decimal default shows small ones as 0)
          ...(p.logY ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => (v === null || v === undefined ? '' : Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? (v >= 0.01 && v <= 1000 ? String(+v.toPrecision(3)) : v.toExponential(0)) : '')) } : {}),
        },
      ],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        { label: p.xLabel },
        ...p.series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? SERIES_COLORS[i % SERIES_COLORS.length],
          width: s.width ?? 2,
          dash: s.dash,
          points: { show: s.points ?? false, size: 5 },
          paths: s.bars ? uPlot.paths.bars!({ size: [0.9, 40] }) : undefined,
          fill: s.bars ? (s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]) + '99' : undefined,
          spanGaps: false,
        })),
      ],
    };
    const u = new uPlot(opts, p.data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(300, el.clientWidth);
      if (Math.abs(w - u.width) > 4) u.setSize({ width: w, height: p.height ?? 260 });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [key]);
  useEffect(() => {
    plot.current?.setData(p.data as uPlot.AlignedData);
  }, [p.data]);
  const points = p.data[0]?.length ?? 0;
  return (
    <figure class="chart" data-testid={p.testId} data-points={points}>
      <figcaption>{p.title}</figcaption>
      <div ref={box} role="img" aria-label={`${p.title}: ${p.series.map((s) => s.label).join(', ')} against ${p.xLabel}, ${points} points`} />
    </figure>
  );
}

// ---------------------------------------------------------------------------------------------
// phase plane (SVG): click to pick a state

export interface PhaseLine {
  label: string;
  x: number[];
  y: number[];
  color: string;
  dash?: string;
  width?: number;
  hideInLegend?: boolean;
}

export interface PhaseMarker {
  x: number;
  y: number;
  color: string;
  label: string;
  shape?: 'circle' | 'square' | 'diamond';
  r?: number;
}

export interface PhasePlaneProps {
  title: string;
  xLabel: string;
  yLabel: string;
  xRange: [number, number];
  yRange: [number, number];
  lines: PhaseLine[];
  markers?: PhaseMarker[];
  /** Points drawn as small dots (e.g. data or test inputs). */
  dots?: { x: number; y: number }[];
  dotColor?: string;
  onPick?: (x: number, y: number) => void;
  testId?: string;
  children?: ComponentChildren;
}

const W = 560, H = 380, ML = 62, MR = 16, MT = 12, MB = 44;

function ticks(lo: number, hi: number, n = 5): number[] {
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < 1e-12 * step ? 0 : v);
  return out;
}

/** An x-y plane (not a time series) drawn in SVG: ellipses, trajectories, clickable. */
export function PhasePlane(p: PhasePlaneProps) {
  const sx = (x: number) => ML + ((x - p.xRange[0]) / (p.xRange[1] - p.xRange[0])) * (W - ML - MR);
  const sy = (y: number) => MT + (1 - (y - p.yRange[0]) / (p.yRange[1] - p.yRange[0])) * (H - MT - MB);
  const path = (xs: number[], ys: number[]) => {
    let d = '';
    let pen = false;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) {
        pen = false;
        continue;
      }
      const X = Math.max(-1e4, Math.min(1e4, sx(xs[i]))), Y = Math.max(-1e4, Math.min(1e4, sy(ys[i])));
      d += `${pen ? 'L' : 'M'}${X.toFixed(1)},${Y.toFixed(1)}`;
      pen = true;
    }
    return d;
  };
  const click = (e: MouseEvent) => {
    if (!p.onPick) return;
    const svg = e.currentTarget as SVGSVGElement;
    const r = svg.getBoundingClientRect();
    const px = ((e.clientX - r.left) / r.width) * W, py = ((e.clientY - r.top) / r.height) * H;
    if (px < ML || px > W - MR || py < MT || py > H - MB) return;
    const x = p.xRange[0] + ((px - ML) / (W - ML - MR)) * (p.xRange[1] - p.xRange[0]);
    const y = p.yRange[0] + (1 - (py - MT) / (H - MT - MB)) * (p.yRange[1] - p.yRange[0]);
    p.onPick(x, y);
  };
  const legend = [...p.lines.filter((l) => !l.hideInLegend).map((l) => ({ label: l.label, color: l.color, dash: l.dash })), ...(p.markers ?? []).map((m) => ({ label: m.label, color: m.color, dash: undefined }))];
  return (
    <figure class="chart phase" data-testid={p.testId}>
      <figcaption>{p.title}</figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${p.title}. ${p.onPick ? 'Click inside the plot to pick a point; the number fields below do the same from the keyboard.' : ''}`}
        onClick={click}
        class={p.onPick ? 'pickable' : undefined}
        data-plot-left={ML}
        data-plot-right={W - MR}
        data-plot-top={MT}
        data-plot-bottom={H - MB}
        data-view-width={W}
        data-view-height={H}
        data-x-range={p.xRange.join(',')}
        data-y-range={p.yRange.join(',')}
      >
        <rect x={ML} y={MT} width={W - ML - MR} height={H - MT - MB} fill="#fff" stroke="#888" />
        {ticks(p.xRange[0], p.xRange[1]).map((v) => (
          <g key={`x${v}`}>
            <line x1={sx(v)} x2={sx(v)} y1={MT} y2={H - MB} stroke="#e3e3e3" />
            <text x={sx(v)} y={H - MB + 16} text-anchor="middle" class="tick">
              {+v.toPrecision(3)}
            </text>
          </g>
        ))}
        {ticks(p.yRange[0], p.yRange[1]).map((v) => (
          <g key={`y${v}`}>
            <line x1={ML} x2={W - MR} y1={sy(v)} y2={sy(v)} stroke="#e3e3e3" />
            <text x={ML - 6} y={sy(v) + 4} text-anchor="end" class="tick">
              {+v.toPrecision(3)}
            </text>
          </g>
        ))}
        <text x={(ML + W - MR) / 2} y={H - 6} text-anchor="middle" class="axis-label">
          {p.xLabel}
        </text>
        <text x={14} y={(MT + H - MB) / 2} text-anchor="middle" class="axis-label" transform={`rotate(-90 14 ${(MT + H - MB) / 2})`}>
          {p.yLabel}
        </text>
        <g clip-path="url(#plot-clip)">
          <clipPath id="plot-clip">
            <rect x={ML} y={MT} width={W - ML - MR} height={H - MT - MB} />
          </clipPath>
          {(p.dots ?? []).map((d, i) => (
            <circle key={`d${i}`} cx={sx(d.x)} cy={sy(d.y)} r={2} fill={p.dotColor ?? COLORS.sky} />
          ))}
          {p.lines.map((l, i) => (
            <path key={`l${i}`} d={path(l.x, l.y)} fill="none" stroke={l.color} stroke-width={l.width ?? 2} stroke-dasharray={l.dash} />
          ))}
          {(p.markers ?? []).map((m, i) =>
            m.shape === 'square' ? (
              <rect key={`m${i}`} x={sx(m.x) - 5} y={sy(m.y) - 5} width={10} height={10} fill={m.color} stroke="#000" />
            ) : m.shape === 'diamond' ? (
              <path key={`m${i}`} d={`M${sx(m.x)},${sy(m.y) - 7}l7,7l-7,7l-7,-7z`} fill={m.color} stroke="#000" />
            ) : (
              <circle key={`m${i}`} cx={sx(m.x)} cy={sy(m.y)} r={m.r ?? 5} fill={m.color} stroke="#000" />
            ),
          )}
        </g>
      </svg>
      <ul class="legend">
        {legend.map((l) => (
          <li key={l.label}>
            <svg width="28" height="10" aria-hidden="true">
              <line x1="0" y1="5" x2="28" y2="5" stroke={l.color} stroke-width="3" stroke-dasharray={l.dash} />
            </svg>
            {l.label}
          </li>
        ))}
      </ul>
      {p.children}
    </figure>
  );
}
