/**
 * Sources against a real server: a topic pattern (the topics matching at start, one created
 * later, one created later with another partition count) and a start at a timestamp (only
 * where nothing is committed), for the runner and the preview.
 */
import { describe, expect, it } from "vitest";
import { Admin, Producer } from "../../client/index.ts";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { useTestServer } from "../../testing/test-server.ts";
import { eventually, readCommitted } from "../../testing/topic-reading.ts";
import { PipelineRunner } from "./pipeline-runner.ts";
import { valueUnread } from "./sources.ts";
import { previewPipeline } from "./preview.ts";

const server = useTestServer({ TRIBUTARY_GROUP_HEARTBEAT_INTERVAL_MS: "250", TRIBUTARY_GROUP_SESSION_TIMEOUT_MS: "3000" });
const edge = (from: string, to: string) => ({ from: { node: from, port: "out" }, to: { node: to, port: "in" } });

/** source → sink of one partition. */
function copy(name: string, source: Record<string, unknown>, sink: string): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      { id: "in", config: { kind: "source", valueFormat: "text", ...source } as never },
      { id: "out", config: { kind: "sink", topic: sink, createTopic: { partitions: 1 } } },
    ],
    edges: [edge("in", "out")],
    settings: { commitIntervalMs: 100 },
  };
}

const values = async (topic: string) => (await readCommitted(server.url, topic)).map((r) => r.value!).sort();

describe("a source reading a topic pattern", () => {
  it("reads the topics matching at start and those created later with the same partition count; refuses one with another count, visibly", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "orders-eu", partitions: 2 });
    await admin.createTopic({ name: "orders-us", partitions: 2 });
    await admin.createTopic({ name: "ordersx", partitions: 2 }); // matches `orders.*`, not `orders-.*`
    const producer = new Producer({ baseUrl: server.url });
    await producer.sendMany("orders-eu", [
      { value: "eu-0", partition: 0 },
      { value: "eu-1", partition: 1 },
    ]);
    await producer.send("orders-us", { value: "us-1", partition: 1 });
    await producer.send("ordersx", { value: "x-0", partition: 0 });

    const errors: string[] = [];
    const def = ZPipelineDefinition.parse(copy("by-pattern", { topicPattern: "orders-.*", start: "earliest" }, "all-orders"));
    const runner = new PipelineRunner({ baseUrl: server.url, definition: def, onError: (e) => errors.push(e.message) });
    expect((await runner.check()).inputs.size).toBe(2);
    await runner.start();
    try {
      await eventually(
        "the matching topics' records",
        () => values("all-orders"),
        (v) => v.length >= 3,
      );
      await admin.createTopic({ name: "orders-asia", partitions: 2 });
      await admin.createTopic({ name: "orders-odd", partitions: 3 });
      await producer.send("orders-asia", { value: "asia-1", partition: 1 });
      await producer.send("orders-odd", { value: "odd-2", partition: 2 });
      await producer.send("orders-odd", { value: "odd-0", partition: 0 });
      await eventually(
        "the new topic's record",
        () => values("all-orders"),
        (v) => v.includes("asia-1"),
      );
      await eventually(
        "the refusal",
        async () => runner.refusedTopics(),
        (r) => r.length > 0,
      );
      expect(runner.refusedTopics()).toEqual([
        {
          node: "in",
          field: "config.topicPattern",
          message: expect.stringMatching(/^topic 'orders-odd' matches the pattern but has 3 partitions, the pipeline's inputs 2/),
        },
      ]);
      expect(errors.filter((m) => m.includes("orders-odd"))).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500));
      expect(await values("all-orders")).toEqual(["asia-1", "eu-0", "eu-1", "us-1"]);
      // the refused topic's records were not committed either: once fixed, a restart reads them
      const group = await admin.describeGroup("pipeline-by-pattern");
      expect(group.offsets.filter((o) => o.topic === "orders-odd" && o.committedOffset !== null)).toEqual([]);
    } finally {
      await runner.stop();
    }
  }, 60_000);

  it("is refused at start when the matching topics are not co-partitioned, match nothing, match its own output, or RE2 refuses it", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "mixed-a", partitions: 2 });
    await admin.createTopic({ name: "mixed-b", partitions: 3 });
    const problems = async (source: Record<string, unknown>, sink = "never-written") =>
      (await new PipelineRunner({ baseUrl: server.url, definition: ZPipelineDefinition.parse(copy("refused", source, sink)) }).check())
        .problems;
    expect(await problems({ topicPattern: "mixed-.*" })).toEqual([
      { message: "the inputs are not co-partitioned: mixed-a has 2, mixed-b has 3 partitions; give them the same partition count" },
    ]);
    expect(await problems({ topicPattern: "nothing-matches-.*" })).toEqual([
      {
        node: "in",
        field: "config.topicPattern",
        message: "no topic matches 'nothing-matches-.*' yet: the pipeline takes its partition count from its inputs, so create one first",
      },
    ]);
    expect(await problems({ topicPattern: "mixed-.*" }, "mixed-out")).toEqual([
      {
        node: "in",
        field: "config.topicPattern",
        message: "the pattern matches 'mixed-out', which this pipeline writes: it would read its own output; narrow the pattern",
      },
    ]);
    expect(await problems({ topicPattern: "pipeline-.*" })).toEqual([
      expect.objectContaining({ field: "config.topicPattern", message: expect.stringMatching(/pipeline-refused-changelog/) }),
    ]);
    const [re2] = await problems({ topicPattern: "(a)\\1" });
    expect(re2).toMatchObject({ node: "in", field: "config.topicPattern" });
  });

  it("the preview reads the topics the pattern matches", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "preview-a", partitions: 1 });
    await admin.createTopic({ name: "preview-b", partitions: 2 });
    const producer = new Producer({ baseUrl: server.url });
    await producer.send("preview-a", { value: "a" });
    await producer.send("preview-b", { value: "b0", partition: 0 });
    await producer.send("preview-b", { value: "b1", partition: 1 });
    const result = await previewPipeline(server.url, ZPipelineDefinition.parse(copy("preview", { topicPattern: "preview-.*" }, "x")));
    expect(result.problems).toEqual([]);
    expect(result.read).toBe(3);
    expect(result.nodes.out.records.map((r) => r.value).sort()).toEqual(["a", "b0", "b1"]);
    const none = await previewPipeline(server.url, ZPipelineDefinition.parse(copy("preview", { topicPattern: "nope-.*" }, "x")));
    expect(none.problems).toEqual([{ node: "in", field: "config.topicPattern", message: "no topic matches 'nope-.*'" }]);
  });
});

