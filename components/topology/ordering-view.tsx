"use client";
/**
 * The Ordering scenario's result as a picture: for the keyed and the unkeyed topic, the order's
 * events as produced and as the consumer received them, each with the partition and offset it
 * was read at; an event received before one produced earlier is marked where it arrived.
 * Everything comes from the scenario's measures (what the consumer received, in produced order).
 */
import type { TScenario } from "@/server/schemas/topology";
import "./ordering-view.css";

type Measures = NonNullable<TScenario["outcome"]>["measures"];

/** The measures this view draws (the generic list leaves them out). */
export const isOrderingViewMeasure = (name: string) => /^(keyed|unkeyed)[A-Z]|^received|^events$/.test(name);

interface Event {
  name: string;
  seq: number;
  partition: number;
  offset: number;
  arrival: number;
  overtook: boolean;
}

function eventsOf(m: Measures, prefix: "keyed" | "unkeyed"): Event[] | null {
  const names = typeof m.events === "string" ? m.events.split(" → ") : [];
  const list = (k: string) => (Array.isArray(m[prefix + k]) ? (m[prefix + k] as number[]) : null);
  const [partition, offset, arrival, overtook] = [list("Partition"), list("Offset"), list("Arrival"), list("Overtook")];
  if (!names.length || !partition || !offset || !arrival || !overtook) return null;
  return names.map((name, seq) => ({
    name,
    seq,
    partition: partition[seq],
    offset: offset[seq],
    arrival: arrival[seq],
    overtook: overtook[seq] === 1,
  }));
}

function Item({ e, received }: { e: Event; received: boolean }) {
  const late = received && e.overtook;
  return (
    <li
      className={`topo-order-item${late ? " late" : ""}`}
      data-testid={received ? "ordering-received" : "ordering-produced"}
      data-event={e.name}
      data-late={late}
      title={late ? `${e.name} arrived before an event produced earlier` : undefined}
    >
      <span className="topo-order-name">{e.name}</span>
      <span className={`topo-order-part p${e.partition % 3}`}>
        p{e.partition}@{e.offset}
      </span>
      {late && (
        <span className="topo-order-flag" aria-label="out of order">
          ↯
        </span>
      )}
    </li>
  );
}

function Side({ title, events, testId }: { title: string; events: Event[]; testId: string }) {
  const received = [...events].filter((e) => e.arrival > 0).sort((a, b) => a.arrival - b.arrival);
  const late = events.filter((e) => e.overtook).length;
  return (
    <div className="topo-order-side" data-testid={testId}>
      <div className="spread">
        <strong>{title}</strong>
        <span className={`topo-pill ${late ? "late" : "ok"}`}>{late ? `${late} out of order` : "in order"}</span>
      </div>
      <div className="topo-order-cols">
        <div>
          <div className="muted">produced</div>
          <ol>
            {events.map((e) => (
              <Item key={e.seq} e={e} received={false} />
            ))}
          </ol>
        </div>
        <div>
          <div className="muted">received</div>
          <ol>
            {received.map((e) => (
              <Item key={e.seq} e={e} received />
            ))}
          </ol>
        </div>
      </div>
    </div>
  );
}

/** Produced vs received order, with and without a key; nothing when the measures lack them. */
export function OrderingView({ measures }: { measures: Measures }) {
  const keyed = eventsOf(measures, "keyed");
  const unkeyed = eventsOf(measures, "unkeyed");
  if (!keyed || !unkeyed) return null;
  return (
    <div className="topo-order" data-testid="ordering-view">
      <Side title="Keyed by order id" events={keyed} testId="ordering-keyed" />
      <Side title="No key (round-robin)" events={unkeyed} testId="ordering-unkeyed" />
    </div>
  );
}
