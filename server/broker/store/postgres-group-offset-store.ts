/** GroupOffsetStore on PostgreSQL: one statement per commit (unnest upsert); text the database cannot store is refused first. */
import type pg from "pg";
import type { CommittedOffset, GroupOffsetStore } from "./group-offset-store.ts";
import { checkStorableText } from "./storable-text.ts";

export class PostgresGroupOffsetStore implements GroupOffsetStore {
  constructor(private readonly pool: pg.Pool) {}

  async findGroupIds(): Promise<string[]> {
    const r = await this.pool.query<{ group_id: string }>("SELECT DISTINCT group_id FROM group_offsets ORDER BY group_id");
    return r.rows.map((x) => x.group_id);
  }

  async findOffsets(groupId: string): Promise<CommittedOffset[]> {
    checkStorableText("groupId", groupId);
    const r = await this.pool.query<{
      topic: string;
      partition: number;
      committed_offset: number;
      metadata: string | null;
      commit_timestamp: Date;
    }>(
      `SELECT topic, partition, committed_offset, metadata, commit_timestamp FROM group_offsets
        WHERE group_id = $1 ORDER BY topic, partition`,
      [groupId],
    );
    return r.rows.map((x) => ({
      topic: x.topic,
      partition: x.partition,
      offset: x.committed_offset,
      metadata: x.metadata,
      commitTimestamp: x.commit_timestamp.getTime(),
    }));
  }

  async commitOffsets(groupId: string, offsets: Omit<CommittedOffset, "commitTimestamp">[]): Promise<void> {
    checkStorableText("groupId", groupId);
    offsets.forEach((o, i) => {
      checkStorableText(`offsets[${i}].topic`, o.topic);
      checkStorableText(`offsets[${i}].metadata`, o.metadata);
    });
    if (offsets.length === 0) return;
    await this.pool.query(
      `INSERT INTO group_offsets (group_id, topic, partition, committed_offset, metadata, commit_timestamp)
       SELECT $1, t, p, o, m, now() FROM unnest($2::text[], $3::int4[], $4::int8[], $5::text[]) AS x(t, p, o, m)
       ON CONFLICT (group_id, topic, partition)
       DO UPDATE SET committed_offset = EXCLUDED.committed_offset, metadata = EXCLUDED.metadata, commit_timestamp = now()`,
      [groupId, offsets.map((o) => o.topic), offsets.map((o) => o.partition), offsets.map((o) => o.offset), offsets.map((o) => o.metadata)],
    );
  }

  async deleteGroup(groupId: string): Promise<number> {
    checkStorableText("groupId", groupId);
    const r = await this.pool.query("DELETE FROM group_offsets WHERE group_id = $1", [groupId]);
    return r.rowCount ?? 0;
  }

  async deleteTopicOffsets(groupId: string | null, topic: string): Promise<number> {
    checkStorableText("groupId", groupId);
    checkStorableText("topic", topic);
    const r =
      groupId === null
        ? await this.pool.query("DELETE FROM group_offsets WHERE topic = $1", [topic])
        : await this.pool.query("DELETE FROM group_offsets WHERE group_id = $1 AND topic = $2", [groupId, topic]);
    return r.rowCount ?? 0;
  }
}
