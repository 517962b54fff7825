/** The overview's totals and per-second throughput follow what is produced and consumed. */
import { expect, test } from "@playwright/test";
import { createTopic, rest, snap, startProducer, unique } from "../support/console";

test("overview shows storage, counts and throughput in and out, per topic and total", async ({ page }) => {
  const topic = unique("overview");
  await createTopic(topic, 3);
  await page.goto("/");
  await expect(page.getByTestId("stat-topics-value")).not.toHaveText("…");
  const producer = startProducer({ topic, rate: 2000, seconds: 5, batch: 200, prefix: "ov" });
  // a reader, so there is throughput out as well
  const reader = (async () => {
    const offsets = [0, 0, 0];
    for (let i = 0; i < 20; i++) {
      for (const p of [0, 1, 2]) {
        const r = await rest<{ nextOffset: number }>(
          "GET",
          `/api/v1/topics/${topic}/partitions/${p}/records?offset=${offsets[p]}&maxRecords=5000&waitMs=200`,
        );
        if (r.status === 200) offsets[p] = r.body.nextOffset;
      }
    }
  })();
  const row = page.getByTestId(`overview-topic-${topic}`);
  await expect(row).toBeVisible();
  await expect
    .poll(async () => Number((await page.getByTestId("stat-in-rate-value").textContent())?.replace(/,/g, "")), { timeout: 8000 })
    .toBeGreaterThan(500);
  await expect
    .poll(async () => Number((await page.getByTestId("stat-out-rate-value").textContent())?.replace(/,/g, "")), { timeout: 8000 })
    .toBeGreaterThan(0);
  await expect(row.locator("td").nth(1)).not.toHaveText("0");
  await expect(page.getByTestId("chart-records").locator("polyline")).toHaveCount(2);
  await snap(page, "overview");
  await producer.done;
  await reader;
  await expect(page.getByTestId("stat-storage")).toContainText("records");
  const m = await rest<{ topics: number; partitions: number }>("GET", "/api/v1/metrics");
  await expect(page.getByTestId("stat-partitions-value")).toHaveText(String(m.body.partitions));
});
