/**
 * A failed pipeline in the console (#16, user item 8): deployed from the editor, running on real
 * records, then the topic its sink writes is deleted — the next write fails, the runner finds the
 * topic gone and fails the pipeline at once, naming the node that writes it. The editor shows the
 * error on that node (and the failed state); the list shows the failed state and the error.
 * Screenshots light and dark. (Deleting the topic a source reads does not fail a pipeline today:
 * its tasks are left with nothing to read, and no write fails.)
 */
import { expect, test } from "@playwright/test";
import { produce, rest, snap, unique } from "../support/console";

const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });

test("the topic a running pipeline writes is deleted: the editor shows the error on the node that writes it, the list the failed state", async ({
  page,
}) => {
  test.setTimeout(120_000);
  const name = unique("fails");
  const input = `${name}-orders`;
  const output = `${name}-large`;
  for (const topic of [input, output]) expect((await rest("POST", "/api/v1/topics", { name: topic, partitions: 1 })).status).toBe(201);
  const created = await rest("POST", "/api/v1/pipelines", {
    name,
    nodes: [
      { id: "readOrders", position: { x: 0, y: 0 }, config: { kind: "source", topics: [input], start: "earliest" } },
      { id: "large", position: { x: 240, y: 0 }, config: { kind: "filter", condition: "value.amount > 100" } },
      { id: "writeLarge", position: { x: 480, y: 0 }, config: { kind: "sink", topic: output } },
    ],
    edges: [edge("readOrders", "large"), edge("large", "writeLarge")],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  await produce(input, [
    { key: "a", value: { amount: 50 } },
    { key: "b", value: { amount: 500 } },
  ]);

  // deployed from the editor; it runs and counts what it read
  await page.goto(`/pipelines/${name}`);
  await expect(page.getByTestId("pipeline-node-readOrders")).toBeVisible();
  await page.getByTestId("deploy").click();
  await expect(page.getByTestId("pipeline-state")).toHaveAttribute("data-state", "running", { timeout: 20_000 });
  await expect(page.getByTestId("edge-count-value-large:out->writeLarge:in")).toHaveText("1", { timeout: 20_000 });
  await expect(page.getByTestId("node-failure-writeLarge")).toHaveCount(0);

  // the topic its sink writes is deleted; the next large order cannot be written
  expect((await rest("DELETE", `/api/v1/topics/${output}`)).status).toBe(204);
  await produce(input, [{ key: "c", value: { amount: 700 } }]);
  await expect(page.getByTestId("pipeline-state")).toHaveAttribute("data-state", "failed", { timeout: 30_000 });
  const failure = page.getByTestId("node-failure-writeLarge");
  await expect(failure).toBeVisible({ timeout: 15_000 });
  await expect(failure).toContainText(`topic '${output}'`);
  await expect(failure).toContainText("no longer exists");
  await expect(page.getByTestId("pipeline-node-writeLarge")).toHaveClass(/\bfailed\b/);
  // only on the node the failure names
  await expect(page.getByTestId("node-failure-readOrders")).toHaveCount(0);
  await expect(page.getByTestId("node-failure-large")).toHaveCount(0);
  // the server says the same
  const detail = await rest<{ state: string; error: { message: string; node?: string } | null }>("GET", `/api/v1/pipelines/${name}`);
  expect(detail.body.state).toBe("failed");
  expect(detail.body.error?.node).toBe("writeLarge");
  await snap(page, "pipeline-editor-failed");

  // the list: the failed state and why
  await page.goto("/pipelines");
  await expect(page.getByTestId(`pipeline-state-${name}`)).toHaveText("failed");
  await expect(page.getByTestId(`pipeline-state-${name}`)).toHaveClass(/state-chip failed/);
  await expect(page.getByTestId(`pipeline-error-${name}`)).toContainText(`topic '${output}'`);
  await snap(page, "pipelines-list-failed");

  await rest("DELETE", `/api/v1/pipelines/${name}`);
  await rest("DELETE", `/api/v1/topics/${input}`);
});
