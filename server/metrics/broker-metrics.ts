/**
 * The broker's state as Prometheus metrics, read at each scrape: partitions and their offsets,
 * sizes and record counts, consumer-group offsets and lag per partition, traffic per topic.
 * Names follow Kafka-exporter (danielqsj/kafka_exporter) where it has one, so dashboards and
 * alerts written for Kafka work as they are; the rest are `tributary_*`. Every label value is a
 * topic, partition or group the broker holds, so cardinality is bounded by the broker itself.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { Broker } from "../broker/broker.ts";
import type { TrafficTotals } from "./traffic-totals.ts";

const TP = ["topic", "partition"] as const;
const GTP = ["consumergroup", "topic", "partition"] as const;
const GT = ["consumergroup", "topic"] as const;

export class BrokerMetrics {
  private readonly brokers: Gauge;
  private readonly partitions: Gauge<"topic">;
  private readonly currentOffset: Gauge<"topic" | "partition">;
  private readonly oldestOffset: Gauge<"topic" | "partition">;
  private readonly lastStableOffset: Gauge<"topic" | "partition">;
  private readonly partitionBytes: Gauge<"topic" | "partition">;
  private readonly partitionRecords: Gauge<"topic" | "partition">;
  private readonly groupOffset: Gauge<"consumergroup" | "topic" | "partition">;
  private readonly groupOffsetSum: Gauge<"consumergroup" | "topic">;
  private readonly groupLag: Gauge<"consumergroup" | "topic" | "partition">;
  private readonly groupLagSum: Gauge<"consumergroup" | "topic">;
  private readonly groupMembers: Gauge<"consumergroup">;
  private readonly traffic: { [K in "recordsIn" | "bytesIn" | "recordsOut" | "bytesOut"]: Counter<"topic"> };
  /** The gauges with labels, emptied before each update. */
  private readonly perScrape: Gauge<string>[] = [];

  constructor(
    registry: Registry,
    private readonly broker: Broker,
    private readonly totals: TrafficTotals,
  ) {
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => {
      const g = new Gauge<L>({ name, help, labelNames, registers: [registry] });
      if (labelNames.length > 0) this.perScrape.push(g as Gauge<string>);
      return g;
    };
    const counter = (name: string, help: string) => new Counter<"topic">({ name, help, labelNames: ["topic"], registers: [registry] });
    this.brokers = gauge("kafka_brokers", "Number of brokers (this server)");
    this.partitions = gauge("kafka_topic_partitions", "Number of partitions of the topic", ["topic"]);
    this.currentOffset = gauge("kafka_topic_partition_current_offset", "High watermark of the partition (next offset to be written)", TP);
    this.oldestOffset = gauge("kafka_topic_partition_oldest_offset", "Log start offset of the partition (oldest offset kept)", TP);
    this.lastStableOffset = gauge(
      "tributary_topic_partition_last_stable_offset",
      "Last stable offset of the partition (read_committed readers stop here)",
      TP,
    );
    this.partitionBytes = gauge("tributary_topic_partition_size_bytes", "Bytes of record batches stored for the partition", TP);
    this.partitionRecords = gauge("tributary_topic_partition_records", "Records stored in the partition", TP);
    this.groupOffset = gauge("kafka_consumergroup_current_offset", "Committed offset of the consumer group for the partition", GTP);
    this.groupOffsetSum = gauge("kafka_consumergroup_current_offset_sum", "Sum of the group's committed offsets over the topic", GT);
    this.groupLag = gauge(
      "kafka_consumergroup_lag",
      "Records the group has yet to read in the partition: high watermark minus committed offset (without a commit, from where its consumers would start)",
      GTP,
    );
    this.groupLagSum = gauge("kafka_consumergroup_lag_sum", "Sum of the group's lag over the topic", GT);
    this.groupMembers = gauge("kafka_consumergroup_members", "Members of the consumer group", ["consumergroup"]);
    this.traffic = {
      recordsIn: counter("tributary_topic_records_in_total", "Records appended to the topic since the server started"),
      bytesIn: counter("tributary_topic_bytes_in_total", "Record-batch bytes appended to the topic since the server started"),
      recordsOut: counter("tributary_topic_records_out_total", "Records handed to readers of the topic since the server started"),
      bytesOut: counter("tributary_topic_bytes_out_total", "Record-batch bytes handed to readers of the topic since the server started"),
    };
  }

  /** Sets every metric from the broker's current state (one read of topics, one of groups). */
  async update(): Promise<void> {
    const topics = await this.broker.listTopics();
    const groups = await this.readGroups();

    // set anew at each scrape: a deleted topic or group disappears from the output
    for (const g of this.perScrape) g.reset();
    this.brokers.set(1);
    for (const t of topics) {
      this.partitions.set({ topic: t.name }, t.partitions.length);
      for (const p of t.partitions) {
        const labels = { topic: t.name, partition: String(p.partition) };
        this.currentOffset.set(labels, p.highWatermark);
        this.oldestOffset.set(labels, p.logStartOffset);
        this.lastStableOffset.set(labels, p.lastStableOffset);
        this.partitionBytes.set(labels, p.sizeBytes);
        this.partitionRecords.set(labels, p.recordCount);
      }
    }

    this.totals.keepOnly(new Set(topics.map((t) => t.name)));
    for (const c of Object.values(this.traffic)) c.reset();
    for (const [topic, t] of this.totals.topics) {
      this.traffic.recordsIn.inc({ topic }, t.recordsIn);
      this.traffic.bytesIn.inc({ topic }, t.bytesIn);
      this.traffic.recordsOut.inc({ topic }, t.recordsOut);
      this.traffic.bytesOut.inc({ topic }, t.bytesOut);
    }

    for (const { groupId, members, offsets } of groups) {
      this.groupMembers.set({ consumergroup: groupId }, members);
      const sums = new Map<string, { lag: number; offset: number; committed: boolean }>();
      for (const o of offsets) {
        const labels = { consumergroup: groupId, topic: o.topic, partition: String(o.partition) };
        this.groupLag.set(labels, o.lag);
        let s = sums.get(o.topic);
        if (!s) sums.set(o.topic, (s = { lag: 0, offset: 0, committed: false }));
        s.lag += o.lag;
        if (o.committedOffset !== null) {
          this.groupOffset.set(labels, o.committedOffset);
          s.offset += o.committedOffset;
          s.committed = true;
        }
      }
      for (const [topic, s] of sums) {
        this.groupLagSum.set({ consumergroup: groupId, topic }, s.lag);
        if (s.committed) this.groupOffsetSum.set({ consumergroup: groupId, topic }, s.offset);
      }
    }
  }

  /** Every group with its member count and per-partition offsets; a group deleted meanwhile is skipped. */
  private async readGroups(): Promise<{ groupId: string; members: number; offsets: GroupOffsets }[]> {
    let summaries: Awaited<ReturnType<Broker["listGroups"]>>;
    try {
      summaries = await this.broker.listGroups();
    } catch {
      return []; // consumer groups disabled on this broker
    }
    const out = [];
    for (const s of summaries) {
      try {
        const view = await this.broker.describeGroup(s.groupId);
        out.push({ groupId: s.groupId, members: view.members.length, offsets: view.offsets });
      } catch {
        // deleted between the list and the description
      }
    }
    return out;
  }
}

type GroupOffsets = Awaited<ReturnType<Broker["describeGroup"]>>["offsets"];
