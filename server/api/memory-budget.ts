/**
 * Bounds the memory that JSON requests build at once (parsed produce bodies, fetch responses
 * turned into JSON): each request reserves an estimate before it starts and gives it back when
 * its response is built; requests beyond the budget wait their turn, first come first served.
 * A request larger than the whole budget runs alone. With the server's heap limit
 * (`--max-old-space-size` in package.json) this keeps many concurrent large JSON requests from
 * growing memory without bound, or past the limit.
 */
import { ApiError } from "./api-error.ts";
import { bodyLimits } from "../config.ts";

export class MemoryBudget {
  private used = 0;
  private readonly waiting: { bytes: number; grant: () => void }[] = [];

  constructor(readonly limitBytes: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes` (at most the whole budget); resolves with the function that gives them back. */
  async acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const n = Math.max(1, Math.min(Math.ceil(bytes), this.limitBytes));
    if (this.waiting.length === 0 && this.used + n <= this.limitBytes) {
      this.used += n;
      return this.releaser(n);
    }
    await new Promise<void>((resolve, reject) => {
      const w = { bytes: n, grant: resolve };
      this.waiting.push(w);
      signal?.addEventListener(
        "abort",
        () => {
          const i = this.waiting.indexOf(w);
          if (i < 0) return; // already granted: the caller releases
          this.waiting.splice(i, 1);
          this.pump();
          reject(new ApiError("VALIDATION_FAILED", "the client went away while the request waited for memory"));
        },
        { once: true },
      );
    });
    return this.releaser(n);
  }

  /** Reserves `bytes` at once, past the limit if need be (for the one holder that must not wait). */
  take(bytes: number): () => void {
    const n = Math.max(1, Math.ceil(bytes));
    this.used += n;
    return this.releaser(n);
  }

  /** Runs `fn` holding `bytes` of the budget. */
  async run<T>(bytes: number, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(bytes, signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(n: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.used -= n;
      this.pump();
    };
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.limitBytes) {
      const w = this.waiting.shift() as { bytes: number; grant: () => void };
      this.used += w.bytes;
      w.grant();
    }
  }
}

/**
 * Memory held under a budget that grows as it is needed (a request body, as its bytes
 * arrive) and is given back at once.
 */
export class Reservation {
  private releases: (() => void)[] = [];
  private held = 0;
  private closed = false;

  constructor(private readonly budget: MemoryBudget) {}

  get bytes(): number {
    return this.held;
  }

  /** Reserves `bytes` more, waiting for them when the budget is spent (until `signal` aborts). */
  async grow(bytes: number, signal?: AbortSignal): Promise<void> {
    if (bytes <= 0) return;
    const release = await this.budget.acquire(bytes, signal);
    // granted after the holder gave everything back (it stopped waiting): not kept
    if (this.closed) return release();
    this.releases.push(release);
    this.held += bytes;
  }

  /** Reserves `bytes` more at once, past the budget's limit if need be. */
  take(bytes: number): void {
    if (bytes <= 0 || this.closed) return;
    this.releases.push(this.budget.take(bytes));
    this.held += bytes;
  }

  /** Gives back everything held; later grants are given back at once. */
  release(): void {
    this.closed = true;
    const all = this.releases;
    this.releases = [];
    this.held = 0;
    for (const r of all) r();
  }
}

/**
 * The process's one budget for JSON work. Route handlers are bundled by Next and may hold their
 * own copies of this module: the instance lives on globalThis so all of them share it.
 */
export function jsonMemory(): MemoryBudget {
  const g = globalThis as { __tributaryJsonMemory?: MemoryBudget };
  return (g.__tributaryJsonMemory ??= new MemoryBudget(bodyLimits().jsonMemoryBytes));
}

/** Memory a JSON produce body of `bodyBytes` takes once parsed and validated (objects, strings, buffers). */
export const producedJsonEstimate = (bodyBytes: number) => bodyBytes * 6;
/** Memory a JSON fetch of up to `maxBytes` of keys and values takes while its response is built. */
export const fetchedJsonEstimate = (maxBytes: number) => maxBytes * 4;

/**
 * The process's one budget for request bodies in transit: a body reserves its bytes as they
 * arrive (never its declared length up front), so a slow client holds only what it has sent.
 */
export function requestBodyMemory(limitBytes: number): MemoryBudget {
  const g = globalThis as { __tributaryBodyMemory?: MemoryBudget };
  return (g.__tributaryBodyMemory ??= new MemoryBudget(limitBytes));
}