describe("a source starting at a timestamp", () => {
  it("starts each partition at the first record at or after it when nothing is committed; a restart resumes from the committed offsets", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "readings", partitions: 2 });
    const producer = new Producer({ baseUrl: server.url });
    const T = Date.UTC(2026, 2, 1);
    await producer.sendMany("readings", [
      { value: "p0-old", partition: 0, timestamp: T - 60_000 },
      { value: "p0-at", partition: 0, timestamp: T },
      { value: "p0-new", partition: 0, timestamp: T + 60_000 },
      // partition 1 has nothing at or after T: it starts at its end
      { value: "p1-old", partition: 1, timestamp: T - 1 },
    ]);
    const def = ZPipelineDefinition.parse(copy("from-march", { topics: ["readings"], start: { timestamp: T } }, "march"));
    let runner = new PipelineRunner({ baseUrl: server.url, definition: def });
    await runner.start();
    try {
      await producer.send("readings", { value: "p1-live", partition: 1, timestamp: T + 120_000 });
      await eventually(
        "the records from T on",
        () => values("march"),
        (v) => v.length >= 3,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await values("march")).toEqual(["p0-at", "p0-new", "p1-live"]);
    } finally {
      await runner.stop();
    }
    // committed offsets win over the start: nothing is read twice, nothing skipped
    await producer.send("readings", { value: "p0-later", partition: 0, timestamp: T - 120_000 });
    runner = new PipelineRunner({ baseUrl: server.url, definition: def });
    await runner.start();
    try {
      await eventually(
        "the record produced while stopped",
        () => values("march"),
        (v) => v.includes("p0-later"),
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await values("march")).toEqual(["p0-at", "p0-later", "p0-new", "p1-live"]);
    } finally {
      await runner.stop();
    }
  }, 60_000);
});

/** source → count per key (un-windowed) → sink, with a dead-letter sink; `more` adds nodes and edges. */
function counting(name: string, input: string, output: string, more: Partial<TPipelineDefinitionInput> = {}): TPipelineDefinitionInput {
  return {
    name,
    nodes: [
      { id: "in", config: { kind: "source", topics: [input], start: "earliest" } },
      { id: "count", config: { kind: "aggregate", aggregations: [{ fn: "count", as: "n" }] } },
      { id: "out", config: { kind: "sink", topic: output, createTopic: { partitions: 1 } } },
      { id: "failed", config: { kind: "deadLetter", topic: `${output}-dlq`, createTopic: { partitions: 1 } } },
      ...(more.nodes ?? []),
    ],
    edges: [edge("in", "count"), edge("count", "out"), ...(more.edges ?? [])],
    settings: { commitIntervalMs: 100 },
  };
}

