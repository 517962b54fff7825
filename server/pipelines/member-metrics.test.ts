/** The metrics of a pipeline's members (one per pipeline thread) as one pipeline's. */
import { describe, expect, it } from "vitest";
import type { TNodeMetrics, TTaskMetrics } from "../schemas/pipeline.ts";
import type { EngineMetrics } from "../stream/runtime/pipeline-metrics.ts";
import { mergedMetrics, mergedSummary } from "./member-metrics.ts";

const node = (o: Partial<TNodeMetrics>): TNodeMetrics => ({
  kind: "aggregate",
  recordsIn: 0,
  recordsOut: 0,
  recordsInPerSec: 0,
  recordsOutPerSec: 0,
  errors: 0,
  errorsPerSec: 0,
  late: 0,
  in: {},
  out: {},
  watermark: null,
  lag: null,
  stores: [],
  ...o,
});

const task = (partition: number, o: Partial<TTaskMetrics> = {}): TTaskMetrics => ({
  partition,
  thread: null,
  recordsIn: 0,
  recordsInPerSec: 0,
  commits: 0,
  commitLatencyMs: null,
  lag: 0,
  inputs: [],
  watermark: null,
  stores: [],
  failures: 0,
  lastError: null,
  ...o,
});

const member = (nodes: Record<string, TNodeMetrics>, tasks: TTaskMetrics[], totals: Partial<EngineMetrics["totals"]>): EngineMetrics => ({
  totals: {
    recordsIn: 0,
    recordsOut: 0,
    recordsInPerSec: 0,
    recordsOutPerSec: 0,
    errors: 0,
    late: 0,
    lag: 0,
    tasks: tasks.length,
    ...totals,
  },
  nodes,
  tasks,
});

describe("mergedMetrics", () => {
  it("sums the nodes, keeps the lowest watermark and lists each task once with its thread", () => {
    const a = member(
      {
        perUser: node({
          recordsIn: 10,
          recordsInPerSec: 1.25,
          late: 1,
          in: { in: { records: 10, perSec: 1.25 } },
          watermark: 5000,
          lag: 3,
          stores: [{ store: "perUser/windows", keys: 4, bytes: 40 }],
        }),
      },
      [task(0, { commits: 7, lag: 3 }), task(1, { commits: 2 })],
      { recordsIn: 10, recordsInPerSec: 1.25, late: 1 },
    );
    const b = member(
      {
        perUser: node({
          recordsIn: 5,
          recordsInPerSec: 0.5,
          errors: 2,
          in: { in: { records: 5, perSec: 0.5 } },
          watermark: 3000,
          stores: [{ store: "perUser/windows", keys: 6, bytes: 60 }],
        }),
      },
      // partition 1 moved here: the old owner's entry (fewer commits) gives way
      [task(1, { commits: 3, lag: 4 }), task(2, { commits: 1, lag: 1 })],
      { recordsIn: 5, recordsInPerSec: 0.5, errors: 2 },
    );
    const m = mergedMetrics([
      { thread: 1, metrics: a },
      { thread: 2, metrics: b },
    ]);
    expect(m.nodes.perUser).toEqual(
      node({
        recordsIn: 15,
        recordsInPerSec: 1.75,
        late: 1,
        errors: 2,
        in: { in: { records: 15, perSec: 1.75 } },
        watermark: 3000,
        lag: 3,
        stores: [{ store: "perUser/windows", keys: 10, bytes: 100 }],
      }),
    );
    expect(m.tasks.map((t) => [t.partition, t.thread, t.commits])).toEqual([
      [0, 1, 7],
      [1, 2, 3],
      [2, 2, 1],
    ]);
    expect(m.totals).toEqual({
      recordsIn: 15,
      recordsOut: 0,
      recordsInPerSec: 1.75,
      recordsOutPerSec: 0,
      errors: 2,
      late: 1,
      lag: 8,
      tasks: 3,
    });
  });

  it("a member without tasks holds no watermark back", () => {
    const m = mergedMetrics([
      { thread: 1, metrics: member({ out: node({ kind: "sink", watermark: 9 }) }, [task(0)], {}) },
      { thread: 2, metrics: member({ out: node({ kind: "sink" }) }, [], {}) },
    ]);
    expect(m.nodes.out.watermark).toBe(9);
    expect(m.nodes.out.lag).toBeNull();
  });
});

describe("mergedSummary", () => {
  it("sums the counters and lists the threads", () => {
    const s = (o: Partial<Parameters<typeof mergedSummary>[0][number]["summary"]>) => ({
      recordsIn: 0,
      recordsOut: 0,
      deadLetters: 0,
      commits: 0,
      lastCommitMs: 0,
      tasks: 0,
      recordsInPerSec: 0,
      errors: 0,
      lag: null,
      ...o,
    });
    expect(
      mergedSummary([
        { thread: 3, summary: s({ recordsIn: 4, tasks: 2, lag: null, lastCommitMs: 20 }) },
        { thread: 1, summary: s({ recordsIn: 6, tasks: 2, lag: 5, commits: 3, lastCommitMs: 10, recordsInPerSec: 0.5 }) },
      ]),
    ).toEqual({ ...s({ recordsIn: 10, tasks: 4, lag: 5, commits: 3, lastCommitMs: 20, recordsInPerSec: 0.5 }), threads: [1, 3] });
  });
});
