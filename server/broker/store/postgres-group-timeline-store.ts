/**
 * GroupTimelineStore on PostgreSQL: one insert (unnest) and one trim per write. Group, member and
 * client ids were validated as storable text where they entered (the API schemas, the group layer).
 */
import type pg from "pg";
import type { GroupTimelineStore, StoredTimelineEvent, TimelineEventRecord, TimelinePartitions } from "./group-timeline-store.ts";

interface Row {
  id: string;
  group_id: string;
  at: Date;
  type: string;
  group_epoch: number;
  member_id: string | null;
  client_id: string | null;
  member_epoch: number | null;
  assignment: TimelinePartitions[] | null;
  pending_revocation: TimelinePartitions[] | null;
}

export class PostgresGroupTimelineStore implements GroupTimelineStore {
  constructor(private readonly pool: pg.Pool) {}

  async append(events: readonly TimelineEventRecord[], keepPerGroup: number): Promise<void> {
    if (events.length === 0) return;
    const json = (v: TimelinePartitions[] | null) => (v === null ? null : JSON.stringify(v));
    await this.pool.query(
      `INSERT INTO group_timeline_events (group_id, at, type, group_epoch, member_id, client_id, member_epoch, assignment, pending_revocation)
       SELECT g, to_timestamp(a / 1000.0), t, e, m, c, me, asg::jsonb, pr::jsonb
         FROM unnest($1::text[], $2::float8[], $3::text[], $4::int4[], $5::text[], $6::text[], $7::int4[], $8::text[], $9::text[])
           WITH ORDINALITY AS x(g, a, t, e, m, c, me, asg, pr, n)
        ORDER BY n`,
      [
        events.map((e) => e.groupId),
        events.map((e) => e.at),
        events.map((e) => e.type),
        events.map((e) => e.groupEpoch),
        events.map((e) => e.memberId),
        events.map((e) => e.clientId),
        events.map((e) => e.memberEpoch),
        events.map((e) => json(e.assignment)),
        events.map((e) => json(e.pendingRevocation)),
      ],
    );
    const groups = [...new Set(events.map((e) => e.groupId))];
    await this.pool.query(
      `DELETE FROM group_timeline_events e
        USING (SELECT g, (SELECT id FROM group_timeline_events WHERE group_id = g ORDER BY id DESC OFFSET $2 LIMIT 1) AS cut
                 FROM unnest($1::text[]) AS g) c
        WHERE e.group_id = c.g AND c.cut IS NOT NULL AND e.id <= c.cut`,
      [groups, keepPerGroup],
    );
  }

  async find(groupId: string, limit: number): Promise<StoredTimelineEvent[]> {
    const r = await this.pool.query<Row>(
      `SELECT * FROM (SELECT id, group_id, at, type, group_epoch, member_id, client_id, member_epoch, assignment, pending_revocation
                        FROM group_timeline_events WHERE group_id = $1 ORDER BY id DESC LIMIT $2) x
        ORDER BY id`,
      [groupId, limit],
    );
    return r.rows.map((x) => ({
      seq: Number(x.id),
      groupId: x.group_id,
      at: x.at.getTime(),
      type: x.type,
      groupEpoch: x.group_epoch,
      memberId: x.member_id,
      clientId: x.client_id,
      memberEpoch: x.member_epoch,
      assignment: x.assignment,
      pendingRevocation: x.pending_revocation,
    }));
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.pool.query("DELETE FROM group_timeline_events WHERE group_id = $1", [groupId]);
  }
}
