/**
 * A real server process on a fresh scratch database for one test file: started before its
 * tests, stopped and dropped after them. Use at module level: `const server = useTestServer()`.
 */
import { afterAll, beforeAll } from "vitest";
import { createScratchDatabase, type DatabaseKind, type ScratchDatabase } from "./databases.ts";
import { startServer, type ServerProcess } from "./server-process.ts";

export interface TestServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly child: ServerProcess["child"];
  readonly db: ScratchDatabase;
  output(): string;
  /** Stops the server (SIGTERM) and starts a new one on the same database. */
  restart(): Promise<void>;
}

export function useTestServer(env: Record<string, string> = {}, kind: DatabaseKind = "postgres"): TestServer {
  let db: ScratchDatabase | undefined;
  let proc: ServerProcess | undefined;
  beforeAll(async () => {
    db = await createScratchDatabase(kind);
    proc = await startServer(db, env);
  });
  afterAll(async () => {
    await proc?.stop();
    await db?.drop();
  });
  const started = (): { proc: ServerProcess; db: ScratchDatabase } => {
    if (!proc || !db) throw new Error("the test server is only available inside tests and hooks");
    return { proc, db };
  };
  return {
    get url() {
      return started().proc.url;
    },
    get port() {
      return started().proc.port;
    },
    get pid() {
      return started().proc.pid;
    },
    get child() {
      return started().proc.child;
    },
    get db() {
      return started().db;
    },
    output: () => started().proc.output(),
    async restart() {
      const s = started();
      await s.proc.stop();
      proc = await startServer(s.db, env);
    },
  };
}
