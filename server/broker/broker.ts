/**
 * The broker façade: one method per operation, typed request → typed result, each delegated to
 * the layer that does it — the partition layer (`partition/`: topics, produce, fetch, offsets,
 * the cleaner), consumer groups (`group/`) and transactions (`txn/`). Route handlers, WebSocket
 * sessions, pipelines and tests all go through it. The constructor builds those layers in
 * dependency order; `createBroker` (create-broker.ts) gives it its stores.
 */
import { BrokerError, transactionsNotEnabled } from "./errors.ts";
import { hasCode } from "../errors/tributary-error.ts";
import { BrokerEvents } from "./events.ts";
import type { FetchedRecord, RecordHeader } from "./protocol/record-batch.ts";
import type { LogStore, StoredBatch } from "./store/log-store.ts";
import type { TransactionStore } from "./store/transaction-store.ts";
import { TransactionService, transactionCoordinator } from "./txn/transaction-service.ts";
import type { TransactionCoordinatorConfig, TransactionDescription, TxnChangeEvent, TxnOffset } from "./txn/transaction-coordinator.ts";
import type { TxnState } from "./txn/txn-states.ts";
import type { ProducerDescription } from "./log/producer-state.ts";
import type { GroupOffsetStore } from "./store/group-offset-store.ts";
import type { GroupTimelineStore, StoredTimelineEvent } from "./store/group-timeline-store.ts";
import { GroupTimeline } from "./group/group-timeline.ts";
import { TIMELINE_EVENTS_PER_GROUP } from "../schemas/limits.ts";
import {
  GroupRuntime,
  type GroupPollOptions,
  type GroupSummary,
  type GroupView,
  type JoinOptions,
  type PolledBatches,
  type PolledPosition,
  type PolledRecord,
} from "./group/group-runtime.ts";
import type { ResetPlanEntry, ResetTarget } from "../schemas/group.ts";
import type { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, GroupConfig, GroupEvent } from "./group/consumer-group.ts";
import type { TopicPartitions } from "./group/topic-partitions.ts";
import { PartitionManager } from "./partition/partition-manager.ts";
import type { BatchFetchResult, FetchOptions, FetchResult, IsolationLevel, PartitionWatermarks } from "./partition/fetch.ts";
import type { DeletedRecords, DeleteRecordsTarget } from "./partition/delete-records.ts";
import type { ListedOffset, OffsetSpec } from "./partition/list-offsets.ts";
import type { ProduceAs, ProducedRecord, ProduceRecord } from "./partition/produce.ts";
import type { PartitionDescription, TopicDescription } from "./partition/topic-admin.ts";

export type { FetchedRecord, RecordHeader, StoredBatch, StoredTimelineEvent, TxnState };
export type { BatchFetchResult, FetchOptions, FetchResult, IsolationLevel, PartitionWatermarks };
export type { DeletedRecords, DeleteRecordsTarget };
export type { ListedOffset, OffsetSpec, ProduceAs, ProducedRecord, ProduceRecord, PartitionDescription, TopicDescription };
export { DEFAULT_FETCH_MAX_BYTES } from "./partition/fetch.ts";
export { validateTopicName } from "./partition/topic-metadata-cache.ts";
/** A fetched batch's bytes as pieces to write in order, without a copy (the binary fetch and poll). */
export { payloadPartsOf } from "./store/log-store.ts";

export interface BrokerOptions {
  /** Where consumer groups keep committed offsets; without it group operations are unavailable. */
  groupOffsetStore?: GroupOffsetStore;
  groupConfig?: Partial<GroupConfig>;
  /** Where the rebalance timeline of every group is kept; without it groups have no timeline. */
  groupTimelineStore?: GroupTimelineStore;
  /** How often group lag is sampled for its history (0: never). */
  lagSampleMs?: number;
  /** How often the cleaner runs retention and compaction; 0 disables the timer. */
  cleanerIntervalMs?: number;
  cacheBytes?: number;
  cachePartitionBytes?: number;
  /** Where the transaction coordinator keeps its state; without it only idempotent producers work. */
  transactionStore?: TransactionStore;
  txnConfig?: Partial<TransactionCoordinatorConfig>;
  /** How often transaction timeouts are checked (0: never). */
  txnCheckIntervalMs?: number;
}

