/**
 * The teaching scenarios, each started with one click from the topology's Scenarios panel: the
 * result panel shows the outcome, and the API says the same (state done, outcome reached); its
 * topics are on the canvas with their partitions as lanes. Reset from the panel removes what it
 * created (asserted through the API). Screenshots of each scenario's result, light and dark.
 */
import { expect, test } from "@playwright/test";
import type { TScenario, TScenarioList } from "../../server/schemas/topology";
import { rest, snap } from "../support/console";

test("every scenario started from the UI reaches its stated outcome, then resets", async ({ page }) => {
  const list = await rest<TScenarioList>("GET", "/api/v1/scenarios");
  expect(list.status).toBe(200);
  test.setTimeout(60_000 + list.body.scenarios.length * 180_000);
  // a clean start, whatever an earlier run left
  for (const s of list.body.scenarios) expect((await rest("POST", `/api/v1/scenarios/${s.id}/reset`)).status).toBe(200);

  await page.goto("/topology");
  await expect(page.getByTestId("topology-status")).toHaveAttribute("data-status", "open");
  await page.getByTestId("topology-scenarios").click();
  const panel = page.getByTestId("scenarios-panel");
  await expect(panel).toBeVisible();

  for (const { id, title } of list.body.scenarios) {
    const card = panel.getByTestId(`scenario-${id}`);
    await card.getByRole("button", { name: title }).click();
    await card.getByTestId(`scenario-start-${id}`).click();
    await expect(card).toHaveAttribute("data-state", "running");
    // its topic shows up on the canvas, partitions as lanes
    await expect
      .poll(async () => (await rest<TScenario>("GET", `/api/v1/scenarios/${id}`)).body.topics.length, { timeout: 30_000 })
      .toBeGreaterThan(0);
    const { topics } = (await rest<TScenario>("GET", `/api/v1/scenarios/${id}`)).body;
    await expect(page.locator(`[data-testid^="topo-lane-${topics[0]}-"]`).first()).toBeVisible({ timeout: 15_000 });

    // the result panel, and the same outcome from the API
    await expect(card.getByTestId(`scenario-result-${id}`)).toHaveAttribute("data-reached", "true", { timeout: 170_000 });
    const done = (await rest<TScenario>("GET", `/api/v1/scenarios/${id}`)).body;
    expect(done.state).toBe("done");
    expect(done.outcome?.reached, JSON.stringify(done.outcome)).toBe(true);
    await expect(card.getByTestId(`scenario-result-${id}`)).toContainText(done.outcome!.summary);
    await card.getByTestId(`scenario-result-${id}`).scrollIntoViewIfNeeded(); // the result in the screenshot, below long steps
    await snap(page, `topology-scenario-${id}`);

    // reset from the panel: its simulations, topics and groups are gone
    await card.getByTestId(`scenario-reset-${id}`).click();
    await expect(card).toHaveAttribute("data-state", "idle", { timeout: 30_000 });
    const after = (await rest<TScenario>("GET", `/api/v1/scenarios/${id}`)).body;
    expect(after.topics).toEqual([]);
    // the panel turns idle as the reset begins; the deletions follow within its request
    for (const t of done.topics)
      await expect.poll(async () => (await rest("GET", `/api/v1/topics/${encodeURIComponent(t)}`)).status, { timeout: 30_000 }).toBe(404);
  }
});
