/**
 * The rebalance timeline of every consumer group (issue #17): each join, leave, expiry, fencing,
 * group epoch bump and assignment change, stamped with the group epoch it led to, written to the
 * `GroupTimelineStore` in the background and trimmed to the newest `keepPerGroup` per group.
 *
 * Recording never slows the coordinator down nor holds unbounded memory: events are queued and
 * written in batches, one write at a time; past `maxPending` queued events the oldest are dropped
 * (and counted) rather than held while the database is slow or down.
 */
import type { GroupEvent } from "./consumer-group.ts";
import type { GroupTimelineStore, StoredTimelineEvent, TimelineEventRecord } from "../store/group-timeline-store.ts";

export interface GroupTimelineOptions {
  keepPerGroup: number;
  /** How long events wait to be written together. */
  flushMs?: number;
  maxPending?: number;
  onError?: (e: unknown) => void;
}

export class GroupTimeline {
  private pending: TimelineEventRecord[] = [];
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Events dropped because too many waited to be written. */
  dropped = 0;

  constructor(
    private readonly store: GroupTimelineStore,
    private readonly options: GroupTimelineOptions,
  ) {}

  /** Records a coordinator event; `groupEpoch` is the group's epoch once the call that made it completed. */
  recordGroupEvent(e: GroupEvent, groupEpoch: number): void {
    const base = { groupId: e.groupId, at: Date.now(), groupEpoch, memberEpoch: null, assignment: null, pendingRevocation: null };
    switch (e.type) {
      case "member-joined":
        return this.push({ ...base, type: "member-joined", memberId: e.memberId, clientId: e.clientId });
      case "member-removed": {
        const type = e.reason === "left" ? "member-left" : e.reason === "rejoined" ? "member-rejoined" : e.reason;
        return this.push({ ...base, type, memberId: e.memberId, clientId: e.clientId });
      }
      case "epoch-bumped":
        return this.push({ ...base, type: "epoch-bumped", groupEpoch: e.groupEpoch, memberId: null, clientId: null });
      case "assignment-changed":
        return this.push({
          ...base,
          type: "assignment-changed",
          memberId: e.memberId,
          clientId: null,
          memberEpoch: e.memberEpoch,
          assignment: e.assignment,
          pendingRevocation: e.pendingRevocation,
        });
      case "state-changed":
        return;
    }
  }

  /** A heartbeat refused with FENCED_MEMBER_EPOCH. */
  recordFenced(groupId: string, memberId: string, memberEpoch: number, groupEpoch: number): void {
    this.push({
      groupId,
      at: Date.now(),
      type: "fenced",
      groupEpoch,
      memberId,
      clientId: null,
      memberEpoch,
      assignment: null,
      pendingRevocation: null,
    });
  }

  /** The group's events, oldest first, including those not yet written. */
  async events(groupId: string): Promise<StoredTimelineEvent[]> {
    await this.flush();
    return this.store.find(groupId, this.options.keepPerGroup);
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.flush();
    await this.store.deleteGroup(groupId);
  }

  /** Writes everything queued (waits for a write in progress first). */
  async flush(): Promise<void> {
    while (this.writing || this.pending.length > 0) {
      if (this.writing) await this.writing;
      else this.write();
    }
  }

  close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.flush().catch(() => undefined);
  }

  private push(e: TimelineEventRecord): void {
    this.pending.push(e);
    const max = this.options.maxPending ?? 10_000;
    if (this.pending.length > max) {
      this.dropped += this.pending.length - max;
      this.pending.splice(0, this.pending.length - max);
    }
    if (!this.timer && !this.writing) {
      this.timer = setTimeout(() => this.write(), this.options.flushMs ?? 100);
      this.timer.unref();
    }
  }

  private write(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.writing || this.pending.length === 0) return;
    const batch = this.pending.splice(0, 1000);
    this.writing = this.store
      .append(batch, this.options.keepPerGroup)
      .catch((e: unknown) => this.options.onError?.(e))
      .finally(() => {
        this.writing = null;
        if (this.pending.length > 0) this.write();
      });
  }
}
