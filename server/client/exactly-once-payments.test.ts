/**
 * Exactly-once end to end, with real processes: a payments service (payments-service.ts, a
 * consume-transform-produce loop in its own process) turns `payments` into `balance-updated`
 * events while the test produces payments, SIGKILLs the service at seeded random points and
 * restarts it, and SIGKILLs the server itself (restarted on the same database and port).
 *
 * Two services run side by side on the same server, through the same server crashes: one with
 * transactions (EOS: outputs and input offsets committed atomically, state rebuilt from the
 * committed output) and one at-least-once (produce, then commit offsets). Afterwards the output
 * is read with read_committed: with EOS every payment appears exactly once, none is missing, and
 * every account's balances run through its payments in order and end at their sum; at-least-once
 * loses nothing but may repeat payments (the count is reported, not asserted: it depends on
 * where the kills land).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Admin } from "./admin.ts";
import { PartitionReader, type Isolation } from "./partition-reader.ts";
import { Producer } from "./producer.ts";
import { rng } from "../testing/prng.ts";
import { ROOT, startServer, type ServerProcess } from "../testing/server-process.ts";
import { useTestServer } from "../testing/test-server.ts";

const SEED = Number(process.env.TRIBUTARY_TEST_SEED ?? 20261126);
const PAYMENTS = 3_000;
const ACCOUNTS = 20;
const PARTITIONS = 4;
const SERVICE_KILLS = 9;
const SERVER_KILLS = 2;
const SESSION_MS = 2_000;

const SERVER_ENV = {
  TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: String(SESSION_MS),
  TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250",
  TRIBUTARY_TXN_CHECK_INTERVAL_MS: "200",
};
const server = useTestServer(SERVER_ENV);

const LOG_DIR = process.env.TRIBUTARY_TEST_PAYMENTS_LOG;
const note = (line: string) => LOG_DIR && appendFileSync(path.join(LOG_DIR, "test.log"), `${Date.now() - t0} ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

// ---- the server, killable ---------------------------------------------------------------------

/** The server process after our own restarts (useTestServer's first one until then). */
let restarted: ServerProcess | null = null;
let serverDown: Promise<void> | null = null;
/** Set while a server crash is being lined up and carried out: service kills wait for it. */
let serverChaos: Promise<void> | null = null;

async function serverQuiet(): Promise<void> {
  while (serverChaos) await serverChaos;
}

async function killAndRestartServer(): Promise<void> {
  let done!: () => void;
  serverDown = new Promise<void>((r) => (done = r));
  note("server: SIGKILL");
  try {
    if (restarted) await restarted.kill();
    else {
      const child = server.child;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGKILL");
        await exited;
      }
    }
    // same database, same port: the services and the feeder keep their URL
    restarted = await startServer(server.db, { ...SERVER_ENV, PORT: String(server.port) });
    note("server: up again");
    for (const s of services) s.committed = 0; // kills wait for a commit after the crash
  } finally {
    serverDown = null;
    done();
  }
}

afterAll(async () => {
  for (const s of services) s.destroy(); // still running only when the test failed
  await restarted?.stop();
});

// ---- service processes ------------------------------------------------------------------------

interface ServiceEvent {
  ev: string;
  pid: number;
  t: number;
  code?: string;
  message?: string;
  n?: number;
}

