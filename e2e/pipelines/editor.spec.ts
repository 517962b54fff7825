/**
 * The pipeline editor in a real browser against a real server: the seed's fraud alert drawn by
 * dragging from the palette and configured through the node forms, previewed on real purchases,
 * deployed, and its alerts read back through the API; then the editing guarantees — an invalid
 * CEL expression pinned to its field before deploy, a cycle refused while drawn, undo restoring a
 * deleted node with its edges, export → import giving the same graph, templates by URL.
 */
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { produce, rest, snap, unique } from "../support/console";

const HOUR = 3_600_000;

async function ensureTopic(name: string): Promise<void> {
  const r = await rest("POST", "/api/v1/topics", { name, partitions: 1 });
  expect([201, 409], JSON.stringify(r.body)).toContain(r.status);
}

/** `n` purchases of `user` spread over the hour starting at `hour`. */
const purchases = (user: string, n: number, hour: number) =>
  Array.from({ length: n }, (_, i) => ({ key: user, value: { user, at: new Date(hour + i * 60_000).toISOString() } }));

async function dragFromPalette(page: Page, kind: string, x: number, y: number): Promise<void> {
  await page.dragAndDrop(`[data-testid="palette-item-${kind}"]`, '[data-testid="pipeline-canvas"]', { targetPosition: { x, y } });
}

async function centre(page: Page, testId: string): Promise<{ x: number; y: number }> {
  const box = await page.getByTestId(testId).boundingBox();
  expect(box, testId).not.toBeNull();
  return { x: box!.x + box!.width / 2, y: box!.y + box!.height / 2 };
}

/** Draws a connection from an output port to an input port with the mouse. */
async function connect(page: Page, from: string, to: string, fromPort = "out", toPort = "in"): Promise<void> {
  const a = await centre(page, `port-${from}-out-${fromPort}`);
  const b = await centre(page, `port-${to}-in-${toPort}`);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
}

/** Clicks the middle of an edge's path (where it is, whatever its shape). */
async function clickEdge(page: Page, id: string): Promise<void> {
  const at = await page
    .getByTestId(`rf__edge-${id}`)
    .locator("path.react-flow__edge-path")
    .evaluate((el: SVGPathElement) => {
      const p = el.getPointAtLength(el.getTotalLength() / 2);
      const m = el.getScreenCTM()!;
      return { x: p.x * m.a + p.y * m.c + m.e, y: p.x * m.b + p.y * m.d + m.f };
    });
  await page.mouse.click(at.x, at.y);
}

async function selectNode(page: Page, id: string): Promise<void> {
  await page.getByTestId(`pipeline-node-${id}`).locator(".pe-node-head").click();
  await expect(page.getByTestId(`node-form-${id}`)).toBeVisible();
}

async function readAll(topic: string): Promise<{ key: string | null; value: string | null }[]> {
  const r = await rest<{ records: { key: string | null; value: string | null }[] }>(
    "GET",
    `/api/v1/topics/${topic}/partitions/0/records?offset=0&isolation=read_committed`,
  );
  return r.status === 200 ? r.body.records : [];
}

async function saved(page: Page): Promise<void> {
  await expect(page.getByTestId("save-status")).toHaveAttribute("data-status", "saved", { timeout: 15_000 });
}

