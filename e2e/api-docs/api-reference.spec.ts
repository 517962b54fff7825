/**
 * The API reference at /api/docs (Scalar, bundled): reached from the nav, rendered from this
 * server's OpenAPI document with no request leaving the server's origin, in the console's light
 * and dark themes, and its try-it-out sends a GET and a POST that pass the request guard.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { BASE_URL, SCREENSHOTS, createTopic, describeTopic, unique } from "../support/console";

/** The visible part in the light and the dark theme (the whole reference is tens of thousands of pixels tall). */
async function snapViewport(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await expect(page.getByTestId("api-reference")).toHaveAttribute("data-theme-mode", scheme);
    await expect(page.locator("body")).toHaveClass(new RegExp(`\\b${scheme}-mode\\b`));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: "light" });
}

/** Every request the page makes that is not to this server (fonts, CDNs, telemetry, a proxy). */
function foreignRequests(page: Page): string[] {
  const foreign: string[] = [];
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(BASE_URL + "/") && !url.startsWith("data:") && !url.startsWith("blob:")) foreign.push(url);
  });
  return foreign;
}

test("the nav's API opens the reference of this server's API, with nothing loaded from elsewhere", async ({ page }) => {
  const foreign = foreignRequests(page);
  await page.goto("/");
  await page.getByTestId("nav-api").click();
  await expect(page).toHaveURL(/\/api\/docs$/);
  await expect(page.getByTestId("nav-api")).toHaveAttribute("aria-current", "page");
  const reference = page.getByTestId("api-reference");
  await expect(reference.getByRole("heading", { name: "Tributary API", level: 1 })).toBeVisible();
  await expect(reference.getByRole("heading", { name: "List topics" })).toBeVisible();
  // the servers list is this server, so try-it-out and the code samples point here
  await expect(reference.getByText(BASE_URL).first()).toBeVisible();
  await snapViewport(page, "api-docs");
  // the sidebar groups the operations; a group opens on a click
  const sidebar = reference.locator(".t-doc__sidebar");
  for (const group of ["Topics", "Records", "Consumer groups", "Producers and transactions", "Metrics"]) {
    await expect(sidebar.getByText(group, { exact: true })).toBeVisible();
  }
  await sidebar.getByText("Producers and transactions", { exact: true }).click();
  await expect(sidebar.getByText("Commit the transaction", { exact: true })).toBeVisible();
  // no button leads to a hosted client either ("Powered by Scalar" is the one link out)
  await expect(page.getByRole("button", { name: "Open API Client" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Open API Client" })).toHaveCount(0);

  // the console's theme switch reaches the reference
  await page.emulateMedia({ colorScheme: "light" });
  await expect(reference).toHaveAttribute("data-theme-mode", "light");
  // Scalar's colours are the console's: its background is the console's panel colour, in either theme
  const colours = () =>
    page.evaluate(() => ({
      reference: getComputedStyle(document.querySelector(".api-reference .scalar-app")!).getPropertyValue("--scalar-background-1").trim(),
      console: getComputedStyle(document.documentElement).getPropertyValue("--panel").trim(),
    }));
  const light = await colours();
  expect(light.reference).toBe(light.console);
  const toggle = page.getByTestId("theme-toggle");
  await toggle.click(); // light
  await toggle.click(); // dark
  await expect(reference).toHaveAttribute("data-theme-mode", "dark");
  await expect(page.locator("body")).toHaveClass(/dark-mode/);
  await expect.poll(colours).toEqual({ reference: "#161a21", console: "#161a21" });
  await toggle.click(); // back to the system's
  expect(foreign).toEqual([]);
});

test("try-it-out sends a GET and a POST to this server from the page, through the request guard", async ({ page }) => {
  const foreign = foreignRequests(page);
  const listed = unique("docs-listed");
  await createTopic(listed, 1);
  await page.goto("/api/docs");

  // GET /api/v1/topics
  await page.getByRole("button", { name: /Test Request\s*\(get \/api\/v1\/topics\)/ }).click();
  const list = page.waitForResponse((r) => r.url() === `${BASE_URL}/api/v1/topics` && r.request().method() === "GET");
  await page.getByRole("button", { name: /Send get request to/ }).click();
  expect((await list).status()).toBe(200);
  const client = page.locator(".scalar-app").filter({ has: page.getByRole("button", { name: /Send get request to/ }) });
  await expect(client.getByText("200 OK").first()).toBeVisible();
  await expect(client.getByText(listed).first()).toBeVisible();
  await page.screenshot({ path: path.join(SCREENSHOTS, "api-docs-try-it-out-light.png") });
  await expect(page.getByRole("link", { name: "Open API Client" })).toHaveCount(0);
  await page.keyboard.press("Escape");

  // POST /api/v1/topics with a body typed into the client: the same origin may change things
  const created = unique("docs-created");
  await page.getByRole("button", { name: /Test Request\s*\(post \/api\/v1\/topics\)/ }).click();
  const body = page.locator(".cm-content:visible").last();
  const text = JSON.stringify({ name: created, partitions: 2 });
  // the editor emptied before the body is typed (a select-all that came before the editor had
  // the focus once left the example body in place, and the request sent both)
  await expect(async () => {
    await body.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await expect(body).toHaveText("", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await page.keyboard.insertText(text);
  await expect(body).toHaveText(text);
  const create = page.waitForResponse((r) => r.url() === `${BASE_URL}/api/v1/topics` && r.request().method() === "POST");
  await page.getByRole("button", { name: /Send post request to/ }).click();
  const response = await create;
  expect(response.status(), await response.text()).toBe(201);
  expect((await describeTopic(created)).partitions).toHaveLength(2);
  expect(foreign).toEqual([]);
});
