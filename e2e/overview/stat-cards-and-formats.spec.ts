/**
 * Layout and number formats a new user noticed: the overview's six stat cards stay on one row at
 * 1440 px (they wrapped 5 + 1); a topic of one partition says "1 partition"; the messages table
 * shows sizes as bytes/KiB (not "900003") under headers that are not cut ("Partit…").
 * Screenshots light and dark.
 */
import { expect, test } from "@playwright/test";
import { createTopic, produce, snap, unique } from "../support/console";

test("the six stat cards are one row at 1440 px, two rows of three at 1000 px", async ({ page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto("/");
  const cards = page.getByTestId("overview-page").locator(".grid-cards > .card");
  await expect(cards).toHaveCount(6);
  await expect(page.getByTestId("stat-topics-value")).not.toHaveText("…");
  const tops = async () => cards.evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
  expect(new Set(await tops()).size).toBe(1);
  await snap(page, "overview-1440");
  await page.setViewportSize({ width: 1000, height: 900 });
  const narrow = await tops();
  expect(new Set(narrow).size).toBe(2);
  expect(narrow.filter((t) => t === narrow[0])).toHaveLength(3);
});

test("one partition is '1 partition'; record sizes are formatted; no header is cut", async ({ page }) => {
  const topic = unique("fmt");
  await createTopic(topic, 1);
  await produce(topic, [
    { key: "big", value: "x".repeat(900_000) },
    { key: "small", value: "y" },
  ]);
  await page.goto(`/topics/${topic}?tab=messages`);
  await expect(page.getByTestId("topic-summary")).toContainText(/^1 partition · 2 records · /);
  await page.getByTestId("search-submit").click();
  await expect(page.getByTestId("search-status")).toHaveText("Done");
  const table = page.getByTestId("messages-table");
  await expect(table.getByText("878.9 KiB", { exact: true })).toBeVisible();
  await expect(table.getByText("900003", { exact: true })).toHaveCount(0);
  // every header shows its whole label
  const cut = await table
    .getByRole("columnheader")
    .evaluateAll((hs) => hs.filter((h) => h.scrollWidth > h.clientWidth).map((h) => h.textContent));
  expect(cut).toEqual([]);
  await snap(page, "messages-sizes");
});
