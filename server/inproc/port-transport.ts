/**
 * The client's transport across a `MessagePort`: pipelines run on threads of their own
 * (server/pipelines/pipeline-threads.ts) and reach the broker façade of the main thread through
 * it. `servePort` answers on the main thread with another transport (the façade's,
 * `brokerTransport`); `portTransport` is what the client on the pipeline thread is given. Each
 * request is one message and one answer, matched by id:
 * - errors come back as the client's `TributaryClientError` (status, code, message, details), an
 *   aborted long poll as an `AbortError`, anything else as a 500 naming what failed;
 * - a poll's `signal` aborting sends a cancel, which aborts the main thread's wait;
 * - bytes cross as copies (structured clone) and are Buffers again on arrival.
 */
import type { MessagePort } from "node:worker_threads";
import { TributaryClientError, type ClientTransport, type PartitionFetch, type PolledPart } from "../client/index.ts";

type Method = keyof ClientTransport;

/** A request: the method and its arguments (a poll's signal stays behind: `cancel` replaces it). */
interface Request {
  kind: "request";
  id: number;
  method: Method;
  args: unknown[];
}

interface Cancel {
  kind: "cancel";
  id: number;
}

/** A failure as the client's error carries it. */
interface WireError {
  status: number;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

type Answer =
  | { kind: "answer"; id: number; value: unknown }
  | { kind: "answer"; id: number; error: WireError }
  | { kind: "answer"; id: number; aborted: string };

const METHODS: ReadonlySet<string> = new Set<Method>([
  "partitionCount",
  "initProducer",
  "produce",
  "addOffsetsToTransaction",
  "endTransaction",
  "joinGroup",
  "heartbeat",
  "commitOffsets",
  "leaveGroup",
  "pollGroup",
  "fetchPartition",
]);

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function errorOf(e: unknown): WireError {
  if (e instanceof TributaryClientError)
    return { status: e.status, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
  return { status: 500, code: "INTERNAL", message: `the broker failed: ${(e as Error)?.message ?? String(e)}` };
}

/** What the main thread's side of a port can do once the thread on the other side ended. */
export interface ServedPort {
  /**
   * The thread on the other side ended (its heap ran out, say): the group members it joined
   * through the port can neither heartbeat nor leave any more, so they leave now. Their groups
   * then give their partitions to other members at once, not after the session timeout (45 s
   * by default) with the partitions standing still. Closes the port.
   */
  ended(): Promise<void>;
}

/** Answers the requests arriving on `port` with `transport` (the main thread's side). */
export function servePort(port: MessagePort, transport: ClientTransport): ServedPort {
  const polls = new Map<number, AbortController>();
  /** the members joined through this port and not left, as `groupId\0memberId` */
  const members = new Set<string>();
  /** the thread on the other side ended: a join answered since is left at once */
  let gone = false;
  port.on("message", (m: Request | Cancel) => {
    if (m.kind === "cancel") {
      polls.get(m.id)?.abort();
      return;
    }
    if (m.kind !== "request" || !METHODS.has(m.method)) return;
    void answer(m);
  });

  async function answer(m: Request): Promise<void> {
    let reply: Answer;
    try {
      let value: unknown;
      if (m.method === "pollGroup") {
        const controller = new AbortController();
        polls.set(m.id, controller);
        try {
          const [groupId, memberId, q] = m.args as Parameters<ClientTransport["pollGroup"]>;
          value = await transport.pollGroup(groupId, memberId, q, controller.signal);
        } finally {
          polls.delete(m.id);
        }
      } else if (m.method === "produce") {
        const [topic, partition, batches, opts] = m.args as Parameters<ClientTransport["produce"]>;
        value = await transport.produce(topic, partition, asBuffer(batches), opts);
      } else {
        value = await (transport[m.method] as (...a: unknown[]) => Promise<unknown>)(...m.args);
        if (m.method === "joinGroup") {
          const [groupId, memberId] = [m.args[0] as string, (value as { memberId: string }).memberId];
          if (gone) void transport.leaveGroup(groupId, memberId).catch(() => undefined);
          else members.add(`${groupId}\0${memberId}`);
        } else if (m.method === "leaveGroup") members.delete(`${m.args[0] as string}\0${m.args[1] as string}`);
      }
      reply = { kind: "answer", id: m.id, value };
    } catch (e) {
      reply =
        e instanceof Error && e.name === "AbortError"
          ? { kind: "answer", id: m.id, aborted: e.message }
          : { kind: "answer", id: m.id, error: errorOf(e) };
    }
    port.postMessage(reply);
  }

  return {
    async ended() {
      gone = true;
      port.close();
      for (const c of polls.values()) c.abort();
      const left = [...members];
      members.clear();
      await Promise.all(
        left.map((k) => {
          const [groupId, memberId] = k.split("\0");
          // a member the group already let go (fenced, timed out) is no one to remove
          return transport.leaveGroup(groupId, memberId).catch(() => undefined);
        }),
      );
    },
  };
}

/** The client's transport over `port`, answered by `servePort` on the other side. */
export function portTransport(port: MessagePort): ClientTransport {
  let next = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  port.on("message", (a: Answer) => {
    if (a.kind !== "answer") return;
    const w = waiting.get(a.id);
    if (!w) return;
    waiting.delete(a.id);
    if ("value" in a) w.resolve(a.value);
    else if ("aborted" in a) {
      const e = new Error(a.aborted);
      e.name = "AbortError";
      w.reject(e);
    } else w.reject(new TributaryClientError(a.error.status, a.error.code, a.error.message, a.error.details));
  });

  function request<T>(method: Method, args: unknown[], signal?: AbortSignal): Promise<T> {
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      // a long-lived signal (a consumer's stop) sees many requests: each one's listener leaves with its answer
      const cancel = () => port.postMessage({ kind: "cancel", id } satisfies Cancel);
      const done = () => signal?.removeEventListener("abort", cancel);
      waiting.set(id, {
        resolve: (v) => {
          done();
          resolve(v as T);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      port.postMessage({ kind: "request", id, method, args } satisfies Request, transfers(method, args));
      if (signal) {
        if (signal.aborted) cancel();
        else signal.addEventListener("abort", cancel, { once: true });
      }
    });
  }

  /**
   * A produce's batches are a view of the producer's reusable batch buffer: posted as they are,
   * the whole buffer behind them would be copied. They are copied to their exact size instead,
   * and that copy moves across without another.
   */
  function transfers(method: Method, args: unknown[]): ArrayBuffer[] | undefined {
    if (method !== "produce") return undefined;
    const exact = new Uint8Array(args[2] as Uint8Array);
    args[2] = exact;
    return [exact.buffer];
  }

  const parts = (ps: PolledPart[]): PolledPart[] => ps.map((p) => ({ ...p, batches: p.batches.map(asBuffer) }));

  return {
    partitionCount: (topic) => request("partitionCount", [topic]),
    initProducer: (req) => request("initProducer", [req]),
    produce: (topic, partition, batches, opts) => request("produce", [topic, partition, batches, opts]),
    addOffsetsToTransaction: (transactionalId, req) => request("addOffsetsToTransaction", [transactionalId, req]),
    endTransaction: (transactionalId, who, commit) => request("endTransaction", [transactionalId, who, commit]),
    joinGroup: (groupId, req) => request("joinGroup", [groupId, req]),
    heartbeat: (groupId, memberId, req) => request("heartbeat", [groupId, memberId, req]),
    commitOffsets: (groupId, memberId, req) => request("commitOffsets", [groupId, memberId, req]),
    leaveGroup: (groupId, memberId) => request("leaveGroup", [groupId, memberId]),
    pollGroup: async (groupId, memberId, q, signal) => parts(await request<PolledPart[]>("pollGroup", [groupId, memberId, q], signal)),
    fetchPartition: async (topic, partition, q) => {
      const r = await request<PartitionFetch>("fetchPartition", [topic, partition, q]);
      return { ...r, batches: r.batches.map(asBuffer) };
    },
  };
}
