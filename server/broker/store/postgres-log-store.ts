/**
 * LogStore on PostgreSQL. Metadata goes through Prisma; the append and fetch hot paths use
 * the same `pg` pool directly with one statement each (see NOTES: Prisma per-row writes are
 * ~25k rows/s, one statement per group commit is bounded by bytes instead).
 */
import type pg from "pg";
import { DatabaseError } from "pg";
import { to as copyTo } from "pg-copy-streams";
import { BinaryTailQuery } from "./append-query.ts";
import type { PrismaClient } from "../../db/generated/prisma/client.ts";
import { CopyBinaryReader } from "./copy-binary-reader.ts";
import { TributaryError } from "../../errors/tributary-error.ts";
import { checkStorableJson, checkStorableText } from "./storable-text.ts";
import { BATCH_HEADER_SIZE, readBatchHeader, setBaseOffset, type RecordBatchHeader } from "../protocol/record-batch.ts";
import type {
  AppendOutcome,
  BatchRewrite,
  BatchToAppend,
  LogStore,
  PartitionRecord,
  ProducerBatchRow,
  StoredBatch,
  TopicRecord,
} from "./log-store.ts";

const BATCH_COLUMNS = `base_offset, last_offset, record_count, first_timestamp, max_timestamp, producer_id,
  producer_epoch, base_sequence, is_transactional, is_control, size_bytes`;

interface BatchRow {
  base_offset: number;
  last_offset: number;
  record_count: number;
  first_timestamp: number;
  max_timestamp: number;
  producer_id: number;
  producer_epoch: number;
  base_sequence: number;
  is_transactional: boolean;
  is_control: boolean;
  size_bytes: number;
  payload?: Buffer;
}

interface PartitionRow {
  partition: number;
  next_offset: number;
  log_start_offset: number;
  record_count: number;
  size_bytes: number;
}

function toBatch(r: BatchRow): StoredBatch {
  // stored payloads may carry the base offset the producer sent: the row's column is the truth
  if (r.payload) setBaseOffset(r.payload, r.base_offset);
  return {
    baseOffset: r.base_offset,
    lastOffset: r.last_offset,
    recordCount: r.record_count,
    firstTimestamp: r.first_timestamp,
    maxTimestamp: r.max_timestamp,
    producerId: r.producer_id,
    producerEpoch: r.producer_epoch,
    baseSequence: r.base_sequence,
    isTransactional: r.is_transactional,
    isControl: r.is_control,
    sizeBytes: r.size_bytes,
    payload: r.payload as Buffer,
  };
}

/** A batch read in pieces: `payload` joins them the first time it is asked for. */
function storedFromParts(h: RecordBatchHeader, parts: readonly Buffer[], size: number): StoredBatch {
  let joined: Buffer | undefined = parts.length === 1 ? parts[0] : undefined;
  return {
    baseOffset: h.baseOffset,
    lastOffset: h.baseOffset + h.lastOffsetDelta,
    recordCount: h.recordCount,
    firstTimestamp: h.firstTimestamp,
    maxTimestamp: h.maxTimestamp,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    isTransactional: h.isTransactional,
    isControl: h.isControl,
    sizeBytes: size,
    get payload() {
      return (joined ??= Buffer.concat(parts, size));
    },
    payloadParts: parts,
  };
}

function toPartition(r: PartitionRow): PartitionRecord {
  return {
    partition: r.partition,
    nextOffset: r.next_offset,
    logStartOffset: r.log_start_offset,
    recordCount: r.record_count,
    sizeBytes: r.size_bytes,
  };
}

/**
 * One statement per group commit: the UPDATE takes the partition row lock and reserves the
 * offsets, the INSERT writes every batch. The payload is stored as sent (a lone batch is the
 * parameter itself, no copy in PostgreSQL); its base offset field is set from the row's
 * `base_offset` when it is read back (toBatch, copyBatches), so PostgreSQL never rewrites it.
 * Payloads travel as ONE binary bytea parameter, written to the socket batch by batch without
 * concatenation (BinaryTailQuery), and are cut apart with substring().
 */
