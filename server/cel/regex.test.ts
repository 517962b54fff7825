import { describe, expect, it } from "vitest";
import { compileRegex, estimateProgramSize, MAX_PROGRAM_SIZE, regexProblem, RegexError } from "./regex.ts";

describe("compileRegex (RE2)", () => {
  it("matches anywhere with test and the whole input with testWhole", () => {
    const re = compileRegex("b+");
    expect(re.test("abbbc")).toBe(true);
    expect(re.testWhole("abbbc")).toBe(false);
    expect(re.testWhole("bbb")).toBe(true);
    expect(compileRegex("orders-.*").testWhole("orders-eu")).toBe(true);
    expect(compileRegex("orders-.*").testWhole("x-orders-eu")).toBe(false);
  });

  it("answers catastrophic-backtracking patterns in linear time (JavaScript's engine takes seconds to years here)", () => {
    // ^(a+)+$ on 31 a's and '!' took 11 s in JavaScript's engine; on 100,000 it would never end
    expect(compileRegex("^(a+)+$").test("a".repeat(31) + "!")).toBe(false);
    expect(compileRegex("^(a+)+$").test("a".repeat(100_000) + "!")).toBe(false);
    expect(compileRegex("(a+)+").testWhole("a".repeat(27) + "-")).toBe(false);
    expect(compileRegex("(a|aa)*c").test("a".repeat(50_000))).toBe(false);
    expect(compileRegex("(.*a){20}").test("a".repeat(19) + "b".repeat(10_000))).toBe(false);
  });

  it("compiles each pattern once", () => {
    expect(compileRegex("cache-me-[0-9]+")).toBe(compileRegex("cache-me-[0-9]+"));
  });

  it("refuses what RE2 refuses: lookarounds, backreferences, bad syntax", () => {
    for (const p of ["(?=a)a", "(?!a)b", "(?<=a)b", "(a)\\1", "([", "a{1001}", "[z-a]"]) {
      expect(() => compileRegex(p), p).toThrow(RegexError);
      expect(regexProblem(p), p).toMatch(/RE2|too large|longer/);
    }
    expect(regexProblem("fine-.*")).toBeNull();
  });

  it("refuses programs too large to match in bounded time, before compiling the obviously huge", () => {
    expect(() => compileRegex("[a-z]{1000}[a-z]{1000}")).toThrow(/too large/);
    expect(() => compileRegex(".{999}".repeat(100))).toThrow(/too large/);
    expect(() => compileRegex("x".repeat(1001))).toThrow(/longer than 1000/);
    expect(compileRegex("[a-z]{900}").programSize).toBeLessThanOrEqual(MAX_PROGRAM_SIZE);
  });

  it("estimates program sizes by multiplying counted repeats", () => {
    expect(estimateProgramSize("abc")).toBe(3);
    expect(estimateProgramSize("(ab){10}")).toBeGreaterThanOrEqual(40);
    expect(estimateProgramSize("((a){10}){10}")).toBeGreaterThanOrEqual(100);
    expect(estimateProgramSize("[{}()]{5}\\Q(((\\E")).toBeLessThan(20);
    expect(estimateProgramSize(".{999}".repeat(10))).toBeGreaterThan(3 * MAX_PROGRAM_SIZE);
  });
});
