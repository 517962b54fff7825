/**
 * Issue 13, "CEL and patterns run under a cost budget", replayed against a real server on both
 * databases: each hostile expression or pattern gets its answer (a per-record error in the
 * search result, or a 4xx) while a health probe keeps being answered, memory stays bounded and
 * a normal produce/fetch works afterwards.
 *
 * Found on the old code: the string-growing search ran the server out of memory in 4.5 s;
 * `matches("^(a+)+$")` on 31 a's and `!` blocked every request for 11 s, nested `all` over 800
 * characters for 14.7 s; joining with topicPattern `(a+)+` beside a topic `aaa…a-` took 5.2 s
 * and ran again on every heartbeat and topic creation.
 */
import { describe, expect, it } from "vitest";
import { DATABASE_KINDS } from "../testing/databases.ts";
import { expectJson4xx, expectProduceFetchWorks, expectRssBounded, rawRequest, withoutStall } from "../testing/hardening-kit.ts";
import { rssBytes } from "../testing/server-process.ts";
import { useTestServer } from "../testing/test-server.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const MiB = 1024 * 1024;
/** What one hostile expression may add to the server's RSS (the absolute limit is checked too). */
const RSS_GROWTH_LIMIT = 128 * MiB;

/** Runs `fn` with the health probe beside it while sampling the server's RSS; asserts its growth. */
async function hostile<T>(url: string, pid: number, fn: () => Promise<T>): Promise<T> {
  const before = await rssBytes(pid);
  let peak = before;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peak = Math.max(peak, await rssBytes(pid).catch(() => 0));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return await withoutStall(url, fn);
  } finally {
    sampling = false;
    await sampler;
    expect(peak - before, `server RSS ${Math.round(before / MiB)} MB before, ${Math.round(peak / MiB)} MB at the peak`).toBeLessThan(
      RSS_GROWTH_LIMIT,
    );
  }
}