// ---- group-member types: what an in-process member (the WebSocket session) exchanges with the
// group through this façade (joinGroup, heartbeatGroup, pollGroup, commitGroupOffsets, leaveGroup)
export type { ConsumerGroupHeartbeatResponse, PolledPosition, PolledRecord };

/** A new member's subscription and options (the REST join request and the WebSocket join-group frame). */
export interface GroupJoinRequest extends JoinOptions {
  /** Exactly one of topics and topicPattern. */
  topics?: readonly string[];
  /** RE2 pattern matched against whole topic names. */
  topicPattern?: string;
  clientId?: string;
  /** Server-side assignor (range, roundrobin, sticky). */
  assignor?: string;
  rebalanceTimeoutMs?: number;
}

export class Broker {
  readonly events = new BrokerEvents();
  private readonly partitions: PartitionManager;
  private readonly groupRuntime: GroupRuntime | null;
  private readonly txn: TransactionService | null;
  private readonly timeline: GroupTimeline | null;

  constructor(store: LogStore, options: BrokerOptions = {}) {
    const { cleanerIntervalMs, cacheBytes, cachePartitionBytes } = options;
    this.timeline = options.groupTimelineStore
      ? new GroupTimeline(options.groupTimelineStore, {
          keepPerGroup: TIMELINE_EVENTS_PER_GROUP,
          onError: (e) => console.error("tributary: writing the group timeline failed:", e),
        })
      : null;
    this.partitions = new PartitionManager(store, this.events, { cleanerIntervalMs, cacheBytes, cachePartitionBytes });
    // The transaction coordinator's state before the groups: a group asks it which offsets an
    // open transaction holds (KIP-447); the transaction service, last, drives both.
    const txnState = options.transactionStore ? transactionCoordinator(options.txnConfig, (e) => this.emitTxnEvent(e)) : null;
    this.groupRuntime = options.groupOffsetStore
      ? new GroupRuntime(this.partitions, options.groupOffsetStore, {
          config: options.groupConfig,
          lagSampleMs: options.lagSampleMs,
          onEvent: (e) => this.emitGroupEvent(e),
          pendingTxnOffsets: txnState?.coordinator,
        })
      : null;
    this.txn =
      options.transactionStore && txnState
        ? new TransactionService(options.transactionStore, txnState.coordinator, txnState.allocator, this.partitions, this.groupRuntime, {
            checkIntervalMs: options.txnCheckIntervalMs,
          })
        : null;
  }

  /** Group changes as broker events (state changes stay inside the group layer). */
  private emitGroupEvent(e: GroupEvent): void {
    // the group's epoch once the call that made the event completed (events are delivered then)
    this.timeline?.recordGroupEvent(e, this.groupRuntime?.coordinator.group(e.groupId)?.groupEpoch ?? 0);
    switch (e.type) {
      case "member-joined":
        this.events.emit("group-member-joined", { groupId: e.groupId, memberId: e.memberId, clientId: e.clientId });
        break;
      case "member-removed":
        if (e.reason === "left" || e.reason === "rejoined")
          this.events.emit("group-member-left", { groupId: e.groupId, memberId: e.memberId, clientId: e.clientId, reason: e.reason });
        else this.events.emit("group-member-fenced", { groupId: e.groupId, memberId: e.memberId, clientId: e.clientId, reason: e.reason });
        break;
      case "epoch-bumped":
        this.events.emit("group-epoch-bumped", { groupId: e.groupId, groupEpoch: e.groupEpoch });
        break;
      case "assignment-changed":
        this.events.emit("group-assignment-changed", {
          groupId: e.groupId,
          memberId: e.memberId,
          memberEpoch: e.memberEpoch,
          assignment: e.assignment,
          pendingRevocation: e.pendingRevocation,
        });
        break;
    }
  }

  private emitTxnEvent(e: TxnChangeEvent): void {
    const { transactionalId, producerId, producerEpoch } = e;
    if (e.type === "begun") this.events.emit("transaction-begun", { transactionalId, producerId, producerEpoch });
    else
      this.events.emit(`transaction-${e.type}`, { transactionalId, producerId, producerEpoch, reason: e.reason, partitions: e.partitions });
  }

