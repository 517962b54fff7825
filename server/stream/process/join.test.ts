import { describe, expect, it } from "vitest";
import { ZPipelineDefinition, type TPipelineDefinitionInput } from "../../schemas/pipeline.ts";
import { toJsonData, type StreamRecord } from "../record.ts";
import { decodeState, encodeState } from "../state/state-codec.ts";
import { Topology } from "../topology.ts";

const edge = (from: string, to: string, fromPort = "out", toPort = "in") => ({
  from: { node: from, port: fromPort },
  to: { node: to, port: toPort },
});

let offset = 0;
function rec(key: unknown, value: unknown, timestamp = 0): StreamRecord {
  return { key, value, headers: {}, timestamp, origin: { topic: "t", partition: 0, offset: offset++ } };
}

function build(def: TPipelineDefinitionInput) {
  return Topology.build(ZPipelineDefinition.parse(def));
}

function joinPipeline(join: Record<string, unknown>, right: "table" | "source"): TPipelineDefinitionInput {
  return {
    name: "join",
    nodes: [
      { id: "orders", config: { kind: "source", topics: ["orders"] } },
      right === "table"
        ? { id: "users", config: { kind: "table", topic: "users" } }
        : { id: "users", config: { kind: "source", topics: ["clicks"] } },
      { id: "j", config: { kind: "join", ...join } as never },
      { id: "out", config: { kind: "sink", topic: "out" } },
    ],
    edges: [edge("orders", "j", "out", "left"), edge("users", "j", "out", "right"), edge("j", "out")],
  };
}

const values = (t: Topology) => t.drain().outputs.map((o) => [o.record.key, toJsonData(o.record.value)]);

describe("stream–table join", () => {
  it("joins each order with the user's latest value; table updates emit nothing; a tombstone removes the row", () => {
    const { topology: t, problems } = build(joinPipeline({ type: "inner", value: '{"order": left.id, "name": right.name}' }, "table"));
    expect(problems).toEqual([]);
    t!.process("users", rec("u1", { name: "Ann" }));
    t!.process("orders", rec("u1", { id: 1 }));
    t!.process("orders", rec("u2", { id: 2 })); // no such user: inner drops it
    t!.process("users", rec("u1", { name: "Ann B." }));
    t!.process("orders", rec("u1", { id: 3 }));
    t!.process("users", rec("u1", null));
    t!.process("orders", rec("u1", { id: 4 }));
    expect(values(t!)).toEqual([
      ["u1", { order: 1, name: "Ann" }],
      ["u1", { order: 3, name: "Ann B." }],
    ]);
  });

  it("commits each table row as its value alone, and restores rows a changelog holds in either form", () => {
    const def = joinPipeline({ type: "inner", value: '{"order": left.id, "name": right.name}' }, "table");
    const { topology: t } = build(def);
    t!.process("users", rec("u1", { name: "Ann" }));
    const store = t!.stores().get("j/table")!;
    const changes = store.takeEncodedChanges();
    // the value, not the record (its key, headers, timestamp and origin topic in every row)
    expect(changes.map(([k, v]) => [k, decodeState(v!)])).toEqual([['"u1"', [{ name: "Ann" }]]]);

    const { topology: again } = build(def);
    const restored = again!.stores().get("j/table")!;
    restored.restoreEncoded('"u1"', changes[0][1]);
    // as an earlier version committed it: the whole record
    restored.restoreEncoded('"u2"', encodeState(rec("u2", { name: "Bob" }, 5)));
    again!.restored(Number.NEGATIVE_INFINITY);
    again!.process("orders", rec("u1", { id: 1 }));
    again!.process("orders", rec("u2", { id: 2 }));
    expect(values(again!)).toEqual([
      ["u1", { order: 1, name: "Ann" }],
      ["u2", { order: 2, name: "Bob" }],
    ]);
  });

  it("a left join keeps orders without a user, joined with null", () => {
    const { topology: t } = build(joinPipeline({ type: "left" }, "table"));
    t!.process("orders", rec("u9", { id: 1 }));
    expect(values(t!)).toEqual([["u9", { left: { id: 1 }, right: null }]]);
  });

  it("refuses an outer or windowed stream–table join, and a table on the left, naming the field", () => {
    expect(build(joinPipeline({ type: "outer" }, "table")).problems).toEqual([
      { node: "j", field: "config.type", message: "a stream–table join is inner or left, not outer" },
    ]);
    expect(build(joinPipeline({ windowMs: 10 }, "table")).problems[0].field).toBe("config.windowMs");
    const swapped = joinPipeline({}, "table");
    swapped.edges = [edge("users", "j", "out", "left"), edge("orders", "j", "out", "right"), edge("j", "out")];
    expect(build(swapped).problems.map((p) => p.field)).toContain("in.left");
  });
});