class Service {
  private child: ChildProcess | null = null;
  private stopped = false;
  /** Batches committed by the current process. */
  committed = 0;
  starts = 0;
  kills = 0;
  exits: number[] = [];
  errors = new Map<string, number>();
  private listeners = new Set<() => void>();
  lastLines: string[] = [];

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): void {
    this.committed = 0;
    this.starts++;
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "server/testing/payments-service.ts")], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    readline.createInterface({ input: child.stdout! }).on("line", (line) => this.onLine(line));
    readline.createInterface({ input: child.stderr! }).on("line", (line) => this.remember(`stderr: ${line}`));
    child.once("exit", (code, signal) => {
      if (this.child === child) this.child = null;
      if (signal === "SIGKILL" || this.stopped) return;
      // it stopped by itself (fenced by a server restart, or crashed): start it again
      this.exits.push(code ?? -1);
      this.start();
    });
  }

  private remember(line: string): void {
    // TRIBUTARY_TEST_PAYMENTS_LOG=/some/dir keeps every service's output (one file per run)
    if (LOG_DIR) appendFileSync(path.join(LOG_DIR, `${this.name}.log`), `${Date.now() - t0} ${line}\n`);
    this.lastLines.push(line);
    if (this.lastLines.length > 40) this.lastLines.shift();
  }

  private onLine(line: string): void {
    this.remember(line);
    let e: ServiceEvent;
    try {
      e = JSON.parse(line) as ServiceEvent;
    } catch {
      return;
    }
    if (e.ev === "committed") this.committed++;
    if (e.ev === "error" || e.ev === "fenced") {
      const k = `${e.ev}:${e.code ?? "?"}`;
      this.errors.set(k, (this.errors.get(k) ?? 0) + 1);
    }
    for (const l of this.listeners) l();
  }

  /** Resolves once the current process committed something (or after timeoutMs). */
  async waitForCommit(timeoutMs: number): Promise<boolean> {
    if (this.committed > 0) return true;
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (this.committed > 0) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.listeners.add(check);
    });
  }

  /** SIGKILL and start a new process at once. */
  async crash(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      this.kills++;
      note(`${this.name}: SIGKILL service (kill ${this.kills})`);
    }
    this.start();
  }

  /** SIGKILL, no restart (clean-up after a failure). */
  destroy(): void {
    this.stopped = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- payments ---------------------------------------------------------------------------------

interface Payment {
  paymentId: string;
  account: string;
  amount: number;
}

interface BalanceUpdated extends Payment {
  balance: number;
}

function makePayments(next: () => number): Payment[] {
  return Array.from({ length: PAYMENTS }, (_, i) => ({
    paymentId: `p${String(i).padStart(5, "0")}`,
    account: `acct-${String(Math.floor(next() * ACCOUNTS)).padStart(2, "0")}`,
    amount: 1 + Math.floor(next() * 1000),
  }));
}

/** Every record of a topic, from offset 0 up to the (last stable) end, retrying while the server restarts. */
async function readTopic(topic: string, isolation: Isolation): Promise<{ partition: number; offset: number; value: string }[]> {
  for (;;) {
    try {
      const out: { partition: number; offset: number; value: string }[] = [];
      for (let p = 0; p < PARTITIONS; p++) {
        const reader = new PartitionReader(server.url, topic, p, 0, isolation);
        for (;;) {
          const r = await reader.fetch(4 << 20);
          for (const rec of r.records) out.push({ partition: p, offset: rec.offset, value: rec.value?.toString() ?? "" });
          const end = isolation === "read_committed" ? r.lastStableOffset : r.highWatermark;
          if (reader.offset >= end) break;
        }
      }
      return out;
    } catch {
      await (serverDown ?? sleep(200));
    }
  }
}

/**
 * Produces the payments in small chunks, keyed by account. When a chunk fails (the server was
 * killed) it waits for the server, reads back which payments were stored and resends only the
 * missing ones, so the input holds every payment exactly once whatever the crash hit.
 */
async function feed(topic: string, payments: Payment[], chunk: number, pauseMs: number): Promise<number> {
  let producer = new Producer({ baseUrl: server.url, lingerMs: 2 });
  let resends = 0;
  for (let i = 0; i < payments.length; i += chunk) {
    let todo = payments.slice(i, i + chunk);
    for (;;) {
      try {
        await producer.sendMany(
          topic,
          todo.map((p) => ({ key: p.account, value: JSON.stringify(p) })),
        );
        break;
      } catch (e) {
        note(`feeder ${topic}: chunk at ${i} failed: ${(e as Error).message}`);
        await (serverDown ?? sleep(200));
        producer = new Producer({ baseUrl: server.url, lingerMs: 2 });
        const stored = new Set((await readTopic(topic, "read_uncommitted")).map((r) => (JSON.parse(r.value) as Payment).paymentId));
        todo = todo.filter((p) => !stored.has(p.paymentId));
        resends++;
        if (todo.length === 0) break;
      }
    }
    await sleep(pauseMs);
  }
  return resends;
}

// ---- a run ------------------------------------------------------------------------------------

interface RunResult {
  name: string;
  payments: Payment[];
  inputIds: string[];
  output: { partition: number; offset: number; event: BalanceUpdated }[];
  service: Service;
  resends: number;
  drainMs: number;
}

async function groupCaughtUp(admin: Admin, group: string, topic: string): Promise<boolean> {
  try {
    const [g, t] = await Promise.all([admin.describeGroup(group), admin.describeTopic(topic)]);
    return t.partitions.every((p) => {
      const o = g.offsets.find((x) => x.topic === topic && x.partition === p.partition);
      return o !== undefined && o.committedOffset === p.highWatermark;
    });
  } catch {
    return false;
  }
}

async function runScenario(name: string, eos: boolean, seed: number): Promise<RunResult> {
  const next = rng(seed);
  const input = `${name}-payments`;
  const outputTopic = `${name}-balance-updated`;
  const group = `${name}-service`;
  const admin = new Admin({ baseUrl: server.url });
  await admin.createTopic({ name: input, partitions: PARTITIONS });
  await admin.createTopic({ name: outputTopic, partitions: PARTITIONS });
  const payments = makePayments(next);
  const service = new Service(name, {
    PAY_BASE_URL: server.url,
    PAY_INPUT: input,
    PAY_OUTPUT: outputTopic,
    PAY_GROUP: group,
    PAY_EOS: eos ? "1" : "0",
    PAY_TXN_ID: `${name}-txn`,
    PAY_MAX_RECORDS: "200",
  });
  services.push(service);
  service.start();

  const fed = feed(input, payments, 30, 120);

  // kills at seeded random points: mostly while it processes (after its first commit), some
  // while it is still starting up (initialising, rebuilding its state, joining)
  for (let k = 0; k < SERVICE_KILLS; k++) {
    const duringStartup = next() < 0.25;
    const delay = Math.floor(next() * (duringStartup ? 1_200 : 600));
    for (;;) {
      if (duringStartup) await sleep(200 + delay);
      else {
        await service.waitForCommit(10_000);
        await sleep(delay);
      }
      if (!serverChaos) break;
      // a server crash is lined up for when both services are busy: let it happen, and let the
      // service work through it, before this kill
      await serverQuiet();
    }
    await service.crash();
  }
  const resends = await fed;

  const drainStart = Date.now();
  const deadline = drainStart + 45_000;
  while (!(await groupCaughtUp(admin, group, input))) {
    if (Date.now() > deadline) {
      throw new Error(`${name}: the service did not catch up within 45 s; its last output:\n${service.lastLines.join("\n")}`);
    }
    await sleep(200);
  }
  const drainMs = Date.now() - drainStart;
  await service.stop();

  const inputIds = (await readTopic(input, "read_committed")).map((r) => (JSON.parse(r.value) as Payment).paymentId);
  const output = (await readTopic(outputTopic, "read_committed")).map((r) => ({
    partition: r.partition,
    offset: r.offset,
    event: JSON.parse(r.value) as BalanceUpdated,
  }));
  return { name, payments, inputIds, output, service, resends, drainMs };
}

interface Tally {
  duplicates: number;
  missing: number;
  /** Accounts whose last balance is not the sum of their payments. */
  wrongFinalBalances: number;
  /** Events whose balance is not the previous balance of the account plus the amount. */
  brokenChains: number;
}

function tally(r: RunResult): Tally {
  const counts = new Map<string, number>();
  for (const o of r.output) counts.set(o.event.paymentId, (counts.get(o.event.paymentId) ?? 0) + 1);
  let duplicates = 0;
  for (const c of counts.values()) duplicates += c - 1;
  const missing = r.payments.filter((p) => !counts.has(p.paymentId)).length;
  const expected = new Map<string, number>();
  for (const p of r.payments) expected.set(p.account, (expected.get(p.account) ?? 0) + p.amount);
  // per account, in the order of its partition's log
  const sorted = [...r.output].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const last = new Map<string, number>();
  let brokenChains = 0;
  for (const { event } of sorted) {
    if ((last.get(event.account) ?? 0) + event.amount !== event.balance) brokenChains++;
    last.set(event.account, event.balance);
  }
  let wrongFinalBalances = 0;
  for (const [account, sum] of expected) if (last.get(account) !== sum) wrongFinalBalances++;
  return { duplicates, missing, wrongFinalBalances, brokenChains };
}

// ---- the test ---------------------------------------------------------------------------------

let eosRun: RunResult;
let aloRun: RunResult;
let serverKills = 0;
const services: Service[] = [];

beforeAll(async () => {
  const next = rng(SEED ^ 0x5eed);
  const runs = Promise.all([runScenario("eos", true, SEED), runScenario("alo", false, SEED + 1)]);
  let running = true;
  void runs.finally(() => (running = false)).catch(() => undefined);
  // server crashes, shared by both runs: at seeded points while the payments are flowing and
  // both services are running transactions (each committed since its last start)
  for (let k = 0; k < SERVER_KILLS && running; k++) {
    await sleep(3_000 + Math.floor(next() * 3_000));
    if (!running) break;
    let release!: () => void;
    serverChaos = new Promise<void>((r) => (release = r));
    try {
      await Promise.all(services.map((s) => s.waitForCommit(10_000)));
      await sleep(Math.floor(next() * 300));
      await killAndRestartServer();
      serverKills++;
    } finally {
      serverChaos = null;
      release();
    }
  }
  [eosRun, aloRun] = await runs;
  const e = tally(eosRun);
  const a = tally(aloRun);
  console.log(
    `EOS on: ${e.duplicates} duplicates, ${e.missing} missing; EOS off: ${a.duplicates} duplicates, ${a.missing} missing ` +
      `(${PAYMENTS} payments, seed ${SEED}, service kills eos/alo ${eosRun.service.kills}/${aloRun.service.kills}, ` +
      `service self-restarts ${eosRun.service.exits.length}/${aloRun.service.exits.length}, server kills ${serverKills}, ` +
      `EOS-off wrong final balances ${a.wrongFinalBalances}/${ACCOUNTS}, drain ${eosRun.drainMs}/${aloRun.drainMs} ms, ` +
      `feeder resends ${eosRun.resends}/${aloRun.resends}, at ${elapsed()}; errors eos ${JSON.stringify(Object.fromEntries(eosRun.service.errors))})`,
  );
}, 150_000);

describe("exactly-once payments through service and server crashes", () => {
  it("the input holds every payment once (the feeder's own bookkeeping)", () => {
    for (const r of [eosRun, aloRun]) {
      expect(r.inputIds.length).toBe(PAYMENTS);
      expect(new Set(r.inputIds).size).toBe(PAYMENTS);
    }
    expect(serverKills).toBe(SERVER_KILLS);
    expect(eosRun.service.kills).toBe(SERVICE_KILLS);
    expect(aloRun.service.kills).toBe(SERVICE_KILLS);
  });

  it("EOS on: every paymentId exactly once, no gaps, balances chain per account and end at the sum of its payments", () => {
    const t = tally(eosRun);
    expect(t.missing).toBe(0);
    expect(t.duplicates).toBe(0);
    expect(eosRun.output.length).toBe(PAYMENTS);
    expect(t.brokenChains).toBe(0);
    expect(t.wrongFinalBalances).toBe(0);
  });

  it("EOS off (at-least-once): nothing missing; duplicates reported", () => {
    const t = tally(aloRun);
    expect(t.missing).toBe(0);
    expect(aloRun.output.length).toBe(PAYMENTS + t.duplicates);
  });
});
