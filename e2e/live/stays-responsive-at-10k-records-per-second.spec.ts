/**
 * Live tail under load: a script produces 10,000 records/s while the page tails the topic.
 * Measured with the browser's own APIs: long tasks (PerformanceObserver 'longtask'), the
 * Event Timing of a click on Pause, and frames drawn (requestAnimationFrame).
 */
import { expect, test } from "@playwright/test";
import { createTopic, snap, startProducer, unique } from "../support/console";

const RATE = 10_000;
const SECONDS = 10;

test("live tail keeps up with 10,000 records/s without freezing the page", async ({ page }) => {
  test.setTimeout(60_000);
  const topic = unique("live-load");
  await createTopic(topic, 2);
  await page.addInitScript(() => {
    const w = window as unknown as { __long: PerformanceEntry[]; __events: PerformanceEntry[] };
    w.__long = [];
    w.__events = [];
    new PerformanceObserver((l) => w.__long.push(...l.getEntries())).observe({ type: "longtask", buffered: true });
    new PerformanceObserver((l) => w.__events.push(...l.getEntries())).observe({
      type: "event",
      buffered: true,
      durationThreshold: 16,
    } as PerformanceObserverInit);
  });
  await page.goto(`/topics/${topic}?tab=live`);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-status", "open");
  await expect(page.getByTestId("live-sampling-note")).toContainText("redrawn every 250 ms");

  const producer = startProducer({ topic, rate: RATE, seconds: SECONDS, batch: 500, prefix: "load" });
  // let the stream settle, then measure a window in the middle of the run
  await page.waitForTimeout(2000);
  const windowMs = 6000;
  const measured = await page.evaluate(async (ms) => {
    const w = window as unknown as { __long: PerformanceEntry[]; __events: PerformanceEntry[] };
    const t0 = performance.now();
    w.__long = [];
    let frames = 0;
    let worstFrameGap = 0;
    let last = performance.now();
    let running = true;
    const tick = () => {
      const now = performance.now();
      worstFrameGap = Math.max(worstFrameGap, now - last);
      last = now;
      frames++;
      if (running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const received0 = Number(document.querySelector('[data-testid="live-received"]')?.textContent?.replace(/,/g, ""));
    await new Promise((r) => setTimeout(r, ms / 2));
    // a user's click in the middle of the storm: how long until the page has answered it?
    const button = document.querySelector('[data-testid="live-pause"]') as HTMLButtonElement;
    const c0 = performance.now();
    button.click();
    await new Promise<void>((resolve) => {
      const check = () => (button.textContent === "Resume" ? resolve() : requestAnimationFrame(check));
      check();
    });
    const clickToPaint = performance.now() - c0;
    button.click(); // resume
    await new Promise((r) => setTimeout(r, ms / 2));
    running = false;
    const elapsed = performance.now() - t0;
    const long = w.__long.filter((e) => e.startTime >= t0);
    const rate =
      Number(document.querySelector('[data-testid="live-rate"]')?.textContent?.replace(/[,k]/g, (m) => (m === "k" ? "" : ""))) *
      (document.querySelector('[data-testid="live-rate"]')?.textContent?.includes("k") ? 1000 : 1);
    const received1 = Number(document.querySelector('[data-testid="live-received"]')?.textContent?.replace(/,/g, ""));
    return {
      elapsed,
      frames,
      fps: (frames * 1000) / elapsed,
      worstFrameGap,
      longTasks: long.length,
      longTaskMs: long.reduce((s, e) => s + e.duration, 0),
      maxLongTask: Math.max(0, ...long.map((e) => e.duration)),
      clickToPaint,
      slowEvents: w.__events.filter((e) => e.startTime >= t0).map((e) => Math.round(e.duration)),
      shownRate: rate,
      receivedPerSec: ((received1 - received0) * 1000) / elapsed,
      domRows: document.querySelectorAll('[data-testid="live-table-row"]').length,
      bufferRows: Number(document.querySelector('[data-testid="live-table"]')?.getAttribute("data-rows")),
    };
  }, windowMs);
  await snap(page, "topic-live-under-load");
  const summary = await producer.done;
  const producedPerSec = summary.sent / summary.seconds;
  console.log(`live tail at ${Math.round(producedPerSec)} records/s produced:`, JSON.stringify(measured));

  expect(summary.errors).toBe(0);
  // the producer really reached (about) 10,000 records/s
  expect(producedPerSec).toBeGreaterThan(RATE * 0.8);
  // the page kept up: it received what was produced (the server may skip ahead for a slow page, and says so)
  expect(measured.receivedPerSec).toBeGreaterThan(producedPerSec * 0.8);
  // ... and never froze
  expect(measured.maxLongTask).toBeLessThan(250);
  expect(measured.longTaskMs).toBeLessThan(measured.elapsed * 0.25);
  expect(measured.clickToPaint).toBeLessThan(250);
  expect(measured.fps).toBeGreaterThan(20);
  // the buffer is capped and the table virtualised
  expect(measured.bufferRows).toBeLessThanOrEqual(5000);
  expect(measured.domRows).toBeLessThan(60);
});
