/**
 * The console's own 404 page (links back, both themes) instead of Next's default, and an icon:
 * no page load asks for something that is not there (the browser used to log a 404 for
 * /favicon.ico on every page). Screenshots light and dark.
 */
import { expect, test } from "@playwright/test";
import { snap } from "../support/console";

test("every page loads without a failed request: the icon is served", async ({ page }) => {
  const failed: string[] = [];
  page.on("response", (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error") failed.push(`console: ${m.text()}`);
  });
  for (const path of ["/", "/topics", "/groups", "/transactions"]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
  }
  const icon = await page.locator('link[rel="icon"]').first().getAttribute("href");
  expect(icon).toBeTruthy();
  const svg = await page.request.get(icon!);
  expect(svg.status()).toBe(200);
  expect(svg.headers()["content-type"]).toMatch(/^image\//);
  // clients that ask for /favicon.ico directly get one too
  const ico = await page.request.get("/favicon.ico");
  expect(ico.status()).toBe(200);
  expect(ico.headers()["content-type"]).toMatch(/^image\//);
  expect(failed).toEqual([]);
});

test("an unknown page is the console's 404 page, with links back", async ({ page }) => {
  const res = await page.goto("/no/such/page");
  expect(res?.status()).toBe(404);
  await expect(page.getByTestId("not-found-page")).toBeVisible();
  await expect(page.getByRole("heading", { name: "This page does not exist" })).toBeVisible();
  await expect(page.getByTestId("brand")).toBeVisible(); // inside the console's frame and nav
  await expect(page).toHaveTitle("Not found · Tributary");
  await snap(page, "not-found");
  await page.getByTestId("not-found-topics").click();
  await expect(page.getByTestId("topics-page")).toBeVisible();
  await page.goto("/nope");
  await page.getByTestId("not-found-home").click();
  await expect(page.getByTestId("overview-page")).toBeVisible();
});
