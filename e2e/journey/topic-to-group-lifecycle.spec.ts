/**
 * The console end to end: create a topic → produce from the form → find the message by offset
 * and by a CEL filter → watch records arrive in live tail while a script produces → run a
 * consumer group (TypeScript client), see its members and lag → stop it → reset its offsets to
 * earliest with the dry run shown → apply and verify → a new partition shows as unread lag →
 * delete the group and the topic.
 * Screenshots of every page, light and dark, go to test-results/screenshots/.
 */
import { expect, test, type Page } from "@playwright/test";
import { Consumer } from "../../server/client/consumer.ts";
import { BASE_URL, describeTopic, rest, snap, startProducer, unique } from "../support/console";

test.describe.configure({ mode: "serial" });

const topic = unique("journey");
const group = unique("journey-group");
let page: Page;
let consumer: Consumer | null = null;
const consumed: { partition: number; offset: number }[] = [];

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});

test.afterAll(async () => {
  await consumer?.stop().catch(() => undefined);
  await page.close();
});

test("overview page shows totals and throughput charts", async () => {
  await page.goto("/");
  await expect(page.getByTestId("overview-page")).toBeVisible();
  await expect(page.getByTestId("chart-records")).toBeVisible();
  await expect(page.getByTestId("overview-update-note")).toContainText("pushed over WebSocket every 1 s");
  await snap(page, "overview-empty");
});

test("create a topic from the dialog with inline validation", async () => {
  await page.goto("/topics");
  await page.getByTestId("create-topic-open").click();
  const dialog = page.getByTestId("create-topic-dialog");
  await expect(dialog).toBeVisible();
  await page.getByTestId("create-topic-name").fill("bad name!");
  await expect(page.getByTestId("create-topic-name-error")).toContainText("may contain only");
  await expect(page.getByTestId("create-topic-submit")).toBeDisabled();
  await page.getByTestId("create-topic-partitions").fill("0");
  await expect(page.getByTestId("create-topic-partitions-error")).toContainText("at least 1");
  await page.getByTestId("create-topic-name").fill(topic);
  await page.getByTestId("create-topic-partitions").fill("2");
  await page.getByTestId("create-topic-add-config").click();
  await page.getByTestId("create-topic-config-name-0").fill("retention.ms");
  await page.getByTestId("create-topic-config-value-0").fill("abc");
  await expect(page.getByTestId("create-topic-config-error-0")).toContainText("whole number");
  await page.getByTestId("create-topic-config-value-0").fill("86400000");
  await snap(page, "topics-create-dialog");
  await page.getByTestId("create-topic-submit").click();
  await expect(page).toHaveURL(new RegExp(`/topics/${topic}$`));
  await expect(page.getByTestId("topic-name")).toHaveText(topic);
  await expect(page.getByTestId("partitions-table").locator("tbody tr")).toHaveCount(2);
  const t = await describeTopic(topic);
  expect(t.configs["retention.ms"]).toBe(86400000);
});

test("produce from the form: JSON validated, lands at a shown partition/offset", async () => {
  await page.getByTestId("tab-produce").click();
  await expect(page).toHaveURL(/tab=produce/);
  await page.getByTestId("produce-key").fill("order-1");
  await page.getByTestId("produce-value").fill('{"amount": 250, "status": "paid"');
  await expect(page.getByTestId("produce-value-error")).toContainText("invalid JSON");
  await expect(page.getByTestId("produce-submit")).toBeDisabled();
  await page.getByTestId("produce-value").fill('{"amount": 250, "status": "paid"}');
  await page.getByTestId("produce-add-header").click();
  await page.getByTestId("produce-header-key-0").fill("source");
  await page.getByTestId("produce-header-value-0").fill("web");
  await page.getByTestId("produce-partition").fill("1");
  await page.getByTestId("produce-submit").click();
  await expect(page.getByTestId("produce-result")).toHaveText(/Landed at partition 1, offset 0/);
  await snap(page, "topic-produce");

  // the same message N times (demo mode), to partition 0, with a small amount
  await page.getByTestId("produce-key").fill("small");
  await page.getByTestId("produce-value").fill('{"amount": 5}');
  await page.getByTestId("produce-partition").fill("0");
  await page.getByTestId("produce-count").fill("5");
  await page.getByTestId("produce-submit").click();
  await expect(page.getByTestId("produce-result")).toContainText("5 records landed");
  await expect(page.getByTestId("produce-result")).toContainText("last at partition 0 offset 4");

  await page.getByTestId("tab-partitions").click();
  await expect(page.getByTestId("partition-1-hwm")).toHaveText("1");
  await expect(page.getByTestId("partition-0-hwm")).toHaveText("5");
  await snap(page, "topic-partitions");
});

