/**
 * Live tail from earliest with a CEL filter evaluated on the server: only the matches arrive
 * (old ones, then new ones), their headers are shown, a row opens in the message drawer with
 * its place in the URL, and a bad expression is answered under the filter box.
 */
import { expect, test } from "@playwright/test";
import { createTopic, produce, snap, unique } from "../support/console";

interface Order {
  n: number;
  amount: number;
  status: string;
}
const order = (n: number): Order => ({ n, amount: (n * 37) % 500, status: n % 3 === 0 ? "paid" : "open" });
const source = (n: number) => (n % 2 === 0 ? "web" : "app");
const record = (n: number) => ({ key: `order-${n}`, value: order(n), headers: { source: source(n) } });
const isMatch = (n: number) => order(n).status === "paid" && source(n) === "web";
const CEL = 'value.status == "paid" && headers["source"] == "web"';

test("live tail from earliest with a CEL filter shows only the matches and opens a row", async ({ page }) => {
  const topic = unique("live-cel");
  await createTopic(topic, 2);
  await produce(
    topic,
    Array.from({ length: 60 }, (_, n) => record(n)),
  );
  const want = Array.from({ length: 60 }, (_, n) => n).filter(isMatch);

  await page.goto(`/topics/${topic}?tab=live`);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-status", "open");
  await page.getByTestId("live-from").selectOption("earliest");
  await page.getByTestId("live-cel").fill(CEL);
  await page.getByTestId("live-apply").click();
  await expect(page).toHaveURL(/from=earliest/);
  await expect(page).toHaveURL(/cel=/);

  const table = page.getByTestId("live-table");
  await expect(table).toHaveAttribute("data-rows", String(want.length));
  await expect(page.getByTestId("live-scanned")).toHaveText("60");
  await expect(page.getByTestId("live-matched")).toHaveText(String(want.length));
  await expect(page.getByTestId("live-received")).toHaveText(String(want.length));
  const keys = await table.locator('[data-testid="live-table-row"] [data-col="key"]').allTextContents();
  expect(keys.sort()).toEqual(want.map((n) => `order-${n}`).sort());
  // headers are shown in the table
  await expect(table.locator('[data-testid="live-table-row"] [data-col="headers"]').first()).toHaveText("source=web");

  // a row opens in the same drawer as the message browser, and the URL names it
  const row = table.getByTestId("live-table-row").first();
  const partition = await row.locator('[data-col="partition"]').textContent();
  const offset = await row.locator('[data-col="offset"]').textContent();
  await row.click();
  const drawer = page.getByTestId("message-drawer");
  await expect(drawer).toBeVisible();
  await expect(page.getByTestId("drawer-offset")).toHaveText(offset!);
  await expect(page.getByTestId("drawer-headers")).toContainText("source");
  await expect(page.getByTestId("drawer-headers")).toContainText("web");
  await expect(page.getByTestId("drawer-value")).toContainText('"status": "paid"');
  await expect(page).toHaveURL(new RegExp(`recordPartition=${partition}&recordOffset=${offset}`));
  await snap(page, "topic-live-filtered-drawer");
  await page.getByTestId("drawer-close").click();
  await expect(drawer).toHaveCount(0);

  // the tail goes on: new records, still only the matches
  await produce(
    topic,
    Array.from({ length: 30 }, (_, i) => record(60 + i)),
  );
  const more = Array.from({ length: 90 }, (_, n) => n).filter(isMatch);
  await expect(table).toHaveAttribute("data-rows", String(more.length));
  await expect(page.getByTestId("live-scanned")).toHaveText("90");
  await snap(page, "topic-live-filtered");

  // a bad expression: the server's message under the filter box, nothing subscribed
  await page.getByTestId("live-cel").fill("value.amount >");
  await page.getByTestId("live-apply").click();
  const refusal = page.getByTestId("live-filter-error");
  await expect(refusal).toContainText("invalid cel");
  await expect(page.getByTestId("live-cel")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("live-table-empty")).toContainText("The filter was refused");
  await snap(page, "topic-live-bad-filter");
  // fixing it tails again
  await page.getByTestId("live-cel").fill("value.n == 3");
  await page.getByTestId("live-apply").click();
  await expect(refusal).toHaveCount(0);
  await expect(table).toHaveAttribute("data-rows", "1");
});