  private get groups(): GroupRuntime {
    if (!this.groupRuntime) throw new BrokerError("BROKER_NOT_AVAILABLE", "consumer groups are not enabled on this broker");
    return this.groupRuntime;
  }

  private get transactions(): TransactionService {
    if (!this.txn) throw transactionsNotEnabled();
    return this.txn;
  }

  // ---- lifecycle ------------------------------------------------------------------------

  /** Loads every topic's partition state and starts the cleaner. */
  async start(): Promise<void> {
    await this.partitions.load();
    await this.groupRuntime?.start();
    // after the topics: recovery writes abort markers into partitions
    await this.txn?.start();
    this.partitions.startCleaner();
  }

  async stop(): Promise<void> {
    this.partitions.stopCleaner();
    this.groupRuntime?.stop();
    await this.timeline?.close();
    await this.txn?.stop();
    await this.partitions.cleanerIdle();
    this.partitions.close();
  }

  // ---- topics ---------------------------------------------------------------------------

  /** Creates a topic with `partitions` empty partitions and the given config overrides. */
  createTopic(input: { name: string; partitions?: number; configs?: Record<string, unknown> }): Promise<TopicDescription> {
    return this.partitions.topics.createTopic(input);
  }

  /** Every topic (re-read from the database so topics of other processes show up). */
  listTopics(): Promise<TopicDescription[]> {
    return this.partitions.topics.listTopics();
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.partitions.topics.describeTopic(name);
  }

  deleteTopic(name: string): Promise<void> {
    return this.partitions.topics.deleteTopic(name);
  }

  /** Grows a topic to `partitions` partitions (Kafka never shrinks a topic). */
  addPartitions(name: string, partitions: number): Promise<TopicDescription> {
    return this.partitions.topics.addPartitions(name, partitions);
  }

  /** Sets (or with null, resets to default) topic configs; unknown names and bad values fail. */
  updateTopicConfigs(name: string, changes: Record<string, unknown>): Promise<TopicDescription> {
    return this.partitions.topics.updateTopicConfigs(name, changes);
  }

  // ---- produce --------------------------------------------------------------------------

  /**
   * Appends records, routing each by its explicit partition, its key (murmur2) or the sticky
   * partitioner. Everything is validated before anything is written; resolves after commit.
   */
  produce(topic: string, records: ProduceRecord[], as?: ProduceAs, client: { clientId?: string } = {}): Promise<ProducedRecord[]> {
    return this.partitions.produce(topic, records, as, this.txn, client.clientId);
  }

  /**
   * Appends client-encoded RecordBatch v2 bytes (one or more batches) to one partition as they
   * are, after validation. Returns the assigned offset range.
   */
  produceBatches(
    topic: string,
    partition: number,
    payload: Buffer,
    opts: { transactionalId?: string; clientId?: string } = {},
  ): Promise<{ partition: number; baseOffset: number; lastOffset: number; recordCount: number }> {
    return this.partitions.produceBatches(topic, partition, payload, opts, this.txn);
  }

  /**
   * A new idempotent producer (KIP-98): a producer id unique across processes, epoch 0. The
   * producer numbers its batches per partition from sequence 0; retries of a batch get the
   * original offsets back, gaps and old epochs are refused.
   */
  async initProducer(
    opts: { transactionalId?: string; transactionTimeoutMs?: number } = {},
  ): Promise<{ producerId: number; producerEpoch: number }> {
    if (this.txn) return this.txn.initProducer(opts);
    if (opts.transactionalId !== undefined) throw transactionsNotEnabled();
    return { producerId: await this.partitions.nextProducerId(), producerEpoch: 0 };
  }

  /** Producers with state in loaded partitions (those that wrote since start-up or were read under read_committed). */
  listProducers(): ({ topic: string; partition: number } & ProducerDescription)[] {
    return this.partitions.producers();
  }

  // ---- transactions ---------------------------------------------------------------------