describe("a source whose values no node reads", () => {
  it("is one feeding only counts, with no event-time expression and no late port connected", () => {
    const unread = (d: TPipelineDefinitionInput) => valueUnread(ZPipelineDefinition.parse(d), "in");
    expect(unread(counting("c", "t", "o"))).toBe(true);
    const withSource = (config: Record<string, unknown>) => {
      const d = counting("c", "t", "o");
      d.nodes[0] = { id: "in", config: { kind: "source", topics: ["t"], ...config } as never };
      return d;
    };
    expect(unread(withSource({ valueFormat: "text" }))).toBe(false);
    expect(unread(withSource({ eventTime: "int(value.at)" }))).toBe(false);
    const summing = counting("c", "t", "o");
    summing.nodes[1] = {
      id: "count",
      config: {
        kind: "aggregate",
        aggregations: [
          { fn: "count", as: "n" },
          { fn: "sum", of: "value.amount", as: "total" },
        ],
      },
    };
    expect(unread(summing)).toBe(false);
    // a second reader that passes values on, or a late port whose records go on whole
    expect(
      unread(counting("c", "t", "o", { nodes: [{ id: "copy", config: { kind: "sink", topic: "copy" } }], edges: [edge("in", "copy")] })),
    ).toBe(false);
    const windowed = counting("c", "t", "o", {
      nodes: [{ id: "lateOnes", config: { kind: "sink", topic: "late" } }],
      edges: [{ from: { node: "count", port: "late" }, to: { node: "lateOnes", port: "in" } }],
    });
    windowed.nodes[1] = {
      id: "count",
      config: { kind: "aggregate", window: { type: "tumbling", sizeMs: 60_000 }, aggregations: [{ fn: "count", as: "n" }] },
    };
    expect(unread(windowed)).toBe(false);
    windowed.edges.pop();
    windowed.nodes.pop();
    expect(unread(windowed)).toBe(true);
  });

  it("counts its JSON records without decoding them, and sends a value that is not JSON or not UTF-8 to the dead letters as a decoded one", async () => {
    const admin = new Admin({ baseUrl: server.url });
    await admin.createTopic({ name: "clicks", partitions: 1 });
    const producer = new Producer({ baseUrl: server.url });
    const bad = ["{not json", "[1,]", "01", Buffer.from([0x22, 0xff, 0x22])];
    await producer.sendMany("clicks", [
      { key: "a", value: '{"page":"/"}' },
      { key: "a", value: "\uFEFF[1, 2.5e3]" },
      { key: "b", value: '"ü🚀"' },
      ...bad.map((value) => ({ key: "x", value })),
      { key: "a", value: null },
      { key: "b", value: "  null  " },
    ]);
    const runner = new PipelineRunner({
      baseUrl: server.url,
      definition: ZPipelineDefinition.parse(counting("click-count", "clicks", "click-counts")),
    });
    await runner.start();
    try {
      const dead = await eventually(
        "the dead letters",
        () => readCommitted(server.url, "click-counts-dlq"),
        (v) => v.length >= bad.length,
      );
      // the record cache sends each key's latest count per commit: the last one per key is the total
      const totals = async () =>
        Object.fromEntries((await readCommitted(server.url, "click-counts")).map((c) => [c.key, JSON.parse(c.value!).n as number]));
      await eventually("the counts", totals, (t) => t.a === 3 && t.b === 2);
      await new Promise((r) => setTimeout(r, 300));
      expect(await totals()).toEqual({ a: 3, b: 2 });
      // the errors a decoded value gets: JSON.parse's own message, or not UTF-8
      const errors = (texts: (string | Buffer)[]) =>
        texts.map((t) => {
          try {
            JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(t)));
            return "parsed";
          } catch (e) {
            return e instanceof SyntaxError ? `value is not JSON: ${e.message}` : "value is not UTF-8 text";
          }
        });
      expect(dead.map((d) => [d.headers["tributary.node"], d.headers["tributary.offset"], d.headers["tributary.error"]])).toEqual(
        errors(bad).map((error, i) => ["in", String(3 + i), error]),
      );
    } finally {
      await runner.stop();
    }
  }, 60_000);
});