test("find the message by offset, open it, and by a CEL filter", async () => {
  // deep link: partition 1 from offset 0
  await page.goto(`/topics/${topic}?tab=messages&partition=1&from=offset&offset=0`);
  await expect(page.getByTestId("search-status")).toHaveText("Done");
  await expect(page.getByTestId("search-shown")).toHaveText("1");
  const row = page.getByTestId("messages-table-row").first();
  await expect(row.locator('[data-col="offset"]')).toHaveText("0");
  await expect(row.locator('[data-col="key"]')).toHaveText("order-1");
  await row.click();
  const drawer = page.getByTestId("message-drawer");
  await expect(drawer).toBeVisible();
  await expect(page.getByTestId("drawer-value")).toContainText('"amount": 250');
  await expect(page.getByTestId("drawer-headers")).toContainText("source");
  await expect(page.getByTestId("drawer-transaction")).toContainText("committed");
  await snap(page, "topic-messages-drawer");
  await page.getByTestId("drawer-view-hex").check();
  await expect(page.getByTestId("drawer-value")).toContainText("7b 22 61 6d");
  await page.keyboard.press("Escape");
  await expect(drawer).toBeHidden();

  // CEL over all partitions: only the paid web order matches
  await page.getByTestId("search-partition").selectOption("all");
  await page.getByTestId("search-from").selectOption("earliest");
  await page.getByTestId("search-cel").fill('value.amount > 100 && headers["source"] == "web"');
  await page.getByTestId("search-submit").click();
  await expect(page).toHaveURL(/cel=/);
  await expect(page.getByTestId("search-status")).toHaveText("Done");
  await expect(page.getByTestId("search-scanned")).toHaveText("6");
  await expect(page.getByTestId("search-matched")).toHaveText("1");
  await expect(page.getByTestId("messages-table-row")).toHaveCount(1);
  await expect(page.getByTestId("messages-table-row").first().locator('[data-col="key"]')).toHaveText("order-1");
  await snap(page, "topic-messages");

  // the URL is the search: a reload runs it again
  await page.reload();
  await expect(page.getByTestId("search-cel")).toHaveValue('value.amount > 100 && headers["source"] == "web"');
  await expect(page.getByTestId("search-matched")).toHaveText("1");

  // export as CSV
  const download = page.waitForEvent("download");
  await page.getByTestId("export-csv").click();
  const file = await download;
  expect(file.suggestedFilename()).toBe(`${topic}-messages.csv`);
});

test("live tail shows records while a script produces; pause and resume", async () => {
  await page.goto(`/topics/${topic}?tab=live`);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-status", "open");
  await expect(page.getByTestId("live-sampling-note")).toContainText("last 5,000 records");
  const producer = startProducer({ topic, rate: 400, seconds: 4, batch: 40, prefix: "live" });
  await expect(page.getByTestId("live-table-row").first()).toBeVisible();
  await expect.poll(async () => Number((await page.getByTestId("live-received").textContent())?.replace(/,/g, ""))).toBeGreaterThan(100);
  await expect(
    page
      .getByTestId("live-table")
      .locator('[data-col="key"]', { hasText: /^live-\d+$/ })
      .first(),
  ).toBeVisible();
  await expect.poll(async () => Number(await page.getByTestId("live-rate").textContent())).toBeGreaterThan(0);
  await page.getByTestId("live-pause").click();
  await expect(page.getByTestId("live-pause")).toHaveText("Resume");
  const frozen = await page.getByTestId("live-table").getAttribute("data-rows");
  await page.waitForTimeout(600);
  expect(await page.getByTestId("live-table").getAttribute("data-rows")).toBe(frozen);
  await expect(page.getByTestId("live-paused-note")).toBeVisible();
  await snap(page, "topic-live");
  await page.getByTestId("live-pause").click();
  const summary = await producer.done;
  expect(summary.errors).toBe(0);
  // every record the script sent arrives (at this rate nothing is sampled away)
  await expect.poll(async () => Number((await page.getByTestId("live-received").textContent())?.replace(/,/g, ""))).toBe(summary.sent);
  // topic and partitions are chosen on the page and kept in the URL
  await expect(page.getByTestId("live-topic")).toHaveValue(topic);
  // the boxes follow the URL, which the page updates asynchronously: click, then wait for the state
  await page.getByTestId("live-partition-0").click();
  await expect(page.getByTestId("live-partition-0")).not.toBeChecked();
  await expect(page).toHaveURL(/partitions=1/);
  await expect(page.getByTestId("live-status")).toHaveAttribute("data-status", "open");
  await expect(page.getByTestId("live-received")).toHaveText("0");
  await page.getByTestId("live-partition-0").click();
  await expect(page.getByTestId("live-partition-0")).toBeChecked();
  await expect(page).not.toHaveURL(/partitions=/);
});

