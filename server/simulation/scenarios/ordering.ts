/**
 * Ordering: Kafka keeps order within a partition only. The events of order_123 (Created → Paid →
 * Shipped → Delivered) are written twice: keyed by the order id to one topic (the key picks one
 * partition for all four) and without a key to another, spread round-robin over its partitions.
 * A consumer that catches up on both (it starts after the events were written) reads each
 * partition in offset order but the partitions independently: what it received, with partition
 * and offset, shows the keyed events in order and where the unkeyed ones came out of order.
 *
 * With 4 events over 3 partitions one partition holds two of them, so whatever order the
 * consumer takes the partitions in, a partition's batch delivered whole puts an event before an
 * earlier one: the disorder is structural, not luck.
 */
import { Consumer } from "../../client/consumer.ts";
import { Producer } from "../../client/producer.ts";
import type { ScenarioContext, ScenarioScript } from "./scenario-script.ts";

const KEYED = "scenario-ordering.by-key";
const UNKEYED = "scenario-ordering.no-key";
const PARTITIONS = 3;
const ORDER = "order_123";
export const ORDER_EVENTS = ["Created", "Paid", "Shipped", "Delivered"] as const;
/** The time between two events of the order's life (they are written one by one). */
const EVENT_GAP_MS = 300;

interface Received {
  seq: number;
  partition: number;
  offset: number;
}

/** Events received before an event produced earlier than them: they overtook it. */
export function overtaking(received: readonly Received[]): Received[] {
  return received.filter((r, i) => received.slice(i + 1).some((later) => later.seq < r.seq));
}

const where = (r: Received) => `${ORDER_EVENTS[r.seq]} (p${r.partition}@${r.offset})`;

/** What the consumer received of one topic, as measures in produced order (event i at index i). */
function measuresOf(prefix: "keyed" | "unkeyed", received: readonly Received[]) {
  const late = overtaking(received);
  const bySeq = ORDER_EVENTS.map((_, seq) => received.find((r) => r.seq === seq));
  return {
    [`${prefix}Partition`]: bySeq.map((r) => r?.partition ?? -1),
    [`${prefix}Offset`]: bySeq.map((r) => r?.offset ?? -1),
    /** 1 = received first. */
    [`${prefix}Arrival`]: bySeq.map((r) => (r ? received.indexOf(r) + 1 : -1)),
    /** 1 = received before an event produced earlier. */
    [`${prefix}Overtook`]: bySeq.map((r) => (r && late.includes(r) ? 1 : 0)),
  };
}

/** Writes the order's 4 events, each to both topics: keyed by order id, and without a key round-robin. */
async function writeOrder(ctx: ScenarioContext, producer: Producer): Promise<void> {
  for (const [seq, event] of ORDER_EVENTS.entries()) {
    const value = JSON.stringify({ order: ORDER, event, seq, at: Date.now() });
    const keyed = await producer.send(KEYED, { key: ORDER, value });
    const spread = await producer.send(UNKEYED, { key: null, value, partition: seq % PARTITIONS });
    ctx.step(`${event}: keyed → ${KEYED} p${keyed.partition}@${keyed.offset}; no key → ${UNKEYED} p${spread.partition}@${spread.offset}`);
    await ctx.sleep(EVENT_GAP_MS);
  }
}

/** A consumer that starts now and reads both topics from the start; resolves with what it received, in order. */
async function catchUp(ctx: ScenarioContext, groupId: string): Promise<Map<string, Received[]>> {
  const received = new Map<string, Received[]>([
    [KEYED, []],
    [UNKEYED, []],
  ]);
  const consumer = new Consumer({
    baseUrl: ctx.baseUrl,
    groupId,
    clientId: `scenario-ordering-shipping-${ctx.run}`,
    autoOffsetReset: "earliest",
  });
  consumer.subscribe({ topics: [KEYED, UNKEYED] });
  try {
    await consumer.run({
      eachBatch: ({ topic, messages }) => {
        for (const m of messages) {
          const { seq } = JSON.parse(m.value?.toString() ?? "{}") as { seq?: number };
          if (typeof seq === "number") received.get(topic)?.push({ seq, partition: m.partition, offset: m.offset });
        }
      },
    });
    await ctx.until(
      "the consumer to receive the 4 events from each topic",
      async () => [...received.values()].map((r) => r.length),
      (n) => n.every((c) => c >= ORDER_EVENTS.length),
      60_000,
    );
    await ctx.sleep(500); // anything more would show up as an extra record
  } finally {
    await consumer.stop().catch(() => undefined);
  }
  return received;
}

