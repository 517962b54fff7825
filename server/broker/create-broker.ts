/**
 * The one place a Broker is wired to its PostgreSQL stores: the server (server/main.ts) and the
 * engine tests (server/testing/broker-fixture.ts) start their brokers here.
 */
import type { ServerConfig } from "../config.ts";
import type { Database } from "../db/database.ts";
import { Broker, type BrokerOptions } from "./broker.ts";
import type { GroupConfig } from "./group/consumer-group.ts";
import { PostgresGroupOffsetStore } from "./store/postgres-group-offset-store.ts";
import { PostgresGroupTimelineStore } from "./store/postgres-group-timeline-store.ts";
import { PostgresLogStore } from "./store/postgres-log-store.ts";
import { PostgresTransactionStore } from "./store/postgres-transaction-store.ts";

/** The broker's part of the server configuration (server/config.ts); absent fields take the broker's defaults. */
export type BrokerConfig = Partial<
  Pick<
    ServerConfig,
    | "cleanerIntervalMs"
    | "groupSessionTimeoutMs"
    | "groupHeartbeatIntervalMs"
    | "lagSampleMs"
    | "txnCheckIntervalMs"
    | "cacheBytes"
    | "cachePartitionBytes"
  >
>;

/**
 * Starts a Broker on `db`'s log, group-offset and transaction stores, configured by `config`;
 * `overrides` (tests) replace any option afterwards.
 */
export async function createBroker(db: Database, config: BrokerConfig, overrides: BrokerOptions = {}): Promise<Broker> {
  // only the fields given: an explicit undefined would replace the group coordinator's default
  const groupConfig: Partial<GroupConfig> = {};
  if (config.groupSessionTimeoutMs !== undefined) groupConfig.sessionTimeoutMs = config.groupSessionTimeoutMs;
  if (config.groupHeartbeatIntervalMs !== undefined) groupConfig.heartbeatIntervalMs = config.groupHeartbeatIntervalMs;
  const options: BrokerOptions = {
    cleanerIntervalMs: config.cleanerIntervalMs,
    groupOffsetStore: new PostgresGroupOffsetStore(db.pool),
    groupTimelineStore: new PostgresGroupTimelineStore(db.pool),
    groupConfig,
    lagSampleMs: config.lagSampleMs,
    transactionStore: new PostgresTransactionStore(db.pool),
    txnCheckIntervalMs: config.txnCheckIntervalMs,
    cacheBytes: config.cacheBytes,
    cachePartitionBytes: config.cachePartitionBytes,
    ...overrides,
  };
  const broker = new Broker(new PostgresLogStore(db.pool, db.prisma, { copyReads: db.kind === "postgres" }), options);
  await broker.start();
  return broker;
}