  /** sendOffsetsToTransaction (KIP-447): group offsets committed with the transaction, fenced by the member. */
  addOffsetsToTransaction(
    transactionalId: string,
    req: { producerId: number; producerEpoch: number; groupId: string; memberId: string; memberEpoch: number; offsets: TxnOffset[] },
  ): Promise<{ transactionalId: string; state: TxnState }> {
    return this.transactions.addOffsets(transactionalId, req);
  }

  /** EndTxn: writes a commit or abort marker into every partition of the transaction. */
  endTransaction(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): Promise<TransactionDescription> {
    return this.transactions.endTransaction(transactionalId, producerId, producerEpoch, commit);
  }

  /** An operator's abort of an ongoing transaction (kafka-transactions.sh forceTerminate): fences its producer, writes abort markers. */
  forceAbortTransaction(transactionalId: string): Promise<TransactionDescription> {
    return this.transactions.forceAbort(transactionalId);
  }

  listTransactions(states?: readonly TxnState[]): TransactionDescription[] {
    return this.transactions.list(states);
  }

  describeTransaction(transactionalId: string): TransactionDescription {
    return this.transactions.describe(transactionalId);
  }

  // ---- fetch ----------------------------------------------------------------------------

  /** Raw stored batches from `offset` (the first may start before it), for zero-copy readers. */
  fetchBatches(topic: string, partition: number, opts: FetchOptions): Promise<BatchFetchResult> {
    return this.partitions.fetchBatches(topic, partition, opts);
  }

  /** Decoded records from `offset`, at most maxRecords / about maxBytes (at least one record). */
  fetch(topic: string, partition: number, opts: FetchOptions): Promise<FetchResult> {
    return this.partitions.fetch(topic, partition, opts);
  }

  watermarksOf(topic: string, partition: number): Promise<PartitionWatermarks> {
    return this.partitions.watermarks(topic, partition);
  }

  /** Resolves when `topic-partition` has data past `offset`, after `ms`, or on abort. */
  waitForData(
    topic: string,
    partition: number,
    offset: number,
    ms: number,
    signal?: AbortSignal,
    isolation?: IsolationLevel,
  ): Promise<void> {
    return this.partitions.waitForData(topic, partition, offset, ms, signal, isolation);
  }

  // ---- offsets --------------------------------------------------------------------------

  /**
   * Per partition: the log start offset (earliest), the high watermark (latest), or the first
   * offset whose timestamp is >= t (null when there is none).
   */
  listOffsets(topic: string, spec: OffsetSpec, partitions?: number[], isolation?: IsolationLevel): Promise<ListedOffset[]> {
    return this.partitions.listOffsets(topic, spec, partitions, isolation);
  }

  /**
   * DeleteRecords: each partition's log start offset moves to `offset` (at most the high
   * watermark; -1 is the high watermark) and the batches wholly before it are deleted.
   */
  deleteRecords(topic: string, targets: DeleteRecordsTarget[]): Promise<DeletedRecords[]> {
    return this.partitions.deleteRecords(topic, targets);
  }

  // ---- cleaner --------------------------------------------------------------------------

  /** Runs retention and compaction over every partition once; returns what it removed. */
  runCleaner(now = Date.now()): Promise<{ deletedBatches: number; compactedRecords: number }> {
    return this.partitions.runCleaner(now);
  }

  // ---- consumer groups ------------------------------------------------------------------

  /**
   * KIP-848 ConsumerGroupHeartbeat: memberEpoch 0 joins (creating the group), -1 leaves,
   * otherwise a heartbeat listing the partitions the member still owns. The reply carries the
   * member's id, epoch, assignment and heartbeat interval.
   */
  heartbeatGroup(groupId: string, request: ConsumerGroupHeartbeatRequest, join?: JoinOptions): Promise<ConsumerGroupHeartbeatResponse> {
    return this.groups.heartbeat(groupId, request, join).catch((e: unknown) => {
      if (hasCode(e, "FENCED_MEMBER_EPOCH") && typeof request.memberId === "string") {
        const groupEpoch = this.groupRuntime?.coordinator.group(groupId)?.groupEpoch ?? 0;
        this.timeline?.recordFenced(groupId, request.memberId, request.memberEpoch, groupEpoch);
        this.events.emit("group-member-epoch-fenced", { groupId, memberId: request.memberId, memberEpoch: request.memberEpoch });
      }
      throw e;
    });
  }

