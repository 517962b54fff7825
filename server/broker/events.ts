/**
 * In-process broker events: appends wake long-polls and live tails; the console shows the rest.
 * Group and transaction events are for views that follow the cluster (a topology view, a
 * rebalance timeline); they are emitted once the change is complete.
 */
import { EventEmitter } from "node:events";

export interface AppendEvent {
  topic: string;
  partition: number;
  baseOffset: number;
  lastOffset: number;
  highWatermark: number;
  recordCount: number;
  sizeBytes: number;
}

/**
 * Who appended records (after the append committed): the producer id and epoch from the batch
 * (-1 for a producer that is not idempotent) and the client id the request named — what a Kafka
 * cluster cannot tell a topology view, and this broker can.
 */
export interface ProduceEvent {
  topic: string;
  partition: number;
  recordCount: number;
  producerId: number;
  producerEpoch: number;
  transactional: boolean;
  clientId: string | null;
}

/** Records handed to a reader (REST fetch, group poll, live tail, search), for throughput meters. */
export interface FetchEvent {
  topic: string;
  partition: number;
  recordCount: number;
  sizeBytes: number;
}

type Assignment = { topic: string; partitions: number[] }[];

/** A member joined a consumer group (epoch 0 heartbeat, REST join or a WebSocket join-group). */
export interface GroupMemberJoinedEvent {
  groupId: string;
  memberId: string;
  clientId: string;
}

/** A member left on its own ("left") or was replaced by its own rejoin ("rejoined"). */
export interface GroupMemberLeftEvent {
  groupId: string;
  memberId: string;
  clientId: string;
  reason: "left" | "rejoined";
}

/** The coordinator removed a member that went silent (session) or kept revoked partitions too long. */
export interface GroupMemberFencedEvent {
  groupId: string;
  memberId: string;
  clientId: string;
  reason: "session-timeout" | "rebalance-timeout";
}

/** A heartbeat with a member epoch the coordinator does not accept was refused (FENCED_MEMBER_EPOCH): the member must rejoin. */
export interface GroupMemberEpochFencedEvent {
  groupId: string;
  memberId: string;
  memberEpoch: number;
}

/** The group epoch (Kafka's generation) moved; a new target assignment was computed at it. */
export interface GroupEpochEvent {
  groupId: string;
  groupEpoch: number;
}

/** A member's owned partitions, the ones it must give up, or its epoch changed. */
export interface GroupAssignmentEvent {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  assignment: Assignment;
  pendingRevocation: Assignment;
}

export interface TransactionBegunEvent {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
}

/** A transaction's markers are written (and, for a commit, its group offsets stored). */
export interface TransactionEndedEvent extends TransactionBegunEvent {
  /** Who ended it: the client, the coordinator on timeout, a new instance fencing the old one, recovery after a restart. */
  reason: "client" | "timeout" | "fenced" | "recovery" | "operator";
  partitions: { topic: string; partition: number }[];
}

export interface BrokerEventMap {
  append: [AppendEvent];
  produce: [ProduceEvent];
  fetch: [FetchEvent];
  "topic-created": [{ topic: string }];
  "topic-deleted": [{ topic: string }];
  "topic-changed": [{ topic: string }];
  "group-member-joined": [GroupMemberJoinedEvent];
  "group-member-left": [GroupMemberLeftEvent];
  "group-member-fenced": [GroupMemberFencedEvent];
  "group-member-epoch-fenced": [GroupMemberEpochFencedEvent];
  "group-epoch-bumped": [GroupEpochEvent];
  "group-assignment-changed": [GroupAssignmentEvent];
  "transaction-begun": [TransactionBegunEvent];
  "transaction-committed": [TransactionEndedEvent];
  "transaction-aborted": [TransactionEndedEvent];
}

export class BrokerEvents extends EventEmitter<BrokerEventMap> {
  constructor() {
    super();
    // Every live-tail subscription listens; the count is bounded by the WebSocket layer.
    this.setMaxListeners(0);
  }
}