test("draw the seed's fraud alert from the palette, configure it by its forms, preview, deploy, and read its alerts", async ({ page }) => {
  test.setTimeout(180_000);
  await ensureTopic("purchases");
  // three users in one past hour: ann 12 purchases, bob 10 (no alert), cat 11; eve one, an hour later
  const h0 = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;
  await produce("purchases", [
    ...purchases("ann", 12, h0),
    ...purchases("bob", 10, h0),
    ...purchases("cat", 11, h0),
    ...purchases("eve", 1, h0 + HOUR + 30 * 60_000),
  ]);

  const name = unique("fraud");
  await page.goto("/pipelines/new");
  await page.getByTestId("new-pipeline-name").fill(name);
  await page.getByTestId("create-pipeline").click();
  await expect(page).toHaveURL(new RegExp(`/pipelines/${name}$`));
  await expect(page.getByTestId("canvas-empty")).toBeVisible();

  // the palette: grouped and searchable
  await page.getByTestId("palette-search").fill("sink");
  await expect(page.getByTestId("palette-item-sink")).toBeVisible();
  await expect(page.getByTestId("palette-item-filter")).toHaveCount(0);
  await page.getByTestId("palette-search").fill("");

  // source purchases, with event time from the record
  await dragFromPalette(page, "source", 120, 70);
  await expect(page.getByTestId("node-form-source1")).toBeVisible();
  await page.getByTestId("field-cfg-topics").fill("purchases");
  await page.getByTestId("field-cfg-topics").press("Enter");
  await expect(page.getByTestId("topic-chip-purchases")).toBeVisible();
  await page.getByTestId("add-cfg-eventTime").click();
  await page.getByTestId("field-cfg-eventTime").fill("timestamp(value.at)");

  // count per user per hour, final results only
  await dragFromPalette(page, "aggregate", 350, 70);
  await expect(page.getByTestId("node-form-aggregate1")).toBeVisible();
  await page.getByTestId("field-cfg-window.sizeMs-unit").selectOption({ label: "h" });
  await page.getByTestId("field-cfg-window.sizeMs").fill("1");
  await page.getByTestId("field-cfg-emit").selectOption("final");
  await expect(page.getByTestId("field-cfg-aggregations.0.fn")).toHaveValue("count");

  // more than 10: first mistyped — the server's message shows at the field before any deploy
  await dragFromPalette(page, "filter", 580, 70);
  await page.getByTestId("field-cfg-condition").fill("value.count >");

  await dragFromPalette(page, "map", 350, 230);
  await page.getByTestId("field-cfg-value").fill('{"user": key, "purchases": value.count, "alert": "more than 10 purchases in an hour"}');

  await dragFromPalette(page, "sink", 580, 230);
  await page.getByTestId("field-cfg-topic").fill("fraud-alerts");
  await page.getByTestId("field-cfg-createTopic").check();

  await connect(page, "source1", "aggregate1");
  await connect(page, "aggregate1", "filter1");
  await connect(page, "filter1", "map1");
  await connect(page, "map1", "sink1");
  for (const id of ["source1:out->aggregate1:in", "aggregate1:out->filter1:in", "filter1:out->map1:in", "map1:out->sink1:in"])
    await expect(page.getByTestId(`rf__edge-${id}`)).toBeAttached();

  // the invalid condition: a red badge on the node, the message at its field, listed in the problems
  await saved(page);
  await expect(page.getByTestId("node-problems-filter1")).toBeVisible({ timeout: 15_000 });
  await selectNode(page, "filter1");
  await expect(page.getByTestId("field-error-cfg-condition")).toBeVisible();
  await expect(page.getByTestId("problem").filter({ hasText: "filter1" })).toHaveCount(1);
  await snap(page, "pipeline-editor-invalid-cel");
  // a click on the problem selects its node (and the URL names it)
  await selectNode(page, "map1");
  await page.getByTestId("problem").filter({ hasText: "filter1" }).click();
  await expect(page.getByTestId("node-form-filter1")).toBeVisible();
  await expect(page).toHaveURL(/[?&]node=filter1/);

  await page.getByTestId("field-cfg-condition").fill("value.count > 10");
  await saved(page);
  await expect(page.getByTestId("field-error-cfg-condition")).toHaveCount(0, { timeout: 15_000 });
  await expect(page.getByTestId("problem-count")).toHaveText("0");

  // completion from the record type the server inferred (no preview yet): the aggregate's results and window, by keyboard
  const condition = page.getByTestId("field-cfg-condition");
  const completions = page.getByTestId("completions-cfg-condition");
  await condition.fill("");
  await condition.pressSequentially("value.c");
  await expect(completions.getByRole("option")).toHaveText([/^value\.count\s*int$/]);
  await expect(condition).toHaveAttribute("aria-expanded", "true");
  await condition.press("Enter");
  await expect(condition).toHaveValue("value.count");
  await expect(completions).toHaveCount(0);
  await condition.pressSequentially(" > 10 && value.window.");
  await expect(completions.getByRole("option")).toHaveText([/^value\.window\.start\s*int$/, /^value\.window\.end\s*int$/]);
  await snap(page, "pipeline-editor-completion");
  await condition.press("ArrowDown");
  await expect(completions.getByRole("option").nth(1)).toHaveAttribute("aria-selected", "true");
  await expect(condition).toHaveAttribute("aria-activedescendant", (await completions.getByRole("option").nth(1).getAttribute("id")) ?? "");
  await condition.press("Escape");
  await expect(completions).toHaveCount(0);
  await expect(page.getByTestId("node-form-filter1")).toBeVisible();
  await condition.fill("value.count > 10");
  await saved(page);
  await expect(page.getByTestId("node-problems-filter1")).toHaveCount(0);

  // preview on the real purchases: the filter passes exactly the users above 10
  await page.getByTestId("auto-layout").click();
  await page.getByTestId("preview").click();
  await expect(page.getByTestId("preview-summary")).toContainText("34 records read", { timeout: 20_000 });
  await selectNode(page, "filter1");
  const keys = await page.getByTestId("preview-key").allTextContents();
  expect(keys.sort()).toEqual(["ann", "cat"]);
  // four windows closed (ann's, bob's and cat's hour, and eve's later one): two pass
  await expect(page.getByTestId("edge-count-aggregate1:out->filter1:in")).toHaveText("4");
  await expect(page.getByTestId("edge-count-filter1:out->map1:in")).toHaveText("2");
  await expect(page.getByTestId("node-stats-filter1")).toContainText("out 2");
  // the records of a connection, and JSON
  await clickEdge(page, "map1:out->sink1:in");
  await expect(page.getByTestId("edge-info")).toBeVisible();
  await expect(page.getByTestId("preview-row")).toHaveCount(2);
  await page.getByTestId("preview-view-json").click();
  await expect(page.getByTestId("preview-json")).toContainText('"purchases": 12');
  await snap(page, "pipeline-editor-preview");

  // the fields the preview saw arriving complete in CEL fields
  await selectNode(page, "filter1");
  await page.getByTestId("field-cfg-condition").press("End");
  await page.getByTestId("field-cfg-condition").pressSequentially(" && value.wi");
  await expect(page.getByTestId("completions-cfg-condition")).toContainText("value.window.start");
  await page.getByTestId("field-cfg-condition").press("Tab");
  await expect(page.getByTestId("field-cfg-condition")).toHaveValue("value.count > 10 && value.window");
  await page.getByTestId("field-cfg-condition").fill("value.count > 10");
  await saved(page);

  // deploy; then more purchases: dan's 11 in a later hour (its window closes as the input goes idle)
  await page.getByTestId("deploy").click();
  await expect(page.getByTestId("pipeline-state")).toHaveAttribute("data-state", "running", { timeout: 20_000 });
  await produce("purchases", purchases("dan", 11, h0 + 2 * HOUR));
  await expect
    .poll(async () => (await readAll("fraud-alerts")).map((r) => r.key).sort(), { timeout: 30_000 })
    .toEqual(["ann", "cat", "dan"]);
  const alerts = (await readAll("fraud-alerts")).map((r) => JSON.parse(r.value!));
  expect(alerts).toEqual(
    expect.arrayContaining([
      { user: "ann", purchases: 12, alert: "more than 10 purchases in an hour" },
      { user: "cat", purchases: 11, alert: "more than 10 purchases in an hour" },
      { user: "dan", purchases: 11, alert: "more than 10 purchases in an hour" },
    ]),
  );
  // the running view: the edges count what the running pipeline's ports emitted, and move as purchases arrive
  const sourceEdge = "source1:out->aggregate1:in";
  await expect(page.getByTestId(`edge-count-${sourceEdge}`)).toHaveAttribute("data-live", "true", { timeout: 15_000 });
  const edgeCount = async () => Number((await page.getByTestId(`edge-count-value-${sourceEdge}`).textContent())?.replace(/,/g, ""));
  await expect.poll(edgeCount, { timeout: 15_000 }).toBeGreaterThanOrEqual(45);
  const before = await edgeCount();
  await produce("purchases", purchases("fay", 3, h0 + 3 * HOUR));
  await expect.poll(edgeCount, { timeout: 15_000 }).toBe(before + 3);
  await expect(page.getByTestId("edge-count-value-map1:out->sink1:in")).toHaveText("3");
  await expect(page.getByTestId("node-live-source1")).toContainText("lag 0", { timeout: 15_000 });
  // a sink offers its topic's live tail
  await selectNode(page, "sink1");
  await expect(page.getByTestId("live-tail-sink1")).toHaveAttribute("href", "/topics/fraud-alerts?tab=live");
  await snap(page, "pipeline-editor-running");

  // a changed window needs its state reset: the editor asks, then deploys version 2
  await selectNode(page, "aggregate1");
  await page.getByTestId("field-cfg-window.graceMs").fill("5");
  await saved(page);
  await page.getByTestId("deploy").click();
  await expect(page.getByTestId("reset-dialog")).toContainText("aggregate1");
  await snap(page, "pipeline-editor-reset-state");
  await page.getByTestId("reset-confirm").click();
  await expect(page.getByTestId("pipeline-state")).toHaveText(/running · v2/, { timeout: 20_000 });

  await page.getByTestId("pause").click();
  await expect(page.getByTestId("pipeline-state")).toHaveAttribute("data-state", "paused");
  await page.getByTestId("resume").click();
  await expect(page.getByTestId("pipeline-state")).toHaveAttribute("data-state", "running");
  await page.getByTestId("stop").click();
  await expect(page.getByTestId("pipeline-state")).toHaveAttribute("data-state", "stopped");
});

