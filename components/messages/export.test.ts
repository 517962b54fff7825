import { describe, expect, it } from "vitest";
import type { TSearchRecord } from "@/server/schemas/console";
import { hexDump, prettyJson, toCsv, toJson } from "./export";

const row: TSearchRecord = {
  topic: "t",
  partition: 1,
  offset: 42,
  timestamp: Date.UTC(2026, 0, 2, 3, 4, 5),
  timestampType: "CreateTime",
  key: "a,b",
  keyEncoding: "utf8",
  value: '{"say":"hi \\"there\\""}',
  valueEncoding: "utf8",
  headers: [{ key: "h", value: "v", valueEncoding: "utf8" }],
  sizeBytes: 10,
  transaction: "committed",
};

describe("message export", () => {
  it("CSV quotes commas, quotes and newlines (RFC 4180)", () => {
    const csv = toCsv([row, { ...row, offset: 43, key: null, value: "line1\nline2" }]);
    const lines = csv.split("\r\n");
    expect(lines[0]).toBe("topic,partition,offset,timestamp,timestampType,key,keyEncoding,value,valueEncoding,headers,transaction");
    expect(lines[1]).toBe(
      't,1,42,2026-01-02T03:04:05.000Z,CreateTime,"a,b",utf8,"{""say"":""hi \\""there\\""""}",utf8,"[{""key"":""h"",""value"":""v"",""valueEncoding"":""utf8""}]",committed',
    );
    expect(csv).toContain('"line1\nline2"');
    expect(lines[2].startsWith("t,1,43,2026-01-02T03:04:05.000Z,CreateTime,,utf8,")).toBe(true);
  });

  it("JSON round-trips the rows", () => {
    expect(JSON.parse(toJson([row]))).toEqual([row]);
  });

  it("hex dumps text and base64 values", () => {
    expect(hexDump("AB", "utf8")).toBe("00000000  41 42" + " ".repeat(42) + "  AB");
    expect(hexDump(Buffer.from([0, 255]).toString("base64"), "base64")).toContain("00 ff");
  });

  it("pretty-prints JSON and says when it is not", () => {
    expect(prettyJson('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyJson("nope")).toBeNull();
  });
});
