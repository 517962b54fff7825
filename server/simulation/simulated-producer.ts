/**
 * A simulated producer: the public client's `Producer` (idempotent by default) against this
 * server's own address, marked by its client id, sending `ratePerSec` records a second with keys
 * and values from the user's distribution and template.
 *
 * Paced, never queued: every tick it sends what the rate allows since the last one, at most half
 * a second's worth; while the records in flight exceed a second's worth (the broker is slower than
 * the rate), a tick sends nothing — the simulation falls behind its rate rather than piling up
 * records in memory. Making values is bounded too: each evaluation of a CEL template has the CEL
 * module's cost limit, and all simulated producers together spend at most TEMPLATE_MS_PER_SECOND
 * of each second on templates (a costly template at a high rate falls behind, never stalls the server).
 */
import { Producer } from "../client/producer.ts";
import type { TSimulatedProducer, TSimulatedProducerConfig } from "../schemas/topology.ts";
import { keyChooser, type KeyChooser } from "./key-chooser.ts";
import { assertMove, PRODUCER_MOVES, type ProducerState } from "./simulation-states.ts";
import { valueMaker, type ValueMaker } from "./value-template.ts";

const TICK_MS = 100;
/** Time all simulated producers together may spend making keys and values, per second. */
export const TEMPLATE_MS_PER_SECOND = 100;
const templateTime = { second: -1, spentMs: 0 };

/** What is left of this second's template time. */
function templateMsLeft(now: number): number {
  const second = Math.floor(now / 1000);
  if (templateTime.second !== second) {
    templateTime.second = second;
    templateTime.spentMs = 0;
  }
  return TEMPLATE_MS_PER_SECOND - templateTime.spentMs;
}

type Config = Omit<TSimulatedProducer, "id" | "clientId" | "state" | "producerId" | "produced" | "errors" | "lastError" | "createdAt">;

export class SimulatedProducer {
  private state: ProducerState = "paused";
  private config: Config;
  private readonly producer: Producer;
  private readonly nextKey: KeyChooser;
  private readonly nextValue: ValueMaker;
  private timer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  /** Records owed by the rate (fractions carried over ticks). */
  private owed = 0;
  private seq = 0;
  private inFlight = 0;
  private produced = 0;
  private errors = 0;
  private lastError: string | null = null;
  private readonly createdAt = Date.now();

  constructor(
    readonly id: string,
    readonly clientId: string,
    request: TSimulatedProducerConfig,
    baseUrl: string,
  ) {
    const { topic, ratePerSec, keys, value, idempotent } = request;
    const config = (this.config = { topic, ratePerSec, keys, value, idempotent });
    // compiled first: a template that does not compile refuses the simulation before anything runs
    this.nextKey = keyChooser(config.keys);
    this.nextValue = valueMaker(config.value);
    this.producer = new Producer({ baseUrl, clientId, idempotent: config.idempotent, lingerMs: 5 });
  }

  get ratePerSec(): number {
    return this.config.ratePerSec;
  }

  get topic(): string {
    return this.config.topic;
  }

  start(): void {
    assertMove(PRODUCER_MOVES, this.state, "running", `start producer ${this.id}`);
    this.state = "running";
    this.lastTick = Date.now();
    this.owed = 0;
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  pause(): void {
    assertMove(PRODUCER_MOVES, this.state, "paused", `pause producer ${this.id}`);
    this.state = "paused";
  }

  setRate(ratePerSec: number): void {
    this.config = { ...this.config, ratePerSec };
  }

  /** Waits for the records in flight (paused, it then sends no more: the log holds all it will). */
  async flushed(): Promise<void> {
    await this.producer.flush().catch(() => undefined);
  }

  /** Stops sending and waits for the records in flight. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flushed();
  }

  view(): TSimulatedProducer {
    return {
      id: this.id,
      clientId: this.clientId,
      ...this.config,
      state: this.state,
      producerId: this.producer.producerIdentity?.producerId ?? null,
      produced: this.produced,
      errors: this.errors,
      lastError: this.lastError,
      createdAt: this.createdAt,
    };
  }

  private tick(): void {
    const now = Date.now();
    const elapsed = now - this.lastTick;
    this.lastTick = now;
    if (this.state !== "running") return;
    const rate = this.config.ratePerSec;
    this.owed = Math.min(this.owed + (rate * elapsed) / 1000, Math.max(1, rate / 2));
    if (this.inFlight > Math.max(rate, 1)) return; // behind: skip rather than queue
    const want = Math.floor(this.owed);
    const budget = templateMsLeft(now);
    if (want === 0 || budget <= 0) return;
    const started = performance.now();
    const records = [];
    for (let i = 0; i < want; i++) {
      if (i % 16 === 15 && performance.now() - started > budget) break; // out of template time: the rest waits
      const key = this.nextKey(Math.random);
      let value: string;
      try {
        value = this.nextValue({ seq: this.seq, key, now, random: Math.random() });
      } catch (e) {
        templateTime.spentMs += performance.now() - started;
        this.fail(e);
        return;
      }
      this.seq++;
      records.push({ key, value });
    }
    templateTime.spentMs += performance.now() - started;
    const n = records.length;
    this.owed -= n;
    this.inFlight += n;
    this.producer.sendMany(this.config.topic, records).then(
      () => {
        this.inFlight -= n;
        this.produced += n;
      },
      (e: unknown) => {
        this.inFlight -= n;
        this.errors++;
        this.lastError = e instanceof Error ? e.message : String(e);
      },
    );
  }

  /** The template failed on a record (its CEL budget, a runtime error): the producer stops as failed. */
  private fail(e: unknown): void {
    this.lastError = `value template failed: ${e instanceof Error ? e.message : String(e)}`;
    this.errors++;
    this.state = "failed";
  }
}