  /**
   * Joins a consumer group as a new member (KIP-848: a heartbeat with memberEpoch 0), for the
   * REST API and WebSocket members alike. The reply carries the member id and first assignment.
   */
  joinGroup(groupId: string, join: GroupJoinRequest, host: string): Promise<ConsumerGroupHeartbeatResponse> {
    return this.groups.heartbeat(
      groupId,
      {
        memberEpoch: 0,
        clientId: join.clientId ?? "",
        host,
        rebalanceTimeoutMs: join.rebalanceTimeoutMs,
        subscribedTopicNames: join.topics,
        subscribedTopicRegex: join.topicPattern,
        serverAssignor: join.assignor,
      },
      { autoOffsetReset: join.autoOffsetReset, isolationLevel: join.isolationLevel },
    );
  }

  leaveGroup(groupId: string, memberId: string): void {
    this.groups.leave(groupId, memberId);
  }

  /** Records for a group member from its assigned partitions and its positions after them (long-polls up to waitMs). */
  pollGroup(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
  ): Promise<{ records: PolledRecord[]; positions: PolledPosition[]; assignment: TopicPartitions[] }> {
    return this.groups.poll(groupId, memberId, opts);
  }

  /** As pollGroup, with each partition's stored batches as they are (the binary group poll). */
  pollGroupBatches(
    groupId: string,
    memberId: string,
    opts: GroupPollOptions,
  ): Promise<{ parts: PolledBatches[]; assignment: TopicPartitions[] }> {
    return this.groups.pollBatches(groupId, memberId, opts);
  }

  /** Commits a member's offsets (its positions when none are given), fenced by its epoch. */
  commitGroupOffsets(
    groupId: string,
    memberId: string,
    memberEpoch: number,
    offsets?: { topic: string; partition: number; offset: number; metadata?: string | null }[],
  ): Promise<{ topic: string; partition: number; offset: number }[]> {
    return this.groups.commit(groupId, memberId, memberEpoch, offsets);
  }

  listGroups(): Promise<GroupSummary[]> {
    return this.groups.listGroups();
  }

  describeGroup(groupId: string): Promise<GroupView> {
    return this.groups.describeGroup(groupId);
  }

  /**
   * Every group with members or offsets in this process, described at once (no lag history);
   * `topics`: the topics as the caller just listed them, so they are not read again.
   */
  async describeGroups(topics?: readonly TopicDescription[]): Promise<Omit<GroupView, "lagHistory">[]> {
    return this.groups.describeGroups(topics && new Map(topics.map((t) => [t.name, t.partitions.length])));
  }

  async deleteGroup(groupId: string): Promise<void> {
    await this.groups.deleteGroup(groupId);
    await this.timeline?.deleteGroup(groupId);
  }

  /**
   * The group's rebalance timeline, oldest first: at most `limit` (TIMELINE_EVENTS_PER_GROUP)
   * events, the newest ones. GROUP_ID_NOT_FOUND for a group that has neither events nor members.
   */
  async groupTimeline(groupId: string): Promise<{ events: StoredTimelineEvent[]; limit: number }> {
    const groups = this.groups;
    if (!this.timeline) throw new BrokerError("BROKER_NOT_AVAILABLE", "this broker keeps no group timelines");
    const events = await this.timeline.events(groupId);
    if (events.length === 0 && !groups.coordinator.group(groupId)) await groups.describeGroup(groupId); // its GROUP_ID_NOT_FOUND
    return { events, limit: TIMELINE_EVENTS_PER_GROUP };
  }

  resetGroupOffsets(
    groupId: string,
    target: ResetTarget,
    opts: { topics?: { topic: string; partitions?: number[] }[]; dryRun: boolean },
  ): Promise<{ dryRun: boolean; plan: ResetPlanEntry[] }> {
    return this.groups.resetOffsets(groupId, target, opts);
  }

  deleteGroupOffsets(groupId: string, topic: string): Promise<number> {
    return this.groups.deleteOffsets(groupId, topic);
  }
}
