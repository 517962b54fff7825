/**
 * The topic endpoints through real HTTP against a real server process on a fresh PostgreSQL
 * database: the happy paths with their response shapes, then bad input for every endpoint —
 * each must be answered with a 4xx and a specific `{error:{code,message}}` body, must not create
 * or change anything, and must leave the server serving.
 */
import http from "node:http";
import { describe, expect, it } from "vitest";
import { useTestServer } from "../testing/test-server.ts";
import { expectError } from "../testing/api-assertions.ts";
import { apiCaller, type CallOptions } from "../testing/api-client.ts";

const server = useTestServer();

const call = apiCaller(() => server.url);

const topicPath = (name: string) => `/api/v1/topics/${encodeURIComponent(name)}`;

const DEFAULTS = {
  "retention.ms": 604_800_000,
  "retention.bytes": -1,
  "cleanup.policy": "delete",
  "delete.retention.ms": 86_400_000,
  "max.message.bytes": 1_048_588,
  "message.timestamp.type": "CreateTime",
  "min.compaction.lag.ms": 0,
};

const emptyPartition = (partition: number) => ({
  partition,
  logStartOffset: 0,
  highWatermark: 0,
  lastStableOffset: 0,
  openTransactions: [],
  recordCount: 0,
  sizeBytes: 0,
});

async function topicNames(): Promise<string[]> {
  const res = await call("GET", "/api/v1/topics");
  expect(res.status).toBe(200);
  return res.body.topics.map((t: { name: string }) => t.name);
}

