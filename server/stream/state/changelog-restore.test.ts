import { describe, expect, it } from "vitest";
import { ChangelogRestore, type ChangelogRecordView } from "./changelog-restore.ts";
import { encodeState } from "./state-codec.ts";
import { StateBudget, StateLimitError, StateStore } from "./state-store.ts";

/** Changelog records laid out in one buffer, as a fetched batch holds them. */
function records(list: [string | null, unknown][]): ChangelogRecordView[] {
  const parts: Buffer[] = [];
  const views: ChangelogRecordView[] = [];
  let at = 3; // not at the buffer's start
  for (const [key, value] of list) {
    const k = key === null ? null : Buffer.from(key, "utf8");
    const v = value === undefined ? null : encodeState(value);
    const view = { keyStart: at, keyLength: k ? k.length : -1, valueStart: at + (k?.length ?? 0), valueLength: v ? v.length : -1 };
    if (k) parts.push(k);
    if (v) parts.push(v);
    at += (k?.length ?? 0) + (v?.length ?? 0);
    views.push(view as ChangelogRecordView);
  }
  const batch = Buffer.concat([Buffer.from("xyz"), ...parts]);
  for (const v of views) v.batch = batch;
  return views;
}

describe("a changelog read back into the stores", () => {
  const setup = (keys = 100) => {
    const budget = new StateBudget({ keys, bytes: 1 << 20 });
    const counts = new StateStore<unknown>();
    const seen = new StateStore<unknown>();
    counts.bind(budget, "perKey");
    seen.bind(budget, "dedupe");
    const restore = new ChangelogRestore(
      new Map([
        ["perKey/windows", counts],
        ["dedupe/seen", seen],
      ]),
      budget,
    );
    return { budget, counts, seen, restore };
  };

  it("puts each key's last committed value in its store (UTF-8 keys, slashes after the store), removes tombstoned keys and takes the watermark and the upstream reports", () => {
    const { counts, seen, restore, budget } = setup();
    for (const r of records([
      ['perKey/windows/t"ann"', { n: 1n }],
      ['perKey/windows/t"zoë/x"', { n: 2n }],
      ["__watermark", 1234],
      ['dedupe/seen/"a"', 10],
      ['perKey/windows/t"ann"', { n: 3n }],
      ['dedupe/seen/"a"', undefined],
      ["gone/windows/x", { n: 9n }], // a node the pipeline no longer has
      [null, { n: 9n }],
      ["perKey/other/x", { n: 9n }],
      ["__watermark", 5678],
      ["__upstream", { "perKey/in": [[0, 99, false]] }],
      [
        "__upstream",
        {
          "perKey/in": [
            [0, 120, false],
            [1, 100, true],
          ],
        },
      ],
    ]))
      restore.visit(r);
    expect(new Map(counts.entries())).toEqual(
      new Map([
        ['t"ann"', { n: 3n }],
        ['t"zoë/x"', { n: 2n }],
      ]),
    );
    expect(seen.size).toBe(0);
    expect(restore.watermark).toBe(5678);
    expect(restore.upstream).toEqual({
      "perKey/in": [
        [0, 120, false],
        [1, 100, true],
      ],
    });
    expect(budget.keys).toBe(2);
    expect(restore.takeRestored()).toBe(true);
    expect(restore.takeRestored()).toBe(false);
  });

  it("stops at the task's key limit, naming the node whose key would pass it", () => {
    const { restore, counts } = setup(2);
    const rs = records([
      ["perKey/windows/a", 1],
      ["perKey/windows/b", 1],
      ["perKey/windows/c", 1],
    ]);
    restore.visit(rs[0]);
    restore.visit(rs[1]);
    let err: unknown;
    try {
      restore.visit(rs[2]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StateLimitError);
    expect((err as StateLimitError).node).toBe("perKey");
    expect(counts.size).toBe(2);
  });

  it("estimates the state's bytes from the values read, so the byte limit bounds a restore too", () => {
    const budget = new StateBudget({ keys: 1000, bytes: 1000 });
    const store = new StateStore<unknown>();
    store.bind(budget, "perKey");
    const restore = new ChangelogRestore(new Map([["perKey/windows", store]]), budget);
    for (const r of records(Array.from({ length: 30 }, (_, i): [string, unknown] => [`perKey/windows/k${i}`, "x".repeat(48)])))
      restore.visit(r);
    expect(budget.bytes).toBe(30 * 50);
    expect(() => budget.checkBytes("perKey")).toThrow(/node 'perKey'.*limit of 1000 bytes per task/);
  });
});
