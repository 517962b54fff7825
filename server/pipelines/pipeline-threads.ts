/**
 * Where running pipelines execute: on pipeline threads (worker threads) beside the main thread,
 * which keeps serving the broker — a pipeline's processing (its CEL, its state, a batch of
 * 50,000 records) never stalls the broker's event loop, and the two use both cores. Each thread
 * has its own heap with a limit: a pipeline that outgrows it ends its thread, and the pipelines
 * on it fail with the reason, instead of the whole server running out of memory.
 *
 * A pipeline's tasks (one per partition) are spread over the threads: it runs as a member of its
 * group on each of min(pool size, partitions) threads, the first on the thread with the fewest
 * runs, and the group's assignor gives each member its share of the partitions (as Kafka Streams
 * spreads an application's tasks over its stream threads). Threads start when first needed. The
 * members' consumers, producers and changelog readers reach the main thread's broker façade
 * through a `MessagePort` each (server/inproc/port-transport.ts); `size: 0` runs pipelines on
 * the main thread, on the façade directly (the default on two cores: see config.ts).
 */
import { setFlagsFromString } from "node:v8";
import { MessageChannel, Worker } from "node:worker_threads";
import type { ClientTransport } from "../client/index.ts";
import { servePort } from "../inproc/port-transport.ts";
import type { TPipelineDefinition } from "../schemas/pipeline.ts";
import type { EngineMetrics, TaskFailure } from "../stream/runtime/pipeline-metrics.ts";
import { PipelineRunner, PipelineStartError } from "../stream/runtime/pipeline-runner.ts";
import { mergedMetrics, mergedSummary, type PlacedSummary } from "./member-metrics.ts";
import { summaryOf, type RunSummary, type ThreadMessage, type ThreadRequest } from "./pipeline-thread-protocol.ts";

/** A running pipeline, wherever it runs. */
export interface RunningPipeline {
  start(): Promise<void>;
  stop(): Promise<void>;
  readMetrics(): Promise<EngineMetrics>;
  summary(): Promise<PlacedSummary>;
}

export interface RunRequest {
  baseUrl: string;
  definition: TPipelineDefinition;
  /** a unit of work failed (it is retried) */
  onError(e: Error): void;
  /** the pipeline cannot go on; the caller stops it */
  onFailed(f: TaskFailure): void;
}

/** A pipeline run on the main thread. */
function inMainThread(transport: ClientTransport | undefined, r: RunRequest): RunningPipeline {
  const runner = new PipelineRunner({ baseUrl: r.baseUrl, transport, definition: r.definition, onError: r.onError, onFailed: r.onFailed });
  return {
    start: async () => {
      await runner.start();
    },
    stop: () => runner.stop(),
    readMetrics: () => runner.readMetrics(),
    summary: () => Promise.resolve({ ...summaryOf(runner), threads: [] }),
  };
}

/**
 * A heap limit given to the process as a V8 flag (`--max-old-space-size`, as `npm start` gives
 * it) overrides a worker's `resourceLimits`: measured, a pipeline thread of a server started with
 * 384 had a heap limit of 415 MB, not its 16, and held 90 MB. The flag only sizes an isolate as
 * it is created, so once the main thread's heap exists, clearing it gives each pipeline thread
 * the limit it is created with (the main thread keeps its own).
 */
let heapFlagCleared = false;
function clearHeapFlag(): void {
  if (heapFlagCleared) return;
  setFlagsFromString("--max-old-space-size=0");
  heapFlagCleared = true;
}

class PipelineThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  /** runs on this thread: their reports go to them */
  readonly runs = new Map<number, RunRequest>();
  /** set once the thread ended (its error, or that it exited) */
  ended: Error | null = null;

  constructor(
    /** its number, from 1 in the order the threads started (a thread that ended is not numbered again) */
    readonly id: number,
    transport: ClientTransport,
    heapMb: number,
    onEnd: (t: PipelineThread) => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    const served = servePort(port1, transport);
    clearHeapFlag();
    this.worker = new Worker(new URL("./pipeline-thread-boot.mjs", import.meta.url), {
      workerData: { transportPort: port2 },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    this.worker.on("message", (m: ThreadMessage) => this.received(m));
    const end = (e: Error) => {
      if (this.ended) return;
      this.ended = e;
      // its group members leave: their partitions go on elsewhere now, not after the session timeout
      void served.ended();
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
      for (const r of this.runs.values()) r.onFailed({ message: e.message });
      this.runs.clear();
      onEnd(this);
    };
    this.worker.on("error", (e) =>
      end(
        new Error(
          e.message.includes("out of memory")
            ? `the pipeline thread ran out of memory (its heap is limited to ${heapMb} MB)`
            : `the pipeline thread failed: ${e.message}`,
        ),
      ),
    );
    this.worker.on("exit", (code) => end(new Error(`the pipeline thread stopped (exit code ${code})`)));
    this.worker.unref();
  }

  private received(m: ThreadMessage): void {
    if (m.kind === "unit-failed") {
      this.runs.get(m.run)?.onError(new Error(m.message));
      return;
    }
    if (m.kind === "failed") {
      this.runs.get(m.run)?.onFailed(m.failure);
      return;
    }
    const w = this.waiting.get(m.id);
    if (!w) return;
    this.waiting.delete(m.id);
    if ("value" in m) w.resolve(m.value);
    else w.reject(m.error.problems ? new PipelineStartError(m.error.message, m.error.problems) : new Error(m.error.message));
  }

  request<T>(m: DistributiveOmit<ThreadRequest, "id">): Promise<T> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...m, id });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class PipelineThreads {
  private readonly pool: PipelineThread[] = [];
  private nextRun = 1;
  private nextThread = 1;

  /** `size`: how many pipeline threads at most (0 runs pipelines on the main thread); `heapMb`: each one's heap limit. */
  constructor(
    private readonly transport: ClientTransport | undefined,
    private readonly size: number,
    private readonly heapMb: number,
  ) {}

  /** A pipeline to run (started by its `start`), spread over the threads. */
  run(r: RunRequest): RunningPipeline {
    if (this.size === 0 || !this.transport) return inMainThread(this.transport, r);
    const transport = this.transport;
    const run = this.nextRun++;
    /** the threads its members run on, the first (which set the run up) first */
    let members: PipelineThread[] = [];
    const placed = (): PipelineThread[] => {
      // a member whose thread ended is gone (the thread failed the run as it ended)
      const on = members.filter((t) => t.runs.has(run));
      if (on.length === 0) throw new Error("the pipeline is not running");
      return on;
    };
    const startOn = async (thread: PipelineThread, setUp: boolean): Promise<number> => {
      members.push(thread);
      thread.runs.set(run, r);
      return thread.request<number>({ kind: "start", run, baseUrl: r.baseUrl, definition: r.definition, setUp });
    };
    const stop = async () => {
      const all = members;
      members = [];
      await Promise.all(
        all.map(async (t) => {
          if (!t.runs.delete(run)) return;
          await t.request({ kind: "stop", run }).catch((e: Error) => {
            if (!t.ended) throw e;
          });
        }),
      );
    };
    return {
      start: async () => {
        try {
          // the first member creates the topics and sets the group's offsets up; it tells how many tasks there are
          const partitions = await startOn(this.leastBusy(transport, []), true);
          const more: Promise<number>[] = [];
          for (let n = 1; n < Math.min(this.size, partitions); n++) more.push(startOn(this.leastBusy(transport, members), false));
          await Promise.all(more);
        } catch (e) {
          await stop().catch(() => undefined);
          throw e;
        }
      },
      stop,
      readMetrics: async () =>
        mergedMetrics(
          await Promise.all(
            placed().map(async (t) => ({ thread: t.id, metrics: await t.request<EngineMetrics>({ kind: "metrics", run }) })),
          ),
        ),
      summary: async () =>
        mergedSummary(
          await Promise.all(placed().map(async (t) => ({ thread: t.id, summary: await t.request<RunSummary>({ kind: "summary", run }) }))),
        ),
    };
  }

  /**
   * The thread with the fewest runs not among `taken`; a new one while the pool is not full and
   * none is free.
   */
  private leastBusy(transport: ClientTransport, taken: readonly PipelineThread[]): PipelineThread {
    const least = this.pool
      .filter((t) => !taken.includes(t))
      .reduce<PipelineThread | null>((a, t) => (a === null || t.runs.size < a.runs.size ? t : a), null);
    if (least && (least.runs.size === 0 || this.pool.length >= this.size)) return least;
    const t = new PipelineThread(this.nextThread++, transport, this.heapMb, (ended) => {
      const i = this.pool.indexOf(ended);
      if (i >= 0) this.pool.splice(i, 1);
    });
    this.pool.push(t);
    return t;
  }

  /** Ends every thread (after the runs on them were stopped). */
  async close(): Promise<void> {
    await Promise.all(this.pool.splice(0).map((t) => t.terminate()));
  }
}
