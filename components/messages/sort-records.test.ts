import { describe, expect, it } from "vitest";
import type { TRecord } from "@/server/schemas/record";
import { sortRecords } from "./sort-records";

const rec = (partition: number, offset: number, over: Partial<TRecord> = {}): TRecord => ({
  topic: "t",
  partition,
  offset,
  timestamp: 1000,
  timestampType: "CreateTime",
  key: null,
  keyEncoding: "utf8",
  value: null,
  valueEncoding: "utf8",
  headers: [],
  sizeBytes: 0,
  ...over,
});

const places = (rows: TRecord[]) => rows.map((r) => `${r.partition}:${r.offset}`);

describe("sortRecords", () => {
  const rows = [
    rec(1, 0, { key: "b", value: "10", timestamp: 3, sizeBytes: 5 }),
    rec(0, 1, { key: null, value: "9", timestamp: 1, sizeBytes: 7 }),
    rec(0, 0, { key: "a", value: null, timestamp: 3, sizeBytes: 5 }),
    rec(2, 2, { key: "B", value: "x", timestamp: 2, sizeBytes: 1 }),
  ];

  it("sorts by each column, ties in partition and offset order", () => {
    expect(places(sortRecords([...rows], "partition", "asc"))).toEqual(["0:0", "0:1", "1:0", "2:2"]);
    expect(places(sortRecords([...rows], "offset", "asc"))).toEqual(["0:0", "1:0", "0:1", "2:2"]);
    expect(places(sortRecords([...rows], "timestamp", "asc"))).toEqual(["0:1", "2:2", "0:0", "1:0"]);
    expect(places(sortRecords([...rows], "size", "asc"))).toEqual(["2:2", "0:0", "1:0", "0:1"]);
  });

  it("compares text by code unit with null first, and reverses everything when descending", () => {
    expect(places(sortRecords([...rows], "key", "asc"))).toEqual(["0:1", "2:2", "0:0", "1:0"]);
    expect(places(sortRecords([...rows], "value", "asc"))).toEqual(["0:0", "1:0", "0:1", "2:2"]);
    expect(places(sortRecords([...rows], "value", "desc"))).toEqual(["2:2", "0:1", "1:0", "0:0"]);
    expect(places(sortRecords([...rows], "timestamp", "desc"))).toEqual(["1:0", "0:0", "2:2", "0:1"]);
  });
});
