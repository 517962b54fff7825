/**
 * Drives the log cleaner (log/cleaner.ts) over every loaded partition: retention and compaction
 * on a timer, or once on request; one run at a time, none after stop.
 */
import { isBrokerError } from "../errors.ts";
import { applyRetention, compact } from "../log/cleaner.ts";
import type { TopicMetadataCache } from "./topic-metadata-cache.ts";

export interface CleanerResult {
  deletedBatches: number;
  compactedRecords: number;
}

export class CleanerDriver {
  private timer: NodeJS.Timeout | null = null;
  private cleaning: Promise<unknown> | null = null;
  private stopped = false;

  constructor(private readonly cache: TopicMetadataCache) {}

  /** Runs the cleaner every `everyMs` (0: never; runs are then only on request). */
  start(everyMs: number): void {
    if (everyMs <= 0) return;
    this.timer = setInterval(() => {
      if (!this.cleaning) void this.run().catch(() => undefined);
    }, everyMs);
    this.timer.unref();
  }

  /** Stops the timer; runs from now on skip every partition. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Resolves when the run in progress (if any) is over. */
  async idle(): Promise<void> {
    await this.cleaning?.catch(() => undefined);
  }

  /** Runs retention and compaction over every partition once; returns what it removed. */
  async run(now = Date.now()): Promise<CleanerResult> {
    while (this.cleaning) await this.cleaning.catch(() => undefined);
    const run = (async () => {
      let deletedBatches = 0;
      let compactedRecords = 0;
      for (const t of this.cache.loaded()) {
        for (const log of t.logs) {
          if (this.stopped || log.closed) continue;
          try {
            compactedRecords += await compact(log, this.cache.store, t.configs, now);
            deletedBatches += await applyRetention(log, this.cache.store, t.configs, now);
          } catch (e) {
            if (!isBrokerError(e)) console.error(`cleaner: ${log.topic}-${log.partition}:`, e);
          }
        }
      }
      return { deletedBatches, compactedRecords };
    })();
    this.cleaning = run;
    try {
      return await run;
    } finally {
      this.cleaning = null;
    }
  }
}
