/**
 * A simulated consumer group: N members, each the public client's `Consumer` against this
 * server's own address (client id `<simulation>-<index>`), spending `processingMsPerRecord` on
 * every record and committing per the commit mode. Members are started, paused, killed (they
 * stop heartbeating, as a crashed process: the broker expires them after the session timeout),
 * restarted and stopped one by one; a killed or stopped member is replaced by a fresh consumer
 * (a new member id) when started again. What the members processed is counted per offset
 * (processed-offsets.ts), so a run can tell records read twice from records never read.
 */
import { Consumer, type EachBatchPayload } from "../client/consumer.ts";
import type { TMemberAction, TSimulatedGroup, TSimulatedGroupConfig, TSimulatedMember } from "../schemas/topology.ts";
import { ProcessedOffsets } from "./processed-offsets.ts";
import { assertMove, MEMBER_MOVES, type MemberState } from "./simulation-states.ts";

/** A paused member's handler refuses its batch; the consumer offers it again after this long. */
const PAUSED_RETRY_MS = 200;

class Paused extends Error {
  constructor() {
    super("paused");
    this.name = "Paused";
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });

class SimulatedMember {
  state: MemberState = "stopped";
  private consumer: Consumer | null = null;
  /** Aborts the handler's processing time when the consumer is killed or stopped. */
  private abort = new AbortController();
  processed = 0;
  lastError: string | null = null;

  constructor(
    readonly index: number,
    readonly clientId: string,
    private readonly group: SimulatedGroup,
  ) {}

  view(): TSimulatedMember {
    const member = this.consumer?.member;
    const owned = new Map<string, number[]>();
    for (const tp of this.consumer?.assignment() ?? []) {
      const ps = owned.get(tp.topic) ?? [];
      ps.push(tp.partition);
      owned.set(tp.topic, ps);
    }
    const active = this.state === "running" || this.state === "paused" || this.state === "joining";
    return {
      index: this.index,
      clientId: this.clientId,
      memberId: active ? (member?.memberId ?? null) : null,
      memberEpoch: active ? (member?.memberEpoch ?? 0) : 0,
      state: this.state,
      assignment: active ? [...owned].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })) : [],
      processed: this.processed,
      lastError: this.lastError,
    };
  }

  private move(to: MemberState, action: string): void {
    assertMove(MEMBER_MOVES, this.state, to, `${action} member ${this.index} of ${this.group.id}`);
    this.state = to;
  }

  /** A fresh consumer joins (from stopped, killed or failed); resolves once it joined. */
  async start(): Promise<void> {
    this.move("joining", "start");
    const cfg = this.group.config;
    // about a second of work per poll, so a pause or a revocation waits at most that long
    const maxRecords = Math.max(1, Math.min(500, Math.floor(1000 / Math.max(cfg.processingMsPerRecord, 1))));
    const consumer = new Consumer({
      baseUrl: this.group.baseUrl,
      groupId: cfg.groupId,
      clientId: this.clientId,
      assignor: cfg.assignor,
      autoOffsetReset: cfg.autoOffsetReset,
      autoCommit: cfg.commitMode === "auto",
      autoCommitIntervalMs: 1000,
      maxRecords,
      maxBufferedRecords: 2 * maxRecords,
      retryBackoffMs: PAUSED_RETRY_MS,
    });
    consumer.on("error", (e) => {
      if (!(e instanceof Paused)) this.lastError = e.message;
    });
    consumer.subscribe({ topics: cfg.topics });
    this.consumer = consumer;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    try {
      await consumer.run({ eachBatch: (p) => this.handle(p, consumer, signal) });
    } catch (e) {
      this.lastError = e instanceof Error ? e.message : String(e);
      if (this.state === "joining") this.state = "failed";
      throw e;
    }
    if (this.state === "joining") this.state = "running";
  }

  private async handle(p: EachBatchPayload, consumer: Consumer, signal: AbortSignal): Promise<void> {
    if (this.state === "paused") throw new Paused();
    const ms = this.group.config.processingMsPerRecord;
    for (const m of p.messages) {
      await sleep(ms, signal);
      if (signal.aborted) throw new Error("the member was stopped");
      this.processed++;
      this.group.offsets.add(p.topic, p.partition, m.offset);
    }
    if (this.group.config.commitMode === "per-batch") {
      await consumer.commitOffsets([{ topic: p.topic, partition: p.partition, offset: p.position }]).catch((e: Error) => {
        this.lastError = e.message;
      });
    }
  }

  pause(): void {
    this.move("paused", "pause");
  }

  resume(): void {
    this.move("running", "resume");
  }

  /** As a crash: no more heartbeats, no commit, no leave. */
  kill(): void {
    this.move("killed", "kill");
    this.abort.abort();
    this.consumer?.abandon();
  }

  /** Leaves the group cleanly (commits first, per the commit mode). */
  async stop(): Promise<void> {
    if (this.state === "killed" || this.state === "stopped" || this.state === "failed") return;
    this.move("stopped", "stop");
    const consumer = this.consumer;
    // the records in hand finish quickly: their processing time is cut short
    this.abort.abort();
    await consumer?.stop().catch(() => undefined);
  }
}

export class SimulatedGroup {
  readonly members: SimulatedMember[] = [];
  readonly offsets = new ProcessedOffsets();
  private readonly createdAt = Date.now();

  constructor(
    readonly id: string,
    readonly config: TSimulatedGroupConfig,
    readonly baseUrl: string,
  ) {}

  /** The client ids of its members (the topology marks them simulated). */
  clientIds(): string[] {
    return this.members.map((m) => m.clientId);
  }

  /** Adds `count` members and starts them (joins run concurrently); resolves once all joined. */
  async addMembers(count: number): Promise<void> {
    const added: SimulatedMember[] = [];
    for (let i = 0; i < count; i++) {
      const index = this.members.length;
      const m = new SimulatedMember(index, `${this.id}-${index}`, this);
      this.members.push(m);
      added.push(m);
    }
    await Promise.all(added.map((m) => m.start().catch(() => undefined)));
  }

  member(index: number): SimulatedMember | undefined {
    return this.members[index];
  }

  /** Applies a member action (see ZMemberAction); resolves once a started member joined. */
  async act(index: number, action: TMemberAction): Promise<void> {
    const m = this.members[index];
    switch (action) {
      case "start":
        if (m.state === "paused") return m.resume();
        return m.start();
      case "pause":
        return m.pause();
      case "kill":
        return m.kill();
      case "restart":
        if (m.state === "running" || m.state === "paused" || m.state === "joining") m.kill();
        return m.start();
      case "stop":
        return m.stop();
    }
  }

  /** Every member leaves (killed ones are already gone from the client side). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }

  view(): TSimulatedGroup {
    return {
      id: this.id,
      groupId: this.config.groupId,
      topics: this.config.topics,
      processingMsPerRecord: this.config.processingMsPerRecord,
      commitMode: this.config.commitMode,
      autoOffsetReset: this.config.autoOffsetReset,
      members: this.members.map((m) => m.view()),
      processed: this.offsets.processed,
      distinct: this.offsets.distinct,
      skipped: this.offsets.skipped(),
      createdAt: this.createdAt,
    };
  }
}
