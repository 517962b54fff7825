"use client";
/**
 * Build by dragging: a simulated producer or a consumer group dropped onto a topic on the canvas
 * (or pressed, then given a topic in its form), a topic dropped anywhere. Each opens its form.
 */
export type PaletteKind = "producer" | "group" | "topic";

export const TOPOLOGY_DRAG_MIME = "application/x-tributary-topology";

const ITEMS: { kind: PaletteKind; glyph: string; title: string; help: string }[] = [
  {
    kind: "producer",
    glyph: "⇢",
    title: "Simulated producer",
    help: "drop onto a topic: records at a rate, keys uniform or hot, a value template",
  },
  { kind: "group", glyph: "◎", title: "Consumer group", help: "drop onto a topic: N simulated members, processing time, commit mode" },
  { kind: "topic", glyph: "▤", title: "Topic", help: "drop anywhere: a new topic with its partitions" },
];

export function Palette({ onPick, onDragKind }: { onPick(kind: PaletteKind): void; onDragKind(kind: PaletteKind | null): void }) {
  return (
    <aside className="topo-palette" aria-label="build by dragging" data-testid="topology-palette">
      <h3>Build by dragging</h3>
      {ITEMS.map((it) => (
        <button
          key={it.kind}
          type="button"
          draggable
          className={`topo-palette-item topo-kind-${it.kind}`}
          data-testid={`topology-palette-${it.kind}`}
          title={`${it.help} — or press to fill in its form`}
          onDragStart={(e) => {
            e.dataTransfer.setData(TOPOLOGY_DRAG_MIME, it.kind);
            e.dataTransfer.effectAllowed = "copy";
            onDragKind(it.kind);
          }}
          onDragEnd={() => onDragKind(null)}
          onClick={() => onPick(it.kind)}
        >
          <span className="topo-glyph" aria-hidden>
            {it.glyph}
          </span>
          <span>
            <span className="topo-palette-title">{it.title}</span>
            <span className="topo-palette-help">{it.help}</span>
          </span>
        </button>
      ))}
      <p className="small muted">
        Simulated clients run in the server through the same paths as real ones, and are marked <span className="topo-sim">sim</span>.
      </p>
    </aside>
  );
}
