/**
 * Test support (not used by the broker): an honest simulated consumer that speaks the
 * heartbeat protocol the way the Java client does — it owns exactly what its last reply
 * assigned, reports that on every heartbeat, and on UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH drops
 * everything and rejoins with epoch 0.
 */
import type { ConsumerGroup, ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from "./consumer-group.ts";
import { isGroupError } from "../errors.ts";
import { fromTopicPartitions, type TopicPartition, type TopicPartitions } from "./topic-partitions.ts";

export type Subscription = Pick<
  ConsumerGroupHeartbeatRequest,
  "subscribedTopicNames" | "subscribedTopicRegex" | "serverAssignor" | "rebalanceTimeoutMs" | "clientId" | "host"
>;

export class TestConsumer {
  epoch = 0;
  owned: TopicPartitions[] = [];
  /** False after a lost reply, until the next reply arrives: its epoch/owned may lag the coordinator. */
  fresh = true;
  rejoins = 0;

  constructor(
    readonly group: ConsumerGroup,
    readonly memberId: string,
    readonly subscription: Subscription = { subscribedTopicNames: ["t"] },
  ) {}

  join(now: number): ConsumerGroupHeartbeatResponse {
    this.drop();
    return this.apply(this.group.join({ memberId: this.memberId, ...this.subscription }, now));
  }

  /**
   * One heartbeat. `lose` drops the reply (the coordinator processed it, the client never saw it).
   * Fencing errors make the client rejoin, as a real one would.
   */
  heartbeat(now: number, opts: { lose?: boolean } = {}): ConsumerGroupHeartbeatResponse | undefined {
    let reply: ConsumerGroupHeartbeatResponse;
    try {
      reply = this.group.heartbeat({ memberId: this.memberId, memberEpoch: this.epoch, ownedPartitions: this.owned }, now);
    } catch (e) {
      if (isGroupError(e) && (e.code === "UNKNOWN_MEMBER_ID" || e.code === "FENCED_MEMBER_EPOCH")) {
        this.rejoins++;
        return this.join(now);
      }
      throw e;
    }
    if (opts.lose) {
      this.fresh = false;
      return undefined;
    }
    return this.apply(reply);
  }

  leave(): void {
    this.group.leave(this.memberId);
    this.drop();
  }

  get partitions(): TopicPartition[] {
    return fromTopicPartitions(this.owned);
  }

  private drop(): void {
    this.epoch = 0;
    this.owned = [];
  }

  private apply(reply: ConsumerGroupHeartbeatResponse): ConsumerGroupHeartbeatResponse {
    // An honest client commits and stops processing revoked partitions before this returns.
    this.epoch = reply.memberEpoch;
    this.owned = reply.assignment;
    this.fresh = true;
    return reply;
  }
}

export { rng } from "../../testing/prng.ts";
