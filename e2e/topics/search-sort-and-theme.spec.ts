/** The topics list: search and sort kept in the URL, keyboard use, and the theme switch. */
import { expect, test } from "@playwright/test";
import { createTopic, produce, snap, unique } from "../support/console";

test("search and sort the topics list; state lives in the URL", async ({ page }) => {
  const prefix = unique("list");
  await createTopic(`${prefix}-a`, 1);
  await createTopic(`${prefix}-b`, 4);
  await createTopic(`${prefix}-c`, 2);
  await produce(
    `${prefix}-c`,
    Array.from({ length: 30 }, (_, i) => ({ value: { i } })),
  );
  await page.goto("/topics");
  await page.getByTestId("topics-search").fill(prefix);
  await expect(page).toHaveURL(new RegExp(`q=${prefix}`));
  const names = () => page.locator('[data-testid^="topic-link-"]').allTextContents();
  await expect.poll(names).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
  await page.getByTestId("sort-partitions").click();
  await expect.poll(names).toEqual([`${prefix}-a`, `${prefix}-c`, `${prefix}-b`]);
  await page.getByTestId("sort-partitions").click();
  await expect.poll(names).toEqual([`${prefix}-b`, `${prefix}-c`, `${prefix}-a`]);
  await page.getByTestId("sort-records").click();
  await expect(page).toHaveURL(/sort=records&dir=asc|dir=asc.*sort=records|sort=records/);
  await page.getByTestId("sort-records").press("Enter"); // keyboard: descending
  await expect.poll(names).toEqual([`${prefix}-c`, `${prefix}-a`, `${prefix}-b`]);
  await expect(page.getByTestId(`topic-records-${prefix}-c`)).toHaveText("30");
  await snap(page, "topics");
  // a deep link restores the view
  await page.goto(`/topics?q=${prefix}-b`);
  await expect.poll(names).toEqual([`${prefix}-b`]);
  await page.goto(`/topics?q=zzz-nothing`);
  await expect(page.getByTestId("topics-empty")).toContainText("No topic matches");
});

test("the theme switch cycles system → light → dark and is remembered", async ({ page }) => {
  await page.goto("/groups");
  await expect(page.getByTestId("groups-page")).toBeVisible();
  const html = page.locator("html");
  const toggle = page.getByTestId("theme-toggle");
  await expect(toggle).toHaveAttribute("data-theme-choice", "system");
  await toggle.click();
  await expect(html).toHaveAttribute("data-theme", "light");
  await toggle.click();
  await expect(html).toHaveAttribute("data-theme", "dark");
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(bg).toBe("rgb(16, 18, 23)");
  await page.reload();
  await expect(html).toHaveAttribute("data-theme", "dark");
  await toggle.focus();
  await page.keyboard.press("Enter");
  await expect(html).not.toHaveAttribute("data-theme", /./);
});

test("unknown topic and group pages show the server's error", async ({ page }) => {
  await page.goto("/topics/no-such-topic-here");
  await expect(page.getByTestId("topic-error")).toHaveText("topic 'no-such-topic-here' does not exist");
  await page.goto("/groups/no-such-group-here");
  await expect(page.getByTestId("group-error")).toContainText("no-such-group-here");
  await snap(page, "group-not-found");
});
