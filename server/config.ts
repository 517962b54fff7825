/** Server configuration from the environment (see README). */
import os from "node:os";
import path from "node:path";
import { DEFAULT_CACHE_BYTES, DEFAULT_CACHE_PARTITION_BYTES } from "./broker/log/tail-cache.ts";
import { listFromEnv } from "./http/origin-policy.ts";

export interface ServerConfig {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  cleanerIntervalMs: number;
  groupSessionTimeoutMs: number;
  groupHeartbeatIntervalMs: number;
  lagSampleMs: number;
  /** How often transaction timeouts are checked. */
  txnCheckIntervalMs: number;
  /** Tail cache: recent batches kept in memory for consumers at the head, in total and per partition. */
  cacheBytes: number;
  cachePartitionBytes: number;
  /** WebSocket connections open at once from one client address. */
  wsMaxSocketsPerAddress: number;
  /** pipeline threads at most (0: pipelines run on the main thread) */
  pipelineThreads: number;
  /** a pipeline thread's heap limit (old generation), MB */
  pipelineThreadHeapMb: number;
  dev: boolean;
  /** Host names served besides loopback addresses (DNS-rebinding protection; `*` = any). */
  allowedHosts: string[];
  /** Browser origins besides the server's own that may open the WebSocket and send changes. */
  allowedOrigins: string[];
  /** A request body must arrive completely within this time (408 otherwise). */
  bodyTimeoutMs: number;
  /** Memory request bodies in transit may hold at once (reserved as their bytes arrive). */
  bodyMemoryBytes: number;
  /** Largest request body the API reads (a produce request of many records). */
  maxRequestBytes: number;
  /** Memory JSON produce and fetch requests may build at once (estimated). */
  jsonMemoryBytes: number;
}

function int(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
  }
  return n;
}

/**
 * How requests are read; also used by the route handlers, which Next bundles apart from the
 * server process and which therefore read these from the environment themselves (the server
 * reads them first, in loadConfig, so a bad value stops it at start-up).
 */
export function bodyLimits(): { bodyTimeoutMs: number; bodyMemoryBytes: number; maxRequestBytes: number; jsonMemoryBytes: number } {
  return {
    bodyTimeoutMs: int("TRIBUTARY_BODY_TIMEOUT_MS", 30_000, 100, 3_600_000),
    bodyMemoryBytes: int("TRIBUTARY_BODY_MEMORY_BYTES", 96 * 1024 * 1024, 1024 * 1024, 16 * 1024 * 1024 * 1024),
    maxRequestBytes: int("TRIBUTARY_MAX_REQUEST_BYTES", 32 * 1024 * 1024, 1, 2 * 1024 * 1024 * 1024),
    jsonMemoryBytes: int("TRIBUTARY_JSON_MEMORY_BYTES", 128 * 1024 * 1024, 1, 16 * 1024 * 1024 * 1024),
  };
}

/**
 * Pipeline threads by default: one per core beyond two (the main thread's and PostgreSQL's), at
 * most four; none on two cores, where pipelines on the main thread measured faster (ARCHITECTURE.md).
 */
const DEFAULT_PIPELINE_THREADS = Math.max(0, Math.min(4, os.availableParallelism() - 2));

export function loadConfig(root: string): ServerConfig {
  const config: ServerConfig = {
    port: int("PORT", 3000, 0, 65535),
    host: process.env.HOST || "127.0.0.1",
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: path.resolve(root, process.env.TRIBUTARY_DATA_DIR || "data"),
    cleanerIntervalMs: int("TRIBUTARY_CLEANER_INTERVAL_MS", 30_000, 0, 86_400_000),
    // Kafka's defaults: group.consumer.session.timeout.ms and heartbeat.interval.ms
    groupSessionTimeoutMs: int("TRIBUTARY_GROUP_SESSION_TIMEOUT_MS", 45_000, 1_000, 3_600_000),
    groupHeartbeatIntervalMs: int("TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS", 5_000, 100, 600_000),
    lagSampleMs: int("TRIBUTARY_LAG_SAMPLE_MS", 5_000, 0, 3_600_000),
    txnCheckIntervalMs: int("TRIBUTARY_TXN_CHECK_INTERVAL_MS", 1_000, 10, 60_000),
    cacheBytes: int("TRIBUTARY_CACHE_BYTES", DEFAULT_CACHE_BYTES, 0, 16 * 1024 * 1024 * 1024),
    cachePartitionBytes: int("TRIBUTARY_CACHE_PARTITION_BYTES", DEFAULT_CACHE_PARTITION_BYTES, 0, 1024 * 1024 * 1024),
    wsMaxSocketsPerAddress: int("TRIBUTARY_WS_MAX_SOCKETS_PER_ADDRESS", 64, 1, 100_000),
    pipelineThreads: int("TRIBUTARY_PIPELINE_THREADS", DEFAULT_PIPELINE_THREADS, 0, 64),
    pipelineThreadHeapMb: int("TRIBUTARY_PIPELINE_THREAD_HEAP_MB", 384, 96, 65_536),
    dev: process.env.NODE_ENV === "development",
    allowedHosts: listFromEnv(process.env.TRIBUTARY_ALLOWED_HOSTS),
    allowedOrigins: listFromEnv(process.env.TRIBUTARY_ALLOWED_ORIGINS),
    ...bodyLimits(),
  };
  if (config.groupHeartbeatIntervalMs >= config.groupSessionTimeoutMs) {
    throw new Error("TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS must be below TRIBUTARY_GROUP_SESSION_TIMEOUT_MS");
  }
  return config;
}
