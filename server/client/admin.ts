/**
 * Topic and consumer-group administration over the REST API. Every failure is a
 * TributaryClientError carrying the HTTP status and the broker's error code
 * (GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, TOPIC_ALREADY_EXISTS, VALIDATION_FAILED...).
 */
import { callJson } from "./http-client.ts";
import type { TTopic, TTopicList } from "../schemas/topic.ts";
import type { ResetPlanEntry, ResetTarget, TGroup, TGroupList, TResetOffsetsResponse } from "../schemas/group.ts";

export type { ResetPlanEntry, ResetTarget };
import type { z } from "zod";
import type { ZListProducersResponse, ZTransaction, TXN_STATE_NAMES } from "../schemas/producer.ts";
import type { TDeleteRecordsResponse, TListOffsetsResponse } from "../schemas/record.ts";

export type Topic = TTopic;
export type GroupDescription = TGroup;
export type GroupSummary = TGroupList["groups"][number];
export type ResetOffsetsResult = TResetOffsetsResponse;
/** A transactional id's state as the coordinator reports it. */
export type TransactionDescription = z.infer<typeof ZTransaction>;
export type TransactionStateName = (typeof TXN_STATE_NAMES)[number];
/** A producer's state at one partition (epoch, last sequence, open transaction's first offset). */
export type ProducerStateEntry = z.infer<typeof ZListProducersResponse>["producers"][number];
export type ListedOffsets = TListOffsetsResponse;

export interface CreateTopicOptions {
  name: string;
  partitions?: number;
  configs?: Record<string, string | number | null>;
}

export interface ResetOffsetsOptions {
  /** Omitted: every topic the group has committed offsets for. */
  topics?: { topic: string; partitions?: number[] }[];
  /** Default true: only plan. Applying is refused (NON_EMPTY_GROUP) while the group has members. */
  dryRun?: boolean;
}

const enc = encodeURIComponent;

export class Admin {
  private readonly baseUrl: string;

  constructor(opts: { baseUrl: string }) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return callJson<T>(this.baseUrl, method, `/api/v1${path}`, body);
  }

  createTopic(opts: CreateTopicOptions): Promise<Topic> {
    return this.call("POST", "/topics", opts);
  }

  async listTopics(): Promise<Topic[]> {
    return (await this.call<TTopicList>("GET", "/topics")).topics;
  }

  describeTopic(name: string): Promise<Topic> {
    return this.call("GET", `/topics/${enc(name)}`);
  }

  /** Sets topic configs (retention.ms, …); a null value resets that config to its default. */
  updateTopicConfigs(name: string, configs: Record<string, string | number | null>): Promise<Topic> {
    return this.call("PATCH", `/topics/${enc(name)}`, { configs });
  }

  deleteTopic(name: string): Promise<void> {
    return this.call("DELETE", `/topics/${enc(name)}`);
  }

  async listGroups(): Promise<GroupSummary[]> {
    return (await this.call<TGroupList>("GET", "/groups")).groups;
  }

  describeGroup(groupId: string): Promise<GroupDescription> {
    return this.call("GET", `/groups/${enc(groupId)}`);
  }

  /** Plans (default) or applies a reset of the group's committed offsets. */
  resetOffsets(groupId: string, to: ResetTarget, opts: ResetOffsetsOptions = {}): Promise<ResetOffsetsResult> {
    return this.call("POST", `/groups/${enc(groupId)}/offsets/reset`, { to, ...opts });
  }

  /** Deletes an empty group and its committed offsets. */
  deleteGroup(groupId: string): Promise<void> {
    return this.call("DELETE", `/groups/${enc(groupId)}`);
  }

  /**
   * Transactional ids and their transactions; `states` narrows the list (e.g. ["open"] for
   * Ongoing and Prepare* ones).
   */
  async listTransactions(states?: (TransactionStateName | "open")[]): Promise<TransactionDescription[]> {
    const q = states && states.length > 0 ? `?state=${enc(states.join(","))}` : "";
    return (await this.call<{ transactions: TransactionDescription[] }>("GET", `/transactions${q}`)).transactions;
  }

  /** One transactional id (TRANSACTIONAL_ID_NOT_FOUND when unknown). */
  describeTransaction(transactionalId: string): Promise<TransactionDescription> {
    return this.call("GET", `/transactions/${enc(transactionalId)}`);
  }

  /** Idempotent and transactional producers' state per partition. */
  async listProducers(): Promise<ProducerStateEntry[]> {
    return (await this.call<{ producers: ProducerStateEntry[] }>("GET", "/producers")).producers;
  }

  /**
   * Offsets per partition: earliest, latest, or the first at a timestamp. With
   * isolation read_committed, latest is the last stable offset.
   */
  listOffsets(
    topic: string,
    at: "earliest" | "latest" | number = "latest",
    isolation?: "read_committed" | "read_uncommitted",
  ): Promise<ListedOffsets> {
    return this.call("GET", `/topics/${enc(topic)}/offsets?at=${at}${isolation ? `&isolation=${isolation}` : ""}`);
  }

  /**
   * Kafka's deleteRecords: every record of each partition before its offset goes (-1: all of
   * them); returns each partition's new log start offset. OFFSET_OUT_OF_RANGE past the high watermark.
   */
  deleteRecords(topic: string, partitions: { partition: number; offset: number }[]): Promise<TDeleteRecordsResponse> {
    return this.call("POST", `/topics/${enc(topic)}/delete-records`, { partitions });
  }

  /** Deletes the group's committed offsets for one topic (refused while members subscribe to it). */
  deleteGroupOffsets(groupId: string, topic: string): Promise<{ groupId: string; topic: string; deleted: number }> {
    return this.call("DELETE", `/groups/${enc(groupId)}/offsets?topic=${enc(topic)}`);
  }
}