test("a consumer group: members and lag, then stopped", async () => {
  consumer = new Consumer({
    baseUrl: BASE_URL,
    groupId: group,
    clientId: "journey-client",
    autoOffsetReset: "earliest",
    autoCommitIntervalMs: 200,
  });
  consumer.subscribe({ topics: [topic] });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      consumed.push({ partition, offset: message.offset });
    },
  });
  const total = (await describeTopic(topic)).recordCount;
  await expect.poll(() => consumed.length, { timeout: 20_000 }).toBe(total);

  await page.goto("/groups");
  await expect(page.getByTestId(`group-row-${group}`)).toBeVisible();
  await expect(page.getByTestId(`group-members-${group}`)).toHaveText("1");
  await expect(page.getByTestId(`group-lag-${group}`)).toHaveText("0", { timeout: 15_000 });
  await snap(page, "groups");
  await page.getByTestId(`group-link-${group}`).click();
  await expect(page.getByTestId("group-state")).toHaveText("Stable");
  await expect(page.getByTestId("group-member-row")).toHaveCount(1);
  await expect(page.getByTestId("group-member-assignment")).toContainText(`${topic}[0,1]`);
  await expect(page.getByTestId("group-total-lag")).toHaveText("0");
  await expect(page.getByTestId("reset-disabled-reason")).toContainText("1 active member");
  await expect(page.getByTestId("reset-apply")).toBeDisabled();
  await expect(page.getByTestId("group-delete")).toBeDisabled();
  await expect(page.getByTestId("lag-chart")).toBeVisible({ timeout: 15_000 });
  await snap(page, "group-active");

  await consumer.stop();
  consumer = null;
  // records produced while nobody consumes show up as lag
  await rest("POST", `/api/v1/topics/${topic}/records`, {
    records: Array.from({ length: 7 }, (_, i) => ({ key: `late-${i}`, value: { i }, partition: 0 })),
  });
  await expect(page.getByTestId("group-member-row")).toHaveCount(0);
  await expect(page.getByTestId("group-state")).toHaveText("Empty");
  await expect(page.getByTestId("group-total-lag")).toHaveText("7");
  await expect(page.getByTestId(`group-lag-${topic}-0`)).toHaveText("7");
});