const APPEND_SQL = `
WITH p AS (
  UPDATE partitions
     SET next_offset = next_offset + $3, record_count = record_count + $4, size_bytes = size_bytes + $5
   WHERE topic_id = $1 AND partition = $2
  RETURNING partition, next_offset - $3 AS base, next_offset, log_start_offset, record_count, size_bytes
), b AS (
  SELECT * FROM unnest($6::int8[], $7::int8[], $8::int4[], $9::int8[], $10::int8[], $11::int8[], $12::int2[],
                       $13::int4[], $14::bool[], $15::bool[], $16::int4[], $17::int4[])
    AS b(rel, last_delta, record_count, first_ts, max_ts, producer_id, producer_epoch, base_sequence,
         is_transactional, is_control, pos, len)
), ins AS (
  INSERT INTO record_batches (topic_id, partition, ${BATCH_COLUMNS}, payload)
  SELECT $1, $2, p.base + b.rel, p.base + b.rel + b.last_delta, b.record_count, b.first_ts, b.max_ts,
         b.producer_id, b.producer_epoch, b.base_sequence, b.is_transactional, b.is_control, b.len,
         CASE WHEN b.len = octet_length($18::bytea) THEN $18::bytea ELSE substring($18::bytea FROM b.pos + 1 FOR b.len) END
    FROM p, b
)
SELECT partition, base, next_offset, log_start_offset, record_count, size_bytes FROM p`;
const APPEND_STATEMENT = { name: "append", text: APPEND_SQL };
/** The most payload bytes one append statement carries (one larger batch goes alone); see appendInStatements. */
const MAX_STATEMENT_BYTES = 4 * 1024 * 1024;

