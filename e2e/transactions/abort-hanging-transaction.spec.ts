/**
 * Aborting a hanging transaction from the console (Kafka's `kafka-transactions.sh forceTerminate`):
 * a transactional producer leaves a transaction open over two partitions → the Transactions page
 * finds it by its producer id (both tables filter) → "Abort…" asks for confirmation (Cancel keeps
 * it open) → confirming aborts it: CompleteAbort by the operator, the producer fenced, and
 * read_committed readers move past it. An idle id offers no abort. Screenshots light and dark.
 */
import { expect, test, type Page } from "@playwright/test";
import { createTopic, rest, snap, unique } from "../support/console";

test.describe.configure({ mode: "serial" });

const topic = unique("hang");
const hangingId = unique("hanging");
const idleId = unique("idle");
let page: Page;
let producer: { producerId: number; producerEpoch: number };

const enc = encodeURIComponent;

async function readCommitted(partition: number) {
  const r = await rest<{ records: { value: string }[]; highWatermark: number; lastStableOffset: number }>(
    "GET",
    `/api/v1/topics/${topic}/partitions/${partition}/records?offset=0&waitMs=0&isolation=read_committed`,
  );
  expect(r.status).toBe(200);
  return r.body;
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  await createTopic(topic, 2);
  const p = await rest<{ producerId: number; producerEpoch: number }>("POST", "/api/v1/producers", {
    transactionalId: hangingId,
    transactionTimeoutMs: 900_000,
  });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  producer = p.body;
  for (const partition of [0, 1]) {
    const r = await rest("POST", `/api/v1/topics/${topic}/records`, {
      ...producer,
      baseSequence: 0,
      transactionalId: hangingId,
      records: [{ partition, key: "k", value: { stuck: partition } }],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }
  expect((await rest("POST", "/api/v1/producers", { transactionalId: idleId })).status).toBe(201);
});

test.afterAll(async () => {
  await page.close();
});

test("the hanging transaction holds read_committed readers back and is found by its producer id", async () => {
  expect((await readCommitted(0)).lastStableOffset).toBe(0);
  await page.goto("/transactions");
  await expect(page.getByTestId(`txn-state-${hangingId}`)).toHaveText("Ongoing");
  // an idle id has nothing to abort
  await expect(page.getByTestId(`txn-row-${idleId}`)).toBeVisible();
  await expect(page.getByTestId(`txn-abort-${idleId}`)).toHaveCount(0);

  await page.getByTestId("transactions-search").fill(String(producer.producerId));
  await expect(page.getByTestId(`txn-row-${hangingId}`)).toBeVisible();
  await expect(page.getByTestId(`txn-row-${idleId}`)).toHaveCount(0);
  // the producers table follows the same search: this producer's two partitions only
  const producerRows = page.locator('[data-testid^="producer-row-"]');
  await expect(producerRows).toHaveCount(2);
  for (const partition of [0, 1]) await expect(page.getByTestId(`producer-row-${topic}-${partition}-${producer.producerId}`)).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`q=${producer.producerId}`));

  await page.getByTestId("transactions-search").fill("no-such-producer-or-id");
  await expect(page.getByTestId("transactions-empty")).toHaveText("No transactional id or producer id matches.");
  await expect(page.getByTestId("producers-empty")).toHaveText("No producer matches the search.");
  await page.getByTestId("transactions-search").fill(String(producer.producerId));
});

test("Abort… asks first; Cancel leaves the transaction open", async () => {
  await page.getByTestId(`txn-abort-${hangingId}`).click();
  const dialog = page.getByTestId("abort-txn-dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText(hangingId);
  await expect(dialog).toContainText("its 2 partitions");
  await expect(dialog).toContainText(`epoch ${producer.producerEpoch} → ${producer.producerEpoch + 1}`);
  await snap(page, "transactions-abort-confirm");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  const t = await rest<{ state: string }>("GET", `/api/v1/transactions/${enc(hangingId)}`);
  expect(t.body.state).toBe("Ongoing");
});

test("confirming aborts it: the operator's abort is shown, the producer is fenced, readers move past it", async () => {
  await page.getByTestId(`txn-abort-${hangingId}`).click();
  await page.getByTestId("abort-txn-submit").click();
  await expect(page.getByTestId("abort-txn-dialog")).toBeHidden();
  await expect(page.getByTestId(`txn-state-${hangingId}`)).toHaveText("CompleteAbort");
  await expect(page.getByTestId(`txn-result-kind-${hangingId}`)).toHaveText("aborted");
  await expect(page.getByTestId(`txn-result-reason-${hangingId}`)).toHaveText("operator");
  await expect(page.getByTestId(`txn-producer-${hangingId}`)).toHaveText(`${producer.producerId} / ${producer.producerEpoch + 1}`);
  await expect(page.getByTestId(`txn-abort-${hangingId}`)).toHaveCount(0);
  await snap(page, "transactions-after-abort");

  for (const partition of [0, 1]) {
    const r = await readCommitted(partition);
    expect(r.records).toEqual([]);
    expect(r.lastStableOffset).toBe(r.highWatermark); // its record and the abort marker
    expect(r.highWatermark).toBe(2);
  }
  const late = await rest<{ error: { code: string } }>("POST", `/api/v1/topics/${topic}/records`, {
    ...producer,
    baseSequence: 1,
    transactionalId: hangingId,
    records: [{ partition: 0, value: "late" }],
  });
  expect(late.status).toBe(409);
  expect(late.body.error.code).toBe("TRANSACTION_ABORTED");
});

test("aborting a transaction that already ended shows the server's 409 in the dialog", async () => {
  // a second tab aborted it first: the button of this (stale) page gets the 409
  const p = await rest<{ producerId: number; producerEpoch: number }>("POST", "/api/v1/producers", { transactionalId: hangingId });
  const r = await rest("POST", `/api/v1/topics/${topic}/records`, {
    ...p.body,
    baseSequence: 0,
    transactionalId: hangingId,
    records: [{ partition: 0, value: "again" }],
  });
  expect(r.status).toBe(200);
  await expect(page.getByTestId(`txn-abort-${hangingId}`)).toBeVisible();
  await page.getByTestId(`txn-abort-${hangingId}`).click();
  expect((await rest("POST", `/api/v1/transactions/${enc(hangingId)}/force-abort`)).status).toBe(200);
  await page.getByTestId("abort-txn-submit").click();
  await expect(page.getByTestId("abort-txn-error")).toContainText("no transaction in progress");
  await page.getByTestId("abort-txn-dialog").getByRole("button", { name: "Cancel" }).click();
});
