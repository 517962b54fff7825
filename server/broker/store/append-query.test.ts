/**
 * The append's hand-written Bind message is byte for byte the one node-pg writes for the same
 * parameters (text arrays, then one binary bytea), whether the bytea comes as one buffer or in
 * parts; the statement itself runs against PostgreSQL in the broker and API tests.
 */
import { serialize } from "pg-protocol";
import { describe, expect, it } from "vitest";
import { bindMessage } from "./append-query.ts";

const arrayText = (v: readonly (number | boolean)[]) =>
  `{${v.map((x) => (typeof x === "boolean" ? (x ? "t" : "f") : String(x))).join(",")}}`;

describe("bindMessage", () => {
  it("matches node-pg's Bind for text parameters and a binary bytea sent in parts", () => {
    const params = ["0b0e6c1d-6b51-4a8b-9a4e-2f4d3f1a7c55", 7, 3, -1, [0, 5, 9], [true, false], "é ü"] as const;
    const parts = [Buffer.from("first batch"), Buffer.alloc(0), Buffer.from([0, 1, 2, 255])];
    const ours = Buffer.concat(bindMessage("append", params, parts));
    const nodePg = serialize.bind({
      statement: "append",
      values: [...params.map((p) => (Array.isArray(p) ? arrayText(p) : String(p))), Buffer.concat(parts)],
    });
    expect(ours.equals(nodePg)).toBe(true);
  });

  it("declares the message length over header, parts and result formats", () => {
    const parts = [Buffer.alloc(1000, 1), Buffer.alloc(24, 2)];
    const chunks = bindMessage("s", [1], parts);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    expect(chunks[0][0]).toBe(0x42);
    expect(chunks[0].readInt32BE(1)).toBe(total - 1);
    // the parts go out as they are, not copied
    expect(chunks[1]).toBe(parts[0]);
    expect(chunks[2]).toBe(parts[1]);
  });
});
