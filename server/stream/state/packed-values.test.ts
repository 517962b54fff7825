import { describe, expect, it } from "vitest";
import { PackedValues } from "./packed-values.ts";

const bytes = (s: string) => Buffer.from(s, "utf8");

describe("packed values", () => {
  it("keeps each value's bytes behind its handle, through replacements, deletions and reused slots", () => {
    const p = new PackedValues();
    const a = p.add(bytes("alpha"));
    const b = p.add(bytes("xxbetaxx"), 2, 6);
    expect(p.view(a).toString()).toBe("alpha");
    expect(p.view(b).toString()).toBe("beta");
    p.replace(a, bytes("a longer alpha"));
    expect(p.view(a).toString()).toBe("a longer alpha");
    p.delete(b);
    const c = p.add(bytes("gamma"));
    expect(c).toBe(b); // the freed slot again
    expect(p.view(c).toString()).toBe("gamma");
    expect(p.bytes).toBe("a longer alpha".length + "gamma".length);
    const big = Buffer.alloc(3 << 20, 7);
    const d = p.add(big);
    expect(p.view(d).equals(big)).toBe(true);
    expect(p.view(a).toString()).toBe("a longer alpha");
  });

  it("drops chunks nothing lives in and copies the live values away from holes, handles unchanged", () => {
    const p = new PackedValues();
    const value = (i: number) => bytes(`value ${i} `.padEnd(200, String(i % 10)));
    const handles: number[] = [];
    for (let i = 0; i < 60_000; i++) handles.push(p.add(value(i)));
    const full = p.allocatedBytes;
    // packed one after another: at most a chunk's tail left over per chunk, and one chunk being filled
    expect(full).toBeLessThan(p.bytes + (1 << 20) + 12 * 200);
    // every other value goes: holes in every chunk, then compaction
    for (let i = 0; i < handles.length; i += 2) p.delete(handles[i]);
    expect(p.allocatedBytes).toBeLessThan(full * 0.8);
    for (let i = 1; i < handles.length; i += 2) expect(p.view(handles[i]).equals(value(i))).toBe(true);
    // all go: nothing but the chunk being filled stays
    for (let i = 1; i < handles.length; i += 2) p.delete(handles[i]);
    expect(p.bytes).toBe(0);
    expect(p.allocatedBytes).toBeLessThanOrEqual(1 << 20);
  });
});
