/**
 * The editor's Tests panel in a real browser against a real server: a template pipeline
 * previewed on records produced for it, the preview turned into a test case in one click, the
 * case run (passes), an expected value edited (fails, the diff shows the field with both
 * values), each checked through the API as well; a case the server refuses shows the field it
 * named; a preview over a time range reads only the records stamped in it.
 */
import { expect, test, type Page } from "@playwright/test";
import { createTopic, produce, rest, snap, unique } from "../support/console";

// the time-range inputs show local time: this browser's is UTC
test.use({ timezoneId: "UTC" });

interface Report {
  passed: number;
  failed: number;
  cases: { name: string; status: string; diff: { kind: string; fields?: { path: string; expected?: unknown; actual?: unknown }[] }[] }[];
}

async function saved(page: Page): Promise<void> {
  await expect(page.getByTestId("save-status")).toHaveAttribute("data-status", "saved", { timeout: 15_000 });
}

async function selectNode(page: Page, id: string): Promise<void> {
  await page.getByTestId(`pipeline-node-${id}`).locator(".pe-node-head").click();
  await expect(page.getByTestId(`node-form-${id}`)).toBeVisible();
}

/** The filter→map template, its source reading `topic`, created as `name`; the editor open on it. */
async function openTemplate(page: Page, name: string, topic: string): Promise<void> {
  await page.goto("/pipelines/new?template=filter-map");
  await selectNode(page, "orders");
  await page.getByRole("button", { name: "remove orders" }).click();
  await page.getByTestId("field-cfg-topics").fill(topic);
  await page.getByTestId("field-cfg-topics").press("Enter");
  await expect(page.getByTestId(`topic-chip-${topic}`)).toBeVisible();
  await page.getByTestId("new-pipeline-name").fill(name);
  await page.getByTestId("create-pipeline").click();
  await expect(page).toHaveURL(new RegExp(`/pipelines/${name}$`));
  await saved(page);
}

test("a preview becomes a test case; it passes, an edited expectation fails with its diff, both through the API too", async ({ page }) => {
  test.setTimeout(120_000);
  const topic = unique("tp-orders");
  await createTopic(topic);
  await produce(
    topic,
    [
      { id: "a", amount: 50 },
      { id: "b", amount: 150.5 },
      { id: "c", amount: 300 },
      { id: "d", amount: 99.5 },
    ].map((v) => ({ key: v.id, value: v })),
  );
  const name = unique("tests");
  await openTemplate(page, name, topic);

  // empty state
  await page.getByTestId("tab-tests").click();
  await expect(page.getByTestId("tests-empty")).toBeVisible();
  await expect(page.getByTestId("tests-from-preview")).toBeDisabled();
  await snap(page, "pipeline-tests-empty");

  // preview on the produced records, then one click makes it a case
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("preview-summary")).toContainText("4 records read", { timeout: 20_000 });
  await page.getByTestId("tab-tests").click();
  await page.getByTestId("tests-from-preview").click();
  const kase = page.getByTestId("test-case");
  await expect(kase).toHaveCount(1);
  await expect(page.getByTestId("test-count")).toHaveText("1");
  await expect(page.getByTestId("record-input-orders")).toHaveCount(4);
  await expect(page.getByTestId("record-expected-largeOrders")).toHaveCount(2);
  await expect(page.getByTestId("cell-expected-largeOrders-0-value")).toHaveValue('{"order":"b","amount":150.5}');
  await saved(page);

  // saved with the draft
  const detail = await rest<{
    draft: { tests: { name: string; inputs: Record<string, unknown[]>; expected: { outputs: Record<string, unknown[]> } }[] };
  }>("GET", `/api/v1/pipelines/${name}`);
  expect(detail.body.draft.tests).toHaveLength(1);
  expect(detail.body.draft.tests[0].inputs.orders).toHaveLength(4);
  expect(detail.body.draft.tests[0].expected.outputs.largeOrders).toEqual([
    { key: "b", value: { order: "b", amount: 150.5 } },
    { key: "c", value: { order: "c", amount: 300 } },
  ]);

  // run: passes, in the panel and through the API
  await page.getByTestId("tests-run-all").click();
  await expect(kase).toHaveAttribute("data-status", "passed", { timeout: 20_000 });
  await expect(page.getByTestId("tests-summary")).toContainText("1 passed · 0 failed");
  const passing = await rest<Report>("POST", `/api/v1/pipelines/${name}/test`, {});
  expect(passing.status).toBe(200);
  expect(passing.body).toMatchObject({ passed: 1, failed: 0 });
  await snap(page, "pipeline-tests-passed");

  // an edited expectation: fails, and the diff shows the field, expected and got
  await page.getByTestId("cell-expected-largeOrders-0-value").fill('{"order":"b","amount":999}');
  await saved(page);
  await page.getByTestId("test-run").click();
  await expect(kase).toHaveAttribute("data-status", "failed", { timeout: 20_000 });
  const entry = page.getByTestId("diff-entry");
  await expect(entry).toHaveCount(1);
  await expect(entry).toHaveAttribute("data-kind", "changed");
  const field = page.getByTestId("diff-field");
  await expect(field).toHaveAttribute("data-path", "value.amount");
  await expect(field.getByTestId("diff-expected")).toHaveText("999");
  await expect(field.getByTestId("diff-actual")).toHaveText("150.5");
  await expect(page.getByTestId("cell-input-orders-0-timestamp")).toHaveValue(/^\d{4}-\d\d-\d\dT.*Z$/);
  const failing = await rest<Report>("POST", `/api/v1/pipelines/${name}/test`, {});
  expect(failing.body).toMatchObject({ passed: 0, failed: 1 });
  expect(failing.body.cases[0].diff[0].fields).toEqual([{ path: "value.amount", expected: 999, actual: 150.5 }]);

  // a record expected that never comes is missing; one that comes unexpected is marked too
  await page.getByTestId("add-expected-largeOrders").click();
  await page.getByTestId("cell-expected-largeOrders-2-value").fill('{"order":"z"}');
  await page.getByTestId("test-run").click();
  await expect(page.locator('[data-testid="diff-entry"][data-kind="missing"]')).toHaveCount(1);
  // the expected records the diff names are marked in the case
  await expect(page.getByTestId("record-expected-largeOrders").nth(0)).toHaveAttribute("data-marked", "changed");
  await expect(page.getByTestId("record-expected-largeOrders").nth(2)).toHaveAttribute("data-marked", "missing");
  await page.getByTestId("test-diff").scrollIntoViewIfNeeded();
  await snap(page, "pipeline-tests-failed");

  // the server refuses a case ending before its last input: the message and the field it named
  await page.getByTestId("test-advance-to").fill("2000-01-01T00:00:00Z");
  await page.getByTestId("tests-run-all").click();
  await expect(page.getByTestId("tests-error")).toContainText("advanceTo must not be before");
  await expect(page.getByTestId("tests-error-field")).toHaveText("definition.tests.0.advanceTo");
  await snap(page, "pipeline-tests-error");

  // what came becomes what is expected: passes again
  await page.getByTestId("test-advance-to").fill("");
  await page.getByTestId("test-accept").click();
  await page.getByTestId("tests-run-all").click();
  await expect(kase).toHaveAttribute("data-status", "passed", { timeout: 20_000 });
  await expect(page.getByTestId("tests-error")).toHaveCount(0);
  await saved(page);
  expect((await rest<Report>("POST", `/api/v1/pipelines/${name}/test`, {})).body).toMatchObject({ passed: 1, failed: 0 });
});

