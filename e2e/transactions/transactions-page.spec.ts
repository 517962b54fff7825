/**
 * Transactions in the console: a transactional producer (REST) writes to two partitions → the
 * Transactions page lists the Ongoing transaction with its partitions, a ticking age, and the
 * producers per partition; the partitions tab shows the open transaction holding the last
 * stable offset back → commit → CompleteCommit; a second transaction is aborted → the messages
 * tab lists its records under read_uncommitted and hides them under read_committed; a third id
 * is fenced by a new instance. Screenshots (light and dark) go to test-results/screenshots/.
 */
import { expect, test, type Page } from "@playwright/test";
import { createTopic, describeTopic, rest, snap, unique } from "../support/console";

test.describe.configure({ mode: "serial" });

const topic = unique("txn");
const committedId = unique("txn-commit");
const abortedId = unique("txn-abort");
const fencedId = unique("txn-fenced");
let page: Page;

/** A transactional producer driven through the REST API. */
class TxnProducer {
  private readonly seq = new Map<number, number>();
  private constructor(
    readonly transactionalId: string,
    readonly producerId: number,
    readonly producerEpoch: number,
  ) {}

  static async init(transactionalId: string, transactionTimeoutMs = 120_000): Promise<TxnProducer> {
    const r = await rest<{ producerId: number; producerEpoch: number; transactionalId: string }>("POST", "/api/v1/producers", {
      transactionalId,
      transactionTimeoutMs,
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.transactionalId).toBe(transactionalId);
    return new TxnProducer(transactionalId, r.body.producerId, r.body.producerEpoch);
  }

  /** One transactional batch to `partition` (sequence numbers continue per partition). */
  async send(partition: number, records: { key: string; value: unknown }[]): Promise<number[]> {
    const baseSequence = this.seq.get(partition) ?? 0;
    const r = await rest<{ records: { partition: number; offset: number }[] }>("POST", `/api/v1/topics/${topic}/records`, {
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence,
      transactionalId: this.transactionalId,
      records: records.map((x) => ({ ...x, partition })),
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    this.seq.set(partition, baseSequence + records.length);
    return r.body.records.map((x) => x.offset);
  }

  async end(commit: boolean): Promise<{ state: string }> {
    const r = await rest<{ state: string }>(
      "POST",
      `/api/v1/transactions/${encodeURIComponent(this.transactionalId)}/${commit ? "commit" : "abort"}`,
      {
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body;
  }
}

let committer: TxnProducer;

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await createTopic(topic, 2);
});

test.afterAll(async () => {
  await page.close();
});

test("the nav links to the Transactions page", async () => {
  await page.goto("/");
  await page.getByTestId("nav-transactions").click();
  await expect(page).toHaveURL(/\/transactions$/);
  await expect(page.getByTestId("nav-transactions")).toHaveAttribute("aria-current", "page");
  await expect(page.getByTestId("transactions-table")).toBeVisible();
  await expect(page.getByTestId("producers-table")).toBeVisible();
});

test("an ongoing transaction is listed with its partitions, a ticking age and its producers", async () => {
  committer = await TxnProducer.init(committedId);
  expect(
    await committer.send(0, [
      { key: "c-0", value: { n: 0 } },
      { key: "c-1", value: { n: 1 } },
    ]),
  ).toEqual([0, 1]);
  expect(await committer.send(1, [{ key: "c-2", value: { n: 2 } }])).toEqual([0]);

  await page.goto("/transactions");
  const id = committedId;
  await expect(page.getByTestId(`txn-state-${id}`)).toHaveText("Ongoing");
  await expect(page.getByTestId(`txn-partition-count-${id}`)).toHaveText("2");
  await expect(page.getByTestId(`txn-partition-${id}-${topic}-0`)).toHaveText(`${topic}-0`);
  await expect(page.getByTestId(`txn-partition-${id}-${topic}-1`)).toHaveText(`${topic}-1`);
  await expect(page.getByTestId(`txn-producer-${id}`)).toHaveText(`${committer.producerId} / ${committer.producerEpoch}`);
  await expect(page.getByTestId(`txn-timeout-${id}`)).toHaveText("2 min");
  await expect(page.getByTestId(`txn-result-${id}`)).toHaveText("—");
  // the age ticks between refreshes
  const age = page.getByTestId(`txn-age-${id}`);
  await expect(age).toHaveText(/^\d+(\.\d)? (ms|s)$/);
  const first = await age.textContent();
  await expect.poll(() => age.textContent(), { timeout: 5000 }).not.toBe(first);

  // producers per partition: the open transaction starts at offset 0 in both
  for (const p of [0, 1]) {
    const key = `${topic}-${p}-${committer.producerId}`;
    await expect(page.getByTestId(`producer-row-${key}`)).toBeVisible();
    await expect(page.getByTestId(`producer-txn-id-${key}`)).toHaveText(id);
    await expect(page.getByTestId(`producer-txn-start-${key}`)).toHaveText("0");
  }
  await expect(page.getByTestId(`producer-seq-${topic}-0-${committer.producerId}`)).toHaveText("1");

  // "open only" lives in the URL
  await page.getByTestId("transactions-open-only").check();
  await expect(page).toHaveURL(/open=1/);
  await expect(page.getByTestId(`txn-row-${id}`)).toBeVisible();
  await page.getByTestId("transactions-search").fill(topic.replace(/^txn-/, "nothing-"));
  await expect(page.getByTestId("transactions-empty")).toHaveText("No transactional id or producer id matches.");
  await page.getByTestId("transactions-search").fill("");
  await snap(page, "transactions-ongoing");
});

test("the partitions tab shows the open transaction holding the last stable offset back", async () => {
  await page.goto(`/topics/${topic}?tab=partitions`);
  await expect(page.getByTestId("partition-0-hwm")).toHaveText("2");
  await expect(page.getByTestId("partition-0-lso")).toHaveText("0");
  await expect(page.getByTestId("partition-0-open-txns")).toHaveAttribute("data-count", "1");
  await expect(page.getByTestId("partition-0-open-txns")).toContainText("from offset 0");
  await expect(page.getByTestId("partition-1-open-txns")).toHaveAttribute("data-count", "1");
  await snap(page, "topic-partitions-open-txn");
});

test("commit: the transaction completes and the last stable offset moves on", async () => {
  expect((await committer.end(true)).state).toBe("CompleteCommit");
  await page.goto(`/transactions?open=1`);
  await expect(page.getByTestId("transactions-open-only")).toBeChecked();
  await expect(page.getByTestId(`txn-row-${committedId}`)).toHaveCount(0);
  await page.getByTestId("transactions-open-only").uncheck();
  await expect(page).not.toHaveURL(/open=1/);
  await expect(page.getByTestId(`txn-state-${committedId}`)).toHaveText("CompleteCommit");
  await expect(page.getByTestId(`txn-result-kind-${committedId}`)).toHaveText("committed");
  await expect(page.getByTestId(`txn-result-reason-${committedId}`)).toHaveText("client");
  await expect(page.getByTestId(`txn-partitions-${committedId}`)).toHaveText("—");
  await expect(page.getByTestId(`txn-age-${committedId}`)).toHaveText("—");
  await expect(page.getByTestId(`producer-txn-start-${topic}-0-${committer.producerId}`)).toHaveText("—");
  // the commit marker took one offset in each partition
  const t = await describeTopic(topic);
  expect(t.partitions.map((p) => p.highWatermark)).toEqual([3, 2]);
  await page.goto(`/topics/${topic}?tab=partitions`);
  await expect(page.getByTestId("partition-0-lso")).toHaveText("3");
  await expect(page.getByTestId("partition-0-open-txns")).toHaveAttribute("data-count", "0");
});

test("abort: read_uncommitted lists the aborted records, read_committed hides them", async () => {
  const aborter = await TxnProducer.init(abortedId);
  expect(
    await aborter.send(
      0,
      [0, 1, 2].map((i) => ({ key: `aborted-${i}`, value: { aborted: i } })),
    ),
  ).toEqual([3, 4, 5]);
  expect((await aborter.end(false)).state).toBe("CompleteAbort");

  await page.goto("/transactions");
  await expect(page.getByTestId(`txn-state-${abortedId}`)).toHaveText("CompleteAbort");
  await expect(page.getByTestId(`txn-result-kind-${abortedId}`)).toHaveText("aborted");
  await expect(page.getByTestId(`txn-result-reason-${abortedId}`)).toHaveText("client");

  // the messages tab, partition 0: c-0, c-1 (committed), aborted-0..2 (aborted); markers are never shown
  await page.goto(`/topics/${topic}?tab=messages&partition=0`);
  await expect(page.getByTestId("search-isolation")).toHaveValue("read_uncommitted");
  await expect(page.getByTestId("search-status")).toHaveText("Done");
  const keys = () => page.getByTestId("messages-table-row").locator('[data-col="key"]').allTextContents();
  await expect.poll(keys).toEqual(["c-0", "c-1", "aborted-0", "aborted-1", "aborted-2"]);
  await expect(page.getByTestId("search-shown")).toHaveText("5");
  await snap(page, "topic-messages-read-uncommitted");
  // the drawer says which records a read_committed reader never gets
  await page.getByTestId("messages-table-row").filter({ hasText: "aborted-1" }).click();
  await expect(page.getByTestId("drawer-transaction")).toContainText("aborted");
  await page.keyboard.press("Escape");

  await page.getByTestId("search-isolation").selectOption("read_committed");
  await expect(page).toHaveURL(/isolation=read_committed/);
  await expect.poll(keys).toEqual(["c-0", "c-1"]);
  await expect(page.getByTestId("search-shown")).toHaveText("2");
  await expect(page.getByTestId("search-isolation-note")).toContainText("read_committed");
  await snap(page, "topic-messages-read-committed");

  // the URL keeps the isolation: a reload searches again and filters the same way
  await page.reload();
  await expect(page.getByTestId("search-isolation")).toHaveValue("read_committed");
  await expect.poll(keys).toEqual(["c-0", "c-1"]);

  await page.getByTestId("search-isolation").selectOption("read_uncommitted");
  await expect(page).not.toHaveURL(/isolation=/);
  await expect.poll(keys).toEqual(["c-0", "c-1", "aborted-0", "aborted-1", "aborted-2"]);
});

test("read_committed also hides an open transaction's records until it commits", async () => {
  const open = await TxnProducer.init(unique("txn-late"));
  await open.send(1, [{ key: "pending-0", value: 1 }]);
  await page.goto(`/topics/${topic}?tab=messages&partition=1&isolation=read_committed`);
  const keys = () => page.getByTestId("messages-table-row").locator('[data-col="key"]').allTextContents();
  await expect(page.getByTestId("search-status")).toHaveText("Done");
  await expect.poll(keys).toEqual(["c-2"]);
  await open.end(true);
  await page.getByTestId("search-submit").click();
  await expect.poll(keys).toEqual(["c-2", "pending-0"]);
});

test("a new instance of a transactional id fences the old one and aborts its transaction", async () => {
  const old = await TxnProducer.init(fencedId);
  await old.send(1, [{ key: "fenced-0", value: 0 }]);
  const fresh = await TxnProducer.init(fencedId);
  expect(fresh.producerEpoch > old.producerEpoch || fresh.producerId !== old.producerId).toBe(true);
  await page.goto("/transactions");
  await expect(page.getByTestId(`txn-result-kind-${fencedId}`)).toHaveText("aborted");
  await expect(page.getByTestId(`txn-result-reason-${fencedId}`)).toHaveText("fenced");
  await expect(page.getByTestId(`txn-producer-${fencedId}`)).toHaveText(`${fresh.producerId} / ${fresh.producerEpoch}`);
  await expect(page.getByTestId(`txn-row-${committedId}`)).toBeVisible();
  await expect(page.getByTestId(`txn-row-${abortedId}`)).toBeVisible();
  await snap(page, "transactions");
});

test("empty states explain what a transaction is", async () => {
  await page.goto("/transactions?open=1");
  await expect(page.getByTestId("transactions-empty")).toContainText("No transaction is open right now");
  await page.goto(`/transactions?q=${unique("no-such-id")}`);
  await expect(page.getByTestId("transactions-empty")).toHaveText("No transactional id or producer id matches.");
  // the full explanation shows when there is no id at all: render it by mocking an empty list
  await page.route("**/api/v1/transactions*", (r) => r.fulfill({ json: { transactions: [] } }));
  await page.route("**/api/v1/producers", (r) => r.fulfill({ json: { producers: [] } }));
  await page.goto("/transactions");
  await expect(page.getByTestId("transactions-empty")).toContainText("A transaction writes to several partitions");
  await expect(page.getByTestId("producers-empty")).toContainText("No producer state yet");
  await snap(page, "transactions-empty");
  await page.unrouteAll();
});
