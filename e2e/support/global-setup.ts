/**
 * Builds the app when the sources are newer than .next (or TRIBUTARY_E2E_BUILD=1), then starts
 * a real Tributary server (server/main.ts) on a fresh scratch database: PostgreSQL when one is
 * reachable (TRIBUTARY_TEST_POSTGRES_URL, default 127.0.0.1:5432), else the embedded one
 * (TRIBUTARY_E2E_DB=embedded forces it). Returns the teardown that stops it and drops the data.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createScratchDatabase, ADMIN_URL, type DatabaseKind } from "../../server/testing/databases.ts";
import { ROOT, startServer } from "../../server/testing/server-process.ts";

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === "generated" || e.name.startsWith(".")) continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function buildIfStale(): void {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  const sources = Math.max(
    ...["app", "components", "server"].map((d) => newestMtime(path.join(ROOT, d))),
    statSync(path.join(ROOT, "next.config.js")).mtimeMs,
  );
  if (process.env.TRIBUTARY_E2E_BUILD !== "1" && existsSync(buildId) && statSync(buildId).mtimeMs > sources) {
    console.log("e2e: reusing the production build in .next");
    return;
  }
  console.log("e2e: building the app (next build)");
  const nextBin = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
  const r = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
}

function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port || 5432) }, () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  buildIfStale();
  const kind: DatabaseKind = process.env.TRIBUTARY_E2E_DB === "embedded" || !(await reachable(ADMIN_URL)) ? "embedded" : "postgres";
  const db = await createScratchDatabase(kind);
  const server = await startServer(db, {
    PORT: process.env.TRIBUTARY_E2E_PORT as string,
    // lag history and group membership move at test speed
    TRIBUTARY_LAG_SAMPLE_MS: "1000",
    TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "10000",
    TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "1000",
  });
  console.log(`e2e: server ${server.url} (pid ${server.pid}) on a fresh ${kind} database`);
  return async () => {
    await server.stop();
    await db.drop();
  };
}
