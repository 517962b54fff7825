/**
 * A fault the server cannot survive (out of memory aborts the process; the kernel's OOM killer
 * sends SIGKILL) must not leave it down: the supervisor `npm start` runs starts it again on the
 * same port and data, and SIGTERM to the supervisor still stops everything cleanly. On both
 * databases (the embedded one's data-folder lock is taken over by the restarted process).
 */
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { createScratchDatabase, DATABASE_KINDS } from "../testing/databases.ts";
import { expectProduceFetchWorks } from "../testing/hardening-kit.ts";
import { ROOT, startServer } from "../testing/server-process.ts";
import { useTestServer } from "../testing/test-server.ts";
import { CHROMIUM_LAUNCH } from "../testing/chromium.ts";

const SCREENSHOTS = path.join(ROOT, "test-results", "screenshots");
const JSON_TYPE = { "content-type": "application/json" };

/** Waits until the server at `url` answers from a process started after `since` (its start-time header). */
async function servingAgain(url: string, since: string, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/api/v1/topics`, { signal: AbortSignal.timeout(2000) });
      const started = res.headers.get("x-tributary-started-at") ?? "";
      if (res.status === 200 && started !== since) return started;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`the server at ${url} did not come back within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the log announces a server process other than `pid` (the supervisor's restart). */
async function announcedOtherThan(server: { readonly pid: number }, pid: number, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (server.pid === pid) {
    if (Date.now() > until) throw new Error(`no server process other than ${pid} announced itself within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function values(url: string, topic: string): Promise<string[]> {
  const res = await fetch(`${url}/api/v1/topics/${topic}/partitions/0/records?offset=0`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { records: { value: string }[] }).records.map((r) => r.value);
}

describe.each(DATABASE_KINDS)("supervisor (%s database)", (kind) => {
  const server = useTestServer({}, kind);

  for (const signal of ["SIGKILL", "SIGABRT", "SIGSEGV"] as const) {
    it(`starts the server again after ${signal}, on the same port, with its data`, async () => {
      const topic = `kept-${signal.toLowerCase()}`;
      expect(
        (
          await fetch(`${server.url}/api/v1/topics`, {
            method: "POST",
            headers: JSON_TYPE,
            body: JSON.stringify({ name: topic, partitions: 1 }),
          })
        ).status,
      ).toBe(201);
      const produced = await fetch(`${server.url}/api/v1/topics/${topic}/records`, {
        method: "POST",
        headers: JSON_TYPE,
        body: JSON.stringify({ records: [{ value: "a" }, { value: "b" }] }),
      });
      expect(produced.status).toBe(200);
      const before = (await fetch(`${server.url}/api/v1/topics`)).headers.get("x-tributary-started-at") ?? "";
      const first = server.pid;

      process.kill(first, signal);
      const after = await servingAgain(server.url, before);
      // it serves a moment before it announces itself (and its pid) on the log
      await announcedOtherThan(server, first);
      expect(before).toMatch(/^\d+$/);
      expect(Number(after)).toBeGreaterThan(Number(before));
      expect(server.pid).not.toBe(first);
      expect(await values(server.url, topic)).toEqual(["a", "b"]);
      await expectProduceFetchWorks(server.url);
      expect(server.output()).toMatch(new RegExp(`server process ${first} died \\((signal ${signal}|exit code \\d+)\\)`));
    }, 90_000);
  }

  it("the console shows that the server restarted", async () => {
    const browser = await chromium.launch(CHROMIUM_LAUNCH);
    try {
      const page = await browser.newPage();
      // the hardest case: the page makes no API call before the process dies (every one is held
      // until the new process serves), so only the page's own load can tell it which process it began with
      let release = () => {};
      const restarted = new Promise<void>((resolve) => (release = resolve));
      await page.route("**/api/**", async (route) => {
        await restarted;
        await route.continue().catch(() => undefined);
      });
      await page.goto(server.url + "/");
      await page.getByTestId("brand").waitFor();
      expect(await page.getByTestId("server-restarted").count()).toBe(0);
      const before = (await fetch(`${server.url}/api/v1/topics`)).headers.get("x-tributary-started-at") ?? "";
      process.kill(server.pid, "SIGKILL");
      const after = await servingAgain(server.url, before);
      release();
      const banner = page.getByTestId("server-restarted");
      await banner.waitFor({ timeout: 30_000 });
      expect(Number(after)).toBeGreaterThan(Number(before));
      expect(await banner.textContent()).toContain("The server restarted at");
      // the banner as a user sees it, in both themes (test-results/screenshots/, as the e2e specs save theirs)
      mkdirSync(SCREENSHOTS, { recursive: true });
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.screenshot({ path: path.join(SCREENSHOTS, `server-restarted-${kind}-${scheme}.png`) });
      }
      await page.getByTestId("server-restarted-dismiss").click();
      expect(await banner.count()).toBe(0);
    } finally {
      await browser.close();
    }
  }, 90_000);

  it("SIGTERM to the supervisor stops the server cleanly and releases the data folder", async () => {
    const db = await createScratchDatabase(kind);
    try {
      const s = await startServer(db);
      const child = s.pid;
      await s.stop();
      expect(await s.exited).toBe(0);
      expect(existsSync(`/proc/${child}`)).toBe(false);
      expect(s.output()).toContain("SIGTERM, shutting down");
      expect(existsSync(path.join(db.dataDir, "tributary.pid"))).toBe(false);
      // and the data folder opens again
      const again = await startServer(db);
      await expectProduceFetchWorks(again.url);
      await again.stop();
    } finally {
      await db.drop();
    }
  }, 90_000);
});
