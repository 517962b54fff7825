/**
 * Tributary's one process: opens the database (DATABASE_URL or the embedded one), applies
 * migrations, starts the broker, then serves Next.js (pages and /api/v1), the WebSocket
 * endpoint /ws and the Prometheus metrics at /metrics on one HTTP server.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
(process.env as Record<string, string | undefined>).NODE_ENV ??= "production";

/** How often a first build says it is still running. */
const BUILD_PROGRESS_MS = 5000;

/**
 * `npm start` right after `npm install` must work: build the app once when no build exists.
 * The build takes most of a first start (see README), so it shows progress: Next's phase lines
 * (its route table left out) and, every few seconds, the time it has run.
 */
async function ensureBuild(): Promise<void> {
  if (existsSync(path.join(root, ".next", "BUILD_ID"))) return;
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  console.log("tributary: first start: building the web console once (`next build`); later starts skip this");
  const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
  const build = spawn(process.execPath, [nextBin, "build"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
  });
  const output: string[] = [];
  const show = (stream: NodeJS.ReadableStream) =>
    createInterface({ input: stream }).on("line", (line) => {
      if (output.length < 2000) output.push(line);
      // the phases ("Compiled successfully", "Generating static pages"…), not the table of routes
      if (line.trim() && !/^\s|^[┌├└│○ƒ●+]|^(Route|First Load|Middleware)\b/.test(line)) console.log(`tributary: build: ${line.trim()}`);
    });
  show(build.stdout);
  show(build.stderr);
  const ticker = setInterval(() => console.log(`tributary: building the web console… ${elapsed()}`), BUILD_PROGRESS_MS);
  const code = await new Promise<number | null>((resolve, reject) => {
    build.once("error", reject);
    build.once("close", resolve); // after its output is read
  }).finally(() => clearInterval(ticker));
  if (code !== 0) {
    console.error(output.join("\n"));
    throw new Error(`next build failed (exit code ${code}); its whole output is above`);
  }
  console.log(`tributary: web console built in ${elapsed()}`);
}

