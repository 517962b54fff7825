/**
 * The pipelines list and version history (#16, user items 1 and 7), against a real server:
 * the empty state offers the templates; pipelines in every state show their colored chip,
 * version, input rate, lag and errors (a failed one its error); create opens the editor on a new
 * draft, duplicate copies a draft, delete asks first; the list's error state recovers. Version
 * history: the fraud alert's threshold changed through the API and deployed, the diff of v1 and
 * v2 shows the changed field, a one-click rollback deploys v1 again as v3 (asserted through the
 * API); a rollback over a changed window asks for the state reset. Screenshots light and dark.
 */
import { expect, test, type Page } from "@playwright/test";
import { pipelineTemplate } from "../../server/schemas/pipeline-templates.ts";
import type { TPipelineDefinitionInput } from "../../server/schemas/pipeline.ts";
import { rest, snap } from "../support/console";

test.describe.configure({ mode: "serial" });

// topics of this spec only (other specs use the templates' own topic names)
const T = {
  purchases: "plist-purchases",
  "fraud-alerts": "plist-fraud-alerts",
  orders: "plist-orders",
  "large-orders": "plist-large-orders",
  clicks: "plist-clicks",
  "clicks-per-minute": "plist-clicks-per-minute",
} as Record<string, string>;
const MINE = ["fraud-alert", "orders-filter", "clicks-count", "sink-missing", "checked", "sketch", "my-new", "fraud-alert-copy"];

let page: Page;
let feeding: ReturnType<typeof setInterval> | null = null;

/** A template with this spec's topics and another name. */
function fromTemplate(id: string, name: string): TPipelineDefinitionInput {
  const def = structuredClone(pipelineTemplate(id)!.definition);
  def.name = name;
  for (const n of def.nodes) {
    const c = n.config as { topics?: string[]; topic?: string };
    if (c.topics) c.topics = c.topics.map((t) => T[t] ?? t);
    if (c.topic) c.topic = T[c.topic] ?? c.topic;
  }
  return def;
}

async function call<T = { state: string; version: number | null }>(method: string, path: string, body?: unknown, status = 200) {
  const r = await rest<T>(method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(status);
  return r.body;
}

const purchase = (user: string) => ({ key: user, value: { user, at: new Date().toISOString() } });

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
  for (const topic of [T.purchases, T.orders, T.clicks]) {
    const r = await rest("POST", "/api/v1/topics", { name: topic, partitions: 1 });
    expect([201, 409]).toContain(r.status);
  }
});

test.afterAll(async () => {
  if (feeding) clearInterval(feeding);
  for (const name of MINE) await rest("DELETE", `/api/v1/pipelines/${name}`);
  await page.close();
});

test("no pipelines: the empty state offers the four templates, each opening the editor on it", async () => {
  // this spec owns the server while it runs (one worker): start from no pipeline at all
  const { pipelines } = await call<{ pipelines: { name: string }[] }>("GET", "/api/v1/pipelines");
  for (const p of pipelines) await call("DELETE", `/api/v1/pipelines/${encodeURIComponent(p.name)}`, undefined, 204);

  await page.goto("/pipelines");
  await expect(page.getByTestId("nav-pipelines")).toHaveAttribute("aria-current", "page");
  const empty = page.getByTestId("pipelines-empty");
  await expect(empty).toContainText("No pipelines yet");
  for (const [id, title] of [
    ["fraud-alert", "Fraud alert"],
    ["filter-map", "Filter → map"],
    ["windowed-count", "Windowed count"],
    ["enrichment-join", "Enrichment join"],
  ]) {
    const card = empty.getByTestId(`template-${id}`);
    await expect(card).toContainText(title);
    await expect(card).toHaveAttribute("href", `/pipelines/new?template=${id}`);
    await expect(card.locator("svg rect")).toHaveCount(pipelineTemplate(id)!.definition.nodes.length);
  }
  await snap(page, "pipelines-empty");
  await empty.getByTestId("template-windowed-count").click();
  await expect(page).toHaveURL(/\/pipelines\/new\?template=windowed-count$/);
  await expect(page.getByTestId("pipeline-editor")).toBeVisible();
});

