/** Helpers shared by the peer benchmarks: in-flight windows, pacing, latency stamps, statistics. */
import { execFile } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import type { LatencyResult } from "./types.ts";

export { sleep };

/** Bounds the work in flight: `acquire` waits while `max` operations are outstanding. */
export class Window {
  private inflight = 0;
  private waiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private error: unknown = null;

  constructor(private readonly max: number) {}

  async acquire(): Promise<void> {
    if (this.error) throw this.error;
    while (this.inflight >= this.max) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.error) throw this.error;
    }
    this.inflight++;
  }

  /** True when a slot is free right now (for callers that must not wait, e.g. a pacing tick). */
  tryAcquire(): boolean {
    if (this.error) throw this.error;
    if (this.inflight >= this.max) return false;
    this.inflight++;
    return true;
  }

  release(n = 1): void {
    this.inflight -= n;
    this.waiters.splice(0).forEach((w) => w());
    if (this.inflight === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  fail(err: unknown): void {
    this.error ??= err;
    this.waiters.splice(0).forEach((w) => w());
    this.idleWaiters.splice(0).forEach((w) => w());
  }

  /** Tracks a promise that holds one acquired slot. */
  track(p: Promise<unknown>): void {
    p.then(
      () => this.release(),
      (e) => {
        this.fail(e);
        this.release();
      },
    );
  }

  /** Resolves when nothing is in flight; rejects with the first failure seen. */
  async drain(): Promise<void> {
    while (this.inflight > 0 && !this.error) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.error) throw this.error;
  }
}

/** Splits `total` into `parts` near-equal integers. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/** Nearest-rank percentile (q in 0..1) of an unsorted array. */
export function percentile(xs: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(xs).sort();
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A unique, name-safe suffix for streams, queues and tables of one benchmark step. */
export function uniqueId(): string {
  return `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** A payload of `size` bytes whose first 8 bytes carry performance.now() at the produce call. */
export function stampedPayload(size: number): Buffer {
  const b = Buffer.alloc(Math.max(size, 8), 120);
  b.writeDoubleLE(performance.now(), 0);
  return b;
}

/** Collects consumer-side latencies of stamped payloads until `expected` have arrived. */
export class LatencyCollector {
  readonly latencies: number[] = [];
  /** performance.now() of the last receipt. */
  lastAt = 0;
  private resolveDone!: () => void;
  private rejectDone!: (e: unknown) => void;
  readonly done: Promise<void>;

  constructor(readonly expected: number) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
    if (expected === 0) this.resolveDone();
  }

  /** Call on receipt of a payload written by stampedPayload. */
  receive(payload: Uint8Array): void {
    const now = performance.now();
    const sent = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readDoubleLE(0);
    this.latencies.push(now - sent);
    this.lastAt = now;
    if (this.latencies.length === this.expected) this.resolveDone();
  }

  fail(e: unknown): void {
    this.rejectDone(e);
  }

  /** Waits for every record, at most `graceMs` after the last one was produced. */
  async wait(graceMs: number, what: string): Promise<void> {
    await withTimeout(this.done, graceMs, `${what}: received ${this.latencies.length} of ${this.expected} records`);
  }

  /** The result of a latency run whose first produce call was at `startedAt`. */
  result(startedAt: number): LatencyResult {
    return { latencies: this.latencies, ms: this.lastAt - startedAt };
  }
}

/**
 * Calls `burst(n)` about every millisecond with the number of records due so that `rate`
 * records/s are produced for `seconds`. `burst` must not wait for acknowledgements; it may
 * return a promise to exert backpressure (then the schedule catches up afterwards). Resolves
 * with performance.now() at the start of the schedule.
 */
export async function pace(rate: number, seconds: number, burst: (n: number) => void | Promise<void>): Promise<number> {
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
    if (due > sent) {
      const n = due - sent;
      sent = due;
      await burst(n);
    }
    if (sent < total) await sleep(1);
  }
  return t0;
}

/**
 * True when a name made with uniqueId() (pid first, after `prefix`) belongs to a benchmark
 * process that no longer runs, i.e. it was left behind by a crashed run and may be deleted.
 */
export function leftBehind(name: string, prefix: string): boolean {
  if (!name.startsWith(prefix)) return false;
  const pid = Number(/^(\d+)/.exec(name.slice(prefix.length))?.[1]);
  if (!pid || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Input record `i` of the pipeline workload: `size` bytes, the first 'k' (kept) for even i, 'd' (dropped) for odd. */
export function pipelineInput(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, 120);
  b[0] = i % 2 === 0 ? 0x6b : 0x64;
  return b;
}

/** The pipeline's filter: keeps records whose value starts with 'k'. */
export const pipelineKeeps = (value: Uint8Array): boolean => value[0] === 0x6b;

/** The pipeline's map: a new value, the input's bytes with the first upper-cased ('k' → 'K'). */
export function pipelineMap(value: Uint8Array): Buffer {
  const out = Buffer.from(value);
  out[0] = 0x4b;
  return out;
}

/** Records the pipeline writes for `records` input records. */
export const pipelineOutputs = (records: number): number => Math.ceil(records / 2);

/**
 * Writes the machine's dirty pages out (`sync`) before a latency workload, so that the kernel's
 * writeback of what earlier workloads wrote (after 30 s by default) does not land in it: with
 * ~280 MB dirty from the stream throughput workloads, the stream latency run's p99 came from the
 * half second in which the kernel wrote them (commits stalled ~200 ms behind it). Best effort:
 * where `sync` is missing, nothing is flushed.
 */
export function flushDirtyPages(): Promise<void> {
  return new Promise((resolve) => execFile("sync", () => resolve()));
}