describe("stream–stream join", () => {
  it("joins records of the same key within the window, whichever side comes second", () => {
    const { topology: t, problems } = build(joinPipeline({ type: "inner", windowMs: 100 }, "source"));
    expect(problems).toEqual([]);
    t!.process("orders", rec("k", "o1", 1000), 0);
    t!.process("users", rec("k", "c1", 1050), 0); // within 100 of o1
    t!.process("users", rec("k", "c2", 1200), 0); // 200 away from o1: no
    t!.process("orders", rec("k", "o2", 1150), 0); // within 100 of c1 and c2
    t!.process("orders", rec("other", "o3", 1150), 0);
    expect(values(t!)).toEqual([
      ["k", { left: "o1", right: "c1" }],
      ["k", { left: "o2", right: "c1" }],
      ["k", { left: "o2", right: "c2" }],
    ]);
  });

  it("an outer join emits the records that found no partner with null, once their window closed", () => {
    const { topology: t } = build(joinPipeline({ type: "outer", windowMs: 100 }, "source"));
    t!.process("orders", rec("a", "lonely-order", 1000), 0);
    t!.process("users", rec("b", "lonely-click", 1010), 0);
    t!.process("orders", rec("c", "o", 1020), 0);
    t!.process("users", rec("c", "c", 1030), 0);
    expect(values(t!)).toEqual([["c", { left: "o", right: "c" }]]); // nothing premature
    // both inputs move on (the watermark is the lower of the two): windows up to 1100 close
    t!.process("orders", rec("y", "later", 1200), 0);
    t!.process("users", rec("z", "later", 1200), 0);
    expect(values(t!)).toEqual([
      ["a", { left: "lonely-order", right: null }],
      ["b", { left: null, right: "lonely-click" }],
    ]);
  });

  it("a record past its window + grace joins nothing: it is late, counted and sent to the late port", () => {
    const def = joinPipeline({ type: "left", windowMs: 100, graceMs: 50 }, "source");
    def.nodes.push({ id: "late", config: { kind: "sink", topic: "late" } });
    def.edges.push(edge("j", "late", "late"));
    const { topology: t, problems } = build(def);
    expect(problems).toEqual([]);
    t!.process("orders", rec("k", "o1", 1000), 0);
    t!.process("orders", rec("k", "o2", 1300), 0);
    t!.process("users", rec("z", "c", 1300), 0); // both inputs at 1300: windows up to 1150 closed
    // o1 closed without a partner (1000 + 100 + 50 < 1300): null-joined, once
    expect(t!.drain().outputs.map((o) => [o.topic, toJsonData(o.record.value)])).toEqual([["out", { left: "o1", right: null }]]);
    // a click at 1120 is within 100 of o1 and within 180 of o2, but its own window closed at 1270:
    // joining it would contradict o1's null result and depend on when it happened to arrive
    t!.process("users", rec("k", "c-late", 1120), 0);
    // a click at 1250 is on time (1250 + 150 >= 1300) and joins o2
    t!.process("users", rec("k", "c-on-time", 1250), 0);
    expect(t!.drain().outputs.map((o) => [o.topic, toJsonData(o.record.value)])).toEqual([
      ["late", "c-late"],
      ["out", { left: "o2", right: "c-on-time" }],
    ]);
    const slot = t!.counters.layout.node("j");
    expect(t!.counters.late[slot]).toBe(1);
  });

  it("needs a window", () => {
    expect(build(joinPipeline({ type: "inner" }, "source")).problems[0]).toMatchObject({ node: "j", field: "config.windowMs" });
  });
});

describe("dedupe", () => {
  it("passes the first record of an id and drops repeats within the window, by key or by expression", () => {
    const { topology: t, problems } = build({
      name: "dedupe",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["in"], outOfOrdernessMs: 10_000 } },
        { id: "d", config: { kind: "dedupe", by: "value.id", windowMs: 1000 } },
        { id: "out", config: { kind: "sink", topic: "out" } },
      ],
      edges: [edge("in", "d"), edge("d", "out")],
    });
    expect(problems).toEqual([]);
    for (const [id, ts] of [
      [1, 0],
      [1, 500],
      [2, 600],
      [1, 1000],
      [1, 2001],
    ] as const)
      t!.process("in", rec(null, { id, ts }, ts), 0);
    expect(values(t!).map(([, v]) => v)).toEqual([
      { id: 1, ts: 0 },
      { id: 2, ts: 600 },
      { id: 1, ts: 2001 },
    ]);
  });

  it("a record older than the window behind the watermark is late: counted, sent to the late port, never passed as new", () => {
    const { topology: t, problems } = build({
      name: "dedupe",
      nodes: [
        { id: "in", config: { kind: "source", topics: ["in"] } },
        { id: "d", config: { kind: "dedupe", windowMs: 1000 } },
        { id: "out", config: { kind: "sink", topic: "out" } },
        { id: "late", config: { kind: "sink", topic: "late" } },
      ],
      edges: [edge("in", "d"), edge("d", "out"), edge("d", "late", "late")],
    });
    expect(problems).toEqual([]);
    t!.process("in", rec("a", "first", 0), 0);
    t!.process("in", rec("b", "b", 5000), 0); // watermark 5000: a's id (passed at 0) is forgotten
    // a repeat of a at 100 would have been dropped had it come in time; now it cannot be told
    t!.process("in", rec("a", "repeat", 100), 0);
    // within the window behind the watermark: judged as usual
    t!.process("in", rec("b", "b-again", 4500), 0);
    t!.process("in", rec("c", "c", 4200), 0);
    expect(t!.drain().outputs.map((o) => [o.topic, o.record.value])).toEqual([
      ["out", "first"],
      ["out", "b"],
      ["late", "repeat"],
      ["out", "c"],
    ]);
  });
});