test("pipelines in every state: chip, version, input rate, lag, errors; a failed one shows why", async () => {
  await call("POST", "/api/v1/pipelines", fromTemplate("fraud-alert", "fraud-alert"), 201);
  expect(await call("POST", "/api/v1/pipelines/fraud-alert/deploy", {})).toMatchObject({ state: "running", version: 1 });
  await call("POST", "/api/v1/pipelines", fromTemplate("filter-map", "orders-filter"), 201);
  await call("POST", "/api/v1/pipelines/orders-filter/deploy", {});
  expect(await call("POST", "/api/v1/pipelines/orders-filter/pause")).toMatchObject({ state: "paused" });
  await call("POST", "/api/v1/pipelines", fromTemplate("windowed-count", "clicks-count"), 201);
  await call("POST", "/api/v1/pipelines/clicks-count/deploy", {});
  expect(await call("POST", "/api/v1/pipelines/clicks-count/stop")).toMatchObject({ state: "stopped" });
  // validates (a sink topic may be created when it runs), but cannot start: its sink topic does not exist
  await call(
    "POST",
    "/api/v1/pipelines",
    {
      name: "sink-missing",
      nodes: [
        { id: "orders", config: { kind: "source", topics: [T.orders] } },
        { id: "out", config: { kind: "sink", topic: "plist-nowhere" } },
      ],
      edges: [{ from: { node: "orders", port: "out" }, to: { node: "out", port: "in" } }],
    },
    201,
  );
  expect(await call("POST", "/api/v1/pipelines/sink-missing/deploy", {})).toMatchObject({ state: "failed", version: 1 });
  await call("POST", "/api/v1/pipelines", fromTemplate("filter-map", "checked"), 201);
  expect(await call("POST", "/api/v1/pipelines/checked/validate")).toMatchObject({ valid: true });
  await call("POST", "/api/v1/pipelines", { name: "sketch", nodes: [], edges: [] }, 201);

  // purchases keep arriving (and one that is not JSON: an error of the running pipeline)
  await call("POST", `/api/v1/topics/${T.purchases}/records`, { records: [{ key: "x", value: "{not json" }] });
  feeding = setInterval(() => {
    void rest("POST", `/api/v1/topics/${T.purchases}/records`, { records: ["ann", "bob", "cat", "dan", "eve"].map(purchase) });
  }, 250);

  await page.goto("/pipelines");
  const states: [string, string][] = [
    ["fraud-alert", "running"],
    ["orders-filter", "paused"],
    ["clicks-count", "stopped"],
    ["sink-missing", "failed"],
    ["checked", "validated"],
    ["sketch", "draft"],
  ];
  for (const [name, state] of states) {
    await expect(page.getByTestId(`pipeline-state-${name}`)).toHaveText(state);
    await expect(page.getByTestId(`pipeline-state-${name}`)).toHaveClass(new RegExp(`state-chip ${state}`));
  }
  await expect(page.getByTestId("pipeline-version-fraud-alert")).toHaveText("v1");
  await expect(page.getByTestId("pipeline-version-sketch")).toHaveText("—");
  await expect(page.getByTestId("pipeline-error-sink-missing")).toContainText("plist-nowhere");
  // the running one: records per second measured between two readings, its group's lag, its errors
  await expect(page.getByTestId("pipeline-rate-fraud-alert")).toHaveText(/^[1-9][\d.,k]*$/, { timeout: 20_000 });
  await expect(page.getByTestId("pipeline-lag-fraud-alert")).toHaveText(/^\d[\d,]*$/);
  await expect(page.getByTestId("pipeline-errors-fraud-alert")).toHaveText("1");
  await expect(page.getByTestId("pipeline-rate-orders-filter")).toHaveText("—");
  await expect(page.getByTestId("pipeline-lag-sketch")).toHaveText("—");
  await expect(page.getByTestId("pipeline-link-fraud-alert")).toHaveAttribute("href", "/pipelines/fraud-alert");
  await snap(page, "pipelines-list");
  clearInterval(feeding);
  feeding = null;
});

