import { describe, expect, it } from "vitest";
import { decodeState, encodeState } from "./state-codec.ts";
import { DECODED_KEYS_PER_PROCESS, decodedKeysInProcess, StateBudget, StateLimitError, StateStore } from "./state-store.ts";

/** A store of node 'perKey', its keys counted against a task's budget of `keys` keys. */
function boundStore<V>(keys: number): { budget: StateBudget; s: StateStore<V> } {
  const budget = new StateBudget({ keys, bytes: 1 << 20 });
  const s = new StateStore<V>();
  s.bind(budget, "perKey");
  return { budget, s };
}

describe("state stores bounded per task", () => {
  it("refuses a key past the task's limit before storing it, over all its stores, naming the node", () => {
    const budget = new StateBudget({ keys: 3, bytes: 1 << 20 });
    const a = new StateStore<number>();
    const b = new StateStore<number>();
    a.bind(budget, "perKey");
    b.bind(budget, "seen");
    a.set("x", 1);
    a.set("x", 2); // an update is not a new key
    a.set("y", 1);
    b.set("z", 1);
    expect(budget.keys).toBe(3);
    const err = (() => {
      try {
        b.set("w", 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StateLimitError);
    expect((err as StateLimitError).node).toBe("seen");
    expect((err as Error).message).toMatch(/node 'seen'.*limit of 3 keys per task.*maxStateKeysPerTask/);
    expect(b.has("w")).toBe(false);
    // a deleted key frees its place
    a.delete("y");
    b.set("w", 1);
    expect(budget.keys).toBe(3);
  });

  it("counts restored keys too (a tombstone frees one), so a restore stops at the limit", () => {
    const { budget, s } = boundStore<number>(2);
    s.restoreEncoded("a", encodeState(1));
    s.restoreEncoded("a", encodeState(2));
    s.restoreEncoded("b", encodeState(1));
    s.restoreEncoded("b", null);
    s.restoreEncoded("c", encodeState(1));
    expect(() => s.restoreEncoded("d", encodeState(1))).toThrow(StateLimitError);
    expect(s.size).toBe(2);
    expect(budget.keys).toBe(2);
  });

  it("estimates bytes as keys × the mean encoded value, and checks them against the limit", () => {
    const budget = new StateBudget({ keys: 1000, bytes: 1000 });
    const s = new StateStore<string>();
    s.bind(budget, "perKey");
    for (let i = 0; i < 10; i++) {
      s.set(`k${i}`, "v");
      budget.encoded(50);
    }
    expect(budget.bytes).toBe(500);
    expect(() => budget.checkBytes("perKey")).not.toThrow();
    for (let i = 10; i < 30; i++) {
      s.set(`k${i}`, "v");
      budget.encoded(50);
    }
    expect(budget.bytes).toBe(1500);
    expect(() => budget.checkBytes("perKey")).toThrow(/node 'perKey'.*limit of 1000 bytes per task/);
  });
});

describe("state stores kept packed", () => {
  const entry = (i: number) => ({ key: `k${i}`, accs: [BigInt(i)], at: new Date(i), tags: new Set([`t${i}`]) });

  it("a value restored as changelog bytes reads back as the value decoded at once would (revived)", () => {
    const revive = (v: unknown) => ({ ...(v as object), revived: true });
    const lazy = new StateStore<unknown>(revive);
    for (let i = 0; i < 50; i++) {
      const bytes = encodeState(entry(i));
      lazy.restoreEncoded(`k${i}`, Buffer.concat([Buffer.from("xx"), bytes]), 2, 2 + bytes.length);
    }
    const eager = (i: number) => revive(decodeState(encodeState(entry(i))));
    expect(lazy.size).toBe(50);
    expect(lazy.packedBytes).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) expect(lazy.get(`k${i}`)).toEqual(eager(i));
    expect(lazy.get("k3")).toBe(lazy.get("k3")); // decoded once, then kept
    expect(new Map(lazy.entries())).toEqual(new Map(Array.from({ length: 50 }, (_, i) => [`k${i}`, eager(i)])));
    expect(lazy.changed).toBe(false); // restoring changes nothing to write
  });

  it("a tombstone removes a restored key, a later value replaces an earlier one, and set or delete after restoring counts as a change", () => {
    const { budget, s } = boundStore<unknown>(10);
    s.restoreEncoded("a", encodeState(1));
    s.restoreEncoded("b", encodeState(2));
    s.restoreEncoded("a", encodeState(3));
    s.restoreEncoded("b", null);
    s.restoreEncoded("gone", null);
    expect([...s.keys()]).toEqual(["a"]);
    expect(s.packedBytes).toBe(encodeState(3).length);
    expect(s.get("a")).toBe(3);
    expect(budget.keys).toBe(1);
    s.restoreEncoded("c", encodeState(4));
    s.set("c", 5);
    s.delete("a");
    expect(s.takeEncodedChanges()).toEqual([
      ["c", encodeState(5)],
      ["a", null],
    ]);
    expect([...s.entries()]).toEqual([["c", 5]]);
    expect(budget.keys).toBe(1);
  });

  it("frees the bytes of values replaced while restoring", () => {
    const s = new StateStore<unknown>();
    for (let round = 0; round < 5; round++) for (let i = 0; i < 2000; i++) s.restoreEncoded(`k${i}`, encodeState(`${round}`.repeat(100)));
    expect(s.size).toBe(2000);
    expect(s.packedBytes).toBe(2000 * encodeState("4".repeat(100)).length);
    expect(s.get("k7")).toBe("4".repeat(100));
    // a decoded key read back again takes the restored value
    s.restoreEncoded("k7", encodeState("again"));
    expect(s.get("k7")).toBe("again");
    expect(s.size).toBe(2000);
  });

  it("refuses a restored key past the task's limit, naming the node, before storing it", () => {
    const { s } = boundStore<unknown>(2);
    s.restoreEncoded("a", encodeState(1));
    s.restoreEncoded("b", encodeState(1));
    s.restoreEncoded("b", encodeState(2)); // not a new key
    expect(() => s.restoreEncoded("c", encodeState(1))).toThrow(/node 'perKey'.*limit of 2 keys per task/);
    expect(s.has("c")).toBe(false);
    expect(s.size).toBe(2);
  });

  it("keeps at most its limit of unchanged keys decoded: the oldest committed ones are packed, and read back equal", () => {
    const s = new StateStore<unknown>(undefined, 10);
    for (let i = 0; i < 100; i++) s.set(`k${i}`, entry(i));
    expect(s.takeEncodedChanges()).toHaveLength(100);
    expect(s.packedBytes).toBeGreaterThan(0); // 90 packed
    const decoded = (s as unknown as { live: Map<string, unknown> }).live;
    expect(decoded.size).toBeLessThanOrEqual(10);
    for (let i = 0; i < 100; i++) expect(s.get(`k${i}`)).toEqual(entry(i));
    expect(decoded.size).toBeLessThanOrEqual(10);
    // changed keys stay decoded until committed, however many
    for (let i = 0; i < 50; i++) s.set(`k${i}`, entry(i + 1));
    expect(decoded.size).toBeGreaterThanOrEqual(50);
    expect(s.takeEncodedChanges()).toHaveLength(50);
    expect(decoded.size).toBeLessThanOrEqual(10);
    for (let i = 0; i < 100; i++) expect(s.get(`k${i}`)).toEqual(entry(i < 50 ? i + 1 : i));
    expect(s.size).toBe(100);
  });
});

describe("a store past its bound", () => {
  it("keeps decoded only keys read since: keys written once and never read are packed at their commit", () => {
    const entry = (i: number) => ({ key: `k${i}`, accs: [BigInt(i)] });
    const s = new StateStore<unknown>(undefined, 10);
    const decoded = (s as unknown as { live: Map<string, unknown> }).live;
    for (let i = 0; i < 8; i++) s.set(`k${i}`, entry(i));
    s.takeEncodedChanges();
    // under its bound: kept decoded, nothing packed
    expect(decoded.size).toBe(8);
    expect(s.packedBytes).toBe(0);
    for (let i = 8; i < 1000; i++) {
      s.set(`k${i}`, entry(i));
      if (i % 100 === 0) s.takeEncodedChanges();
    }
    s.takeEncodedChanges();
    // past it: the keys decoded before go once, and each key written since is packed at its commit
    expect(decoded.size).toBe(0);
    expect(s.get("k3")).toEqual(entry(3));
    expect(s.get("k500")).toEqual(entry(500));
    expect(decoded.size).toBe(2);
    for (let i = 0; i < 1000; i++) expect(s.get(`k${i}`)).toEqual(entry(i));
    expect(decoded.size).toBeLessThanOrEqual(10);
    // a key read and changed stays decoded after its commit (within the bound)
    s.set("k7", entry(70));
    s.takeEncodedChanges();
    expect(decoded.get("k7")).toEqual(entry(70));
    expect(s.size).toBe(1000);
  });
});

describe("decoded values bounded over the process", () => {
  it("keeps a table read over and over decoded, and two such tables over the process's bound together within it", () => {
    const keys = Math.round(DECODED_KEYS_PER_PROCESS * 0.6);
    const load = () => {
      const s = new StateStore<unknown>();
      for (let i = 0; i < keys; i++) s.restoreEncoded(`c${i}`, encodeState({ tier: i % 3 }));
      return s;
    };
    const before = decodedKeysInProcess();
    const a = load();
    // a cyclic scan, the worst case for a first-in-first-out bound smaller than the table
    let wrong = 0;
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < keys; i++) {
        const k = (i * 7919) % keys;
        if ((a.get(`c${k}`) as { tier: number }).tier !== k % 3) wrong++;
      }
    expect(wrong).toBe(0);
    const live = (s: StateStore<unknown>) => (s as unknown as { live: Map<string, unknown> }).live;
    expect(live(a).size).toBe(keys); // all of it decoded: the second round decoded nothing
    expect(decodedKeysInProcess() - before).toBe(keys);
    const b = load();
    for (let i = 0; i < keys; i++) if ((b.get(`c${i}`) as { tier: number }).tier !== i % 3) wrong++;
    expect(wrong).toBe(0);
    // together past the bound: b dropped its own oldest as it read (an eighth of slack)
    expect(decodedKeysInProcess() - before).toBeLessThanOrEqual(DECODED_KEYS_PER_PROCESS);
    expect(live(a).size + live(b).size).toBe(decodedKeysInProcess() - before);
    // every value still reads back
    for (let i = 0; i < keys; i += 97) expect(b.get(`c${i}`)).toEqual({ tier: i % 3 });
    expect(b.size).toBe(keys);
  });
});

describe("a commit's changes, encoded", () => {
  it("gives each changed key's value as the changelog encodes it (null: deleted), and a large store keeps those bytes packed", () => {
    const s = new StateStore<unknown>(undefined, 3);
    for (let i = 0; i < 5; i++) s.set(`k${i}`, { n: BigInt(i) });
    s.delete("k4");
    const changes = s.takeEncodedChanges();
    expect(changes.map(([k, v]) => [k, v && decodeState(v)])).toEqual([
      ["k0", { n: 0n }],
      ["k1", { n: 1n }],
      ["k2", { n: 2n }],
      ["k3", { n: 3n }],
      ["k4", null],
    ]);
    expect(changes[0][1]).toEqual(encodeState({ n: 0n }));
    expect(s.packedBytes).toBe(changes.reduce((n, [, v]) => n + (v?.length ?? 0), 0));
    expect(s.takeEncodedChanges()).toEqual([]);
    s.set("k1", { n: 10n });
    expect(s.takeEncodedChanges().map(([k, v]) => [k, v && decodeState(v)])).toEqual([["k1", { n: 10n }]]);
    expect([...s.entries()].sort()).toEqual([
      ["k0", { n: 0n }],
      ["k1", { n: 10n }],
      ["k2", { n: 2n }],
      ["k3", { n: 3n }],
    ]);
    // a small store keeps its values decoded only
    const small = new StateStore<unknown>(undefined, 10);
    small.set("a", 1);
    expect(small.takeEncodedChanges()).toEqual([["a", encodeState(1)]]);
    expect(small.packedBytes).toBe(0);
  });
});
