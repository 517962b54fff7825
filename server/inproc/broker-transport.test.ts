/**
 * The client on the broker façade of its own process (`brokerTransport`), against the same
 * client over HTTP: a pipeline the server runs on it commits exactly what the same pipeline run
 * through the REST API commits, and the client's errors keep their codes and statuses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Admin, Consumer, Producer, ProducerFencedError, TributaryClientError, type Message } from "../client/index.ts";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../schemas/pipeline.ts";
import { PipelineRunner } from "../stream/runtime/pipeline-runner.ts";
import { withBroker, type BrokerHarness } from "../testing/broker-fixture.ts";
import { callApi } from "../testing/api-client.ts";
import { useTestServer } from "../testing/test-server.ts";
import { eventually, readCommitted } from "../testing/topic-reading.ts";
import { brokerTransport } from "./broker-transport.ts";

const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });
const MIN = 60_000;
// event times of yesterday: outputs carry them, and a topic's retention (7 days) deletes older ones
const DAY = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 86_400_000;

/** Clicks per user per minute (re-keyed, so through a repartition topic with 2 partitions), bad JSON to the dead letters. */
function clicksPerMinute(name: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      {
        id: "clicks",
        config: { kind: "source", topics: ["clicks"], start: "earliest", eventTime: "timestamp(value.at)", idleTimeoutMs: 500 },
      },
      { id: "real", config: { kind: "filter", condition: "value.bot == false" } },
      { id: "byUser", config: { kind: "selectKey", key: "value.user" } },
      {
        id: "perMinute",
        config: {
          kind: "aggregate",
          window: { type: "tumbling", sizeMs: MIN, graceMs: 0 },
          aggregations: [{ fn: "count", as: "clicks" }],
          emit: "final",
        },
      },
      { id: "out", config: { kind: "sink", topic: `${name}-out`, createTopic: { partitions: 2 } } },
      { id: "dead", config: { kind: "deadLetter", topic: `${name}-dlq`, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("clicks", "real"), edge("real", "byUser"), edge("byUser", "perMinute"), edge("perMinute", "out")],
    settings: { commitIntervalMs: 100 },
  };
}

describe("a pipeline the server runs on its own façade", () => {
  const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });

  it("commits the same outputs and dead letters as the same pipeline run over HTTP, and both match the answer", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "clicks", partitions: 2 });
    const users = ["ann", "bob", "cat", "dan", "eve", "fay", "gus"];
    const expected = new Map<string, number>();
    const records: { key: string; value: string }[] = [];
    for (let i = 0; i < 3000; i++) {
      const user = users[(i * 7 + (i >> 3)) % users.length];
      const minute = Math.floor(i / 300);
      const bot = i % 11 === 0;
      // keyed by session, not user: re-keying moves records between partitions
      records.push({
        key: `s${i % 13}`,
        value: JSON.stringify({ user, bot, at: new Date(DAY + minute * MIN + (i % 300) * 100).toISOString() }),
      });
      if (!bot) expected.set(`${user}@${minute}`, (expected.get(`${user}@${minute}`) ?? 0) + 1);
    }
    records.splice(1234, 0, { key: "s1", value: "{not json" });
    const producer = new Producer({ baseUrl: server.url, transactionalId: "clicks-feed" });
    await producer.initTransactions();
    producer.beginTransaction();
    await producer.sendMany("clicks", records);
    await producer.commitTransaction();

    // the server's own: deployed through the API, run on its broker façade
    const call = (method: string, path: string, json?: unknown) => callApi(server.url, method, path, json === undefined ? {} : { json });
    expect((await call("POST", "/api/v1/pipelines", clicksPerMinute("in-process"))).status).toBe(201);
    const deployed = await call("POST", "/api/v1/pipelines/in-process/deploy", {});
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
    // the same pipeline run here, through the REST API
    const overHttp = new PipelineRunner({ baseUrl: server.url, definition: ZPipelineDefinition.parse(clicksPerMinute("over-http")) });
    await overHttp.start();
    try {
      const outputs = async (name: string) =>
        (await readCommitted(server.url, `${name}-out`, 2))
          .map((r) => {
            const v = JSON.parse(r.value!) as { window: { start: number }; clicks: number };
            return `${r.key}@${(v.window.start - DAY) / MIN}=${v.clicks}`;
          })
          .sort();
      const answer = [...expected].map(([k, n]) => `${k}=${n}`).sort();
      const viaServer = await eventually(
        "the server's pipeline to emit every window",
        () => outputs("in-process"),
        (o) => o.length >= answer.length,
      );
      const viaHttp = await eventually(
        "the HTTP pipeline to emit every window",
        () => outputs("over-http"),
        (o) => o.length >= answer.length,
      );
      expect(viaServer).toEqual(answer);
      expect(viaHttp).toEqual(viaServer);
      const dead = (name: string) => readCommitted(server.url, `${name}-dlq`);
      expect((await dead("in-process")).map((r) => r.value)).toEqual(["{not json"]);
      expect((await dead("over-http")).map((r) => [r.value, r.headers["tributary.offset"]])).toEqual(
        (await dead("in-process")).map((r) => [r.value, r.headers["tributary.offset"]]),
      );
      // both groups read everything, their offsets committed in their transactions
      for (const name of ["in-process", "over-http"])
        await eventually(
          `pipeline-${name}'s lag to reach 0`,
          () => admin.describeGroup(`pipeline-${name}`),
          (g) => g.totalLag === 0,
        );
      // and the server's pipeline did run on its façade: its member shows no network address
      const members = (await admin.describeGroup("pipeline-in-process")).members;
      expect(members.map((m) => m.host)).toEqual(["in-process"]);
      expect((await admin.describeGroup("pipeline-over-http")).members.map((m) => m.host)).not.toContain("in-process");
    } finally {
      await overHttp.stop();
    }
  }, 90_000);
});

