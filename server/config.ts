/** Server configuration from the environment (see README). */
import path from "node:path";

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
  dev: boolean;
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

export function loadConfig(root: string): ServerConfig {
  return {
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
    cacheBytes: int("TRIBUTARY_CACHE_BYTES", 64 * 1024 * 1024, 0, 16 * 1024 * 1024 * 1024),
    cachePartitionBytes: int("TRIBUTARY_CACHE_PARTITION_BYTES", 4 * 1024 * 1024, 0, 1024 * 1024 * 1024),
    wsMaxSocketsPerAddress: int("TRIBUTARY_WS_MAX_SOCKETS_PER_ADDRESS", 64, 1, 100_000),
    dev: process.env.NODE_ENV === "development",
  };
}