test("create opens the editor on a new draft; duplicate copies a draft; delete asks first", async () => {
  await page.getByTestId("create-pipeline-open").click();
  const dialog = page.getByTestId("create-pipeline");
  await dialog.getByTestId("create-pipeline-name").fill("no spaces allowed");
  await expect(dialog.getByTestId("create-pipeline-name-error")).toContainText("pipeline name may contain only");
  await expect(dialog.getByTestId("create-pipeline-submit")).toBeDisabled();
  // a name taken: the server's answer, in the dialog
  await dialog.getByTestId("create-pipeline-name").fill("sketch");
  await dialog.getByTestId("create-pipeline-submit").click();
  await expect(dialog.getByTestId("create-pipeline-error")).toContainText("pipeline 'sketch' already exists");
  await snap(page, "pipelines-create-taken");
  await dialog.getByTestId("create-pipeline-name").fill("my-new");
  await expect(dialog.getByTestId("create-pipeline-error")).toHaveCount(0);
  await dialog.getByTestId("create-pipeline-submit").click();
  await expect(page).toHaveURL(/\/pipelines\/my-new$/);
  await expect(page.getByTestId("pipeline-name")).toContainText("my-new");
  expect(await call("GET", "/api/v1/pipelines/my-new")).toMatchObject({ state: "draft", version: null, draft: { nodes: [], edges: [] } });

  await page.goto("/pipelines");
  await page.getByTestId("pipeline-duplicate-fraud-alert").click();
  const dup = page.getByTestId("duplicate-pipeline");
  await expect(dup.getByTestId("duplicate-pipeline-name")).toHaveValue("fraud-alert-copy");
  await dup.getByTestId("duplicate-pipeline-submit").click();
  await expect(dup).toBeHidden();
  await expect(page.getByTestId("pipeline-state-fraud-alert-copy")).toHaveText("draft");
  const original = await call<{ draft: { nodes: unknown[]; edges: unknown[] } }>("GET", "/api/v1/pipelines/fraud-alert");
  const copy = await call<{ draft: { name: string; nodes: unknown[]; edges: unknown[] } }>("GET", "/api/v1/pipelines/fraud-alert-copy");
  expect(copy.draft).toMatchObject({ name: "fraud-alert-copy", nodes: original.draft.nodes, edges: original.draft.edges });

  await page.getByTestId("pipeline-delete-fraud-alert-copy").click();
  const del = page.getByTestId("delete-pipeline-dialog");
  await expect(del).toContainText("fraud-alert-copy");
  // what goes with it, and what stays
  await expect(del).toContainText("Its consumer group pipeline-fraud-alert-copy and internal topics");
  await expect(del).toContainText("the topics it reads and writes stay");
  await del.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByTestId("pipeline-row-fraud-alert-copy")).toBeVisible();
  await page.getByTestId("pipeline-delete-fraud-alert-copy").click();
  await snap(page, "pipelines-delete-confirm");
  await page.getByTestId("delete-pipeline-submit").click();
  await expect(page.getByTestId("pipeline-row-fraud-alert-copy")).toHaveCount(0);
  await call("GET", "/api/v1/pipelines/fraud-alert-copy", undefined, 404);
});

test("the list's error state: the server's answer cannot be read, then Try again recovers", async () => {
  await page.route("**/api/v1/pipelines", (r) => r.abort("connectionrefused"));
  await page.goto("/pipelines");
  await expect(page.getByTestId("pipelines-error")).toBeVisible({ timeout: 15_000 });
  await snap(page, "pipelines-error");
  await page.unroute("**/api/v1/pipelines");
  await page.getByTestId("pipelines-retry").click();
  await expect(page.getByTestId("pipelines-table")).toBeVisible();
  await expect(page.getByTestId("pipelines-error")).toHaveCount(0);
});

