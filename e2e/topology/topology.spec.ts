/**
 * The live topology in a real browser against a real server, built by dragging: a new
 * 12-partition topic dropped on the canvas, a simulated producer and a simulated group of 3
 * dropped onto it; the 3 members own 4 partitions each; one killed from the canvas, the 2 left
 * own 6 each (asserted through the API too); the rebalance timeline shows both epochs. Then a
 * click on a node opens its console page. Screenshots light and dark.
 */
import { expect, test, type Page } from "@playwright/test";
import { rest, snap, unique } from "../support/console";

interface GroupBody {
  members: { clientId: string; assignment: { topic: string; partitions: number[] }[] }[];
}

const owned = (m: GroupBody["members"][number]) => m.assignment.reduce((s, a) => s + a.partitions.length, 0);

/** Member rows of a group on the canvas that are in the group and own `n` partitions. */
const membersOwning = (page: Page, group: string, n: number) =>
  page.locator(`[data-testid="topo-group-${group}"] [data-in-group="true"][data-owned="${n}"]`);

/**
 * Drags `source` onto `target` once the target has stopped moving: the canvas lays itself out
 * again as nodes come (the producer just dropped), and a drop aimed at where the target was
 * landed on the empty canvas once in CI (the group's dialog opened with no topic chosen).
 */
async function dropOnto(page: Page, source: string, target: string): Promise<void> {
  const box = async () => JSON.stringify(await page.locator(target).boundingBox());
  let before = await box();
  for (let i = 0; i < 40; i++) {
    await page.waitForTimeout(250);
    const now = await box();
    if (now === before && now !== "null") break;
    before = now;
  }
  await page.dragAndDrop(source, target);
}

test("build a topic, a producer and a group of 3 by dragging; kill a member; the timeline shows both epochs", async ({ page }) => {
  test.setTimeout(120_000);
  const topic = unique("orders");
  const group = unique("readers");
  const cleanup: string[] = [];
  try {
    await page.goto("/topology");
    await expect(page.getByTestId("topology-status")).toHaveAttribute("data-status", "open");
    const canvas = page.getByTestId("topology-canvas");

    // a topic, dropped anywhere on the canvas
    await page.dragAndDrop('[data-testid="topology-palette-topic"]', '[data-testid="topology-canvas"]', {
      targetPosition: { x: 300, y: 200 },
    });
    const dialog = page.getByTestId("topology-build-dialog");
    await expect(dialog).toBeVisible();
    await dialog.getByTestId("topo-topic-name").fill(topic);
    await dialog.getByTestId("topo-topic-partitions").fill("12");
    await dialog.getByTestId("topo-topic-submit").click();
    await expect(dialog).toBeHidden();
    const topicNode = canvas.getByTestId(`topo-topic-${topic}`);
    await expect(topicNode).toHaveAttribute("data-partitions", "12");

    // a simulated producer, dropped onto the topic
    await dropOnto(page, '[data-testid="topology-palette-producer"]', `[data-testid="topo-topic-${topic}"]`);
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId("sim-producer-topic")).toHaveValue(topic);
    await dialog.getByTestId("sim-producer-rate").fill("40");
    await dialog.getByTestId("sim-producer-keys-hot").check();
    await dialog.getByTestId("sim-producer-submit").click();
    await expect(dialog).toBeHidden();
    const sims = await rest<{ producers: { id: string; topic: string }[] }>("GET", "/api/v1/simulations");
    const producer = sims.body.producers.find((p) => p.topic === topic);
    expect(producer, JSON.stringify(sims.body)).toBeDefined();
    cleanup.push(`/api/v1/simulations/producers/${producer!.id}`);
    const producerNode = canvas.locator(`.topo-producer.simulated`).filter({ hasText: topic });
    await expect(producerNode).toBeVisible();
    await expect(topicNode).not.toHaveAttribute("data-records", "0");

    // a simulated group of 3, dropped onto the topic
    await dropOnto(page, '[data-testid="topology-palette-group"]', `[data-testid="topo-topic-${topic}"]`);
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId(`sim-group-topic-${topic}`)).toBeChecked();
    await dialog.getByTestId("sim-group-id").fill(group);
    await dialog.getByTestId("sim-group-members").fill("3");
    await dialog.getByTestId("sim-group-submit").click();
    await expect(dialog).toBeHidden();
    const simGroups = await rest<{ groups: { id: string; groupId: string }[] }>("GET", "/api/v1/simulations");
    const sim = simGroups.body.groups.find((g) => g.groupId === group);
    expect(sim).toBeDefined();
    cleanup.push(`/api/v1/simulations/groups/${sim!.id}`);

    // 3 members, 4 partitions each
    await expect(membersOwning(page, group, 4)).toHaveCount(3, { timeout: 30_000 });
    await expect(canvas.getByTestId(`topo-group-${group}`).locator(".topo-sim")).toBeVisible();
    await snap(page, "topology-built-by-dragging");

    // the topic's partitions as lanes, each wired to its owner
    await canvas.getByTestId(`topo-expand-${topic}`).click();
    await expect(canvas.locator(`[data-testid^="topo-lane-${topic}-"]`)).toHaveCount(12);
    await snap(page, "topology-expanded");

    // kill one member from the canvas: the broker removes it after the session timeout, the other two take over
    await canvas.getByTestId(`topo-member-action-${group}-2-kill`).click();
    await expect(canvas.locator(`[data-testid="topo-group-${group}"] [data-sim-index="2"]`)).toHaveAttribute("data-state", "killed");
    await expect(membersOwning(page, group, 6)).toHaveCount(2, { timeout: 45_000 });
    await expect(canvas.locator(`[data-testid="topo-group-${group}"] [data-in-group="true"]`)).toHaveCount(2);
    const described = await rest<GroupBody>("GET", `/api/v1/groups/${group}`);
    expect(described.body.members.map(owned)).toEqual([6, 6]);

    // the timeline: an epoch with 3 members owning 4 each, then one with 2 owning 6 each
    await canvas.getByTestId(`topo-timeline-${group}`).click();
    const panel = page.getByTestId("timeline-panel");
    await expect(panel).toBeVisible();
    const chart = panel.getByTestId("timeline-chart");
    await expect(chart.locator('[data-members="2"]').last()).toBeVisible({ timeout: 15_000 });
    await expect(panel.getByTestId("timeline-details").getByTestId("timeline-member")).toHaveCount(2);
    for (const m of await panel.getByTestId("timeline-member").all()) await expect(m).toHaveAttribute("data-owned", "6");
    await snap(page, "topology-timeline-after-kill");
    // scrub back to the epoch with 3 members
    await chart.locator('[data-members="3"]').last().click();
    await expect(panel.getByTestId("timeline-member")).toHaveCount(3);
    for (const m of await panel.getByTestId("timeline-member").all()) await expect(m).toHaveAttribute("data-owned", "4");
    await expect(panel.getByTestId("timeline-summary")).toContainText("without an owner");
    await snap(page, "topology-timeline-three-members");

    // a click on a node opens its console page
    await canvas.getByTestId(`topo-topic-title-${topic}`).click();
    await expect(page).toHaveURL(new RegExp(`/topics/${topic}$`));
  } finally {
    for (const p of cleanup) await rest("DELETE", p);
  }
});