test("reset offsets to earliest: dry run shown, then applied and verified", async () => {
  const before = await describeTopic(topic);
  const hwm = new Map(before.partitions.map((p) => [p.partition, p.highWatermark]));
  await expect(page.getByTestId("reset-disabled-reason")).toHaveCount(0);
  await page.getByTestId("reset-mode").selectOption("earliest");
  await page.getByTestId("reset-preview").click();
  const plan = page.getByTestId("reset-plan");
  await expect(plan).toBeVisible();
  await expect(plan).toContainText("Dry run");
  for (const p of [0, 1]) {
    await expect(page.getByTestId(`reset-plan-current-${topic}-${p}`)).toHaveText(
      String(p === 0 ? (hwm.get(0) as number) - 7 : hwm.get(1)).replace(/\B(?=(\d{3})+(?!\d))/g, ","),
    );
    await expect(page.getByTestId(`reset-plan-new-${topic}-${p}`)).toHaveText("0");
  }
  // nothing changed yet
  const g0 = await rest<{ offsets: { partition: number; committedOffset: number }[] }>("GET", `/api/v1/groups/${group}`);
  expect(g0.body.offsets.find((o) => o.partition === 1)?.committedOffset).toBe(hwm.get(1));
  await snap(page, "group-reset-dry-run");
  await page.getByTestId("reset-apply").click();
  await expect(page.getByTestId("reset-applied")).toBeVisible();
  for (const p of [0, 1]) {
    await expect(page.getByTestId(`group-committed-${topic}-${p}`)).toHaveText("0");
    await expect(page.getByTestId(`group-lag-${topic}-${p}`)).toHaveText(String(hwm.get(p)).replace(/\B(?=(\d{3})+(?!\d))/g, ","));
  }
  const g1 = await rest<{ offsets: { partition: number; committedOffset: number }[] }>("GET", `/api/v1/groups/${group}`);
  expect(g1.body.offsets.map((o) => o.committedOffset)).toEqual([0, 0]);
  await snap(page, "group-reset-applied");
});

test("a partition without a committed offset counts in the lag, marked as counted from the log start", async () => {
  // a new partition the group never committed for: kafka-consumer-groups shows it as unread
  expect((await rest("POST", `/api/v1/topics/${topic}/partitions`, { partitions: 3 })).status).toBe(200);
  await rest("POST", `/api/v1/topics/${topic}/records`, {
    records: Array.from({ length: 4 }, (_, i) => ({ key: `new-${i}`, value: { i }, partition: 2 })),
  });
  await page.reload();
  await expect(page.getByTestId(`group-committed-${topic}-2`)).toHaveText("none");
  await expect(page.getByTestId(`group-lag-${topic}-2`)).toHaveText("4 (from log start)");
  await expect(page.getByTestId(`group-lag-basis-${topic}-0`)).toHaveCount(0);
  await expect(page.getByTestId("group-uncommitted")).toContainText("1 partition without a committed offset");
  const g = await rest<{ totalLag: number; offsets: { partition: number; lag: number; lagBasis: string }[] }>(
    "GET",
    `/api/v1/groups/${group}`,
  );
  expect(g.body.offsets.map((o) => [o.partition, o.lagBasis])).toEqual([
    [0, "committed"],
    [1, "committed"],
    [2, "earliest"],
  ]);
  expect(g.body.totalLag).toBe(g.body.offsets.reduce((n, o) => n + o.lag, 0));
  await snap(page, "group-uncommitted-partition");
  await page.goto("/groups");
  await expect(page.getByTestId(`group-uncommitted-${group}`)).toHaveText("(1 uncommitted)");
  await page.getByTestId(`group-link-${group}`).click();
  await expect(page.getByTestId("group-state")).toHaveText("Empty");
});

test("delete the group, then the topic with typed confirmation", async () => {
  await page.getByTestId("group-delete").click();
  await page.getByTestId("delete-group-submit").click();
  await expect(page).toHaveURL(/\/groups$/);
  await expect(page.getByTestId(`group-row-${group}`)).toHaveCount(0);
  expect((await rest("GET", `/api/v1/groups/${group}`)).status).toBe(404);

  await page.goto(`/topics/${topic}`);
  await snap(page, "topic-page");
  await page.getByTestId("tab-configs").click();
  await expect(page.getByTestId("config-value-retention.ms")).toHaveText("86400000");
  await snap(page, "topic-configs");
  await page.getByTestId("topic-delete").click();
  await expect(page.getByTestId("delete-topic-submit")).toBeDisabled();
  await page.getByTestId("delete-topic-confirm").fill(topic.slice(0, -1));
  await expect(page.getByTestId("delete-topic-submit")).toBeDisabled();
  await page.getByTestId("delete-topic-confirm").fill(topic);
  await page.getByTestId("delete-topic-submit").click();
  await expect(page).toHaveURL(/\/topics$/);
  await expect(page.getByTestId(`topic-row-${topic}`)).toHaveCount(0);
  expect((await rest("GET", `/api/v1/topics/${topic}`)).status).toBe(404);
});
