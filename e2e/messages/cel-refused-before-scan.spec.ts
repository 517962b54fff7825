/**
 * A CEL filter that does not return a boolean is refused before any record is scanned (it used to
 * scan every record and report "CEL failed on N records"), and the refusal keeps its lines: the
 * source line and the `^` under the mistake, monospaced. Screenshots light and dark.
 */
import { expect, test } from "@playwright/test";
import { createTopic, produce, snap, unique } from "../support/console";

test("value.amount is refused before the scan, with the caret under the mistake", async ({ page }) => {
  const topic = unique("cel");
  await createTopic(topic, 1);
  await produce(
    topic,
    Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: { amount: i } })),
  );
  await page.goto(`/topics/${topic}?tab=messages`);
  await page.getByTestId("search-cel").fill("value.amount");
  await page.getByTestId("search-submit").click();
  const error = page.getByTestId("search-error");
  await expect(error).toContainText("must return bool, but its type is known only when it runs (dyn)");
  await expect(page.getByTestId("search-scanned")).toHaveText("0");
  await expect(page.getByTestId("search-cel-errors")).toHaveCount(0);

  // a mistake on the second line: the caret sits under it, in a monospace block that keeps the lines
  await page.getByTestId("search-cel").fill('value.amount > 10 &&\n  offset == "x" &&\n  true');
  await page.getByTestId("search-submit").click();
  await expect(error).toContainText("no such overload");
  const source = error.getByTestId("error-source");
  await expect(source).toBeVisible();
  const lines = (await source.innerText()).split("\n");
  expect(lines[0]).toBe('>    2 |   offset == "x" &&');
  const caret = lines[1].indexOf("^");
  expect(lines[0].slice(caret)).toMatch(/^offset/);
  // monospace: the caret is drawn right under the character it points at
  const fontFamily = await source.evaluate((el) => getComputedStyle(el).fontFamily);
  expect(fontFamily).toMatch(/mono|Menlo|Consolas/i);
  await snap(page, "messages-cel-refused");

  // a boolean expression runs
  await page.getByTestId("search-cel").fill("value.amount >= 45");
  await page.getByTestId("search-submit").click();
  await expect(page.getByTestId("search-status")).toHaveText("Done");
  await expect(page.getByTestId("search-matched")).toHaveText("5");
  await expect(error).toHaveCount(0);
});