async function describeTopic(name: string) {
  const res = await call("GET", topicPath(name));
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Topics that the happy paths leave behind; the bad requests must add none. */
const KEPT = ["orders", "payments"];

describe("topics API: happy paths", () => {
  it("creates a topic with partitions and config overrides (201, full shape)", async () => {
    const before = Date.now();
    const res = await call("POST", "/api/v1/topics", {
      json: { name: "orders", partitions: 3, configs: { "retention.ms": "3600000", "cleanup.policy": "compact,delete" } },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const t = res.body;
    expect(t.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(t.name).toBe("orders");
    expect(t.partitions).toEqual([emptyPartition(0), emptyPartition(1), emptyPartition(2)]);
    // values are normalised: the string becomes a number, "compact,delete" Kafka's canonical form
    expect(t.configs).toEqual({ ...DEFAULTS, "retention.ms": 3_600_000, "cleanup.policy": "delete,compact" });
    expect([...t.overrides].sort()).toEqual(["cleanup.policy", "retention.ms"]);
    expect(t.recordCount).toBe(0);
    expect(t.sizeBytes).toBe(0);
    const created = Date.parse(t.createdAt);
    expect(created).toBeGreaterThanOrEqual(before - 60_000);
    expect(created).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(Object.keys(t).sort()).toEqual(["configs", "createdAt", "id", "name", "overrides", "partitions", "recordCount", "sizeBytes"]);
  });

  it("creates a topic with one partition and default configs when only the name is given", async () => {
    const res = await call("POST", "/api/v1/topics", { json: { name: "payments" } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.partitions).toEqual([emptyPartition(0)]);
    expect(res.body.configs).toEqual(DEFAULTS);
    expect(res.body.overrides).toEqual([]);
  });

  it("accepts the longest legal name (249 characters) and every legal character", async () => {
    for (const name of ["a".repeat(249), "A-z_0.9"]) {
      const res = await call("POST", "/api/v1/topics", { json: { name } });
      expect(res.status, res.text).toBe(201);
      expect(res.body.name).toBe(name);
      expect((await describeTopic(name)).id).toBe(res.body.id);
      expect((await call("DELETE", topicPath(name))).status).toBe(204);
    }
  });

  it("lists topics by name with the same descriptions", async () => {
    const res = await call("GET", "/api/v1/topics");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(["topics"]);
    expect(res.body.topics.map((t: { name: string }) => t.name)).toEqual(KEPT);
    const orders = res.body.topics[0];
    expect(orders).toEqual(await describeTopic("orders"));
    expect(orders.partitions).toHaveLength(3);
  });

  it("describes a topic", async () => {
    const t = await describeTopic("orders");
    expect(t.name).toBe("orders");
    expect(t.partitions).toHaveLength(3);
    expect(t.configs["retention.ms"]).toBe(3_600_000);
  });

  it("changes configs with PATCH; null resets one to its default", async () => {
    const set = await call("PATCH", topicPath("orders"), {
      json: { configs: { "max.message.bytes": "2000", "message.timestamp.type": "LogAppendTime", "retention.bytes": 1_000_000 } },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.body.configs).toEqual({
      ...DEFAULTS,
      "retention.ms": 3_600_000,
      "cleanup.policy": "delete,compact",
      "max.message.bytes": 2000,
      "message.timestamp.type": "LogAppendTime",
      "retention.bytes": 1_000_000,
    });
    expect([...set.body.overrides].sort()).toEqual([
      "cleanup.policy",
      "max.message.bytes",
      "message.timestamp.type",
      "retention.bytes",
      "retention.ms",
    ]);

    const reset = await call("PATCH", topicPath("orders"), { json: { configs: { "retention.ms": null, "retention.bytes": null } } });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.configs["retention.ms"]).toBe(DEFAULTS["retention.ms"]);
    expect(reset.body.configs["retention.bytes"]).toBe(DEFAULTS["retention.bytes"]);
    expect([...reset.body.overrides].sort()).toEqual(["cleanup.policy", "max.message.bytes", "message.timestamp.type"]);
    // the change is stored, not only echoed
    expect(await describeTopic("orders")).toEqual(reset.body);
  });

  it("grows a topic with POST /partitions; the new partitions are empty and usable", async () => {
    const res = await call("POST", `${topicPath("orders")}/partitions`, { json: { partitions: 5 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.name).toBe("orders");
    expect(res.body.partitions).toEqual([0, 1, 2, 3, 4].map(emptyPartition));
    expect((await describeTopic("orders")).partitions).toHaveLength(5);

    const produced = await call("POST", `${topicPath("orders")}/records`, { json: { records: [{ key: "k", value: "v", partition: 4 }] } });
    expect(produced.status, produced.text).toBe(200);
    expect(produced.body.records).toMatchObject([{ partition: 4, offset: 0 }]);
    expect((await describeTopic("orders")).partitions[4]).toMatchObject({ highWatermark: 1, recordCount: 1 });
  });

  it("deletes a topic (204) with its records; a re-created topic of that name starts empty", async () => {
    const created = await call("POST", "/api/v1/topics", { json: { name: "short-lived", partitions: 2 } });
    expect(created.status).toBe(201);
    const produced = await call("POST", `${topicPath("short-lived")}/records`, {
      json: {
        records: [
          { value: "a", partition: 0 },
          { value: "b", partition: 1 },
        ],
      },
    });
    expect(produced.status, produced.text).toBe(200);

    const del = await call("DELETE", topicPath("short-lived"));
    expect(del.status).toBe(204);
    expect(del.text).toBe("");
    expectError(await call("GET", topicPath("short-lived")), 404, "UNKNOWN_TOPIC_OR_PARTITION", "short-lived", "does not exist");
    expect(await topicNames()).not.toContain("short-lived");
    expectError(await call("DELETE", topicPath("short-lived")), 404, "UNKNOWN_TOPIC_OR_PARTITION", "short-lived");

    const again = await call("POST", "/api/v1/topics", { json: { name: "short-lived", partitions: 2 } });
    expect(again.status, again.text).toBe(201);
    expect(again.body.id).not.toBe(created.body.id);
    expect(again.body.partitions).toEqual([emptyPartition(0), emptyPartition(1)]);
    const fetched = await call("GET", `${topicPath("short-lived")}/partitions/0/records?offset=0`);
    expect(fetched.status, fetched.text).toBe(200);
    expect(fetched.body.records).toEqual([]);
    expect((await call("DELETE", topicPath("short-lived"))).status).toBe(204);
  });
});

describe("topics API: bad input", () => {
  const ILLEGAL_NAMES: [string, string, RegExp][] = [
    ["empty", "", /empty/],
    ["'.'", ".", /'\.'/],
    ["'..'", "..", /'\.\.'/],
    ["a space", "a b", /only ASCII letters/],
    ["a non-ASCII letter", "ü", /only ASCII letters/],
    ["a slash", "a/b", /only ASCII letters/],
    ["250 characters", "x".repeat(250), /at most 249/],
  ];

  it.each(ILLEGAL_NAMES)("refuses to create a topic whose name is %s", async (_what, name, why) => {
    const res = await call("POST", "/api/v1/topics", { json: { name } });
    expectError(res, 400, "VALIDATION_FAILED", "name", why);
  });

  // Names that survive URL encoding as a path segment reach every topic route and are refused.
  const PATH_NAMES: [string, string, RegExp][] = [
    ["a space", "a b", /only ASCII letters/],
    ["a non-ASCII letter", "ü", /only ASCII letters/],
    ["an encoded slash", "a/b", /only ASCII letters/],
    ["250 characters", "x".repeat(250), /at most 249/],
  ];
  const ROUTES: [string, (name: string) => [string, string, CallOptions?]][] = [
    ["GET /topics/{topic}", (n) => ["GET", topicPath(n)]],
    ["PATCH /topics/{topic}", (n) => ["PATCH", topicPath(n), { json: { configs: { "retention.ms": 1 } } }]],
    ["DELETE /topics/{topic}", (n) => ["DELETE", topicPath(n)]],
    ["POST /topics/{topic}/partitions", (n) => ["POST", `${topicPath(n)}/partitions`, { json: { partitions: 9 } }]],
    ["POST /topics/{topic}/records", (n) => ["POST", `${topicPath(n)}/records`, { json: { records: [{ value: "v" }] } }]],
    ["GET /topics/{topic}/offsets", (n) => ["GET", `${topicPath(n)}/offsets`]],
    ["GET /topics/{topic}/partitions/0/records", (n) => ["GET", `${topicPath(n)}/partitions/0/records?offset=0`]],
  ];
  for (const [route, make] of ROUTES) {
    it.each(PATH_NAMES)(`${route} refuses a topic name with %s (400)`, async (_what, name, why) => {
      const [method, path, opts] = make(name);
      expectError(await call(method, path, opts), 400, "VALIDATION_FAILED", "topic", why);
    });
  }

  it("'.', '..' and '' as path segments are removed by URL normalisation and never reach a topic handler", async () => {
    // WHATWG fetch already resolves %2E / %2E%2E as dot segments, so send the raw request line.
    const raw = (method: string, path: string) =>
      new Promise<{ status: number; location?: string; type?: string; text: string }>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port: server.port, method, path }, (res) => {
          let text = "";
          res.on("data", (c) => (text += c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, location: res.headers.location, type: res.headers["content-type"], text }),
          );
        });
        req.on("error", reject);
        req.end();
      });
    for (const method of ["GET", "PATCH", "DELETE"]) {
      for (const [segment, normalised] of [
        ["%2E", "/api/v1/topics"],
        [".", "/api/v1/topics"],
        ["%2E%2E", "/api/v1"],
        ["..", "/api/v1"],
        ["", "/api/v1/topics"],
      ]) {
        const res = await raw(method, `/api/v1/topics/${segment}`);
        expect(res.status, `${method} /api/v1/topics/${segment}: ${res.text}`).toBe(308);
        expect(res.location).toBe(normalised);
      }
    }
    // ... and the normalised targets never act on a topic
    expectError(await call("DELETE", "/api/v1/topics/%2E%2E"), 404, "NOT_FOUND", "no API endpoint");
    expect((await call("DELETE", "/api/v1/topics/%2E")).status).toBeGreaterThanOrEqual(400);
    expect((await call("DELETE", "/api/v1/topics/")).status).toBeGreaterThanOrEqual(400);
    expect(await topicNames()).toEqual(KEPT);
  });

  it("refuses partition counts that are not an integer from 1 to 1000", async () => {
    expectError(
      await call("POST", "/api/v1/topics", { json: { name: "p0", partitions: 0 } }),
      400,
      "VALIDATION_FAILED",
      "partitions",
      "at least 1",
    );
    expectError(
      await call("POST", "/api/v1/topics", { json: { name: "p1001", partitions: 1001 } }),
      400,
      "VALIDATION_FAILED",
      "partitions",
      "at most 1000",
    );
    expectError(
      await call("POST", "/api/v1/topics", { json: { name: "p15", partitions: 1.5 } }),
      400,
      "VALIDATION_FAILED",
      "partitions",
      "integer",
    );
    expectError(
      await call("POST", "/api/v1/topics", { json: { name: "pstr", partitions: "3" } }),
      400,
      "VALIDATION_FAILED",
      "partitions",
      "number",
    );
    expectError(await call("POST", "/api/v1/topics", { json: { name: "pneg", partitions: -2 } }), 400, "VALIDATION_FAILED", "partitions");
    expectError(
      await call("POST", "/api/v1/topics", { json: { name: "pnull", partitions: null } }),
      400,
      "VALIDATION_FAILED",
      "partitions",
    );
  });

  it("refuses unknown config names and bad config values, on create and on PATCH", async () => {
    const cases: [Record<string, unknown>, string[]][] = [
      [{ "foo.bar": 1 }, ["unknown topic config", "foo.bar"]],
      [{ "retention.ms": "abc" }, ["retention.ms", "integer"]],
      [{ "retention.ms": 1.5 }, ["retention.ms", "integer"]],
      [{ "retention.ms": -2 }, ["retention.ms", "between"]],
      [{ "cleanup.policy": "nope" }, ["cleanup.policy", "delete", "compact"]],
      [{ "message.timestamp.type": "x" }, ["message.timestamp.type", "CreateTime", "LogAppendTime"]],
      [{ "max.message.bytes": 999_999_999 }, ["max.message.bytes", "between"]],
      [{ "min.compaction.lag.ms": "soon" }, ["min.compaction.lag.ms", "integer"]],
      [{ "unknown.reset": null }, ["unknown topic config", "unknown.reset"]],
    ];
    const orders = await describeTopic("orders");
    for (const [configs, words] of cases) {
      expectError(await call("POST", "/api/v1/topics", { json: { name: "bad-config", configs } }), 400, "INVALID_CONFIG", ...words);
      expectError(await call("PATCH", topicPath("orders"), { json: { configs } }), 400, "INVALID_CONFIG", ...words);
    }
    // one bad value fails the whole PATCH: the good value beside it is not applied either
    expectError(
      await call("PATCH", topicPath("orders"), { json: { configs: { "retention.ms": 5, "cleanup.policy": "nope" } } }),
      400,
      "INVALID_CONFIG",
      "cleanup.policy",
    );
    expect(await describeTopic("orders")).toEqual(orders);
  });

  it("refuses malformed JSON on every JSON endpoint (INVALID_JSON)", async () => {
    const bodies = ["{not json", '{"name": "x",}', "", '{"configs": {}'];
    const targets: [string, string][] = [
      ["POST", "/api/v1/topics"],
      ["PATCH", topicPath("orders")],
      ["POST", `${topicPath("orders")}/partitions`],
      ["POST", `${topicPath("orders")}/records`],
    ];
    for (const [method, path] of targets) {
      for (const body of bodies) {
        const res = await call(method, path, { body, headers: { "content-type": "application/json" } });
        expectError(res, 400, "INVALID_JSON", "not valid JSON");
      }
    }
  });

  it("refuses JSON of the wrong types", async () => {
    const create = (json: unknown) => call("POST", "/api/v1/topics", { json });
    expectError(await create([{ name: "x" }]), 400, "VALIDATION_FAILED", "expected object", "array");
    expectError(await create(null), 400, "VALIDATION_FAILED", "expected object", "null");
    expectError(await create("x"), 400, "VALIDATION_FAILED", "expected object", "string");
    expectError(await create(42), 400, "VALIDATION_FAILED", "expected object", "number");
    expectError(await create({}), 400, "VALIDATION_FAILED", "name");
    expectError(await create({ name: 5 }), 400, "VALIDATION_FAILED", "name", "expected string");
    expectError(await create({ name: ["x"] }), 400, "VALIDATION_FAILED", "name", "expected string");
    expectError(await create({ name: "x", configs: [1] }), 400, "VALIDATION_FAILED", "configs");
    expectError(await create({ name: "x", configs: "retention.ms=1" }), 400, "VALIDATION_FAILED", "configs");
    expectError(await create({ name: "x", configs: { "retention.ms": true } }), 400, "VALIDATION_FAILED", "retention.ms");
    expectError(await create({ name: "x", configs: { "retention.ms": { v: 1 } } }), 400, "VALIDATION_FAILED", "retention.ms");

    const patch = (json: unknown) => call("PATCH", topicPath("orders"), { json });
    expectError(await patch({}), 400, "VALIDATION_FAILED", "configs");
    expectError(await patch({ configs: null }), 400, "VALIDATION_FAILED", "configs");
    expectError(await patch({ configs: ["retention.ms"] }), 400, "VALIDATION_FAILED", "configs");
    expectError(await patch([]), 400, "VALIDATION_FAILED", "expected object");

    const grow = (json: unknown) => call("POST", `${topicPath("orders")}/partitions`, { json });
    expectError(await grow({}), 400, "VALIDATION_FAILED", "partitions");
    expectError(await grow({ partitions: "9" }), 400, "VALIDATION_FAILED", "partitions", "number");
    expectError(await grow({ partitions: 9.5 }), 400, "VALIDATION_FAILED", "partitions", "integer");
    expectError(await grow(9), 400, "VALIDATION_FAILED", "expected object");
  });

  it("refuses unknown extra fields", async () => {
    expectError(
      await call("POST", "/api/v1/topics", { json: { name: "extra", partitions: 1, replicationFactor: 3 } }),
      400,
      "VALIDATION_FAILED",
      "Unrecognized key",
      "replicationFactor",
    );
    expectError(
      await call("PATCH", topicPath("orders"), { json: { configs: { "retention.ms": 5 }, name: "renamed" } }),
      400,
      "VALIDATION_FAILED",
      "Unrecognized key",
      "name",
    );
    expectError(
      await call("POST", `${topicPath("orders")}/partitions`, { json: { partitions: 9, assignments: [] } }),
      400,
      "VALIDATION_FAILED",
      "Unrecognized key",
      "assignments",
    );
    expectError(
      await call("POST", `${topicPath("orders")}/records`, { json: { records: [{ value: "v" }], acks: "all" } }),
      400,
      "VALIDATION_FAILED",
      "Unrecognized key",
      "acks",
    );
  });

  it("refuses bodies that are not declared as JSON (415)", async () => {
    const body = JSON.stringify({ name: "sneaky", partitions: 1 });
    for (const type of [
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/xml",
    ]) {
      expectError(
        await call("POST", "/api/v1/topics", { body, headers: { "content-type": type } }),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "application/json",
        type,
      );
    }
    expectError(
      await call("PATCH", topicPath("orders"), { body: '{"configs":{}}', headers: { "content-type": "text/plain" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "text/plain",
    );
    expectError(
      await call("POST", `${topicPath("orders")}/partitions`, { body: '{"partitions":9}', headers: { "content-type": "text/csv" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "text/csv",
    );
    expect(await topicNames()).not.toContain("sneaky");
  });

  it("refuses bodies over the limit (413), with and without a Content-Length", async () => {
    const big = JSON.stringify({ name: "huge", configs: { "retention.ms": "1".padEnd((1 << 20) + 10, " ") } });
    expectError(
      await call("POST", "/api/v1/topics", { body: big, headers: { "content-type": "application/json" } }),
      413,
      "REQUEST_TOO_LARGE",
      "exceeds the limit",
      String(1 << 20),
    );
    expectError(
      await call("PATCH", topicPath("orders"), { body: big, headers: { "content-type": "application/json" } }),
      413,
      "REQUEST_TOO_LARGE",
      "exceeds the limit",
    );
    expectError(
      await call("POST", `${topicPath("orders")}/partitions`, { body: big, headers: { "content-type": "application/json" } }),
      413,
      "REQUEST_TOO_LARGE",
      "exceeds the limit",
    );

    // chunked upload: no Content-Length, the server must count while reading
    const chunk = new TextEncoder().encode(" ".repeat(64 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"name":"streamed",'));
        if (sent >= 40) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await call("POST", "/api/v1/topics", { body: stream, headers: { "content-type": "application/json" } });
    expectError(res, 413, "REQUEST_TOO_LARGE", "exceeds the limit");
    expect(await topicNames()).toEqual(KEPT);
  });

  it("refuses a duplicate topic (409) and leaves the existing one alone", async () => {
    const before = await describeTopic("orders");
    const res = await call("POST", "/api/v1/topics", { json: { name: "orders", partitions: 7, configs: { "retention.ms": 1 } } });
    expectError(res, 409, "TOPIC_ALREADY_EXISTS", "orders", "already exists");
    expect(await describeTopic("orders")).toEqual(before);

    // concurrent creates of one new name: exactly one wins
    const racers = await Promise.all(
      Array.from({ length: 6 }, () => call("POST", "/api/v1/topics", { json: { name: "raced", partitions: 2 } })),
    );
    expect(racers.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of racers.filter((x) => x.status !== 201)) expectError(r, 409, "TOPIC_ALREADY_EXISTS", "raced");
    expect((await call("DELETE", topicPath("raced"))).status).toBe(204);
  });

  it("answers 404 for an unknown topic on every topic endpoint", async () => {
    const name = "no-such-topic";
    expectError(await call("GET", topicPath(name)), 404, "UNKNOWN_TOPIC_OR_PARTITION", name, "does not exist");
    expectError(
      await call("PATCH", topicPath(name), { json: { configs: { "retention.ms": 1 } } }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      name,
    );
    expectError(await call("DELETE", topicPath(name)), 404, "UNKNOWN_TOPIC_OR_PARTITION", name);
    expectError(await call("POST", `${topicPath(name)}/partitions`, { json: { partitions: 4 } }), 404, "UNKNOWN_TOPIC_OR_PARTITION", name);
    expect(await topicNames()).not.toContain(name);
  });

  it("refuses to shrink a topic or keep its partition count (400) and leaves it as it was", async () => {
    const before = await describeTopic("orders");
    expect(before.partitions).toHaveLength(5);
    for (const partitions of [4, 1, 5]) {
      const res = await call("POST", `${topicPath("orders")}/partitions`, { json: { partitions } });
      expectError(res, 400, "INVALID_PARTITIONS", "5 partitions", "cannot be removed");
      expect(res.body.error.details).toEqual({ current: 5, requested: partitions });
    }
    expectError(
      await call("POST", `${topicPath("orders")}/partitions`, { json: { partitions: 0 } }),
      400,
      "VALIDATION_FAILED",
      "at least 1",
    );
    expectError(
      await call("POST", `${topicPath("orders")}/partitions`, { json: { partitions: 1001 } }),
      400,
      "VALIDATION_FAILED",
      "at most 1000",
    );
    expect(await describeTopic("orders")).toEqual(before);
  });

  it("answers unknown API paths with a JSON 404", async () => {
    expectError(await call("GET", "/api/v1/topic"), 404, "NOT_FOUND", "/api/v1/topic");
    expectError(await call("POST", `${topicPath("orders")}/configs`, { json: {} }), 404, "NOT_FOUND", "/configs");
  });

  it("still serves afterwards, and the bad requests created or changed nothing", async () => {
    const res = await call("GET", "/api/v1/topics");
    expect(res.status).toBe(200);
    expect(res.body.topics.map((t: { name: string }) => t.name)).toEqual(KEPT);
    const orders = res.body.topics[0];
    expect(orders.partitions).toHaveLength(5);
    expect(orders.recordCount).toBe(1);
    expect(orders.configs).toMatchObject({
      "max.message.bytes": 2000,
      "retention.ms": DEFAULTS["retention.ms"],
      "cleanup.policy": "delete,compact",
    });
    expect(res.body.topics[1]).toMatchObject({ name: "payments", recordCount: 0, configs: DEFAULTS });
    // every refusal above was an expected 4xx: nothing was logged as an unexpected (500) error
    expect(server.output()).not.toMatch(/unexpected error/);
    expect(server.child.exitCode).toBeNull();
  });
});

describe("topics API: delete records (Kafka's DeleteRecords)", () => {
  const path = `${topicPath("purged")}/delete-records`;

  it("moves the log start to the offset asked; fetches below it are out of range; bad input names its field and deletes nothing", async () => {
    expect((await call("POST", "/api/v1/topics", { json: { name: "purged", partitions: 2 } })).status).toBe(201);
    const records = Array.from({ length: 10 }, (_, i) => ({ value: `r${i}`, partition: i % 2 }));
    expect((await call("POST", `${topicPath("purged")}/records`, { json: { records } })).status).toBe(200);

    const res = await call("POST", path, { json: { partitions: [{ partition: 0, offset: 3 }] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ topic: "purged", partitions: [{ partition: 0, lowWatermark: 3 }] });
    const p0 = (await describeTopic("purged")).partitions[0];
    expect(p0).toMatchObject({ logStartOffset: 3, highWatermark: 5 });
    expectError(await call("GET", `${topicPath("purged")}/partitions/0/records?offset=2`), 416, "OFFSET_OUT_OF_RANGE", "log start");
    const rest = await call("GET", `${topicPath("purged")}/partitions/0/records?offset=3`);
    expect(rest.body.records.map((r: { value: string }) => r.value)).toEqual(["r6", "r8"]);

    // -1: everything up to the high watermark
    const all = await call("POST", path, { json: { partitions: [{ partition: 1, offset: -1 }] } });
    expect(all.body.partitions).toEqual([{ partition: 1, lowWatermark: 5 }]);

    expectError(
      await call("POST", path, { json: { partitions: [{ partition: 0, offset: 6 }] } }),
      416,
      "OFFSET_OUT_OF_RANGE",
      "high watermark",
    );
    expectError(
      await call("POST", path, { json: { partitions: [{ partition: 2, offset: 0 }] } }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "partition 2",
    );
    expectError(
      await call("POST", `${topicPath("no-such-topic")}/delete-records`, { json: { partitions: [{ partition: 0, offset: 0 }] } }),
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
      "no-such-topic",
    );
    expectError(await call("POST", path, { json: { partitions: [] } }), 400, "VALIDATION_FAILED", "partitions");
    expectError(await call("POST", path, { json: { partitions: [{ partition: 0, offset: -2 }] } }), 400, "VALIDATION_FAILED", "offset");
    expectError(await call("POST", path, { json: { partitions: [{ partition: 0, offset: 4.5 }] } }), 400, "VALIDATION_FAILED", "offset");
    expectError(
      await call("POST", path, {
        json: {
          partitions: [
            { partition: 0, offset: 4 },
            { partition: 0, offset: 5 },
          ],
        },
      }),
      400,
      "VALIDATION_FAILED",
      "named twice",
    );
    expectError(await call("POST", path, { json: { partitions: [{ partition: 0, offset: 4, extra: 1 }] } }), 400, "VALIDATION_FAILED");
    expect((await describeTopic("purged")).partitions[0]).toMatchObject({ logStartOffset: 3, highWatermark: 5 });
    expect((await call("DELETE", topicPath("purged"))).status).toBe(204);
  });
});
