"use client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useTopic } from "../hooks/use-topic";
import { useUrlState } from "../hooks/use-url-state";
import { LiveTail } from "../live/live-tail";
import { MessagesBrowser } from "../messages/messages-browser";
import { formatBytes, formatCount } from "../ui/format";
import { ErrorBox, Loading } from "../ui/status";
import { ConfigsTab } from "./configs-tab";
import { DeleteTopicDialog } from "./delete-topic-dialog";
import { PartitionsTab } from "./partitions-tab";
import { ProduceForm } from "./produce-form";

const TABS = [
  { id: "partitions", label: "Partitions" },
  { id: "messages", label: "Messages" },
  { id: "live", label: "Live" },
  { id: "produce", label: "Produce" },
  { id: "configs", label: "Configs" },
] as const;
type TabId = (typeof TABS)[number]["id"];

export function TopicPage({ name }: { name: string }) {
  const router = useRouter();
  const { get } = useUrlState();
  const topic = useTopic(name);
  const raw = get("tab", "partitions");
  const tab: TabId = TABS.some((t) => t.id === raw) ? (raw as TabId) : "partitions";
  const [deleting, setDeleting] = useState(false);
  const t = topic.data;

  return (
    <section data-testid="topic-page" data-topic={name}>
      <div className="small muted">
        <Link href="/topics">Topics</Link> /
      </div>
      <div className="spread">
        <h1 data-testid="topic-name">{name}</h1>
        <div className="row">
          <span className="muted small" data-testid="topic-summary" style={{ minWidth: 260, textAlign: "right" }}>
            {t
              ? `${formatCount(t.partitions.length)} partition${t.partitions.length === 1 ? "" : "s"} · ${formatCount(t.recordCount)} records · ${formatBytes(t.sizeBytes)}`
              : " "}
          </span>
          <button type="button" data-testid="topic-delete" onClick={() => setDeleting(true)} disabled={!t}>
            Delete topic
          </button>
        </div>
      </div>
      <div className="tabs" role="tablist" aria-label="Topic views">
        {TABS.map((x) => (
          <a
            key={x.id}
            role="tab"
            href={`?tab=${x.id}`}
            aria-selected={tab === x.id}
            data-testid={`tab-${x.id}`}
            onClick={(e) => {
              e.preventDefault();
              // each tab owns its own query parameters
              const url = new URL(window.location.href);
              if (url.searchParams.get("tab") !== x.id) {
                window.history.pushState(null, "", `${url.pathname}?tab=${x.id}`);
              }
            }}
          >
            {x.label}
          </a>
        ))}
      </div>
      {topic.error ? (
        <ErrorBox error={topic.error} testId="topic-error" />
      ) : !t ? (
        <Loading testId="topic-loading" />
      ) : (
        <div role="tabpanel" data-testid={`panel-${tab}`}>
          {tab === "partitions" && <PartitionsTab topic={t} />}
          {tab === "configs" && <ConfigsTab topic={t} />}
          {tab === "produce" && <ProduceForm topic={t} />}
          {tab === "messages" && <MessagesBrowser topic={t} />}
          {tab === "live" && <LiveTail topic={t} />}
        </div>
      )}
      {deleting && <DeleteTopicDialog topic={name} open onClose={() => setDeleting(false)} onDeleted={() => router.push("/topics")} />}
    </section>
  );
}
