/**
 * Every form, given input that passes the page's own checks but that the server refuses,
 * shows the server's error message and changes nothing.
 */
import { expect, test } from "@playwright/test";
import { createTopic, describeTopic, produce, rest, unique } from "../support/console";

const topic = unique("badinput");

test.beforeAll(async () => {
  await createTopic(topic, 2);
  await produce(topic, [{ key: "k", value: { amount: 1 }, partition: 0 }]);
});

test("create topic: an existing name and a bad config value", async ({ page }) => {
  await page.goto("/topics?create=1");
  const before = (await rest<{ topics: unknown[] }>("GET", "/api/v1/topics")).body.topics.length;
  await page.getByTestId("create-topic-name").fill(topic);
  await page.getByTestId("create-topic-submit").click();
  await expect(page.getByTestId("create-topic-error")).toHaveText(`topic '${topic}' already exists`);
  await expect(page.getByTestId("create-topic-dialog")).toBeVisible();

  // what the shared schemas know is refused inline, before anything is sent (the server's
  // own check stays: server/api/topics-api.test.ts)
  const other = unique("badcfg");
  await page.getByTestId("create-topic-name").fill(other);
  await expect(page.getByTestId("create-topic-error")).toHaveCount(0); // the name changed: the old answer is gone
  await page.getByTestId("create-topic-add-config").click();
  await page.getByTestId("create-topic-config-name-0").fill("retention.ms");
  await page.getByTestId("create-topic-config-value-0").fill("-5");
  await expect(page.getByTestId("create-topic-config-error-0")).toHaveText("retention.ms must be -1 or more (-1: no limit)");
  await expect(page.getByTestId("create-topic-submit")).toBeDisabled();
  await page.getByTestId("create-topic-config-name-0").fill("no.such.config");
  await page.getByTestId("create-topic-config-value-0").fill("1");
  await expect(page.getByTestId("create-topic-config-error-0")).toContainText("unknown config 'no.such.config'");
  await expect(page.getByTestId("create-topic-submit")).toBeDisabled();
  expect((await rest("GET", `/api/v1/topics/${other}`)).status).toBe(404);
  expect((await rest<{ topics: unknown[] }>("GET", "/api/v1/topics")).body.topics.length).toBe(before);
});

test("edit configs: an out-of-range value is refused inline; a topic deleted meanwhile shows the server's error", async ({ page }) => {
  await page.goto(`/topics/${topic}?tab=configs`);
  await page.getByTestId("configs-edit").click();
  await page.getByTestId("config-input-max.message.bytes").fill("999999999");
  await expect(page.getByTestId("config-error-max.message.bytes")).toHaveText("max.message.bytes must be between 0 and 16,777,216");
  await expect(page.getByTestId("configs-save")).toBeDisabled();
  expect((await describeTopic(topic)).configs["max.message.bytes"]).toBe(1048588);

  const gone = unique("gone");
  await createTopic(gone, 1);
  await page.goto(`/topics/${gone}?tab=configs`);
  await page.getByTestId("configs-edit").click();
  await page.getByTestId("config-input-retention.ms").fill("60000");
  expect((await rest("DELETE", `/api/v1/topics/${gone}`)).status).toBe(204);
  await page.getByTestId("configs-save").click();
  await expect(page.getByTestId("configs-error")).toContainText(`'${gone}'`);
});

test("add partitions: a count that does not grow the topic", async ({ page }) => {
  await page.goto(`/topics/${topic}?tab=partitions`);
  await page.getByTestId("add-partitions-count").fill("1");
  await page.getByTestId("add-partitions-submit").click();
  await expect(page.getByTestId("add-partitions-error")).toContainText(
    `topic '${topic}' already has 2 partitions; the new count must be larger`,
  );
  expect((await describeTopic(topic)).partitions.length).toBe(2);
});

test("produce: a partition the topic does not have, and bad base64", async ({ page }) => {
  await page.goto(`/topics/${topic}?tab=produce`);
  const before = (await describeTopic(topic)).recordCount;
  await page.getByTestId("produce-partition").fill("7");
  await page.getByTestId("produce-submit").click();
  await expect(page.getByTestId("produce-error")).toContainText("partition 7");
  await page.getByTestId("produce-partition").fill("");
  await page.getByTestId("produce-format-base64").check();
  await expect(page).toHaveURL(/format=base64/);
  await page.getByTestId("produce-value").fill("not base64!!");
  await page.getByTestId("produce-submit").click();
  await expect(page.getByTestId("produce-error")).toContainText("must be standard base64");
  await expect(page.getByTestId("produce-result")).toHaveCount(0);
  expect((await describeTopic(topic)).recordCount).toBe(before);
});

test("message search: a CEL expression that does not compile, or does not return bool", async ({ page }) => {
  await page.goto(`/topics/${topic}?tab=messages&cel=${encodeURIComponent("value.amount >")}`);
  await expect(page.getByTestId("search-error")).toContainText("invalid cel: Unexpected token");
  await expect(page.getByTestId("search-status")).toHaveText("Failed");
  await page.getByTestId("search-cel").fill("offset + 1");
  await page.getByTestId("search-submit").click();
  await expect(page.getByTestId("search-error")).toContainText("invalid cel: the expression must return bool, not int");
  await expect(page.getByTestId("messages-table-row")).toHaveCount(0);
});

test("reset offsets: a negative offset", async ({ page }) => {
  const group = unique("badinput-group");
  // a group with one committed offset and no members (join, commit, leave over REST)
  const join = await rest<{ memberId: string; memberEpoch: number }>("POST", `/api/v1/groups/${group}/members`, {
    topics: [topic],
    autoOffsetReset: "earliest",
  });
  expect(join.status).toBe(201);
  await expect
    .poll(async () => {
      const r = await rest("POST", `/api/v1/groups/${group}/members/${join.body.memberId}/offsets`, {
        memberEpoch: join.body.memberEpoch,
        offsets: [{ topic, partition: 0, offset: 1 }],
      });
      return r.status;
    })
    .toBe(200);
  expect((await rest("DELETE", `/api/v1/groups/${group}/members/${join.body.memberId}`)).status).toBe(204);

  await page.goto(`/groups/${group}`);
  await expect(page.getByTestId("group-state")).toHaveText("Empty");
  await page.getByTestId("reset-mode").selectOption("offset");
  await page.getByTestId("reset-offset").fill("-5");
  await page.getByTestId("reset-preview").click();
  await expect(page.getByTestId("reset-error")).toContainText("invalid body.to.offset");
  await expect(page.getByTestId("reset-plan")).toHaveCount(0);
  await expect(page.getByTestId("reset-apply")).toBeDisabled();
  const g = await rest<{ offsets: { partition: number; committedOffset: number }[] }>("GET", `/api/v1/groups/${group}`);
  expect(g.body.offsets.find((o) => o.partition === 0)?.committedOffset).toBe(1);
  await rest("DELETE", `/api/v1/groups/${group}`);
});
