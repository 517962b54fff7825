/**
 * A consumer-group consumer over the REST API, shaped like kafkajs's: `subscribe`, then `run`
 * with `eachMessage` or `eachBatch`; the broker assigns partitions (KIP-848, server-side
 * assignor) and this class follows its heartbeats. Split as kafkajs splits its consumer: the
 * group membership (`group-membership.ts`, the shared member loop of `server/group-member`), the
 * fetch runner (`fetch-runner.ts`) and the offset manager (`offset-manager.ts`); this file holds
 * the public API and the events.
 *
 * How it keeps the protocol's promises:
 * - One request at a time to the coordinator: join, heartbeat, poll, commit and leave go through
 *   one queue, so every commit carries the epoch of the last reply and every poll happens with
 *   the assignment this client already knows (the broker only serves partitions its last reply
 *   granted). Record handlers run outside that queue, so slow handlers never delay heartbeats;
 *   long polls are capped at half the heartbeat interval for the same reason.
 * - Per partition, handlers run one at a time in offset order (so per-key order holds);
 *   different partitions run concurrently, and fetching goes on while they do, until
 *   maxBufferedRecords fetched records (or maxBufferedBytes of them) wait for their handlers. A
 *   handler that throws is retried on the same record after retryBackoffMs (its partition does
 *   not move past it).
 * - Revocation: when a heartbeat reply leaves out a partition, processing of it stops after the
 *   record in hand, its position is committed (autoCommit) with the epoch the broker still
 *   accepts for it, and only then does the next heartbeat stop listing it as owned — so its
 *   next owner starts exactly where this one stopped.
 * - Positions are those of processed records (not fetched ones): a crash re-delivers, never
 *   skips (at-least-once).
 * - UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH / GROUP_ID_NOT_FOUND: everything owned is dropped
 *   (it may already belong to someone else, so nothing is committed) and the consumer joins
 *   again with epoch 0 as a new member.
 *
 * Exactly-once consume-transform-produce (KIP-447): `isolationLevel: "read_committed"`,
 * `autoCommit: false`, and in `eachBatch` (serialised if one producer serves several partitions):
 * `producer.beginTransaction()`, send the outputs, `producer.sendOffsetsToTransaction({
 * ...consumer.groupMetadata(), offsets: [{topic, partition, offset: batch.position}] })`,
 * `producer.commitTransaction()`. Commit the batch's `position`, not the last offset + 1: it is
 * past the transaction markers that follow the batch, so a partition read to its end shows no lag. On failure abort and throw: the handler runs again on the
 * same records (its partition does not move past them), and after a rebalance or restart the
 * next owner starts from the offsets the last committed transaction stored.
 */
import type { CommitOffset, MemberHost } from "../group-member/group-member.ts";
import type { GroupMember } from "../group-member/group-member.ts";
import type { TopicPartition } from "../group-member/topic-partitions.ts";
import type { ConsumerEvents, ConsumerOptions, GroupMetadata, Listener, RunOptions, Subscription } from "./consumer-types.ts";
import { FetchRunner } from "./fetch-runner.ts";
import { joinGroupMember, membershipLost } from "./group-membership.ts";
import { OffsetManager } from "./offset-manager.ts";
import { httpTransport } from "./transport.ts";

export * from "./consumer-types.ts";
export { decodeGroupPoll, decodeGroupPollParts } from "./fetch-runner.ts";
export { bytesOfMessage, StoredMessage } from "./stored-message.ts";

type ResolvedOptions = Required<Omit<ConsumerOptions, "clientId" | "assignor" | "rebalanceTimeoutMs" | "isolationLevel">> &
  Pick<ConsumerOptions, "clientId" | "assignor" | "rebalanceTimeoutMs" | "isolationLevel">;

export class Consumer {
  private readonly opts: ResolvedOptions;
  private subscription: { topics?: string[]; topicPattern?: string } | null = null;
  private readonly listeners = new Map<keyof ConsumerEvents, Set<Listener<never>>>();
  private groupMember: GroupMember | null = null;
  private runner: FetchRunner | null = null;
  private fetching: Promise<void> | null = null;
  private running = false;
  private stopping: Promise<void> | null = null;
  private readonly stopController = new AbortController();

  constructor(options: ConsumerOptions) {
    this.opts = {
      autoOffsetReset: "latest",
      autoCommit: true,
      autoCommitIntervalMs: 1_000,
      maxRecords: 500,
      maxBytes: 1024 * 1024,
      waitMs: 1_000,
      retryBackoffMs: 500,
      maxBufferedRecords: 4 * (options.maxRecords ?? 500),
      maxBufferedBytes: 64 * 1024 * 1024,
      batchesInFlight: 1,
      storedMessages: false,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      transport: options.transport ?? httpTransport(options.baseUrl),
    };
  }

  // ---- public API ------------------------------------------------------------------------

  subscribe(sub: Subscription): void {
    if (this.running) throw new Error("subscribe before run()");
    if ((sub.topics === undefined) === (sub.topicPattern === undefined)) throw new Error("subscribe to topics or a topicPattern, not both");
    if (sub.topics !== undefined) {
      if (!Array.isArray(sub.topics) || sub.topics.length === 0) throw new Error("topics must be a non-empty array");
      this.subscription = { topics: [...sub.topics] };
    } else {
      const p = sub.topicPattern as string | RegExp;
      this.subscription = { topicPattern: typeof p === "string" ? p : p.source };
    }
  }