async function main(): Promise<void> {
  const { loadConfig } = await import("./config.ts");
  const config = loadConfig(root);
  if (!config.dev) {
    // Next's production server and route chunks load without their source maps (see source-maps.ts); ours keep theirs
    const { keepOwnSourceMapsOnly } = await import("./source-maps.ts");
    keepOwnSourceMapsOnly();
    await ensureBuild();
  }

  const { openDatabase } = await import("./db/database.ts");
  const { createBroker } = await import("./broker/create-broker.ts");
  const { registerRuntime } = await import("./api/registry.ts");
  const { createLiveServer } = await import("./ws/ws-server.ts");
  const { compileRecordFilter, DEFAULT_SEARCH_CEL_BUDGET } = await import("./api/compile-record-filter.ts");
  const { readTopology } = await import("./api/read-topology.ts");

  // a first start also creates the embedded database: say so, it takes a while
  const creating = !config.databaseUrl && !existsSync(path.join(config.dataDir, "pgdata"));
  console.log(
    creating ? `tributary: creating the embedded database in ${config.dataDir} (first start only)…` : "tributary: opening the database…",
  );
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const broker = await createBroker(db, config);
  const startedAt = Date.now();
  registerRuntime({ broker, database: db.kind, startedAt });
  const { meterFor } = await import("./present/throughput-meter.ts");
  meterFor(broker); // throughput counting starts with the server, not with the first overview visit
  const { activityFor } = await import("./present/producer-activity.ts");
  activityFor(broker); // so does the topology's view of who produced what

  console.log("tributary: starting the web server…");
  const { default: next } = await import("next");
  const app = next({ dev: config.dev, dir: root, hostname: config.host, port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const upgradeNext = config.dev ? app.getUpgradeHandler() : null;

  const { isRecordBatchRequest, handleRecordBatchRequest } = await import("./api/record-batch-fast-path.ts");
  const { OriginPolicy } = await import("./http/origin-policy.ts");
  const { checkRequest, checkUpgrade, refuseUpgrade, sendRefusal } = await import("./http/request-guard.ts");
  // the address the server was told to listen on is a name it may be reached by
  const listenName = config.host === "0.0.0.0" || config.host === "::" ? [] : [config.host];
  const policy = new OriginPolicy({ allowedHosts: [...config.allowedHosts, ...listenName], allowedOrigins: config.allowedOrigins });
  const started = String(startedAt);
  const serverTiming = `started;desc="${started}"`;
  const { createPrometheusEndpoint, METRICS_PATH } = await import("./metrics/prometheus-endpoint.ts");
  const prometheus = createPrometheusEndpoint(broker, { webSocketClients: () => live.wss.clients.size });
  const server = http.createServer((req, res) => {
    prometheus.track(req, res);
    // the console notices a restart when this changes (components/ui/server-restart-banner.tsx)
    res.setHeader(STARTED_AT_HEADER, started);
    // the same, readable by the page itself from its own navigation entry (before any fetch)
    res.setHeader("server-timing", serverTiming);
    const refused = checkRequest(req, policy);
    if (refused) {
      sendRefusal(req, res, refused);
      return;
    }
    if (req.url === METRICS_PATH || req.url?.startsWith(METRICS_PATH + "?")) {
      prometheus.serve(req, res);
      return;
    }
    // the binary produce/fetch hot path skips Next's router (see record-batch-fast-path.ts)
    if (isRecordBatchRequest(req)) {
      void handleRecordBatchRequest(req, res);
      return;
    }
    // the client's address for group member descriptions; never trust one the client sends
    req.headers["x-tributary-client-host"] = req.socket.remoteAddress ?? "unknown";
    void handle(req, res);
  });
  // pipelines run through the public client: administration against this server's own address, known once it listens;
  // loaded before listening: once it serves, the server announces itself at once (the supervisor's tests wait for that line)
  const { PipelineManager } = await import("./pipelines/pipeline-manager.ts");
  const { PostgresPipelineStore } = await import("./pipelines/postgres-pipeline-store.ts");
  let selfUrl = "";
  const { brokerTransport } = await import("./inproc/broker-transport.ts");
  const { PipelineThreads } = await import("./pipelines/pipeline-threads.ts");
  const pipelines = new PipelineManager(
    new PostgresPipelineStore(db.prisma),
    () => selfUrl,
    {
      deleteTopic: (name) => broker.deleteTopic(name),
      deleteGroup: (groupId) => broker.deleteGroup(groupId),
    },
    // on pipeline threads; their consumers, transactions and changelog reads call this broker's façade (server/inproc)
    new PipelineThreads(brokerTransport(broker), config.pipelineThreads, config.pipelineThreadHeapMb),
  );
  const live = createLiveServer(broker, {
    maxSocketsPerAddress: config.wsMaxSocketsPerAddress,
    // a live tail filters with message search's filters; it runs as long as it is open, so each record
    // has search's CEL budget and the socket's filtering time per second is bounded (live-tail-session.ts)
    compileFilter: (filter) =>
      compileRecordFilter(filter, { unitsPerRecord: DEFAULT_SEARCH_CEL_BUDGET.unitsPerRecord, unitsPerRequest: Number.POSITIVE_INFINITY }),
    // pipeline metrics and state changes over the socket (the WebSocket layer does not import server/pipelines)
    pipelines,
    // the topology with pipelines and simulations, as GET /api/v1/topology reads it
    readTopology,
  });
  server.on("upgrade", (req, socket, head) => {
    // a page of another origin may open a WebSocket without any preflight: refuse before the handshake
    const refused = checkUpgrade(req, policy);
    if (refused) {
      refuseUpgrade(socket, refused);
      return;
    }
    if (live.handleUpgrade(req, socket, head)) return;
    if (upgradeNext) void upgradeNext(req, socket, head);
    else socket.destroy();
  });

  const { SimulationManager } = await import("./simulation/simulation-manager.ts");
  const { ScenarioManager } = await import("./simulation/scenarios/scenario-manager.ts");
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;

  const self =
    config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host.includes(":") ? `[${config.host}]` : config.host;
  selfUrl = `http://${self}:${port}`;
  // simulated clients (issue #17) too: the same paths as any client
  const simulations = new SimulationManager(() => selfUrl);
  const { PostgresScenarioLedger } = await import("./simulation/scenarios/postgres-scenario-ledger.ts");
  const scenarios = new ScenarioManager(simulations, () => selfUrl, new PostgresScenarioLedger(db.prisma));
  await scenarios.restore();
  registerRuntime({ broker, database: db.kind, startedAt, pipelines, simulations, scenarios });
  void pipelines.start().catch((e: Error) => console.error("tributary: starting pipelines failed:", e));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`tributary: ${signal}, shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    scenarios.stop();
    await simulations.stop().catch(() => undefined);
    await pipelines.stop().catch(() => undefined);
    await live.close();
    server.close();
    server.closeAllConnections();
    await broker.stop();
    await db.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  // announced only now: a SIGTERM sent on seeing this line must find the handler above
  console.log(
    `tributary: listening on http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port} ` +
      `(database: ${db.kind === "embedded" ? `embedded in ${config.dataDir}` : "DATABASE_URL"}; pid ${process.pid})`,
  );
  // under the supervisor (server/supervisor.mjs): it restarts this process on the same port
  process.send?.({ type: "ready", pid: process.pid, port, startedAt });
}

/** Response header with this process's start time (ms since the epoch). */
const STARTED_AT_HEADER = "x-tributary-started-at";

/**
 * A fault no request handler caught. A rejected promise nobody awaited leaves no state half
 * changed: log it and keep serving. A thrown exception may have left something half done, so a
 * burst of them (a loop failing over and over) ends the process for the supervisor to restart;
 * an isolated one (a socket error without a listener, say) is logged and survived.
 */
function surviveFaults(): void {
  const recent: number[] = [];
  process.on("unhandledRejection", (reason) => {
    console.error("tributary: unhandled promise rejection (still serving):", reason);
  });
  process.on("uncaughtException", (error, origin) => {
    const now = Date.now();
    recent.push(now);
    while (recent.length > 0 && recent[0] < now - 60_000) recent.shift();
    console.error(`tributary: uncaught exception (${origin}; ${recent.length} in the last minute):`, error);
    if (recent.length >= 10) {
      console.error("tributary: too many uncaught exceptions; exiting for a restart");
      process.exit(70);
    }
  });
  // the supervisor is gone (killed): nobody would restart or stop this process, so end it now
  if (process.send) process.once("disconnect", () => process.exit(1));
}
surviveFaults();

main().catch((e) => {
  console.error("tributary: failed to start:", e);
  process.exit(1);
});
