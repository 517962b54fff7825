/**
 * Deep links to a message: opening a record puts its partition and offset in the URL beside the
 * topic; the link opens the drawer on it, from the loaded rows or read from the server. Column
 * headers sort the loaded rows.
 */
import { expect, test } from "@playwright/test";
import { createTopic, produce, snap, unique } from "../support/console";

test("a link to a record opens the drawer on it, loaded or not", async ({ page }) => {
  const topic = unique("deep-link");
  await createTopic(topic, 2);
  await produce(
    topic,
    Array.from({ length: 40 }, (_, n) => ({
      key: `k-${n}`,
      value: { n, note: `record ${n}` },
      partition: n % 2,
      headers: { n: String(n) },
    })),
  );
  // partition 1 holds n = 1, 3, 5, …: offset 7 is n = 15

  // opening a row puts it in the URL; the link (reloaded) opens the same drawer
  await page.goto(`/topics/${topic}?tab=messages&partition=1`);
  await expect(page.getByTestId("search-shown")).toHaveText("20");
  const rows = page.getByTestId("messages-table-row");
  await rows.filter({ has: page.locator('[data-col="key"]', { hasText: /^k-15$/ }) }).click();
  await expect(page.getByTestId("drawer-offset")).toHaveText("7");
  await expect(page).toHaveURL(/recordPartition=1&recordOffset=7/);
  const link = page.url();
  await page.goto("/topics");
  await page.goto(link);
  await expect(page.getByTestId("drawer-partition")).toHaveText("1");
  await expect(page.getByTestId("drawer-offset")).toHaveText("7");
  await expect(page.getByTestId("drawer-value")).toContainText('"note": "record 15"');
  await expect(page.getByTestId("drawer-transaction")).toContainText("committed");
  await snap(page, "topic-message-deep-link");
  // Back closes it (opening pushed a history entry), and forward opens it again
  await page.getByTestId("drawer-close").click();
  await expect(page.getByTestId("message-drawer")).toHaveCount(0);
  await expect(page).not.toHaveURL(/recordOffset/);
  await page.goBack();
  await expect(page.getByTestId("drawer-offset")).toHaveText("7");

  // a record the search did not load (the filter excludes it) is read from the server
  await page.goto(`/topics/${topic}?tab=messages&cel=${encodeURIComponent("value.n < 4")}&recordPartition=0&recordOffset=9`);
  await expect(page.getByTestId("search-shown")).toHaveText("4");
  await expect(page.getByTestId("drawer-offset")).toHaveText("9");
  await expect(page.getByTestId("drawer-key")).toHaveText("k-18");
  await expect(page.getByTestId("drawer-headers")).toContainText("18");

  // the live tail's links open the same drawer (here nothing is loaded yet: from latest)
  await page.goto(`/topics/${topic}?tab=live&recordPartition=1&recordOffset=2`);
  await expect(page.getByTestId("drawer-key")).toHaveText("k-5");

  // an offset with no record says so
  await page.goto(`/topics/${topic}?tab=messages&recordPartition=0&recordOffset=500`);
  await expect(page.getByTestId("drawer-error")).toContainText("partition 0 has no record at offset 500");
  await snap(page, "topic-message-deep-link-missing");
});

test("column headers sort the loaded rows, ascending then descending", async ({ page }) => {
  const topic = unique("sort");
  await createTopic(topic, 3);
  const values = ["pear", "apple", "fig", "kiwi", "banana", "cherry", "date", "grape", "lemon"];
  // a minute ago, not years: the topic keeps 7 days, and the cleaner (every 30 s) deleted records
  // stamped in 2023 while the page read them (a CI rehearsal showed 3 of the 9)
  const base = Date.now() - 60_000;
  await produce(
    topic,
    values.map((v, i) => ({ key: `key-${(i * 7) % 9}`, value: v, partition: i % 3, timestamp: base + ((i * 5) % 9) * 1000 })),
  );
  await page.goto(`/topics/${topic}?tab=messages`);
  await expect(page.getByTestId("search-shown")).toHaveText("9");
  const col = (c: string) => page.locator(`[data-testid="messages-table-row"] [data-col="${c}"]`).allTextContents();
  const header = (c: string) => page.getByTestId(`messages-table-sort-${c}`);

  await header("value").click();
  await expect.poll(() => col("value")).toEqual([...values].sort());
  await expect(header("value")).toContainText("▲");
  await expect(page.locator('[role="columnheader"][aria-sort="ascending"]')).toHaveText(/Value/);
  await expect(page).toHaveURL(/sort=value&dir=asc/);
  await header("value").click();
  await expect.poll(() => col("value")).toEqual([...values].sort().reverse());
  await expect(header("value")).toContainText("▼");
  await expect(page).toHaveURL(/sort=value&dir=desc/);

  await header("key").click();
  await expect.poll(() => col("key")).toEqual(Array.from({ length: 9 }, (_, i) => `key-${i}`));
  await expect(header("value")).not.toContainText("▼");
  await header("timestamp").click();
  await header("timestamp").click();
  const times = await col("timestamp");
  expect(times).toEqual([...times].sort().reverse());
  expect(new Set(times).size).toBe(9);
  await header("offset").click();
  const offsets = (await col("offset")).map(Number);
  expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  await snap(page, "topic-messages-sorted");

  // the sort is part of the link; opening a row from the sorted table opens that row
  await page.reload();
  await expect.poll(() => col("offset").then((o) => o.map(Number))).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
  await page.getByTestId("messages-table-row").nth(4).click();
  await expect(page.getByTestId("drawer-offset")).toHaveText("1");
  await expect(page).toHaveURL(/sort=offset/);
});
