/**
 * The topic config editor validates inline with the same schemas as the create-topic dialog:
 * `retention.ms = -5` and `max.message.bytes = 99999999999` each show their error at once and
 * Save stays disabled; the columns keep their widths when the table enters edit mode. The
 * create-topic dialog drops "already exists" once the name changes. Screenshots light and dark.
 */
import { expect, test, type Page } from "@playwright/test";
import { createTopic, describeTopic, snap, unique } from "../support/console";

const topic = unique("cfg");

async function columnWidths(page: Page): Promise<number[]> {
  return page
    .getByTestId("configs-table")
    .locator("thead th")
    .evaluateAll((ths) => ths.map((th) => Math.round(th.getBoundingClientRect().width)));
}

test("the config editor shows every inline error, keeps Save disabled and its columns still", async ({ page }) => {
  await createTopic(topic, 1);
  await page.goto(`/topics/${topic}?tab=configs`);
  await expect(page.getByTestId("config-value-retention.ms")).toBeVisible();
  const before = await columnWidths(page);
  await page.getByTestId("configs-edit").click();
  await expect(page.getByTestId("config-input-retention.ms")).toBeVisible();
  expect(await columnWidths(page)).toEqual(before);

  await page.getByTestId("config-input-retention.ms").fill("-5");
  await page.getByTestId("config-input-max.message.bytes").fill("99999999999");
  await expect(page.getByTestId("config-error-retention.ms")).toHaveText("retention.ms must be -1 or more (-1: no limit)");
  await expect(page.getByTestId("config-error-max.message.bytes")).toHaveText("max.message.bytes must be between 0 and 16,777,216");
  await expect(page.getByTestId("config-input-retention.ms")).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByTestId("configs-problems")).toHaveText("2 values to fix");
  await expect(page.getByTestId("configs-save")).toBeDisabled();
  await page.getByTestId("config-input-delete.retention.ms").fill("1.5");
  await expect(page.getByTestId("config-error-delete.retention.ms")).toHaveText("delete.retention.ms must be a whole number");
  await expect(page.getByTestId("configs-problems")).toHaveText("3 values to fix");
  expect(await columnWidths(page)).toEqual(before);
  await snap(page, "topic-configs-invalid");

  // fixed values save
  await page.getByTestId("config-input-retention.ms").fill("-1");
  await page.getByTestId("config-input-max.message.bytes").fill("2000000");
  await page.getByTestId("config-input-delete.retention.ms").fill("60000");
  await expect(page.getByTestId("configs-problems")).toHaveCount(0);
  await page.getByTestId("configs-save").click();
  await expect(page.getByTestId("configs-saved")).toBeVisible();
  expect((await describeTopic(topic)).configs).toMatchObject({
    "retention.ms": -1,
    "max.message.bytes": 2000000,
    "delete.retention.ms": 60000,
  });
});

test("the config table keeps its column widths in edit mode, with an error shown", async ({ page }) => {
  await page.setViewportSize({ width: 900, height: 800 }); // where the columns used to move
  const t = unique("cols");
  await createTopic(t, 1);
  await page.goto(`/topics/${t}?tab=configs`);
  await expect(page.getByTestId("config-value-retention.ms")).toBeVisible();
  const before = await columnWidths(page);
  await page.getByTestId("configs-edit").click();
  await page.getByTestId("config-input-retention.ms").fill("not a number at all");
  await expect(page.getByTestId("config-error-retention.ms")).toBeVisible();
  expect(await columnWidths(page)).toEqual(before);
  await page.getByTestId("configs-cancel").click();
  expect(await columnWidths(page)).toEqual(before);
});

test("the create-topic dialog forgets 'already exists' when the name changes, and checks config ranges", async ({ page }) => {
  const existing = unique("exists");
  await createTopic(existing, 1);
  await page.goto("/topics?create=1");
  const dialog = page.getByTestId("create-topic-dialog");
  await page.getByTestId("create-topic-name").fill(existing);
  await page.getByTestId("create-topic-submit").click();
  await expect(page.getByTestId("create-topic-error")).toContainText("already exists");
  await page.getByTestId("create-topic-name").fill(`${existing}-2`);
  await expect(page.getByTestId("create-topic-error")).toHaveCount(0);

  await page.getByTestId("create-topic-add-config").click();
  await page.getByTestId("create-topic-config-name-0").fill("max.message.bytes");
  await page.getByTestId("create-topic-config-value-0").fill("99999999999");
  await expect(page.getByTestId("create-topic-config-error-0")).toHaveText("max.message.bytes must be between 0 and 16,777,216");
  await expect(page.getByTestId("create-topic-submit")).toBeDisabled();
  await snap(page, "create-topic-invalid-config");
  await page.getByTestId("create-topic-config-value-0").fill("500000");
  await page.getByTestId("create-topic-submit").click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL(new RegExp(`/topics/${existing}-2`));
  expect((await describeTopic(`${existing}-2`)).configs["max.message.bytes"]).toBe(500000);
});
