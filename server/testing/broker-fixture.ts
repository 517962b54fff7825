/**
 * A broker on a scratch database for engine tests: `withBroker(kind)` creates the database,
 * opens it and starts a Broker (cleaner timer off; tests call runCleaner themselves).
 * `peer()` starts a second Broker on the same database, as a second process would
 * (with its own pool on a real PostgreSQL; embedded PGlite serves one connection, so there
 * the peer shares the pool but still has its own in-memory partition state).
 * `reopen()` stops every broker, closes the database and opens it again (a restart).
 */
import type { Broker, BrokerOptions } from "../broker/broker.ts";
import { createBroker } from "../broker/create-broker.ts";
import type { Database } from "../db/database.ts";
import { createScratchDatabase, openScratch, type DatabaseKind, type ScratchDatabase } from "./databases.ts";

export interface BrokerHarness {
  readonly kind: DatabaseKind;
  readonly scratch: ScratchDatabase;
  /** The current primary broker (replaced by reopen()). */
  readonly broker: Broker;
  readonly db: Database;
  /** Another broker on the same database, with its own in-memory state. */
  peer(options?: BrokerOptions): Promise<Broker>;
  /** Stops every broker, closes the database, reopens it and starts a fresh broker. */
  reopen(): Promise<Broker>;
  /** Stops every broker, closes the database(s) and drops the scratch database. */
  close(): Promise<void>;
}

/** The server's defaults but for the timers: tests run the cleaner and lag sampling themselves. */
function startBroker(db: Database, options?: BrokerOptions): Promise<Broker> {
  return createBroker(db, { cleanerIntervalMs: 0, lagSampleMs: 0 }, options);
}

export async function withBroker(kind: DatabaseKind, options?: BrokerOptions): Promise<BrokerHarness> {
  const scratch = await createScratchDatabase(kind);
  let db: Database;
  try {
    db = await openScratch(scratch);
  } catch (e) {
    await scratch.drop().catch(() => undefined);
    throw e;
  }
  let broker = await startBroker(db, options);
  let brokers: Broker[] = [broker];
  let extraDbs: Database[] = [];

  const shutdown = async () => {
    for (const b of brokers) await b.stop().catch(() => undefined);
    brokers = [];
    for (const d of extraDbs) await d.close().catch(() => undefined);
    extraDbs = [];
    await db.close().catch(() => undefined);
  };

  return {
    kind,
    scratch,
    get broker() {
      return broker;
    },
    get db() {
      return db;
    },
    async peer(peerOptions?: BrokerOptions) {
      let peerDb = db;
      if (kind === "postgres") {
        peerDb = await openScratch(scratch);
        extraDbs.push(peerDb);
      }
      const b = await startBroker(peerDb, peerOptions ?? options);
      brokers.push(b);
      return b;
    },
    async reopen() {
      await shutdown();
      db = await openScratch(scratch);
      broker = await startBroker(db, options);
      brokers = [broker];
      return broker;
    },
    async close() {
      await shutdown();
      await scratch.drop();
    },
  };
}