describe("the client on the façade keeps the HTTP path's errors", () => {
  let h: BrokerHarness;
  beforeAll(async () => {
    h = await withBroker("postgres");
  });
  afterAll(async () => {
    await h?.close();
  });

  it("codes and statuses of broker errors, fencing, bad input; records round-trip under read_committed", async () => {
    const transport = brokerTransport(h.broker);
    const opts = { baseUrl: "http://unused.invalid", transport };

    const missing = await new Producer(opts).send("no-such-topic", { value: "x" }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TributaryClientError);
    expect(missing).toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION", status: 404 });

    await h.broker.createTopic({ name: "orders", partitions: 2 });
    const first = new Producer({ ...opts, transactionalId: "orders-tx" });
    await first.initTransactions();
    first.beginTransaction();
    await first.sendMany("orders", [
      { key: "a", value: "1" },
      { key: "b", value: "2" },
    ]);
    // a second instance fences the first and aborts its open transaction
    const second = new Producer({ ...opts, transactionalId: "orders-tx" });
    await second.initTransactions();
    const fenced = await first.commitTransaction().catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(ProducerFencedError);
    expect((fenced as TributaryClientError).code).toMatch(/PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/);
    second.beginTransaction();
    await second.sendMany("orders", [
      { key: "c", value: "3" },
      { key: "d", value: "4" },
    ]);
    await second.commitTransaction();

    const badPattern = new Consumer({ ...opts, groupId: "bad", autoOffsetReset: "earliest" });
    badPattern.subscribe({ topicPattern: "orders(" });
    const refused = await badPattern.run({ eachMessage: () => undefined }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "INVALID_REGULAR_EXPRESSION", status: 400, details: { field: "topicPattern" } });

    const seen: Message[] = [];
    const consumer = new Consumer({ ...opts, groupId: "readers", autoOffsetReset: "earliest", isolationLevel: "read_committed" });
    consumer.subscribe({ topics: ["orders"] });
    await consumer.run({ eachMessage: ({ message }) => void seen.push(message) });
    try {
      await eventually(
        "both committed records",
        async () => seen.length,
        (n) => n >= 2,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(seen.map((m) => `${m.key}=${m.value}`).sort()).toEqual(["c=3", "d=4"]);
    } finally {
      await consumer.stop();
    }
    const group = await h.broker.describeGroup("readers");
    expect(group.totalLag).toBe(0);
  }, 60_000);
});
