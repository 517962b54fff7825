/**
 * Produce: records routed to partitions and encoded here (JSON produce), or client-encoded
 * RecordBatch v2 bytes validated as they are (binary produce), then appended to the partition
 * logs. Transactional appends are let in by the transaction service first (`TransactionalAppends`),
 * which the caller passes: this layer sits below the transactions and does not hold them.
 */
import { BrokerError, transactionsNotEnabled, unknownPartition } from "../errors.ts";
import { buildBatches, validateClientBatches, type BatchProducer } from "../protocol/batch-builder.ts";
import { partitionFor } from "../protocol/partitioner.ts";
import type { RecordHeader, RecordInput } from "../protocol/record-batch.ts";
import type { TopicMetadataCache } from "./topic-metadata-cache.ts";

/** The producer of a JSON produce request (KIP-98): one batch to one partition. */
export interface ProduceAs {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Produce inside this id's transaction. */
  transactionalId?: string;
}

export interface ProduceRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** CreateTime in epoch ms; defaults to now. */
  timestamp?: number;
  partition?: number;
}

export interface ProducedRecord {
  partition: number;
  offset: number;
  timestamp: number;
}

/** The transaction service as produce sees it: a transactional append waits for its partitions to join the transaction. */
export interface TransactionalAppends {
  /**
   * Adds the partitions to the producer's transaction (durably) before the append; call the
   * returned function once the append settled.
   */
  beginProduce(
    transactionalId: string,
    producerId: number,
    producerEpoch: number,
    partitions: readonly { topic: string; partition: number }[],
  ): Promise<() => void>;
}

/**
 * Appends records, routing each by its explicit partition, its key (murmur2) or the sticky
 * partitioner. Everything is validated before anything is written; resolves after commit.
 * `txn`: null when the broker has no transactions.
 */
export async function produceRecords(
  cache: TopicMetadataCache,
  topic: string,
  records: ProduceRecord[],
  as: ProduceAs | undefined,
  txn: TransactionalAppends | null,
): Promise<ProducedRecord[]> {
  let t = await cache.topic(topic);
  if (records.length === 0) throw new BrokerError("INVALID_REQUEST", "no records to produce");
  if (as?.transactionalId !== undefined && !txn) throw transactionsNotEnabled();
  // another process may have added partitions since this one loaded the topic
  if (records.some((r) => Number.isInteger(r.partition) && (r.partition as number) >= t.logs.length)) t = await cache.reload(t);
  const now = Date.now();
  const n = t.logs.length;
  const compacted = t.configs["cleanup.policy"] !== "delete";
  const logAppend = t.configs["message.timestamp.type"] === "LogAppendTime";
  const byPartition = new Map<number, { inputs: RecordInput[]; indexes: number[] }>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (compacted && r.key === null) {
      throw new BrokerError("INVALID_RECORD", `record ${i} has no key; compacted topic '${topic}' requires a key on every record`, {
        index: i,
      });
    }
    const ts = r.timestamp ?? now;
    if (!Number.isSafeInteger(ts) || ts < 0) {
      throw new BrokerError("INVALID_TIMESTAMP", `record ${i} has invalid timestamp ${ts}: expected epoch milliseconds >= 0`, {
        index: i,
      });
    }
    const input: RecordInput = { key: r.key, value: r.value, headers: r.headers ?? [], timestamp: ts };
    let p: number;
    if (r.partition !== undefined) {
      if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= n) throw unknownPartition(topic, r.partition, n);
      p = r.partition;
    } else {
      p = partitionFor(r.key, n, t.sticky, (r.value?.length ?? 0) + (r.key?.length ?? 0));
    }
    let group = byPartition.get(p);
    if (!group) byPartition.set(p, (group = { inputs: [], indexes: [] }));
    group.inputs.push(input);
    group.indexes.push(i);
  }
  let producer: BatchProducer | undefined;
  if (as) {
    if (byPartition.size !== 1) {
      throw new BrokerError(
        "INVALID_REQUEST",
        `a request with producerId writes one batch to one partition; these records go to partitions ${[...byPartition.keys()].sort((a, b) => a - b).join(", ")}: give each record the same 'partition' or send one request per partition`,
      );
    }
    producer = {
      producerId: as.producerId,
      producerEpoch: as.producerEpoch,
      baseSequence: as.baseSequence,
      isTransactional: as.transactionalId !== undefined,
    };
  }
  // Encode (and size-check) every partition's batches before the first append.
  const plans = [...byPartition].map(([p, g]) => ({ p, g, batches: buildBatches(g.inputs, t.configs, now, producer) }));
  const release =
    as?.transactionalId !== undefined && txn
      ? await txn.beginProduce(
          as.transactionalId,
          as.producerId,
          as.producerEpoch,
          plans.map(({ p }) => ({ topic, partition: p })),
        )
      : null;
  const out = new Array<ProducedRecord>(records.length);
  await Promise.all(
    plans.map(async ({ p, g, batches }) => {
      const base = await t.logs[p].append(batches).finally(() => release?.());
      for (let j = 0; j < g.indexes.length; j++) {
        out[g.indexes[j]] = { partition: p, offset: base + j, timestamp: logAppend ? now : g.inputs[j].timestamp };
      }
    }),
  );
  return out;
}

/**
 * Appends client-encoded RecordBatch v2 bytes (one or more batches) to one partition as they
 * are, after validation. Returns the assigned offset range.
 */
export async function produceBatches(
  cache: TopicMetadataCache,
  topic: string,
  partition: number,
  payload: Buffer,
  opts: { transactionalId?: string },
  txn: TransactionalAppends | null,
): Promise<{
  partition: number;
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  /** The producer of the batches (the first one's: a request holds one producer's batches). */
  producer: { producerId: number; producerEpoch: number; transactional: boolean };
}> {
  const t = await cache.topic(topic);
  const log = await cache.partitionLog(topic, partition);
  const { batches, recordCount } = validateClientBatches(payload, t.configs, Date.now());
  let release: (() => void) | null = null;
  const txnal = batches.filter((b) => b.isTransactional);
  if (opts.transactionalId !== undefined || txnal.length > 0) {
    if (!txn) throw transactionsNotEnabled();
    const first = batches[0];
    if (
      txnal.length !== batches.length ||
      batches.some((b) => b.producerId !== first.producerId || b.producerEpoch !== first.producerEpoch)
    ) {
      throw new BrokerError("INVALID_RECORD", "a transactional request holds transactional batches of one producer id and epoch only");
    }
    if (opts.transactionalId === undefined) {
      throw new BrokerError(
        "INVALID_REQUEST",
        "transactional batches need ?transactionalId=: the transactional id whose transaction they belong to",
      );
    }
    release = await txn.beginProduce(opts.transactionalId, first.producerId, first.producerEpoch, [{ topic, partition }]);
  }
  const base = await log.append(batches).finally(() => release?.());
  const span = batches.reduce((s, b) => s + b.lastOffsetDelta + 1, 0);
  const first = batches[0];
  return {
    partition,
    baseOffset: base,
    lastOffset: base + span - 1,
    recordCount,
    producer: { producerId: first.producerId, producerEpoch: first.producerEpoch, transactional: first.isTransactional },
  };
}
