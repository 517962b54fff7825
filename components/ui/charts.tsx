"use client";
/** Small dependency-free SVG charts: a multi-series line chart and a sparkline. */
import { useEffect, useRef, useState } from "react";

/** The smallest 1, 2 or 5 × 10^k at or above v (at least 2, so axis labels stay whole). */
function niceMax(v: number): number {
  if (v <= 2) return 2;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
export interface ChartSeries {
  name: string;
  color: string;
  points: number[];
}

export function LineChart({
  series,
  height = 160,
  format = (n: number) => String(Math.round(n)),
  testId,
  xLabels,
}: {
  series: ChartSeries[];
  height?: number;
  format?: (n: number) => string;
  testId: string;
  xLabels?: [string, string];
}) {
  // drawn at the width it is shown at, so text is never stretched
  const box = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(200, Math.round(el.clientWidth))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const padL = 52;
  const padB = xLabels ? 18 : 6;
  const n = Math.max(2, ...series.map((s) => s.points.length));
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points)));
  const y = (v: number) => 6 + (height - padB - 6) * (1 - v / max);
  const x = (i: number) => padL + ((width - padL - 4) * i) / (n - 1);
  return (
    <figure style={{ margin: 0 }} data-testid={testId} ref={box}>
      <svg
        className="chart"
        viewBox={`0 0 ${width} ${height}`}
        height={height}
        role="img"
        aria-label={series.map((s) => s.name).join(", ")}
      >
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={padL} x2={width} y1={y(max * f)} y2={y(max * f)} stroke="var(--line)" />
            <text x={padL - 6} y={y(max * f) + 4} textAnchor="end" fontSize="10" fill="var(--muted)">
              {format(max * f)}
            </text>
          </g>
        ))}
        {series.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.color}
            strokeWidth={1.8}
            vectorEffect="non-scaling-stroke"
            points={s.points.map((v, i) => `${x(i + n - s.points.length).toFixed(1)},${y(v).toFixed(1)}`).join(" ")}
          />
        ))}
        {xLabels && (
          <>
            <text x={padL} y={height - 4} fontSize="10" fill="var(--muted)">
              {xLabels[0]}
            </text>
            <text x={width - 4} y={height - 4} fontSize="10" textAnchor="end" fill="var(--muted)">
              {xLabels[1]}
            </text>
          </>
        )}
      </svg>
      <figcaption className="legend">
        {series.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.color }} />
            {s.name}: {format(s.points[s.points.length - 1] ?? 0)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

export function Sparkline({
  points,
  testId,
  width = 90,
  height = 22,
}: {
  points: number[];
  testId?: string;
  width?: number;
  height?: number;
}) {
  const max = Math.max(1, ...points);
  const n = Math.max(2, points.length);
  const d = points.map((v, i) => `${((width * i) / (n - 1)).toFixed(1)},${(height - 2 - ((height - 4) * v) / max).toFixed(1)}`).join(" ");
  return (
    <svg width={width} height={height} data-testid={testId} aria-hidden="true">
      <polyline fill="none" stroke="var(--accent)" strokeWidth={1.4} points={d} />
    </svg>
  );
}
