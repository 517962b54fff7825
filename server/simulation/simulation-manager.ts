/**
 * The simulated clients of this server (issue #17): producers and consumer groups a user drops on
 * the topology canvas, running in this process through the public client against the server's
 * own address — the same paths as any client — and marked as simulated by their client ids.
 * Bounded: counts, per-producer and total rates, members per group and in all
 * (SIMULATION_LIMITS); a request past a limit is refused with a 400 naming its field. All stop
 * when the server stops.
 */
import { TributaryError } from "../errors/tributary-error.ts";
import {
  SIMULATION_LIMITS,
  type TSimulatedGroup,
  type TSimulatedGroupConfig,
  type TSimulatedProducer,
  type TSimulatedProducerConfig,
  type TSimulationList,
  type TMemberAction,
} from "../schemas/topology.ts";
import { SimulatedGroup } from "./simulated-group.ts";
import { SimulatedProducer } from "./simulated-producer.ts";

function overLimit(field: string, message: string, limit: number): TributaryError {
  return new TributaryError("VALIDATION_FAILED", message, { field, limit });
}

function notFound(kind: string, id: string): TributaryError {
  return new TributaryError("SIMULATION_NOT_FOUND", `no simulated ${kind} '${id}'`, { id });
}

export class SimulationManager {
  private readonly scriptedPrefixes = new Set<string>();
  private readonly scriptedGroupIds = new Set<string>();
  private readonly producers = new Map<string, SimulatedProducer>();
  private readonly groups = new Map<string, SimulatedGroup>();
  /** Topics created for simulations (by scenarios), marked on the canvas. */
  private readonly topics = new Set<string>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly baseUrl: () => string) {}

  private newId(kind: "producer" | "group"): string {
    return `sim-${kind === "producer" ? "p" : "g"}${this.nextId++}`;
  }

  private assertRunning(): void {
    if (this.stopped) throw new TributaryError("BROKER_NOT_AVAILABLE", "the server is shutting down");
  }

  private totalRate(except?: string): number {
    let sum = 0;
    for (const p of this.producers.values()) if (p.id !== except) sum += p.ratePerSec;
    return sum;
  }

  private assertTotalRate(rate: number, except?: string): void {
    const total = this.totalRate(except) + rate;
    if (total > SIMULATION_LIMITS.totalRatePerSec) {
      throw overLimit(
        "ratePerSec",
        `ratePerSec: simulated producers may send at most ${SIMULATION_LIMITS.totalRatePerSec} records/s together; the others send ${this.totalRate(except)}`,
        SIMULATION_LIMITS.totalRatePerSec,
      );
    }
  }

  private memberCount(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.members.length;
    return n;
  }

  private assertMembers(adding: number): void {
    if (this.memberCount() + adding > SIMULATION_LIMITS.members) {
      throw overLimit(
        "members",
        `members: at most ${SIMULATION_LIMITS.members} simulated members in all; ${this.memberCount()} exist`,
        SIMULATION_LIMITS.members,
      );
    }
  }

  // ---- producers ----------------------------------------------------------------------------

  async createProducer(req: TSimulatedProducerConfig): Promise<TSimulatedProducer> {
    this.assertRunning();
    if (this.producers.size >= SIMULATION_LIMITS.producers) {
      throw overLimit("topic", `at most ${SIMULATION_LIMITS.producers} simulated producers; delete one first`, SIMULATION_LIMITS.producers);
    }
    this.assertTotalRate(req.ratePerSec);
    const id = this.newId("producer");
    const p = new SimulatedProducer(id, req.clientId ?? id, req, this.baseUrl());
    this.producers.set(id, p);
    if (!req.paused) p.start();
    return p.view();
  }

  updateProducer(id: string, change: { ratePerSec?: number; paused?: boolean }): TSimulatedProducer {
    const p = this.producer(id);
    if (change.ratePerSec !== undefined) {
      this.assertTotalRate(change.ratePerSec, id);
      p.setRate(change.ratePerSec);
    }
    if (change.paused === true) p.pause();
    if (change.paused === false) p.start();
    return p.view();
  }

  async deleteProducer(id: string): Promise<void> {
    const p = this.producer(id);
    this.producers.delete(id);
    await p.stop();
  }

  private producer(id: string): SimulatedProducer {
    const p = this.producers.get(id);
    if (!p) throw notFound("producer", id);
    return p;
  }

  // ---- groups -------------------------------------------------------------------------------

  async createGroup(req: TSimulatedGroupConfig): Promise<TSimulatedGroup> {
    this.assertRunning();
    if (this.groups.size >= SIMULATION_LIMITS.groups) {
      throw overLimit("groupId", `at most ${SIMULATION_LIMITS.groups} simulated groups; delete one first`, SIMULATION_LIMITS.groups);
    }
    for (const g of this.groups.values()) {
      if (g.config.groupId === req.groupId) {
        throw new TributaryError("SIMULATION_ALREADY_EXISTS", `simulation ${g.id} already runs group '${req.groupId}'`, {
          field: "groupId",
          id: g.id,
        });
      }
    }
    this.assertMembers(req.members);
    const g = new SimulatedGroup(this.newId("group"), req, this.baseUrl());
    this.groups.set(g.id, g);
    await g.addMembers(req.members);
    return g.view();
  }

  async addMembers(id: string, count: number): Promise<TSimulatedGroup> {
    const g = this.group(id);
    if (g.members.length + count > SIMULATION_LIMITS.membersPerGroup) {
      throw overLimit(
        "count",
        `count: a simulated group has at most ${SIMULATION_LIMITS.membersPerGroup} members; this one has ${g.members.length}`,
        SIMULATION_LIMITS.membersPerGroup,
      );
    }
    this.assertMembers(count);
    await g.addMembers(count);
    return g.view();
  }

  async actOnMember(id: string, index: number, action: TMemberAction): Promise<TSimulatedGroup> {
    const g = this.group(id);
    if (!g.member(index)) {
      throw new TributaryError("SIMULATION_NOT_FOUND", `simulated group ${id} has no member ${index} (it has 0..${g.members.length - 1})`, {
        id,
        member: index,
      });
    }
    await g.act(index, action);
    return g.view();
  }

  async deleteGroup(id: string): Promise<void> {
    const g = this.group(id);
    this.groups.delete(id);
    await g.stop();
  }

  private group(id: string): SimulatedGroup {
    const g = this.groups.get(id);
    if (!g) throw notFound("group", id);
    return g;
  }

  /** Stops and forgets a producer or group simulation, whichever `id` names. */
  deleteSimulation(id: string): Promise<void> {
    return this.producers.has(id) ? this.deleteProducer(id) : this.deleteGroup(id);
  }

  getGroup(id: string): TSimulatedGroup {
    return this.group(id).view();
  }

  getProducer(id: string): TSimulatedProducer {
    return this.producer(id).view();
  }

  /** Resolves once the records producer `id` has in flight were answered. */
  flushProducer(id: string): Promise<void> {
    return this.producer(id).flushed();
  }

  // ---- views --------------------------------------------------------------------------------

  list(): TSimulationList {
    return {
      producers: [...this.producers.values()].map((p) => p.view()),
      groups: [...this.groups.values()].map((g) => g.view()),
      limits: {
        producers: SIMULATION_LIMITS.producers,
        groups: SIMULATION_LIMITS.groups,
        ratePerSec: SIMULATION_LIMITS.ratePerSec,
        totalRatePerSec: SIMULATION_LIMITS.totalRatePerSec,
        membersPerGroup: SIMULATION_LIMITS.membersPerGroup,
        members: SIMULATION_LIMITS.members,
      },
    };
  }

  /** Simulation id by client id of every simulated producer and member (the topology marks them). */
  simulatedClients(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of this.producers.values()) out.set(p.clientId, p.id);
    for (const g of this.groups.values()) for (const c of g.clientIds()) out.set(c, g.id);
    return out;
  }

  /** Simulation id by group id. */
  simulatedGroups(): Map<string, string> {
    return new Map([...this.groups.values()].map((g) => [g.config.groupId, g.id]));
  }

  /** Topics created for simulations (the topology marks them). */
  simulatedTopics(): ReadonlySet<string> {
    return this.topics;
  }

  /**
   * Clients (by client id prefix) and a group that a scenario's script runs itself rather than
   * as simulations of this manager (the exactly-once processors, the ordering scenario's shop and
   * shipping service): the topology marks them simulated, without the simulations' actions.
   */
  markScripted(clientIdPrefix: string, groupId: string | null, scripted: boolean): void {
    if (scripted) {
      this.scriptedPrefixes.add(clientIdPrefix);
      if (groupId !== null) this.scriptedGroupIds.add(groupId);
    } else {
      this.scriptedPrefixes.delete(clientIdPrefix);
      if (groupId !== null) this.scriptedGroupIds.delete(groupId);
    }
  }

  /** What a scenario's script runs itself: `client` by client id, `group` by group id. */
  scripted(): { client(clientId: string): boolean; group(groupId: string): boolean } {
    const prefixes = [...this.scriptedPrefixes];
    const groups = new Set(this.scriptedGroupIds);
    return { client: (id) => prefixes.some((p) => id.startsWith(p)), group: (id) => groups.has(id) };
  }

  markTopic(name: string, simulated: boolean): void {
    if (simulated) this.topics.add(name);
    else this.topics.delete(name);
  }

  /** Stops every simulation (server shutdown); later creations are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    const producers = [...this.producers.values()];
    const groups = [...this.groups.values()];
    this.producers.clear();
    this.groups.clear();
    await Promise.all([...producers.map((p) => p.stop()), ...groups.map((g) => g.stop())]);
  }
}