export const ordering: ScenarioScript = {
  id: "ordering",
  title: "Ordering",
  explanation:
    `Order is kept within a partition, never across partitions. The events of ${ORDER} — Created → Paid → Shipped → Delivered — are written twice: ` +
    `keyed by the order id (the key picks one partition, so all four land there in order), and without a key, spread round-robin over ${PARTITIONS} partitions. ` +
    "A consumer catching up reads each partition in offset order but the partitions independently, so the unkeyed events arrive out of order. " +
    "The result shows what it received, by partition and offset, against the order they were produced in.",
  topics: { [KEYED]: PARTITIONS, [UNKEYED]: PARTITIONS },
  async run(ctx) {
    const groupId = `scenario-ordering.shipping-${ctx.run}`;
    // the shop and the shipping service are this scenario's simulated clients on the canvas
    ctx.simulations.markScripted(`scenario-ordering-shop-${ctx.run}`, null, true);
    ctx.simulations.markScripted(`scenario-ordering-shipping-${ctx.run}`, groupId, true);
    ctx.defer(async () => {
      ctx.simulations.markScripted(`scenario-ordering-shop-${ctx.run}`, null, false);
      ctx.simulations.markScripted(`scenario-ordering-shipping-${ctx.run}`, groupId, false);
    });
    const producer = new Producer({
      baseUrl: ctx.baseUrl,
      clientId: `scenario-ordering-shop-${ctx.run}`,
      idempotent: true,
      lingerMs: 0,
    });
    try {
      await writeOrder(ctx, producer);
    } finally {
      await producer.flush().catch(() => undefined);
    }
    await ctx.own("group", groupId);
    ctx.step(`The shipping service (group ${groupId}) starts and catches up on both topics from the earliest offset`);
    const received = await catchUp(ctx, groupId);
    const keyed = received.get(KEYED)!;
    const unkeyed = received.get(UNKEYED)!;
    const keyedLate = overtaking(keyed);
    const unkeyedLate = overtaking(unkeyed);
    const keyedPartitions = new Set(keyed.map((r) => r.partition));
    ctx.step(`Received with the key: ${keyed.map(where).join(" → ")}`);
    ctx.step(`Received without a key: ${unkeyed.map(where).join(" → ")}`);
    const overtaken = (r: Received, list: readonly Received[]) =>
      list
        .slice(list.indexOf(r) + 1)
        .filter((x) => x.seq < r.seq)
        .map((x) => ORDER_EVENTS[x.seq])
        .join(" and ");
    const whereLate = unkeyedLate.map((r) => `${where(r)} arrived before ${overtaken(r, unkeyed)}`).join("; ");
    const reached =
      keyed.length === ORDER_EVENTS.length &&
      unkeyed.length === ORDER_EVENTS.length &&
      keyedPartitions.size === 1 &&
      keyedLate.length === 0 &&
      unkeyedLate.length > 0;
    return {
      reached,
      summary:
        `Keyed by ${ORDER}: all ${keyed.length} events on partition ${[...keyedPartitions].join(", ")}, received in order (${keyedLate.length} out of order). ` +
        `Without a key: spread over ${new Set(unkeyed.map((r) => r.partition)).size} partitions, ${unkeyedLate.length} of ${unkeyed.length} received out of order — ${whereLate || "none"}`,
      measures: {
        events: ORDER_EVENTS.join(" → "),
        receivedWithKey: keyed.map(where).join(" → "),
        receivedWithoutKey: unkeyed.map(where).join(" → "),
        outOfOrderWithKey: keyedLate.length,
        outOfOrderWithoutKey: unkeyedLate.length,
        ...measuresOf("keyed", keyed),
        ...measuresOf("unkeyed", unkeyed),
      },
    };
  },
};