/** `batches` in order, cut into runs of at most `maxBytes` payload bytes (a larger batch alone). */
function splitByBytes(batches: BatchToAppend[], maxBytes: number): BatchToAppend[][] {
  const runs: BatchToAppend[][] = [];
  let run: BatchToAppend[] = [];
  let bytes = 0;
  for (const b of batches) {
    if (run.length > 0 && bytes + b.payload.length > maxBytes) {
      runs.push(run);
      run = [];
      bytes = 0;
    }
    run.push(b);
    bytes += b.payload.length;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * The batches a fetch reads, `$1` topic id, `$2` partition, `$3` from offset, `$4` max batches,
 * `$5` max bytes: the batch containing the offset (looked up backwards on the primary key:
 * `last_offset >= x` alone could not use the index), then the ones after it, cut where the
 * running size passes maxBytes before any payload is read (payloads are TOASTed, so fetched
 * lazily); one primary-key lookup per chosen batch, whatever the planner's statistics say.
 */
const readBatchesSql = (columns: string) => `WITH c AS (
    (SELECT * FROM (
       SELECT base_offset, last_offset, size_bytes FROM record_batches
        WHERE topic_id = $1 AND partition = $2 AND base_offset <= $3
        ORDER BY base_offset DESC LIMIT 1) x
      WHERE x.last_offset >= $3)
    UNION ALL
    (SELECT base_offset, last_offset, size_bytes FROM record_batches
      WHERE topic_id = $1 AND partition = $2 AND base_offset > $3
      ORDER BY base_offset LIMIT $4)
  ), w AS (
    SELECT base_offset, sum(size_bytes) OVER (ORDER BY base_offset) - size_bytes AS before,
           row_number() OVER (ORDER BY base_offset) AS n
      FROM c
  )
  SELECT ${columns} FROM w CROSS JOIN LATERAL (
    SELECT * FROM record_batches
     WHERE topic_id = $1 AND partition = $2 AND base_offset = w.base_offset) r
   WHERE (w.n = 1 OR w.before < $5) AND w.n <= $4
   ORDER BY w.base_offset`;

const READ_BATCHES_SQL = readBatchesSql(
  BATCH_COLUMNS.split(",")
    .map((c) => `r.${c.trim()}`)
    .join(", ") + ", r.payload",
);
/**
 * The most one plain (hex text) read query returns; see readBatches. Each byte passes through
 * the embedded database's WASM memory (which never shrinks) and node-pg as two hex characters.
 */
const TEXT_READ_MAX_BYTES = 4 * 1024 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PostgresLogStoreOptions {
  /**
   * Read payloads with `COPY … TO STDOUT (FORMAT binary)`: node-pg receives bytea columns as
   * hex text (twice the bytes, then decoded), COPY gives them raw; measured 4–7× faster on cold
   * reads. Needs a PostgreSQL server (the embedded database keeps the plain query).
   */
  copyReads?: boolean;
}

export class PostgresLogStore implements LogStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly prisma: PrismaClient,
    private readonly options: PostgresLogStoreOptions = {},
  ) {}

  async createTopic(t: TopicRecord): Promise<void> {
    checkStorableText("name", t.name);
    checkStorableJson("configs", t.configs);
    try {
      await this.prisma.$transaction([
        this.prisma.topic.create({
          data: { id: t.id, name: t.name, partitions: t.partitions, configs: t.configs as object, createdAt: t.createdAt },
        }),
        this.prisma.partition.createMany({
          data: Array.from({ length: t.partitions }, (_, partition) => ({ topicId: t.id, partition })),
        }),
      ]);
    } catch (e) {
      if ((e as { code?: string }).code === "P2002")
        throw new TributaryError("TOPIC_ALREADY_EXISTS", `topic '${t.name}' already exists`, { topic: t.name });
      throw e;
    }
  }

  async findTopics(): Promise<TopicRecord[]> {
    const rows = await this.prisma.topic.findMany({ orderBy: { name: "asc" } });
    return rows.map((r) => ({ ...r, configs: (r.configs ?? {}) as Record<string, unknown> }));
  }

  async findTopic(name: string): Promise<TopicRecord | null> {
    checkStorableText("name", name);
    const r = await this.prisma.topic.findUnique({ where: { name } });
    return r ? { ...r, configs: (r.configs ?? {}) as Record<string, unknown> } : null;
  }

  async deleteTopic(id: string): Promise<void> {
    // Batches first: they carry no foreign key (it would cost every append a lookup).
    await this.pool.query("DELETE FROM record_batches WHERE topic_id = $1", [id]);
    await this.prisma.topic.deleteMany({ where: { id } });
  }

  async addPartitions(id: string, from: number, to: number): Promise<void> {
    await this.prisma.$transaction([
      this.prisma.partition.createMany({
        data: Array.from({ length: to - from }, (_, i) => ({ topicId: id, partition: from + i })),
        skipDuplicates: true,
      }),
      this.prisma.topic.update({ where: { id }, data: { partitions: to } }),
    ]);
  }

  async updateConfigs(id: string, configs: Record<string, unknown>): Promise<void> {
    checkStorableJson("configs", configs);
    await this.prisma.topic.update({ where: { id }, data: { configs: configs as object } });
  }

  async findPartitions(topicId: string): Promise<PartitionRecord[]> {
    const res = await this.pool.query<PartitionRow>(
      `SELECT partition, next_offset, log_start_offset, record_count, size_bytes FROM partitions
        WHERE topic_id = $1 ORDER BY partition`,
      [topicId],
    );
    return res.rows.map(toPartition);
  }

  async findPartition(topicId: string, partition: number): Promise<PartitionRecord | null> {
    const res = await this.pool.query<PartitionRow>({
      name: "find-partition",
      text: `SELECT partition, next_offset, log_start_offset, record_count, size_bytes FROM partitions
              WHERE topic_id = $1 AND partition = $2`,
      values: [topicId, partition],
    });
    return res.rows[0] ? toPartition(res.rows[0]) : null;
  }

  async append(topicId: string, partition: number, batches: BatchToAppend[]): Promise<AppendOutcome | null> {
    const statements = splitByBytes(batches, MAX_STATEMENT_BYTES);
    if (statements.length > 1) return this.appendInStatements(topicId, partition, statements);
    const query = this.appendQuery(topicId, partition, batches);
    const client = await this.pool.connect();
    let rows: (PartitionRow & { base: number })[];
    try {
      rows = await BinaryTailQuery.run(client, query);
      client.release();
    } catch (e) {
      // an error PostgreSQL answered leaves the connection usable; any other may not
      client.release(e instanceof DatabaseError ? undefined : (e as Error));
      throw e;
    }
    const row = rows[0];
    if (!row) return null;
    return { baseOffset: row.base, state: toPartition(row) };
  }

  /**
   * A large group commit as several append statements in one transaction: the first one's
   * UPDATE locks the partition row, so each reserves the offsets right after the one before,
   * and all or none are written. Each statement's payload passes through the database's memory
   * two or three times (message, parameter, rows): the embedded database's WASM memory never
   * shrinks, so a 32 MiB statement would keep ~100 MB of it resident for good.
   */
  private async appendInStatements(topicId: string, partition: number, statements: BatchToAppend[][]): Promise<AppendOutcome | null> {
    return this.transaction(async (client) => {
      let first: (PartitionRow & { base: number }) | undefined;
      let last: PartitionRow | undefined;
      for (const batches of statements) {
        const [row] = await BinaryTailQuery.run(client, this.appendQuery(topicId, partition, batches));
        if (!row) return null; // the partition is gone: the first statement already found no row
        first ??= row;
        last = row;
      }
      return first && last ? { baseOffset: first.base, state: toPartition(last) } : null;
    });
  }

  /** The append statement for `batches` (see APPEND_SQL). */
  private appendQuery(topicId: string, partition: number, batches: BatchToAppend[]): BinaryTailQuery<PartitionRow & { base: number }> {
    const n = batches.length;
    const rel = new Array<number>(n);
    const lastDelta = new Array<number>(n);
    const recordCount = new Array<number>(n);
    const firstTs = new Array<number>(n);
    const maxTs = new Array<number>(n);
    const producerId = new Array<number>(n);
    const producerEpoch = new Array<number>(n);
    const baseSequence = new Array<number>(n);
    const isTxn = new Array<boolean>(n);
    const isControl = new Array<boolean>(n);
    const pos = new Array<number>(n);
    const len = new Array<number>(n);
    let offsets = 0;
    let records = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const b = batches[i];
      rel[i] = offsets;
      lastDelta[i] = b.lastOffsetDelta;
      recordCount[i] = b.recordCount;
      firstTs[i] = b.firstTimestamp;
      maxTs[i] = b.maxTimestamp;
      producerId[i] = b.producerId;
      producerEpoch[i] = b.producerEpoch;
      baseSequence[i] = b.baseSequence;
      isTxn[i] = b.isTransactional;
      isControl[i] = b.isControl;
      pos[i] = bytes;
      len[i] = b.payload.length;
      offsets += b.lastOffsetDelta + 1;
      records += b.recordCount;
      bytes += b.payload.length;
    }
    return new BinaryTailQuery<PartitionRow & { base: number }>(
      APPEND_STATEMENT,
      [
        topicId,
        partition,
        offsets,
        records,
        bytes,
        rel,
        lastDelta,
        recordCount,
        firstTs,
        maxTs,
        producerId,
        producerEpoch,
        baseSequence,
        isTxn,
        isControl,
        pos,
        len,
      ],
      batches.map((b) => b.payload),
    );
  }

  async readBatches(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBatches: number,
    maxBytes = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredBatch[]> {
    if (this.options.copyReads) return this.copyBatches(topicId, partition, fromOffset, maxBatches, maxBytes);
    // bytea arrives as hex text here, twice its size on the JS heap before it is decoded: one
    // query reads at most TEXT_READ_MAX_BYTES (a fetch may always return less than asked)
    const res = await this.pool.query<BatchRow>({
      name: "read-batches",
      text: READ_BATCHES_SQL,
      values: [topicId, partition, fromOffset, maxBatches, Math.min(maxBytes, TEXT_READ_MAX_BYTES)],
    });
    return res.rows.map(toBatch);
  }

  /**
   * readBatches through `COPY (…) TO STDOUT (FORMAT binary)`: payloads arrive as raw bytes and
   * every other field is read from the batch header (the stored bytes carry them all). COPY
   * takes no parameters, so the values are checked (a UUID, integers) and written in.
   */
  private async copyBatches(
    topicId: string,
    partition: number,
    fromOffset: number,
    maxBatches: number,
    maxBytes: number,
  ): Promise<StoredBatch[]> {
    if (!UUID.test(topicId)) throw new TypeError(`not a topic id: ${JSON.stringify(topicId)}`);
    for (const n of [partition, fromOffset, maxBatches, maxBytes]) {
      if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`not an integer >= 0: ${n}`);
    }
    const values = ["'" + topicId + "'", partition, fromOffset, maxBatches, maxBytes].map(String);
    const sql = `COPY (${readBatchesSql("r.base_offset, r.payload").replace(/\$(\d)/g, (_, i: string) => values[Number(i) - 1])}) TO STDOUT (FORMAT binary)`;
    const client = await this.pool.connect();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of client.query(copyTo(sql))) chunks.push(chunk as Buffer);
      client.release();
    } catch (e) {
      client.release(e as Error); // the connection may be mid-COPY: do not reuse it
      throw e;
    }
    const out: StoredBatch[] = [];
    const rows = new CopyBinaryReader(chunks);
    while (rows.nextRow() !== null) {
      const baseOffset = rows.int8Field();
      let parts = rows.field();
      if (!parts) throw new TypeError(`batch at offset ${baseOffset} has no payload`);
      let size = 0;
      for (const p of parts) size += p.length;
      // the header must lie in one piece (the base offset is written into it, and read back)
      if (parts[0].length < BATCH_HEADER_SIZE) parts = [Buffer.concat(parts, size)];
      setBaseOffset(parts[0], baseOffset);
      const h = readBatchHeader(parts[0], 0, size);
      out.push(storedFromParts(h, parts, size));
    }
    return out;
  }

  async findBatchForTimestamp(topicId: string, partition: number, timestamp: number, afterOffset: number): Promise<StoredBatch | null> {
    const res = await this.pool.query<BatchRow>(
      `SELECT ${BATCH_COLUMNS}, payload FROM record_batches
        WHERE topic_id = $1 AND partition = $2 AND max_timestamp >= $3 AND last_offset >= $4 AND NOT is_control
        ORDER BY base_offset LIMIT 1`,
      [topicId, partition, timestamp, afterOffset],
    );
    return res.rows[0] ? toBatch(res.rows[0]) : null;
  }

  async nextProducerId(): Promise<number> {
    const r = await this.pool.query<{ id: number }>(`SELECT nextval('producer_id_seq')::int8 AS id`);
    return r.rows[0].id;
  }

  async producerBatches(topicId: string, partition: number, fromOffset: number): Promise<ProducerBatchRow[]> {
    const r = await this.pool.query<BatchRow>(
      `SELECT ${BATCH_COLUMNS}, CASE WHEN is_control THEN payload END AS payload FROM record_batches
        WHERE topic_id = $1 AND partition = $2 AND producer_id >= 0 AND base_offset >= $3
        ORDER BY base_offset`,
      [topicId, partition, fromOffset],
    );
    return r.rows.map((x) => ({
      baseOffset: x.base_offset,
      lastOffset: x.last_offset,
      maxTimestamp: x.max_timestamp,
      producerId: x.producer_id,
      producerEpoch: x.producer_epoch,
      baseSequence: x.base_sequence,
      isTransactional: x.is_transactional,
      isControl: x.is_control,
      ...(x.payload ? { payload: x.payload } : {}),
    }));
  }

  async truncateBefore(topicId: string, partition: number, newStart: number): Promise<PartitionRecord | null> {
    return this.transaction(async (client) => {
      const locked = await client.query<PartitionRow>(
        `SELECT partition, next_offset, log_start_offset, record_count, size_bytes FROM partitions
          WHERE topic_id = $1 AND partition = $2 FOR UPDATE`,
        [topicId, partition],
      );
      const p = locked.rows[0];
      if (!p || newStart <= p.log_start_offset) return p ? toPartition(p) : null;
      const start = Math.min(newStart, p.next_offset);
      const del = await client.query<{ records: number; bytes: number }>(
        `WITH d AS (DELETE FROM record_batches WHERE topic_id = $1 AND partition = $2 AND last_offset < $3
                     RETURNING record_count, size_bytes)
         SELECT coalesce(sum(record_count), 0)::int8 AS records, coalesce(sum(size_bytes), 0)::int8 AS bytes FROM d`,
        [topicId, partition, start],
      );
      const upd = await client.query<PartitionRow>(
        `UPDATE partitions SET log_start_offset = $3, record_count = record_count - $4, size_bytes = size_bytes - $5
          WHERE topic_id = $1 AND partition = $2
          RETURNING partition, next_offset, log_start_offset, record_count, size_bytes`,
        [topicId, partition, start, del.rows[0].records, del.rows[0].bytes],
      );
      return toPartition(upd.rows[0]);
    });
  }

  async batchSummaries(topicId: string, partition: number): Promise<Omit<StoredBatch, "payload">[]> {
    const res = await this.pool.query<BatchRow>(
      `SELECT ${BATCH_COLUMNS} FROM record_batches WHERE topic_id = $1 AND partition = $2 ORDER BY base_offset`,
      [topicId, partition],
    );
    return res.rows.map(toBatch);
  }

  async rewriteBatches(topicId: string, partition: number, rewrites: BatchRewrite[]): Promise<PartitionRecord | null> {
    return this.transaction(async (client) => {
      const locked = await client.query<PartitionRow>(
        `SELECT partition FROM partitions WHERE topic_id = $1 AND partition = $2 FOR UPDATE`,
        [topicId, partition],
      );
      if (!locked.rows[0]) return null;
      let records = 0;
      let bytes = 0;
      for (const rw of rewrites) {
        const old = await client.query<{ record_count: number; size_bytes: number }>(
          `DELETE FROM record_batches WHERE topic_id = $1 AND partition = $2 AND base_offset = $3
           RETURNING record_count, size_bytes`,
          [topicId, partition, rw.baseOffset],
        );
        if (!old.rows[0]) continue;
        records -= old.rows[0].record_count;
        bytes -= old.rows[0].size_bytes;
        const b = rw.replacement;
        if (!b) continue;
        await client.query(
          `INSERT INTO record_batches (topic_id, partition, ${BATCH_COLUMNS}, payload)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
          [
            topicId,
            partition,
            rw.baseOffset,
            rw.baseOffset + b.lastOffsetDelta,
            b.recordCount,
            b.firstTimestamp,
            b.maxTimestamp,
            b.producerId,
            b.producerEpoch,
            b.baseSequence,
            b.isTransactional,
            b.isControl,
            b.payload.length,
            b.payload,
          ],
        );
        records += b.recordCount;
        bytes += b.payload.length;
      }
      const upd = await client.query<PartitionRow>(
        `UPDATE partitions SET record_count = record_count + $3, size_bytes = size_bytes + $4
          WHERE topic_id = $1 AND partition = $2
          RETURNING partition, next_offset, log_start_offset, record_count, size_bytes`,
        [topicId, partition, records, bytes],
      );
      return toPartition(upd.rows[0]);
    });
  }

  /** Runs `fn` in one transaction on one pooled connection; rolls back on any error. */
  private async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      // a connection that cannot even roll back goes, rather than back to the pool mid-transaction
      broken = await client.query("ROLLBACK").then(
        () => undefined,
        (r: unknown) => (r instanceof Error ? r : new Error(String(r))),
      );
      throw e;
    } finally {
      client.release(broken);
    }
  }
}