test("a preview over a time range shows only the records stamped in it; a range ending before it starts is refused naming the field", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const topic = unique("tp-range");
  await createTopic(topic);
  const HOUR = 3_600_000;
  const h0 = Math.floor(Date.now() / HOUR) * HOUR - 5 * HOUR;
  // three large orders in the hour h0, two more two hours later
  const at = (id: string, ms: number) => ({ key: id, value: { id, amount: 500 }, timestamp: ms });
  await produce(topic, [
    at("early-1", h0 + 5 * 60_000),
    at("early-2", h0 + 20 * 60_000),
    at("early-3", h0 + 40 * 60_000),
    at("late-1", h0 + 2 * HOUR + 60_000),
    at("late-2", h0 + 2 * HOUR + 120_000),
  ]);
  const name = unique("range");
  await openTemplate(page, name, topic);

  const local = (ms: number) => new Date(ms).toISOString().slice(0, 19);
  await page.getByTestId("preview-limit").selectOption("range");
  await page.getByTestId("preview-from").fill(local(h0));
  await page.getByTestId("preview-to").fill(local(h0 + HOUR));
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("preview-summary")).toContainText("3 records read", { timeout: 20_000 });
  await selectNode(page, "largeOrders");
  await expect(page.getByTestId("preview-key")).toHaveText(["early-1", "early-2", "early-3"]);
  await snap(page, "pipeline-preview-range");

  // the same through the API
  const api = await rest<{ read: number; nodes: Record<string, { records: { key: string }[] }> }>(
    "POST",
    `/api/v1/pipelines/${name}/preview`,
    { from: new Date(h0 + 2 * HOUR).toISOString(), to: h0 + 3 * HOUR },
  );
  expect(api.status).toBe(200);
  expect(api.body.nodes.largeOrders.records.map((r) => r.key)).toEqual(["late-1", "late-2"]);

  // the later hour in the page; then a range that ends before it starts
  await page.getByTestId("preview-from").fill(local(h0 + 2 * HOUR));
  await page.getByTestId("preview-to").fill(local(h0 + 3 * HOUR));
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("preview-summary")).toContainText("2 records read", { timeout: 20_000 });
  await page.getByTestId("preview-to").fill(local(h0 - HOUR));
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("editor-error")).toContainText("invalid body.to");
});