test("a template opens by URL; cycles are refused as drawn; undo restores a deleted node with its edges; export → import gives the same graph", async ({
  page,
}) => {
  test.setTimeout(120_000);
  await ensureTopic("purchases");
  await page.goto("/pipelines/new?template=fraud-alert");
  for (const id of ["purchases", "byUser", "perHour", "overTen", "alert", "fraudAlerts"])
    await expect(page.getByTestId(`pipeline-node-${id}`)).toBeVisible();
  await expect(page.locator(".react-flow__edge")).toHaveCount(5);
  await snap(page, "pipeline-editor-template");
  const name = unique("tmpl");
  await page.getByTestId("new-pipeline-name").fill(name);
  await page.getByTestId("create-pipeline").click();
  await expect(page).toHaveURL(new RegExp(`/pipelines/${name}$`));
  await expect(page.getByTestId("problem-count")).toHaveText("0", { timeout: 15_000 });

  // a cycle: alert's output back into byUser — refused while drawn, with the reason
  await connect(page, "alert", "byUser");
  await expect(page.getByTestId("canvas-notice")).toContainText("cycle: ");
  await expect(page.locator(".react-flow__edge")).toHaveCount(5);

  // help lists the shortcuts
  await page.getByTestId("help-button").click();
  await expect(page.getByTestId("help-popover")).toContainText("Ctrl+Shift+Z");
  await page.keyboard.press("Escape");

  // export, then delete a node (its two edges go with it), undo brings both back
  const download = page.waitForEvent("download");
  await page.getByTestId("export").click();
  const exported = JSON.parse(readFileSync((await (await download).path())!, "utf8"));
  expect(exported.nodes).toHaveLength(6);

  await selectNode(page, "overTen");
  await expect(page).toHaveURL(/[?&]node=overTen/);
  await page.keyboard.press("Delete");
  await expect(page.getByTestId("pipeline-node-overTen")).toHaveCount(0);
  await expect(page.locator(".react-flow__edge")).toHaveCount(3);
  await page.keyboard.press("Control+z");
  await expect(page.getByTestId("pipeline-node-overTen")).toBeVisible();
  await expect(page.getByTestId("rf__edge-perHour:out->overTen:in")).toBeAttached();
  await expect(page.getByTestId("rf__edge-overTen:out->alert:in")).toBeAttached();
  await page.keyboard.press("Control+Shift+z");
  await expect(page.getByTestId("pipeline-node-overTen")).toHaveCount(0);

  // copy and paste: new ids
  await selectNode(page, "alert");
  await page.keyboard.press("Control+c");
  await page.keyboard.press("Control+v");
  await expect(page.getByTestId("pipeline-node-map1")).toBeVisible();

  // import the export: the same graph as before those edits
  await page.getByTestId("import-file").setInputFiles((await (await download).path())!);
  await expect(page.getByTestId("pipeline-node-overTen")).toBeVisible();
  await expect(page.getByTestId("pipeline-node-map1")).toHaveCount(0);
  await saved(page);
  const again = page.waitForEvent("download");
  await page.getByTestId("export").click();
  expect(JSON.parse(readFileSync((await (await again).path())!, "utf8"))).toEqual(exported);
  // ... and it is what the server stores as the draft
  const stored = await rest<{ draft: { nodes: unknown[]; edges: unknown[] } }>("GET", `/api/v1/pipelines/${name}`);
  expect(stored.body.draft.nodes).toEqual(exported.nodes);
  expect(stored.body.draft.edges).toEqual(exported.edges);

  // a newer draft saved elsewhere: a notice, and loading it brings its change
  await rest("PUT", `/api/v1/pipelines/${name}`, {
    ...exported,
    nodes: exported.nodes.map((n: { id: string }) => (n.id === "overTen" ? { ...n, label: "changed elsewhere" } : n)),
  });
  await expect(page.getByTestId("newer-draft")).toBeVisible({ timeout: 15_000 });
  await page.getByTestId("newer-load").click();
  await expect(page.getByTestId("pipeline-node-overTen")).toContainText("changed elsewhere");
  await expect(page.getByTestId("newer-draft")).toHaveCount(0);

  // the URL opens the pipeline with the node selected
  await page.goto(`/pipelines/${name}?node=perHour`);
  await expect(page.getByTestId("node-form-perHour")).toBeVisible();
  await snap(page, "pipeline-editor-node-form");
});