test("version history: change the fraud alert's threshold, deploy, see the diff, roll back", async () => {
  const def = fromTemplate("fraud-alert", "fraud-alert");
  const filter = def.nodes.find((n) => n.id === "overTen")!;
  expect(filter.config).toEqual({ kind: "filter", condition: "value.count > 10" });
  filter.config = { kind: "filter", condition: "value.count > 20" };
  await call("PUT", "/api/v1/pipelines/fraud-alert", def);
  expect(await call("POST", "/api/v1/pipelines/fraud-alert/deploy", {})).toMatchObject({ state: "running", version: 2 });

  await page.goto("/pipelines");
  await page.getByTestId("pipeline-versions-fraud-alert").click();
  await expect(page).toHaveURL(/\/pipelines\/fraud-alert\/versions$/);
  await expect(page.getByTestId("version-note-1")).toHaveText("first deploy");
  await expect(page.getByTestId("version-note-2")).toHaveText("changed overTen");
  await expect(page.getByTestId("version-current-2")).toContainText("running");
  // the latest two are compared first: v1 → v2
  await expect(page.getByTestId("version-diff-title")).toHaveText("v1 → v2");
  const fields = page.getByTestId("diff-fields-overTen");
  await expect(fields.getByTestId("diff-fields-overTen-config.condition-before")).toHaveText("value.count > 10");
  await expect(fields.getByTestId("diff-fields-overTen-config.condition-after")).toHaveText("value.count > 20");
  await expect(page.getByTestId("diff-graph-node-overTen")).toHaveAttribute("data-tone", "changed");
  await expect(page.getByTestId("diff-graph-node-perHour")).toHaveAttribute("data-tone", "same");
  await snap(page, "pipeline-versions-diff");

  // any two: the draft against v1 (the draft is v2's definition)
  await page.getByTestId("pick-to-draft").check();
  await expect(page).toHaveURL(/to=draft/);
  await expect(page.getByTestId("version-diff-title")).toHaveText("v1 → the draft");
  await expect(page.getByTestId("diff-fields-overTen-config.condition-after")).toHaveText("value.count > 20");

  await page.getByTestId("rollback-1").click();
  const dialog = page.getByTestId("rollback-dialog");
  await expect(dialog.getByTestId("rollback-change")).toHaveText("Against v2: changed overTen");
  await expect(dialog.getByTestId("rollback-draft-warning")).toHaveCount(0);
  await snap(page, "pipeline-rollback-confirm");
  await dialog.getByTestId("rollback-submit").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("version-note-3")).toHaveText("rollback to v1");
  await expect(page.getByTestId("version-current-3")).toContainText("running");
  await expect(page.getByTestId("version-diff-title")).toHaveText("v2 → v3");
  await expect(page.getByTestId("diff-fields-overTen-config.condition-after")).toHaveText("value.count > 10");
  await snap(page, "pipeline-versions-after-rollback");

  // the running version has the old threshold again, and so has the draft
  type Detail = { state: string; version: number; deployed: TPipelineDefinitionInput; draft: TPipelineDefinitionInput };
  const now = await call<Detail>("GET", "/api/v1/pipelines/fraud-alert");
  expect(now).toMatchObject({ state: "running", version: 3 });
  const condition = (d: TPipelineDefinitionInput) => (d.nodes.find((n) => n.id === "overTen")!.config as { condition: string }).condition;
  expect(condition(now.deployed)).toBe("value.count > 10");
  expect(condition(now.draft)).toBe("value.count > 10");
});

test("a rollback over a changed window asks for the state reset, then resets and rolls back", async () => {
  const def = fromTemplate("windowed-count", "clicks-count");
  const agg = def.nodes.find((n) => n.id === "perMinute")!.config as { window: { sizeMs: number } };
  agg.window.sizeMs = 30_000;
  await call("PUT", "/api/v1/pipelines/clicks-count", def);
  expect(await call("POST", "/api/v1/pipelines/clicks-count/deploy", { resetState: true })).toMatchObject({ version: 2 });
  // an edit never deployed: the rollback replaces it, and says so
  def.description = "an edit in progress";
  await call("PUT", "/api/v1/pipelines/clicks-count", def);

  await page.goto("/pipelines/clicks-count/versions");
  await expect(page.getByTestId("version-diff-stateful")).toContainText("perMinute");
  await page.getByTestId("rollback-1").click();
  const dialog = page.getByTestId("rollback-dialog");
  await expect(dialog.getByTestId("rollback-draft-warning")).toContainText("pipeline description");
  await dialog.getByTestId("rollback-submit").click();
  await expect(dialog.getByTestId("rollback-reset-required")).toContainText("perMinute");
  await snap(page, "pipeline-rollback-reset-required");
  // refused: v2 still runs
  expect(await call("GET", "/api/v1/pipelines/clicks-count")).toMatchObject({ version: 2 });
  await dialog.getByTestId("rollback-reset-submit").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("version-note-3")).toHaveText("rollback to v1");
  const now = await call<{ version: number; deployed: { nodes: { id: string; config: { window?: { sizeMs: number } } }[] } }>(
    "GET",
    "/api/v1/pipelines/clicks-count",
  );
  expect(now.version).toBe(3);
  expect(now.deployed.nodes.find((n) => n.id === "perMinute")!.config.window!.sizeMs).toBe(60_000);
});
