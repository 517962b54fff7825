/**
 * The topology under a busy broker: 20 topics × 12 partitions, each partition growing every
 * second, read by 10 groups of 2 members. Measured with the browser's own APIs as the live tail
 * test does: long tasks (PerformanceObserver 'longtask', every task over 50 ms) and frames drawn
 * (requestAnimationFrame), over a window while the canvas updates.
 *
 * On a server of its own, on a fresh database: the shared e2e server holds the topics and
 * groups of every test before this one (CI saw 47 topics on the canvas), and the picture
 * measured must be exactly the 20 × 12 and 10 groups the issue names.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { ADMIN_URL, createScratchDatabase, type ScratchDatabase } from "../../server/testing/databases.ts";
import { startServer, type ServerProcess } from "../../server/testing/server-process.ts";
import { ROOT, snap, unique } from "../support/console";

const TOPICS = 20;
const PARTITIONS = 12;
const GROUPS = 10;

test("the topology stays smooth while 20 topics × 12 partitions update every second", async ({ page }) => {
  test.setTimeout(240_000);
  const db = await createScratchDatabase(await databaseKind());
  let server: ServerProcess | undefined;
  try {
    server = await startServer(db);
    await measure(page, server.url);
  } finally {
    await server?.stop();
    await db.drop();
  }
});

async function databaseKind(): Promise<ScratchDatabase["kind"]> {
  if (process.env.TRIBUTARY_E2E_DB === "embedded") return "embedded";
  const { default: pg } = await import("pg");
  const c = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await c.connect();
    return "postgres";
  } catch {
    return "embedded";
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function measure(page: Page, base: string): Promise<void> {
  const prefix = unique("smooth");
  for (let i = 0; i < TOPICS; i++) {
    const res = await fetch(`${base}/api/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: `${prefix}-t${String(i).padStart(2, "0")}`, partitions: PARTITIONS }),
    });
    expect(res.status, await res.text()).toBe(201);
  }
  const load = spawn(
    process.execPath,
    [path.join(ROOT, "e2e", "topology", "load-script.mjs"), base, prefix, String(TOPICS), String(PARTITIONS), String(GROUPS), "60"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  load.stdout?.on("data", (d) => (out += d));
  const done = new Promise<{ rounds: number; produced: number; errors: number }>((resolve) =>
    load.once("exit", () => resolve(JSON.parse(out.trim().split("\n").pop() || "{}"))),
  );
  try {
    await page.addInitScript(() => {
      const w = window as unknown as { __long: PerformanceEntry[] };
      w.__long = [];
      new PerformanceObserver((l) => w.__long.push(...l.getEntries())).observe({ type: "longtask", buffered: true });
    });
    await page.goto(`${base}/topology`);
    const canvas = page.getByTestId("topology-canvas");
    // counted from the canvas's graph: React Flow does not render what is scrolled out of view
    await expect(canvas).toHaveAttribute("data-topics", String(TOPICS), { timeout: 30_000 });
    await expect(canvas).toHaveAttribute("data-groups", String(GROUPS), { timeout: 30_000 });
    await expect(canvas).toHaveAttribute("data-members", String(2 * GROUPS), { timeout: 30_000 });
    await expect(canvas).toHaveAttribute("data-laid-out", "true");
    // let the first layouts and fits settle, then measure while the numbers move
    await page.waitForTimeout(3000);
    const firstOffset = await canvas.locator(`[data-testid="topo-topic-${prefix}-t00"]`).getAttribute("data-records");
    const measured = await page.evaluate(async (ms) => {
      const w = window as unknown as { __long: PerformanceEntry[] };
      const t0 = performance.now();
      let frames = 0;
      let worstFrameGap = 0;
      let last = t0;
      let running = true;
      const tick = () => {
        const now = performance.now();
        worstFrameGap = Math.max(worstFrameGap, now - last);
        last = now;
        frames++;
        if (running) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      await new Promise((r) => setTimeout(r, ms));
      running = false;
      const elapsed = performance.now() - t0;
      const long = w.__long.filter((e) => e.startTime >= t0);
      return {
        elapsed,
        fps: (frames * 1000) / elapsed,
        worstFrameGap,
        longTasks: long.map((e) => Math.round(e.duration)),
      };
    }, 8000);
    const lastOffset = await canvas.locator(`[data-testid="topo-topic-${prefix}-t00"]`).getAttribute("data-records");
    console.log("topology under load:", JSON.stringify(measured), "records of t00:", firstOffset, "→", lastOffset);
    await snap(page, "topology-20-topics");
    // the canvas really moved during the window
    expect(Number(lastOffset)).toBeGreaterThan(Number(firstOffset));
    // and no task held the main thread over 50 ms
    expect(measured.longTasks).toEqual([]);
  } finally {
    load.kill("SIGTERM");
    const summary = await done;
    console.log("load:", JSON.stringify(summary));
  }
}