  /** Joins, then consumes in the background until stop(); resolves once the first join is done. */
  async run(handlers: RunOptions): Promise<void> {
    if (this.running || this.stopping) throw new Error("run() was already called");
    if (!this.subscription) throw new Error("subscribe() before run()");
    if (!handlers.eachMessage === !handlers.eachBatch) throw new Error("give exactly one of eachMessage or eachBatch");
    this.running = true;
    const offsets = new OffsetManager();
    const member = joinGroupMember(this.opts, this.subscription, this.memberHost(offsets));
    const runner = new FetchRunner(
      member,
      offsets,
      this.opts,
      handlers,
      () => this.running,
      this.stopController.signal,
      (e) => this.emit("error", e),
    );
    this.groupMember = member;
    this.runner = runner;
    try {
      await member.start();
    } catch (e) {
      this.running = false;
      throw e;
    }
    this.fetching = runner.run();
  }

  /** The partitions this consumer owns now (including any it is giving up). */
  assignment(): TopicPartition[] {
    return this.groupMember?.ownedPartitions() ?? [];
  }

  get member(): { memberId: string | null; memberEpoch: number } {
    return { memberId: this.groupMember?.memberId ?? null, memberEpoch: this.groupMember?.memberEpoch ?? 0 };
  }

  /**
   * The group id, member id and member epoch as of now, for
   * `producer.sendOffsetsToTransaction({...consumer.groupMetadata(), offsets})` in a
   * consume-transform-produce loop (run with autoCommit: false, so positions are committed only
   * through the producer's transactions). Throws while the consumer is not a group member.
   */
  groupMetadata(): GroupMetadata {
    const memberId = this.groupMember?.memberId ?? null;
    if (memberId === null) throw new Error("the consumer is not a group member (run() first, or it is rejoining)");
    return { groupId: this.opts.groupId, memberId, memberEpoch: this.groupMember!.memberEpoch };
  }

  on<E extends keyof ConsumerEvents>(event: E, listener: Listener<ConsumerEvents[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /**
   * Commits processed positions now: of every owned partition, or the given offsets (the next
   * offsets to consume). Throws TributaryClientError when the broker refuses, and at once when
   * the membership is lost (fenced or expired: the consumer is joining again).
   */
  async commitOffsets(offsets?: { topic: string; partition: number; offset: number }[]): Promise<void> {
    if (!this.groupMember) throw membershipLost();
    await this.groupMember.commit(offsets);
  }

  /** Stops consuming: finishes the records in hand, commits (autoCommit), leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  disconnect(): Promise<void> {
    return this.stop();
  }

  /**
   * Stops at once without committing or leaving, as a crashed process would: no more heartbeats,
   * so the broker removes the member after its session timeout and moves its partitions then
   * (simulated failures, tests). Records in hand are dropped; the consumer cannot run again.
   */
  abandon(): void {
    if (!this.running) return;
    this.running = false;
    this.stopping ??= Promise.resolve();
    this.groupMember?.abandon();
    this.stopController.abort();
  }

  // ---- events ----------------------------------------------------------------------------

  private emit<E extends keyof ConsumerEvents>(event: E, payload: ConsumerEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as Listener<ConsumerEvents[E]>)(payload);
      } catch (e) {
        if (event !== "error") this.emit("error", e as Error);
      }
    }
  }

  /** What the member loop tells this consumer, turned into the fetch runner's work and events. */
  private memberHost(offsets: OffsetManager): MemberHost {
    return {
      positions: (partitions): CommitOffset[] => offsets.positions(partitions),
      joined: ({ memberId, memberEpoch, rejoin }) => this.emit("joined", { memberId, memberEpoch, reason: rejoin ? "rejoin" : "start" }),
      assignmentChanged: ({ memberId, memberEpoch, assigned }) => {
        if (assigned.length === 0) return;
        this.runner!.assign(assigned);
        const assignment = this.assignment();
        this.emit("assigned", { memberId, memberEpoch, partitions: assigned, assignment });
        this.emit("rebalance", { memberId, memberEpoch, assignment });
      },
      drain: (partitions) => this.runner!.drain(partitions),
      released: ({ memberId, memberEpoch, partitions, assignment, reason }) => {
        this.runner!.remove(partitions);
        this.emit("revoked", { memberId, memberEpoch, partitions, assignment, reason });
        this.emit("rebalance", { memberId, memberEpoch, assignment });
      },
      committed: ({ memberId, memberEpoch, offsets: done }) => {
        if (done.length > 0)
          this.emit("commit", {
            memberId,
            memberEpoch,
            offsets: done.map(({ topic, partition, offset }) => ({ topic, partition, offset })),
          });
      },
      error: (e) => {
        if (this.running || !(e instanceof Error && e.name === "AbortError")) this.emit("error", e as Error);
      },
      left: ({ memberId, reason }) => {
        if (reason === "left" || reason === "closed") this.emit("left", { memberId });
      },
    };
  }

  // ---- shutdown --------------------------------------------------------------------------

  private async shutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort(); // ends an in-flight long poll and the runner's sleeps
    await this.fetching?.catch(() => undefined);
    await this.groupMember?.leave("left");
  }
}
