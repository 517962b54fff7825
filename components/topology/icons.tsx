/** Small line icons for the canvas's buttons, drawn as SVG (an emoji glyph depends on the fonts installed). */
const PATHS = {
  start: "M4 2.5v11l9-5.5z",
  pause: "M4 3h3v10H4zM9 3h3v10H9z",
  kill: "M3.5 3.5l9 9M12.5 3.5l-9 9",
  restart: "M12.5 8a4.5 4.5 0 1 1-1.3-3.2M12.5 2.5v3h-3",
  stop: "M4 4h8v8H4z",
  delete: "M3 4.5h10M6.5 4.5V3h3v1.5M4.5 4.5l.7 8.5h5.6l.7-8.5",
  plus: "M8 3v10M3 8h10",
} as const;

export type IconName = keyof typeof PATHS;

const FILLED: ReadonlySet<IconName> = new Set(["start", "pause", "stop"]);

export function Icon({ name }: { name: IconName }) {
  const filled = FILLED.has(name);
  return (
    <svg className="topo-icon" width="12" height="12" viewBox="0 0 16 16" aria-hidden>
      <path
        d={PATHS[name]}
        fill={filled ? "currentColor" : "none"}
        stroke={filled ? "none" : "currentColor"}
        strokeWidth={1.8}
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