test("the canvas stays smooth with 100 nodes: long tasks while dragging one node, then all of them", async ({ page }) => {
  test.setTimeout(120_000);
  const name = unique("hundred");
  const ids = ["src", ...Array.from({ length: 98 }, (_, i) => `f${i + 1}`), "out"];
  await rest("POST", "/api/v1/pipelines", {
    name,
    nodes: ids.map((id, i) => ({
      id,
      position: { x: (i % 10) * 220, y: Math.floor(i / 10) * 110 },
      config:
        id === "src"
          ? { kind: "source", topics: ["purchases"] }
          : id === "out"
            ? { kind: "sink", topic: "hundred-out" }
            : { kind: "filter", condition: `value.n != ${i}` },
    })),
    edges: ids.slice(1).map((id, i) => ({ from: { node: ids[i], port: "out" }, to: { node: id, port: "in" } })),
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __long: PerformanceEntry[] };
    w.__long = [];
    new PerformanceObserver((l) => w.__long.push(...l.getEntries())).observe({ type: "longtask", buffered: true });
  });
  await page.goto(`/pipelines/${name}`);
  await expect(page.locator(".react-flow__node")).toHaveCount(100);
  await expect(page.getByTestId("save-status")).toHaveAttribute("data-status", "saved");
  await page.waitForTimeout(1000);

  /** Drags node `id` around a circle for about `ms`, one mouse move per frame; long tasks meanwhile. */
  const drag = async (id: string) => {
    const c = await centre(page, `pipeline-node-${id}`);
    await page.mouse.move(c.x, c.y - 20);
    await page.mouse.down();
    await page.evaluate(() => {
      (window as unknown as { __long: PerformanceEntry[] }).__long = [];
    });
    const t0 = Date.now();
    let moves = 0;
    for (let a = 0; a < Math.PI * 4; a += Math.PI / 60) {
      await page.mouse.move(c.x + Math.cos(a) * 120 - 120, c.y - 20 + Math.sin(a) * 80);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(r)));
      moves++;
    }
    await page.mouse.up();
    const long = await page.evaluate(() => (window as unknown as { __long: PerformanceEntry[] }).__long.map((e) => Math.round(e.duration)));
    return {
      moves,
      seconds: (Date.now() - t0) / 1000,
      longTasks: long.length,
      longTaskMs: long.reduce((a, b) => a + b, 0),
      maxLongTaskMs: Math.max(0, ...long),
      over100Ms: long.filter((d) => d > 100).length,
    };
  };
  const one = await drag("f45");
  await page.locator(".react-flow__pane").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("Control+a");
  const all = await drag("f55");
  console.log(`100 nodes — dragging one: ${JSON.stringify(one)}; dragging all 100: ${JSON.stringify(all)}`);
  await snap(page, "pipeline-editor-100-nodes");
  // the drag happened and was one undo step each
  await expect(page.getByTestId("undo")).toBeEnabled();
  // the bound for dragging a node among 100: no long task over 50 ms. Met on a machine running only the
  // test suite (the CI rehearsal at eddc72a: 0 long tasks dragging one node, 0 dragging all 100); two cores shared
  // with other work inflate every task (at load 12-15 dragging one node gave 1-7 long tasks of at most 73-99 ms).
  // Dragging all 100 at once is beyond the issue: its figures are logged, its bound only catches a frozen page.
  expect(one.maxLongTaskMs).toBeLessThan(50);
  expect(all.maxLongTaskMs).toBeLessThan(500);
});
