"use client";
import Link from "next/link";
import { PIPELINE_TEMPLATES } from "@/server/schemas/pipeline-templates";
import { PipelineSketch } from "./pipeline-sketch";

/** The templates as cards, each opening the editor on it (`/pipelines/new?template=<id>`). */
export function TemplateCards() {
  return (
    <div className="template-cards" data-testid="template-cards">
      {PIPELINE_TEMPLATES.map((t) => (
        <Link
          key={t.id}
          href={`/pipelines/new?template=${encodeURIComponent(t.id)}`}
          className="card template-card"
          data-testid={`template-${t.id}`}
        >
          <PipelineSketch
            label={`${t.title}: ${t.definition.nodes.map((n) => n.id).join(" → ")}`}
            nodes={t.definition.nodes.map((n) => ({ id: n.id, kind: n.config.kind }))}
            edges={t.definition.edges.map((e) => ({ from: e.from.node, to: e.to.node }))}
          />
          <span className="title">{t.title}</span>
          <span className="small muted">{t.description}</span>
        </Link>
      ))}
    </div>
  );
}
