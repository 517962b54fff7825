"use client";
/** The node palette: kinds grouped (sources, transforms, aggregations, joins, sinks), searchable; drag one onto the canvas (or press it to add it in the middle). */
import { useReactFlow } from "@xyflow/react";
import { useState } from "react";
import type { TNodeKind } from "@/server/schemas/pipeline";
import { useEditorStore } from "./editor-store";
import { KIND_LIST, PALETTE_GROUPS } from "./node-kinds";

export const DRAG_MIME = "application/x-tributary-node";

export function Palette() {
  const [q, setQ] = useState("");
  const store = useEditorStore();
  const flow = useReactFlow();
  const needle = q.trim().toLowerCase();
  const matches = KIND_LIST.filter(
    (k) =>
      !needle || k.title.toLowerCase().includes(needle) || k.kind.toLowerCase().includes(needle) || k.help.toLowerCase().includes(needle),
  );
  const addInMiddle = (kind: TNodeKind) => {
    const box = document.querySelector(".pe-canvas")?.getBoundingClientRect();
    const at = box ? flow.screenToFlowPosition({ x: box.left + box.width / 2 - 90, y: box.top + box.height / 2 - 30 }) : { x: 0, y: 0 };
    store.dispatch({ type: "add", kind, position: at });
  };
  return (
    <aside className="pe-palette" aria-label="node palette" data-testid="palette">
      <input
        type="search"
        placeholder="Search nodes"
        aria-label="search nodes"
        data-testid="palette-search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {PALETTE_GROUPS.map((g) => {
        const items = matches.filter((k) => k.group === g.id);
        if (items.length === 0) return null;
        return (
          <section key={g.id} data-testid={`palette-group-${g.id}`}>
            <h3>{g.title}</h3>
            {items.map((k) => (
              <button
                key={k.kind}
                type="button"
                draggable
                className={`pe-palette-item pe-kind-${k.group}`}
                data-testid={`palette-item-${k.kind}`}
                title={`${k.help} — drag onto the canvas, or press to add`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, k.kind);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onClick={() => addInMiddle(k.kind)}
              >
                <span className="pe-glyph" aria-hidden>
                  {k.glyph}
                </span>
                <span>
                  <span className="pe-palette-title">{k.title}</span>
                  <span className="pe-palette-help">{k.help}</span>
                </span>
              </button>
            ))}
          </section>
        );
      })}
      {matches.length === 0 && (
        <p className="muted small" data-testid="palette-empty">
          No node kind matches “{q}”.
        </p>
      )}
    </aside>
  );
}