describe.each(DATABASE_KINDS)("CEL and patterns under a cost budget (%s database)", (kind) => {
  const server = useTestServer({}, kind);

  const post = (path: string, body: unknown) =>
    rawRequest(server.url, "POST", `/api/v1${path}`, { headers: JSON_HEADERS, body: JSON.stringify(body), timeoutMs: 60_000 });

  async function createTopic(name: string): Promise<void> {
    const res = await post("/topics", { name, partitions: 1 });
    expect(res.status, res.text).toBe(201);
  }

  async function produce(topic: string, values: string[]): Promise<void> {
    const res = await post(`/topics/${encodeURIComponent(topic)}/records`, { records: values.map((value) => ({ value })) });
    expect(res.status, res.text).toBe(200);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function search(topic: string, body: Record<string, unknown>): Promise<{ done: any; keys: string[] }> {
    const res = await post(`/topics/${encodeURIComponent(topic)}/search`, body);
    expect(res.status, res.text.slice(0, 400)).toBe(200);
    const events = res.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const done = events.find((e) => e.type === "done");
    expect(done, res.text.slice(-400)).toBeDefined();
    return { done, keys: events.filter((e) => e.type === "records").flatMap((e) => e.records.map((r: { value: string }) => r.value)) };
  }

  async function expectServerFine(): Promise<void> {
    await expectRssBounded(server.pid);
    await expectProduceFetchWorks(server.url);
  }

  it("a search that grows strings in nested loops fails on that record (cost budget), without exhausting memory", async () => {
    await createTopic("cel-grow");
    await produce("cel-grow", ["x".repeat(3000)]);
    const r = await hostile(server.url, server.pid, () =>
      search("cel-grow", { cel: 'value.split("").map(a, value.split("").map(b, value + a + b)).size() > 0' }),
    );
    expect(r.done).toMatchObject({ scanned: 1, matched: 0, celErrors: 1 });
    expect(r.done.firstCelError).toMatch(/CEL (cost|time) budget exceeded/);
    await expectServerFine();
  });

  it("matches runs in linear time (RE2): ^(a+)+$ against a…a! answers at once; a pattern RE2 refuses is a 400", async () => {
    await createTopic("cel-redos");
    await produce("cel-redos", ["a".repeat(29) + "!", "a".repeat(30) + "!", "a".repeat(31) + "!", "aaa"]);
    const r = await hostile(server.url, server.pid, () => search("cel-redos", { cel: 'value.matches("^(a+)+$")' }));
    expect(r.done).toMatchObject({ scanned: 4, matched: 1, celErrors: 0 });
    expect(r.keys).toEqual(["aaa"]);
    // lookaheads and backreferences have no linear-time implementation: refused before scanning
    for (const cel of ['value.matches("(?=a)a")', 'value.matches("(a)\\\\1")']) {
      const res = await post("/topics/cel-redos/search", { cel });
      expectJson4xx(res, cel);
      expect(res.body.error.code, cel).toBe("INVALID_REGULAR_EXPRESSION");
      expect(res.body.error.details, cel).toMatchObject({ field: "cel" });
    }
    await expectServerFine();
  });

  it("nested all comprehensions over 800 characters stop at the record's budget; nesting too deep is refused up front", async () => {
    await createTopic("cel-nested");
    await produce("cel-nested", ["y".repeat(800)]);
    const nested = 'value.split("").all(a, value.split("").all(b, value.split("").all(c, a + b + c != "zzz")))';
    const r = await hostile(server.url, server.pid, () => search("cel-nested", { cel: nested }));
    expect(r.done).toMatchObject({ scanned: 1, matched: 0, celErrors: 1 });
    expect(r.done.firstCelError).toMatch(/CEL (cost|time) budget exceeded/);
    const tooDeep = 'value.split("").all(a, value.split("").all(b, value.split("").all(c, value.split("").all(d, true))))';
    const res = await post("/topics/cel-nested/search", { cel: tooDeep });
    expectJson4xx(res, "4 nested comprehensions");
    expect(res.body.error).toMatchObject({ code: "VALIDATION_FAILED", details: { field: "cel" } });
    expect(res.body.error.message).toMatch(/too costly/);
    await expectServerFine();
  });

  it("a long scan of costly records gives the event loop back between records", async () => {
    // each record stays within its budget (3,600 loop steps); together they are seconds of work
    await createTopic("cel-long-scan");
    await produce(
      "cel-long-scan",
      Array.from({ length: 2000 }, (_, i) => `${"z".repeat(59)}${i % 10}`),
    );
    const r = await hostile(server.url, server.pid, () =>
      search("cel-long-scan", { cel: '!value.split("").all(a, value.split("").all(b, b != "q"))' }),
    );
    expect(r.done).toMatchObject({ scanned: 2000, matched: 0, reason: "end" });
    // only a record caught by the 50 ms clock backstop on a starved machine may fail
    expect(r.done.celErrors, r.done.firstCelError).toBeLessThan(100);
    await expectServerFine();
  });

  it("topicPattern (a+)+ beside a topic aaa…a-: join, heartbeats and topic creation answer at once; invalid RE2 is a 400", async () => {
    await createTopic(`${"a".repeat(27)}-`);
    const group = "pattern-redos";
    const member = await hostile(server.url, server.pid, async () => {
      const joined = await post(`/groups/${group}/members`, { topicPattern: "(a+)+" });
      expect(joined.status, joined.text).toBe(201);
      let m = { id: joined.body.memberId as string, epoch: joined.body.memberEpoch as number, assignment: joined.body.assignment };
      expect(m.assignment).toEqual([]);
      for (let i = 0; i < 5; i++) {
        const hb = await post(`/groups/${group}/members/${encodeURIComponent(m.id)}/heartbeat`, {
          memberEpoch: m.epoch,
          ownedPartitions: m.assignment,
        });
        expect(hb.status, hb.text).toBe(200);
        m = { ...m, epoch: hb.body.memberEpoch, assignment: hb.body.assignment };
      }
      await createTopic(`${"a".repeat(26)}-b`);
      await createTopic("aaaa");
      return m;
    });
    // the new matching topic is assigned: matching reruns when the topic names change
    const hb = await post(`/groups/${group}/members/${encodeURIComponent(member.id)}/heartbeat`, {
      memberEpoch: member.epoch,
      ownedPartitions: member.assignment,
    });
    expect(hb.status, hb.text).toBe(200);
    expect(hb.body.assignment).toEqual([{ topic: "aaaa", partitions: [0] }]);

    for (const topicPattern of ["(?=a)a", "(a)\\1", "[a-z]{1000}[a-z]{1000}"]) {
      const res = await post(`/groups/${group}-bad/members`, { topicPattern });
      expectJson4xx(res, topicPattern);
      expect(res.body.error, topicPattern).toMatchObject({ code: "INVALID_REGULAR_EXPRESSION", details: { field: "topicPattern" } });
    }
    await expectServerFine();
  });
});
